// Numbers, times and JSON values as text.
import {h} from './dom.js';

const NUMBER = new Intl.NumberFormat('en-US');

// A count, or an em dash when the server did not send it (older servers
// lack live_count / manual_count).
export function num(n) {
  return typeof n === 'number' && Number.isFinite(n) ? NUMBER.format(n) : '—';
}

function pad(n, w = 2) {
  return String(n).padStart(w, '0');
}

// "2026-03-03 10:04:05" in the browser's time zone; the exact UTC value is
// the element's title.
export function time(rfc3339) {
  if (!rfc3339) return h('span', {class: 'muted'}, '—');
  const d = new Date(rfc3339);
  if (Number.isNaN(d.getTime())) return h('span', null, String(rfc3339));
  const text = d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + ' ' +
      pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds());
  return h('time', {title: String(rfc3339) + ' (' + ago(d) + ')'}, text);
}

export function ago(d) {
  const s = Math.round((Date.now() - d.getTime()) / 1000);
  if (s < 0) return 'in the future';
  if (s < 60) return s + ' s ago';
  if (s < 3600) return Math.round(s / 60) + ' min ago';
  if (s < 86400) return Math.round(s / 3600) + ' h ago';
  return Math.round(s / 86400) + ' days ago';
}

export function duration(startedAt, finishedAt) {
  const ms = new Date(finishedAt) - new Date(startedAt);
  if (!Number.isFinite(ms)) return '—';
  if (ms < 1000) return ms + ' ms';
  return (ms / 1000).toFixed(1) + ' s';
}

// JSON text of a value with object keys sorted (the API's canonical order),
// so equal values read alike.
export function canonical(value) {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(v) {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    const out = {};
    for (const k of Object.keys(v).sort()) out[k] = sortKeys(v[k]);
    return out;
  }
  return v;
}

// A value for a table cell: strings as they are (in quotes only when empty),
// everything else as JSON.
export function valueText(v) {
  if (v === undefined) return '';
  if (typeof v === 'string') return v === '' ? '""' : v;
  return canonical(v);
}

// A one-line preview of a listing, cut to `max` characters.
export function preview(data, max = 120) {
  if (data === null || data === undefined) return '';
  const s = canonical(data);
  return s.length > max ? s.slice(0, max - 1) + '…' : s;
}

export function shortHash(hash) {
  return hash ? String(hash).slice(0, 10) : '—';
}

// datetime-local input value ("2026-03-03T10:04" or with seconds, local)
// → RFC 3339 UTC for as_of; null if empty or malformed.
export function localInputToRfc3339(value) {
  if (!value) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

// RFC 3339 → datetime-local value (local time, seconds).
export function rfc3339ToLocalInput(value) {
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return '';
  return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + 'T' +
      pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds());
}
