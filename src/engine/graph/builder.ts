import { ConvLensError } from '../errors.js';
// Registering every op family and reference kernel here means any builder sees the full op set.
import '../ops/index.js';
import '../reference/kernels/index.js';
import { findOp, requireOp } from '../ops/registry.js';
import { evaluateNode, hasKernel, kernelWork } from '../reference/evaluator.js';
import { isFloatDType, sizeOf, type DType, type Tensor } from '../tensor.js';
import { checkComputedShape, MalformedNode, MAX_DIMS_VALUE, shapeError, type InferContext, type OutputFacts, type ValueFacts } from './facts.js';
import { Graph, toAttr, type AttrInput, type Dim, type Node, type ValueInfo } from './ir.js';

/** Every graph the builder makes is written against this ai.onnx opset (imports are converted to it). */
export const INTERNAL_OPSET = 17;

/** Folding bigger constants than this would slow graph building more than it saves at run time. */
const FOLD_LIMIT = 1 << 20;
/**
 * Steps of reference-kernel work (KernelWork: elements visited per axis, window tap or
 * contraction term) one graph's folding may spend in all, and elements it may keep as folded
 * values, beyond folds of at most FREE_FOLD_WORK steps (shape arithmetic, always folded). What
 * is not folded is left to the runtime's own constant folding. The JavaScript kernels took
 * 1.3 s for the 118M multiply-adds of a ResNet's first conv over a constant image (LRP's input
 * bounds), ONNX Runtime milliseconds; and the file that asks is not always a model: the studio
 * folds uploads on its event loop, where an Einsum "i,j->" of two 500,000-long constants (2.5e11
 * products for one scalar) never ended, and 1000 ConstantOfShape nodes of a million values each
 * (62 kB of file) filled 4 GB in 37 s.
 */
const FOLD_WORK_BUDGET = 1 << 24;
const FOLD_KEPT_BUDGET = 1 << 22;
const FREE_FOLD_WORK = 1 << 10;

export interface OpOptions {
  /** Node name; default: a fresh name from the op type. */
  name?: string;
  /** Output names, or how many fresh outputs to create (default 1). */
  outputs?: string[] | number;
  domain?: string;
}

/**
 * Builds graphs op by op, inferring each value's dtype, shape and (when static) constant value
 * as nodes are added, so errors surface at the node that causes them. Used to define models in
 * code, to import ONNX files, and by the autodiff to emit backward passes.
 */
export class GraphBuilder {
  readonly graph: Graph;
  private readonly facts = new Map<string, ValueFacts>();
  private readonly params = new Set<string>();
  private readonly used = new Set<string>();
  private readonly constCache = new Map<string, string>();
  private counter = 0;
  /** spent of FOLD_WORK_BUDGET and FOLD_KEPT_BUDGET */
  private foldSpent = { work: 0, kept: 0 };
  /** When false, unknown ops get unknown shapes instead of an error (imported models run forward anyway). */
  strict = true;
  /** When false, nothing is folded (used to keep a model's own structure intact on import). */
  fold = true;

  constructor(graph?: Graph) {
    this.graph = graph ?? new Graph();
    if (!graph) this.graph.opset = INTERNAL_OPSET;
    for (const n of this.graph.valueNames()) this.used.add(n);
    for (const n of this.graph.nodes) if (n.name) this.used.add(n.name);
  }

  /** Builder over an existing graph (opset-17 form, e.g. from importModel), inferring facts for all its values. */
  static over(graph: Graph, options: { strict?: boolean } = {}): GraphBuilder {
    const b = new GraphBuilder(graph);
    b.strict = options.strict ?? true;
    for (const i of graph.inputs) b.facts.set(i.name, infoFacts(i));
    for (const [name, t] of graph.initializers) {
      if (!graph.inputs.some((i) => i.name === name)) b.facts.set(name, { dtype: t.dtype, shape: [...t.dims], value: t });
      if (isFloatDType(t.dtype)) b.params.add(name);
    }
    for (const node of graph.nodes) {
      const values = b.constantOutputs(node);
      if (values) b.setValues(node, values);
      else b.inferInto(node);
    }
    return b;
  }

