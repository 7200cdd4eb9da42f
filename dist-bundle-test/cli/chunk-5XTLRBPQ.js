import {
  settingsOf
} from "./chunk-US7IWGJH.js";
import {
  scanChunk
} from "./chunk-REQFKBTL.js";

// dist/methods/dataset/neighbors.js
async function queryVectors(model, store, x) {
  const n = x.dims[0];
  const src = {
    kind: "list",
    spec: "(query)",
    description: "query",
    count: n,
    classes: [],
    fingerprint: "",
    item: () => ({ label: -1, name: "query" }),
    async fill(start, end, _prep, out) {
      const per = out.length / (end - start);
      out.set(x.data.subarray(start * per, end * per));
    },
    async display() {
      throw new Error("no display for queries");
    }
  };
  const r = await scanChunk(model, src, settingsOf(store.manifest, n), 0, 0, n);
  return { features: r.layers.map((l) => l.features), pixels: r.pixels };
}
async function nearestNeighbours(model, store, q, o) {
  const k = o.k ?? 8;
  const metric = o.metric ?? "l2";
  const pixelMetric = o.pixelMetric ?? "l2";
  const li = store.layerIndex(o.layer);
  let feature;
  let pixels;
  if (q.image !== void 0) {
    feature = (await store.vectors({ layer: o.layer }, [q.image])).data;
    pixels = (await store.vectors("pixels", [q.image])).data;
  } else {
    const v = await queryVectors(model, store, q.x);
    feature = v.features[li];
    pixels = v.pixels;
  }
  const t0 = performance.now();
  const opts = { ...o.exact ? { exact: true } : {}, ...q.image !== void 0 ? { exclude: q.image } : {} };
  const [f, p] = await Promise.all([store.nearest({ layer: o.layer }, feature, k, metric, opts), store.nearest("pixels", pixels, k, pixelMetric, opts)]);
  const ms = performance.now() - t0;
  return { layer: o.layer, metric, pixelMetric, feature: f, pixel: p, ms, indexed: await store.indexed({ layer: o.layer }, metric) };
}

export {
  queryVectors,
  nearestNeighbours
};
