// Non-negative matrix factorization V ~ W H (V: m x n, W: m x k, H: k x n, all >= 0) by
// hierarchical alternating least squares (Cichocki & Phan 2009): each row of H and column of W
// is the exact least-squares update with the others fixed, clipped at zero. It converges in
// tens of sweeps where Lee & Seung's multiplicative updates take thousands, and its error never
// increases, which the tests hold it to. Deep feature factorization (concepts.ts) runs it on a
// layer's activations: channels x pixels.
import { throwIfCancelled, type JobOptions } from '../../engine/jobs.js';
import { ConvLensError } from '../../engine/errors.js';
import { seededRandom } from '../../util/random.js';

export interface NmfOptions extends JobOptions {
  /** sweeps over all of W and H at most (default 200, as scikit-learn's NMF) */
  maxIterations?: number;
  /** stop when a sweep lowers the relative error by less than this (default 1e-4) */
  tolerance?: number;
  /** seed of the random start (default 0) */
  seed?: number;
}

export interface Nmf {
  /** m x k, row-major */
  w: Float64Array;
  /** k x n, row-major */
  h: Float64Array;
  rows: number;
  columns: number;
  components: number;
  /** ||V - W H|| / ||V|| (Frobenius) at the end */
  relativeError: number;
  /** relative error after each sweep */
  history: number[];
  iterations: number;
}

/** Guards the divisions of a component that went to zero everywhere. */
const TINY = 1e-12;

/**
 * Factorizes `v` (m x n, row-major, every entry >= 0) into k non-negative factors. The start is
 * scikit-learn's 'random' one: uniform entries scaled so that W H has V's mean.
 */
export function nmf(v: ArrayLike<number>, rows: number, columns: number, components: number, o: NmfOptions = {}): Nmf {
  const [m, n, k] = [rows, columns, components];
  if (!Number.isInteger(k) || k < 1 || k > Math.min(m, n)) {
    throw new ConvLensError('INVALID_ARGUMENT', `Cannot factorize a ${m} x ${n} matrix into ${k} components.`, `Ask for 1 to ${Math.min(m, n)} components.`);
  }
  if (v.length !== m * n) throw new Error(`nmf: ${v.length} values for a ${m} x ${n} matrix`);
  let sumSquares = 0;
  let mean = 0;
  for (let i = 0; i < v.length; i++) {
    const x = v[i]!;
    if (!(x >= 0) || x === Infinity) throw new ConvLensError('INVALID_ARGUMENT', `NMF needs finite non-negative values; entry ${i} is ${x}.`, 'Shift or clip the values first.');
    sumSquares += x * x;
    mean += x;
  }
  mean /= v.length;
  const maxIterations = o.maxIterations ?? 200;
  const tolerance = o.tolerance ?? 1e-4;
  const rand = seededRandom(o.seed ?? 0);
  const scale = Math.sqrt(mean / k);
  const w = Float64Array.from({ length: m * k }, () => scale * rand());
  const h = Float64Array.from({ length: k * n }, () => scale * rand());
  const norm = Math.sqrt(sumSquares) || 1;
  const history: number[] = [];
  const wtv = new Float64Array(k * n);
  const vht = new Float64Array(m * k);
  const gram = new Float64Array(k * k);
  let iterations = 0;
  for (; iterations < maxIterations; iterations++) {
    throwIfCancelled(o.signal, 'the factorization');
    // H rows: H_j += (W^T V - W^T W H)_j / (W^T W)_jj
    multiplyTransposedLeft(w, v, m, k, n, wtv);
    gramOfColumns(w, m, k, gram);
    for (let j = 0; j < k; j++) {
      const d = gram[j * k + j]! + TINY;
      for (let c = 0; c < n; c++) {
        let s = wtv[j * n + c]!;
        for (let l = 0; l < k; l++) s -= gram[j * k + l]! * h[l * n + c]!;
        h[j * n + c] = Math.max(0, h[j * n + c]! + s / d);
      }
    }
    // W columns: W_j += (V H^T - W H H^T)_j / (H H^T)_jj
    multiplyTransposedRight(v, h, m, n, k, vht);
    gramOfRows(h, k, n, gram);
    for (let j = 0; j < k; j++) {
      const d = gram[j * k + j]! + TINY;
      for (let r = 0; r < m; r++) {
        let s = vht[r * k + j]!;
        for (let l = 0; l < k; l++) s -= w[r * k + l]! * gram[l * k + j]!;
        w[r * k + j] = Math.max(0, w[r * k + j]! + s / d);
      }
    }
    // ||V - WH||^2 = ||V||^2 - 2 <W, V H^T> + <W^T W, H H^T>: V H^T and H H^T are this sweep's (H
    // has not changed since), so the error costs no pass over V
    let cross = 0;
    for (let i = 0; i < m * k; i++) cross += w[i]! * vht[i]!;
    const hht = Float64Array.from(gram);
    gramOfColumns(w, m, k, gram);
    let quadratic = 0;
    for (let i = 0; i < k * k; i++) quadratic += gram[i]! * hht[i]!;
    const error = Math.sqrt(Math.max(0, sumSquares - 2 * cross + quadratic)) / norm;
    history.push(error);
    o.onProgress?.({ done: iterations + 1, total: maxIterations, phase: 'factorizing' });
    const before = history.length > 1 ? history[history.length - 2]! : Infinity;
    if (before - error < tolerance * Math.max(before === Infinity ? 1 : before, TINY)) {
      iterations++;
      break;
    }
  }
  return { w, h, rows: m, columns: n, components: k, relativeError: history.at(-1) ?? 1, history, iterations };
}

/** out (k x n) = A^T B for A m x k, B m x n. */
function multiplyTransposedLeft(a: Float64Array, b: ArrayLike<number>, m: number, k: number, n: number, out: Float64Array): void {
  out.fill(0);
  for (let r = 0; r < m; r++) {
    for (let j = 0; j < k; j++) {
      const x = a[r * k + j]!;
      if (x === 0) continue;
      const row = j * n;
      const src = r * n;
      for (let c = 0; c < n; c++) out[row + c] += x * b[src + c]!;
    }
  }
}

/** out (m x k) = A B^T for A m x n, B k x n. */
function multiplyTransposedRight(a: ArrayLike<number>, b: Float64Array, m: number, n: number, k: number, out: Float64Array): void {
  for (let r = 0; r < m; r++) {
    for (let j = 0; j < k; j++) {
      let s = 0;
      const ar = r * n;
      const bj = j * n;
      for (let c = 0; c < n; c++) s += a[ar + c]! * b[bj + c]!;
      out[r * k + j] = s;
    }
  }
}

/** out (k x k) = A^T A for A m x k. */
function gramOfColumns(a: Float64Array, m: number, k: number, out: Float64Array): void {
  out.fill(0);
  for (let r = 0; r < m; r++) for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) out[i * k + j] += a[r * k + i]! * a[r * k + j]!;
}

/** out (k x k) = A A^T for A k x n. */
function gramOfRows(a: Float64Array, k: number, n: number, out: Float64Array): void {
  for (let i = 0; i < k; i++) {
    for (let j = i; j < k; j++) {
      let s = 0;
      for (let c = 0; c < n; c++) s += a[i * n + c]! * a[j * n + c]!;
      out[i * k + j] = out[j * k + i] = s;
    }
  }
}
