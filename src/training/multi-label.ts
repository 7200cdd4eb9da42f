// Scores of a multi-label model (independent yes/no outputs, each one's probability the sigmoid
// of its own logit, models/output-kind.ts) against a labelled dataset. An argmax "accuracy" and a
// softmax cross-entropy mean nothing there: every output answers its own question. Each image's
// answers are its label as a one-hot row (the dataset's class is "yes", every other "no"), so each
// output is judged as the binary classifier it is: right when its probability is on the true
// side of 0.5, and ranked over all images by its average precision.
import { fillBatch, pixelTable, sampleSize, type ImageDataset } from '../data/dataset.js';
import { ConvLensError } from '../engine/errors.js';
import { throwIfCancelled, type JobOptions } from '../engine/jobs.js';
import type { Tensor } from '../engine/tensor.js';
import type { Preprocessing } from '../models/metadata.js';

export interface AttributeMetrics {
  label: string;
  /** share of images whose answer (probability >= 0.5) matches the label */
  accuracy: number;
  /** average precision of the output's scores over all scored images; NaN when no image is a positive */
  averagePrecision: number;
  /** images for which this output should say yes */
  positives: number;
  /** images whose answer was right */
  correct: number;
  total: number;
}

export interface MultiLabelMetrics {
  /** mean over outputs of their accuracy at 0.5 (the share of right yes/no answers) */
  meanAccuracy: number;
  /** share of images whose every answer was right */
  exactMatch: number;
  /** mean average precision over the outputs with at least one positive */
  meanAveragePrecision: number;
  /** mean binary cross-entropy of each output's logit against its answer */
  loss: number;
  total: number;
  perAttribute: AttributeMetrics[];
  /** images whose outputs were NaN or infinite: every answer counts as wrong; left out of the loss and the precisions */
  unscored: number;
}

/**
 * Average precision of `scores` for the binary `positives`, as scikit-learn's
 * average_precision_score: sum over thresholds of (recall step) x precision, images with equal
 * scores crossing a threshold together. NaN when there is no positive.
 */
export function averagePrecision(scores: ArrayLike<number>, positives: ArrayLike<boolean | number>): number {
  const n = scores.length;
  let total = 0;
  for (let i = 0; i < n; i++) if (positives[i]) total++;
  if (total === 0) return NaN;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[b]! - scores[a]!);
  let ap = 0;
  let truePositives = 0;
  let lastRecallPositives = 0;
  for (let r = 0; r < n; r++) {
    if (positives[order[r]!]) truePositives++;
    // a threshold ends where the next score differs (or the list does)
    if (r + 1 < n && scores[order[r + 1]!] === scores[order[r]!]) continue;
    if (truePositives > lastRecallPositives) {
      ap += ((truePositives - lastRecallPositives) / total) * (truePositives / (r + 1));
      lastRecallPositives = truePositives;
    }
  }
  return ap;
}

/** log(1 + e^x), stable for large |x| */
function softplus(x: number): number {
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}

/**
 * Runs a multi-label model over a dataset in batches; `logitsOf` gives each image's K logits
 * (before their sigmoid), and the dataset's class y of an image makes output y's answer yes and
 * every other no.
 */
export async function evaluateMultiLabel(
  logitsOf: (x: Tensor) => Promise<Tensor>,
  ds: ImageDataset,
  prep: Preprocessing,
  labels: readonly string[],
  options: JobOptions & { batchSize?: number } = {},
): Promise<MultiLabelMetrics> {
  const K = labels.length;
  const batch = options.batchSize ?? 256;
  const per = sampleSize(ds);
  const tables = Array.from({ length: ds.channels }, (_, c) => pixelTable(prep, c));
  const buf = new Float32Array(batch * per);
  const idx = new Int32Array(batch);
  // every scored image's logits, output-major, for the average precisions
  const logits = Array.from({ length: K }, () => new Float32Array(ds.count));
  const truth = new Uint8Array(ds.count);
  let scored = 0;
  const correct = new Float64Array(K);
  let exact = 0;
  let lossSum = 0;
  for (let start = 0; start < ds.count; start += batch) {
    throwIfCancelled(options.signal, 'the evaluation');
    const n = Math.min(batch, ds.count - start);
    for (let i = 0; i < n; i++) idx[i] = start + i;
    fillBatch(ds, idx.subarray(0, n), tables, buf);
    const out = await logitsOf({ dtype: 'float32', dims: [n, ds.channels, ds.height, ds.width], data: buf.subarray(0, n * per) });
    const outputs = out.data.length / n;
    if (outputs !== K) throw new ConvLensError('MODEL_UNSUPPORTED', `The model has ${outputs} outputs; the dataset has ${K} classes, one for each output to answer.`, 'Evaluate a multi-label model with one output per class of this dataset.');
    const data = out.data as Float32Array;
    for (let i = 0; i < n; i++) {
      const row = data.subarray(i * K, (i + 1) * K);
      if (row.some((v) => v - v !== 0)) continue; // NaN or infinite: every answer wrong, in no precision nor loss
      const y = ds.labels[start + i]!;
      let allRight = true;
      for (let k = 0; k < K; k++) {
        const z = row[k]!;
        const yes = k === y;
        // sigmoid(z) >= 0.5 exactly when z >= 0
        const right = z >= 0 === yes;
        if (right) correct[k]!++;
        else allRight = false;
        // binary cross-entropy with logits: -log sigmoid(z) for a yes, -log(1 - sigmoid(z)) for a no
        lossSum += softplus(yes ? -z : z);
        logits[k]![scored] = z;
      }
      truth[scored] = y;
      scored++;
      if (allRight) exact++;
    }
    options.onProgress?.({ done: start + n, total: ds.count, phase: 'evaluating' });
  }
  const total = ds.count;
  const yesOf = (k: number): Uint8Array => truth.subarray(0, scored).map((y) => (y === k ? 1 : 0));
  const perAttribute = labels.map((label, k): AttributeMetrics => {
    const positives = yesOf(k);
    let count = 0;
    for (let y = 0; y < total; y++) if (ds.labels[y] === k) count++;
    return { label, accuracy: total ? correct[k]! / total : NaN, averagePrecision: averagePrecision(logits[k]!.subarray(0, scored), positives), positives: count, correct: correct[k]!, total };
  });
  const ranked = perAttribute.filter((a) => !Number.isNaN(a.averagePrecision));
  return {
    meanAccuracy: K && total ? perAttribute.reduce((s, a) => s + a.accuracy, 0) / K : NaN,
    exactMatch: total ? exact / total : NaN,
    meanAveragePrecision: ranked.length ? ranked.reduce((s, a) => s + a.averagePrecision, 0) / ranked.length : NaN,
    loss: scored ? lossSum / (scored * K) : NaN,
    total,
    perAttribute,
    unscored: total - scored,
  };
}
