import type { GraphBuilder } from '../engine/graph/builder.js';

/**
 * Loss subgraphs appended to a model's forward graph. Each returns the name of a scalar value
 * (mean over the batch) that the autodiff can seed.
 */

/** Mean softmax cross-entropy of logits [N, K] against one-hot (or soft) targets [N, K]. */
export function softmaxCrossEntropy(b: GraphBuilder, logits: string, targets: string): string {
  const logp = b.op('LogSoftmax', [logits], { axis: -1 });
  const perSample = b.op('ReduceSum', [b.op('Mul', [logp, targets]), b.ints([-1])], { keepdims: 0 });
  return b.op('Neg', [b.op('ReduceMean', [perSample], { keepdims: 0 })], {}, { name: b.uniqueName('cross_entropy'), outputs: [b.uniqueName('loss')] });
}

/** Mean squared error over all elements. */
export function meanSquaredError(b: GraphBuilder, prediction: string, target: string): string {
  const d = b.op('Sub', [prediction, target]);
  return b.op('ReduceMean', [b.op('Mul', [d, d])], { keepdims: 0 }, { name: b.uniqueName('mse'), outputs: [b.uniqueName('loss')] });
}
