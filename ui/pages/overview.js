// Overview: every source and target with its counts, last import and sync,
// open conflicts and push delivery; a chart of recent imports and syncs.
// API: GET /sources, /targets, /imports?limit=, /sync_logs?limit=,
// /targets/{id}/delivery (push targets), and /imports?source_id=&limit=1 or
// /sync_logs?target_id=&limit=1 for an object missing from the recent logs.
// Never a property list.
import {h, replace, route, section, table, loading, empty, badge} from '../lib/dom.js';
import {api} from '../lib/api.js';
import {num, time} from '../lib/format.js';
import {activityChart} from '../lib/chart.js';
import {setTitle} from '../lib/nav.js';

const RECENT = 60;  // runs read for the chart and the "last" columns
const PUSH_TYPES = new Set(['webhook', 'postgres', 'file', 'ftp']);

export function deliveryBadge(state) {
  const kind = {idle: 'ok', delivering: 'info', retrying: 'warn', paused: 'neutral'}[state] || 'neutral';
  return badge(state || 'unknown', kind);
}

function card(label, value, note, testid) {
  return h('div', {class: 'stat', 'data-testid': testid},
    h('div', {class: 'stat-label'}, label),
    h('div', {class: 'stat-value'}, value),
    note ? h('div', {class: 'stat-note muted'}, note) : null);
}

function sum(list, field) {
  if (!list.length || list.some((x) => typeof x[field] !== 'number')) return undefined;
  return list.reduce((s, x) => s + x[field], 0);
}

function statsCells(stats) {
  if (!stats) return ['—', '—', '—'];
  return [num(stats.created), num(stats.updated), num(stats.removed)];
}

