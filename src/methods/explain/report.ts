// One explanation request as the studio asks it (methods, layer, target, score, per-method
// parameters, faithfulness curves) and its answer. The server runs it as a job
// (POST /api/explain); the page runs the very same function on onnxruntime-web when the user
// chooses to compute in the browser. Browser-safe: engine, methods and metrics only. Its hints
// and notes are the studio's words (hintForStudio): the CLI's flags mean nothing on the page.
import type { Tensor } from '../../engine/tensor.js';
import type { Model, UnitTarget } from '../../models/model.js';
import { cachedUnitModel, type UnitSpec } from '../../models/unit-model.js';
import type { JobOptions, Progress } from '../../engine/jobs.js';
import { deletionInsertion, infidelity, road } from '../metrics/index.js';
import { randomizableLayers, randomizationCheck, type SanityScores } from '../metrics/sanity.js';
import { maxSensitivity } from '../metrics/robustness.js';
import { ConvLensError } from '../../engine/errors.js';
import { REPORT_SANITY_DEFAULT_LAYERS, REPORT_SANITY_MAX_LAYERS, REPORT_SENSITIVITY_DEFAULT_SAMPLES } from './request-limits.js';
import { explain, METHODS, resolveMethods, type ExplainOptions, type MethodParams, type SkippedMethod } from './index.js';
import { hintForStudio } from '../../util/ways-out.js';
import { defaultCurveScore } from './target.js';

export interface ReportRequest {
  methods: string[];
  layer?: string;
  target?: number | string;
  score?: 'logit' | 'prob';
  /** parameters per method, keyed by the page's method names */
  params?: Record<string, Record<string, unknown>>;
  /** also compute deletion and insertion curves, ROAD and infidelity per method */
  metrics?: boolean;
  /** explain a channel of this layer (its mean, or its value at `at`) instead of a class; `target` then picks the channel */
  unit?: UnitSpec;
  /**
   * also run the model-randomization sanity check (Adebayo et al.), cascading from the output:
   * `layers` layers with weights, counted from the output (default 4, at most 16), each step
   * recomputing every map; `seed` draws the random weights (default 0)
   */
  sanity?: { layers?: number; seed?: number };
  /** also compute each map's max-sensitivity: the map recomputed on `samples` copies perturbed by U(-0.02, 0.02) (default 10) */
  sensitivity?: { samples?: number; seed?: number };
}

export interface ReportMap {
  method: string;
  title: string;
  signed: boolean;
  /** the map at input resolution [H, W] */
  values: Tensor;
  /** the method's raw result (see Attribution.raw) */
  raw: Tensor;
  params: Record<string, unknown>;
  notes: string[];
  layer?: string;
  completeness?: unknown;
  ms: number;
}

export interface Curve {
  x: number[];
  y: number[];
  auc: number;
}

/** ROAD curves of one map (fractions removed, target probability after imputation). */
export interface RoadReport {
  fractions: number[];
  morf: number[];
  lerf: number[];
  /** (mean LeRF - mean MoRF) / 2: higher is more faithful */
  combined: number;
}

export interface Report {
  /** set when a hidden unit was explained: target and predicted are then channels, their scores the channel's value (no probability) */
  unit?: UnitTarget;
  target: { index: number; label: string; score: number };
  predicted: unknown;
  score: string;
  maps: ReportMap[];
  /** methods that do not apply to the model, with the reason (the page shows them instead of a map) */
  skipped: SkippedMethod[];
  metrics: Record<string, { deletion: Curve; insertion: Curve; road: RoadReport; infidelity: number }>;
  /** the pass that made the prediction before the methods ran: a gradient pass some of them reuse (their own time is then ~0) */
  predictionPass: { kind: string; ms: number };
  /** the model-randomization check, when asked for */
  sanity?: SanityReport;
  /** max-sensitivity per method (lower is more stable), when asked for */
  sensitivity?: { samples: number; radius: number; seed: number; methods: Record<string, number> };
}

