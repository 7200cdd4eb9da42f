import { broadcastShapes, checkRankOfShapeInput, dimProduct, dimsOfInput, freshSymbol, isStatic, normAxis, type InferContext, type OutputFacts } from '../graph/facts.js';
import { attrInt, attrInts, attrString, attrTensor, type Dim } from '../graph/ir.js';
import type { GraphBuilder } from '../graph/builder.js';
import { resolveSlice } from '../reference/kernels/layout.js';
import { dtypeFromOnnx, isFloatDType, ONNX_DTYPE_CODES, toNumbers, type Tensor } from '../tensor.js';
import { reshapeLike, sumAll, unbroadcast, zerosLike } from './emit.js';
import { defineOp, type GradContext } from './registry.js';

// Data movement and shape arithmetic: Reshape, Transpose, Concat, Slice, Pad and friends.

const same = (ctx: InferContext): OutputFacts[] => {
  const x = ctx.input(0);
  if (!x) throw ctx.error('input 0 is required');
  return [{ dtype: x.dtype, ...(x.shape ? { shape: [...x.shape] } : {}), ...(x.dimsValue ? { dimsValue: [...x.dimsValue] } : {}) }];
};

const passThrough = (g: GradContext): (string | undefined)[] => [g.dy(0)];
const reshapeBack = (g: GradContext): (string | undefined)[] => {
  const dy = g.dy(0);
  return [dy && reshapeLike(g.b, dy, g.x(0))];
};

defineOp({ type: 'Identity', infer: same, grad: passThrough });

defineOp({
  type: 'Dropout',
  // Inference semantics: identity. Training-time dropout is built from a mask input by the trainer.
  infer: (ctx) => {
    const [y] = same(ctx);
    return [y!, { dtype: 'bool', ...(y!.shape ? { shape: y!.shape } : {}) }];
  },
  grad: passThrough,
  noGradInputs: [1, 2],
});

defineOp({
  type: 'Constant',
  infer: (ctx) => {
    const t = attrTensor(ctx.node, 'value');
    if (t) return [{ dtype: t.dtype, shape: [...t.dims], value: t }];
    const ints = attrInts(ctx.node, 'value_ints');
    if (ints) return [{ dtype: 'int64', shape: [ints.length] }];
    if (ctx.node.attrs['value_int']) return [{ dtype: 'int64', shape: [] }];
    if (ctx.node.attrs['value_float']) return [{ dtype: 'float32', shape: [] }];
    const fl = ctx.node.attrs['value_floats'];
    if (fl?.type === 'floats') return [{ dtype: 'float32', shape: [fl.value.length] }];
    throw ctx.error('has no supported value attribute (sparse or string constants are not supported)');
  },
  nonDifferentiable: true,
});

defineOp({
  type: 'Shape',
  infer: (ctx) => {
    const x = ctx.need(0);
    const r = x.shape.length;
    const clamp = (v: number): number => Math.min(Math.max(v < 0 ? v + r : v, 0), r);
    const dims = x.shape.slice(clamp(attrInt(ctx.node, 'start', 0)), clamp(attrInt(ctx.node, 'end', r)));
    const out: OutputFacts = { dtype: 'int64', shape: [dims.length], dimsValue: dims };
    if (isStatic(dims)) out.value = { dtype: 'int64', dims: [dims.length], data: BigInt64Array.from(dims, (d) => BigInt(d)) };
    return [out];
  },
  nonDifferentiable: true,
});

defineOp({
  type: 'Size',
  infer: (ctx) => {
    const x = ctx.need(0);
    const out: OutputFacts = { dtype: 'int64', shape: [] };
    if (isStatic(x.shape)) out.value = { dtype: 'int64', dims: [], data: BigInt64Array.of(BigInt(x.shape.reduce((a, b) => a * b, 1))) };
    return [out];
  },
  nonDifferentiable: true,
});

defineOp({
  type: 'ConstantOfShape',
  infer: (ctx) => {
    checkRankOfShapeInput(ctx, 0);
    const dims = dimsOfInput(ctx, 0);
    const v = attrTensor(ctx.node, 'value');
    const dtype = v?.dtype ?? 'float32';
    if (dims) return [{ dtype, shape: dims }];
    const len = ctx.input(0)?.shape?.[0];
    return [{ dtype, ...(typeof len === 'number' ? { shape: Array.from({ length: len }, () => freshSymbol('cos')) } : {}) }];
  },
  nonDifferentiable: true,
});

