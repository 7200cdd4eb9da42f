import {
  Graph,
  allocate,
  attrFloat,
  attrInt,
  attrInts,
  attrString,
  attrTensor,
  broadcastShapes,
  castTensor,
  dimProduct,
  dimsOfInput,
  dtypeFromOnnx,
  freshSymbol,
  isFloatDType,
  isStatic,
  normAxis,
  shapeError,
  sizeOf,
  tensor,
  toAttr,
  toFloat64,
  toNumbers,
  transposeGeometry,
  windowGeometry
} from "./chunk-75463JA6.js";
import {
  filled,
  glorotUniform,
  heNormal,
  seededRandom
} from "./chunk-Y3QEK5WU.js";
import {
  ConvLensError
} from "./chunk-N6ATQ4RF.js";

// dist/engine/reference/evaluator.js
var kernels = /* @__PURE__ */ new Map();
function defineKernel(op, k) {
  if (kernels.has(op))
    throw new Error(`kernel ${op} defined twice`);
  kernels.set(op, k);
}
function hasKernel(op) {
  return kernels.has(op);
}
function kernelOps() {
  return [...kernels.keys()].sort();
}
function evaluateNode(node, inputs, opset) {
  const k = kernels.get(node.op);
  if (!k || node.domain) {
    throw new ConvLensError("UNSUPPORTED_OP", `The reference evaluator has no kernel for ${node.op} (node "${node.name}").`, `Kernels exist for: ${kernelOps().join(", ")}.`);
  }
  return k(node, inputs, opset);
}

// dist/engine/reference/kernels/layout.js
function stridesOf(dims) {
  const s = new Array(dims.length);
  let acc = 1;
  for (let i = dims.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= dims[i];
  }
  return s;
}
function get(t, i) {
  return t.data[i];
}
function put(a, i, v) {
  a[i] = v;
}
function need(node, inputs, i) {
  const t = inputs[i];
  if (!t)
    throw new Error(`${node.op} "${node.name}": input ${i} is missing`);
  return t;
}
function remap(src, outDims, indexOf) {
  const n = sizeOf(outDims);
  const out = allocate(src.dtype, n);
  const idx = new Array(outDims.length).fill(0);
  for (let f2 = 0; f2 < n; f2++) {
    put(out, f2, get(src, indexOf(idx)));
    for (let k = outDims.length - 1; k >= 0; k--) {
      if (++idx[k] < outDims[k])
        break;
      idx[k] = 0;
    }
  }
  return { dtype: src.dtype, dims: [...outDims], data: out };
}
function transposeTensor(t, perm) {
  const st = stridesOf(t.dims);
  const outDims = perm.map((p) => t.dims[p]);
  return remap(t, outDims, (idx) => idx.reduce((acc, v, k) => acc + v * st[perm[k]], 0));
}
function broadcastTo(t, outDims) {
  const r = outDims.length;
  const dims = [...new Array(r - t.dims.length).fill(1), ...t.dims];
  const st = stridesOf(dims);
  return remap(t, outDims, (idx) => idx.reduce((acc, v, k) => acc + (dims[k] === 1 ? 0 : v * st[k]), 0));
}
function broadcastDims(a, b) {
  const r = Math.max(a.length, b.length);
  const out = [];
  for (let k = 0; k < r; k++) {
    const x = a[a.length - r + k] ?? 1;
    const y = b[b.length - r + k] ?? 1;
    if (x !== y && x !== 1 && y !== 1)
      throw new Error(`cannot broadcast [${a}] and [${b}]`);
    out.push(x === 1 ? y : x);
  }
  return out;
}
function reshapeTarget(inDims, spec, allowZero) {
  const out = spec.map((d, i) => d === 0 && !allowZero ? inDims[i] : d);
  const known = out.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  const total = sizeOf(inDims);
  const inferred = out.indexOf(-1);
  if (inferred >= 0)
    out[inferred] = known === 0 ? 0 : total / known;
  if (sizeOf(out) !== total || !out.every(Number.isInteger))
    throw new Error(`cannot reshape [${inDims}] to [${spec}]`);
  return out;
}
function resolveSlice(dims, starts, ends, axesIn, stepsIn) {
  const r = dims.length;
  const start = new Array(r).fill(0);
  const step = new Array(r).fill(1);
  const count = [...dims];
  const axes = axesIn ?? starts.map((_, i) => i);
  axes.forEach((a0, i) => {
    const a = a0 < 0 ? a0 + r : a0;
    const d = dims[a];
    const s = stepsIn?.[i] ?? 1;
    if (s === 0)
      throw new Error("Slice step cannot be 0");
    let b = starts[i];
    let e = ends[i];
    if (b < 0)
      b += d;
    if (e < 0)
      e += d;
    if (s > 0) {
      b = Math.min(Math.max(b, 0), d);
      e = Math.min(Math.max(e, 0), d);
    } else {
      b = Math.min(Math.max(b, 0), d - 1);
      e = Math.min(Math.max(e, -1), d - 1);
    }
    start[a] = b;
    step[a] = s;
    count[a] = Math.max(0, Math.ceil((e - b) / s));
  });
  return { start, step, count };
}
defineKernel("Identity", (node, ins) => [need(node, ins, 0)]);
defineKernel("Dropout", (node, ins) => {
  const x = need(node, ins, 0);
  return [x, tensor("bool", x.dims, new Uint8Array(sizeOf(x.dims)).fill(1))];
});
defineKernel("Constant", (node) => {
  const t = attrTensor(node, "value");
  if (t)
    return [t];
  const f2 = attrFloat(node, "value_float");
  if (f2 !== void 0)
    return [tensor("float32", [], [f2])];
  const i = attrInt(node, "value_int");
  if (i !== void 0)
    return [tensor("int64", [], [i])];
  const fs = node.attrs["value_floats"];
  if (fs?.type === "floats")
    return [tensor("float32", [fs.value.length], fs.value)];
  const is = attrInts(node, "value_ints");
  if (is)
    return [tensor("int64", [is.length], is)];
  throw new Error(`Constant "${node.name}" has no supported value attribute`);
});
defineKernel("Shape", (node, ins) => {
  const x = need(node, ins, 0);
  const r = x.dims.length;
  let start = attrInt(node, "start", 0);
  let end = attrInt(node, "end", r);
  if (start < 0)
    start += r;
  if (end < 0)
    end += r;
  start = Math.min(Math.max(start, 0), r);
  end = Math.min(Math.max(end, 0), r);
  const dims = x.dims.slice(start, Math.max(start, end));
  return [tensor("int64", [dims.length], dims)];
});
defineKernel("Size", (node, ins) => [tensor("int64", [], [sizeOf(need(node, ins, 0).dims)])]);
defineKernel("ConstantOfShape", (node, ins) => {
  const dims = toNumbers(need(node, ins, 0));
  const v = attrTensor(node, "value") ?? tensor("float32", [1], [0]);
  const out = allocate(v.dtype, sizeOf(dims));
  const fill = v.data[0];
  for (let i = 0; i < out.length; i++)
    put(out, i, fill);
  return [{ dtype: v.dtype, dims, data: out }];
});
defineKernel("Cast", (node, ins) => {
  const to = dtypeFromOnnx(attrInt(node, "to", 1));
  if (!to)
    throw new Error(`Cast "${node.name}": unsupported target type`);
  return [castTensor(need(node, ins, 0), to)];
});
defineKernel("Reshape", (node, ins) => {
  const x = need(node, ins, 0);
  const dims = reshapeTarget(x.dims, toNumbers(need(node, ins, 1)), attrInt(node, "allowzero", 0) === 1);
  return [{ dtype: x.dtype, dims, data: x.data }];
});
defineKernel("Flatten", (node, ins) => {
  const x = need(node, ins, 0);
  let axis = attrInt(node, "axis", 1);
  if (axis < 0)
    axis += x.dims.length;
  const dims = [sizeOf(x.dims.slice(0, axis)), sizeOf(x.dims.slice(axis))];
  return [{ dtype: x.dtype, dims, data: x.data }];
});
defineKernel("Squeeze", (node, ins) => {
  const x = need(node, ins, 0);
  const r = x.dims.length;
  const axes = ins[1] ? toNumbers(ins[1]).map((a) => a < 0 ? a + r : a) : x.dims.flatMap((d, i) => d === 1 ? [i] : []);
  const dims = x.dims.filter((_, i) => !axes.includes(i));
  return [{ dtype: x.dtype, dims, data: x.data }];
});
defineKernel("Unsqueeze", (node, ins) => {
  const x = need(node, ins, 0);
  const axesRaw = toNumbers(need(node, ins, 1));
  const r = x.dims.length + axesRaw.length;
  const axes = axesRaw.map((a) => a < 0 ? a + r : a);
  const dims = [];
  let k = 0;
  for (let i = 0; i < r; i++)
    dims.push(axes.includes(i) ? 1 : x.dims[k++]);
  return [{ dtype: x.dtype, dims, data: x.data }];
});
defineKernel("Transpose", (node, ins) => {
  const x = need(node, ins, 0);
  const perm = attrInts(node, "perm") ?? x.dims.map((_, i) => x.dims.length - 1 - i);
  return [transposeTensor(x, perm)];
});
defineKernel("Expand", (node, ins) => {
  const x = need(node, ins, 0);
  return [broadcastTo(x, broadcastDims(x.dims, toNumbers(need(node, ins, 1))))];
});
defineKernel("Tile", (node, ins) => {
  const x = need(node, ins, 0);
  const reps = toNumbers(need(node, ins, 1));
  const st = stridesOf(x.dims);
  const outDims = x.dims.map((d, i) => d * reps[i]);
  return [remap(x, outDims, (idx) => idx.reduce((acc, v, k) => acc + v % x.dims[k] * st[k], 0))];
});
defineKernel("Concat", (node, ins) => {
  const parts = ins.filter((t) => !!t);
  const r = parts[0].dims.length;
  let axis = attrInt(node, "axis", 0);
  if (axis < 0)
    axis += r;
  const outDims = [...parts[0].dims];
  outDims[axis] = parts.reduce((a, t) => a + t.dims[axis], 0);
  const outer = sizeOf(outDims.slice(0, axis));
  const out = allocate(parts[0].dtype, sizeOf(outDims));
  let o = 0;
  for (let i = 0; i < outer; i++) {
    for (const t of parts) {
      const block = sizeOf(t.dims.slice(axis));
      for (let j = 0; j < block; j++)
        put(out, o++, get(t, i * block + j));
    }
  }
  return [{ dtype: parts[0].dtype, dims: outDims, data: out }];
});
defineKernel("Split", (node, ins) => {
  const x = need(node, ins, 0);
  let axis = attrInt(node, "axis", 0);
  if (axis < 0)
    axis += x.dims.length;
  const n = node.outputs.length;
  const d = x.dims[axis];
  const chunk = Math.ceil(d / n);
  const sizes = ins[1] ? toNumbers(ins[1]) : Array.from({ length: n }, (_, i) => i < n - 1 ? chunk : d - chunk * (n - 1));
  const st = stridesOf(x.dims);
  let offset = 0;
  return sizes.map((s) => {
    const outDims = [...x.dims];
    outDims[axis] = s;
    const base = offset;
    offset += s;
    return remap(x, outDims, (idx) => idx.reduce((acc, v, k) => acc + (k === axis ? v + base : v) * st[k], 0));
  });
});
defineKernel("Slice", (node, ins) => {
  const x = need(node, ins, 0);
  const { start, step, count } = resolveSlice(x.dims, toNumbers(need(node, ins, 1)), toNumbers(need(node, ins, 2)), ins[3] ? toNumbers(ins[3]) : void 0, ins[4] ? toNumbers(ins[4]) : void 0);
  const st = stridesOf(x.dims);
  return [remap(x, count, (idx) => idx.reduce((acc, v, k) => acc + (start[k] + v * step[k]) * st[k], 0))];
});
defineKernel("Pad", (node, ins) => {
  const x = need(node, ins, 0);
  const r = x.dims.length;
  const pads = toNumbers(need(node, ins, 1));
  const mode = attrString(node, "mode", "constant");
  const cv = ins[2] ? ins[2].data[0] : x.data instanceof BigInt64Array ? 0n : 0;
  const outDims = x.dims.map((d, i) => d + pads[i] + pads[i + r]);
  const st = stridesOf(x.dims);
  const n = sizeOf(outDims);
  const out = allocate(x.dtype, n);
  const idx = new Array(r).fill(0);
  for (let f2 = 0; f2 < n; f2++) {
    let src = 0;
    let inside = true;
    for (let k = 0; k < r; k++) {
      const d = x.dims[k];
      let i = idx[k] - pads[k];
      if (i < 0 || i >= d) {
        if (mode === "constant")
          inside = false;
        else if (mode === "reflect") {
          const period = 2 * (d - 1);
          i = period === 0 ? 0 : (i % period + period) % period;
          if (i >= d)
            i = period - i;
        } else if (mode === "edge")
          i = Math.min(Math.max(i, 0), d - 1);
        else if (mode === "wrap")
          i = (i % d + d) % d;
        else
          throw new Error(`Pad "${node.name}": unknown mode ${mode}`);
      }
      src += i * st[k];
    }
    put(out, f2, inside ? get(x, src) : cv);
    for (let k = r - 1; k >= 0; k--) {
      if (++idx[k] < outDims[k])
        break;
      idx[k] = 0;
    }
  }
  return [{ dtype: x.dtype, dims: outDims, data: out }];
});
defineKernel("Range", (node, ins) => {
  const [s, l, d] = [0, 1, 2].map((i) => Number(need(node, ins, i).data[0]));
  const n = Math.max(Math.ceil((l - s) / d), 0);
  const vals = Array.from({ length: n }, (_, i) => s + i * d);
  return [tensor(need(node, ins, 0).dtype, [n], vals)];
});
function compare(op, f2) {
  defineKernel(op, (node, ins) => {
    const a = need(node, ins, 0);
    const b = need(node, ins, 1);
    const dims = broadcastDims(a.dims, b.dims);
    const av = toFloat64(broadcastTo(a, dims));
    const bv = toFloat64(broadcastTo(b, dims));
    const out = new Uint8Array(av.length);
    for (let i = 0; i < out.length; i++)
      out[i] = f2(av[i], bv[i]) ? 1 : 0;
    return [{ dtype: "bool", dims, data: out }];
  });
}
compare("Equal", (a, b) => a === b);
compare("Greater", (a, b) => a > b);
compare("Less", (a, b) => a < b);
compare("GreaterOrEqual", (a, b) => a >= b);
compare("LessOrEqual", (a, b) => a <= b);
compare("And", (a, b) => a !== 0 && b !== 0);
compare("Or", (a, b) => a !== 0 || b !== 0);
defineKernel("Not", (node, ins) => {
  const x = need(node, ins, 0);
  return [{ dtype: "bool", dims: [...x.dims], data: Uint8Array.from(x.data, (v) => v ? 0 : 1) }];
});
defineKernel("Where", (node, ins) => {
  const c = need(node, ins, 0);
  const a = need(node, ins, 1);
  const b = need(node, ins, 2);
  const dims = broadcastDims(broadcastDims(c.dims, a.dims), b.dims);
  const cc = broadcastTo(c, dims);
  const aa = broadcastTo(a, dims);
  const bb = broadcastTo(b, dims);
  const out = allocate(a.dtype, sizeOf(dims));
  for (let i = 0; i < out.length; i++)
    put(out, i, cc.data[i] ? get(aa, i) : get(bb, i));
  return [{ dtype: a.dtype, dims, data: out }];
});

