// Barnes-Hut t-SNE (van der Maaten 2014), written here because the t-SNE packages on npm are all
// exact O(N^2) implementations (DruidJS, tsne-js, tsnejs forks): 46 s for 2,000 points, and
// quadratic beyond. This one follows bhtsne and openTSNE: sparse input affinities over the
// 3 x perplexity nearest neighbours with a per-point bandwidth found by bisection, symmetrized;
// repulsion through a quadtree with opening angle theta; early exaggeration 12 for 250 steps
// with momentum 0.5, then momentum 0.8; learning rate max(200, N / 12); delta-bar-delta gains;
// initialization from the data's first two principal components scaled to std 1e-4.
import { throwIfCancelled, type JobOptions } from '../../engine/jobs.js';

export interface TsneOptions extends JobOptions {
  perplexity?: number;
  /** total optimization steps, early exaggeration included (default 750) */
  iterations?: number;
  exaggerationIterations?: number;
  exaggeration?: number;
  theta?: number;
  learningRate?: number;
  /** [n, 2] starting positions (default: random, seeded) */
  init?: Float64Array;
  seed?: number;
}

/** Squared Euclidean k nearest neighbours of every row (brute force, O(n^2 d)). */
export function knn(x: Float64Array, n: number, d: number, k: number): { index: Int32Array; dist2: Float64Array } {
  const index = new Int32Array(n * k);
  const dist2 = new Float64Array(n * k);
  const row = new Float64Array(n);
  const norms = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let q = 0; q < d; q++) s += x[i * d + q]! ** 2;
    norms[i] = s;
  }
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const xi = i * d;
    for (let j = 0; j < n; j++) {
      let dot = 0;
      const xj = j * d;
      for (let q = 0; q < d; q++) dot += x[xi + q]! * x[xj + q]!;
      row[j] = Math.max(0, norms[i]! + norms[j]! - 2 * dot);
    }
    row[i] = Infinity;
    // k smallest by a bounded insertion list
    let m = 0;
    for (let j = 0; j < n; j++) {
      const v = row[j]!;
      if (m === k && v >= row[order[k - 1]!]!) continue;
      let p = m < k ? m++ : k - 1;
      while (p > 0 && row[order[p - 1]!]! > v) {
        order[p] = order[p - 1]!;
        p--;
      }
      order[p] = j;
    }
    for (let r = 0; r < k; r++) {
      index[i * k + r] = order[r]!;
      dist2[i * k + r] = row[order[r]!]!;
    }
  }
  return { index, dist2 };
}

/** Symmetric sparse affinities P (CSR), summing to 1. */
export function affinities(x: Float64Array, n: number, d: number, perplexity: number): { rowStart: Int32Array; col: Int32Array; val: Float64Array } {
  const k = Math.min(n - 1, Math.max(1, Math.floor(3 * perplexity)));
  const { index, dist2 } = knn(x, n, d, k);
  const cond = new Float64Array(n * k);
  const target = Math.log(Math.min(perplexity, k));
  for (let i = 0; i < n; i++) {
    let beta = 1;
    let lo = -Infinity;
    let hi = Infinity;
    const base = i * k;
    const dmin = dist2[base]!;
    for (let iter = 0; iter < 100; iter++) {
      let sum = 0;
      let dsum = 0;
      for (let r = 0; r < k; r++) {
        const p = Math.exp(-beta * (dist2[base + r]! - dmin));
        cond[base + r] = p;
        sum += p;
        dsum += (dist2[base + r]! - dmin) * p;
      }
      const h = Math.log(sum) + (beta * dsum) / sum;
      for (let r = 0; r < k; r++) cond[base + r]! /= sum;
      if (Math.abs(h - target) < 1e-5) break;
      if (h > target) {
        lo = beta;
        beta = hi === Infinity ? beta * 2 : (beta + hi) / 2;
      } else {
        hi = beta;
        beta = lo === -Infinity ? beta / 2 : (beta + lo) / 2;
      }
    }
  }
  // symmetrize: P_ij = (p_j|i + p_i|j) / 2n
  const rows: Map<number, number>[] = Array.from({ length: n }, () => new Map());
  for (let i = 0; i < n; i++) {
    for (let r = 0; r < k; r++) {
      const j = index[i * k + r]!;
      const p = cond[i * k + r]! / (2 * n);
      rows[i]!.set(j, (rows[i]!.get(j) ?? 0) + p);
      rows[j]!.set(i, (rows[j]!.get(i) ?? 0) + p);
    }
  }
  const rowStart = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) rowStart[i + 1] = rowStart[i]! + rows[i]!.size;
  const col = new Int32Array(rowStart[n]!);
  const val = new Float64Array(rowStart[n]!);
  for (let i = 0; i < n; i++) {
    let o = rowStart[i]!;
    for (const [j, p] of rows[i]!) {
      col[o] = j;
      val[o++] = p;
    }
  }
  return { rowStart, col, val };
}

