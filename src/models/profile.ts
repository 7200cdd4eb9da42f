// The model profile: which layer plays which part in each method (the RGB filters to draw, the
// layer Grad-CAM reads, the layer DeepDream amplifies, content and style layers, layers to index,
// layers to invert), derived from the graph's structure alone - ops, shapes, receptive fields,
// depth - never from layer names, so every method has a sensible default on any CNN. A model's
// own metadata (`convlens.profile`) may choose roles instead; names it gives are checked.
import { ConvLensError } from '../engine/errors.js';
import type { GraphBuilder } from '../engine/graph/builder.js';
import type { Graph } from '../engine/graph/ir.js';
import type { ModelMetadata } from './metadata.js';
import { areNumberedLabels } from './metadata.js';
import { receptiveFields } from './receptive-field.js';
import type { TokenGrid } from './token-grid.js';

/** Ops whose output depends on their input's shape only, not its values. */
const SHAPE_READERS = new Set(['Shape', 'Size']);

/** One candidate layer: a feature map every path from the input to the output goes through. */
export interface ProfileLayer {
  /** value name (what --layer takes) */
  name: string;
  /** op that produces it */
  op: string;
  /** [channels, height, width] at the profile's input size */
  shape: [number, number, number];
  /** receptive field (pixels, the larger side) */
  field: number;
  /** receptive field over the input side: 1 = a unit sees the whole image */
  reach: number;
  /** convolutions on the longest path from the input */
  depth: number;
  /** a pooling output (kept for inversion, not chosen for semantic roles) */
  pooling: boolean;
}

/** How the classifier ends: global average pool + dense (CAM applies), global pool only (SqueezeNet), dense over flattened maps, or other. */
export type HeadKind = 'gap-dense' | 'gap' | 'dense' | 'other';

export const ROLE_NAMES = ['firstConv', 'camLayer', 'dreamLayer', 'contentLayers', 'styleLayers', 'featureLayers', 'inversionLayers'] as const;
export type RoleName = (typeof ROLE_NAMES)[number];

/** Roles a model's metadata may set (`convlens.profile`: a JSON object with any of these keys). */
export interface ProfileOverrides {
  firstConv?: string;
  camLayer?: string;
  dreamLayer?: string;
  contentLayers?: string[];
  styleLayers?: string[];
  featureLayers?: string[];
  inversionLayers?: string[];
}

export interface ModelProfile {
  input: {
    name: string;
    channels: number;
    kind: 'gray' | 'rgb' | 'multichannel';
    /** the size the profile was computed at: the model's own, or the preprocessing size when the model takes any size */
    size: [number, number];
    /** whether the model takes only that size */
    fixed: boolean;
  };
  classes: number;
  /** set when the outputs are not one class's softmax: independent sigmoids or values (output-kind.ts) */
  outputKind?: 'multi-label' | 'regression';
  /** whether the class names came from the model (or --labels) rather than numbers */
  labelled: boolean;
  /** the sample folder whose images fit (samples/<group>) */
  sampleGroup: string;
  head: HeadKind;
  /** candidate layers in graph order (see ProfileLayer) */
  layers: ProfileLayer[];
  /** the first convolution on the input (its filters are drawn as images) */
  firstConv?: string;
  /** the last spatial layer before global pooling: Grad-CAM and friends */
  camLayer?: string;
  /**
   * Why there is no CAM layer although there are spatial maps: the last of them comes before
   * attention across positions (a ViT's patch embedding), named with the attention's Softmax.
   */
  camBeforeAttention?: { layer: string; softmax: string };
  /**
   * Where there is no CAM layer because the maps come before attention: the tokens the last
   * attention across positions reads (pytorch-grad-cam's ViT recipe, the last block's norm1),
   * which CAM-type methods read as a [C, h, w] map of the patch grid, leading tokens dropped.
   */
  camTokens?: { layer: string; grid: TokenGrid };
  /** a mid-depth layer for DeepDream and channel examples */
  dreamLayer?: string;
  /** a mid layer whose features style transfer keeps from the content image */
  contentLayers: string[];
  /** early-to-mid layers whose Gram matrices carry the style */
  styleLayers: string[];
  /** layers `convlens index` records (top patches, neighbours, embeddings) */
  featureLayers: string[];
  /** layers `convlens invert` reconstructs from, shallow to deep, ending with the logits */
  inversionLayers: string[];
  /** where each role came from */
  source: Record<RoleName, 'metadata' | 'graph'>;
  /** metadata roles that were ignored, and why (each fault with what was done instead) */
  warnings: string[];
  /** the same faults alone, for a caller that refuses the roles instead of falling back */
  rejectedRoles: string[];
}