defineOp({
  type: 'Cast',
  infer: (ctx) => {
    const x = ctx.input(0)!;
    const to = dtypeFromOnnx(attrInt(ctx.node, 'to', 1));
    if (!to) throw ctx.error(`casts to unsupported type code ${attrInt(ctx.node, 'to', 1)}`);
    const out: OutputFacts = { dtype: to, ...(x.shape ? { shape: [...x.shape] } : {}) };
    if (x.dimsValue && (to === 'int64' || to === 'int32')) out.dimsValue = [...x.dimsValue];
    return [out];
  },
  // Between float types the cast is the identity up to rounding: its gradient is dy cast back to
  // the input's type (dy has the output's: returned as it was, a float32 -> float64 cast gave a
  // float32 value a float64 gradient, and a float16 -> float32 one stopped the gradient there).
  grad: (g) => {
    const dy = g.dy(0);
    const from = g.facts(g.x(0)).dtype;
    if (!dy || !isFloatDType(from)) return [undefined];
    return [g.facts(dy).dtype === from ? dy : g.b.op('Cast', [dy], { to: ONNX_DTYPE_CODES[from] })];
  },
});

function reshapeInfer(ctx: InferContext): OutputFacts[] {
  const x = ctx.input(0)!;
  checkRankOfShapeInput(ctx, 1);
  const spec = dimsOfInput(ctx, 1);
  if (!spec) {
    const len = ctx.input(1)?.shape?.[0];
    return [{ dtype: x.dtype, ...(typeof len === 'number' ? { shape: Array.from({ length: len }, () => freshSymbol('reshape')) } : {}) }];
  }
  const allowZero = attrInt(ctx.node, 'allowzero', 0) === 1;
  const target = `[${spec.join(', ')}]`;
  if (x.shape && !allowZero) {
    const beyond = spec.findIndex((d, i) => d === 0 && i >= x.shape!.length);
    // ONNX Runtime refuses it only when it compiles the model ("Invalid position of 0")
    if (beyond >= 0) throw ctx.malformed(`target ${target} copies axis ${beyond} of the input (entry 0), but the input [${x.shape.join(', ')}] has ${x.shape.length} axes`);
  }
  const out: Dim[] = spec.map((d, i) => (d === 0 && !allowZero ? (x.shape?.[i] ?? freshSymbol('reshape')) : d));
  const inferred = out.indexOf(-1);
  if (inferred >= 0) {
    const rest = out.filter((_, i) => i !== inferred);
    if (x.shape && isStatic(x.shape) && isStatic(rest)) {
      const total = x.shape.reduce((a, b) => a * b, 1);
      const known = rest.reduce((a, b) => a * b, 1);
      if (known === 0 || total % known !== 0) throw ctx.malformed(`cannot reshape [${x.shape.join(', ')}] (${total} elements) into ${target}: ${total} is not a multiple of ${known}`);
      out[inferred] = total / known;
    } else if (x.shape) {
      const [num, den] = cancelShared(x.shape, rest);
      const quotient = isStatic(num) && isStatic(den) ? num.reduce((a, b) => a * b, 1) / den.reduce((a, b) => a * b, 1) : NaN;
      // the same sizes at every batch (the symbols cancelled): no batch makes a fraction whole
      if (isStatic(num) && isStatic(den) && !Number.isInteger(quotient)) throw ctx.malformed(`cannot reshape [${x.shape.join(', ')}] into ${target}: the sizes besides the inferred one do not divide the input's`);
      out[inferred] = Number.isInteger(quotient) && quotient >= 0 ? quotient : freshSymbol('reshape');
    } else out[inferred] = freshSymbol('reshape');
  } else if (x.shape) {
    // Symbols both sides share (the batch N, copied by a 0) cancel; what is left must match at
    // any batch. A static export's [1, 4, 2, 2] on [1, 4, 32, 32], once its batch is freed, is
    // [N, 4, 2, 2] on [N, 4, 32, 32]: ONNX Runtime refused it on every run (a 500).
    const [num, den] = cancelShared(x.shape, out);
    if (isStatic(den)) {
      const a = num.reduce<number>((p, q) => p * (typeof q === 'number' ? q : 1), 1);
      const c = den.reduce((p, q) => p * q, 1);
      // sizes left symbolic on the input's side are whole and positive: they only multiply its count
      if (isStatic(num) ? a !== c : c % a !== 0) throw ctx.malformed(`cannot reshape [${x.shape.join(', ')}] (${isStatic(x.shape) ? a : `${a} x ${x.shape.filter((d) => typeof d !== 'number').join(' x ')}`} elements) into ${target} (${isStatic(out) ? c : `${c} x ${out.filter((d) => typeof d !== 'number').join(' x ')}`} elements)`);
    }
  }
  // a shape vector reshaped to a vector (PyTorch's expand writes Reshape(Concat(...), [-1])) keeps its entries
  if (x.dimsValue && x.shape?.length === 1 && out.length === 1 && out[0] === x.dimsValue.length) return [{ dtype: x.dtype, shape: out, dimsValue: [...x.dimsValue] }];
  return [{ dtype: x.dtype, shape: out }];
}