// dist/engine/ops/emit.js
function shapeValue(b, x) {
  const s = b.factsOf(x).shape;
  if (s && s.every((d) => typeof d === "number"))
    return b.ints(s, "shape");
  return b.op("Shape", [x]);
}
function reshapeLike(b, g, like) {
  const gs = b.factsOf(g).shape;
  const ls = b.factsOf(like).shape;
  if (gs && ls && sameDims(gs, ls))
    return g;
  return b.op("Reshape", [g, shapeValue(b, like)]);
}
function sameDims(a, b) {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
function zerosLike(b, x) {
  return b.op("ConstantOfShape", [shapeValue(b, x)], {
    value: { dtype: "float32", dims: [1], data: Float32Array.of(0) }
  });
}
function unbroadcast(b, g, x) {
  const gs = b.shapeOf(g);
  const xs = b.shapeOf(x);
  if (sameDims(gs, xs))
    return g;
  const lead = gs.length - xs.length;
  const axes = [];
  for (let k = 0; k < gs.length; k++) {
    if (k < lead)
      axes.push(k);
    else if (xs[k - lead] === 1 && gs[k] !== 1)
      axes.push(k);
  }
  let r = g;
  if (axes.length)
    r = b.op("ReduceSum", [g, b.ints(axes, "axes")], { keepdims: 1 });
  return reshapeLike(b, r, x);
}
function floatMask(b, cond) {
  return b.op("Cast", [cond], { to: 1 });
}
function sumAll(b, parts) {
  if (parts.length === 1)
    return parts[0];
  return b.op("Sum", [...parts]);
}

// dist/engine/ops/registry.js
var registry = /* @__PURE__ */ new Map();
function defineOp(def) {
  if (registry.has(def.type))
    throw new Error(`op ${def.type} defined twice`);
  registry.set(def.type, def);
}
function findOp(type) {
  return registry.get(type);
}
function supportedOps() {
  return [...registry.keys()].sort();
}
function differentiableOps() {
  return [...registry.values()].filter((d) => d.grad || d.nonDifferentiable).map((d) => d.type).sort();
}
function requireOp(node, purpose) {
  const def = node.domain ? void 0 : registry.get(node.op);
  if (!def || purpose === "gradient" && !def.grad && !def.nonDifferentiable) {
    const list = purpose === "gradient" ? differentiableOps() : supportedOps();
    const what = node.domain ? `${node.domain}::${node.op}` : node.op;
    throw new ConvLensError("UNSUPPORTED_OP", `Op ${what} (node "${node.name}") has no ${purpose === "gradient" ? "backward rule" : "shape rule"} in ConvLens.`, `Supported ops: ${list.join(", ")}. Re-export the model with these ops, or open an issue asking for ${what}.`);
  }
  return def;
}

// dist/engine/ops/layout.js
var same = (ctx) => {
  const x = ctx.input(0);
  if (!x)
    throw ctx.error("input 0 is required");
  return [{ dtype: x.dtype, ...x.shape ? { shape: [...x.shape] } : {}, ...x.dimsValue ? { dimsValue: [...x.dimsValue] } : {} }];
};
var passThrough = (g) => [g.dy(0)];
var reshapeBack = (g) => {
  const dy = g.dy(0);
  return [dy && reshapeLike(g.b, dy, g.x(0))];
};
defineOp({ type: "Identity", infer: same, grad: passThrough });
defineOp({
  type: "Dropout",
  // Inference semantics: identity. Training-time dropout is built from a mask input by the trainer.
  infer: (ctx) => {
    const [y] = same(ctx);
    return [y, { dtype: "bool", ...y.shape ? { shape: y.shape } : {} }];
  },
  grad: passThrough,
  noGradInputs: [1, 2]
});
defineOp({
  type: "Constant",
  infer: (ctx) => {
    const t = attrTensor(ctx.node, "value");
    if (t)
      return [{ dtype: t.dtype, shape: [...t.dims], value: t }];
    const ints = attrInts(ctx.node, "value_ints");
    if (ints)
      return [{ dtype: "int64", shape: [ints.length] }];
    if (ctx.node.attrs["value_int"])
      return [{ dtype: "int64", shape: [] }];
    if (ctx.node.attrs["value_float"])
      return [{ dtype: "float32", shape: [] }];
    const fl = ctx.node.attrs["value_floats"];
    if (fl?.type === "floats")
      return [{ dtype: "float32", shape: [fl.value.length] }];
    throw ctx.error("has no supported value attribute (sparse or string constants are not supported)");
  },
  nonDifferentiable: true
});
defineOp({
  type: "Shape",
  infer: (ctx) => {
    const x = ctx.need(0);
    const r = x.shape.length;
    const clamp = (v) => Math.min(Math.max(v < 0 ? v + r : v, 0), r);
    const dims = x.shape.slice(clamp(attrInt(ctx.node, "start", 0)), clamp(attrInt(ctx.node, "end", r)));
    const out = { dtype: "int64", shape: [dims.length], dimsValue: dims };
    if (isStatic(dims))
      out.value = { dtype: "int64", dims: [dims.length], data: BigInt64Array.from(dims, (d) => BigInt(d)) };
    return [out];
  },
  nonDifferentiable: true
});
defineOp({
  type: "Size",
  infer: (ctx) => {
    const x = ctx.need(0);
    const out = { dtype: "int64", shape: [] };
    if (isStatic(x.shape))
      out.value = { dtype: "int64", dims: [], data: BigInt64Array.of(BigInt(x.shape.reduce((a, b) => a * b, 1))) };
    return [out];
  },
  nonDifferentiable: true
});
defineOp({
  type: "ConstantOfShape",
  infer: (ctx) => {
    const dims = dimsOfInput(ctx, 0);
    const v = attrTensor(ctx.node, "value");
    const dtype = v?.dtype ?? "float32";
    if (dims)
      return [{ dtype, shape: dims }];
    const len = ctx.input(0)?.shape?.[0];
    return [{ dtype, ...typeof len === "number" ? { shape: Array.from({ length: len }, () => freshSymbol("cos")) } : {} }];
  },
  nonDifferentiable: true
});
defineOp({
  type: "Cast",
  infer: (ctx) => {
    const x = ctx.input(0);
    const to = dtypeFromOnnx(attrInt(ctx.node, "to", 1));
    if (!to)
      throw ctx.error(`casts to unsupported type code ${attrInt(ctx.node, "to", 1)}`);
    const out = { dtype: to, ...x.shape ? { shape: [...x.shape] } : {} };
    if (x.dimsValue && (to === "int64" || to === "int32"))
      out.dimsValue = [...x.dimsValue];
    return [out];
  },
  grad: (g) => {
    const dy = g.dy(0);
    const from = g.facts(g.x(0)).dtype;
    if (!dy || from !== "float32" && from !== "float64")
      return [void 0];
    return [from === "float32" ? dy : g.b.op("Cast", [dy], { to: 11 })];
  }
});
function reshapeInfer(ctx) {
  const x = ctx.input(0);
  const spec = dimsOfInput(ctx, 1);
  if (!spec) {
    const len = ctx.input(1)?.shape?.[0];
    return [{ dtype: x.dtype, ...typeof len === "number" ? { shape: Array.from({ length: len }, () => freshSymbol("reshape")) } : {} }];
  }
  const allowZero = attrInt(ctx.node, "allowzero", 0) === 1;
  const out = spec.map((d, i) => d === 0 && !allowZero ? x.shape?.[i] ?? freshSymbol("reshape") : d);
  const inferred = out.indexOf(-1);
  if (inferred >= 0) {
    const rest = out.filter((_, i) => i !== inferred);
    if (x.shape && isStatic(x.shape) && isStatic(rest)) {
      const total = x.shape.reduce((a, b) => a * b, 1);
      const known = rest.reduce((a, b) => a * b, 1);
      if (known === 0 || total % known !== 0)
        throw ctx.error(`cannot reshape [${x.shape.join(", ")}] into [${spec.join(", ")}]`);
      out[inferred] = total / known;
    } else if (x.shape) {
      const num = [...x.shape];
      const den = [...rest];
      for (let i = 0; i < den.length; i++) {
        const j = num.indexOf(den[i]);
        if (j >= 0) {
          num.splice(j, 1);
          den.splice(i--, 1);
        }
      }
      out[inferred] = isStatic(num) && isStatic(den) ? num.reduce((a, b) => a * b, 1) / den.reduce((a, b) => a * b, 1) : freshSymbol("reshape");
    } else
      out[inferred] = freshSymbol("reshape");
  } else if (x.shape && isStatic(x.shape) && isStatic(out)) {
    const a = x.shape.reduce((p, q) => p * q, 1);
    const c = out.reduce((p, q) => p * q, 1);
    if (a !== c)
      throw ctx.error(`cannot reshape [${x.shape.join(", ")}] (${a} elements) into [${spec.join(", ")}] (${c} elements)`);
  }
  return [{ dtype: x.dtype, shape: out }];
}
defineOp({ type: "Reshape", infer: reshapeInfer, grad: reshapeBack, noGradInputs: [1] });
defineOp({
  type: "Flatten",
  infer: (ctx) => {
    const x = ctx.need(0);
    const axis = attrInt(ctx.node, "axis", 1);
    const a = axis < 0 ? axis + x.shape.length : axis;
    return [{ dtype: x.dtype, shape: [dimProduct(x.shape.slice(0, a)), dimProduct(x.shape.slice(a))] }];
  },
  grad: reshapeBack
});
defineOp({
  type: "Squeeze",
  infer: (ctx) => {
    const x = ctx.need(0);
    const r = x.shape.length;
    const axesV = ctx.input(1) ? dimsOfInput(ctx, 1) : void 0;
    if (ctx.input(1) && !axesV)
      throw ctx.error("needs constant axes");
    const axes = axesV ? axesV.map((a) => normAxis(ctx.node, Number(a), r)) : x.shape.flatMap((d, i) => d === 1 ? [i] : []);
    for (const a of axes)
      if (typeof x.shape[a] === "number" && x.shape[a] !== 1)
        throw ctx.error(`cannot squeeze axis ${a} of size ${x.shape[a]}`);
    const out = { dtype: x.dtype, shape: x.shape.filter((_, i) => !axes.includes(i)) };
    if (x.dimsValue && r === 1 && axes.length === 1)
      out.dimsValue = [...x.dimsValue];
    return [out];
  },
  grad: reshapeBack,
  noGradInputs: [1]
});
defineOp({
  type: "Unsqueeze",
  infer: (ctx) => {
    const x = ctx.need(0);
    const axesV = dimsOfInput(ctx, 1);
    if (!axesV)
      throw ctx.error("needs constant axes");
    const r = x.shape.length + axesV.length;
    const axes = axesV.map((a) => normAxis(ctx.node, Number(a), r));
    const shape = [];
    let k = 0;
    for (let i = 0; i < r; i++)
      shape.push(axes.includes(i) ? 1 : x.shape[k++]);
    const out = { dtype: x.dtype, shape };
    if (x.dimsValue && x.shape.length === 0)
      out.dimsValue = [...x.dimsValue];
    return [out];
  },
  grad: reshapeBack,
  noGradInputs: [1]
});
defineOp({
  type: "Transpose",
  infer: (ctx) => {
    const x = ctx.need(0);
    const perm = attrInts(ctx.node, "perm") ?? x.shape.map((_, i) => x.shape.length - 1 - i);
    if (perm.length !== x.shape.length)
      throw ctx.error(`perm [${perm}] does not match rank ${x.shape.length}`);
    return [{ dtype: x.dtype, shape: perm.map((p) => x.shape[p]) }];
  },
  grad: (g) => {
    const dy = g.dy(0);
    if (!dy)
      return [void 0];
    const r = g.b.shapeOf(g.x(0)).length;
    const perm = attrInts(g.node, "perm") ?? Array.from({ length: r }, (_, i) => r - 1 - i);
    const inv = new Array(r);
    perm.forEach((p, i) => inv[p] = i);
    return [g.b.op("Transpose", [dy], { perm: inv })];
  }
});
defineOp({
  type: "Expand",
  infer: (ctx) => {
    const x = ctx.need(0);
    const target = dimsOfInput(ctx, 1);
    if (!target) {
      const len = ctx.input(1)?.shape?.[0];
      if (typeof len !== "number")
        return [{ dtype: x.dtype }];
      return [{ dtype: x.dtype, shape: broadcastShapes(ctx.node, [x.shape, Array.from({ length: len }, () => freshSymbol("expand"))]) }];
    }
    return [{ dtype: x.dtype, shape: broadcastShapes(ctx.node, [x.shape, target]) }];
  },
  grad: (g) => {
    const dy = g.dy(0);
    return [dy && unbroadcast(g.b, dy, g.x(0))];
  },
  noGradInputs: [1]
});
defineOp({
  type: "Tile",
  infer: (ctx) => {
    const x = ctx.need(0);
    const reps = dimsOfInput(ctx, 1);
    if (!reps)
      return [{ dtype: x.dtype, shape: x.shape.map(() => freshSymbol("tile")) }];
    return [{ dtype: x.dtype, shape: x.shape.map((d, i) => typeof d === "number" && typeof reps[i] === "number" ? d * reps[i] : freshSymbol("tile")) }];
  },
  grad: (g) => {
    const dy = g.dy(0);
    if (!dy)
      return [void 0];
    const xs = g.b.staticShape(g.x(0));
    const reps = g.constant(1);
    if (!reps)
      throw new Error(`Tile "${g.node.name}": gradient needs constant repeats`);
    const r = toNumbers(reps);
    const split = g.b.op("Reshape", [dy, g.b.ints(xs.flatMap((d, i) => [r[i], d]))]);
    const summed = g.b.op("ReduceSum", [split, g.b.ints(xs.map((_, i) => 2 * i))], { keepdims: 0 });
    return [summed];
  },
  noGradInputs: [1]
});
defineOp({
  type: "Concat",
  infer: (ctx) => {
    const parts = Array.from({ length: ctx.inputCount }, (_, i) => ctx.need(i));
    const r = parts[0].shape.length;
    const axis = normAxis(ctx.node, attrInt(ctx.node, "axis", 0), r);
    const shape = [...parts[0].shape];
    for (const p of parts.slice(1)) {
      if (p.shape.length !== r)
        throw ctx.error(`inputs have different ranks (${r} and ${p.shape.length})`);
      p.shape.forEach((d, i) => {
        if (i !== axis && typeof d === "number" && typeof shape[i] === "number" && d !== shape[i])
          throw ctx.error(`input shapes differ on axis ${i} (${shape[i]} vs ${d})`);
        if (i !== axis && typeof shape[i] !== "number")
          shape[i] = d;
      });
    }
    const along = parts.map((p) => p.shape[axis]);
    shape[axis] = along.every((d) => typeof d === "number") ? along.reduce((a, b) => a + b, 0) : freshSymbol("concat");
    const out = { dtype: parts[0].dtype, shape };
    if (r === 1) {
      const vals = parts.map((_, i) => dimsOfInput(ctx, i));
      if (vals.every((v) => v !== void 0))
        out.dimsValue = vals.flat();
    }
    return [out];
  },
  grad: (g) => {
    const dy = g.dy(0);
    if (!dy)
      return g.node.inputs.map(() => void 0);
    const r = g.b.shapeOf(dy).length;
    const axis = normAxis(g.node, attrInt(g.node, "axis", 0), r);
    const sizes = g.node.inputs.map((x) => g.b.shapeOf(x)[axis]);
    if (!sizes.every((d) => typeof d === "number")) {
      throw new Error(`Concat "${g.node.name}": gradient needs static sizes along axis ${axis}`);
    }
    const parts = g.b.opN("Split", [dy, g.b.ints(sizes)], { axis }, { outputs: sizes.length });
    return parts.map((p, i) => g.wants(i) ? p : void 0);
  }
});
defineOp({
  type: "Split",
  infer: (ctx) => {
    const x = ctx.need(0);
    const n = ctx.node.outputs.length;
    const axis = normAxis(ctx.node, attrInt(ctx.node, "axis", 0), x.shape.length);
    const d = x.shape[axis];
    let sizes;
    if (ctx.input(1)) {
      const v = dimsOfInput(ctx, 1);
      if (!v)
        throw ctx.error("needs constant split sizes");
      sizes = v;
    } else if (typeof d === "number") {
      if (d % n !== 0)
        throw ctx.error(`cannot split size ${d} into ${n} equal parts`);
      sizes = new Array(n).fill(d / n);
    } else
      sizes = Array.from({ length: n }, () => freshSymbol("split"));
    if (sizes.length !== n)
      throw ctx.error(`${sizes.length} split sizes for ${n} outputs`);
    return sizes.map((s) => {
      const shape = [...x.shape];
      shape[axis] = s;
      return { dtype: x.dtype, shape };
    });
  },
  grad: (g) => {
    const outs = g.node.outputs;
    if (outs.every((_, i) => !g.dy(i)))
      return [void 0];
    const axis = normAxis(g.node, attrInt(g.node, "axis", 0), g.b.shapeOf(g.x(0)).length);
    const parts = outs.map((y, i) => g.dy(i) ?? zerosLike(g.b, y));
    return [g.b.op("Concat", parts, { axis })];
  },
  noGradInputs: [1]
});
function sliceParams(g, dims) {
  const val = (i) => {
    const t = "constant" in g ? g.constant(i) : g.value(i);
    return t ? toNumbers(t) : void 0;
  };
  const starts = val(1);
  const ends = val(2);
  if (!starts || !ends)
    throw new Error(`Slice "${g.node.name}": starts and ends must be constants`);
  return resolveSlice(dims, starts, ends, g.node.inputs[3] ? val(3) : void 0, g.node.inputs[4] ? val(4) : void 0);
}
defineOp({
  type: "Slice",
  infer: (ctx) => {
    const x = ctx.need(0);
    const starts = dimsOfInput(ctx, 1);
    const ends = dimsOfInput(ctx, 2);
    const axesIn = ctx.input(3) ? dimsOfInput(ctx, 3) : void 0;
    const stepsIn = ctx.input(4) ? dimsOfInput(ctx, 4) : void 0;
    if (!starts || !ends || ctx.input(3) && !axesIn || ctx.input(4) && !stepsIn || !isStatic(starts) || !isStatic(ends)) {
      return [{ dtype: x.dtype, shape: x.shape.map(() => freshSymbol("slice")) }];
    }
    const r = x.shape.length;
    const axes = axesIn?.map((a) => normAxis(ctx.node, a, r)) ?? starts.map((_, i) => i);
    const BIG = 2 ** 30;
    const concrete = x.shape.map((d) => typeof d === "number" ? d : BIG);
    const { start, step, count } = resolveSlice(concrete, starts, ends, axes, stepsIn);
    const shape = x.shape.map((d, a) => {
      if (typeof d === "number")
        return count[a];
      if (start[a] === 0 && step[a] === 1 && count[a] === BIG)
        return d;
      const i = axes.indexOf(a);
      return i >= 0 && starts[i] >= 0 && ends[i] >= 0 && count[a] < BIG / 2 ? count[a] : freshSymbol("slice");
    });
    const out = { dtype: x.dtype, shape };
    if (r === 1 && x.dimsValue && isStatic(x.shape)) {
      const { start: start2, step: step2, count: c } = resolveSlice(x.shape, starts, ends, axes, stepsIn);
      out.dimsValue = Array.from({ length: c[0] }, (_, i) => x.dimsValue[start2[0] + i * step2[0]]);
    }
    return [out];
  },
  grad: (g) => {
    const dy = g.dy(0);
    if (!dy)
      return [void 0];
    const b = g.b;
    const dims = b.shapeOf(g.x(0));
    const BIG = 2 ** 30;
    const concrete = dims.map((d) => typeof d === "number" ? d : BIG);
    const { start, step, count } = sliceParams(g, concrete);
    let cur = dy;
    const before = new Array(dims.length).fill(0);
    const after = new Array(dims.length).fill(0);
    for (let a = 0; a < dims.length; a++) {
      const d = concrete[a];
      if (start[a] === 0 && step[a] === 1 && count[a] === d)
        continue;
      if (d === BIG)
        throw new Error(`Slice "${g.node.name}": gradient needs a static size on sliced axis ${a}`);
      let s = step[a];
      let first = start[a];
      if (s < 0) {
        cur = b.op("Slice", [cur, b.ints([-1]), b.ints([Number.MIN_SAFE_INTEGER]), b.ints([a]), b.ints([-1])]);
        first = first + (count[a] - 1) * s;
        s = -s;
      }
      let extent = count[a];
      if (s > 1) {
        const shape = b.shapeOf(cur);
        const withAxis = b.op("Unsqueeze", [cur, b.ints([a + 1])]);
        const p = new Array(2 * (shape.length + 1)).fill(0);
        p[shape.length + 1 + a + 1] = s - 1;
        const padded = b.op("Pad", [withAxis, b.ints(p)]);
        const merged = shape.map((e, i) => i === a ? count[a] * s : typeof e === "number" ? e : 0);
        cur = b.op("Reshape", [padded, b.ints(merged)]);
        extent = Math.min(count[a] * s, d - first);
        if (extent < count[a] * s)
          cur = b.op("Slice", [cur, b.ints([0]), b.ints([extent]), b.ints([a])]);
      }
      before[a] = first;
      after[a] = d - first - extent;
    }
    if (before.some((p) => p) || after.some((p) => p))
      cur = b.op("Pad", [cur, b.ints([...before, ...after])]);
    return [cur];
  },
  noGradInputs: [1, 2, 3, 4]
});
defineOp({
  type: "Pad",
  infer: (ctx) => {
    const x = ctx.need(0);
    const pads = dimsOfInput(ctx, 1);
    const r = x.shape.length;
    if (!pads || !isStatic(pads))
      return [{ dtype: x.dtype, shape: x.shape.map(() => freshSymbol("pad")) }];
    if (pads.length !== 2 * r)
      throw ctx.error(`has ${pads.length} pads for rank ${r}`);
    const mode = attrString(ctx.node, "mode", "constant");
    const shape = x.shape.map((d, i) => {
      if (typeof d !== "number")
        return pads[i] === 0 && pads[i + r] === 0 ? d : freshSymbol("pad");
      if (mode === "reflect" && (pads[i] >= d || pads[i + r] >= d) || mode === "wrap" && (pads[i] > d || pads[i + r] > d)) {
        throw ctx.error(`${mode} padding of ${pads[i]}/${pads[i + r]} on axis ${i} needs an input larger than ${d}`);
      }
      return d + pads[i] + pads[i + r];
    });
    return [{ dtype: x.dtype, shape }];
  },
  grad: (g) => {
    const dy = g.dy(0);
    if (!dy)
      return [void 0];
    const padsT = g.constant(1);
    if (!padsT)
      throw new Error(`Pad "${g.node.name}": gradient needs constant pads`);
    const pads = toNumbers(padsT);
    const mode = attrString(g.node, "mode", "constant");
    const dims = g.b.shapeOf(g.x(0));
    return [padBackward(g.b, dy, dims, pads, mode, g.node.name)];
  },
  noGradInputs: [1, 2, 3]
});
function padBackward(b, dy, dims, pads, mode, name) {
  const r = dims.length;
  let cur = dy;
  const slice = (t, axis, from, to, step = 1) => b.op("Slice", [t, b.ints([from]), b.ints([to]), b.ints([axis]), b.ints([step])]);
  const padAxis = (t, axis, lo, hi) => {
    if (lo === 0 && hi === 0)
      return t;
    const p = new Array(2 * r).fill(0);
    p[axis] = lo;
    p[axis + r] = hi;
    return b.op("Pad", [t, b.ints(p)]);
  };
  for (let a = 0; a < r; a++) {
    const pb = pads[a];
    const pe = pads[a + r];
    if (pb === 0 && pe === 0)
      continue;
    const d = dims[a];
    if (typeof d !== "number")
      throw new Error(`Pad "${name}": gradient needs a static size on padded axis ${a}`);
    const grown = padAxis(cur, a, Math.max(0, -pb), Math.max(0, -pe));
    const lo = Math.max(0, pb);
    const hi = Math.max(0, pe);
    const center = slice(grown, a, lo, lo + d);
    if (mode === "constant" || lo === 0 && hi === 0) {
      cur = center;
      continue;
    }
    const parts = [center];
    if (mode === "reflect") {
      if (lo > 0)
        parts.push(padAxis(slice(grown, a, lo - 1, Number.MIN_SAFE_INTEGER, -1), a, 1, d - 1 - lo));
      if (hi > 0)
        parts.push(padAxis(slice(grown, a, lo + d + hi - 1, lo + d - 1, -1), a, d - 1 - hi, 1));
    } else if (mode === "edge") {
      const sumAxis = (t) => b.op("ReduceSum", [t, b.ints([a])], { keepdims: 1 });
      if (lo > 0)
        parts.push(padAxis(sumAxis(slice(grown, a, 0, lo)), a, 0, d - 1));
      if (hi > 0)
        parts.push(padAxis(sumAxis(slice(grown, a, lo + d, lo + d + hi)), a, d - 1, 0));
    } else if (mode === "wrap") {
      if (lo > 0)
        parts.push(padAxis(slice(grown, a, 0, lo), a, d - lo, 0));
      if (hi > 0)
        parts.push(padAxis(slice(grown, a, lo + d, lo + d + hi), a, 0, d - hi));
    } else
      throw new Error(`Pad "${name}": unknown mode ${mode}`);
    cur = sumAll(b, parts);
  }
  return cur;
}
defineOp({
  type: "Range",
  infer: (ctx) => {
    const v = [0, 1, 2].map((i) => ctx.value(i));
    const dtype = ctx.input(0).dtype;
    if (v.every((t) => t)) {
      const [s, l, d] = v.map((t) => Number(t.data[0]));
      return [{ dtype, shape: [Math.max(Math.ceil((l - s) / d), 0)] }];
    }
    return [{ dtype, shape: [freshSymbol("range")] }];
  },
  nonDifferentiable: true
});
function compareInfer(ctx) {
  const a = ctx.need(0);
  const c = ctx.need(1);
  return [{ dtype: "bool", shape: broadcastShapes(ctx.node, [a.shape, c.shape]) }];
}
for (const op of ["Equal", "Greater", "Less", "GreaterOrEqual", "LessOrEqual", "And", "Or"]) {
  defineOp({ type: op, infer: compareInfer, nonDifferentiable: true });
}
defineOp({ type: "Not", infer: (ctx) => [{ dtype: "bool", shape: [...ctx.need(0).shape] }], nonDifferentiable: true });
defineOp({
  type: "Where",
  infer: (ctx) => {
    const c = ctx.need(0);
    const a = ctx.need(1);
    const e = ctx.need(2);
    return [{ dtype: a.dtype, shape: broadcastShapes(ctx.node, [c.shape, a.shape, e.shape]) }];
  },
  grad: (g) => {
    const dy = g.dy(0);
    if (!dy)
      return [void 0, void 0, void 0];
    const b = g.b;
    const zero = b.scalar(0);
    const ga = g.wants(1) ? unbroadcast(b, b.op("Where", [g.x(0), dy, zero]), g.x(1)) : void 0;
    const gb = g.wants(2) ? unbroadcast(b, b.op("Where", [g.x(0), zero, dy]), g.x(2)) : void 0;
    return [void 0, ga, gb];
  },
  noGradInputs: [0]
});

// dist/engine/ops/elementwise.js
function broadcastInfer(ctx) {
  const inputs = Array.from({ length: ctx.inputCount }, (_, i) => ctx.need(i));
  return [{ dtype: inputs[0].dtype, shape: broadcastShapes(ctx.node, inputs.map((f2) => f2.shape)) }];
}
function unaryInfer(ctx) {
  const x = ctx.need(0);
  return [{ dtype: x.dtype, shape: [...x.shape] }];
}
function perInput(g, local) {
  const dy = g.dy(0);
  return g.node.inputs.map((x, i) => dy && g.wants(i) ? unbroadcast(g.b, local(i, dy), x) : void 0);
}
defineOp({ type: "Add", infer: broadcastInfer, grad: (g) => perInput(g, (_, dy) => dy) });
defineOp({ type: "Sum", infer: broadcastInfer, grad: (g) => perInput(g, (_, dy) => dy) });
defineOp({ type: "Sub", infer: broadcastInfer, grad: (g) => perInput(g, (i, dy) => i === 0 ? dy : g.b.op("Neg", [dy])) });
defineOp({ type: "Mul", infer: broadcastInfer, grad: (g) => perInput(g, (i, dy) => g.b.op("Mul", [dy, g.x(1 - i)])) });
defineOp({
  type: "Div",
  infer: broadcastInfer,
  // d(a/b)/da = 1/b; d(a/b)/db = -y/b
  grad: (g) => perInput(g, (i, dy) => i === 0 ? g.b.op("Div", [dy, g.x(1)]) : g.b.op("Neg", [g.b.op("Div", [g.b.op("Mul", [dy, g.y(0)]), g.x(1)])]))
});
defineOp({
  type: "Pow",
  infer: (ctx) => {
    const a = ctx.need(0);
    const e = ctx.need(1);
    return [{ dtype: a.dtype, shape: broadcastShapes(ctx.node, [a.shape, e.shape]) }];
  },
  grad: (g) => perInput(g, (i, dy) => {
    const b = g.b;
    if (i === 0) {
      const e = g.x(1);
      return b.op("Mul", [dy, b.op("Mul", [e, b.op("Pow", [g.x(0), b.op("Sub", [e, b.scalar(1)])])])]);
    }
    return b.op("Mul", [dy, b.op("Mul", [g.y(0), b.op("Log", [g.x(0)])])]);
  })
});
defineOp({
  type: "Mean",
  infer: broadcastInfer,
  grad: (g) => perInput(g, (_, dy) => g.b.op("Mul", [dy, g.b.scalar(1 / g.node.inputs.length)]))
});
for (const op of ["Max", "Min"]) {
  defineOp({
    type: op,
    infer: broadcastInfer,
    // The winner of each element gets the gradient; exact ties share it evenly, as PyTorch's
    // maximum/minimum do (a ReLU written as Max(x, 0) ties at every zero).
    grad: (g) => {
      const b = g.b;
      const dy = g.dy(0);
      if (!dy)
        return g.node.inputs.map(() => void 0);
      const hits = g.node.inputs.map((x) => floatMask(b, b.op("Equal", [x, g.y(0)])));
      const share = hits.length === 1 ? dy : b.op("Div", [dy, hits.length === 2 ? b.op("Add", [hits[0], hits[1]]) : b.op("Sum", hits)]);
      return perInput(g, (i) => b.op("Mul", [share, hits[i]]));
    }
  });
}
defineOp({
  type: "CastLike",
  infer: (ctx) => {
    const x = ctx.need(0);
    return [{ dtype: ctx.need(1).dtype, shape: [...x.shape] }];
  },
  noGradInputs: [1],
  grad: (g) => {
    const dy = g.dy(0);
    return [dy && g.b.op("CastLike", [dy, g.x(0)]), void 0];
  }
});
var unary = (type, rule) => defineOp({
  type,
  infer: unaryInfer,
  grad: (g) => {
    const dy = g.dy(0);
    return [dy && rule(g, dy)];
  }
});
unary("Neg", (g, dy) => g.b.op("Neg", [dy]));
unary("Abs", (g, dy) => g.b.op("Mul", [dy, g.b.op("Sign", [g.x(0)])]));
unary("Exp", (g, dy) => g.b.op("Mul", [dy, g.y(0)]));
unary("Log", (g, dy) => g.b.op("Div", [dy, g.x(0)]));
unary("Sqrt", (g, dy) => g.b.op("Div", [dy, g.b.op("Mul", [g.y(0), g.b.scalar(2)])]));
unary("Reciprocal", (g, dy) => g.b.op("Neg", [g.b.op("Mul", [dy, g.b.op("Mul", [g.y(0), g.y(0)])])]));
unary("Sin", (g, dy) => g.b.op("Mul", [dy, g.b.op("Cos", [g.x(0)])]));
unary("Cos", (g, dy) => g.b.op("Neg", [g.b.op("Mul", [dy, g.b.op("Sin", [g.x(0)])])]));
unary("Erf", (g, dy) => {
  const b = g.b;
  const x = g.x(0);
  const gauss = b.op("Exp", [b.op("Neg", [b.op("Mul", [x, x])])]);
  return b.op("Mul", [dy, b.op("Mul", [gauss, b.scalar(2 / Math.sqrt(Math.PI))])]);
});
for (const op of ["Sign", "Floor", "Ceil", "Round", "IsNaN", "IsInf"]) {
  defineOp({
    type: op,
    infer: (ctx) => {
      const x = ctx.need(0);
      return [{ dtype: op.startsWith("Is") ? "bool" : x.dtype, shape: [...x.shape] }];
    },
    nonDifferentiable: true
  });
}

// dist/engine/ops/reduce.js
function reduceAxes(ctx, rank) {
  const node = ctx.node;
  let axes;
  if (node.op === "ReduceSum") {
    if (node.inputs[1]) {
      const v = "value" in ctx ? dimsOfInput(ctx, 1) : ctx.constant(1) && toNumbers(ctx.constant(1));
      if (!v || !v.every((d) => typeof d === "number"))
        throw new Error(`${node.op} "${node.name}": axes must be constant`);
      axes = v;
    }
    if ((!axes || axes.length === 0) && attrInt(node, "noop_with_empty_axes", 0))
      return "none";
  } else
    axes = attrInts(node, "axes");
  if (!axes || axes.length === 0)
    return Array.from({ length: rank }, (_, i) => i);
  return axes.map((a) => normAxis(node, a, rank)).sort((a, b) => a - b);
}
function reduceInfer(ctx) {
  const x = ctx.need(0);
  const axes = reduceAxes(ctx, x.shape.length);
  if (axes === "none")
    return [{ dtype: x.dtype, shape: [...x.shape] }];
  const keep = attrInt(ctx.node, "keepdims", 1) === 1;
  const shape = [];
  x.shape.forEach((d, i) => {
    if (!axes.includes(i))
      shape.push(d);
    else if (keep)
      shape.push(1);
  });
  return [{ dtype: ctx.node.op.startsWith("Arg") ? "int64" : x.dtype, shape }];
}
function keepdimsGrad(g, axes) {
  const dy = g.dy(0);
  return attrInt(g.node, "keepdims", 1) === 1 ? dy : g.b.op("Unsqueeze", [dy, g.b.ints(axes)]);
}
function expandTo(b, t, like) {
  return b.op("Expand", [t, shapeValue(b, like)]);
}
function reduceGrad(local) {
  return (g) => {
    if (!g.dy(0))
      return [void 0];
    const b = g.b;
    const rank = b.shapeOf(g.x(0)).length;
    const axes = reduceAxes(g, rank);
    if (axes === "none")
      return [g.dy(0)];
    const dyKeep = keepdimsGrad(g, axes);
    const yKeep = attrInt(g.node, "keepdims", 1) === 1 ? g.y(0) : b.op("Unsqueeze", [g.y(0), b.ints(axes)]);
    return [local(g, dyKeep, yKeep)];
  };
}
function countOf(g) {
  const b = g.b;
  const shape = b.shapeOf(g.x(0));
  const axes = reduceAxes(g, shape.length);
  const dims = axes.map((a) => shape[a]);
  if (dims.every((d) => typeof d === "number"))
    return b.scalar(dims.reduce((p, q) => p * q, 1));
  const s = b.op("Shape", [g.x(0)]);
  const picked = b.op("Gather", [s, b.ints(axes)], { axis: 0 });
  return b.op("Cast", [b.op("ReduceProd", [picked], { keepdims: 0 })], { to: 1 });
}
defineOp({ type: "ReduceSum", infer: reduceInfer, noGradInputs: [1], grad: reduceGrad((g, dy) => expandTo(g.b, dy, g.x(0))) });
defineOp({ type: "ReduceMean", infer: reduceInfer, grad: reduceGrad((g, dy) => expandTo(g.b, g.b.op("Div", [dy, countOf(g)]), g.x(0))) });
defineOp({
  type: "ReduceSumSquare",
  infer: reduceInfer,
  grad: reduceGrad((g, dy) => g.b.op("Mul", [g.b.op("Mul", [dy, g.b.scalar(2)]), g.x(0)]))
});
defineOp({
  type: "ReduceL2",
  infer: reduceInfer,
  // d||x||/dx = x / ||x||
  grad: reduceGrad((g, dy, y) => g.b.op("Mul", [g.b.op("Div", [dy, y]), g.x(0)]))
});
for (const op of ["ReduceMax", "ReduceMin"]) {
  defineOp({
    type: op,
    infer: reduceInfer,
    // Tied extremes share dy evenly, as PyTorch's amax/amin do (ties are common: flat regions).
    grad: reduceGrad((g, dy, y) => {
      const b = g.b;
      const hit = floatMask(b, b.op("Equal", [g.x(0), y]));
      const axes = reduceAxes(g, b.shapeOf(g.x(0)).length);
      const ties = b.op("ReduceSum", [hit, b.ints(axes)], { keepdims: 1 });
      return b.op("Mul", [b.op("Div", [dy, ties]), hit]);
    })
  });
}
defineOp({ type: "ReduceProd", infer: reduceInfer });
for (const op of ["ArgMax", "ArgMin"]) {
  defineOp({
    type: op,
    infer: (ctx) => {
      const x = ctx.need(0);
      const axis = normAxis(ctx.node, attrInt(ctx.node, "axis", 0), x.shape.length);
      const keep = attrInt(ctx.node, "keepdims", 1) === 1;
      const shape = x.shape.flatMap((d, i) => i === axis ? keep ? [1] : [] : [d]);
      return [{ dtype: "int64", shape }];
    },
    nonDifferentiable: true
  });
}

// dist/engine/ops/indexing.js
defineOp({
  type: "Gather",
  infer: (ctx) => {
    const x = ctx.need(0);
    const idx = ctx.need(1);
    const axis = normAxis(ctx.node, attrInt(ctx.node, "axis", 0), x.shape.length);
    const shape = [...x.shape.slice(0, axis), ...idx.shape, ...x.shape.slice(axis + 1)];
    const out = { dtype: x.dtype, shape };
    const dims = x.dimsValue;
    const picks = dimsOfInput(ctx, 1);
    if (dims && picks && x.shape.length === 1 && picks.every((p) => typeof p === "number")) {
      out.dimsValue = picks.map((p) => dims[p < 0 ? p + dims.length : p]);
    }
    return [out];
  },
  noGradInputs: [1],
  grad: (g) => {
    const dy = g.dy(0);
    if (!dy || !g.wants(0))
      return [void 0, void 0];
    const b = g.b;
    const x = g.x(0);
    const rank = b.shapeOf(x).length;
    const axis = normAxis(g.node, attrInt(g.node, "axis", 0), rank);
    const idxRank = b.shapeOf(g.x(1)).length;
    const perm = axis === 0 ? void 0 : [axis, ...Array.from({ length: rank }, (_, i) => i).filter((i) => i !== axis)];
    const xT = perm ? b.op("Transpose", [x], { perm }) : x;
    let dyT = dy;
    if (perm) {
      const dyRank = rank - 1 + idxRank;
      const idxAxes = Array.from({ length: idxRank }, (_, i) => axis + i);
      const rest = Array.from({ length: dyRank }, (_, i) => i).filter((i) => !idxAxes.includes(i));
      dyT = b.op("Transpose", [dy], { perm: [...idxAxes, ...rest] });
    }
    const indices = b.op("Unsqueeze", [g.x(1), b.ints([-1])]);
    const scattered = b.op("ScatterND", [zerosLike(b, xT), indices, dyT], { reduction: "add" });
    if (!perm)
      return [scattered, void 0];
    const inv = new Array(rank);
    perm.forEach((p, i) => inv[p] = i);
    return [b.op("Transpose", [scattered], { perm: inv }), void 0];
  }
});
for (const op of ["ScatterElements", "ScatterND"]) {
  defineOp({
    type: op,
    infer: (ctx) => {
      const x = ctx.need(0);
      return [{ dtype: x.dtype, shape: [...x.shape] }];
    },
    noGradInputs: [1]
  });
}

// dist/engine/ops/conv.js
var dimsText = (s) => `[${s.join(", ")}]`;
function groupOf(node, fail) {
  const group = attrInt(node, "group", 1);
  if (!Number.isInteger(group) || group < 1)
    throw fail(`group=${group} must be a positive integer`);
  return group;
}
function checkOperands(ctx, outChannels) {
  const x = ctx.need(0);
  const w = ctx.need(1);
  if (x.shape.length < 3)
    throw ctx.error(`input must be [N, C, spatial...], got ${dimsText(x.shape)}`);
  if (w.shape.length !== x.shape.length) {
    throw ctx.error(`weight ${dimsText(w.shape)} has rank ${w.shape.length} but the input ${dimsText(x.shape)} has rank ${x.shape.length}`);
  }
  if (x.dtype !== w.dtype)
    throw ctx.error(`input is ${x.dtype} but the weight is ${w.dtype}`);
  const kernel = w.shape.slice(2);
  if (!kernel.every((d) => typeof d === "number"))
    throw ctx.error(`weight ${dimsText(w.shape)} must have a static kernel size`);
  const attrKernel = attrInts(ctx.node, "kernel_shape");
  if (attrKernel && (attrKernel.length !== kernel.length || attrKernel.some((k, i) => k !== kernel[i]))) {
    throw ctx.error(`kernel_shape [${attrKernel.join(", ")}] disagrees with the weight ${dimsText(w.shape)}`);
  }
  const bias = ctx.input(2);
  if (bias?.shape) {
    const m = outChannels;
    if (bias.shape.length !== 1 || typeof bias.shape[0] === "number" && typeof m === "number" && bias.shape[0] !== m) {
      throw ctx.error(`bias has shape ${dimsText(bias.shape)} but the layer has ${m} output channels`);
    }
  }
  return { x: x.shape, w: w.shape, kernel };
}
function convInfer(ctx) {
  const wShape = ctx.need(1).shape;
  const { x, w, kernel } = checkOperands(ctx, wShape[0]);
  const group = groupOf(ctx.node, (m2) => ctx.error(m2));
  const [m, cg] = [w[0], w[1]];
  const c = x[1];
  if (typeof c === "number" && typeof cg === "number" && c !== cg * group) {
    throw ctx.error(`input has ${c} channels but the weight expects ${cg * group} (group=${group})`, `The weight ${dimsText(w)} is [out, in/group, kernel...].`);
  }
  if (typeof m === "number" && m % group !== 0)
    throw ctx.error(`weight has ${m} output channels, which group=${group} does not divide`);
  const geo = windowGeometry(ctx.node, x.slice(2), kernel);
  return [{ dtype: ctx.need(0).dtype, shape: [x[0], m, ...geo.out] }];
}
function convTransposeInfer(ctx) {
  const wShape = ctx.need(1).shape;
  const group = groupOf(ctx.node, (m2) => ctx.error(m2));
  const mg = wShape[1];
  const m = typeof mg === "number" ? mg * group : mg;
  const { x, w, kernel } = checkOperands(ctx, m);
  const c = x[1];
  const cw = w[0];
  if (typeof c === "number" && typeof cw === "number" && c !== cw) {
    throw ctx.error(`input has ${c} channels but the weight expects ${cw} (group=${group})`, `The weight ${dimsText(w)} is [in, out/group, kernel...].`);
  }
  if (typeof cw === "number" && cw % group !== 0)
    throw ctx.error(`weight has ${cw} input channels, which group=${group} does not divide`);
  const geo = transposeGeometry(ctx.node, x.slice(2), kernel);
  geo.outputPadding.forEach((p, i) => {
    if (p >= geo.strides[i])
      throw ctx.error(`output_padding ${p} on spatial axis ${i} must be less than the stride ${geo.strides[i]}`);
    const extra = p - geo.padBegin[i] - geo.padEnd[i];
    if (extra >= geo.strides[i]) {
      throw ctx.error(`output size ${geo.out[i]} on spatial axis ${i} is larger than the ${geo.out[i] - extra + geo.strides[i] - 1} this input, kernel and stride can produce`);
    }
  });
  return [{ dtype: ctx.need(0).dtype, shape: [x[0], m, ...geo.out] }];
}
var range = (from, to) => Array.from({ length: to - from }, (_, i) => from + i);
function staticSpatial(b, name, node) {
  const sp = b.shapeOf(name).slice(2);
  if (!sp.every((d) => typeof d === "number")) {
    throw new Error(`${node.op} "${node.name}": the gradient needs static spatial sizes, but "${name}" is ${dimsText(b.shapeOf(name))}; fix the input image size first`);
  }
  return sp;
}
function emitConv(b, input, weight, s) {
  const r = s.strides.length;
  const crops = range(0, r).filter((i) => s.padBegin[i] < 0 || s.padEnd[i] < 0);
  let x = input;
  if (crops.length) {
    x = b.op("Slice", [
      x,
      b.ints(crops.map((i) => Math.max(0, -s.padBegin[i]))),
      b.ints(crops.map((i) => s.padEnd[i] < 0 ? s.padEnd[i] : Number.MAX_SAFE_INTEGER)),
      b.ints(crops.map((i) => i + 2))
    ]);
  }
  const pads = [...s.padBegin, ...s.padEnd].map((p) => Math.max(0, p));
  return b.op("Conv", [x, weight], {
    strides: s.strides,
    dilations: s.dilations,
    pads,
    group: s.group
  });
}
function flippedWeight(b, w, value, group) {
  const ws = b.staticShape(w);
  const [m, cg] = [ws[0], ws[1]];
  const kernel = ws.slice(2);
  const mg = m / group;
  const c = cg * group;
  const kn = kernel.reduce((p, q) => p * q, 1);
  if (value && (value.dtype === "float32" || value.dtype === "float64")) {
    const src = value.data;
    const dst = value.dtype === "float32" ? new Float32Array(src.length) : new Float64Array(src.length);
    for (let gi = 0; gi < group; gi++)
      for (let mi = 0; mi < mg; mi++)
        for (let ci = 0; ci < cg; ci++) {
          const from = ((gi * mg + mi) * cg + ci) * kn;
          const to = ((gi * cg + ci) * mg + mi) * kn;
          for (let k = 0; k < kn; k++)
            dst[to + kn - 1 - k] = src[from + k];
        }
    return b.constant({ dtype: value.dtype, dims: [c, mg, ...kernel], data: dst }, `${w}_flipped`);
  }
  const r = kernel.length;
  let t;
  if (group === 1)
    t = b.op("Transpose", [w], { perm: [1, 0, ...range(2, r + 2)] });
  else {
    const split = b.op("Reshape", [w, b.ints([group, mg, cg, ...kernel])]);
    const swapped = b.op("Transpose", [split], { perm: [0, 2, 1, ...range(3, r + 3)] });
    t = b.op("Reshape", [swapped, b.ints([c, mg, ...kernel])]);
  }
  const spatial = range(2, r + 2);
  return b.op("Slice", [t, b.ints(spatial.map(() => -1)), b.ints(spatial.map(() => Number.MIN_SAFE_INTEGER)), b.ints(spatial), b.ints(spatial.map(() => -1))]);
}
function biasGradient(b, dy) {
  const r = b.shapeOf(dy).length;
  return b.op("ReduceSum", [dy, b.ints([0, ...range(2, r)])], { keepdims: 0 });
}
function weightGradient(b, input, gout, group, win, node) {
  const inSp = staticSpatial(b, input, node);
  const outSp = staticSpatial(b, gout, node);
  const ci = b.shapeOf(input)[1];
  const co = b.shapeOf(gout)[1];
  if (typeof ci !== "number" || typeof co !== "number")
    throw new Error(`${node.op} "${node.name}": the gradient needs static channel counts`);
  const r = inSp.length;
  const { kernel, strides, dilations, padBegin } = win;
  const cig = ci / group;
  const cog = co / group;
  const kn = kernel.reduce((p, q) => p * q, 1);
  const pn = outSp.reduce((p, q) => p * q, 1);
  const lead = padBegin.map((p) => Math.max(0, p));
  const shift = padBegin.map((p) => Math.max(0, -p));
  const trail = range(0, r).map((i) => Math.max(0, (outSp[i] - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - padBegin[i] - inSp[i]));
  let padded = input;
  if (lead.some((p) => p) || trail.some((p) => p))
    padded = b.op("Pad", [input, b.ints([0, 0, ...lead, 0, 0, ...trail])]);
  const axes = b.ints(range(2, r + 2));
  const steps = b.ints(strides);
  const taps = [];
  const t = new Array(r).fill(0);
  for (let k = 0; k < kn; k++) {
    const starts = range(0, r).map((i) => t[i] * dilations[i] + shift[i]);
    const ends = range(0, r).map((i) => starts[i] + (outSp[i] - 1) * strides[i] + 1);
    const tap = b.op("Slice", [padded, b.ints(starts), b.ints(ends), axes, steps]);
    taps.push(b.op("Reshape", [tap, b.ints([0, group, cig, 1, pn])]));
    for (let i = r - 1; i >= 0; i--) {
      if (++t[i] < kernel[i])
        break;
      t[i] = 0;
    }
  }
  const cols = kn === 1 ? taps[0] : b.op("Concat", taps, { axis: 3 });
  const cols2 = b.op("Reshape", [cols, b.ints([0, group, cig * kn, pn])]);
  const goutG = b.op("Reshape", [gout, b.ints([0, group, cog, pn])]);
  if (cog === 1) {
    const perSample2 = b.op("MatMul", [goutG, b.op("Transpose", [cols2], { perm: [0, 1, 3, 2] })]);
    const summed2 = b.op("ReduceSum", [perSample2, b.ints([0])], { keepdims: 0 });
    return b.op("Reshape", [summed2, b.ints([co, cig, ...kernel])]);
  }
  const perSample = b.op("MatMul", [cols2, b.op("Transpose", [goutG], { perm: [0, 1, 3, 2] })]);
  const summed = b.op("ReduceSum", [perSample, b.ints([0])], { keepdims: 0 });
  const dw = b.op("Transpose", [summed], { perm: [0, 2, 1] });
  return b.op("Reshape", [dw, b.ints([co, cig, ...kernel])]);
}
function convGrad(g) {
  const dy = g.dy(0);
  const grads = [void 0, void 0, void 0];
  if (!dy)
    return grads;
  const b = g.b;
  const node = g.node;
  const x = g.x(0);
  const w = g.x(1);
  const ws = b.staticShape(w);
  const kernel = ws.slice(2);
  const r = kernel.length;
  const group = attrInt(node, "group", 1);
  const geo = windowGeometry(node, b.shapeOf(x).slice(2), kernel);
  if (g.wants(0)) {
    if (geo.strides.every((s) => s === 1)) {
      const reach = range(0, r).map((i) => geo.dilations[i] * (kernel[i] - 1));
      grads[0] = emitConv(b, dy, flippedWeight(b, w, g.constant(1), group), {
        strides: geo.strides,
        dilations: geo.dilations,
        padBegin: range(0, r).map((i) => reach[i] - geo.padBegin[i]),
        padEnd: range(0, r).map((i) => reach[i] - geo.padEnd[i]),
        group
      });
    } else {
      const inSp = staticSpatial(b, x, node);
      const outSp = staticSpatial(b, dy, node);
      const outputPadding = range(0, r).map((i) => {
        const ext = (kernel[i] - 1) * geo.dilations[i] + 1;
        return inSp[i] - ((outSp[i] - 1) * geo.strides[i] + ext - geo.padBegin[i] - geo.padEnd[i]);
      });
      grads[0] = b.op("ConvTranspose", [dy, w], {
        strides: geo.strides,
        dilations: geo.dilations,
        pads: [...geo.padBegin, ...geo.padEnd],
        output_padding: outputPadding,
        group
      });
    }
  }
  if (g.wants(1))
    grads[1] = weightGradient(b, x, dy, group, geo, node);
  if (node.inputs[2] && g.wants(2))
    grads[2] = biasGradient(b, dy);
  return grads;
}
function convTransposeGrad(g) {
  const dy = g.dy(0);
  const grads = [void 0, void 0, void 0];
  if (!dy)
    return grads;
  const b = g.b;
  const node = g.node;
  const x = g.x(0);
  const w = g.x(1);
  const kernel = b.staticShape(w).slice(2);
  const group = attrInt(node, "group", 1);
  const geo = transposeGeometry(node, b.shapeOf(x).slice(2), kernel);
  if (g.wants(0)) {
    grads[0] = emitConv(b, dy, w, { strides: geo.strides, dilations: geo.dilations, padBegin: geo.padBegin, padEnd: geo.padEnd, group });
  }
  if (g.wants(1))
    grads[1] = weightGradient(b, dy, x, group, geo, node);
  if (node.inputs[2] && g.wants(2))
    grads[2] = biasGradient(b, dy);
  return grads;
}
defineOp({ type: "Conv", infer: convInfer, grad: convGrad });
defineOp({ type: "ConvTranspose", infer: convTransposeInfer, grad: convTransposeGrad });

// dist/engine/ops/resize.js
function resizeInfer(ctx) {
  const x = ctx.need(0);
  const rank = x.shape.length;
  const axes = (attrInts(ctx.node, "axes") ?? x.shape.map((_, i) => i)).map((a) => normAxis(ctx.node, a, rank));
  const unknown = () => [{ dtype: x.dtype, shape: x.shape.map((d, i) => axes.includes(i) ? freshSymbol("resize") : d) }];
  const shape = [...x.shape];
  if (given(ctx.input(3))) {
    const sizes = dimsOfInput(ctx, 3);
    if (!sizes)
      return unknown();
    if (sizes.length !== axes.length)
      throw ctx.error(`sizes has ${sizes.length} entries for ${axes.length} axes`);
    axes.forEach((a, k) => shape[a] = sizes[k]);
    return [{ dtype: x.dtype, shape }];
  }
  if (!given(ctx.input(2)))
    throw ctx.error("one of scales and sizes must be given");
  const scalesT = ctx.value(2);
  if (!scalesT)
    return unknown();
  const scales = toNumbers(scalesT);
  if (scales.length !== axes.length)
    throw ctx.error(`scales has ${scales.length} entries for ${axes.length} axes`);
  axes.forEach((a, k) => {
    const n = x.shape[a];
    const s = Math.fround(scales[k]);
    if (s === 1)
      return;
    shape[a] = typeof n === "number" ? Math.floor(Math.fround(s * n)) : freshSymbol("resize");
  });
  return [{ dtype: x.dtype, shape }];
}
function given(f2) {
  return !!f2 && !(f2.shape && f2.shape.length === 1 && f2.shape[0] === 0);
}
var f32 = Math.fround;
var COORDINATES = {
  half_pixel: (o, s) => f32(f32(f32(o + 0.5) / s) - 0.5),
  pytorch_half_pixel: (o, s, outLen) => outLen > 1 ? f32(f32(f32(o + 0.5) / s) - 0.5) : 0,
  asymmetric: (o, s) => f32(o / s),
  tf_half_pixel_for_nn: (o, s) => f32(f32(o + 0.5) / s),
  align_corners: (o, _s, outLen, inLen) => outLen === 1 ? 0 : f32(f32(o * (inLen - 1)) / (outLen - 1))
};
var NEAREST = {
  round_prefer_floor: (x) => x === Math.trunc(x) + 0.5 ? Math.floor(x) : Math.round(x),
  round_prefer_ceil: (x) => Math.round(x),
  floor: Math.floor,
  ceil: Math.ceil
};
function resampleMatrix(spec, inLen, outLen, scale, axis = 0) {
  const coord = COORDINATES[spec.coordinate];
  if (!coord)
    throw new Error(`coordinate_transformation_mode "${spec.coordinate}" is not supported`);
  const s = f32(scale);
  const data = new Float64Array(outLen * inLen);
  if (spec.mode === "nearest") {
    const nearest = NEAREST[spec.nearestMode];
    if (!nearest)
      throw new Error(`nearest_mode "${spec.nearestMode}" is not supported`);
    const source = new Int32Array(outLen);
    for (let o = 0; o < outLen; o++) {
      const i = Math.min(Math.max(nearest(coord(o, s, outLen, inLen)), 0), inLen - 1);
      source[o] = i;
      data[o * inLen + i] = 1;
    }
    return { axis, outLen, inLen, data, source };
  }
  for (let o = 0; o < outLen; o++) {
    const c = Math.max(0, Math.min(coord(o, s, outLen, inLen), inLen - 1));
    const i1 = Math.min(Math.trunc(c), inLen - 1);
    const i2 = Math.min(i1 + 1, inLen - 1);
    if (i1 === i2) {
      data[o * inLen + i1] = 1;
      continue;
    }
    data[o * inLen + i1] += f32(Math.abs(c - i2));
    data[o * inLen + i2] += f32(Math.abs(c - i1));
  }
  return { axis, outLen, inLen, data };
}
function blockFactor(m) {
  if (!m.source || m.outLen % m.inLen !== 0)
    return 0;
  const f2 = m.outLen / m.inLen;
  for (let o = 0; o < m.outLen; o++)
    if (m.source[o] !== Math.floor(o / f2))
      return 0;
  return f2;
}
function matrixConst(b, rows, cols, get2, hint) {
  const data = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++)
      data[r * cols + c] = get2(r, c);
  const t = { dtype: "float32", dims: [rows, cols], data };
  return b.constant(t, hint);
}
function shapeFor(b, dims, like) {
  const symbolic = dims.flatMap((d, i) => typeof d === "number" ? [] : [i]);
  if (symbolic.length === 0)
    return b.ints(dims);
  if (symbolic.length === 1)
    return b.ints(dims.map((d) => typeof d === "number" ? d : -1));
  const whole = b.op("Shape", [like]);
  const parts = dims.map((d, i) => typeof d === "number" ? b.ints([d]) : b.op("Gather", [whole, b.ints([i])], { axis: 0 }));
  return b.op("Concat", parts, { axis: 0 });
}
function permutations(items) {
  if (items.length <= 1)
    return [[...items]];
  return items.flatMap((it, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((p) => [it, ...p]));
}
function adjointAlongAxes(b, node, dy, x, mats) {
  if (mats.length === 0)
    return dy;
  const start = b.shapeOf(dy);
  const rank = start.length;
  const size = (d) => typeof d === "number" ? d : 1;
  const costOf = (order2) => {
    const dims = start.map(size);
    let total = 0;
    for (const m of order2) {
      total += dims.reduce((p, q) => p * q, 1) * m.inLen;
      dims[m.axis] = m.inLen;
    }
    return total;
  };
  const orders = mats.length <= 4 ? permutations(mats) : [[...mats].sort((p, q) => q.axis - p.axis)];
  let order = orders[0];
  for (const o of orders)
    if (costOf(o) < costOf(order))
      order = o;
  let g = dy;
  const cur = [...start];
  for (const m of order) {
    const at = (r, c) => m.data[r * m.inLen + c];
    if (m.axis === rank - 1) {
      g = b.op("MatMul", [g, matrixConst(b, m.outLen, m.inLen, at, "resample")]);
      cur[m.axis] = m.inLen;
      continue;
    }
    const transposed = matrixConst(b, m.inLen, m.outLen, (r, c) => at(c, r), "resample_t");
    if (m.axis === rank - 2) {
      g = b.op("MatMul", [transposed, g]);
      cur[m.axis] = m.inLen;
      continue;
    }
    const inner = cur.slice(m.axis + 1);
    if (!inner.every((d) => typeof d === "number")) {
      throw new ConvLensError("SHAPE_MISMATCH", `${node.op} node "${node.name}": the backward rule needs static sizes after axis ${m.axis} (shape [${cur.join(", ")}]).`, "Fix the model input size before differentiating.");
    }
    const folded = b.op("Reshape", [g, b.ints([-1, m.outLen, inner.reduce((p, q) => p * q, 1)])]);
    cur[m.axis] = m.inLen;
    g = b.op("Reshape", [b.op("MatMul", [transposed, folded]), shapeFor(b, cur, x)]);
  }
  return reshapeLike(b, g, x);
}
function gradError(node, message, hint) {
  return new ConvLensError("UNSUPPORTED_OP", `Cannot differentiate Resize node "${node.name}": ${message}`, hint);
}
function resizeMatrices(g) {
  const node = g.node;
  const b = g.b;
  const mode = attrString(node, "mode", "nearest");
  if (mode !== "nearest" && mode !== "linear")
    throw gradError(node, `mode "${mode}" has no backward rule (nearest and linear do).`);
  const coordinate = attrString(node, "coordinate_transformation_mode", "half_pixel");
  if (!COORDINATES[coordinate]) {
    throw gradError(node, `coordinate_transformation_mode "${coordinate}" has no backward rule.`, `Supported: ${Object.keys(COORDINATES).join(", ")}.`);
  }
  const nearestMode = attrString(node, "nearest_mode", "round_prefer_floor");
  if (mode === "nearest" && !NEAREST[nearestMode])
    throw gradError(node, `nearest_mode "${nearestMode}" is unknown.`);
  if (attrInt(node, "antialias", 0) !== 0)
    throw gradError(node, "antialias=1 has no backward rule.");
  if (attrString(node, "keep_aspect_ratio_policy", "stretch") !== "stretch")
    throw gradError(node, 'keep_aspect_ratio_policy other than "stretch" has no backward rule.');
  const xs = b.shapeOf(g.x(0));
  const rank = xs.length;
  const axes = (attrInts(node, "axes") ?? xs.map((_, i) => i)).map((a) => normAxis(node, a, rank));
  const sizesIn = node.inputs[3] ? g.facts(node.inputs[3]) : void 0;
  const scalesIn = node.inputs[2] ? g.facts(node.inputs[2]) : void 0;
  const dynamicHint = "Export the model with constant scales or sizes (fixed input size), or fix the input size before differentiating.";
  const plan = [];
  if (given(sizesIn)) {
    const sizes = sizesIn.value ? toNumbers(sizesIn.value) : sizesIn.dimsValue;
    if (!sizes)
      throw gradError(node, "its sizes input is computed at run time; the backward rule needs it static.", dynamicHint);
    axes.forEach((a, k) => {
      const n = xs[a];
      const m = sizes[k];
      if (m === n)
        return;
      if (typeof n !== "number" || typeof m !== "number") {
        throw gradError(node, `axis ${a} resizes ${n} to ${m}; the backward rule needs both sizes static.`, dynamicHint);
      }
      plan.push({ axis: a, inLen: n, outLen: m, scale: f32(m / n) });
    });
  } else {
    const t = scalesIn?.value;
    if (!t)
      throw gradError(node, "its scales input is computed at run time; the backward rule needs constant scales.", dynamicHint);
    const scales = toNumbers(t);
    axes.forEach((a, k) => {
      const s = f32(scales[k]);
      if (s === 1)
        return;
      const n = xs[a];
      if (typeof n !== "number")
        throw gradError(node, `axis ${a} has symbolic size ${n} and scale ${s}; the backward rule needs it static.`, dynamicHint);
      plan.push({ axis: a, inLen: n, outLen: Math.floor(f32(s * n)), scale: s });
    });
  }
  const spec = { mode, coordinate, nearestMode };
  return plan.map((p) => resampleMatrix(spec, p.inLen, p.outLen, p.scale, p.axis));
}
function resizeGrad(g) {
  const dy = g.dy(0);
  if (!dy || !g.wants(0))
    return [void 0];
  const b = g.b;
  const x = g.x(0);
  const mats = resizeMatrices(g);
  const rank = b.shapeOf(x).length;
  const factors = mats.map(blockFactor);
  if (mats.length > 0 && rank >= 3 && factors.every((f2) => f2 > 1) && mats.every((m) => m.axis >= 2)) {
    const kernel = new Array(rank - 2).fill(1);
    mats.forEach((m, i) => kernel[m.axis - 2] = factors[i]);
    const pooled = b.op("AveragePool", [dy], { kernel_shape: kernel, strides: kernel });
    const volume = kernel.reduce((p, q) => p * q, 1);
    return [reshapeLike(b, b.op("Mul", [pooled, b.scalar(volume)]), x)];
  }
  return [adjointAlongAxes(b, g.node, dy, x, mats)];
}
defineOp({ type: "Resize", infer: resizeInfer, grad: resizeGrad, noGradInputs: [1, 2, 3] });

// dist/engine/ops/pool.js
function poolInfer(ctx) {
  const x = ctx.need(0);
  if (x.shape.length < 3)
    throw ctx.error(`input must be [N, C, spatial...], got rank ${x.shape.length}`);
  const kernel = attrInts(ctx.node, "kernel_shape");
  if (!kernel)
    throw ctx.error("the kernel_shape attribute is required");
  const geo = windowGeometry(ctx.node, x.shape.slice(2), kernel);
  const shape = [x.shape[0], x.shape[1], ...geo.out];
  const outs = [{ dtype: x.dtype, shape }];
  if (ctx.node.op === "MaxPool" && ctx.node.outputs.length > 1)
    outs.push({ dtype: "int64", shape: [...shape] });
  return outs;
}
function globalPoolInfer(ctx) {
  const x = ctx.need(0);
  if (x.shape.length < 3)
    throw ctx.error(`input must be [N, C, spatial...], got rank ${x.shape.length}`);
  return [{ dtype: x.dtype, shape: [x.shape[0], x.shape[1], ...x.shape.slice(2).map(() => 1)] }];
}
function windowsOf(g) {
  const node = g.node;
  const xs = g.b.shapeOf(g.x(0));
  const spatial = xs.slice(2);
  if (!spatial.every((d) => typeof d === "number")) {
    throw new ConvLensError("SHAPE_MISMATCH", `${node.op} node "${node.name}": the backward rule needs static spatial sizes, but the input is [${xs.join(", ")}].`, "Fix the model input size (Model.withInputShape) before differentiating.");
  }
  const kernel = attrInts(node, "kernel_shape") ?? [];
  const geo = windowGeometry(node, spatial, kernel);
  return { geo, n: spatial, o: geo.out };
}
function blockSizes(w) {
  const { geo, o } = w;
  const ok = geo.kernel.every((k, a) => geo.dilations[a] === 1 && geo.padBegin[a] === 0 && geo.padEnd[a] === 0 && (k === geo.strides[a] || o[a] === 1));
  return ok ? [...geo.kernel] : void 0;
}
function upsample(b, t, factors) {
  const scales = { dtype: "float32", dims: [factors.length + 2], data: Float32Array.from([1, 1, ...factors]) };
  return b.op("Resize", [t, "", b.constant(scales, "scales")], { mode: "nearest", coordinate_transformation_mode: "asymmetric", nearest_mode: "floor" });
}
function sliceSpatial(b, t, ends) {
  const axes = ends.map((_, a) => a + 2);
  return b.op("Slice", [t, b.ints(ends.map(() => 0)), b.ints([...ends]), b.ints(axes)]);
}
function blocksToInput(b, grid, covered, n) {
  let t = grid;
  if (covered.some((c, a) => c > n[a]))
    t = sliceSpatial(b, t, covered.map((c, a) => Math.min(c, n[a])));
  if (covered.some((c, a) => c < n[a])) {
    const r = n.length + 2;
    const pads = new Array(2 * r).fill(0);
    n.forEach((len, a) => pads[r + a + 2] = Math.max(0, len - covered[a]));
    t = b.op("Pad", [t, b.ints(pads)]);
  }
  return t;
}
function tapPositions(geo, a, o, n) {
  const taps = [];
  for (let t = 0; t < geo.kernel[a]; t++) {
    const p = o * geo.strides[a] - geo.padBegin[a] + t * geo.dilations[a];
    taps.push(p >= 0 && p < n ? p : -1);
  }
  return taps;
}
function axisCounts(geo, a, n, o, includePad) {
  const counts = [];
  for (let j = 0; j < o; j++) {
    let c = 0;
    for (let t = 0; t < geo.kernel[a]; t++) {
      const p = j * geo.strides[a] - geo.padBegin[a] + t * geo.dilations[a];
      if (includePad ? p < n + geo.padEnd[a] : p >= 0 && p < n)
        c++;
    }
    counts.push(c);
  }
  return counts;
}
function scaleByCounts(b, dy, perAxis, extra = 1) {
  const uniform = perAxis.every((c) => c.every((v) => v === c[0]));
  if (uniform) {
    const f2 = extra / perAxis.reduce((p, c) => p * c[0], 1);
    return f2 === 1 ? dy : b.op("Mul", [dy, b.scalar(f2)]);
  }
  const dims = perAxis.map((c) => c.length);
  const total = dims.reduce((p, q) => p * q, 1);
  const data = new Float32Array(total);
  const idx = new Array(dims.length).fill(0);
  for (let i = 0; i < total; i++) {
    let c = 1;
    for (let a = 0; a < dims.length; a++)
      c *= perAxis[a][idx[a]];
    data[i] = extra / c;
    for (let a = dims.length - 1; a >= 0; a--) {
      if (++idx[a] < dims[a])
        break;
      idx[a] = 0;
    }
  }
  return b.op("Mul", [dy, b.constant({ dtype: "float32", dims, data }, "inv_count")]);
}
function maxPoolGrad(g) {
  const dy = g.dy(0);
  if (!dy || !g.wants(0))
    return [void 0];
  const w = windowsOf(g);
  const blocks = blockSizes(w);
  const planes = blocks && firstWinnerBlocks(g.b, g.x(0), g.y(0), dy, blocks, w);
  return [planes ?? scatterThroughIndices(g, dy)];
}
function firstWinnerBlocks(b, x, y, dy, k, w) {
  if (k.length !== 2 || k[0] * k[1] > 16)
    return void 0;
  const [kh, kw] = k;
  const [oh, ow] = w.o;
  const covered = [kh * oh, kw * ow];
  let grid = x;
  const fit = covered.map((c, a) => Math.min(c, w.n[a]));
  if (fit.some((f2, a) => f2 < w.n[a]))
    grid = sliceSpatial(b, grid, fit);
  if (covered.some((c, a) => c > w.n[a])) {
    const pads = [0, 0, 0, 0, 0, 0, covered[0] - fit[0], covered[1] - fit[1]];
    grid = b.op("Pad", [grid, b.ints(pads), b.scalar(-34028234663852886e22)]);
  }
  const one = b.scalar(1);
  let taken;
  const rows = [];
  for (let i = 0; i < kh; i++) {
    const cells = [];
    for (let j = 0; j < kw; j++) {
      const plane = b.op("Slice", [grid, b.ints([i, j]), b.ints(covered), b.ints([2, 3]), b.ints([kh, kw])]);
      const hit = floatMask(b, b.op("Equal", [plane, y]));
      const first = taken ? b.op("Mul", [hit, b.op("Sub", [one, taken])]) : hit;
      if (i < kh - 1 || j < kw - 1)
        taken = taken ? b.op("Add", [taken, first]) : first;
      cells.push(b.op("Unsqueeze", [b.op("Mul", [dy, first]), b.ints([4])]));
    }
    rows.push(b.op("Unsqueeze", [cells.length > 1 ? b.op("Concat", cells, { axis: 4 }) : cells[0], b.ints([3])]));
  }
  const blocksGrad = rows.length > 1 ? b.op("Concat", rows, { axis: 3 }) : rows[0];
  const full = b.op("Reshape", [blocksGrad, b.ints([0, 0, covered[0], covered[1]])]);
  return blocksToInput(b, full, covered, w.n);
}
function scatterThroughIndices(g, dy) {
  const b = g.b;
  const x = g.x(0);
  const ownIndices = g.node.outputs[1] && attrInt(g.node, "storage_order", 0) === 0 ? g.y(1) : void 0;
  const indices = ownIndices ?? rerunWithIndices(b, g.node, x);
  const flat = b.ints([-1]);
  const total = b.op("Reshape", [b.op("Size", [x]), b.ints([1])]);
  const zeros = b.op("ConstantOfShape", [total], { value: { dtype: "float32", dims: [1], data: Float32Array.of(0) } });
  const scattered = b.op("ScatterElements", [zeros, b.op("Reshape", [indices, flat]), b.op("Reshape", [dy, flat])], { axis: 0, reduction: "add" });
  return b.op("Reshape", [scattered, shapeValue(b, x)]);
}
function rerunWithIndices(b, node, x) {
  const attrs = { ...node.attrs };
  delete attrs["storage_order"];
  const [, indices] = b.opN("MaxPool", [x], attrs, { outputs: 2 });
  return indices;
}
function averagePoolGrad(g) {
  const dy = g.dy(0);
  if (!dy || !g.wants(0))
    return [void 0];
  const b = g.b;
  const x = g.x(0);
  const w = windowsOf(g);
  const { geo, n, o } = w;
  const includePad = attrInt(g.node, "count_include_pad", 0) === 1;
  const counts = geo.kernel.map((_, a) => axisCounts(geo, a, n[a], o[a], includePad));
  const blocks = blockSizes(w);
  if (blocks) {
    const covered = blocks.map((k, a) => k * o[a]);
    return [blocksToInput(b, upsample(b, scaleByCounts(b, dy, counts), blocks), covered, n)];
  }
  const stride1 = geo.kernel.every((k, a) => geo.strides[a] === 1 && geo.dilations[a] === 1 && geo.padBegin[a] <= k - 1);
  if (stride1) {
    const begin = geo.kernel.map((k, a) => k - 1 - geo.padBegin[a]);
    const end = geo.kernel.map((_, a) => n[a] - o[a] + geo.padBegin[a]);
    if (end.every((e, a) => e >= 0 && e <= geo.kernel[a] - 1)) {
      const volume = geo.kernel.reduce((p, q) => p * q, 1);
      const scaled = scaleByCounts(b, dy, counts, volume);
      return [b.op("AveragePool", [scaled], { kernel_shape: geo.kernel, pads: [...begin, ...end], count_include_pad: 1 })];
    }
  }
  const mats = [];
  geo.kernel.forEach((k, a) => {
    if (k === 1 && geo.strides[a] === 1 && geo.padBegin[a] === 0 && o[a] === n[a])
      return;
    const data = new Float64Array(o[a] * n[a]);
    for (let j = 0; j < o[a]; j++)
      for (const p of tapPositions(geo, a, j, n[a]))
        if (p >= 0)
          data[j * n[a] + p] += 1 / counts[a][j];
    mats.push({ axis: a + 2, outLen: o[a], inLen: n[a], data });
  });
  return [adjointAlongAxes(b, g.node, dy, x, mats)];
}
function globalAverageGrad(g) {
  const dy = g.dy(0);
  if (!dy || !g.wants(0))
    return [void 0];
  const b = g.b;
  const x = g.x(0);
  const spatial = b.shapeOf(x).slice(2);
  let scaled;
  if (spatial.every((d) => typeof d === "number")) {
    scaled = b.op("Mul", [dy, b.scalar(1 / spatial.reduce((p, q) => p * q, 1))]);
  } else {
    const count = b.op("Cast", [b.op("ReduceProd", [b.op("Shape", [x], { start: 2 })], { keepdims: 0 })], { to: 1 });
    scaled = b.op("Div", [dy, count]);
  }
  return [b.op("Expand", [scaled, shapeValue(b, x)])];
}
function globalMaxSwitches(g) {
  const dy = g.dy(0);
  if (!dy || !g.wants(0))
    return [void 0];
  const b = g.b;
  const x = g.x(0);
  const planes = b.op("Reshape", [x, b.ints([0, 0, -1])]);
  const winner = b.op("ArgMax", [planes], { axis: 2, keepdims: 1 });
  const routed = b.op("ScatterElements", [zerosLike(b, planes), winner, b.op("Reshape", [dy, b.ints([0, 0, 1])])], { axis: 2 });
  return [reshapeLike(b, routed, x)];
}
defineOp({
  type: "MaxPool",
  infer: poolInfer,
  grad: maxPoolGrad
});
defineOp({ type: "AveragePool", infer: poolInfer, grad: averagePoolGrad });
defineOp({ type: "GlobalAveragePool", infer: globalPoolInfer, grad: globalAverageGrad });
defineOp({ type: "GlobalMaxPool", infer: globalPoolInfer, grad: globalMaxSwitches });

// dist/engine/ops/linear.js
var dimsText2 = (s) => `[${s.join(", ")}]`;
var clash = (a, c) => typeof a === "number" && typeof c === "number" && a !== c;
function gemmInfer(ctx) {
  const a = ctx.need(0);
  const bm = ctx.need(1);
  if (a.shape.length !== 2 || bm.shape.length !== 2) {
    throw ctx.error(`A and B must be matrices, got A ${dimsText2(a.shape)} and B ${dimsText2(bm.shape)}`, "Insert a Flatten before the Gemm.");
  }
  const transA = attrInt(ctx.node, "transA", 0) === 1;
  const transB = attrInt(ctx.node, "transB", 0) === 1;
  const [m, ka] = transA ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
  const [kb, n] = transB ? [bm.shape[1], bm.shape[0]] : [bm.shape[0], bm.shape[1]];
  if (clash(ka, kb)) {
    throw ctx.error(`inner dimensions differ: A ${dimsText2(a.shape)} with transA=${+transA} gives K=${ka}, but B ${dimsText2(bm.shape)} with transB=${+transB} gives K=${kb}`);
  }
  const c = ctx.input(2);
  if (c?.shape) {
    if (c.shape.length > 2)
      throw ctx.error(`C ${dimsText2(c.shape)} has rank ${c.shape.length}; it must broadcast to [${m}, ${n}]`);
    const target = [m, n].slice(2 - c.shape.length);
    c.shape.forEach((d, i) => {
      if (d !== 1 && clash(d, target[i]))
        throw ctx.error(`C ${dimsText2(c.shape)} does not broadcast to the output [${m}, ${n}]`);
    });
  }
  return [{ dtype: a.dtype, shape: [m, n] }];
}
function gemmGrad(g) {
  const dy = g.dy(0);
  if (!dy)
    return [void 0, void 0, void 0];
  const b = g.b;
  const A = g.x(0);
  const B = g.x(1);
  const alpha = attrFloat(g.node, "alpha", 1);
  const beta = attrFloat(g.node, "beta", 1);
  const transA = attrInt(g.node, "transA", 0);
  const transB = attrInt(g.node, "transB", 0);
  const scaled = alpha === 1 ? {} : { alpha };
  const dA = !g.wants(0) ? void 0 : transA ? b.op("Gemm", [B, dy], { ...scaled, transA: transB, transB: 1 }) : b.op("Gemm", [dy, B], { ...scaled, transB: 1 - transB });
  const dB = !g.wants(1) ? void 0 : transB ? b.op("Gemm", [dy, A], { ...scaled, transA: 1, transB: transA }) : b.op("Gemm", [A, dy], { ...scaled, transA: 1 - transA });
  let dC;
  if (g.node.inputs[2] && g.wants(2) && beta !== 0) {
    dC = unbroadcast(b, dy, g.x(2));
    if (beta !== 1)
      dC = b.op("Mul", [dC, b.scalar(beta)]);
  }
  return [dA, dB, dC];
}
defineOp({ type: "Gemm", infer: gemmInfer, grad: gemmGrad });
function matmulInfer(ctx) {
  const a = ctx.need(0);
  const c = ctx.need(1);
  if (a.shape.length === 0 || c.shape.length === 0)
    throw ctx.error("MatMul operands must have rank >= 1 (use Mul for scalars)");
  const aD = a.shape.length === 1 ? [1, a.shape[0]] : a.shape;
  const cD = c.shape.length === 1 ? [c.shape[0], 1] : c.shape;
  const ka = aD[aD.length - 1];
  const kc = cD[cD.length - 2];
  if (clash(ka, kc))
    throw ctx.error(`inner dimensions differ: ${dimsText2(a.shape)} x ${dimsText2(c.shape)} (${ka} vs ${kc})`);
  const batch = broadcastShapes(ctx.node, [aD.slice(0, -2), cD.slice(0, -2)]);
  const shape = [...batch];
  if (a.shape.length > 1)
    shape.push(aD[aD.length - 2]);
  if (c.shape.length > 1)
    shape.push(cD[cD.length - 1]);
  return [{ dtype: a.dtype, shape }];
}
function swapLast(b, t) {
  const r = b.shapeOf(t).length;
  const perm = Array.from({ length: r }, (_, i) => i);
  perm[r - 2] = r - 1;
  perm[r - 1] = r - 2;
  return b.op("Transpose", [t], { perm });
}
function matmulGrad(g) {
  const dy = g.dy(0);
  if (!dy)
    return [void 0, void 0];
  const b = g.b;
  const A = g.x(0);
  const B = g.x(1);
  const ra = b.shapeOf(A).length;
  const rb = b.shapeOf(B).length;
  const wantA = g.wants(0);
  const wantB = g.wants(1);
  if (ra === 2 && rb === 2) {
    return [wantA ? b.op("Gemm", [dy, B], { transB: 1 }) : void 0, wantB ? b.op("Gemm", [A, dy], { transA: 1 }) : void 0];
  }
  const [k, n] = b.shapeOf(B);
  if (ra > 2 && rb === 2 && typeof k === "number" && typeof n === "number") {
    const rows = (t, cols) => b.op("Reshape", [t, b.ints([-1, cols])]);
    const dy2 = rows(dy, n);
    return [
      wantA ? reshapeLike(b, b.op("Gemm", [dy2, B], { transB: 1 }), A) : void 0,
      wantB ? b.op("Gemm", [rows(A, k), dy2], { transA: 1 }) : void 0
    ];
  }
  const a1 = ra === 1;
  const b1 = rb === 1;
  const aP = a1 ? b.op("Unsqueeze", [A, b.ints([0])]) : A;
  const bP = b1 ? b.op("Unsqueeze", [B, b.ints([1])]) : B;
  const dyP = a1 && b1 ? b.op("Reshape", [dy, b.ints([1, 1])]) : a1 ? b.op("Unsqueeze", [dy, b.ints([-2])]) : b1 ? b.op("Unsqueeze", [dy, b.ints([-1])]) : dy;
  let dA;
  let dB;
  if (wantA) {
    const bT = b1 ? b.op("Unsqueeze", [B, b.ints([0])]) : swapLast(b, B);
    dA = reshapeLike(b, unbroadcast(b, b.op("MatMul", [dyP, bT]), aP), A);
  }
  if (wantB) {
    const aT = a1 ? b.op("Unsqueeze", [A, b.ints([1])]) : swapLast(b, A);
    dB = reshapeLike(b, unbroadcast(b, b.op("MatMul", [aT, dyP]), bP), B);
  }
  return [dA, dB];
}
defineOp({ type: "MatMul", infer: matmulInfer, grad: matmulGrad });

// dist/engine/ops/activation.js
function sameShape(ctx) {
  const x = ctx.need(0);
  return [{ dtype: x.dtype, shape: [...x.shape] }];
}
function reluMasked(g, dy) {
  const b = g.b;
  return b.op("Mul", [dy, floatMask(b, b.op("Greater", [g.y(0), b.scalar(0)]))]);
}
defineOp({
  type: "Relu",
  infer: sameShape,
  grad: (g) => {
    const dy = g.dy(0);
    return [dy && reluMasked(g, dy)];
  },
  variants: {
    // Springenberg et al.: only positive upstream gradient, only where the input was positive.
    guided: (g) => {
      const dy = g.dy(0);
      return [dy && reluMasked(g, g.b.op("Relu", [dy]))];
    },
    // Zeiler & Fergus: the backward ReLU rectifies the upstream signal and ignores the forward mask.
    deconvnet: (g) => {
      const dy = g.dy(0);
      return [dy && g.b.op("Relu", [dy])];
    }
  }
});
function unaryRule(type, rule) {
  defineOp({
    type,
    infer: sameShape,
    grad: (g) => {
      const dy = g.dy(0);
      return [dy && g.wants(0) ? rule(g, dy) : void 0];
    }
  });
}
function positive(g) {
  return floatMask(g.b, g.b.op("Greater", [g.x(0), g.b.scalar(0)]));
}
function blend(b, mask, oneMinusSlope, slope) {
  return b.op("Add", [b.op("Mul", [mask, oneMinusSlope]), slope]);
}
unaryRule("LeakyRelu", (g, dy) => {
  const alpha = attrFloat(g.node, "alpha", 0.01);
  return g.b.op("Mul", [dy, blend(g.b, positive(g), g.b.scalar(1 - alpha), g.b.scalar(alpha))]);
});
defineOp({
  type: "PRelu",
  infer: (ctx) => {
    const x = ctx.need(0);
    const s = ctx.need(1);
    const out = broadcastShapes(ctx.node, [x.shape, s.shape]);
    const ok = out.length === x.shape.length && out.every((d, i) => d === x.shape[i] || typeof x.shape[i] !== "number");
    if (!ok)
      throw ctx.error(`slope [${s.shape.join(", ")}] does not broadcast to X [${x.shape.join(", ")}]`, "Give the slope shape [C, 1, 1], [1] or a scalar.");
    return [{ dtype: x.dtype, shape: [...x.shape] }];
  },
  grad: (g) => {
    const dy = g.dy(0);
    if (!dy)
      return [void 0, void 0];
    const b = g.b;
    const slope = g.x(1);
    const dx = g.wants(0) ? b.op("Mul", [dy, blend(b, positive(g), b.op("Sub", [b.scalar(1), slope]), slope)]) : void 0;
    const ds = g.wants(1) ? unbroadcast(b, b.op("Mul", [dy, b.op("Min", [g.x(0), b.scalar(0)])]), slope) : void 0;
    return [dx, ds];
  }
});
unaryRule("Elu", (g, dy) => {
  const b = g.b;
  const alpha = attrFloat(g.node, "alpha", 1);
  const negSide = b.op("Min", [g.y(0), b.scalar(0)]);
  const local = alpha === 1 ? b.op("Add", [negSide, b.scalar(1)]) : b.op("Add", [blend(b, positive(g), b.scalar(1 - alpha), b.scalar(alpha)), negSide]);
  return b.op("Mul", [dy, local]);
});
unaryRule("Sigmoid", (g, dy) => g.b.op("Mul", [dy, g.b.op("Mul", [g.y(0), g.b.op("Sub", [g.b.scalar(1), g.y(0)])])]));
unaryRule("Tanh", (g, dy) => g.b.op("Mul", [dy, g.b.op("Sub", [g.b.scalar(1), g.b.op("Mul", [g.y(0), g.y(0)])])]));
defineOp({
  type: "Clip",
  infer: (ctx) => {
    for (const i of [1, 2]) {
      const bound = ctx.input(i);
      if (bound?.shape && bound.shape.some((d) => d !== 1))
        throw ctx.error(`${i === 1 ? "min" : "max"} must be a scalar, got shape [${bound.shape.join(", ")}]`);
    }
    return sameShape(ctx);
  },
  // Passes strictly inside (min, max), as PyTorch's hardtanh/ReLU6 backward: 0 at a bound.
  // And of the two compares, then one Cast: 6.2 ms; two Casts multiplied 8.8 ms,
  // Cast(|x - c| < r) 7.3 ms, Where 7.6 ms.
  grad: (g) => {
    const dy = g.dy(0);
    if (!dy || !g.wants(0))
      return [void 0];
    const b = g.b;
    const x = g.x(0);
    const conds = [];
    if (g.node.inputs[1])
      conds.push(b.op("Greater", [x, g.x(1)]));
    if (g.node.inputs[2])
      conds.push(b.op("Less", [x, g.x(2)]));
    if (conds.length === 0)
      return [dy];
    const cond = conds.length === 2 ? b.op("And", conds) : conds[0];
    return [b.op("Mul", [dy, floatMask(b, cond)])];
  },
  noGradInputs: [1, 2]
});
unaryRule("HardSigmoid", (g, dy) => {
  const b = g.b;
  const y = g.y(0);
  const inside = b.op("And", [b.op("Greater", [y, b.scalar(0)]), b.op("Less", [y, b.scalar(1)])]);
  return b.op("Mul", [dy, b.op("Mul", [floatMask(b, inside), b.scalar(attrFloat(g.node, "alpha", 0.2))])]);
});
unaryRule("HardSwish", (g, dy) => {
  const b = g.b;
  const x = g.x(0);
  const hs = b.op("HardSigmoid", [x], { alpha: 1 / 6, beta: 0.5 });
  const mid = floatMask(b, b.op("Less", [b.op("Abs", [x]), b.scalar(3)]));
  return b.op("Mul", [dy, b.op("Add", [hs, b.op("Mul", [b.op("Mul", [x, b.scalar(1 / 6)]), mid])])]);
});
unaryRule("Softplus", (g, dy) => g.b.op("Mul", [dy, g.b.op("Sigmoid", [g.x(0)])]));
unaryRule("Softsign", (g, dy) => {
  const b = g.b;
  const d = b.op("Add", [b.op("Abs", [g.x(0)]), b.scalar(1)]);
  return b.op("Div", [dy, b.op("Mul", [d, d])]);
});

// dist/engine/ops/normalization.js
var rankError = (ctx, what, min, rank) => ctx.error(`${what} must have rank >= ${min} ([N, C, ...]), got rank ${rank}`);
function checkChannelInputs(ctx, indices, C) {
  for (const i of indices) {
    const f2 = ctx.need(i);
    if (f2.shape.length !== 1)
      throw ctx.error(`input ${i} must be a vector [C], got shape [${f2.shape.join(", ")}]`);
    const d = f2.shape[0];
    if (typeof d === "number" && typeof C === "number" && d !== C)
      throw ctx.error(`input ${i} has ${d} entries for ${C} channels`);
  }
}
var allButChannel = (rank) => [0, ...Array.from({ length: rank - 2 }, (_, i) => i + 2)];
var spatialAxes = (rank) => Array.from({ length: rank - 2 }, (_, i) => i + 2);
function channelView(b, v, rank) {
  return b.op("Unsqueeze", [v, b.ints(allButChannel(rank))]);
}
function countAlong(b, x, axes) {
  const shape = b.shapeOf(x);
  const dims = axes.map((a) => shape[a]);
  if (dims.every((d) => typeof d === "number"))
    return b.scalar(dims.reduce((p, q) => p * q, 1));
  const picked = b.op("Gather", [b.op("Shape", [x]), b.ints(axes)], { axis: 0 });
  return b.op("Cast", [b.op("ReduceProd", [picked], { keepdims: 0 })], { to: 1 });
}
var reduceMean = (b, t, axes) => b.op("ReduceMean", [t], { axes: [...axes], keepdims: 1 });
var reduceSum = (b, t, axes, keepdims = 1) => b.op("ReduceSum", [t, b.ints(axes)], { keepdims });
function invStd(b, variance, eps) {
  return b.op("Reciprocal", [b.op("Sqrt", [b.op("Add", [variance, b.scalar(eps)])])]);
}
function batchStats(b, x, axes, eps) {
  const mean = reduceMean(b, x, axes);
  const centered = b.op("Sub", [x, mean]);
  const count = countAlong(b, x, axes);
  const variance = b.op("Div", [b.op("ReduceSumSquare", [centered], { axes: [...axes], keepdims: 1 }), count]);
  return { mean, centered, variance, inv: invStd(b, variance, eps), count };
}
function normalizedBackward(g, stats, axes, dy, extra = {}) {
  const b = g.b;
  const x = g.x(0);
  const rank = b.shapeOf(x).length;
  const wantX = g.wants(0);
  const wantScale = g.wants(1);
  const wantBias = g.wants(2);
  const grads = [void 0, void 0, void 0, void 0, void 0];
  if (dy) {
    const s1 = wantX || wantBias ? reduceSum(b, dy, axes) : void 0;
    const sc = wantX || wantScale ? reduceSum(b, b.op("Mul", [dy, stats.centered]), axes) : void 0;
    const perChannel = allButChannel(rank);
    if (wantScale)
      grads[1] = reduceSum(b, b.op("Mul", [sc, stats.inv]), perChannel, 0);
    if (wantBias)
      grads[2] = reduceSum(b, s1, perChannel, 0);
    if (wantX) {
      const k = b.op("Mul", [channelView(b, g.x(1), rank), stats.inv]);
      const negKOverN = b.op("Neg", [b.op("Div", [k, stats.count])]);
      let coefA = b.op("Mul", [b.op("Mul", [negKOverN, b.op("Mul", [stats.inv, stats.inv])]), sc]);
      let coefB = b.op("Mul", [negKOverN, s1]);
      if (extra.a)
        coefA = b.op("Add", [coefA, extra.a]);
      if (extra.b)
        coefB = b.op("Add", [coefB, extra.b]);
      grads[0] = b.op("Add", [b.op("Add", [b.op("Mul", [dy, k]), b.op("Mul", [stats.centered, coefA])]), coefB]);
    }
  } else if (wantX && (extra.a || extra.b)) {
    let dx = extra.a ? b.op("Mul", [stats.centered, extra.a]) : void 0;
    if (extra.b)
      dx = dx ? b.op("Add", [dx, extra.b]) : b.op("Expand", [extra.b, shapeValue(b, x)]);
    grads[0] = dx;
  }
  return grads;
}
function isTraining(node) {
  return attrInt(node, "training_mode", 0) === 1;
}
defineOp({
  type: "BatchNormalization",
  infer: (ctx) => {
    const x = ctx.need(0);
    if (x.shape.length < 2)
      throw rankError(ctx, "X", 2, x.shape.length);
    const C = x.shape[1];
    checkChannelInputs(ctx, [1, 2, 3, 4], C);
    const outputs = ctx.node.outputs.filter((o) => o).length;
    const training = isTraining(ctx.node);
    if (training && (ctx.node.outputs.length !== 3 || ctx.node.outputs.some((o) => !o))) {
      throw ctx.error(`training_mode=1 needs the three outputs Y, running_mean, running_var, all named; the node has ${ctx.node.outputs.filter((o) => o).length} named`, "Name all three outputs (they need not be graph outputs), or rewrite the node with lowerTrainingBatchNorm.");
    }
    if (!training && outputs > 1) {
      throw ctx.error(`has ${outputs} outputs in inference mode (training_mode=0), which ONNX allows only Y for`, "Drop the extra outputs, or set training_mode=1.");
    }
    const stat = { dtype: ctx.need(3).dtype, shape: [C] };
    return [{ dtype: x.dtype, shape: [...x.shape] }, stat, { ...stat, shape: [C] }];
  },
  grad: (g) => isTraining(g.node) ? trainingBatchNormGrad(g) : inferenceBatchNormGrad(g),
  // Running statistics are buffers, not parameters: no gradient, as in PyTorch.
  noGradInputs: [3, 4]
});
function inferenceBatchNormGrad(g) {
  const dy = g.dy(0);
  const grads = [void 0, void 0, void 0, void 0, void 0];
  if (!dy)
    return grads;
  const b = g.b;
  const x = g.x(0);
  const rank = b.shapeOf(x).length;
  const axes = allButChannel(rank);
  const eps = attrFloat(g.node, "epsilon", 1e-5);
  const inv = g.wants(0) || g.wants(1) ? invStd(b, g.x(4), eps) : void 0;
  if (g.wants(0))
    grads[0] = b.op("Mul", [dy, channelView(b, b.op("Mul", [g.x(1), inv]), rank)]);
  if (g.wants(1)) {
    const centered = b.op("Sub", [x, channelView(b, g.x(3), rank)]);
    grads[1] = b.op("Mul", [reduceSum(b, b.op("Mul", [dy, centered]), axes, 0), inv]);
  }
  if (g.wants(2))
    grads[2] = reduceSum(b, dy, axes, 0);
  return grads;
}
function trainingBatchNormGrad(g) {
  const b = g.b;
  const x = g.x(0);
  const rank = b.shapeOf(x).length;
  const axes = allButChannel(rank);
  const dy = g.dy(0);
  const dMean = g.dy(1);
  const dVar = g.dy(2);
  const none = [void 0, void 0, void 0, void 0, void 0];
  if (!dy && !(g.wants(0) && (dMean || dVar)))
    return none;
  const eps = attrFloat(g.node, "epsilon", 1e-5);
  const momentum = attrFloat(g.node, "momentum", 0.9);
  const stats = batchStats(b, x, axes, eps);
  const extra = {};
  if (g.wants(0) && (dMean || dVar)) {
    if (dMean)
      extra.b = b.op("Div", [b.op("Mul", [channelView(b, dMean, rank), b.scalar(1 - momentum)]), stats.count]);
    if (dVar)
      extra.a = b.op("Div", [b.op("Mul", [channelView(b, dVar, rank), b.scalar(2 * (1 - momentum))]), stats.count]);
  }
  return normalizedBackward(g, stats, axes, dy, extra);
}
defineOp({
  type: "InstanceNormalization",
  infer: (ctx) => {
    const x = ctx.need(0);
    if (x.shape.length < 3)
      throw rankError(ctx, "input", 3, x.shape.length);
    checkChannelInputs(ctx, [1, 2], x.shape[1]);
    return [{ dtype: x.dtype, shape: [...x.shape] }];
  },
  // Statistics per (n, c) over the spatial axes, recomputed here (ONNX has no output for them).
  grad: (g) => {
    const dy = g.dy(0);
    if (!dy)
      return [void 0, void 0, void 0];
    const b = g.b;
    const axes = spatialAxes(b.shapeOf(g.x(0)).length);
    const stats = batchStats(b, g.x(0), axes, attrFloat(g.node, "epsilon", 1e-5));
    return normalizedBackward(g, stats, axes, dy).slice(0, 3);
  }
});

// dist/engine/ops/softmax.js
function sameShapeAlongAxis(ctx) {
  const out = sameShape(ctx);
  normAxis(ctx.node, attrInt(ctx.node, "axis", -1), ctx.need(0).shape.length);
  return out;
}
function softmaxAxis(g) {
  return normAxis(g.node, attrInt(g.node, "axis", -1), g.b.shapeOf(g.x(0)).length);
}
function sumAlong(g, t) {
  return g.b.op("ReduceSum", [t, g.b.ints([softmaxAxis(g)])], { keepdims: 1 });
}
defineOp({
  type: "Softmax",
  infer: sameShapeAlongAxis,
  // dx = y * (dy - sum(dy * y)): the Jacobian diag(y) - y y^T applied without forming it.
  grad: (g) => {
    const dy = g.dy(0);
    if (!dy || !g.wants(0))
      return [void 0];
    const b = g.b;
    const y = g.y(0);
    return [b.op("Mul", [y, b.op("Sub", [dy, sumAlong(g, b.op("Mul", [dy, y]))])])];
  }
});
defineOp({
  type: "LogSoftmax",
  infer: sameShapeAlongAxis,
  // dx = dy - softmax(x) * sum(dy), with softmax(x) = exp(y) (y <= 0, so Exp cannot overflow).
  grad: (g) => {
    const dy = g.dy(0);
    if (!dy || !g.wants(0))
      return [void 0];
    const b = g.b;
    return [b.op("Sub", [dy, b.op("Mul", [b.op("Exp", [g.y(0)]), sumAlong(g, dy)])])];
  }
});

// dist/engine/reference/kernels/util.js
function need2(node, inputs, i) {
  const t = inputs[i];
  if (!t)
    throw new Error(`${node.op} node "${node.name}": required input ${i} is missing`);
  return t;
}
function stridesOf2(dims) {
  const s = new Array(dims.length);
  let acc = 1;
  for (let i = dims.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= dims[i];
  }
  return s;
}
function normAxis2(node, axis, rank) {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank)
    throw shapeError(node, `axis ${axis} is out of range for rank ${rank}`);
  return a;
}
function isIntDType(d) {
  return d !== "float32" && d !== "float64" && d !== "float16" && d !== "bool";
}
function resultDType(...ts) {
  const first = ts.find((t) => t !== void 0);
  if (!first)
    throw new Error("resultDType: no operands");
  if (ts.some((t) => t?.dtype === "float64") && !isIntDType(first.dtype))
    return "float64";
  return first.dtype;
}
function fromFloat64(dtype, dims, values) {
  if (dtype === "float64")
    return { dtype, dims: [...dims], data: values };
  const out = allocate(dtype, values.length);
  if (out instanceof BigInt64Array || out instanceof BigUint64Array) {
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (!Number.isFinite(v))
        throw new Error(`cannot store ${v} in an ${dtype} tensor`);
      out[i] = BigInt(Math.trunc(v));
    }
  } else if (dtype === "float16") {
    const o = out;
    for (let i = 0; i < values.length; i++)
      o[i] = floatToHalf(values[i]);
  } else if (dtype === "bool") {
    const o = out;
    for (let i = 0; i < values.length; i++)
      o[i] = values[i] !== 0 ? 1 : 0;
  } else if (isIntDType(dtype)) {
    const o = out;
    for (let i = 0; i < values.length; i++)
      o[i] = Math.trunc(values[i]);
  } else {
    out.set(values);
  }
  return { dtype, dims: [...dims], data: out };
}
var f322 = new Float32Array(1);
var u32 = new Uint32Array(f322.buffer);
function floatToHalf(v) {
  f322[0] = v;
  const x = u32[0];
  const sign = x >>> 16 & 32768;
  const exp = x >>> 23 & 255;
  let mant = x & 8388607;
  if (exp === 255)
    return sign | 31744 | (mant ? 512 : 0);
  const e = exp - 127 + 15;
  if (e >= 31)
    return sign | 31744;
  if (e <= 0) {
    if (e < -10)
      return sign;
    mant |= 8388608;
    const shift = 14 - e;
    let h2 = mant >>> shift;
    const rem2 = mant & (1 << shift) - 1;
    const half = 1 << shift - 1;
    if (rem2 > half || rem2 === half && h2 & 1)
      h2++;
    return sign | h2;
  }
  let h = e << 10 | mant >>> 13;
  const rem = mant & 8191;
  if (rem > 4096 || rem === 4096 && h & 1)
    h++;
  return sign | h;
}
function broadcastDims2(node, shapes) {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out = new Array(rank).fill(1);
  for (const s of shapes) {
    for (let k = 0; k < s.length; k++) {
      const j = rank - s.length + k;
      const d = s[k];
      if (d === out[j])
        continue;
      if (out[j] === 1)
        out[j] = d;
      else if (d !== 1) {
        throw shapeError(node, `cannot broadcast shapes ${shapes.map((x) => `[${x.join(", ")}]`).join(" and ")}`);
      }
    }
  }
  return out;
}
function broadcastIndex(outDims, inDims) {
  if (outDims.length === inDims.length && outDims.every((d, i) => d === inDims[i]))
    return null;
  const rank = outDims.length;
  const inStrides = stridesOf2(inDims);
  const st = new Array(rank).fill(0);
  for (let k = 0; k < inDims.length; k++) {
    const j = rank - inDims.length + k;
    st[j] = inDims[k] === 1 && outDims[j] !== 1 ? 0 : inStrides[k];
  }
  const n = sizeOf(outDims);
  const map = new Int32Array(n);
  if (n === 0)
    return map;
  const idx = new Array(rank).fill(0);
  let off = 0;
  for (let f2 = 0; f2 < n; f2++) {
    map[f2] = off;
    for (let k = rank - 1; k >= 0; k--) {
      idx[k]++;
      off += st[k];
      if (idx[k] < outDims[k])
        break;
      off -= st[k] * idx[k];
      idx[k] = 0;
    }
  }
  return map;
}
function bigAt(a, i) {
  const v = a[i];
  return typeof v === "bigint" ? v : BigInt(v);
}
function wrapInt(dtype, v) {
  switch (dtype) {
    case "int64":
      return BigInt.asIntN(64, v);
    case "uint64":
      return BigInt.asUintN(64, v);
    case "int32":
      return BigInt.asIntN(32, v);
    case "uint32":
      return BigInt.asUintN(32, v);
    case "int16":
      return BigInt.asIntN(16, v);
    case "uint16":
      return BigInt.asUintN(16, v);
    case "int8":
      return BigInt.asIntN(8, v);
    case "uint8":
      return BigInt.asUintN(8, v);
    default:
      throw new Error(`wrapInt: ${dtype} is not an integer dtype`);
  }
}
function putBig(a, i, v) {
  if (a instanceof BigInt64Array || a instanceof BigUint64Array)
    a[i] = v;
  else
    a[i] = Number(v);
}
function kernelError(node, message) {
  return shapeError(node, message);
}

