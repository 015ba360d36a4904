// Field-level differences between two versions of a listing: the top-level
// keys, compared by canonical JSON (as the server's changed_fields are).
import {h} from './dom.js';
import {canonical, valueText} from './format.js';

// → [{field, left, right, change: 'same'|'changed'|'added'|'removed'}],
// sorted by field. `left` / `right` are the values (undefined if absent).
export function fieldDiff(left, right) {
  const a = left && typeof left === 'object' ? left : {};
  const b = right && typeof right === 'object' ? right : {};
  const fields = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return fields.map((field) => {
    const inA = Object.prototype.hasOwnProperty.call(a, field);
    const inB = Object.prototype.hasOwnProperty.call(b, field);
    let change = 'same';
    if (inA && !inB) change = 'removed';
    else if (!inA && inB) change = 'added';
    else if (canonical(a[field]) !== canonical(b[field])) change = 'changed';
    return {field, left: a[field], right: b[field], change};
  });
}

const LABEL = {same: '', changed: 'changed', added: 'added', removed: 'removed'};

// A diff table. opts: {leftLabel, rightLabel, showSame (default false),
// highlight: a Set of fields to mark (changed_fields)}.
export function diffTable(left, right, opts = {}) {
  const rows = fieldDiff(left, right);
  const changed = rows.filter((r) => r.change !== 'same');
  const shown = opts.showSame ? rows : changed;
  if (shown.length === 0) {
    return h('p', {class: 'state state-empty'}, 'No differences: every field is the same.');
  }
  const body = shown.map((r) => h('tr', {class: 'diff-' + r.change, 'data-field': r.field},
    h('th', {scope: 'row'}, h('code', null, r.field),
      LABEL[r.change] ? h('span', {class: 'diff-tag'}, LABEL[r.change]) : null),
    h('td', {class: 'diff-left'}, r.left === undefined ? h('span', {class: 'muted'}, '(absent)') :
      h('code', {class: 'value'}, valueText(r.left))),
    h('td', {class: 'diff-right'}, r.right === undefined ? h('span', {class: 'muted'}, '(absent)') :
      h('code', {class: 'value'}, valueText(r.right)))));
  return h('div', {class: 'table-wrap'},
    h('table', {class: 'table diff'},
      h('thead', null, h('tr', null,
        h('th', {scope: 'col'}, 'Field'),
        h('th', {scope: 'col'}, opts.leftLabel || 'Before'),
        h('th', {scope: 'col'}, opts.rightLabel || 'After'))),
      h('tbody', null, body)),
    h('p', {class: 'muted small'}, changed.length + ' of ' + rows.length + ' fields differ.'));
}

// A listing's fields as a table; fields in `highlight` are marked.
export function dataTable(data, highlight) {
  if (data === null || data === undefined) {
    return h('p', {class: 'state state-empty'}, 'Removed in this version (no data).');
  }
  const marks = highlight || new Set();
  const rows = Object.keys(data).sort().map((k) => h('tr', {class: marks.has(k) ? 'changed' : null, 'data-field': k},
    h('th', {scope: 'row'}, h('code', null, k), marks.has(k) ? h('span', {class: 'diff-tag'}, 'changed') : null),
    h('td', null, h('code', {class: 'value'}, valueText(data[k])))));
  return h('div', {class: 'table-wrap'}, h('table', {class: 'table data'},
    h('thead', null, h('tr', null, h('th', {scope: 'col'}, 'Field'), h('th', {scope: 'col'}, 'Value'))),
    h('tbody', null, rows)));
}
