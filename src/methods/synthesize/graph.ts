// Synthesis graphs: parameters -> image -> (random warp) -> model preprocessing -> model layers
// -> objective, as ONE ONNX graph whose gradient with respect to the parameters the engine
// emits. Every method (feature visualization, adversarial examples, inversion, DeepDream,
// style transfer) is this graph with a different parameterization and objective; the light
// per-step work (optimizer update, clipping, sampling the warp) happens in typed arrays.
import { buildGradientGraph } from '../../engine/autodiff/gradient.js';
import { ConvLensError } from '../../engine/errors.js';
import { GraphBuilder } from '../../engine/graph/builder.js';
import type { Graph, Node } from '../../engine/graph/ir.js';
import { pruneGraph } from '../../engine/graph/prune.js';
import type { CompiledGraph } from '../../engine/runtime/engine.js';
import type { Tensor } from '../../engine/tensor.js';
import type { Preprocessing } from '../../models/metadata.js';
import type { Model } from '../../models/model.js';
import type { Objective, ObjectiveContext } from './objectives.js';
import type { Parameterization } from './params.js';
import type { Warp } from './transforms.js';

/** Size of the images being synthesized ("image space": values in [0, 1], gray or RGB). */
export interface ImageShape {
  batch: number;
  channels: 1 | 3;
  height: number;
  width: number;
}

export interface SynthesisSpec {
  model: Model;
  shape: ImageShape;
  param: Parameterization;
  objective: Objective;
  /**
   * Resample the image through a per-step random warp (transforms.ts) to this size before the
   * model sees it; undefined = no warp, the model sees the image as it is.
   */
  warp?: WarpSize | undefined;
}

/** The model-input size a warp resamples to, and the value it reads outside the image (default grey 0.5). */
export interface WarpSize {
  height: number;
  width: number;
  fill?: number;
}

/** The spatial size a model takes: its static input size, or undefined when it is symbolic. */
export function modelInputSize(model: Model): [number, number] | undefined {
  const s = model.input.shape!;
  return typeof s[2] === 'number' && typeof s[3] === 'number' ? [s[2], s[3]] : undefined;
}

/** Channels of a model's input (1 for gray models). */
export function modelChannels(model: Model): 1 | 3 {
  const c = model.input.shape![1];
  if (c === 1) return 1;
  if (c === 3 || c === undefined || typeof c === 'string') return 3;
  throw new ConvLensError('MODEL_UNSUPPORTED', `Model "${model.name}" takes ${c} input channels; image synthesis needs 1 (gray) or 3 (RGB).`, 'Use a model whose input has 1 (gray) or 3 (RGB) channels.');
}

/**
 * Appends the model's preprocessing (image space [0, 1] -> model input) as one 1x1 Conv:
 * channel mixing (RGB -> luma for gray models, gray -> RGB, RGB -> BGR), the value range, an
 * optional inversion and mean/std normalization.
 */
export function appendPreprocessing(b: GraphBuilder, u: string, imageChannels: 1 | 3, prep: Preprocessing, modelCh: 1 | 3, name?: string): string {
  const mix: number[][] = [];
  const LUMA = [0.299, 0.587, 0.114];
  for (let o = 0; o < modelCh; o++) {
    const row = new Array<number>(imageChannels).fill(0);
    if (imageChannels === 1) row[0] = 1;
    else if (modelCh === 1) LUMA.forEach((v, i) => (row[i] = v));
    else row[prep.channels === 'bgr' ? 2 - o : o] = 1;
    mix.push(row);
  }
  const [lo, hi] = prep.range;
  const w = new Float32Array(modelCh * imageChannels);
  const bias = new Float32Array(modelCh);
  for (let o = 0; o < modelCh; o++) {
    // model channel o holds source channel src (bgr reverses the order)
    const src = prep.channels === 'bgr' ? 2 - o : o;
    const mean = prep.mean[src] ?? prep.mean[0] ?? 0;
    const std = prep.std[src] ?? prep.std[0] ?? 1;
    // x = (lo + (hi - lo) * v' - mean) / std, with v' = v or 1 - v (inverted datasets)
    const a = ((hi - lo) * (prep.invert ? -1 : 1)) / std;
    const c = (lo + (prep.invert ? hi - lo : 0) - mean) / std;
    for (let i = 0; i < imageChannels; i++) w[o * imageChannels + i] = a * mix[o]![i]!;
    bias[o] = c;
  }
  const W = b.constant({ dtype: 'float32', dims: [modelCh, imageChannels, 1, 1], data: w }, 'prep_w');
  const B = b.constant({ dtype: 'float32', dims: [modelCh], data: bias }, 'prep_b');
  return b.op('Conv', [u, W, B], { kernel_shape: [1, 1] }, name ? { outputs: [name] } : {});
}

