// Sign-in: a tenant key (the tenant's pages) or the admin key (Admin). The
// key is checked with one read, then kept in sessionStorage for this tab.
import {h, replace} from '../lib/dom.js';
import {api, ApiError} from '../lib/api.js';
import {remember} from '../lib/session.js';
import {setTitle} from '../lib/nav.js';

// → 'tenant' | 'admin'; throws ApiError.
async function roleOf(key) {
  try {
    await api('/sources', {key});
    return 'tenant';
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 403) throw e;
  }
  await api('/tenants', {key});  // 200 only for the admin key
  return 'admin';
}

export async function render({main, notice, onSignedIn}) {
  setTitle('Sign in');
  const input = h('input', {id: 'api-key', name: 'api-key', type: 'password', required: true,
    autocomplete: 'off', spellcheck: 'false', class: 'input', 'aria-describedby': 'key-help'});
  const status = h('div', {class: 'form-status', 'aria-live': 'polite'});
  const button = h('button', {type: 'submit', class: 'btn btn-primary'}, 'Sign in');
  // method=post: should a script ever fail to take over, the browser would
  // send the key in a body to this origin, never in a URL.
  const form = h('form', {class: 'signin-form', method: 'post'},
    h('label', {for: 'api-key'}, 'API key'),
    input,
    h('p', {id: 'key-help', class: 'muted small'},
      'A tenant key opens that tenant\u2019s sources, targets, feed and delivery; the admin key ' +
      'opens tenants and keys. The key stays in this browser tab only (sessionStorage) and is ' +
      'sent in the X-API-Key header \u2014 never in an address.'),
    button, status);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const key = input.value.trim();
    if (!key) return;
    button.disabled = true;
    replace(status, h('span', {role: 'status'}, 'Checking the key…'));
    try {
      const role = await roleOf(key);
      remember(key, role);
      input.value = '';
      onSignedIn();
    } catch (err) {
      const msg = err instanceof ApiError && err.status === 401 ?
        'This key was not accepted: it is unknown, mistyped or revoked.' :
        'Could not sign in: ' + err.message;
      replace(status, h('p', {class: 'state state-error', role: 'alert'}, msg));
      button.disabled = false;
      input.focus();
    }
  });
  replace(main,
    h('div', {class: 'signin'},
      h('h1', {tabindex: '-1'}, 'Sign in to Sync Manager'),
      notice ? h('p', {class: 'state state-warn', role: 'alert'}, notice) : null,
      form));
  input.focus();
}
