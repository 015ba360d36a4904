// Property history: every version of one listing with its cause and its
// changed_fields highlighted, a field-level diff of any two versions, and an
// as-of picker showing the listing (and a link to the whole target) as it
// was at a past time.
// API: GET /{sources|targets}/{id}, GET /{kind}/{id}/properties/{external_id}/history,
// GET /{kind}/{id}/properties/{external_id}?as_of=.
import {h, replace, route, routeQuery, section, table, loading, errorBox, badge} from '../lib/dom.js';
import {api, ApiError, seg} from '../lib/api.js';
import {num, time, shortHash, localInputToRfc3339, rfc3339ToLocalInput} from '../lib/format.js';
import {diffTable, dataTable} from '../lib/diff.js';
import {replaceQuery, setTitle} from '../lib/nav.js';

function causeText(cause) {
  if (!cause) return '—';
  if (cause.kind === 'import') return badge('import #' + cause.id, 'info');
  if (cause.kind === 'sync') return badge('sync #' + cause.id, 'ok');
  if (cause.kind === 'manual') return badge('manual edit', 'warn');
  return badge(cause.kind, 'neutral');
}

function changedChips(v) {
  if (v.removed) return badge('removed', 'error');
  if (v.version === 1) return h('span', {class: 'muted'}, 'created');
  if (!v.changed_fields) return h('span', {class: 'muted'}, '—');
  if (v.changed_fields.length === 0) return h('span', {class: 'muted'}, 'none');
  return h('span', {class: 'chips'}, v.changed_fields.map((f) => h('mark', {class: 'chip'}, f)));
}

export async function render({main, params, query, signal}) {
  const {kind, id, external_id: eid} = params;
  const base = `/${kind}/${encodeURIComponent(id)}`;
  const [owner, versions] = await Promise.all([
    api(base, {signal}), api(`${base}/properties/${seg(eid)}/history`, {signal})]);
  setTitle(eid, 'History');
  const byVersion = new Map(versions.map((v) => [v.version, v]));
  const last = versions[versions.length - 1];
  const pick = (name, fallback) => {
    const n = Number(query.get(name));
    return byVersion.has(n) ? n : fallback;
  };
  let b = pick('b', last.version);
  let a = pick('a', Math.max(1, b - 1));
  let asOf = query.get('as_of') || '';

  const diffBox = h('div');
  const fullBox = h('div');
  const asOfBox = h('div', {'aria-live': 'polite'});

  const showDiff = () => {
    const va = byVersion.get(a), vb = byVersion.get(b);
    replace(diffBox, h('p', {class: 'muted small'}, `Version ${a} (${va.cause.kind}) \u2192 version ${b} (${vb.cause.kind}).`),
      diffTable(va.data, vb.data, {leftLabel: `Version ${a}`, rightLabel: `Version ${b}`}));
    replace(fullBox, h('h3', null, `Version ${b}`, ' ', causeText(vb.cause), ' ', h('span', {class: 'muted small'},
      'at ', time(vb.time))),
    vb.changed_fields && vb.changed_fields.length ? h('p', {class: 'muted small'},
      'Highlighted: the fields this version changed (changed_fields).') : null,
    dataTable(vb.data, new Set(vb.changed_fields || [])));
    replaceQuery({a, b, as_of: asOf});
  };

  const radio = (name, v, checked) => {
    const r = h('input', {type: 'radio', name, value: v.version, checked,
      'aria-label': (name === 'va' ? 'Compare from version ' : 'Compare to version ') + v.version});
    r.addEventListener('change', () => {
      if (name === 'va') a = v.version; else b = v.version;
      showDiff();
    });
    return r;
  };
  const versionsTable = table([{label: 'From'}, {label: 'To'}, {label: 'Version', cls: 'num'},
    {label: 'Time'}, {label: 'Cause'}, {label: 'Changed fields'}, {label: 'Seq', cls: 'num'}, {label: 'Hash'}],
  [...versions].reverse().map((v) => ({attrs: {'data-version': v.version, class: v.removed ? 'removed' : null},
    cells: [radio('va', v, v.version === a), radio('vb', v, v.version === b), num(v.version), time(v.time),
      causeText(v.cause), changedChips(v), num(v.seq), h('code', null, shortHash(v.hash))]})),
  {caption: 'Versions, newest first', cls: 'versions'});

  // As of: the listing then, and a link to the whole target (or source) then.
  const input = h('input', {type: 'datetime-local', step: '1', id: 'as-of', name: 'as_of', class: 'input',
    value: asOf ? rfc3339ToLocalInput(asOf) : ''});
  const asOfForm = h('form', {class: 'inline-form', method: 'get'},
    h('label', {for: 'as-of'}, 'Show it as it was at'), input,
    h('button', {type: 'submit', class: 'btn'}, 'Show'));
  const showAsOf = async () => {
    if (!asOf) {
      replace(asOfBox, h('p', {class: 'muted small'}, 'Pick a time (in your time zone) to see this listing ' +
        'and the whole ' + (kind === 'targets' ? 'target' : 'source') + ' as they were then.'));
      return;
    }
    replace(asOfBox, loading('the past version'));
    const whole = h('a', {href: routeQuery([kind, id], {as_of: asOf}), 'data-testid': 'as-of-whole'},
      `See the whole ${kind === 'targets' ? 'target' : 'source'} as it was then`);
    try {
      const p = await api(`${base}/properties/${seg(eid)}`, {query: {as_of: asOf}, signal});
      replace(asOfBox, h('p', {'data-testid': 'as-of-result'}, 'At ', time(asOf), ': version ',
        h('strong', null, String(p.version)), ' (written ', time(p.updated_at), '). ', whole),
      dataTable(p.data));
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) {
        replace(asOfBox, h('p', {'data-testid': 'as-of-result'}, 'At ', time(asOf),
          ' this listing did not exist (not yet created, or removed). ', whole));
      } else if (e.name !== 'AbortError') {
        replace(asOfBox, errorBox(e));
      }
    }
  };
  asOfForm.addEventListener('submit', (e) => {
    e.preventDefault();
    asOf = localInputToRfc3339(input.value) || '';
    replaceQuery({a, b, as_of: asOf});
    showAsOf();
  });

  const ownerLabel = kind === 'targets' ? 'Target' : 'Source';
  replace(main,
    h('nav', {class: 'crumbs', 'aria-label': 'Breadcrumb'}, h('a', {href: '#/'}, 'Overview'), ' \u203a ',
      h('a', {href: route(kind, owner.id)}, owner.name), ' \u203a History'),
    h('div', {class: 'page-head'},
      h('h1', {tabindex: '-1'}, h('span', {class: 'muted'}, 'Listing '), h('code', null, eid)),
      h('p', {class: 'muted'}, `${ownerLabel} \u201c${owner.name}\u201d \u2014 ${num(versions.length)} version(s); ` +
        (last.removed ? 'removed in the latest.' : `latest is version ${last.version}.`))),
    section('Versions', h('p', {class: 'muted small'}, 'Pick two versions to compare (From, To).'), versionsTable),
    section('Difference', diffBox),
    section('Version data', fullBox),
    section('As of a point in time', asOfForm, asOfBox));
  showDiff();
  await showAsOf();
}

