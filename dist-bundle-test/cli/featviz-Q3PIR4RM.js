import {
  classVisualization,
  defaultSize,
  facetVisualization,
  featureVisualization,
  parseClassList,
  synthesisBatchSize
} from "./chunk-STAR42TX.js";
import "./chunk-UGNQJFIR.js";
import {
  displaySize,
  encodeGif,
  modelChannels,
  modelInputSize,
  pixelParam,
  readImageTensor,
  readModelImage,
  stack,
  summaryJson,
  toRaw
} from "./chunk-RJFHHHPN.js";
import "./chunk-R7SGPERG.js";
import "./chunk-UHZBCOBN.js";
import {
  OutputFiles,
  defaultOut
} from "./chunk-SEMCHPMJ.js";
import {
  choiceOption,
  cliJob,
  imageSize,
  intIn,
  modelInfo,
  nonNegativeInt,
  openModel,
  positiveInt,
  positiveNumber,
  withCommon
} from "./chunk-OMSJE7ZP.js";
import "./chunk-4KDPQESB.js";
import "./chunk-P6HER42Z.js";
import "./chunk-2RDMIJXC.js";
import {
  encodePng
} from "./chunk-JFQ3PAZH.js";
import {
  selectSamples
} from "./chunk-EQEDVHDE.js";
import {
  SUBSET_DIR,
  loadFashionMnist
} from "./chunk-XD57GLXB.js";
import "./chunk-X2V5Z5UO.js";
import "./chunk-75463JA6.js";
import "./chunk-4WR5QSMB.js";
import "./chunk-Y3QEK5WU.js";
import "./chunk-GNZAA2KB.js";
import {
  gridFigure
} from "./chunk-TUXGXZTB.js";
import {
  ConvLensError
} from "./chunk-N6ATQ4RF.js";

