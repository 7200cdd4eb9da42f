import type { Command } from 'commander';
import { selectSamples } from '../../../data/dataset.js';
import { loadFashionMnist, SUBSET_DIR } from '../../../data/fashion-mnist.js';
import { ConvLensError } from '../../../engine/errors.js';
import type { Tensor } from '../../../engine/tensor.js';
import { encodePng } from '../../../io/image.js';
import { classVisualization, DEFAULT_CLASSES, visualizedOutputCaption, defaultClassSelection, defaultSize, facetVisualization, featureVisualization, MANY_CLASSES, parseClassList, synthesisBatchSize, type FacetOptions, type FeatvizOptions, type FeatvizResult, SPECKLE_NOTE } from '../../../methods/synthesize/featviz.js';
import { modelChannels, modelInputSize } from '../../../methods/synthesize/graph.js';
import { visualizedClass } from '../../../methods/synthesize/objectives.js';
import { readImageTensor, readModelImage, stack, summaryJson } from '../../../methods/synthesize/io.js';
import type { OptimizerName, StepRegularizers } from '../../../methods/synthesize/optimize.js';
import { pixelParam } from '../../../methods/synthesize/params.js';
import { displaySize, encodeGif, toRaw } from '../../../methods/synthesize/render.js';
import { gridFigure } from '../../../render/grid.js';
import { choiceOption, cliJob, type CommonOptions, imageSize, intIn, modelInfo, openModel, outPath, positiveInt, positiveNumber, seedNumber, warner, withCommon } from '../common.js';
import { defaultOut, OutputFiles, fileSlug } from '../output.js';

interface FeatvizCli extends CommonOptions {
  objective: string;
  out: string;
  batch?: number;
  size?: [number, number];
  param: string;
  transforms: string;
  steps: number;
  lr: number;
  optimizer: string;
  seed: number;
  start: string;
  l1?: number;
  l2?: number;
  tv?: number;
  background?: number;
  decay?: number;
  blurEvery?: number;
  blurSigma: number;
  clipNorm?: number;
  clipContribution?: number;
  frames: number;
  tile: number;
  facets?: number;
  target?: string;
  layer?: string;
  facetWeight: number;
  data?: string;
  classes?: string;
  json?: boolean;
}

const num = (v: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new ConvLensError('INVALID_ARGUMENT', `Expected a number, got "${v}".`, 'Write a plain number, e.g. 0.5 or 1e-3.');
  return n;
};