  // ------------------------------------------------------------ queries

  has(name: string): boolean {
    return this.facts.has(name);
  }

  factsOf(name: string): ValueFacts {
    const f = this.facts.get(name);
    if (!f) throw new ConvLensError('UNKNOWN_NAME', `No value named "${name}" in graph "${this.graph.name}".`, 'Check the name (names are case-sensitive); `convlens summary --model <file>` lists a model\'s layers.');
    return f;
  }

  shapeOf(name: string): Dim[] {
    const s = this.factsOf(name).shape;
    if (!s) throw new ConvLensError('SHAPE_MISMATCH', `The shape of "${name}" is not known statically.`, 'Fix the input size first, so the shapes can be inferred: Model.staticGraph(dims) returns the graph with static sizes.');
    return s;
  }

  /** The static shape, or an error naming the value if any dimension is symbolic. */
  staticShape(name: string): number[] {
    const s = this.shapeOf(name);
    if (!s.every((d) => typeof d === 'number')) {
      throw new ConvLensError('SHAPE_MISMATCH', `"${name}" has shape [${s.join(', ')}], but a static shape is needed here.`, 'Fix the input size before differentiating: Model.staticGraph(dims) returns the graph with static sizes.');
    }
    return s as number[];
  }

  valueOf(name: string): Tensor | undefined {
    return this.facts.get(name)?.value;
  }

  isParameter(name: string): boolean {
    return this.params.has(name);
  }

  parameters(): string[] {
    return [...this.params];
  }

  /** All facts, for consumers that annotate the finished graph. */
  allFacts(): ReadonlyMap<string, ValueFacts> {
    return this.facts;
  }

  // ------------------------------------------------------------ naming

  uniqueName(hint: string): string {
    let name = hint;
    while (this.used.has(name)) name = `${hint}_${++this.counter}`;
    this.used.add(name);
    return name;
  }

  // ------------------------------------------------------------ construction

  /** A graph input; `shape` undefined means even the rank is unknown. */
  input(name: string, dtype: DType, shape: Dim[] | undefined): string {
    if (this.facts.has(name)) throw new Error(`input "${name}" already exists`);
    this.used.add(name);
    this.graph.inputs.push(shape ? { name, dtype, shape: [...shape] } : { name, dtype });
    this.facts.set(name, shape ? { dtype, shape: [...shape] } : { dtype });
    return name;
  }

  /** A trainable parameter (float) or other stored tensor, saved as an initializer. */
  initializer(name: string, t: Tensor): string {
    if (this.facts.has(name)) throw new Error(`value "${name}" already exists`);
    this.used.add(name);
    this.graph.initializers.set(name, t);
    this.facts.set(name, { dtype: t.dtype, shape: [...t.dims], value: t });
    if (isFloatDType(t.dtype)) this.params.add(name);
    return name;
  }

  /** A constant (Constant node). Small constants are shared. */
  constant(t: Tensor, hint = 'const'): string {
    const small = t.data.length <= 16;
    const key = small ? `${t.dtype}|${t.dims.join(',')}|${Array.from(t.data as ArrayLike<number | bigint>, String).join(',')}` : '';
    if (small) {
      const hit = this.constCache.get(key);
      if (hit) return hit;
    }
    const name = this.uniqueName(hint);
    this.graph.nodes.push({ op: 'Constant', name, inputs: [], outputs: [name], attrs: { value: { type: 'tensor', value: t } } });
    this.facts.set(name, { dtype: t.dtype, shape: [...t.dims], value: t });
    if (small) this.constCache.set(key, name);
    return name;
  }

