import {
  ConvLensError
} from "./chunk-N6ATQ4RF.js";

// dist/engine/graph/ir.js
var Graph = class _Graph {
  name = "graph";
  nodes = [];
  inputs = [];
  outputs = [];
  initializers = /* @__PURE__ */ new Map();
  /** ai.onnx opset version the nodes are written against */
  opset = 17;
  extraOpsets = [];
  irVersion = 8;
  producerName = "convlens";
  producerVersion = "";
  docString = "";
  metadata = /* @__PURE__ */ new Map();
  /** shape annotations from the file (value_info); shape inference refines them */
  valueInfo = /* @__PURE__ */ new Map();
  clone() {
    const g = new _Graph();
    g.name = this.name;
    g.nodes = this.nodes.map((n) => ({ ...n, inputs: [...n.inputs], outputs: [...n.outputs], attrs: { ...n.attrs } }));
    g.inputs = this.inputs.map(cloneInfo);
    g.outputs = this.outputs.map(cloneInfo);
    g.initializers = new Map(this.initializers);
    g.opset = this.opset;
    g.extraOpsets = this.extraOpsets.map((o) => ({ ...o }));
    g.irVersion = this.irVersion;
    g.producerName = this.producerName;
    g.producerVersion = this.producerVersion;
    g.docString = this.docString;
    g.metadata = new Map(this.metadata);
    g.valueInfo = new Map([...this.valueInfo].map(([k, v]) => [k, cloneInfo(v)]));
    return g;
  }
  /** Graph inputs that are not merely initializer defaults. */
  realInputs() {
    return this.inputs.filter((i) => !this.initializers.has(i.name));
  }
  producers() {
    const m = /* @__PURE__ */ new Map();
    for (const n of this.nodes)
      for (const o of n.outputs)
        if (o)
          m.set(o, n);
    return m;
  }
  consumers() {
    const m = /* @__PURE__ */ new Map();
    for (const n of this.nodes)
      for (const i of n.inputs) {
        if (!i)
          continue;
        let l = m.get(i);
        if (!l)
          m.set(i, l = []);
        l.push(n);
      }
    return m;
  }
  /** Every value name: inputs, initializers and node outputs. */
  valueNames() {
    const s = /* @__PURE__ */ new Set();
    for (const i of this.inputs)
      s.add(i.name);
    for (const k of this.initializers.keys())
      s.add(k);
    for (const n of this.nodes)
      for (const o of n.outputs)
        if (o)
          s.add(o);
    return s;
  }
};
function cloneInfo(v) {
  return v.shape ? { name: v.name, dtype: v.dtype, shape: [...v.shape] } : { name: v.name, dtype: v.dtype };
}
function attrInt(n, key, dflt) {
  const a = n.attrs[key];
  if (!a)
    return dflt;
  if (a.type !== "int")
    throw new Error(`${n.op} node "${n.name}": attribute ${key} should be an int, found ${a.type}`);
  return a.value;
}
function attrFloat(n, key, dflt) {
  const a = n.attrs[key];
  if (!a)
    return dflt;
  if (a.type === "float" || a.type === "int")
    return a.value;
  throw new Error(`${n.op} node "${n.name}": attribute ${key} should be a float, found ${a.type}`);
}
function attrInts(n, key, dflt) {
  const a = n.attrs[key];
  if (!a)
    return dflt;
  if (a.type !== "ints")
    throw new Error(`${n.op} node "${n.name}": attribute ${key} should be ints, found ${a.type}`);
  return a.value;
}
function attrString(n, key, dflt) {
  const a = n.attrs[key];
  if (!a)
    return dflt;
  if (a.type !== "string")
    throw new Error(`${n.op} node "${n.name}": attribute ${key} should be a string, found ${a.type}`);
  return a.value;
}
function attrTensor(n, key) {
  const a = n.attrs[key];
  if (!a)
    return void 0;
  if (a.type !== "tensor")
    throw new Error(`${n.op} node "${n.name}": attribute ${key} should be a tensor, found ${a.type}`);
  return a.value;
}
var FLOAT_ATTRS = /* @__PURE__ */ new Set([
  "alpha",
  "beta",
  "epsilon",
  "momentum",
  "gamma",
  "lambd",
  "bias",
  "ratio",
  "extrapolation_value",
  "cubic_coeff_a",
  "value_float",
  "value_floats",
  "spatial_scale",
  "scales",
  "scale",
  "min",
  "max",
  "threshold",
  "seed",
  "mean",
  "low",
  "high"
]);
function toAttr(key, v) {
  if (typeof v === "string")
    return { type: "string", value: v };
  if (typeof v === "number")
    return FLOAT_ATTRS.has(key) ? { type: "float", value: v } : { type: "int", value: v };
  if (Array.isArray(v)) {
    if (v.length > 0 && typeof v[0] === "string")
      return { type: "strings", value: v };
    return FLOAT_ATTRS.has(key) ? { type: "floats", value: v } : { type: "ints", value: v };
  }
  if ("type" in v && "value" in v && typeof v.type === "string" && !("dims" in v))
    return v;
  return { type: "tensor", value: v };
}

