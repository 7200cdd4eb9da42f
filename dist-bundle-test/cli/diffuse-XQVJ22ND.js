import {
  Generator,
  SAMPLERS,
  addNoise,
  conditionIndex,
  loadDenoiser,
  makeSchedule,
  mixSeed,
  parseScheduleKind,
  resolvePrompt,
  sample,
  scales,
  writeDiffusionMetadata
} from "./chunk-44J7T2MA.js";
import {
  parameterCount,
  prepareTrainingRun,
  trainerOptions
} from "./chunk-FL73DTUO.js";
import {
  summarizeConfusion
} from "./chunk-7FNZRFSM.js";
import {
  Trainer,
  buildTrainingGraph,
  describeSchedule,
  fit,
  meanSquaredError,
  parseSchedule,
  resumableCheckpoint,
  resumableRun,
  stepsPerEpoch
} from "./chunk-3LLE3VGN.js";
import {
  optimizerConfig
} from "./chunk-UHZBCOBN.js";
import {
  OutputFiles,
  defaultOut
} from "./chunk-SEMCHPMJ.js";
import {
  MAX_THREADS,
  cliJob,
  createEngine,
  fraction,
  intIn,
  intList,
  nonNegative,
  nonNegativeInt,
  numberList,
  positiveInt,
  positiveNumber,
  threadCount
} from "./chunk-OMSJE7ZP.js";
import "./chunk-4KDPQESB.js";
import {
  encodeModel,
  loadBuiltinModel,
  writeMetadata
} from "./chunk-P6HER42Z.js";
import "./chunk-2RDMIJXC.js";
import {
  encodePng,
  rawToTensor,
  readImageFile
} from "./chunk-JFQ3PAZH.js";
import {
  fillBatch,
  pixelTable,
  sampleSize
} from "./chunk-EQEDVHDE.js";
import {
  FASHION_MNIST_CLASSES
} from "./chunk-XD57GLXB.js";
import {
  FASHION_MNIST_LABELS,
  GraphBuilder
} from "./chunk-X2V5Z5UO.js";
import "./chunk-75463JA6.js";
import {
  writeFileAtomic
} from "./chunk-4WR5QSMB.js";
import {
  filled,
  gaussian,
  glorotUniform,
  heNormal,
  seededRandom
} from "./chunk-Y3QEK5WU.js";
import "./chunk-GNZAA2KB.js";
import {
  panelsSpec,
  renderChart
} from "./chunk-A36QIBQV.js";
import {
  gridFigure,
  resizeImage
} from "./chunk-TUXGXZTB.js";
import {
  ConvLensError
} from "./chunk-N6ATQ4RF.js";

// dist/interfaces/cli/commands/diffuse.js
import { fileURLToPath } from "node:url";
import { InvalidArgumentError } from "commander";

// dist/methods/diffusion/evaluate.js
async function conditionalAccuracy(denoiser, classifier, o) {
  const labels = denoiser.labels;
  const K = labels.length;
  const per = denoiser.shape.reduce((a, b) => a * b, 1);
  const [lo, hi] = denoiser.clipRange;
  const prep = classifier.meta.preprocessing;
  const [plo, phi] = prep.range;
  const mean = prep.mean[0] ?? 0;
  const std = prep.std[0] ?? 1;
  const batch = o.batch ?? 250;
  const total = o.guidanceScales.length * K * o.perClass;
  let done = 0;
  const out = [];
  for (const scale of o.guidanceScales) {
    const t0 = performance.now();
    const confusion = new Int32Array(K * K);
    const jobs = [];
    for (let c = 0; c < K; c++)
      for (let i = 0; i < o.perClass; i++)
        jobs.push({ cls: c, i });
    for (let start = 0; start < jobs.length; start += batch) {
      const part = jobs.slice(start, start + batch);
      const r = await sample(denoiser, {
        conditions: part.map((j) => j.cls),
        unconditional: denoiser.unconditional,
        guidanceScale: scale,
        steps: o.steps ?? 50,
        sampler: o.sampler ?? "ddim",
        eta: o.eta ?? 0,
        seed: (o.seed ?? 0) * 1000003 + start,
        ...o.signal ? { signal: o.signal } : {},
        onProgress: (p) => o.onProgress?.({ done: done + p.done / p.total * part.length, total, phase: `guidance ${scale}: sampling` })
      });
      const x = new Float32Array(part.length * per);
      for (let j = 0; j < x.length; j++)
        x[j] = (plo + (phi - plo) * (r.images[j] - lo) / (hi - lo) - mean) / std;
      const logits = (await classifier.run({ dtype: "float32", dims: [part.length, ...denoiser.shape], data: x }))[classifier.output].data;
      const k = logits.length / part.length;
      part.forEach((j, n) => {
        let best = 0;
        for (let c = 1; c < k; c++)
          if (logits[n * k + c] > logits[n * k + best])
            best = c;
        confusion[j.cls * K + best]++;
      });
      done += part.length;
      o.onProgress?.({ done, total, phase: `guidance ${scale}` });
    }
    const metrics = summarizeConfusion(confusion, labels);
    const accuracy = metrics.perClass.reduce((a, p) => a + p.accuracy, 0) / K;
    out.push({ guidanceScale: scale, accuracy, metrics, seconds: (performance.now() - t0) / 1e3 });
  }
  return out;
}

// dist/methods/diffusion/preview.js
import { createRequire } from "node:module";
function pixelImages(shape, range = [-1, 1]) {
  const [c, h, w] = shape;
  const [lo, hi] = range;
  return (x, i) => {
    const channels = c === 1 ? 1 : 3;
    const data = new Uint8Array(h * w * channels);
    const off = i * c * h * w;
    for (let ch = 0; ch < channels; ch++) {
      for (let p = 0; p < h * w; p++) {
        const v = (x[off + ch * h * w + p] - lo) / (hi - lo) * 255;
        data[p * channels + ch] = Math.max(0, Math.min(255, Math.round(v)));
      }
    }
    return { width: w, height: h, channels, data };
  };
}
var SD_LATENT_RGB = [
  [0.3512, 0.2297, 0.3227],
  [0.325, 0.4974, 0.235],
  [-0.2829, 0.1762, 0.2721],
  [-0.212, -0.2616, -0.7177]
];
function latentImages(shape) {
  const [c, h, w] = shape;
  const plane = h * w;
  return (x, i) => {
    const off = i * c * plane;
    const data = new Uint8Array(plane * 3);
    if (c === 4) {
      for (let p = 0; p < plane; p++) {
        for (let k = 0; k < 3; k++) {
          let v = 0;
          for (let ch = 0; ch < 4; ch++)
            v += x[off + ch * plane + p] * SD_LATENT_RGB[ch][k];
          data[p * 3 + k] = Math.max(0, Math.min(255, Math.round((v + 1) / 2 * 255)));
        }
      }
    } else {
      for (let k = 0; k < 3; k++) {
        const ch = Math.min(k, c - 1);
        let lo = Infinity;
        let hi = -Infinity;
        for (let p = 0; p < plane; p++) {
          const v = x[off + ch * plane + p];
          if (v < lo)
            lo = v;
          if (v > hi)
            hi = v;
        }
        for (let p = 0; p < plane; p++)
          data[p * 3 + k] = hi > lo ? Math.round((x[off + ch * plane + p] - lo) / (hi - lo) * 255) : 128;
      }
    }
    return { width: w, height: h, channels: 3, data };
  };
}
function enlarge(img, target = 112) {
  const side = Math.max(img.width, img.height);
  if (side >= target)
    return img;
  const f = Math.max(1, Math.floor(target / side));
  return resizeImage(img, img.width * f, img.height * f, "nearest");
}
async function samplesFigure(o) {
  const rows = o.prompts.map((p, pi) => {
    const idx = o.promptOf.map((q, i) => q === pi ? i : -1).filter((i) => i >= 0);
    return { lines: [p === "" ? "(unconditional)" : p], cells: idx.map((i) => enlarge(o.toImage(o.images, i), o.tile)), ...o.captions ? { captions: idx.map((i) => o.captions[i]) } : {} };
  });
  const cols = Math.max(...rows.map((r) => r.cells.length));
  return gridFigure({ ...o.title ? { title: o.title } : {}, columns: Array.from({ length: cols }, (_, i) => `#${i + 1}`), rows, ...o.notes ? { notes: o.notes } : {} });
}
async function denoisingFigure(o) {
  const rows = [];
  o.images.forEach((img, k) => {
    const label = o.labels[k] ?? `image ${img + 1}`;
    const finalCell = o.final ? enlarge((o.final.toImage ?? o.toImage)(o.final.images, img), o.tile) : void 0;
    rows.push({ lines: [label, "x_t (input of the step)"], cells: [...o.frames.map((f) => enlarge(o.toImage(f.x, img), o.tile)), finalCell] });
    rows.push({ lines: [label, "predicted clean x_0"], cells: [...o.frames.map((f) => enlarge(o.toImage(f.x0, img), o.tile)), void 0] });
  });
  const columns = [...o.frames.map((f) => `step ${f.step + 1}/${f.steps}
t = ${f.t}`), ...o.final ? ["result"] : []];
  return gridFigure({ ...o.title ? { title: o.title } : {}, columns, rows, ...o.notes ? { notes: o.notes } : {} });
}
function denoisingGif(o) {
  const gif = gifenc();
  const enc = gif.GIFEncoder();
  const gap = 4;
  const pictures = (f) => o.images.flatMap((i) => [enlarge(o.toImage(f.x, i), o.tile), enlarge(o.toImage(f.x0, i), o.tile)]);
  const seq = [...o.frames.map((f) => ({ x: f.x, x0: f.x0 })), ...o.final ? [{ x: o.final, x0: o.final }] : []];
  seq.forEach((f, n) => {
    const tiles = pictures(f);
    const tw = tiles[0].width;
    const th = tiles[0].height;
    const width = tiles.length * tw + (tiles.length - 1) * gap + (o.images.length - 1) * gap;
    const rgba = new Uint8Array(width * th * 4).fill(255);
    let left = 0;
    tiles.forEach((t, k) => {
      for (let y = 0; y < th; y++) {
        for (let x = 0; x < tw; x++) {
          const src = (y * t.width + x) * t.channels;
          const dst = (y * width + left + x) * 4;
          rgba[dst] = t.data[src];
          rgba[dst + 1] = t.data[src + (t.channels === 3 ? 1 : 0)];
          rgba[dst + 2] = t.data[src + (t.channels === 3 ? 2 : 0)];
        }
      }
      left += tw + gap + (k % 2 === 1 ? gap : 0);
    });
    const palette = gif.quantize(rgba, 256);
    const index = gif.applyPalette(rgba, palette);
    enc.writeFrame(index, width, th, { palette, delay: n === seq.length - 1 ? 1500 : o.delayMs ?? 120, ...n === 0 ? { repeat: 0 } : {} });
  });
  enc.finish();
  return enc.bytes();
}
async function noisingFigure(o) {
  const toImage = pixelImages(o.shape, o.range ?? [-1, 1]);
  const rows = o.schedules.map(({ name, schedule }) => {
    const cells = [];
    const captions = [];
    for (const t of o.timesteps) {
      const { signal, noise } = scales(schedule, t);
      const xt = new Float32Array(o.x0.length);
      for (let j = 0; j < xt.length; j++)
        xt[j] = signal * o.x0[j] + noise * o.noise[j];
      cells.push(enlarge(toImage(xt, 0)));
      captions.push(`\u221A\u1FB1 ${signal.toFixed(3)}  \u221A(1-\u1FB1) ${noise.toFixed(3)}`);
    }
    return { lines: [name, `T = ${schedule.steps}`], cells, captions };
  });
  return gridFigure({ ...o.title ? { title: o.title } : {}, columns: o.timesteps.map((t) => `t = ${t}`), rows, ...o.notes ? { notes: o.notes } : {} });
}
var gifModule;
function gifenc() {
  gifModule ??= createRequire(import.meta.url)("gifenc");
  return gifModule;
}

