// Which layer CAM-type methods read, and the GAP + dense head that plain CAM needs.
import { ConvLensError } from '../../engine/errors.js';
import type { Node } from '../../engine/graph/ir.js';
import type { Tensor } from '../../engine/tensor.js';
import type { Model } from '../../models/model.js';
import { gridsReadByOutput, type TokenGrid } from '../../models/token-grid.js';

export interface SpatialLayer {
  name: string;
  /** the layer as --layer takes it and every command prints it (features, fires.7) */
  label: string;
  /** [C, h, w] of one sample */
  channels: number;
  height: number;
  width: number;
  /**
   * A vision transformer's tokens [N, tokens, C], read as the [N, C, h, w] map of their patch
   * grid with the leading tokens dropped (pytorch-grad-cam's reshape_transform); absent for a map.
   */
  tokens?: TokenGrid;
  /** an [N, H, W, C] map (a channels-last block's), read as [N, C, H, W] (pytorch-grad-cam's Swin reshape_transform) */
  channelsLast?: boolean;
}

/** The values the model output depends on. */
function ancestorsOfOutput(model: Model): Set<string> {
  const needed = new Set([model.output]);
  for (let k = model.graph.nodes.length - 1; k >= 0; k--) {
    const n = model.graph.nodes[k]!;
    if (n.outputs.some((o) => needed.has(o))) for (const i of n.inputs) if (i) needed.add(i);
  }
  return needed;
}

const readGrids = new WeakMap<Model, Set<string>>();

/** The token grids whose patch tokens the output depends on (not only their class token). */
function gridsTheOutputReads(model: Model): Set<string> {
  let read = readGrids.get(model);
  if (!read) readGrids.set(model, (read = gridsReadByOutput(model.graph, model.builder(), model.tokenGrids(), model.output)));
  return read;
}

/**
 * Why a token grid is no layer CAM-type methods can draw a map from, or undefined when it is
 * one: a per-token statistic (one channel: a written-out LayerNorm's mean or variance) draws
 * the value itself whatever the class, and a grid whose patch tokens the output does not read
 * (after the last attention, where only the class token goes on to the head) has no gradient
 * there, so a gradient CAM is all zeros and the others show what the class never sees.
 */
function unreadableGrid(model: Model, name: string, grid: TokenGrid): string | undefined {
  if (grid.channels < 2) return 'has one channel per token (a per-token statistic such as a LayerNorm\'s mean or variance): a CAM there is that value itself, the same for every class';
  if (!gridsTheOutputReads(model).has(name)) {
    const read = grid.prefix === 1 ? 'its first token (the class token)' : `its first ${grid.prefix} tokens (class tokens)`;
    return `comes after the last attention: the output reads only ${read}, so its patch tokens have no gradient and a CAM there is empty`;
  }
  return undefined;
}

/**
 * Resolves the layer for Grad-CAM-type methods (default: the last spatial layer) and checks
 * that it is a spatial feature map [N, C, h, w] that the output depends on. With `tokens`, for
 * a caller that reads layers through SpatialLayer.tokens (the CAM methods), a vision
 * transformer's tokens of a patch grid are a layer too, and the default where its maps come
 * before attention (profile.camTokens).
 */