const FOLDS_FORWARD = new Set(['Relu', 'LeakyRelu', 'PRelu', 'Elu', 'Selu', 'Sigmoid', 'Tanh', 'Clip', 'HardSigmoid', 'HardSwish', 'Softplus', 'Mish', 'Gelu', 'BatchNormalization', 'InstanceNormalization', 'Identity', 'Dropout']);
const POOLING = new Set(['MaxPool', 'AveragePool', 'LpPool']);
const GLOBAL_POOL = new Set(['GlobalAveragePool', 'GlobalMaxPool', 'ReduceMean', 'ReduceMax']);
const QUANTIZATION_NODES = new Set(['QuantizeLinear', 'DequantizeLinear']);
const PASS_THROUGH = new Set(['Flatten', 'Reshape', 'Squeeze', 'Identity', 'Dropout']);

/** What the profile needs from a model (Model satisfies it; a structural type avoids an import cycle). */
export interface ProfileSource {
  readonly name: string;
  readonly graph: Graph;
  readonly input: { name: string; shape?: (number | string)[] | undefined };
  readonly output: string;
  readonly meta: ModelMetadata;
  builder(): GraphBuilder;
  resolveLayer(name: string): string;
  /** false for a 4-D value that is channels-last (see layout.ts) */
  isChannelsFirst(name: string): boolean;
  /** the values that hold a vision transformer's tokens of a patch grid (token-grid.ts) */
  tokenGrids(): ReadonlyMap<string, TokenGrid>;
  /** the per-pixel class map whose means are the class scores, on a segmentation net (class-map.ts) */
  readonly classMap?: string | undefined;
  /** how the outputs read (output-kind.ts); single-label when absent */
  readonly outputKind?: 'single-label' | 'multi-label' | 'regression';
}