export function define(command: Command): void {
  withCommon(
    command
      .addHelpText(
        'after',
        `
Objectives: class:<label|index> (logit), class:* (one image per class: every class up to ${MANY_CLASSES}, the first ${DEFAULT_CLASSES} of a bigger model; --classes picks), prob:<class>,
channel:<layer>:<c>, neuron:<layer>:<c>[:y:x], layer:<layer> (DeepDream's L2), diversity:<layer>; weight as
0.5*term, join with +, @k applies a term to image k only (e.g. "channel:<layer>:5 + 100*diversity:<layer>" with
--batch 4). Layers: value or node names, module paths (fires.5), or #k as numbered by \`convlens summary\`.
Many classes run in memory-bounded batches, each batch's images written as it finishes.
Transforms: standard (Lucid's: pad, jitter, scale, rotate, jitter), none, or e.g. pad:2,jitter:2,rotate:5,scale:0.9:1.1.

Examples:
  convlens featviz --objective "class:*" --param pixel --start zero --background 0 --tv 2 --blur-every 8 --out featviz
  convlens featviz --model squeezenet --classes 285,967 --steps 128
  convlens featviz --model squeezenet --objective channel:fires.5:12 --steps 512
  convlens featviz --facets 4 --target Bag --out facets`,
      ),
  )
    .option('--objective <spec>', 'what to maximize (see below)', 'class:*')
    .option('-o, --out <dir>', 'output folder', outPath, defaultOut('featviz'))
    .option('--batch <n>', 'images optimized together (1-1024; default 1; with class:*, classes per batch, default as many as fit in memory)', intIn(1, 1024))
    .option('--size <HxW>', 'image size (default: the model input size)', imageSize)
    .option('--param <p>', 'fourier (decorrelated colour, Lucid default) or pixel (sigmoid); pixel-clip optimizes pixels directly', 'fourier')
    .option('--transforms <spec>', 'random transforms each step: standard, none, or a list', 'standard')
    .option('--steps <n>', 'optimization steps (1-100000)', intIn(1, 100_000), 256)
    .option('--lr <lr>', 'learning rate', positiveNumber, 0.05)
    .addOption(choiceOption('--optimizer <name>', 'adam or sgd', ['adam', 'sgd'], 'adam'))
    .option('--seed <n>', 'random seed (start, transforms)', seedNumber, 0)
    .option('--start <s>', 'zero (grey/background), noise, or image files (comma-separated, one per image)', 'noise')
    .option('--l1 <w>', 'L1 penalty weight (distance to --background)', num)
    .option('--l2 <w>', 'L2 penalty weight', num)
    .option('--tv <w>', 'total-variation penalty weight', num)
    .option('--background <v>', 'neutral grey level: L1/L2 centre, fill outside the image, zero start (0 for Fashion-MNIST)', num)
    .option('--decay <f>', 'L2 decay of the image towards the background each step (Yosinski et al.)', num)
    .option('--blur-every <k>', 'Gaussian blur of the image every k steps', positiveInt)
    .option('--blur-sigma <px>', 'blur radius (sigma, pixels)', positiveNumber, 0.5)
    .option('--clip-norm <pct>', 'grey out pixels whose norm is below this percentile each step (pixel params)', num)
    .option('--clip-contribution <pct>', 'grey out pixels whose contribution is below this percentile each step (pixel params)', num)
    .option('--frames <n>', 'intermediate images kept for the strip and the GIF (1-256)', intIn(1, 256), 8)
    .option('--tile <px>', 'tile size in the figures (8-1024)', intIn(8, 1024), 112)
    .option('--facets <k>', 'multi-faceted visualization: cluster the --target class\'s training images into k facets (1-64)', intIn(1, 64))
    .option('--target <class>', 'class for --facets')
    .option('-l, --layer <name>', 'layer clustered for --facets (default: the last spatial layer)')
    .option('--facet-weight <w>', 'weight of the facet direction against the class logit', num, 1)
    .option('--data <dir>', 'Fashion-MNIST folder for --facets (default: the committed subset)')
    .option('--classes <list>', `with class:*: these classes, e.g. 0-9,285, labels ("tabby cat") or all (default: every class up to ${MANY_CLASSES}, else the first ${DEFAULT_CLASSES})`)
    .option('--json', 'print the summary JSON')
    .action(async (opts: FeatvizCli) => {
      const out = new OutputFiles(opts.out);
      if (opts.start !== 'zero' && opts.start !== 'noise') out.keepInputs(opts.start.split(','), ['result.png', 'strip.png', 'optimization.gif', 'summary.json']);
      const { engine, model } = openModel(opts);
      const job = cliJob(opts, 'featviz');
      out.stopOn(job.signal);
      try {
        const size = opts.size;
        const regularizers: StepRegularizers = {
          ...(opts.decay ? { decay: opts.decay } : {}),
          ...(opts.blurEvery ? { blur: { every: opts.blurEvery, sigma: opts.blurSigma } } : {}),
          ...(opts.clipNorm ? { clipNormPercentile: opts.clipNorm } : {}),
          ...(opts.clipContribution ? { clipContributionPercentile: opts.clipContribution } : {}),
        };
        const param = opts.param === 'pixel-clip' ? pixelParam({ range: 'clip' }) : opts.param === 'pixel' || opts.param === 'fourier' ? opts.param : undefined;
        if (!param) throw new ConvLensError('INVALID_ARGUMENT', `Unknown parameterization "${opts.param}".`, 'Use fourier, pixel or pixel-clip.');
        const common: Omit<FeatvizOptions, 'objective'> = {
          ...(size ? { size } : {}),
          param,
          transforms: opts.transforms,
          steps: opts.steps,
          lr: opts.lr,
          optimizer: opts.optimizer as OptimizerName,
          seed: opts.seed,
          penalties: { ...(opts.l1 ? { l1: opts.l1 } : {}), ...(opts.l2 ? { l2: opts.l2 } : {}), ...(opts.tv ? { tv: opts.tv } : {}) },
          ...(opts.background !== undefined ? { background: opts.background } : {}),
          regularizers,
          frames: opts.frames,
          signal: job.signal!,
          onProgress: job.onProgress!,
        };
        let result: FeatvizResult;
        let labels: string[];
        let extra: Record<string, unknown> = {};
        const classFile = (k: number): string => classFileName(k, model.labels);
        if (opts.facets) {
          if (!opts.target) throw new ConvLensError('INVALID_ARGUMENT', '--facets needs --target <class>.', 'Add --target with a class index or label (e.g. --target 0), or leave out --facets.');
          const ds = loadFashionMnist('train', opts.data ?? SUBSET_DIR);
          const reads = [modelChannels(model), ...(modelInputSize(model) ?? [ds.height, ds.width])];
          if (reads.join('x') !== [1, ds.height, ds.width].join('x')) {
            throw new ConvLensError(
              'INVALID_ARGUMENT',
              `--facets clusters Fashion-MNIST training images (1x${ds.height}x${ds.width}); this model reads ${reads.join('x')} images.`,
              'Use --facets with a Fashion-MNIST model (the built-in CNN), or draw the class without facets: --objective class:<label>.',
            );
          }
          const cls = /^\d+$/.test(opts.target) ? Number(opts.target) : model.labels.findIndex((l) => l.toLowerCase().replace(/[^a-z0-9]/g, '') === opts.target!.toLowerCase().replace(/[^a-z0-9]/g, ''));
          if (cls < 0 || cls >= model.labels.length) {
            throw new ConvLensError('UNKNOWN_NAME', `No class "${opts.target}": the model has ${model.labels.length} classes.`, `Name one by index (0-${model.labels.length - 1}) or label: ${model.labels.slice(0, 10).join(', ')}${model.labels.length > 10 ? ', ...' : ''}.`);
          }
          const idx: number[] = [];
          for (let i = 0; i < ds.count; i++) if (ds.labels[i] === cls) idx.push(i);
          const sel = selectSamples(ds, idx);
          const images: Tensor = { dtype: 'float32', dims: [sel.count, 1, sel.height, sel.width], data: Float32Array.from(sel.images, (v) => v / 255) };
          const fo: FacetOptions = { ...common, target: cls, facets: Number(opts.facets), facetWeight: opts.facetWeight, ...(opts.layer ? { layer: opts.layer } : {}) };
          const r = await facetVisualization(model, images, fo);
          result = r;
          labels = r.clusters.map((c, k) => `facet ${k + 1} (${c.length} images)`);
          extra = { facets: { target: model.labels[cls], layer: r.layer, clusterSizes: r.clusters.map((c) => c.length), data: ds.source } };
        } else {
          let start: FeatvizOptions['start'] = opts.start === 'zero' || opts.start === 'noise' ? opts.start : undefined;
          if (!start) {
            const files = opts.start.split(',');
            // start images as predict sees them (resize or centre crop), unless another --size is asked for
            const own = !size || (modelInputSize(model) ?? defaultSize(model)).join('x') === size.join('x');
            const imgs = await Promise.all(files.map((f) => (own ? readModelImage(f, model) : readImageTensor(f, modelChannels(model), { size: size! }))));
            start = stack(imgs);
          }
          const perClass = /^(class|logit):\*$/i.test(opts.objective.trim()) || opts.classes !== undefined;
          if (perClass && typeof start === 'string') {
            if (!/^(class|logit):\*$/i.test(opts.objective.trim())) throw new ConvLensError('INVALID_ARGUMENT', '--classes goes with --objective "class:*".', 'Leave out --objective (class:* is the default) or --classes.');
            const classes = opts.classes ? parseClassList(opts.classes, model.labels) : defaultClassSelection(model.labels);
            if (!opts.classes && classes.length < model.labels.length && !opts.quiet) {
              process.stderr.write(`note: the model has ${model.labels.length} classes; drawing the first ${classes.length} (--classes all draws every class, --classes 285,967 or --classes "tabby cat" picks)\n`);
            }
            const stepsOf = size ?? defaultSize(model);
            const per = opts.batch ?? synthesisBatchSize(model, stepsOf);
            if (!opts.quiet && classes.length > per) process.stderr.write(`note: ${classes.length} classes at ${stepsOf.join('x')} run as ${Math.ceil(classes.length / per)} batches of up to ${per}; each batch's images are written as it finishes (--classes picks fewer)\n`);
            const cr = await classVisualization(model, {
              ...common,
              start,
              classes,
              ...(opts.batch ? { batchSize: opts.batch } : {}),
              onBatch: async ({ classes: done, result: r }) => {
                for (let i = 0; i < done.length; i++) out.write(classFile(done[i]!), await encodePng(displaySize(toRaw(r.images.data as Float32Array, r.images.dims, i), opts.tile)));
              },
            });
            result = cr;
            labels = cr.classes.map((k) => model.labels[k] ?? `class ${k}`);
            extra = { classes: cr.classes, batches: { count: cr.batches, size: cr.batchSize } };
          } else {
            result = await featureVisualization(model, { ...common, objective: opts.objective, start, ...(opts.batch ? { batch: opts.batch } : {}) });
            const n = result.images.dims[0]!;
            labels = opts.objective.trim() === 'class:*' ? model.labels.slice(0, n) : Array.from({ length: n }, (_, k) => (n > 1 ? `image ${k + 1}` : opts.objective));
          }
        }
        job.done();
        if (result.zeroGradient) warner(opts, 'note')(`the objective's gradient was zero at every step${extra['classes'] ? ' for at least one batch' : ''}: ${result.objective} does not respond to the image (its activations are zero or constant, e.g. a dead channel, or ReLUs off everywhere), so only the regularizers changed it; try another objective, --start noise or another --seed`);
        if (result.speckle >= SPECKLE_NOTE) warner(opts)(`the result is saturated noise (${(100 * result.speckle).toFixed(0)}% of neighbouring colour values jump from black to white): the steps overshoot. Lower --lr (now ${opts.lr}; the default is 0.05${opts.optimizer === 'adam' ? ', and Adam moves each parameter by about lr per step' : ''}).`);
        const drawnClasses = Array.isArray(extra['classes']) ? (extra['classes'] as number[]) : undefined;
        const visualized = drawnClasses || opts.facets ? undefined : visualizedClass(opts.objective, model);
        const ownOutputs = model.outputKind === 'multi-label' && (drawnClasses !== undefined || visualized !== undefined);
        const caption = {
          of: (k: number): string | undefined => {
            const p = result.predictions[k];
            return visualizedOutputCaption(model, p, drawnClasses?.[k] ?? visualized, '') ?? (p ? `${p.label} ${(100 * p.probability).toFixed(1)}%` : undefined);
          },
          note: ownOutputs ? 'captions: whether the final image makes the output it was made for say yes (its own sigmoid)' : "captions: the model's prediction for the final image",
        };
        const files = await writeFeatviz(out, result, labels, opts.tile, caption, drawnClasses?.map(classFile));
        const summary = { command: 'featviz', model: modelInfo(model, opts), objective: result.objective, params: result.params, ...extra, images: labels.map((l, k) => ({ label: l, file: files.images[k], caption: caption.of(k), prediction: briefPrediction(result.predictions[k]) })), objectiveHistory: result.history.filter((_, i) => i % 8 === 0 || i === result.history.length - 1).map((h) => ({ step: h.step, value: h.value })), files };
        const text = summaryJson(summary);
        out.write('summary.json', text);
        if (opts.json) process.stdout.write(text);
        out.report(opts);
      } finally {
        job.done();
        await engine.dispose();
      }
    });
}

