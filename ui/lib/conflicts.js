// A conflict: a target listing edited by hand that a sync would change or
// remove. Shown as a disclosure (<details>) whose body is a field-level diff
// of the source's current version against the target's, read when opened.
// API: GET /targets/{id}/properties/{external_id} (unless the row is known)
// and GET /sources/{source_id}/properties/{external_id}.
import {h, replace, routeQuery, loading, errorBox, badge} from './dom.js';
import {api, ApiError, seg} from './api.js';
import {time} from './format.js';
import {diffTable} from './diff.js';

async function diffBody(targetId, externalId, sourceId, known, sourceName, signal) {
  const row = known || await api(`/targets/${targetId}/properties/${seg(externalId)}`, {signal});
  const sid = row.source_id || sourceId;
  let src = null;
  if (sid) {
    try {
      src = await api(`/sources/${sid}/properties/${seg(externalId)}`, {signal});
    } catch (e) {
      if (!(e instanceof ApiError) || e.status !== 404) throw e;
    }
  }
  const srcLabel = sid ? (sourceName && sourceName.get(Number(sid))) || 'source ' + sid : '';
  const parts = [];
  if (!sid) {
    parts.push(h('p', {class: 'muted'}, 'No source has written this listing: it was created by hand.'));
  } else if (!src) {
    parts.push(h('p', {class: 'state state-warn'}, `The source (${srcLabel}) no longer has this listing: a sync ` +
      'would remove it from the target (keep leaves the hand-edited version in place).'));
  }
  parts.push(diffTable(src ? src.data : null, row.data, {
    leftLabel: src ? `${srcLabel} now (v${src.version})` : 'Source (absent)',
    rightLabel: `Target, edited by hand (v${row.version})`}));
  parts.push(h('p', {class: 'small'}, h('a', {href: routeQuery(['targets', targetId, 'properties', externalId])},
    'History of this listing')));
  return parts;
}

// opts: {targetId, externalId, sourceId (fallback when the row has none),
// row (the target property if already read), message, open, sourceName
// (Map id → name)}
export function conflictItem(opts, signal) {
  const body = h('div', {class: 'conflict-body'});
  const summary = h('summary', null,
    h('code', {class: 'conflict-id'}, opts.externalId), ' ',
    badge('edited by hand', 'warn'),
    opts.row ? h('span', {class: 'muted small'}, ' updated ', time(opts.row.updated_at)) : null,
    opts.message ? h('span', {class: 'muted small conflict-msg'}, ' \u2014 ' + opts.message) : null);
  const item = h('details', {class: 'conflict', 'data-id': opts.externalId}, summary, body);
  let loaded = false;
  const load = () => {
    if (loaded) return;
    loaded = true;
    replace(body, loading('the difference'));
    diffBody(opts.targetId, opts.externalId, opts.sourceId, opts.row, opts.sourceName, signal).then(
      (parts) => replace(body, parts),
      (e) => { if (e.name !== 'AbortError') replace(body, errorBox(e)); });
  };
  item.addEventListener('toggle', () => { if (item.open) load(); });
  if (opts.open) item.open = true;
  return item;
}