/** Both dim lists with the symbols they share removed once per match (e.g. the batch N). */
function cancelShared(a: readonly Dim[], b: readonly Dim[]): [Dim[], Dim[]] {
  const num = [...a];
  const den = [...b];
  for (let i = 0; i < den.length; i++) {
    const d = den[i]!;
    if (typeof d === 'number') continue;
    const j = num.indexOf(d);
    if (j >= 0) {
      num.splice(j, 1);
      den.splice(i--, 1);
    }
  }
  return [num, den];
}

defineOp({ type: 'Reshape', infer: reshapeInfer, grad: reshapeBack, noGradInputs: [1] });

defineOp({
  type: 'Flatten',
  infer: (ctx) => {
    const x = ctx.need(0);
    const axis = attrInt(ctx.node, 'axis', 1);
    const a = axis < 0 ? axis + x.shape.length : axis;
    // Flatten splits before axis `a`, so the rank itself is a valid axis (everything in the first part)
    if (!Number.isInteger(a) || a < 0 || a > x.shape.length) throw ctx.malformed(`axis ${axis} is out of range for rank ${x.shape.length} (Flatten takes ${-x.shape.length} to ${x.shape.length})`);
    return [{ dtype: x.dtype, shape: [dimProduct(x.shape.slice(0, a)), dimProduct(x.shape.slice(a))] }];
  },
  grad: reshapeBack,
});

defineOp({
  type: 'Squeeze',
  infer: (ctx) => {
    const x = ctx.need(0);
    const r = x.shape.length;
    const axesV = ctx.input(1) ? dimsOfInput(ctx, 1) : undefined;
    if (ctx.input(1) && !axesV) throw ctx.error('needs constant axes');
    const axes = axesV ? axesV.map((a) => normAxis(ctx.node, Number(a), r)) : x.shape.flatMap((d, i) => (d === 1 ? [i] : []));
    for (const a of axes) if (typeof x.shape[a] === 'number' && x.shape[a] !== 1) throw ctx.malformed(`cannot squeeze axis ${a} of size ${x.shape[a]}`);
    const out: OutputFacts = { dtype: x.dtype, shape: x.shape.filter((_, i) => !axes.includes(i)) };
    if (x.dimsValue && r === 1 && axes.length === 1) out.dimsValue = [...x.dimsValue];
    return [out];
  },
  grad: reshapeBack,
  noGradInputs: [1],
});

defineOp({
  type: 'Unsqueeze',
  infer: (ctx) => {
    const x = ctx.need(0);
    checkRankOfShapeInput(ctx, 1, x.shape.length);
    const axesV = dimsOfInput(ctx, 1);
    if (!axesV) throw ctx.error('needs constant axes');
    const r = x.shape.length + axesV.length;
    const axes = axesV.map((a) => normAxis(ctx.node, Number(a), r));
    const twice = axes.find((a, i) => axes.indexOf(a) !== i);
    if (twice !== undefined) throw ctx.malformed(`axes [${axesV.join(', ')}] name output axis ${twice} twice`);
    const shape: Dim[] = [];
    let k = 0;
    for (let i = 0; i < r; i++) shape.push(axes.includes(i) ? 1 : x.shape[k++]!);
    const out: OutputFacts = { dtype: x.dtype, shape };
    if (x.dimsValue && x.shape.length === 0) out.dimsValue = [...x.dimsValue];
    return [out];
  },
  grad: reshapeBack,
  noGradInputs: [1],
});

