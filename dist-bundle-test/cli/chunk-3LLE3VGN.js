import {
  clipGradientNorm,
  createOptimizer
} from "./chunk-UHZBCOBN.js";
import {
  buildGradientGraph,
  decodeModel,
  encodeModel,
  pruneGraph
} from "./chunk-P6HER42Z.js";
import {
  GraphBuilder
} from "./chunk-X2V5Z5UO.js";
import {
  attrInt,
  isFloatDType
} from "./chunk-75463JA6.js";
import {
  readFileOrExplain
} from "./chunk-4WR5QSMB.js";
import {
  seededRandom
} from "./chunk-Y3QEK5WU.js";
import {
  ConvLensError
} from "./chunk-N6ATQ4RF.js";

// dist/training/checkpoint.js
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
var MAGIC = "CLCKPT\r\n";
var FORMAT = "convlens-checkpoint";
var VERSION = 1;
var align8 = (n) => n + 7 & ~7;
function encodeCheckpoint(c) {
  const entries = [];
  let offset = 0;
  let end = 0;
  for (const [name, t] of c.tensors) {
    if (t.dtype !== "float32" && t.dtype !== "uint8")
      throw new Error(`checkpoint: tensor "${name}" has dtype ${t.dtype}; only float32 and uint8 are stored`);
    const length = t.data.byteLength;
    entries.push({ name, dtype: t.dtype, dims: [...t.dims], offset, length });
    end = offset + length;
    offset = align8(end);
  }
  const header = new TextEncoder().encode(JSON.stringify({ format: FORMAT, version: VERSION, meta: c.meta, tensors: entries }));
  const dataStart = align8(12 + header.length);
  const out = new Uint8Array(dataStart + end);
  out.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(out.buffer).setUint32(8, header.length, true);
  out.set(header, 12);
  let i = 0;
  for (const t of c.tensors.values()) {
    const e = entries[i++];
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), dataStart + e.offset);
  }
  return out;
}
function decodeCheckpoint(bytes, source) {
  const bad = (why) => new ConvLensError("INPUT_UNREADABLE", `${source} is not a usable ConvLens checkpoint: ${why}.`, "Pass a file written by `convlens train` (its --checkpoint file, by default <out>.ckpt).");
  if (bytes.length < 12 || new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC)
    throw bad("wrong magic bytes");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const h = view.getUint32(8, true);
  if (12 + h > bytes.length)
    throw bad("the header is truncated");
  let header;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + h)));
  } catch {
    throw bad("the header is not valid JSON");
  }
  if (header.format !== FORMAT || !Array.isArray(header.tensors))
    throw bad("unknown format");
  if (header.version !== VERSION)
    throw bad(`format version ${header.version}, this ConvLens reads version ${VERSION}`);
  const dataStart = align8(12 + h);
  const tensors = /* @__PURE__ */ new Map();
  for (const e of header.tensors) {
    const start = dataStart + e.offset;
    if (start + e.length > bytes.length)
      throw bad(`tensor "${e.name}" runs past the end of the file (truncated)`);
    const n = e.dims.reduce((a, b) => a * b, 1);
    const raw = new Uint8Array(e.length);
    raw.set(bytes.subarray(start, start + e.length));
    const data = e.dtype === "float32" ? new Float32Array(raw.buffer, 0, e.length / 4) : raw;
    if (data.length !== n)
      throw bad(`tensor "${e.name}" has ${data.length} values for dims [${e.dims.join(", ")}]`);
    tensors.set(e.name, { dtype: e.dtype, dims: e.dims, data });
  }
  return { meta: header.meta ?? {}, tensors };
}
function saveCheckpoint(path, c) {
  const bytes = encodeCheckpoint(c);
  mkdirSync(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    const fd = openSync(tmp, "w");
    try {
      let off = 0;
      while (off < bytes.length)
        off += writeSync(fd, bytes, off, bytes.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new ConvLensError("INVALID_ARGUMENT", `Cannot write the checkpoint "${path}": ${e.message}.`, "Check that the folder is writable, or pick another with --checkpoint.", { cause: e });
  }
}
function loadCheckpoint(path) {
  return decodeCheckpoint(readFileOrExplain(path, "checkpoint"), `"${path}"`);
}
function resumableCheckpoint(checkpoint, model, payload) {
  const structure = encodeModel(model);
  return {
    ...checkpoint,
    extra: () => {
      const p = payload();
      return { meta: p.meta, tensors: new Map([["model.onnx", { dtype: "uint8", dims: [structure.length], data: structure }], ...p.tensors ?? []]) };
    }
  };
}
function resumableRun(c, key, source, writtenBy) {
  const extra = c.meta.extra;
  const bytes = c.tensors.get("extra/model.onnx");
  if (!extra?.[key] || !bytes) {
    throw new ConvLensError("INPUT_UNREADABLE", `${source} is not a ${key} checkpoint (no model or configuration inside).`, `Pass a checkpoint written by \`${writtenBy}\`.`);
  }
  return { model: decodeModel(bytes.data, { source }), run: extra[key] };
}

// dist/training/schedules.js
function learningRate(o, step) {
  const s = o.schedule;
  const epoch = step / Math.max(1, o.stepsPerEpoch);
  let lr;
  switch (s.type) {
    case "constant":
      lr = o.baseLr;
      break;
    case "step":
      lr = o.baseLr * s.gamma ** Math.floor(Math.floor(epoch + 1e-9) / s.every);
      break;
    case "exponential":
      lr = o.baseLr * s.gamma ** epoch;
      break;
    case "cosine": {
      const min = s.minFactor ?? 0;
      const t = Math.min(1, step / Math.max(1, o.totalSteps - 1));
      lr = o.baseLr * (min + (1 - min) * (1 + Math.cos(Math.PI * t)) / 2);
      break;
    }
  }
  const w = o.warmupSteps ?? 0;
  if (w > 0 && step < w)
    lr *= (step + 1) / w;
  return lr;
}
function parseSchedule(text) {
  const [kind, ...rest] = text.trim().toLowerCase().split(":");
  const nums = rest.map(Number);
  const bad = () => new ConvLensError("INVALID_ARGUMENT", `Cannot read the schedule "${text}".`, "Use constant, cosine, cosine:0.01 (final factor), step:5:0.5 (x0.5 every 5 epochs) or exp:0.9 (x0.9 per epoch).");
  if (nums.some((n) => !Number.isFinite(n) || n < 0))
    throw bad();
  switch (kind) {
    case "constant":
      if (nums.length)
        throw bad();
      return { type: "constant" };
    case "cosine":
      if (nums.length > 1 || (nums[0] ?? 0) > 1)
        throw bad();
      return nums.length ? { type: "cosine", minFactor: nums[0] } : { type: "cosine" };
    case "step":
      if (nums.length !== 2 || nums[0] < 1 || !Number.isInteger(nums[0]))
        throw bad();
      return { type: "step", every: nums[0], gamma: nums[1] };
    case "exp":
    case "exponential":
      if (nums.length !== 1)
        throw bad();
      return { type: "exponential", gamma: nums[0] };
    default:
      throw bad();
  }
}
function describeSchedule(s) {
  switch (s.type) {
    case "constant":
      return "constant";
    case "cosine":
      return s.minFactor ? `cosine:${s.minFactor}` : "cosine";
    case "step":
      return `step:${s.every}:${s.gamma}`;
    case "exponential":
      return `exp:${s.gamma}`;
  }
}

// dist/training/trainer.js
var Trainer = class {
  engine;
  training;
  options;
  /** current parameter values, updated in place by every step */
  params = /* @__PURE__ */ new Map();
  /** current buffer values (BatchNorm running statistics), replaced by the graph's outputs every step */
  buffers = /* @__PURE__ */ new Map();
  dims = /* @__PURE__ */ new Map();
  optimizer;
  session;
  gradNames;
  /**
   * `initial` holds the starting values of every parameter and buffer (the model's initializers);
   * they are copied, so the caller's graph is never modified.
   */
  constructor(engine, training, initial, options) {
    this.engine = engine;
    this.training = training;
    this.options = options;
    const take = (name, into) => {
      const t = initial.get(name);
      if (!t)
        throw new ConvLensError("INVALID_ARGUMENT", `No initial value for "${name}".`);
      if (t.dtype !== "float32")
        throw new ConvLensError("MODEL_UNSUPPORTED", `"${name}" is ${t.dtype}; training supports float32 parameters only.`, "Convert the model to float32 before training.");
      into.set(name, Float32Array.from(t.data));
      this.dims.set(name, [...t.dims]);
    };
    for (const p of training.parameters)
      take(p, this.params);
    for (const b of Object.keys(training.buffers))
      take(b, this.buffers);
    this.gradNames = new Map(training.parameters.map((p) => [p, training.gradientOutputs[p]]));
    this.optimizer = createOptimizer(options.optimizer, new Map(training.parameters.map((p) => [p, this.dims.get(p)])), options.decay);
  }
  /** The current value of a parameter or buffer as a tensor (shares the trainer's array). */
  tensor(name) {
    const data = this.params.get(name) ?? this.buffers.get(name);
    if (!data)
      throw new ConvLensError("UNKNOWN_NAME", `No parameter or buffer named "${name}".`);
    return { dtype: "float32", dims: this.dims.get(name), data };
  }
  /** Every parameter and buffer as tensors (for feeding an evaluation graph or exporting the model). */
  state() {
    return new Map([...this.params.keys(), ...this.buffers.keys()].map((n) => [n, this.tensor(n)]));
  }
  async compiled() {
    this.session ??= await this.engine.compileOnce(this.training.graph);
    return this.session;
  }
  /**
   * One optimization step on a batch: runs the graph with `data` (the data inputs: model input,
   * targets, ...), applies the optimizer with learning rate `lr`, stores the new buffer values.
   * Returns every graph output (loss, prediction, gradients, ...).
   */
  async step(data, lr) {
    const session = await this.compiled();
    const feeds = { ...data };
    for (const n of this.params.keys())
      feeds[n] = this.tensor(n);
    for (const n of this.buffers.keys())
      feeds[n] = this.tensor(n);
    const out = await session.run(feeds);
    const loss = out[this.training.loss].data[0];
    if (!Number.isFinite(loss)) {
      throw new ConvLensError("RUNTIME_FAILURE", `The loss became ${loss} at step ${this.optimizer.state.step + 1}.`, "Lower the learning rate (--lr), add warmup (--warmup) or gradient clipping, and check the data normalization.");
    }
    const grads = /* @__PURE__ */ new Map();
    for (const [p, g] of this.gradNames)
      grads.set(p, out[g].data);
    if (this.options.clipNorm)
      clipGradientNorm(grads, this.options.clipNorm);
    this.optimizer.update(this.params, grads, lr);
    for (const [input, output] of Object.entries(this.training.buffers))
      this.buffers.get(input).set(out[output].data);
    return out;
  }
  async dispose() {
    const s = this.session;
    this.session = void 0;
    await s?.release();
  }
};
function epochOrder(size, seed, epoch, shuffle = true) {
  const order = new Int32Array(size);
  for (let i = 0; i < size; i++)
    order[i] = i;
  if (!shuffle)
    return order;
  const rand = seededRandom((Math.imul(seed >>> 0, 2654435761) ^ Math.imul(epoch + 1, 2246822507)) >>> 0);
  for (let i = size - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  return order;
}
var stepsPerEpoch = (size, batchSize, dropLast = false) => dropLast ? Math.floor(size / batchSize) : Math.ceil(size / batchSize);
var newSums = () => ({ loss: 0, samples: 0, metrics: {}, seconds: 0 });
async function fit(trainer, data, config, options = {}) {
  const shuffle = config.shuffle ?? true;
  const dropLast = config.dropLast ?? false;
  const perEpoch = stepsPerEpoch(data.size, config.batchSize, dropLast);
  if (perEpoch < 1)
    throw new ConvLensError("INVALID_ARGUMENT", `${data.size} samples do not fill one batch of ${config.batchSize}.`, "Use a smaller --batch or more data.");
  const totalSteps = perEpoch * config.epochs;
  const lrAt = (step) => learningRate({ schedule: config.schedule ?? { type: "constant" }, baseLr: config.lr, stepsPerEpoch: perEpoch, totalSteps, warmupSteps: config.warmupSteps ?? 0 }, step);
  let p = { step: 0, epoch: 0, batchInEpoch: 0, sums: newSums(), history: [], seconds: 0 };
  if (options.resume)
    p = restore(trainer, options.resume, { size: data.size, batchSize: config.batchSize, seed: config.seed, shuffle, dropLast });
  options.onStart?.({ step: p.step, epoch: p.epoch, batchInEpoch: p.batchInEpoch, totalSteps, resumed: !!options.resume });
  const checkpoint = () => {
    if (!options.checkpoint)
      return;
    const c = snapshot(trainer, p, { size: data.size, batchSize: config.batchSize, seed: config.seed, shuffle, dropLast, epochs: config.epochs, lr: config.lr, schedule: describeSchedule(config.schedule ?? { type: "constant" }) });
    const extra = options.checkpoint.extra?.();
    if (extra?.meta)
      c.meta.extra = extra.meta;
    for (const [k, t] of extra?.tensors ?? [])
      c.tensors.set(`extra/${k}`, t);
    saveCheckpoint(options.checkpoint.path, c);
  };
  const stop = (why) => {
    checkpoint();
    if (why === "stopped")
      return void 0;
    const where = `step ${p.step} of ${totalSteps} (epoch ${p.epoch + 1}/${config.epochs}, batch ${p.batchInEpoch}/${perEpoch})`;
    return new ConvLensError("CANCELLED", `Training stopped at ${where}.`, options.checkpoint ? `Checkpoint saved to ${options.checkpoint.path}; continue with --resume ${options.checkpoint.path}.` : "No checkpoint was configured, so progress was not saved.");
  };
  const window = [];
  let last = performance.now();
  let completed = true;
  while (p.epoch < config.epochs) {
    const order = epochOrder(data.size, config.seed, p.epoch, shuffle);
    while (p.batchInEpoch < perEpoch) {
      if (options.signal?.aborted)
        throw stop("cancelled");
      if (options.stopAtStep !== void 0 && p.step >= options.stopAtStep) {
        stop("stopped");
        completed = false;
        return { history: p.history, steps: p.step, seconds: p.seconds, completed };
      }
      const indices = order.subarray(p.batchInEpoch * config.batchSize, Math.min(data.size, (p.batchInEpoch + 1) * config.batchSize));
      const lr = lrAt(p.step);
      const out = await trainer.step(data.batch(indices, p.step), lr);
      const loss = out[trainer.training.loss].data[0];
      const n = indices.length;
      p.sums.loss += loss * n;
      p.sums.samples += n;
      for (const [k, v] of Object.entries(data.score?.(out, indices) ?? {}))
        p.sums.metrics[k] = (p.sums.metrics[k] ?? 0) + v;
      p.step++;
      p.batchInEpoch++;
      const now = performance.now();
      const dt = (now - last) / 1e3;
      last = now;
      p.sums.seconds += dt;
      p.seconds += dt;
      window.push({ t: dt, n });
      if (window.length > 20)
        window.shift();
      if (options.onProgress) {
        const wt = window.reduce((a, w) => a + w.t, 0);
        const wn = window.reduce((a, w) => a + w.n, 0);
        const metrics2 = { loss: p.sums.loss / p.sums.samples };
        for (const [k, v] of Object.entries(p.sums.metrics))
          metrics2[k] = v / p.sums.samples;
        metrics2["samples/s"] = wt > 0 ? wn / wt : 0;
        options.onProgress({ done: p.step, total: totalSteps, phase: `epoch ${p.epoch + 1}/${config.epochs}`, metrics: metrics2 });
      }
      if (options.checkpoint?.everySteps && p.step % options.checkpoint.everySteps === 0 && p.batchInEpoch < perEpoch)
        checkpoint();
    }
    if (options.signal?.aborted)
      throw stop("cancelled");
    const metrics = {};
    for (const [k, v] of Object.entries(p.sums.metrics))
      metrics[k] = v / p.sums.samples;
    const record = {
      epoch: p.epoch + 1,
      loss: p.sums.loss / p.sums.samples,
      metrics,
      lr: lrAt(p.step - 1),
      seconds: p.sums.seconds,
      samplesPerSecond: p.sums.seconds > 0 ? p.sums.samples / p.sums.seconds : 0
    };
    if (options.validate) {
      const t0 = performance.now();
      record.validation = await options.validate(trainer, p.epoch + 1);
      const dt = (performance.now() - t0) / 1e3;
      p.seconds += dt;
      last = performance.now();
    }
    p.history.push(record);
    p.epoch++;
    p.batchInEpoch = 0;
    p.sums = newSums();
    options.onEpoch?.(record);
    checkpoint();
  }
  return { history: p.history, steps: p.step, seconds: p.seconds, completed };
}
function snapshot(trainer, p, fixed) {
  const tensors = /* @__PURE__ */ new Map();
  for (const [n, v] of trainer.params)
    tensors.set(`param/${n}`, { dtype: "float32", dims: trainer.dims.get(n), data: v });
  for (const [n, v] of trainer.buffers)
    tensors.set(`buffer/${n}`, { dtype: "float32", dims: trainer.dims.get(n), data: v });
  for (const [n, v] of trainer.optimizer.state.slots)
    tensors.set(`optim/${n}`, { dtype: "float32", dims: [v.length], data: v });
  const fitMeta = { ...fixed, ...structuredClone(p), optimizer: trainer.optimizer.config, optimizerStep: trainer.optimizer.state.step };
  return { meta: { fit: fitMeta }, tensors };
}
function restore(trainer, c, want) {
  const m = c.meta.fit;
  if (!m)
    throw new ConvLensError("INPUT_UNREADABLE", "The checkpoint holds no training progress.", "Pass a checkpoint written by `convlens train`.");
  for (const k of ["size", "batchSize", "seed", "shuffle", "dropLast"]) {
    if (m[k] !== want[k]) {
      throw new ConvLensError("INVALID_ARGUMENT", `Cannot resume: the checkpoint was written with ${k} = ${m[k]}, this run has ${want[k]}.`, "The batch order depends on the data size, batch size and seed; resume with the same data and settings.");
    }
  }
  if (m.optimizer.type !== trainer.optimizer.config.type) {
    throw new ConvLensError("INVALID_ARGUMENT", `Cannot resume: the checkpoint used the ${m.optimizer.type} optimizer, this run ${trainer.optimizer.config.type}.`);
  }
  const load = (prefix, into) => {
    for (const [n, v] of into) {
      const t = c.tensors.get(`${prefix}/${n}`);
      if (!t || t.data.length !== v.length) {
        throw new ConvLensError("INVALID_ARGUMENT", `Cannot resume: the checkpoint has no ${prefix} "${n}" of ${v.length} values.`, "Resume with the checkpoint of this model.");
      }
      v.set(t.data);
    }
  };
  load("param", trainer.params);
  load("buffer", trainer.buffers);
  const slots = /* @__PURE__ */ new Map();
  for (const [k, t] of c.tensors)
    if (k.startsWith("optim/"))
      slots.set(k.slice("optim/".length), t.data);
  trainer.optimizer.load({ step: m.optimizerStep, slots });
  return { step: m.step, epoch: m.epoch, batchInEpoch: m.batchInEpoch, sums: m.sums, history: m.history, seconds: m.seconds };
}
function checkpointProgress(c) {
  const m = c.meta.fit;
  return m ? { step: m.step, epoch: m.epoch, batchInEpoch: m.batchInEpoch, epochs: m.epochs, history: m.history } : void 0;
}

// dist/training/losses.js
function softmaxCrossEntropy(b, logits, targets) {
  const logp = b.op("LogSoftmax", [logits], { axis: -1 });
  const perSample = b.op("ReduceSum", [b.op("Mul", [logp, targets]), b.ints([-1])], { keepdims: 0 });
  return b.op("Neg", [b.op("ReduceMean", [perSample], { keepdims: 0 })], {}, { name: b.uniqueName("cross_entropy"), outputs: [b.uniqueName("loss")] });
}
function meanSquaredError(b, prediction, target) {
  const d = b.op("Sub", [prediction, target]);
  return b.op("ReduceMean", [b.op("Mul", [d, d])], { keepdims: 0 }, { name: b.uniqueName("mse"), outputs: [b.uniqueName("loss")] });
}

// dist/training/step.js
function buildTrainingGraph(model, options = {}) {
  const g = model.clone();
  const buffers = options.batchNorm === "inference" ? {} : batchNormToTraining(g);
  const b = GraphBuilder.over(g);
  const prediction = options.output ?? g.outputs[0].name;
  let targets = "";
  let loss;
  if (typeof options.loss === "function") {
    loss = options.loss(b, prediction);
  } else {
    const predShape = b.shapeOf(prediction);
    targets = b.input(b.uniqueName("targets"), "float32", [...predShape]);
    loss = options.loss === "mse" ? meanSquaredError(b, prediction, targets) : softmaxCrossEntropy(b, prediction, targets);
  }
  b.output(loss);
  b.build();
  const bufferNames = new Set(Object.keys(buffers));
  const frozen = options.frozen ?? ((name) => /running_(mean|var)/.test(name));
  const parameters = [...g.initializers.entries()].filter(([name, t]) => isFloatDType(t.dtype) && !bufferNames.has(name) && !frozen(name) && !isBatchNormStat(g, name)).map(([name]) => name);
  const outputs = [.../* @__PURE__ */ new Set([loss, prediction, ...options.outputs ?? [], ...Object.values(buffers)])];
  const gg = buildGradientGraph(g, { seed: { scalar: loss }, wrt: parameters, outputs, parametersAsInputs: [...parameters, ...bufferNames] });
  const fed = /* @__PURE__ */ new Set([...parameters, ...bufferNames]);
  const dataInputs = gg.graph.inputs.map((i) => i.name).filter((n) => !fed.has(n) && !gg.graph.initializers.has(n));
  return { ...gg, targets, loss, prediction, parameters, buffers, dataInputs };
}
function batchNormToTraining(g) {
  const buffers = {};
  for (const node of g.nodes) {
    if (node.op !== "BatchNormalization" || node.domain)
      continue;
    const mean = node.inputs[3];
    const variance = node.inputs[4];
    if (attrInt(node, "training_mode", 0) === 1) {
      if (g.initializers.has(mean) && node.outputs[1])
        buffers[mean] = node.outputs[1];
      if (g.initializers.has(variance) && node.outputs[2])
        buffers[variance] = node.outputs[2];
      continue;
    }
    if (!g.initializers.has(mean) || !g.initializers.has(variance))
      continue;
    for (const s of [mean, variance]) {
      if (buffers[s]) {
        throw new ConvLensError("MODEL_UNSUPPORTED", `BatchNormalization node "${node.name}" shares its statistic "${s}" with another BatchNormalization node.`, "Give every BatchNormalization node its own running statistics.");
      }
    }
    buffers[mean] = `${mean}:next`;
    buffers[variance] = `${variance}:next`;
    node.attrs = { ...node.attrs, training_mode: { type: "int", value: 1 } };
    node.outputs = [node.outputs[0], buffers[mean], buffers[variance]];
  }
  return buffers;
}
function buildForwardGraph(model, fed, outputs) {
  const g = model.clone();
  for (const p of fed) {
    const t = g.initializers.get(p);
    if (!t)
      throw new Error(`buildForwardGraph: no initializer "${p}"`);
    g.initializers.delete(p);
    g.inputs.push({ name: p, dtype: t.dtype, shape: [...t.dims] });
  }
  if (outputs) {
    const b = GraphBuilder.over(g, { strict: false });
    g.outputs = [];
    for (const o of outputs)
      b.output(o);
    b.build();
  }
  return pruneGraph(g);
}
function isBatchNormStat(g, name) {
  return g.nodes.some((n) => n.op === "BatchNormalization" && (n.inputs[3] === name || n.inputs[4] === name));
}

export {
  meanSquaredError,
  buildTrainingGraph,
  buildForwardGraph,
  loadCheckpoint,
  resumableCheckpoint,
  resumableRun,
  parseSchedule,
  describeSchedule,
  Trainer,
  stepsPerEpoch,
  fit,
  checkpointProgress
};