/** Inverse of the preprocessing for display: model-space tensor -> image space [0, 1] (clamped). */
export function modelToImage(x: Float32Array, dims: readonly number[], prep: Preprocessing): Float32Array {
  const [n, c, h, w] = dims as [number, number, number, number];
  const out = new Float32Array(x.length);
  const [lo, hi] = prep.range;
  const plane = h * w;
  for (let i = 0; i < n; i++) {
    for (let ch = 0; ch < c; ch++) {
      const src = prep.channels === 'bgr' ? 2 - ch : ch;
      const mean = prep.mean[src] ?? prep.mean[0] ?? 0;
      const std = prep.std[src] ?? prep.std[0] ?? 1;
      const o = (i * c + src) * plane;
      const s = (i * c + ch) * plane;
      for (let p = 0; p < plane; p++) {
        let v = ((x[s + p]! * std + mean - lo) / (hi - lo));
        if (prep.invert) v = 1 - v;
        out[o + p] = Math.max(0, Math.min(1, v));
      }
    }
  }
  return out;
}

/** Model nodes needed to compute `values`, in order. */
function neededNodes(graph: Graph, values: readonly string[]): Node[] {
  const needed = new Set(values);
  const kept: Node[] = [];
  for (let k = graph.nodes.length - 1; k >= 0; k--) {
    const node = graph.nodes[k]!;
    if (!node.outputs.some((o) => o && needed.has(o))) continue;
    kept.push(node);
    for (const i of node.inputs) if (i) needed.add(i);
  }
  return kept.reverse();
}

export interface ComposedGraph {
  b: GraphBuilder;
  /** the parameter input */
  theta: string;
  /** image-space values [N, C, H, W] before the warp */
  image: string;
  /** the tensor fed to the model's first layer */
  modelInput: string;
  warpIndex?: string;
  warpWeight?: string;
}

/**
 * Builds parameters -> image -> warp -> preprocessing -> the model nodes needed for `layers`,
 * replayed through one builder (so shapes are inferred at the synthesis size).
 */
export function composeGraph(model: Model, shape: ImageShape, param: Parameterization, layers: readonly string[], warp?: WarpSize): ComposedGraph {
  const g = model.graph;
  const b = new GraphBuilder();
  b.graph.name = `${g.name}_synthesis`;
  // Reserve the model's names so the prefix's fresh names never collide with them.
  for (const n of g.valueNames()) if (n !== model.input.name) b.uniqueName(n);
  for (const n of g.nodes) if (n.name) b.uniqueName(n.name);
  const nodes = neededNodes(g, layers);
  const used = new Set(nodes.flatMap((n) => n.inputs));
  for (const [name, t] of g.initializers) if (used.has(name)) b.initializer(name, t);

  const { batch: N, channels: C, height: H, width: W } = shape;
  const theta = b.input('synth:theta', 'float32', param.shape(shape));
  const image = b.op('Identity', [param.build(b, theta, shape)], {}, { outputs: ['synth:image'] });
  let u = image;
  let warpIndex: string | undefined;
  let warpWeight: string | undefined;
  if (warp) {
    const outHW = warp.height * warp.width;
    warpIndex = b.input('synth:warp_index', 'int64', [4, outHW]);
    warpWeight = b.input('synth:warp_weight', 'float32', [4, outHW]);
    // The image as [N, C, H*W + 1]: the extra pixel holds the fill value that out-of-range taps read.
    const flat = b.op('Reshape', [u, b.ints([N, C, H * W])]);
    const fill = b.constant({ dtype: 'float32', dims: [N, C, 1], data: new Float32Array(N * C).fill(warp.fill ?? 0.5) }, 'warp_fill');
    const padded = b.op('Concat', [flat, fill], { axis: 2 });
    const taps = b.op('Gather', [padded, warpIndex], { axis: 2 }); // [N, C, 4, outHW]
    const mixed = b.op('ReduceSum', [b.op('Mul', [taps, warpWeight]), b.ints([2])], { keepdims: 0 });
    u = b.op('Reshape', [mixed, b.ints([N, C, warp.height, warp.width])], {}, { outputs: ['synth:warped'] });
  }
  const modelInput = appendPreprocessing(b, u, C, model.meta.preprocessing, modelChannels(model), model.input.name);
  try {
    for (const node of nodes) b.addNode({ ...node, inputs: [...node.inputs], outputs: [...node.outputs], attrs: { ...node.attrs } });
  } catch (e) {
    const [mh, mw] = warp ? [warp.height, warp.width] : [H, W];
    const fixed = modelInputSize(model);
    const hint = imageTooSmall(e)
      ? `At ${mh}x${mw} (height x width) one side is too short for the model's windows up to there: make the image larger (--size or --max-side) or less elongated.`
      : fixed
        ? `The model takes ${fixed[0]}x${fixed[1]} images; objectives on layers after a flatten or dense layer need that size (--size ${fixed[0]}).`
        : 'Choose an earlier (convolutional) layer or another size.';
    throw new ConvLensError('SHAPE_MISMATCH', `Model "${model.name}" cannot run on ${mh}x${mw} inputs up to layer${layers.length > 1 ? 's' : ''} ${layers.join(', ')}: ${(e as Error).message}`, hint, { cause: e });
  }
  return { b, theta, image, modelInput, ...(warpIndex ? { warpIndex, warpWeight: warpWeight! } : {}) };
}

