// The Overview's activity chart, drawn as SVG by hand: one stacked bar of
// created / updated / removed per import and per sync run, oldest left.
// A bar's height is its total on a square-root scale, so the day's 1 % of
// changes stays visible next to a first import of a million listings; its
// segments split that height in proportion. A table of the same numbers
// follows the chart for screen readers and exact values.
import {h, svg, table} from './dom.js';
import {num} from './format.js';

const W = 1000, H = 240, LEFT = 56, RIGHT = 12, TOP = 12, BOTTOM = 36;
const PARTS = ['created', 'updated', 'removed'];

function niceTicks(max) {
  if (max <= 0) return [0];
  const raw = max / 3;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) || raw;
  const ticks = [];
  for (let v = 0; v <= max + 1e-9; v += step) ticks.push(v);
  return ticks;
}

function dateLabel(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' :
    (d.getMonth() + 1) + '/' + d.getDate() + ' ' + String(d.getHours()).padStart(2, '0') + ':' +
    String(d.getMinutes()).padStart(2, '0');
}

// runs: [{kind: 'import'|'sync', id, at (RFC 3339), created, updated, removed, label}]
export function activityChart(runs) {
  const data = [...runs].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  const max = Math.max(1, ...data.map((r) => PARTS.reduce((s, p) => s + (r[p] || 0), 0)));
  const scale = (v) => Math.sqrt(v) / Math.sqrt(max) * (H - TOP - BOTTOM);
  const plotW = W - LEFT - RIGHT;
  const slot = plotW / Math.max(data.length, 1);
  const barW = Math.max(2, Math.min(28, slot * 0.7));

  const chart = svg('svg', {viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img',
    'aria-label': `Created, updated and removed listings for the last ${data.length} imports and syncs`});
  for (const t of niceTicks(max)) {
    const y = H - BOTTOM - scale(t);
    chart.appendChild(svg('line', {x1: LEFT, x2: W - RIGHT, y1: y, y2: y, class: 'grid'}));
    chart.appendChild(svg('text', {x: LEFT - 6, y: y + 4, class: 'axis', 'text-anchor': 'end'}, num(t)));
  }
  data.forEach((r, i) => {
    const x = LEFT + i * slot + (slot - barW) / 2;
    // The bar's height is the total on the square-root scale; its segments
    // share that height in proportion to their counts.
    const total = PARTS.reduce((s, p) => s + (r[p] || 0), 0);
    const height = scale(total);
    let y = H - BOTTOM;
    const g = svg('g', {class: 'bar bar-' + r.kind});
    g.appendChild(svg('title', null,
      `${r.label}: ${num(r.created || 0)} created, ${num(r.updated || 0)} updated, ` +
      `${num(r.removed || 0)} removed`));
    for (const p of PARTS) {
      const v = r[p] || 0;
      if (v <= 0) continue;
      const h = Math.max(1, height * v / total);
      y -= h;
      g.appendChild(svg('rect', {x, y, width: barW, height: h, class: 'seg-' + p}));
    }
    // A thin mark under syncs tells them from imports at a glance.
    g.appendChild(svg('rect', {x, y: H - BOTTOM + 3, width: barW, height: 3, class: 'kind-' + r.kind}));
    chart.appendChild(g);
  });
  chart.appendChild(svg('line', {x1: LEFT, x2: W - RIGHT, y1: H - BOTTOM, y2: H - BOTTOM, class: 'baseline'}));
  if (data.length) {
    chart.appendChild(svg('text', {x: LEFT, y: H - 8, class: 'axis'}, dateLabel(data[0].at)));
    chart.appendChild(svg('text', {x: W - RIGHT, y: H - 8, class: 'axis', 'text-anchor': 'end'},
      dateLabel(data[data.length - 1].at)));
  }

  const legend = h('ul', {class: 'legend'},
    PARTS.map((p) => h('li', null, h('span', {class: 'swatch seg-' + p, 'aria-hidden': 'true'}), p)),
    h('li', null, h('span', {class: 'swatch kind-import', 'aria-hidden': 'true'}), 'import'),
    h('li', null, h('span', {class: 'swatch kind-sync', 'aria-hidden': 'true'}), 'sync'),
    h('li', {class: 'muted'}, 'square-root scale'));

  const details = h('details', {class: 'chart-table'}, h('summary', null, 'Show the numbers'),
    table([{label: 'Run'}, {label: 'Finished'}, {label: 'Created', cls: 'num'},
      {label: 'Updated', cls: 'num'}, {label: 'Removed', cls: 'num'}],
    [...data].reverse().map((r) => ({cells: [r.label, r.at, num(r.created || 0),
      num(r.updated || 0), num(r.removed || 0)]}))));
  return h('figure', {class: 'chart-figure'}, chart, legend, details);
}
