// Live feed: the tenant's change feed, or one source's or target's, as
// events arrive, with SPEC §4's filters (types, fields) and a start seq.
// EventSource cannot send X-API-Key, so the page mints a read-only feed
// token (POST /feed_tokens, scoped to the chosen stream, one hour) and puts
// that — never the key — in the feed URL. When the token expires the stream
// ends; the page mints another and resumes after the last seq it showed.
// API: GET /sources, GET /targets, GET /imports?limit=1, GET /sync_logs?limit=1
// (where "now" starts), POST /feed_tokens, GET /feed?token=&since=&types=&fields=
// (text/event-stream).
import {h, replace, route, routeQuery, section, table, empty, errorBox, badge} from '../lib/dom.js';
import {api, buildPath} from '../lib/api.js';
import {num, time, preview} from '../lib/format.js';
import {setTitle} from '../lib/nav.js';

// Every event type of the feed (docs/feed.md "Events"; SPEC §4): the
// listing and run events, then the catalog events of the tenant's log and
// `unknown` (a kind this server cannot read, written by a newer version:
// its seq still shows). `types=` takes any of them; EventSource needs a
// listener per event name, so a type missing here would be dropped.
const LISTING_TYPES = ['property.created', 'property.updated', 'property.removed', 'property.manual_edit',
  'import.completed', 'sync.completed'];
const CATALOG_TYPES = ['tenant.created', 'api_key.created', 'api_key.revoked', 'source.created',
  'target.created', 'feed_token.created', 'unknown'];
const TYPES = [...LISTING_TYPES, ...CATALOG_TYPES];
const MAX_ROWS = 200;  // rows kept on screen; older ones drop off
const MAX_RESTARTS = 20;  // new tokens in a row without an event before giving up
const TOKEN_TTL_S = 3600;

const TYPE_KIND = {'property.created': 'ok', 'property.updated': 'info', 'property.removed': 'error',
  'property.manual_edit': 'warn', 'import.completed': 'neutral', 'sync.completed': 'neutral',
  'api_key.revoked': 'warn', 'unknown': 'error'};

function filtersFrom(query) {
  return {
    source_id: query.get('source_id') || '',
    target_id: query.get('target_id') || '',
    types: (query.get('types') || '').split(',').filter((t) => TYPES.includes(t)),
    fields: query.get('fields') || '',
    since: /^\d+$/.test(query.get('since') || '') ? query.get('since') : '',
  };
}

function filterForm(filters, sources, targets) {
  const stream = h('select', {id: 'feed-stream', name: 'stream', class: 'input'},
    h('option', {value: ''}, 'Everything of this tenant'),
    h('optgroup', {label: 'Sources'}, sources.map((s) => h('option', {value: 'source:' + s.id,
      selected: String(s.id) === filters.source_id}, `${s.name} (source ${s.id})`))),
    h('optgroup', {label: 'Targets'}, targets.map((t) => h('option', {value: 'target:' + t.id,
      selected: String(t.id) === filters.target_id}, `${t.name} (target ${t.id})`))));
  const boxes = TYPES.map((t) => h('input', {type: 'checkbox', id: 'type-' + t.replace('.', '-'), name: 'types',
    value: t, checked: filters.types.includes(t)}));
  const checks = (group) => h('div', {class: 'checks'}, group.map((t) => {
    const i = TYPES.indexOf(t);
    return h('span', {class: 'check'}, boxes[i], h('label', {for: boxes[i].id}, t));
  }));
  const fields = h('input', {type: 'text', id: 'feed-fields', name: 'fields', class: 'input',
    value: filters.fields, placeholder: 'price,status', autocomplete: 'off', spellcheck: 'false'});
  const since = h('input', {type: 'number', id: 'feed-since', name: 'since', class: 'input input-narrow', min: '0',
    step: '1', value: filters.since, placeholder: 'now', inputmode: 'numeric'});
  const form = h('form', {class: 'feed-form', method: 'get'},
    h('div', {class: 'field'}, h('label', {for: 'feed-stream'}, 'Stream'), stream),
    h('div', {class: 'field'}, h('label', {for: 'feed-fields'}, 'Updates touching fields'), fields),
    h('div', {class: 'field'}, h('label', {for: 'feed-since'}, 'Start after seq'), since),
    h('div', {class: 'field field-button'}, h('button', {type: 'submit', class: 'btn btn-primary'}, 'Follow')),
    h('fieldset', {class: 'field'}, h('legend', null, 'Event types (none ticked: all)'),
      checks(LISTING_TYPES), checks(CATALOG_TYPES)));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const [kind, id] = stream.value.split(':');
    location.hash = routeQuery(['feed'], {
      source_id: kind === 'source' ? id : undefined, target_id: kind === 'target' ? id : undefined,
      types: boxes.filter((b) => b.checked).map((b) => b.value).join(','),
      fields: fields.value.replace(/\s+/g, ''), since: since.value});
  });
  return form;
}