/** The profile of a model: roles from its metadata where given and valid, from its graph otherwise. */
export function modelProfile(model: ProfileSource): ModelProfile {
  const graph = model.graph;
  const shape = model.input.shape ?? [];
  const channels = typeof shape[1] === 'number' ? shape[1] : 3;
  const fixed = typeof shape[2] === 'number' && typeof shape[3] === 'number';
  const size: [number, number] = fixed ? [shape[2] as number, shape[3] as number] : [...model.meta.preprocessing.size];
  const b = model.builder(); // inferred at `size` when the model takes any size
  const facts = (v: string): (number | string)[] | undefined => {
    try {
      return b.factsOf(v).shape;
    } catch {
      return undefined;
    }
  };

  // Values computed from the input's pixels that the output needs. A shape read off a value
  // carries no pixels: a model that sizes its last Reshape by the input's batch (x.shape[0])
  // would otherwise keep the input live to the end, and no layer would be a cut.
  const dynamic = new Set([model.input.name]);
  for (const n of graph.nodes) if (!SHAPE_READERS.has(n.op) && n.inputs.some((i) => i && dynamic.has(i))) for (const o of n.outputs) if (o) dynamic.add(o);
  const { nodes, cuts } = pathCuts(graph.nodes, model.input.name, model.output, dynamic);
  const consumers = new Map<string, string[]>();
  for (const n of nodes) for (const i of new Set(n.inputs)) if (i) consumers.set(i, [...(consumers.get(i) ?? []), n.op]);
  // depth: the convolutions and dense layers between the input and a value
  const depth = new Map<string, number>([[model.input.name, 0]]);
  for (const n of nodes) {
    const d = Math.max(0, ...n.inputs.filter((i) => i && depth.has(i)).map((i) => depth.get(i)!)) + (n.op === 'Conv' || n.op === 'ConvTranspose' || n.op === 'Gemm' || n.op === 'MatMul' ? 1 : 0);
    for (const o of n.outputs) if (o) depth.set(o, d);
  }

  const producer = new Map<string, string>();
  const producerNode = new Map<string, GraphNode>();
  for (const n of nodes) {
    for (const o of n.outputs) {
      if (!o) continue;
      producer.set(o, n.op);
      producerNode.set(o, n);
    }
  }
  const fields = receptiveFields(graph, b, model.input.name);
  const side = Math.max(...size);
  let layers: ProfileLayer[] = [];
  for (const v of cuts) {
    const s = facts(v);
    if (!s || s.length !== 4 || s.slice(1).some((d) => typeof d !== 'number')) continue;
    const [, c, h, w] = s as [unknown, number, number, number];
    if (h * w <= 1) continue;
    // before the first conv a cut is the image, rearranged or normalized (tf2onnx's NHWC to NCHW
    // Transpose, preprocessing Sub/Mul): no layer of features to show, match or invert
    if ((depth.get(v) ?? 0) === 0) continue;
    if (!model.isChannelsFirst(v)) continue; // [N, H, W, C] inside a channels-last block
    // A QDQ model's rounded copies (the int8 codes, their dequantized floats) stand in for the
    // float value before the QuantizeLinear, which is the layer (named as in the float model).
    if (QUANTIZATION_NODES.has(producer.get(v) ?? '')) continue;
    // torch.onnx writes nn.AvgPool2d as a Pad, often of nothing, before the pool (DenseNet's
    // transitions): the value before it is the layer, named as the model names it.
    if (padsNothing(producerNode.get(v), b)) continue;
    const next = consumersPastRounding(v, consumers, nodes);
    if (next.length === 1 && FOLDS_FORWARD.has(next[0]!)) continue; // the activation after it stands for it
    const rf = fields.get(v);
    const field = rf ? (rf.global ? side : Math.max(...rf.size)) : side;
    layers.push({ name: v, op: producer.get(v) ?? '?', shape: [c, h, w], field, reach: field / side, depth: depth.get(v) ?? 0, pooling: POOLING.has(producer.get(v) ?? '') });
  }
  // Bottlenecks (a squeeze between two wider maps of the same size) are internal to a block.
  layers = layers.filter((l, i) => {
    const prev = layers[i - 1];
    const next = layers[i + 1];
    const same = (o: ProfileLayer | undefined): boolean => !!o && o.shape[1] === l.shape[1] && o.shape[2] === l.shape[2];
    return l.pooling || !(same(prev) && same(next) && prev!.shape[0] > l.shape[0] && next!.shape[0] > l.shape[0]);
  });

  // On a segmentation net the last layers are the class map (and the classifier's output it is
  // resampled from, or a Softmax of it): channel k is class k, not a feature. Indexed, matched for
  // style or content, amplified or inverted, they gave class scores where features were wanted,
  // so the roles are chosen among the layers before the classifier; the logits (the class means)
  // still end the inversion layers, as on any model.
  const classValued = model.classMap ? classValues(graph, model.classMap) : new Set<string>();
  const firstClassValued = layers.findIndex((l) => classValued.has(l.name));
  const featureCandidates = firstClassValued > 0 ? layers.slice(0, firstClassValued) : layers;
  const derived = deriveRoles(featureCandidates, firstConvOf(model, b, channels, dynamic), model.output);
  // Grad-CAM at the class map draws the class's own logit map (and one step back, at the
  // classifier conv's input, nearly the same: a 1x1 conv's gradient is one weight per channel).
  // pytorch-grad-cam's segmentation tutorial reads the backbone's last layer, the features the
  // head turns into classes; the index records those features too.
  if (model.classMap) {
    const features = headFeatures(graph, model.classMap, dynamic, depth, fields, facts, (v) => model.isChannelsFirst(v));
    if (features) {
      derived.camLayer = features;
      derived.featureLayers = [...new Set([derived.dreamLayer ?? features, features])];
    }
  }
  // A vision transformer's only [N, C, H, W] map is its patch embedding: after it the positions
  // are tokens that attention mixes, layer after layer, before the head. Grad-CAM there draws the
  // first layer's gradient, not what the classifier reads (pytorch-grad-cam reshapes the last
  // block's tokens instead), so the map is refused with the reason rather than drawn. Models whose
  // attention returns to maps (Swin's and MaxViT's last stage) keep their last map.
  let camBeforeAttention: ModelProfile['camBeforeAttention'];
  let camTokens: ModelProfile['camTokens'];
  if (!model.classMap && derived.camLayer) {
    const softmax = attentionAfter(nodes, derived.camLayer, facts);
    if (softmax) {
      camBeforeAttention = { layer: derived.camLayer, softmax };
      delete derived.camLayer;
      camTokens = attentionTokens(nodes, model.input.name, dynamic, model.tokenGrids(), facts);
    }
  }
  const outShape = facts(model.output);
  const classes = typeof outShape?.[outShape.length - 1] === 'number' ? (outShape[outShape.length - 1] as number) : model.meta.labels.length;
  const profile: ModelProfile = {
    input: { name: model.input.name, channels, kind: channels === 1 ? 'gray' : channels === 3 ? 'rgb' : 'multichannel', size, fixed },
    classes,
    ...(model.outputKind && model.outputKind !== 'single-label' ? { outputKind: model.outputKind } : {}),
    labelled: !areNumberedLabels(model.meta.labels),
    sampleGroup: model.meta.samples ?? (channels === 1 ? 'fashion-mnist' : 'photos'),
    head: headKind(model),
    layers,
    ...derived,
    ...(camBeforeAttention ? { camBeforeAttention } : {}),
    ...(camTokens ? { camTokens } : {}),
    source: Object.fromEntries(ROLE_NAMES.map((r) => [r, 'graph'])) as Record<RoleName, 'graph'>,
    warnings: [],
    rejectedRoles: [],
  };
  applyOverrides(profile, model);
  return profile;
}

