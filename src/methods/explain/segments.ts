// Feature masks for the perturbation methods that switch groups of pixels on and off (feature
// ablation, KernelSHAP, LIME): SLIC superpixels (Achanta et al. 2012) or a plain grid, computed on
// the 8-bit image as displayed, so a map's segments are the ones a user sees drawn.
import { ConvLensError, describeValue } from '../../engine/errors.js';
import type { Tensor } from '../../engine/tensor.js';
import type { RawImage } from '../../io/image.js';
import type { Preprocessing } from '../../models/metadata.js';

export type SegmentationKind = 'slic' | 'grid';
export const SEGMENTATION_KINDS: readonly SegmentationKind[] = ['slic', 'grid'];

/** One image's feature mask: every pixel's segment, segments numbered 0..count-1 in raster order of their first pixel. */
export interface Segmentation {
  labels: Int32Array;
  count: number;
  height: number;
  width: number;
}

export interface SegmentationOptions {
  kind?: SegmentationKind;
  /** the number of segments aimed at (SLIC places about this many seeds; the grid has about this many cells) */
  segments?: number;
  /** SLIC: weight of spatial distance against colour distance in Lab (larger: squarer segments) */
  compactness?: number;
}

/**
 * Defaults: skimage's SLIC compactness (10, Lab units); 50 segments rather than its 100, so that
 * the default 256 coalitions over-determine a KernelSHAP or LIME regression five times over.
 */
export const SEGMENTATION_DEFAULTS = { kind: 'slic', segments: 50, compactness: 10 } as const;

/**
 * The most segments a request may ask for: each segment is a forward pass of feature ablation and
 * a regression unknown of KernelSHAP and LIME (their normal equations cost segments^2 per sample).
 */
export const MAX_SEGMENTS = 512;

/** SLIC's assignment-and-update rounds (skimage's max_num_iter; Achanta et al. report 10 suffice). */
const SLIC_ITERATIONS = 10;
/** Connected pieces smaller than this fraction of the mean segment size join a neighbour (skimage's min_size_factor). */
const MIN_SIZE_FACTOR = 0.5;

/** The options resolved and checked (before any forward pass: a bad count must not cost a run). */
export function resolveSegmentation(o: SegmentationOptions, height: number, width: number): Required<SegmentationOptions> {
  const kind = o.kind ?? SEGMENTATION_DEFAULTS.kind;
  if (!SEGMENTATION_KINDS.includes(kind)) throw new ConvLensError('INVALID_ARGUMENT', `Unknown segmentation "${String(kind)}".`, `Use ${SEGMENTATION_KINDS.join(' or ')} (CLI: --segmentation).`);
  const most = Math.min(MAX_SEGMENTS, height * width);
  const segments = o.segments ?? Math.min(SEGMENTATION_DEFAULTS.segments, most);
  if (!(Number.isInteger(segments) && segments >= 1 && segments <= most)) {
    throw new ConvLensError('INVALID_ARGUMENT', `The number of segments must be an integer from 1 to ${most}, got ${describeValue(segments)}.`, `Ask for 1 to ${most} segments (at most ${MAX_SEGMENTS}, and no more than the image's ${height}x${width} pixels; CLI: --segments).`);
  }
  const compactness = o.compactness ?? SEGMENTATION_DEFAULTS.compactness;
  if (!(typeof compactness === 'number' && Number.isFinite(compactness) && compactness > 0 && compactness <= 1000)) {
    throw new ConvLensError('INVALID_ARGUMENT', `SLIC compactness must be a number above 0 and at most 1000, got ${describeValue(compactness)}.`, 'Use about 10 for photographs (skimage\'s default): larger gives squarer segments, smaller follows colour more closely (CLI: --compactness).');
  }
  return { kind, segments, compactness };
}

export function segmentImage(image: RawImage, o: SegmentationOptions = {}): Segmentation {
  const r = resolveSegmentation(o, image.height, image.width);
  return r.kind === 'grid' ? gridSegments(image.height, image.width, r.segments) : slic(image, r.segments, r.compactness);
}