// names: Map 'source:1' → name
function eventRow(ev, names) {
  const stream = ev.stream ? h('a', {href: route(ev.stream.kind === 'source' ? 'sources' : 'targets', ev.stream.id)},
    names.get(ev.stream.kind + ':' + ev.stream.id) || `${ev.stream.kind} ${ev.stream.id}`) :
    h('span', {class: 'muted'}, 'tenant');
  const id = ev.external_id !== null && ev.external_id !== undefined && ev.stream ?
    h('a', {href: routeQuery([ev.stream.kind === 'source' ? 'sources' : 'targets', ev.stream.id,
      'properties', ev.external_id])}, ev.external_id) : h('span', {class: 'muted'}, '—');
  const what = ev.changed_fields && ev.changed_fields.length ?
    h('span', {class: 'chips'}, ev.changed_fields.map((f) => h('mark', {class: 'chip'}, f))) :
    ev.type === 'unknown' ? h('span', {class: 'muted'}, 'an event of a newer server version, not readable here') :
      h('code', {class: 'preview'}, preview(ev.data, 90));
  const tr = h('tr', {'data-seq': ev.seq, class: 'fresh'});
  for (const cell of [num(ev.seq), time(ev.time), badge(ev.type, TYPE_KIND[ev.type] || 'neutral'), stream, id,
    ev.version ? num(ev.version) : '—', what]) {
    tr.appendChild(h('td', null, cell));
  }
  return tr;
}

