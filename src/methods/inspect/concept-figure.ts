// The figure of a deep feature factorization: per image, the concepts together (each pixel in the
// colour of its strongest concept, as bright as that concept is there: pytorch-grad-cam's
// show_factorization_on_image) and each concept alone, with the head's classes as its header.
import type { RawImage } from '../../io/image.js';
import { gridFigure, type GridRow } from '../../render/grid.js';
import { resamplePlane, resizeImage, toRgb } from '../../render/heatmap.js';
import type { FeatureFactorization } from './concepts.js';
import { shownScore } from '../predict.js';

export interface ConceptFigureItem {
  /** row label (usually the file name) */
  name: string;
  /** the input as the model sees it, 8-bit */
  display: RawImage;
}

/** The most image rows one figure holds. */
export const CONCEPT_FIGURE_MAX_ROWS = 16;

/** Concept r of k: hues evenly around the colour wheel at full saturation, as pytorch-grad-cam's. */
export function conceptColour(r: number, k: number): [number, number, number] {
  const hue = (r / Math.max(1, k)) * 6;
  const x = 1 - Math.abs((hue % 2) - 1);
  const [red, green, blue] = hue < 1 ? [1, x, 0] : hue < 2 ? [x, 1, 0] : hue < 3 ? [0, 1, x] : hue < 4 ? [0, x, 1] : hue < 5 ? [x, 0, 1] : [1, 0, x];
  return [Math.round(red * 255), Math.round(green * 255), Math.round(blue * 255)];
}

/** A concept's top class as a column header: "2. tabby 41%". */
export function conceptTitle(f: FeatureFactorization, r: number): string {
  const top = f.concepts[r]!.classes?.[0];
  return top ? `${r + 1}. ${top.label} ${shownScore(top, 0)}` : `concept ${r + 1}`;
}

/**
 * Base image blended half and half with the concepts' colours: `strength(r, pixel)` in [0, 1]
 * scales concept r's colour (0 = black, so that pixel shows the image darkened by half).
 */
function blend(base: RawImage, layers: { colour: readonly number[]; strength: Float32Array }[]): RawImage {
  const rgb = toRgb(base);
  const data = new Uint8Array(rgb.data.length);
  for (let p = 0; p < rgb.width * rgb.height; p++) {
    for (let ch = 0; ch < 3; ch++) {
      let paint = 0;
      for (const l of layers) paint += l.colour[ch]! * l.strength[p]!;
      data[p * 3 + ch] = Math.round(0.5 * rgb.data[p * 3 + ch]! + 0.5 * Math.min(255, paint));
    }
  }
  return { width: rgb.width, height: rgb.height, channels: 3, data };
}

const peakOf = (plane: Float32Array): number => plane.reduce((a, b) => Math.max(a, b), 0);

export async function conceptFigure(f: FeatureFactorization, items: readonly ConceptFigureItem[], o: { title: string; size?: number; notes?: string[] } = { title: '' }): Promise<Uint8Array> {
  const [, h, w] = f.shape;
  const k = f.concepts.length;
  const per = h * w;
  const maps = f.maps.data as Float32Array;
  const shown = items.slice(0, CONCEPT_FIGURE_MAX_ROWS);
  const side = o.size ?? 160;
  const colours = f.concepts.map((_, r) => conceptColour(r, k));
  const rows: GridRow[] = shown.map((item, i) => {
    const W = item.display.width >= item.display.height ? side : Math.round((side * item.display.width) / item.display.height);
    const H = item.display.height >= item.display.width ? side : Math.round((side * item.display.height) / item.display.width);
    const base = resizeImage(item.display, W, H, 'bilinear');
    const planes = f.concepts.map((_, r) => resamplePlane(maps.subarray((i * k + r) * per, (i * k + r + 1) * per), w, h, W, H, 'bilinear'));
    // the combined tile keeps each pixel's strongest concept only, so colours do not mix
    const winners = planes.map(() => new Float32Array(W * H));
    const share = new Array<number>(k).fill(0);
    for (let p = 0; p < W * H; p++) {
      let best = 0;
      for (let r = 1; r < k; r++) if (planes[r]![p]! > planes[best]![p]!) best = r;
      winners[best]![p] = Math.max(0, planes[best]![p]!);
      share[best]!++;
    }
    const together = blend(base, winners.map((strength, r) => ({ colour: colours[r]!, strength })));
    const alone = planes.map((strength, r) => blend(base, [{ colour: colours[r]!, strength: strength.map((s) => Math.min(1, Math.max(0, s))) }]));
    return {
      lines: [item.name],
      cells: [base, together, ...alone],
      captions: [undefined, undefined, ...share.map((s, r) => `max ${peakOf(planes[r]!).toFixed(2)}, top on ${((100 * s) / (W * H)).toFixed(0)}%`)],
    };
  });
  const named = f.concepts.some((c) => c.classes);
  return gridFigure({
    title: o.title,
    columns: ['Input', 'Concepts', ...f.concepts.map((_, r) => conceptTitle(f, r))],
    rows,
    notes: [
      `${k} concepts of ${f.label} [${f.shape.join(', ')}] by non-negative matrix factorization over all ${items.length} image${items.length === 1 ? '' : 's'}; they leave ${(100 * f.relativeError).toFixed(0)}% of the activations unexplained (relative error).`,
      `Each concept in its colour, as bright as it is strong (1 = its strongest in any image); "Concepts": each pixel in the colour of its strongest concept.`,
      'Captions: the concept\'s maximum in the image, and the share of the image where it is the strongest concept.',
      ...(named ? ['Headers: the class the rest of the network gives the layer filled with the concept everywhere, and its probability.'] : []),
      ...(items.length > shown.length ? [`The first ${shown.length} of ${items.length} images.`] : []),
      ...(o.notes ?? []),
    ],
  });
}
