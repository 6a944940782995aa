/* Ventanilla back-office: passkeys (WebAuthn) as a second factor, for "Mi cuenta" (adding
 * one) and the second-factor page ("Usar mi llave de acceso"). The server decides
 * everything (ventanilla/staff/services.py); this script only carries the options to the
 * browser and the browser's answer back. Without WebAuthn the passkey parts stay hidden
 * and the code form remains. Messages come from #passkey-messages (translated). */
(() => {
  'use strict';
  const source = document.getElementById('passkey-messages');
  if (!source) return;
  const M = source.dataset;
  const supported = typeof window.PublicKeyCredential === 'function' && !!navigator.credentials;
  document.querySelectorAll('[data-passkey-unsupported]').forEach((el) => { el.hidden = supported; });
  if (!supported) return;

  // --- base64url, for browsers without parse*OptionsFromJSON / toJSON ---------------------
  const toBytes = (text) => {
    const base64 = text.replace(/-/g, '+').replace(/_/g, '/');
    const padded = base64 + '='.repeat((4 - (base64.length % 4)) % 4);
    return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
  };
  const toText = (buffer) => {
    let binary = '';
    new Uint8Array(buffer).forEach((byte) => { binary += String.fromCharCode(byte); });
    return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  };
  const withIds = (list) => (list || []).map((item) => ({ ...item, id: toBytes(item.id) }));

  function creationOptions(json) {
    if (typeof PublicKeyCredential.parseCreationOptionsFromJSON === 'function') {
      return PublicKeyCredential.parseCreationOptionsFromJSON(json);
    }
    return {
      ...json,
      challenge: toBytes(json.challenge),
      user: { ...json.user, id: toBytes(json.user.id) },
      excludeCredentials: withIds(json.excludeCredentials),
    };
  }

  function requestOptions(json) {
    if (typeof PublicKeyCredential.parseRequestOptionsFromJSON === 'function') {
      return PublicKeyCredential.parseRequestOptionsFromJSON(json);
    }
    return { ...json, challenge: toBytes(json.challenge), allowCredentials: withIds(json.allowCredentials) };
  }

  function credentialJSON(credential) {
    if (typeof credential.toJSON === 'function') return credential.toJSON();
    const r = credential.response;
    const response = { clientDataJSON: toText(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = toText(r.attestationObject);
      response.transports = typeof r.getTransports === 'function' ? r.getTransports() : [];
    } else {
      response.authenticatorData = toText(r.authenticatorData);
      response.signature = toText(r.signature);
      response.userHandle = r.userHandle ? toText(r.userHandle) : null;
    }
    return {
      id: credential.id,
      rawId: toText(credential.rawId),
      type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment || null,
      clientExtensionResults: credential.getClientExtensionResults(),
      response,
    };
  }

  // --- talking to the server ----------------------------------------------------------------
  class Refusal extends Error {
    constructor(message, { locked = false } = {}) {
      super(message);
      this.locked = locked;
    }
  }
  // The server sent the session elsewhere (signed out, or the second factor is missing):
  // the page goes there, as a link would.
  class Leaving extends Error {}

  async function post(url, body, csrfToken) {
    let response;
    try {
      response = await fetch(url, {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRFToken': csrfToken },
        body: JSON.stringify(body),
      });
    } catch {
      throw new Refusal(M.generic);
    }
    if (response.redirected) {
      window.location.assign(response.url);
      throw new Leaving();
    }
    let data = null;
    try {
      data = await response.json();
    } catch {
      data = null;
    }
    // A lock-out is answered by django-axes' page (HTML) or by our JSON: the same message.
    if (response.status === 429) throw new Refusal((data && data.error) || M.locked, { locked: true });
    if (!response.ok || !data) throw new Refusal((data && data.error) || M.generic);
    return data;
  }

  // What the browser's refusal means, in the person's words. Chromium reports both a
  // cancelled dialog and a timeout as NotAllowedError: the time spent tells them apart.
  function browserMessage(error, startedAt, timeoutMs) {
    switch (error && error.name) {
      case 'NotAllowedError':
        return timeoutMs && Date.now() - startedAt >= timeoutMs - 1000 ? M.timeout : M.cancelled;
      case 'AbortError':
        return M.cancelled;
      case 'InvalidStateError':
        return M.alreadyRegistered;
      case 'NotSupportedError':
        return M.notSupported;
      case 'SecurityError':
        return M.security;
      default:
        return M.generic;
    }
  }

  function say(status, text, isError) {
    status.textContent = text;
    status.classList.toggle('usa-error-message', !!isError);
  }

  async function ceremony({ box, status, button, optionsUrl, verifyUrl, body, create }) {
    const csrfToken = box.querySelector('input[name="csrfmiddlewaretoken"]').value;
    button.disabled = true;
    say(status, M.working, false);
    try {
      const options = await post(optionsUrl, body, csrfToken);
      if (options.redirect && !options.challenge) {
        window.location.assign(options.redirect);
        return;
      }
      const startedAt = Date.now();
      let credential;
      try {
        credential = create
          ? await navigator.credentials.create({ publicKey: creationOptions(options) })
          : await navigator.credentials.get({ publicKey: requestOptions(options) });
      } catch (error) {
        throw new Refusal(browserMessage(error, startedAt, options.timeout));
      }
      if (!credential) throw new Refusal(M.cancelled);
      const result = await post(verifyUrl, { ...body, credential: credentialJSON(credential) }, csrfToken);
      window.location.assign(result.redirect);
    } catch (error) {
      if (error instanceof Leaving) return;
      say(status, error instanceof Refusal ? error.message : M.generic, true);
      button.disabled = !!(error && error.locked);
    }
  }

  // --- the second-factor page: "Usar mi llave de acceso" -----------------------------------
  document.querySelectorAll('[data-passkey="sign-in"]').forEach((box) => {
    const button = box.querySelector('button');
    const status = box.querySelector('[role="status"]');
    box.hidden = false;
    button.addEventListener('click', () =>
      ceremony({
        box, status, button,
        optionsUrl: box.dataset.optionsUrl,
        verifyUrl: box.dataset.verifyUrl,
        body: {},
        create: false,
      }));
  });

  // --- Mi cuenta: "Agregar una llave de acceso" ---------------------------------------------
  document.querySelectorAll('[data-passkey="register"]').forEach((box) => {
    const form = box.querySelector('form');
    const button = form.querySelector('button[type="submit"]');
    const status = box.querySelector('[role="status"]');
    const name = form.querySelector('input[name="name"]');
    box.hidden = false;
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      if (!name.value.trim()) {
        say(status, M.nameRequired, true);
        name.focus();
        return;
      }
      ceremony({
        box, status, button,
        optionsUrl: box.dataset.optionsUrl,
        verifyUrl: box.dataset.verifyUrl,
        body: { name: name.value },
        create: true,
      });
    });
  });
})();