  /** int64 vector constant (shapes, axes, pads). */
  ints(values: readonly number[], hint = 'ints'): string {
    return this.constant({ dtype: 'int64', dims: [values.length], data: BigInt64Array.from(values, (v) => BigInt(v)) }, hint);
  }

  /** float32 scalar constant. */
  scalar(v: number, hint = 'scalar'): string {
    return this.constant({ dtype: 'float32', dims: [], data: Float32Array.of(v) }, hint);
  }

  /** Adds one node with a single output and returns the output's name. */
  op(type: string, inputs: readonly (string | undefined)[], attrs: Record<string, AttrInput | undefined> = {}, options: OpOptions = {}): string {
    const outs = this.opN(type, inputs, attrs, options);
    return outs[0]!;
  }

  /** Adds one node and returns all its output names. */
  opN(type: string, inputs: readonly (string | undefined)[], attrs: Record<string, AttrInput | undefined> = {}, options: OpOptions = {}): string[] {
    const name = options.name ? this.claim(options.name) : this.uniqueName(type);
    const outputs =
      Array.isArray(options.outputs)
        ? options.outputs.map((o) => (o === '' ? '' : this.claim(o)))
        : Array.from({ length: options.outputs ?? 1 }, (_, i) => this.uniqueName(i === 0 ? `${name}_out` : `${name}_out${i}`));
    const typed: Node['attrs'] = {};
    for (const [k, v] of Object.entries(attrs)) if (v !== undefined) typed[k] = toAttr(k, v);
    for (const i of inputs) {
      if (i && !this.facts.has(i)) throw new ConvLensError('UNKNOWN_NAME', `${type} node "${name}": input "${i}" does not exist in graph "${this.graph.name}".`, 'Add the value first (an input, initializer, constant or earlier op) and pass the name that call returned.');
    }
    const node: Node = { op: type, name, inputs: inputs.map((i) => i ?? ''), outputs, attrs: typed };
    if (options.domain) node.domain = options.domain;
    this.addNode(node);
    return outputs;
  }

  /** Adds a fully formed node (import path), inferring and possibly folding it. */
  addNode(node: Node): void {
    if (node.name) this.used.add(node.name);
    for (const o of node.outputs) if (o) this.used.add(o);
    const values = this.fold || node.op === 'Constant' ? this.constantOutputs(node) : undefined;
    if (values && node.op === 'Constant') {
      this.graph.nodes.push(node);
      this.setValues(node, values);
      return;
    }
    if (values) {
      // Keep the values but not the computation: Constant nodes under the same output names.
      node.outputs.forEach((o, i) => {
        if (!o) return;
        const value = values[i]!;
        this.graph.nodes.push({ op: 'Constant', name: this.uniqueName(`${node.name}_folded`), inputs: [], outputs: [o], attrs: { value: { type: 'tensor', value } } });
      });
      this.setValues(node, values);
      return;
    }
    this.graph.nodes.push(node);
    this.inferInto(node);
    // Shape rules compute some values statically (Shape of a static tensor): fold those too.
    if (this.fold && node.op !== 'Constant' && !findOp(node.op)?.keepNodeWhenConstant && node.outputs.every((o) => !o || this.facts.get(o)?.value)) {
      this.graph.nodes.pop();
      node.outputs.forEach((o) => {
        if (!o) return;
        const value = this.facts.get(o)!.value!;
        this.graph.nodes.push({ op: 'Constant', name: this.uniqueName(`${node.name}_folded`), inputs: [], outputs: [o], attrs: { value: { type: 'tensor', value } } });
      });
    }
  }

  output(name: string): void {
    const f = this.factsOf(name);
    if (this.graph.outputs.some((o) => o.name === name)) return;
    this.graph.outputs.push(f.shape ? { name, dtype: f.dtype, shape: [...f.shape] } : { name, dtype: f.dtype });
  }

