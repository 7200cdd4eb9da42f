import { buildGradientGraph, type GradientGraph, type GradientRequest } from '../engine/autodiff/gradient.js';
import { closestNames, ConvLensError, describeValue, quotedName } from '../engine/errors.js';
import { GraphBuilder } from '../engine/graph/builder.js';
import type { ValueFacts } from '../engine/graph/facts.js';
import { abbreviateName } from '../util/names.js';
import { attrInt, attrInts, type Dim, type Graph, type Node, type ValueInfo } from '../engine/graph/ir.js';
import { dropUnusedConstants, pruneGraph } from '../engine/graph/prune.js';
import { normalizeGraph } from '../engine/onnx/import.js';
import { windowGeometry, WindowDoesNotFit } from '../engine/ops/geometry.js';
import { findOp, quantizedModelError } from '../engine/ops/registry.js';
import type { Engine } from '../engine/runtime/engine.js';
import { nonFiniteCount, sizeOf, type Tensor } from '../engine/tensor.js';
import { areNumberedLabels, checkPreprocessing, NO_LABELS_WARNING, outputNoun, readMetadata, type ModelMetadata, type Preprocessing } from './metadata.js';
import { modelProfile, type ModelProfile } from './profile.js';
import { withChannelsFirstInput } from './channels-first-input.js';
import { withClassifierFirst } from './classifier-output.js';
import { withClassMeans, type ClassMeans } from './class-map.js';
import { withFloat32Compute } from './float32-compute.js';
import { binaryLabels, TWO_CLASSES_NOTE, withTwoClassLogit, type TwoClasses } from './binary-logit.js';
import { withFlatLogits } from './flat-logits.js';
import { declaredOutputKind, readOutput, type OutputKind } from './output-kind.js';
import { withFloatInput } from './float-input.js';
import { withSizeFreeReshapes } from './size-free-reshapes.js';
import { axisLayouts, isChannelsFirst, notChannelsFirst, sameLayout, type AxisLayout } from './layout.js';
import { tokenGrids, type TokenGrid } from './token-grid.js';
import { countedParameters } from './parameters.js';
import { checkConstantWork } from './constant-work.js';
import { quantizationOf, type Quantization } from './quantization.js';

let nextId = 1;

/** Ops whose outputs a user can pick as a "layer" (feature maps, activations). */
const PICKABLE_OPS = new Set([
  'Conv', 'ConvTranspose', 'Relu', 'LeakyRelu', 'PRelu', 'Elu', 'Sigmoid', 'Tanh', 'Clip', 'HardSigmoid', 'HardSwish', 'Softplus',
  'MaxPool', 'AveragePool', 'GlobalAveragePool', 'GlobalMaxPool', 'BatchNormalization', 'InstanceNormalization', 'Add', 'Concat',
  'Gemm', 'MatMul', 'Resize', 'Mul', 'Softmax', 'Flatten',
]);

export interface PickableValue {
  /** value name (what --layer takes) */
  name: string;
  /** node that produces it */
  node: string;
  op: string;
  shape: Dim[];
}

/**
 * A loaded model: its graph in the engine's form, its self-description (labels, preprocessing),
 * and cached sessions for forward runs and gradients.
 */
/**
 * The hidden unit a model cut by `unitModel` scores: its "classes" are the channels of `layer`,
 * each the channel's mean over the positions or, with `at`, its value at one position.
 */
export interface UnitTarget {
  /** the layer's value name */
  layer: string;
  /** the layer as figures and messages name it */
  label: string;
  /** [row, column] in the layer's feature map */
  at?: [number, number];
}

/**
 * Refuses a first output that is neither class scores [N, K] nor anything loading made into them
 * (a class map's means, a flattened [N, K, 1, 1], one logit): a value per anchor or per token
 * [N, A, K], as a detector's head exported without its post-processing gives (SSDlite: box
 * regressions [N, 3234, 4] and class logits [N, 3234, 91]). Read as a classifier it had the last
 * axis' K "classes", predictions named "class 3752" of 4, and every explanation failed deep
 * inside ("a scalar seed needs a single value").
 */
function refuseUnscoredOutput(name: string, output: string, shape: readonly Dim[] | undefined, outputs: number): void {
  if (!shape || shape.length < 3) return;
  const middle = shape.slice(1, -1);
  if (middle.every((d) => d === 1)) return;
  const shown = `[${shape.map((d, i) => (i === 0 && typeof d !== 'number' ? 'N' : d)).join(', ')}]`;
  throw new ConvLensError(
    'MODEL_UNSUPPORTED',
    `Model "${name}" ${outputs > 1 ? 'has no output of class scores: its first, ' : 'outputs '}"${abbreviateName(output)}" has shape ${shown}, neither class scores [N, K] nor a class map [N, K, H, W]: a value per anchor or token, as a detector's head (box regressions, per-anchor class logits) or a transformer without its classification head gives.`,
    'ConvLens explains image classifiers and segmentation nets. Export the model with one output of class scores [N, K] (a classification head on the backbone) or a class map [N, K, H, W].',
  );
}