// dist/engine/tensor.js
var ONNX_DTYPE_CODES = {
  float32: 1,
  uint8: 2,
  int8: 3,
  uint16: 4,
  int16: 5,
  int32: 6,
  int64: 7,
  bool: 9,
  float16: 10,
  float64: 11,
  uint32: 12,
  uint64: 13
};
var CODE_TO_DTYPE = new Map(Object.entries(ONNX_DTYPE_CODES).map(([k, v]) => [v, k]));
function dtypeFromOnnx(code) {
  return CODE_TO_DTYPE.get(code);
}
var BYTES_PER_ELEMENT = {
  float32: 4,
  float64: 8,
  float16: 2,
  int64: 8,
  int32: 4,
  int16: 2,
  int8: 1,
  uint8: 1,
  uint16: 2,
  uint32: 4,
  uint64: 8,
  bool: 1
};
function isFloatDType(d) {
  return d === "float32" || d === "float64" || d === "float16";
}
function sizeOf(dims) {
  let n = 1;
  for (const d of dims)
    n *= d;
  return n;
}
function allocate(dtype, n) {
  switch (dtype) {
    case "float32":
      return new Float32Array(n);
    case "float64":
      return new Float64Array(n);
    case "int64":
      return new BigInt64Array(n);
    case "uint64":
      return new BigUint64Array(n);
    case "int32":
      return new Int32Array(n);
    case "int16":
      return new Int16Array(n);
    case "int8":
      return new Int8Array(n);
    case "uint8":
    case "bool":
      return new Uint8Array(n);
    case "uint16":
    case "float16":
      return new Uint16Array(n);
    case "uint32":
      return new Uint32Array(n);
  }
}
function tensor(dtype, dims, data) {
  const n = sizeOf(dims);
  let arr;
  if (data === void 0)
    arr = allocate(dtype, n);
  else if (ArrayBuffer.isView(data) && sameKind(dtype, data))
    arr = data;
  else {
    arr = allocate(dtype, n);
    const src = data;
    if (src.length !== n)
      throw new Error(`tensor(): ${src.length} values for dims [${dims.join(", ")}] (${n} elements)`);
    const big = arr instanceof BigInt64Array || arr instanceof BigUint64Array;
    for (let i = 0; i < n; i++) {
      const v = src[i];
      arr[i] = big ? BigInt(typeof v === "bigint" ? v : Math.trunc(v)) : Number(v);
    }
  }
  if (arr.length !== n)
    throw new Error(`tensor(): ${arr.length} values for dims [${dims.join(", ")}] (${n} elements)`);
  return { dtype, dims: [...dims], data: arr };
}
function sameKind(dtype, a) {
  switch (dtype) {
    case "float32":
      return a instanceof Float32Array;
    case "float64":
      return a instanceof Float64Array;
    case "int64":
      return a instanceof BigInt64Array;
    case "uint64":
      return a instanceof BigUint64Array;
    case "int32":
      return a instanceof Int32Array;
    case "int16":
      return a instanceof Int16Array;
    case "int8":
      return a instanceof Int8Array;
    case "uint8":
    case "bool":
      return a instanceof Uint8Array;
    case "uint16":
    case "float16":
      return a instanceof Uint16Array;
    case "uint32":
      return a instanceof Uint32Array;
  }
}
function toNumbers(t) {
  const out = new Array(t.data.length);
  for (let i = 0; i < t.data.length; i++)
    out[i] = Number(t.data[i]);
  return out;
}
function toFloat64(t) {
  if (t.data instanceof Float64Array)
    return t.data;
  if (t.dtype === "float16")
    return Float64Array.from(t.data, halfToFloat);
  const out = new Float64Array(t.data.length);
  for (let i = 0; i < out.length; i++)
    out[i] = Number(t.data[i]);
  return out;
}
function halfToFloat(h) {
  const s = h & 32768 ? -1 : 1;
  const e = h >> 10 & 31;
  const f = h & 1023;
  if (e === 0)
    return s * 2 ** -14 * (f / 1024);
  if (e === 31)
    return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}
