// Class scores shaped as a feature map. Some classifiers end in a 1x1 convolution and a global
// pool without flattening (the ONNX model zoo's SqueezeNet 1.0 outputs [1, 1000, 1, 1], after a
// Softmax over axis 1). Everything that reads a class score expects [N, classes], so such an
// output is flattened when loading; a Softmax over the channels moves after the flattening,
// where it computes the same probabilities and leaves the logits before it to explain.
import { GraphBuilder } from '../engine/graph/builder.js';
import { attrInt, type Graph } from '../engine/graph/ir.js';
import { finalActivation } from './final-activation.js';

const SOFTMAXES: ReadonlySet<string> = new Set(['Softmax', 'LogSoftmax']);

/** The graph with its first output [N, K]; the graph itself when it is, or when its extra axes are not all 1. */
export function withFlatLogits(graph: Graph): Graph {
  const output = graph.outputs[0];
  // the file's declared shape settles most models without inferring every value's
  const declared = output?.shape;
  if (!output || (declared && (declared.length <= 2 || declared.slice(2).some((d) => typeof d === 'number' && d !== 1)))) return graph;
  const g = graph.clone();
  const b = GraphBuilder.over(g, { strict: false });
  const shape = b.has(output.name) ? b.factsOf(output.name).shape : undefined;
  if (!shape || shape.length <= 2 || !shape.slice(2).every((d) => d === 1)) return graph;

  const softmax = finalActivation(g, output.name, SOFTMAXES);
  const scores = softmax?.inputs[0];
  const overChannels = !!softmax && !!scores && (b.factsOf(scores).shape?.length === 2 || [1, -3].includes(attrInt(softmax, 'axis', 1)));
  const name = b.uniqueName(`${output.name}_classes`);
  if (softmax && scores && overChannels) b.op(softmax.op, [b.op('Flatten', [scores], { axis: 1 })], { axis: -1 }, { outputs: [name] });
  else b.op('Flatten', [output.name], { axis: 1 }, { outputs: [name] });
  const rest = g.outputs.slice(1);
  g.outputs = [];
  b.output(name);
  g.outputs.push(...rest);
  return g;
}
