import { join } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { ConvLensError } from '../../../engine/errors.js';
import type { Tensor } from '../../../engine/tensor.js';
import type { Model } from '../../../models/model.js';
import { parseUnitSpec, unitModel } from '../../../models/unit-model.js';
import { readFileOrExplain, STDIN_PATH } from '../../../io/files.js';
import { encodePng, type RawImage } from '../../../io/image.js';
import { checkMaskFits, checkMaskIsPng, decodeMaskImage, shownImageSize } from '../../../io/mask-image.js';
import { inputFiles, loadInputs, sampleCount, scaledUpNote } from '../../../io/inputs.js';
import { NpyStream } from '../../../io/npy-stream.js';
import { encodeNpy, parseNpy } from '../../../io/npy.js';
import { explain, METHOD_NAMES, METHODS, resolveMethods } from '../../../methods/explain/index.js';
import type { MethodName } from '../../../methods/explain/types.js';
import type { Completeness, ExplainedImage, Explanation, ExplainOptions, IgBaseline, IgRule, OcclusionFill, OcclusionMode, ScoreCamMode, AblationMode, SegmentBaseline, LimeRegression } from '../../../methods/explain/types.js';
import { MAX_MASK_PIXELS, MAX_SEGMENTS, maskFromImage, SEGMENTATION_KINDS, type SegmentationKind } from '../../../methods/explain/segments.js';
import { LIME_REGRESSIONS, SEGMENT_SAMPLE_DEFAULTS } from '../../../methods/explain/segment-perturbation.js';
import { type Progress, throwIfCancelled } from '../../../engine/jobs.js';
import { LRP_COMPOSITES, type LrpCompositeName } from '../../../engine/ops/rules/lrp.js';
import { infidelity, maxSensitivity, road } from '../../../methods/metrics/index.js';
import { deletionInsertion, randomMaps, type Curves } from '../../../methods/metrics/deletion-insertion.js';
import { meanScore, randomizationCheck } from '../../../methods/metrics/sanity.js';
import { checkScore, classIndex, defaultCurveScore, scoreName } from '../../../methods/explain/target.js';
import { shownScore } from '../../../methods/predict.js';
import { displayStyle, renderAttribution, type DisplayOptions, type View } from '../../../methods/explain/display.js';
import { colormap } from '../../../render/colormap.js';
import { defaultTileSize, explanationGrid, faithfulnessChart, GRID_MAX_ROWS, sanityChart, sanityGrid } from '../../../methods/explain/figures.js';
import { describeRange, parseRange } from '../../../render/range.js';
import { checkInputsFit, choiceOption, cliJob, type CommonOptions, inputChunks, inputsThatFit, intIn, modelInfo, numberIn, openModel, outPath, seedNumber, warner, withCommon } from '../common.js';
import { defaultOut, distinctNames, OutputFiles, stemmer } from '../output.js';
import { onlyWith, optionRules, type OptionMode, type OptionRule } from '../option-rules.js';
import { hugePagesIn, hugePageSystem } from '../../huge-pages.js';

interface ExplainCliOptions extends CommonOptions {
  method: string;
  layer?: string;
  unit?: string;
  target?: string;
  score: string;
  out: string;
  npy?: boolean;
  json?: boolean;
  batchSize?: number;
  chunk?: number;
  // display
  view: string;
  opacity?: number;
  colormap?: string;
  diverging?: string;
  range?: string;
  size?: number;
  images: boolean;
  // method parameters
  reduce?: string;
  samples?: number;
  noise?: number;
  steps?: number;
  baseline?: string;
  igRule?: string;
  window?: [number, number];
  stride?: [number, number];
  fill?: string;
  occlusionMode?: OcclusionMode;
  tau?: number;
  drillDown?: number;
  scorecamMode?: ScoreCamMode;
  ablationMode?: AblationMode;
  interpolate?: string;
  seed?: number;
  baselineFile?: string;
  shapStdev?: number;
  lrpComposite?: LrpCompositeName;
  lrpEpsilon?: number;
  lrpGamma?: number;
  augSmooth?: boolean;
  eigenSmooth?: boolean;
  segments?: number;
  segmentation?: SegmentationKind;
  compactness?: number;
  segmentsMask?: string;
  limeKernelWidth?: number;
  limeRegression?: LimeRegression;
  limeAlpha?: number;
  // metrics
  faithfulness?: boolean;
  curveSteps: number;
  sanity?: boolean;
  sensitivity?: boolean;
}

const fraction = (v: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError('expected a number from 0 to 1');
  return n;
};

/** A positive number up to `hi`: a width of 0 would divide by zero in LIME's kernel, so it is refused as the option is read. */
const positiveUpTo = (hi: number) => (v: string): number => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n <= 0 || n > hi) throw new InvalidArgumentError(`expected a number above 0 and at most ${hi}`);
  return n;
};

const size2 = (v: string): [number, number] => {
  const m = /^(\d+)(?:x(\d+))?$/i.exec(v.trim());
  if (!m || Number(m[1]) < 1 || (m[2] !== undefined && Number(m[2]) < 1)) throw new InvalidArgumentError('expected N or HxW, e.g. 8 or 16x16');
  return [Number(m[1]), Number(m[2] ?? m[1])];
};


const oneOf = <T extends string>(what: string, v: string | undefined, allowed: readonly T[]): T | undefined => {
  if (v === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(v)) throw new ConvLensError('INVALID_ARGUMENT', `Unknown ${what} "${v}".`, `Use one of: ${allowed.join(', ')}.`);
  return v as T;
};

/** An explanation without its maps and raw results, for the run summary once its chunk's files are written. */
function withoutArrays(e: Explanation): Explanation {
  const empty = new Float32Array(0);
  return { ...e, attributions: e.attributions.map((a) => ({ ...a, raw: { ...a.raw, data: empty }, map: { ...a.map, data: empty } })) };
}