/** One method's similarity to the trained model's map; null where none is defined (a constant map). */
export interface SanityStepScores {
  spearman: number | null;
  spearmanAbs: number | null;
  ssim: number | null;
  /** the randomized model's map is constant (all zero: no gradient reaches the target, or a CAM's ReLU clipped every pixel) */
  constant: boolean;
}

export interface SanityReport {
  seed: number;
  /** layers with weights in the model, output first (the first `layers.length` were randomized) */
  available: number;
  /** the layers randomized, in order (output first, cumulative) */
  layers: string[];
  steps: { layer: string; maps: Record<string, Tensor>; scores: Record<string, SanityStepScores> }[];
}

/**
 * The layers a sanity request randomizes: the last `count` layers with weights (output first).
 * Its refusals are in the studio's words: the route gives them before the job starts.
 */
export function sanityLayers(model: Model, count: number | undefined): string[] {
  const available = randomizableLayers(model);
  if (available.length === 0) throw new ConvLensError('MODEL_UNSUPPORTED', `Model "${model.name}" has no Conv, Gemm or MatMul layers with constant weights to randomize.`, 'The model-randomization check needs layers with weights; leave it out for this model.');
  const n = count ?? Math.min(REPORT_SANITY_DEFAULT_LAYERS, available.length);
  if (!Number.isInteger(n) || n < 1 || n > REPORT_SANITY_MAX_LAYERS) throw new ConvLensError('INVALID_ARGUMENT', `The sanity check randomizes 1 to ${REPORT_SANITY_MAX_LAYERS} layers, got ${n}.`, `Each randomized layer recomputes every map; ask for ${Math.min(REPORT_SANITY_MAX_LAYERS, available.length)} or fewer.`);
  if (n > available.length) throw new ConvLensError('INVALID_ARGUMENT', `The sanity check asked for ${n} layers, but ${model.name} has ${available.length} layer${available.length === 1 ? '' : 's'} with weights to randomize.`, `Ask for ${available.length} or fewer (output first: ${available.slice(0, 5).join(', ')}${available.length > 5 ? ', ...' : ''}).`);
  return available.slice(0, n);
}

const finite = (v: number | undefined): number | null => (v !== undefined && Number.isFinite(v) ? v : null);
const stepScores = (s: SanityScores): SanityStepScores => ({ spearman: finite(s.spearman[0]), spearmanAbs: finite(s.spearmanAbs[0]), ssim: finite(s.ssim[0]), constant: !!s.constant[0] });

/** Page parameter keys (method names) -> the library's option keys. */
export function methodParams(params: ReportRequest['params'] = {}): MethodParams {
  const get = (...keys: string[]): Record<string, unknown> | undefined => keys.map((k) => params[k]).find((v) => v !== undefined);
  const out: Record<string, unknown> = {};
  const put = (key: keyof MethodParams, ...names: string[]): void => {
    const v = get(key, ...names);
    if (v) out[key] = v;
  };
  put('saliency');
  put('smoothgrad', 'smoothgrad-sq', 'vargrad');
  put('integratedGradients', 'integrated-gradients', 'ig');
  put('occlusion');
  put('scorecam', 'score-cam');
  put('guidedGradcam', 'guided-gradcam');
  put('deeplift');
  put('shap', 'gradient-shap', 'deeplift-shap');
  put('lrp');
  put('cam');
  put('segments', 'feature-ablation', 'kernel-shap', 'lime');
  return out as MethodParams;
}

/**
 * Explains one preprocessed image [1, C, H, W]; progress counts methods, then their curves.
 * `batchSize` is the samples per engine run (default: explain's, by input size; the studio
 * plans it to a memory budget).
 */
/** What a method's faithfulness unit runs, in order (its progress phase names the one running). */
const FAITHFULNESS_METRICS = ['deletion/insertion', 'ROAD', 'infidelity'] as const;

