// Transformation robustness (Lucid `transform`): each step the network sees the image padded,
// jittered, scaled and rotated by random amounts, so the result must work under all of them and
// high-frequency patterns that exploit one exact pixel grid die out.
//
// The transforms compose into one coordinate map per step (from the model input's pixels back
// to the image's), sampled with bilinear interpolation by a Gather of 4 taps and a weighted sum
// in the graph: one resampling instead of one per transform, and an exact gradient. The map is
// drawn here, in plain arrays, from a seeded generator; the graph takes it as two inputs.
import { ConvLensError } from '../../engine/errors.js';

export type Fill = 'constant' | 'reflect' | 'edge' | 'wrap';
const FILLS: readonly Fill[] = ['constant', 'reflect', 'edge', 'wrap'];
/** Largest padding, jitter or roll: the largest image featviz makes (--size 2048). */
const MAX_SHIFT_PX = 2048;
const MIN_SCALE = 0.1;
const MAX_SCALE = 10;

export type Transform =
  /** grow the canvas by `px` on every side, filled with `fill` (constant = grey 0.5) */
  | { kind: 'pad'; px: number; fill?: Fill }
  /** random crop `px` smaller (a random shift of 0..px pixels) */
  | { kind: 'jitter'; px: number }
  /** resize by one of `factors`, chosen at random */
  | { kind: 'scale'; factors: number[] }
  /** rotate about the centre by one of `degrees`, chosen at random */
  | { kind: 'rotate'; degrees: number[] }
  /** circular shift by -px..px in each direction (DeepDream's jitter: np.roll); the image wraps around */
  | { kind: 'roll'; px: number };

/** Taps and weights of one sampled warp: indices into the image flattened to H*W (+1 = the fill pixel). */
export interface Warp {
  indices: BigInt64Array;
  weights: Float32Array;
}

export const pad = (px: number, fill: Fill = 'constant'): Transform => ({ kind: 'pad', px, fill });
export const jitter = (px: number): Transform => ({ kind: 'jitter', px });
export const randomScale = (factors: number[]): Transform => ({ kind: 'scale', factors });
export const randomRotate = (degrees: number[]): Transform => ({ kind: 'rotate', degrees });
export const roll = (px: number): Transform => ({ kind: 'roll', px });

/**
 * Lucid's `standard_transforms` for 224-pixel images (pad 12, jitter 8, scale 0.9..1.1,
 * rotate -10..10 degrees with extra weight on 0, jitter 4), with pixel amounts scaled to `size`.
 */
export function standardTransforms(size: number): Transform[] {
  const k = size / 224;
  const px = (v: number): number => Math.max(1, Math.round(v * k));
  return [
    pad(px(12)),
    jitter(px(8)),
    randomScale(Array.from({ length: 11 }, (_, i) => 1 + (i - 5) / 50)),
    randomRotate([...Array.from({ length: 21 }, (_, i) => i - 10), 0, 0, 0, 0, 0]),
    jitter(px(4)),
  ];
}

/**
 * Parses `pad:12,jitter:8,scale:0.9:1.1,rotate:10,jitter:4`, `standard` or `none`.
 * scale:A:B means 11 factors from A to B; rotate:D means -D..D degrees in steps of 1.
 */
export function parseTransforms(spec: string, size: number): Transform[] {
  const s = spec.trim().toLowerCase();
  if (s === 'none' || s === '') return [];
  if (s === 'standard') return standardTransforms(size);
  return s.split(',').map((part) => {
    const [kind, ...args] = part.trim().split(':');
    const nums = args.map(Number);
    const bad = (): never => {
      throw new ConvLensError('INVALID_ARGUMENT', `Cannot read transform "${part}".`, 'Use pad:PX[:constant|reflect|edge|wrap], jitter:PX, roll:PX, scale:LO:HI, rotate:DEG, or "standard" / "none".');
    };
    if (nums.slice(0, kind === 'pad' ? 1 : nums.length).some((n) => !Number.isFinite(n))) bad();
    // Bounded before any work: rotate:1e9 made a list of 2e9 angles (the job ran out of memory).
    const within = (what: string, v: number | undefined, lo: number, hi: number): number => {
      if (v === undefined) return bad();
      if (!(v >= lo && v <= hi)) throw new ConvLensError('INVALID_ARGUMENT', `Transform "${part}": ${what} must be from ${lo} to ${hi}, got ${v}.`, 'E.g. pad:16, jitter:8, scale:0.9:1.1, rotate:10.');
      return v;
    };
    switch (kind) {
      case 'pad': {
        const fill = args[1] ?? 'constant';
        if (!FILLS.includes(fill as Fill)) throw new ConvLensError('INVALID_ARGUMENT', `Transform "${part}": unknown fill "${fill}".`, `Use one of: ${FILLS.join(', ')}.`);
        return pad(within('the padding', nums[0], 0, MAX_SHIFT_PX), fill as Fill);
      }
      case 'jitter':
        return jitter(within('the jitter', nums[0], 0, MAX_SHIFT_PX));
      case 'scale': {
        const lo = within('the lowest scale', nums[0], MIN_SCALE, MAX_SCALE);
        const hi = within('the highest scale', nums[1] ?? lo, MIN_SCALE, MAX_SCALE);
        return randomScale(Array.from({ length: 11 }, (_, i) => lo + ((hi - lo) * i) / 10));
      }
      case 'roll':
        return roll(within('the roll', nums[0], 0, MAX_SHIFT_PX));
      case 'rotate': {
        const d = Math.round(within('the angle', nums[0], 0, 180));
        return randomRotate(Array.from({ length: 2 * d + 1 }, (_, i) => i - d));
      }
      default:
        return bad();
    }
  });
}