/** About `segments` rectangular cells, as square as the image's aspect allows. */
export function gridSegments(height: number, width: number, segments: number): Segmentation {
  const rows = Math.max(1, Math.min(height, Math.round(Math.sqrt((segments * height) / width))));
  const cols = Math.max(1, Math.min(width, Math.round(segments / rows)));
  const labels = new Int32Array(height * width);
  for (let y = 0; y < height; y++) {
    const row = Math.floor((y * rows) / height);
    for (let x = 0; x < width; x++) labels[y * width + x] = row * cols + Math.floor((x * cols) / width);
  }
  return { labels, count: rows * cols, height, width };
}

/** sRGB 8-bit value -> linear light. */
const LINEAR = Float64Array.from({ length: 256 }, (_, v) => {
  const c = v / 255;
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
});

const labF = (t: number): number => (t > 216 / 24389 ? Math.cbrt(t) : (24389 / 27) * t / 116 + 16 / 116);

/** CIELAB (D65) of every pixel, planar [L, a, b]; a gray image has a = b = 0. */
export function toLab(image: RawImage): Float64Array[] {
  const n = image.width * image.height;
  const L = new Float64Array(n);
  const A = new Float64Array(n);
  const B = new Float64Array(n);
  const d = image.data;
  for (let i = 0; i < n; i++) {
    if (image.channels === 1) {
      L[i] = 116 * labF(LINEAR[d[i]!]!) - 16;
      continue;
    }
    const r = LINEAR[d[3 * i]!]!;
    const g = LINEAR[d[3 * i + 1]!]!;
    const b = LINEAR[d[3 * i + 2]!]!;
    const fx = labF((0.4124564 * r + 0.3575761 * g + 0.1804375 * b) / 0.95047);
    const fy = labF(0.2126729 * r + 0.7151522 * g + 0.072175 * b);
    const fz = labF((0.0193339 * r + 0.119192 * g + 0.9503041 * b) / 1.08883);
    L[i] = 116 * fy - 16;
    A[i] = 500 * (fx - fy);
    B[i] = 200 * (fy - fz);
  }
  return [L, A, B];
}

/**
 * SLIC superpixels: seeds on a regular grid (moved to the lowest colour gradient of their 3x3
 * neighbourhood so none starts on an edge), then k-means in (L, a, b, y, x) with each centre
 * searching only a 2S x 2S window, distance sqrt(dc^2 + (ds / S)^2 m^2); then connectivity
 * enforced. Deterministic: no random draws, ties go to the earlier centre.
 */