defineOp({
  type: 'Transpose',
  infer: (ctx) => {
    const x = ctx.need(0);
    const perm = attrInts(ctx.node, 'perm') ?? x.shape.map((_, i) => x.shape.length - 1 - i);
    if (perm.length !== x.shape.length) throw ctx.malformed(`perm [${perm.join(', ')}] does not match rank ${x.shape.length}`);
    if (perm.some((p, i) => !Number.isInteger(p) || p < 0 || p >= perm.length || perm.indexOf(p) !== i)) {
      throw ctx.malformed(`perm [${perm.join(', ')}] is not an order of the axes 0 to ${perm.length - 1} (each once)`);
    }
    return [{ dtype: x.dtype, shape: perm.map((p) => x.shape[p]!) }];
  },
  grad: (g) => {
    const dy = g.dy(0);
    if (!dy) return [undefined];
    const r = g.b.shapeOf(g.x(0)).length;
    const perm = attrInts(g.node, 'perm') ?? Array.from({ length: r }, (_, i) => r - 1 - i);
    const inv = new Array<number>(r);
    perm.forEach((p, i) => (inv[p] = i));
    return [g.b.op('Transpose', [dy], { perm: inv })];
  },
});

defineOp({
  type: 'Expand',
  infer: (ctx) => {
    const x = ctx.need(0);
    checkRankOfShapeInput(ctx, 1);
    const target = dimsOfInput(ctx, 1);
    if (!target) {
      const len = ctx.input(1)?.shape?.[0];
      if (typeof len !== 'number') return [{ dtype: x.dtype }];
      return [{ dtype: x.dtype, shape: broadcastShapes(ctx.node, [x.shape, Array.from({ length: len }, () => freshSymbol('expand'))]) }];
    }
    return [{ dtype: x.dtype, shape: broadcastShapes(ctx.node, [x.shape, target]) }];
  },
  grad: (g) => {
    const dy = g.dy(0);
    return [dy && unbroadcast(g.b, dy, g.x(0))];
  },
  noGradInputs: [1],
});

defineOp({
  type: 'Tile',
  infer: (ctx) => {
    const x = ctx.need(0);
    const reps = dimsOfInput(ctx, 1);
    if (!reps) return [{ dtype: x.dtype, shape: x.shape.map(() => freshSymbol('tile')) }];
    if (reps.length !== x.shape.length) throw ctx.malformed(`repeats [${reps.join(', ')}] has ${reps.length} entries for an input of rank ${x.shape.length}`);
    return [{ dtype: x.dtype, shape: x.shape.map((d, i) => (typeof d === 'number' && typeof reps[i] === 'number' ? d * (reps[i] as number) : freshSymbol('tile'))) }];
  },
  grad: (g) => {
    const dy = g.dy(0);
    if (!dy) return [undefined];
    const xs = g.b.staticShape(g.x(0));
    const reps = g.constant(1);
    if (!reps) throw new Error(`Tile "${g.node.name}": gradient needs constant repeats`);
    const r = toNumbers(reps);
    // [r0*d0, r1*d1, ...] -> [r0, d0, r1, d1, ...], then sum the repeat axes.
    const split = g.b.op('Reshape', [dy, g.b.ints(xs.flatMap((d, i) => [r[i]!, d]))]);
    const summed = g.b.op('ReduceSum', [split, g.b.ints(xs.map((_, i) => 2 * i))], { keepdims: 0 });
    return [summed];
  },
  noGradInputs: [1],
});

defineOp({
  type: 'Concat',
  infer: (ctx) => {
    const parts = Array.from({ length: ctx.inputCount }, (_, i) => ctx.need(i));
    const r = parts[0]!.shape.length;
    const axis = normAxis(ctx.node, attrInt(ctx.node, 'axis', 0), r);
    const shape = [...parts[0]!.shape];
    for (const p of parts.slice(1)) {
      if (p.shape.length !== r) throw ctx.malformed(`inputs have different ranks (${r} and ${p.shape.length})`);
      p.shape.forEach((d, i) => {
        if (i !== axis && typeof d === 'number' && typeof shape[i] === 'number' && d !== shape[i]) throw ctx.malformed(`input shapes differ on axis ${i} (${shape[i]} vs ${d})`);
        if (i !== axis && typeof shape[i] !== 'number') shape[i] = d;
      });
    }
    const along = parts.map((p) => p.shape[axis]!);
    shape[axis] = along.every((d) => typeof d === 'number') ? (along as number[]).reduce((a, b) => a + b, 0) : freshSymbol('concat');
    const out: OutputFacts = { dtype: parts[0]!.dtype, shape };
    if (r === 1) {
      const vals = parts.map((_, i) => dimsOfInput(ctx, i));
      if (vals.every((v) => v !== undefined)) out.dimsValue = (vals as Dim[][]).flat();
    }
    return [out];
  },
  grad: (g) => {
    const dy = g.dy(0);
    if (!dy) return g.node.inputs.map(() => undefined);
    const r = g.b.shapeOf(dy).length;
    const axis = normAxis(g.node, attrInt(g.node, 'axis', 0), r);
    const sizes = g.node.inputs.map((x) => g.b.shapeOf(x)[axis]!);
    if (!sizes.every((d): d is number => typeof d === 'number')) {
      throw new Error(`Concat "${g.node.name}": gradient needs static sizes along axis ${axis}`);
    }
    const parts = g.b.opN('Split', [dy, g.b.ints(sizes)], { axis }, { outputs: sizes.length });
    return parts.map((p, i) => (g.wants(i) ? p : undefined));
  },
});

