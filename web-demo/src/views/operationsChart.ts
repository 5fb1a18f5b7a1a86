/**
 * The console's small line charts: inline SVG, one polyline per series over
 * the stats window (the samples each `deliveryStats` push carries), with the
 * scale's top and the latest values in words beside it, so the chart needs no
 * library and says its numbers to a screen reader too.
 */
import { fill, h } from '../dom.js';

const SVG = 'http://www.w3.org/2000/svg';
const WIDTH = 300;
const HEIGHT = 80;

export interface Series {
  name: string;
  /** A CSS class (its stroke colour lives in style.css). */
  className: string;
}

export interface Chart {
  element: HTMLElement;
  /** Points oldest first; a null value is a gap (no attempts in that tick). */
  update(points: ReadonlyArray<ReadonlyArray<number | null>>, windowTicks: number): void;
}

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string>): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  return el;
}

/** 1, 2 or 5 times a power of ten, at or above `value`: a scale a reader can take in at a glance. */
function niceCeiling(value: number): number {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (value <= step * power) return step * power;
  return 10 * power;
}

export function createChart({ title, unit, series, testId }: { title: string; unit: string; series: Series[]; testId: string }): Chart {
  const plot = svg('svg', { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, preserveAspectRatio: 'none', class: 'chart-plot', 'aria-hidden': 'true' });
  const lines = series.map((s) => svg('polyline', { class: `chart-line ${s.className}`, fill: 'none', 'vector-effect': 'non-scaling-stroke', points: '' }));
  // The newest point of each series as a dot too: a lone point draws no line.
  const dots = series.map((s) => svg('circle', { class: `chart-dot ${s.className}`, r: '2.5', cx: '-10', cy: '-10' }));
  plot.append(svg('line', { x1: '0', y1: String(HEIGHT - 0.5), x2: String(WIDTH), y2: String(HEIGHT - 0.5), class: 'chart-axis' }), ...lines, ...dots);
  const top = h('span', { class: 'chart-top' });
  const legend = h('span', { class: 'chart-legend' });
  const element = h(
    'figure',
    { class: 'chart', 'data-testid': testId },
    h('figcaption', {}, h('strong', {}, title), ' ', legend),
    h('div', { class: 'chart-frame' }, top, plot),
  );
  return {
    element,
    update(points, windowTicks) {
      const max = niceCeiling(Math.max(0, ...points.flatMap((p) => p.filter((v): v is number => v !== null))));
      const step = WIDTH / Math.max(1, windowTicks - 1);
      // Right-aligned: the newest point at the right edge, however full the window is.
      const offset = WIDTH - (points.length - 1) * step;
      lines.forEach((line, i) => {
        const coords = points.flatMap((p, x) => {
          const v = p[i];
          return v === null || v === undefined ? [] : [`${(offset + x * step).toFixed(1)},${(HEIGHT - 1 - (v / max) * (HEIGHT - 4)).toFixed(1)}`];
        });
        line.setAttribute('points', coords.join(' '));
        const [cx, cy] = (points.at(-1)?.[i] === null || points.at(-1)?.[i] === undefined ? undefined : coords.at(-1))?.split(',') ?? ['-10', '-10'];
        dots[i]!.setAttribute('cx', cx!);
        dots[i]!.setAttribute('cy', cy!);
      });
      top.textContent = `${max} ${unit}`;
      const latest = points.at(-1);
      fill(
        legend,
        series.map((s, i) => h('span', { class: `chart-key ${s.className}` }, `${s.name} ${latest?.[i] ?? '–'}`)),
      );
      element.setAttribute('aria-label', `${title}: ${series.map((s, i) => `${s.name} ${latest?.[i] ?? 'none'} ${unit}`).join(', ')}`);
    },
  };
}
