// Target: its listings (paged, searchable, or as of a past time), the open
// conflicts with a field-level diff against the source, a sync with a
// dry-run preview before the real run (keep or overwrite), and its sync log.
// API: GET /targets/{id}, GET /sources, GET /sync_logs?target_id=&limit=,
// POST /sync/{source_id}/{id}?dry_run=true&on_conflict=, POST
// /sync/{source_id}/{id}?on_conflict=, GET /targets/{id}/properties?
// manually_modified=true&limit=&after= (the open conflicts), and the reads
// of lib/properties.js and lib/conflicts.js.
import {h, replace, route, routeQuery, section, table, loading, empty, errorBox, facts, badge} from '../lib/dom.js';
import {api} from '../lib/api.js';
import {num, time} from '../lib/format.js';
import {propertySection, PAGE} from '../lib/properties.js';
import {conflictItem} from '../lib/conflicts.js';
import {setTitle} from '../lib/nav.js';
import {PUSH_TYPES} from './overview.js';

const LOG_LIMIT = 10;
const OPEN_FIRST = 3;  // conflicts whose diff is shown without a click

function syncStats(stats) {
  return h('ul', {class: 'inline-stats', 'data-testid': 'sync-stats'},
    ['created', 'updated', 'unchanged', 'removed', 'conflicts'].map((k) =>
      h('li', {'data-field': k}, h('span', {class: 'muted'}, k + ' '), h('strong', null, num(stats[k])))));
}

function syncPanel(target, sources, defaultSource, signal, onSynced) {
  if (sources.length === 0) return empty('No sources yet: there is nothing to sync from.');
  const select = h('select', {id: 'sync-source', name: 'source', class: 'input'},
    sources.map((s) => h('option', {value: s.id, selected: s.id === defaultSource}, `${s.name} (source ${s.id})`)));
  const keep = h('input', {type: 'radio', name: 'on_conflict', id: 'oc-keep', value: 'keep', checked: true});
  const overwrite = h('input', {type: 'radio', name: 'on_conflict', id: 'oc-overwrite', value: 'overwrite'});
  const preview = h('button', {type: 'submit', class: 'btn', id: 'sync-preview'}, 'Preview (dry run)');
  const run = h('button', {type: 'button', class: 'btn btn-primary', id: 'sync-run', disabled: true}, 'Run sync');
  const hint = h('span', {class: 'muted small', id: 'sync-hint'}, 'Preview first: the real run unlocks after it.');
  const out = h('div', {class: 'sync-result', 'aria-live': 'polite'});
  let previewed = null;  // the options the current preview was made with

  const options = () => ({source: select.value, on_conflict: overwrite.checked ? 'overwrite' : 'keep'});
  const invalidate = () => {
    previewed = null;
    run.disabled = true;
    replace(hint, 'Options changed: preview again before running.');
  };
  for (const el of [select, keep, overwrite]) el.addEventListener('change', invalidate);

  const form = h('form', {class: 'sync-form', method: 'post'},
    h('div', {class: 'field'}, h('label', {for: 'sync-source'}, 'From source'), select),
    h('fieldset', {class: 'field'}, h('legend', null, 'Listings edited by hand'),
      h('div', {class: 'radio'}, keep, h('label', {for: 'oc-keep'}, 'Keep the manual edit'),
        h('span', {class: 'muted small'}, ' (default; reported as a warning)')),
      h('div', {class: 'radio'}, overwrite, h('label', {for: 'oc-overwrite'}, 'Overwrite with the source'))),
    h('div', {class: 'actions'}, preview, run, hint),
    out);

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const o = options();
    preview.disabled = true;
    run.disabled = true;
    replace(out, loading('the preview'));
    try {
      const r = await api(`/sync/${o.source}/${target.id}`, {method: 'POST',
        query: {dry_run: 'true', on_conflict: o.on_conflict}, signal});
      previewed = o;
      replace(out, h('div', {class: 'state state-info', 'data-testid': 'sync-preview-result'},
        h('strong', null, 'Preview: nothing has been written yet.'), syncStats(r.stats),
        r.warnings.length ? h('p', null, `${num(r.warnings.length)} listing(s) edited by hand would be ` +
          (o.on_conflict === 'keep' ? 'kept as they are.' : 'overwritten with the source.')) : null));
      run.disabled = false;
      replace(hint, 'Run applies exactly this (unless the data changes meanwhile).');
      run.focus();
    } catch (err) {
      if (err.name !== 'AbortError') replace(out, errorBox(err, 'The preview failed'));
    } finally {
      preview.disabled = false;
    }
  });
  run.addEventListener('click', async () => {
    if (!previewed) return;
    const o = previewed;
    run.disabled = true;
    preview.disabled = true;
    replace(out, loading('the sync'));
    try {
      const r = await api(`/sync/${o.source}/${target.id}`, {method: 'POST',
        query: {on_conflict: o.on_conflict}, signal});
      replace(out, h('div', {class: 'state state-ok', role: 'status', 'data-testid': 'sync-run-result'},
        h('strong', null, `Sync #${r.sync_id} done (${o.on_conflict}).`), syncStats(r.stats),
        r.warnings.length ? h('p', null, `${num(r.warnings.length)} warning(s): see the sync log below.`) : null));
      previewed = null;
      replace(hint, 'Preview again for another run.');
      onSynced();
    } catch (err) {
      if (err.name !== 'AbortError') replace(out, errorBox(err, 'The sync failed, nothing was written'));
    } finally {
      preview.disabled = false;
    }
  });
  return form;
}