export class Model {
  readonly id: string;
  readonly graph: Graph;
  readonly input: ValueInfo;
  /** the classifier output (logits, pre-softmax when the graph ends in Softmax) */
  readonly output: string;
  readonly meta: ModelMetadata;
  /** whether the file's output was one logit, made the two classes [-l/2, l/2] (binary-logit.ts) */
  readonly binary: boolean;
  /** how the output's scores are read: a softmax's logits, independent sigmoids' logits, or values (output-kind.ts) */
  readonly outputKind: OutputKind;
  /** the per-pixel class map whose means are the class scores, when the file's output was one (class-map.ts) */
  readonly classMap: string | undefined;
  private builderCache: GraphBuilder | undefined;
  private profileCache: ModelProfile | undefined;
  private aliasCache: Map<string, string> | undefined;
  private labelCache: Map<string, string> | undefined;
  /** 1-based layer numbers (`#k`) by value name: they follow the graph's nodes only */
  private numberCache: Map<string, number> | undefined;
  private layoutCache: Map<string, AxisLayout> | undefined;
  /** values whose positions are no longer the image's (cut into windows, merged with the batch; layout.ts) */
  private regroupedCache = new Set<string>();
  private tokenCache: Map<string, TokenGrid> | undefined;
  private readonly gradientGraphs = new Map<string, GradientGraph>();
  private quantizationCache: Quantization | undefined;

  constructor(
    graph: Graph,
    readonly engine: Engine,
    readonly name: string = graph.name,
    /** set when the model scores a hidden layer's channels instead of classes (see unit-model.ts) */
    readonly unit?: UnitTarget,
    /**
     * `classMap: 'keep'` leaves a first output [N, C, h, w] as it is: for the feature networks
     * ConvLens builds itself (the texture backbone), whose outputs are read as layers, not scores.
     * Otherwise such an output is a per-pixel class map and is given class means (class-map.ts).
     */
    options: {
      classMap?: 'means' | 'keep';
      /**
       * `inputLayout: 'channels-first'` takes the input as the NCHW it is declared: for a network
       * cut at a layer (tail-model.ts), whose [N, 512, 8, 4] the layout guess for files would read
       * as a channels-last image with 4 channels.
       */
      inputLayout?: 'guess' | 'channels-first';
    } = {},
  ) {
    this.id = `${name}#${nextId++}`;
    const inputs = graph.realInputs();
    if (inputs.length !== 1) {
      throw new ConvLensError('MODEL_UNSUPPORTED', `Model "${name}" has ${inputs.length} inputs (${inputs.map((i) => i.name).join(', ')}); ConvLens expects one image input.`, 'Export the model with a single NCHW image input.');
    }
    const input = inputs[0]!;
    if (!input.shape || input.shape.length !== 4) {
      throw new ConvLensError('MODEL_UNSUPPORTED', `Model "${name}" input "${input.name}" has shape [${input.shape?.join(', ') ?? '?'}]; ConvLens expects an NCHW image tensor.`, 'Export the model with a 4-D input [N, C, H, W].');
    }
    const float32 = withFloat32Compute(graph);
    const floatInput = withFloatInput(float32.graph);
    const channelsFirst = options.inputLayout === 'channels-first' ? floatInput.graph : withChannelsFirstInput(floatInput.graph);
    const classifierFirst = withClassifierFirst(channelsFirst);
    const symbolicBatch = withSymbolicBatch(classifierFirst.graph);
    const flat = withFlatLogits(withSizeFreeReshapes(symbolicBatch.graph));
    const classMap: ClassMeans = options.classMap === 'keep' ? { graph: flat } : withClassMeans(flat, flat.realInputs()[0]!.name);
    // a unit model's "classes" are a layer's channels, even one; a declared regression's or
    // multi-label head's one output is a value or an attribute's logit, not a binary classifier's
    const declared = options.classMap === 'keep' || unit ? {} : declaredOutputKind(graph);
    const declaredOther = declared.kind !== undefined && declared.kind !== 'single-label';
    const binary: TwoClasses = options.classMap === 'keep' || unit || declaredOther ? { graph: classMap.graph } : withTwoClassLogit(classMap.graph, classMap.graph.realInputs()[0]!.name);
    this.graph = binary.graph;
    this.binary = binary.graph !== classMap.graph;
    this.classMap = classMap.map?.name;
    this.input = this.graph.realInputs()[0]!;
    if (this.graph.outputs.length === 0) throw new ConvLensError('MODEL_UNSUPPORTED', `Model "${name}" has no outputs.`, 'Re-export the model with its outputs declared in the ONNX graph.');
    // one inference for both reads: a model of any size is inferred afresh on each builder() until its metadata is read
    const loading = this.builder();
    const reading = options.classMap === 'keep' || unit ? undefined : readOutput(this.graph, loading, preSoftmaxOutput(this.graph), declared.kind);
    this.outputKind = reading?.kind ?? 'single-label';
    this.output = reading?.scores ?? preSoftmaxOutput(this.graph);
    const outShape = loading.factsOf(this.output).shape;
    if (options.classMap !== 'keep' && !unit) refuseUnscoredOutput(name, this.graph.outputs[0]!.name, outShape, this.graph.outputs.length);
    const classes = outShape && typeof outShape[outShape.length - 1] === 'number' ? (outShape[outShape.length - 1] as number) : undefined;
    this.meta = readMetadata(this.graph, this.input, classes, { integerPixels: floatInput.integerInput !== undefined, outputKind: this.outputKind });
    if (this.binary) this.meta.labels = binaryLabels(this.meta.labels);
    if (float32.note) this.meta.warnings.push(float32.note);
    if (classifierFirst.note) this.meta.warnings.push(classifierFirst.note);
    if (classMap.note) this.meta.warnings.push(classMap.note);
    if (classMap.map) this.meta.warnings.push(classMapNote(this, classMap.map));
    // a 1-channel map's note says what became of its mean (one logit) itself
    if (binary.note && !classMap.map) this.meta.warnings.push(binary.note);
    if (symbolicBatch.note) this.meta.warnings.push(symbolicBatch.note);
    if (declared.warning) this.meta.warnings.push(declared.warning);
    if (reading?.note) this.meta.warnings.push(reading.note);
    if (floatInput.integerInput) this.meta.warnings.push(`input "${input.name}" is ${floatInput.integerInput} in the file; ConvLens gives it float32 pixels (its casts to float32 dropped)`);
    if (channelsFirst !== floatInput.graph) {
      // a converter's name for the free batch (tf2onnx's "unk__123") says nothing to a user: N
      const shown = (shape: readonly unknown[]): string => `[${shape.map((d, i) => (i === 0 && typeof d !== 'number' ? 'N' : d)).join(', ')}]`;
      this.meta.warnings.push(`input "${input.name}" is channels-last ${shown(input.shape)} in the file; ConvLens gives it NCHW ${shown(this.input.shape!)} images (a .npy input or a library tensor must be NCHW too)`);
    }
    checkWindowsFit(this.name, this.graph, this.builder());
    checkConstantWork(this.name, this.graph, this.builder());
    const broken = nonFiniteParameters(this.graph);
    if (broken.length) {
      const shown = broken.slice(0, 3).map((b) => `"${b.name}" (${b.count} of ${b.size})`).join(', ');
      this.meta.warnings.push(
        `${broken.length} parameter tensor${broken.length > 1 ? 's hold' : ' holds'} NaN or infinite values: ${shown}${broken.length > 3 ? ', ...' : ''}; the model's outputs will be NaN (a diverged training run or a damaged file)`,
      );
    }
  }

