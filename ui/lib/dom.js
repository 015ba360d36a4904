// Building the page without ever parsing data as markup.
//
// Every value from the API is listing data scraped from the web, so it is
// hostile: it reaches the page only as text nodes (textContent) or as
// attribute values set one by one. No string is ever parsed as HTML
// anywhere in ui/ (tests/ui greps ui/ for every HTML-parsing sink of the
// DOM), and links are built only from our own hash routes.

const SVG_NS = 'http://www.w3.org/2000/svg';

// Attributes h() sets with setAttribute. Anything else is a mistake in our
// code (an "on…" attribute would be inline script, which the CSP blocks).
const ATTRS = new Set([
  'id', 'class', 'href', 'type', 'name', 'value', 'placeholder', 'for', 'role', 'title',
  'tabindex', 'min', 'max', 'step', 'accept', 'autocomplete', 'spellcheck', 'method',
  'action', 'label', 'rows', 'cols', 'scope', 'colspan', 'rel', 'hidden', 'disabled', 'checked',
  'selected', 'required', 'readonly', 'open', 'inputmode', 'pattern', 'maxlength', 'size',
  'aria-label', 'aria-live', 'aria-current', 'aria-describedby', 'aria-busy', 'aria-hidden',
  'aria-labelledby', 'aria-expanded', 'aria-sort', 'aria-invalid',
  'data-testid', 'data-seq', 'data-id', 'data-version', 'data-field', 'data-state',
]);
const BOOLEAN = new Set(['hidden', 'disabled', 'checked', 'selected', 'required', 'readonly', 'open']);

// An href we may set: one of our hash routes ("#/targets/3") or a path on
// this origin ("/openapi.json"). Never a data value as a URL.
function safeHref(value) {
  const s = String(value);
  if (s.startsWith('#/') || s === '#' || (s.startsWith('/') && !s.startsWith('//'))) return s;
  throw new Error('refusing a link that is not a route of this dashboard');
}

function append(parent, child) {
  if (child === null || child === undefined || child === false) return;
  if (Array.isArray(child)) {
    for (const c of child) append(parent, c);
  } else if (child instanceof Node) {
    parent.appendChild(child);
  } else {
    parent.appendChild(document.createTextNode(String(child)));
  }
}

function setAttrs(el, attrs) {
  if (!attrs) return;
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'on') {
      for (const [event, fn] of Object.entries(value)) el.addEventListener(event, fn);
    } else if (name === 'text') {
      el.textContent = String(value);
    } else if (name === 'href') {
      el.setAttribute('href', safeHref(value));
    } else if (name === 'value' && 'value' in el && !(el instanceof SVGElement)) {
      el.value = String(value);
    } else if (ATTRS.has(name) || (el instanceof SVGElement && /^[a-z][a-zA-Z-]*$/.test(name))) {
      el.setAttribute(name, BOOLEAN.has(name) ? '' : String(value));
    } else {
      throw new Error('h(): attribute not allowed: ' + name);
    }
  }
}

// h('a', {href: '#/x', class: 'c'}, 'text', child, [more]) → an element.
// Strings and numbers become text nodes; null/false children are skipped.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

// The same for SVG elements (the charts). Attribute names are checked by
// shape (no "on…" handlers: those start lower-case and are refused below).
export function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  if (attrs) {
    for (const [name, value] of Object.entries(attrs)) {
      if (value === undefined || value === null) continue;
      if (/^on/i.test(name)) throw new Error('svg(): no event attributes');
      if (name === 'class') el.setAttribute('class', String(value));
      else if (name === 'text') el.textContent = String(value);
      else el.setAttribute(name, String(value));
    }
  }
  append(el, children);
  return el;
}

// Replaces every child of `el` with `children`.
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

// A route link: '#/targets/3'. `parts` are encoded one by one, so an
// external_id holding '/', '?' or '#' stays one segment.
export function route(...parts) {
  return '#/' + parts.map((p) => encodeURIComponent(String(p))).join('/');
}

// A route with a query: routeQuery(['targets', 3], {after: 'x'}).
export function routeQuery(parts, query) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query || {})) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return route(...parts) + (s ? '?' + s : '');
}

// Common states of a section.
export function loading(what) {
  return h('p', {class: 'state state-loading', role: 'status'}, 'Loading ' + what + '…');
}

export function empty(message) {
  return h('p', {class: 'state state-empty'}, message);
}

export function errorBox(err, prefix) {
  const code = err && err.code ? err.code : 'error';
  const message = err && err.message ? err.message : String(err);
  return h('div', {class: 'state state-error', role: 'alert'},
    h('strong', null, (prefix ? prefix + ': ' : '') + message),
    err && err.status ? h('span', {class: 'muted'}, ' (HTTP ' + err.status + ', ' + code + ')') : null);
}

// A labelled key/value list (<dl>).
export function facts(pairs) {
  const dl = h('dl', {class: 'facts'});
  for (const [k, v] of pairs) {
    if (v === undefined) continue;
    dl.appendChild(h('div', null, h('dt', null, k), h('dd', null, v)));
  }
  return dl;
}

export function section(title, ...children) {
  const id = 'sec-' + title.toLowerCase().replace(/[^a-z0-9]+/g, '-');
  return h('section', {class: 'card', 'aria-labelledby': id}, h('h2', {id}, title), children);
}

// A table: columns [{label, cls?}], rows of cells (nodes or text).
export function table(columns, rows, opts = {}) {
  const thead = h('thead', null, h('tr', null, columns.map((c) =>
    h('th', {scope: 'col', class: c.cls || null}, c.label))));
  const tbody = h('tbody', null, rows.map((r) => {
    const tr = h('tr', r.attrs || null);
    r.cells.forEach((cell, i) => tr.appendChild(h('td', {class: columns[i] && columns[i].cls || null}, cell)));
    return tr;
  }));
  const t = h('table', {class: 'table' + (opts.cls ? ' ' + opts.cls : '')},
    opts.caption ? h('caption', {class: 'sr-only'}, opts.caption) : null, thead, tbody);
  return h('div', {class: 'table-wrap'}, t);
}

export function badge(text, kind) {
  return h('span', {class: 'badge badge-' + (kind || 'neutral')}, text);
}