/** The methods asked for; none when the list does not read (the action then says why). */
function askedMethods(opts: Record<string, unknown>): MethodName[] {
  try {
    return resolveMethods([String(opts['method'])]);
  } catch {
    return [];
  }
}

/** Options that only some methods (or the metrics) read: given without any of them, they would be ignored. */
function methodOptions(): OptionRule[] {
  const using = (...methods: MethodName[]) => (opts: Record<string, unknown>) => { const asked = askedMethods(opts); return !asked.length || asked.some((m) => methods.includes(m)); };
  const mode = (...methods: string[]): OptionMode => {
    const list = methods.length > 1 ? `${methods.slice(0, -1).join(', ')} or ${methods.at(-1)}` : methods[0]!;
    return { when: `with --method ${list}`, add: `add ${methods.length > 1 ? 'one of them' : methods[0]} to --method` };
  };
  const smoothing = ['smoothgrad', 'smoothgrad-sq', 'vargrad'] as const;
  const segmented = ['feature-ablation', 'kernel-shap', 'lime'] as const;
  const sampledSegments = ['kernel-shap', 'lime'] as const;
  const camFamily = (Object.keys(METHODS) as MethodName[]).filter((m) => METHODS[m].camFamily);
  const layered = (Object.keys(METHODS) as MethodName[]).filter((m) => METHODS[m].layer);
  return [
    ...onlyWith(mode('saliency'), using('saliency'), 'reduce'),
    ...onlyWith(mode(...smoothing, 'gradient-shap', ...sampledSegments), using(...smoothing, 'gradient-shap', ...sampledSegments), 'samples'),
    ...onlyWith(mode(...smoothing), using(...smoothing), 'noise'),
    ...onlyWith(mode('integrated-gradients'), using('integrated-gradients'), 'steps', 'igRule'),
    ...onlyWith(mode('integrated-gradients', 'deeplift', ...segmented), using('integrated-gradients', 'deeplift', ...segmented), 'baseline'),
    ...onlyWith(mode(...segmented), using(...segmented), 'segments', 'segmentation', 'compactness', 'segmentsMask'),
    ...onlyWith({ when: 'without --segments-mask (the mask gives the segments)', add: 'leave out --segments-mask' }, (opts) => opts['segmentsMask'] === undefined, 'segments', 'segmentation', 'compactness'),
    ...onlyWith({ when: 'with SLIC segments', add: 'use --segmentation slic (the default)' }, (opts) => opts['segmentation'] !== 'grid', 'compactness'),
    ...onlyWith(mode('gradient-shap', 'deeplift-shap'), using('gradient-shap', 'deeplift-shap'), 'baselineFile'),
    ...onlyWith(mode('gradient-shap'), using('gradient-shap'), 'shapStdev'),
    ...onlyWith(mode('lrp'), using('lrp'), 'lrpComposite', 'lrpEpsilon', 'lrpGamma'),
    ...onlyWith({ when: 'with a CAM-family method', add: `add one to --method (${camFamily.join(', ')})` }, using(...camFamily), 'augSmooth', 'eigenSmooth'),
    ...onlyWith(mode('occlusion'), using('occlusion'), 'window', 'stride', 'fill', 'occlusionMode', 'tau', 'drillDown'),
    ...onlyWith(mode('scorecam'), using('scorecam'), 'scorecamMode'),
    ...onlyWith(mode('feature-ablation'), using('feature-ablation'), 'ablationMode'),
    ...onlyWith(mode('lime'), using('lime'), 'limeKernelWidth', 'limeRegression', 'limeAlpha'),
    ...onlyWith({ when: 'with a penalized LIME fit', add: 'use --lime-regression ridge (the default) or lasso' }, (opts) => opts['limeRegression'] !== 'linear', 'limeAlpha'),
    ...onlyWith(mode('guided-gradcam'), using('guided-gradcam'), 'interpolate'),
    ...onlyWith({ when: 'with a method that reads a layer', add: `add one to --method (${layered.join(', ')})` }, using(...layered), 'layer'),
    ...onlyWith({ when: 'with --faithfulness', add: 'add --faithfulness' }, (opts) => !!opts['faithfulness'], 'curveSteps'),
    ...onlyWith(
      { when: 'with a seeded method (smoothgrad, smoothgrad-sq, vargrad, gradient-shap, deeplift-shap, kernel-shap, lime) or a metric (--faithfulness, --sanity, --sensitivity)', add: 'add one of them' },
      (opts) => !!(opts['faithfulness'] || opts['sanity'] || opts['sensitivity']) || using(...smoothing, 'gradient-shap', 'deeplift-shap', ...sampledSegments)(opts),
      'seed',
    ),
  ];
}

