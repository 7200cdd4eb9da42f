// Line charts (deletion/insertion curves, sanity-check similarity) with Vega-Lite: the spec is
// compiled to Vega, rendered headless to SVG, and rasterized to PNG by sharp.
import { loadSharp } from '../io/sharp.js';
import type { TopLevelSpec } from 'vega-lite';

export interface Series {
  name: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  /** dashed line (reference series such as a random ranking) */
  dashed?: boolean;
}

export interface Panel {
  title: string;
  xTitle: string;
  yTitle: string;
  series: Series[];
  yDomain?: [number, number];
  xDomain?: [number, number];
  /** x labels for ordinal steps (x values are indices into it) */
  xLabels?: string[];
}

/** Tableau 10 (Vega's default categorical palette), then CARTO Bold for more series. */
const PALETTE = ['#4c78a8', '#f58518', '#e45756', '#72b7b2', '#54a24b', '#eeca3b', '#b279a2', '#ff9da6', '#9d755d', '#bab0ac', '#222222', '#7f3c8d', '#11a579', '#a6761d', '#e73f74', '#80ba5a', '#e68310'];

/** A Vega-Lite spec: panels side by side, one line per series, each panel with its own legend. */
export function panelsSpec(panels: Panel[], title?: string, sharedLegend = false, subtitle?: string): TopLevelSpec {
  const names = [...new Set(panels.flatMap((p) => p.series.map((s) => s.name.replace(/ \(.*$/, ''))))];
  const colorOf = (name: string): string => PALETTE[names.indexOf(name.replace(/ \(.*$/, '')) % PALETTE.length]!;
  const hconcat = panels.map((p) => {
    const values = p.series.flatMap((s, si) => Array.from({ length: s.x.length }, (_, i) => ({ series: s.name, order: si, x: s.x[i]!, y: s.y[i]!, dashed: s.dashed ? 1 : 0 })));
    const seriesNames = p.series.map((s) => s.name);
    const x = p.xLabels
      ? { field: 'x', type: 'quantitative' as const, title: p.xTitle, scale: { domain: [0, p.xLabels.length - 1], nice: false }, axis: { values: p.xLabels.map((_, i) => i), labelExpr: `${JSON.stringify(p.xLabels)}[datum.value]`, labelAngle: p.xLabels.length > 8 ? -90 : -40, labelOverlap: false, labelLimit: 0, labelFontSize: p.xLabels.length > 8 ? 9 : 11 } }
      : { field: 'x', type: 'quantitative' as const, title: p.xTitle, ...(p.xDomain ? { scale: { domain: p.xDomain, nice: false } } : {}) };
    return {
      title: p.title,
      // one label per step: a long cascade (SqueezeNet's 27 steps) widens the panel so none is dropped
      width: Math.max(300, 12 * (p.xLabels?.length ?? 0)),
      height: 230,
      data: { values },
      mark: { type: 'line' as const, strokeWidth: 2, point: p.xLabels ? { size: 25 } : false },
      encoding: {
        x,
        y: { field: 'y', type: 'quantitative' as const, title: p.yTitle, ...(p.yDomain ? { scale: { domain: p.yDomain, nice: false } } : {}) },
        color: { field: 'series', type: 'nominal' as const, title: null, sort: seriesNames, scale: { domain: seriesNames, range: seriesNames.map(colorOf) }, legend: { orient: 'right' as const, labelLimit: 400, symbolStrokeWidth: 2.5, symbolType: 'stroke' } },
        strokeDash: { field: 'dashed', type: 'nominal' as const, scale: { domain: [0, 1], range: [[1, 0], [5, 3]] }, legend: null },
        order: { field: 'order' },
      },
    };
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...(title ? { title: { text: title, anchor: 'start' as const, fontSize: 15, ...(subtitle ? { subtitle, subtitleFontSize: 12 } : {}) } } : {}),
    hconcat,
    resolve: { scale: sharedLegend ? { color: 'shared', strokeDash: 'shared' } : { color: 'independent', strokeDash: 'independent' } },
    padding: 16,
    config: { font: 'DejaVu Sans', view: { stroke: '#ddd' }, axis: { labelFontSize: 11, titleFontSize: 12, gridColor: '#eee' }, legend: { labelFontSize: 11 }, title: { fontSize: 13 } },
    background: 'white',
  } as TopLevelSpec;
}

/** Renders a Vega-Lite spec to SVG text and PNG bytes (scale 2 for crisp text). */
export async function renderChart(spec: TopLevelSpec, scale = 2): Promise<{ svg: string; png: Uint8Array }> {
  // Vega is the largest library the CLI uses and only charts need it: load it on first use.
  const [{ parse, View }, { compile }] = await Promise.all([import('vega'), import('vega-lite')]);
  const vega = compile(spec).spec;
  const view = new View(parse(vega), { renderer: 'none' });
  const svg = await view.toSVG();
  const scaled = await view.toSVG(scale);
  view.finalize();
  const sharp = await loadSharp();
  const png = await sharp(Buffer.from(scaled)).png().toBuffer();
  return { svg, png: new Uint8Array(png.buffer, png.byteOffset, png.byteLength) };
}
