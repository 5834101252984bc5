// A small line chart in SVG for the task page: one series over time, its own y scale, the time
// axis spanning the samples kept (at most the last hour). No library: the page stays one binary.
import { svg, clear } from './ui.js';

// samples: [{t: ms, v: number|null}] oldest first. opts: {label, format(v), color, and optionally
// unit(max) -> {factor, suffix}: the y axis's one unit, chosen from the largest value shown (every
// label of the axis in that unit: "0 ms, 250 ms, 500 ms", never "0 s, 250 ms")}.
export function drawChart(container, samples, opts) {
  clear(container);
  const width = Math.max(240, Math.floor(container.clientWidth || 600));
  const height = 150;
  const pad = { l: 56, r: 12, t: 12, b: 26 };
  const now = samples.length ? samples[samples.length - 1].t : Date.now();
  const first = samples.length ? samples[0].t : now;
  const span = Math.min(3600e3, Math.max(60e3, now - first));
  const t0 = now - span;
  const vals = samples.filter((s) => s.v !== null && s.t >= t0);
  const rawMax = vals.reduce((m, s) => Math.max(m, s.v), 0);
  const unit = opts.unit ? opts.unit(rawMax) : { factor: 1, suffix: '' };
  const max = niceMax(rawMax * unit.factor) / unit.factor;
  const axisLabel = (v) => (v * unit.factor).toLocaleString('en-US', { maximumFractionDigits: 2 }) + unit.suffix;
  const x = (t) => pad.l + ((t - t0) / span) * (width - pad.l - pad.r);
  const y = (v) => pad.t + (1 - v / max) * (height - pad.t - pad.b);
  const root = svg('svg', { width, height, viewBox: `0 0 ${width} ${height}`, role: 'img',
                            'aria-label': opts.label + ': ' + (vals.length ? 'latest ' + opts.format(vals[vals.length - 1].v) + ', max ' + opts.format(max) : 'no samples yet') });
  // Grid lines and y labels at 0, max/2, max.
  for (const f of [0, 0.5, 1]) {
    const yy = y(max * f);
    root.append(svg('line', { x1: pad.l, x2: width - pad.r, y1: yy, y2: yy, class: 'grid-line' }));
    root.append(svg('text', { x: pad.l - 6, y: yy + 4, 'text-anchor': 'end', class: 'axis y-label' }, axisLabel(max * f)));
  }
  // Time labels: the span's start and now.
  const mins = Math.round(span / 60e3);
  root.append(svg('text', { x: pad.l, y: height - 6, class: 'axis' }, '−' + mins + ' min'));
  root.append(svg('text', { x: width - pad.r, y: height - 6, 'text-anchor': 'end', class: 'axis' }, 'now'));
  if (vals.length) {
    // Gaps (null samples: not running) split the line.
    let d = '', pen = false;
    for (const s of samples) {
      if (s.t < t0) continue;
      if (s.v === null) { pen = false; continue; }
      d += (pen ? 'L' : 'M') + x(s.t).toFixed(1) + ' ' + y(s.v).toFixed(1);
      pen = true;
    }
    const area = svg('path', { d, class: 'series', stroke: opts.color });
    root.append(area);
    const last = vals[vals.length - 1];
    root.append(svg('circle', { cx: x(last.t), cy: y(last.v), r: 3.5, fill: opts.color }));
  } else {
    root.append(svg('text', { x: width / 2, y: height / 2, 'text-anchor': 'middle', class: 'axis' }, 'no samples yet'));
  }
  container.append(root);
}

function niceMax(v) {
  if (!(v > 0)) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 2.5, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

// A ring buffer of samples per task, kept while the page is open (so leaving a task page and
// coming back keeps its last hour).
const buffers = new Map();
export function samplesOf(task) {
  if (!buffers.has(task)) buffers.set(task, []);
  return buffers.get(task);
}
export function pushSample(task, sample, maxAgeMs) {
  const b = samplesOf(task);
  b.push(sample);
  while (b.length && b[0].t < sample.t - maxAgeMs) b.shift();
  if (b.length > 4000) b.splice(0, b.length - 4000);
}
