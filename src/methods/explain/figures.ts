// The figures of `convlens explain`: the image x method grid, the deletion/insertion chart, and
// the sanity-check chart and grid. Node-only (sharp).
import type { RawImage } from '../../io/image.js';
import type { UnitTarget } from '../../models/model.js';
import type { OutputKind } from '../../models/output-kind.js';
import { METHODS } from './index.js';
import type { Attribution, Explanation, MethodName } from './types.js';
import type { Curves } from '../metrics/deletion-insertion.js';
import { meanScore, type SanityResult } from '../metrics/sanity.js';
import { renderAttribution, type DisplayOptions, type DisplayStyle } from './display.js';
import { panelsSpec, renderChart } from '../../render/chart.js';
import { gridFigure, MAX_FIGURE_PIXELS, type GridRow, type Legend } from '../../render/grid.js';
import { overlay, renderHeatmap, resizeImage } from '../../render/heatmap.js';
import type { LayerAttribution } from './layer-attribution.js';
import { channelShare } from './channel-ranking.js';
import { describeRange } from '../../render/range.js';

export interface FigureItem {
  /** row label (usually the file name) */
  name: string;
  /** the input as the model sees it, 8-bit */
  display: RawImage;
}

const fmt = (v: number): string => {
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a >= 100 || a < 0.01) return v.toExponential(1).replace('e+', 'e');
  return v.toPrecision(2);
};

function rangeCaption(min: number, max: number, style: DisplayStyle): string {
  return style.range.mode === 'symmetric' ? `±${fmt(max)}` : `${fmt(min)} to ${fmt(max)}`;
}

export function methodTitle(m: MethodName): string {
  return METHODS[m].title;
}

/** Default tile size: inputs below 112 px are enlarged by a whole factor (x4 for 28 px), large ones shown at up to 224. */
export function defaultTileSize(display: RawImage): number {
  const side = Math.max(display.width, display.height);
  return side >= 112 ? Math.min(side, 224) : side * Math.ceil(112 / side);
}

