/* Ventanilla: instant checks of chosen files, in the server's words, and upload progress
 * (progressive enhancement). The server always decides: nothing here stops a form being sent. */
(() => {
  'use strict';
  const source = document.getElementById('vt-messages');
  if (!source) return;
  const M = JSON.parse(source.textContent);
  const MB = 1024 * 1024;
  const fmt = (text, params = {}) =>
    String(text).replace(/%\((\w+)\)s|%%/g, (all, key) => (key ? String(params[key] ?? '') : '%'));
  const number = (value, decimals) => value.toFixed(decimals).replace('.', M.decimal_separator || ',');
  // As the server's validation._megabytes: one decimal at most, never shown as the limit or less.
  const megabytes = (size, above) => {
    let value = Math.round((size / MB) * 10) / 10;
    if (above && value <= above / MB) value = Math.floor((above / MB) * 10 + 1) / 10;
    return number(value, Number.isInteger(value) ? 0 : 1);
  };

  // --- what a file is, from its first bytes (as validation._sniff and describe_content) ---
  const SIGNATURES = [[4, 'moov', 'mov'], [4, 'mdat', 'mov'], [4, 'wide', 'mov'], [0, '\x1a\x45\xdf\xa3', 'webm'],
    [0, '\x89PNG', 'png'], [0, 'GIF8', 'gif'], [8, 'WEBP', 'webp'], [0, 'BM', 'bmp'], [0, 'II*\0', 'tiff'],
    [0, 'MM\0*', 'tiff'], [0, 'PK\x03\x04', 'zip']];
  const BRANDS = [[/^qt/, 'mov'], [/^3g/, '3gp'], [/^(hei|mif|msf)/, 'heic'], [/^avi/, 'avif']];
  function sniff(bytes) {
    const head = String.fromCharCode(...bytes);
    if (head.startsWith('\xff\xd8\xff')) return 'jpeg';
    if (head.includes('%PDF-')) return 'pdf';
    if (head.slice(4, 8) === 'ftyp') return BRANDS.find(([brand]) => brand.test(head.slice(8, 12)))?.[1] || 'mp4';
    return SIGNATURES.find(([at, text]) => head.startsWith(text, at))?.[2] ?? null;
  }

  // WebM from MediaRecorder declares no duration: seeking far past the end makes it known.
  function videoSeconds(file) {
    return new Promise((resolve) => {
      const video = document.createElement('video');
      const url = URL.createObjectURL(file);
      const done = (value) => {
        clearTimeout(timer);
        URL.revokeObjectURL(url);
        video.removeAttribute('src');
        resolve(value);
      };
      const timer = setTimeout(() => done(null), 8000);
      video.preload = 'metadata';
      video.muted = true;
      video.onerror = () => done(null);
      video.onloadedmetadata = () => {
        if (Number.isFinite(video.duration)) return done(video.duration);
        video.ondurationchange = () => Number.isFinite(video.duration) && done(video.duration);
        video.currentTime = 1e101;
      };
      video.src = url;
    });
  }

  async function problemsOf(file, box) {
    const { kind, formats = '', maxBytes, convertMaxBytes, minSeconds, maxSeconds } = box.dataset;
    const isVideo = kind === 'video';
    const name = file.name;
    if (!file.size) return { error: fmt(M.empty, { name }) };
    const limit = Number(convertMaxBytes || maxBytes) || Infinity;
    if (file.size > limit) {
      return {
        error: fmt(isVideo ? M.too_large_video : M.too_large, {
          name, size: megabytes(file.size, limit), limit: megabytes(limit),
        }),
      };
    }
    const type = sniff(new Uint8Array(await file.slice(0, 1024).arrayBuffer()));
    if (!formats.split(',').includes(type)) {
      const [actual, category] = M.content_types[type] || [null, 'unknown'];
      return { error: fmt(M.wrong_type[isVideo ? 'video' : 'document'][category], { name, actual }) };
    }
    const note = file.size > Number(maxBytes)
      ? fmt(M.video_convert_note, { size: megabytes(file.size), limit: megabytes(Number(maxBytes)) })
      : '';
    if (isVideo && (minSeconds || maxSeconds)) {
      const seconds = await videoSeconds(file); // null when this browser cannot play it
      const params = { name, seconds: seconds && number(seconds, seconds < 10 ? 1 : 0), min: minSeconds, max: maxSeconds };
      if (seconds !== null && seconds < Number(minSeconds)) return { error: fmt(M.video_too_short, params), note };
      if (seconds > Number(maxSeconds) + 1) return { error: fmt(M.video_too_long, params), note };
    }
    return { note };
  }

  // --- the message under the field, in a live region made once so that changes are read out ---
  function show(box, input, { error = '', note = '' }) {
    let region = box.querySelector('.vt-check');
    if (!region) {
      region = Object.assign(document.createElement('div'), { className: 'vt-check', id: `${input.id}-vt-check` });
      region.setAttribute('role', 'status');
      input.after(region);
      input.setAttribute('aria-describedby', `${input.getAttribute('aria-describedby') || ''} ${region.id}`.trim());
    }
    region.replaceChildren(...[[error, 'usa-error-message'], [note, 'vt-note']]
      .filter(([text]) => text)
      .map(([textContent, className]) => Object.assign(document.createElement('span'), { textContent, className })));
    // A server error stays marked until the page is sent again; only our own marking is undone.
    const marked = Boolean(error) || box.dataset.vtServerError === 'true';
    (input.closest('.usa-form-group') || box).classList.toggle('usa-form-group--error', marked);
    if (marked) input.setAttribute('aria-invalid', 'true');
    else input.removeAttribute('aria-invalid');
  }

  function initUpload(box) {
    const input = box.querySelector('input[type=file]');
    if (!input || box.dataset.vtReady) return;
    box.dataset.vtReady = 'true';
    box.dataset.vtServerError = String(Boolean(box.querySelector('.usa-form-group--error, .usa-error-message'))
      || box.classList.contains('usa-form-group--error'));
    let checking = 0; // only the last chosen file's answer is shown
    input.addEventListener('change', async () => {
      const ticket = ++checking;
      // A file that cannot be read here is left to the server.
      const result = input.files[0] ? await problemsOf(input.files[0], box).catch(() => ({})) : {};
      if (ticket === checking) show(box, input, result);
    });
  }

  // --- sending with a progress bar ---

  function replaceMain(html) {
    const doc = new DOMParser().parseFromString(html, 'text/html');
    const fresh = doc.querySelector('main');
    const current = document.querySelector('main');
    if (!fresh || !current) return false;
    current.replaceWith(fresh);
    if (doc.title) document.title = doc.title;
    document.dispatchEvent(new CustomEvent('vt:content', { detail: { root: fresh } }));
    const target = fresh.querySelector('#error-summary') || fresh.querySelector('h1') || fresh;
    if (!target.hasAttribute('tabindex')) target.tabIndex = -1;
    target.focus();
    target.scrollIntoView({ block: 'start' });
    return true;
  }

  function send(event) {
    const form = event.target;
    if (!form.matches('form[data-vt-upload-progress]') || event.defaultPrevented) return;
    if (form.dataset.vtSending || ![...form.querySelectorAll('[type=file]')].some((i) => i.files.length)) return;
    event.preventDefault();
    const submitter = event.submitter;
    const data = new FormData(form, submitter);
    // Browsers before 2023 ignore the submitter: its name and value are added by hand.
    if (submitter?.name && !data.has(submitter.name)) data.append(submitter.name, submitter.value);

    const buttons = [...form.elements].filter((el) => el.matches('button:not([type]), [type=submit]'));
    const disable = (value) => buttons.forEach((button) => { button.disabled = value; });
    disable(true);
    form.dataset.vtSending = 'true';
    form.setAttribute('aria-busy', 'true');
    form.querySelector('.vt-progress')?.remove();
    const box = Object.assign(document.createElement('div'), { className: 'vt-progress', tabIndex: -1 });
    box.innerHTML = '<progress max="100" value="0"></progress><p role="status"></p>';
    const [bar, status] = box.children;
    bar.setAttribute('aria-label', M.progress_label);
    (submitter || buttons.at(-1) || form.lastElementChild).after(box);
    box.focus();
    let announced = -1;
    const say = (text, isError = false) => {
      status.textContent = text;
      status.classList.toggle('usa-error-message', isError);
    };
    const stop = (text) => {
      disable(false);
      delete form.dataset.vtSending;
      form.removeAttribute('aria-busy');
      bar.hidden = true;
      say(text, true);
      box.focus();
    };
    say(fmt(M.sending, { percent: 0 }));

    // Not form.action: a field named "action" would hide it.
    const action = new URL(submitter?.getAttribute('formaction') || form.getAttribute('action') || '', location.href).href;
    const xhr = new XMLHttpRequest();
    xhr.open('POST', action);
    xhr.upload.onprogress = (e) => {
      if (!e.lengthComputable) return;
      const percent = Math.floor((e.loaded / e.total) * 100);
      bar.value = percent;
      // The live region speaks every 10 %; the bar moves with every step.
      if (Math.floor(percent / 10) !== announced) {
        announced = Math.floor(percent / 10);
        say(fmt(M.sending, { percent }));
      }
    };
    xhr.upload.onload = () => {
      bar.removeAttribute('value');
      say(M.processing);
    };
    xhr.onload = () => {
      // A followed redirect ends elsewhere: go there. Otherwise the page came back with errors.
      if (xhr.responseURL && xhr.responseURL.split('#')[0] !== action.split('#')[0]) {
        location.assign(xhr.responseURL);
      } else if (xhr.status >= 500 || !replaceMain(xhr.responseText)) {
        stop(fmt(M.server_error, { status: xhr.status }));
      }
    };
    xhr.onerror = xhr.ontimeout = xhr.onabort = () => stop(M.network_error);
    xhr.send(data);
  }

  function init(root) {
    root.querySelectorAll('.vt-upload').forEach(initUpload);
  }

  document.addEventListener('submit', send);
  document.addEventListener('vt:content', (event) => init(event.detail.root));
  init(document);
})();
