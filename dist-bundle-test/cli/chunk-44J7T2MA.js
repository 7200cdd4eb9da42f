import {
  decodeModel
} from "./chunk-P6HER42Z.js";
import {
  readFileOrExplain
} from "./chunk-4WR5QSMB.js";
import {
  throwIfCancelled
} from "./chunk-GNZAA2KB.js";
import {
  ConvLensError
} from "./chunk-N6ATQ4RF.js";

// dist/methods/diffusion/schedule.js
var SCHEDULE_KINDS = ["linear", "cosine", "scaled_linear"];
function makeSchedule(c) {
  const T = c.steps ?? 1e3;
  if (!Number.isInteger(T) || T < 2)
    throw new ConvLensError("INVALID_ARGUMENT", `A schedule needs at least 2 timesteps, got ${T}.`);
  const config = { kind: c.kind, steps: T, betaStart: c.betaStart ?? 1e-4, betaEnd: c.betaEnd ?? 0.02, offset: c.offset ?? 8e-3 };
  const betas = new Float64Array(T);
  switch (c.kind) {
    case "linear":
      for (let t = 0; t < T; t++)
        betas[t] = config.betaStart + (config.betaEnd - config.betaStart) * t / (T - 1);
      break;
    case "scaled_linear": {
      const a = Math.sqrt(config.betaStart);
      const b = Math.sqrt(config.betaEnd);
      for (let t = 0; t < T; t++)
        betas[t] = (a + (b - a) * t / (T - 1)) ** 2;
      break;
    }
    case "cosine": {
      const f = (t) => Math.cos((t / T + config.offset) / (1 + config.offset) * (Math.PI / 2)) ** 2;
      for (let t = 0; t < T; t++)
        betas[t] = Math.min(1 - f(t + 1) / f(t), 0.999);
      break;
    }
    default:
      throw new ConvLensError("INVALID_ARGUMENT", `Unknown noise schedule "${String(c.kind)}".`, `Use one of: ${SCHEDULE_KINDS.join(", ")}.`);
  }
  const alphasCumprod = new Float64Array(T);
  let p = 1;
  for (let t = 0; t < T; t++)
    alphasCumprod[t] = p *= 1 - betas[t];
  return { config, steps: T, betas, alphasCumprod };
}
function parseScheduleKind(text) {
  const k = text.trim().toLowerCase().replace(/-/g, "_");
  if (!SCHEDULE_KINDS.includes(k)) {
    throw new ConvLensError("INVALID_ARGUMENT", `Unknown noise schedule "${text}".`, `Use one of: ${SCHEDULE_KINDS.join(", ")}.`);
  }
  return k;
}
function scales(s, t) {
  checkTimestep(s, t);
  const a = s.alphasCumprod[t];
  return { signal: Math.sqrt(a), noise: Math.sqrt(1 - a) };
}
function checkTimestep(s, t) {
  if (!Number.isInteger(t) || t < 0 || t >= s.steps) {
    throw new ConvLensError("INVALID_ARGUMENT", `Timestep ${t} is outside 0..${s.steps - 1}.`, `The schedule has ${s.steps} timesteps, numbered from 0 (least noise) to ${s.steps - 1} (pure noise).`);
  }
}
function addNoise(s, x0, t, eps, out = new Float32Array(x0.length)) {
  const noise = eps instanceof Float32Array ? eps : eps.randn(x0.length);
  const ts = typeof t === "number" ? [t] : t;
  const per = x0.length / ts.length;
  if (!Number.isInteger(per))
    throw new ConvLensError("SHAPE_MISMATCH", `${x0.length} values do not split into ${ts.length} samples.`);
  for (let i = 0; i < ts.length; i++) {
    const { signal, noise: sigma } = scales(s, ts[i]);
    for (let j = i * per; j < (i + 1) * per; j++)
      out[j] = signal * x0[j] + sigma * noise[j];
  }
  return out;
}
function inferenceTimesteps(s, n, spacing = "leading", offset = 0) {
  const T = s.steps;
  if (!Number.isInteger(n) || n < 1 || n > T) {
    throw new ConvLensError("INVALID_ARGUMENT", `num_inference_steps must be between 1 and ${T}, got ${n}.`, `The model was trained with ${T} timesteps.`);
  }
  const out = [];
  if (spacing === "leading") {
    const ratio = Math.floor(T / n);
    for (let k = n - 1; k >= 0; k--)
      out.push(Math.min(T - 1, k * ratio + offset));
  } else if (spacing === "trailing") {
    const ratio = T / n;
    for (let k = 0; k < n; k++)
      out.push(Math.max(0, Math.round(T - k * ratio) - 1));
  } else {
    for (let k = n - 1; k >= 0; k--)
      out.push(Math.round(k * (T - 1) / Math.max(1, n - 1)));
  }
  return out;
}

