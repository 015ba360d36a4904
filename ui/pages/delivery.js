// Delivery: the push targets' state (cursor, pending events, last error),
// pause / resume, redeliver from a seq, a snapshot (file, ftp), and the dead
// letters with retry.
// API: GET /targets, GET /targets/{id}, GET /targets/{id}/delivery,
// POST /targets/{id}/delivery/pause | resume | redeliver?from_seq= | snapshot,
// GET /targets/{id}/dead_letters?limit=&after=, POST
// /targets/{id}/dead_letters/{dead_letter_id}/retry.
import {h, replace, route, routeQuery, section, table, loading, empty, errorBox, facts} from '../lib/dom.js';
import {api} from '../lib/api.js';
import {num, time, canonical} from '../lib/format.js';
import {setTitle} from '../lib/nav.js';
import {PUSH_TYPES, deliveryBadge} from './overview.js';

const REFRESH_MS = 5000;  // the state is read again this often while the page is open
const DEAD_PAGE = 50;

async function listPage({main, signal}) {
  setTitle('Delivery');
  const box = h('div', null, loading('push targets'));
  replace(main, h('div', {class: 'page-head'}, h('h1', {tabindex: '-1'}, 'Delivery'),
    h('p', {class: 'muted'}, 'Push targets send their changes to your website or database from the ' +
      'log, after each sync or edit. Here you see whether they keep up.')),
  section('Push targets', box));
  const targets = (await api('/targets', {signal})).filter((t) => PUSH_TYPES.has(t.type));
  if (targets.length === 0) {
    replace(box, empty('No push targets. A target of type webhook, postgres, file or ftp delivers its ' +
      'changes outside; internal targets are read over the API.'));
    return;
  }
  const states = await Promise.all(targets.map((t) => api(`/targets/${t.id}/delivery`, {signal}).then(
    (d) => d, (e) => ({error: e}))));
  replace(box, table([{label: 'Target'}, {label: 'Type'}, {label: 'State'}, {label: 'Delivered up to seq', cls: 'num'},
    {label: 'Pending events', cls: 'num'}, {label: 'Dead letters', cls: 'num'}, {label: 'Last error'},
    {label: 'Last attempt'}, {label: 'Next attempt'}],
  targets.map((t, i) => {
    const d = states[i];
    if (d.error) return {cells: [t.name, t.type, h('span', {class: 'text-error'}, d.error.message), '', '', '', '', '', '']};
    return {attrs: {'data-id': t.id}, cells: [h('a', {href: route('delivery', t.id)}, t.name), t.type,
      deliveryBadge(d.state), num(d.delivered_seq), num(d.pending_events), num(d.dead_letters),
      d.last_error ? h('span', {class: 'text-error'}, d.last_error) : h('span', {class: 'muted'}, 'none'),
      time(d.last_attempt_at), time(d.next_attempt_at)]};
  }), {caption: 'Push targets'}));
}