  /** Builds a Model from a decoded ONNX graph (any supported opset). */
  static fromOnnxGraph(decoded: Graph, engine: Engine, name?: string): Model {
    return new Model(normalizeGraph(decoded, name), engine, name ?? decoded.name);
  }

  get labels(): string[] {
    return this.meta.labels;
  }

  /**
   * An error for a class asked for by a name the model does not have. A model without class
   * names (labels "class 0", "class 1", ...) gets the way to name its classes, not a list of them.
   */
  unknownClassError(name: string): ConvLensError {
    const n = this.meta.labels.length;
    const noun = outputNoun(this.outputKind);
    if (areNumberedLabels(this.meta.labels)) {
      return new ConvLensError('UNKNOWN_NAME', `Model "${this.name}" has no ${noun} names, so ${quotedName(name)} names no ${noun}.`, `Name the ${noun} by its index (0-${n - 1}), or give the model its ${noun} names ("Describe this model" in the studio; CLI: --labels <file>, one per line).`);
    }
    return new ConvLensError('UNKNOWN_NAME', `No ${noun} ${quotedName(name)} in model "${this.name}".`, `${noun === 'class' ? 'Classes' : 'Outputs'}: ${this.meta.labels.slice(0, 12).join(', ')}${n > 12 ? ', ...' : ''}.`);
  }

  /** Whether and how the model is quantized (QDQ pairs, integer ops; see quantization.ts). */
  get quantization(): Quantization {
    this.quantizationCache ??= quantizationOf(this.graph);
    return this.quantizationCache;
  }

  /**
   * Refuses a model whose ops compute on integers (QLinearConv, ConvInteger, ...) for anything but
   * a forward run: their layer shapes are unknown and they have no gradient, so every command
   * that looks inside would otherwise fail later with a symptom (no class dimension, no spatial
   * layer). Commands call it once, before their own work (the CLI in openModel).
   */
  requireFloatComputation(): void {
    const q = this.quantization;
    if (q.kind === 'integer') throw quantizedModelError(q.nodes[0]!);
  }

  /** Which layer plays which part in each method (see profile.ts), from the metadata or the graph. */
  get profile(): ModelProfile {
    this.profileCache ??= modelProfile(this);
    return this.profileCache;
  }

  /**
   * Releases the engine's sessions compiled for this model (their keys start with its id), for a
   * holder that drops the model: the engine's cache would keep them until evicted. The model still
   * works; a later run compiles again.
   */
  releaseSessions(): Promise<void> {
    return this.engine.releaseSessions(`${this.id}|`);
  }

  /**
   * Describes what the file does not say (or says wrongly): class names and preprocessing, as
   * `--labels` and `--preprocess` do. Call before running anything: compiled sessions bake the
   * preprocessing in. Drops the warnings about what was assumed.
   */
  describe(o: { labels?: string[]; preprocessing?: Preprocessing }): void {
    if (o.labels) {
      const labels = this.binary ? binaryLabels(o.labels) : o.labels;
      if (this.meta.labels.length && labels.length !== this.meta.labels.length) {
        throw new ConvLensError(
          'INVALID_ARGUMENT',
          `${o.labels.length} ${outputNoun(this.outputKind)} names given; model "${this.name}" has ${this.meta.labels.length} outputs.`,
          this.binary ? 'The model is a binary classifier (one logit): give one name, what the logit detects (class 1; class 0 is "not" it), or two: class 0\'s, then class 1\'s.' : 'Give one name per output, in the model\'s output order.',
        );
      }
      this.meta.labels = labels;
      this.meta.warnings = this.meta.warnings.filter((w) => !NO_LABELS_WARNING.test(w) && !w.includes('convlens.labels'));
    }
    if (o.preprocessing) {
      const c = this.input.shape![1];
      checkPreprocessing(o.preprocessing, typeof c === 'number' ? c : 3);
      const [, , h, w] = this.input.shape!;
      if (typeof h === 'number' && typeof w === 'number' && (o.preprocessing.size[0] !== h || o.preprocessing.size[1] !== w)) {
        throw new ConvLensError('INVALID_ARGUMENT', `Preprocessing size ${o.preprocessing.size.join('x')} does not fit model "${this.name}", which takes ${h}x${w} images.`, `Leave "size" out (it defaults to the model's ${h}x${w}) or give [${h}, ${w}].`);
      }
      const before = { preprocessing: this.meta.preprocessing, builder: this.builderCache };
      this.meta.preprocessing = o.preprocessing;
      this.builderCache = undefined; // a model of any size is inferred at the preprocessing size
      try {
        checkWindowsFit(this.name, this.graph, this.builder());
      } catch (e) {
        // refused: the model stays as it was
        this.meta.preprocessing = before.preprocessing;
        this.builderCache = before.builder;
        throw e;
      }
      this.meta.warnings = this.meta.warnings.filter((w) => !w.startsWith('no preprocessing') && !w.includes('preprocessing mean/std'));
    }
    this.profileCache = undefined;
    this.tokenCache = undefined; // grid sizes are inferred at the preprocessing size
  }