// dist/methods/diffusion/model.js
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
var DIFFUSION_METADATA_KEY = "convlens.diffusion";
function writeDiffusionMetadata(g, meta) {
  g.metadata.set(DIFFUSION_METADATA_KEY, JSON.stringify(meta));
}
function readDiffusionMetadata(g, source) {
  const raw = g.metadata.get(DIFFUSION_METADATA_KEY);
  const hint = "Pass a denoiser written by `convlens diffuse train` (or leave out --model for the built-in one); Stable-Diffusion-style pipelines go with --pipeline DIR.";
  if (!raw)
    throw new ConvLensError("MODEL_UNSUPPORTED", `${source} is not a ConvLens denoiser (no ${DIFFUSION_METADATA_KEY} metadata).`, hint);
  let meta;
  try {
    meta = JSON.parse(raw);
  } catch {
    throw new ConvLensError("MODEL_UNREADABLE", `${source}: metadata ${DIFFUSION_METADATA_KEY} is not valid JSON.`, hint);
  }
  if (meta.kind !== "class-conditional-unet" || !Array.isArray(meta.labels) || !meta.io || !meta.schedule) {
    throw new ConvLensError("MODEL_UNSUPPORTED", `${source}: unknown denoiser kind "${String(meta.kind)}".`, hint);
  }
  return meta;
}
var BUILTIN_DENOISER_PATH = fileURLToPath(new URL("../../../assets/models/fashion-unet.onnx", import.meta.url));
var ClassConditionalDenoiser = class {
  graph;
  engine;
  meta;
  name;
  key;
  schedule;
  shape;
  predictionType;
  clipRange;
  unconditional;
  session;
  /** rows per engine run (bigger batches are split) */
  maxBatch = 128;
  constructor(graph, engine, meta, name, key = `denoiser:${name}:${Math.random().toString(36).slice(2)}`) {
    this.graph = graph;
    this.engine = engine;
    this.meta = meta;
    this.name = name;
    this.key = key;
    this.schedule = makeSchedule(meta.schedule);
    const input = graph.inputs.find((i) => i.name === meta.io.sample);
    const shape = input?.shape?.slice(1) ?? [];
    if (!input || shape.length !== 3 || !shape.every((d) => typeof d === "number")) {
      throw new ConvLensError("MODEL_UNSUPPORTED", `The denoiser "${name}" needs an input "${meta.io.sample}" of static shape [N, C, H, W].`);
    }
    this.shape = shape;
    this.predictionType = meta.predictionType;
    this.clipRange = meta.sampleRange;
    this.unconditional = meta.nullClass;
  }
  get labels() {
    return this.meta.labels;
  }
  parameterCount() {
    let n = 0;
    for (const t of this.graph.initializers.values())
      if (t.dtype === "float32")
        n += t.data.length;
    return n;
  }
  async predict(x, n, t, conditions) {
    this.session ??= this.engine.compile(this.key, () => this.graph);
    const session = await this.session;
    const per = this.shape.reduce((a, b) => a * b, 1);
    const out = new Float32Array(n * per);
    const io = this.meta.io;
    for (let start = 0; start < n; start += this.maxBatch) {
      const m = Math.min(this.maxBatch, n - start);
      const feeds = {
        [io.sample]: { dtype: "float32", dims: [m, ...this.shape], data: x.subarray(start * per, (start + m) * per) },
        [io.timestep]: { dtype: "float32", dims: [m], data: new Float32Array(m).fill(t) },
        [io.classLabels]: { dtype: "int64", dims: [m], data: BigInt64Array.from(conditions.slice(start, start + m), (c) => BigInt(c)) }
      };
      const r = await session.run(feeds, [io.output]);
      out.set(r[io.output].data, start * per);
    }
    return out;
  }
};
function loadDenoiser(path, engine) {
  const file = path ?? BUILTIN_DENOISER_PATH;
  if (path === void 0 && !existsSync(file)) {
    throw new ConvLensError("INPUT_UNREADABLE", `The built-in denoiser ${file} is missing.`, "Train one with `convlens diffuse train --out model.onnx` and pass it with --model.");
  }
  const graph = decodeModel(readFileOrExplain(file, "denoiser"), { source: `denoiser "${file}"` });
  const meta = readDiffusionMetadata(graph, `"${file}"`);
  return new ClassConditionalDenoiser(graph, engine, meta, path === void 0 ? "fashion-unet" : file.replace(/^.*[\\/]/, "").replace(/\.onnx$/, ""));
}

