import {
  seededRandom
} from "./chunk-Y3QEK5WU.js";
import {
  ConvLensError
} from "./chunk-N6ATQ4RF.js";

// dist/data/dataset.js
var sampleSize = (ds) => ds.channels * ds.height * ds.width;
function selectSamples(ds, indices, source = ds.source) {
  const per = sampleSize(ds);
  const images = new Uint8Array(indices.length * per);
  const labels = new Uint8Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const k = indices[i];
    images.set(ds.images.subarray(k * per, (k + 1) * per), i * per);
    labels[i] = ds.labels[k];
  }
  return { ...ds, images, labels, count: indices.length, source };
}
function pixelTable(prep, channel = 0) {
  const [lo, hi] = prep.range;
  const mean = prep.mean[channel] ?? prep.mean[0] ?? 0;
  const std = prep.std[channel] ?? prep.std[0] ?? 1;
  const t = new Float32Array(256);
  for (let v = 0; v < 256; v++) {
    const p = prep.invert ? 255 - v : v;
    t[v] = (lo + (hi - lo) * p / 255 - mean) / std;
  }
  return t;
}
function fillBatch(ds, indices, tables, out, onehot) {
  const plane = ds.height * ds.width;
  const per = ds.channels * plane;
  for (let i = 0; i < indices.length; i++) {
    const k = indices[i];
    const src = k * per;
    const dst = i * per;
    for (let c = 0; c < ds.channels; c++) {
      const t = tables[c] ?? tables[0];
      const o = c * plane;
      for (let p = 0; p < plane; p++)
        out[dst + o + p] = t[ds.images[src + o + p]];
    }
  }
  if (onehot) {
    const { data, classes } = onehot;
    data.fill(0, 0, indices.length * classes);
    for (let i = 0; i < indices.length; i++)
      data[i * classes + ds.labels[indices[i]]] = 1;
  }
}
function indicesByClass(labels, classes) {
  const by = Array.from({ length: classes }, () => []);
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i];
    if (y >= classes)
      throw new ConvLensError("INPUT_UNREADABLE", `Label ${y} at sample ${i} is outside 0..${classes - 1}.`);
    by[y].push(i);
  }
  return by;
}
function shuffleInPlace(a, rand) {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
  return a;
}
function stratifiedSplit(labels, classes, fraction, seed) {
  if (!(fraction >= 0 && fraction < 1))
    throw new ConvLensError("INVALID_ARGUMENT", `Split fraction ${fraction} must be in [0, 1).`);
  const rand = seededRandom(seed ^ 388821);
  const second = new Uint8Array(labels.length);
  for (const list of indicesByClass(labels, classes)) {
    const picked = shuffleInPlace(list.slice(), rand).slice(0, Math.round(fraction * list.length));
    for (const i of picked)
      second[i] = 1;
  }
  const a = [];
  const b = [];
  for (let i = 0; i < labels.length; i++)
    (second[i] ? b : a).push(i);
  return { first: Int32Array.from(a), second: Int32Array.from(b) };
}
function stratifiedSubset(labels, classes, perClass, seed) {
  const rand = seededRandom(seed);
  const keep = [];
  indicesByClass(labels, classes).forEach((list, c) => {
    if (list.length < perClass)
      throw new ConvLensError("INVALID_ARGUMENT", `Class ${c} has ${list.length} samples, fewer than the ${perClass} asked for.`);
    keep.push(...shuffleInPlace(list.slice(), rand).slice(0, perClass));
  });
  return Int32Array.from(keep.sort((x, y) => x - y));
}

export {
  sampleSize,
  selectSamples,
  pixelTable,
  fillBatch,
  stratifiedSplit,
  stratifiedSubset
};