export function define(command: Command): void {
  optionRules(command, methodOptions());
  withCommon(
    command
      .addHelpText('after', `\nMethods: ${METHOD_NAMES.join(', ')}\nA method the model rules out (cam without GAP + dense) is skipped with the reason; the others still run.\n\nExamples:\n  convlens explain samples/fashion-mnist/*.png --method saliency,integrated-gradients,gradcam --out out\n  convlens explain samples/photos/chelsea.png --model squeezenet --method gradcam,scorecam --layer fires.6 --target tabby --score prob
  convlens explain samples/photos/chelsea.png --model squeezenet --unit fires.5@6,6 --method saliency,integrated-gradients`),
  )
    .argument('<inputs...>', 'image files, .npy tensors (NCHW or CHW float32), or folders of them')
    .option('--method <names>', 'methods, comma-separated (see the list below), or all', 'saliency,gradcam,guided-backprop')
    .option('-l, --layer <name>', 'layer for CAM-type methods (default: the model profile\'s CAM layer, the last spatial layer before global pooling; on a segmentation net the backbone\'s last layer)')
    .option('--unit <layer[@row,col]>', 'explain a hidden layer\'s channel instead of a class: its mean over the positions, or with @row,col its value there; --target then picks the channel (default: the most active one)')
    .option('-t, --target <class>', 'class index or label to explain (default: each image\'s predicted class), or one per input, comma-separated (285,967)')
    .option('--score <kind>', 'logit (pre-softmax, default) or prob (softmax probability; a multi-label output\'s own sigmoid)', 'logit')
    .option('-o, --out <dir>', 'output folder', outPath, defaultOut('explain'))
    .option('--npy', 'also write each method\'s raw result as <method>.npy (before normalization or upsampling)')
    .option('--json', 'print the run summary JSON to stdout')
    .option('--batch-size <n>', 'samples per engine run for batched methods (1-4096)', intIn(1, 4096))
    .option('--chunk <n>', 'inputs explained at once; their PNGs are written before the next chunk loads (default: as many as fit in half the memory; the metrics need one chunk)', intIn(1, 1_000_000))
    .option('--view <view>', 'auto (CAMs overlaid, others as heatmaps), heatmap or overlay', 'auto')
    .option('--opacity <a>', 'heatmap opacity in overlays (default 0.5 for CAMs, 0.7 for pixel maps)', fraction)
    .option('--colormap <name>', 'colormap for unsigned maps (inferno, viridis, magma, plasma, cividis, turbo, gray)')
    .option('--diverging <name>', 'colormap for signed maps (rdbu, puor, piyg, prgn, brbg)')
    .option('--range <spec>', 'value range drawn: minmax, percentile[:LO:HI], symmetric[:P] or fixed:MIN:MAX (default per method)')
    .option('--size <px>', 'tile size in pixels (16-2048; default: 4x for 28 px inputs)', intIn(16, 2048))
    .option('--no-images', 'skip the per-image PNGs (grid and summary only)')
    .option('--reduce <how>', 'saliency: max (default) or sum of |gradient| over channels')
    .option('--samples <n>', 'smoothgrad/vargrad: noisy samples per image; gradient-shap: random path points per image (1-10000, default 50 each); kernel-shap, lime: coalitions of segments per image (default 256)', intIn(1, 10_000))
    .option('--noise <f>', 'smoothgrad/vargrad: noise std as a fraction of the input range (default 0.15)', fraction)
    .option('--steps <n>', 'integrated-gradients: path steps (1-1000, default 50)', intIn(1, 1000))
    .option('--baseline <b>', 'integrated-gradients, deeplift: black (default), zero, blurred, or a .npy file; feature-ablation, kernel-shap, lime: the same or mean (default zero, as Captum)')
    .option('--segments <n>', `feature-ablation, kernel-shap, lime: segments aimed at (1-${MAX_SEGMENTS}, default 50)`, intIn(1, MAX_SEGMENTS))
    .addOption(choiceOption('--segmentation <kind>', 'feature-ablation, kernel-shap, lime: slic superpixels (default) or grid', SEGMENTATION_KINDS))
    .option('--segments-mask <file.png>', `feature-ablation, kernel-shap, lime: the segments themselves (Captum's feature_mask), an image whose distinct colours or grey levels are the segments (at most ${MAX_SEGMENTS}; flat colours, lossless PNG), brought to the model's input as the images are, by nearest neighbour`)
    .option('--compactness <m>', 'SLIC: spatial against colour distance (0-1000, default 10 as skimage; larger gives squarer segments)', numberIn(0, 1000))
    .option('--lime-kernel-width <w>', `lime: width of the exponential kernel on the cosine distance to the image (above 0 to 100, default ${SEGMENT_SAMPLE_DEFAULTS.kernelWidth} as Captum)`, positiveUpTo(100))
    .addOption(choiceOption('--lime-regression <fit>', 'lime: the surrogate fitted: ridge (default, the lime package\'s), lasso (Captum\'s) or linear (unpenalized)', LIME_REGRESSIONS))
    .option('--lime-alpha <a>', `lime: the ridge or lasso penalty (0-1e6, default ${SEGMENT_SAMPLE_DEFAULTS.alpha} for ridge, ${SEGMENT_SAMPLE_DEFAULTS.lassoAlpha} for lasso as Captum)`, numberIn(0, 1e6))
    .option('--baseline-file <F.npy>', 'gradient-shap, deeplift-shap: the baseline set [B, C, H, W] in model input space (default: 8 seeded noise images)')
    .option('--shap-stdev <sd>', 'gradient-shap: std of Gaussian noise added to the input, as Captum\'s stdevs (0-10, default 0)', numberIn(0, 10))
    .addOption(choiceOption('--lrp-composite <name>', 'lrp: epsilon, epsilon-gamma (Captum\'s rules), epsilon-plus-flat or epsilon-gamma-box (zennit\'s; default)', LRP_COMPOSITES))
    .option('--lrp-epsilon <e>', 'lrp: epsilon of the epsilon rule (0-100, default 1e-9 Captum composites, 1e-6 zennit\'s)', numberIn(0, 100))
    .option('--lrp-gamma <g>', 'lrp: gamma of the gamma rule (0-100, default 0.25)', numberIn(0, 100))
    .option('--aug-smooth', 'CAM family: average over horizontal flips x intensity 0.9/1/1.1 (pytorch-grad-cam)')
    .option('--eigen-smooth', 'CAM family: first principal component of the weighted maps instead of their sum (pytorch-grad-cam)')
    .option('--ig-rule <rule>', 'integrated-gradients: gausslegendre (default), riemann-trapezoid, riemann-left, riemann-right, riemann-middle')
    .option('--window <n|HxW>', 'occlusion: window size (default: image side / 7)', size2)
    .option('--stride <n|HxW>', 'occlusion: stride (default: half the window)', size2)
    .option('--fill <fill>', 'occlusion: zero (default), mean or blur')
    .addOption(choiceOption('--occlusion-mode <mode>', 'occlusion: incremental (exact, recomputes only what a window changes), brute-force (the reference) or approximate (default: incremental where it pays off)', ['incremental', 'brute-force', 'approximate']))
    .option('--tau <f>', 'occlusion approximate: largest patch as a fraction of its feature map (default 0.75)', fraction)
    .option('--drill-down <f>', 'occlusion approximate: fraction of the remaining windows scored after the first pass (default 0.5)', fraction)
    .addOption(choiceOption('--scorecam-mode <mode>', 'scorecam: incremental (default: each distinct mask once, target logit only) or brute-force', ['incremental', 'brute-force']))
    .addOption(choiceOption('--ablation-mode <mode>', 'feature-ablation: incremental (exact, recomputes only what a segment\'s box changes) or brute-force (the reference; default: incremental where it pays off)', ['incremental', 'brute-force']))
    .option('--interpolate <mode>', 'guided-gradcam: bilinear (default) or nearest upsampling of Grad-CAM')
    .option('--seed <n>', 'random seed (SmoothGrad noise, SHAP baselines and samples, sanity-check weights)', seedNumber)
    .option('--faithfulness', 'deletion/insertion curves and AUCs, ROAD (MoRF/LeRF) and infidelity per method (+ a random ranking), plotted; at least 2 x --curve-steps forward passes per image and method')
    .option('--sensitivity', 'max-sensitivity per method (recomputes each map on 10 perturbed copies, Captum\'s defaults)')
    .option('--curve-steps <n>', 'points per deletion/insertion curve (1-1000)', intIn(1, 1000), 50)
    .option('--sanity', 'model-randomization sanity check (cascading, output layer first), plotted; recomputes every map once per randomized layer: minutes on a 50-layer model')
    .action(async (inputs: string[], opts: ExplainCliOptions) => {
      const out = new OutputFiles(opts.out);
      const t0 = performance.now();
      const methods = resolveMethods([opts.method]);
      const score = checkScore(opts.score);
      const view = oneOf<View>('view', opts.view, ['auto', 'heatmap', 'overlay'])!;
      if (opts.colormap) colormap(opts.colormap);
      if (opts.diverging && !colormap(opts.diverging).diverging) {
        throw new ConvLensError('INVALID_ARGUMENT', `"${opts.diverging}" is not a diverging colormap.`, 'Use rdbu, rdbu-rev, puor, piyg, prgn or brbg for signed maps.');
      }
      const range = opts.range ? parseRange(opts.range) : undefined;
      const opened = openModel(opts, { classesUnused: opts.unit !== undefined });
      const { engine } = opened;
      const model = opts.unit !== undefined ? unitModel(opened.model, parseUnitSpec(opts.unit)) : opened.model;
      const job = cliJob(opts, 'explain');
      out.stopOn(job.signal);
      let finished = false;
      const finish = (): void => {
        if (!finished) job.done();
        finished = true;
      };
      try {
        const inputPaths = inputFiles(inputs);
        // the inputs, and per method its raw result, its map and the method's own arrays
        const copies = 2 + 3 * methods.length;
        // The metrics compare maps across every image at once; the maps alone go chunk by chunk.
        const wholeBatch = opts.faithfulness || opts.sanity || opts.sensitivity;
        if (wholeBatch && opts.chunk !== undefined) throw new ConvLensError('INVALID_ARGUMENT', '--chunk does not combine with --faithfulness, --sanity or --sensitivity: they compare maps across all the inputs at once.', 'Run the metrics on a set of inputs that fits in memory, and the maps of a larger set in chunks in another run.');
        if (wholeBatch) checkInputsFit(inputPaths, model, copies, 'explain', undefined, `Leave out --faithfulness, --sanity and --sensitivity to explain them in chunks, or run at most ${inputsThatFit(model, copies)} per command with them.`);
        const chunks = wholeBatch ? [inputPaths] : inputChunks(inputPaths, model, copies, 'explain', opts.chunk);
        const total = chunks.length > 1 ? sampleCount(inputPaths, model) : undefined;
        let baseline: IgBaseline | 'mean' | undefined;
        if (opts.baseline !== undefined) {
          baseline = opts.baseline.toLowerCase().endsWith('.npy') ? parseNpy(readFileOrExplain(opts.baseline, 'baseline .npy'), `"${opts.baseline}"`) : oneOf<'black' | 'zero' | 'blurred' | 'mean'>('baseline', opts.baseline, ['black', 'zero', 'blurred', 'mean']);
        }
        if (baseline === 'mean' && methods.some((m) => m === 'integrated-gradients' || m === 'deeplift')) {
          throw new ConvLensError('INVALID_ARGUMENT', '--baseline mean applies only to feature-ablation, kernel-shap and lime.', 'Use black, zero, blurred or a .npy file with integrated-gradients and deeplift, or explain them in another run.');
        }
        const segmentsMask = opts.segmentsMask === undefined ? undefined : await readSegmentsMask(opts.segmentsMask, inputPaths, model, warner(opts, 'note'));
        const targets = opts.target === undefined ? undefined : targetsPerInput(model, opts.target, () => sampleCount(inputPaths, model));
        const options: ExplainOptions = {
          methods,
          score,
          ...(targets !== undefined ? { target: targets } : {}),
          ...(opts.layer !== undefined ? { layer: opts.layer } : {}),
          ...(opts.batchSize ? { batchSize: opts.batchSize } : {}),
          saliency: { ...(opts.reduce ? { reduce: oneOf('saliency reduction', opts.reduce, ['max', 'sum'] as const)! } : {}) },
          smoothgrad: { ...(opts.samples ? { samples: opts.samples } : {}), ...(opts.noise !== undefined ? { noise: opts.noise } : {}), ...(opts.seed !== undefined ? { seed: opts.seed } : {}) },
          integratedGradients: {
            ...(opts.steps ? { steps: opts.steps } : {}),
            ...(baseline !== undefined && baseline !== 'mean' ? { baseline } : {}),
            ...(opts.igRule ? { rule: oneOf<IgRule>('integration rule', opts.igRule, ['gausslegendre', 'riemann-trapezoid', 'riemann-left', 'riemann-right', 'riemann-middle'])! } : {}),
          },
          occlusion: {
            ...(opts.window ? { window: opts.window } : {}),
            ...(opts.stride ? { stride: opts.stride } : {}),
            ...(opts.fill ? { fill: oneOf<OcclusionFill>('occlusion fill', opts.fill, ['zero', 'mean', 'blur'])! } : {}),
            ...(opts.occlusionMode ? { mode: opts.occlusionMode } : {}),
            ...(opts.tau !== undefined ? { tau: opts.tau } : {}),
            ...(opts.drillDown !== undefined ? { drillDown: opts.drillDown } : {}),
          },
          scorecam: { ...(opts.scorecamMode ? { mode: opts.scorecamMode } : {}) },
          guidedGradcam: { ...(opts.interpolate ? { interpolate: oneOf('interpolation', opts.interpolate, ['bilinear', 'nearest'] as const)! } : {}) },
          deeplift: { ...(baseline !== undefined && baseline !== 'mean' ? { baseline } : {}) },
          segments: {
            ...(opts.segments !== undefined ? { count: opts.segments } : {}),
            ...(opts.segmentation ? { segmentation: opts.segmentation } : {}),
            ...(opts.compactness !== undefined ? { compactness: opts.compactness } : {}),
            ...(opts.ablationMode ? { mode: opts.ablationMode } : {}),
            ...(baseline !== undefined ? { baseline: baseline as SegmentBaseline } : {}),
            ...(opts.samples ? { samples: opts.samples } : {}),
            ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
            ...(segmentsMask ? { mask: segmentsMask } : {}),
            ...(opts.limeKernelWidth !== undefined ? { kernelWidth: opts.limeKernelWidth } : {}),
            ...(opts.limeRegression ? { regression: opts.limeRegression } : {}),
            ...(opts.limeAlpha !== undefined ? { alpha: opts.limeAlpha } : {}),
          },
          shap: {
            ...(opts.baselineFile !== undefined ? { baselines: parseNpy(readFileOrExplain(opts.baselineFile, 'baseline set .npy'), `"${opts.baselineFile}"`) } : {}),
            ...(opts.samples ? { samples: opts.samples } : {}),
            ...(opts.shapStdev !== undefined ? { noise: opts.shapStdev } : {}),
            ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
          },
          lrp: {
            ...(opts.lrpComposite ? { composite: opts.lrpComposite } : {}),
            ...(opts.lrpEpsilon !== undefined ? { epsilon: opts.lrpEpsilon } : {}),
            ...(opts.lrpGamma !== undefined ? { gamma: opts.lrpGamma } : {}),
          },
          cam: { ...(opts.augSmooth ? { augSmooth: true } : {}), ...(opts.eigenSmooth ? { eigenSmooth: true } : {}) },
          signal: job.signal!,
          onProgress: job.onProgress!,
        };

        const display: DisplayOptions = { view, ...(opts.opacity !== undefined ? { opacity: opts.opacity } : {}), ...(opts.colormap ? { colormap: opts.colormap } : {}), ...(opts.diverging ? { diverging: opts.diverging } : {}), ...(range ? { range } : {}), ...(opts.size ? { size: opts.size } : {}) };
        const nameOf = stemmer();
        const files: Record<string, string[]> = {};
        const sources: string[] = [];
        const results: ExplainedImage[] = [];
        const methodTotals = new Map<string, { timeMs: number; completeness: Completeness[]; notes: string[]; rows: number }>();
        const npyStreams = new Map<string, NpyStream>();
        const notesShown = new Set<string>();
        let first: { e: Explanation; batch: Tensor } | undefined;
        let figureItems: { name: string; readonly display: RawImage }[] = [];
        let predictionPassMs = 0;
        let tileSize = opts.size ?? 0;
        let tLoaded = 0;
        let explainMs = 0;
        let renderMs = 0;
        try {
          for (const [k, chunkPaths] of chunks.entries()) {
            throwIfCancelled(job.signal, 'explain');
            const { batch, items } = await loadInputs(chunkPaths, model);
            const scaled = scaledUpNote(items, model);
            if (scaled) warner(opts)(scaled);
            if (k === 0) tLoaded = performance.now();
            const from = sources.length;
            const progress = chunks.length === 1 ? job.onProgress! : (p: Progress): void => job.onProgress!({ ...p, phase: `${p.phase ?? 'explain'}, inputs ${from + 1}-${from + items.length} of ${total}` });
            const tStart = performance.now();
            const e = await explain(model, batch, { ...options, ...(Array.isArray(targets) ? { target: targets.slice(from, from + items.length) } : {}), onProgress: progress, firstIndex: from });
            const tExplained = performance.now();
            explainMs += tExplained - tStart;
            predictionPassMs += e.predictionPass.timeMs;
            for (const a of e.attributions) {
              for (const note of a.notes) {
                if (!opts.quiet && !notesShown.has(note)) process.stderr.write(`note: ${note}\n`);
                notesShown.add(note);
              }
            }
            if (k === 0) for (const s of e.skipped) if (!opts.quiet) process.stderr.write(`skipped ${s.method}: ${s.reason}${s.hint ? `\n  ${s.hint}` : ''}\n`);

            // One PNG per image and method, written as each chunk is done.
            const names = items.map((it) => nameOf(it.source));
            if (!tileSize) tileSize = defaultTileSize(items[0]!.display);
            for (const a of e.attributions) {
              files[a.method] ??= [];
              const totals = methodTotals.get(a.method) ?? { timeMs: 0, completeness: [], notes: [], rows: 0 };
              totals.timeMs += a.timeMs;
              totals.rows += a.raw.dims[0] ?? 0;
              if (a.completeness) totals.completeness.push(...a.completeness);
              for (const note of a.notes) if (!totals.notes.includes(note)) totals.notes.push(note);
              methodTotals.set(a.method, totals);
              if (opts.npy && chunks.length > 1) {
                const file = `${a.method.replace(/\+/g, 'p')}.npy`;
                if (!npyStreams.has(file)) npyStreams.set(file, new NpyStream(join(out.dir, file)));
                npyStreams.get(file)!.append(a.raw);
              }
              if (!opts.images) continue;
              for (let i = 0; i < items.length; i++) {
                const file = `${names[i]}.${a.method.replace(/\+/g, 'p')}.png`;
                out.write(file, await encodePng(renderAttribution(a, i, items[i]!.display, { ...display, size: tileSize }).image));
                files[a.method]!.push(file);
              }
            }
            items.forEach((it, i) => {
              sources.push(it.source);
              results.push(e.images[i]!);
            });
            if (k === 0) {
              // The grid shows the first chunk (a figure of thousands of images would be unreadable
              // anyway), drawn now so that later chunks need not keep this one's maps.
              const rowNames = distinctNames(items.map((it) => it.source));
              figureItems = items.map((it, i) => ({ name: rowNames[i]!, get display() { return it.display; } }));
              out.write('grid.png', await explanationGrid(e, figureItems, { ...display, size: tileSize }));
              first = chunks.length === 1 ? { e, batch } : { e: withoutArrays(e), batch: { ...batch, data: new Float32Array(0) } };
            }
            renderMs += performance.now() - tExplained;
          }
          for (const [file, stream] of npyStreams) {
            stream.close();
            out.record(join(out.dir, file));
          }
        } finally {
          for (const stream of npyStreams.values()) stream.abort();
        }
        const { e, batch } = first!;
        const tGrid = performance.now();
        // The grid draws at most GRID_MAX_ROWS rows, of the first chunk's inputs.
        const shown = Math.min(figureItems.length, GRID_MAX_ROWS);
        if (shown < sources.length && !opts.quiet) process.stderr.write(`note: grid.png shows the first ${shown} of ${sources.length} inputs${chunks.length > 1 ? ` (explained in ${chunks.length} chunks of at most ${figureItems.length})` : ''}${opts.images ? '; every input has its own PNGs' : ''}\n`);
        if (opts.npy && chunks.length === 1) for (const a of e.attributions) out.write(`${a.method.replace(/\+/g, 'p')}.npy`, encodeNpy(a.raw));
        renderMs += performance.now() - tGrid;
        const tRendered = performance.now();

        // Faithfulness: deletion/insertion curves of every map and of a random ranking.
        let faithfulness: Record<string, unknown> | undefined;
        let tFaith = tRendered;
        if (opts.faithfulness) {
          const [n, , h, w] = batch.dims as [number, number, number, number];
          const maps: Tensor[] = [...e.attributions.map((a) => a.map), randomMaps(n, h, w, opts.seed ?? 1)];
          const curves = await deletionInsertion(model, batch, e.targets, maps, { steps: opts.curveSteps, score: defaultCurveScore(model), ...(opts.batchSize ? { batchSize: opts.batchSize } : {}), signal: job.signal!, onProgress: job.onProgress! });
          const byMethod: Record<string, Curves> = {};
          e.attributions.forEach((a, i) => (byMethod[a.method] = curves[i]!));
          byMethod['random'] = curves[curves.length - 1]!;
          const metricOptions = { ...(opts.batchSize ? { batchSize: opts.batchSize } : {}), signal: job.signal!, onProgress: job.onProgress! };
          const roads = await road(model, batch, e.targets, maps, { ...metricOptions, score: defaultCurveScore(model), ...(opts.seed !== undefined ? { seed: opts.seed } : {}) });
          const infidelities = await infidelity(model, batch, e.targets, maps, { ...metricOptions, ...(opts.seed !== undefined ? { seed: opts.seed } : {}) });
          const chart = await faithfulnessChart(byMethod, { title: `Deletion and insertion (${model.name}, ${n} image${n > 1 ? 's' : ''}, mean curves)`, reference: 'random', score: defaultCurveScore(model), outputKind: model.outputKind, ...(model.unit ? { unit: model.unit } : {}) });
          out.write('faithfulness.png', chart.png);
          out.write('faithfulness.svg', chart.svg);
          faithfulness = {
            // what the curves followed: a regression's value (it has no probability) or a unit's
            score: scoreName(model, defaultCurveScore(model)),
            steps: opts.curveSteps,
            deletionFill: 'black',
            insertionStart: 'blur',
            order: 'pixels by attribution value, largest first (ties in seeded random order)',
            chart: 'faithfulness.png',
            road: { score: scoreName(model, defaultCurveScore(model)), imputation: 'noisy linear (8 neighbours, noise sd 0.01)', combined: '(mean LeRF - mean MoRF) / 2, higher is more faithful' },
            infidelity: { score: scoreName(model, 'logit'), perturbation: 'Gaussian, sd 0.1 in model input space, 10 per image', normalized: true, note: 'lower is more faithful' },
            methods: Object.fromEntries(
              Object.entries(byMethod).map(([m, c], i) => [
                m,
                {
                  meanDeletionAuc: c.meanDeletionAuc,
                  meanInsertionAuc: c.meanInsertionAuc,
                  deletionAuc: c.deletionAuc,
                  insertionAuc: c.insertionAuc,
                  fractions: c.fractions,
                  deletion: c.deletion,
                  insertion: c.insertion,
                  road: { fractions: roads[i]!.fractions, morf: roads[i]!.morf, lerf: roads[i]!.lerf, combined: roads[i]!.combined, meanCombined: roads[i]!.meanCombined },
                  infidelity: infidelities[i]!,
                },
              ]),
            ),
          };
          tFaith = performance.now();
        }

        let sensitivity: Record<string, number[]> | undefined;
        if (opts.sensitivity) {
          const { methods: _m, signal: _s, onProgress: _p, ...rest } = options;
          sensitivity = await maxSensitivity(model, batch, e.targets, methods, rest, { original: e, signal: job.signal!, onProgress: job.onProgress!, ...(opts.seed !== undefined ? { seed: opts.seed } : {}) });
        }

        // Sanity: cascading model randomization.
        let sanity: Record<string, unknown> | undefined;
        let tSanity = tFaith;
        if (opts.sanity) {
          const r = await randomizationCheck(model, batch, { ...options, target: Array.from(e.targets), ...(opts.seed !== undefined ? { seed: opts.seed } : {}) });
          const chart = await sanityChart(r);
          out.write('sanity.png', chart.png);
          out.write('sanity.svg', chart.svg);
          out.write('sanity-grid.png', await sanityGrid(r, figureItems[0]!, 0, { ...display, size: tileSize }));
          // Steps where a randomized model's map is constant (all zero: the target lost its gradient) have no similarity.
          const flat = r.steps.filter((s) => r.methods.some((m) => s.scores[m]!.constant.some(Boolean))).map((s) => s.layer);
          if (flat.length && !opts.quiet) {
            process.stderr.write(`note: sanity: at ${flat.length} of ${r.steps.length} randomization steps a method's map is constant (all zero: no gradient reaches the target, or the ReLU of a CAM clips every pixel); similarity is undefined there (null in summary.json, a gap in sanity.png); another --seed draws other random weights\n`);
          }
          sanity = {
            cascade: r.layers,
            randomization: 'weights and biases redrawn from N(0, std of the trained values), output layer first, cumulative',
            charts: ['sanity.png', 'sanity-grid.png'],
            undefinedWhen: 'the randomized model\'s map is constant (constant: true), e.g. all zero when no gradient reaches the target or the ReLU of a CAM clips every pixel: null, not 0 (scipy.stats.spearmanr gives NaN)',
            ...(flat.length ? { stepsWithConstantMaps: flat } : {}),
            methods: Object.fromEntries(
              r.methods.map((m) => [m, r.steps.map((s) => ({ randomizedDownTo: s.layer, spearman: meanScore(s.scores[m]!.spearman), spearmanAbs: meanScore(s.scores[m]!.spearmanAbs), ssim: meanScore(s.scores[m]!.ssim), perImage: s.scores[m] }))]),
            ),
          };
          tSanity = performance.now();
        }

        const summary = {
          command: 'explain',
          model: { ...modelInfo(model, opts), input: model.input.shape, output: model.output },
          score: scoreName(model, score),
          ...(model.unit ? { unit: { layer: model.unit.label, value: model.unit.layer, ...(model.unit.at ? { at: model.unit.at } : { reduce: 'mean' }) } } : {}),
          target: opts.target ?? 'predicted',
          batchSize: e.batchSize,
          forwardBatchSize: e.forwardBatchSize,
          inputs: sources.map((source, i) => ({ source, prediction: results[i]!.predicted, target: results[i]!.target })),
          ...(chunks.length > 1 ? { chunks: chunks.length } : {}),
          ...(shown < sources.length ? { gridShows: `the first ${shown} of ${sources.length} inputs` } : {}),
          methods: e.attributions.map((a) => {
            const style = displayStyle(a.method, a.signed, display);
            const totals = methodTotals.get(a.method)!;
            return {
              method: a.method,
              params: a.params,
              ...(a.layer ? { layer: { name: a.layer.name, label: a.layer.label, shape: [a.layer.channels, a.layer.height, a.layer.width] } } : {}),
              raw: { shape: [totals.rows, ...a.raw.dims.slice(1)], ...(opts.npy ? { file: `${a.method.replace(/\+/g, 'p')}.npy` } : {}) },
              signed: a.signed,
              display: { view: style.view, colormap: style.colormap, range: describeRange(style.range), opacity: style.view === 'overlay' ? style.opacity : undefined },
              images: files[a.method],
              timeMs: Math.round(totals.timeMs * 10) / 10,
              ...(totals.completeness.length ? { completeness: totals.completeness } : {}),
              ...(totals.notes.length ? { notes: totals.notes } : {}),
            };
          }),
          ...(e.skipped.length ? { skipped: e.skipped } : {}),
          grid: 'grid.png',
          ...(faithfulness ? { faithfulness } : {}),
          ...(sensitivity ? { maxSensitivity: { perturbation: 'uniform in [-0.02, 0.02], 10 copies per image', norm: 'Frobenius, relative to the map', methods: sensitivity } } : {}),
          ...(sanity ? { sanity } : {}),
          timingsMs: {
            load: Math.round(tLoaded - t0),
            predictionPass: Math.round(predictionPassMs),
            explain: Math.round(explainMs),
            render: Math.round(renderMs),
            ...(faithfulness ? { faithfulness: Math.round(tFaith - tRendered) } : {}),
            ...(sanity ? { sanity: Math.round(tSanity - tFaith) } : {}),
            total: Math.round(performance.now() - t0),
          },
          // Whether this process's malloc used transparent huge pages (src/interfaces/huge-pages.ts): it moves the timings.
          hugePages: hugePagesIn(process.env, hugePageSystem()),
          warnings: model.meta.warnings,
        };
        // Six significant digits are plenty for attribution statistics and keep the file readable.
        const text = `${JSON.stringify(summary, (_k, v: unknown) => (typeof v === 'number' && !Number.isInteger(v) ? Number(v.toPrecision(6)) : v), 2)}\n`;
        out.write('summary.json', text);
        finish();
        if (opts.json) process.stdout.write(text);
        else if (!opts.quiet) {
          // a regression predicts no class: its top row is the largest output
          const predicted = (img: ExplainedImage): string => (model.unit ? `most active ${img.predicted.label} (${img.predicted.logit.toPrecision(4)})` : `${model.outputKind === 'regression' ? 'largest' : 'predicted'} ${img.predicted.label} (${shownScore(img.predicted, 1)})`);
          results.forEach((img, i) => process.stdout.write(`${sources[i]}: ${predicted(img)}, explaining ${img.target.label}\n`));
          // the predictions' pass first: a shared gradient pass is most of the first gradient methods' time
          process.stdout.write(`  ${`(${e.predictionPass.kind})`.padEnd(22)} ${predictionPassMs.toFixed(0).padStart(6)} ms\n`);
          for (const a of e.attributions) {
            const totals = methodTotals.get(a.method)!;
            let line = `  ${a.method.padEnd(22)} ${totals.timeMs.toFixed(0).padStart(6)} ms`;
            if (totals.completeness.length) line += `   completeness gap ${(Math.max(...totals.completeness.map((c) => c.relativeGap)) * 100).toFixed(2)}% (max over images)`;
            process.stdout.write(`${line}\n`);
          }
          if (faithfulness) {
            process.stdout.write('  deletion AUC (lower is better) / insertion AUC (higher is better) / ROAD (higher is better) / infidelity (lower is better):\n');
            for (const [m, c] of Object.entries(faithfulness['methods'] as Record<string, { meanDeletionAuc: number; meanInsertionAuc: number; road: { meanCombined: number }; infidelity: number[] }>)) {
              const inf = c.infidelity.reduce((a, b) => a + b, 0) / c.infidelity.length;
              process.stdout.write(`    ${m.padEnd(22)} ${c.meanDeletionAuc.toFixed(3)} / ${c.meanInsertionAuc.toFixed(3)} / ${c.road.meanCombined.toFixed(3)} / ${inf.toPrecision(3)}\n`);
            }
          }
        }
        if (sensitivity && !opts.json && !opts.quiet) {
          process.stdout.write('  max-sensitivity (lower is more stable):\n');
          for (const [m, v] of Object.entries(sensitivity)) process.stdout.write(`    ${m.padEnd(22)} ${Math.max(...v).toPrecision(3)} (max over images)\n`);
        }
        out.report(opts);
      } finally {
        finish();
        await engine.dispose();
      }
    });
}