// dist/engine/reference/kernels/nn.js
function staticSizes(node, dims) {
  if (!dims.every((d) => typeof d === "number"))
    throw kernelError(node, `output size [${dims.join(", ")}] is not static`);
  return [...dims];
}
function windowTable(inSp, outSp, kernel, strides, dilations, padBegin) {
  const r = inSp.length;
  const outN = sizeOf(outSp);
  const kN = sizeOf(kernel);
  const inStr = stridesOf2(inSp);
  const axisPos = inSp.map((n, a) => {
    const t = new Int32Array(outSp[a] * kernel[a]);
    for (let o = 0; o < outSp[a]; o++)
      for (let k = 0; k < kernel[a]; k++) {
        const p = o * strides[a] - padBegin[a] + k * dilations[a];
        t[o * kernel[a] + k] = p >= 0 && p < n ? p : -1;
      }
    return t;
  });
  const table = new Int32Array(outN * kN);
  const oi = new Array(r).fill(0);
  const ki = new Array(r).fill(0);
  for (let o = 0; o < outN; o++) {
    ki.fill(0);
    for (let k = 0; k < kN; k++) {
      let off = 0;
      for (let a = 0; a < r; a++) {
        const p = axisPos[a][oi[a] * kernel[a] + ki[a]];
        if (p < 0) {
          off = -1;
          break;
        }
        off += p * inStr[a];
      }
      table[o * kN + k] = off;
      increment(ki, kernel);
    }
    increment(oi, outSp);
  }
  return table;
}
function increment(idx, dims) {
  for (let a = dims.length - 1; a >= 0; a--) {
    if (++idx[a] < dims[a])
      return;
    idx[a] = 0;
  }
}
function checkRank(node, x, minRank = 3) {
  if (x.dims.length < minRank)
    throw kernelError(node, `input must be [N, C, spatial...], got rank ${x.dims.length}`);
}
function conv(node, inputs) {
  const xT = need2(node, inputs, 0);
  const wT = need2(node, inputs, 1);
  const bT = inputs[2];
  checkRank(node, xT);
  const [N, C] = xT.dims;
  const inSp = xT.dims.slice(2);
  const [M, Cg] = wT.dims;
  const kernel = wT.dims.slice(2);
  const group = attrInt(node, "group", 1);
  if (kernel.length !== inSp.length)
    throw kernelError(node, `weight rank ${wT.dims.length} does not match input rank ${xT.dims.length}`);
  if (C !== Cg * group || M % group !== 0)
    throw kernelError(node, `${C} input channels and weight [${wT.dims.join(", ")}] do not fit group=${group}`);
  const g = windowGeometry(node, inSp, kernel);
  const outSp = staticSizes(node, g.out);
  const table = windowTable(inSp, outSp, kernel, g.strides, g.dilations, g.padBegin);
  const x = toFloat64(xT);
  const w = toFloat64(wT);
  const b = bT ? toFloat64(bT) : void 0;
  const inN = sizeOf(inSp);
  const outN = sizeOf(outSp);
  const kN = sizeOf(kernel);
  const Mg = M / group;
  const y = new Float64Array(N * M * outN);
  for (let n = 0; n < N; n++)
    for (let m = 0; m < M; m++) {
      const gi = Math.floor(m / Mg);
      const ybase = (n * M + m) * outN;
      if (b)
        y.fill(b[m], ybase, ybase + outN);
      for (let c = 0; c < Cg; c++) {
        const xbase = (n * C + gi * Cg + c) * inN;
        const wbase = (m * Cg + c) * kN;
        for (let o = 0; o < outN; o++) {
          let s = 0;
          const tbase = o * kN;
          for (let k = 0; k < kN; k++) {
            const off = table[tbase + k];
            if (off >= 0)
              s += x[xbase + off] * w[wbase + k];
          }
          y[ybase + o] += s;
        }
      }
    }
  return [fromFloat64(resultDType(xT, wT, bT), [N, M, ...outSp], y)];
}
function convTranspose(node, inputs) {
  const xT = need2(node, inputs, 0);
  const wT = need2(node, inputs, 1);
  const bT = inputs[2];
  checkRank(node, xT);
  const [N, C] = xT.dims;
  const inSp = xT.dims.slice(2);
  const [Cw, Mg] = wT.dims;
  const kernel = wT.dims.slice(2);
  const group = attrInt(node, "group", 1);
  if (kernel.length !== inSp.length)
    throw kernelError(node, `weight rank ${wT.dims.length} does not match input rank ${xT.dims.length}`);
  if (Cw !== C || C % group !== 0)
    throw kernelError(node, `${C} input channels and weight [${wT.dims.join(", ")}] do not fit group=${group}`);
  const g = transposeGeometry(node, inSp, kernel);
  const outSp = staticSizes(node, g.out);
  const M = Mg * group;
  const Cg = C / group;
  const r = inSp.length;
  const inN = sizeOf(inSp);
  const outN = sizeOf(outSp);
  const kN = sizeOf(kernel);
  const outStr = stridesOf2(outSp);
  const table = new Int32Array(inN * kN);
  const ii = new Array(r).fill(0);
  const ki = new Array(r).fill(0);
  for (let i = 0; i < inN; i++) {
    ki.fill(0);
    for (let k = 0; k < kN; k++) {
      let off = 0;
      for (let a = 0; a < r; a++) {
        const p = ii[a] * g.strides[a] + ki[a] * g.dilations[a] - g.padBegin[a];
        if (p < 0 || p >= outSp[a]) {
          off = -1;
          break;
        }
        off += p * outStr[a];
      }
      table[i * kN + k] = off;
      increment(ki, kernel);
    }
    increment(ii, inSp);
  }
  const x = toFloat64(xT);
  const w = toFloat64(wT);
  const b = bT ? toFloat64(bT) : void 0;
  const y = new Float64Array(N * M * outN);
  for (let n = 0; n < N; n++)
    for (let gi = 0; gi < group; gi++)
      for (let m = 0; m < Mg; m++) {
        const ybase = (n * M + gi * Mg + m) * outN;
        if (b)
          y.fill(b[gi * Mg + m], ybase, ybase + outN);
        for (let c = 0; c < Cg; c++) {
          const xbase = (n * C + gi * Cg + c) * inN;
          const wbase = ((gi * Cg + c) * Mg + m) * kN;
          for (let i = 0; i < inN; i++) {
            const xv = x[xbase + i];
            const tbase = i * kN;
            for (let k = 0; k < kN; k++) {
              const off = table[tbase + k];
              if (off >= 0)
                y[ybase + off] += xv * w[wbase + k];
            }
          }
        }
      }
  return [fromFloat64(resultDType(xT, wT, bT), [N, M, ...outSp], y)];
}
function poolSetup(node, xT) {
  checkRank(node, xT);
  const kernel = attrInts(node, "kernel_shape");
  if (!kernel)
    throw kernelError(node, "kernel_shape attribute is required");
  const inSp = xT.dims.slice(2);
  const geometry = windowGeometry(node, inSp, kernel);
  const outSp = staticSizes(node, geometry.out);
  const table = windowTable(inSp, outSp, kernel, geometry.strides, geometry.dilations, geometry.padBegin);
  return { N: xT.dims[0], C: xT.dims[1], inSp, outSp, kN: sizeOf(kernel), table, geometry };
}
function maxPool(node, inputs) {
  const xT = need2(node, inputs, 0);
  const { N, C, inSp, outSp, kN, table } = poolSetup(node, xT);
  const storageOrder = attrInt(node, "storage_order", 0);
  const wantIndices = node.outputs.length > 1 && node.outputs[1] !== "";
  const x = toFloat64(xT);
  const inN = sizeOf(inSp);
  const outN = sizeOf(outSp);
  const y = new Float64Array(N * C * outN);
  const idx = wantIndices ? new BigInt64Array(N * C * outN) : void 0;
  const colStr = stridesOf2([...inSp].reverse()).reverse();
  const rowStr = stridesOf2(inSp);
  const toColMajor = (off) => {
    let c = 0;
    for (let a = 0; a < inSp.length; a++) {
      const p = Math.floor(off / rowStr[a]) % inSp[a];
      c += p * colStr[a];
    }
    return c;
  };
  for (let nc = 0; nc < N * C; nc++) {
    const xbase = nc * inN;
    for (let o = 0; o < outN; o++) {
      let best = -Infinity;
      let arg = -1;
      for (let k = 0; k < kN; k++) {
        const off = table[o * kN + k];
        if (off >= 0 && (arg < 0 || x[xbase + off] > best)) {
          best = x[xbase + off];
          arg = off;
        }
      }
      y[nc * outN + o] = best;
      if (idx)
        idx[nc * outN + o] = BigInt(xbase + (storageOrder === 1 ? toColMajor(arg) : arg));
    }
  }
  const outDims = [N, C, ...outSp];
  const outs = [fromFloat64(xT.dtype, outDims, y)];
  if (idx)
    outs.push({ dtype: "int64", dims: outDims, data: idx });
  return outs;
}
function averagePool(node, inputs) {
  const xT = need2(node, inputs, 0);
  const { N, C, inSp, outSp, kN, table, geometry } = poolSetup(node, xT);
  const includePad = attrInt(node, "count_include_pad", 0) === 1;
  const x = toFloat64(xT);
  const inN = sizeOf(inSp);
  const outN = sizeOf(outSp);
  let padCount;
  if (includePad) {
    const r = inSp.length;
    const perAxis = inSp.map((n, a) => {
      const counts = new Float64Array(outSp[a]);
      for (let o = 0; o < outSp[a]; o++) {
        let c = 0;
        for (let k = 0; k < geometry.kernel[a]; k++) {
          const p = o * geometry.strides[a] - geometry.padBegin[a] + k * geometry.dilations[a];
          if (p < n + geometry.padEnd[a])
            c++;
        }
        counts[o] = c;
      }
      return counts;
    });
    padCount = new Float64Array(outN);
    const oi = new Array(r).fill(0);
    for (let o = 0; o < outN; o++) {
      let c = 1;
      for (let a = 0; a < r; a++)
        c *= perAxis[a][oi[a]];
      padCount[o] = c;
      increment(oi, outSp);
    }
  }
  const y = new Float64Array(N * C * outN);
  for (let nc = 0; nc < N * C; nc++) {
    const xbase = nc * inN;
    for (let o = 0; o < outN; o++) {
      let s = 0;
      let count = 0;
      for (let k = 0; k < kN; k++) {
        const off = table[o * kN + k];
        if (off >= 0) {
          s += x[xbase + off];
          count++;
        }
      }
      y[nc * outN + o] = s / (padCount ? padCount[o] : count);
    }
  }
  return [fromFloat64(xT.dtype, [N, C, ...outSp], y)];
}
function globalPool(kind) {
  return (node, inputs) => {
    const xT = need2(node, inputs, 0);
    checkRank(node, xT);
    const [N, C] = xT.dims;
    const inN = sizeOf(xT.dims.slice(2));
    const x = toFloat64(xT);
    const y = new Float64Array(N * C);
    for (let nc = 0; nc < N * C; nc++) {
      let acc = kind === "avg" ? 0 : -Infinity;
      for (let i = nc * inN; i < (nc + 1) * inN; i++)
        acc = kind === "avg" ? acc + x[i] : Math.max(acc, x[i]);
      y[nc] = kind === "avg" ? acc / inN : acc;
    }
    return [fromFloat64(xT.dtype, [N, C, ...xT.dims.slice(2).map(() => 1)], y)];
  };
}
defineKernel("Conv", conv);
defineKernel("ConvTranspose", convTranspose);
defineKernel("MaxPool", maxPool);
defineKernel("AveragePool", averagePool);
defineKernel("GlobalAveragePool", globalPool("avg"));
defineKernel("GlobalMaxPool", globalPool("max"));

