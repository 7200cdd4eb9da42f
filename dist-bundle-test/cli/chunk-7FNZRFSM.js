import {
  Trainer,
  buildForwardGraph,
  buildTrainingGraph,
  describeSchedule,
  fit,
  resumableCheckpoint,
  resumableRun
} from "./chunk-3LLE3VGN.js";
import {
  writeMetadata
} from "./chunk-P6HER42Z.js";
import {
  fillBatch,
  pixelTable,
  sampleSize,
  selectSamples,
  stratifiedSplit
} from "./chunk-EQEDVHDE.js";
import {
  throwIfCancelled
} from "./chunk-GNZAA2KB.js";
import {
  ConvLensError
} from "./chunk-N6ATQ4RF.js";

// dist/training/classification.js
async function evaluateClassifier(logitsOf, ds, prep, labels, options = {}) {
  const K = labels.length;
  const batch = options.batchSize ?? 256;
  const per = sampleSize(ds);
  const tables = Array.from({ length: ds.channels }, (_, c) => pixelTable(prep, c));
  const buf = new Float32Array(batch * per);
  const confusion = new Int32Array(K * K);
  let lossSum = 0;
  const idx = new Int32Array(batch);
  for (let start = 0; start < ds.count; start += batch) {
    throwIfCancelled(options.signal, "the evaluation");
    const n = Math.min(batch, ds.count - start);
    for (let i = 0; i < n; i++)
      idx[i] = start + i;
    const sel = idx.subarray(0, n);
    fillBatch(ds, sel, tables, buf);
    const logits = await logitsOf({ dtype: "float32", dims: [n, ds.channels, ds.height, ds.width], data: buf.subarray(0, n * per) });
    const classes = logits.data.length / n;
    if (classes !== K)
      throw new ConvLensError("MODEL_UNSUPPORTED", `The model outputs ${classes} classes; the dataset has ${K}.`, "Evaluate a model trained on this dataset.");
    const data = logits.data;
    for (let i = 0; i < n; i++) {
      const row = i * K;
      let best = 0;
      let max = -Infinity;
      for (let k = 0; k < K; k++)
        if (data[row + k] > max)
          max = data[row + k], best = k;
      let s = 0;
      for (let k = 0; k < K; k++)
        s += Math.exp(data[row + k] - max);
      const y = ds.labels[start + i];
      lossSum += Math.log(s) + max - data[row + y];
      confusion[y * K + best]++;
    }
    options.onProgress?.({ done: start + n, total: ds.count, phase: "evaluating" });
  }
  return summarizeConfusion(confusion, labels, lossSum / Math.max(1, ds.count));
}
function summarizeConfusion(confusion, labels, loss = NaN) {
  const K = labels.length;
  let correct = 0;
  let total = 0;
  const perClass = labels.map((label, y) => {
    let t = 0;
    for (let k = 0; k < K; k++)
      t += confusion[y * K + k];
    const c = confusion[y * K + y];
    correct += c;
    total += t;
    return { label, accuracy: t ? c / t : NaN, correct: c, total: t };
  });
  return { accuracy: total ? correct / total : NaN, loss, correct, total, confusion, perClass };
}
async function trainClassifier(engine, run, data, options = {}) {
  const { model, labels, preprocessing: prep, config } = run;
  const K = labels.length;
  const input = model.realInputs()[0];
  if (!input || model.realInputs().length !== 1)
    throw new ConvLensError("MODEL_UNSUPPORTED", "A classifier to train needs exactly one input.");
  const shape = input.shape ?? [];
  const ds = data.train;
  if (shape.length !== 4 || shape[1] !== ds.channels || shape[2] !== ds.height || shape[3] !== ds.width) {
    throw new ConvLensError("SHAPE_MISMATCH", `The model input "${input.name}" has shape [${shape.join(", ")}]; the data is [N, ${ds.channels}, ${ds.height}, ${ds.width}].`, "Train a model whose input matches the images.");
  }
  const split = config.validationFraction > 0 ? stratifiedSplit(ds.labels, K, config.validationFraction, config.seed) : void 0;
  const train = split ? selectSamples(ds, split.first) : ds;
  const val = split ? selectSamples(ds, split.second) : void 0;
  const training = buildTrainingGraph(model, { loss: "cross-entropy" });
  const trainer = new Trainer(engine, training, model.initializers, { optimizer: config.optimizer, ...config.clipNorm ? { clipNorm: config.clipNorm } : {} });
  const logitsName = training.prediction;
  const inputName = input.name;
  const per = sampleSize(train);
  const tables = Array.from({ length: train.channels }, (_, c) => pixelTable(prep, c));
  const xBuf = new Float32Array(config.batchSize * per);
  const yBuf = new Float32Array(config.batchSize * K);
  const flipRow = new Float32Array(train.width);
  const fitData = {
    size: train.count,
    batch(indices, step) {
      const n = indices.length;
      fillBatch(train, indices, tables, xBuf, { data: yBuf, classes: K });
      if (config.augmentFlip)
        flipHalf(xBuf, n, train, config.seed, step, flipRow);
      return {
        [inputName]: { dtype: "float32", dims: [n, train.channels, train.height, train.width], data: xBuf.subarray(0, n * per) },
        [training.targets]: { dtype: "float32", dims: [n, K], data: yBuf.subarray(0, n * K) }
      };
    },
    score(out, indices) {
      const logits = out[logitsName].data;
      let correct = 0;
      for (let i = 0; i < indices.length; i++)
        if (argmax(logits, i * K, K) === train.labels[indices[i]])
          correct++;
      return { accuracy: correct };
    }
  };
  const fed = [...trainer.params.keys(), ...trainer.buffers.keys()];
  const forward = await engine.compileOnce(buildForwardGraph(model, fed, [logitsName]));
  const logitsOf = async (x) => {
    const feeds = { [inputName]: x };
    for (const [n, t] of trainer.state())
      feeds[n] = t;
    return (await forward.run(feeds))[logitsName];
  };
  const evalBatch = config.evalBatch ?? 256;
  const withoutProgress = options.signal ? { signal: options.signal } : {};
  try {
    const result = await fit(trainer, fitData, { epochs: config.epochs, batchSize: config.batchSize, seed: config.seed, lr: config.lr, schedule: config.schedule, warmupSteps: config.warmupSteps }, {
      ...options,
      ...options.checkpoint ? { checkpoint: resumableCheckpoint(options.checkpoint, model, () => ({ meta: { classifier: { labels, preprocessing: prep, config, provenance: run.provenance ?? {} } } })) } : {},
      ...val ? {
        validate: async () => {
          const m = await evaluateClassifier(logitsOf, val, prep, labels, { ...withoutProgress, batchSize: evalBatch });
          return { loss: m.loss, accuracy: m.accuracy };
        }
      } : {}
    });
    const last = result.history[result.history.length - 1];
    const metrics = {};
    if (last) {
      metrics.train_loss = round(last.loss);
      if (last.metrics.accuracy !== void 0)
        metrics.train_accuracy = round(last.metrics.accuracy);
      if (last.validation) {
        metrics.val_loss = round(last.validation.loss);
        metrics.val_accuracy = round(last.validation.accuracy);
      }
    }
    let test;
    if (data.test && result.completed) {
      options.log?.(`evaluating on ${data.test.count} test images`);
      test = await evaluateClassifier(logitsOf, data.test, prep, labels, { ...withoutProgress, batchSize: evalBatch });
      metrics.test_loss = round(test.loss);
      metrics.test_accuracy = round(test.accuracy);
    }
    const trained = exportTrained(model, trainer);
    writeMetadata(trained, {
      labels,
      preprocessing: prep,
      training: {
        ...Object.fromEntries(Object.entries(run.provenance ?? {}).filter(([k]) => k !== "out")),
        data: ds.source,
        trainSamples: train.count,
        validationSamples: val?.count ?? 0,
        epochs: config.epochs,
        batchSize: config.batchSize,
        seed: config.seed,
        optimizer: config.optimizer,
        lr: config.lr,
        schedule: describeSchedule(config.schedule),
        warmupSteps: config.warmupSteps,
        validationFraction: config.validationFraction,
        ...config.clipNorm ? { clipNorm: config.clipNorm } : {},
        augmentFlip: !!config.augmentFlip,
        steps: result.steps,
        seconds: Math.round(result.seconds),
        history: result.history.map((h) => ({ epoch: h.epoch, loss: round(h.loss), accuracy: round(h.metrics.accuracy ?? NaN), ...h.validation ? { val_loss: round(h.validation.loss), val_accuracy: round(h.validation.accuracy) } : {}, lr: h.lr }))
      },
      metrics
    });
    return { model: trained, history: result.history, metrics, ...test ? { test } : {}, completed: result.completed };
  } finally {
    await forward.release();
    await trainer.dispose();
  }
}
function exportTrained(model, trainer) {
  const g = model.clone();
  for (const [n, t] of trainer.state())
    g.initializers.set(n, { dtype: "float32", dims: [...t.dims], data: Float32Array.from(t.data) });
  return g;
}
function classifierRunFromCheckpoint(c, source) {
  const { model, run } = resumableRun(c, "classifier", source, "convlens train");
  const { labels, preprocessing, config, provenance } = run;
  return { model, labels, preprocessing, config, ...provenance ? { provenance } : {} };
}
function argmax(a, offset, k) {
  let best = 0;
  for (let j = 1; j < k; j++)
    if (a[offset + j] > a[offset + best])
      best = j;
  return best;
}
var round = (v) => Math.round(v * 1e5) / 1e5;
function flipHalf(x, n, ds, seed, step, row) {
  let a = (Math.imul(seed >>> 0, 668265261) ^ Math.imul(step + 1, 374761393)) >>> 0;
  const w = ds.width;
  const per = ds.channels * ds.height * w;
  for (let i = 0; i < n; i++) {
    a = Math.imul(a ^ a >>> 15, 739982445) + 2654435769 >>> 0;
    if (a & 65536)
      continue;
    for (let r = 0; r < ds.channels * ds.height; r++) {
      const o = i * per + r * w;
      row.set(x.subarray(o, o + w));
      for (let c = 0; c < w; c++)
        x[o + c] = row[w - 1 - c];
    }
  }
}

export {
  evaluateClassifier,
  summarizeConfusion,
  trainClassifier,
  classifierRunFromCheckpoint
};
