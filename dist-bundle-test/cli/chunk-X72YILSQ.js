import {
  loadModel
} from "./chunk-P6HER42Z.js";
import {
  openSource
} from "./chunk-A7RQSV7O.js";
import {
  DatasetStore,
  describeWriter,
  modelFingerprint
} from "./chunk-US7IWGJH.js";
import {
  ConvLensError
} from "./chunk-N6ATQ4RF.js";

// dist/methods/dataset/context.js
function checkModel(store, model) {
  const fp = modelFingerprint(model);
  if (fp !== store.manifest.model.fingerprint) {
    throw new ConvLensError("INVALID_ARGUMENT", `Model "${model.name}" is not the model the store "${store.dir}" was made with ("${store.manifest.model.name}").`, store.manifest.model.path ? `Pass --model ${store.manifest.model.path}.` : "It was made with the built-in model: leave out --model.");
  }
}
function storeSource(store, spec, options = {}) {
  const m = store.manifest;
  const source = openSource(spec ?? m.dataset.spec, options);
  if (source.fingerprint !== m.dataset.fingerprint) {
    throw new ConvLensError("INVALID_ARGUMENT", `The dataset at "${spec ?? m.dataset.spec}" has changed since the store "${store.dir}" was made.`, "Index it again (convlens index --fresh), or pass --data with the original files.");
  }
  return source;
}
async function openStoreContext(dir, engine, o = {}) {
  const store = await DatasetStore.open(dir);
  try {
    const model = o.model ?? loadModel(o.modelPath ?? store.manifest.model.path, engine);
    checkModel(store, model);
    const source = storeSource(store, o.data);
    if (o.onNotice) {
      const notice = await incompleteNotice(store);
      if (notice)
        o.onNotice(notice);
    }
    return { store, model, source };
  } catch (e) {
    store.close();
    throw e;
  }
}
var shellWord = (s) => /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
function resumeCommand(store) {
  const m = store.manifest;
  const parts = ["convlens", "index", shellWord(m.dataset.spec), "--store", shellWord(store.dir), "--layers", m.layers.map((l) => l.name).join(","), "--chunk", String(m.chunkSize), "--limit", String(m.dataset.count)];
  if (m.k !== 16)
    parts.push("-k", String(m.k));
  if (m.pool !== "avg")
    parts.push("--pool", m.pool);
  if (m.model.path)
    parts.push("--model", shellWord(m.model.path));
  return parts.join(" ");
}
async function incompleteNotice(store) {
  const s = await store.status();
  if (s.complete)
    return void 0;
  const head = s.chunks === s.totalChunks ? `The store "${store.dir}" holds all ${s.total} images but its scan did not finish (merged top-k and vector indexes are missing).` : `The store "${store.dir}" is incomplete: ${s.images} of ${s.total} images (${s.chunks} of ${s.totalChunks} chunks) are in, and results cover those only.`;
  if (s.writer)
    return `${head} It is being written now by ${describeWriter(s.writer)}.`;
  return `${head} Resume the scan with: ${resumeCommand(store)}`;
}

export {
  checkModel,
  storeSource,
  openStoreContext,
  resumeCommand,
  incompleteNotice
};