/**
 * A class's image: class-76-tarantula.png. Named image-<class+1>.png before, so class 76 was
 * image-77.png.
 */
function classFileName(k: number, labels: readonly string[]): string {
  return `class-${k}-${fileSlug(labels[k] ?? `class ${k}`)}.png`;
}

/** A prediction for the summary: every logit only for small models (1000 per image would swamp the file). */
function briefPrediction(p: FeatvizResult['predictions'][number] | undefined): unknown {
  if (!p) return null;
  return p.logits.length <= 20 ? p : { index: p.index, label: p.label, probability: p.probability, logit: p.logits[p.index] };
}

/** Images drawn in result.png at most; the rest are in their own files. */
const GRID_LIMIT = 100;

/**
 * result.png (labelled grid with predictions, the first GRID_LIMIT images), strip.png (steps x
 * images), optimization.gif, image-k.png (unless `written` names the files already written).
 */
async function writeFeatviz(out: OutputFiles, r: FeatvizResult, labels: string[], tile: number, caption: { of: (k: number) => string | undefined; note: string }, written?: string[]): Promise<{ result: string; strip: string; gif: string; images: string[] }> {
  const total = r.images.dims[0]!;
  const data = r.images.data as Float32Array;
  const images: string[] = written ?? [];
  if (!written) {
    for (let k = 0; k < total; k++) {
      const file = `image-${k + 1}.png`;
      out.write(file, await encodePng(displaySize(toRaw(data, r.images.dims, k), tile)));
      images.push(file);
    }
  }
  const n = Math.min(total, GRID_LIMIT);
  // rows of about 1200 px: ten 112-px tiles, five 224-px ones
  const perRow = Math.min(n, 10, Math.max(1, Math.floor(1200 / displaySize(toRaw(data, r.images.dims, 0), tile).width)));
  const rows = [];
  for (let s = 0; s < n; s += perRow) {
    rows.push({
      lines: [],
      cells: Array.from({ length: Math.min(perRow, n - s) }, (_, i) => displaySize(toRaw(data, r.images.dims, s + i), tile)),
      captions: Array.from({ length: Math.min(perRow, n - s) }, (_, i) => caption.of(s + i)),
    });
  }
  out.write(
    'result.png',
    await gridFigure({
      columns: n > perRow ? labels.slice(0, perRow).map((_, i) => `${i + 1}`) : labels.slice(0, n),
      rows,
      notes: [...(n > perRow ? [`images in order: ${labels.slice(0, n).join(', ')}`] : []), ...(total > n ? [`the first ${n} of ${total} images; all are in ${images[0]} ...`] : []), caption.note],
    }),
  );
  // strip: one row per image (up to 10), one column per kept step
  const stripTile = Math.max(56, Math.floor(tile * 0.75));
  out.write(
    'strip.png',
    await gridFigure({
      columns: r.frames.map((f) => `step ${f.step}`),
      rows: Array.from({ length: Math.min(n, 10) }, (_, k) => ({ lines: n > 1 ? [labels[k] ?? ''] : [], cells: r.frames.map((f) => displaySize(toRaw(f.image, r.images.dims, k), stripTile)) })),
    }),
  );
  // GIF: all images side by side per frame
  const frames = r.frames.map((f) => {
    const tiles = Array.from({ length: Math.min(n, 10) }, (_, k) => displaySize(toRaw(f.image, r.images.dims, k), Math.min(tile, 160)));
    return hstack(tiles);
  });
  out.write('optimization.gif', encodeGif(frames, 150, 1200));
  return { result: 'result.png', strip: 'strip.png', gif: 'optimization.gif', images };
}

/** Tiles side by side with a 4-pixel white gap. */
export function hstack(tiles: { width: number; height: number; channels: 1 | 3; data: Uint8Array }[]): { width: number; height: number; channels: 3; data: Uint8Array } {
  const gap = 4;
  const h = Math.max(...tiles.map((t) => t.height));
  const w = tiles.reduce((a, t) => a + t.width, 0) + gap * (tiles.length - 1);
  const data = new Uint8Array(w * h * 3).fill(255);
  let x0 = 0;
  for (const t of tiles) {
    for (let y = 0; y < t.height; y++)
      for (let x = 0; x < t.width; x++)
        for (let c = 0; c < 3; c++) data[(y * w + x0 + x) * 3 + c] = t.data[(y * t.width + x) * t.channels + (t.channels === 1 ? 0 : c)]!;
    x0 += t.width + gap;
  }
  return { width: w, height: h, channels: 3, data };
}
