// Figures of the dataset lens: top patches with their guided-backprop maps, feature-space vs
// pixel-space neighbours, the embedding scatter (Vega-Lite) and the embedding image grid.
import type { TopLevelSpec } from 'vega-lite';
import type { RawImage } from '../../io/image.js';
import { colorAt, colormap } from '../../render/colormap.js';
import { renderChart } from '../../render/chart.js';
import { gridFigure, type GridRow } from '../../render/grid.js';
import { resizeImage, toRgb } from '../../render/heatmap.js';
import type { Embedding, GridSnap } from './embed.js';
import type { ChannelPatches } from './patches.js';
import type { Neighbour } from './store.js';

// A model with small activations (an untrained or rescaled one) would show "0.00" everywhere.
const fmt = (v: number): string => {
  const a = Math.abs(v);
  if (a !== 0 && a < 0.01) return v.toExponential(1);
  return a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : v.toFixed(2);
};

/** Tile side: small crops enlarged by a whole factor to at least `min` px. */
function scaleFor(side: number, min = 64): number {
  return Math.max(1, Math.ceil(min / side));
}

/** A signed map on the diverging colormap, symmetric around 0 (white); NaN (outside the image) light gray. */
export function signedMapImage(map: Float32Array, width: number, height: number, max: number): RawImage {
  const cm = colormap('rdbu');
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    const v = map[i]!;
    const [r, g, b] = Number.isNaN(v) ? [210, 216, 226] : colorAt(cm, max > 0 ? 0.5 + v / (2 * max) : 0.5);
    data[i * 3] = r;
    data[i * 3 + 1] = g;
    data[i * 3 + 2] = b;
  }
  return { width, height, channels: 3, data };
}

const className = (classes: string[], label: number): string => (label >= 0 ? (classes[label] ?? String(label)) : '?');

/** A patch's caption: the unit's activation, then the image's class when the dataset has classes. */
export function patchCaption(value: number, classes: string[], label: number): string {
  return label >= 0 ? `${fmt(value)} ${className(classes, label)}` : fmt(value);
}

/**
 * Rows = channels; per rank, the receptive-field crop and (when computed) its guided-backprop
 * map. Captions: activation and class.
 */
/** `layerLabel`: the layer as the model names it for people (Model.layerLabel); the stored value name otherwise. */
export async function patchesFigure(list: ChannelPatches[], o: { classes: string[]; title?: string; model?: string; layerLabel?: string }): Promise<Uint8Array> {
  const k = Math.max(1, ...list.map((c) => c.patches.length));
  const guided = list.some((c) => c.patches.some((p) => p.guided));
  const side = Math.max(1, ...list.map((c) => Math.max(c.field[0], c.field[1])));
  const s = scaleFor(side, 60);
  const columns: string[] = [];
  for (let r = 0; r < k; r++) {
    columns.push(`#${r + 1}`);
    if (guided) columns.push('guided BP');
  }
  const rows: GridRow[] = list.map((c) => {
    const cells: (RawImage | undefined)[] = [];
    const captions: (string | undefined)[] = [];
    for (let r = 0; r < k; r++) {
      const p = c.patches[r];
      if (!p) {
        cells.push(undefined, ...(guided ? [undefined] : []));
        captions.push(undefined, ...(guided ? [undefined] : []));
        continue;
      }
      cells.push(resizeImage(toRgb(p.crop), p.crop.width * s, p.crop.height * s, 'nearest'));
      captions.push(patchCaption(p.value, o.classes, p.label));
      if (guided) {
        cells.push(p.guided ? resizeImage(signedMapImage(p.guided, p.crop.width, p.crop.height, p.guidedScale ?? p.guidedMax ?? 0), p.crop.width * s, p.crop.height * s, 'nearest') : undefined);
        captions.push(p.guided ? `±${fmt(p.guidedScale ?? p.guidedMax ?? 0)}` : undefined);
      }
    }
    const top = c.patches[0];
    const silent = c.silent > 0 ? [top ? `off on ${c.silent} more` : `off on all ${c.silent}`] : [];
    return { lines: [`channel ${c.channel}`, ...(top ? [`max ${fmt(top.value)}`] : c.silent ? [] : ['no activations']), ...silent], cells, captions };
  });
  const silent = list.some((c) => c.silent > 0);
  const first = list[0];
  const crop = first?.patches[0]?.crop;
  // a field larger than the image is cropped to the image (cropBox): the title says both
  const larger = !!first && !first.global && !!crop && (first.field[0] > crop.height || first.field[1] > crop.width);
  const field = first ? (first.global ? 'whole image' : `${first.field[0]}x${first.field[1]} px receptive field${larger ? ' (larger than the image: the whole image is shown)' : ''}`) : '';
  return gridFigure({
    title: o.title ?? `${o.model ? `${o.model}: ` : ''}top ${k} images per channel of ${o.layerLabel ?? first?.layer ?? ''}, cropped to the unit's ${field}`,
    columns,
    rows,
    legends: guided ? [{ colormap: 'rdbu', label: 'guided backprop d(unit)/d(input), each map ±98th percentile of |value| (caption)', low: 'negative', middle: '0', high: 'positive' }] : [],
    notes: [
      'Each crop is the receptive field of the unit where the channel fired most on that image (checkerboard: outside the image; the whole image where the field is larger).',
      'Caption: the unit\'s activation and the image\'s class. Guided BP maps are scaled per crop, symmetric around 0 (range under each).',
      ...(silent ? ['"off on n more": among the images the store keeps for the channel, n where it never fired (activation 0); they get no patch.'] : []),
    ],
  });
}

