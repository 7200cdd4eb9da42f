import { buildGradientGraph, type GradientGraph } from '../engine/autodiff/gradient.js';
import { ConvLensError } from '../engine/errors.js';
import { GraphBuilder } from '../engine/graph/builder.js';
import { attrInt, type Graph } from '../engine/graph/ir.js';
import { pruneGraph } from '../engine/graph/prune.js';
import { isFloatDType } from '../engine/tensor.js';
import { meanSquaredError, softmaxCrossEntropy } from './losses.js';

export type LossKind = 'cross-entropy' | 'mse';

/**
 * A custom loss: appends a scalar loss to the graph (creating whatever extra inputs it needs,
 * e.g. targets or noise) and returns its name. `prediction` is the model output being trained.
 */
export type LossBuilder = (b: GraphBuilder, prediction: string) => string;

export interface TrainingGraphOptions {
  /** built-in loss against a `targets` input shaped like the prediction (default cross-entropy), or a custom loss subgraph */
  loss?: LossKind | LossBuilder;
  /** the model output to train (default: the first output) */
  output?: string;
  /** float initializers to keep constant (default: none besides normalization statistics) */
  frozen?: (name: string) => boolean;
  /**
   * 'train' (default): inference-mode BatchNormalization nodes run in training mode (batch
   * statistics), and their running statistics become buffers: graph inputs whose updated values
   * the graph outputs (see `buffers`). 'inference': they stay inference-mode with constant statistics.
   */
  batchNorm?: 'train' | 'inference';
  /** extra forward values to output each step (for metrics) */
  outputs?: readonly string[];
}

export interface TrainingGraph extends GradientGraph {
  /** graph input holding the targets (one-hot [N, K] for cross-entropy); '' for a custom loss */
  targets: string;
  /** scalar loss output */
  loss: string;
  /** the model's prediction output */
  prediction: string;
  /** trainable parameter names (fed as inputs each step), in a stable order */
  parameters: string[];
  /**
   * buffers updated by the forward pass: input name (e.g. "bn1.running_mean") -> output holding its
   * next value. Buffers are graph inputs that must be fed every step (the Trainer does), like the
   * parameters. (Keeping them as initializers that are also inputs, ONNX's overridable initializers,
   * does not work: onnxruntime-node 1.30 silently ignored the fed values.)
   */
  buffers: Record<string, string>;
  /** graph inputs that are data (model input, targets, custom-loss inputs): everything but parameters and buffers */
  dataInputs: string[];
}

/**
 * The graph of one training step: forward, loss, and the loss gradient with respect to every
 * trainable parameter, with parameters (and buffers) as graph inputs so the optimizer can update
 * them outside ONNX Runtime (which cannot update initializers in place). Batch size stays
 * symbolic, so one compiled session serves every batch, the last partial one included.
 */
export function buildTrainingGraph(model: Graph, options: TrainingGraphOptions = {}): TrainingGraph {
  const g = model.clone();
  const buffers = options.batchNorm === 'inference' ? {} : batchNormToTraining(g);
  const b = GraphBuilder.over(g);
  const prediction = options.output ?? g.outputs[0]!.name;
  let targets = '';
  let loss: string;
  if (typeof options.loss === 'function') {
    loss = options.loss(b, prediction);
  } else {
    const predShape = b.shapeOf(prediction);
    targets = b.input(b.uniqueName('targets'), 'float32', [...predShape]);
    loss = options.loss === 'mse' ? meanSquaredError(b, prediction, targets) : softmaxCrossEntropy(b, prediction, targets);
  }
  b.output(loss);
  b.build();
  const bufferNames = new Set(Object.keys(buffers));
  const frozen = options.frozen ?? ((name: string) => /running_(mean|var)/.test(name));
  const parameters = [...g.initializers.entries()]
    .filter(([name, t]) => isFloatDType(t.dtype) && !bufferNames.has(name) && !frozen(name) && !isBatchNormStat(g, name))
    .map(([name]) => name);
  const outputs = [...new Set([loss, prediction, ...(options.outputs ?? []), ...Object.values(buffers)])];
  const gg = buildGradientGraph(g, { seed: { scalar: loss }, wrt: parameters, outputs, parametersAsInputs: [...parameters, ...bufferNames] });
  const fed = new Set([...parameters, ...bufferNames]);
  const dataInputs = gg.graph.inputs.map((i) => i.name).filter((n) => !fed.has(n) && !gg.graph.initializers.has(n));
  return { ...gg, targets, loss, prediction, parameters, buffers, dataInputs };
}

/**
 * Rewrites every inference-mode BatchNormalization whose statistics are initializers into
 * training mode, in place: outputs Y (same name), `<running_mean>:next`, `<running_var>:next`
 * (ONNX Runtime needs all three named). Returns statistic input -> next-value output.
 */
export function batchNormToTraining(g: Graph): Record<string, string> {
  const buffers: Record<string, string> = {};
  for (const node of g.nodes) {
    if (node.op !== 'BatchNormalization' || node.domain) continue;
    const mean = node.inputs[3]!;
    const variance = node.inputs[4]!;
    if (attrInt(node, 'training_mode', 0) === 1) {
      // Already training mode (an imported training graph): feed its statistics back the same way.
      if (g.initializers.has(mean) && node.outputs[1]) buffers[mean] = node.outputs[1];
      if (g.initializers.has(variance) && node.outputs[2]) buffers[variance] = node.outputs[2];
      continue;
    }
    if (!g.initializers.has(mean) || !g.initializers.has(variance)) continue;
    for (const s of [mean, variance]) {
      if (buffers[s]) {
        throw new ConvLensError('MODEL_UNSUPPORTED', `BatchNormalization node "${node.name}" shares its statistic "${s}" with another BatchNormalization node.`, 'Give every BatchNormalization node its own running statistics.');
      }
    }
    buffers[mean] = `${mean}:next`;
    buffers[variance] = `${variance}:next`;
    node.attrs = { ...node.attrs, training_mode: { type: 'int', value: 1 } };
    node.outputs = [node.outputs[0]!, buffers[mean], buffers[variance]];
  }
  return buffers;
}

/**
 * The forward graph with the given initializers (parameters, buffers) turned into inputs, so one
 * compiled session evaluates the model as training changes its weights (validation).
 */
export function buildForwardGraph(model: Graph, fed: readonly string[], outputs?: readonly string[]): Graph {
  const g = model.clone();
  for (const p of fed) {
    const t = g.initializers.get(p);
    if (!t) throw new Error(`buildForwardGraph: no initializer "${p}"`);
    g.initializers.delete(p);
    g.inputs.push({ name: p, dtype: t.dtype, shape: [...t.dims] });
  }
  if (outputs) {
    const b = GraphBuilder.over(g, { strict: false });
    g.outputs = [];
    for (const o of outputs) b.output(o);
    b.build();
  }
  return pruneGraph(g);
}

function isBatchNormStat(g: Graph, name: string): boolean {
  return g.nodes.some((n) => n.op === 'BatchNormalization' && (n.inputs[3] === name || n.inputs[4] === name));
}
