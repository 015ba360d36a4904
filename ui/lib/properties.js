// A page of a source's or target's listings: keyset paging (`limit` +
// `after`), search by id prefix, optionally as of a point in time. Never
// asks for more than one page: a target of a million listings costs the
// same as one of fifty.
// API: GET /{kind}/{id}/properties?limit=&after=[&as_of=][&manually_modified=true],
// and GET /{kind}/{id}/properties/{external_id}[?as_of=] for an exact id.
import {h, route, routeQuery, table, empty, badge} from './dom.js';
import {api, ApiError, seg} from './api.js';
import {num, time, preview, shortHash} from './format.js';

export const PAGE = 50;

// kind: 'sources' | 'targets'. state: {q, after, as_of} from the page URL.
// Returns {rows, more} with at most PAGE rows.
export async function fetchPage(kind, id, state, signal, extra = {}) {
  const base = `/${kind}/${id}/properties`;
  const asOf = state.as_of || undefined;
  const rows = [];
  if (state.q && !state.after) {
    // The exact id first: `after` is strictly greater, so the list below
    // starts just past it.
    try {
      rows.push(await api(`${base}/${seg(state.q)}`, {query: {as_of: asOf}, signal}));
    } catch (e) {
      if (!(e instanceof ApiError) || e.status !== 404) throw e;
    }
  }
  const after = state.after || state.q || undefined;
  const page = await api(base, {query: {limit: PAGE, after, as_of: asOf, ...extra}, signal});
  let stopped = false;
  for (const p of page) {
    if (state.q && !p.external_id.startsWith(state.q)) {
      stopped = true;  // past the prefix: ids are in byte order
      break;
    }
    rows.push(p);
  }
  const more = rows.length > PAGE || (!stopped && page.length === PAGE);
  return {rows: rows.slice(0, PAGE), more};
}

function searchForm(kind, id, state) {
  const input = h('input', {type: 'search', name: 'q', id: `q-${kind}`, class: 'input', value: state.q || '',
    placeholder: 'external_id or its beginning', autocomplete: 'off', spellcheck: 'false'});
  const form = h('form', {class: 'inline-form', role: 'search', method: 'get'},
    h('label', {for: `q-${kind}`}, 'Find by id'), input,
    h('button', {type: 'submit', class: 'btn'}, 'Find'),
    state.q ? h('a', {href: routeQuery([kind, id], {as_of: state.as_of}), class: 'btn btn-quiet'}, 'Clear') : null);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    location.hash = routeQuery([kind, id], {q: input.value.trim(), as_of: state.as_of});
  });
  return form;
}

// The whole section body: search form, table, paging links.
export async function propertySection(kind, id, state, signal) {
  const {rows, more} = await fetchPage(kind, id, state, signal);
  const isTarget = kind === 'targets';
  const columns = [{label: 'External id'}, {label: 'Version', cls: 'num'}, {label: 'Updated'},
    {label: 'Hash'}];
  if (isTarget) columns.push({label: 'From'});
  columns.push({label: 'Data'});
  const body = rows.length === 0 ?
    empty(state.q ? 'No listing id starts with \u201c' + state.q + '\u201d.' :
      state.after ? 'No more listings.' : 'No listings' + (state.as_of ? ' at that time.' : ' yet.')) :
    table(columns, rows.map((p) => {
      const link = h('a', {href: routeQuery([kind, id, 'properties', p.external_id],
        {as_of: state.as_of})}, p.external_id);
      const cells = [h('span', null, link, p.manually_modified ? [' ', badge('edited by hand', 'warn')] : null),
        num(p.version), time(p.updated_at), h('code', {title: p.hash || ''}, shortHash(p.hash))];
      if (isTarget) {
        cells.push(p.source_id === null || p.source_id === undefined ? h('span', {class: 'muted'}, 'manual') :
          h('a', {href: route('sources', p.source_id)}, 'source ' + p.source_id));
      }
      cells.push(h('code', {class: 'preview'}, preview(p.data)));
      return {attrs: {'data-id': p.external_id}, cells};
    }), {caption: 'Listings', cls: 'properties'});
  const nav = h('nav', {class: 'pager', 'aria-label': 'Pages of listings'},
    state.after ? h('a', {href: routeQuery([kind, id], {q: state.q, as_of: state.as_of}), class: 'btn'},
      '\u2190 First page') : null,
    rows.length ? h('span', {class: 'muted small'}, `${rows.length} listings, ` +
      `${rows[0].external_id} \u2026 ${rows[rows.length - 1].external_id}`) : null,
    more ? h('a', {href: routeQuery([kind, id], {q: state.q, as_of: state.as_of,
      after: rows[rows.length - 1].external_id}), class: 'btn', rel: 'next'}, 'Next page \u2192') : null);
  return [searchForm(kind, id, state), body, nav];
}
