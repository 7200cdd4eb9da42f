// Incremental inference for many copies of one image that differ only inside a window
// (occlusion, local masks): Krypton (Nakandala, Kumar & Papakonstantinou, SIGMOD 2019). A
// window changes only the units whose inputs it reaches, so each layer recomputes only that
// patch, reading the rest from the unchanged image's activations.
//
// The plan compiles to ONE ONNX graph per window geometry. Every patch is a batched tensor
// [B, C, Ph, Pw] of a fixed size per layer; where it sits differs per window and is told to the
// graph through int32 index maps: a layer's input patch is a Gather from a table holding the
// cached activation (NHWC rows), two padding rows (0 and the lowest float, for Conv and MaxPool
// borders) and the previous layer's patch rows. The op then runs on that patch without padding.
// Once a patch covers (nearly) its whole map the rest runs on full maps, as the model does; ops
// the planner does not know run that way too, so every graph gets an exact answer.
// With `tau` < 1 (Krypton's projective-field threshold) no patch grows beyond tau of its map's
// side: changes outside it are dropped, which is an approximation.
import { ConvLensError } from '../errors.js';
import { windowGeometry } from '../ops/geometry.js';
import type { Tensor } from '../tensor.js';
import { GraphBuilder } from './builder.js';
import { attrInt, attrInts, Graph, type Node } from './ir.js';
import { pruneGraph } from './prune.js';

export interface IncrementalOptions {
  /** the image input (NCHW, static C, H, W) */
  input: string;
  /** the value the graph returns per window (the logits) */
  output: string;
  /** window height and width in input pixels */
  window: readonly [number, number];
  /**
   * Where windows may start: row offsets and column offsets. A window is any pair of them; the
   * changed region along an axis depends only on the offset along that axis, so each axis is
   * planned over its own list.
   */
  offsets: readonly [readonly number[], readonly number[]];
  /** Krypton's projective-field threshold: a patch's side never exceeds tau x its map's side, or 7 units (default 1: exact) */
  tau?: number;
  /** a patch covering this fraction of its map is computed as a full map instead (default 0.8) */
  fullFraction?: number;
  /** extra graph inputs the output depends on besides the image (a target index), passed through */
  passInputs?: readonly string[];
}

/** One spatial axis of a patch: per window offset along the axis, the changed span [lo, hi] and where the stored patch starts. */
interface Axis {
  size: number;
  patch: number;
  lo: Int32Array;
  hi: Int32Array;
  start: Int32Array;
}

type Pad = 'zero' | 'lowest';

interface PatchState {
  kind: 'patch';
  /** value holding the batched patches [B, C, Ph, Pw] */
  name: string;
  /** the original value (its cached activation is the table) */
  source: string;
  channels: number;
  axes: [Axis, Axis];
  /** the Concat of table and patch rows, made on first use */
  rows?: string;
  full?: string;
}

type State = { kind: 'const' } | { kind: 'full'; name: string } | PatchState;

/** How the runner builds one Gather's index map for a batch of windows. */
export interface GatherSpec {
  /** int32 input [B, h, w] */
  input: string;
  /** table input of the source value */
  table: string;
  mapSize: [number, number];
  /** where the source's stored patch sits, per offset along each axis, and its size */
  patchStart: [Int32Array, Int32Array];
  patchSize: [number, number];
  /** the region to read, per offset along each axis (may reach into the padding) */
  readStart: [Int32Array, Int32Array];
  readSize: [number, number];
  pad: Pad;
}

export interface TableSpec {
  /** graph input [H * W + 2, C] */
  input: string;
  /** the model value it holds (NHWC rows, then a row of zeros and a row of the lowest float) */
  value: string;
  mapSize: [number, number];
  channels: number;
}

export interface IncrementalPlan {
  /** inputs: the window patches, tables, index maps (and pass-through inputs); output: `output` for every window */
  graph: Graph;
  /** the model with the tables as extra outputs, for the unchanged image (batch 1) */
  cacheGraph: Graph;
  patchInput: string;
  output: string;
  window: [number, number];
  offsets: readonly [readonly number[], readonly number[]];
  tables: TableSpec[];
  gathers: GatherSpec[];
  /** multiply-accumulates per window: this plan, and the whole network (brute force) */
  macs: { incremental: number; bruteForce: number };
  /** nodes with a patch input that run on full maps, and why */
  fullOps: { node: string; op: string; reason: string }[];
  tau: number;
}