/** Whether shape inference failed because a window (kernel, pool) is larger than the image it reads. */
export function imageTooSmall(e: unknown): boolean {
  return e instanceof Error && /does not fit the padded input size/.test(e.message);
}

export interface StepResult {
  /** objective value (summed over the batch) */
  value: number;
  /** d objective / d theta */
  grad: Float32Array;
  /** the image (image space) the parameters gave, before the update */
  image: Float32Array;
  /** labelled terms of the objective */
  terms: Record<string, number>;
  /** extra fetched values (layers asked for with `fetch`) */
  values: Record<string, Tensor>;
}

interface SessionMeta {
  grad: string;
  value: string;
  terms: Record<string, string>;
  feeds: string[];
  warp: boolean;
}

const metas = new Map<string, SessionMeta>();

/**
 * One compiled synthesis graph, reused for every step of a run (and across runs of the same
 * structure: sessions are cached by model, sizes, parameterization and objective structure).
 */
export class SynthesisSession {
  private constructor(
    readonly spec: SynthesisSpec,
    private readonly compiled: CompiledGraph,
    private readonly meta: SessionMeta,
    private readonly feeds: Record<string, Tensor>,
    readonly fetch: readonly string[],
  ) {}

  /** `fetch`: model layers to output as well (e.g. the logits, to report the prediction). */
  static async create(spec: SynthesisSpec, fetch: readonly string[] = []): Promise<SynthesisSession> {
    const { model, shape, param, objective, warp } = spec;
    const fetched = fetch.map((f) => model.resolveLayer(f));
    const key = `${model.id}|synth|${shape.batch}x${shape.channels}x${shape.height}x${shape.width}|${param.key}|${warp ? `warp${warp.height}x${warp.width}f${warp.fill ?? 0.5}` : 'nowarp'}|${objective.key}|fetch:${fetched.join(',')}`;
    let meta = metas.get(key);
    const compiled = await model.engine.compile(key, () => {
      const layers = [...new Set([...objective.layers(model), ...fetched])];
      const c = composeGraph(model, shape, param, layers, warp);
      const terms: Record<string, string> = {};
      const feedNames: string[] = [];
      const ctx: ObjectiveContext = {
        b: c.b,
        model,
        image: c.image,
        batch: shape.batch,
        layer: (name) => model.resolveLayer(name),
        logits: () => model.output,
        input: (name, dims) => {
          const n = c.b.input(`target:${name}`, 'float32', dims);
          feedNames.push(n);
          return n;
        },
        report: (label, scalar) => {
          if (terms[label]) return;
          terms[label] = c.b.op('Identity', [scalar], {}, { outputs: [c.b.uniqueName(`term:${label}`)] });
        },
        scope: '',
      };
      const value = c.b.op('Identity', [objective.build(ctx)], {}, { outputs: ['synth:objective'] });
      const graph = c.b.build();
      const gg = buildGradientGraph(graph, { seed: { scalar: value }, wrt: [c.theta], outputs: [value, c.image, ...Object.values(terms), ...fetched] });
      meta = { grad: gg.gradientOutputs[c.theta]!, value, terms, feeds: feedNames, warp: !!warp };
      metas.set(key, meta);
      return gg.graph;
    });
    meta ??= metas.get(key)!;
    const feeds: Record<string, Tensor> = {};
    const given = objective.feeds();
    for (const n of meta.feeds) {
      const t = given.get(n.slice('target:'.length));
      if (!t) throw new Error(`internal: no value for objective input "${n}"`);
      feeds[n] = t;
    }
    return new SynthesisSession(spec, compiled, meta, feeds, fetched);
  }