/** A point quadtree over 2-D positions, in flat arrays, with centres of mass. */
class QuadTree {
  cx: Float64Array = new Float64Array(0);
  cy: Float64Array = new Float64Array(0);
  half: Float64Array = new Float64Array(0);
  mx: Float64Array = new Float64Array(0);
  my: Float64Array = new Float64Array(0);
  count: Int32Array = new Int32Array(0);
  child: Int32Array = new Int32Array(0);
  point: Int32Array = new Int32Array(0);
  size = 0;

  private grow(need: number): void {
    if (need <= this.cx.length) return;
    const cap = Math.max(need, this.cx.length * 2, 64);
    const g64 = (a: Float64Array): Float64Array => {
      const b = new Float64Array(cap);
      b.set(a);
      return b;
    };
    const g32 = (a: Int32Array, len = cap): Int32Array => {
      const b = new Int32Array(len);
      b.set(a);
      return b;
    };
    this.cx = g64(this.cx);
    this.cy = g64(this.cy);
    this.half = g64(this.half);
    this.mx = g64(this.mx);
    this.my = g64(this.my);
    this.count = g32(this.count);
    this.point = g32(this.point);
    this.child = g32(this.child, cap * 4);
  }

  private node(cx: number, cy: number, half: number): number {
    this.grow(this.size + 1);
    const i = this.size++;
    this.cx[i] = cx;
    this.cy[i] = cy;
    this.half[i] = half;
    this.mx[i] = 0;
    this.my[i] = 0;
    this.count[i] = 0;
    this.point[i] = -1;
    this.child.fill(-1, i * 4, i * 4 + 4);
    return i;
  }

  build(y: Float64Array, n: number): void {
    this.size = 0;
    let x0 = Infinity;
    let x1 = -Infinity;
    let y0 = Infinity;
    let y1 = -Infinity;
    for (let i = 0; i < n; i++) {
      x0 = Math.min(x0, y[2 * i]!);
      x1 = Math.max(x1, y[2 * i]!);
      y0 = Math.min(y0, y[2 * i + 1]!);
      y1 = Math.max(y1, y[2 * i + 1]!);
    }
    const half = Math.max(x1 - x0, y1 - y0) / 2 + 1e-5;
    this.node((x0 + x1) / 2, (y0 + y1) / 2, half);
    for (let i = 0; i < n; i++) this.insert(i, y[2 * i]!, y[2 * i + 1]!);
  }

  private insert(p: number, px: number, py: number): void {
    let nd = 0;
    for (let depth = 0; ; depth++) {
      const c = this.count[nd]!;
      this.mx[nd] = (this.mx[nd]! * c + px) / (c + 1);
      this.my[nd] = (this.my[nd]! * c + py) / (c + 1);
      this.count[nd] = c + 1;
      const leaf = this.child[nd * 4] === -1;
      if (leaf) {
        if (c === 0) {
          this.point[nd] = p;
          return;
        }
        if (depth > 40) return; // coincident points: keep them together in this leaf
        // split: push the resident point down, then continue with p
        const q = this.point[nd]!;
        this.point[nd] = -1;
        const h = this.half[nd]! / 2;
        for (let k = 0; k < 4; k++) {
          // node() may grow (replace) the arrays: create first, then store into the current one
          const created = this.node(this.cx[nd]! + (k & 1 ? h : -h), this.cy[nd]! + (k & 2 ? h : -h), h);
          this.child[nd * 4 + k] = created;
        }
        const k = (this.lastX(q) >= this.cx[nd]! ? 1 : 0) + (this.lastY(q) >= this.cy[nd]! ? 2 : 0);
        const ch = this.child[nd * 4 + k]!;
        this.count[ch] = 1;
        this.mx[ch] = this.lastX(q);
        this.my[ch] = this.lastY(q);
        this.point[ch] = q;
      }
      const k = (px >= this.cx[nd]! ? 1 : 0) + (py >= this.cy[nd]! ? 2 : 0);
      nd = this.child[nd * 4 + k]!;
    }
  }

  // positions of the points (set before build)
  ys: Float64Array = new Float64Array(0);
  private lastX(q: number): number {
    return this.ys[2 * q]!;
  }
  private lastY(q: number): number {
    return this.ys[2 * q + 1]!;
  }