const UNARY = new Set([
  'Relu', 'LeakyRelu', 'PRelu', 'Elu', 'Selu', 'Celu', 'Sigmoid', 'HardSigmoid', 'HardSwish', 'Tanh', 'Softplus', 'Softsign', 'Mish', 'Gelu', 'Erf',
  'Clip', 'Identity', 'Dropout', 'Neg', 'Abs', 'Exp', 'Log', 'Sqrt', 'Reciprocal', 'Floor', 'Ceil', 'Round', 'Sign', 'BatchNormalization', 'LRN',
]);
const VARIADIC = new Set(['Add', 'Sub', 'Mul', 'Div', 'Max', 'Min', 'Sum', 'Mean', 'Pow']);
const WINDOWED = new Set(['Conv', 'MaxPool', 'AveragePool']);
const LOWEST = -3.4028234663852886e38;
/**
 * tau never cuts a patch below this many units per axis: on maps of 7x7 and smaller (ResNet's
 * last stage, the built-in CNN's last layers) a cut cost 30-60% of the map (relative L2 error,
 * docs/occlusion.md), where a map a few units wide has little left to save.
 */
const MIN_TRUNCATED_SIDE = 7;

export function planIncremental(model: Graph, o: IncrementalOptions): IncrementalPlan {
  const facts = GraphBuilder.over(model.clone(), { strict: false });
  const inShape = facts.shapeOf(o.input);
  if (inShape.length !== 4 || !inShape.slice(1).every((d) => typeof d === 'number')) {
    throw new ConvLensError('MODEL_UNSUPPORTED', `Input "${o.input}" has shape [${inShape.join(', ')}]; incremental inference needs an NCHW image of static size.`, 'Use the brute-force occlusion mode (CLI: --occlusion-mode brute-force).');
  }
  const [, c, h, w] = inShape as [unknown, number, number, number];
  const tau = o.tau ?? 1;
  const fullFraction = o.fullFraction ?? 0.8;

  const b = new GraphBuilder();
  b.strict = false;
  b.graph.name = `${model.name}_incremental`;
  b.graph.opset = model.opset;
  b.graph.extraOpsets = model.extraOpsets.map((e) => ({ ...e }));
  // Names the copied nodes will bring are taken before any generated name could claim them.
  for (const n of model.nodes) if (n.name) b.uniqueName(n.name);
  for (const v of model.valueNames()) if (!model.initializers.has(v)) b.uniqueName(v);
  for (const [name, t] of model.initializers) b.initializer(name, t);
  for (const p of o.passInputs ?? []) {
    const info = model.inputs.find((i) => i.name === p);
    if (!info) throw new Error(`pass-through input "${p}" is not a graph input`);
    b.input(p, info.dtype, info.shape);
  }

  const tables = new Map<string, TableSpec>();
  const gathers: GatherSpec[] = [];
  const fullOps: IncrementalPlan['fullOps'] = [];
  const states = new Map<string, State>();
  let incrementalMacs = 0;
  let bruteMacs = 0;

  const patchInput = b.input('incremental/patch', 'float32', ['B', c, o.window[0], o.window[1]]);
  const counts = [o.offsets[0].length, o.offsets[1].length] as const;
  const windowAxis = (a: 0 | 1): Axis => {
    const n = counts[a];
    const ax: Axis = { size: a === 0 ? h : w, patch: o.window[a], lo: new Int32Array(n), hi: new Int32Array(n), start: new Int32Array(n) };
    o.offsets[a].forEach((p, k) => {
      if (!Number.isInteger(p) || p < 0 || p + o.window[a] > ax.size) throw new ConvLensError('INVALID_ARGUMENT', `Window offset ${p} does not fit a ${o.window[a]}-pixel window in ${ax.size} pixels.`, `Use offsets from 0 to ${ax.size - o.window[a]}: a window no larger than the image and a stride that keeps it inside (CLI: --window, --stride).`);
      ax.lo[k] = ax.start[k] = p;
      ax.hi[k] = p + o.window[a] - 1;
    });
    return ax;
  };
  states.set(o.input, { kind: 'patch', name: patchInput, source: o.input, channels: c, axes: [windowAxis(0), windowAxis(1)] });

  const stateOf = (name: string): State => (name ? (states.get(name) ?? { kind: 'const' }) : { kind: 'const' });
  const shape4 = (name: string): number[] | undefined => {
    const s = facts.factsOf(name).shape;
    return s && s.length === 4 && s.slice(1).every((d) => typeof d === 'number') ? (s as number[]) : undefined;
  };

  /**
   * Whether a value has no positions left to patch ([N, C], or one position per channel): the op
   * making it reads its whole input whatever the planner knows, so running it on full maps loses
   * nothing and is not reported (a hidden unit's value, a reduction to per-channel scores).
   */
  const withoutPositions = (name: string): boolean => {
    const s = facts.factsOf(name).shape;
    return !!s && s.length >= 1 && (s.length < 3 || s.slice(2).every((d) => d === 1));
  };

  const tableOf = (p: PatchState): string => {
    let t = tables.get(p.source);
    if (!t) {
      t = { input: b.uniqueName(`incremental/table/${p.source}`), value: p.source, mapSize: [p.axes[0].size, p.axes[1].size], channels: p.channels };
      b.input(t.input, 'float32', [p.axes[0].size * p.axes[1].size + 2, p.channels]);
      tables.set(p.source, t);
    }
    return t.input;
  };
  const rowsOf = (p: PatchState): string => {
    if (!p.rows) {
      const nhwc = b.op('Transpose', [p.name], { perm: [0, 2, 3, 1] });
      const flat = b.op('Reshape', [nhwc, b.ints([-1, p.channels])]);
      p.rows = b.op('Concat', [tableOf(p), flat], { axis: 0 }, { name: b.uniqueName(`incremental/rows/${p.source}`) });
    }
    return p.rows;
  };
  /** The patch value read over `read` (per-window starts, common size), as NCHW. */
  const gather = (p: PatchState, readStart: [Int32Array, Int32Array], readSize: [number, number], pad: Pad): string => {
    const idx = b.input(b.uniqueName(`incremental/index/${p.source}`), 'int32', ['B', readSize[0], readSize[1]]);
    gathers.push({
      input: idx,
      table: tableOf(p),
      mapSize: [p.axes[0].size, p.axes[1].size],
      patchStart: [p.axes[0].start, p.axes[1].start],
      patchSize: [p.axes[0].patch, p.axes[1].patch],
      readStart,
      readSize,
      pad,
    });
    const g = b.op('Gather', [rowsOf(p), idx], { axis: 0 });
    return b.op('Transpose', [g], { perm: [0, 3, 1, 2] });
  };
  const materialize = (p: PatchState): string => {
    if (!p.full) {
      p.full = p.axes.every((ax) => ax.patch === ax.size && ax.start.every((s) => s === 0)) ? p.name : gather(p, [new Int32Array(counts[0]), new Int32Array(counts[1])], [p.axes[0].size, p.axes[1].size], 'zero');
    }
    return p.full;
  };

  /** Places a common-size patch over each window's changed span; with tau < 1 spans are cut to the cap. */
  const place = (size: number, lo: Int32Array, hi: Int32Array): Axis => {
    const count = lo.length;
    let need = 1;
    for (let k = 0; k < count; k++) need = Math.max(need, hi[k]! - lo[k]! + 1);
    const cap = tau >= 1 ? size : Math.min(size, Math.max(MIN_TRUNCATED_SIDE, Math.ceil(tau * size)));
    const patch = Math.min(need, cap);
    const ax: Axis = { size, patch, lo: new Int32Array(lo), hi: new Int32Array(hi), start: new Int32Array(count) };
    for (let k = 0; k < count; k++) {
      const l = lo[k]!;
      const r = hi[k]!;
      if (l > r) continue; // unchanged in this window: any placement is correct
      if (r - l + 1 <= patch) ax.start[k] = Math.min(l, size - patch);
      else {
        const s = Math.max(0, Math.min(size - patch, Math.round((l + r) / 2 - (patch - 1) / 2)));
        ax.start[k] = s;
        ax.lo[k] = Math.max(l, s);
        ax.hi[k] = Math.min(r, s + patch - 1);
      }
    }
    return ax;
  };
  const union = (axes: Axis[]): { lo: Int32Array; hi: Int32Array } => {
    const count = axes[0]!.lo.length;
    const lo = new Int32Array(count).fill(2 ** 30);
    const hi = new Int32Array(count).fill(-1);
    for (const ax of axes) {
      for (let k = 0; k < count; k++) {
        if (ax.lo[k]! > ax.hi[k]!) continue;
        lo[k] = Math.min(lo[k]!, ax.lo[k]!);
        hi[k] = Math.max(hi[k]!, ax.hi[k]!);
      }
    }
    return { lo, hi };
  };
  const nearlyFull = (axes: [Axis, Axis]): boolean => axes[0].patch * axes[1].patch >= fullFraction * axes[0].size * axes[1].size;

  const macsOf = (node: Node, outSpatial: number | undefined): number => {
    if (node.op === 'Conv') {
      const wt = facts.shapeOf(node.inputs[1]!) as number[];
      const out = shape4(node.outputs[0]!);
      if (!out) return 0;
      return wt.reduce((a, d) => a * d, 1) * (outSpatial ?? out[2]! * out[3]!);
    }
    if (node.op === 'Gemm' || node.op === 'MatMul') {
      const wt = facts.factsOf(node.inputs[1]!).shape;
      return wt && wt.every((d) => typeof d === 'number') ? (wt as number[]).reduce((a, d) => a * d, 1) : 0;
    }
    return 0;
  };

  /** Copies a node as the model has it, on full maps. */
  const runFull = (node: Node, reason?: string): void => {
    const inputs = node.inputs.map((i) => {
      const s = stateOf(i);
      return s.kind === 'patch' ? materialize(s) : s.kind === 'full' ? s.name : i;
    });
    if (reason) fullOps.push({ node: node.name, op: node.op, reason });
    b.addNode({ ...node, inputs, outputs: [...node.outputs], attrs: { ...node.attrs } });
    for (const out of node.outputs) if (out) states.set(out, { kind: 'full', name: out });
    const m = macsOf(node, undefined);
    incrementalMacs += m;
  };
  const emitPatch = (node: Node, inputs: string[], attrs: Node['attrs'], state: Omit<PatchState, 'name' | 'source'>): void => {
    const out = node.outputs[0]!;
    const name = b.uniqueName(`incremental/patch/${out}`);
    b.addNode({ ...node, name: b.uniqueName(`incremental/${node.name}`), inputs, outputs: [name], attrs });
    states.set(out, { ...state, kind: 'patch', name, source: out });
  };

  /** Why the node cannot run on patches, or undefined if it can. */
  const constOk = (name: string, spatialOk = false): boolean => {
    if (!name) return true;
    const s = stateOf(name);
    if (s.kind !== 'const') return false;
    const shape = facts.factsOf(name).shape;
    if (!shape) return false;
    if (spatialOk) return true;
    // Broadcast along the batch and both spatial axes (per-channel or scalar constants).
    const r = shape.length;
    return (r < 1 || shape[r - 1] === 1) && (r < 2 || shape[r - 2] === 1) && (r < 4 || shape[0] === 1);
  };

  for (const node of model.nodes) {
    const ins = node.inputs.map(stateOf);
    if (ins.every((s) => s.kind === 'const')) {
      b.addNode({ ...node, inputs: [...node.inputs], outputs: [...node.outputs], attrs: { ...node.attrs } });
      continue;
    }
    bruteMacs += macsOf(node, undefined);
    const first = ins[0]!;
    const outs = node.outputs.filter(Boolean);
    if (ins.some((s) => s.kind === 'full')) {
      runFull(node);
      continue;
    }
    const out = node.outputs[0]!;
    const outShape = shape4(out);
    if (outs.length !== 1 || !outShape || node.domain) {
      runFull(node, outs.length !== 1 ? 'several outputs' : withoutPositions(out) ? undefined : 'output is not a static NCHW map');
      continue;
    }

    if (UNARY.has(node.op)) {
      // BatchNormalization and LRN parameters are per channel whatever their rank.
      const perChannel = node.op === 'BatchNormalization' || node.op === 'LRN';
      if (first.kind !== 'patch' || !node.inputs.slice(1).every((i) => constOk(i, perChannel))) {
        runFull(node, 'parameters vary over the image');
        continue;
      }
      emitPatch(node, [first.name, ...node.inputs.slice(1)], { ...node.attrs }, { kind: 'patch', channels: outShape[1]!, axes: first.axes });
      continue;
    }

    if (node.op === 'Pad') {
      // torch.onnx writes nn.AvgPool2d as a Pad (often of nothing) before the AveragePool
      // (DenseNet's transitions), and ZeroPad2d is one: the patch moves by the padding before,
      // and what it reads past its map is the zero rows.
      const pads = first.kind === 'patch' ? zeroSpatialPads(node, facts) : undefined;
      if (first.kind !== 'patch' || !pads) {
        runFull(node, 'pads other than zeros around H and W');
        continue;
      }
      const unmoved = pads.every((p) => p === 0);
      const axes = unmoved
        ? first.axes
        : (([0, 1] as const).map((a) => {
            const src = first.axes[a];
            const size = outShape[2 + a]!;
            const lo = src.lo.map((l, k) => (l > src.hi[k]! ? 1 : Math.max(0, l + pads[a]!)));
            const hi = src.hi.map((h, k) => (src.lo[k]! > h ? 0 : Math.min(size - 1, h + pads[a]!)));
            return place(size, lo, hi);
          }) as [Axis, Axis]);
      if (!unmoved && nearlyFull(axes)) {
        runFull(node);
        continue;
      }
      const patchIn = unmoved ? first.name : gather(first, [axes[0].start.map((st) => st - pads[0]!), axes[1].start.map((st) => st - pads[1]!)], [axes[0].patch, axes[1].patch], 'zero');
      emitPatch({ ...node, op: 'Identity' }, [patchIn], {}, { kind: 'patch', channels: outShape[1]!, axes });
      continue;
    }

    if (WINDOWED.has(node.op)) {
      const inShape4 = shape4(node.inputs[0]!);
      let reason: string | undefined;
      if (first.kind !== 'patch' || !inShape4) reason = 'input is not a patch';
      else if (node.op === 'Conv' && !node.inputs.slice(1).every((i) => constOk(i, true))) reason = 'weights are not constant';
      else if (node.op === 'AveragePool' && attrInt(node, 'ceil_mode', 0) === 1) reason = 'AveragePool with ceil_mode divides border windows by their size';
      else if (node.op === 'AveragePool' && attrInt(node, 'count_include_pad', 0) === 0 && (attrInts(node, 'pads') ?? []).some((p) => p !== 0)) reason = 'AveragePool without count_include_pad divides border windows by their size';
      if (reason || first.kind !== 'patch' || !inShape4) {
        runFull(node, reason);
        continue;
      }
      const kernel = node.op === 'Conv' ? (facts.shapeOf(node.inputs[1]!).slice(2) as number[]) : attrInts(node, 'kernel_shape')!;
      if (kernel.length !== 2) {
        runFull(node, 'not a 2-D window');
        continue;
      }
      const g = windowGeometry(node, inShape4.slice(2), kernel);
      const pointwise = g.kernel.every((k) => k === 1) && g.strides.every((s) => s === 1) && g.padBegin.every((p) => p === 0) && g.padEnd.every((p) => p === 0);
      if (pointwise) {
        emitPatch(node, [first.name, ...node.inputs.slice(1)], { ...node.attrs }, { kind: 'patch', channels: outShape[1]!, axes: first.axes });
        incrementalMacs += macsOf(node, first.axes[0].patch * first.axes[1].patch);
        continue;
      }
      const axes = ([0, 1] as const).map((a) => {
        const src = first.axes[a];
        const ext = (g.kernel[a]! - 1) * g.dilations[a]! + 1;
        const s = g.strides[a]!;
        const size = outShape[2 + a]!;
        const count = counts[a];
        const lo = new Int32Array(count);
        const hi = new Int32Array(count);
        for (let k = 0; k < count; k++) {
          if (src.lo[k]! > src.hi[k]!) {
            lo[k] = 1;
            hi[k] = 0;
            continue;
          }
          lo[k] = Math.max(0, Math.ceil((src.lo[k]! + g.padBegin[a]! - ext + 1) / s));
          hi[k] = Math.min(size - 1, Math.floor((src.hi[k]! + g.padBegin[a]!) / s));
        }
        return place(size, lo, hi);
      }) as [Axis, Axis];
      if (nearlyFull(axes)) {
        runFull(node);
        continue;
      }
      const readStart = axes.map((ax, a) => ax.start.map((st) => st * g.strides[a]! - g.padBegin[a]!)) as [Int32Array, Int32Array];
      const readSize = axes.map((ax, a) => (ax.patch - 1) * g.strides[a]! + (g.kernel[a]! - 1) * g.dilations[a]! + 1) as [number, number];
      const patchIn = gather(first, readStart, readSize, node.op === 'MaxPool' ? 'lowest' : 'zero');
      const attrs: Node['attrs'] = { ...node.attrs, pads: { type: 'ints', value: [0, 0, 0, 0] } };
      delete attrs['auto_pad'];
      delete attrs['ceil_mode'];
      if (node.op !== 'Conv') attrs['kernel_shape'] = { type: 'ints', value: [...kernel] };
      emitPatch(node, [patchIn, ...node.inputs.slice(1)], attrs, { kind: 'patch', channels: outShape[1]!, axes });
      incrementalMacs += macsOf(node, axes[0].patch * axes[1].patch);
      continue;
    }

    const concat = node.op === 'Concat' && (((attrInt(node, 'axis', 0) % 4) + 4) % 4) === 1;
    if (VARIADIC.has(node.op) || concat) {
      const patches = ins.filter((s): s is PatchState => s.kind === 'patch');
      const ok = node.inputs.every((i, k) => ins[k]!.kind === 'patch' || (!concat && constOk(i))) && patches.every((p) => p.axes[0].size === outShape[2] && p.axes[1].size === outShape[3]);
      if (!ok) {
        runFull(node, 'an operand varies over the image');
        continue;
      }
      const same = patches.every((p) => p.axes === patches[0]!.axes);
      let axes: [Axis, Axis];
      if (same) axes = patches[0]!.axes;
      else {
        axes = ([0, 1] as const).map((a) => {
          const u = union(patches.map((p) => p.axes[a]));
          return place(outShape[2 + a]!, u.lo, u.hi);
        }) as [Axis, Axis];
        if (nearlyFull(axes)) {
          runFull(node);
          continue;
        }
      }
      const inputs = node.inputs.map((i, k) => {
        const s = ins[k]!;
        if (s.kind !== 'patch') return i;
        return s.axes === axes ? s.name : gather(s, [axes[0].start, axes[1].start], [axes[0].patch, axes[1].patch], 'zero');
      });
      emitPatch(node, inputs, { ...node.attrs }, { kind: 'patch', channels: outShape[1]!, axes });
      continue;
    }
    runFull(node, withoutPositions(out) ? undefined : 'no patch rule for this op');
  }

  const final = stateOf(o.output);
  const output = final.kind === 'patch' ? materialize(final) : final.kind === 'full' ? final.name : o.output;
  if (output !== o.output) b.op('Identity', [output], {}, { outputs: [o.output] });
  b.output(o.output);
  // Inputs nothing reads are dropped: the runner feeds only what the graph declares.
  const graph = pruneGraph(b.build(), false);
  const used = new Set(graph.inputs.map((i) => i.name));
  const tableList = [...tables.values()].filter((t) => used.has(t.input));

  return {
    graph,
    cacheGraph: cacheGraph(model, o.output, tableList),
    patchInput,
    output: o.output,
    window: [o.window[0], o.window[1]],
    offsets: o.offsets,
    tables: tableList,
    gathers: gathers.filter((g) => used.has(g.input)),
    macs: { incremental: incrementalMacs, bruteForce: bruteMacs },
    fullOps,
    tau,
  };
}

