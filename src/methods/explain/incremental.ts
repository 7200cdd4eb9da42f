// Runs incremental-inference plans (engine/graph/incremental.ts) for attribution methods that
// score many copies of one image differing only inside a window: one pass over the unchanged
// image fills the activation tables, then every batch of windows is one ONNX Runtime run.
import { gatherIndices, planIncremental, type IncrementalOptions, type IncrementalPlan } from '../../engine/graph/incremental.js';
import type { Tensor } from '../../engine/tensor.js';
import type { Model } from '../../models/model.js';
import { forChunks, type Work } from './session.js';
import { scoringGraph, type ScoringGraph } from './scoring.js';
import { targetScores, type ScoreKind } from './target.js';

export interface ScoredPlan {
  plan: IncrementalPlan;
  scoring: ScoringGraph;
  key: string;
}

const plans = new WeakMap<Model, Map<string, ScoredPlan>>();

export type PlanRequest = Omit<IncrementalOptions, 'input' | 'output' | 'passInputs'>;

/** The plan for `request` and score kind, built once per model and key (the key must identify the request). */
export function incrementalPlan(model: Model, key: string, score: ScoreKind, request: PlanRequest): ScoredPlan {
  let cache = plans.get(model);
  if (!cache) plans.set(model, (cache = new Map()));
  const fullKey = `${key}|${score}`;
  let hit = cache.get(fullKey);
  if (!hit) {
    const scoring = scoringGraph(model, score);
    const plan = planIncremental(scoring.graph, { ...request, input: model.input.name, output: scoring.output, passInputs: scoring.target ? [scoring.target] : [] });
    hit = { plan, scoring, key: fullKey };
    cache.set(fullKey, hit);
  }
  return hit;
}

/**
 * Local changes (Score-CAM's small masks, feature ablation's segments) are planned for windows
 * whose sides are rounded up to steps of this fraction of the image side: one plan, and one
 * compiled session, then serves every change of about that size in any image.
 */
export const LOCAL_SIZE_STEP = 1 / 8;

/** A side of `extent` pixels rounded up to the step of local plans on an axis of `side` pixels. */
export function localWindowSide(extent: number, side: number): number {
  const step = Math.max(1, Math.ceil(side * LOCAL_SIZE_STEP));
  return Math.min(side, Math.ceil(extent / step) * step);
}

/**
 * The plan for windows of sh x sw pixels at every position of an h x w image. Score-CAM and
 * feature ablation ask for it under the same key, so they share its compiled session.
 */
export function everyPositionPlan(model: Model, score: ScoreKind, [h, w]: readonly [number, number], [sh, sw]: readonly [number, number]): ScoredPlan {
  const offsets = (size: number, win: number): number[] => Array.from({ length: size - win + 1 }, (_, i) => i);
  return incrementalPlan(model, `local|${h}x${w}|${sh}x${sw}`, score, { window: [sh, sw], offsets: [offsets(h, sh), offsets(w, sw)] });
}

/** How much cheaper the plan is than running every window through the whole network (by multiply-accumulates). */
export function planSpeedup(plan: IncrementalPlan): number {
  return plan.macs.incremental > 0 ? plan.macs.bruteForce / plan.macs.incremental : Infinity;
}

export interface IncrementalRun {
  /** the target's score on the unchanged image */
  clean: number;
  /** the target's score with each window's patch in place, in the order of `windows` */
  scores: Float64Array;
}

/** A window as indices into the plan's row and column offsets. */
export type WindowIndex = readonly [number, number];

/**
 * Scores `windows` of one image: `base` [1, C, H, W] is the image outside every window, `fill`
 * writes the content of the i-th window [C, wh, ww] (what replaces the image there).
 */
export async function incrementalScores(model: Model, scored: ScoredPlan, base: Tensor, windows: readonly WindowIndex[], fill: (i: number, into: Float32Array) => void, target: number, batchSize: number, work?: Work): Promise<IncrementalRun> {
  const { plan, scoring } = scored;
  const cache = await model.engine.compile(`${model.id}|incremental-cache|${scored.key}`, () => plan.cacheGraph);
  const compiled = await model.engine.compile(`${model.id}|incremental|${scored.key}`, () => plan.graph);
  const shared: Record<string, Tensor> = scoring.target ? { [scoring.target]: { dtype: 'int64', dims: [1], data: BigInt64Array.of(BigInt(target)) } } : {};
  work?.check();
  const cached = await cache.run({ [model.input.name]: base, ...shared });
  const clean = scoring.scores(cached[plan.output]!, target)[0]!;
  for (const t of plan.tables) shared[t.input] = cached[t.input]!;
  const accepted = new Set(compiled.inputNames);
  const c = base.dims[1]!;
  const per = c * plan.window[0] * plan.window[1];
  const scores = new Float64Array(windows.length);
  const patchBatch = new Float32Array(Math.min(batchSize, windows.length) * per); // `fill` writes all of its window
  await forChunks(windows.length, batchSize, work, async (s, e) => {
    const batch = windows.slice(s, e);
    const patches = patchBatch.subarray(0, batch.length * per);
    for (let i = 0; i < batch.length; i++) fill(s + i, patches.subarray(i * per, (i + 1) * per));
    const feeds: Record<string, Tensor> = { ...shared, ...gatherIndices(plan, batch), [plan.patchInput]: { dtype: 'float32', dims: [batch.length, c, plan.window[0], plan.window[1]], data: patches } };
    for (const k of Object.keys(feeds)) if (!accepted.has(k)) delete feeds[k];
    const out = await compiled.run(feeds, [plan.output]);
    scores.set(scoring.scores(out[plan.output]!, target), s);
  });
  return { clean, scores };
}

export { targetScores };
