import {
  Engine,
  nodeBackend
} from "./chunk-4KDPQESB.js";
import {
  BUILTIN_MODELS,
  PREPROCESS_PRESETS,
  loadModel,
  modelSource,
  parseLabels,
  parsePreprocessing
} from "./chunk-P6HER42Z.js";
import {
  readFileOrExplain
} from "./chunk-4WR5QSMB.js";

// dist/interfaces/cli/common.js
import { availableParallelism } from "node:os";
import { InvalidArgumentError, Option } from "commander";
import cliProgress from "cli-progress";
var positiveInt = (v) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0)
    throw new InvalidArgumentError("expected a positive integer");
  return n;
};
var positiveNumber = (v) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0)
    throw new InvalidArgumentError("expected a positive number");
  return n;
};
var nonNegative = (v) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0)
    throw new InvalidArgumentError("expected a number >= 0");
  return n;
};
var nonNegativeInt = (v) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0)
    throw new InvalidArgumentError("expected an integer >= 0");
  return n;
};
var portNumber = (v) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new InvalidArgumentError("expected a port number, 0 to 65535 (0 picks a free one)");
  return n;
};
var intIn = (lo, hi) => (v) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < lo || n > hi)
    throw new InvalidArgumentError(`expected an integer from ${lo} to ${hi}`);
  return n;
};
var MAX_THREADS = Math.max(16, 4 * availableParallelism());
var threadCount = intIn(1, MAX_THREADS);
var MAX_SIDE = 2048;
var imageSize = (v) => {
  const m = /^(\d+)(?:x(\d+))?$/i.exec(v.trim());
  const hw = m ? [Number(m[1]), Number(m[2] ?? m[1])] : void 0;
  if (!hw || hw.some((d) => d < 8 || d > MAX_SIDE))
    throw new InvalidArgumentError(`expected N or HxW with sides from 8 to ${MAX_SIDE}, e.g. 224 or 128x160`);
  return hw;
};
var choiceOption = (flags, description, choices, defaultValue) => {
  const o = new Option(flags, description).choices(choices);
  return defaultValue === void 0 ? o : o.default(defaultValue);
};
var fraction = (v) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || n >= 1)
    throw new InvalidArgumentError("expected a fraction in [0, 1)");
  return n;
};
var intList = (v) => {
  const nums = v.split(",").map((s) => s.trim()).filter(Boolean).map(Number);
  if (!nums.length || nums.some((n) => !Number.isInteger(n) || n < 0))
    throw new InvalidArgumentError("expected a comma-separated list of integers >= 0");
  return nums;
};
var numberList = (v) => {
  const nums = v.split(",").map((s) => Number(s.trim()));
  if (!nums.length || nums.some((n) => !Number.isFinite(n) || n < 0))
    throw new InvalidArgumentError("expected a comma-separated list of numbers >= 0");
  return nums;
};
var commaList = (v, prev = []) => [...prev, ...v.split(",").filter(Boolean)];
var MODEL_OPTION_HELP = `ONNX model file or a built-in: ${BUILTIN_MODELS.map((m) => m.name).join(", ")} (default: ${BUILTIN_MODELS[0].name})`;
function withModelOptions(c, modelHelp = MODEL_OPTION_HELP) {
  return c.option("-m, --model <file|name>", modelHelp).option("--labels <file>", "class names for the model: a text file (one per line) or a JSON list (overrides the model's own)").option("--preprocess <preset|json>", `how images become model input: ${PREPROCESS_PRESETS.join(", ")}, or JSON {"size":[h,w],"range":[0,1],"mean":[...],"std":[...],"resize":"crop"|"stretch"}`);
}
function withCommon(c) {
  return withModelOptions(c).option("--threads <n>", `ONNX Runtime intra-op threads (1-${MAX_THREADS})`, threadCount).option("-q, --quiet", "no warnings or progress bars");
}
var warner = (opts, kind = "warning") => (text) => {
  if (!opts.quiet)
    process.stderr.write(`${kind}: ${text}
`);
};
function openModel(opts) {
  const engine = createEngine(opts);
  const model = loadModel(opts.model, engine);
  applyDescription(model, opts);
  return { engine, model };
}
function applyDescription(model, opts) {
  const labels = opts.labels ? parseLabels(readFileOrExplain(opts.labels, "labels file").toString("utf8"), `labels file "${opts.labels}"`, model.profile.classes) : void 0;
  const preprocessing = opts.preprocess ? parsePreprocessing(opts.preprocess, model.input.shape ?? [], model.meta.preprocessing) : void 0;
  if (labels || preprocessing)
    model.describe({ ...labels ? { labels } : {}, ...preprocessing ? { preprocessing } : {} });
  const warn = warner(opts);
  for (const w of [...model.meta.warnings, ...model.profile.warnings])
    warn(w);
}
function defaultStoreLayer(model, indexed, which) {
  const wanted = model.profile.featureLayers;
  const order = which === "first" ? wanted : [...wanted].reverse();
  const hit = order.find((l) => indexed.includes(l));
  return hit ?? (which === "first" ? indexed[0] : indexed[indexed.length - 1]);
}
function modelInfo(model, opts) {
  const src = modelSource(opts.model);
  return "builtin" in src ? { name: model.name, file: "built-in", builtin: src.builtin.name } : { name: model.name, file: src.file };
}
function createEngine(opts) {
  return new Engine(nodeBackend(), opts.threads ? { threads: opts.threads } : {});
}
function cliJob(opts, label, o = {}) {
  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted)
      process.exit(130);
    process.stderr.write("\nCancelling (Ctrl-C again to quit now)...\n");
    controller.abort();
  };
  const onSigterm = () => {
    if (controller.signal.aborted)
      process.exit(143);
    controller.abort();
  };
  process.on("SIGINT", onSigint);
  if (o.terminate)
    process.on("SIGTERM", onSigterm);
  const show = !opts.quiet && process.stderr.isTTY;
  const bar = show ? new cliProgress.SingleBar({ format: `${label} [{bar}] {percentage}% | {value}/{total} | ETA {eta_formatted} | {info}`, hideCursor: true, stream: process.stderr, etaBuffer: 20 }, cliProgress.Presets.shades_classic) : void 0;
  let started = false;
  const estimate = new LongJobNotice((text) => {
    if (opts.quiet)
      return;
    if (bar && started)
      bar.stop();
    process.stderr.write(`${text}
`);
    if (bar && started)
      started = false;
  });
  return {
    signal: controller.signal,
    onProgress(p) {
      estimate.observe(p);
      if (!bar)
        return;
      const info = [p.phase, ...Object.entries(p.metrics ?? {}).map(([k, v]) => `${k} ${formatMetric(v)}`)].filter(Boolean).join(" ");
      if (!started) {
        bar.start(p.total, p.done, { info });
        started = true;
      } else {
        bar.setTotal(p.total);
        bar.update(p.done, { info });
      }
    },
    done() {
      if (started)
        bar?.stop();
      process.off("SIGINT", onSigint);
      process.off("SIGTERM", onSigterm);
    }
  };
}
var LongJobNotice = class {
  say;
  thresholdSeconds;
  now;
  phase;
  total = 0;
  first;
  told = /* @__PURE__ */ new Set();
  constructor(say, thresholdSeconds = 60, now = () => performance.now()) {
    this.say = say;
    this.thresholdSeconds = thresholdSeconds;
    this.now = now;
  }
  observe(p) {
    const phase = p.phase ?? "";
    if (phase !== this.phase || p.total !== this.total || this.first && p.done < this.first.done) {
      this.phase = phase;
      this.total = p.total;
      this.first = void 0;
    }
    if (!this.first) {
      if (p.done >= Math.min(2, p.total - 1))
        this.first = { at: this.now(), done: p.done };
      return;
    }
    const units = p.done - this.first.done;
    const elapsed = (this.now() - this.first.at) / 1e3;
    if (this.told.has(p.total) || units < 1 || elapsed < 1 || units < 3 && elapsed < 5)
      return;
    const left = (p.total - p.done) * elapsed / units;
    if (left <= this.thresholdSeconds)
      return;
    this.told.add(p.total);
    this.say(`note: about ${formatDuration(left)} to go (${p.done}/${p.total} done${phase ? `, now ${phase}` : ""}); Ctrl-C stops it cleanly`);
  }
};
function formatDuration(seconds) {
  if (seconds < 90)
    return `${Math.round(seconds)} s`;
  if (seconds < 90 * 60)
    return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}
function formatMetric(v) {
  return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toFixed(4);
}

export {
  positiveInt,
  positiveNumber,
  nonNegative,
  nonNegativeInt,
  portNumber,
  intIn,
  MAX_THREADS,
  threadCount,
  MAX_SIDE,
  imageSize,
  choiceOption,
  fraction,
  intList,
  numberList,
  commaList,
  withModelOptions,
  withCommon,
  warner,
  openModel,
  applyDescription,
  defaultStoreLayer,
  modelInfo,
  createEngine,
  cliJob
};