export interface NeighbourRow {
  name: string;
  query: RawImage;
  queryLabel: number;
  layer: string;
  /** the layer as the model names it for people (Model.layerLabel) */
  layerLabel?: string;
  metric: string;
  pixelMetric: string;
  feature: (Neighbour & { image: RawImage })[];
  pixel: (Neighbour & { image: RawImage })[];
}

/** Two rows per query: nearest in feature space, nearest in pixel space. */
export async function neighboursFigure(rows: NeighbourRow[], o: { classes: string[]; title?: string; notes?: string[] }): Promise<Uint8Array> {
  const k = Math.max(1, ...rows.flatMap((r) => [r.feature.length, r.pixel.length]));
  const side = Math.max(1, ...rows.map((r) => Math.max(r.query.width, r.query.height)));
  const size = side * scaleFor(side, 64);
  const tile = (img: RawImage, frame?: [number, number, number]): RawImage => {
    const t = resizeImage(toRgb(img), size, size, side < 64 ? 'nearest' : 'bilinear');
    if (!frame) return t;
    // a coloured frame marks neighbours of another class
    const d = new Uint8Array(t.data);
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++) {
        if (x > 2 && y > 2 && x < size - 3 && y < size - 3) continue;
        d.set(frame, (y * size + x) * 3);
      }
    return { ...t, data: d };
  };
  const grid: GridRow[] = [];
  for (const r of rows) {
    for (const kind of ['feature', 'pixel'] as const) {
      const list = r[kind];
      const cells: (RawImage | undefined)[] = [kind === 'feature' ? tile(r.query) : undefined];
      // a query image from outside the store has no class: no caption, where "?" read like an error
      const captions: (string | undefined)[] = [kind === 'feature' && r.queryLabel >= 0 ? className(o.classes, r.queryLabel) : undefined];
      for (const n of list) {
        cells.push(tile(n.image, r.queryLabel >= 0 && n.label !== r.queryLabel ? [220, 50, 47] : undefined));
        // an unlabeled image (-1) has no class to show
        captions.push(`${n.label >= 0 ? `${className(o.classes, n.label)} ` : ''}${fmt(n.distance)}`);
      }
      grid.push({
        lines: kind === 'feature' ? [r.name, `feature space: ${r.layerLabel ?? r.layer}`, `${r.metric === 'cosine' ? 'cosine' : 'L2'} distance`] : ['', 'pixel space', `${r.pixelMetric === 'cosine' ? 'cosine' : 'L2'} distance`],
        cells,
        captions,
      });
    }
  }
  return gridFigure({
    title: o.title ?? 'Nearest neighbours: feature space vs pixel space',
    columns: ['query', ...Array.from({ length: k }, (_, i) => `${i + 1}`)],
    rows: grid,
    notes: [rows.some((r) => r.queryLabel >= 0) ? 'Captions: class and distance to the query. Red frame: a neighbour of another class than the query.' : rows.some((r) => [...r.feature, ...r.pixel].some((n) => n.label >= 0)) ? 'Captions: class and distance to the query.' : 'Captions: distance to the query.', ...(o.notes ?? [])],
  });
}