// dist/methods/diffusion/generate.js
function checkRequest(r) {
  if (!r.prompts.length)
    throw new ConvLensError("INVALID_ARGUMENT", "Nothing to generate: give at least one prompt.", 'Pass a prompt such as "ankle boot" ("" for the unconditional model).');
  if (r.prompts.length > 64)
    throw new ConvLensError("INVALID_ARGUMENT", `${r.prompts.length} prompts are too many for one run (at most 64).`);
  const n = r.numImagesPerPrompt ?? 1;
  if (!Number.isInteger(n) || n < 1 || n * r.prompts.length > 1024) {
    throw new ConvLensError("INVALID_ARGUMENT", `num_images_per_prompt ${n} x ${r.prompts.length} prompts is out of range.`, "Ask for 1 to 1024 images per run.");
  }
  if (Array.isArray(r.negativePrompt) && r.negativePrompt.length !== r.prompts.length) {
    throw new ConvLensError("INVALID_ARGUMENT", `${r.negativePrompt.length} negative prompts for ${r.prompts.length} prompts.`, "Give one negative prompt for all prompts, or one per prompt.");
  }
}
var ClassConditionalGenerator = class {
  denoiser;
  kind = "class-conditional";
  constructor(denoiser) {
    this.denoiser = denoiser;
  }
  get name() {
    return this.denoiser.name;
  }
  get labels() {
    return this.denoiser.labels;
  }
  get imageSize() {
    return [this.denoiser.shape[1], this.denoiser.shape[2]];
  }
  async generate(r) {
    checkRequest(r);
    const d = this.denoiser;
    const conds = r.prompts.map((p) => resolvePrompt(p, d.labels));
    const negs = r.negativePrompt === void 0 ? void 0 : (typeof r.negativePrompt === "string" ? r.prompts.map(() => r.negativePrompt) : [...r.negativePrompt]).map((p) => resolvePrompt(p, d.labels, "negative prompt"));
    const toImage = pixelImages(d.shape, d.clipRange);
    const steps = r.numInferenceSteps ?? 50;
    const scale = r.guidanceScale ?? 1;
    const kind = r.sampler ?? "ddim";
    const eta = r.eta ?? (kind === "ddpm" ? 1 : 0);
    const seed = r.seed ?? 0;
    const perPrompt = r.numImagesPerPrompt ?? 1;
    const res = await sample(d, {
      conditions: conds.map((c) => conditionIndex(c, d.unconditional)),
      unconditional: d.unconditional,
      negative: negs?.map((c) => conditionIndex(c, d.unconditional)),
      guidanceScale: scale,
      numImagesPerPrompt: perPrompt,
      steps,
      sampler: kind,
      eta,
      seed,
      previewEvery: r.previewEvery ?? 0,
      ...r.onFrame ? { onFrame: (f) => r.onFrame(f, { toImage }) } : {},
      ...r.signal ? { signal: r.signal } : {},
      ...r.onProgress ? { onProgress: r.onProgress } : {}
    });
    return {
      images: Array.from({ length: res.count }, (_, i) => toImage(res.images, i)),
      promptOf: res.promptOf,
      conditions: conds.map((c) => c.kind === "class" ? c.label : "(unconditional)"),
      negative: negs?.map((c) => c.kind === "class" ? c.label : "(unconditional)"),
      frames: res.frames,
      frameImage: toImage,
      timesteps: res.timesteps,
      seconds: res.seconds,
      settings: { steps, guidanceScale: scale, sampler: kind, eta, seed, numImagesPerPrompt: perPrompt, rowsPerStep: res.rowsPerStep }
    };
  }
};

// dist/methods/diffusion/pipeline.js
import { existsSync as existsSync2, readFileSync as readFileSync2, statSync } from "node:fs";
import { join as join2 } from "node:path";