// dist/interfaces/cli/commands/featviz.js
var num = (v) => {
  const n = Number(v);
  if (!Number.isFinite(n))
    throw new ConvLensError("INVALID_ARGUMENT", `Expected a number, got "${v}".`);
  return n;
};
function define(command) {
  withCommon(command.addHelpText("after", `
Objectives: class:<label|index> (logit), class:* (one image per class; --classes picks some), prob:<class>,
channel:<layer>:<c>, neuron:<layer>:<c>[:y:x], layer:<layer> (DeepDream's L2), diversity:<layer>; weight as
0.5*term, join with +, @k applies a term to image k only (e.g. "channel:<layer>:5 + 100*diversity:<layer>" with
--batch 4). Layers: value or node names, module paths (fires.5), or #k as numbered by \`convlens summary\`.
Many classes run in memory-bounded batches, each batch's images written as it finishes.
Transforms: standard (Lucid's: pad, jitter, scale, rotate, jitter), none, or e.g. pad:2,jitter:2,rotate:5,scale:0.9:1.1.

Examples:
  convlens featviz --objective "class:*" --param pixel --start zero --background 0 --tv 2 --blur-every 8 --out featviz
  convlens featviz --model squeezenet --classes 285,967 --steps 128
  convlens featviz --model squeezenet --objective channel:fires.5:12 --steps 512
  convlens featviz --facets 4 --target Bag --out facets`)).option("--objective <spec>", "what to maximize (see below)", "class:*").option("-o, --out <dir>", "output folder", defaultOut("featviz")).option("--batch <n>", "images optimized together (1-1024; default 1; class:* gives one per class)", intIn(1, 1024)).option("--size <HxW>", "image size (default: the model input size)", imageSize).option("--param <p>", "fourier (decorrelated colour, Lucid default) or pixel (sigmoid); pixel-clip optimizes pixels directly", "fourier").option("--transforms <spec>", "random transforms each step: standard, none, or a list", "standard").option("--steps <n>", "optimization steps (1-100000)", intIn(1, 1e5), 256).option("--lr <lr>", "learning rate", positiveNumber, 0.05).addOption(choiceOption("--optimizer <name>", "adam or sgd", ["adam", "sgd"], "adam")).option("--seed <n>", "random seed (start, transforms)", nonNegativeInt, 0).option("--start <s>", "zero (grey/background), noise, or image files (comma-separated, one per image)", "noise").option("--l1 <w>", "L1 penalty weight (distance to --background)", num).option("--l2 <w>", "L2 penalty weight", num).option("--tv <w>", "total-variation penalty weight", num).option("--background <v>", "neutral grey level: L1/L2 centre, fill outside the image, zero start (0 for Fashion-MNIST)", num).option("--decay <f>", "L2 decay of the image towards the background each step (Yosinski et al.)", num).option("--blur-every <k>", "Gaussian blur of the image every k steps", positiveInt).option("--blur-sigma <px>", "blur radius (sigma, pixels)", positiveNumber, 0.5).option("--clip-norm <pct>", "grey out pixels whose norm is below this percentile each step (pixel params)", num).option("--clip-contribution <pct>", "grey out pixels whose contribution is below this percentile each step (pixel params)", num).option("--frames <n>", "intermediate images kept for the strip and the GIF", positiveInt, 8).option("--tile <px>", "tile size in the figures", positiveInt, 112).option("--facets <k>", "multi-faceted visualization: cluster the --target class's training images into k facets").option("--target <class>", "class for --facets").option("-l, --layer <name>", "layer clustered for --facets (default: the last spatial layer)").option("--facet-weight <w>", "weight of the facet direction against the class logit", num, 1).option("--data <dir>", "Fashion-MNIST folder for --facets (default: the committed subset)").option("--classes <list>", 'with class:*: only these classes, e.g. 0-9,285 or labels ("tabby cat")').option("--json", "print the summary JSON").action(async (opts) => {
    const out = new OutputFiles(opts.out);
    const { engine, model } = openModel(opts);
    const job = cliJob(opts, "featviz");
    try {
      const size = opts.size;
      const regularizers = {
        ...opts.decay ? { decay: opts.decay } : {},
        ...opts.blurEvery ? { blur: { every: opts.blurEvery, sigma: opts.blurSigma } } : {},
        ...opts.clipNorm ? { clipNormPercentile: opts.clipNorm } : {},
        ...opts.clipContribution ? { clipContributionPercentile: opts.clipContribution } : {}
      };
      const param = opts.param === "pixel-clip" ? pixelParam({ range: "clip" }) : opts.param === "pixel" || opts.param === "fourier" ? opts.param : void 0;
      if (!param)
        throw new ConvLensError("INVALID_ARGUMENT", `Unknown parameterization "${opts.param}".`, "Use fourier, pixel or pixel-clip.");
      const common = {
        ...size ? { size } : {},
        param,
        transforms: opts.transforms,
        steps: opts.steps,
        lr: opts.lr,
        optimizer: opts.optimizer,
        seed: opts.seed,
        penalties: { ...opts.l1 ? { l1: opts.l1 } : {}, ...opts.l2 ? { l2: opts.l2 } : {}, ...opts.tv ? { tv: opts.tv } : {} },
        ...opts.background !== void 0 ? { background: opts.background } : {},
        regularizers,
        frames: opts.frames,
        signal: job.signal,
        onProgress: job.onProgress
      };
      let result;
      let labels;
      let extra = {};
      if (opts.facets) {
        if (!opts.target)
          throw new ConvLensError("INVALID_ARGUMENT", "--facets needs --target <class>.");
        const ds = loadFashionMnist("train", opts.data ?? SUBSET_DIR);
        const cls = /^\d+$/.test(opts.target) ? Number(opts.target) : model.labels.findIndex((l) => l.toLowerCase().replace(/[^a-z0-9]/g, "") === opts.target.toLowerCase().replace(/[^a-z0-9]/g, ""));
        if (cls < 0)
          throw new ConvLensError("UNKNOWN_NAME", `No class "${opts.target}".`, `Classes: ${model.labels.join(", ")}.`);
        const idx = [];
        for (let i = 0; i < ds.count; i++)
          if (ds.labels[i] === cls)
            idx.push(i);
        const sel = selectSamples(ds, idx);
        const images = { dtype: "float32", dims: [sel.count, 1, sel.height, sel.width], data: Float32Array.from(sel.images, (v) => v / 255) };
        const fo = { ...common, target: cls, facets: Number(opts.facets), facetWeight: opts.facetWeight, ...opts.layer ? { layer: opts.layer } : {} };
        const r = await facetVisualization(model, images, fo);
        result = r;
        labels = r.clusters.map((c, k) => `facet ${k + 1} (${c.length} images)`);
        extra = { facets: { target: model.labels[cls], layer: r.layer, clusterSizes: r.clusters.map((c) => c.length), data: ds.source } };
      } else {
        let start = opts.start === "zero" || opts.start === "noise" ? opts.start : void 0;
        if (!start) {
          const files2 = opts.start.split(",");
          const own = !size || (modelInputSize(model) ?? defaultSize(model)).join("x") === size.join("x");
          const imgs = await Promise.all(files2.map((f) => own ? readModelImage(f, model) : readImageTensor(f, modelChannels(model), { size })));
          start = stack(imgs);
        }
        const perClass = /^(class|logit):\*$/i.test(opts.objective.trim()) || opts.classes !== void 0;
        if (perClass && typeof start === "string" && !opts.batch) {
          if (!/^(class|logit):\*$/i.test(opts.objective.trim()))
            throw new ConvLensError("INVALID_ARGUMENT", '--classes goes with --objective "class:*".', "Leave out --objective (class:* is the default) or --classes.");
          const classes = opts.classes ? parseClassList(opts.classes, model.labels) : model.labels.map((_, k) => k);
          const stepsOf = size ?? defaultSize(model);
          const per = synthesisBatchSize(model, stepsOf);
          if (!opts.quiet && classes.length > per)
            process.stderr.write(`note: ${classes.length} classes at ${stepsOf.join("x")} run as ${Math.ceil(classes.length / per)} batches of up to ${per}; each batch's images are written as it finishes (--classes picks fewer)
`);
          const cr = await classVisualization(model, {
            ...common,
            start,
            classes,
            onBatch: async ({ classes: done, result: r }) => {
              for (let i = 0; i < done.length; i++)
                out.write(`image-${done[i] + 1}.png`, await encodePng(displaySize(toRaw(r.images.data, r.images.dims, i), opts.tile)));
            }
          });
          result = cr;
          labels = cr.classes.map((k) => model.labels[k] ?? `class ${k}`);
          extra = { classes: cr.classes, batches: { count: cr.batches, size: cr.batchSize } };
        } else {
          result = await featureVisualization(model, { ...common, objective: opts.objective, start, ...opts.batch ? { batch: opts.batch } : {} });
          const n = result.images.dims[0];
          labels = opts.objective.trim() === "class:*" ? model.labels.slice(0, n) : Array.from({ length: n }, (_, k) => n > 1 ? `image ${k + 1}` : opts.objective);
        }
      }
      job.done();
      const files = await writeFeatviz(out, result, labels, opts.tile, Array.isArray(extra["classes"]) ? extra["classes"].map((k) => `image-${k + 1}.png`) : void 0);
      const summary = { command: "featviz", model: modelInfo(model, opts), objective: result.objective, params: result.params, ...extra, images: labels.map((l, k) => ({ label: l, file: files.images[k], prediction: briefPrediction(result.predictions[k]) })), objectiveHistory: result.history.filter((_, i) => i % 8 === 0 || i === result.history.length - 1).map((h) => ({ step: h.step, value: h.value })), files };
      const text = summaryJson(summary);
      out.write("summary.json", text);
      if (opts.json)
        process.stdout.write(text);
      out.report(opts);
    } finally {
      job.done();
      await engine.dispose();
    }
  });
}
function briefPrediction(p) {
  if (!p)
    return null;
  return p.logits.length <= 20 ? p : { index: p.index, label: p.label, probability: p.probability, logit: p.logits[p.index] };
}
var GRID_LIMIT = 100;
async function writeFeatviz(out, r, labels, tile, written) {
  const total = r.images.dims[0];
  const data = r.images.data;
  const images = written ?? [];
  if (!written) {
    for (let k = 0; k < total; k++) {
      const file = `image-${k + 1}.png`;
      out.write(file, await encodePng(displaySize(toRaw(data, r.images.dims, k), tile)));
      images.push(file);
    }
  }
  const n = Math.min(total, GRID_LIMIT);
  const perRow = Math.min(n, 10, Math.max(1, Math.floor(1200 / displaySize(toRaw(data, r.images.dims, 0), tile).width)));
  const rows = [];
  for (let s = 0; s < n; s += perRow) {
    rows.push({
      lines: [],
      cells: Array.from({ length: Math.min(perRow, n - s) }, (_, i) => displaySize(toRaw(data, r.images.dims, s + i), tile)),
      captions: Array.from({ length: Math.min(perRow, n - s) }, (_, i) => {
        const p = r.predictions[s + i];
        return p ? `${p.label} ${(100 * p.probability).toFixed(1)}%` : void 0;
      })
    });
  }
  out.write("result.png", await gridFigure({
    columns: n > perRow ? labels.slice(0, perRow).map((_, i) => `${i + 1}`) : labels.slice(0, n),
    rows,
    notes: [...n > perRow ? [`images in order: ${labels.slice(0, n).join(", ")}`] : [], ...total > n ? [`the first ${n} of ${total} images; all are in ${images[0]} ...`] : [], "captions: the model's prediction for the final image"]
  }));
  const stripTile = Math.max(56, Math.floor(tile * 0.75));
  out.write("strip.png", await gridFigure({
    columns: r.frames.map((f) => `step ${f.step}`),
    rows: Array.from({ length: Math.min(n, 10) }, (_, k) => ({ lines: n > 1 ? [labels[k] ?? ""] : [], cells: r.frames.map((f) => displaySize(toRaw(f.image, r.images.dims, k), stripTile)) }))
  }));
  const frames = r.frames.map((f) => {
    const tiles = Array.from({ length: Math.min(n, 10) }, (_, k) => displaySize(toRaw(f.image, r.images.dims, k), Math.min(tile, 160)));
    return hstack(tiles);
  });
  out.write("optimization.gif", encodeGif(frames, 150, 1200));
  return { result: "result.png", strip: "strip.png", gif: "optimization.gif", images };
}
function hstack(tiles) {
  const gap = 4;
  const h = Math.max(...tiles.map((t) => t.height));
  const w = tiles.reduce((a, t) => a + t.width, 0) + gap * (tiles.length - 1);
  const data = new Uint8Array(w * h * 3).fill(255);
  let x0 = 0;
  for (const t of tiles) {
    for (let y = 0; y < t.height; y++)
      for (let x = 0; x < t.width; x++)
        for (let c = 0; c < 3; c++)
          data[(y * w + x0 + x) * 3 + c] = t.data[(y * t.width + x) * t.channels + (t.channels === 1 ? 0 : c)];
    x0 += t.width + gap;
  }
  return { width: w, height: h, channels: 3, data };
}
export {
  define,
  hstack
};