export function slic(image: RawImage, segments: number, compactness: number): Segmentation {
  const { height: h, width: w } = image;
  const n = h * w;
  const [L, A, B] = toLab(image) as [Float64Array, Float64Array, Float64Array];
  const step = Math.sqrt(n / segments);
  const rows = Math.max(1, Math.min(h, Math.round(h / step)));
  const cols = Math.max(1, Math.min(w, Math.round(w / step)));
  const k = rows * cols;
  const S = Math.sqrt(n / k);
  const spatial = (compactness / S) ** 2;

  const gradient = (y: number, x: number): number => {
    const at = (yy: number, xx: number): number => Math.min(h - 1, Math.max(0, yy)) * w + Math.min(w - 1, Math.max(0, xx));
    const d = (p: number, q: number): number => (L[p]! - L[q]!) ** 2 + (A[p]! - A[q]!) ** 2 + (B[p]! - B[q]!) ** 2;
    return d(at(y, x + 1), at(y, x - 1)) + d(at(y + 1, x), at(y - 1, x));
  };
  // centres: [L, a, b, y, x] each
  const centre = new Float64Array(5 * k);
  const labels = new Int32Array(n);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      // the cell's centre in pixel coordinates: on a flat image every cell keeps its own pixels
      let cy = ((r + 0.5) * h) / rows - 0.5;
      let cx = ((c + 0.5) * w) / cols - 0.5;
      const [y0, x0] = [Math.round(cy), Math.round(cx)];
      if (h >= 3 && w >= 3) {
        let best = gradient(y0, x0);
        for (let dy = -1; dy <= 1; dy++) {
          for (let dx = -1; dx <= 1; dx++) {
            const [yy, xx] = [y0 + dy, x0 + dx];
            if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
            const g = gradient(yy, xx);
            if (g < best) [best, cy, cx] = [g, yy, xx];
          }
        }
      }
      const j = r * cols + c;
      const p = Math.round(cy) * w + Math.round(cx);
      centre.set([L[p]!, A[p]!, B[p]!, cy, cx], 5 * j);
    }
  }
  // Every pixel starts in its grid cell, so one no window reaches keeps a label (as in Achanta's code).
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) labels[y * w + x] = Math.min(rows - 1, Math.floor((y * rows) / h)) * cols + Math.min(cols - 1, Math.floor((x * cols) / w));

  const distance = new Float64Array(n);
  const sums = new Float64Array(6 * k);
  const reach = Math.ceil(S);
  for (let iter = 0; iter < SLIC_ITERATIONS; iter++) {
    distance.fill(Infinity);
    for (let j = 0; j < k; j++) {
      const [cl, ca, cb, cy, cx] = [centre[5 * j]!, centre[5 * j + 1]!, centre[5 * j + 2]!, centre[5 * j + 3]!, centre[5 * j + 4]!];
      const y0 = Math.max(0, Math.floor(cy - reach));
      const y1 = Math.min(h - 1, Math.ceil(cy + reach));
      const x0 = Math.max(0, Math.floor(cx - reach));
      const x1 = Math.min(w - 1, Math.ceil(cx + reach));
      for (let y = y0; y <= y1; y++) {
        for (let x = x0; x <= x1; x++) {
          const p = y * w + x;
          const d = (L[p]! - cl) ** 2 + (A[p]! - ca) ** 2 + (B[p]! - cb) ** 2 + ((y - cy) ** 2 + (x - cx) ** 2) * spatial;
          if (d < distance[p]!) {
            distance[p] = d;
            labels[p] = j;
          }
        }
      }
    }
    sums.fill(0);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const p = y * w + x;
        const o = 6 * labels[p]!;
        sums[o]! += L[p]!;
        sums[o + 1]! += A[p]!;
        sums[o + 2]! += B[p]!;
        sums[o + 3]! += y;
        sums[o + 4]! += x;
        sums[o + 5]!++;
      }
    }
    for (let j = 0; j < k; j++) {
      const count = sums[6 * j + 5]!;
      if (count === 0) continue; // an empty centre stays where it was
      for (let f = 0; f < 5; f++) centre[5 * j + f] = sums[6 * j + f]! / count;
    }
  }
  return enforceConnectivity(labels, h, w, Math.max(1, Math.floor((MIN_SIZE_FACTOR * n) / k)));
}

/**
 * Relabels the 4-connected pieces of a labelling: each piece becomes a segment of its own, and a
 * piece smaller than `minSize` joins the segment of the pixel left of or above its first pixel in
 * raster order (already final, so a merged piece stays connected to it). Segments come out
 * numbered in raster order of their first pixel.
 */