// dist/methods/diffusion/clip-tokenizer.js
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
var BOS = "<|startoftext|>";
var EOS = "<|endoftext|>";
function bytesToUnicode() {
  const bs = [];
  for (let b = "!".charCodeAt(0); b <= "~".charCodeAt(0); b++)
    bs.push(b);
  for (let b = 161; b <= 172; b++)
    bs.push(b);
  for (let b = 174; b <= 255; b++)
    bs.push(b);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n++);
    }
  }
  const table = new Array(256);
  bs.forEach((b, i) => table[b] = String.fromCodePoint(cs[i]));
  return table;
}
var PATTERN = /<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+/giu;
var ENTITIES = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: "\xA0" };
function htmlUnescape(s) {
  return s.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (m, e) => {
    if (e[0] === "#") {
      const code = e[1] === "x" || e[1] === "X" ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return Number.isFinite(code) && code > 0 && code <= 1114111 ? String.fromCodePoint(code) : m;
    }
    return ENTITIES[e.toLowerCase()] ?? m;
  });
}
var ClipTokenizer = class _ClipTokenizer {
  source;
  vocab;
  ranks;
  bos;
  eos;
  pad;
  maxLength;
  byteChars = bytesToUnicode();
  cache = /* @__PURE__ */ new Map();
  constructor(files, source = "tokenizer") {
    this.source = source;
    this.vocab = new Map(Object.entries(files.vocab));
    const lines = files.merges.filter((l, i) => !(i === 0 && l.startsWith("#version")) && l.trim() !== "");
    this.ranks = new Map(lines.slice(0, 49152 - 256 - 2).map((l, i) => [l.trim(), i]));
    const need = (tok) => {
      const id = this.vocab.get(tok);
      if (id === void 0)
        throw new ConvLensError("MODEL_UNREADABLE", `The ${source} vocabulary has no "${tok}" token.`, "Use the vocab.json of a CLIP tokenizer (tokenizer/ of a Stable Diffusion export).");
      return id;
    };
    this.bos = need(BOS);
    this.eos = need(EOS);
    this.pad = need(files.padToken ?? EOS);
    this.maxLength = files.maxLength ?? 77;
  }
  /** Reads tokenizer/{vocab.json, merges.txt} and the pad token and length from special_tokens_map.json / tokenizer_config.json. */
  static fromFolder(dir) {
    const file = (name) => join(dir, name);
    for (const f of ["vocab.json", "merges.txt"]) {
      if (!existsSync(file(f)))
        throw new ConvLensError("INPUT_UNREADABLE", `The tokenizer folder "${dir}" has no ${f}.`, "A Stable Diffusion export has tokenizer/vocab.json and tokenizer/merges.txt (CLIP BPE).");
    }
    let vocab;
    try {
      vocab = JSON.parse(readFileSync(file("vocab.json"), "utf8"));
    } catch (e) {
      throw new ConvLensError("MODEL_UNREADABLE", `${file("vocab.json")} is not valid JSON: ${e.message}.`);
    }
    const merges = readFileSync(file("merges.txt"), "utf8").split(/\r?\n/);
    const readJson2 = (name) => {
      try {
        return existsSync(file(name)) ? JSON.parse(readFileSync(file(name), "utf8")) : {};
      } catch {
        return {};
      }
    };
    const special = readJson2("special_tokens_map.json");
    const config = readJson2("tokenizer_config.json");
    const tokenText = (v) => typeof v === "string" ? v : v && typeof v === "object" && typeof v.content === "string" ? v.content : void 0;
    const padToken = tokenText(special.pad_token) ?? tokenText(config.pad_token);
    const maxLength = typeof config.model_max_length === "number" && config.model_max_length < 1e5 ? config.model_max_length : void 0;
    return new _ClipTokenizer({ vocab, merges, ...padToken ? { padToken } : {}, ...maxLength ? { maxLength } : {} }, `tokenizer "${dir}"`);
  }
  /** The cleaned, lowercased text CLIP tokenizes. */
  static clean(text) {
    return htmlUnescape(htmlUnescape(text)).trim().replace(/\s+/g, " ").trim().toLowerCase();
  }
  bpe(token) {
    const hit = this.cache.get(token);
    if (hit)
      return hit;
    const chars = [...token];
    let word = [...chars.slice(0, -1), `${chars[chars.length - 1]}</w>`];
    while (word.length > 1) {
      let best = -1;
      let bestRank = Infinity;
      for (let i = 0; i < word.length - 1; i++) {
        const r = this.ranks.get(`${word[i]} ${word[i + 1]}`);
        if (r !== void 0 && r < bestRank) {
          bestRank = r;
          best = i;
        }
      }
      if (best < 0)
        break;
      const first = word[best];
      const second = word[best + 1];
      const next = [];
      for (let i = 0; i < word.length; ) {
        if (i < word.length - 1 && word[i] === first && word[i + 1] === second) {
          next.push(first + second);
          i += 2;
        } else
          next.push(word[i++]);
      }
      word = next;
    }
    this.cache.set(token, word);
    return word;
  }
  /** BPE symbols of a text (no start/end tokens). */
  tokenize(text) {
    const out = [];
    for (const m of _ClipTokenizer.clean(text).matchAll(PATTERN)) {
      const piece = m[0];
      if (piece === BOS || piece === EOS) {
        out.push(piece);
        continue;
      }
      const bytes = new TextEncoder().encode(piece);
      out.push(...this.bpe(Array.from(bytes, (b) => this.byteChars[b]).join("")));
    }
    return out;
  }
  /** Token ids of a text (no start/end tokens); symbols missing from the vocabulary are an error. */
  encodeTokens(text) {
    return this.tokenize(text).map((s) => {
      const id = this.vocab.get(s);
      if (id === void 0)
        throw new ConvLensError("MODEL_UNREADABLE", `The ${this.source} vocabulary has no entry for the BPE symbol "${s}".`, "vocab.json and merges.txt must come from the same tokenizer.");
      return id;
    });
  }
  /** [bos, ids..., eos] truncated to maxLength and padded: the text encoder's input_ids. */
  encode(text) {
    const body = this.encodeTokens(text);
    const room = this.maxLength - 2;
    const kept = body.slice(0, room);
    const ids = [this.bos, ...kept, this.eos];
    const length = ids.length;
    while (ids.length < this.maxLength)
      ids.push(this.pad);
    return { ids, length, truncated: body.length > room };
  }
  /** Decodes ids back to text (for messages and tests). */
  decode(ids) {
    const inv = new Map([...this.vocab].map(([k, v]) => [v, k]));
    const byteOf = new Map(this.byteChars.map((c, b) => [c, b]));
    const text = ids.map((i) => inv.get(i) ?? "").filter((s) => s !== BOS && s !== EOS).join("");
    const bytes = [];
    for (const ch of text.replace(/<\/w>/g, " ")) {
      const b = byteOf.get(ch);
      if (b !== void 0)
        bytes.push(b);
      else
        bytes.push(...new TextEncoder().encode(ch));
    }
    return new TextDecoder().decode(Uint8Array.from(bytes)).trim();
  }
};

