import type { WireTensor } from './api';

export interface Tensor {
  dims: number[];
  data: Float32Array;
}

/** WireTensor (base64 of little-endian float32) -> Float32Array. */
/** A tensor the engine worker sent (its data may arrive as another array type). */
export function workerTensor(t: { dims: readonly number[]; data: unknown }): Tensor {
  return { dims: [...t.dims], data: t.data instanceof Float32Array ? t.data : Float32Array.from(t.data as ArrayLike<number>) };
}

export function decodeTensor(w: WireTensor): Tensor {
  const bin = atob(w.data);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  const view = new DataView(bytes.buffer);
  const n = bytes.length >> 2;
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = view.getFloat32(i * 4, true);
  return { dims: w.dims, data };
}

export interface Range {
  lo: number;
  hi: number;
}

export function minMax(a: ArrayLike<number>, from = 0, to = a.length): Range {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = from; i < to; i++) {
    const v = a[i]!;
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo <= hi ? { lo, hi } : { lo: 0, hi: 0 };
}

/** The q-quantile (0..1) of the finite values, by sorting a copy. */
export function quantile(a: ArrayLike<number>, q: number, abs = false): number {
  const v = Float64Array.from(a, (x) => (abs ? Math.abs(x) : x)).filter(Number.isFinite).sort();
  if (!v.length) return 0;
  const pos = Math.min(v.length - 1, Math.max(0, q * (v.length - 1)));
  const i = Math.floor(pos);
  const f = pos - i;
  return v[i]! + (i + 1 < v.length ? (v[i + 1]! - v[i]!) * f : 0);
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const v = Math.abs(a[i]!);
    if (Number.isFinite(v) && v > m) m = v;
  }
  return m;
}

/** Compact number for colorbars and tooltips. */
export function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-3) return v.toExponential(1).replace('e+', 'e');
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  return v.toFixed(a >= 1 ? 2 : 3);
}

export function fmtCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(1)} k`;
  return n.toLocaleString('en-US');
}
