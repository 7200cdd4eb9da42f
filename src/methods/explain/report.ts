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
}

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
  const total = methods.length + (req.metrics ? methods.length : 0);
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
  // a softmax over a layer's channels means nothing: a unit's prediction is its value alone
  const predicted = result.unit ? { index: image.predicted.index, label: image.predicted.label, logit: image.predicted.logit } : image.predicted;
  return { ...(result.unit ? { unit: result.unit } : {}), target: { index: image.target.index, label: image.target.label, score: image.target.score }, predicted, score: result.score, maps, skipped: result.skipped.map((k) => (k.hint ? { ...k, hint: hintForStudio(k.hint) } : k)), metrics, predictionPass: { kind: result.predictionPass.kind, ms: result.predictionPass.timeMs } };
}