/**
 * --segments-mask read and checked before any input loads, with the studio's refusals: a mask
 * that is not a PNG (JPEG and WebP blend edges into new colours), with too many colours (an
 * antialiased drawing) or of other proportions than an input image (stretched onto other pixels
 * than it outlines) must not cost a run. The note says what resizing did to it.
 */
async function readSegmentsMask(path: string, inputs: readonly string[], model: Model, note: (message: string) => void): Promise<Tensor> {
  const bytes = readFileOrExplain(path, 'mask image');
  const subject = `--segments-mask "${path}"`;
  checkMaskIsPng(bytes, subject);
  const [h, w] = model.meta.preprocessing.size;
  const image = await decodeMaskImage(bytes, `"${path}"`, { subject, maxPixels: MAX_MASK_PIXELS, scaleTo: `to the model's ${w}x${h} input` });
  const { mask, colours } = maskFromImage(image, model.meta.preprocessing, subject);
  // Each input image must have the mask's proportions: one mask serves all the inputs. (.npy
  // inputs are at the model's input already, and standard input is read once, later.)
  for (const input of inputs) {
    if (input === STDIN_PATH || input.toLowerCase().endsWith('.npy')) continue;
    const size = await shownImageSize(input);
    if (size) checkMaskFits({ name: path, subject, width: image.width, height: image.height }, { name: input, ...size });
  }
  if (image.height !== h || image.width !== w) {
    const kept = new Set(mask.data as Int32Array).size;
    note(`--segments-mask is ${image.width}x${image.height}: brought to the model's ${w}x${h} input as the images are, by nearest neighbour${kept < colours ? `; ${colours - kept} of its ${colours} colours ${colours - kept === 1 ? 'covers' : 'cover'} no input pixel there and ${colours - kept === 1 ? 'is' : 'are'} no segment` : ''}`);
  }
  return mask;
}

/**
 * --target as the explain options take it: one class for every input, or, comma-separated,
 * one per input ("285,967"). A label that itself has commas ("tabby, tabby cat") stays one
 * target. Before, "285,967" was looked up as a single label and answered with
 * "No class label named" and alphabetical non-suggestions (abacus, abaya, ...).
 */
export function targetsPerInput(model: Model, spec: string, inputs: () => number): string | string[] {
  if (!spec.includes(',')) return spec;
  const classes = model.labels.length;
  try {
    classIndex(model, spec, classes);
    return spec;
  } catch {
    // not one class: one per input
  }
  const parts = spec.split(',').map((p) => p.trim());
  const n = inputs();
  if (parts.length !== n) {
    throw new ConvLensError('INVALID_ARGUMENT', `--target "${spec}" gives ${parts.length} classes for ${n} input${n === 1 ? '' : 's'}.`, 'Give one class for every input, or exactly one per input in input order, comma-separated (--target 285,967).');
  }
  for (const p of parts) classIndex(model, p, classes);
  return parts;
}