  /** Static facts (dtype, shape) of any value, from shape inference. */
  facts(name: string): ValueFacts {
    return this.builder().factsOf(name);
  }

  /**
   * Shape inference over the graph. A model that takes any image size is inferred at its
   * preprocessing size, so layers have the concrete shapes methods and summaries need.
   */
  builder(): GraphBuilder {
    if (!this.builderCache) {
      const g = this.graph.clone();
      const input = g.inputs.find((i) => i.name === this.input.name)!;
      const [n, c, h, w] = input.shape!;
      const free = typeof h !== 'number' || typeof w !== 'number';
      // (while the constructor reads the output's class count, the metadata is not there yet)
      if (free && !this.meta) return GraphBuilder.over(g, { strict: false });
      if (free) input.shape = [n!, c!, this.meta.preprocessing.size[0], this.meta.preprocessing.size[1]];
      this.builderCache = GraphBuilder.over(g, { strict: false });
    }
    return this.builderCache;
  }

  /**
   * Whether a 4-D value is an [N, C, H, W] feature map: false for the [N, H, W, C] values inside a
   * channels-last block (between a model's permutes), true where the axes cannot be followed.
   */
  isChannelsFirst(name: string): boolean {
    return !this.layouts().regrouped.has(name) && isChannelsFirst(this.layouts().layouts.get(name));
  }

  /** Whether a 4-D value is an [N, H, W, C] map (inside a channels-last block: Swin's stages, ConvNeXt's LayerNorms). */
  isChannelsLast(name: string): boolean {
    const layout = this.layouts().layouts.get(name);
    return !!layout && sameLayout(layout, [0, 2, 3, 1]);
  }

  /** How a 4-D value that is no [N, C, H, W] map is laid out, in words (channels-last, or cut into windows). */
  notChannelsFirst(name: string): string {
    const { layouts, regrouped } = this.layouts();
    return notChannelsFirst(regrouped.has(name) ? [-1] : layouts.get(name));
  }

  /** The axis layouts of the values computed from the input, and the values whose positions were regrouped (layout.ts). */
  private layouts(): { layouts: ReadonlyMap<string, AxisLayout>; regrouped: ReadonlySet<string> } {
    this.layoutCache ??= axisLayouts(this.graph, this.builder(), this.input.name, this.regroupedCache);
    return { layouts: this.layoutCache, regrouped: this.regroupedCache };
  }

  /**
   * The value's token grid when it holds a vision transformer's tokens [N, tokens, C] (or
   * [N, C, tokens]) whose tokens, after any leading ones, are the patch grid (token-grid.ts).
   */
  tokenGrid(name: string): TokenGrid | undefined {
    return this.tokenGrids().get(name);
  }

  /** Every value that holds a token grid (see tokenGrid). */
  tokenGrids(): ReadonlyMap<string, TokenGrid> {
    this.tokenCache ??= tokenGrids(this.graph, this.builder(), this.layouts().layouts);
    return this.tokenCache;
  }

  /**
   * The labels of the first [N, C, H, W] layers after `value` in graph order: where a channels-last
   * block (ConvNeXt's LayerNorm and Linear between permutes) is back to channels-first.
   */
  channelsFirstAfter(value: string, count = 3): string[] {
    const list = this.pickableValues();
    const at = list.findIndex((p) => p.name === value);
    return list
      .slice(at + 1)
      .filter((p) => p.shape.length === 4 && this.isChannelsFirst(p.name))
      .slice(0, count)
      .map((p) => this.layerLabel(p.name));
  }

  /** Values a user can name as a layer (conv, activation, pooling, ... outputs), in graph order. */
  pickableValues(): PickableValue[] {
    const out: PickableValue[] = [];
    for (const n of this.graph.nodes) {
      if (!PICKABLE_OPS.has(n.op)) continue;
      const o = n.outputs[0];
      if (!o) continue;
      out.push({ name: o, node: n.name, op: n.op, shape: this.facts(o).shape ?? [] });
    }
    return out;
  }

