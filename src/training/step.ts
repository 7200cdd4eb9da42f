import { buildGradientGraph, type GradientGraph } from '../engine/autodiff/gradient.js';
import { GraphBuilder } from '../engine/graph/builder.js';
import type { Graph } from '../engine/graph/ir.js';
import { isFloatDType } from '../engine/tensor.js';
import { meanSquaredError, softmaxCrossEntropy } from './losses.js';

export type LossKind = 'cross-entropy' | 'mse';

export interface TrainingGraph extends GradientGraph {
  /** graph input holding the targets (one-hot [N, K] for cross-entropy) */
  targets: string;
  /** scalar loss output */
  loss: string;
  /** the model's prediction output */
  prediction: string;
  /** trainable parameter names (fed as inputs each step), in a stable order */
  parameters: string[];
}

/**
 * The graph of one training step: forward, loss, and the loss gradient with respect to every
 * trainable parameter, with parameters as graph inputs so the optimizer can update them outside
 * ONNX Runtime (which cannot update initializers in place).
 */
export function buildTrainingGraph(model: Graph, options: { loss?: LossKind; output?: string; frozen?: (name: string) => boolean } = {}): TrainingGraph {
  const g = model.clone();
  const b = GraphBuilder.over(g);
  const prediction = options.output ?? g.outputs[0]!.name;
  const predShape = b.shapeOf(prediction);
  const targets = b.input(b.uniqueName('targets'), 'float32', [...predShape]);
  const loss = options.loss === 'mse' ? meanSquaredError(b, prediction, targets) : softmaxCrossEntropy(b, prediction, targets);
  b.output(loss);
  b.build();
  const frozen = options.frozen ?? ((name: string) => /running_(mean|var)/.test(name));
  const parameters = [...g.initializers.entries()].filter(([name, t]) => isFloatDType(t.dtype) && !frozen(name) && !isBatchNormStat(g, name)).map(([name]) => name);
  const gg = buildGradientGraph(g, { seed: { scalar: loss }, wrt: parameters, outputs: [loss, prediction], parametersAsInputs: parameters });
  return { ...gg, targets, loss, prediction, parameters };
}

function isBatchNormStat(g: Graph, name: string): boolean {
  return g.nodes.some((n) => n.op === 'BatchNormalization' && (n.inputs[3] === name || n.inputs[4] === name));
}