const FRAME_COLOUR_NAMES = ['blue', 'orange', 'red', 'teal', 'green', 'yellow', 'purple', 'pink', 'brown', 'gray'];

/**
 * What the embedding grid's frame colours mean. Unlabeled images (-1) are framed in the first
 * colour; the note said "? (undefined)" for them.
 */
export function frameNote(present: readonly number[], classes: readonly string[]): string {
  if (!present.some((l) => l >= 0)) return 'The images have no classes (their frames all have one colour).';
  return `Frame colour = class: ${present.map((l) => `${l >= 0 ? className([...classes], l) : 'unlabeled'} (${FRAME_COLOUR_NAMES[Math.max(0, l) % 10]})`).join(', ')}.`;
}
const TABLEAU10 = ['#4c78a8', '#f58518', '#e45756', '#72b7b2', '#54a24b', '#eeca3b', '#b279a2', '#ff9da6', '#9d755d', '#bab0ac'];

/** The class-coloured scatter plot of an embedding, as Vega-Lite spec, SVG and PNG. */
/**
 * An axis range around the values with 5% of their spread on each side: on the exact data range,
 * the points at the extremes were drawn half over the plot's border.
 */
export function paddedDomain(values: readonly number[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  if (lo > hi) return [-1, 1];
  // all on one value: a unit-sized window (or one relative to the value) around it
  const pad = hi > lo ? 0.05 * (hi - lo) : Math.max(1, Math.abs(lo)) * 0.05;
  return [lo - pad, hi + pad];
}

/** `spaceLabel`: the layer as the model names it for people (Model.layerLabel); the stored value name otherwise. */
export async function scatterFigure(e: Embedding, o: { classes: string[]; title?: string; subtitle?: string | string[]; spaceLabel?: string }): Promise<{ spec: TopLevelSpec; svg: string; png: Uint8Array }> {
  const names = o.classes;
  const values = Array.from(e.ids, (id, i) => ({ id, x: e.coords[2 * i]!, y: e.coords[2 * i + 1]!, class: className(names, e.labels[i]!) }));
  const present = [...new Set(Array.from(e.labels))].sort((a, b) => a - b).map((l) => className(names, l));
  const axis = e.method === 'pca' ? ['PC 1', 'PC 2'] : e.method === 'tsne' ? ['t-SNE 1', 't-SNE 2'] : ['UMAP 1', 'UMAP 2'];
  const explained = e.explained ? [` (${(e.explained[0] * 100).toFixed(1)}% of variance)`, ` (${(e.explained[1] * 100).toFixed(1)}%)`] : ['', ''];
  const methodName = e.method === 'pca' ? 'PCA' : e.method === 'tsne' ? 't-SNE' : 'UMAP';
  const domain = (a: 0 | 1): [number, number] => paddedDomain(values.map((v) => (a === 0 ? v.x : v.y)));
  // Vega's default tick labels write out every decimal (0.000000000016 for an untrained model's
  // PCA scores); ordinary ranges keep them. The tick at 0 lands a rounding error off it.
  const scoreAxis = (d: [number, number]): object => {
    if (e.method !== 'pca') return { labels: false, ticks: false };
    if (Math.max(Math.abs(d[0]), Math.abs(d[1])) >= 1e-3) return {};
    return { labelExpr: `abs(datum.value) < ${1e-6 * (d[1] - d[0])} ? '0' : format(datum.value, '.2~e')` };
  };
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: o.title ?? `${methodName} of ${o.spaceLabel ?? e.space} features (${e.ids.length} images)`, subtitle: o.subtitle ?? '', anchor: 'start', fontSize: 15 },
    width: 520,
    height: 520,
    data: { values },
    mark: { type: 'circle', size: e.ids.length > 3000 ? 9 : 16, opacity: 0.75 },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: axis[0] + explained[0], axis: scoreAxis(domain(0)), scale: { zero: false, nice: false, domain: domain(0) } },
      y: { field: 'y', type: 'quantitative', title: axis[1] + explained[1], axis: scoreAxis(domain(1)), scale: { zero: false, nice: false, domain: domain(1) } },
      // a folder without class subfolders has no classes: one colour and no legend of "?"
      color: { field: 'class', type: 'nominal', title: 'class', scale: { domain: present, range: present.map((_, i) => TABLEAU10[i % 10]!) }, legend: e.labels.some((l) => l >= 0) ? { symbolOpacity: 1, symbolSize: 80 } : null },
    },
    padding: 16,
    config: { font: 'DejaVu Sans', view: { stroke: '#ddd' }, axis: { labelFontSize: 11, titleFontSize: 12, gridColor: '#f0f0f0' }, legend: { labelFontSize: 12, titleFontSize: 12 } },
    background: 'white',
  } as unknown as TopLevelSpec;
  const { svg, png } = await renderChart(spec);
  return { spec, svg, png };
}