// dist/methods/diffusion/pipeline.js
var SD_SCHEDULER = {
  betaStart: 85e-5,
  betaEnd: 0.012,
  betaSchedule: "scaled_linear",
  trainTimesteps: 1e3,
  stepsOffset: 1,
  setAlphaToOne: false,
  predictionType: "epsilon",
  timestepSpacing: "leading"
};
function readJson(path) {
  if (!existsSync2(path))
    return void 0;
  try {
    return JSON.parse(readFileSync2(path, "utf8"));
  } catch (e) {
    throw new ConvLensError("MODEL_UNREADABLE", `${path} is not valid JSON: ${e.message}.`);
  }
}
function readSchedulerConfig(dir) {
  const j = readJson(join2(dir, "scheduler", "scheduler_config.json")) ?? {};
  const num = (k, d) => typeof j[k] === "number" ? j[k] : d;
  const kind = typeof j.beta_schedule === "string" ? j.beta_schedule : SD_SCHEDULER.betaSchedule;
  const betaSchedule = kind === "squaredcos_cap_v2" ? "cosine" : kind === "linear" ? "linear" : kind === "scaled_linear" ? "scaled_linear" : (() => {
    throw new ConvLensError("MODEL_UNSUPPORTED", `The pipeline's scheduler uses beta_schedule "${String(kind)}".`, "Supported: linear, scaled_linear, squaredcos_cap_v2.");
  })();
  const pred = j.prediction_type === "v_prediction" ? "v_prediction" : j.prediction_type === void 0 || j.prediction_type === "epsilon" ? "epsilon" : (() => {
    throw new ConvLensError("MODEL_UNSUPPORTED", `The pipeline's scheduler predicts "${String(j.prediction_type)}".`, "Supported: epsilon, v_prediction.");
  })();
  const spacing = j.timestep_spacing === "trailing" || j.timestep_spacing === "linspace" ? j.timestep_spacing : "leading";
  return {
    betaStart: num("beta_start", SD_SCHEDULER.betaStart),
    betaEnd: num("beta_end", SD_SCHEDULER.betaEnd),
    betaSchedule,
    trainTimesteps: num("num_train_timesteps", SD_SCHEDULER.trainTimesteps),
    stepsOffset: num("steps_offset", j.steps_offset === void 0 && Object.keys(j).length ? 0 : SD_SCHEDULER.stepsOffset),
    setAlphaToOne: typeof j.set_alpha_to_one === "boolean" ? j.set_alpha_to_one : SD_SCHEDULER.setAlphaToOne,
    predictionType: pred,
    timestepSpacing: spacing
  };
}
async function openComponent(backend, dir, name, threads) {
  const path = join2(dir, name, "model.onnx");
  if (!existsSync2(path)) {
    throw new ConvLensError("INPUT_UNREADABLE", `The pipeline folder "${dir}" has no ${name}/model.onnx.`, "Export the pipeline to ONNX (e.g. `optimum-cli export onnx --model <model id> DIR`); ConvLens needs text_encoder/, unet/, vae_decoder/ and tokenizer/.");
  }
  const session = await backend.openSession(path, threads ? { threads } : {});
  return { session, inputs: new Map(session.inputs.map((i) => [i.name, i])), path };
}
function requireInput(c, name, what) {
  const i = c.inputs.get(name);
  if (!i)
    throw new ConvLensError("MODEL_UNSUPPORTED", `${c.path} has no input "${name}" (${what}); its inputs: ${[...c.inputs.keys()].join(", ")}.`, "ConvLens expects the input names of diffusers/optimum ONNX exports.");
  return i;
}
async function run(c, feeds) {
  try {
    const out = await c.session.run(feeds);
    return out[c.session.outputNames[0]];
  } catch (e) {
    throw new ConvLensError("RUNTIME_FAILURE", `ONNX Runtime failed running ${c.path}: ${e.message}`, void 0, { cause: e });
  }
}
var LatentUNet = class {
  unet;
  schedule;
  shape;
  predictionType;
  embeddingShape;
  maxBatch;
  clipRange = void 0;
  constructor(unet, schedule, shape, predictionType, embeddingShape, maxBatch = 8) {
    this.unet = unet;
    this.schedule = schedule;
    this.shape = shape;
    this.predictionType = predictionType;
    this.embeddingShape = embeddingShape;
    this.maxBatch = maxBatch;
  }
  async predict(x, n, t, conditions) {
    const per = this.shape.reduce((a, b) => a * b, 1);
    const embPer = this.embeddingShape.reduce((a, b) => a * b, 1);
    const tInfo = requireInput(this.unet, "timestep", "the timestep");
    const tType = tInfo.type;
    const tDims = tInfo.shape.length === 0 ? [] : [1];
    const timestep = tType === "int64" ? { dtype: "int64", dims: tDims, data: BigInt64Array.of(BigInt(t)) } : tType === "int32" ? { dtype: "int32", dims: tDims, data: Int32Array.of(t) } : tType === "float32" ? { dtype: "float32", dims: tDims, data: Float32Array.of(t) } : (() => {
      throw new ConvLensError("MODEL_UNSUPPORTED", `${this.unet.path}: timestep of type ${tType} is not supported.`, "Use a float32 export (fp16 exports are not supported on the CPU).");
    })();
    const out = new Float32Array(n * per);
    for (let start = 0; start < n; start += this.maxBatch) {
      const m = Math.min(this.maxBatch, n - start);
      const emb = new Float32Array(m * embPer);
      for (let i = 0; i < m; i++)
        emb.set(conditions[start + i], i * embPer);
      const r = await run(this.unet, {
        sample: { dtype: "float32", dims: [m, ...this.shape], data: x.slice(start * per, (start + m) * per) },
        timestep,
        encoder_hidden_states: { dtype: "float32", dims: [m, ...this.embeddingShape], data: emb }
      });
      if (r.data.length !== m * per)
        throw new ConvLensError("SHAPE_MISMATCH", `${this.unet.path} returned ${r.dims.join("x")} for a latent batch of ${m} x [${this.shape.join(", ")}].`);
      out.set(r.data, start * per);
    }
    return out;
  }
};
var StableDiffusionPipeline = class _StableDiffusionPipeline {
  dir;
  name;
  tokenizer;
  textEncoder;
  unet;
  vaeDecoder;
  scheduler;
  vaeScale;
  latentChannels;
  defaultLatentSize;
  kind = "stable-diffusion";
  labels = void 0;
  schedule;
  constructor(dir, name, tokenizer, textEncoder, unet, vaeDecoder, scheduler, vaeScale, latentChannels, defaultLatentSize) {
    this.dir = dir;
    this.name = name;
    this.tokenizer = tokenizer;
    this.textEncoder = textEncoder;
    this.unet = unet;
    this.vaeDecoder = vaeDecoder;
    this.scheduler = scheduler;
    this.vaeScale = vaeScale;
    this.latentChannels = latentChannels;
    this.defaultLatentSize = defaultLatentSize;
    this.schedule = makeSchedule({ kind: scheduler.betaSchedule, steps: scheduler.trainTimesteps, betaStart: scheduler.betaStart, betaEnd: scheduler.betaEnd });
  }
  static async open(dir, backend, options = {}) {
    if (!existsSync2(dir) || !statSync(dir).isDirectory())
      throw new ConvLensError("INPUT_UNREADABLE", `The pipeline folder "${dir}" does not exist.`, "Pass the folder of an ONNX export (text_encoder/, unet/, vae_decoder/, tokenizer/, scheduler/).");
    const tokenizer = ClipTokenizer.fromFolder(join2(dir, "tokenizer"));
    const [textEncoder, unet, vaeDecoder] = await Promise.all(["text_encoder", "unet", "vae_decoder"].map((c) => openComponent(backend, dir, c, options.threads)));
    requireInput(textEncoder, "input_ids", "the token ids");
    const sampleInfo = requireInput(unet, "sample", "the latents");
    requireInput(unet, "encoder_hidden_states", "the text embeddings");
    requireInput(vaeDecoder, "latent_sample", "the latents to decode");
    const vaeConfig = readJson(join2(dir, "vae_decoder", "config.json")) ?? {};
    const unetConfig = readJson(join2(dir, "unet", "config.json")) ?? {};
    const vaeScale = typeof vaeConfig.scaling_factor === "number" ? vaeConfig.scaling_factor : 0.18215;
    const channels = typeof sampleInfo.shape[1] === "number" ? sampleInfo.shape[1] : typeof unetConfig.in_channels === "number" ? unetConfig.in_channels : 4;
    const size = typeof unetConfig.sample_size === "number" ? unetConfig.sample_size : 64;
    const h = typeof sampleInfo.shape[2] === "number" ? sampleInfo.shape[2] : size;
    const w = typeof sampleInfo.shape[3] === "number" ? sampleInfo.shape[3] : size;
    const name = readJson(join2(dir, "model_index.json"))?._name_or_path ?? dir.replace(/[\\/]+$/, "").replace(/^.*[\\/]/, "");
    return new _StableDiffusionPipeline(dir, name, tokenizer, textEncoder, unet, vaeDecoder, readSchedulerConfig(dir), vaeScale, channels, [h, w]);
  }
  get imageSize() {
    return [this.defaultLatentSize[0] * 8, this.defaultLatentSize[1] * 8];
  }
  /** Text embeddings [77, D] of each text (one text encoder run for the distinct texts). */
  async encodeText(texts) {
    const unique = [...new Set(texts)];
    const L = this.tokenizer.maxLength;
    const info = requireInput(this.textEncoder, "input_ids", "the token ids");
    const encoded = unique.map((t) => this.tokenizer.encode(t));
    const flat = encoded.flatMap((e) => e.ids);
    const ids = info.type === "int64" ? { dtype: "int64", dims: [unique.length, L], data: BigInt64Array.from(flat, (v) => BigInt(v)) } : { dtype: "int32", dims: [unique.length, L], data: Int32Array.from(flat) };
    const out = await run(this.textEncoder, { input_ids: ids });
    const dims = out.dims;
    if (dims.length !== 3 || dims[0] !== unique.length || dims[1] !== L)
      throw new ConvLensError("SHAPE_MISMATCH", `${this.textEncoder.path} returned [${dims.join(", ")}]; expected [${unique.length}, ${L}, D] (last_hidden_state first).`);
    const per = dims[1] * dims[2];
    const data = out.data;
    const byText = new Map(unique.map((t, i) => [t, data.slice(i * per, (i + 1) * per)]));
    return { embeddings: texts.map((t) => byText.get(t)), shape: [dims[1], dims[2]], truncated: unique.filter((_, i) => encoded[i].truncated) };
  }
  /** Latents [B, C, h, w] (as the sampler leaves them) -> RGB images through the VAE decoder. */
  async decode(latents, count, shape) {
    const per = shape.reduce((a, b) => a * b, 1);
    const images = [];
    for (let i = 0; i < count; i++) {
      const z = new Float32Array(per);
      for (let j = 0; j < per; j++)
        z[j] = latents[i * per + j] / this.vaeScale;
      const out = await run(this.vaeDecoder, { latent_sample: { dtype: "float32", dims: [1, ...shape], data: z } });
      const dims = out.dims;
      if (dims.length !== 4 || dims[1] !== 3)
        throw new ConvLensError("SHAPE_MISMATCH", `${this.vaeDecoder.path} returned [${dims.join(", ")}]; expected an RGB image [1, 3, H, W].`);
      images.push(pixelImages(dims.slice(1), [-1, 1])(out.data, 0));
    }
    return images;
  }
  async generate(r) {
    checkRequest(r);
    const height = r.height ?? this.imageSize[0];
    const width = r.width ?? this.imageSize[1];
    if (height % 8 || width % 8)
      throw new ConvLensError("INVALID_ARGUMENT", `Height and width must be multiples of 8, got ${height}x${width}.`);
    const fixed = this.unet.inputs.get("sample").shape;
    if (typeof fixed[2] === "number" && fixed[2] !== height / 8 || typeof fixed[3] === "number" && fixed[3] !== width / 8) {
      throw new ConvLensError("INVALID_ARGUMENT", `This U-Net was exported for ${Number(fixed[2]) * 8}x${Number(fixed[3]) * 8} images; ${height}x${width} was asked for.`, "Leave out --width/--height.");
    }
    const shape = [this.latentChannels, height / 8, width / 8];
    const scale = r.guidanceScale ?? 7.5;
    const guided = scale > 1;
    const negatives = r.negativePrompt === void 0 ? r.prompts.map(() => "") : typeof r.negativePrompt === "string" ? r.prompts.map(() => r.negativePrompt) : [...r.negativePrompt];
    const texts = [...r.prompts, ...guided ? [...negatives, ""] : []];
    const enc = await this.encodeText(texts);
    const cond = enc.embeddings.slice(0, r.prompts.length);
    const neg = guided ? enc.embeddings.slice(r.prompts.length, 2 * r.prompts.length) : [];
    const uncond = guided ? enc.embeddings[enc.embeddings.length - 1] : cond[0];
    const model = new LatentUNet(this.unet, this.schedule, shape, this.scheduler.predictionType, enc.shape);
    const steps = r.numInferenceSteps ?? 50;
    const kind = r.sampler ?? "ddim";
    const eta = r.eta ?? (kind === "ddpm" ? 1 : 0);
    const seed = r.seed ?? 0;
    const perPrompt = r.numImagesPerPrompt ?? 1;
    const toImage = latentImages(shape);
    const res = await sample(model, {
      conditions: cond,
      unconditional: uncond,
      ...guided ? { negative: neg } : {},
      guidanceScale: scale,
      numImagesPerPrompt: perPrompt,
      steps,
      sampler: kind,
      eta,
      seed,
      spacing: this.scheduler.timestepSpacing,
      stepsOffset: this.scheduler.stepsOffset,
      finalAlphaCumprod: this.scheduler.setAlphaToOne ? 1 : this.schedule.alphasCumprod[0],
      previewEvery: r.previewEvery ?? 0,
      ...r.onFrame ? { onFrame: (f) => r.onFrame(f, { toImage }) } : {},
      ...r.signal ? { signal: r.signal } : {},
      ...r.onProgress ? { onProgress: r.onProgress } : {}
    });
    const images = await this.decode(res.images, res.count, shape);
    return {
      images,
      promptOf: res.promptOf,
      conditions: [...r.prompts],
      negative: r.negativePrompt === void 0 ? void 0 : negatives,
      frames: res.frames,
      frameImage: toImage,
      timesteps: res.timesteps,
      seconds: res.seconds,
      settings: { steps, guidanceScale: scale, sampler: kind, eta, seed, numImagesPerPrompt: perPrompt, rowsPerStep: res.rowsPerStep }
    };
  }
  async release() {
    for (const c of [this.textEncoder, this.unet, this.vaeDecoder])
      await c.session.release();
  }
};
function loadPipeline(dir, engine) {
  let opened;
  const threads = engine.options.threads;
  const get = () => opened ??= StableDiffusionPipeline.open(dir, engine.backend, threads ? { threads } : {});
  const name = dir.replace(/[\\/]+$/, "").replace(/^.*[\\/]/, "");
  return {
    kind: "stable-diffusion",
    name,
    imageSize: [512, 512],
    async generate(r) {
      return (await get()).generate(r);
    }
  };
}