function legendsFor(styles: DisplayStyle[]): Legend[] {
  const out: Legend[] = [];
  const seen = new Set<string>();
  for (const s of styles) {
    const key = `${s.colormap}|${s.range.mode === 'symmetric'}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (s.range.mode === 'symmetric') out.push({ colormap: s.colormap, label: 'signed maps', low: 'negative', middle: '0', high: 'positive' });
    else out.push({ colormap: s.colormap, label: s.view === 'overlay' ? 'overlays (CAMs)' : 'unsigned maps', low: 'low', high: 'high' });
  }
  return out;
}

/** Rows an explanation grid shows at most by default. */
export const GRID_MAX_ROWS = 16;
/** Method columns in one band of the explanation grid; more wrap into further bands. */
export const MAX_METHOD_COLUMNS = 8;

/** Rows = images, columns = input + one per method; every tile captioned with its drawn range. */
export async function explanationGrid(e: Explanation, items: readonly FigureItem[], o: DisplayOptions & { title?: string; maxRows?: number } = {}): Promise<Uint8Array> {
  const asked = o.size ?? defaultTileSize(items[0]!.display);
  const styles = new Map<Attribution, DisplayStyle>();
  // A figure of hundreds of rows is neither readable nor cheap (drawing 64 rows took longer than
  // explaining them with Grad-CAM); the maps of every image are in their own files.
  const maxRows = o.maxRows ?? GRID_MAX_ROWS;
  const shown = items.slice(0, maxRows);
  // Tiles are drawn at a size the whole figure fits in (gridFigure would shrink them anyway,
  // after drawing every map at the asked size: 10 rows of 7 at 2048 took 1.5 GB and 13 s).
  // More methods than MAX_METHOD_COLUMNS wrap into bands of equal width, each with its own
  // headers and the inputs again (all 26 methods in one row made a figure 6,000 px wide).
  const bandCount = Math.ceil(e.attributions.length / MAX_METHOD_COLUMNS);
  const perBand = Math.ceil(e.attributions.length / Math.max(1, bandCount));
  const bands = Array.from({ length: Math.max(1, bandCount) }, (_, k) => e.attributions.slice(k * perBand, (k + 1) * perBand));
  // Tiles are drawn at a size the whole figure fits in (gridFigure would shrink them anyway,
  // after drawing every map at the asked size: 10 rows of 7 at 2048 took 1.5 GB and 13 s).
  const fits = Math.floor(0.9 * Math.sqrt(MAX_FIGURE_PIXELS / (shown.length * bands.length * (perBand + 1))));
  const size = Math.min(asked, fits);
  const header = (a: Attribution): string => (a.layer ? `${methodTitle(a.method)}\n@${a.layer.label}` : methodTitle(a.method));
  const rows: GridRow[] = bands.flatMap((band, k) =>
    shown.map((item, i) => {
      // the input keeps its aspect, as the maps beside it do (a 192x256 input was drawn square)
      const { width: dw, height: dh } = item.display;
      const cells: RawImage[] = [resizeImage(item.display, dw >= dh ? size : Math.round((size * dw) / dh), dh >= dw ? size : Math.round((size * dh) / dw), 'nearest')];
      const captions: (string | undefined)[] = [undefined];
      for (const a of band) {
        const r = renderAttribution(a, i, item.display, { ...o, size });
        styles.set(a, r.style);
        cells.push(r.image);
        captions.push(rangeCaption(r.min, r.max, r.style));
      }
      return { lines: figureRowLines(e, i, item.name), cells, captions, ...(k > 0 && i === 0 ? { columns: ['Input', ...band.map(header)] } : {}) };
    }),
  );
  const used = [...styles.values()];
  const kind = (st: DisplayStyle): string => (st.range.mode === 'symmetric' ? 'signed maps' : st.view === 'overlay' ? 'overlays' : 'unsigned maps');
  const ranges = [...new Set(e.attributions.map((a) => `${kind(styles.get(a)!)} ${describeRange(styles.get(a)!.range)}`))];
  return gridFigure({
    title: o.title ?? `${e.model}: ${figureSubject(e)}`,
    columns: ['Input', ...bands[0]!.map(header)],
    rows,
    legends: legendsFor(used),
    notes: [
      `Each tile uses its own range (caption): ${ranges.join('; ')}.`,
      ...(items.length > shown.length ? [`The first ${shown.length} of ${items.length} images.`] : []),
      ...(size < asked ? [`Tiles drawn at ${size} of the ${asked} pixels asked, to keep the figure under ${MAX_FIGURE_PIXELS / 1e6} megapixels; the per-image PNGs have the full size.`] : []),
    ],
  });
}

/**
 * The lines beside an image's row: its name, then what it predicts and, when another, the target.
 * A regression predicts no class: its row names the largest output, with its value.
 */
export function figureRowLines(e: Pick<Explanation, 'images' | 'unit' | 'outputKind'>, i: number, name: string): string[] {
  const img = e.images[i]!;
  // a unit's channels and a regression's outputs have values, not probabilities
  const value = (p: { logit: number; probability?: number }): string => (e.unit || p.probability === undefined ? p.logit.toPrecision(3) : `${(p.probability * 100).toFixed(1)}%`);
  const lines = [name, `${e.unit ? 'most active' : e.outputKind === 'regression' ? 'largest' : 'pred'}: ${img.predicted.label} (${value(img.predicted)})`];
  if (img.target.index !== img.predicted.index) lines.push(`target: ${img.target.label} (${value(img.target)})`);
  return lines;
}

/**
 * What the faithfulness curves' y axis measures: a unit's value, a regression's value (it has no
 * probability), the target's logit, or its probability (a multi-label output's own sigmoid, else
 * the softmax's).
 */
export function faithfulnessAxisTitle(o: { score?: string; unit?: UnitTarget; outputKind?: OutputKind }): string {
  if (o.unit) return `target channel's ${o.unit.at ? 'value' : 'mean'}`;
  if (o.outputKind === 'regression') return "target output's value";
  if (o.score === 'logit') return 'target logit';
  return o.outputKind === 'multi-label' ? "target's own probability (sigmoid)" : 'target probability (softmax)';
}

/** Deletion and insertion curves, mean over images, one line per method (AUC in the legend). */
export async function faithfulnessChart(curves: Record<string, Curves>, o: { title?: string; score?: string; reference?: string; unit?: UnitTarget; outputKind?: OutputKind } = {}): Promise<{ svg: string; png: Uint8Array }> {
  const mean = (rows: number[][]): number[] => rows[0]!.map((_, k) => rows.reduce((a, r) => a + r[k]!, 0) / rows.length);
  const names = Object.keys(curves);
  const label = (name: string): string => (METHODS[name as MethodName] ? methodTitle(name as MethodName) : name);
  const yTitle = faithfulnessAxisTitle(o);
  const spec = panelsSpec(
    [
      {
        title: 'Deletion (lower AUC is better)',
        xTitle: 'fraction of pixels removed',
        yTitle,
        xDomain: [0, 1],
        series: names.map((n) => ({ name: `${label(n)} (AUC ${curves[n]!.meanDeletionAuc.toFixed(3)})`, x: curves[n]!.fractions, y: mean(curves[n]!.deletion), dashed: n === o.reference })),
      },
      {
        title: 'Insertion (higher AUC is better)',
        xTitle: 'fraction of pixels inserted',
        yTitle,
        xDomain: [0, 1],
        series: names.map((n) => ({ name: `${label(n)} (AUC ${curves[n]!.meanInsertionAuc.toFixed(3)})`, x: curves[n]!.fractions, y: mean(curves[n]!.insertion), dashed: n === o.reference })),
      },
    ],
    o.title,
  );
  return renderChart(spec);
}

/** Similarity to the trained model's maps as layers are randomized from the top. */
export async function sanityChart(r: SanityResult, o: { title?: string } = {}): Promise<{ svg: string; png: Uint8Array }> {
  // "/fires.7/expand3x3/Conv" reads as "fires.7/expand3x3": the steps' names, short enough to print each one
  const xLabels = ['none', ...r.layers.map((l) => l.replace(/^\//, '').replace(/\/(Conv|Gemm|MatMul|ConvTranspose)$/, ''))];
  const all = r.steps.flatMap((s) => r.methods.flatMap((m) => [...s.scores[m]!.spearman, ...s.scores[m]!.spearmanAbs, ...s.scores[m]!.ssim])).filter(Number.isFinite);
  const yDomain: [number, number] = [Math.min(-0.2, Math.floor(Math.min(...all) * 5) / 5), 1];
  const series = (pick: 'spearman' | 'spearmanAbs' | 'ssim'): { name: string; x: number[]; y: number[] }[] =>
    r.methods.map((m) => ({ name: methodTitle(m), x: xLabels.map((_, i) => i), y: [1, ...r.steps.map((s) => meanScore(s.scores[m]![pick]))] }));
  const spec = panelsSpec(
    [
      { title: 'Rank correlation (signed)', xTitle: 'randomized down to', yTitle: 'Spearman rho', series: series('spearman'), xLabels, yDomain },
      { title: 'Rank correlation (absolute value)', xTitle: 'randomized down to', yTitle: 'Spearman rho of |map|', series: series('spearmanAbs'), xLabels, yDomain },
      { title: 'SSIM', xTitle: 'randomized down to', yTitle: 'SSIM of |map|', series: series('ssim'), xLabels, yDomain },
    ],
    o.title ?? 'Model randomization (cascading, output layer first): similarity to the trained model\'s maps',
    true,
    r.steps.some((s) => r.methods.some((m) => s.scores[m]!.constant.some(Boolean)))
      ? 'Gaps: steps where the randomized model\'s map is constant (all zero: no gradient reaches the target, or the ReLU of a CAM clips every pixel), so no similarity is defined'
      : undefined,
  );
  return renderChart(spec);
}

/** One image: rows = methods, columns = trained model, then each randomization step. */
export async function sanityGrid(r: SanityResult, item: FigureItem, index = 0, o: DisplayOptions = {}): Promise<Uint8Array> {
  const size = o.size ?? defaultTileSize(item.display);
  const styles: DisplayStyle[] = [];
  const rows: GridRow[] = r.methods.map((m, mi) => {
    const a = r.original.attributions[mi]!;
    const cells: RawImage[] = [];
    const captions: string[] = [];
    const draw = (attr: Attribution): void => {
      const d = renderAttribution(attr, index, item.display, { ...o, size });
      styles.push(d.style);
      cells.push(d.image);
      captions.push(rangeCaption(d.min, d.max, d.style));
    };
    draw(a);
    for (const s of r.steps) draw({ ...a, map: s.maps[m]! });
    return { lines: [methodTitle(m)], cells, captions };
  });
  return gridFigure({
    title: `Sanity check on ${item.name}: maps as layers are randomized from the output down`,
    columns: ['trained', ...r.layers.map((l) => `randomized\nto ${l}`)],
    rows,
    legends: legendsFor(styles),
    notes: ['Maps that still look the same after randomization do not depend on what the model learned (Adebayo et al. 2018).'],
  });
}

/** What a figure explains: "predicted class, score = logit", or for a hidden unit "most active channel, mean value". */
function figureSubject(e: Explanation): string {
  const predicted = e.images.every((img) => img.target.index === img.predicted.index);
  if (e.unit) return `${predicted ? 'most active channel' : 'target channel'}, ${e.unit.at ? `value at ${e.unit.at.join(',')}` : 'mean over positions'}`;
  // a regression predicts no class: the default target is its largest output, scored by its value
  if (e.outputKind === 'regression') return `${predicted ? 'largest output' : 'target output'}, score = its value`;
  return `${predicted ? 'predicted class' : 'target class'}, score = ${e.score === 'logit' ? 'logit' : 'probability'}`;
}

// the share of a channel in its method's net total: one definition for the CLI's figure and the studio's answer
export { channelShare } from './channel-ranking.js';

/**
 * Rows = (image, method), columns = the input and the `top` channels by contribution: each
 * channel's attribution at the layer's resolution, upsampled over the image on one signed scale
 * per row (so tiles of a row compare); ablation, which scores a channel as a whole, shows where
 * the channel is active instead. Tiles are captioned with the channel's `explain --unit` label.
 */
export async function channelFigure(r: LayerAttribution, items: readonly FigureItem[], o: { top: number; title: string; rowLines: (image: number) => string[]; size?: number; notes?: string[] }): Promise<Uint8Array> {
  const [c, h, w] = r.shape;
  const per = h * w;
  const shown = items.slice(0, GRID_MAX_ROWS);
  const side = o.size ?? Math.min(160, defaultTileSize(shown[0]!.display));
  const top = Math.min(o.top, c);
  const rows: GridRow[] = [];
  for (const [i, item] of shown.entries()) {
    const W = item.display.width >= item.display.height ? side : Math.round((side * item.display.width) / item.display.height);
    const H = item.display.height >= item.display.width ? side : Math.round((side * item.display.height) / item.display.width);
    const base = resizeImage(item.display, W, H, 'bilinear');
    for (const m of r.results) {
      const ablation = m.method === 'ablation';
      const source = (ablation ? r.activations.data : m.attribution.data) as Float32Array;
      const channels = Array.from(m.ranked[i]!.subarray(0, top));
      const planes = channels.map((ch) => source.subarray((i * c + ch) * per, (i * c + ch + 1) * per));
      let peak = 0;
      for (const p of planes) for (const v of p) peak = Math.max(peak, Math.abs(v));
      peak ||= 1;
      const totals = m.channels.data as Float32Array;
      const cells = planes.map((p) => {
        const heat = renderHeatmap(p, w, h, { colormap: ablation ? 'turbo' : 'rdbu', range: ablation ? { mode: 'fixed', min: 0, max: peak } : { mode: 'fixed', min: -peak, max: peak }, width: W, height: H, interpolation: 'bilinear' });
        return overlay(base, heat.image, ablation ? 0.5 : 0.65);
      });
      const captions = channels.map((ch) => {
        const share = channelShare(totals, i, c, ch);
        return `${r.label}:${ch}  ${fmt(totals[i * c + ch]!)}${share === undefined ? '' : ` (${(share * 100).toFixed(0)}%)`}`;
      });
      rows.push({ lines: [...(m === r.results[0] ? o.rowLines(i) : [item.name]), `${m.method}${ablation ? ' (maps: activation)' : ''}`], cells: [base, ...cells], captions: [undefined, ...captions] });
    }
  }
  const legends: Legend[] = [];
  if (r.results.some((m) => m.method !== 'ablation')) legends.push({ colormap: 'rdbu', label: 'channel attribution (one scale per row)', low: 'negative', middle: '0', high: 'positive' });
  if (r.results.some((m) => m.method === 'ablation')) legends.push({ colormap: 'turbo', label: 'activation (ablation rows)', low: '0', high: 'row max' });
  return gridFigure({
    title: o.title,
    columns: ['Input', ...Array.from({ length: top }, (_, k) => `#${k + 1}`)],
    rows,
    legends,
    notes: [
      `Maps at the layer's ${w}x${h} resolution, upsampled over the input; captions: channel, its contribution to the score, and its share of the channels' net total.`,
      ...(items.length > shown.length ? [`The first ${shown.length} of ${items.length} images.`] : []),
      ...(o.notes ?? []),
    ],
  });
}