/**
 * The ops reading `v`, looking past a QDQ model's Q -> DQ pair (a conv's output rounded on its
 * way to the ReLU): the ReLU after it then stands for the conv as in the float model.
 */
function consumersPastRounding(v: string, consumers: ReadonlyMap<string, string[]>, nodes: readonly { op: string; inputs: string[]; outputs: string[] }[]): string[] {
  const next = consumers.get(v) ?? [];
  if (next.length !== 1 || next[0] !== 'QuantizeLinear') return next;
  const q = nodes.find((n) => n.op === 'QuantizeLinear' && n.inputs[0] === v);
  const dq = q && nodes.filter((n) => n.inputs[0] === q.outputs[0]);
  if (!dq || dq.length !== 1 || dq[0]!.op !== 'DequantizeLinear') return next;
  return consumers.get(dq[0]!.outputs[0]!) ?? [];
}

/**
 * The first attention across positions after value `v` (nodes in graph order, all downstream of
 * `v` when it is a cut): a Softmax whose weights multiply values (its output feeds a MatMul or an
 * Einsum), as in every transformer block, with more than one query (its weights [..., queries,
 * keys]). An attention pool's single query (CLIP's ResNet head) summarizes the map as a global
 * pool does, so the map before it stays the CAM layer; a classifier's closing Softmax feeds no
 * product.
 */
function attentionAfter(nodes: readonly GraphNode[], v: string, facts: (v: string) => (number | string)[] | undefined): string | undefined {
  const start = nodes.findIndex((n) => n.outputs.includes(v));
  if (start < 0) return undefined;
  const softmax = attentionSoftmaxes(nodes.slice(start + 1), facts)[0];
  return softmax && (softmax.name || softmax.outputs[0]);
}

type GraphNode = { name: string; op: string; inputs: string[]; outputs: string[] };

/** The Softmaxes of attention across positions among `nodes` (see attentionAfter), in graph order. */
function attentionSoftmaxes(nodes: readonly GraphNode[], facts: (v: string) => (number | string)[] | undefined): GraphNode[] {
  // one pass: the values products read (a hostile upload may hold thousands of Softmaxes)
  const multiplied = new Set(nodes.filter((m) => m.op === 'MatMul' || m.op === 'Einsum').flatMap((m) => m.inputs));
  const queries = (w: string): number | string | undefined => {
    const s = facts(w);
    return s && s.length >= 3 ? s[s.length - 2] : undefined;
  };
  return nodes.filter((n) => n.op === 'Softmax' && !!n.outputs[0] && multiplied.has(n.outputs[0]) && queries(n.outputs[0]) !== undefined && queries(n.outputs[0]) !== 1);
}