// dist/methods/diffusion/random.js
function mulberry(a) {
  a = a + 1831565813 >>> 0;
  let t = a;
  t = Math.imul(t ^ t >>> 15, t | 1);
  t ^= t + Math.imul(t ^ t >>> 7, t | 61);
  return [a, ((t ^ t >>> 14) >>> 0) / 4294967296];
}
function mixSeed(a, b) {
  let h = (Math.imul(a >>> 0, 2654435761) ^ Math.imul((b >>> 0) + 2135587861, 2246822507)) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 2246822507) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 3266489909) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}
var Generator = class {
  seed;
  state;
  spare;
  constructor(seed) {
    this.seed = seed;
    this.state = mixSeed(seed, 24301);
  }
  uniform() {
    const [s, u] = mulberry(this.state);
    this.state = s;
    return u;
  }
  normal() {
    if (this.spare !== void 0) {
      const v2 = this.spare;
      this.spare = void 0;
      return v2;
    }
    const u = Math.max(this.uniform(), 2 ** -32);
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
  /** Fills `out` (or a new array of `n`) with standard normal samples. */
  randn(n, out = new Float32Array(n)) {
    for (let i = 0; i < n; i++)
      out[i] = this.normal();
    return out;
  }
  /** An integer in [0, n). */
  int(n) {
    return Math.min(n - 1, Math.floor(this.uniform() * n));
  }
};

// dist/methods/diffusion/sampler.js
var SAMPLERS = ["ddim", "ddpm"];
function split(out, x, a, kind) {
  const sa = Math.sqrt(a);
  const sb = Math.sqrt(1 - a);
  if (kind === "epsilon")
    return [(x - sb * out) / sa, out];
  return [sa * x - sb * out, sa * out + sb * x];
}
async function sample(model, o) {
  const t0 = performance.now();
  const prompts = o.conditions.length;
  if (prompts === 0)
    throw new ConvLensError("INVALID_ARGUMENT", "Nothing to sample: no prompt given.");
  const perPrompt = o.numImagesPerPrompt ?? 1;
  if (!Number.isInteger(perPrompt) || perPrompt < 1)
    throw new ConvLensError("INVALID_ARGUMENT", `num_images_per_prompt must be a positive integer, got ${perPrompt}.`);
  const scale = o.guidanceScale ?? 1;
  if (!Number.isFinite(scale) || scale < 0)
    throw new ConvLensError("INVALID_ARGUMENT", `guidance_scale must be a number >= 0, got ${scale}.`);
  const eta = o.eta ?? 0;
  if (!Number.isFinite(eta) || eta < 0)
    throw new ConvLensError("INVALID_ARGUMENT", `eta must be >= 0, got ${eta}.`);
  const kind = o.sampler ?? "ddim";
  if (!SAMPLERS.includes(kind))
    throw new ConvLensError("INVALID_ARGUMENT", `Unknown sampler "${String(kind)}".`, `Use one of: ${SAMPLERS.join(", ")}.`);
  const s = model.schedule;
  const timesteps = inferenceTimesteps(s, o.steps ?? 50, o.spacing ?? "leading", o.stepsOffset ?? 0);
  const B = prompts * perPrompt;
  const per = model.shape.reduce((a, b) => a * b, 1);
  const promptOf = Array.from({ length: B }, (_, i) => Math.floor(i / perPrompt));
  const cond = promptOf.map((p) => o.conditions[p]);
  const guided = scale > 1;
  let neg = [];
  if (guided) {
    const n = o.negative;
    const perPromptNeg = Array.isArray(n) ? n : void 0;
    if (perPromptNeg && perPromptNeg.length !== prompts) {
      throw new ConvLensError("INVALID_ARGUMENT", `${perPromptNeg.length} negative prompts for ${prompts} prompts.`, "Give one negative prompt for all prompts, or one per prompt.");
    }
    neg = promptOf.map((p) => perPromptNeg ? perPromptNeg[p] : n === void 0 ? o.unconditional : n);
  }
  const rows = guided ? [...neg, ...cond] : cond;
  const gens = Array.from({ length: B }, (_, i) => new Generator(mixSeed(o.seed ?? 0, i)));
  const x = new Float32Array(B * per);
  if (o.initialNoise) {
    if (o.initialNoise.length !== B * per)
      throw new ConvLensError("SHAPE_MISMATCH", `initialNoise has ${o.initialNoise.length} values; ${B} samples of [${model.shape.join(", ")}] need ${B * per}.`);
    x.set(o.initialNoise);
  } else {
    for (let i = 0; i < B; i++)
      gens[i].randn(per, x.subarray(i * per, (i + 1) * per));
  }
  const frames = [];
  const k = o.previewEvery ?? 0;
  const input = new Float32Array(rows.length * per);
  const x0 = new Float32Array(B * per);
  const eps = new Float32Array(B * per);
  const z = new Float32Array(per);
  const [lo, hi] = model.clipRange ?? [-Infinity, Infinity];
  const finalA = o.finalAlphaCumprod ?? 1;
  for (let i = 0; i < timesteps.length; i++) {
    throwIfCancelled(o.signal, "the sampling");
    const t = timesteps[i];
    const prev = i + 1 < timesteps.length ? timesteps[i + 1] : -1;
    const a = s.alphasCumprod[t];
    const aPrev = prev >= 0 ? s.alphasCumprod[prev] : kind === "ddim" ? finalA : 1;
    if (guided) {
      input.set(x, 0);
      input.set(x, B * per);
    } else
      input.set(x);
    const out = await model.predict(input, rows.length, t, rows);
    for (let j = 0; j < B * per; j++) {
      const o2 = guided ? out[j] + scale * (out[B * per + j] - out[j]) : out[j];
      let [p0, e] = split(o2, x[j], a, model.predictionType);
      if (p0 < lo || p0 > hi) {
        p0 = Math.min(hi, Math.max(lo, p0));
        e = (x[j] - Math.sqrt(a) * p0) / Math.sqrt(1 - a);
      }
      x0[j] = p0;
      eps[j] = e;
    }
    if (k > 0 && (i % k === 0 || i === timesteps.length - 1)) {
      const frame = { step: i, steps: timesteps.length, t, x: Float32Array.from(x), x0: Float32Array.from(x0) };
      frames.push(frame);
      await o.onFrame?.(frame);
    }
    if (kind === "ddim") {
      const sigma = eta > 0 && prev >= 0 ? eta * Math.sqrt((1 - aPrev) / (1 - a) * (1 - a / aPrev)) : 0;
      const cx0 = Math.sqrt(aPrev);
      const ceps = Math.sqrt(Math.max(0, 1 - aPrev - sigma * sigma));
      for (let b = 0; b < B; b++) {
        if (sigma > 0)
          gens[b].randn(per, z);
        const off = b * per;
        for (let j = 0; j < per; j++)
          x[off + j] = cx0 * x0[off + j] + ceps * eps[off + j] + (sigma > 0 ? sigma * z[j] : 0);
      }
    } else {
      const alpha = a / aPrev;
      const beta = 1 - alpha;
      const c0 = Math.sqrt(aPrev) * beta / (1 - a);
      const ct = Math.sqrt(alpha) * (1 - aPrev) / (1 - a);
      const sigma = prev >= 0 ? Math.sqrt(Math.max(1e-20, (1 - aPrev) / (1 - a) * beta)) : 0;
      for (let b = 0; b < B; b++) {
        if (sigma > 0)
          gens[b].randn(per, z);
        const off = b * per;
        for (let j = 0; j < per; j++)
          x[off + j] = c0 * x0[off + j] + ct * x[off + j] + (sigma > 0 ? sigma * z[j] : 0);
      }
    }
    o.onProgress?.({ done: i + 1, total: timesteps.length, phase: `${kind} step ${i + 1}/${timesteps.length} (t = ${t})` });
  }
  return { images: x, count: B, promptOf, timesteps, frames, rowsPerStep: rows.length, seconds: (performance.now() - t0) / 1e3 };
}

// dist/methods/diffusion/prompts.js
var FILLER = /* @__PURE__ */ new Set(["a", "an", "the", "some", "one", "photo", "picture", "image", "drawing", "sketch", "of", "pair", "pairs", "fashion", "mnist", "grayscale", "gray", "class"]);
var SYNONYMS = {
  "t shirt top": ["tshirt", "tee", "tee shirt", "t shirt", "top"],
  trouser: ["pants", "trousers", "jeans", "slacks"],
  pullover: ["sweater", "jumper", "sweatshirt"],
  dress: ["gown", "frock"],
  coat: ["jacket", "overcoat"],
  sandal: ["sandals", "flip flop"],
  shirt: ["blouse", "button shirt"],
  sneaker: ["trainer", "running shoe", "sport shoe", "tennis shoe"],
  bag: ["handbag", "purse", "tote"],
  "ankle boot": ["boot", "bootie"]
};
function normalizeText(s) {
  return s.toLowerCase().normalize("NFKD").replace(/[\u0300-\u036f]/g, "").replace(/[^a-z0-9]+/g, " ").trim();
}
function singular(word) {
  if (word.length > 4 && word.endsWith("sses"))
    return word.slice(0, -2);
  if (word.length > 3 && word.endsWith("s") && !word.endsWith("ss"))
    return word.slice(0, -1);
  return word;
}
function promptKey(s) {
  return normalizeText(s).split(" ").filter((w) => w && !FILLER.has(w)).map(singular).join(" ");
}
function variants(label) {
  const out = /* @__PURE__ */ new Set([promptKey(label)]);
  for (const part of label.split("/"))
    out.add(promptKey(part));
  for (const syn of SYNONYMS[normalizeText(label)] ?? [])
    out.add(promptKey(syn));
  out.delete("");
  return [...out];
}
function editDistance(a, b) {
  const d = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0];
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = d[j];
      d[j] = Math.min(d[j] + 1, d[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return d[b.length];
}
function resolvePrompt(prompt, labels, what = "prompt") {
  const key = promptKey(prompt);
  if (normalizeText(prompt) === "")
    return { kind: "unconditional" };
  if (/^\d+$/.test(prompt.trim())) {
    const i = Number(prompt.trim());
    if (i < labels.length)
      return { kind: "class", index: i, label: labels[i] };
  }
  const table = labels.map((l, i) => ({ i, keys: variants(l) }));
  const matches = table.filter((e) => e.keys.includes(key));
  if (matches.length === 1)
    return { kind: "class", index: matches[0].i, label: labels[matches[0].i] };
  const padded = ` ${key} `;
  const hits = table.map((e) => ({ i: e.i, keys: e.keys.filter((k) => padded.includes(` ${k} `)) })).filter((e) => e.keys.length);
  const best = hits.filter((e) => !e.keys.every((k) => hits.some((o) => o.i !== e.i && o.keys.some((k2) => k2 !== k && ` ${k2} `.includes(` ${k} `)))));
  if (best.length === 1)
    return { kind: "class", index: best[0].i, label: labels[best[0].i] };
  const closest = labels.map((l) => ({ l, d: Math.min(...variants(l).map((v) => editDistance(v, key))) })).sort((a, b) => a.d - b.d)[0];
  const list = labels.map((l) => `"${l}"`).join(", ");
  throw new ConvLensError("INVALID_ARGUMENT", best.length > 1 ? `The ${what} "${prompt}" names more than one class (${best.map((e) => `"${labels[e.i]}"`).join(", ")}); a prompt must name one.` : `Cannot map the ${what} "${prompt}" to a condition of this model.`, `This model is conditioned on ${labels.length} classes: ${list}. Prompts match them ignoring case, punctuation, plurals and articles ("an ankle boot"); "" is the unconditional model.` + (closest && closest.d <= Math.max(2, Math.floor(key.length / 3)) && best.length <= 1 ? ` Did you mean "${closest.l}"?` : ""));
}
function conditionIndex(c, nullClass) {
  return c.kind === "class" ? c.index : nullClass;
}

export {
  makeSchedule,
  parseScheduleKind,
  scales,
  addNoise,
  writeDiffusionMetadata,
  loadDenoiser,
  resolvePrompt,
  conditionIndex,
  mixSeed,
  Generator,
  SAMPLERS,
  sample
};