export function enforceConnectivity(labels: Int32Array, h: number, w: number, minSize: number): Segmentation {
  const n = h * w;
  const out = new Int32Array(n).fill(-1);
  const stack = new Int32Array(n);
  const piece = new Int32Array(n);
  let count = 0;
  for (let start = 0; start < n; start++) {
    if (out[start] !== -1) continue;
    const label = labels[start]!;
    let size = 0;
    let top = 0;
    stack[top++] = start;
    out[start] = count;
    while (top > 0) {
      const p = stack[--top]!;
      piece[size++] = p;
      const y = Math.floor(p / w);
      const x = p - y * w;
      if (x > 0 && out[p - 1] === -1 && labels[p - 1] === label) (out[p - 1] = count), (stack[top++] = p - 1);
      if (x < w - 1 && out[p + 1] === -1 && labels[p + 1] === label) (out[p + 1] = count), (stack[top++] = p + 1);
      if (y > 0 && out[p - w] === -1 && labels[p - w] === label) (out[p - w] = count), (stack[top++] = p - w);
      if (y < h - 1 && out[p + w] === -1 && labels[p + w] === label) (out[p + w] = count), (stack[top++] = p + w);
    }
    const x0 = start % w;
    const neighbour = x0 > 0 ? out[start - 1]! : start >= w ? out[start - w]! : -1;
    if (size < minSize && neighbour >= 0) for (let i = 0; i < size; i++) out[piece[i]!] = neighbour;
    else count++;
  }
  return { labels: out, count, height: h, width: w };
}

/** Pixels per segment. */
export function segmentSizes(s: Segmentation): Int32Array {
  const sizes = new Int32Array(s.count);
  for (const l of s.labels) sizes[l]!++;
  return sizes;
}

/**
 * Segments a user gives (Captum's `feature_mask`) instead of computing them: a label map
 * [H, W], [1, H, W] or [1|N, 1, H, W] at the model's input size, whose distinct values are the
 * segments (any integers; they need not be consecutive or connected). Each image's segments are
 * renumbered in raster order of their first pixel, as computed ones are.
 */
export function maskSegmentations(mask: Tensor, n: number, height: number, width: number): Segmentation[] {
  // The library API takes anything here: a file name or null failed with a TypeError on `dims`.
  const tensorLike = typeof mask === 'object' && mask !== null && Array.isArray(mask.dims) && (ArrayBuffer.isView(mask.data) || Array.isArray(mask.data));
  if (!tensorLike) throw new ConvLensError('INVALID_ARGUMENT', `The feature mask must be a tensor { dtype, dims, data }, got ${typeof mask === 'string' ? 'a string' : describeValue(mask)}.`, 'Give a label map tensor at the model\'s input size; to read a mask image, decode it and pass it through maskFromImage (CLI: --segments-mask).');
  const dims = mask.dims;
  const way = `Give labels [${height}, ${width}] or [1 or ${n}, 1, ${height}, ${width}], the model's input size, resized nearest-neighbour so no new labels appear (the CLI's --segments-mask takes a PNG and resizes it).`;
  const shaped = (dims.length === 2 || (dims.length === 3 && dims[0] === 1) || (dims.length === 4 && dims[1] === 1 && (dims[0] === 1 || dims[0] === n))) && dims.at(-2) === height && dims.at(-1) === width;
  if (!shaped) throw new ConvLensError('INVALID_ARGUMENT', `The feature mask has shape [${dims.join(', ')}]; it must be a label map at the model's input size ${height}x${width}${n > 1 ? `, one for all ${n} images or one per image` : ''}.`, way);
  if (mask.dtype === 'float16' || mask.dtype === 'bool') throw new ConvLensError('INVALID_ARGUMENT', `The feature mask is ${mask.dtype}; its values are segment labels.`, 'Give integer labels (int32, int64, uint8, ...), or floats holding whole numbers.');
  const hw = height * width;
  const maps = dims.length === 4 ? dims[0]! : 1;
  if (mask.data.length !== maps * hw) throw new ConvLensError('INVALID_ARGUMENT', `The feature mask has shape [${dims.join(', ')}] but ${mask.data.length} values.`, way);
  const per = Array.from({ length: maps }, (_, i) => {
    const labels = new Int32Array(hw);
    const ids = new Map<number, number>();
    for (let p = 0; p < hw; p++) {
      const raw = mask.data[i * hw + p]!;
      const v = Number(raw);
      // int64 labels past 2^53 become the same number: two segments would merge without a word
      if (typeof raw === 'bigint' && !Number.isSafeInteger(v)) throw new ConvLensError('INVALID_ARGUMENT', `The feature mask holds ${raw} at image ${i + 1}, row ${Math.floor(p / width)}, column ${p % width}, beyond 2^53: labels that large cannot all be told apart.`, 'Number the segments from 0 (any small integers will do).');
      if (!Number.isInteger(v)) throw new ConvLensError('INVALID_ARGUMENT', `The feature mask holds ${describeValue(v)} at image ${i + 1}, row ${Math.floor(p / width)}, column ${p % width}; its values must be whole-number segment labels.`, 'Round the labels, or build the mask from integers.');
      let id = ids.get(v);
      if (id === undefined) {
        id = ids.size;
        if (id === MAX_SEGMENTS) throw tooManySegments(`The feature mask${maps > 1 ? ` of image ${i + 1}` : ''}`, 'labels');
        ids.set(v, id);
      }
      labels[p] = id;
    }
    return { labels, count: ids.size, height, width };
  });
  return Array.from({ length: n }, (_, i) => per[maps === 1 ? 0 : i]!);
}