export function spatialLayer(model: Model, layer?: string, options: { tokens?: boolean } = {}): SpatialLayer {
  if (options.tokens) {
    const p = model.profile;
    const tokens = layer === undefined ? (p.camLayer === undefined ? p.camTokens?.layer : undefined) : model.resolveLayer(layer);
    const grid = tokens === undefined ? undefined : model.tokenGrid(tokens);
    if (tokens !== undefined && grid) {
      if (!ancestorsOfOutput(model).has(tokens)) {
        throw new ConvLensError('INVALID_ARGUMENT', `The model output "${model.output}" does not depend on layer "${tokens}".`, 'Pick a layer on the path to the output.');
      }
      const why = unreadableGrid(model, tokens, grid);
      if (why) {
        const fallback = p.camTokens && p.camTokens.layer !== tokens ? `the tokens the last attention reads, ${model.layerLabel(p.camTokens.layer)} (the default)` : 'the tokens a block\'s attention reads';
        const other = grid.channels < 2 ? "a block's tokens with all their channels (its LayerNorm's output)" : "an earlier block's tokens";
        throw new ConvLensError('INVALID_ARGUMENT', `Layer "${model.layerLabel(tokens)}" ${why}.`, `Pick ${fallback}, or ${other}.`);
      }
      return { name: tokens, label: model.layerLabel(tokens), channels: grid.channels, height: grid.height, width: grid.width, tokens: grid };
    }
  }
  const name = layer === undefined ? model.lastSpatialLayer() : model.resolveLayer(layer);
  const shape = name === model.input.name ? undefined : model.facts(name).shape;
  const spatialNames = (): string =>
    model
      .pickableValues()
      .filter((p) => p.shape.length === 4 && typeof p.shape[2] === 'number' && (p.shape[2] as number) * ((p.shape[3] as number) || 1) > 1 && model.isChannelsFirst(p.name))
      .map((p) => p.name)
      .slice(-6)
      .join(', ');
  if (name === model.input.name) {
    throw new ConvLensError('INVALID_ARGUMENT', `"${name}" is the model input, not a layer; CAM-type methods read a feature map inside the model.`, `Pick a convolutional layer, e.g. ${spatialNames()}.`);
  }
  if (!shape || shape.length !== 4 || shape.slice(1).some((d) => typeof d !== 'number')) {
    const grid = options.tokens && shape?.length === 3 ? ' or a vision transformer\'s tokens of its patch grid' : '';
    throw new ConvLensError('INVALID_ARGUMENT', `Layer "${name}" has shape [${shape?.join(', ') ?? '?'}]; CAM-type methods need a spatial feature map [N, C, H, W]${grid}.`, `Pick a convolutional layer, e.g. ${spatialNames()}.`);
  }
  if (options.tokens && model.isChannelsLast(name) && ancestorsOfOutput(model).has(name)) {
    const [, h, w, c] = shape as [string, number, number, number];
    if (h * w > 1) return { name, label: model.layerLabel(name), channels: c, height: h, width: w, channelsLast: true };
  }
  if (!model.isChannelsFirst(name)) {
    throw new ConvLensError('INVALID_ARGUMENT', `Layer "${name}" is ${model.notChannelsFirst(name)}, shape [${shape.join(', ')}]); CAM-type methods need a feature map [N, C, H, W].`, `Pick the block's output after it permutes back, e.g. ${spatialNames()}.`);
  }
  const [, c, h, w] = shape as [string, number, number, number];
  if (h * w === 1) {
    throw new ConvLensError('INVALID_ARGUMENT', `Layer "${name}" is 1x1 spatially ([${shape.join(', ')}]): a map there has one pixel.`, `Pick a layer before global pooling, e.g. ${spatialNames()}.`);
  }
  if (!ancestorsOfOutput(model).has(name)) {
    throw new ConvLensError('INVALID_ARGUMENT', `The model output "${model.output}" does not depend on layer "${name}".`, `Pick a layer on the path to the output, e.g. ${spatialNames()}.`);
  }
  return { name, label: model.layerLabel(name), channels: c, height: h, width: w };
}

/**
 * The 4-D values among `names` that spatialLayer (with `tokens`) takes as a map, for a layer
 * picker: channels-first or channels-last, more than one position, static sizes, on the path to
 * the output; not a value inside a window attention (layout.ts), nor the input. One pass for
 * every name (spatialLayer per name follows the graph back each time).
 */
export function camMaps(model: Model, names: readonly string[]): Set<string> {
  const needed = ancestorsOfOutput(model);
  const out = new Set<string>();
  for (const name of names) {
    if (name === model.input.name || !needed.has(name)) continue;
    const shape = model.facts(name).shape;
    if (!shape || shape.length !== 4 || shape.slice(1).some((d) => typeof d !== 'number')) continue;
    const [, a, h, w] = shape as [unknown, number, number, number];
    if (model.isChannelsLast(name) ? a * h > 1 : model.isChannelsFirst(name) && h * w > 1) out.add(name);
  }
  return out;
}

/** A vision transformer's tokens a CAM-type method can read as a map, as a layer picker lists them. */
export interface TokenLayer {
  /** value name */
  name: string;
  /** the layer as --layer takes it (its module path: encoder/layers/encoder_layer_8/ln_1) */
  label: string;
  node: string;
  op: string;
  shape: (number | string)[];
  /** its number in the summary's numbering (#k), where it has one */
  number?: number;
  grid: TokenGrid;
}

