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

/**
 * Percentiles of `values` (or of their magnitudes), as `percentile` gives them on the sorted
 * values, found by selection instead of a sort: a map's range is taken for every tile drawn,
 * and sorting each map's copy was most of the time a grid figure took. NaNs sort last.
 */
function percentilesOf(values: ArrayLike<number>, ps: readonly number[], abs = false): number[] {
  const a = new Float64Array(values.length);
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    const v = abs ? Math.abs(values[i]!) : values[i]!;
    if (v === v) a[n++] = v;
  }
  const total = a.length;
  const at = (rank: number): number => (rank >= n ? NaN : select(a, rank, n));
  return ps.map((p) => {
    if (total === 0) return 0;
    const pos = (Math.max(0, Math.min(100, p)) / 100) * (total - 1);
    const lo = Math.floor(pos);
    const hi = Math.min(total - 1, lo + 1);
    const low = at(lo);
    // after selecting rank lo, everything past it is at least as large: rank hi is their minimum
    let high = low;
    if (hi > lo) {
      if (hi >= n) high = NaN;
      else {
        high = Infinity;
        for (let i = lo + 1; i < n; i++) if (a[i]! < high) high = a[i]!;
      }
    }
    return low + (high - low) * (pos - lo);
  });
}

/**
 * Rearranges a[0, n) so that a[k] is the k-th smallest, smaller ones before it, larger after
 * (Hoare's quickselect). Median-of-three partitions stay balanced on any map a model makes; an
 * input built to defeat them would go quadratic, so after `rounds` partitions the rest is sorted.
 */
export function select(a: Float64Array, k: number, n: number, rounds = 2 * Math.ceil(Math.log2(n + 1)) + 8): number {
  let left = 0;
  let right = n - 1;
  while (right > left) {
    if (rounds-- === 0) {
      const rest = a.subarray(left, right + 1).sort();
      return rest[k - left]!;
    }
    const mid = (left + right) >>> 1;
    // median of three as the pivot: sorted and all-equal maps stay linear
    const x = a[left]!;
    const y = a[mid]!;
    const z = a[right]!;
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let i = left;
    let j = right;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i] = a[j]!;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) right = j;
    else if (k >= i) left = i;
    else break;
  }
  return a[k]!;
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
      const [min, max] = percentilesOf(values, [spec.low ?? 1, spec.high ?? 99]);
      return { min: min!, max: max! };
    }
    case 'symmetric': {
      const m = percentilesOf(values, [spec.percentile ?? 100], true)[0]!;
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
