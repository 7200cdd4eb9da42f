// The linear system behind ROAD's noisy linear imputation (Rong et al. 2022): every removed pixel
// is the weighted mean of its 8 neighbours (1/6 direct, 1/12 diagonal), the kept ones fixed. It
// is a discrete Laplace equation on the holes. Conjugate gradients with a Jacobi preconditioner
// need about as many iterations as a hole is wide (a smooth map removes whole regions: 2.5 s for
// one 90% MoRF step of Grad-CAM on a 224x224 photo, 15 s for the 18 steps of one ROAD curve, most
// of the studio's explanation time with metrics on). A multigrid V-cycle as the preconditioner
// makes the iteration count independent of the hole's size; the answer is the same system's,
// solved to the same tolerance.

/** The 8-neighbour weights: [dy, dx, weight]. */
export const NEIGHBOURS: readonly (readonly [number, number, number])[] = [
  [1, 1, 1 / 12],
  [0, 1, 1 / 6],
  [-1, 1, 1 / 12],
  [1, -1, 1 / 12],
  [0, -1, 1 / 6],
  [-1, -1, 1 / 12],
  [1, 0, 1 / 6],
  [-1, 0, 1 / 6],
];

/** Relative residual the solve stops at (|b - A v| <= RESIDUAL_TOLERANCE |b|). */
export const RESIDUAL_TOLERANCE = 1e-7;

/** Jacobi sweeps before and after each coarse-grid correction (the same number both ways keeps the V-cycle symmetric, as CG needs). */
const SMOOTHING_SWEEPS = 1;
/** Damping of the Jacobi sweeps (smooths the 8-neighbour stencil's high frequencies without overshooting). */
const JACOBI_DAMPING = 0.8;
/**
 * The multigrid preconditioner pays where at least this share of the removed pixels lies in
 * wholly removed 2x2 blocks (a smooth map's regions); scattered pixels (a saliency map's) leave
 * the coarse grids nearly empty, and plain Jacobi-preconditioned CG on the removed pixels alone
 * converges in a few dozen cheaper iterations.
 */
const MULTIGRID_SHARE = 0.5;
/** A grid this small (in pixels) is solved by sweeps alone. */
const COARSEST_PIXELS = 64;
const COARSEST_SWEEPS = 40;

/**
 * One grid of the hierarchy: which pixels are unknown (removed at the finest level; at a coarser
 * one, those with an unknown child) and each pixel's diagonal (the weights of its neighbours
 * inside the image). The operator on an error e that is 0 at known pixels is
 * (A e)_p = diag_p e_p - sum_q w_pq e_q at unknown p, 0 elsewhere.
 */
interface Grid {
  h: number;
  w: number;
  unknown: Uint8Array;
  diag: Float64Array;
  coarser?: Grid;
  /** scratch for the V-cycle at this level */
  e: Float64Array;
  r: Float64Array;
  t: Float64Array;
}

function grid(h: number, w: number, unknown: Uint8Array): Grid {
  const diag = new Float64Array(h * w);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (const [dy, dx, wt] of NEIGHBOURS) {
        const yy = y + dy;
        const xx = x + dx;
        if (yy >= 0 && xx >= 0 && yy < h && xx < w) s += wt;
      }
      diag[y * w + x] = s;
    }
  }
  const g: Grid = { h, w, unknown, diag, e: new Float64Array(h * w), r: new Float64Array(h * w), t: new Float64Array(h * w) };
  if (h * w > COARSEST_PIXELS && (h > 1 || w > 1)) {
    const hc = Math.ceil(h / 2);
    const wc = Math.ceil(w / 2);
    // A coarse pixel stands for its children's error only where all of them are unknown: a kept
    // child pins the error there near 0. Scattered holes (a saliency map's pixels) then leave the
    // coarse grid empty and the smoothing does the work; whole regions coarsen level by level.
    const coarse = new Uint8Array(hc * wc).fill(1);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if (!unknown[y * w + x]) coarse[(y >> 1) * wc + (x >> 1)] = 0;
    const any = coarse.includes(1);
    if (any) g.coarser = grid(hc, wc, coarse);
  }
  return g;
}