export async function render({main, signal}) {
  setTitle('Overview');
  const sourcesBox = h('div', null, loading('sources'));
  const targetsBox = h('div', null, loading('targets'));
  const chartBox = h('div', null, loading('activity'));
  const cards = h('div', {class: 'stats'});
  replace(main,
    h('div', {class: 'page-head'}, h('h1', {tabindex: '-1'}, 'Overview'),
      h('p', {class: 'muted'}, 'What the latest imports and syncs did, what was edited by hand, ' +
        'and whether the push to your website is behind.')),
    cards,
    section('Sources', sourcesBox),
    section('Targets', targetsBox),
    section('Activity', chartBox));

  const [sources, targets, imports, syncs] = await Promise.all([
    api('/sources', {signal}), api('/targets', {signal}),
    api('/imports', {query: {limit: RECENT}, signal}),
    api('/sync_logs', {query: {limit: RECENT}, signal})]);
  const sourceName = new Map(sources.map((s) => [s.id, s.name]));
  const targetName = new Map(targets.map((t) => [t.id, t.name]));

  // The last run of each object: from the recent logs, else one small read.
  const lastImport = new Map();
  for (const i of imports) if (!lastImport.has(i.source_id)) lastImport.set(i.source_id, i);
  const lastSync = new Map();
  for (const s of syncs) if (!lastSync.has(s.target_id)) lastSync.set(s.target_id, s);
  const push = targets.filter((t) => PUSH_TYPES.has(t.type));
  const [, , deliveries] = await Promise.all([
    Promise.all(sources.filter((s) => !lastImport.has(s.id)).map(async (s) => {
      const [i] = await api('/imports', {query: {source_id: s.id, limit: 1}, signal});
      if (i) lastImport.set(s.id, i);
    })),
    Promise.all(targets.filter((t) => !lastSync.has(t.id)).map(async (t) => {
      const [s] = await api('/sync_logs', {query: {target_id: t.id, limit: 1}, signal});
      if (s) lastSync.set(t.id, s);
    })),
    Promise.all(push.map((t) => api(`/targets/${t.id}/delivery`, {signal}).then(
      (d) => [t.id, d], (e) => [t.id, {error: e}]))),
  ]);
  const delivery = new Map(deliveries);

  const pending = push.length ?
    [...delivery.values()].reduce((s, d) => s + (d.pending_events || 0), 0) : undefined;
  replace(cards,
    card('Sources', num(sources.length), null, 'card-sources'),
    card('Listings in sources', num(sum(sources, 'live_count')),
      sum(sources, 'live_count') === undefined ? 'this server does not report live counts' : null,
      'card-live'),
    card('Targets', num(targets.length), null, 'card-targets'),
    card('Open conflicts', num(sum(targets, 'manual_count')),
      sum(targets, 'manual_count') === undefined ? 'see each target\u2019s sync preview' :
        'listings edited by hand since their last sync', 'card-conflicts'),
    card('Push backlog', push.length ? num(pending) : '—',
      push.length ? 'events not yet delivered' : 'no push targets', 'card-push'));

  replace(sourcesBox, sources.length === 0 ? empty('No sources yet. Create one with POST /sources ' +
    'or \u201csyncmgr source create\u201d, then upload listings on its page.') :
    table([{label: 'Source'}, {label: 'Live listings', cls: 'num'}, {label: 'Last import'},
      {label: 'Mode'}, {label: 'Received', cls: 'num'}, {label: 'Created', cls: 'num'},
      {label: 'Updated', cls: 'num'}, {label: 'Removed', cls: 'num'}],
    sources.map((s) => {
      const i = lastImport.get(s.id);
      return {attrs: {'data-id': s.id}, cells: [
        h('a', {href: route('sources', s.id)}, s.name), num(s.live_count),
        i ? time(i.finished_at) : h('span', {class: 'muted'}, 'never'), i ? i.mode : '—',
        i ? num(i.stats.received) : '—', ...statsCells(i && i.stats)]};
    }), {caption: 'Sources'}));

  replace(targetsBox, targets.length === 0 ? empty('No targets yet. Create one with POST /targets ' +
    'or \u201csyncmgr target create\u201d.') :
    table([{label: 'Target'}, {label: 'Type'}, {label: 'Live listings', cls: 'num'},
      {label: 'Conflicts', cls: 'num'}, {label: 'Last sync'}, {label: 'Created', cls: 'num'},
      {label: 'Updated', cls: 'num'}, {label: 'Removed', cls: 'num'}, {label: 'Warnings', cls: 'num'},
      {label: 'Delivery'}],
    targets.map((t) => {
      const s = lastSync.get(t.id);
      const d = delivery.get(t.id);
      const warnings = s ? s.warnings.length : 0;
      let deliveryCell = h('span', {class: 'muted'}, 'internal');
      if (d && d.error) deliveryCell = h('span', {class: 'text-error'}, d.error.message);
      else if (d) {
        deliveryCell = h('a', {href: route('delivery', t.id), class: 'delivery-link'},
          deliveryBadge(d.state), ' ', num(d.pending_events) + ' pending');
      }
      return {attrs: {'data-id': t.id}, cells: [
        h('a', {href: route('targets', t.id)}, t.name), t.type, num(t.live_count),
        typeof t.manual_count === 'number' && t.manual_count > 0 ?
          badge(num(t.manual_count), 'warn') : num(t.manual_count),
        s ? h('span', null, time(s.finished_at), h('br'),
          h('span', {class: 'muted small'}, 'from ' + (sourceName.get(s.source_id) || 'source ' + s.source_id))) :
          h('span', {class: 'muted'}, 'never'),
        ...statsCells(s && s.stats),
        warnings ? badge(num(warnings), 'warn') : '0',
        deliveryCell]};
    }), {caption: 'Targets'}));

  const runs = [
    ...imports.map((i) => ({kind: 'import', id: i.id, at: i.finished_at, ...i.stats,
      label: `Import #${i.id} into ${sourceName.get(i.source_id) || 'source ' + i.source_id}`})),
    ...syncs.map((s) => ({kind: 'sync', id: s.id, at: s.finished_at, ...s.stats,
      label: `Sync #${s.id} ${sourceName.get(s.source_id) || s.source_id} \u2192 ` +
        `${targetName.get(s.target_id) || s.target_id}`})),
  ].sort((a, b) => (a.at < b.at ? 1 : -1)).slice(0, RECENT);
  replace(chartBox, runs.length === 0 ? empty('No imports or syncs yet.') : [
    h('p', {class: 'muted small'}, `Created, updated and removed listings of the last ${runs.length} ` +
      'imports and syncs.'),
    activityChart(runs)]);
}

export {PUSH_TYPES};