// dist/engine/reference/kernels/math.js
function erf(x) {
  if (Number.isNaN(x))
    return NaN;
  const ax = Math.abs(x);
  if (ax === 0)
    return x;
  if (ax < 2.5) {
    let term = ax;
    let sum = ax;
    const x2 = ax * ax;
    for (let n = 1; n < 200; n++) {
      term *= 2 * x2 / (2 * n + 1);
      sum += term;
      if (term < sum * 1e-17)
        break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI) * Math.exp(-x2) * sum);
  }
  if (ax > 6)
    return Math.sign(x);
  let f2 = ax;
  for (let n = 120; n >= 1; n--)
    f2 = ax + n / 2 / f2;
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f2;
  return Math.sign(x) * (1 - erfc);
}
function unaryKernel(make) {
  return (node, inputs) => {
    const x = need2(node, inputs, 0);
    const spec = make(node);
    if (isIntDType(x.dtype) && spec.int) {
      const out = allocate(x.dtype, x.data.length);
      for (let i = 0; i < x.data.length; i++)
        putBig(out, i, wrapInt(x.dtype, spec.int(bigAt(x.data, i))));
      return [{ dtype: x.dtype, dims: [...x.dims], data: out }];
    }
    const v = toFloat64(x);
    const y = new Float64Array(v.length);
    for (let i = 0; i < v.length; i++)
      y[i] = spec.f(v[i], node);
    return [fromFloat64(x.dtype, x.dims, y)];
  };
}
function softplus(v) {
  return v > 0 ? v + Math.log1p(Math.exp(-v)) : Math.log1p(Math.exp(v));
}
var unaries = {
  Relu: () => ({ f: (v) => v > 0 ? v : 0, int: (v) => v > 0n ? v : 0n }),
  LeakyRelu: (node) => {
    const alpha = attrFloat(node, "alpha", 0.01);
    return { f: (v) => v >= 0 ? v : alpha * v };
  },
  Elu: (node) => {
    const alpha = attrFloat(node, "alpha", 1);
    return { f: (v) => v > 0 ? v : alpha * Math.expm1(v) };
  },
  Sigmoid: () => ({ f: (v) => v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v)) }),
  Tanh: () => ({ f: Math.tanh }),
  HardSigmoid: (node) => {
    const alpha = attrFloat(node, "alpha", 0.2);
    const beta = attrFloat(node, "beta", 0.5);
    return { f: (v) => Math.max(0, Math.min(1, alpha * v + beta)) };
  },
  HardSwish: () => ({ f: (v) => v * Math.max(0, Math.min(1, v / 6 + 0.5)) }),
  Softplus: () => ({ f: softplus }),
  Softsign: () => ({ f: (v) => v / (1 + Math.abs(v)) }),
  Exp: () => ({ f: Math.exp }),
  Log: () => ({ f: Math.log }),
  Sqrt: () => ({ f: Math.sqrt }),
  Neg: () => ({ f: (v) => -v, int: (v) => -v }),
  Abs: () => ({ f: Math.abs, int: (v) => v < 0n ? -v : v }),
  Reciprocal: () => ({ f: (v) => 1 / v }),
  Erf: () => ({ f: erf }),
  Floor: () => ({ f: Math.floor }),
  Ceil: () => ({ f: Math.ceil }),
  Sin: () => ({ f: Math.sin }),
  Cos: () => ({ f: Math.cos })
};
for (const [op, make] of Object.entries(unaries))
  defineKernel(op, unaryKernel(make));