function castTensor(t, to) {
  if (t.dtype === to)
    return t;
  const src = toFloat64(t);
  const out = allocate(to, src.length);
  if (out instanceof BigInt64Array || out instanceof BigUint64Array) {
    for (let i = 0; i < src.length; i++)
      out[i] = BigInt(Math.trunc(src[i]));
  } else if (to === "bool") {
    for (let i = 0; i < src.length; i++)
      out[i] = src[i] !== 0 ? 1 : 0;
  } else if (to === "float16") {
    throw new Error("castTensor: float16 output is not supported");
  } else {
    const o = out;
    for (let i = 0; i < src.length; i++)
      o[i] = src[i];
  }
  return { dtype: to, dims: [...t.dims], data: out };
}

// dist/engine/graph/facts.js
function dimsOfInput(ctx, i) {
  const f = ctx.input(i);
  if (!f)
    return void 0;
  if (f.value)
    return Array.from(f.value.data, Number);
  return f.dimsValue ? [...f.dimsValue] : void 0;
}
function shapeError(node, message, hint) {
  return new ConvLensError("SHAPE_MISMATCH", `${node.op} node "${node.name}": ${message}`, hint);
}
var symbolCounter = 0;
function freshSymbol(hint) {
  return `${hint}?${++symbolCounter}`;
}
function isStatic(shape) {
  return shape !== void 0 && shape.every((d) => typeof d === "number");
}
function broadcastShapes(node, shapes) {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out = [];
  for (let k = 0; k < rank; k++) {
    let d = 1;
    for (const s of shapes) {
      const e = s[s.length - rank + k];
      if (e === void 0 || e === 1)
        continue;
      if (d === 1)
        d = e;
      else if (d !== e) {
        if (typeof d === "number" && typeof e === "number") {
          throw shapeError(node, `cannot broadcast shapes ${shapes.map((x) => `[${x.join(", ")}]`).join(" and ")}`);
        }
        if (typeof e === "number")
          d = e;
      }
    }
    out.push(d);
  }
  return out;
}
function normAxis(node, axis, rank) {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank)
    throw shapeError(node, `axis ${axis} is out of range for rank ${rank}`);
  return a;
}
function dimProduct(dims) {
  let p = 1;
  const symbols = [];
  for (const d of dims) {
    if (typeof d === "number")
      p *= d;
    else
      symbols.push(d);
  }
  if (symbols.length === 0)
    return p;
  return symbols.length === 1 && p === 1 ? symbols[0] : freshSymbol("prod");
}