/** A part's own count, carried beside the job's count of parts (see Progress.within). */
const withinOf = (p: Progress): NonNullable<Progress['within']> => ({ done: p.done, total: p.total, ...(p.phase ? { phase: p.phase } : {}) });

/** The model a request explains: the model itself, or for `unit` the model cut at the layer (kept per unit). */
export function reportModel(model: Model, req: Pick<ReportRequest, 'unit'>): Model {
  return req.unit ? cachedUnitModel(model, req.unit) : model;
}

export async function explainReport(original: Model, tensor: Tensor, req: ReportRequest, job: JobOptions & { batchSize?: number } = {}): Promise<Report> {
  const model = reportModel(original, req);
  const methods = resolveMethods(req.methods);
  const options: ExplainOptions = {
    methods,
    ...methodParams(req.params),
    ...(req.layer ? { layer: req.layer } : {}),
    ...(req.target !== undefined ? { target: req.target } : {}),
    ...(req.score ? { score: req.score } : {}),
    ...(job.signal ? { signal: job.signal } : {}),
    ...(job.batchSize ? { batchSize: job.batchSize } : {}),
  };
  // Checked before any work (the route checks them too, before the job).
  const randomized = req.sanity ? sanityLayers(model, req.sanity.layers) : [];
  const copies = req.sensitivity ? (req.sensitivity.samples ?? REPORT_SENSITIVITY_DEFAULT_SAMPLES) : 0;
  // Units: a method's map; its faithfulness metrics; each randomized layer and each perturbed
  // copy recompute every map, so count as many units as methods.
  const total = methods.length * (1 + (req.metrics ? 1 : 0) + randomized.length + copies);
  let done = 0;
  // explain's methods each count from 0; their part places them one after another
  const step = (phase: string): ExplainOptions['onProgress'] => ({ part, ...p }) =>
    job.onProgress?.({ ...p, done: done + (part?.index ?? 0) + p.done / Math.max(1, p.total), total, phase, within: withinOf(p) });
  // The prediction pass before the methods (no part) is shown under its own phase at 0 done.
  const explaining = step('explaining');
  const result = await explain(model, tensor, { ...options, onProgress: (p) => (p.part ? explaining?.(p) : job.onProgress?.({ ...p, done, total })) });
  done = methods.length;
  job.onProgress?.({ done, total, phase: 'explained' });
  const image = result.images[0]!;
  const maps = result.attributions.map(
    (a): ReportMap => ({
      method: a.method,
      title: METHODS[a.method].title,
      signed: a.signed,
      values: { dtype: 'float32', dims: a.map.dims.slice(1), data: a.map.data },
      raw: a.raw,
      params: a.params,
      notes: a.notes.map(hintForStudio),
      ...(a.layer ? { layer: a.layer.name } : {}),
      ...(a.completeness ? { completeness: a.completeness[0] } : {}),
      ms: a.timeMs,
    }),
  );
  const metrics: Report['metrics'] = {};
  // A method's faithfulness unit is three metrics in turn, a third each. Only the curves used to
  // report, and ROAD (a linear solve per imputed input) with infidelity took over 90% of the unit
  // on SqueezeNet: the count sat at the unit's end, the time left frozen, for 6-20 s a method.
  const metricStep = (method: string, k: number): JobOptions['onProgress'] => (p) =>
    job.onProgress?.({ done: done + (k + p.done / Math.max(1, p.total)) / FAITHFULNESS_METRICS.length, total, phase: `faithfulness: ${method} · ${FAITHFULNESS_METRICS[k]}`, within: withinOf(p) });
  if (req.metrics) {
    const targets = Int32Array.from(result.targets);
    for (const a of result.attributions) {
      // Curves on the probability (as in RISE): logits are unbounded, so AUCs would not compare.
      const common = { ...(job.signal ? { signal: job.signal } : {}), ...(job.batchSize ? { batchSize: job.batchSize } : {}) };
      const [curves] = await deletionInsertion(model, tensor, targets, [a.map], { ...common, score: defaultCurveScore(model), onProgress: metricStep(a.method, 0) });
      const [r] = await road(model, tensor, targets, [a.map], { ...common, score: defaultCurveScore(model), onProgress: metricStep(a.method, 1) });
      const [inf] = await infidelity(model, tensor, targets, [a.map], { ...common, onProgress: metricStep(a.method, 2) });
      metrics[a.method] = {
        deletion: { x: curves!.fractions, y: curves!.deletion[0]!, auc: curves!.deletionAuc[0]! },
        insertion: { x: curves!.fractions, y: curves!.insertion[0]!, auc: curves!.insertionAuc[0]! },
        road: { fractions: r!.fractions, morf: r!.morf[0]!, lerf: r!.lerf[0]!, combined: r!.combined[0]! },
        infidelity: inf![0]!,
      };
      done++;
    }
  }
  let sanity: SanityReport | undefined;
  const applied = result.attributions.map((a) => a.method);
  if (req.sanity && applied.length) {
    const base = done;
    const seed = req.sanity.seed ?? 0;
    const { methods: _m, ...rest } = options;
    const r = await randomizationCheck(model, tensor, {
      ...rest,
      methods: applied,
      target: Array.from(result.targets),
      layers: randomized,
      seed,
      original: result,
      // step k reports k + 1 as it starts (0 was the trained model's explanation, reused here)
      onProgress: (p) => job.onProgress?.({ done: base + Math.max(0, p.done - 1) * methods.length, total, phase: `sanity check: ${p.phase?.replace(/^sanity: /, '') ?? ''}`, within: { done: Math.max(0, p.done - 1), total: randomized.length, phase: 'layers randomized' } }),
    });
    sanity = {
      seed,
      available: randomizableLayers(model).length,
      layers: r.layers,
      steps: r.steps.map((st) => ({
        layer: st.layer,
        maps: Object.fromEntries(Object.entries(st.maps).map(([m, t]) => [m, { dtype: 'float32', dims: t.dims.slice(1), data: t.data } as Tensor])),
        scores: Object.fromEntries(Object.entries(st.scores).map(([m, sc]) => [m, stepScores(sc)])),
      })),
    };
    done = base + randomized.length * methods.length;
  }
  let sensitivity: Report['sensitivity'];
  if (req.sensitivity && applied.length) {
    const base = done;
    const seed = req.sensitivity.seed ?? 0;
    const { methods: _m, target: _t, ...rest } = options;
    const per = await maxSensitivity(model, tensor, Int32Array.from(result.targets), applied, rest, {
      samples: copies,
      seed,
      original: result,
      ...(job.signal ? { signal: job.signal } : {}),
      onProgress: (p) => job.onProgress?.({ ...p, done: base + (p.done / Math.max(1, p.total)) * copies * methods.length, total }),
    });
    sensitivity = { samples: copies, radius: 0.02, seed, methods: Object.fromEntries(Object.entries(per).map(([m, v]) => [m, v[0]!])) };
    done = base + copies * methods.length;
  }
  // a softmax over a layer's channels means nothing: a unit's prediction is its value alone
  const predicted = result.unit ? { index: image.predicted.index, label: image.predicted.label, logit: image.predicted.logit } : image.predicted;
  return { ...(result.unit ? { unit: result.unit } : {}), target: { index: image.target.index, label: image.target.label, score: image.target.score }, predicted, score: result.score, maps, skipped: result.skipped.map((k) => (k.hint ? { ...k, hint: hintForStudio(k.hint) } : k)), metrics, predictionPass: { kind: result.predictionPass.kind, ms: result.predictionPass.timeMs }, ...(sanity ? { sanity } : {}), ...(sensitivity ? { sensitivity } : {}) };
}