function scalarOf(t) {
  if (!t)
    return void 0;
  if (t.data.length !== 1)
    throw new Error(`expected a scalar, got shape [${t.dims.join(", ")}]`);
  return Number(t.data[0]);
}
defineKernel("Clip", (node, inputs, opset) => {
  const x = need2(node, inputs, 0);
  const lo = opset < 11 ? attrFloat(node, "min") : scalarOf(inputs[1]);
  const hi = opset < 11 ? attrFloat(node, "max") : scalarOf(inputs[2]);
  if (isIntDType(x.dtype)) {
    const loB = inputs[1] && opset >= 11 ? bigAt(inputs[1].data, 0) : void 0;
    const hiB = inputs[2] && opset >= 11 ? bigAt(inputs[2].data, 0) : void 0;
    const out = allocate(x.dtype, x.data.length);
    for (let i = 0; i < x.data.length; i++) {
      let v2 = bigAt(x.data, i);
      if (loB !== void 0 && v2 < loB)
        v2 = loB;
      if (hiB !== void 0 && v2 > hiB)
        v2 = hiB;
      putBig(out, i, v2);
    }
    return [{ dtype: x.dtype, dims: [...x.dims], data: out }];
  }
  const v = toFloat64(x);
  const y = new Float64Array(v.length);
  for (let i = 0; i < v.length; i++) {
    let e = v[i];
    if (lo !== void 0 && e < lo)
      e = lo;
    if (hi !== void 0 && e > hi)
      e = hi;
    y[i] = e;
  }
  return [fromFloat64(x.dtype, x.dims, y)];
});
defineKernel("PRelu", (node, inputs) => {
  const xT = need2(node, inputs, 0);
  const sT = need2(node, inputs, 1);
  const dims = broadcastDims2(node, [xT.dims, sT.dims]);
  if (dims.length !== xT.dims.length || dims.some((d, i) => d !== xT.dims[i])) {
    throw kernelError(node, `slope [${sT.dims.join(", ")}] does not broadcast to X [${xT.dims.join(", ")}]`);
  }
  const x = toFloat64(xT);
  const s = toFloat64(sT);
  const map = broadcastIndex(xT.dims, sT.dims);
  const y = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    y[i] = v < 0 ? v * s[map ? map[i] : i] : v;
  }
  return [fromFloat64(resultDType(xT, sT), xT.dims, y)];
});
function softmaxKernel(log) {
  return (node, inputs, opset) => {
    const xT = need2(node, inputs, 0);
    const rank = xT.dims.length;
    const axis = normAxis2(node, attrInt(node, "axis", opset < 13 ? 1 : -1), rank);
    const outer = sizeOf(xT.dims.slice(0, axis));
    const len = opset < 13 ? sizeOf(xT.dims.slice(axis)) : xT.dims[axis];
    const inner = opset < 13 ? 1 : sizeOf(xT.dims.slice(axis + 1));
    const x = toFloat64(xT);
    const y = new Float64Array(x.length);
    for (let o = 0; o < outer; o++)
      for (let i = 0; i < inner; i++) {
        const base = o * len * inner + i;
        let m = -Infinity;
        for (let k = 0; k < len; k++)
          m = Math.max(m, x[base + k * inner]);
        let s = 0;
        for (let k = 0; k < len; k++)
          s += Math.exp(x[base + k * inner] - m);
        const logS = Math.log(s);
        for (let k = 0; k < len; k++) {
          const j = base + k * inner;
          y[j] = log ? x[j] - m - logS : Math.exp(x[j] - m) / s;
        }
      }
    return [fromFloat64(xT.dtype, xT.dims, y)];
  };
}
defineKernel("Softmax", softmaxKernel(false));
defineKernel("LogSoftmax", softmaxKernel(true));
function binary(node, a, b, spec) {
  const dims = broadcastDims2(node, [a.dims, b.dims]);
  const n = sizeOf(dims);
  const ma = broadcastIndex(dims, a.dims);
  const mb = broadcastIndex(dims, b.dims);
  if (isIntDType(a.dtype) && isIntDType(b.dtype)) {
    if (!spec.int)
      throw kernelError(node, `${node.op} is not defined on ${a.dtype} tensors`);
    const out2 = allocate(a.dtype, n);
    for (let i = 0; i < n; i++) {
      const r = spec.int(bigAt(a.data, ma ? ma[i] : i), bigAt(b.data, mb ? mb[i] : i), node);
      putBig(out2, i, wrapInt(a.dtype, r));
    }
    return { dtype: a.dtype, dims, data: out2 };
  }
  const x = toFloat64(a);
  const y = toFloat64(b);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++)
    out[i] = spec.f(x[ma ? ma[i] : i], y[mb ? mb[i] : i]);
  return fromFloat64(resultDType(a, b), dims, out);
}
var binaries = {
  Add: { f: (a, b) => a + b, int: (a, b) => a + b },
  Sub: { f: (a, b) => a - b, int: (a, b) => a - b },
  Mul: { f: (a, b) => a * b, int: (a, b) => a * b },
  Div: {
    f: (a, b) => a / b,
    // BigInt division truncates toward zero, which is ONNX's integer Div.
    int: (a, b, node) => {
      if (b === 0n)
        throw kernelError(node, "integer division by zero");
      return a / b;
    }
  }
};
for (const [op, spec] of Object.entries(binaries)) {
  defineKernel(op, (node, inputs) => [binary(node, need2(node, inputs, 0), need2(node, inputs, 1), spec)]);
}
defineKernel("Pow", (node, inputs) => {
  const x = need2(node, inputs, 0);
  const e = need2(node, inputs, 1);
  const dims = broadcastDims2(node, [x.dims, e.dims]);
  const mx = broadcastIndex(dims, x.dims);
  const me = broadcastIndex(dims, e.dims);
  const xv = toFloat64(x);
  const ev = toFloat64(e);
  const out = new Float64Array(sizeOf(dims));
  for (let i = 0; i < out.length; i++)
    out[i] = Math.pow(xv[mx ? mx[i] : i], ev[me ? me[i] : i]);
  return [fromFloat64(resultDType(x, e), dims, out)];
});
function variadic(spec, mean = false) {
  return (node, inputs) => {
    const ts = inputs.filter((t) => t !== void 0);
    if (ts.length === 0)
      throw kernelError(node, "needs at least one input");
    if (ts.every((t) => isIntDType(t.dtype)) && !mean) {
      let acc2 = { dtype: ts[0].dtype, dims: [...ts[0].dims], data: ts[0].data.slice() };
      for (let i = 1; i < ts.length; i++)
        acc2 = binary(node, acc2, ts[i], spec);
      return [acc2];
    }
    const dims = broadcastDims2(node, ts.map((t) => t.dims));
    const n = sizeOf(dims);
    const acc = new Float64Array(n);
    ts.forEach((t, k) => {
      const v = toFloat64(t);
      const map = broadcastIndex(dims, t.dims);
      for (let i = 0; i < n; i++) {
        const e = v[map ? map[i] : i];
        acc[i] = k === 0 ? e : spec.f(acc[i], e);
      }
    });
    if (mean)
      for (let i = 0; i < n; i++)
        acc[i] = acc[i] / ts.length;
    return [fromFloat64(resultDType(...ts), dims, acc)];
  };
}
var maxSpec = {
  // NaN propagates, as in ONNX Runtime's Eigen max.
  f: (a, b) => Number.isNaN(a) || Number.isNaN(b) ? NaN : a > b ? a : b,
  int: (a, b) => a > b ? a : b
};
var minSpec = {
  f: (a, b) => Number.isNaN(a) || Number.isNaN(b) ? NaN : a < b ? a : b,
  int: (a, b) => a < b ? a : b
};
defineKernel("Sum", variadic(binaries.Add));
defineKernel("Max", variadic(maxSpec));
defineKernel("Min", variadic(minSpec));
defineKernel("Mean", variadic(binaries.Add, true));
function reduceAxes2(node, inputs, rank, opset) {
  const fromInput = inputs[1];
  let axes = fromInput ? toNumbers(fromInput) : attrInts(node, "axes");
  const inputStyle = node.op === "ReduceSum" ? opset >= 13 : opset >= 18;
  if (!axes || axes.length === 0) {
    if (inputStyle && attrInt(node, "noop_with_empty_axes", 0) === 1)
      return void 0;
    axes = Array.from({ length: rank }, (_, i) => i);
  }
  const norm = axes.map((a) => normAxis2(node, a, rank));
  if (new Set(norm).size !== norm.length)
    throw kernelError(node, `repeated axes [${axes.join(", ")}]`);
  return norm;
}
function reduceKernel(kind) {
  return (node, inputs, opset) => {
    const xT = need2(node, inputs, 0);
    const rank = xT.dims.length;
    const axes = reduceAxes2(node, inputs, rank, opset);
    if (!axes)
      return [{ dtype: xT.dtype, dims: [...xT.dims], data: xT.data.slice() }];
    const keep = attrInt(node, "keepdims", 1) === 1;
    const ones = xT.dims.map((d, i) => axes.includes(i) ? 1 : d);
    const outDims = keep ? ones : xT.dims.filter((_, i) => !axes.includes(i));
    const n = sizeOf(ones);
    const count = sizeOf(xT.dims) / Math.max(1, n);
    const slot = broadcastIndex(xT.dims, ones);
    const at = (i) => slot ? slot[i] : i;
    const total = xT.data.length;
    if (isIntDType(xT.dtype) && (kind === "sum" || kind === "prod" || kind === "max" || kind === "min")) {
      const acc2 = new Array(n).fill(void 0);
      for (let i = 0; i < total; i++) {
        const v = bigAt(xT.data, i);
        const o = at(i);
        const a = acc2[o];
        acc2[o] = a === void 0 ? v : kind === "sum" ? a + v : kind === "prod" ? a * v : kind === "max" ? v > a ? v : a : v < a ? v : a;
      }
      const out = allocate(xT.dtype, n);
      for (let o = 0; o < n; o++) {
        const a = acc2[o];
        if (a === void 0 && (kind === "max" || kind === "min"))
          throw kernelError(node, `${node.op} over an empty set has no integer value`);
        putBig(out, o, wrapInt(xT.dtype, a ?? (kind === "prod" ? 1n : 0n)));
      }
      return [{ dtype: xT.dtype, dims: outDims, data: out }];
    }
    const x = toFloat64(xT);
    const init = kind === "max" ? -Infinity : kind === "min" ? Infinity : kind === "prod" ? 1 : 0;
    const acc = new Float64Array(n).fill(init);
    for (let i = 0; i < total; i++) {
      const v = x[i];
      const o = at(i);
      switch (kind) {
        case "sum":
        case "mean":
          acc[o] += v;
          break;
        case "sumsquare":
        case "l2":
          acc[o] += v * v;
          break;
        case "prod":
          acc[o] *= v;
          break;
        case "max":
          acc[o] = Number.isNaN(v) || v > acc[o] ? v : acc[o];
          break;
        case "min":
          acc[o] = Number.isNaN(v) || v < acc[o] ? v : acc[o];
          break;
      }
    }
    if (kind === "mean")
      for (let o = 0; o < n; o++)
        acc[o] = acc[o] / count;
    if (kind === "l2")
      for (let o = 0; o < n; o++)
        acc[o] = Math.sqrt(acc[o]);
    return [fromFloat64(xT.dtype, outDims, acc)];
  };
}
defineKernel("ReduceSum", reduceKernel("sum"));
defineKernel("ReduceMean", reduceKernel("mean"));
defineKernel("ReduceMax", reduceKernel("max"));
defineKernel("ReduceMin", reduceKernel("min"));
defineKernel("ReduceProd", reduceKernel("prod"));
defineKernel("ReduceSumSquare", reduceKernel("sumsquare"));
defineKernel("ReduceL2", reduceKernel("l2"));
function matmulInto(c, cOff, a, aOff, aRow, aCol, b, bOff, bRow, bCol, M, K, N, scale) {
  for (let i = 0; i < M; i++)
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++)
        s += a[aOff + i * aRow + k * aCol] * b[bOff + k * bRow + j * bCol];
      c[cOff + i * N + j] += scale * s;
    }
}
defineKernel("Gemm", (node, inputs) => {
  const aT = need2(node, inputs, 0);
  const bT = need2(node, inputs, 1);
  const cT = inputs[2];
  if (aT.dims.length !== 2 || bT.dims.length !== 2)
    throw kernelError(node, "A and B must be matrices");
  const alpha = attrFloat(node, "alpha", 1);
  const beta = attrFloat(node, "beta", 1);
  const transA = attrInt(node, "transA", 0) === 1;
  const transB = attrInt(node, "transB", 0) === 1;
  const [ar, ac] = aT.dims;
  const [br, bc] = bT.dims;
  const M = transA ? ac : ar;
  const K = transA ? ar : ac;
  const N = transB ? br : bc;
  if ((transB ? bc : br) !== K)
    throw kernelError(node, `inner dimensions differ: A [${aT.dims.join(", ")}], B [${bT.dims.join(", ")}] (transA=${+transA}, transB=${+transB})`);
  const y = new Float64Array(M * N);
  if (cT && beta !== 0) {
    const dims = broadcastDims2(node, [[M, N], cT.dims]);
    if (dims.length !== 2 || dims[0] !== M || dims[1] !== N)
      throw kernelError(node, `C [${cT.dims.join(", ")}] does not broadcast to [${M}, ${N}]`);
    const c = toFloat64(cT);
    const map = broadcastIndex([M, N], cT.dims);
    for (let i = 0; i < M * N; i++)
      y[i] = beta * c[map ? map[i] : i];
  }
  matmulInto(y, 0, toFloat64(aT), 0, transA ? 1 : ac, transA ? ac : 1, toFloat64(bT), 0, transB ? 1 : bc, transB ? bc : 1, M, K, N, alpha);
  return [fromFloat64(resultDType(aT, bT, cT), [M, N], y)];
});
defineKernel("MatMul", (node, inputs) => {
  const aT = need2(node, inputs, 0);
  const bT = need2(node, inputs, 1);
  if (aT.dims.length === 0 || bT.dims.length === 0)
    throw kernelError(node, "MatMul operands must have rank >= 1");
  const aD = aT.dims.length === 1 ? [1, aT.dims[0]] : [...aT.dims];
  const bD = bT.dims.length === 1 ? [bT.dims[0], 1] : [...bT.dims];
  const M = aD[aD.length - 2];
  const K = aD[aD.length - 1];
  const N = bD[bD.length - 1];
  if (bD[bD.length - 2] !== K)
    throw kernelError(node, `inner dimensions differ: [${aT.dims.join(", ")}] x [${bT.dims.join(", ")}]`);
  const batchA = aD.slice(0, -2);
  const batchB = bD.slice(0, -2);
  const batch = broadcastDims2(node, [batchA, batchB]);
  const nb = sizeOf(batch);
  const ma = broadcastIndex(batch, batchA);
  const mb = broadcastIndex(batch, batchB);
  const a = toFloat64(aT);
  const b = toFloat64(bT);
  const y = new Float64Array(nb * M * N);
  for (let i = 0; i < nb; i++) {
    const ia = ma ? ma[i] : i;
    const ib = mb ? mb[i] : i;
    matmulInto(y, i * M * N, a, ia * M * K, K, 1, b, ib * K * N, N, 1, M, K, N, 1);
  }
  const outDims = [...batch];
  if (aT.dims.length > 1)
    outDims.push(M);
  if (bT.dims.length > 1)
    outDims.push(N);
  const dtype = isIntDType(aT.dtype) ? aT.dtype : resultDType(aT, bT);
  return [fromFloat64(dtype, outDims, y)];
});

