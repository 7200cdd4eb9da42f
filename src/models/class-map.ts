// Class scores per pixel. A segmentation net (torchvision's DeepLabV3 and FCN, a U-Net) outputs a
// class map [N, K, h, w]; everything that reads a class score expects [N, K], and read as a
// classifier the map was h*w*K "classes" (a 16-class net predicted "class 645") or a gradient seed
// of h*w values no method could use. As Captum's segmentation recipe (the model wrapped so a
// class's score is its logits aggregated over the pixels) and pytorch-grad-cam's
// SemanticSegmentationTarget (a class's logits summed over a mask) do, the model is given a class
// score per image: each class's mean logit over the map's pixels. A Softmax over the channels at
// the end is looked through (its logits are averaged) and moves after the mean, as in
// flat-logits.ts; so does the Sigmoid after a binary net's 1-channel map [N, 1, h, w], whose mean
// logit then becomes two classes (binary-logit.ts), and after a multi-label map's K channels,
// whose mean logits are then a multi-label head's (output-kind.ts). The map stays in the graph as a layer, so one
// pixel is explained as a unit of it (unit-model.ts: "map@row,col"). A channels-last map
// [N, h, w, K] (a TensorFlow export) is read through its channels-first form, so that its pixels
// are units like any feature map's.
import { GraphBuilder } from '../engine/graph/builder.js';
import { attrInt, attrInts, type Dim, type Graph } from '../engine/graph/ir.js';
import { finalActivation, isSoftmaxOverOne, softmaxOverOneNote } from './final-activation.js';
import { axisLayouts, isChannelsFirst, sameLayout, type AxisLayout } from './layout.js';

/** a Sigmoid over several channels is a multi-label map's (each class its own yes/no per pixel; output-kind.ts) */
const CLASS_ACTIVATIONS: ReadonlySet<string> = new Set(['Softmax', 'LogSoftmax', 'Sigmoid']);
const ACTIVATIONS_OF_ONE: ReadonlySet<string> = new Set(['Softmax', 'LogSoftmax', 'Sigmoid']);
/** a map's axes must stay as they are: only an Identity is looked through */
const IDENTITY: ReadonlySet<string> = new Set(['Identity']);

export interface ClassMeans {
  graph: Graph;
  /** set when the first output was a class map: the map whose pixels are averaged (the logits before a trailing Softmax) and its shape */
  map?: { name: string; shape: Dim[] };
  /** set when the map ended in a Softmax over its one channel (1 everywhere), dropped: what was done, for a load note */
  note?: string;
}

/**
 * The graph with its first output [N, K] when that output is a per-pixel class map [N, K, h, w]
 * (K a known number, more than one pixel; K = 1, a binary net's map, becomes one logit [N, 1]
 * that binary-logit.ts makes two classes), or a channels-last one [N, h, w, K]: each class's
 * mean over the pixels. Any other graph is returned as it is ([N, K] and [N, K, 1, 1] outputs,
 * see flat-logits.ts; maps whose axes cannot be followed from the input, or whose class count is
 * unknown).
 */
export function withClassMeans(graph: Graph, input: string): ClassMeans {
  const output = graph.outputs[0];
  const declared = output?.shape;
  if (!output || (declared && declared.length !== 4)) return { graph };
  const g = graph.clone();
  const b = GraphBuilder.over(g, { strict: false });
  const shape = b.has(output.name) ? b.factsOf(output.name).shape : undefined;
  if (!shape || shape.length !== 4) return { graph };
  const layouts = axisLayouts(g, b, input);
  const layout = layouts.get(output.name);
  // a channels-last map [N, h, w, K] (a TensorFlow export, channels-last throughout)
  const channelsLast = !!layout && sameLayout(layout, NHWC);
  if (!channelsLast && !isChannelsFirst(layout)) return { graph };
  const [classes, h, w] = channelsLast ? [shape[3], shape[1], shape[2]] : [shape[1], shape[2], shape[3]];
  if (typeof classes !== 'number' || classes < 1 || (h === 1 && w === 1)) return { graph };

  // a binary net's 1-channel map ends in a Sigmoid, elementwise: its mean logit goes to binary-logit.ts
  const softmax = finalActivation(g, output.name, classes === 1 ? ACTIVATIONS_OF_ONE : CLASS_ACTIVATIONS, IDENTITY);
  const logits = softmax?.inputs[0];
  // (a Softmax's axis defaults to the last at the opsets ConvLens computes in)
  const channelAxes = channelsLast ? [3, -1] : [1, -3];
  const overChannels = !!softmax && !!logits && (softmax.op === 'Sigmoid' || channelAxes.includes(attrInt(softmax, 'axis', -1))) && b.factsOf(logits).shape?.length === 4;
  const scores = overChannels ? logits! : output.name;
  const map = channelsLast ? channelsFirstMap(g, b, scores, layouts) : scores;
  const name = b.uniqueName(`${output.name}_class_means`);
  // named nodes: summaries list them as the model's last layers ("class_means (ReduceMean)")
  // a 1-channel map's Softmax is 1 at every pixel: its mean logit is what a binary net means
  const constant = overChannels && isSoftmaxOverOne(softmax!, b);
  if (overChannels && !constant) {
    const means = b.op('ReduceMean', [map], { axes: [2, 3], keepdims: 0 }, { name: b.uniqueName('class_means'), outputs: [b.uniqueName(`${map}_class_means`)] });
    b.op(softmax!.op, [means], softmax!.op === 'Sigmoid' ? {} : { axis: -1 }, { name: b.uniqueName(`class_means_${softmax!.op.toLowerCase()}`), outputs: [name] });
  } else {
    b.op('ReduceMean', [map], { axes: [2, 3], keepdims: 0 }, { name: b.uniqueName('class_means'), outputs: [name] });
  }
  const rest = g.outputs.slice(1);
  g.outputs = [];
  b.output(name);
  g.outputs.push(...rest);
  return { graph: g, map: { name: map, shape: b.factsOf(map).shape ?? [shape[0]!, classes, h!, w!] }, ...(constant ? { note: softmaxOverOneNote(softmax!, output.name, 'the map before it as the logits') } : {}) };
}

/** The layout of a channels-last value [N, h, w, K]: its axes follow the image's N, H, W, C. */
const NHWC: AxisLayout = [0, 2, 3, 1];

/**
 * The channels-first form of a channels-last map, so that its pixels are units like any feature
 * map's ("map@row,col"): the channels-first value a converter transposed to make it (tf2onnx wraps
 * every Conv in Transposes), else a Transpose of it, named "class_map".
 */
function channelsFirstMap(g: Graph, b: GraphBuilder, map: string, layouts: Map<string, AxisLayout>): string {
  const producer = g.producers().get(map);
  const source = producer?.op === 'Transpose' ? producer.inputs[0] : undefined;
  if (source && isChannelsFirst(layouts.get(source)) && b.factsOf(source).shape?.length === 4 && sameLayout(attrInts(producer!, 'perm') ?? [], NHWC)) return source;
  const name = b.uniqueName('class_map');
  return b.op('Transpose', [map], { perm: [0, 3, 1, 2] }, { name: b.uniqueName(`${name}_channels_first`), outputs: [name] });
}