/**
 * The token grids CAM-type methods read as maps (spatialLayer with `tokens`), in graph order: the
 * outputs of the nodes a summary numbers (#k) and of LayerNormalization (the block's norm
 * pytorch-grad-cam's ViT recipe reads, one node from opset 17), on the path to the output. Left
 * out, as spatialLayer refuses them: a per-token statistic (one channel), and the grids after the
 * last attention, whose patch tokens the output does not read (unreadableGrid).
 */
export function tokenLayers(model: Model): TokenLayer[] {
  const grids = model.tokenGrids();
  if (grids.size === 0) return [];
  const numbered = new Set(model.pickableValues().map((p) => p.name));
  const needed = ancestorsOfOutput(model);
  const out: TokenLayer[] = [];
  for (const n of model.graph.nodes) {
    const v = n.outputs[0];
    const grid = v ? grids.get(v) : undefined;
    if (!v || !grid || !needed.has(v) || unreadableGrid(model, v, grid)) continue;
    if (!numbered.has(v) && n.op !== 'LayerNormalization') continue;
    const number = model.layerNumber(v);
    out.push({ name: v, label: model.layerLabel(v), node: n.name, op: n.op, shape: model.facts(v).shape ?? [], ...(number !== undefined ? { number } : {}), grid });
  }
  return out;
}

export interface CamHead {
  /** the feature maps that are globally average-pooled */
  layer: string;
  /** class weights [K, C]: logit_k = sum_c weights[k, c] * mean(A_c) + bias_k */
  weights: Float32Array;
  classes: number;
  channels: number;
}

const PASS_THROUGH = new Set(['Flatten', 'Reshape', 'Squeeze', 'Identity', 'Dropout']);

/**
 * Finds the GAP + dense head CAM is defined on (Zhou et al. 2016): the output is a dense layer
 * (Gemm, or MatMul + Add) with constant weights over the global average of a 4-D feature map.
 */