// dist/engine/reference/kernels/norm.js
function channelParams(node, inputs, indices, C) {
  return indices.map((i) => {
    const t = need2(node, inputs, i);
    if (t.data.length !== C)
      throw kernelError(node, `input ${i} has ${t.data.length} elements, expected one per channel (${C})`);
    return toFloat64(t);
  });
}
function batchNormalization(node, inputs, opset) {
  const xT = need2(node, inputs, 0);
  if (xT.dims.length < 2)
    throw kernelError(node, `input must be [N, C, ...], got rank ${xT.dims.length}`);
  const [N, C] = xT.dims;
  const inner = sizeOf(xT.dims.slice(2));
  const [scale, bias, inMean, inVar] = channelParams(node, inputs, [1, 2, 3, 4], C);
  const eps = attrFloat(node, "epsilon", 1e-5);
  const training = opset >= 14 && attrInt(node, "training_mode", 0) === 1;
  const x = toFloat64(xT);
  let mean = inMean;
  let variance = inVar;
  if (training) {
    mean = new Float64Array(C);
    variance = new Float64Array(C);
    const count = N * inner;
    for (let c = 0; c < C; c++) {
      let s = 0;
      for (let n = 0; n < N; n++)
        for (let i = (n * C + c) * inner, e = i + inner; i < e; i++)
          s += x[i];
      const m = s / count;
      let q = 0;
      for (let n = 0; n < N; n++)
        for (let i = (n * C + c) * inner, e = i + inner; i < e; i++) {
          const d = x[i] - m;
          q += d * d;
        }
      mean[c] = m;
      variance[c] = q / count;
    }
  }
  const y = new Float64Array(x.length);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++) {
      const k = scale[c] / Math.sqrt(variance[c] + eps);
      const m = mean[c];
      const b = bias[c];
      for (let i = (n * C + c) * inner, e = i + inner; i < e; i++)
        y[i] = (x[i] - m) * k + b;
    }
  const yT = fromFloat64(resultDType(xT, ...inputs.slice(1, 5)), xT.dims, y);
  if (!training)
    return [yT];
  const momentum = attrFloat(node, "momentum", 0.9);
  const runMean = new Float64Array(C);
  const runVar = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    runMean[c] = inMean[c] * momentum + mean[c] * (1 - momentum);
    runVar[c] = inVar[c] * momentum + variance[c] * (1 - momentum);
  }
  const statType = resultDType(inputs[3], inputs[4], xT);
  return [yT, fromFloat64(statType, [C], runMean), fromFloat64(statType, [C], runVar)];
}
function instanceNormalization(node, inputs) {
  const xT = need2(node, inputs, 0);
  if (xT.dims.length < 3)
    throw kernelError(node, `input must be [N, C, spatial...], got rank ${xT.dims.length}`);
  const [N, C] = xT.dims;
  const inner = sizeOf(xT.dims.slice(2));
  const [scale, bias] = channelParams(node, inputs, [1, 2], C);
  const eps = attrFloat(node, "epsilon", 1e-5);
  const x = toFloat64(xT);
  const y = new Float64Array(x.length);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++) {
      const start = (n * C + c) * inner;
      let s = 0;
      for (let i = start; i < start + inner; i++)
        s += x[i];
      const m = s / inner;
      let q = 0;
      for (let i = start; i < start + inner; i++)
        q += (x[i] - m) * (x[i] - m);
      const k = scale[c] / Math.sqrt(q / inner + eps);
      for (let i = start; i < start + inner; i++)
        y[i] = (x[i] - m) * k + bias[c];
    }
  return [fromFloat64(resultDType(xT, inputs[1], inputs[2]), xT.dims, y)];
}
defineKernel("BatchNormalization", batchNormalization);
defineKernel("InstanceNormalization", instanceNormalization);