/**
 * The tokens the last attention across positions reads, as pytorch-grad-cam's ViT recipe takes
 * them (the last block's norm1): of the values every path from the image to that attention's
 * Softmax goes through, the last that is a token grid [N, tokens, C] as wide as the tokens the
 * head reads. After that attention only the tokens the head reads (a class token) still reach
 * the output, so later tokens have no gradient at the grid's positions; the projections to
 * queries and keys come after it but are wider (timm's qkv) or not on every path (separate
 * query and key projections), and PyTorch's own attention moves the batch axis.
 */
function attentionTokens(nodes: readonly GraphNode[], input: string, dynamic: ReadonlySet<string>, grids: ReadonlyMap<string, TokenGrid>, facts: (v: string) => (number | string)[] | undefined): ModelProfile['camTokens'] {
  const softmax = attentionSoftmaxes(nodes, facts).at(-1)?.outputs[0];
  if (!softmax) return undefined;
  let width: number | undefined;
  for (const n of nodes) for (const o of n.outputs) if (o && grids.get(o)?.tokenAxis === 1) width = grids.get(o)!.channels;
  const layer = pathCuts(nodes, input, softmax, dynamic)
    .cuts.filter((v) => grids.get(v)?.tokenAxis === 1 && grids.get(v)!.channels === width)
    .at(-1);
  return layer === undefined ? undefined : { layer, grid: grids.get(layer)! };
}

/**
 * The nodes on the paths from `input` to `target` that carry pixels (`dynamic`), and the cuts:
 * values that, once computed, are the only live value, so everything after sees the image
 * through them. Both in graph order (`nodes` in graph order).
 */
function pathCuts(nodes: readonly GraphNode[], input: string, target: string, dynamic: ReadonlySet<string>): { nodes: GraphNode[]; cuts: string[] } {
  const needed = new Set([target]);
  for (let k = nodes.length - 1; k >= 0; k--) {
    const n = nodes[k]!;
    if (n.outputs.some((o) => needed.has(o))) for (const i of n.inputs) if (i && dynamic.has(i)) needed.add(i);
  }
  const sub = nodes.filter((n) => n.outputs.some((o) => o && needed.has(o)));
  const remaining = new Map<string, number>();
  for (const n of sub) for (const i of new Set(n.inputs)) if (i && needed.has(i)) remaining.set(i, (remaining.get(i) ?? 0) + 1);
  const live = new Set([input]);
  const cuts: string[] = [];
  for (const n of sub) {
    for (const i of new Set(n.inputs)) {
      if (!i || !remaining.has(i)) continue;
      const left = remaining.get(i)! - 1;
      remaining.set(i, left);
      if (left === 0) live.delete(i);
    }
    for (const o of n.outputs) {
      if (!o || !needed.has(o)) continue;
      if ((remaining.get(o) ?? 0) > 0) live.add(o);
      if (live.size === 1 && live.has(o)) cuts.push(o);
    }
  }
  return { nodes: sub, cuts };
}

/** Ops a segmentation head puts between its classifier and the class map: resampling and steps that keep each channel a class. */
const CHANNELWISE: ReadonlySet<string> = new Set(['Resize', 'Upsample', 'Identity', 'Relu', 'Sigmoid', 'Softmax', 'LogSoftmax', 'Dropout', 'BatchNormalization', 'Cast', 'Transpose']);

/** The op that makes a segmentation net's class map, looking back through resampling and channelwise steps. */
function classifierOf(graph: Graph, classMap: string): Graph['nodes'][number] | undefined {
  const producers = graph.producers();
  let classifier = producers.get(classMap);
  for (let hops = 0; classifier && hops < 8 && CHANNELWISE.has(classifier.op); hops++) classifier = producers.get(classifier.inputs[0] ?? '');
  return classifier;
}

/**
 * Values whose channels are a segmentation net's classes: the classifier's output, the steps
 * from it to the class map, the map, and everything computed from the map.
 */
