// dist/methods/explain/arrays.js
function nchw(t) {
  if (t.dims.length !== 4)
    throw new Error(`expected a 4-D tensor, got [${t.dims.join(", ")}]`);
  return t.dims;
}
function f32(dims, data) {
  const n = dims.reduce((a, b) => a * b, 1);
  return { dtype: "float32", dims: [...dims], data: data ?? new Float32Array(n) };
}
function sliceBatch(t, start, end) {
  const per = t.data.length / t.dims[0];
  return f32([end - start, ...t.dims.slice(1)], t.data.slice(start * per, end * per));
}
function resizeBilinear(src, h, w, H, W, alignCorners = false, out = new Float32Array(H * W), outOffset = 0) {
  const r = new BilinearResampler(h, w, H, W, alignCorners).load(src);
  for (let y = 0; y < H; y++)
    r.rowInto(y, out, outOffset + y * W);
  return out;
}
var BilinearResampler = class {
  h;
  w;
  H;
  W;
  yi0;
  yi1;
  yf;
  xi0;
  xi1;
  xf;
  rows;
  constructor(h, w, H, W, alignCorners) {
    this.h = h;
    this.w = w;
    this.H = H;
    this.W = W;
    const coords = (n, N) => {
      const i0 = new Int32Array(N);
      const i1 = new Int32Array(N);
      const f = new Float32Array(N);
      for (let o = 0; o < N; o++) {
        let s = alignCorners ? N > 1 ? o * (n - 1) / (N - 1) : 0 : (o + 0.5) * n / N - 0.5;
        if (s < 0)
          s = 0;
        if (s > n - 1)
          s = n - 1;
        const a = Math.floor(s);
        i0[o] = a;
        i1[o] = Math.min(a + 1, n - 1);
        f[o] = s - a;
      }
      return [i0, i1, f];
    };
    [this.yi0, this.yi1, this.yf] = coords(h, H);
    [this.xi0, this.xi1, this.xf] = coords(w, W);
    this.rows = new Float64Array(h * W);
  }
  /** Takes a new source plane [h, w]. */
  load(src) {
    const { h, w, W, rows, xi0, xi1, xf } = this;
    for (let r = 0; r < h; r++) {
      const base = r * w;
      for (let x = 0; x < W; x++) {
        const a = src[base + xi0[x]];
        rows[r * W + x] = a + (src[base + xi1[x]] - a) * xf[x];
      }
    }
    return this;
  }
  /** Output row y, rounded to float32, into `out` from `offset`. */
  rowInto(y, out, offset) {
    const { W, rows } = this;
    const r0 = this.yi0[y] * W;
    const r1 = this.yi1[y] * W;
    const fy = this.yf[y];
    for (let x = 0; x < W; x++) {
      const top = rows[r0 + x];
      out[offset + x] = top + (rows[r1 + x] - top) * fy;
    }
  }
  /** The output value at (y, x), as resizeBilinear stores it. */
  at(y, x) {
    const top = this.rows[this.yi0[y] * this.W + x];
    return Math.fround(top + (this.rows[this.yi1[y] * this.W + x] - top) * this.yf[y]);
  }
};
function resizeNearest(src, h, w, H, W, out = new Float32Array(H * W), outOffset = 0) {
  for (let y = 0; y < H; y++) {
    const sy = Math.min(h - 1, Math.floor(y * h / H));
    for (let x = 0; x < W; x++)
      out[outOffset + y * W + x] = src[sy * w + Math.min(w - 1, Math.floor(x * w / W))];
  }
  return out;
}
function upsampleMaps(t, H, W, mode = "bilinear") {
  const [n, c, h, w] = nchw(t);
  if (c !== 1)
    throw new Error("upsampleMaps: expected one channel");
  const out = new Float32Array(n * H * W);
  const data = t.data;
  for (let i = 0; i < n; i++) {
    const plane = data.subarray(i * h * w, (i + 1) * h * w);
    if (h === H && w === W)
      out.set(plane, i * H * W);
    else if (mode === "bilinear")
      resizeBilinear(plane, h, w, H, W, false, out, i * H * W);
    else
      resizeNearest(plane, h, w, H, W, out, i * H * W);
  }
  return out;
}
function gaussianBlur(src, h, w, sigma) {
  if (!(sigma > 0))
    return src.slice();
  const radius = Math.max(1, Math.ceil(4 * sigma));
  const kernel = new Float64Array(2 * radius + 1);
  let total = 0;
  for (let k = -radius; k <= radius; k++)
    total += kernel[k + radius] = Math.exp(-(k * k) / (2 * sigma * sigma));
  for (let k = 0; k < kernel.length; k++)
    kernel[k] /= total;
  const reflect = (i, n) => {
    const period = 2 * n;
    let j = (i % period + period) % period;
    if (j >= n)
      j = period - 1 - j;
    return j;
  };
  const tmp = new Float64Array(h * w);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let k = -radius; k <= radius; k++)
        s += kernel[k + radius] * src[y * w + reflect(x + k, w)];
      tmp[y * w + x] = s;
    }
  }
  const out = new Float32Array(h * w);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let k = -radius; k <= radius; k++)
        s += kernel[k + radius] * tmp[reflect(y + k, h) * w + x];
      out[y * w + x] = s;
    }
  }
  return out;
}
function blurBatch(t, sigma) {
  const [n, c, h, w] = nchw(t);
  const data = t.data;
  const out = new Float32Array(data.length);
  for (let p = 0; p < n * c; p++)
    out.set(gaussianBlur(data.subarray(p * h * w, (p + 1) * h * w), h, w, sigma), p * h * w);
  return f32(t.dims, out);
}
function reduceChannels(t, how) {
  const [n, c, h, w] = nchw(t);
  const hw = h * w;
  const data = t.data;
  const out = new Float32Array(n * hw);
  for (let i = 0; i < n; i++) {
    for (let ch = 0; ch < c; ch++) {
      const base = (i * c + ch) * hw;
      const o = i * hw;
      for (let p = 0; p < hw; p++) {
        const v = data[base + p];
        if (how === "sum")
          out[o + p] += v;
        else if (how === "abs-sum")
          out[o + p] += Math.abs(v);
        else if (how === "square-sum")
          out[o + p] += v * v;
        else if (ch === 0 || Math.abs(v) > out[o + p])
          out[o + p] = Math.abs(v);
      }
    }
  }
  return out;
}

export {
  nchw,
  f32,
  sliceBatch,
  resizeBilinear,
  BilinearResampler,
  resizeNearest,
  upsampleMaps,
  blurBatch,
  reduceChannels
};