  /** Writes inferred shapes into graph.valueInfo and returns the graph. */
  build(): Graph {
    for (const [name, f] of this.facts) {
      if (f.value || this.graph.initializers.has(name) || this.graph.inputs.some((i) => i.name === name)) continue;
      const info: ValueInfo = f.shape ? { name, dtype: f.dtype, shape: [...f.shape] } : { name, dtype: f.dtype };
      this.graph.valueInfo.set(name, info);
    }
    return this.graph;
  }

  // ------------------------------------------------------------ internals

  private claim(name: string): string {
    if (this.facts.has(name) || (this.used.has(name) && this.graph.valueNames().has(name))) {
      throw new Error(`value or node name "${name}" is already used in graph "${this.graph.name}"`);
    }
    this.used.add(name);
    return name;
  }

  private inferInto(node: Node): void {
    const def = findOp(node.op);
    if (!def || node.domain) {
      if (this.strict) requireOp(node, 'shape');
      for (const o of node.outputs) {
        if (!o) continue;
        const known = this.graph.valueInfo.get(o);
        this.facts.set(o, known ? infoFacts(known) : { dtype: this.firstInputDType(node) });
      }
      return;
    }
    const ctx = this.context(node);
    let results: OutputFacts[] | undefined;
    try {
      results = def.infer(ctx);
    } catch (e) {
      // A malformed node (a rule's MODEL_UNREADABLE: a quantization scale that does not fit its
      // axis) is the file's fault in any mode; ONNX Runtime would refuse it less clearly.
      if (this.strict || e instanceof MalformedNode || (e instanceof ConvLensError && e.code === 'MODEL_UNREADABLE')) throw e;
    }
    if (results) {
      // Even when not strict: a size no tensor can have is a fault of the file, not a missing rule.
      for (const [i, o] of node.outputs.entries()) if (o) checkComputedShape(node, o, results[i]?.shape);
    } else {
      // Forward-only use of an imported model: an op downstream of one without a shape rule
      // gets unknown shapes; ONNX Runtime still runs it, and the gradient builder (strict)
      // reports the op that lacks a rule.
      results = node.outputs.map((o) => {
        const known = this.graph.valueInfo.get(o);
        return known ? infoFacts(known) : { dtype: this.firstInputDType(node) };
      });
    }
    const facts = results;
    node.outputs.forEach((o, i) => {
      if (!o) return;
      const r = facts[i];
      if (!r) throw shapeError(node, `shape rule produced no facts for output ${i}`);
      const { dimsValue, ...known } = r;
      const followed = dimsValue && dimsValue.length <= MAX_DIMS_VALUE ? { ...known, dimsValue } : known;
      this.facts.set(o, { ...followed, ...(r.shape ? { shape: [...r.shape] } : {}), ...staticDimsValue(followed) });
    });
  }

  private firstInputDType(node: Node): DType {
    for (const i of node.inputs) {
      const f = i ? this.facts.get(i) : undefined;
      if (f) return f.dtype;
    }
    return 'float32';
  }

  private context(node: Node): InferContext {
    const facts = this.facts;
    const get = (i: number): ValueFacts | undefined => {
      const n = node.inputs[i];
      if (!n) return undefined;
      const f = facts.get(n);
      if (!f) throw shapeError(node, `input "${n}" is not defined before this node`);
      return f;
    };
    return {
      node,
      opset: this.graph.opset,
      inputCount: node.inputs.length,
      input: get,
      need(i) {
        const f = get(i);
        if (!f) throw shapeError(node, `input ${i} is required`);
        if (!f.shape) throw shapeError(node, `the rank of input "${node.inputs[i]}" is unknown`, 'Give the model input a full shape.');
        return f as ValueFacts & { shape: Dim[] };
      },
      value: (i) => get(i)?.value,
      error: (message, hint) => shapeError(node, message, hint),
      malformed: (message, hint) => new MalformedNode(node, message, hint),
    };
  }

