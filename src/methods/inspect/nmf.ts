// Non-negative matrix factorization V ~ W H (V: m x n, W: m x k, H: k x n, all >= 0) by
// hierarchical alternating least squares (Cichocki & Phan 2009): each row of H and column of W
// is the exact least-squares update with the others fixed, clipped at zero. It converges in
// tens of sweeps where Lee & Seung's multiplicative updates take thousands, and its error never
// increases, which the tests hold it to. Deep feature factorization (concepts.ts) runs it on a
// layer's activations: channels x pixels.
import { throwIfCancelled, type JobOptions } from '../../engine/jobs.js';
import { ConvLensError } from '../../engine/errors.js';
import { GraphBuilder } from '../../engine/graph/builder.js';
import type { Graph } from '../../engine/graph/ir.js';
import type { CompiledGraph, Engine } from '../../engine/runtime/engine.js';
import type { Tensor } from '../../engine/tensor.js';
import { seededRandom } from '../../util/random.js';

export interface NmfOptions extends JobOptions {
  /** sweeps over all of W and H at most (default 200, as scikit-learn's NMF) */
  maxIterations?: number;
  /** stop when a sweep lowers the relative error by less than this (default 1e-4) */
  tolerance?: number;
  /** seed of the random start (default 0) */
  seed?: number;
  /**
   * Where the two products with V that cost m x n x k each run (all the rest is k x k work):
   * `engine` runs them on ONNX Runtime in float32 (a 512 x 10 816 matrix: 0.3 s a sweep in
   * JavaScript); without it they run here in float64.
   */
  engine?: Engine;
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

/** The products with V each sweep needs: W^T V (k x n) and V H^T (m x k). */
interface Products {
  wtv(w: Float64Array, out: Float64Array): Promise<void>;
  vht(h: Float64Array, out: Float64Array): Promise<void>;
}

function javascriptProducts(v: Float64Array, m: number, n: number, k: number): Products {
  return {
    wtv: async (w, out) => multiplyTransposedLeft(w, v, m, k, n, out),
    vht: async (h, out) => multiplyTransposedRight(v, h, m, n, k, out),
  };
}

/** W^T V or V H^T as a graph, every dimension free. */
function productGraph(product: 'wtv' | 'vht'): Graph {
  const b = new GraphBuilder();
  b.graph.name = `nmf_${product}`;
  const v = b.input('v', 'float32', ['m', 'n']);
  if (product === 'wtv') {
    const w = b.input('factor', 'float32', ['m', 'k']);
    b.output(b.op('MatMul', [b.op('Transpose', [w], { perm: [1, 0] }), v], {}, { outputs: ['product'] }));
  } else {
    const h = b.input('factor', 'float32', ['k', 'n']);
    b.output(b.op('MatMul', [v, b.op('Transpose', [h], { perm: [1, 0] })], {}, { outputs: ['product'] }));
  }
  return b.build();
}

async function runtimeProducts(engine: Engine, values: Float64Array, m: number, n: number, k: number): Promise<Products> {
  const [wtv, vht] = await Promise.all([engine.compile('nmf|wtv', () => productGraph('wtv')), engine.compile('nmf|vht', () => productGraph('vht'))]);
  const v: Tensor = { dtype: 'float32', dims: [m, n], data: new Float32Array(values) };
  const run = async (compiled: CompiledGraph, factor: Float64Array, dims: number[], out: Float64Array): Promise<void> => {
    const r = await compiled.run({ v, factor: { dtype: 'float32', dims, data: new Float32Array(factor) } }, ['product']);
    out.set(r['product']!.data as Float32Array);
  };
  return {
    wtv: (w, out) => run(wtv, w, [m, k], out),
    vht: (h, out) => run(vht, h, [k, n], out),
  };
}

/**
 * Factorizes `v` (m x n, row-major, every entry >= 0) into k non-negative factors. The start is
 * scikit-learn's 'random' one: uniform entries scaled so that W H has V's mean.
 */
export async function nmf(values: ArrayLike<number>, rows: number, columns: number, components: number, o: NmfOptions = {}): Promise<Nmf> {
  // one array type in the hot loops (a generic ArrayLike there ran them 3x slower)
  const v = values instanceof Float64Array ? values : new Float64Array(values);
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
  const row = new Float64Array(n);
  const products = o.engine ? await runtimeProducts(o.engine, v, m, n, k) : javascriptProducts(v, m, n, k);
  let iterations = 0;
  for (; iterations < maxIterations; iterations++) {
    throwIfCancelled(o.signal, 'the factorization');
    // H rows: H_j += (W^T V - W^T W H)_j / (W^T W)_jj
    await products.wtv(w, wtv);
    gramOfColumns(w, m, k, gram);
    for (let j = 0; j < k; j++) {
      const d = gram[j * k + j]! + TINY;
      // row by row, not column by column: a column of H strides n values apart
      row.set(wtv.subarray(j * n, (j + 1) * n));
      for (let l = 0; l < k; l++) {
        const g = gram[j * k + l]!;
        if (g === 0) continue;
        for (let c = 0, at = l * n; c < n; c++, at++) row[c] -= g * h[at]!;
      }
      for (let c = 0, at = j * n; c < n; c++, at++) h[at] = Math.max(0, h[at]! + row[c]! / d);
    }
    // W columns: W_j += (V H^T - W H H^T)_j / (H H^T)_jj
    await products.vht(h, vht);
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
    const hht = gram.slice();
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
function multiplyTransposedLeft(a: Float64Array, b: Float64Array, m: number, k: number, n: number, out: Float64Array): void {
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
function multiplyTransposedRight(a: Float64Array, b: Float64Array, m: number, n: number, k: number, out: Float64Array): void {
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