  /**
   * Resolves a layer as users name it: a value name (`/fires.5/Concat_output_0`), a node name
   * (`/fires.5/Concat`, also without the leading slash), a module path from PyTorch's exporter
   * (`fires.5`: the output of the module's last node), or `#k`, the k-th layer of `convlens
   * summary`'s numbering (pickable values, from 1), or `input` for the model's input; names also
   * match ignoring case when that is unambiguous. Unknown names get the closest suggestions.
   */
  resolveLayer(name: string): string {
    if (typeof name !== 'string') {
      throw new ConvLensError('INVALID_ARGUMENT', `A layer is named by a string, got ${describeValue(name)}.`, 'Pass a layer name ("conv1"), a module path, "#k" from `convlens summary`, or "input".');
    }
    const values = this.graph.valueNames();
    if (values.has(name) && !this.graph.initializers.has(name)) return name;
    const byNode = this.graph.nodes.find((n) => n.name === name);
    if (byNode?.outputs[0]) return byNode.outputs[0];
    const aliases = this.layerAliases();
    const hit = aliases.get(name) ?? aliases.get(`~${name.toLowerCase()}`);
    if (hit) return hit;
    // Exporters name the input anything ("pixels", "x.1"); the examples say "input".
    if (name.trim().toLowerCase() === 'input') return this.input.name;
    const index = /^#(\d+)$/.exec(name.trim());
    if (index) {
      const list = this.pickableValues();
      const k = Number(index[1]);
      if (k >= 1 && k <= list.length) return list[k - 1]!.name;
      throw new ConvLensError('UNKNOWN_NAME', `No layer #${k}: the model has ${list.length} numbered layers.`, '`convlens summary` shows the numbers (#1 to #' + list.length + ').');
    }
    const layers = this.pickableValues().map((p) => p.name);
    const modules = [...aliases.keys()].filter((k) => !k.startsWith('~') && !k.includes('/'));
    const close = closestNames(name, [...layers, ...modules]);
    throw new ConvLensError('UNKNOWN_NAME', `No layer named ${quotedName(name)}.`, `Closest layer names: ${close.join(', ')}. ${layers.length <= 20 ? `All layers: ${layers.join(', ')}.` : `\`convlens summary --model <file>\` lists all ${layers.length} layers with their numbers (#k works too).`}`);
  }

  /** A short name for a layer in figures and messages: its module path when that names it (`fires.5`), else the name without exporter decoration. */
  layerLabel(value: string): string {
    const best = this.shortestAliases().get(value);
    const plain = shortLayerName(value);
    return best && best.length < plain.length ? best : plain;
  }

  /** 1-based number of a value in the layer numbering `#k` refers to, if it has one. */
  layerNumber(value: string): number | undefined {
    if (!this.numberCache) {
      this.numberCache = new Map();
      for (const n of this.graph.nodes) {
        const o = n.outputs[0];
        if (PICKABLE_OPS.has(n.op) && o && !this.numberCache.has(o)) this.numberCache.set(o, this.numberCache.size + 1);
      }
    }
    return this.numberCache.get(value);
  }

  /**
   * The shortest friendly name of each value. Summaries label and number every layer: searching
   * all aliases (and all layers) per layer made a 5,000-layer upload's summary hold the studio
   * server for 5 s, and a 200,000-layer one for hours.
   */
  private shortestAliases(): Map<string, string> {
    if (this.labelCache) return this.labelCache;
    const out = new Map<string, string>();
    for (const [alias, value] of this.layerAliases()) {
      if (alias.startsWith('~')) continue;
      const best = out.get(value);
      if (best === undefined || alias.length < best.length) out.set(value, alias);
    }
    this.labelCache = out;
    return out;
  }

  /** Friendly names -> value names (node names without '/', module paths; `~lowercase` keys for case-insensitive matches). */
  private layerAliases(): Map<string, string> {
    if (this.aliasCache) return this.aliasCache;
    const out = new Map<string, string>();
    const lower = new Map<string, Set<string>>();
    const add = (alias: string, value: string): void => {
      if (!alias || out.has(alias)) return;
      out.set(alias, value);
    };
    const real = (v: string | undefined): v is string => !!v && !this.graph.initializers.has(v);
    for (const n of this.graph.nodes) {
      const o = n.outputs[0];
      if (!real(o)) continue;
      if (n.name.startsWith('/')) add(n.name.slice(1), o);
      // module paths: every prefix of "/a/b/Op" names the module's last node's output (later nodes win)
      const parts = n.name.split('/').filter(Boolean);
      for (let k = 1; k < parts.length; k++) out.set(parts.slice(0, k).join('/'), o);
      for (const name of qualifiedModuleNames(parts.slice(0, -1))) out.set(name, o);
    }
    // exact names take precedence over module paths of the same spelling
    for (const v of this.graph.valueNames()) if (out.has(v)) out.delete(v);
    for (const [alias, value] of [...out, ...[...this.graph.valueNames()].filter(real).map((v) => [v, v] as const), ...this.graph.nodes.filter((n) => real(n.outputs[0])).map((n) => [n.name, n.outputs[0]!] as const)]) {
      const key = alias.toLowerCase();
      (lower.get(key) ?? lower.set(key, new Set()).get(key)!).add(value);
    }
    for (const [key, set] of lower) if (set.size === 1) out.set(`~${key}`, [...set][0]!);
    this.aliasCache = out;
    return out;
  }

  /** The last spatial layer before global pooling (the profile's CAM layer): the default for Grad-CAM and friends. */
  lastSpatialLayer(): string {
    const layer = this.profile.camLayer;
    const early = this.profile.camBeforeAttention;
    if (!layer && early) {
      const name = this.layerLabel(early.layer);
      throw new ConvLensError(
        'MODEL_UNSUPPORTED',
        `Model "${this.name}" has no spatial map after its attention layers: its last [N, C, H, W] value, ${name}, comes before attention across positions (a Softmax weighting a MatMul), as a vision transformer's patch embedding does, so a CAM there would show the first layer, not what the classifier reads.`,
        `Use a gradient or perturbation method (saliency, integrated-gradients, smoothgrad, occlusion), which work on any model; to see that early map anyway, name it (CLI: --layer ${name}).`,
      );
    }
    if (!layer) throw new ConvLensError('MODEL_UNSUPPORTED', `Model "${this.name}" has no spatial (4-D) layer on the path to its output.`, 'CAM-type methods and layer visualizations need a convolutional model.');
    return layer;
  }

  /**
   * Checks a batch against the model input and says what is wrong and what to pass instead.
   * `anyCount`: the caller splits the images into runs the model takes (explain), so a model
   * whose batch axis is fixed accepts any number of them.
   */
  checkInput(x: Tensor, options: { anyCount?: boolean } = {}): void {
    if (typeof x !== 'object' || x === null || !Array.isArray(x.dims) || x.data === undefined) {
      throw new ConvLensError('INVALID_ARGUMENT', `The input is a tensor { dtype, dims, data }, got ${describeValue(x)}.`, "Build one with f32([N, C, H, W], data), or load images with loadInputs (convlens/node).");
    }
    const fixed = this.input.shape!;
    const want = options.anyCount && x.dims.length === 4 ? [x.dims[0]!, ...fixed.slice(1)] : fixed;
    const ok = x.dims.length === 4 && want.every((d, i) => typeof d !== 'number' || d === x.dims[i]);
    if (x.dtype !== 'float32') {
      throw new ConvLensError('SHAPE_MISMATCH', `Input tensor has dtype ${x.dtype}; model "${this.name}" takes float32.`, 'Convert it: numpy.save(path, array.astype(numpy.float32)).');
    }
    const onlyBatch = x.dims.length === 4 && typeof want[0] === 'number' && x.dims[0] !== want[0] && want.every((d, i) => i === 0 || typeof d !== 'number' || d === x.dims[i]);
    if (onlyBatch) {
      // withSymbolicBatch could not free the batch axis: the graph builds its size into its shapes
      throw new ConvLensError(
        'SHAPE_MISMATCH',
        `Model "${this.name}" runs exactly ${want[0]} image${want[0] === 1 ? '' : 's'} at a time (its batch axis is fixed in the graph's shapes), and this run has ${x.dims[0]}.`,
        `Pass ${want[0]} image${want[0] === 1 ? '' : 's'} per call (CLI: --batch-size ${want[0]} where a command batches), or re-export the model with a free batch axis: torch.onnx.export(..., dynamic_axes={'input': {0: 'batch'}, 'output': {0: 'batch'}}).`,
      );
    }
    if (!ok) {
      throw new ConvLensError('SHAPE_MISMATCH', `Input tensor has shape [${x.dims.join(', ')}]; model "${this.name}" takes [${want.join(', ')}] (NCHW float32).`, `Pass images (they are resized to ${want[2]}x${want[3]}) or a preprocessed array of that shape.`);
    }
    if (x.dims[0] === 0) {
      throw new ConvLensError('SHAPE_MISMATCH', `Input tensor has shape [${x.dims.join(', ')}]: it holds no images.`, 'Pass at least one image.');
    }
    // ONNX Runtime checks these too, but its message names neither the model nor the way out.
    if (x.data.length !== sizeOf(x.dims)) {
      throw new ConvLensError('SHAPE_MISMATCH', `Input tensor has shape [${x.dims.join(', ')}] (${sizeOf(x.dims)} values) but its data holds ${x.data.length}.`, 'Make data hold N x C x H x W values, or fix dims to the data.');
    }
    if (!(x.data instanceof Float32Array)) {
      throw new ConvLensError('INVALID_ARGUMENT', `Input tensor is float32 but its data is ${describeValue(x.data)}.`, 'Pass the values as a Float32Array: Float32Array.from(values).');
    }
  }

  /** Forward run returning the classifier output and any named values. */
  async run(x: Tensor, fetch: readonly string[] = []): Promise<Record<string, Tensor>> {
    this.checkInput(x);
    const names = [...new Set([this.output, ...fetch.map((f) => this.resolveLayer(f))])];
    const key = `${this.id}|forward|${names.join(',')}`;
    const compiled = await this.engine.compile(key, () => {
      const g = this.graph.clone();
      const b = GraphBuilder.over(g, { strict: false });
      g.outputs = [];
      for (const n of names) b.output(n);
      return pruneGraph(b.build());
    });
    return compiled.run({ [this.input.name]: x });
  }

  /**
   * One combined forward+backward run (see buildGradientGraph): forward `outputs`, and the
   * gradients of the seeded values with respect to `wrt`, with the given rule set.
   * `upstream` feeds the seed gradients (one per seeded value) when the seed is `upstream`.
   */
  async gradients(x: Tensor, request: GradientRequest, upstream: Record<string, Tensor> = {}): Promise<{ values: Record<string, Tensor>; gradients: Record<string, Tensor> }> {
    this.checkInput(x);
    const { graph: forward, sizeKey } = this.staticGraph(x.dims);
    const key = `${this.id}|grad|${JSON.stringify(request)}${sizeKey}`;
    let meta = this.gradientGraphs.get(key);
    if (!meta) {
      meta = buildGradientGraph(forward, request);
      this.gradientGraphs.set(key, meta);
    }
    const graph = meta.graph;
    const compiled = await this.engine.compile(key, () => graph);
    const feeds: Record<string, Tensor> = { [this.input.name]: x };
    for (const [value, inputName] of Object.entries(meta.seedInputs)) {
      const t = upstream[value];
      if (!t) throw new ConvLensError('INVALID_ARGUMENT', `No upstream gradient given for "${value}".`, `Pass upstream["${value}"]: a gradient of the shape of "${value}".`);
      feeds[inputName] = t;
    }
    const out = await compiled.run(feeds);
    const gradients: Record<string, Tensor> = {};
    for (const [w, o] of Object.entries(meta.gradientOutputs)) gradients[w] = out[o]!;
    const values: Record<string, Tensor> = {};
    for (const o of request.outputs ?? []) values[o] = out[o]!;
    return { values, gradients };
  }

  /** [C, H, W] of one input: the model's own, or its preprocessing size when it takes any size. */
  inputDims(): [number, number, number] {
    const [, c, h, w] = this.input.shape!;
    const [ph, pw] = this.meta.preprocessing.size;
    return [typeof c === 'number' ? c : this.meta.preprocessing.channels === 'gray' ? 1 : 3, typeof h === 'number' ? h : ph, typeof w === 'number' ? w : pw];
  }

  /**
   * The graph with static spatial sizes for a batch of `dims`, as backward passes need: the
   * model's own graph, or for a model that takes any size a copy with the input fixed to the
   * batch's size (`sizeKey` tells cache keys apart).
   */
  staticGraph(dims: readonly number[]): { graph: Graph; sizeKey: string } {
    const [, , h, w] = this.input.shape!;
    if (typeof h === 'number' && typeof w === 'number') return { graph: this.graph, sizeKey: '' };
    const graph = this.graph.clone();
    const input = graph.inputs.find((i) => i.name === this.input.name)!;
    input.shape = [input.shape![0]!, input.shape![1]!, dims[2]!, dims[3]!];
    return { graph, sizeKey: `|${dims[2]}x${dims[3]}` };
  }

  /** Number of trainable parameters (float initializers). */
  parameterCount(): number {
    let n = 0;
    for (const t of countedParameters(this.graph).values()) n += sizeOf(t.dims);
    return n;
  }
}

/**
 * PyTorch's qualified names (`model.named_modules()`: features.5.0.block) of the scopes
 * torch.onnx.export writes as /features/features.5/features.5.0/block: a child of a Sequential
 * repeats its parent's name with its index, any other child is named on its own.
 */
function qualifiedModuleNames(scopes: readonly string[]): string[] {
  const names: string[] = [];
  scopes.forEach((scope, k) => {
    const parent = scopes[k - 1];
    const qualified = names[k - 1];
    names.push(parent === undefined || qualified === undefined ? scope : scope.startsWith(`${parent}.`) ? `${qualified}${scope.slice(parent.length)}` : `${qualified}.${scope}`);
  });
  return names;
}

/** A layer name as figures print it: exporters' decoration (leading '/', '_output_0') dropped. */
export function shortLayerName(name: string): string {
  return name.replace(/^\//, '').replace(/_output_\d+$/, '');
}

/**
 * Exporters often fix the batch at 1. Make it symbolic when the graph still infers with a
 * symbolic batch; a static export also writes its batch size into Reshape targets ([1, -1]
 * flattens, [1, 2, 58, 28, 28] channel shuffles), so when those are all that fix it, their first
 * entry becomes 0 ("copy the input's"), which is the same reshape for the exported batch.
 * Otherwise the file's shape stays (explain then runs such a model in runs of its batch).
 */
function withSymbolicBatch(graph: Graph): { graph: Graph; note?: string } {
  const input = graph.realInputs()[0]!;
  const batch = input.shape![0];
  if (typeof batch === 'number') return { graph: symbolicTrial(graph, input.name, false) ?? symbolicTrial(graph, input.name, true, batch) ?? graph };
  if (batch === undefined || outputsFollowBatch(graph, batch)) return { graph };
  // A free batch in the file that the graph does not keep: converters (MXNet's mobilenetv2-7 in
  // the ONNX Model Zoo) write the flatten as the constant [1, -1] anyway, so outputs lose the
  // batch and the class count. Read as the batch-1 export it is, the reshape usually frees.
  const freed = symbolicTrial(graph, input.name, true, 1);
  if (freed) return { graph: freed };
  const pinned = withBatchOne(graph, input.name);
  if (!pinned) return { graph };
  return {
    graph: pinned,
    note: `input "${input.name}" declares a free batch ("${batch}"), but the graph's shapes only fit one image (a constant batch of 1 in its Reshape targets); ConvLens runs it one image per run`,
  };
}

/** Whether every output leads with the input's batch symbol. */
function outputsFollowBatch(graph: Graph, batch: Dim): boolean {
  try {
    const b = GraphBuilder.over(graph, { strict: false });
    return graph.outputs.every((o) => b.factsOf(o.name).shape?.[0] === batch);
  } catch {
    return true; // nothing to fix that shape inference can see
  }
}

/** The graph with its input's batch pinned to 1, if every output then has a static shape. */
function withBatchOne(graph: Graph, inputName: string): Graph | undefined {
  const trial = graph.clone();
  const input = trial.inputs.find((i) => i.name === inputName)!;
  input.shape = [1, ...input.shape!.slice(1)];
  try {
    const b = GraphBuilder.over(trial, { strict: false });
    const shapes = trial.outputs.map((o) => b.factsOf(o.name).shape);
    if (!shapes.every((s) => s?.every((d) => typeof d === 'number'))) return undefined;
    trial.outputs = trial.outputs.map((o, i) => ({ ...o, shape: shapes[i] }));
    return trial;
  } catch {
    return undefined;
  }
}

/** The graph with a symbolic batch ('N') if every output keeps it (and, with `reshapes`, every rewritten Reshape reads a batch-first value). */
function symbolicTrial(graph: Graph, inputName: string, reshapes: boolean, batch?: number): Graph | undefined {
  const trial = graph.clone();
  const ti = trial.inputs.find((i) => i.name === inputName)!;
  ti.shape = ['N', ...ti.shape!.slice(1)];
  const rewritten: { node: Node; data: string }[] = [];
  const replaced: string[] = [];
  if (reshapes) {
    const constants = new Map<string, Tensor>(trial.initializers);
    for (const n of trial.nodes) if (n.op === 'Constant' && n.attrs['value']?.type === 'tensor') constants.set(n.outputs[0]!, n.attrs['value'].value as Tensor);
    for (const node of trial.nodes) {
      const target = node.op === 'Reshape' && attrInt(node, 'allowzero', 0) === 0 ? constants.get(node.inputs[1] ?? '') : undefined;
      if (!target || target.dtype !== 'int64' || target.dims.length !== 1 || Number((target.data as BigInt64Array)[0]) !== batch) continue;
      const copy = BigInt64Array.from(target.data as BigInt64Array);
      copy[0] = 0n;
      const name = `${node.inputs[1]}_batch_copied_${rewritten.length}`;
      replaced.push(node.inputs[1]!);
      trial.initializers.set(name, { dtype: 'int64', dims: [...target.dims], data: copy });
      node.inputs = [node.inputs[0]!, name, ...node.inputs.slice(2)];
      rewritten.push({ node, data: node.inputs[0]! });
    }
    if (!rewritten.length) return undefined;
    dropUnusedConstants(trial, replaced);
  }
  try {
    const b = GraphBuilder.over(trial, { strict: false });
    if (!trial.outputs.every((o) => b.factsOf(o.name).shape?.[0] === 'N')) return undefined;
    // a copied first entry is the batch only where the reshaped value leads with it
    if (!rewritten.every((r) => b.factsOf(r.data).shape?.[0] === 'N')) return undefined;
    trial.outputs = trial.outputs.map((o) => ({ ...o, shape: b.factsOf(o.name).shape }));
    return trial;
  } catch {
    return undefined;
  }
}

/** What loading did to a per-pixel class map, and how to explain one pixel instead. */
function classMapNote(model: Model, map: { name: string; shape: Dim[] }): string {
  const [, k, h, w] = map.shape;
  const label = model.layerLabel(map.name);
  const pixels = typeof h === 'number' && typeof w === 'number' ? `${h}x${w} ` : '';
  const row = typeof h === 'number' ? Math.floor(h / 2) : 'row';
  const col = typeof w === 'number' ? Math.floor(w / 2) : 'col';
  const scored =
    k === 1
      ? `the model's output is a 1-channel per-pixel map ("${label}", [N, 1, ${h}, ${w}]: a binary segmentation net's logits); its mean over the ${pixels}pixels is one logit l per image, and ${TWO_CLASSES_NOTE}, `
      : `the model's output is a per-pixel class map ("${label}", [N, ${k}, ${h}, ${w}]: a segmentation net's class scores, or a backbone's ${k} feature channels); ConvLens scores each of its ${k} channels as a class by its mean over the ${pixels}pixels, `;
  return (
    scored +
    `so predictions and explanations are of those whole-image class scores (to explain one pixel, explain a unit of layer "${label}" at that pixel, e.g. "${label}@${row},${col}" for row ${row}, column ${col}; CLI: --unit ${label}@${row},${col})`
  );
}

/** The logits: the graph's first output, or the input of a final Softmax. */
function preSoftmaxOutput(graph: Graph): string {
  const out = graph.outputs[0]!.name;
  const producer = graph.nodes.find((n) => n.outputs.includes(out));
  if (producer && (producer.op === 'Softmax' || producer.op === 'LogSoftmax') && findOp(producer.op)) return producer.inputs[0]!;
  return out;
}

/** Float parameters that hold NaN or infinite values, with how many. */
function nonFiniteParameters(graph: Graph): { name: string; count: number; size: number }[] {
  const found: { name: string; count: number; size: number }[] = [];
  for (const [name, t] of graph.initializers) {
    const count = nonFiniteCount(t);
    if (count) found.push({ name, count, size: sizeOf(t.dims) });
  }
  return found;
}

const WINDOWED = new Set(['Conv', 'MaxPool', 'AveragePool', 'LpPool']);

/**
 * Refuses an input size some window of the model does not fit (a declared 7x224 input for
 * SqueezeNet, or a preprocessing size that small for a model of any size): shape inference
 * (lenient for imported models) only marked the layers after it unknown, and ONNX Runtime's
 * pooling kernel then divided by zero, killing the process with SIGFPE.
 */
function checkWindowsFit(name: string, graph: Graph, b: GraphBuilder): void {
  for (const node of graph.nodes) {
    if (!WINDOWED.has(node.op) || !node.inputs[0] || !b.has(node.inputs[0])) continue;
    const x = b.factsOf(node.inputs[0]).shape;
    if (!x || x.length < 3 || !x.slice(2).every((d) => typeof d === 'number')) continue;
    const weight = node.op === 'Conv' && node.inputs[1] && b.has(node.inputs[1]) ? b.factsOf(node.inputs[1]).shape : undefined;
    const kernel = node.op === 'Conv' ? weight?.slice(2) : attrInts(node, 'kernel_shape');
    if (!kernel || !kernel.every((d): d is number => typeof d === 'number')) continue;
    try {
      windowGeometry(node, x.slice(2), kernel);
    } catch (e) {
      if (!(e instanceof WindowDoesNotFit)) continue; // other faults are ONNX Runtime's to report
      const input = graph.realInputs()[0]?.shape ?? [];
      const size = b.factsOf(graph.realInputs()[0]!.name).shape?.slice(2).join('x') ?? input.slice(2).join('x');
      throw new ConvLensError('SHAPE_MISMATCH', `Model "${name}" cannot run on ${size} inputs: ${e.message}.`, 'The input is too small for the model\'s windows: give the model (or, for a model of any size, its preprocessing; CLI: --preprocess) a larger input size.');
    }
  }
}