defineOp({
  type: 'Split',
  infer: (ctx) => {
    const x = ctx.need(0);
    const n = ctx.node.outputs.length;
    const axis = normAxis(ctx.node, attrInt(ctx.node, 'axis', 0), x.shape.length);
    const d = x.shape[axis]!;
    let sizes: Dim[];
    if (ctx.input(1)) {
      const v = dimsOfInput(ctx, 1);
      if (!v) throw ctx.error('needs constant split sizes');
      sizes = v;
    } else if (typeof d === 'number') {
      if (d % n !== 0) throw ctx.malformed(`cannot split size ${d} into ${n} equal parts`);
      sizes = new Array<number>(n).fill(d / n);
    } else sizes = Array.from({ length: n }, () => freshSymbol('split'));
    if (sizes.length !== n) throw ctx.malformed(`${sizes.length} split sizes for ${n} outputs`);
    // ONNX Runtime refuses it only when it compiles the model
    if (typeof d === 'number' && isStatic(sizes) && sizes.reduce((a, b) => a + b, 0) !== d) {
      throw ctx.malformed(`split sizes [${sizes.join(', ')}] add up to ${sizes.reduce((a, b) => a + b, 0)}, but axis ${axis} has size ${d}`);
    }
    return sizes.map((s) => {
      const shape = [...x.shape];
      shape[axis] = s;
      return { dtype: x.dtype, shape };
    });
  },
  grad: (g) => {
    const outs = g.node.outputs;
    if (outs.every((_, i) => !g.dy(i))) return [undefined];
    const axis = normAxis(g.node, attrInt(g.node, 'axis', 0), g.b.shapeOf(g.x(0)).length);
    const parts = outs.map((y, i) => g.dy(i) ?? zerosLike(g.b, y));
    return [g.b.op('Concat', parts, { axis })];
  },
  noGradInputs: [1],
});

/** Static Slice parameters of a node, resolved against the input's static shape. */
function sliceParams(g: GradContext | InferContext, dims: number[]): ReturnType<typeof resolveSlice> {
  const val = (i: number): number[] | undefined => {
    const t: Tensor | undefined = 'constant' in g ? g.constant(i) : g.value(i);
    return t ? toNumbers(t) : undefined;
  };
  const starts = val(1);
  const ends = val(2);
  if (!starts || !ends) throw new Error(`Slice "${g.node.name}": starts and ends must be constants`);
  return resolveSlice(dims, starts, ends, g.node.inputs[3] ? val(3) : undefined, g.node.inputs[4] ? val(4) : undefined);
}