/** The model for one image, returning `output` and every table (NHWC rows + a zero row + a lowest-float row). */
function cacheGraph(model: Graph, output: string, tables: readonly TableSpec[]): Graph {
  const g = model.clone();
  const b = GraphBuilder.over(g, { strict: false });
  g.outputs = [];
  b.output(output);
  for (const t of tables) {
    const [h, w] = t.mapSize;
    const nhwc = b.op('Transpose', [t.value], { perm: [0, 2, 3, 1] });
    const flat = b.op('Reshape', [nhwc, b.ints([h * w, t.channels])]);
    const padRows = new Float32Array(2 * t.channels);
    padRows.fill(LOWEST, t.channels);
    const pads = b.constant({ dtype: 'float32', dims: [2, t.channels], data: padRows }, 'incremental_pad_rows');
    b.op('Concat', [flat, pads], { axis: 0 }, { outputs: [t.input] });
    b.output(t.input);
  }
  return pruneGraph(b.build());
}

/** The index maps of every Gather for a batch of windows, each a pair of indices into plan.offsets (row, column). */
export function gatherIndices(plan: IncrementalPlan, windows: readonly (readonly [number, number])[]): Record<string, Tensor> {
  const feeds: Record<string, Tensor> = {};
  const n = windows.length;
  for (const g of plan.gathers) {
    const [H, W] = g.mapSize;
    const [rh, rw] = g.readSize;
    const [ph, pw] = g.patchSize;
    const padRow = g.pad === 'zero' ? H * W : H * W + 1;
    const patchBase = H * W + 2;
    const idx = new Int32Array(n * rh * rw);
    let o = 0;
    for (let bi = 0; bi < n; bi++) {
      const [ky, kx] = windows[bi]!;
      const ry = g.readStart[0][ky]!;
      const rx = g.readStart[1][kx]!;
      const sy = g.patchStart[0][ky]!;
      const sx = g.patchStart[1][kx]!;
      const batchBase = patchBase + bi * ph * pw;
      for (let i = 0; i < rh; i++) {
        const y = ry + i;
        const inY = y >= 0 && y < H;
        const py = y - sy;
        const inPatchY = py >= 0 && py < ph;
        for (let j = 0; j < rw; j++) {
          const x = rx + j;
          if (!inY || x < 0 || x >= W) idx[o++] = padRow;
          else {
            const px = x - sx;
            idx[o++] = inPatchY && px >= 0 && px < pw ? batchBase + py * pw + px : y * W + x;
          }
        }
      }
    }
    feeds[g.input] = { dtype: 'int32', dims: [n, rh, rw], data: idx };
  }
  return feeds;
}

/**
 * A constant Pad's zeros before H and W and after them ([top, left, bottom, right]), where it pads
 * nothing else with anything else: a batch of NCHW maps, mode constant, value 0, no crop.
 */
function zeroSpatialPads(node: Node, facts: GraphBuilder): [number, number, number, number] | undefined {
  const mode = node.attrs['mode'];
  if (mode && !(mode.type === 'string' && mode.value === 'constant')) return undefined;
  const padsValue = node.inputs[1] ? facts.valueOf(node.inputs[1]) : undefined;
  const pads = padsValue ? Array.from(padsValue.data as ArrayLike<number | bigint>, Number) : undefined;
  if (!pads || pads.length !== 8 || pads.some((p) => p < 0) || pads[0] || pads[1] || pads[4] || pads[5]) return undefined;
  const fill = node.inputs[2] ? facts.valueOf(node.inputs[2]) : undefined;
  if (node.inputs[2] && (!fill || Array.from(fill.data as ArrayLike<number | bigint>, Number).some((v) => v !== 0))) return undefined;
  return [pads[2]!, pads[3]!, pads[6]!, pads[7]!];
}