export function camHead(model: Model): CamHead {
  const producers = new Map<string, Node>();
  for (const n of model.graph.nodes) for (const o of n.outputs) if (o) producers.set(o, n);
  const constant = (name: string): Tensor | undefined => model.graph.initializers.get(name) ?? model.builder().valueOf(name);
  const describe: string[] = [];
  const fail = (why: string): never => {
    throw new ConvLensError(
      'MODEL_UNSUPPORTED',
      `cam needs a model that ends in global average pooling followed by one dense layer (Zhou et al.); model "${model.name}" does not: ${why}.`,
      'Use gradcam instead: it works on any CNN, and on GAP + dense models it equals CAM up to a positive scale.',
    );
  };

  // A segmentation net's class scores are its class map's means over the pixels (class-map.ts):
  // the ReduceMean that computes them is ConvLens's own, which the user never wrote.
  if (model.classMap) fail(`its class scores are the means of its per-pixel class map "${model.layerLabel(model.classMap)}" (a segmentation net), not a dense layer over pooled features`);
  let node = producers.get(model.output);
  // A binary classifier's one logit l made the classes l * [-1/2, 1/2] (models/binary-logit.ts):
  // class k's weights are the dense layer's one row times its factor.
  let factors: Float32Array | undefined;
  if (node?.op === 'Mul') {
    const k = node.inputs.findIndex((i) => constant(i)?.dims.length === 2 && constant(i)!.dims[0] === 1);
    const other = node.inputs[1 - k];
    if (k >= 0 && other && model.facts(other).shape?.[1] === 1) {
      factors = Float32Array.from(constant(node.inputs[k]!)!.data as Float32Array);
      node = producers.get(other);
    }
  }
  // the class scores reshaped after the dense layer ([N, K, 1, 1] -> [N, K])
  for (let guard = 0; guard < 4 && node && PASS_THROUGH.has(node.op); guard++) node = producers.get(node.inputs[0]!);
  if (node?.op === 'Add') {
    // MatMul + Add(bias): the bias does not enter CAM.
    const mm = node.inputs.map((i) => producers.get(i)).find((p) => p?.op === 'MatMul');
    if (mm) node = mm;
  }
  // A 1x1 convolution of the pooled [N, C, 1, 1] map is a dense layer written as a conv (MXNet's
  // mobilenetv2-7: GlobalAveragePool, Conv 1x1, Reshape): its weight [K, C, 1, 1] is the matrix.
  const pointwise = node?.op === 'Conv' && isPointwiseDense(node, constant(node.inputs[1]!));
  if (!node || (node.op !== 'Gemm' && node.op !== 'MatMul' && !pointwise)) fail(`its output "${model.output}" comes from ${node ? `a ${node.op} node` : 'no node'}, not a dense layer`);
  const dense = node!;
  const raw = constant(dense.inputs[1]!);
  const w = pointwise && raw ? { ...raw, dims: raw.dims.slice(0, 2) } : raw;
  if (!w || w.dims.length !== 2) fail(`the dense layer "${dense.name}" has no constant 2-D weight matrix`);
  const transA = dense.attrs['transA']?.value ?? 0;
  if (transA) fail(`the dense layer "${dense.name}" transposes its input`);
  // a conv's weight is [out, in], as Gemm's with transB
  const transB = pointwise ? 1 : dense.op === 'Gemm' ? (dense.attrs['transB']?.value ?? 0) : 0;
  const alpha = dense.op === 'Gemm' ? Number(dense.attrs['alpha']?.value ?? 1) : 1;
  const [r, c] = w!.dims as [number, number];
  const classes = transB ? r : c;
  const channels = transB ? c : r;

  let v = dense.inputs[0]!;
  for (let guard = 0; guard < 16; guard++) {
    const p = producers.get(v);
    if (!p) fail(`nothing pools feature maps before the dense layer "${dense.name}"`);
    describe.push(p!.op);
    if (PASS_THROUGH.has(p!.op)) {
      v = p!.inputs[0]!;
      continue;
    }
    const isGap =
      p!.op === 'GlobalAveragePool' ||
      (p!.op === 'ReduceMean' && sameSet((p!.attrs['axes']?.value as number[] | undefined) ?? [], [2, 3], [-2, -1]));
    if (!isGap) fail(`the dense layer "${dense.name}" reads ${describe.join(' <- ')} (${p!.op} "${p!.name}"), not a global average pool`);
    const layer = p!.inputs[0]!;
    const shape = model.facts(layer).shape;
    if (!shape || shape.length !== 4 || shape[1] !== channels) fail(`the pooled value "${layer}" has shape [${shape?.join(', ') ?? '?'}], not [N, ${channels}, H, W]`);
    const src = w!.data as Float32Array;
    const weights = new Float32Array(classes * channels);
    for (let k = 0; k < classes; k++) for (let ch = 0; ch < channels; ch++) weights[k * channels + ch] = alpha * (transB ? src[k * channels + ch]! : src[ch * classes + k]!);
    if (factors && classes === 1) {
      const scaled = new Float32Array(factors.length * channels);
      factors.forEach((f, k) => {
        for (let ch = 0; ch < channels; ch++) scaled[k * channels + ch] = f * weights[ch]!;
      });
      return { layer, weights: scaled, classes: factors.length, channels };
    }
    return { layer, weights, classes, channels };
  }
  return fail('the head is too deep to follow');
}

/** A Conv that is a dense layer over a globally pooled map: constant [K, C, 1, 1] weight, no group, stride, dilation or padding that would matter. */
function isPointwiseDense(conv: Node, w: Tensor | undefined): boolean {
  if (!w || w.dims.length !== 4 || w.dims[2] !== 1 || w.dims[3] !== 1) return false;
  const group = Number(conv.attrs['group']?.value ?? 1);
  const pads = (conv.attrs['pads']?.value as number[] | undefined) ?? [];
  const autoPad = String(conv.attrs['auto_pad']?.value ?? 'NOTSET');
  return group === 1 && pads.every((p) => p === 0) && (autoPad === 'NOTSET' || autoPad === 'VALID');
}

function sameSet(axes: number[], a: number[], b: number[]): boolean {
  const s = [...axes].sort();
  return (s.length === 2 && s[0] === a[0] && s[1] === a[1]) || (s[0] === b[0] && s[1] === b[1] && s.length === 2);
}