// dist/models/zoo/unet.js
var UNET_IO = { sample: "sample", timestep: "timestep", classLabels: "class_labels", output: "noise_pred" };
var UNetBuilder = class {
  b;
  rand;
  groups;
  conditioning;
  constructor(b, rand, groups, conditioning = "scale-shift") {
    this.b = b;
    this.rand = rand;
    this.groups = groups;
    this.conditioning = conditioning;
  }
  channels(x) {
    return this.b.shapeOf(x)[1];
  }
  conv(x, name, filters, o = {}) {
    const k = o.kernel ?? 3;
    const cin = this.channels(x);
    const pad = Math.floor(k / 2);
    const w = o.zero ? filled([filters, cin, k, k], 0) : heNormal(this.rand, [filters, cin, k, k], cin * k * k);
    const weight = this.b.initializer(`${name}.weight`, w);
    const bias = this.b.initializer(`${name}.bias`, filled([filters], 0));
    return this.b.op("Conv", [x, weight, bias], { kernel_shape: [k, k], strides: [o.stride ?? 1, o.stride ?? 1], pads: [pad, pad, pad, pad] }, { name, outputs: [name] });
  }
  dense(x, name, units) {
    const fin = this.b.shapeOf(x)[1];
    const w = this.b.initializer(`${name}.weight`, glorotUniform(this.rand, [units, fin], fin, units));
    const bias = this.b.initializer(`${name}.bias`, filled([units], 0));
    return this.b.op("Gemm", [x, w, bias], { transB: 1 }, { name, outputs: [name] });
  }
  silu(x, name) {
    return this.b.op("Mul", [x, this.b.op("Sigmoid", [x])], {}, { name, outputs: [name] });
  }
  /** GroupNorm(groups, C) with a per-channel affine: Reshape [N, G, -1], InstanceNormalization, Reshape back, scale and shift. */
  groupNorm(x, name) {
    const b = this.b;
    if (this.groups === 0)
      return x;
    const [, c, h, w] = b.shapeOf(x);
    const g = Math.min(this.groups, c);
    const grouped = g === c ? x : b.op("Reshape", [x, b.ints([0, g, -1])]);
    const ones = b.constant(filled([g], 1), `${name}.ones`);
    const zeros = b.constant(filled([g], 0), `${name}.zeros`);
    const normed = b.op("InstanceNormalization", [grouped, ones, zeros], { epsilon: 1e-5 });
    const back = g === c ? normed : b.op("Reshape", [normed, b.ints([0, c, h, w])]);
    const gamma = b.initializer(`${name}.weight`, filled([c, 1, 1], 1));
    const beta = b.initializer(`${name}.bias`, filled([c, 1, 1], 0));
    return b.op("Add", [b.op("Mul", [back, gamma]), beta], {}, { name, outputs: [name] });
  }
  /** Residual block conditioned on the embedding `emb` [N, E] (already passed through SiLU). */
  resBlock(x, emb, name, out) {
    const b = this.b;
    let h = this.silu(this.groupNorm(x, `${name}.norm1`), `${name}.act1`);
    h = this.conv(h, `${name}.conv1`, out);
    if (this.conditioning === "shift") {
      const e = this.dense(emb, `${name}.emb`, out);
      h = this.groupNorm(b.op("Add", [h, b.op("Unsqueeze", [e, b.ints([2, 3])])]), `${name}.norm2`);
    } else {
      const e = b.op("Unsqueeze", [this.dense(emb, `${name}.emb`, 2 * out), b.ints([2, 3])]);
      const [scale, shift] = b.opN("Split", [e, b.ints([out, out])], { axis: 1 }, { outputs: 2 });
      h = b.op("Add", [b.op("Mul", [this.groupNorm(h, `${name}.norm2`), b.op("Add", [scale, b.scalar(1)])]), shift]);
    }
    h = this.silu(h, `${name}.act2`);
    h = this.conv(h, `${name}.conv2`, out);
    const skip = this.channels(x) === out ? x : this.conv(x, `${name}.skip`, out, { kernel: 1 });
    return b.op("Add", [h, skip], {}, { name, outputs: [name] });
  }
};
function timestepFeatures(b, t, dim) {
  const half = dim / 2;
  const freqs = new Float32Array(half);
  for (let i = 0; i < half; i++)
    freqs[i] = Math.exp(-Math.log(1e4) * i / half);
  const f = b.constant({ dtype: "float32", dims: [1, half], data: freqs }, "time_freqs");
  const args = b.op("Mul", [b.op("Unsqueeze", [t, b.ints([1])]), f]);
  return b.op("Concat", [b.op("Sin", [args]), b.op("Cos", [args])], { axis: 1 }, { name: "time_proj", outputs: ["time_proj"] });
}
function spaceToDepth(b, x, c, size, p) {
  const s = size / p;
  const r = b.op("Reshape", [x, b.ints([0, c, s, p, s, p])]);
  const t = b.op("Transpose", [r], { perm: [0, 1, 3, 5, 2, 4] });
  return b.op("Reshape", [t, b.ints([0, c * p * p, s, s])], {}, { name: "pixel_unshuffle", outputs: ["pixel_unshuffle"] });
}
function depthToSpace(b, x, c, size, p, name) {
  const s = size / p;
  const r = b.op("Reshape", [x, b.ints([0, c, p, p, s, s])]);
  const t = b.op("Transpose", [r], { perm: [0, 1, 4, 2, 5, 3] });
  return b.op("Reshape", [t, b.ints([0, c, size, size])], {}, { name, outputs: [name] });
}
function classConditionalUNet(o = {}) {
  const channels = o.channels ?? 1;
  const size = o.size ?? 28;
  const widths = o.widths ?? [32, 64, 64];
  const blocks = o.blocks ?? 1;
  const classes = o.classes ?? 10;
  const embDim = o.embedding ?? 4 * widths[0];
  const p = o.patch ?? 1;
  const inner = size / p;
  if (!Number.isInteger(inner) || inner % 2 ** (widths.length - 1) !== 0)
    throw new Error(`image side ${size} / patch ${p} is not divisible by 2^${widths.length - 1}`);
  const b = new GraphBuilder();
  b.graph.name = "class_conditional_unet";
  const rand = seededRandom(o.seed ?? 0);
  const U = new UNetBuilder(b, rand, o.groups ?? 8, o.conditioning ?? "scale-shift");
  const sample2 = b.input(UNET_IO.sample, "float32", ["N", channels, size, size]);
  const t = b.input(UNET_IO.timestep, "float32", ["N"]);
  const cls = b.input(UNET_IO.classLabels, "int64", ["N"]);
  let temb = timestepFeatures(b, t, widths[0]);
  temb = U.dense(U.silu(U.dense(temb, "time_embedding.linear_1", embDim), "time_embedding.act"), "time_embedding.linear_2", embDim);
  const table = (() => {
    const data = new Float32Array((classes + 1) * embDim);
    for (let i = 0; i < data.length; i++)
      data[i] = gaussian(rand);
    return { dtype: "float32", dims: [classes + 1, embDim], data };
  })();
  const cemb = b.op("Gather", [b.initializer("class_embedding.weight", table), cls], { axis: 0 }, { name: "class_embedding", outputs: ["class_embedding"] });
  const emb = U.silu(b.op("Add", [temb, cemb], {}, { name: "embedding", outputs: ["embedding"] }), "embedding_act");
  let h = U.conv(p > 1 ? spaceToDepth(b, sample2, channels, size, p) : sample2, "conv_in", widths[0]);
  const skips = [];
  widths.forEach((w, level) => {
    for (let i = 0; i < blocks; i++)
      h = U.resBlock(h, emb, `down${level}.res${i}`, w);
    if (level < widths.length - 1) {
      skips.push(h);
      h = U.conv(h, `down${level}.downsample`, widths[level + 1], { stride: 2 });
    }
  });
  h = U.resBlock(h, emb, "mid.res", widths[widths.length - 1]);
  for (let level = widths.length - 2; level >= 0; level--) {
    const up = b.op("Resize", [h, "", b.constant({ dtype: "float32", dims: [4], data: Float32Array.of(1, 1, 2, 2) }, "scales2")], { mode: "nearest" });
    h = U.conv(up, `up${level}.upsample`, widths[level]);
    h = b.op("Concat", [h, skips[level]], { axis: 1 });
    for (let i = 0; i < blocks; i++)
      h = U.resBlock(h, emb, `up${level}.res${i}`, widths[level]);
  }
  h = U.silu(U.groupNorm(h, "norm_out"), "act_out");
  const out = p > 1 ? depthToSpace(b, U.conv(h, "conv_out", channels * p * p, { zero: true }), channels, size, p, UNET_IO.output) : U.conv(h, UNET_IO.output, channels, { zero: true });
  b.output(out);
  return b.build();
}

