// Range mapping: which attribution values become the two ends of the colormap. The same map
// looks very different under a different range, so it is always explicit and reported.
import { ConvLensError } from '../engine/errors.js';

export type RangeSpec =
  /** [min, max] of the map */
  | { mode: 'minmax' }
  /** clip at two percentiles of the values (default 1 and 99) */
  | { mode: 'percentile'; low?: number; high?: number }
  /** [-m, m] around zero, m = a percentile of |values| (default 100: the largest magnitude) */
  | { mode: 'symmetric'; percentile?: number }
  /** fixed values (to compare maps on one scale) */
  | { mode: 'fixed'; min: number; max: number };

export interface MappedRange {
  /** values in [0, 1], clipped */
  normalized: Float32Array;
  /** the values mapped to 0 and 1 */
  min: number;
  max: number;
}

/** Percentile with linear interpolation between order statistics (numpy's default). */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return 0;
  const pos = (Math.max(0, Math.min(100, p)) / 100) * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

function sortedCopy(values: ArrayLike<number>, abs = false): Float64Array {
  const out = new Float64Array(values.length);
  for (let i = 0; i < out.length; i++) out[i] = abs ? Math.abs(values[i]!) : values[i]!;
  return out.sort();
}

/** The [min, max] a spec maps a set of values to. */
export function rangeOf(values: ArrayLike<number>, spec: RangeSpec): { min: number; max: number } {
  switch (spec.mode) {
    case 'fixed':
      return { min: spec.min, max: spec.max };
    case 'minmax': {
      let min = Infinity;
      let max = -Infinity;
      for (let i = 0; i < values.length; i++) {
        const v = values[i]!;
        if (v < min) min = v;
        if (v > max) max = v;
      }
      return values.length ? { min, max } : { min: 0, max: 0 };
    }
    case 'percentile': {
      const s = sortedCopy(values);
      return { min: percentile(s, spec.low ?? 1), max: percentile(s, spec.high ?? 99) };
    }
    case 'symmetric': {
      const m = percentile(sortedCopy(values, true), spec.percentile ?? 100);
      return { min: -m, max: m };
    }
  }
}

/** Maps values onto [0, 1] per the spec; a flat map becomes 0 (or 0.5 around zero). */
export function mapRange(values: ArrayLike<number>, spec: RangeSpec): MappedRange {
  const { min, max } = rangeOf(values, spec);
  const normalized = new Float32Array(values.length);
  const span = max - min;
  if (!(span > 0)) {
    normalized.fill(spec.mode === 'symmetric' ? 0.5 : 0);
    return { normalized, min, max };
  }
  for (let i = 0; i < values.length; i++) {
    const t = (values[i]! - min) / span;
    normalized[i] = t < 0 ? 0 : t > 1 ? 1 : Number.isFinite(t) ? t : 0;
  }
  return { normalized, min, max };
}

/** Parses "minmax", "percentile[:LOW:HIGH]", "symmetric[:P]" or "fixed:MIN:MAX". */
export function parseRange(text: string): RangeSpec {
  const [mode, ...rest] = text.trim().toLowerCase().split(':');
  const nums = rest.map(Number);
  const bad = (): never => {
    throw new ConvLensError('INVALID_ARGUMENT', `Cannot read range "${text}".`, 'Use minmax, percentile[:LOW:HIGH] (e.g. percentile:1:99), symmetric[:P] (e.g. symmetric:99) or fixed:MIN:MAX.');
  };
  if (nums.some((v) => !Number.isFinite(v))) bad();
  switch (mode) {
    case 'minmax':
    case 'min-max':
      return rest.length ? bad() : { mode: 'minmax' };
    case 'percentile':
      if (rest.length !== 0 && rest.length !== 2) bad();
      if (rest.length === 2 && !(nums[0]! >= 0 && nums[0]! < nums[1]! && nums[1]! <= 100)) bad();
      return rest.length ? { mode: 'percentile', low: nums[0]!, high: nums[1]! } : { mode: 'percentile' };
    case 'symmetric':
      if (rest.length > 1 || (rest.length === 1 && !(nums[0]! > 0 && nums[0]! <= 100))) bad();
      return rest.length ? { mode: 'symmetric', percentile: nums[0]! } : { mode: 'symmetric' };
    case 'fixed':
      if (rest.length !== 2 || !(nums[0]! < nums[1]!)) bad();
      return { mode: 'fixed', min: nums[0]!, max: nums[1]! };
    default:
      return bad();
  }
}

export function describeRange(spec: RangeSpec): string {
  switch (spec.mode) {
    case 'minmax':
      return 'min-max';
    case 'percentile':
      return `percentiles ${spec.low ?? 1}-${spec.high ?? 99}`;
    case 'symmetric':
      return spec.percentile === undefined || spec.percentile === 100 ? 'symmetric, max |value|' : `symmetric, ${spec.percentile}th pct of |value|`;
    case 'fixed':
      return `fixed ${spec.min} to ${spec.max}`;
  }
}