  /** Repulsive force on point i (into neg[0..1]) and its contribution to the normalization Z. */
  repulsion(i: number, px: number, py: number, theta2: number, neg: Float64Array, stack: Int32Array): number {
    let z = 0;
    let sp = 0;
    stack[sp++] = 0;
    while (sp > 0) {
      const nd = stack[--sp]!;
      const c = this.count[nd]!;
      if (c === 0) continue;
      const dx = px - this.mx[nd]!;
      const dy = py - this.my[nd]!;
      const d2 = dx * dx + dy * dy;
      const leaf = this.child[nd * 4] === -1;
      const w = 2 * this.half[nd]!;
      if (leaf || w * w < theta2 * d2) {
        let m = c;
        if (leaf && (this.point[nd] === i || (d2 === 0 && c > 0))) m = c - 1; // not the point itself
        if (m <= 0) continue;
        const q = 1 / (1 + d2);
        z += m * q;
        const f = m * q * q;
        neg[0]! += f * dx;
        neg[1]! += f * dy;
      } else {
        for (let k = 0; k < 4; k++) {
          const ch = this.child[nd * 4 + k]!;
          if (this.count[ch]! > 0) stack[sp++] = ch;
        }
      }
    }
    return z;
  }
}

/**
 * 2-D t-SNE of the rows of x ([n, d]). Returns [n, 2]. Every 10 iterations it yields to the event
 * loop, so that a Ctrl-C (o.signal) can be seen: run straight through, 2000 points blocked the
 * process for ~8 s and a cancellation came too late to stop anything.
 */
export async function tsne(x: Float64Array, n: number, d: number, o: TsneOptions = {}): Promise<Float64Array> {
  const perplexity = Math.min(o.perplexity ?? 30, Math.max(1, (n - 1) / 3));
  const iterations = o.iterations ?? 750;
  const exIters = Math.min(iterations, o.exaggerationIterations ?? 250);
  const exaggeration = o.exaggeration ?? 12;
  const theta2 = (o.theta ?? 0.5) ** 2;
  const lr = o.learningRate ?? Math.max(200, n / exaggeration);
  o.onProgress?.({ done: 0, total: iterations, phase: 't-SNE: affinities' });
  const P = affinities(x, n, d, perplexity);
  const y = new Float64Array(n * 2);
  if (o.init) y.set(o.init);
  else {
    let s = (o.seed ?? 0) * 2654435761 + 1;
    const rand = (): number => ((s = (Math.imul(s ^ (s >>> 15), 2246822507) + 0x9e3779b9) >>> 0), s / 2 ** 32);
    for (let i = 0; i < 2 * n; i++) y[i] = 1e-4 * (rand() + rand() + rand() - 1.5);
  }
  const update = new Float64Array(n * 2);
  const gains = new Float64Array(n * 2).fill(1);
  const grad = new Float64Array(n * 2);
  const tree = new QuadTree();
  const neg = new Float64Array(2);
  const negAll = new Float64Array(n * 2);
  const stack = new Int32Array(4 * 64 * 4 + 16);
  for (let it = 0; it < iterations; it++) {
    if (it % 10 === 0) {
      await new Promise((r) => setImmediate(r));
      throwIfCancelled(o.signal, 't-SNE');
      o.onProgress?.({ done: it, total: iterations, phase: it < exIters ? 't-SNE: early exaggeration' : 't-SNE' });
    }
    const ex = it < exIters ? exaggeration : 1;
    const momentum = it < exIters ? 0.5 : 0.8;
    tree.ys = y;
    tree.build(y, n);
    let z = 0;
    for (let i = 0; i < n; i++) {
      neg[0] = 0;
      neg[1] = 0;
      z += tree.repulsion(i, y[2 * i]!, y[2 * i + 1]!, theta2, neg, stack);
      negAll[2 * i] = neg[0]!;
      negAll[2 * i + 1] = neg[1]!;
    }
    for (let i = 0; i < n; i++) {
      let ax = 0;
      let ay = 0;
      const yx = y[2 * i]!;
      const yy = y[2 * i + 1]!;
      for (let e = P.rowStart[i]!; e < P.rowStart[i + 1]!; e++) {
        const j = P.col[e]!;
        const dx = yx - y[2 * j]!;
        const dy = yy - y[2 * j + 1]!;
        const q = P.val[e]! * ex / (1 + dx * dx + dy * dy);
        ax += q * dx;
        ay += q * dy;
      }
      grad[2 * i] = ax - negAll[2 * i]! / z;
      grad[2 * i + 1] = ay - negAll[2 * i + 1]! / z;
    }
    let mx = 0;
    let my = 0;
    for (let q = 0; q < 2 * n; q++) {
      const g = grad[q]!;
      gains[q] = Math.sign(g) !== Math.sign(update[q]!) ? gains[q]! + 0.2 : Math.max(0.01, gains[q]! * 0.8);
      update[q] = momentum * update[q]! - lr * gains[q]! * g;
      y[q]! += update[q]!;
    }
    for (let i = 0; i < n; i++) {
      mx += y[2 * i]!;
      my += y[2 * i + 1]!;
    }
    mx /= n;
    my /= n;
    for (let i = 0; i < n; i++) {
      y[2 * i]! -= mx;
      y[2 * i + 1]! -= my;
    }
  }
  o.onProgress?.({ done: iterations, total: iterations, phase: 't-SNE' });
  return y;
}