// dist/methods/diffusion/train.js
var DIFFUSION_PREPROCESSING = { size: [28, 28], channels: "gray", range: [-1, 1], mean: [0], std: [1], resize: "stretch" };
async function trainDenoiser(engine, run2, ds, options = {}) {
  const { model, config, labels } = run2;
  const K = labels.length;
  const schedule = makeSchedule(config.schedule);
  const sample2 = model.inputs.find((i) => i.name === UNET_IO.sample);
  const shape = sample2?.shape ?? [];
  if (!sample2 || shape[1] !== ds.channels || shape[2] !== ds.height || shape[3] !== ds.width) {
    throw new ConvLensError("SHAPE_MISMATCH", `The denoiser's "${UNET_IO.sample}" input has shape [${shape.join(", ")}]; the data is [N, ${ds.channels}, ${ds.height}, ${ds.width}].`);
  }
  const training = buildTrainingGraph(model, {
    loss: (b, prediction) => meanSquaredError(b, prediction, b.input("noise", "float32", [...b.shapeOf(prediction)]))
  });
  const trainer = new Trainer(engine, training, model.initializers, { optimizer: config.optimizer, ...config.clipNorm ? { clipNorm: config.clipNorm } : {} });
  const ema = /* @__PURE__ */ new Map();
  for (const [n, v] of trainer.params)
    ema.set(n, Float32Array.from(v));
  let emaUpdates = 0;
  if (options.resume) {
    for (const [n, v] of ema) {
      const t = options.resume.tensors.get(`extra/ema/${n}`);
      if (t && t.data.length === v.length)
        v.set(t.data);
    }
    emaUpdates = options.resume.meta.extra?.emaUpdates ?? 0;
  }
  const updateEma = (k) => {
    if (config.ema <= 0 || k <= emaUpdates)
      return;
    const d = Math.min(config.ema, (1 + k) / (10 + k));
    for (const [n, p] of trainer.params) {
      const e = ema.get(n);
      for (let i = 0; i < p.length; i++)
        e[i] = d * e[i] + (1 - d) * p[i];
    }
    emaUpdates = k;
  };
  const per = sampleSize(ds);
  const table = pixelTable(DIFFUSION_PREPROCESSING);
  const x0 = new Float32Array(config.batchSize * per);
  const xt = new Float32Array(config.batchSize * per);
  const eps = new Float32Array(config.batchSize * per);
  const ts = new Float32Array(config.batchSize);
  const tInt = new Int32Array(config.batchSize);
  const cls = new BigInt64Array(config.batchSize);
  const fitData = {
    size: ds.count,
    batch(indices, step) {
      updateEma(step);
      const n = indices.length;
      fillBatch(ds, indices, [table], x0);
      const gen = new Generator(mixSeed(config.seed, step));
      for (let i = 0; i < n; i++) {
        tInt[i] = gen.int(schedule.steps);
        ts[i] = tInt[i];
        cls[i] = BigInt(gen.uniform() < config.uncondProb ? K : ds.labels[indices[i]]);
      }
      gen.randn(n * per, eps);
      addNoise(schedule, x0.subarray(0, n * per), tInt.subarray(0, n), eps.subarray(0, n * per), xt);
      return {
        [UNET_IO.sample]: { dtype: "float32", dims: [n, ds.channels, ds.height, ds.width], data: xt.subarray(0, n * per) },
        [UNET_IO.timestep]: { dtype: "float32", dims: [n], data: ts.subarray(0, n) },
        [UNET_IO.classLabels]: { dtype: "int64", dims: [n], data: cls.subarray(0, n) },
        noise: { dtype: "float32", dims: [n, ds.channels, ds.height, ds.width], data: eps.subarray(0, n * per) }
      };
    }
  };
  try {
    const result = await fit(trainer, fitData, { epochs: config.epochs, batchSize: config.batchSize, seed: config.seed, lr: config.lr, schedule: config.lrSchedule, warmupSteps: config.warmupSteps }, {
      ...options,
      ...options.checkpoint ? {
        checkpoint: resumableCheckpoint(options.checkpoint, model, () => ({
          meta: { denoiser: { labels, config, provenance: run2.provenance ?? {} }, emaUpdates },
          tensors: [...ema].map(([n, v]) => [`ema/${n}`, { dtype: "float32", dims: [...trainer.dims.get(n)], data: v }])
        }))
      } : {}
    });
    if (result.completed)
      updateEma(trainer.optimizer.state.step);
    const trained = model.clone();
    for (const [n, t] of trainer.state()) {
      const data = config.ema > 0 && ema.has(n) ? ema.get(n) : t.data;
      trained.initializers.set(n, { dtype: "float32", dims: [...t.dims], data: Float32Array.from(data) });
    }
    const meta = {
      kind: "class-conditional-unet",
      schedule: schedule.config,
      predictionType: "epsilon",
      sampleRange: [-1, 1],
      labels,
      nullClass: K,
      io: UNET_IO
    };
    writeDiffusionMetadata(trained, meta);
    const round = (v) => Math.round(v * 1e5) / 1e5;
    writeMetadata(trained, {
      labels,
      preprocessing: DIFFUSION_PREPROCESSING,
      training: {
        ...Object.fromEntries(Object.entries(run2.provenance ?? {}).filter(([k]) => k !== "out")),
        data: ds.source,
        trainSamples: ds.count,
        arch: config.arch,
        schedule: schedule.config,
        epochs: config.epochs,
        batchSize: config.batchSize,
        seed: config.seed,
        optimizer: config.optimizer,
        lr: config.lr,
        lrSchedule: describeSchedule(config.lrSchedule),
        warmupSteps: config.warmupSteps,
        ...config.clipNorm ? { clipNorm: config.clipNorm } : {},
        uncondProb: config.uncondProb,
        ema: config.ema,
        steps: result.steps,
        seconds: Math.round(result.seconds),
        history: result.history.map((h) => ({ epoch: h.epoch, loss: round(h.loss), lr: h.lr, seconds: Math.round(h.seconds) }))
      }
    });
    return { model: trained, history: result.history, steps: result.steps, seconds: result.seconds, completed: result.completed };
  } finally {
    await trainer.dispose();
  }
}
function denoiserRunFromCheckpoint(c, source) {
  const { model, run: run2 } = resumableRun(c, "denoiser", source, "convlens diffuse train");
  const { labels, config, provenance } = run2;
  return { model, labels, config, ...provenance ? { provenance } : {} };
}

