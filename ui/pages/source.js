// Source: its settings, an upload (JSON or NDJSON, incremental or full, with
// a progress bar and the mass-removal guard explained), its import log and
// its listings.
// API: GET /sources/{id}, GET /imports?source_id=&limit=, POST
// /sources/{id}/import?mode=[&allow_mass_removal=true] (XMLHttpRequest, for
// upload progress), and the property list of lib/properties.js.
import {h, replace, section, table, loading, empty, errorBox, facts, badge} from '../lib/dom.js';
import {api, upload} from '../lib/api.js';
import {num, time, duration} from '../lib/format.js';
import {propertySection} from '../lib/properties.js';
import {setTitle} from '../lib/nav.js';

const LOG_LIMIT = 20;

function contentTypeFor(file, format) {
  if (format === 'ndjson') return 'application/x-ndjson';
  if (format === 'json') return 'application/json';
  return /\.(ndjson|jsonl)$/i.test(file.name) ? 'application/x-ndjson' : 'application/json';
}

function importStats(stats) {
  return h('ul', {class: 'inline-stats', 'data-testid': 'import-stats'},
    ['received', 'created', 'updated', 'unchanged', 'removed'].map((k) =>
      h('li', {'data-field': k}, h('span', {class: 'muted'}, k + ' '), h('strong', null, num(stats[k])))));
}

function uploadForm(source, onImported) {
  const file = h('input', {type: 'file', id: 'upload-file', name: 'file', required: true,
    accept: '.json,.ndjson,.jsonl,application/json,application/x-ndjson'});
  const format = h('select', {id: 'upload-format', name: 'format', class: 'input'},
    h('option', {value: 'auto'}, 'By file name (.ndjson / .jsonl = NDJSON)'),
    h('option', {value: 'json'}, 'JSON (an array, or {"data": [...]})'),
    h('option', {value: 'ndjson'}, 'NDJSON (one listing per line)'));
  const modeUpsert = h('input', {type: 'radio', name: 'mode', id: 'mode-upsert', value: 'upsert', checked: true});
  const modeFull = h('input', {type: 'radio', name: 'mode', id: 'mode-full', value: 'full'});
  const progress = h('progress', {id: 'upload-progress', max: '100', value: '0', hidden: true,
    'aria-label': 'Upload progress'});
  const progressText = h('span', {class: 'muted small', 'aria-live': 'polite'});
  const result = h('div', {class: 'upload-result', 'aria-live': 'polite'});
  const submit = h('button', {type: 'submit', class: 'btn btn-primary'}, 'Upload');

  const send = (allowMassRemoval) => {
    const f = file.files[0];
    if (!f) return;
    const mode = modeFull.checked ? 'full' : 'upsert';
    submit.disabled = true;
    progress.hidden = false;
    progress.value = 0;
    replace(progressText, 'Uploading ' + f.name + '…');
    replace(result);
    const {promise} = upload(`/sources/${source.id}/import`,
      {mode, allow_mass_removal: allowMassRemoval ? 'true' : undefined}, f, contentTypeFor(f, format.value),
      (sent, total) => {
        progress.value = Math.round(sent / total * 100);
        replace(progressText, `${num(sent)} of ${num(total)} bytes sent` +
          (sent >= total ? ' \u2014 the server is applying the import…' : ''));
      });
    promise.then((answer) => {
      progress.value = 100;
      replace(progressText, 'Done.');
      replace(result, h('div', {class: 'state state-ok', role: 'status', 'data-testid': 'upload-ok'},
        h('strong', null, `Import #${answer.import_id} applied (${mode}).`), importStats(answer.stats)));
      onImported();
    }, (err) => {
      progress.hidden = true;
      replace(progressText);
      if (err.code === 'mass_removal') {
        const override = h('button', {type: 'button', class: 'btn btn-danger', 'data-testid': 'allow-mass-removal'},
          'Upload again and remove them');
        override.addEventListener('click', () => send(true));
        replace(result, h('div', {class: 'state state-warn', role: 'alert', 'data-testid': 'mass-removal'},
          h('strong', null, 'Nothing was imported: this full import would remove too many listings.'),
          h('p', null, h('span', {class: 'muted'}, 'The server says: '), err.message),
          h('p', null, 'A full import removes every listing that is missing from the file. When a ' +
            'scraper breaks, its file is short and a full import would delist most of the site, so ' +
            `the server refuses to remove more than ${Math.round(source.config.max_removal_ratio * 100)} % ` +
            'of the live listings at once. If the removals are real (the portal really dropped them), ' +
            'send the same file again and allow them.'),
          override));
        override.focus();
      } else {
        replace(result, errorBox(err, 'The import was refused, nothing was written'));
      }
    }).finally(() => {
      submit.disabled = false;
    });
  };

  const form = h('form', {class: 'upload-form', method: 'post'},
    h('div', {class: 'field'}, h('label', {for: 'upload-file'}, 'File'), file),
    h('div', {class: 'field'}, h('label', {for: 'upload-format'}, 'Format'), format),
    h('fieldset', {class: 'field'}, h('legend', null, 'Mode'),
      h('div', {class: 'radio'}, modeUpsert, h('label', {for: 'mode-upsert'}, 'Incremental'),
        h('span', {class: 'muted small'}, ' \u2014 adds and updates the listings in the file; others stay')),
      h('div', {class: 'radio'}, modeFull, h('label', {for: 'mode-full'}, 'Full'),
        h('span', {class: 'muted small'}, ' \u2014 the file is the whole portal: listings missing from it are removed'))),
    h('div', {class: 'actions'}, submit, progress, progressText),
    result);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    send(false);
  });
  return form;
}