defineOp({
  type: 'Slice',
  infer: (ctx) => {
    const x = ctx.need(0);
    const starts = dimsOfInput(ctx, 1);
    const ends = dimsOfInput(ctx, 2);
    const axesIn = ctx.input(3) ? dimsOfInput(ctx, 3) : undefined;
    const stepsIn = ctx.input(4) ? dimsOfInput(ctx, 4) : undefined;
    if (!starts || !ends || (ctx.input(3) && !axesIn) || (ctx.input(4) && !stepsIn) || !isStatic(starts) || !isStatic(ends)) {
      return [{ dtype: x.dtype, shape: x.shape.map(() => freshSymbol('slice')) }];
    }
    const r = x.shape.length;
    const axes = (axesIn as number[] | undefined)?.map((a) => normAxis(ctx.node, a, r)) ?? starts.map((_, i) => i);
    const twice = axes.find((a, i) => axes.indexOf(a) !== i);
    if (twice !== undefined) throw ctx.malformed(`axes [${(axesIn as number[]).join(', ')}] name axis ${twice} twice`);
    if (starts.length !== axes.length || ends.length !== axes.length || (stepsIn && stepsIn.length !== axes.length)) {
      throw ctx.malformed(`starts [${starts.join(', ')}], ends [${ends.join(', ')}]${stepsIn ? `, steps [${stepsIn.join(', ')}]` : ''} and the ${axes.length} axes differ in length`);
    }
    // the slice arithmetic below would fail on it without naming the node ("Slice step cannot be 0")
    if (stepsIn?.includes(0)) throw ctx.malformed(`steps [${stepsIn.join(', ')}] include 0; a step moves at least one element`);
    const BIG = 2 ** 30;
    const concrete = x.shape.map((d) => (typeof d === 'number' ? d : BIG));
    const { start, step, count } = resolveSlice(concrete, starts, ends, axes, stepsIn as number[] | undefined);
    const shape: Dim[] = x.shape.map((d, a) => {
      if (typeof d === 'number') return count[a]!;
      if (start[a] === 0 && step[a] === 1 && count[a] === BIG) return d;
      // x[:, :3] on a symbolic axis: static when both ends were given from the front.
      const i = axes.indexOf(a);
      return i >= 0 && starts[i]! >= 0 && ends[i]! >= 0 && count[a]! < BIG / 2 ? count[a]! : freshSymbol('slice');
    });
    const out: OutputFacts = { dtype: x.dtype, shape };
    if (r === 1 && x.dimsValue && isStatic(x.shape)) {
      const { start, step, count: c } = resolveSlice(x.shape, starts, ends, axes, stepsIn as number[] | undefined);
      out.dimsValue = Array.from({ length: c[0]! }, (_, i) => x.dimsValue![start[0]! + i * step[0]!]!);
    }
    return [out];
  },
  grad: (g) => {
    const dy = g.dy(0);
    if (!dy) return [undefined];
    const b = g.b;
    const dims = b.shapeOf(g.x(0));
    // Symbolic axes (the batch) may only be passed through whole; stand in a huge size for them.
    const BIG = 2 ** 30;
    const concrete = dims.map((d) => (typeof d === 'number' ? d : BIG));
    const { start, step, count } = sliceParams(g, concrete);
    let cur = dy;
    const before = new Array<number>(dims.length).fill(0);
    const after = new Array<number>(dims.length).fill(0);
    for (let a = 0; a < dims.length; a++) {
      const d = concrete[a]!;
      if (start[a] === 0 && step[a] === 1 && count[a] === d) continue;
      if (d === BIG) throw new Error(`Slice "${g.node.name}": gradient needs a static size on sliced axis ${a}`);
      let s = step[a]!;
      let first = start[a]!;
      if (s < 0) {
        // Reverse the axis so the slice becomes ascending: element i came from first + i*s.
        cur = b.op('Slice', [cur, b.ints([-1]), b.ints([Number.MIN_SAFE_INTEGER]), b.ints([a]), b.ints([-1])]);
        first = first + (count[a]! - 1) * s;
        s = -s;
      }
      let extent = count[a]!;
      if (s > 1) {
        // Interleave zeros: [.., c, ..] -> [.., c, s, ..] padded after, merged to [.., c*s, ..].
        const shape = b.shapeOf(cur);
        const withAxis = b.op('Unsqueeze', [cur, b.ints([a + 1])]);
        const p = new Array<number>(2 * (shape.length + 1)).fill(0);
        p[shape.length + 1 + a + 1] = s - 1;
        const padded = b.op('Pad', [withAxis, b.ints(p)]);
        const merged = shape.map((e, i) => (i === a ? count[a]! * s : typeof e === 'number' ? e : 0));
        cur = b.op('Reshape', [padded, b.ints(merged)]);
        extent = Math.min(count[a]! * s, d - first);
        if (extent < count[a]! * s) cur = b.op('Slice', [cur, b.ints([0]), b.ints([extent]), b.ints([a])]);
      }
      before[a] = first;
      after[a] = d - first - extent;
    }
    if (before.some((p) => p) || after.some((p) => p)) cur = b.op('Pad', [cur, b.ints([...before, ...after])]);
    return [cur];
  },
  noGradInputs: [1, 2, 3, 4],
});

