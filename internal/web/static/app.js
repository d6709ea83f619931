// Progressive enhancement only: every page works without this file.
document.documentElement.classList.add("js");
// Dates are written in the reader's time zone: the server learns it here
// (UTC until then, and without JavaScript).
{
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  // IANA names ("America/New_York") are valid cookie values as they are.
  if (/^[A-Za-z0-9_\/+-]{1,64}$/.test(zone) && !document.cookie.split("; ").includes("gardien_tz=" + zone)) {
    document.cookie = "gardien_tz=" + zone + "; path=/; max-age=31536000; samesite=lax";
  }
}
document.addEventListener("change", (e) => {
  const el = e.target;
  if (el instanceof HTMLSelectElement && el.hasAttribute("data-autosubmit")) el.form.requestSubmit();
});
// Copy buttons: <button data-copy="ID"> copies the text of element ID.
for (const btn of document.querySelectorAll("button[data-copy]")) {
  btn.hidden = false;
  btn.addEventListener("click", async () => {
    const el = document.getElementById(btn.dataset.copy);
    const text = [...el.querySelectorAll("code")].map((c) => c.textContent).join("\n");
    try {
      await navigator.clipboard.writeText(text);
      btn.dataset.label ??= btn.textContent;
      btn.textContent = "✓ " + btn.dataset.label;
    } catch (_) { /* clipboard refused: the download link remains */ }
  });
}
// The requirement's pop-up: a deadline chosen without its date keeps the
// pop-up open, the error next to the date (the server says the same
// without JavaScript, on the confirmation page).
const requireForm = document.getElementById("require-form");
if (requireForm) {
  requireForm.addEventListener("submit", (e) => {
    const byDeadline = requireForm.querySelector("input[name=when][value=deadline]");
    const date = requireForm.querySelector("#f-deadline");
    const error = requireForm.querySelector("#f-deadline-error");
    if (!byDeadline || !byDeadline.checked || !date || date.value !== "") return;
    e.preventDefault();
    error.hidden = false;
    date.setAttribute("aria-invalid", "true");
    date.setAttribute("aria-describedby", "f-deadline-error");
    date.focus();
  });
}
// Confirmation pop-ups: a form with data-dialog="ID" opens <dialog id=ID>
// instead of loading the confirmation page it would load without JavaScript.
for (const form of document.querySelectorAll("form[data-dialog]")) {
  const dialog = document.getElementById(form.dataset.dialog);
  if (!dialog || !dialog.showModal) continue;
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    dialog.showModal();
  });
  // The keyboard stays in the dialog: Tab from its last control comes
  // back to its first (a modal dialog alone lets it out to the browser).
  dialog.addEventListener("keydown", (e) => {
    if (e.key !== "Tab") return;
    const controls = [...dialog.querySelectorAll("a[href], button:not([disabled]), input:not([disabled]):not([type=hidden]), select, textarea")];
    if (controls.length === 0) return;
    const first = controls[0], last = controls[controls.length - 1];
    if (e.shiftKey && document.activeElement === first) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && document.activeElement === last) {
      e.preventDefault();
      first.focus();
    }
  });
  for (const close of dialog.querySelectorAll("[data-close]")) {
    close.addEventListener("click", (e) => {
      e.preventDefault();
      dialog.close();
    });
  }
}
// Passkeys and security keys: a form with data-passkey="create" (add a
// key) or "get" (prove one, or log in with one) fetches its ceremony's
// options from data-options, asks the browser's key, and sends the key's
// answer in its hidden field. Without WebAuthn the form stays hidden and a
// note (data-passkey-nojs) says what else to do.
if (window.PublicKeyCredential && PublicKeyCredential.parseCreationOptionsFromJSON) {
  for (const note of document.querySelectorAll("[data-passkey-nojs]")) note.hidden = true;
  // A request that waits for the person to pick a passkey in the email box
  // (conditional mediation); a click on a key's button replaces it.
  let waiting = null;
  const options = async (form) => {
    const res = await fetch(form.dataset.options, { method: "POST", headers: { Accept: "application/json" } });
    const body = await res.json();
    if (!res.ok) throw new Error(body.detail || "");
    return body.publicKey;
  };
  const send = (form, cred) => {
    const create = form.dataset.passkey === "create";
    form.querySelector(create ? "input[name=credential]" : "input[name=assertion]").value = JSON.stringify(cred.toJSON());
    form.submit();
  };
  for (const form of document.querySelectorAll("form[data-passkey]")) {
    form.hidden = false;
    const create = form.dataset.passkey === "create";
    const error = form.querySelector("[data-passkey-error]");
    const fail = (text) => {
      error.textContent = text || error.dataset.default;
      error.hidden = false;
    };
    form.addEventListener("submit", async (e) => {
      // A form where the key is one way among others: a code typed goes
      // as it is.
      const code = form.querySelector("input[name=code]");
      if (form.hasAttribute("data-passkey-optional") && code && code.value.trim() !== "") return;
      e.preventDefault();
      error.hidden = true;
      const name = form.querySelector("input[name=key_name]");
      if (name && name.value.trim() === "") {
        name.setAttribute("aria-invalid", "true");
        name.focus();
        return;
      }
      if (waiting) waiting.abort();
      let publicKey;
      try {
        publicKey = await options(form);
      } catch (err) {
        return fail(err.message);
      }
      try {
        const cred = create
          ? await navigator.credentials.create({ publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(publicKey) })
          : await navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(publicKey) });
        send(form, cred);
      } catch (_) {
        // Cancelled, timed out, or no key of theirs: they may try again.
        fail();
      }
    });
  }
  // The login page: the passkeys the browser holds for Gardien are offered
  // in the email box (autocomplete="username webauthn"), no prompt.
  const conditional = document.querySelector("form[data-passkey=get][data-conditional]");
  if (conditional && PublicKeyCredential.isConditionalMediationAvailable) {
    PublicKeyCredential.isConditionalMediationAvailable().then(async (available) => {
      if (!available) return;
      waiting = new AbortController();
      const publicKey = await options(conditional);
      const cred = await navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(publicKey),
        mediation: "conditional", signal: waiting.signal });
      send(conditional, cred);
    }).catch(() => { /* aborted, or none picked: the forms remain */ });
  }
}
