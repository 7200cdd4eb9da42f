// A classifier reduced to one class's logit. Methods that score thousands of inputs for one
// class (occlusion, Score-CAM) need one logit, not all of them; where the classes are made by
// a layer whose output channels are independent up to the output (Gemm, MatMul, or a Conv
// followed by per-channel ops and global pooling, as in SqueezeNet's 1000-channel conv10,
// a quarter of its work), only the target's row of that layer is computed.
import { ConvLensError } from '../errors.js';
import { GraphBuilder } from './builder.js';
import { attrInt, type Graph, type Node } from './ir.js';
import { pruneGraph } from './prune.js';

export interface TargetHead {
  graph: Graph;
  /** int64 [1]: the class whose logit the graph computes */
  target: string;
  /** [N, 1]: that logit */
  output: string;
}

const PER_CHANNEL = new Set(['Relu', 'LeakyRelu', 'Elu', 'Selu', 'Sigmoid', 'Tanh', 'Softplus', 'Identity', 'Dropout', 'GlobalAveragePool', 'GlobalMaxPool', 'BatchNormalization']);

/** The graph computing only the logit of a class chosen at run time, or undefined when its head does not allow it. */
export function targetHead(graph: Graph, output: string): TargetHead | undefined {
  const producers = graph.producers();
  const consumers = graph.consumers();
  const facts = GraphBuilder.over(graph.clone(), { strict: false });
  const classes = facts.factsOf(output).shape;
  if (!classes || classes.length !== 2 || typeof classes[1] !== 'number') return undefined;

  // Walk back from the output through ops that keep each class in its own channel.
  const chain: Node[] = [];
  let value = output;
  let classLayer: Node | undefined;
  for (;;) {
    const node = producers.get(value);
    if (!node || node.outputs.filter(Boolean).length !== 1) return undefined;
    if (value !== output && (consumers.get(value)?.length ?? 0) !== 1) return undefined;
    if (graph.outputs.some((o) => o.name === value) && value !== output) return undefined;
    if (node.op === 'Gemm' || node.op === 'MatMul' || node.op === 'Conv') {
      classLayer = node;
      break;
    }
    const shape = facts.factsOf(node.inputs[0]!).shape;
    if (node.op === 'Flatten') {
      if (attrInt(node, 'axis', 1) !== 1 || !shape || !shape.slice(2).every((d) => d === 1)) return undefined;
    } else if (node.op === 'Add' && shape?.length === 2) {
      const bias = facts.valueOf(node.inputs[1]!);
      if (!bias || bias.dims[bias.dims.length - 1] !== classes[1]) return undefined;
    } else if (!PER_CHANNEL.has(node.op) || !node.inputs.slice(1).every((i) => !i || facts.valueOf(i))) return undefined;
    chain.push(node);
    value = node.inputs[0]!;
  }
  if (classLayer.op === 'Conv' && attrInt(classLayer, 'group', 1) !== 1) return undefined;
  if (classLayer.op === 'Gemm' && attrInt(classLayer, 'transA', 0) !== 0) return undefined;
  if (!classLayer.inputs.slice(1).every((i) => !i || facts.valueOf(i))) return undefined;

  const g = graph.clone();
  const dropped = new Set([classLayer, ...chain].map((n) => graph.nodes.indexOf(n)));
  g.nodes = g.nodes.filter((_, k) => !dropped.has(k));
  g.outputs = [];
  const b = GraphBuilder.over(g, { strict: false });
  const target = b.input(b.uniqueName('convlens_target'), 'int64', [1]);
  const row = (name: string, axis: number): string => b.op('Gather', [name, target], { axis });
  const inputs = [...classLayer.inputs];
  if (classLayer.op === 'Conv') {
    inputs[1] = row(inputs[1]!, 0);
    if (inputs[2]) inputs[2] = row(inputs[2], 0);
  } else if (classLayer.op === 'MatMul') {
    inputs[1] = row(inputs[1]!, 1);
  } else {
    inputs[1] = row(inputs[1]!, attrInt(classLayer, 'transB', 0) ? 0 : 1);
    const bias = inputs[2] ? facts.valueOf(inputs[2]) : undefined;
    if (inputs[2] && bias && bias.dims[bias.dims.length - 1] === classes[1]) inputs[2] = row(inputs[2], bias.dims.length - 1);
  }
  let x = b.op(classLayer.op, inputs, { ...classLayer.attrs });
  for (const node of chain.reverse()) {
    const rest = node.inputs.slice(1).map((i) => {
      if (!i) return i;
      if (node.op === 'BatchNormalization') return row(i, 0);
      if (node.op === 'Add') return row(i, facts.valueOf(i)!.dims.length - 1);
      return i;
    });
    x = b.op(node.op, [x, ...rest], { ...node.attrs });
  }
  const out = b.op('Identity', [x], {}, { outputs: [b.uniqueName('convlens_target_logit')] });
  b.output(out);
  const shape = b.factsOf(out).shape;
  if (shape && (shape.length !== 2 || shape[1] !== 1)) throw new ConvLensError('MODEL_UNSUPPORTED', `Reducing "${output}" to one class gave shape [${shape.join(', ')}].`);
  return { graph: pruneGraph(b.build()), target, output: out };
}
