// Sync Manager dashboard: hash routes (/ui/#/targets/3), one module per page,
// the signed-in key in sessionStorage. See docs/ui.md.
import {h, replace, errorBox} from './lib/dom.js';
import {setUnauthorizedHandler} from './lib/api.js';
import {currentRole, keyPrefix, forget} from './lib/session.js';
import {parseHash} from './lib/nav.js';
import * as signin from './pages/signin.js';
import * as overview from './pages/overview.js';
import * as source from './pages/source.js';
import * as target from './pages/target.js';
import * as history from './pages/history.js';
import * as feed from './pages/feed.js';
import * as delivery from './pages/delivery.js';
import * as admin from './pages/admin.js';

// [pattern segments, page, role]: ':name' is a parameter; role says which
// key the page needs ('tenant' | 'admin').
const ROUTES = [
  [[], overview, 'tenant'],
  [['sources', ':id'], source, 'tenant'],
  [['targets', ':id'], target, 'tenant'],
  [[':kind', ':id', 'properties', ':external_id'], history, 'tenant'],
  [['feed'], feed, 'tenant'],
  [['delivery'], delivery, 'tenant'],
  [['delivery', ':id'], delivery, 'tenant'],
  [['admin'], admin, 'admin'],
];

const NAV = {
  tenant: [['Overview', '#/', ['', 'sources', 'targets']], ['Live feed', '#/feed', ['feed']],
    ['Delivery', '#/delivery', ['delivery']]],
  admin: [['Admin', '#/admin', ['admin']]],
};

function match(segments) {
  for (const [pattern, page, role] of ROUTES) {
    if (pattern.length !== segments.length) continue;
    const params = {};
    let ok = true;
    pattern.forEach((p, i) => {
      if (p.startsWith(':')) params[p.slice(1)] = segments[i];
      else if (p !== segments[i]) ok = false;
    });
    if (ok) return {page, role, params};
  }
  return null;
}

const main = () => document.getElementById('main');
let current = {cleanup: null, controller: null, token: 0};

function renderChrome(role, segments) {
  const nav = document.getElementById('nav');
  const here = segments && segments.length ? segments[0] : '';
  replace(nav, role ? h('ul', null, NAV[role].map(([label, href, sections]) =>
    h('li', null, h('a', {href, 'aria-current': sections.includes(here) ? 'page' : null}, label)))) : null);
  const who = document.getElementById('who');
  replace(who, role ? [
    h('span', {class: 'who-key', title: 'The key this tab is signed in with'},
      role === 'admin' ? 'Admin key' : 'Tenant key ' + (keyPrefix() ? keyPrefix() + '…' : '')),
    h('button', {type: 'button', class: 'btn btn-quiet', on: {click: signOut}}, 'Sign out'),
  ] : null);
}

function signOut() {
  forget();
  location.hash = '#/';
  navigate();
}

// Renders the page of the current hash. Each navigation aborts the previous
// page's requests and runs its cleanup (EventSource, timers).
export async function navigate(opts = {}) {
  const token = ++current.token;
  if (current.controller) current.controller.abort();
  if (current.cleanup) {
    try {
      current.cleanup();
    } catch (e) {
      // a page's cleanup must not stop the next page
    }
  }
  current.cleanup = null;
  current.controller = new AbortController();
  const signal = current.controller.signal;

  let {segments, query} = parseHash();
  const role = currentRole();
  if (role === 'admin' && segments && segments.length === 0) {
    // The admin key reads no tenant's data: its start page is Admin.
    window.history.replaceState(null, '', '#/admin');
    segments = ['admin'];
  }
  renderChrome(role, segments);
  const el = main();
  el.setAttribute('aria-busy', 'true');
  let cleanup = null;
  try {
    if (!role) {
      await signin.render({main: el, notice: opts.notice, onSignedIn: () => navigate({focus: true})});
    } else {
      const m = segments ? match(segments) : null;
      if (!m || (m.page === history && !['sources', 'targets'].includes(m.params.kind))) {
        replace(el, h('h1', {tabindex: '-1'}, 'Page not found'),
          h('p', null, 'There is no page at this address. ', h('a', {href: '#/'}, 'Go to the start.')));
      } else if (m.role !== role) {
        replace(el, h('h1', {tabindex: '-1'}, role === 'admin' ? 'This page needs a tenant key' :
          'This page needs the admin key'),
        h('p', null, role === 'admin' ?
          'The admin key manages tenants and keys; the data of a tenant is read with one of its keys. ' :
          'Tenants and keys are managed with the admin key. ',
        'Sign out and sign in with the other key to see it.'),
        h('p', null, h('a', {href: role === 'admin' ? '#/admin' : '#/'}, 'Back to your start page')));
      } else {
        cleanup = await m.page.render({main: el, params: m.params, query, signal, navigate});
      }
    }
  } catch (e) {
    if (e && e.name === 'AbortError') return;
    if (token === current.token) replace(el, h('h1', {tabindex: '-1'}, 'Something went wrong'), errorBox(e));
  }
  if (token !== current.token) {
    if (typeof cleanup === 'function') cleanup();
    return;
  }
  current.cleanup = typeof cleanup === 'function' ? cleanup : null;
  el.removeAttribute('aria-busy');
  if (opts.focus) {
    const heading = el.querySelector('h1');
    if (heading) heading.focus();
  }
}

function start() {
  setUnauthorizedHandler(() => navigate({focus: true,
    notice: 'The server refused the key (it may have been revoked). Sign in again.'}));
  window.addEventListener('hashchange', () => navigate({focus: true}));
  document.getElementById('skip').addEventListener('click', (e) => {
    e.preventDefault();
    main().focus();
  });
  navigate();
}

start();