function classValues(graph: Graph, classMap: string): Set<string> {
  const values = new Set<string>([classMap]);
  const classifier = classifierOf(graph, classMap);
  const producers = graph.producers();
  for (let n = producers.get(classMap), hops = 0; n && hops < 9; n = producers.get(n.inputs[0] ?? ''), hops++) {
    for (const o of n.outputs) if (o) values.add(o);
    if (n === classifier) break;
  }
  // nodes are in graph order, so one pass follows the map forward
  for (const n of graph.nodes) if (n.inputs.some((i) => i && values.has(i))) for (const o of n.outputs) if (o) values.add(o);
  return values;
}

/**
 * The features a segmentation net's head reads: of the channels-first maps the classifier (the
 * conv, or the sum of convs, that makes the class map) is computed from, the widest, the last of
 * equals. A backbone widens its channels to its last stage (ResNet's 2048, MobileNetV3's 960) and
 * the head narrows them to the classes (FCN's 3x3 conv to 512, DeepLabV3's ASPP to 256, LR-ASPP's
 * 128), so the widest map is the backbone's last layer: pytorch-grad-cam's target layer. Maps
 * that see the whole image (the ASPP's concatenation, which holds a globally pooled branch) are
 * the head's, passed over while any other map is left.
 */
function headFeatures(
  graph: Graph,
  classMap: string,
  dynamic: ReadonlySet<string>,
  depth: ReadonlyMap<string, number>,
  fields: ReturnType<typeof receptiveFields>,
  facts: (v: string) => (number | string)[] | undefined,
  channelsFirst: (v: string) => boolean,
): string | undefined {
  const producers = graph.producers();
  const classifier = classifierOf(graph, classMap);
  if (!classifier) return undefined;
  const upstream = new Set<string>();
  const stack = classifier.inputs.filter((i) => i && dynamic.has(i));
  while (stack.length) {
    const v = stack.pop()!;
    if (upstream.has(v)) continue;
    upstream.add(v);
    for (const i of producers.get(v)?.inputs ?? []) if (i && dynamic.has(i)) stack.push(i);
  }
  let local: { name: string; channels: number } | undefined;
  let any: { name: string; channels: number } | undefined;
  for (const n of graph.nodes) {
    // a QDQ model's rounded copies stand in for the float value before them
    if (QUANTIZATION_NODES.has(n.op)) continue;
    for (const o of n.outputs) {
      if (!o || !upstream.has(o) || !(depth.get(o)! > 0)) continue;
      const s = facts(o);
      if (!s || s.length !== 4 || s.slice(1).some((d) => typeof d !== 'number')) continue;
      const [, c, h, w] = s as [unknown, number, number, number];
      if (h * w <= 1 || !channelsFirst(o)) continue;
      if (!any || c >= any.channels) any = { name: o, channels: c };
      const field = fields.get(o);
      if (field && !field.global && (!local || c >= local.channels)) local = { name: o, channels: c };
    }
  }
  return (local ?? any)?.name;
}

type Roles = Pick<ModelProfile, RoleName>;