/**
 * An affine map of pixel coordinates (y, x) -> (a y + b x + c, d y + e x + f): every transform
 * here is one, so the whole chain composes into a single map per step.
 */
type Affine = [number, number, number, number, number, number];
const IDENTITY: Affine = [1, 0, 0, 0, 1, 0];
/** p then q: q(p(y, x)). */
function then(p: Affine, q: Affine): Affine {
  const [a, b, c, d, e, f] = p;
  const [A, B, C, D, E, F] = q;
  return [A * a + B * d, A * b + B * e, A * c + B * f + C, D * a + E * d, D * b + E * e, D * c + E * f + F];
}

/**
 * Draws this step's transforms and returns the bilinear taps that produce the `outH` x `outW`
 * model input from an `h` x `w` image. Coordinates are pixel centres (0, 1, ...). The final
 * canvas is resampled to the output size, so models with a fixed input size work too.
 */
export function sampleWarp(transforms: readonly Transform[], h: number, w: number, outH: number, outW: number, rand: () => number): Warp {
  // Maps from each stage's output coordinates to its input's, in stage order.
  const maps: Affine[] = [];
  let H = h;
  let W = w;
  let fill: Fill = 'constant';
  for (const t of transforms) {
    switch (t.kind) {
      case 'pad': {
        const p = Math.round(t.px);
        if (t.fill) fill = t.fill;
        maps.push([1, 0, -p, 0, 1, -p]);
        H += 2 * p;
        W += 2 * p;
        break;
      }
      case 'jitter': {
        const d = Math.min(Math.round(t.px), H - 1, W - 1);
        const oy = Math.floor(rand() * (d + 1));
        const ox = Math.floor(rand() * (d + 1));
        maps.push([1, 0, oy, 0, 1, ox]);
        H -= d;
        W -= d;
        break;
      }
      case 'scale': {
        const f = t.factors[Math.floor(rand() * t.factors.length)] ?? 1;
        const nh = Math.max(1, Math.round(H * f));
        const nw = Math.max(1, Math.round(W * f));
        const sy = H / nh;
        const sx = W / nw;
        // y_in = (y + 0.5) sy - 0.5
        maps.push([sy, 0, 0.5 * sy - 0.5, 0, sx, 0.5 * sx - 0.5]);
        H = nh;
        W = nw;
        break;
      }
      case 'roll': {
        const d = Math.round(t.px);
        const oy = Math.floor(rand() * (2 * d + 1)) - d;
        const ox = Math.floor(rand() * (2 * d + 1)) - d;
        fill = 'wrap';
        maps.push([1, 0, -oy, 0, 1, -ox]);
        break;
      }
      case 'rotate': {
        const deg = t.degrees[Math.floor(rand() * t.degrees.length)] ?? 0;
        const a = (deg * Math.PI) / 180;
        const c = Math.cos(a);
        const s = Math.sin(a);
        const cy = (H - 1) / 2;
        const cx = (W - 1) / 2;
        // output pixel p shows input pixel R(-a) (p - centre) + centre
        maps.push([c, -s, cy - c * cy + s * cx, s, c, cx - s * cy - c * cx]);
        break;
      }
    }
  }
  // Output pixel -> canvas (final resize) -> ... -> image: apply the last stage's map first.
  let m: Affine = [H / outH, 0, 0.5 * (H / outH) - 0.5, 0, W / outW, 0.5 * (W / outW) - 0.5];
  for (let k = maps.length - 1; k >= 0; k--) m = then(m, maps[k]!);
  if (!maps.length && H === outH && W === outW) m = IDENTITY;
  const [a, b, c, d, e, f] = m;
  const n = outH * outW;
  const indices = new BigInt64Array(4 * n);
  // Written through a 32-bit view (indices are small and non-negative; little-endian low words):
  // creating 4n BigInts costs more than the rest of the step's host work.
  const low = new Int32Array(indices.buffer);
  const weights = new Float32Array(4 * n);
  const FILL = h * w;
  const resolve = (v: number, size: number): number => {
    if (v >= 0 && v < size) return v;
    switch (fill) {
      case 'edge':
        return Math.min(size - 1, Math.max(0, v));
      case 'wrap':
        return ((v % size) + size) % size;
      case 'reflect': {
        if (size === 1) return 0;
        const period = 2 * (size - 1);
        let r = ((v % period) + period) % period;
        if (r >= size) r = period - r;
        return r;
      }
      default:
        return -1;
    }
  };
  const tap = (k: number, p: number, yy: number, xx: number, wt: number): void => {
    const ry = resolve(yy, h);
    const rx = resolve(xx, w);
    low[2 * (k * n + p)] = ry < 0 || rx < 0 ? FILL : ry * w + rx;
    weights[k * n + p] = wt;
  };
  for (let oy = 0; oy < outH; oy++) {
    for (let ox = 0; ox < outW; ox++) {
      const y = a * oy + b * ox + c;
      const x = d * oy + e * ox + f;
      const y0 = Math.floor(y + 1e-9);
      const x0 = Math.floor(x + 1e-9);
      const ty = Math.max(0, y - y0);
      const tx = Math.max(0, x - x0);
      const p = oy * outW + ox;
      tap(0, p, y0, x0, (1 - ty) * (1 - tx));
      tap(1, p, y0, x0 + 1, (1 - ty) * tx);
      tap(2, p, y0 + 1, x0, ty * (1 - tx));
      tap(3, p, y0 + 1, x0 + 1, ty * tx);
    }
  }
  return { indices, weights };
}

/** The identity warp (no transform, same size), e.g. for the final evaluation. */
export function identityWarp(h: number, w: number, outH = h, outW = w): Warp {
  return sampleWarp([], h, w, outH, outW, () => 0);
}