/** out = A v on the unknown pixels (v is 0 at known ones), 0 elsewhere. */
function apply(g: Grid, v: Float64Array, out: Float64Array): void {
  const { h, w, unknown, diag } = g;
  const side = 1 / 6;
  const corner = 1 / 12;
  for (let y = 0; y < h; y++) {
    const inner = y > 0 && y < h - 1;
    for (let x = 0; x < w; x++) {
      const p = y * w + x;
      if (!unknown[p]) {
        out[p] = 0;
        continue;
      }
      if (inner && x > 0 && x < w - 1) {
        // away from the border: all 8 neighbours, without bounds checks
        out[p] = diag[p]! * v[p]! - side * (v[p - 1]! + v[p + 1]! + v[p - w]! + v[p + w]!) - corner * (v[p - w - 1]! + v[p - w + 1]! + v[p + w - 1]! + v[p + w + 1]!);
        continue;
      }
      let s = diag[p]! * v[p]!;
      for (const [dy, dx, wt] of NEIGHBOURS) {
        const yy = y + dy;
        const xx = x + dx;
        if (yy >= 0 && xx >= 0 && yy < h && xx < w) s -= wt * v[yy * w + xx]!;
      }
      out[p] = s;
    }
  }
}

/** Damped Jacobi sweeps on A e = r, from the e given. */
function smooth(g: Grid, e: Float64Array, r: Float64Array, sweeps: number): void {
  for (let k = 0; k < sweeps; k++) {
    apply(g, e, g.t);
    for (let p = 0; p < e.length; p++) if (g.unknown[p]) e[p]! += (JACOBI_DAMPING * (r[p]! - g.t[p]!)) / g.diag[p]!;
  }
}

/**
 * One V-cycle from e = 0: an approximate solution of A e = r, symmetric and positive definite in r
 * (equal smoothing before and after, restriction the transpose of the piecewise-constant
 * prolongation), so it can precondition conjugate gradients. The coarse grid's operator is the
 * same stencil one level up; the residual is summed over children, as the stencil on a grid of
 * twice the spacing is a quarter of the fine one's Laplacian.
 */
function vCycle(g: Grid, r: Float64Array, e: Float64Array): void {
  e.fill(0);
  if (!g.coarser) {
    smooth(g, e, r, COARSEST_SWEEPS);
    return;
  }
  smooth(g, e, r, SMOOTHING_SWEEPS);
  apply(g, e, g.t);
  const c = g.coarser;
  c.r.fill(0);
  for (let y = 0; y < g.h; y++) {
    for (let x = 0; x < g.w; x++) {
      const p = y * g.w + x;
      if (g.unknown[p]) c.r[(y >> 1) * c.w + (x >> 1)]! += r[p]! - g.t[p]!;
    }
  }
  vCycle(c, c.r, c.e);
  for (let y = 0; y < g.h; y++) {
    for (let x = 0; x < g.w; x++) {
      const p = y * g.w + x;
      if (g.unknown[p]) e[p]! += c.e[(y >> 1) * c.w + (x >> 1)]!;
    }
  }
  smooth(g, e, r, SMOOTHING_SWEEPS);
}

/**
 * The imputation system in one of two layouts: a vector `slot` per removed pixel, `apply` the
 * matrix and `precondition` an approximate inverse (symmetric positive definite, as CG needs).
 */
interface ImputationSystem {
  size: number;
  slots: Int32Array;
  apply(v: Float64Array, out: Float64Array): void;
  precondition(r: Float64Array, z: Float64Array): void;
}

/**
 * Solves for the removed pixels of each channel plane of `image` ([C, H, W], in place): the
 * value of every removed pixel becomes the weighted mean of its neighbours. Returns the
 * conjugate-gradient iterations per channel.
 */
export function solveImputation(image: Float32Array, c: number, h: number, w: number, removed: Uint8Array): number[] {
  const hw = h * w;
  const unknowns: number[] = [];
  for (let p = 0; p < hw; p++) if (removed[p]) unknowns.push(p);
  const g = grid(h, w, removed);
  const system = coarsenedShare(g) < MULTIGRID_SHARE ? compactSystem(h, w, removed, unknowns) : gridSystem(g, unknowns);
  const { size, slots } = system;
  const v = new Float64Array(size);
  const b = new Float64Array(size);
  const iterations: number[] = [];
  for (let ch = 0; ch < c; ch++) {
    const plane = image.subarray(ch * hw, (ch + 1) * hw);
    // b: the kept neighbours' share; start from the mean of the kept pixels
    let known = 0;
    let count = 0;
    for (let p = 0; p < hw; p++) if (!removed[p]) (known += plane[p]!), count++;
    v.fill(0);
    b.fill(0);
    unknowns.forEach((p, i) => {
      const y = Math.floor(p / w);
      const x = p % w;
      let s = 0;
      for (const [dy, dx, wt] of NEIGHBOURS) {
        const yy = y + dy;
        const xx = x + dx;
        if (yy < 0 || xx < 0 || yy >= h || xx >= w) continue;
        const q = yy * w + xx;
        if (!removed[q]) s += wt * plane[q]!;
      }
      b[slots[i]!] = s;
      v[slots[i]!] = known / count;
    });
    iterations.push(conjugateGradients(system, b, v));
    unknowns.forEach((p, i) => (plane[p] = v[slots[i]!]!));
  }
  return iterations;
}