// dist/engine/reference/kernels/resize.js
var f = Math.fround;
var COORDINATE_MODES = {
  half_pixel: (o, scale) => f(f(f(o + 0.5) / scale) - 0.5),
  pytorch_half_pixel: (o, scale, _inLen, outLen) => outLen > 1 ? f(f(f(o + 0.5) / scale) - 0.5) : 0,
  align_corners: (o, _scale, inLen, outLen) => outLen === 1 ? 0 : f(f(o * (inLen - 1)) / (outLen - 1)),
  asymmetric: (o, scale) => f(o / scale),
  tf_half_pixel_for_nn: (o, scale) => f(f(o + 0.5) / scale)
};
var NEAREST_MODES = {
  // Ties are exactly .5 fractions; everything else rounds to the nearest integer.
  round_prefer_floor: (x) => x - Math.floor(x) === 0.5 ? Math.floor(x) : Math.round(x),
  round_prefer_ceil: (x) => x - Math.floor(x) === 0.5 ? Math.ceil(x) : Math.round(x),
  floor: Math.floor,
  ceil: Math.ceil
};
function axisTaps(node, mode, coord, nearest, inLen, outLen, scale) {
  const taps = [];
  for (let o = 0; o < outLen; o++) {
    const x = coord(o, scale, inLen, outLen);
    if (mode === "nearest") {
      const i = Math.min(Math.max(nearest(x), 0), inLen - 1);
      taps.push({ i0: i, i1: i, w0: 1, w1: 0 });
    } else {
      const c = Math.min(Math.max(x, 0), inLen - 1);
      const i0 = Math.floor(c);
      const i1 = Math.min(i0 + 1, inLen - 1);
      if (i0 === i1)
        taps.push({ i0, i1, w0: 1, w1: 0 });
      else
        taps.push({ i0, i1, w0: f(i1 - c), w1: f(c - i0) });
    }
  }
  return taps;
}
function resampleAxis(x, dims, axis, taps) {
  const outer = sizeOf(dims.slice(0, axis));
  const inLen = dims[axis];
  const inner = sizeOf(dims.slice(axis + 1));
  const outLen = taps.length;
  const y = new Float64Array(outer * outLen * inner);
  for (let o = 0; o < outer; o++)
    for (let j = 0; j < outLen; j++) {
      const t = taps[j];
      const a = (o * inLen + t.i0) * inner;
      const b = (o * inLen + t.i1) * inner;
      const dst = (o * outLen + j) * inner;
      if (t.w1 === 0)
        for (let i = 0; i < inner; i++)
          y[dst + i] = x[a + i];
      else
        for (let i = 0; i < inner; i++)
          y[dst + i] = t.w0 * x[a + i] + t.w1 * x[b + i];
    }
  return y;
}
function resize(node, inputs, opset) {
  const xT = need2(node, inputs, 0);
  if (opset < 11)
    throw kernelError(node, `Resize before opset 11 is not supported (graph opset ${opset})`);
  const rank = xT.dims.length;
  const mode = attrString(node, "mode", "nearest");
  if (mode === "cubic")
    throw new Error(`Resize node "${node.name}": mode "cubic" is not supported by the reference kernels (only nearest and linear)`);
  if (mode !== "nearest" && mode !== "linear")
    throw kernelError(node, `unknown mode "${mode}"`);
  const ctm = attrString(node, "coordinate_transformation_mode", "half_pixel");
  const coord = COORDINATE_MODES[ctm];
  if (!coord)
    throw kernelError(node, `coordinate_transformation_mode "${ctm}" is not supported (tf_crop_and_resize and newer modes are not implemented)`);
  const nearestMode = attrString(node, "nearest_mode", "round_prefer_floor");
  const nearest = NEAREST_MODES[nearestMode];
  if (!nearest)
    throw kernelError(node, `unknown nearest_mode "${nearestMode}"`);
  if (attrInt(node, "antialias", 0) !== 0)
    throw kernelError(node, "antialias=1 is not supported");
  if (attrString(node, "keep_aspect_ratio_policy", "stretch") !== "stretch")
    throw kernelError(node, 'keep_aspect_ratio_policy other than "stretch" is not supported');
  const axes = (attrInts(node, "axes") ?? Array.from({ length: rank }, (_, i) => i)).map((a) => normAxis2(node, a, rank));
  const scalesT = inputs[2] && inputs[2].data.length > 0 ? inputs[2] : void 0;
  const sizesT = inputs[3] && inputs[3].data.length > 0 ? inputs[3] : void 0;
  if (!scalesT === !sizesT)
    throw kernelError(node, "exactly one of scales and sizes must be given");
  const given2 = toNumbers(scalesT ?? sizesT);
  if (given2.length !== axes.length)
    throw kernelError(node, `${scalesT ? "scales" : "sizes"} has ${given2.length} entries for ${axes.length} axes`);
  const outDims = [...xT.dims];
  const scales = new Array(rank).fill(1);
  axes.forEach((a, k) => {
    const n = xT.dims[a];
    if (sizesT) {
      outDims[a] = given2[k];
      scales[a] = f(given2[k] / n);
    } else {
      scales[a] = f(given2[k]);
      const prod = scalesT.dtype === "float32" ? Math.fround(n * given2[k]) : n * given2[k];
      outDims[a] = Math.floor(prod);
    }
    if (!(outDims[a] >= 0))
      throw kernelError(node, `invalid output size ${outDims[a]} on axis ${a}`);
  });
  let data = toFloat64(xT);
  const dims = [...xT.dims];
  for (const a of axes) {
    if (outDims[a] === dims[a] && scales[a] === 1)
      continue;
    const taps = axisTaps(node, mode, coord, nearest, dims[a], outDims[a], scales[a]);
    data = resampleAxis(data, dims, a, taps);
    dims[a] = outDims[a];
  }
  if (data === xT.data)
    data = data.slice();
  return [fromFloat64(xT.dtype, outDims, data)];
}
defineKernel("Resize", resize);