async function importLog(id, signal) {
  const entries = await api('/imports', {query: {source_id: id, limit: LOG_LIMIT}, signal});
  if (entries.length === 0) return empty('No imports yet.');
  return table([{label: 'Import'}, {label: 'Finished'}, {label: 'Mode'}, {label: 'Status'},
    {label: 'Received', cls: 'num'}, {label: 'Created', cls: 'num'}, {label: 'Updated', cls: 'num'},
    {label: 'Unchanged', cls: 'num'}, {label: 'Removed', cls: 'num'}, {label: 'Took', cls: 'num'},
    {label: 'Seq', cls: 'num'}],
  entries.map((i) => ({attrs: {'data-id': i.id}, cells: ['#' + i.id, time(i.finished_at), i.mode,
    badge(i.status, i.status === 'success' ? 'ok' : 'error'), num(i.stats.received),
    num(i.stats.created), num(i.stats.updated), num(i.stats.unchanged), num(i.stats.removed),
    duration(i.started_at, i.finished_at), num(i.seq)]})), {caption: 'Import log'});
}

export async function render({main, params, query, signal}) {
  const id = params.id;
  const state = {q: query.get('q') || '', after: query.get('after') || '', as_of: query.get('as_of') || ''};
  const source = await api(`/sources/${encodeURIComponent(id)}`, {signal});
  setTitle(source.name, 'Source');
  const logBox = h('div', null, loading('the import log'));
  const propsBox = h('div', null, loading('listings'));
  const refreshLog = () => importLog(source.id, signal).then((n) => replace(logBox, n),
    (e) => e.name !== 'AbortError' && replace(logBox, errorBox(e)));
  const cfg = source.config || {};
  replace(main,
    h('nav', {class: 'crumbs', 'aria-label': 'Breadcrumb'}, h('a', {href: '#/'}, 'Overview'), ' \u203a Source'),
    h('div', {class: 'page-head'},
      h('h1', {tabindex: '-1'}, source.name, h('span', {class: 'muted id'}, ' source ' + source.id)),
      facts([['Live listings', num(source.live_count)], ['Type', source.type],
        ['Id field', cfg.id_field || 'external_id (or id)'],
        ['Ignored fields', cfg.ignore_fields && cfg.ignore_fields.length ? cfg.ignore_fields.join(', ') : 'none'],
        ['Mass-removal guard', Math.round((cfg.max_removal_ratio ?? 0.2) * 100) + ' % of live listings'],
        ['Created', time(source.created_at)],
        ['Feed', h('a', {href: '#/feed?source_id=' + source.id}, 'Follow this source live')]])),
    section('Upload listings', uploadForm(source, () => {
      refreshLog();
      propertySection('sources', source.id, state, signal).then((n) => replace(propsBox, n), () => {});
    })),
    section('Import log', logBox),
    section('Listings', propsBox));
  await Promise.all([
    refreshLog(),
    propertySection('sources', source.id, state, signal).then((n) => replace(propsBox, n),
      (e) => { if (e.name !== 'AbortError') replace(propsBox, errorBox(e)); }),
  ]);
}