// The open conflicts: the server's list (manually_modified=true), a page at
// a time, each with its diff against `fallbackSource` (the last sync's).
async function conflictsFromServer(target, state, fallbackSource, sourceName, signal) {
  const rows = await api(`/targets/${target.id}/properties`, {query: {manually_modified: 'true',
    limit: PAGE, after: state.cafter || undefined}, signal});
  if (rows.length === 0) {
    return empty(state.cafter ? 'No more conflicts.' : 'No listing of this target is edited by hand.');
  }
  return [
    h('div', {class: 'conflicts'}, rows.map((row, i) => conflictItem({targetId: target.id,
      externalId: row.external_id, sourceId: fallbackSource, row, sourceName,
      open: i < OPEN_FIRST && !state.cafter}, signal))),
    h('nav', {class: 'pager', 'aria-label': 'Pages of conflicts'},
      state.cafter ? h('a', {href: route('targets', target.id), class: 'btn'}, '\u2190 First conflicts') : null,
      rows.length === PAGE ? h('a', {class: 'btn', href: routeQuery(['targets', target.id],
        {cafter: rows[rows.length - 1].external_id})}, 'More conflicts \u2192') : null)];
}

async function syncLog(target, sourceName, signal) {
  const logs = await api('/sync_logs', {query: {target_id: target.id, limit: LOG_LIMIT}, signal});
  if (logs.length === 0) return {node: empty('No syncs into this target yet.'), logs};
  const node = table([{label: 'Sync'}, {label: 'Finished'}, {label: 'From'}, {label: 'Conflicts kept or overwritten'},
    {label: 'Created', cls: 'num'}, {label: 'Updated', cls: 'num'}, {label: 'Unchanged', cls: 'num'},
    {label: 'Removed', cls: 'num'}, {label: 'Warnings'}],
  logs.map((s) => ({attrs: {'data-id': s.id}, cells: ['#' + s.id, time(s.finished_at),
    h('a', {href: route('sources', s.source_id)}, sourceName.get(s.source_id) || 'source ' + s.source_id),
    s.on_conflict, num(s.stats.created), num(s.stats.updated), num(s.stats.unchanged), num(s.stats.removed),
    s.warnings.length === 0 ? '0' : h('details', {class: 'warnings'},
      h('summary', null, badge(num(s.warnings.length), 'warn')),
      h('ul', null, s.warnings.slice(0, PAGE).map((w) => h('li', null,
        h('a', {href: routeQuery(['targets', target.id, 'properties', w.external_id])}, w.external_id),
        ': ', w.message))),
      s.warnings.length > PAGE ? h('p', {class: 'muted small'}, `and ${num(s.warnings.length - PAGE)} more`) : null)]})),
  {caption: 'Sync log'});
  return {node, logs};
}

export async function render({main, params, query, signal}) {
  const state = {q: query.get('q') || '', after: query.get('after') || '', as_of: query.get('as_of') || '',
    cafter: query.get('cafter') || ''};
  const [target, sources] = await Promise.all([
    api(`/targets/${encodeURIComponent(params.id)}`, {signal}), api('/sources', {signal})]);
  setTitle(target.name, 'Target');
  const sourceName = new Map(sources.map((s) => [s.id, s.name]));
  const logBox = h('div', null, loading('the sync log'));
  const conflictsBox = h('div', null, loading('conflicts'));
  const propsBox = h('div', null, loading('listings'));
  const syncBox = h('div', null, loading('sources'));
  const isPush = PUSH_TYPES.has(target.type);

  replace(main,
    h('nav', {class: 'crumbs', 'aria-label': 'Breadcrumb'}, h('a', {href: '#/'}, 'Overview'), ' \u203a Target'),
    h('div', {class: 'page-head'},
      h('h1', {tabindex: '-1'}, target.name, h('span', {class: 'muted id'}, ' target ' + target.id)),
      facts([['Live listings', num(target.live_count)],
        ['Edited by hand', num(target.manual_count)],
        ['Type', target.type], ['Created', time(target.created_at)],
        isPush ? ['Delivery', h('a', {href: route('delivery', target.id)}, 'Push status')] : undefined,
        ['Feed', h('a', {href: '#/feed?target_id=' + target.id}, 'Follow this target live')]].filter(Boolean))),
    section('Sync', syncBox),
    section('Conflicts', conflictsBox),
    section(state.as_of ? 'Listings as they were' : 'Listings', state.as_of ?
      h('p', {class: 'state state-info', 'data-testid': 'as-of-banner'}, 'As of ', time(state.as_of),
        ' \u2014 the target as it was then. ', h('a', {href: route('targets', target.id)}, 'Back to now')) : null,
    propsBox),
    section('Sync log', logBox));

  const reloadProps = () => propertySection('targets', target.id, state, signal).then((n) => replace(propsBox, n),
    (e) => { if (e.name !== 'AbortError') replace(propsBox, errorBox(e)); });

  const reloadConflicts = async (fallbackSource) => {
    try {
      replace(conflictsBox, await conflictsFromServer(target, state, fallbackSource, sourceName, signal));
    } catch (e) {
      if (e.name !== 'AbortError') replace(conflictsBox, errorBox(e));
    }
  };
  const reloadLog = async () => {
    try {
      const {node, logs} = await syncLog(target, sourceName, signal);
      replace(logBox, node);
      return logs;
    } catch (e) {
      if (e.name !== 'AbortError') replace(logBox, errorBox(e));
      return [];
    }
  };

  const logs = await reloadLog();
  const defaultSource = logs.length ? logs[0].source_id : (sources[0] && sources[0].id);
  replace(syncBox, syncPanel(target, sources, defaultSource, signal, () => {
    reloadLog();
    reloadConflicts(defaultSource);
    reloadProps();
  }));
  await Promise.all([reloadConflicts(defaultSource), reloadProps()]);
}