/** Preconditioned conjugate gradients on A v = b from the v given, to RESIDUAL_TOLERANCE; returns the iterations. */
function conjugateGradients(system: ImputationSystem, b: Float64Array, v: Float64Array): number {
  const n = system.size;
  const r = new Float64Array(n);
  const z = new Float64Array(n);
  const d = new Float64Array(n);
  const ad = new Float64Array(n);
  let bnorm = 0;
  for (let i = 0; i < n; i++) bnorm += b[i]! * b[i]!;
  bnorm = Math.sqrt(bnorm) || 1;
  system.apply(v, ad);
  for (let i = 0; i < n; i++) r[i] = b[i]! - ad[i]!;
  system.precondition(r, z);
  d.set(z);
  let rz = 0;
  for (let i = 0; i < n; i++) rz += r[i]! * z[i]!;
  let iter = 0;
  for (; iter < 10 * n + 100; iter++) {
    let rnorm = 0;
    for (let i = 0; i < n; i++) rnorm += r[i]! * r[i]!;
    if (Math.sqrt(rnorm) <= RESIDUAL_TOLERANCE * bnorm) break;
    system.apply(d, ad);
    let dad = 0;
    for (let i = 0; i < n; i++) dad += d[i]! * ad[i]!;
    if (!(dad > 0)) break;
    const alpha = rz / dad;
    for (let i = 0; i < n; i++) {
      v[i]! += alpha * d[i]!;
      r[i]! -= alpha * ad[i]!;
    }
    system.precondition(r, z);
    let rzNew = 0;
    for (let i = 0; i < n; i++) rzNew += r[i]! * z[i]!;
    const beta = rzNew / rz;
    rz = rzNew;
    for (let i = 0; i < n; i++) d[i] = z[i]! + beta * d[i]!;
  }
  return iter;
}

/** The whole grid as the vector (kept pixels held at 0), preconditioned by a multigrid V-cycle. */
function gridSystem(g: Grid, unknowns: readonly number[]): ImputationSystem {
  return { size: g.h * g.w, slots: Int32Array.from(unknowns), apply: (v, out) => apply(g, v, out), precondition: (r, z) => vCycle(g, r, z) };
}

/** The share of the removed pixels whose 2x2 block is removed whole (what the coarse grid can correct). */
function coarsenedShare(g: Grid): number {
  const c = g.coarser;
  if (!c) return 0;
  let unknown = 0;
  let covered = 0;
  for (let y = 0; y < g.h; y++) {
    for (let x = 0; x < g.w; x++) {
      if (!g.unknown[y * g.w + x]) continue;
      unknown++;
      if (c.unknown[(y >> 1) * c.w + (x >> 1)]) covered++;
    }
  }
  return unknown ? covered / unknown : 0;
}

/**
 * The removed pixels alone as the vector (m unknowns, sparse rows), preconditioned by the
 * diagonal (Jacobi): the system for scattered holes.
 */
function compactSystem(h: number, w: number, removed: Uint8Array, unknowns: readonly number[]): ImputationSystem {
  const m = unknowns.length;
  const index = new Int32Array(h * w).fill(-1);
  unknowns.forEach((p, i) => (index[p] = i));
  const diag = new Float64Array(m);
  const nbr = new Int32Array(m * 8).fill(-1);
  const nw = new Float64Array(m * 8);
  unknowns.forEach((p, i) => {
    const y = Math.floor(p / w);
    const x = p % w;
    NEIGHBOURS.forEach(([dy, dx, wt], k) => {
      const yy = y + dy;
      const xx = x + dx;
      if (yy < 0 || xx < 0 || yy >= h || xx >= w) return;
      diag[i]! += wt;
      const q = yy * w + xx;
      if (removed[q]) {
        nbr[i * 8 + k] = index[q]!;
        nw[i * 8 + k] = wt;
      }
    });
  });
  return {
    size: m,
    slots: Int32Array.from({ length: m }, (_, i) => i),
    apply: (v, out) => {
      for (let i = 0; i < m; i++) {
        let s = diag[i]! * v[i]!;
        for (let k = 0; k < 8; k++) {
          const j = nbr[i * 8 + k]!;
          if (j >= 0) s -= nw[i * 8 + k]! * v[j]!;
        }
        out[i] = s;
      }
    },
    precondition: (r, z) => {
      for (let i = 0; i < m; i++) z[i] = r[i]! / diag[i]!;
    },
  };
}