  /** The outputs of a node whose inputs are all constants (and not parameters), or undefined. */
  private constantOutputs(node: Node): Tensor[] | undefined {
    if (node.domain || !hasKernel(node.op) || findOp(node.op)?.keepNodeWhenConstant) return undefined;
    if (node.op === 'Constant') return evaluateNode(node, [], this.graph.opset);
    const inputs: (Tensor | undefined)[] = [];
    let elements = 0;
    for (const name of node.inputs) {
      if (!name) {
        inputs.push(undefined);
        continue;
      }
      const f = this.facts.get(name);
      if (!f?.value || this.params.has(name)) return undefined;
      elements += f.value.data.length;
      inputs.push(f.value);
    }
    if (elements > FOLD_LIMIT) return undefined;
    const shapes = this.foldableOutputShapes(node);
    if (!shapes) return undefined;
    const work = kernelWork(node, inputs, shapes);
    const kept = shapes.reduce((sum, shape) => sum + sizeOf(shape), 0);
    const counted = work > FREE_FOLD_WORK;
    if (counted && (this.foldSpent.work + work > FOLD_WORK_BUDGET || this.foldSpent.kept + kept > FOLD_KEPT_BUDGET)) return undefined;
    try {
      const outs = evaluateNode(node, inputs, this.graph.opset);
      if (outs.some((t) => sizeOf(t.dims) > FOLD_LIMIT)) return undefined;
      if (counted) {
        this.foldSpent.work += work;
        this.foldSpent.kept += kept;
      }
      return outs;
    } catch {
      return undefined; // leave it to the runtime, which reports errors with more context
    }
  }

  /**
   * The output shapes shape inference gives a node of constants, when folding it stays in
   * bounds: every output static and no larger than folding allows. Small constants can ask for
   * a huge one (ConstantOfShape of [20000, 20000] in a 1 kB upload): the size checked after
   * evaluating came too late, once gigabytes had been filled on the studio server's event loop.
   * Undefined when the rule fails (the node is then refused or left to the runtime, as without
   * folding) or knows no static shape: the kernel's work could not be bounded.
   */
  private foldableOutputShapes(node: Node): number[][] | undefined {
    const def = findOp(node.op);
    if (!def) return undefined;
    let results: OutputFacts[];
    try {
      results = def.infer(this.context(node));
    } catch {
      return undefined;
    }
    const shapes: number[][] = [];
    for (const [i, o] of node.outputs.entries()) {
      if (!o) continue;
      const shape = results[i]?.shape;
      // A size no tensor can have (negative, NaN) is not folded either: its product can look
      // small ([-1, 1e8]); inferInto refuses it.
      if (!shape || !shape.every((d): d is number => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0) || sizeOf(shape) > FOLD_LIMIT) return undefined;
      shapes[i] = shape;
    }
    return node.outputs.map((_, i) => shapes[i] ?? []);
  }

  private setValues(node: Node, values: Tensor[]): void {
    node.outputs.forEach((o, i) => {
      if (!o) return;
      const t = values[i]!;
      checkComputedShape(node, o, t.dims);
      this.facts.set(o, { dtype: t.dtype, shape: [...t.dims], value: t });
    });
  }
}

function infoFacts(i: ValueInfo): ValueFacts {
  return i.shape ? { dtype: i.dtype, shape: [...i.shape] } : { dtype: i.dtype };
}

/**
 * A shape vector whose entries are all known numbers is a constant: its value lets the arithmetic
 * exporters put on it fold (PyTorch's channel shuffle divides Gather(Shape(x), 1) by the groups).
 */
function staticDimsValue(r: OutputFacts): { value: Tensor } | Record<string, never> {
  if (r.value || !r.dimsValue || r.dtype !== 'int64' || !r.shape || !r.dimsValue.every((d): d is number => typeof d === 'number')) return {};
  if (sizeOf(r.shape as number[]) !== r.dimsValue.length) return {};
  return { value: { dtype: 'int64', dims: [...(r.shape as number[])], data: BigInt64Array.from(r.dimsValue, (d) => BigInt(d)) } };
}