export async function render({main, query, signal}) {
  setTitle('Live feed');
  const filters = filtersFrom(query);
  const [sources, targets, imports, syncs] = await Promise.all([
    api('/sources', {signal}), api('/targets', {signal}),
    api('/imports', {query: {limit: 1}, signal}), api('/sync_logs', {query: {limit: 1}, signal})]);

  const names = new Map([...sources.map((s) => ['source:' + s.id, s.name]),
    ...targets.map((t) => ['target:' + t.id, t.name])]);
  const status = h('p', {class: 'feed-status', role: 'status', 'data-state': 'connecting'}, 'Connecting…');
  const tbody = h('tbody');
  const countText = h('span', {class: 'muted small'});
  const pauseBtn = h('button', {type: 'button', class: 'btn', id: 'feed-pause'}, 'Pause');
  const clearBtn = h('button', {type: 'button', class: 'btn btn-quiet'}, 'Clear');
  const tableEl = h('div', {class: 'table-wrap'}, h('table', {class: 'table feed'},
    h('caption', {class: 'sr-only'}, 'Events, newest first'),
    h('thead', null, h('tr', null, ['Seq', 'Time', 'Type', 'Stream', 'Listing', 'Version', 'Changed / data']
      .map((c) => h('th', {scope: 'col'}, c)))), tbody));
  const emptyNote = empty('No events yet. They appear here as they happen.');

  replace(main,
    h('div', {class: 'page-head'}, h('h1', {tabindex: '-1'}, 'Live feed'),
      h('p', {class: 'muted'}, 'Events as they are committed: imports, syncs, hand edits, new sources, targets and keys. ' +
        'The page reads the feed with a read-only feed token, never with your key.')),
    section('Filters', filterForm(filters, sources, targets)),
    section('Events', h('div', {class: 'feed-bar'}, status, countText, pauseBtn, clearBtn), emptyNote, tableEl));

  // "Now": after the latest import or sync; the few events since (hand
  // edits) are shown as recent history, then the stream is live.
  const nowSeq = Math.max(0, ...imports.map((i) => i.seq), ...syncs.map((s) => s.seq));
  let lastSeq = filters.since !== '' ? Number(filters.since) : nowSeq;
  let es = null;
  let stopped = false;
  let paused = false;
  let restarts = 0;
  let shown = 0;

  const setStatus = (state, text) => {
    status.setAttribute('data-state', state);
    replace(status, text);
  };
  const onEvent = (msg) => {
    let ev;
    try {
      ev = JSON.parse(msg.data);
    } catch (e) {
      return;
    }
    restarts = 0;
    if (typeof ev.seq === 'number') lastSeq = Math.max(lastSeq, ev.seq);
    // A source or target created while the page is open: later rows name it.
    if ((ev.type === 'source.created' || ev.type === 'target.created') && ev.stream && ev.data &&
        typeof ev.data.name === 'string') {
      names.set(ev.stream.kind + ':' + ev.stream.id, ev.data.name);
    }
    emptyNote.hidden = true;
    tbody.insertBefore(eventRow(ev, names), tbody.firstChild);
    while (tbody.childNodes.length > MAX_ROWS) tbody.removeChild(tbody.lastChild);
    shown++;
    showCount();
  };
  const showCount = () => replace(countText, `${num(shown)} event(s) received` +
    (shown > MAX_ROWS ? `, the latest ${MAX_ROWS} shown` : '') + ` \u00b7 read up to seq ${num(lastSeq)}`);
  const onPosition = (msg, live) => {
    try {
      const p = JSON.parse(msg.data);
      if (typeof p.last_seq === 'number') lastSeq = Math.max(lastSeq, p.last_seq);
    } catch (e) {
      // a position we cannot read changes nothing
    }
    if (live) setStatus('live', 'Live');
    showCount();
  };

  const connect = async () => {
    if (stopped || paused) return;
    setStatus('connecting', 'Connecting…');
    let feedQuery;
    let step = 'Could not get a feed token.';
    try {
      const token = await api('/feed_tokens', {method: 'POST', signal, body: {
        source_id: filters.source_id ? Number(filters.source_id) : undefined,
        target_id: filters.target_id ? Number(filters.target_id) : undefined, ttl_s: TOKEN_TTL_S}});
      if (stopped || paused) return;
      feedQuery = {token: token.token, since: lastSeq, types: filters.types.join(','),
        fields: filters.fields, source_id: filters.source_id, target_id: filters.target_id};
      // One small JSON read first: EventSource hides why a server refused it
      // (a start past the end of the log, an unknown field list), this does not.
      step = 'The feed refused these filters.';
      await api('/feed', {query: {...feedQuery, limit: 1}, key: '', signal});
    } catch (e) {
      if (e.name !== 'AbortError') {
        setStatus('error', step);
        status.appendChild(errorBox(e));
      }
      return;
    }
    if (stopped || paused) return;
    const url = buildPath('/feed', feedQuery);
    es = new EventSource(url);
    setStatus('catching-up', `Reading events after seq ${num(lastSeq)}…`);
    for (const t of TYPES) es.addEventListener(t, onEvent);
    es.addEventListener('caught_up', (m) => onPosition(m, true));
    es.addEventListener('checkpoint', (m) => onPosition(m, status.getAttribute('data-state') === 'live'));
    es.addEventListener('error', () => {
      if (!es || es.readyState !== EventSource.CLOSED) {
        setStatus('reconnecting', 'Connection lost \u2014 reconnecting…');
        return;
      }
      // Closed for good (token expired, or refused): a new token, resuming
      // after the last seq shown.
      es = null;
      if (stopped || paused) return;
      if (++restarts > MAX_RESTARTS) {
        setStatus('error', 'The feed keeps failing; reload the page to try again.');
        return;
      }
      setStatus('reconnecting', 'The feed closed \u2014 starting again…');
      setTimeout(connect, Math.min(30000, 500 * restarts));
    });
  };

  pauseBtn.addEventListener('click', () => {
    paused = !paused;
    replace(pauseBtn, paused ? 'Resume' : 'Pause');
    if (paused) {
      if (es) es.close();
      es = null;
      setStatus('paused', `Paused after seq ${num(lastSeq)}.`);
    } else {
      connect();
    }
  });
  clearBtn.addEventListener('click', () => {
    tbody.replaceChildren();
    shown = 0;
    showCount();
    emptyNote.hidden = false;
  });

  connect();
  return () => {
    stopped = true;
    if (es) es.close();
    es = null;
  };
}