/** The embedding snapped to a grid, one image per cell, each framed in its class colour. */
export async function embeddingGridFigure(e: Embedding, snap: GridSnap, images: Map<number, RawImage>, o: { classes: string[]; title?: string; cell?: number; spaceLabel?: string }): Promise<Uint8Array> {
  const side = snap.side;
  const first = images.values().next().value as RawImage | undefined;
  const cell = o.cell ?? Math.max(first ? Math.max(first.width, first.height) : 28, 28);
  const pad = 1;
  const inner = cell;
  const W = side * (inner + 2 * pad);
  const data = new Uint8Array(W * W * 3).fill(255);
  const hex = (h: string): [number, number, number] => [parseInt(h.slice(1, 3), 16), parseInt(h.slice(3, 5), 16), parseInt(h.slice(5, 7), 16)];
  for (let c = 0; c < snap.cells.length; c++) {
    const pi = snap.cells[c]!;
    if (pi < 0) continue;
    const img = images.get(e.ids[pi]!);
    if (!img) continue;
    const t = resizeImage(toRgb(img), inner, inner, img.width <= inner ? 'nearest' : 'bilinear');
    const gx = (c % side) * (inner + 2 * pad);
    const gy = Math.floor(c / side) * (inner + 2 * pad);
    const col = hex(TABLEAU10[Math.max(0, e.labels[pi]!) % 10]!);
    for (let y = 0; y < inner + 2 * pad; y++)
      for (let x = 0; x < inner + 2 * pad; x++) {
        const o2 = ((gy + y) * W + gx + x) * 3;
        if (y < pad || x < pad || y >= inner + pad || x >= inner + pad) data.set(col, o2);
        else data.set(t.data.subarray(((y - pad) * inner + x - pad) * 3, ((y - pad) * inner + x - pad) * 3 + 3), o2);
      }
  }
  const present = [...new Set(Array.from(snap.cells).filter((i) => i >= 0).map((i) => e.labels[i]!))].sort((a, b) => a - b);
  const methodName = e.method === 'pca' ? 'PCA' : e.method === 'tsne' ? 't-SNE' : 'UMAP';
  return gridFigure({
    title: o.title ?? `${methodName} of ${o.spaceLabel ?? e.space} features snapped to a ${side}x${side} grid`,
    columns: [''],
    rows: [{ lines: [], cells: [{ width: W, height: W, channels: 3, data }] }],
    notes: [frameNote(present, o.classes)],
  });
}
