import type { Model } from '../../models/model.js';
import { summarizeConfusion, type ClassificationMetrics } from '../../training/classification.js';
import type { JobOptions } from '../../engine/jobs.js';
import type { ClassConditionalDenoiser } from './model.js';
import { sample, type SamplerKind } from './sampler.js';

/**
 * The class-conditional quality check: generate `perClass` images for every class prompt and
 * let a classifier (the built-in Fashion-MNIST CNN) say what they show. Accuracy = how often a
 * sample is classified as the class it was asked for; per class and as the mean over classes,
 * for each guidance scale.
 */
export interface ConditionalAccuracyOptions extends JobOptions {
  perClass: number;
  guidanceScales: readonly number[];
  steps?: number;
  sampler?: SamplerKind;
  eta?: number;
  seed?: number;
  /** images sampled together (x 2 rows with guidance) */
  batch?: number;
}

export interface ConditionalAccuracy {
  guidanceScale: number;
  /** mean over classes of the per-class accuracy (= overall accuracy, classes are balanced) */
  accuracy: number;
  metrics: ClassificationMetrics;
  seconds: number;
}

export async function conditionalAccuracy(denoiser: ClassConditionalDenoiser, classifier: Model, o: ConditionalAccuracyOptions): Promise<ConditionalAccuracy[]> {
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
  const out: ConditionalAccuracy[] = [];
  for (const scale of o.guidanceScales) {
    const t0 = performance.now();
    const confusion = new Int32Array(K * K);
    // Every (class, index) pair gets its own seed, so results do not depend on the batching.
    const jobs: { cls: number; i: number }[] = [];
    for (let c = 0; c < K; c++) for (let i = 0; i < o.perClass; i++) jobs.push({ cls: c, i });
    for (let start = 0; start < jobs.length; start += batch) {
      const part = jobs.slice(start, start + batch);
      // One prompt per image: conditions = the classes, 1 image each, seeds offset by position.
      const r = await sample(denoiser, {
        conditions: part.map((j) => j.cls),
        unconditional: denoiser.unconditional,
        guidanceScale: scale,
        steps: o.steps ?? 50,
        sampler: o.sampler ?? 'ddim',
        eta: o.eta ?? 0,
        seed: (o.seed ?? 0) * 1_000_003 + start,
        ...(o.signal ? { signal: o.signal } : {}),
        onProgress: (p) => o.onProgress?.({ done: done + (p.done / p.total) * part.length, total, phase: `guidance ${scale}: sampling` }),
      });
      // The classifier's input space: [lo, hi] -> its range, then (v - mean) / std.
      const x = new Float32Array(part.length * per);
      for (let j = 0; j < x.length; j++) x[j] = (plo + ((phi - plo) * (r.images[j]! - lo)) / (hi - lo) - mean) / std;
      const logits = (await classifier.run({ dtype: 'float32', dims: [part.length, ...denoiser.shape], data: x }))[classifier.output]!.data as Float32Array;
      const k = logits.length / part.length;
      part.forEach((j, n) => {
        let best = 0;
        for (let c = 1; c < k; c++) if (logits[n * k + c]! > logits[n * k + best]!) best = c;
        confusion[j.cls * K + best]!++;
      });
      done += part.length;
      o.onProgress?.({ done, total, phase: `guidance ${scale}` });
    }
    const metrics = summarizeConfusion(confusion, labels);
    const accuracy = metrics.perClass.reduce((a, p) => a + p.accuracy, 0) / K;
    out.push({ guidanceScale: scale, accuracy, metrics, seconds: (performance.now() - t0) / 1000 });
  }
  return out;
}