function deriveRoles(layers: ProfileLayer[], firstConv: string | undefined, output: string): Roles {
  const main = layers.filter((l) => !l.pooling);
  const pool = main.length ? main : layers;
  const closest = (target: number, among: ProfileLayer[]): ProfileLayer | undefined =>
    among.reduce<ProfileLayer | undefined>((best, l) => (!best || Math.abs(l.reach - target) <= Math.abs(best.reach - target) ? l : best), undefined);
  const last = layers[layers.length - 1];
  // A unit that sees about 60% of the image responds to object parts: the scale DeepDream shows best.
  const dream = closest(0.6, pool.filter((l) => l !== last).length ? pool.filter((l) => l !== last) : pool);
  // Content: a mid layer that still keeps the layout (units see about a third of the image).
  const content = closest(0.35, pool);
  // Style: the first layer of each resolution (Gatys et al.'s relu1_1 .. relu5_1), while units see less than the whole image.
  const style: string[] = [];
  const seen = new Set<string>();
  for (const l of pool) {
    const key = `${l.shape[1]}x${l.shape[2]}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (l.reach <= 1 || style.length < 2) style.push(l.name);
  }
  // Inversion: the first layer, the last of each resolution, the dream layer, then the logits.
  const inversion = new Set<string>();
  if (pool[0]) inversion.add(pool[0].name);
  layers.forEach((l, i) => {
    const next = layers[i + 1];
    if (!next || next.shape[1] !== l.shape[1] || next.shape[2] !== l.shape[2] || l.name === dream?.name) inversion.add(l.name);
  });
  const ordered = layers.map((l) => l.name).filter((n) => inversion.has(n));
  const inversionLayers = [...(ordered.length > 6 ? spread(ordered, 6) : ordered), output];
  return {
    ...(firstConv ? { firstConv } : {}),
    ...(last ? { camLayer: last.name } : {}),
    ...(dream ? { dreamLayer: dream.name } : {}),
    contentLayers: content ? [content.name] : [],
    styleLayers: style.slice(0, 5),
    featureLayers: [...new Set([dream?.name, last?.name].filter((n): n is string => !!n))],
    inversionLayers,
  };
}

/** Whether `node` is a Pad whose pads are all zero: its output is its input. */
function padsNothing(node: GraphNode | undefined, b: GraphBuilder): boolean {
  if (node?.op !== 'Pad' || !node.inputs[1]) return false;
  const pads = b.valueOf(node.inputs[1]);
  return !!pads && Array.from(pads.data as ArrayLike<number | bigint>, Number).every((p) => p === 0);
}

/** k items spread evenly over a list, first and last included. */
function spread<T>(items: T[], k: number): T[] {
  return Array.from({ length: k }, (_, i) => items[Math.round((i * (items.length - 1)) / (k - 1))]!).filter((v, i, a) => a.indexOf(v) === i);
}

/** The first convolution applied to the input: constant weights [O, C, k, k] over the input channels. */
function firstConvOf(model: ProfileSource, b: GraphBuilder, channels: number, dynamic: Set<string>): string | undefined {
  for (const n of model.graph.nodes) {
    if (n.op !== 'Conv' || !n.inputs[0] || !dynamic.has(n.inputs[0])) continue;
    // a QDQ model's weights are dequantized int8: constant all the same
    const w = model.graph.initializers.get(n.inputs[1] ?? '') ?? (n.inputs[1] ? b.valueOf(n.inputs[1]) : undefined);
    if (w && w.dims.length === 4 && w.dims[1] === channels) return n.outputs[0];
    try {
      if (b.shapeOf(n.inputs[1]!).length === 4) return n.outputs[0];
    } catch {
      // weights computed at run time: not a filter bank to draw
    }
  }
  return undefined;
}

function headKind(model: ProfileSource): HeadKind {
  const producers = new Map<string, { op: string; inputs: string[] }>();
  for (const n of model.graph.nodes) for (const o of n.outputs) if (o) producers.set(o, n);
  let v = model.output;
  let dense = false;
  for (let guard = 0; guard < 16; guard++) {
    const p = producers.get(v);
    if (!p) return 'other';
    if (p.op === 'Add' && !dense) {
      const mm = p.inputs.find((i) => producers.get(i)?.op === 'MatMul');
      if (mm) {
        v = mm;
        continue;
      }
    }
    // a binary classifier's one logit made two classes by a constant row (binary-logit.ts)
    if (p.op === 'Mul' && !dense && v === model.output) {
      const constant = p.inputs.findIndex((i) => producers.get(i)?.op === 'Constant' || model.graph.initializers.has(i));
      const other = p.inputs[1 - constant];
      if (constant >= 0 && other && model.builder().factsOf(other).shape?.[1] === 1) {
        v = other;
        continue;
      }
    }
    // a Conv of a globally pooled map is a dense layer written as a 1x1 conv (MXNet's mobilenetv2-7)
    const pointwise = p.op === 'Conv' && GLOBAL_POOL.has(producers.get(p.inputs[0]!)?.op ?? '');
    if ((p.op === 'Gemm' || p.op === 'MatMul' || pointwise) && !dense) {
      dense = true;
      v = p.inputs[0]!;
      continue;
    }
    if (PASS_THROUGH.has(p.op)) {
      v = p.inputs[0]!;
      continue;
    }
    if (GLOBAL_POOL.has(p.op)) return dense ? 'gap-dense' : 'gap';
    return dense ? 'dense' : 'other';
  }
  return 'other';
}

/** Metadata roles replace derived ones when every name they give resolves; otherwise the derived role stays, with a warning. */
function applyOverrides(profile: ModelProfile, model: ProfileSource): void {
  const o = model.meta.profile;
  if (!o) return;
  const reject = (fault: string, instead: string): void => {
    profile.rejectedRoles.push(fault);
    profile.warnings.push(`convlens.profile: ${fault}; ${instead}`);
  };
  for (const [key, value] of Object.entries(o)) {
    if (!(ROLE_NAMES as readonly string[]).includes(key)) {
      reject(`unknown role "${key}" (roles: ${ROLE_NAMES.join(', ')})`, 'ignored');
      continue;
    }
    const role = key as RoleName;
    const list = role.endsWith('Layers');
    const names = list ? value : [value];
    if (!Array.isArray(names) || !names.length || !names.every((n) => typeof n === 'string')) {
      reject(`${role} must be ${list ? 'a list of layer names' : 'a layer name'}`, 'derived from the graph instead');
      continue;
    }
    try {
      const resolved = (names as string[]).map((n) => model.resolveLayer(n));
      (profile as unknown as Record<string, unknown>)[role] = list ? resolved : resolved[0];
      profile.source[role] = 'metadata';
    } catch (e) {
      reject(`${role} names a layer the graph does not have (${e instanceof ConvLensError ? e.message : String(e)})`, 'derived from the graph instead');
    }
  }
}

/** The CAM layer as the summary prints it: a map, the tokens read as one, or why there is none. */
function camLine(p: ModelProfile, label: (value: string) => string): string {
  if (p.camLayer) return label(p.camLayer);
  if (p.camTokens && p.camBeforeAttention) {
    const { layer, grid } = p.camTokens;
    const dropped = grid.prefix ? `, the ${grid.prefix === 1 ? 'first token' : `first ${grid.prefix} tokens`} dropped` : '';
    return `${label(layer)} (the tokens the last attention reads, as a ${grid.channels}x${grid.height}x${grid.width} map${dropped}; the last spatial map, ${label(p.camBeforeAttention.layer)}, comes before attention)`;
  }
  if (p.camBeforeAttention) return `- (the last spatial map, ${label(p.camBeforeAttention.layer)}, comes before attention across positions)`;
  return '-';
}

/**
 * Profile roles as one line each, for `convlens summary` and error hints; `label` names a layer
 * (Model.layerLabel: fires.5 rather than its stored value name /fires.5/Concat_output_0, as every
 * other command prints it and --layer takes it).
 */
export function describeProfile(p: ModelProfile, label: (value: string) => string = (v) => v): string[] {
  const from = (r: RoleName): string => (p.source[r] === 'metadata' ? ' (model metadata)' : '');
  const one = (v: string | undefined): string => (v === undefined ? '-' : label(v));
  const list = (v: string[]): string => (v.length ? v.map(label).join(', ') : '-');
  return [
    `input: ${p.input.kind} ${p.input.size[0]}x${p.input.size[1]}${p.input.fixed ? '' : ' (any size)'}, ${p.outputKind ? `${p.classes} output${p.classes === 1 ? '' : 's'}, ${p.outputKind}` : `${p.classes} classes`}${p.labelled ? '' : ' (unlabelled)'}, head ${p.head}, samples/${p.sampleGroup}`,
    `first conv: ${one(p.firstConv)}${from('firstConv')}`,
    `CAM layer: ${camLine(p, label)}${from('camLayer')}`,
    `dream layer: ${one(p.dreamLayer)}${from('dreamLayer')}`,
    `style layers: ${list(p.styleLayers)}${from('styleLayers')}`,
    `content layers: ${list(p.contentLayers)}${from('contentLayers')}`,
    `feature layers (index): ${list(p.featureLayers)}${from('featureLayers')}`,
    `inversion layers: ${list(p.inversionLayers)}${from('inversionLayers')}`,
  ];
}
