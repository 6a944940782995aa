/* Ventanilla: camera photos and the statement video with a teleprompter (progressive
 * enhancement). The result is put into the page's own <input type=file>, as if chosen by hand. */
(() => {
  'use strict';
  const source = document.getElementById('vt-messages');
  const media = navigator.mediaDevices;
  if (!source || !media?.getUserMedia || typeof DataTransfer !== 'function') return;
  const M = JSON.parse(source.textContent);
  const fmt = (text, params = {}) =>
    String(text).replace(/%\((\w+)\)s|%%/g, (all, key) => (key ? String(params[key] ?? '') : '%'));
  const live = new Set(); // open camera streams, stopped when their component goes away

  // Thresholds on a 320 px wide grey copy of the photo (levels 0-255).
  const DARK_MEAN = 60;
  const BRIGHT_MEAN = 215;
  const GLARE_SHARE = 0.08; // of burnt-out pixels
  const SHARP_VARIANCE = 80; // of the Laplacian; a blurred photo has few edges

  function el(tag, attributes = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attributes)) {
      if (key === 'text') node.textContent = value;
      else node.setAttribute(key, value);
    }
    node.append(...children);
    return node;
  }
  const button = (text, outline = false) =>
    el('button', { type: 'button', class: `usa-button${outline ? ' usa-button--outline' : ''}`, text });
  const row = (...buttons) => el('div', { class: 'vt-actions' }, ...buttons);
  const preview = () => {
    const video = el('video', { playsinline: '', autoplay: '', 'aria-label': M.camera_preview });
    video.muted = true;
    return video;
  };
  const stopStream = (stream) => {
    stream?.getTracks().forEach((track) => track.stop());
    live.delete(stream);
  };
  const clock = (s) => `${Math.floor(s / 60)}:${String(Math.floor(s % 60)).padStart(2, '0')}`;
  const REFUSALS = { NotAllowedError: 'denied', SecurityError: 'denied', NotFoundError: 'missing',
    OverconstrainedError: 'missing' };

  function putFile(input, blob, name) {
    const transfer = new DataTransfer();
    transfer.items.add(new File([blob], name, { type: blob.type, lastModified: Date.now() }));
    input.files = transfer.files;
    input.dispatchEvent(new Event('change', { bubbles: true }));
  }

  // After a photo or a recording: show it, what we think of it, and the two choices.
  function offer(ui, area, { media: shown, blob, name, verdict, warn, texts: [useText, againText, ready], retry }) {
    const url = URL.createObjectURL(blob);
    shown.src = url;
    const use = button(useText);
    const again = button(againText, true);
    area.replaceChildren(shown, verdict || '', row(use, again));
    area.hidden = false;
    (warn ? again : use).focus();
    use.onclick = () => {
      putFile(ui.input, blob, name);
      URL.revokeObjectURL(url);
      ui.close(fmt(ready, { name }));
    };
    again.onclick = () => {
      URL.revokeObjectURL(url);
      retry();
    };
  }

  // What both components share: a start button, a panel, a status line, the camera.
  function setUp(container, startText, open) {
    const input = document.getElementById(container.dataset.target);
    if (!input || container.dataset.vtReady) return;
    container.dataset.vtReady = 'true';
    const label = input.closest('.vt-upload')?.dataset.label
      || document.querySelector(`label[for="${input.id}"]`)?.textContent.trim() || '';
    const start = button(startText, true);
    const panel = el('div', { class: 'vt-panel', hidden: '' });
    const status = el('p', { class: 'vt-status', role: 'status' });
    container.replaceChildren(start, panel, status);
    const ui = {
      container, input, panel, stream: null,
      say(text, isError = false) {
        status.textContent = text;
        status.classList.toggle('usa-error-message', isError);
      },
      async camera(constraints) {
        ui.say(M.camera_opening);
        try {
          const stream = await media.getUserMedia(constraints);
          if (panel.hidden) return stopStream(stream); // cancelled while the browser asked
          live.add((ui.stream = stream));
          return stream;
        } catch (error) {
          ui.close();
          ui.say(fmt(M[`camera_${REFUSALS[error?.name] || 'failed'}`], { label }), true);
          return null;
        }
      },
      close(message = '') {
        stopStream(ui.stream);
        ui.stream = null;
        panel.hidden = true;
        panel.replaceChildren();
        start.hidden = false;
        ui.say(message);
        start.focus();
      },
    };
    start.addEventListener('click', () => {
      start.hidden = true;
      panel.hidden = false;
      open(ui);
    });
  }

  // --- photo ---
  function verdict(video) {
    const { videoWidth: w, videoHeight: h } = video;
    const width = 320;
    const height = Math.max(3, Math.round((h / w) * width));
    const context = el('canvas', { width, height }).getContext('2d', { willReadFrequently: true });
    context.drawImage(video, 0, 0, width, height);
    const rgba = context.getImageData(0, 0, width, height).data;
    const grey = new Float32Array(width * height);
    let sum = 0, burnt = 0;
    for (let i = 0; i < grey.length; i++) {
      grey[i] = 0.299 * rgba[4 * i] + 0.587 * rgba[4 * i + 1] + 0.114 * rgba[4 * i + 2];
      sum += grey[i];
      burnt += grey[i] >= 250;
    }
    let lap = 0, squares = 0;
    for (let y = 1; y < height - 1; y++) {
      for (let x = 1; x < width - 1; x++) {
        const i = y * width + x;
        const value = grey[i - 1] + grey[i + 1] + grey[i - width] + grey[i + width] - 4 * grey[i];
        lap += value;
        squares += value * value;
      }
    }
    const n = (width - 2) * (height - 2);
    const mean = sum / grey.length;
    const problems = [];
    if (Math.max(w, h) < 640 || Math.min(w, h) < 480) problems.push(fmt(M.too_small, { width: w, height: h }));
    // A dark picture has few edges anyway: it is only called dark.
    if (mean < DARK_MEAN) problems.push(M.too_dark);
    else {
      if (mean > BRIGHT_MEAN || burnt / grey.length > GLARE_SHARE) problems.push(M.too_bright);
      if (squares / n - (lap / n) ** 2 < SHARP_VARIANCE) problems.push(M.blurry);
    }
    return problems;
  }

  async function jpeg(video, maxBytes) {
    const scale = Math.min(1, 1600 / Math.max(video.videoWidth, video.videoHeight));
    const width = Math.round(video.videoWidth * scale);
    const height = Math.round(video.videoHeight * scale);
    const canvas = el('canvas', { width, height });
    canvas.getContext('2d').drawImage(video, 0, 0, width, height);
    let blob = null;
    for (let quality = 0.9; quality > 0.35; quality -= 0.1) {
      blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', quality));
      if (blob.size < maxBytes) break;
    }
    return blob;
  }

  async function openPhoto(ui) {
    const face = ui.container.dataset.guide === 'face';
    const box = ui.input.closest('.vt-upload');
    const name = `camara-${box?.dataset.kind || ui.input.name}.jpg`;
    const video = preview();
    const view = el('div', { class: `vt-view vt-view--${face ? 'face' : 'card'}` }, video,
      el('div', { class: 'vt-guide', 'aria-hidden': 'true' }));
    const take = button(M.camera_take);
    const cancel = button(M.cancel, true);
    take.disabled = true; // until the camera shows a picture
    const controls = row(take, cancel);
    const shot = el('div', { class: 'vt-shot', hidden: '' });
    ui.panel.replaceChildren(view, controls, shot);
    cancel.onclick = () => ui.close();
    cancel.focus();

    const stream = await ui.camera({
      video: { facingMode: face ? 'user' : 'environment', width: { ideal: 1280 } }, audio: false,
    });
    if (!stream) return;
    video.srcObject = stream;
    await video.play().catch(() => {});
    if (!video.videoWidth) await new Promise((resolve) => { video.onloadeddata = resolve; });
    ui.say(face ? M.camera_ready_face : M.camera_ready_card);
    take.disabled = false;
    take.focus();

    take.onclick = async () => {
      video.pause();
      const problems = verdict(video);
      const blob = await jpeg(video, Number(box?.dataset.maxBytes) || 2 ** 21);
      view.hidden = controls.hidden = true;
      ui.say('');
      offer(ui, shot, {
        media: el('img', { alt: M.photo_alt, class: 'vt-photo' }),
        blob,
        name,
        warn: problems.length,
        verdict: el('div', { class: `vt-verdict vt-verdict--${problems.length ? 'warn' : 'ok'}`, role: 'status' },
          el('p', { text: problems.length ? M.photo_problems : M.photo_ok }),
          problems.length ? el('ul', { class: 'usa-list' }, ...problems.map((text) => el('li', { text }))) : ''),
        texts: [M.camera_use, M.camera_retake, M.photo_ready],
        retry() {
          shot.hidden = true;
          view.hidden = controls.hidden = false;
          video.play().catch(() => {});
          take.focus();
        },
      });
    };
  }

  // --- video with teleprompter ---
  async function openVideo(ui) {
    const minSeconds = Number(ui.container.dataset.minSeconds) || 0;
    const maxSeconds = Number(ui.container.dataset.maxSeconds) || 180;
    const prompter = el('div', { class: 'vt-prompter', tabindex: '0', role: 'region', 'aria-label': M.video_prompter });
    const statement = document.getElementById('vt-statement');
    prompter.append(...[...(statement?.childNodes || [])].map((node) => node.cloneNode(true)));
    prompter.querySelectorAll('[id]').forEach((node) => node.removeAttribute('id'));
    if (statement?.lang) prompter.lang = statement.lang; // the statement stays in Spanish
    const video = preview();
    const timer = el('span', { text: `0:00 / ${clock(maxSeconds)}` });
    const record = button(M.video_record);
    const pause = button(M.video_pause_text, true);
    const finish = button(M.video_stop);
    const cancel = button(M.cancel, true);
    pause.hidden = finish.hidden = true;
    record.disabled = true; // until the camera and microphone are on
    const stage = el('div', { class: 'vt-stage' }, prompter, el('div', { class: 'vt-view' }, video));
    const controls = row(record, finish, pause, cancel);
    const result = el('div', { class: 'vt-shot', hidden: '' });
    const time = el('p', { class: 'vt-timer' }, el('span', { class: 'usa-sr-only', text: `${M.video_timer}: ` }), timer);
    ui.panel.replaceChildren(stage, time, controls, result);
    cancel.onclick = () => ui.close();
    cancel.focus();

    const stream = await ui.camera({ video: { facingMode: 'user', width: { ideal: 640 } }, audio: true });
    if (!stream) return;
    video.srcObject = stream;
    video.play().catch(() => {});
    ui.say(M.video_ready);
    record.disabled = false;
    record.focus();

    let recorder, chunks, began, last, tick, frame;
    let scrolling = true;
    let position = 0;

    // About 130 words a minute, the pace of reading aloud calmly, after 2 s to settle.
    const scroll = (now) => {
      const travel = prompter.scrollHeight - prompter.clientHeight;
      const seconds = (prompter.textContent.trim().split(/\s+/).length / 130) * 60;
      if (scrolling && now - began > 2000 && travel > 0) {
        position = Math.min(travel, position + (travel / seconds) * ((now - last) / 1000));
        prompter.scrollTop = position;
      } else {
        position = prompter.scrollTop; // the person may scroll by hand while it is paused
      }
      last = now;
      frame = requestAnimationFrame(scroll);
    };

    pause.onclick = () => {
      scrolling = !scrolling;
      pause.textContent = scrolling ? M.video_pause_text : M.video_resume_text;
    };

    record.onclick = () => {
      chunks = [];
      const type = ['video/webm;codecs=vp8,opus', 'video/webm;codecs=vp9,opus', 'video/webm',
        'video/mp4;codecs=avc1,mp4a', 'video/mp4'].find((t) => MediaRecorder.isTypeSupported(t));
      recorder = new MediaRecorder(stream, { ...(type && { mimeType: type }), videoBitsPerSecond: 1e6 });
      recorder.ondataavailable = (event) => event.data.size && chunks.push(event.data);
      recorder.onstop = stopped;
      recorder.start(1000);
      began = last = performance.now();
      prompter.scrollTop = position = 0;
      frame = requestAnimationFrame(scroll);
      let warned = false;
      tick = setInterval(() => {
        const seconds = (performance.now() - began) / 1000;
        timer.textContent = `${clock(seconds)} / ${clock(maxSeconds)}`;
        if (!warned && maxSeconds > 20 && maxSeconds - seconds <= 10) {
          warned = true;
          ui.say(fmt(M.video_ending, { seconds: 10 }));
        }
        if (seconds >= maxSeconds) finish.click();
      }, 250);
      record.hidden = cancel.hidden = true;
      pause.hidden = finish.hidden = false;
      ui.say(M.video_recording);
      finish.focus();
    };

    finish.onclick = () => recorder?.state === 'recording' && recorder.stop();

    function stopped() {
      // The duration comes from our own clock: browsers' WebM files declare none.
      const seconds = (performance.now() - began) / 1000;
      clearInterval(tick);
      cancelAnimationFrame(frame);
      stopStream(stream);
      ui.stream = null;
      const type = (recorder.mimeType || chunks[0]?.type || 'video/webm').split(';')[0];
      const blob = new Blob(chunks, { type });
      const name = `grabacion.${type.includes('mp4') ? 'mp4' : 'webm'}`;
      const short = seconds < minSeconds;
      stage.hidden = time.hidden = controls.hidden = true;
      ui.say(fmt(M.video_done, { duration: clock(seconds) }));
      offer(ui, result, {
        media: el('video', { controls: '', playsinline: '', class: 'vt-recording', 'aria-label': M.video_recorded_alt }),
        blob,
        name,
        warn: short,
        verdict: short && el('p', { class: 'vt-verdict vt-verdict--warn', role: 'status',
          text: fmt(M.video_short, { seconds: Math.round(seconds), min: minSeconds }) }),
        texts: [M.video_use, M.video_redo, M.video_ready_file],
        retry: () => openVideo(ui),
      });
    }
  }

  function init(root) {
    root.querySelectorAll('.vt-capture[data-capture=photo]').forEach((box) => setUp(box, M.camera_start, openPhoto));
    if (typeof MediaRecorder !== 'function') return;
    root.querySelectorAll('.vt-capture[data-capture=video]').forEach((box) => setUp(box, M.video_start, openVideo));
  }

  document.addEventListener('vt:content', (event) => {
    // A camera whose component left the page (the page was replaced) is switched off.
    const shown = [...document.querySelectorAll('.vt-capture video')].map((video) => video.srcObject);
    live.forEach((stream) => shown.includes(stream) || stopStream(stream));
    init(event.detail.root);
  });
  window.addEventListener('pagehide', () => live.forEach(stopStream));
  init(document);
})();