// dist/interfaces/cli/commands/diffuse.js
function define(command) {
  const diffuse = command;
  registerNoise(diffuse);
  registerTrain(diffuse);
  registerSample(diffuse);
  registerEvaluate(diffuse);
}
function registerTrain(diffuse) {
  diffuse.command("train").description("train a class-conditional U-Net noise predictor on Fashion-MNIST (classifier-free guidance ready)").option("-d, --data <dir>", "folder with the Fashion-MNIST IDX files (default: /usr/share/datasets/fashion-mnist)").option("-o, --out <file>", "denoiser to write", defaultOut("diffuse", "denoiser.onnx")).option("--epochs <n>", "epochs", positiveInt, 4).option("--batch <n>", "batch size (1-4096)", intIn(1, 4096), 128).option("--lr <rate>", "base learning rate (Adam)", positiveNumber, 15e-4).option("--lr-schedule <s>", "learning-rate schedule: constant, cosine[:min], step:EVERY:GAMMA, exp:GAMMA", "cosine:0.05").option("--warmup <steps>", "linear learning-rate warmup steps", nonNegativeInt, 200).option("--weight-decay <wd>", "AdamW decoupled weight decay on weights", nonNegative, 0).option("--clip-norm <x>", "clip the global gradient norm", positiveNumber, 1).option("--schedule <kind>", "noise schedule: linear or cosine", "cosine").option("--timesteps <T>", "training timesteps T", positiveInt, 1e3).option("--widths <list>", "U-Net widths per resolution, highest first", intList, [32, 64]).option("--blocks <n>", "residual blocks per resolution", positiveInt, 1).option("--groups <n>", "GroupNorm groups (0 = no normalization)", nonNegativeInt, 8).option("--patch <p>", "space-to-depth patch side: the U-Net runs at 28/p resolution", positiveInt, 2).option("--uncond-prob <p>", "probability of dropping the class (learns the unconditional model for guidance)", fraction, 0.1).option("--ema <decay>", "exponential moving average of the weights that is exported (0 = raw weights)", fraction, 0.999).option("--seed <n>", "seed for initialization, shuffling, timesteps, noise and label dropping", nonNegativeInt, 0).option("--limit <n>", "train on a stratified subset of n images (quick runs)", positiveInt).option("--checkpoint <file>", "checkpoint file (default: <out>.ckpt)").option("--no-checkpoint", "do not write checkpoints").option("--checkpoint-every <steps>", "also checkpoint every this many steps (besides every epoch and on Ctrl-C)", positiveInt, 200).option("--resume <checkpoint>", "continue an interrupted run from its checkpoint (settings come from the checkpoint; --epochs can extend it)").option("--threads <n>", `ONNX Runtime intra-op threads (1-${MAX_THREADS})`, threadCount).option("-q, --quiet", "no progress bar or epoch lines").action(async (opts, cmd) => {
    const prepared = prepareTrainingRun(opts, cmd, { fresh: (provenance) => newRun(opts, provenance), fromCheckpoint: denoiserRunFromCheckpoint }, "class-conditional U-Net");
    const { run: run2, out, train, checkpointPath, log } = prepared;
    const engine = createEngine(opts);
    const c = run2.config;
    log(`training ${run2.model.name} (${parameterCount(run2.model).toLocaleString("en-US")} parameters) on ${train.source}: ${train.count} images, ${c.epochs} epochs x ${stepsPerEpoch(train.count, c.batchSize)} steps of ${c.batchSize}, ${c.schedule.kind} noise schedule (T = ${c.schedule.steps ?? 1e3}), adam lr ${c.lr} ${describeSchedule(c.lrSchedule)}, p(uncond) ${c.uncondProb}, EMA ${c.ema}`);
    const job = cliJob(opts, "diffuse train");
    let result;
    try {
      const options = trainerOptions(prepared, job, opts.checkpointEvery, (r) => formatEpoch(r, c.epochs));
      result = await trainDenoiser(engine, run2, train, {
        ...options,
        onProgress: (p) => {
          options.onProgress?.(p);
          if (!process.stderr.isTTY && p.done % 50 === 0)
            log(`step ${p.done}/${p.total} ${p.phase ?? ""}  loss ${(p.metrics?.loss ?? NaN).toFixed(5)}  ${(p.metrics?.["samples/s"] ?? 0).toFixed(0)} samples/s`);
        }
      });
    } finally {
      job.done();
      await engine.dispose();
    }
    writeMetadata(result.model, { description: `Class-conditional U-Net noise predictor for ${train.source.startsWith("Fashion-MNIST") ? "Fashion-MNIST" : train.source}, trained by convlens diffuse train` });
    const bytes = encodeModel(result.model);
    writeFileAtomic(out, bytes);
    const last = result.history[result.history.length - 1];
    process.stdout.write(`final loss ${last ? last.loss.toFixed(5) : "-"} after ${result.steps} steps (${Math.round(result.seconds)} s)
`);
    process.stdout.write(`wrote ${out} (${Math.round(bytes.length / 1024)} KB)${checkpointPath ? `; checkpoint ${checkpointPath}` : ""}
`);
  });
}
function newRun(opts, provenance) {
  const arch = { channels: 1, size: 28, widths: opts.widths, blocks: opts.blocks, groups: opts.groups, patch: opts.patch, conditioning: "scale-shift", classes: FASHION_MNIST_CLASSES, seed: opts.seed };
  let model;
  try {
    model = classConditionalUNet(arch);
  } catch (e) {
    throw new ConvLensError("INVALID_ARGUMENT", `Cannot build the U-Net: ${e.message}.`, "With --patch 2 the U-Net runs at 14x14: use at most 2 widths (14, 7); with --patch 1, up to 3 (28, 14, 7).");
  }
  const config = {
    arch,
    schedule: { kind: parseScheduleKind(opts.schedule), steps: opts.timesteps },
    epochs: opts.epochs,
    batchSize: opts.batch,
    seed: opts.seed,
    optimizer: optimizerConfig("adam", { weightDecay: opts.weightDecay }),
    lr: opts.lr,
    lrSchedule: parseSchedule(opts.lrSchedule),
    warmupSteps: opts.warmup,
    ...opts.clipNorm ? { clipNorm: opts.clipNorm } : {},
    uncondProb: opts.uncondProb,
    ema: opts.ema
  };
  return { model, labels: [...FASHION_MNIST_LABELS], config, provenance };
}
function formatEpoch(r, epochs) {
  return `epoch ${String(r.epoch).padStart(String(epochs).length)}/${epochs}  loss ${r.loss.toFixed(5)}  lr ${r.lr.toPrecision(3)}  ${r.seconds.toFixed(0)} s  ${r.samplesPerSecond.toFixed(0)} samples/s`;
}
var samplerKind = (v) => {
  const k = v.trim().toLowerCase();
  if (!SAMPLERS.includes(k))
    throw new InvalidArgumentError(`expected one of: ${SAMPLERS.join(", ")}`);
  return k;
};
var slug = (s) => s.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "") || "unconditional";
var DEFAULT_NOISE_IMAGE = fileURLToPath(new URL("../../../../samples/fashion-mnist/ankle-boot-test0.png", import.meta.url));
function registerNoise(diffuse) {
  diffuse.command("noise").description("the forward process: one image noised by the closed form q(x_t | x_0) at chosen steps, one row per noise schedule").argument("[image]", "image file (default: a Fashion-MNIST ankle boot from samples/)").option("-o, --out <file>", "figure to write", defaultOut("diffuse", "noise.png")).option("--timesteps <list>", "timesteps to show (0-based, < T)", intList, [0, 50, 100, 200, 300, 500, 700, 999]).option("--schedule <list>", "noise schedules, one row each: linear, cosine", "linear,cosine").option("--steps <T>", "training timesteps T of the schedules (1-10000)", intIn(1, 1e4), 1e3).option("--seed <n>", "seed of the noise (the same noise in every tile)", nonNegativeInt, 0).option("-q, --quiet", "no messages").action(async (image, opts) => {
    const file = image ?? DEFAULT_NOISE_IMAGE;
    const raw = await readImageFile(file, 1);
    const img = raw.width === 28 && raw.height === 28 ? raw : resizeImage(raw, 28, 28, "bilinear");
    const x0 = rawToTensor(img, { size: [28, 28], channels: "gray", range: [-1, 1], mean: [0], std: [1], resize: "stretch" }).data;
    const schedules = opts.schedule.split(",").map((k) => ({ name: k.trim(), schedule: makeSchedule({ kind: parseScheduleKind(k), steps: opts.steps }) }));
    const noise = new Generator(opts.seed).randn(x0.length);
    const png = await noisingFigure({
      x0,
      shape: [1, 28, 28],
      schedules,
      timesteps: opts.timesteps,
      noise,
      title: `Forward process x_t = \u221A\u1FB1_t x_0 + \u221A(1-\u1FB1_t) \u03B5 (${file.replace(/^.*[\\/]/, "")}, seed ${opts.seed})`,
      notes: ["The same \u03B5 in every tile; pixels in [-1, 1], clipped for display.", "linear: \u03B2 from 1e-4 to 0.02 (Ho et al. 2020); cosine: \u1FB1_t = cos\xB2((t/T + s)/(1 + s) \xB7 \u03C0/2), s = 0.008 (Nichol & Dhariwal 2021)."]
    });
    writeFileAtomic(opts.out, png);
    if (!opts.quiet)
      process.stdout.write(`wrote ${opts.out}
`);
  });
}
function openGenerator(opts) {
  const engine = createEngine(opts);
  if (opts.pipeline) {
    if (opts.model)
      throw new ConvLensError("INVALID_ARGUMENT", "Give either --model (a denoiser file) or --pipeline (a Stable-Diffusion-style folder), not both.");
    return { engine, gen: loadPipeline(opts.pipeline, engine) };
  }
  return { engine, gen: new ClassConditionalGenerator(loadDenoiser(opts.model, engine)) };
}
function registerSample(diffuse) {
  diffuse.command("sample").description("generate images from text prompts with DDIM or DDPM, classifier-free guidance and negative prompts; writes the samples, the denoising grid and a GIF").argument("[prompts...]", 'prompts: class names for the Fashion-MNIST denoiser ("ankle boot"; "" = unconditional), any text for a pipeline').option("-m, --model <file>", "denoiser ONNX file written by `convlens diffuse train` (default: the built-in Fashion-MNIST U-Net)").option("--pipeline <dir>", "a Stable-Diffusion-style ONNX pipeline folder (text_encoder/, unet/, vae_decoder/, tokenizer/; see README)").option("-n, --negative-prompt <text>", "negative prompt: replaces the unconditional branch of guidance (needs --guidance > 1)").option("--steps <n>", "num_inference_steps (1-1000)", intIn(1, 1e3), 50).option("-g, --guidance <scale>", "guidance_scale (1 = the conditional model alone, no guidance; default 3 for the Fashion-MNIST denoiser, 7.5 for pipelines)", nonNegative).option("--sampler <kind>", `sampler: ${SAMPLERS.join(", ")}`, samplerKind, "ddim").option("--eta <eta>", "DDIM eta (0 = deterministic; default 0 for ddim)", nonNegative).option("--seed <n>", "seed: the same seed and settings give the same images bit for bit", nonNegativeInt, 0).option("-c, --count <n>", "num_images_per_prompt", positiveInt, 4).option("--all-classes", "one prompt per class of the denoiser").option("--every <k>", "record x_t and the predicted x_0 every k-th step", positiveInt, 5).option("--watch <n>", "how many images the denoising grid and GIF follow (the first n)", nonNegativeInt, 4).option("--width <px>", "pipelines: image width (multiple of 8)", positiveInt).option("--height <px>", "pipelines: image height (multiple of 8)", positiveInt).option("--classify", "class-conditional: caption each sample with the built-in classifier's prediction").option("--no-gif", "do not write the GIF").option("-o, --out <dir>", "output folder", defaultOut("diffuse", "sample")).option("--threads <n>", `ONNX Runtime intra-op threads (1-${MAX_THREADS})`, threadCount).option("-q, --quiet", "no progress bar or messages").action(async (prompts, opts) => {
    const { engine, gen } = openGenerator(opts);
    try {
      if (opts.allClasses) {
        if (!gen.labels)
          throw new ConvLensError("INVALID_ARGUMENT", "--all-classes needs a class-conditional denoiser.", "Pass prompts for a pipeline.");
        prompts = [...prompts, ...gen.labels];
      }
      if (!prompts.length)
        throw new ConvLensError("INVALID_ARGUMENT", "No prompt given.", gen.labels ? `Pass class names, e.g. "${gen.labels[gen.labels.length - 1]}", or --all-classes ("" = unconditional).` : "Pass a prompt in quotes.");
      const guidance = opts.guidance ?? (gen.kind === "stable-diffusion" ? 7.5 : 3);
      if (opts.negativePrompt !== void 0 && guidance <= 1 && !opts.quiet)
        process.stderr.write("warning: the negative prompt has no effect with --guidance <= 1 (it replaces the unconditional branch of guidance)\n");
      const job = cliJob(opts, "diffuse sample");
      let r;
      try {
        r = await gen.generate({
          prompts,
          ...opts.negativePrompt !== void 0 ? { negativePrompt: opts.negativePrompt } : {},
          numInferenceSteps: opts.steps,
          guidanceScale: guidance,
          numImagesPerPrompt: opts.count,
          seed: opts.seed,
          sampler: opts.sampler,
          ...opts.eta !== void 0 ? { eta: opts.eta } : {},
          previewEvery: opts.every,
          ...opts.width ? { width: opts.width } : {},
          ...opts.height ? { height: opts.height } : {},
          ...job
        });
      } finally {
        job.done();
      }
      await writeSampleOutputs(gen, r, prompts, opts, engine);
    } finally {
      await engine.dispose();
    }
  });
}
async function writeSampleOutputs(gen, r, prompts, opts, engine) {
  const s = r.settings;
  const describe = `${s.sampler}${s.sampler === "ddim" ? ` eta ${s.eta}` : ""}, ${s.steps} steps, guidance ${s.guidanceScale}${opts.negativePrompt !== void 0 && s.guidanceScale > 1 ? `, negative "${opts.negativePrompt}"` : ""}, seed ${s.seed}`;
  const out = new OutputFiles(opts.out);
  const put = (name, bytes) => void out.write(name, bytes);
  let captions;
  let predictions;
  if (opts.classify && gen.kind === "class-conditional") {
    const classifier = loadBuiltinModel(engine);
    const [h, w] = gen.imageSize;
    const x = new Float32Array(r.images.length * h * w);
    r.images.forEach((img, i) => x.set(rawToTensor(img, classifier.meta.preprocessing).data, i * h * w));
    const logits = (await classifier.run({ dtype: "float32", dims: [r.images.length, 1, h, w], data: x }))[classifier.output].data;
    const K = logits.length / r.images.length;
    predictions = r.images.map((_, i) => {
      const row = logits.subarray(i * K, (i + 1) * K);
      const max = Math.max(...row);
      const exps = Array.from(row, (v) => Math.exp(v - max));
      const sum = exps.reduce((a, b) => a + b, 0);
      const best = exps.indexOf(Math.max(...exps));
      return { label: classifier.labels[best], probability: exps[best] / sum };
    });
    captions = predictions.map((p) => `${p.label} ${(p.probability * 100).toFixed(0)}%`);
  }
  const rawTo = (imgs) => {
    const c = imgs[0].channels;
    const out2 = new Float32Array(imgs.length * c * imgs[0].width * imgs[0].height);
    imgs.forEach((img, i) => {
      const plane = img.width * img.height;
      for (let ch = 0; ch < c; ch++)
        for (let p = 0; p < plane; p++)
          out2[i * c * plane + ch * plane + p] = img.data[p * c + ch] / 255 * 2 - 1;
    });
    return out2;
  };
  const finals = rawTo(r.images);
  const shape = [r.images[0].channels, r.images[0].height, r.images[0].width];
  const finalImage = pixelImages(shape);
  put("samples.png", await samplesFigure({ images: finals, promptOf: r.promptOf, prompts: r.conditions.map((c, i) => c === prompts[i] ? c : `${prompts[i]} \u2192 ${c}`), toImage: finalImage, title: `${gen.name}: ${describe}`, ...captions ? { captions, notes: ["Caption: the built-in classifier's prediction."] } : {} }));
  for (let i = 0; i < r.images.length; i++) {
    const p = r.promptOf[i];
    const k = i - r.promptOf.indexOf(p);
    put(`${String(p).padStart(2, "0")}-${slug(prompts[p])}-${k}.png`, await encodePng(r.images[i]));
  }
  const watched = Array.from({ length: Math.min(opts.watch, r.images.length) }, (_, i) => i);
  if (watched.length && r.frames.length) {
    const labels = watched.map((i) => `${prompts[r.promptOf[i]] || "(unconditional)"} #${i - r.promptOf.indexOf(r.promptOf[i]) + 1}`);
    const sameSpace = gen.kind === "class-conditional";
    put("denoising.png", await denoisingFigure({ frames: r.frames, images: watched, labels, toImage: r.frameImage, ...sameSpace ? { final: { images: finals, toImage: finalImage } } : {}, title: `Denoising: x_t and the predicted clean image every ${opts.every} steps (${describe})`, ...sameSpace ? {} : { notes: ["Latents shown through a fixed linear latent-to-RGB map (no VAE); the result is the VAE-decoded image (samples.png)."] } }));
    if (opts.gif)
      put("denoising.gif", denoisingGif({ frames: r.frames, images: watched, toImage: r.frameImage, ...sameSpace ? { final: finals } : {} }));
  }
  const summary = {
    model: gen.name,
    kind: gen.kind,
    prompts,
    conditions: r.conditions,
    ...opts.negativePrompt !== void 0 ? { negativePrompt: opts.negativePrompt, negativeConditions: r.negative } : {},
    settings: r.settings,
    timesteps: r.timesteps,
    seconds: Math.round(r.seconds * 1e3) / 1e3,
    secondsPerImage: Math.round(r.seconds / r.images.length * 1e3) / 1e3,
    images: r.images.map((_, i) => ({ prompt: prompts[r.promptOf[i]], ...predictions ? { predicted: predictions[i] } : {} })),
    files: [...out.files]
  };
  put("summary.json", `${JSON.stringify(summary, null, 2)}
`);
  if (!opts.quiet) {
    process.stdout.write(`${r.images.length} images in ${r.seconds.toFixed(1)} s (${(r.seconds / r.images.length).toFixed(2)} s per image; ${describe})
`);
    if (predictions) {
      const hits = predictions.filter((p, i) => p.label === r.conditions[r.promptOf[i]]).length;
      process.stdout.write(`classifier agrees with the prompt for ${hits}/${predictions.length}
`);
    }
  }
  out.report(opts);
}
function registerEvaluate(diffuse) {
  diffuse.command("evaluate").description("class-conditional quality: samples per class prompt, classified by the built-in Fashion-MNIST classifier, per guidance scale").option("-m, --model <file>", "denoiser ONNX file (default: the built-in Fashion-MNIST U-Net)").option("--per-class <n>", "samples per class and guidance scale", positiveInt, 100).option("-g, --guidance <list>", "guidance scales to compare", numberList, [1, 2, 3, 5]).option("--steps <n>", "num_inference_steps (1-1000)", intIn(1, 1e3), 50).option("--sampler <kind>", `sampler: ${SAMPLERS.join(", ")}`, samplerKind, "ddim").option("--eta <eta>", "DDIM eta", nonNegative, 0).option("--seed <n>", "seed", nonNegativeInt, 0).option("-o, --out <file>", "chart of accuracy per class vs guidance scale (PNG)").option("--json", "print the results as JSON").option("--threads <n>", `ONNX Runtime intra-op threads (1-${MAX_THREADS})`, threadCount).option("-q, --quiet", "no progress bar").action(async (opts) => {
    const engine = createEngine(opts);
    const denoiser = loadDenoiser(opts.model, engine);
    const classifier = loadBuiltinModel(engine);
    const job = cliJob(opts, "diffuse evaluate");
    let results;
    try {
      results = await conditionalAccuracy(denoiser, classifier, { perClass: opts.perClass, guidanceScales: opts.guidance, steps: opts.steps, sampler: opts.sampler, eta: opts.eta, seed: opts.seed, ...job });
    } finally {
      job.done();
      await engine.dispose();
    }
    const labels = denoiser.labels;
    if (opts.out) {
      const spec = panelsSpec([
        {
          title: "Classified as their prompt (built-in classifier)",
          xTitle: "guidance scale",
          yTitle: "accuracy",
          yDomain: [0, 1],
          series: [
            { name: "mean over classes", x: results.map((r) => r.guidanceScale), y: results.map((r) => r.accuracy) },
            ...labels.map((l, c) => ({ name: l, x: results.map((r) => r.guidanceScale), y: results.map((r) => r.metrics.perClass[c].accuracy), dashed: true }))
          ]
        }
      ], `${denoiser.name}: ${opts.perClass} samples/class, ${opts.sampler} ${opts.steps} steps`);
      writeFileAtomic(opts.out, (await renderChart(spec)).png);
    }
    if (opts.json) {
      process.stdout.write(`${JSON.stringify({ model: denoiser.name, perClass: opts.perClass, steps: opts.steps, sampler: opts.sampler, eta: opts.eta, seed: opts.seed, results: results.map((r) => ({ guidanceScale: r.guidanceScale, accuracy: r.accuracy, seconds: r.seconds, perClass: r.metrics.perClass.map((p) => ({ label: p.label, accuracy: p.accuracy })) })) }, null, 2)}
`);
      return;
    }
    const head = ["class".padEnd(12), ...results.map((r) => `g=${r.guidanceScale}`.padStart(7))].join(" ");
    process.stdout.write(`${head}
`);
    labels.forEach((l, c) => process.stdout.write(`${[l.padEnd(12), ...results.map((r) => (r.metrics.perClass[c].accuracy * 100).toFixed(1).padStart(7))].join(" ")}
`));
    process.stdout.write(`${["mean".padEnd(12), ...results.map((r) => (r.accuracy * 100).toFixed(1).padStart(7))].join(" ")}
`);
    if (opts.out)
      process.stdout.write(`wrote ${opts.out}
`);
  });
}
export {
  define
};