function tooManySegments(what: string, unit: string): ConvLensError {
  return new ConvLensError('INVALID_ARGUMENT', `${what} has more than ${MAX_SEGMENTS} distinct ${unit}: at most ${MAX_SEGMENTS} segments are allowed (each is a forward pass of feature ablation and an unknown of KernelSHAP and LIME).`, 'Merge regions into at most 512 labels. A mask drawn with antialiased edges, or saved as JPEG, gets many in-between colours: draw it with flat colours and save it as PNG.');
}

/**
 * The most pixels a mask image may have (a 48-megapixel photo's), checked from its header before
 * it is decoded: decoding and labelling cost about 10 bytes a pixel. The CLI's --segments-mask and
 * the studio's mask uploads share it.
 */
export const MAX_MASK_PIXELS = 50_000_000;

/**
 * A label map [1, 1, H, W] from a mask image whose distinct colours (or grey levels) are the
 * segments, brought to the model's input with the same geometry as the images (stretched, or
 * scaled and centre-cropped) so that a mask drawn on an image labels the pixels the model sees of
 * it, but by nearest neighbour: resampling must not blend two labels into a third. `colours`
 * counts the image's colours, some of which may cover no input pixel once resized.
 */
export function maskFromImage(image: RawImage, prep: Preprocessing, source = 'The mask image'): { mask: Tensor; colours: number } {
  const { width: W0, height: H0, channels, data } = image;
  const ids = new Map<number, number>();
  const colour = new Int32Array(W0 * H0);
  for (let p = 0; p < W0 * H0; p++) {
    const key = channels === 1 ? data[p]! : (data[3 * p]! << 16) | (data[3 * p + 1]! << 8) | data[3 * p + 2]!;
    let id = ids.get(key);
    if (id === undefined) {
      id = ids.size;
      if (id === MAX_SEGMENTS) throw tooManySegments(source, 'colours');
      ids.set(key, id);
    }
    colour[p] = id;
  }
  const [h, w] = prep.size;
  // resizeForModel's geometry: the region of the (scaled) image the input shows
  let [H1, W1, top, left] = [h, w, 0, 0];
  if (prep.resize === 'crop') {
    const scale = Math.max(h / H0, w / W0) / (prep.crop ?? 224 / 256);
    W1 = Math.max(w, Math.round(W0 * scale));
    H1 = Math.max(h, Math.round(H0 * scale));
    top = Math.floor((H1 - h) / 2);
    left = Math.floor((W1 - w) / 2);
  }
  const labels = new Int32Array(h * w);
  for (let y = 0; y < h; y++) {
    const sy = Math.min(H0 - 1, Math.floor(((y + top + 0.5) * H0) / H1));
    for (let x = 0; x < w; x++) labels[y * w + x] = colour[sy * W0 + Math.min(W0 - 1, Math.floor(((x + left + 0.5) * W0) / W1))]!;
  }
  return { mask: { dtype: 'int32', dims: [1, 1, h, w], data: labels }, colours: ids.size };
}
