import type { Tensor } from '../engine/tensor.js';
import { outputNoun } from '../models/metadata.js';
import type { Model } from '../models/model.js';
import { outputProbabilities, softmaxRow } from '../models/output-kind.js';
import { batchedForward, defaultBatchSize } from './explain/session.js';

export interface Prediction {
  /**
   * top-k classes, best first; a multi-label head's outputs by their own probability (which need
   * not sum to 1), a regression's first k outputs in order, with their values (`logit`) and no probability
   */
  top: { index: number; label: string; probability?: number; logit: number }[];
}

/** Softmax of one row of logits, computed stably. */
export const softmax = softmaxRow;

/** A prediction's score as shown: its probability in percent, or a regression's value. */
export function shownScore(t: { probability?: number; logit: number }, digits = 2): string {
  return t.probability === undefined ? t.logit.toPrecision(4) : `${(t.probability * 100).toFixed(digits)}%`;
}

/** Top-k classes per sample from a [N, K] logits tensor. */
export function topK(model: Model, logits: Tensor, k: number): Prediction[] {
  const n = logits.dims[0]!;
  const classes = logits.data.length / n;
  const data = logits.data as Float32Array;
  const preds: Prediction[] = [];
  for (let s = 0; s < n; s++) {
    const row = data.subarray(s * classes, (s + 1) * classes);
    const p = outputProbabilities(model.outputKind, row);
    const indices = Array.from({ length: classes }, (_, i) => i);
    // a regression's outputs are values (an age, a coordinate), not candidates to rank
    const order = model.outputKind === 'regression' ? indices : indices.sort((a, b) => row[b]! - row[a]!);
    preds.push({
      top: order.slice(0, Math.min(k, classes)).map((i) => ({ index: i, label: model.labels[i] ?? `${outputNoun(model.outputKind)} ${i}`, ...(p ? { probability: p[i]! } : {}), logit: row[i]! })),
    });
  }
  return preds;
}

/**
 * Runs the model on a batch (in runs of the default forward batch size) and returns logits,
 * top-k predictions and the samples whose logits are not all finite.
 */
export async function predict(model: Model, batch: Tensor, k = 5): Promise<{ logits: Tensor; predictions: Prediction[]; nonFinite: number[] }> {
  const out = await batchedForward(model, batch, [], defaultBatchSize(model, 'forward'));
  const logits = out[model.output]!;
  return { logits, predictions: topK(model, logits, k), nonFinite: nonFiniteRows(logits) };
}

/** Indices of the samples of a [N, ...] tensor with a NaN or infinite value. */
export function nonFiniteRows(t: Tensor): number[] {
  const n = t.dims[0] ?? 1;
  const per = t.data.length / n;
  const rows: number[] = [];
  for (let s = 0; s < n; s++) {
    for (let i = s * per; i < (s + 1) * per; i++) {
      if (!Number.isFinite(t.data[i] as number)) {
        rows.push(s);
        break;
      }
    }
  }
  return rows;
}
