import {
  seededRandom
} from "./chunk-Y3QEK5WU.js";
import {
  throwIfCancelled
} from "./chunk-GNZAA2KB.js";
import {
  ConvLensError
} from "./chunk-N6ATQ4RF.js";

// dist/methods/dataset/embed.js
import * as druid from "@saehrimnir/druidjs";
import { UMAP } from "umap-js";

// dist/methods/dataset/tsne.js
function knn(x, n, d, k) {
  const index = new Int32Array(n * k);
  const dist2 = new Float64Array(n * k);
  const row = new Float64Array(n);
  const norms = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let q = 0; q < d; q++)
      s += x[i * d + q] ** 2;
    norms[i] = s;
  }
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const xi = i * d;
    for (let j = 0; j < n; j++) {
      let dot = 0;
      const xj = j * d;
      for (let q = 0; q < d; q++)
        dot += x[xi + q] * x[xj + q];
      row[j] = Math.max(0, norms[i] + norms[j] - 2 * dot);
    }
    row[i] = Infinity;
    let m = 0;
    for (let j = 0; j < n; j++) {
      const v = row[j];
      if (m === k && v >= row[order[k - 1]])
        continue;
      let p = m < k ? m++ : k - 1;
      while (p > 0 && row[order[p - 1]] > v) {
        order[p] = order[p - 1];
        p--;
      }
      order[p] = j;
    }
    for (let r = 0; r < k; r++) {
      index[i * k + r] = order[r];
      dist2[i * k + r] = row[order[r]];
    }
  }
  return { index, dist2 };
}
function affinities(x, n, d, perplexity) {
  const k = Math.min(n - 1, Math.max(1, Math.floor(3 * perplexity)));
  const { index, dist2 } = knn(x, n, d, k);
  const cond = new Float64Array(n * k);
  const target = Math.log(Math.min(perplexity, k));
  for (let i = 0; i < n; i++) {
    let beta = 1;
    let lo = -Infinity;
    let hi = Infinity;
    const base = i * k;
    const dmin = dist2[base];
    for (let iter = 0; iter < 100; iter++) {
      let sum = 0;
      let dsum = 0;
      for (let r = 0; r < k; r++) {
        const p = Math.exp(-beta * (dist2[base + r] - dmin));
        cond[base + r] = p;
        sum += p;
        dsum += (dist2[base + r] - dmin) * p;
      }
      const h = Math.log(sum) + beta * dsum / sum;
      for (let r = 0; r < k; r++)
        cond[base + r] /= sum;
      if (Math.abs(h - target) < 1e-5)
        break;
      if (h > target) {
        lo = beta;
        beta = hi === Infinity ? beta * 2 : (beta + hi) / 2;
      } else {
        hi = beta;
        beta = lo === -Infinity ? beta / 2 : (beta + lo) / 2;
      }
    }
  }
  const rows = Array.from({ length: n }, () => /* @__PURE__ */ new Map());
  for (let i = 0; i < n; i++) {
    for (let r = 0; r < k; r++) {
      const j = index[i * k + r];
      const p = cond[i * k + r] / (2 * n);
      rows[i].set(j, (rows[i].get(j) ?? 0) + p);
      rows[j].set(i, (rows[j].get(i) ?? 0) + p);
    }
  }
  const rowStart = new Int32Array(n + 1);
  for (let i = 0; i < n; i++)
    rowStart[i + 1] = rowStart[i] + rows[i].size;
  const col = new Int32Array(rowStart[n]);
  const val = new Float64Array(rowStart[n]);
  for (let i = 0; i < n; i++) {
    let o = rowStart[i];
    for (const [j, p] of rows[i]) {
      col[o] = j;
      val[o++] = p;
    }
  }
  return { rowStart, col, val };
}
var QuadTree = class {
  cx = new Float64Array(0);
  cy = new Float64Array(0);
  half = new Float64Array(0);
  mx = new Float64Array(0);
  my = new Float64Array(0);
  count = new Int32Array(0);
  child = new Int32Array(0);
  point = new Int32Array(0);
  size = 0;
  grow(need) {
    if (need <= this.cx.length)
      return;
    const cap = Math.max(need, this.cx.length * 2, 64);
    const g64 = (a) => {
      const b = new Float64Array(cap);
      b.set(a);
      return b;
    };
    const g32 = (a, len = cap) => {
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
  node(cx, cy, half) {
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
  build(y, n) {
    this.size = 0;
    let x0 = Infinity;
    let x1 = -Infinity;
    let y0 = Infinity;
    let y1 = -Infinity;
    for (let i = 0; i < n; i++) {
      x0 = Math.min(x0, y[2 * i]);
      x1 = Math.max(x1, y[2 * i]);
      y0 = Math.min(y0, y[2 * i + 1]);
      y1 = Math.max(y1, y[2 * i + 1]);
    }
    const half = Math.max(x1 - x0, y1 - y0) / 2 + 1e-5;
    this.node((x0 + x1) / 2, (y0 + y1) / 2, half);
    for (let i = 0; i < n; i++)
      this.insert(i, y[2 * i], y[2 * i + 1]);
  }
  insert(p, px, py) {
    let nd = 0;
    for (let depth = 0; ; depth++) {
      const c = this.count[nd];
      this.mx[nd] = (this.mx[nd] * c + px) / (c + 1);
      this.my[nd] = (this.my[nd] * c + py) / (c + 1);
      this.count[nd] = c + 1;
      const leaf = this.child[nd * 4] === -1;
      if (leaf) {
        if (c === 0) {
          this.point[nd] = p;
          return;
        }
        if (depth > 40)
          return;
        const q = this.point[nd];
        this.point[nd] = -1;
        const h = this.half[nd] / 2;
        for (let k3 = 0; k3 < 4; k3++) {
          const created = this.node(this.cx[nd] + (k3 & 1 ? h : -h), this.cy[nd] + (k3 & 2 ? h : -h), h);
          this.child[nd * 4 + k3] = created;
        }
        const k2 = (this.lastX(q) >= this.cx[nd] ? 1 : 0) + (this.lastY(q) >= this.cy[nd] ? 2 : 0);
        const ch = this.child[nd * 4 + k2];
        this.count[ch] = 1;
        this.mx[ch] = this.lastX(q);
        this.my[ch] = this.lastY(q);
        this.point[ch] = q;
      }
      const k = (px >= this.cx[nd] ? 1 : 0) + (py >= this.cy[nd] ? 2 : 0);
      nd = this.child[nd * 4 + k];
    }
  }
  // positions of the points (set before build)
  ys = new Float64Array(0);
  lastX(q) {
    return this.ys[2 * q];
  }
  lastY(q) {
    return this.ys[2 * q + 1];
  }
  /** Repulsive force on point i (into neg[0..1]) and its contribution to the normalization Z. */
  repulsion(i, px, py, theta2, neg, stack) {
    let z = 0;
    let sp = 0;
    stack[sp++] = 0;
    while (sp > 0) {
      const nd = stack[--sp];
      const c = this.count[nd];
      if (c === 0)
        continue;
      const dx = px - this.mx[nd];
      const dy = py - this.my[nd];
      const d2 = dx * dx + dy * dy;
      const leaf = this.child[nd * 4] === -1;
      const w = 2 * this.half[nd];
      if (leaf || w * w < theta2 * d2) {
        let m = c;
        if (leaf && (this.point[nd] === i || d2 === 0 && c > 0))
          m = c - 1;
        if (m <= 0)
          continue;
        const q = 1 / (1 + d2);
        z += m * q;
        const f = m * q * q;
        neg[0] += f * dx;
        neg[1] += f * dy;
      } else {
        for (let k = 0; k < 4; k++) {
          const ch = this.child[nd * 4 + k];
          if (this.count[ch] > 0)
            stack[sp++] = ch;
        }
      }
    }
    return z;
  }
};
function tsne(x, n, d, o = {}) {
  const perplexity = Math.min(o.perplexity ?? 30, Math.max(1, (n - 1) / 3));
  const iterations = o.iterations ?? 750;
  const exIters = Math.min(iterations, o.exaggerationIterations ?? 250);
  const exaggeration = o.exaggeration ?? 12;
  const theta2 = (o.theta ?? 0.5) ** 2;
  const lr = o.learningRate ?? Math.max(200, n / exaggeration);
  o.onProgress?.({ done: 0, total: iterations, phase: "t-SNE: affinities" });
  const P = affinities(x, n, d, perplexity);
  const y = new Float64Array(n * 2);
  if (o.init)
    y.set(o.init);
  else {
    let s = (o.seed ?? 0) * 2654435761 + 1;
    const rand = () => (s = Math.imul(s ^ s >>> 15, 2246822507) + 2654435769 >>> 0, s / 2 ** 32);
    for (let i = 0; i < 2 * n; i++)
      y[i] = 1e-4 * (rand() + rand() + rand() - 1.5);
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
      throwIfCancelled(o.signal, "t-SNE");
      o.onProgress?.({ done: it, total: iterations, phase: it < exIters ? "t-SNE: early exaggeration" : "t-SNE" });
    }
    const ex = it < exIters ? exaggeration : 1;
    const momentum = it < exIters ? 0.5 : 0.8;
    tree.ys = y;
    tree.build(y, n);
    let z = 0;
    for (let i = 0; i < n; i++) {
      neg[0] = 0;
      neg[1] = 0;
      z += tree.repulsion(i, y[2 * i], y[2 * i + 1], theta2, neg, stack);
      negAll[2 * i] = neg[0];
      negAll[2 * i + 1] = neg[1];
    }
    for (let i = 0; i < n; i++) {
      let ax = 0;
      let ay = 0;
      const yx = y[2 * i];
      const yy = y[2 * i + 1];
      for (let e = P.rowStart[i]; e < P.rowStart[i + 1]; e++) {
        const j = P.col[e];
        const dx = yx - y[2 * j];
        const dy = yy - y[2 * j + 1];
        const q = P.val[e] * ex / (1 + dx * dx + dy * dy);
        ax += q * dx;
        ay += q * dy;
      }
      grad[2 * i] = ax - negAll[2 * i] / z;
      grad[2 * i + 1] = ay - negAll[2 * i + 1] / z;
    }
    let mx = 0;
    let my = 0;
    for (let q = 0; q < 2 * n; q++) {
      const g = grad[q];
      gains[q] = Math.sign(g) !== Math.sign(update[q]) ? gains[q] + 0.2 : Math.max(0.01, gains[q] * 0.8);
      update[q] = momentum * update[q] - lr * gains[q] * g;
      y[q] += update[q];
    }
    for (let i = 0; i < n; i++) {
      mx += y[2 * i];
      my += y[2 * i + 1];
    }
    mx /= n;
    my /= n;
    for (let i = 0; i < n; i++) {
      y[2 * i] -= mx;
      y[2 * i + 1] -= my;
    }
  }
  o.onProgress?.({ done: iterations, total: iterations, phase: "t-SNE" });
  return y;
}

// dist/methods/dataset/embed.js
var EMBED_METHODS = ["pca", "tsne", "umap"];
function parseEmbedMethod(name) {
  const n = name.trim().toLowerCase().replace(/[-_ ]/g, "");
  if (EMBED_METHODS.includes(n))
    return n;
  throw new ConvLensError("INVALID_ARGUMENT", `Unknown embedding method "${name}".`, `Use ${EMBED_METHODS.join(", ")} (comma-separated for several).`);
}
function stratifiedSample(ids, labels, n, seed) {
  if (n >= ids.length)
    return Array.from(ids);
  const rand = seededRandom(seed);
  const by = /* @__PURE__ */ new Map();
  ids.forEach((id, i) => {
    const l = labels[i];
    let g = by.get(l);
    if (!g)
      by.set(l, g = []);
    g.push(id);
  });
  const out = [];
  const groups = [...by.entries()].sort((a, b) => a[0] - b[0]);
  let left = n;
  groups.forEach(([, g], gi) => {
    const take = gi === groups.length - 1 ? left : Math.min(left, Math.round(n * g.length / ids.length));
    for (let i = g.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [g[i], g[j]] = [g[j], g[i]];
    }
    out.push(...g.slice(0, take));
    left -= take;
  });
  return out.sort((a, b) => a - b);
}
var rowsOf = (data, n, d) => Array.from({ length: n }, (_, i) => Array.from(data.subarray(i * d, (i + 1) * d)));
function pca(data, n, d, k, seed = 0) {
  const kk = Math.min(k, d, n);
  const p = new druid.PCA(rowsOf(data, n, d), { d: kk, seed: seed + 1 });
  const Y = p.transform();
  const coords = new Float64Array(n * kk);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < kk; j++)
      coords[i * kk + j] = Y[i][j];
  let total = 0;
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < d; j++)
      mean[j] += data[i * d + j] / n;
  for (let i = 0; i < n; i++)
    for (let j = 0; j < d; j++)
      total += (data[i * d + j] - mean[j]) ** 2;
  const explained = Array.from({ length: kk }, (_, j) => {
    let s = 0;
    let m = 0;
    for (let i = 0; i < n; i++)
      m += coords[i * kk + j] / n;
    for (let i = 0; i < n; i++)
      s += (coords[i * kk + j] - m) ** 2;
    return total > 0 ? s / total : 0;
  });
  return { coords, explained };
}
async function embedVectors(method, data, n, d, o = {}) {
  const seed = o.seed ?? 0;
  if (n < 3)
    throw new ConvLensError("INVALID_ARGUMENT", `An embedding needs at least 3 points, got ${n}.`);
  if (method === "pca") {
    const r = pca(data, n, d, 2, seed);
    return { coords: r.coords, params: { components: 2 }, explained: [r.explained[0] ?? 0, r.explained[1] ?? 0] };
  }
  if (method === "tsne") {
    const perplexity = o.perplexity ?? 30;
    if (n - 1 < 3 * perplexity) {
      const most = Math.floor((n - 1) / 3);
      throw new ConvLensError("INVALID_ARGUMENT", `t-SNE with perplexity ${perplexity} needs at least ${Math.ceil(3 * perplexity) + 1} points (3 x perplexity neighbours per point); the sample has ${n}.`, most >= 1 ? `Lower --perplexity to at most ${most}, or raise --sample to ${Math.ceil(3 * perplexity) + 1} or more.` : "Raise --sample (t-SNE needs at least 4 points).");
    }
  }
  if (method === "umap") {
    const neighbours2 = o.neighbours ?? 15;
    if (neighbours2 > n - 1) {
      throw new ConvLensError("INVALID_ARGUMENT", `UMAP with ${neighbours2} neighbours needs at least ${neighbours2 + 1} points; the sample has ${n}.`, `Lower --neighbours to at most ${n - 1}, or raise --sample to ${neighbours2 + 1} or more.`);
    }
  }
  const dims = Math.min(50, d, n);
  const reduced = d > dims ? pca(data, n, d, dims, seed).coords : Float64Array.from(data);
  if (method === "tsne") {
    const perplexity = o.perplexity ?? 30;
    const iterations = o.iterations ?? 750;
    const init = pca(reduced, n, dims, 2, seed).coords;
    let s = 0;
    for (let i = 0; i < n; i++)
      s += init[2 * i] ** 2;
    const scale = 1e-4 / Math.max(1e-12, Math.sqrt(s / n));
    for (let i = 0; i < init.length; i++)
      init[i] *= scale;
    const coords2 = tsne(reduced, n, dims, { perplexity, iterations, init, seed, ...o.signal ? { signal: o.signal } : {}, ...o.onProgress ? { onProgress: o.onProgress } : {} });
    return { coords: coords2, params: { perplexity, iterations, theta: 0.5, exaggeration: 12, init: "pca", pcaDims: dims } };
  }
  const neighbours = o.neighbours ?? 15;
  const minDist = o.minDist ?? 0.1;
  const rand = seededRandom(seed + 7);
  const umap = new UMAP({ nComponents: 2, nNeighbors: neighbours, minDist, random: rand, ...o.epochs ? { nEpochs: o.epochs } : {} });
  o.onProgress?.({ done: 0, total: 1, phase: "UMAP: nearest neighbours" });
  const epochs = umap.initializeFit(rowsOf(reduced, n, dims));
  for (let e = 0; e < epochs; e++) {
    if (e % 10 === 0) {
      throwIfCancelled(o.signal, "UMAP");
      o.onProgress?.({ done: e, total: epochs, phase: "UMAP" });
      await new Promise((r) => setImmediate(r));
    }
    umap.step();
  }
  const emb = umap.getEmbedding();
  const coords = new Float64Array(n * 2);
  emb.forEach((p, i) => {
    coords[2 * i] = p[0];
    coords[2 * i + 1] = p[1];
  });
  return { coords, params: { neighbours, minDist, epochs, pcaDims: dims } };
}
async function embedStore(store, space, method, o = {}) {
  const t0 = performance.now();
  const all = await store.vectors(space, void 0, o.metric ?? "l2");
  if (all.ids.length === 0)
    throw new ConvLensError("INVALID_ARGUMENT", `The store "${store.dir}" holds no vectors yet.`, "Run `convlens index` first.");
  const want = o.sample ?? (method === "pca" ? all.ids.length : 2e3);
  const ids = stratifiedSample(all.ids, all.labels, want, o.seed ?? 0);
  const rowOf = /* @__PURE__ */ new Map();
  all.ids.forEach((id, i) => rowOf.set(id, i));
  const d = all.dim;
  const data = new Float32Array(ids.length * d);
  const labels = new Int32Array(ids.length);
  ids.forEach((id, i) => {
    const r2 = rowOf.get(id);
    data.set(all.data.subarray(r2 * d, (r2 + 1) * d), i * d);
    labels[i] = all.labels[r2];
  });
  throwIfCancelled(o.signal, "the embedding");
  const r = await embedVectors(method, data, ids.length, d, o);
  return {
    method,
    space: space === "pixels" ? "pixels" : space.layer,
    ids: Int32Array.from(ids),
    labels,
    coords: r.coords,
    params: { ...r.params, sample: ids.length, of: all.ids.length, seed: o.seed ?? 0, metric: o.metric ?? "l2" },
    ms: performance.now() - t0,
    ...r.explained ? { explained: r.explained } : {}
  };
}
function assignment(cost, rows, cols) {
  if (rows > cols)
    throw new Error("assignment: more rows than columns");
  const INF = Infinity;
  const u = new Float64Array(rows + 1);
  const v = new Float64Array(cols + 1);
  const p = new Int32Array(cols + 1);
  const way = new Int32Array(cols + 1);
  const minv = new Float64Array(cols + 1);
  const used = new Uint8Array(cols + 1);
  for (let i = 1; i <= rows; i++) {
    p[0] = i;
    let j0 = 0;
    minv.fill(INF);
    used.fill(0);
    do {
      used[j0] = 1;
      const i0 = p[j0];
      let delta = INF;
      let j1 = 0;
      const base = (i0 - 1) * cols;
      for (let j = 1; j <= cols; j++) {
        if (used[j])
          continue;
        const cur = cost[base + j - 1] - u[i0] - v[j];
        if (cur < minv[j]) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j] < delta) {
          delta = minv[j];
          j1 = j;
        }
      }
      for (let j = 0; j <= cols; j++) {
        if (used[j]) {
          u[p[j]] += delta;
          v[j] -= delta;
        } else
          minv[j] -= delta;
      }
      j0 = j1;
    } while (p[j0] !== 0);
    do {
      const j1 = way[j0];
      p[j0] = p[j1];
      j0 = j1;
    } while (j0);
  }
  const rowToCol = new Int32Array(rows).fill(-1);
  for (let j = 1; j <= cols; j++)
    if (p[j] > 0)
      rowToCol[p[j] - 1] = j - 1;
  return rowToCol;
}
function snapToGrid(coords, n, side, seed = 0) {
  const cellsN = side * side;
  let pick = Array.from({ length: n }, (_, i) => i);
  if (n > cellsN) {
    const rand = seededRandom(seed + 11);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [pick[i], pick[j]] = [pick[j], pick[i]];
    }
    pick = pick.slice(0, cellsN).sort((a2, b) => a2 - b);
  }
  const m = pick.length;
  const norm = new Float64Array(m * 2);
  for (let a2 = 0; a2 < 2; a2++) {
    const order = pick.map((_, i) => i).sort((x, y) => coords[2 * pick[x] + a2] - coords[2 * pick[y] + a2]);
    order.forEach((i, r) => norm[2 * i + a2] = m > 1 ? r / (m - 1) : 0.5);
  }
  const cost = new Float64Array(m * cellsN);
  for (let i = 0; i < m; i++) {
    for (let c = 0; c < cellsN; c++) {
      const cx = side > 1 ? c % side / (side - 1) : 0.5;
      const cy = side > 1 ? 1 - Math.floor(c / side) / (side - 1) : 0.5;
      cost[i * cellsN + c] = (norm[2 * i] - cx) ** 2 + (norm[2 * i + 1] - cy) ** 2;
    }
  }
  const a = assignment(cost, m, cellsN);
  const cells = new Int32Array(cellsN).fill(-1);
  a.forEach((c, i) => {
    if (c >= 0)
      cells[c] = pick[i];
  });
  return { side, cells };
}

export {
  EMBED_METHODS,
  parseEmbedMethod,
  stratifiedSample,
  pca,
  embedVectors,
  embedStore,
  assignment,
  snapToGrid
};
