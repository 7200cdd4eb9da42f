// A multi-label model's evaluation (training/multi-label.ts) on answers worked out by hand: each
// output a yes/no classifier against the one-hot label, right when its logit is >= 0 (probability
// >= 0.5), ranked by average precision as scikit-learn's average_precision_score ranks it.
import { describe, expect, it } from 'vitest';
import type { ImageDataset } from '../../src/data/dataset.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { FASHION_MNIST_PREPROCESSING } from '../../src/data/fashion-mnist.js';
import { averagePrecision, evaluateMultiLabel } from '../../src/training/multi-label.js';

function dataset(labels: number[]): ImageDataset {
  return { images: new Uint8Array(labels.length * 4), labels: Uint8Array.from(labels), count: labels.length, channels: 1, height: 2, width: 2, source: 'hand-made' };
}

/** A stand-in model answering each image, in order, with its row of `rows`. */
function fixedLogits(rows: number[][]): (x: Tensor) => Promise<Tensor> {
  let seen = 0;
  return async (x) => {
    const n = x.dims[0]!;
    const out = Float32Array.from(rows.slice(seen, seen + n).flat());
    seen += n;
    return { dtype: 'float32', dims: [n, rows[0]!.length], data: out };
  };
}

describe('average precision', () => {
  it('sums each recall step times the precision there', () => {
    // ranked: yes (P 1/1), no, yes (P 2/3), no -> 1/2 * 1 + 1/2 * 2/3
    expect(averagePrecision([0.9, 0.8, 0.7, 0.6], [1, 0, 1, 0])).toBeCloseTo(0.5 + 1 / 3, 12);
    // a perfect ranking, whatever the scores' scale
    expect(averagePrecision([-5, 3, -7], [0, 1, 0])).toBe(1);
  });

  it('lets tied scores cross their threshold together', () => {
    // 0.5 takes a no and a yes at once (P 1/2, recall 1/2), then 0.1 the other yes (P 2/3)
    expect(averagePrecision([0.5, 0.5, 0.1], [0, 1, 1])).toBeCloseTo(0.25 + 1 / 3, 12);
  });

  it('is undefined with no positive', () => {
    expect(averagePrecision([0.2, 0.1], [0, 0])).toBeNaN();
  });
});

describe('evaluateMultiLabel', () => {
  const labels = ['a', 'b', 'c'];
  // classes 0, 1, 2, 0; a logit >= 0 answers yes
  const rows = [
    [2, -1, -3], // yes no no: all right
    [1, 0.5, -2], // yes yes no against b: output a wrong
    [-1, -2, -0.5], // no no no against c: output c wrong
    [-0.5, 1, -1], // no yes no against a: outputs a and b wrong
  ];
  const classes = [0, 1, 2, 0];

  it('scores each output as its own yes/no classifier, with no argmax across them', async () => {
    const m = await evaluateMultiLabel(fixedLogits(rows), dataset(classes), FASHION_MNIST_PREPROCESSING, labels, { batchSize: 3 });
    expect(m.perAttribute.map((a) => a.accuracy)).toEqual([2 / 4, 3 / 4, 3 / 4]);
    expect(m.perAttribute.map((a) => a.positives)).toEqual([2, 1, 1]);
    expect(m.meanAccuracy).toBeCloseTo(2 / 3, 12);
    expect(m.exactMatch).toBe(1 / 4);
    // a: ranked 2 (yes), 1, -0.5 (yes), -1 -> 1/2 + 1/2 * 2/3; b: 1, then 0.5 (yes) -> 1/2; c: -0.5 (yes) first -> 1
    expect(m.perAttribute.map((a) => a.averagePrecision)).toEqual([expect.closeTo(0.5 + 1 / 3, 12), 0.5, 1]);
    expect(m.meanAveragePrecision).toBeCloseTo((0.5 + 1 / 3 + 0.5 + 1) / 3, 12);
    // binary cross-entropy: -log sigmoid(z) for a yes, -log(1 - sigmoid(z)) for a no, over all 12 answers
    const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));
    const bce = rows.flatMap((r, i) => r.map((z, k) => -Math.log(k === classes[i] ? sigmoid(z) : 1 - sigmoid(z))));
    expect(m.loss).toBeCloseTo(bce.reduce((s, v) => s + v, 0) / 12, 6);
    expect(m.unscored).toBe(0);
  });

  it('counts an image with a NaN output wrong on every answer, outside the loss and the precisions', async () => {
    const poisoned = [...rows, [NaN, 0, 0]];
    const m = await evaluateMultiLabel(fixedLogits(poisoned), dataset([...classes, 1]), FASHION_MNIST_PREPROCESSING, labels);
    expect(m.unscored).toBe(1);
    expect(m.perAttribute.map((a) => a.accuracy)).toEqual([2 / 5, 3 / 5, 3 / 5]);
    expect(m.perAttribute[1]!.positives).toBe(2);
    // the precisions rank the four scored images as before
    expect(m.perAttribute.map((a) => a.averagePrecision)).toEqual([expect.closeTo(0.5 + 1 / 3, 12), 0.5, 1]);
    expect(Number.isFinite(m.loss)).toBe(true);
  });

  it('refuses a model whose outputs are not one per class', async () => {
    await expect(evaluateMultiLabel(fixedLogits([[1, 2]]), dataset([0]), FASHION_MNIST_PREPROCESSING, labels)).rejects.toThrow(/2 outputs; the dataset has 3 classes/);
  });
});
