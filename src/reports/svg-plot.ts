import { percentile } from '../lib/percentile';
import { escapeXml } from './escape';
import type { Plot } from './types';

/** A vertical line on the plot: a fault, a crash, a rollback. `n` is its number in the timeline list. */
export interface Marker {
  xSec: number;
  n: number;
  kind: 'fault' | 'crash' | 'heal' | 'phase';
  label: string;
}

export interface PlotOptions {
  width?: number;
  height?: number;
  /** the x range to draw (seconds since the run started); default: the data's own */
  xDomain?: [number, number];
  markers?: Marker[];
  /** a shaded x range, e.g. the workload window */
  band?: { from: number; to: number; label: string };
  /** a sparkline: no axes, no legend, no markers' labels */
  compact?: boolean;
}

export const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];
const MARKER_COLOUR: Record<Marker['kind'], string> = { fault: '#d62728', crash: '#7b1fa2', heal: '#2e7d32', phase: '#757575' };

/** 1, 2, 5 × 10^k steps giving about `count` ticks between lo and hi. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

export function formatNumber(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e6) return `${Number((v / 1e6).toPrecision(3))}M`;
  if (a >= 1e4) return `${Number((v / 1e3).toPrecision(3))}k`;
  if (a >= 100 || Number.isInteger(v)) return String(Math.round(v));
  return String(Number(v.toPrecision(3)));
}

/**
 * One time-series plot as a self-contained SVG string (no fonts, scripts or external references). Points with a
 * non-finite value are dropped; a gap longer than 3× the typical spacing breaks the line instead of drawing a
 * straight segment across time with no samples (a crashed service has no series while it is down).
 */
export function svgPlot(plot: Plot, opts: PlotOptions = {}): string {
  const W = opts.width ?? (opts.compact ? 160 : 720);
  const H = opts.height ?? (opts.compact ? 36 : 220);
  const m = opts.compact ? { l: 2, r: 2, t: 2, b: 2 } : { l: 52, r: 12, t: 24, b: 36 };
  const series = plot.series.map((s) => ({ name: s.name, points: s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)) }));
  const all = series.flatMap((s) => s.points);
  const title = `${plot.title}${plot.unit ? ` (${plot.unit})` : ''}`;
  const head = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${escapeXml(title)}" class="plot">`;
  const titleEl = opts.compact ? `<title>${escapeXml(title)}</title>` : `<text x="${m.l}" y="15" class="pt">${escapeXml(title)}</text>`;
  if (!all.length) {
    return `${head}${titleEl}<rect x="${m.l}" y="${m.t}" width="${W - m.l - m.r}" height="${H - m.t - m.b}" class="pf"/><text x="${W / 2}" y="${H / 2}" text-anchor="middle" class="pe">no samples in this run</text></svg>`;
  }
  const [x0, x1] = opts.xDomain ?? [Math.min(...all.map((p) => p[0])), Math.max(...all.map((p) => p[0]))];
  const ys = all.map((p) => p[1]);
  let y0 = Math.min(0, ...ys);
  let y1 = Math.max(...ys);
  if (y1 === y0) y1 = y0 + 1;
  y1 += (y1 - y0) * 0.08;
  if (y0 < 0) y0 -= (y1 - y0) * 0.04;
  const xSpan = x1 > x0 ? x1 - x0 : 1;
  const px = (x: number) => m.l + ((x - x0) / xSpan) * (W - m.l - m.r);
  const py = (y: number) => H - m.b - ((y - y0) / (y1 - y0)) * (H - m.t - m.b);
  const f = (n: number) => n.toFixed(1);
  const parts: string[] = [head, titleEl, `<rect x="${m.l}" y="${m.t}" width="${W - m.l - m.r}" height="${H - m.t - m.b}" class="pf"/>`];

  if (opts.band && opts.band.to > opts.band.from) {
    const bx = px(Math.max(x0, opts.band.from));
    const bw = px(Math.min(x1, opts.band.to)) - bx;
    if (bw > 0) parts.push(`<rect x="${f(bx)}" y="${m.t}" width="${f(bw)}" height="${H - m.t - m.b}" class="pb"><title>${escapeXml(opts.band.label)}</title></rect>`);
  }
  if (!opts.compact) {
    for (const t of niceTicks(y0, y1, 4)) {
      parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${f(py(t))}" y2="${f(py(t))}" class="pg"/><text x="${m.l - 4}" y="${f(py(t) + 3)}" text-anchor="end" class="pa">${formatNumber(t)}</text>`);
    }
    for (const t of niceTicks(x0, x1, 8)) {
      parts.push(`<text x="${f(px(t))}" y="${H - m.b + 13}" text-anchor="middle" class="pa">${formatNumber(t)}s</text>`);
    }
  }
  for (const mk of opts.markers ?? []) {
    if (mk.xSec < x0 || mk.xSec > x1) continue;
    const x = f(px(mk.xSec));
    parts.push(`<g><title>${escapeXml(`${mk.n}. +${mk.xSec.toFixed(1)} s ${mk.label}`)}</title><line x1="${x}" x2="${x}" y1="${m.t}" y2="${H - m.b}" stroke="${MARKER_COLOUR[mk.kind]}" stroke-dasharray="3,2" stroke-width="1"/>${opts.compact ? '' : `<text x="${x}" y="${m.t + 9}" text-anchor="middle" class="pm" fill="${MARKER_COLOUR[mk.kind]}">${mk.n}</text>`}</g>`);
  }
  series.forEach((s, i) => {
    if (!s.points.length) return;
    const pts = [...s.points].sort((a, b) => a[0] - b[0]);
    const gaps = pts.slice(1).map((p, j) => p[0] - pts[j][0]);
    const typical = gaps.length ? percentile(gaps, 50) : Infinity; // the median sampling gap; none: never a break
    const d = pts.map((p, j) => `${j === 0 || p[0] - pts[j - 1][0] > 3 * typical ? 'M' : 'L'}${f(px(p[0]))},${f(py(p[1]))}`).join('');
    const colour = PALETTE[i % PALETTE.length];
    parts.push(`<path d="${d}" fill="none" stroke="${colour}" stroke-width="1.6"><title>${escapeXml(s.name)}</title></path>`);
    if (pts.length === 1) parts.push(`<circle cx="${f(px(pts[0][0]))}" cy="${f(py(pts[0][1]))}" r="2.5" fill="${colour}"/>`);
  });
  if (!opts.compact) {
    let lx = m.l + 4;
    const ly = H - 4;
    series.forEach((s, i) => {
      const label = s.name.length > 48 ? `${s.name.slice(0, 47)}…` : s.name;
      parts.push(`<rect x="${lx}" y="${ly - 7}" width="10" height="3" fill="${PALETTE[i % PALETTE.length]}"/><text x="${lx + 13}" y="${ly}" class="pl">${escapeXml(label)}</text>`);
      lx += 20 + label.length * 5.6;
    });
  }
  parts.push('</svg>');
  return parts.join('');
}