defineOp({
  type: 'Pad',
  infer: (ctx) => {
    const x = ctx.need(0);
    const pads = dimsOfInput(ctx, 1);
    const r = x.shape.length;
    if (!pads || !isStatic(pads)) return [{ dtype: x.dtype, shape: x.shape.map(() => freshSymbol('pad')) }];
    if (pads.length !== 2 * r) throw ctx.malformed(`has ${pads.length} pads for rank ${r}`);
    const mode = attrString(ctx.node, 'mode', 'constant');
    const shape = x.shape.map((d, i) => {
      if (typeof d !== 'number') return pads[i] === 0 && pads[i + r] === 0 ? d : freshSymbol('pad');
      if ((mode === 'reflect' && (pads[i]! >= d || pads[i + r]! >= d)) || (mode === 'wrap' && (pads[i]! > d || pads[i + r]! > d))) {
        throw ctx.error(`${mode} padding of ${pads[i]}/${pads[i + r]} on axis ${i} needs an input larger than ${d}`);
      }
      return d + pads[i]! + pads[i + r]!;
    });
    return [{ dtype: x.dtype, shape }];
  },
  grad: (g) => {
    const dy = g.dy(0);
    if (!dy) return [undefined];
    const padsT = g.constant(1);
    if (!padsT) throw new Error(`Pad "${g.node.name}": gradient needs constant pads`);
    const pads = toNumbers(padsT);
    const mode = attrString(g.node, 'mode', 'constant');
    const dims = g.b.shapeOf(g.x(0));
    return [padBackward(g.b, dy, dims, pads, mode, g.node.name)];
  },
  noGradInputs: [1, 2, 3],
});

/** Gradient of Pad, one axis at a time (the modes act on each axis independently). */
function padBackward(b: GraphBuilder, dy: string, dims: readonly Dim[], pads: readonly number[], mode: string, name: string): string {
  const r = dims.length;
  let cur = dy;
  const slice = (t: string, axis: number, from: number, to: number, step = 1): string =>
    b.op('Slice', [t, b.ints([from]), b.ints([to]), b.ints([axis]), b.ints([step])]);
  const padAxis = (t: string, axis: number, lo: number, hi: number): string => {
    if (lo === 0 && hi === 0) return t;
    const p = new Array<number>(2 * r).fill(0);
    p[axis] = lo;
    p[axis + r] = hi;
    return b.op('Pad', [t, b.ints(p)]);
  };
  for (let a = 0; a < r; a++) {
    const pb = pads[a]!;
    const pe = pads[a + r]!;
    if (pb === 0 && pe === 0) continue;
    const d = dims[a]!;
    if (typeof d !== 'number') throw new Error(`Pad "${name}": gradient needs a static size on padded axis ${a}`);
    // Crops (negative pads) come back as zeros, pads as slices.
    const grown = padAxis(cur, a, Math.max(0, -pb), Math.max(0, -pe));
    const lo = Math.max(0, pb);
    const hi = Math.max(0, pe);
    const center = slice(grown, a, lo, lo + d);
    if (mode === 'constant' || (lo === 0 && hi === 0)) {
      cur = center;
      continue;
    }
    const parts = [center];
    if (mode === 'reflect') {
      // Left pad element j mirrors input index lo - j; right pad element j mirrors d - 2 - j.
      if (lo > 0) parts.push(padAxis(slice(grown, a, lo - 1, Number.MIN_SAFE_INTEGER, -1), a, 1, d - 1 - lo));
      if (hi > 0) parts.push(padAxis(slice(grown, a, lo + d + hi - 1, lo + d - 1, -1), a, d - 1 - hi, 1));
    } else if (mode === 'edge') {
      const sumAxis = (t: string): string => b.op('ReduceSum', [t, b.ints([a])], { keepdims: 1 });
      if (lo > 0) parts.push(padAxis(sumAxis(slice(grown, a, 0, lo)), a, 0, d - 1));
      if (hi > 0) parts.push(padAxis(sumAxis(slice(grown, a, lo + d, lo + d + hi)), a, d - 1, 0));
    } else if (mode === 'wrap') {
      // Left pad element j is input index d - lo + j; right pad element j is input index j.
      if (lo > 0) parts.push(padAxis(slice(grown, a, 0, lo), a, d - lo, 0));
      if (hi > 0) parts.push(padAxis(slice(grown, a, lo + d, lo + d + hi), a, 0, d - hi));
    } else throw new Error(`Pad "${name}": unknown mode ${mode}`);
    cur = sumAll(b, parts);
  }
  return cur;
}