// dist/engine/ops/geometry.js
function windowGeometry(node, inSpatial, kernel) {
  const r = inSpatial.length;
  const strides = attrInts(node, "strides") ?? new Array(r).fill(1);
  const dilations = attrInts(node, "dilations") ?? new Array(r).fill(1);
  const ceilMode = attrInt(node, "ceil_mode", 0) === 1;
  const autoPad = attrString(node, "auto_pad", "NOTSET");
  const pads = attrInts(node, "pads") ?? new Array(2 * r).fill(0);
  if (kernel.length !== r || strides.length !== r || dilations.length !== r || pads.length !== 2 * r) {
    throw shapeError(node, `window attributes do not match ${r} spatial dims (kernel [${kernel}], strides [${strides}], dilations [${dilations}], pads [${pads}])`);
  }
  const padBegin = [];
  const padEnd = [];
  const out = [];
  for (let i = 0; i < r; i++) {
    const k = kernel[i];
    const s = strides[i];
    const d = dilations[i];
    const ext = (k - 1) * d + 1;
    const n = inSpatial[i];
    if (autoPad === "SAME_UPPER" || autoPad === "SAME_LOWER") {
      if (typeof n !== "number")
        throw shapeError(node, `auto_pad=${autoPad} needs a static input size`, "Fix the model input size first.");
      const o2 = Math.ceil(n / s);
      const total = Math.max(0, (o2 - 1) * s + ext - n);
      const small = Math.floor(total / 2);
      padBegin.push(autoPad === "SAME_UPPER" ? small : total - small);
      padEnd.push(autoPad === "SAME_UPPER" ? total - small : small);
      out.push(o2);
      continue;
    }
    if (autoPad === "VALID") {
      padBegin.push(0);
      padEnd.push(0);
    } else if (autoPad === "NOTSET") {
      padBegin.push(pads[i]);
      padEnd.push(pads[i + r]);
    } else {
      throw shapeError(node, `unknown auto_pad "${autoPad}"`);
    }
    if (typeof n !== "number") {
      out.push(`${node.name}_out${i}`);
      continue;
    }
    const span = n + padBegin[i] + padEnd[i] - ext;
    if (span < 0) {
      throw shapeError(node, `window of extent ${ext} does not fit the padded input size ${n + padBegin[i] + padEnd[i]} on spatial axis ${i}`, "The input image is too small for this model; use a larger input.");
    }
    let o = ceilMode ? Math.ceil(span / s) + 1 : Math.floor(span / s) + 1;
    if (ceilMode && (o - 1) * s >= n + padBegin[i])
      o--;
    out.push(o);
  }
  return { kernel: [...kernel], strides, dilations, padBegin, padEnd, out, ceilMode };
}
function transposeGeometry(node, inSpatial, kernel) {
  const r = inSpatial.length;
  const strides = attrInts(node, "strides") ?? new Array(r).fill(1);
  const dilations = attrInts(node, "dilations") ?? new Array(r).fill(1);
  const outputPadding = attrInts(node, "output_padding") ?? new Array(r).fill(0);
  const outputShape = attrInts(node, "output_shape");
  const autoPad = attrString(node, "auto_pad", "NOTSET");
  const pads = attrInts(node, "pads") ?? new Array(2 * r).fill(0);
  const padBegin = [];
  const padEnd = [];
  const out = [];
  for (let i = 0; i < r; i++) {
    const n = inSpatial[i];
    const ext = (kernel[i] - 1) * dilations[i] + 1;
    const target = outputShape ? outputShape[outputShape.length - r + i] : autoPad.startsWith("SAME") && typeof n === "number" ? n * strides[i] : void 0;
    if (target !== void 0) {
      if (typeof n !== "number")
        throw shapeError(node, "output_shape/auto_pad needs a static input size");
      const total = strides[i] * (n - 1) + outputPadding[i] + ext - target;
      const half = Math.floor(total / 2);
      if (total < 0) {
        padBegin.push(0);
        padEnd.push(total);
      } else if (autoPad === "SAME_UPPER") {
        padBegin.push(half);
        padEnd.push(total - half);
      } else {
        padBegin.push(total - half);
        padEnd.push(half);
      }
      out.push(target);
      continue;
    }
    padBegin.push(autoPad === "VALID" ? 0 : pads[i]);
    padEnd.push(autoPad === "VALID" ? 0 : pads[i + r]);
    out.push(typeof n === "number" ? strides[i] * (n - 1) + outputPadding[i] + ext - padBegin[i] - padEnd[i] : `${node.name}_out${i}`);
  }
  return { kernel: [...kernel], strides, dilations, padBegin, padEnd, outputPadding, out };
}

export {
  dimsOfInput,
  shapeError,
  freshSymbol,
  isStatic,
  broadcastShapes,
  normAxis,
  dimProduct,
  Graph,
  attrInt,
  attrFloat,
  attrInts,
  attrString,
  attrTensor,
  toAttr,
  ONNX_DTYPE_CODES,
  dtypeFromOnnx,
  BYTES_PER_ELEMENT,
  isFloatDType,
  sizeOf,
  allocate,
  tensor,
  toNumbers,
  toFloat64,
  castTensor,
  windowGeometry,
  transposeGeometry
};