  /** Objective, gradient and image at `theta` (with this step's warp, if the graph has one). */
  async step(theta: Float32Array, warp?: Warp): Promise<StepResult> {
    const feeds: Record<string, Tensor> = { ...this.feeds, 'synth:theta': { dtype: 'float32', dims: this.spec.param.shape(this.spec.shape), data: theta } };
    if (this.meta.warp) {
      if (!warp) throw new Error('internal: this synthesis graph needs a warp every step');
      const n = warp.weights.length / 4;
      feeds['synth:warp_index'] = { dtype: 'int64', dims: [4, n], data: warp.indices };
      feeds['synth:warp_weight'] = { dtype: 'float32', dims: [4, n], data: warp.weights };
    }
    const out = await this.compiled.run(feeds);
    const terms: Record<string, number> = {};
    for (const [label, name] of Object.entries(this.meta.terms)) terms[label] = (out[name]!.data as Float32Array)[0]!;
    const values: Record<string, Tensor> = {};
    for (const f of this.fetch) values[f] = out[f]!;
    return { value: (out[this.meta.value]!.data as Float32Array)[0]!, grad: out[this.meta.grad]!.data as Float32Array, image: out['synth:image']!.data as Float32Array, terms, values };
  }
}

/**
 * Forward features of images (image space [0, 1]) at their own size: the raw layer values, or
 * their Gram matrices G = F F^T / (H W) per image ([N, C, C]), computed by ONNX Runtime.
 */
export async function extractFeatures(model: Model, images: Tensor, requests: readonly { layer: string; gram?: boolean }[]): Promise<Tensor[]> {
  const [N, C, H, W] = images.dims as [number, 1 | 3, number, number];
  const layers = requests.map((r) => model.resolveLayer(r.layer));
  const key = `${model.id}|features|${N}x${C}x${H}x${W}|${requests.map((r, i) => `${layers[i]}${r.gram ? ':gram' : ''}`).join(',')}`;
  const outNames: string[] = [];
  const compiled = await model.engine.compile(key, () => {
    const c = composeGraph(model, { batch: N, channels: C, height: H, width: W }, IDENTITY, layers);
    requests.forEach((r, i) => {
      const name = r.gram ? gramMatrix(c.b, layers[i]!) : layers[i]!;
      c.b.output(name);
    });
    const g = c.b.build();
    return pruneGraph(g);
  });
  for (const o of compiled.graph.outputs) outNames.push(o.name);
  const out = await compiled.run({ 'synth:theta': images });
  return requests.map((r, i) => {
    // outputs were added in request order; a layer requested twice raw maps to one output
    const name = r.gram ? outNames.find((o) => o.startsWith(`gram:${layers[i]}`))! : layers[i]!;
    return out[name]!;
  });
}

/** Gram matrices of a 4-D layer: [N, C, C] = F F^T / (H W) with F = [N, C, H*W]. */
export function gramMatrix(b: GraphBuilder, layer: string, name?: string): string {
  const [N, C, H, W] = b.staticShape(layer) as [number, number, number, number];
  const f = b.op('Reshape', [layer, b.ints([N, C, H * W])]);
  const ft = b.op('Transpose', [f], { perm: [0, 2, 1] });
  const g = b.op('MatMul', [f, ft]);
  return b.op('Mul', [g, b.scalar(1 / (H * W))], {}, { outputs: [name ?? b.uniqueName(`gram:${layer}`)] });
}

/** The identity parameterization: theta is the image (used for forward feature extraction). */
const IDENTITY: Parameterization = {
  key: 'identity',
  kind: 'pixel',
  shape: (s) => [s.batch, s.channels, s.height, s.width],
  init: () => {
    throw new Error('identity parameterization has no init');
  },
  build: (b, theta) => b.op('Identity', [theta]),
  toImage: (t) => t,
};

/**
 * Appends a copy of a model's nodes (those `layers` need) to another graph, reading `input`
 * instead of the model's input; values are renamed with `prefix`, initializers with
 * `initPrefix` (added once, so several copies share the weights). Returns layer -> new name.
 * Used to put a loss network (the texture backbone) behind a network being trained.
 */
export function appendModelCopy(b: GraphBuilder, model: Model, input: string, layers: readonly string[], prefix: string, initPrefix: string): Record<string, string> {
  const g = model.graph;
  const resolved = layers.map((l) => model.resolveLayer(l));
  const nodes = neededNodes(g, resolved);
  const rename = (v: string): string => {
    if (!v) return v;
    if (v === model.input.name) return input;
    if (g.initializers.has(v)) return `${initPrefix}${v}`;
    return `${prefix}${v}`;
  };
  for (const n of nodes)
    for (const i of n.inputs) {
      const t = g.initializers.get(i);
      if (t && !b.has(`${initPrefix}${i}`)) b.initializer(`${initPrefix}${i}`, t);
    }
  for (const n of nodes) b.addNode({ ...n, name: `${prefix}${n.name}`, inputs: n.inputs.map(rename), outputs: n.outputs.map(rename), attrs: { ...n.attrs } });
  return Object.fromEntries(layers.map((l, i) => [l, rename(resolved[i]!)]));
}
