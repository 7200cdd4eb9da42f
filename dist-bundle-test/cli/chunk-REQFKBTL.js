import {
  throwIfCancelled
} from "./chunk-GNZAA2KB.js";
import {
  ConvLensError
} from "./chunk-N6ATQ4RF.js";

// dist/methods/dataset/chunk.js
function describeLayers(model, names) {
  if (names.length === 0)
    throw new ConvLensError("INVALID_ARGUMENT", "No layers to scan.", "Pass --layers (see `convlens summary`), or leave it out for the model profile's feature layers.");
  const byName = new Map(model.pickableValues().map((p) => [p.name, p]));
  return [...new Set(names.map((n) => model.resolveLayer(n)))].map((name) => {
    const shape = model.facts(name).shape ?? [];
    const rest = shape.slice(1);
    if (rest.some((d) => typeof d !== "number") || rest.length !== 3 && rest.length !== 1) {
      throw new ConvLensError("INVALID_ARGUMENT", `Layer "${name}" has shape [${shape.join(", ")}]; the dataset lens scans feature maps [N, C, H, W] or vectors [N, D].`, "Pick a conv/activation/pooling layer or a dense layer (see `convlens summary`).");
    }
    const [c, h = 1, w = 1] = rest;
    return { name, op: byName.get(name)?.op ?? "", channels: c, height: h, width: w, dim: c };
  });
}
function defaultPixelShape(model) {
  const [, c, h, w] = model.input.shape;
  const f = Math.max(1, Math.ceil(Math.max(h, w) / 32));
  return [c, Math.ceil(h / f), Math.ceil(w / f)];
}
function poolPixels(x, off, c, H, W, h, w, out, o) {
  if (h === H && w === W) {
    out.set(x.subarray(off, off + c * H * W), o);
    return;
  }
  for (let ch = 0; ch < c; ch++) {
    for (let i = 0; i < h; i++) {
      const y0 = Math.floor(i * H / h);
      const y1 = Math.max(y0 + 1, Math.floor((i + 1) * H / h));
      for (let j = 0; j < w; j++) {
        const x0 = Math.floor(j * W / w);
        const x1 = Math.max(x0 + 1, Math.floor((j + 1) * W / w));
        let s = 0;
        for (let y = y0; y < y1; y++)
          for (let xx = x0; xx < x1; xx++)
            s += x[off + ch * H * W + y * W + xx];
        out[o + ch * h * w + i * w + j] = s / ((y1 - y0) * (x1 - x0));
      }
    }
  }
}
async function scanChunk(model, source, settings, chunk, start, end, job = {}) {
  const t0 = performance.now();
  const n = end - start;
  const [, C, H, W] = model.input.shape;
  const per = C * H * W;
  const prep = model.meta.preprocessing;
  const [pc, ph, pw] = settings.pixelShape;
  const pixPer = pc * ph * pw;
  const pixels = new Float32Array(n * pixPer);
  const names = settings.layers.map((l) => l.name);
  const maxV = settings.layers.map((l) => new Float32Array(l.channels * n));
  const maxP = settings.layers.map((l) => new Int32Array(l.channels * n));
  const features = settings.layers.map((l) => new Float32Array(n * l.dim));
  const sumMean = settings.layers.map((l) => new Float64Array(l.channels));
  const bs = Math.max(1, settings.batchSize);
  const buf = new Float32Array(Math.min(bs, n) * per);
  for (let s = 0; s < n; s += bs) {
    throwIfCancelled(job.signal, "the scan");
    const e = Math.min(n, s + bs);
    const m = e - s;
    const data = m * per === buf.length ? buf : buf.subarray(0, m * per);
    await source.fill(start + s, start + e, prep, data);
    for (let i = 0; i < m; i++)
      poolPixels(data, i * per, C, H, W, ph, pw, pixels, (s + i) * pixPer);
    const x = { dtype: "float32", dims: [m, C, H, W], data };
    const out = await model.run(x, names);
    settings.layers.forEach((l, li) => {
      const v = out[l.name].data;
      const plane = l.height * l.width;
      const mv = maxV[li];
      const mp = maxP[li];
      const f = features[li];
      const sm = sumMean[li];
      for (let i = 0; i < m; i++) {
        for (let c = 0; c < l.channels; c++) {
          const base = (i * l.channels + c) * plane;
          let best = v[base];
          let at = 0;
          let sum = 0;
          for (let p = 0; p < plane; p++) {
            const a = v[base + p];
            sum += a;
            if (a > best) {
              best = a;
              at = p;
            }
          }
          const mean = sum / plane;
          mv[c * n + s + i] = best;
          mp[c * n + s + i] = at;
          sm[c] += mean;
          f[(s + i) * l.dim + c] = settings.pool === "max" ? best : mean;
        }
      }
    });
    job.onBatch?.(m);
  }
  const kk = Math.min(settings.k, n);
  const layers = settings.layers.map((l, li) => {
    const mv = maxV[li];
    const mp = maxP[li];
    const topValue = new Float32Array(l.channels * kk);
    const topImage = new Int32Array(l.channels * kk);
    const topY = new Int32Array(l.channels * kk);
    const topX = new Int32Array(l.channels * kk);
    const sumMax = new Float64Array(l.channels);
    const max = new Float32Array(l.channels);
    const order = new Int32Array(n);
    for (let c = 0; c < l.channels; c++) {
      const vals = mv.subarray(c * n, (c + 1) * n);
      let s = 0;
      let best = -Infinity;
      for (let i = 0; i < n; i++) {
        s += vals[i];
        if (vals[i] > best)
          best = vals[i];
      }
      sumMax[c] = s;
      max[c] = best;
      for (let i = 0; i < n; i++)
        order[i] = i;
      const top = selectTop(order, vals, kk);
      for (let r = 0; r < kk; r++) {
        const i = top[r];
        const pos = mp[c * n + i];
        topValue[c * kk + r] = vals[i];
        topImage[c * kk + r] = start + i;
        topY[c * kk + r] = Math.floor(pos / l.width);
        topX[c * kk + r] = pos % l.width;
      }
    }
    return { features: features[li], topValue, topImage, topY, topX, kk, sumMean: sumMean[li], sumMax, max };
  });
  return { chunk, start, end, layers, pixels, ms: performance.now() - t0, worker: job.worker ?? `pid ${process.pid}` };
}
function selectTop(order, vals, k) {
  const cmp = (a, b) => vals[b] - vals[a] || a - b;
  if (k * 8 >= order.length)
    return Int32Array.from(Array.from(order).sort(cmp).slice(0, k));
  const keep = [];
  for (let j = 0; j < order.length; j++) {
    const i = order[j];
    if (keep.length === k && cmp(i, keep[k - 1]) >= 0)
      continue;
    let p = keep.length === k ? k - 1 : keep.length;
    if (keep.length < k)
      keep.push(i);
    while (p > 0 && cmp(i, keep[p - 1]) < 0) {
      keep[p] = keep[p - 1];
      p--;
    }
    keep[p] = i;
  }
  return Int32Array.from(keep);
}
function encodeChunk(r) {
  const b64 = (a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString("base64");
  return JSON.stringify({
    chunk: r.chunk,
    start: r.start,
    end: r.end,
    ms: r.ms,
    worker: r.worker,
    pixels: b64(r.pixels),
    layers: r.layers.map((l) => ({
      kk: l.kk,
      features: b64(l.features),
      topValue: b64(l.topValue),
      topImage: b64(l.topImage),
      topY: b64(l.topY),
      topX: b64(l.topX),
      sumMean: b64(l.sumMean),
      sumMax: b64(l.sumMax),
      max: b64(l.max)
    }))
  });
}
function decodeChunk(text) {
  const o = JSON.parse(text);
  const buf = (s) => {
    const b = Buffer.from(s, "base64");
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
  };
  return {
    chunk: o.chunk,
    start: o.start,
    end: o.end,
    ms: o.ms,
    worker: o.worker,
    pixels: new Float32Array(buf(o.pixels)),
    layers: o.layers.map((l) => ({
      kk: l["kk"],
      features: new Float32Array(buf(l["features"])),
      topValue: new Float32Array(buf(l["topValue"])),
      topImage: new Int32Array(buf(l["topImage"])),
      topY: new Int32Array(buf(l["topY"])),
      topX: new Int32Array(buf(l["topX"])),
      sumMean: new Float64Array(buf(l["sumMean"])),
      sumMax: new Float64Array(buf(l["sumMax"])),
      max: new Float32Array(buf(l["max"]))
    }))
  };
}

export {
  describeLayers,
  defaultPixelShape,
  scanChunk,
  encodeChunk,
  decodeChunk
};