// dist/engine/reference/kernels/indexing.js
function put2(a, i, v) {
  a[i] = v;
}
function indexList(node, t, len) {
  return toNumbers(t).map((v) => {
    const i = v < 0 ? v + len : v;
    if (!Number.isInteger(i) || i < 0 || i >= len)
      throw kernelError(node, `index ${v} is out of range for an axis of length ${len}`);
    return i;
  });
}
function cloneTensor(t) {
  return { dtype: t.dtype, dims: [...t.dims], data: t.data.slice() };
}
defineKernel("Gather", (node, inputs) => {
  const data = need2(node, inputs, 0);
  const indices = need2(node, inputs, 1);
  const axis = normAxis2(node, attrInt(node, "axis", 0), data.dims.length);
  const len = data.dims[axis];
  const idx = indexList(node, indices, len);
  const outer = sizeOf(data.dims.slice(0, axis));
  const inner = sizeOf(data.dims.slice(axis + 1));
  const outDims = [...data.dims.slice(0, axis), ...indices.dims, ...data.dims.slice(axis + 1)];
  const out = allocate(data.dtype, sizeOf(outDims));
  let dst = 0;
  for (let o = 0; o < outer; o++)
    for (const j of idx) {
      const src = (o * len + j) * inner;
      for (let i = 0; i < inner; i++)
        put2(out, dst++, data.data[src + i]);
    }
  return [{ dtype: data.dtype, dims: outDims, data: out }];
});
function reductionOf(node, data) {
  const r = attrString(node, "reduction", "none");
  if (r !== "none" && data.dtype === "float16")
    throw kernelError(node, `reduction "${r}" on float16 data is not supported`);
  switch (r) {
    case "none":
      return void 0;
    // Mixed number/bigint never happens: data and updates share a dtype.
    case "add":
      return (a, b) => typeof a === "bigint" ? a + b : a + b;
    case "mul":
      return (a, b) => typeof a === "bigint" ? a * b : a * b;
    case "max":
      return (a, b) => b > a ? b : a;
    case "min":
      return (a, b) => b < a ? b : a;
    default:
      throw kernelError(node, `unknown reduction "${r}"`);
  }
}
function scatterOne(out, i, v, red) {
  if (!red)
    put2(out, i, v);
  else {
    const r = red(out[i], v);
    put2(out, i, out instanceof BigInt64Array ? BigInt.asIntN(64, r) : out instanceof BigUint64Array ? BigInt.asUintN(64, r) : r);
  }
}
defineKernel("ScatterElements", (node, inputs) => {
  const data = need2(node, inputs, 0);
  const indices = need2(node, inputs, 1);
  const updates = need2(node, inputs, 2);
  const rank = data.dims.length;
  const axis = normAxis2(node, attrInt(node, "axis", 0), rank);
  if (indices.dims.length !== rank || updates.dims.length !== rank || indices.dims.some((d, i) => d !== updates.dims[i])) {
    throw kernelError(node, `indices [${indices.dims.join(", ")}] and updates [${updates.dims.join(", ")}] must have the same shape and rank ${rank}`);
  }
  const red = reductionOf(node, data);
  const out = cloneTensor(data);
  const idx = indexList(node, indices, data.dims[axis]);
  const dStr = stridesOf2(data.dims);
  const pos = new Array(rank).fill(0);
  for (let f2 = 0; f2 < idx.length; f2++) {
    let off = 0;
    for (let a = 0; a < rank; a++)
      off += (a === axis ? idx[f2] : pos[a]) * dStr[a];
    scatterOne(out.data, off, updates.data[f2], red);
    for (let a = rank - 1; a >= 0; a--) {
      if (++pos[a] < indices.dims[a])
        break;
      pos[a] = 0;
    }
  }
  return [out];
});
defineKernel("ScatterND", (node, inputs) => {
  const data = need2(node, inputs, 0);
  const indices = need2(node, inputs, 1);
  const updates = need2(node, inputs, 2);
  const k = indices.dims[indices.dims.length - 1];
  if (k === void 0 || k > data.dims.length)
    throw kernelError(node, `indices [${indices.dims.join(", ")}] do not index data [${data.dims.join(", ")}]`);
  const lead = indices.dims.slice(0, -1);
  const expected = [...lead, ...data.dims.slice(k)];
  if (expected.length !== updates.dims.length || expected.some((d, i) => d !== updates.dims[i])) {
    throw kernelError(node, `updates must have shape [${expected.join(", ")}], got [${updates.dims.join(", ")}]`);
  }
  const red = reductionOf(node, data);
  const out = cloneTensor(data);
  const dStr = stridesOf2(data.dims);
  const slice = sizeOf(data.dims.slice(k));
  const iv = toNumbers(indices);
  const count = sizeOf(lead);
  for (let q = 0; q < count; q++) {
    let off = 0;
    for (let a = 0; a < k; a++) {
      const len = data.dims[a];
      const raw = iv[q * k + a];
      const i = raw < 0 ? raw + len : raw;
      if (i < 0 || i >= len)
        throw kernelError(node, `index ${raw} is out of range for axis ${a} of length ${len}`);
      off += i * dStr[a];
    }
    for (let e = 0; e < slice; e++)
      scatterOne(out.data, off + e, updates.data[q * slice + e], red);
  }
  return [out];
});
function argKernel(max) {
  return (node, inputs) => {
    const x = need2(node, inputs, 0);
    const rank = x.dims.length;
    const axis = normAxis2(node, attrInt(node, "axis", 0), rank);
    const keep = attrInt(node, "keepdims", 1) === 1;
    const last = attrInt(node, "select_last_index", 0) === 1;
    const values = x.dtype === "float16" ? toFloat64(x) : x.data;
    const outer = sizeOf(x.dims.slice(0, axis));
    const len = x.dims[axis];
    const inner = sizeOf(x.dims.slice(axis + 1));
    if (len === 0)
      throw kernelError(node, `cannot take ${node.op} over an empty axis`);
    const out = new BigInt64Array(outer * inner);
    for (let o = 0; o < outer; o++)
      for (let i = 0; i < inner; i++) {
        const base = o * len * inner + i;
        let best = values[base];
        let arg = 0;
        for (let j = 1; j < len; j++) {
          const v = values[base + j * inner];
          const better = max ? v > best || last && v === best : v < best || last && v === best;
          if (better) {
            best = v;
            arg = j;
          }
        }
        out[o * inner + i] = BigInt(arg);
      }
    const outDims = keep ? x.dims.map((d, a) => a === axis ? 1 : d) : x.dims.filter((_, a) => a !== axis);
    return [{ dtype: "int64", dims: outDims, data: out }];
  };
}
defineKernel("ArgMax", argKernel(true));
defineKernel("ArgMin", argKernel(false));

// dist/engine/graph/builder.js
var INTERNAL_OPSET = 17;
var FOLD_LIMIT = 1 << 20;
var GraphBuilder = class _GraphBuilder {
  graph;
  facts = /* @__PURE__ */ new Map();
  params = /* @__PURE__ */ new Set();
  used = /* @__PURE__ */ new Set();
  constCache = /* @__PURE__ */ new Map();
  counter = 0;
  /** When false, unknown ops get unknown shapes instead of an error (imported models run forward anyway). */
  strict = true;
  /** When false, nothing is folded (used to keep a model's own structure intact on import). */
  fold = true;
  constructor(graph) {
    this.graph = graph ?? new Graph();
    if (!graph)
      this.graph.opset = INTERNAL_OPSET;
    for (const n of this.graph.valueNames())
      this.used.add(n);
    for (const n of this.graph.nodes)
      if (n.name)
        this.used.add(n.name);
  }
  /** Builder over an existing graph (opset-17 form, e.g. from importModel), inferring facts for all its values. */
  static over(graph, options = {}) {
    const b = new _GraphBuilder(graph);
    b.strict = options.strict ?? true;
    for (const i of graph.inputs)
      b.facts.set(i.name, infoFacts(i));
    for (const [name, t] of graph.initializers) {
      if (!graph.inputs.some((i) => i.name === name))
        b.facts.set(name, { dtype: t.dtype, shape: [...t.dims], value: t });
      if (isFloatDType(t.dtype))
        b.params.add(name);
    }
    for (const node of graph.nodes) {
      const values = b.constantOutputs(node);
      if (values)
        b.setValues(node, values);
      else
        b.inferInto(node);
    }
    return b;
  }
  // ------------------------------------------------------------ queries
  has(name) {
    return this.facts.has(name);
  }
  factsOf(name) {
    const f2 = this.facts.get(name);
    if (!f2)
      throw new ConvLensError("UNKNOWN_NAME", `No value named "${name}" in graph "${this.graph.name}".`);
    return f2;
  }
  shapeOf(name) {
    const s = this.factsOf(name).shape;
    if (!s)
      throw new ConvLensError("SHAPE_MISMATCH", `The shape of "${name}" is not known statically.`);
    return s;
  }
  /** The static shape, or an error naming the value if any dimension is symbolic. */
  staticShape(name) {
    const s = this.shapeOf(name);
    if (!s.every((d) => typeof d === "number")) {
      throw new ConvLensError("SHAPE_MISMATCH", `"${name}" has shape [${s.join(", ")}], but a static shape is needed here.`, "Fix the model input size (Model.withInputShape) before differentiating.");
    }
    return s;
  }
  valueOf(name) {
    return this.facts.get(name)?.value;
  }
  isParameter(name) {
    return this.params.has(name);
  }
  parameters() {
    return [...this.params];
  }
  /** All facts, for consumers that annotate the finished graph. */
  allFacts() {
    return this.facts;
  }
  // ------------------------------------------------------------ naming
  uniqueName(hint) {
    let name = hint;
    while (this.used.has(name))
      name = `${hint}_${++this.counter}`;
    this.used.add(name);
    return name;
  }
  // ------------------------------------------------------------ construction
  /** A graph input; `shape` undefined means even the rank is unknown. */
  input(name, dtype, shape) {
    if (this.facts.has(name))
      throw new Error(`input "${name}" already exists`);
    this.used.add(name);
    this.graph.inputs.push(shape ? { name, dtype, shape: [...shape] } : { name, dtype });
    this.facts.set(name, shape ? { dtype, shape: [...shape] } : { dtype });
    return name;
  }
  /** A trainable parameter (float) or other stored tensor, saved as an initializer. */
  initializer(name, t) {
    if (this.facts.has(name))
      throw new Error(`value "${name}" already exists`);
    this.used.add(name);
    this.graph.initializers.set(name, t);
    this.facts.set(name, { dtype: t.dtype, shape: [...t.dims], value: t });
    if (isFloatDType(t.dtype))
      this.params.add(name);
    return name;
  }
  /** A constant (Constant node). Small constants are shared. */
  constant(t, hint = "const") {
    const small = t.data.length <= 16;
    const key = small ? `${t.dtype}|${t.dims.join(",")}|${Array.from(t.data, String).join(",")}` : "";
    if (small) {
      const hit = this.constCache.get(key);
      if (hit)
        return hit;
    }
    const name = this.uniqueName(hint);
    this.graph.nodes.push({ op: "Constant", name, inputs: [], outputs: [name], attrs: { value: { type: "tensor", value: t } } });
    this.facts.set(name, { dtype: t.dtype, shape: [...t.dims], value: t });
    if (small)
      this.constCache.set(key, name);
    return name;
  }
  /** int64 vector constant (shapes, axes, pads). */
  ints(values, hint = "ints") {
    return this.constant({ dtype: "int64", dims: [values.length], data: BigInt64Array.from(values, (v) => BigInt(v)) }, hint);
  }
  /** float32 scalar constant. */
  scalar(v, hint = "scalar") {
    return this.constant({ dtype: "float32", dims: [], data: Float32Array.of(v) }, hint);
  }
  /** Adds one node with a single output and returns the output's name. */
  op(type, inputs, attrs = {}, options = {}) {
    const outs = this.opN(type, inputs, attrs, options);
    return outs[0];
  }
  /** Adds one node and returns all its output names. */
  opN(type, inputs, attrs = {}, options = {}) {
    const name = options.name ? this.claim(options.name) : this.uniqueName(type);
    const outputs = Array.isArray(options.outputs) ? options.outputs.map((o) => o === "" ? "" : this.claim(o)) : Array.from({ length: options.outputs ?? 1 }, (_, i) => this.uniqueName(i === 0 ? `${name}_out` : `${name}_out${i}`));
    const typed = {};
    for (const [k, v] of Object.entries(attrs))
      if (v !== void 0)
        typed[k] = toAttr(k, v);
    for (const i of inputs) {
      if (i && !this.facts.has(i))
        throw new ConvLensError("UNKNOWN_NAME", `${type} node "${name}": input "${i}" does not exist in graph "${this.graph.name}".`);
    }
    const node = { op: type, name, inputs: inputs.map((i) => i ?? ""), outputs, attrs: typed };
    if (options.domain)
      node.domain = options.domain;
    this.addNode(node);
    return outputs;
  }
  /** Adds a fully formed node (import path), inferring and possibly folding it. */
  addNode(node) {
    if (node.name)
      this.used.add(node.name);
    for (const o of node.outputs)
      if (o)
        this.used.add(o);
    const values = this.fold || node.op === "Constant" ? this.constantOutputs(node) : void 0;
    if (values && node.op === "Constant") {
      this.graph.nodes.push(node);
      this.setValues(node, values);
      return;
    }
    if (values) {
      node.outputs.forEach((o, i) => {
        if (!o)
          return;
        const value = values[i];
        this.graph.nodes.push({ op: "Constant", name: this.uniqueName(`${node.name}_folded`), inputs: [], outputs: [o], attrs: { value: { type: "tensor", value } } });
      });
      this.setValues(node, values);
      return;
    }
    this.graph.nodes.push(node);
    this.inferInto(node);
    if (this.fold && node.op !== "Constant" && node.outputs.every((o) => !o || this.facts.get(o)?.value)) {
      this.graph.nodes.pop();
      node.outputs.forEach((o) => {
        if (!o)
          return;
        const value = this.facts.get(o).value;
        this.graph.nodes.push({ op: "Constant", name: this.uniqueName(`${node.name}_folded`), inputs: [], outputs: [o], attrs: { value: { type: "tensor", value } } });
      });
    }
  }
  output(name) {
    const f2 = this.factsOf(name);
    if (this.graph.outputs.some((o) => o.name === name))
      return;
    this.graph.outputs.push(f2.shape ? { name, dtype: f2.dtype, shape: [...f2.shape] } : { name, dtype: f2.dtype });
  }
  /** Writes inferred shapes into graph.valueInfo and returns the graph. */
  build() {
    for (const [name, f2] of this.facts) {
      if (f2.value || this.graph.initializers.has(name) || this.graph.inputs.some((i) => i.name === name))
        continue;
      const info = f2.shape ? { name, dtype: f2.dtype, shape: [...f2.shape] } : { name, dtype: f2.dtype };
      this.graph.valueInfo.set(name, info);
    }
    return this.graph;
  }
  // ------------------------------------------------------------ internals
  claim(name) {
    if (this.facts.has(name) || this.used.has(name) && this.graph.valueNames().has(name)) {
      throw new Error(`value or node name "${name}" is already used in graph "${this.graph.name}"`);
    }
    this.used.add(name);
    return name;
  }
  inferInto(node) {
    const def = findOp(node.op);
    if (!def || node.domain) {
      if (this.strict)
        requireOp(node, "shape");
      for (const o of node.outputs) {
        if (!o)
          continue;
        const known = this.graph.valueInfo.get(o);
        this.facts.set(o, known ? infoFacts(known) : { dtype: this.firstInputDType(node) });
      }
      return;
    }
    const ctx = this.context(node);
    let results;
    try {
      results = def.infer(ctx);
    } catch (e) {
      if (this.strict)
        throw e;
      results = node.outputs.map((o) => {
        const known = this.graph.valueInfo.get(o);
        return known ? infoFacts(known) : { dtype: this.firstInputDType(node) };
      });
    }
    node.outputs.forEach((o, i) => {
      if (!o)
        return;
      const r = results[i];
      if (!r)
        throw shapeError(node, `shape rule produced no facts for output ${i}`);
      this.facts.set(o, { ...r, ...r.shape ? { shape: [...r.shape] } : {} });
    });
  }
  firstInputDType(node) {
    for (const i of node.inputs) {
      const f2 = i ? this.facts.get(i) : void 0;
      if (f2)
        return f2.dtype;
    }
    return "float32";
  }
  context(node) {
    const facts = this.facts;
    const get2 = (i) => {
      const n = node.inputs[i];
      if (!n)
        return void 0;
      const f2 = facts.get(n);
      if (!f2)
        throw shapeError(node, `input "${n}" is not defined before this node`);
      return f2;
    };
    return {
      node,
      opset: this.graph.opset,
      inputCount: node.inputs.length,
      input: get2,
      need(i) {
        const f2 = get2(i);
        if (!f2)
          throw shapeError(node, `input ${i} is required`);
        if (!f2.shape)
          throw shapeError(node, `the rank of input "${node.inputs[i]}" is unknown`, "Give the model input a full shape.");
        return f2;
      },
      value: (i) => get2(i)?.value,
      error: (message, hint) => shapeError(node, message, hint)
    };
  }
  /** The outputs of a node whose inputs are all constants (and not parameters), or undefined. */
  constantOutputs(node) {
    if (node.domain || !hasKernel(node.op))
      return void 0;
    if (node.op === "Constant")
      return evaluateNode(node, [], this.graph.opset);
    const inputs = [];
    let elements = 0;
    for (const name of node.inputs) {
      if (!name) {
        inputs.push(void 0);
        continue;
      }
      const f2 = this.facts.get(name);
      if (!f2?.value || this.params.has(name))
        return void 0;
      elements += f2.value.data.length;
      inputs.push(f2.value);
    }
    if (elements > FOLD_LIMIT)
      return void 0;
    try {
      const outs = evaluateNode(node, inputs, this.graph.opset);
      return outs.some((t) => sizeOf(t.dims) > FOLD_LIMIT) ? void 0 : outs;
    } catch {
      return void 0;
    }
  }
  setValues(node, values) {
    node.outputs.forEach((o, i) => {
      if (!o)
        return;
      const t = values[i];
      this.facts.set(o, { dtype: t.dtype, shape: [...t.dims], value: t });
    });
  }
};
function infoFacts(i) {
  return i.shape ? { dtype: i.dtype, shape: [...i.shape] } : { dtype: i.dtype };
}

// dist/models/layers.js
var Layers = class {
  b;
  rand;
  constructor(b, rand) {
    this.b = b;
    this.rand = rand;
  }
  channels(x) {
    const c = this.b.shapeOf(x)[1];
    if (typeof c !== "number")
      throw new Error(`layer input "${x}" needs a static channel count`);
    return c;
  }
  conv2d(x, name, o) {
    const k = o.kernel ?? 3;
    const cin = this.channels(x);
    const groups = o.groups ?? 1;
    const pad = o.padding === "valid" ? 0 : o.padding === void 0 || o.padding === "same" ? Math.floor(k / 2) : o.padding;
    const w = this.b.initializer(`${name}.weight`, heNormal(this.rand, [o.filters, cin / groups, k, k], cin / groups * k * k));
    const inputs = [x, w];
    if (o.bias !== false)
      inputs.push(this.b.initializer(`${name}.bias`, filled([o.filters], 0)));
    return this.b.op("Conv", inputs, { kernel_shape: [k, k], strides: [o.stride ?? 1, o.stride ?? 1], pads: [pad, pad, pad, pad], group: groups }, { name, outputs: [name] });
  }
  relu(x, name) {
    return this.b.op("Relu", [x], {}, { name, outputs: [name] });
  }
  maxPool(x, name, size = 2, stride = size, pad = 0) {
    return this.b.op("MaxPool", [x], { kernel_shape: [size, size], strides: [stride, stride], pads: [pad, pad, pad, pad] }, { name, outputs: [name] });
  }
  batchNorm(x, name, epsilon = 1e-5) {
    const c = this.channels(x);
    const p = (s, v) => this.b.initializer(`${name}.${s}`, filled([c], v));
    return this.b.op("BatchNormalization", [x, p("weight", 1), p("bias", 0), p("running_mean", 0), p("running_var", 1)], { epsilon }, { name, outputs: [name] });
  }
  globalAvgPool(x, name) {
    return this.b.op("GlobalAveragePool", [x], {}, { name, outputs: [name] });
  }
  flatten(x, name) {
    return this.b.op("Flatten", [x], { axis: 1 }, { name, outputs: [name] });
  }
  dense(x, name, units) {
    const fin = this.b.shapeOf(x)[1];
    if (typeof fin !== "number")
      throw new Error(`dense layer input "${x}" needs a static feature count`);
    const w = this.b.initializer(`${name}.weight`, glorotUniform(this.rand, [units, fin], fin, units));
    const bias = this.b.initializer(`${name}.bias`, filled([units], 0));
    return this.b.op("Gemm", [x, w, bias], { transB: 1 }, { name, outputs: [name] });
  }
  add(a, c, name) {
    return this.b.op("Add", [a, c], {}, { name, outputs: [name] });
  }
};

// dist/models/zoo/index.js
var FASHION_MNIST_LABELS = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];
function courseCnn(seed = 0) {
  const b = new GraphBuilder();
  b.graph.name = "fashion_cnn";
  const L = new Layers(b, seededRandom(seed));
  let x = b.input("input", "float32", ["N", 1, 28, 28]);
  const widths = [16, 32, 64, 128];
  widths.forEach((filters, i) => {
    const k = i + 1;
    x = L.relu(L.conv2d(x, `conv${k}`, { filters }), `relu${k}`);
    if (i < 3)
      x = L.maxPool(x, `pool${k}`);
  });
  x = L.flatten(L.globalAvgPool(x, "gap"), "flatten");
  const logits = L.dense(x, "logits", 10);
  b.output(logits);
  return b.build();
}

export {
  zerosLike,
  sumAll,
  findOp,
  requireOp,
  INTERNAL_OPSET,
  GraphBuilder,
  FASHION_MNIST_LABELS,
  courseCnn
};