async function detailPage({main, params, query, signal}) {
  const id = encodeURIComponent(params.id);
  const after = query.get('after') || '';
  const target = await api(`/targets/${id}`, {signal});
  setTitle(target.name, 'Delivery');
  const stateBox = h('div', {'aria-live': 'polite'}, loading('the delivery state'));
  const actionsOut = h('div', {'aria-live': 'polite'});
  const deadBox = h('div', null, loading('dead letters'));
  const pauseBtn = h('button', {type: 'button', class: 'btn', id: 'delivery-toggle', disabled: true}, 'Pause');
  let state = null;

  const showState = (d) => {
    state = d;
    replace(stateBox, facts([['State', deliveryBadge(d.state)], ['Delivered up to seq', num(d.delivered_seq)],
      ['Pending events', num(d.pending_events)], ['Dead letters', num(d.dead_letters)],
      ['Last error', d.last_error ? h('span', {class: 'text-error'}, d.last_error) : 'none'],
      ['Last attempt', time(d.last_attempt_at)], ['Next attempt', time(d.next_attempt_at)]]));
    replace(pauseBtn, d.state === 'paused' ? 'Resume delivery' : 'Pause delivery');
    pauseBtn.disabled = false;
  };
  const refresh = () => api(`/targets/${id}/delivery`, {signal}).then(showState,
    (e) => { if (e.name !== 'AbortError') replace(stateBox, errorBox(e)); });
  const act = async (label, path, query) => {
    replace(actionsOut, loading(label));
    try {
      const r = await api(path, {method: 'POST', query, signal});
      replace(actionsOut, h('p', {class: 'state state-ok', role: 'status'}, label + ': done.' +
        (r && typeof r.seq === 'number' ? ` Snapshot at seq ${num(r.seq)}.` : '')));
      if (r && r.state) showState(r); else await refresh();
      return true;
    } catch (e) {
      if (e.name !== 'AbortError') replace(actionsOut, errorBox(e, label + ' failed'));
      return false;
    }
  };
  pauseBtn.addEventListener('click', () => {
    if (!state) return;
    act(state.state === 'paused' ? 'Resume' : 'Pause',
      `/targets/${id}/delivery/${state.state === 'paused' ? 'resume' : 'pause'}`);
  });

  const fromSeq = h('input', {type: 'number', id: 'redeliver-from', name: 'from_seq', class: 'input input-narrow',
    min: '0', step: '1', required: true, inputmode: 'numeric'});
  const redeliver = h('form', {class: 'inline-form', method: 'post'},
    h('label', {for: 'redeliver-from'}, 'Send again everything after seq'), fromSeq,
    h('button', {type: 'submit', class: 'btn'}, 'Redeliver'));
  redeliver.addEventListener('submit', (e) => {
    e.preventDefault();
    act('Redeliver', `/targets/${id}/delivery/redeliver`, {from_seq: fromSeq.value});
  });
  const snapshotBtn = ['file', 'ftp'].includes(target.type) ?
    h('button', {type: 'button', class: 'btn', on: {click: () => act('Snapshot', `/targets/${id}/delivery/snapshot`)}},
      'Write a snapshot file') : null;

  replace(main,
    h('nav', {class: 'crumbs', 'aria-label': 'Breadcrumb'}, h('a', {href: '#/delivery'}, 'Delivery'), ' \u203a ',
      h('a', {href: route('targets', target.id)}, target.name)),
    h('div', {class: 'page-head'},
      h('h1', {tabindex: '-1'}, target.name, h('span', {class: 'muted id'}, ` ${target.type} target ${target.id}`)),
      h('p', {class: 'muted small'}, 'Config: ', h('code', null, canonical(target.config)))),
    section('State', stateBox, h('p', {class: 'muted small'}, 'Read again every 5 seconds.')),
    section('Actions', h('div', {class: 'actions'}, pauseBtn, snapshotBtn), redeliver,
      h('p', {class: 'muted small'}, 'Redelivery rewinds the cursor: the receiver gets every event after that ' +
        'seq again (it keeps the highest seq per listing). It cannot skip ahead of the cursor.'), actionsOut),
    section('Dead letters', deadBox));

  const loadDead = async () => {
    const letters = await api(`/targets/${id}/dead_letters`, {query: {limit: DEAD_PAGE, after: after || undefined}, signal});
    if (letters.length === 0) {
      replace(deadBox, empty(after ? 'No more dead letters.' : 'No dead letters: every batch was accepted.'));
      return;
    }
    replace(deadBox, table([{label: 'Id', cls: 'num'}, {label: 'Seqs'}, {label: 'Attempts', cls: 'num'},
      {label: 'Last error'}, {label: 'Failed'}, {label: ''}],
    letters.map((l) => {
      const retry = h('button', {type: 'button', class: 'btn btn-small'}, 'Retry');
      retry.setAttribute('aria-label', `Retry dead letter ${l.id}`);
      retry.addEventListener('click', async () => {
        retry.disabled = true;
        if (await act(`Retry of dead letter ${l.id}`, `/targets/${id}/dead_letters/${l.id}/retry`)) {
          replace(retry, 'Queued');
        } else {
          retry.disabled = false;
        }
      });
      return {attrs: {'data-id': l.id}, cells: [num(l.id), `${num(l.first_seq)} \u2013 ${num(l.last_seq)}`,
        num(l.attempts), h('span', {class: 'text-error'}, l.last_error || ''), time(l.failed_at), retry]};
    }), {caption: 'Dead letters'}),
    h('nav', {class: 'pager', 'aria-label': 'Pages of dead letters'},
      after ? h('a', {class: 'btn', href: route('delivery', target.id)}, '\u2190 First') : null,
      letters.length === DEAD_PAGE ? h('a', {class: 'btn', href: routeQuery(['delivery', target.id],
        {after: letters[letters.length - 1].id})}, 'Next \u2192') : null));
  };
  await Promise.all([refresh(), loadDead().catch((e) => { if (e.name !== 'AbortError') replace(deadBox, errorBox(e)); })]);
  const timer = setInterval(refresh, REFRESH_MS);
  return () => clearInterval(timer);
}

export function render(ctx) {
  return ctx.params.id === undefined ? listPage(ctx) : detailPage(ctx);
}