defineOp({
  type: 'Range',
  infer: (ctx) => {
    const v = [0, 1, 2].map((i) => ctx.value(i));
    const dtype = ctx.input(0)!.dtype;
    if (v.every((t) => t)) {
      const [s, l, d] = v.map((t) => Number(t!.data[0]!));
      return [{ dtype, shape: [Math.max(Math.ceil((l! - s!) / d!), 0)] }];
    }
    return [{ dtype, shape: [freshSymbol('range')] }];
  },
  nonDifferentiable: true,
});

function compareInfer(ctx: InferContext): OutputFacts[] {
  const a = ctx.need(0);
  const c = ctx.need(1);
  const shape = broadcastShapes(ctx.node, [a.shape, c.shape]);
  const decided = ctx.node.op === 'Equal' ? equalDims(ctx) : undefined;
  return [{ dtype: 'bool', shape, ...(decided && shape.length === 1 && shape[0] === decided.length ? { value: { dtype: 'bool', dims: [decided.length], data: Uint8Array.from(decided, Number) } } : {}) }];
}

/**
 * Equal of two shape vectors when every entry is decided although some are symbolic: a symbol
 * equals itself, and a size is never negative. PyTorch writes `x.expand(n, -1, -1)` (ViT's class
 * token) as Expand(x, Where(Equal([n, -1, -1], -1), 1, [n, -1, -1])): deciding the Equal lets the
 * Where, and so the Expand, keep [N, 1, 768] instead of unknown sizes no gradient could concatenate.
 */
function equalDims(ctx: InferContext): boolean[] | undefined {
  const a = dimsOfInput(ctx, 0);
  const c = dimsOfInput(ctx, 1);
  if (!a || !c || (a.every((d) => typeof d === 'number') && c.every((d) => typeof d === 'number'))) return undefined; // constants fold as they are
  const n = Math.max(a.length, c.length);
  if ((a.length !== n && a.length !== 1) || (c.length !== n && c.length !== 1)) return undefined;
  const out: boolean[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length === 1 ? 0 : i]!;
    const y = c[c.length === 1 ? 0 : i]!;
    if (typeof x === 'number' && typeof y === 'number') out.push(x === y);
    else if (x === y) out.push(true);
    else if ((typeof x === 'number' && x < 0) || (typeof y === 'number' && y < 0)) out.push(false);
    else return undefined;
  }
  return out;
}
for (const op of ['Equal', 'Greater', 'Less', 'GreaterOrEqual', 'LessOrEqual', 'And', 'Or']) {
  defineOp({ type: op, infer: compareInfer, nonDifferentiable: true });
}
defineOp({ type: 'Not', infer: (ctx) => [{ dtype: 'bool', shape: [...ctx.need(0).shape] }], nonDifferentiable: true });

defineOp({
  type: 'Where',
  infer: (ctx) => {
    const c = ctx.need(0);
    const a = ctx.need(1);
    const e = ctx.need(2);
    const shape = broadcastShapes(ctx.node, [c.shape, a.shape, e.shape]);
    // a choice between shape vectors by a known condition (see equalDims) is a shape vector
    const cond = ctx.value(0);
    const [picked, other] = [dimsOfInput(ctx, 1), dimsOfInput(ctx, 2)];
    if (cond && picked && other && shape.length === 1 && typeof shape[0] === 'number' && a.dtype === 'int64') {
      const at = (v: Dim[], i: number): Dim | undefined => (v.length === 1 ? v[0] : v[i]);
      const dims = Array.from({ length: shape[0] }, (_, i) => (Number(cond.data[cond.data.length === 1 ? 0 : i]) ? at(picked, i) : at(other, i)));
      if (dims.every((d) => d !== undefined)) return [{ dtype: a.dtype, shape, dimsValue: dims as Dim[] }];
    }
    return [{ dtype: a.dtype, shape }];
  },
  grad: (g) => {
    const dy = g.dy(0);
    if (!dy) return [undefined, undefined, undefined];
    const b = g.b;
    const zero = b.scalar(0);
    const ga = g.wants(1) ? unbroadcast(b, b.op('Where', [g.x(0), dy, zero]), g.x(1)) : undefined;
    const gb = g.wants(2) ? unbroadcast(b, b.op('Where', [g.x(0), zero, dy]), g.x(2)) : undefined;
    return [undefined, ga, gb];
  },
  noGradInputs: [0],
});

