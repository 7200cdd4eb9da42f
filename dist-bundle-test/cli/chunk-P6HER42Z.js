import {
  receptiveFields
} from "./chunk-2RDMIJXC.js";
import {
  FASHION_MNIST_LABELS,
  GraphBuilder,
  INTERNAL_OPSET,
  courseCnn,
  findOp,
  requireOp,
  sumAll,
  zerosLike
} from "./chunk-X2V5Z5UO.js";
import {
  BYTES_PER_ELEMENT,
  Graph,
  ONNX_DTYPE_CODES,
  allocate,
  attrFloat,
  attrInt,
  attrInts,
  attrString,
  dtypeFromOnnx,
  isFloatDType,
  sizeOf,
  toNumbers,
  windowGeometry
} from "./chunk-75463JA6.js";
import {
  readFileOrExplain
} from "./chunk-4WR5QSMB.js";
import {
  ConvLensError,
  closestNames,
  unknownNameError
} from "./chunk-N6ATQ4RF.js";

// dist/models/builtins.js
import { fileURLToPath } from "node:url";
var asset = (relative) => fileURLToPath(new URL(`../../assets/models/${relative}`, import.meta.url));
var BUILTIN_MODELS = [
  { name: "fashion-cnn", aliases: ["fashion", "fashion-mnist", "cnn", "builtin"], title: "Fashion-MNIST CNN (built-in, 28x28 gray)", file: asset("fashion-cnn.onnx"), sampleGroup: "fashion-mnist" },
  { name: "squeezenet", aliases: ["squeezenet1.1", "squeezenet1_1", "squeezenet-1.1"], title: "SqueezeNet 1.1, ImageNet (built-in, 224x224 RGB)", file: asset("squeezenet1.1/squeezenet1.1.onnx"), sampleGroup: "photos" }
];
var DEFAULT_BUILTIN = BUILTIN_MODELS[0];
function findBuiltin(spec) {
  const key = spec.trim().toLowerCase();
  return BUILTIN_MODELS.find((m) => m.name === key || m.aliases.includes(key));
}

// dist/engine/onnx/codec.js
import protobuf from "protobufjs";

// dist/engine/onnx/schema.js
var ONNX_PROTO = `
syntax = "proto2";
package onnx;

message AttributeProto {
  optional string name = 1;
  optional string ref_attr_name = 21;
  optional string doc_string = 13;
  optional int32 type = 20;
  optional float f = 2;
  optional int64 i = 3;
  optional bytes s = 4;
  optional TensorProto t = 5;
  optional GraphProto g = 6;
  repeated float floats = 7;
  repeated int64 ints = 8;
  repeated bytes strings = 9;
  repeated TensorProto tensors = 10;
  repeated GraphProto graphs = 11;
}

message ValueInfoProto {
  optional string name = 1;
  optional TypeProto type = 2;
  optional string doc_string = 3;
}

message NodeProto {
  repeated string input = 1;
  repeated string output = 2;
  optional string name = 3;
  optional string op_type = 4;
  optional string domain = 7;
  repeated AttributeProto attribute = 5;
  optional string doc_string = 6;
}

message ModelProto {
  optional int64 ir_version = 1;
  repeated OperatorSetIdProto opset_import = 8;
  optional string producer_name = 2;
  optional string producer_version = 3;
  optional string domain = 4;
  optional int64 model_version = 5;
  optional string doc_string = 6;
  optional GraphProto graph = 7;
  repeated StringStringEntryProto metadata_props = 14;
  repeated FunctionProto functions = 25;
}

message FunctionProto {
  optional string name = 1;
  optional string domain = 10;
}

message StringStringEntryProto {
  optional string key = 1;
  optional string value = 2;
}

message GraphProto {
  repeated NodeProto node = 1;
  optional string name = 2;
  repeated TensorProto initializer = 5;
  repeated SparseTensorProto sparse_initializer = 15;
  optional string doc_string = 10;
  repeated ValueInfoProto input = 11;
  repeated ValueInfoProto output = 12;
  repeated ValueInfoProto value_info = 13;
}

message TensorProto {
  repeated int64 dims = 1;
  optional int32 data_type = 2;
  repeated float float_data = 4 [packed = true];
  repeated int32 int32_data = 5 [packed = true];
  repeated bytes string_data = 6;
  repeated int64 int64_data = 7 [packed = true];
  optional string name = 8;
  optional string doc_string = 12;
  optional bytes raw_data = 9;
  repeated StringStringEntryProto external_data = 13;
  optional int32 data_location = 14;
  repeated double double_data = 10 [packed = true];
  repeated uint64 uint64_data = 11 [packed = true];
}

message SparseTensorProto {
  optional TensorProto values = 1;
  optional TensorProto indices = 2;
  repeated int64 dims = 3;
}

message TensorShapeProto {
  message Dimension {
    oneof value {
      int64 dim_value = 1;
      string dim_param = 2;
    }
    optional string denotation = 3;
  }
  repeated Dimension dim = 1;
}

message TypeProto {
  message Tensor {
    optional int32 elem_type = 1;
    optional TensorShapeProto shape = 2;
  }
  oneof value {
    Tensor tensor_type = 1;
  }
  optional string denotation = 6;
}

message OperatorSetIdProto {
  optional string domain = 1;
  optional int64 version = 2;
}
`;

// dist/engine/onnx/codec.js
var MIN_OPSET = 11;
var MAX_OPSET = 22;
var root = protobuf.parse(ONNX_PROTO, { keepCase: true }).root;
var ModelProto = root.lookupType("onnx.ModelProto");
var GraphProto = root.lookupType("onnx.GraphProto");
var NodeProto = root.lookupType("onnx.NodeProto");
var AttributeProto = root.lookupType("onnx.AttributeProto");
var TensorProto = root.lookupType("onnx.TensorProto");
var num = (v) => v == null ? 0 : typeof v === "number" ? v : v.toNumber();
var big = (v) => v == null ? 0n : typeof v === "number" ? BigInt(v) : BigInt(String(v));
var utf8 = new TextDecoder();
function decodeModel(bytes, options = {}) {
  const source = options.source ?? "the model";
  let msg;
  try {
    msg = ModelProto.decode(bytes);
  } catch (e) {
    throw new ConvLensError("MODEL_UNREADABLE", `Cannot read ${source} as an ONNX model: ${e.message}.`, "The file is truncated or is not an ONNX protobuf; re-export or re-download it.", { cause: e });
  }
  const gm = msg.graph;
  if (!gm || !gm.node || gm.node.length === 0 && (gm.output?.length ?? 0) === 0) {
    throw new ConvLensError("MODEL_UNREADABLE", `${source} holds no ONNX graph (${bytes.length} bytes decoded to an empty model).`, "The file is truncated or is not an ONNX model; re-export or re-download it.");
  }
  const g = new Graph();
  g.irVersion = num(msg.ir_version) || 8;
  g.producerName = msg.producer_name ?? "";
  g.producerVersion = msg.producer_version ?? "";
  g.docString = msg.doc_string ?? "";
  g.name = gm.name || "graph";
  let opset;
  for (const o of msg.opset_import ?? []) {
    const domain = o.domain ?? "";
    if (domain === "" || domain === "ai.onnx")
      opset = num(o.version);
    else
      g.extraOpsets.push({ domain, version: num(o.version) });
  }
  if (opset === void 0) {
    throw new ConvLensError("UNSUPPORTED_OPSET", `${source} declares no ai.onnx opset (or the file is truncated).`, "Re-export the model with opset 11 to 22; if it came from a download, download it again.");
  }
  if (opset < MIN_OPSET || opset > MAX_OPSET) {
    throw new ConvLensError("UNSUPPORTED_OPSET", `${source} uses ai.onnx opset ${opset}; ConvLens supports opsets ${MIN_OPSET} to ${MAX_OPSET}.`, opset < MIN_OPSET ? "Convert it with onnx.version_converter.convert_version(model, 17), or re-export with opset_version=17." : "Re-export the model with opset_version=17 (torch.onnx.export) or convert it down with onnx.version_converter.");
  }
  g.opset = opset;
  if ((gm.sparse_initializer?.length ?? 0) > 0) {
    throw new ConvLensError("MODEL_UNSUPPORTED", `${source} stores sparse initializers, which ConvLens does not read.`, "Save the model with dense initializers.");
  }
  if ((msg.functions?.length ?? 0) > 0) {
    throw new ConvLensError("MODEL_UNSUPPORTED", `${source} defines local ONNX functions, which ConvLens does not inline yet.`, "Export with functions inlined (onnx.inliner.inline_local_functions).");
  }
  for (const kv of msg.metadata_props ?? [])
    if (kv.key)
      g.metadata.set(kv.key, kv.value ?? "");
  for (const t of gm.initializer ?? []) {
    const name = t.name ?? "";
    g.initializers.set(name, decodeTensor(t, source, options.readExternal));
  }
  g.inputs = (gm.input ?? []).map((v) => decodeValueInfo(v, source));
  g.outputs = (gm.output ?? []).map((v) => decodeValueInfo(v, source));
  for (const v of gm.value_info ?? []) {
    if (v.type?.tensor_type) {
      const info = decodeValueInfo(v, source);
      g.valueInfo.set(info.name, info);
    }
  }
  g.nodes = (gm.node ?? []).map((n, i) => decodeNode(n, i, source, options.readExternal));
  return g;
}
function decodeValueInfo(v, source) {
  const name = v.name ?? "";
  const tt = v.type?.tensor_type;
  if (!tt) {
    throw new ConvLensError("MODEL_UNSUPPORTED", `${source}: graph value "${name}" is not a tensor (sequence or map types are not supported).`, "ConvLens handles tensor-only CNN graphs.");
  }
  const dtype = dtypeFromOnnx(tt.elem_type ?? 0) ?? "float32";
  if (!tt.shape)
    return { name, dtype };
  const shape = (tt.shape.dim ?? []).map((d, i) => d.dim_param ? d.dim_param : d.dim_value != null ? num(d.dim_value) : `${name}_d${i}`);
  return { name, dtype, shape };
}
function decodeNode(n, index, source, readExternal) {
  const attrs = {};
  const op = n.op_type ?? "";
  const name = n.name || `${op}_${index}`;
  for (const a of n.attribute ?? []) {
    const key = a.name ?? "";
    if (a.ref_attr_name)
      continue;
    const decoded = decodeAttr(a, `${op} node "${name}"`, source, readExternal);
    if (decoded)
      attrs[key] = decoded;
  }
  const node = { op, name, inputs: [...n.input ?? []], outputs: [...n.output ?? []], attrs };
  if (n.domain && n.domain !== "ai.onnx")
    node.domain = n.domain;
  return node;
}
var A_FLOAT = 1;
var A_INT = 2;
var A_STRING = 3;
var A_TENSOR = 4;
var A_GRAPH = 5;
var A_FLOATS = 6;
var A_INTS = 7;
var A_STRINGS = 8;
var A_TENSORS = 9;
var A_GRAPHS = 10;
function decodeAttr(a, where, source, readExternal) {
  switch (a.type) {
    case A_FLOAT:
      return { type: "float", value: a.f ?? 0 };
    case A_INT:
      return { type: "int", value: num(a.i) };
    case A_STRING:
      return { type: "string", value: utf8.decode(a.s ?? new Uint8Array()) };
    case A_TENSOR:
      return { type: "tensor", value: decodeTensor(a.t ?? {}, source, readExternal) };
    case A_FLOATS:
      return { type: "floats", value: [...a.floats ?? []] };
    case A_INTS:
      return { type: "ints", value: (a.ints ?? []).map(num) };
    case A_STRINGS:
      return { type: "strings", value: (a.strings ?? []).map((s) => utf8.decode(s)) };
    case A_GRAPH:
    case A_GRAPHS:
      throw new ConvLensError("MODEL_UNSUPPORTED", `${source}: ${where} has a subgraph attribute "${a.name}" (If/Loop/Scan control flow).`, "ConvLens handles feed-forward CNN graphs; export the model without control flow.");
    case A_TENSORS:
      throw new ConvLensError("MODEL_UNSUPPORTED", `${source}: ${where} has a tensor-list attribute "${a.name}".`, "Export without it.");
    default:
      if (a.ints && a.ints.length)
        return { type: "ints", value: a.ints.map(num) };
      if (a.floats && a.floats.length)
        return { type: "floats", value: [...a.floats] };
      if (a.t)
        return { type: "tensor", value: decodeTensor(a.t, source, readExternal) };
      if (a.s && a.s.length)
        return { type: "string", value: utf8.decode(a.s) };
      if (a.i != null && num(a.i) !== 0)
        return { type: "int", value: num(a.i) };
      if (a.f != null && a.f !== 0)
        return { type: "float", value: a.f };
      return void 0;
  }
}
function decodeTensor(t, source, readExternal) {
  const name = t.name ?? "(unnamed)";
  const dims = (t.dims ?? []).map(num);
  const dtype = dtypeFromOnnx(t.data_type ?? 0);
  if (!dtype) {
    throw new ConvLensError("MODEL_UNSUPPORTED", `${source}: tensor "${name}" has data type ${t.data_type}, which ConvLens does not handle.`, "Convert the model to float32 (and int64 for shapes).");
  }
  if (!dims.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new ConvLensError("MODEL_UNREADABLE", `${source}: tensor "${name}" has invalid dims [${dims.join(", ")}].`, "The file is corrupt; re-export it.");
  }
  const n = sizeOf(dims);
  let raw = t.raw_data && t.raw_data.length ? t.raw_data : void 0;
  if (t.data_location === 1) {
    raw = readExternalData(t, name, source, readExternal);
  }
  if (raw) {
    const need = n * BYTES_PER_ELEMENT[dtype];
    if (raw.length !== need) {
      throw new ConvLensError("MODEL_UNREADABLE", `${source}: tensor "${name}" has ${raw.length} bytes of data, but dims [${dims.join(", ")}] of ${dtype} need ${need}.`, "The file is truncated or corrupt; re-export it.");
    }
    const copy = new Uint8Array(need);
    copy.set(raw);
    return { dtype, dims, data: viewAs(dtype, copy.buffer) };
  }
  let data = allocate(dtype, 0);
  const fill = (src, conv) => {
    if (!src || src.length === 0) {
      if (n === 0)
        return;
      throw new ConvLensError("MODEL_UNREADABLE", `${source}: tensor "${name}" has no data for its ${n} elements.`, "The file is truncated or corrupt; re-export it.");
    }
    if (src.length !== n) {
      throw new ConvLensError("MODEL_UNREADABLE", `${source}: tensor "${name}" has ${src.length} values for dims [${dims.join(", ")}].`, "The file is corrupt; re-export it.");
    }
    data = allocate(dtype, n);
    for (let i = 0; i < n; i++)
      data[i] = conv(src[i]);
  };
  switch (dtype) {
    case "float32":
      fill(t.float_data, Number);
      break;
    case "float64":
      fill(t.double_data, Number);
      break;
    case "int64":
      fill((t.int64_data ?? []).map(big), (v) => v);
      break;
    case "uint64":
    case "uint32":
      fill((t.uint64_data ?? []).map(big), (v) => dtype === "uint64" ? v : Number(v));
      break;
    default:
      fill(t.int32_data, Number);
  }
  return { dtype, dims, data };
}
function readExternalData(t, name, source, readExternal) {
  const kv = new Map((t.external_data ?? []).map((e) => [e.key ?? "", e.value ?? ""]));
  const location = kv.get("location");
  if (!location) {
    throw new ConvLensError("MODEL_UNREADABLE", `${source}: tensor "${name}" is marked external but names no location.`, "The file is corrupt; re-export it.");
  }
  if (!readExternal) {
    throw new ConvLensError("EXTERNAL_DATA_MISSING", `${source}: tensor "${name}" keeps its data in the external file "${location}", and no folder was given to read it from.`, "Load the model from its file path (not from bytes) so its external-data files can be found beside it.");
  }
  let file;
  try {
    file = readExternal(location);
  } catch (e) {
    throw new ConvLensError("EXTERNAL_DATA_MISSING", `${source}: tensor "${name}" keeps its data in "${location}", which cannot be read (${e.message}).`, `Put "${location}" next to the .onnx file, as it was when the model was saved.`, { cause: e });
  }
  const offset = Number(kv.get("offset") ?? 0);
  const length = kv.has("length") ? Number(kv.get("length")) : file.length - offset;
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) {
    throw new ConvLensError("MODEL_UNREADABLE", `${source}: tensor "${name}" has an invalid external-data range in "${location}" (offset ${kv.get("offset") ?? 0}, length ${kv.get("length") ?? "to end of file"}).`, "The file is corrupt; re-export it.");
  }
  if (offset + length > file.length) {
    throw new ConvLensError("MODEL_UNREADABLE", `${source}: tensor "${name}" needs bytes ${offset}..${offset + length} of "${location}", which has only ${file.length}.`, "The external-data file is truncated; copy it again.");
  }
  return file.subarray(offset, offset + length);
}
function viewAs(dtype, buf) {
  switch (dtype) {
    case "float32":
      return new Float32Array(buf);
    case "float64":
      return new Float64Array(buf);
    case "int64":
      return new BigInt64Array(buf);
    case "uint64":
      return new BigUint64Array(buf);
    case "int32":
      return new Int32Array(buf);
    case "int16":
      return new Int16Array(buf);
    case "int8":
      return new Int8Array(buf);
    case "uint8":
    case "bool":
      return new Uint8Array(buf);
    case "uint16":
    case "float16":
      return new Uint16Array(buf);
    case "uint32":
      return new Uint32Array(buf);
  }
}
var LARGE_BYTES = 1 << 16;
var WIRE_LEN = 2;
function varint(n) {
  const out = [];
  while (n >= 128) {
    out.push(n % 128 | 128);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}
var byteLength = (parts) => parts.reduce((a, p) => a + p.length, 0);
function lengthField(field, parts) {
  return [Uint8Array.from([...varint(field * 8 + WIRE_LEN), ...varint(byteLength(parts))]), ...parts];
}
function encodeModel(g, options = {}) {
  const external = [];
  let externalSize = 0;
  const encodeTensor = (name, t, allowExternal) => {
    const bytes2 = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    const msg = { name, dims: [...t.dims], data_type: ONNX_DTYPE_CODES[t.dtype] };
    let large;
    if (allowExternal && options.writeExternal && options.externalThreshold !== void 0 && bytes2.length >= options.externalThreshold) {
      const pad = (4096 - externalSize % 4096) % 4096;
      if (pad)
        external.push(new Uint8Array(pad));
      externalSize += pad;
      msg.data_location = 1;
      msg.external_data = [
        { key: "location", value: options.externalLocation ?? "model.onnx.data" },
        { key: "offset", value: String(externalSize) },
        { key: "length", value: String(bytes2.length) }
      ];
      external.push(bytes2.slice());
      externalSize += bytes2.length;
    } else if (bytes2.length >= LARGE_BYTES) {
      large = bytes2;
    } else {
      msg.raw_data = bytes2;
    }
    const head = encodeMessage(TensorProto, msg);
    return large ? [head, ...lengthField(9, [large])] : [head];
  };
  const vi = (v) => ({
    name: v.name,
    type: {
      tensor_type: {
        elem_type: ONNX_DTYPE_CODES[v.dtype],
        ...v.shape ? { shape: { dim: v.shape.map((d) => typeof d === "number" ? { dim_value: d } : { dim_param: d }) } } : {}
      }
    }
  });
  const enc = new TextEncoder();
  const attr = (key, a) => {
    switch (a.type) {
      case "float":
        return { name: key, type: A_FLOAT, f: a.value };
      case "int":
        return { name: key, type: A_INT, i: a.value };
      case "string":
        return { name: key, type: A_STRING, s: enc.encode(a.value) };
      case "floats":
        return { name: key, type: A_FLOATS, floats: a.value };
      case "ints":
        return { name: key, type: A_INTS, ints: a.value };
      case "strings":
        return { name: key, type: A_STRINGS, strings: a.value.map((s) => enc.encode(s)) };
    }
  };
  const encodeNode = (n) => {
    const plain = Object.entries(n.attrs).filter((e) => e[1].type !== "tensor");
    const head = encodeMessage(NodeProto, {
      input: n.inputs,
      output: n.outputs,
      name: n.name,
      op_type: n.op,
      ...n.domain ? { domain: n.domain } : {},
      attribute: plain.map(([k, a]) => attr(k, a))
    });
    const parts2 = [head];
    for (const [k, a] of Object.entries(n.attrs)) {
      if (a.type !== "tensor")
        continue;
      parts2.push(...lengthField(5, [encodeMessage(AttributeProto, { name: k, type: A_TENSOR }), ...lengthField(5, encodeTensor("", a.value, false))]));
    }
    return parts2;
  };
  const graphParts = [];
  for (const n of g.nodes)
    graphParts.push(...lengthField(1, encodeNode(n)));
  graphParts.push(encodeMessage(GraphProto, {
    name: g.name,
    doc_string: g.docString || void 0,
    input: g.inputs.map(vi),
    output: g.outputs.map(vi),
    value_info: [...g.valueInfo.values()].filter((v) => v.shape).map(vi)
  }));
  for (const [name, t] of g.initializers)
    graphParts.push(...lengthField(5, encodeTensor(name, t, true)));
  const before = encodeMessage(ModelProto, {
    ir_version: g.irVersion,
    producer_name: g.producerName || "convlens",
    producer_version: g.producerVersion,
    doc_string: g.docString || void 0
  });
  const after = encodeMessage(ModelProto, {
    opset_import: [{ domain: "", version: g.opset }, ...g.extraOpsets],
    metadata_props: [...g.metadata].map(([key, value]) => ({ key, value }))
  });
  const parts = [before, ...lengthField(7, graphParts), after];
  const bytes = new Uint8Array(byteLength(parts));
  let at = 0;
  for (const p of parts) {
    bytes.set(p, at);
    at += p.length;
  }
  if (external.length && options.writeExternal) {
    const all = new Uint8Array(externalSize);
    let off = 0;
    for (const b of external) {
      all.set(b, off);
      off += b.length;
    }
    options.writeExternal(options.externalLocation ?? "model.onnx.data", all);
  }
  return bytes;
}
function encodeMessage(type, msg) {
  const err = type.verify(msg);
  if (err)
    throw new Error(`encodeModel: internal error building ${type.name}: ${err}`);
  return type.encode(type.fromObject(msg)).finish();
}

// dist/models/metadata.js
var METADATA_KEYS = {
  labels: "convlens.labels",
  preprocessing: "convlens.preprocessing",
  description: "convlens.description",
  training: "convlens.training",
  metrics: "convlens.metrics",
  /** layer roles chosen by the model's author (see models/profile.ts ProfileOverrides) */
  profile: "convlens.profile",
  /** the sample folder whose images fit the model (samples/<group>: photos, fashion-mnist, ...) */
  samples: "convlens.samples",
  /** where the weights come from and their licence (free text) */
  provenance: "convlens.provenance"
};
var IMAGENET_MEAN = [0.485, 0.456, 0.406];
var IMAGENET_STD = [0.229, 0.224, 0.225];
var DESCRIBE_HINT = {
  labels: "pass --labels FILE (one name per line, or a JSON list), or write them into the model once: convlens describe --model m.onnx --labels FILE -o m.described.onnx",
  preprocessing: "pass --preprocess imagenet|imagenet-crop|unit-range|JSON, or write it into the model once: convlens describe --model m.onnx --preprocess ... -o m.described.onnx"
};
function readMetadata(graph, input, outputClasses) {
  const warnings = [];
  const parse = (key) => {
    const raw = graph.metadata.get(key);
    if (raw === void 0)
      return void 0;
    try {
      return JSON.parse(raw);
    } catch {
      warnings.push(`metadata ${key} is not valid JSON; ignored`);
      return void 0;
    }
  };
  const shape = input.shape ?? [];
  const c = typeof shape[1] === "number" ? shape[1] : 3;
  const h = typeof shape[2] === "number" ? shape[2] : 224;
  const w = typeof shape[3] === "number" ? shape[3] : h;
  let labels = parse(METADATA_KEYS.labels);
  if (!Array.isArray(labels) || !labels.every((l) => typeof l === "string")) {
    if (labels !== void 0)
      warnings.push(`metadata ${METADATA_KEYS.labels} is not a list of strings; ignored`);
    const n = outputClasses ?? 0;
    labels = Array.from({ length: n }, (_, i) => `class ${i}`);
    if (n)
      warnings.push(`no class labels in the model; using "class 0".."class ${n - 1}" (${DESCRIBE_HINT.labels})`);
  }
  const stored = parse(METADATA_KEYS.preprocessing);
  let preprocessing;
  if (c === 3) {
    preprocessing = { size: [h, w], channels: "rgb", range: [0, 1], mean: IMAGENET_MEAN, std: IMAGENET_STD, resize: h >= 160 ? "crop" : "stretch" };
  } else {
    preprocessing = { size: [h, w], channels: c === 1 ? "gray" : "rgb", range: [0, 1], mean: new Array(c).fill(0), std: new Array(c).fill(1), resize: "stretch" };
  }
  if (stored) {
    preprocessing = { ...preprocessing, ...stored };
    if (preprocessing.mean.length !== (preprocessing.channels === "gray" ? 1 : 3) || preprocessing.std.length !== preprocessing.mean.length) {
      warnings.push("metadata preprocessing mean/std do not match the channel count; using them per channel anyway");
    }
  } else {
    const geometry = preprocessing.resize === "crop" ? `shorter side to ${Math.round(Math.min(h, w) / 0.875)}, centre crop ${h}x${w}` : `resized to ${h}x${w}`;
    warnings.push(c === 3 ? `no preprocessing in the model metadata; assuming RGB in [0,1] normalized with ImageNet mean/std, ${geometry} (${DESCRIBE_HINT.preprocessing})` : `no preprocessing in the model metadata; assuming ${c === 1 ? "grayscale" : `${c}-channel`} input in [0,1], ${geometry} (${DESCRIBE_HINT.preprocessing})`);
  }
  return {
    labels,
    preprocessing,
    description: graph.metadata.get(METADATA_KEYS.description) ?? "",
    warnings,
    training: parse(METADATA_KEYS.training),
    metrics: parse(METADATA_KEYS.metrics),
    ...profileAndSamples(graph, parse, warnings)
  };
}
function profileAndSamples(graph, parse, warnings) {
  const out = {};
  const profile = parse(METADATA_KEYS.profile);
  if (profile !== void 0) {
    if (profile && typeof profile === "object" && !Array.isArray(profile))
      out.profile = profile;
    else
      warnings.push(`metadata ${METADATA_KEYS.profile} is not a JSON object; ignored`);
  }
  const samples = graph.metadata.get(METADATA_KEYS.samples);
  if (samples)
    out.samples = samples;
  const provenance = graph.metadata.get(METADATA_KEYS.provenance);
  if (provenance)
    out.provenance = provenance;
  return out;
}
function writeMetadata(graph, meta) {
  for (const [k, v] of metadataEntries(meta))
    graph.metadata.set(k, v);
}
function metadataEntries(meta) {
  const out = /* @__PURE__ */ new Map();
  if (meta.labels)
    out.set(METADATA_KEYS.labels, JSON.stringify(meta.labels));
  if (meta.preprocessing)
    out.set(METADATA_KEYS.preprocessing, JSON.stringify(meta.preprocessing));
  if (meta.description !== void 0)
    out.set(METADATA_KEYS.description, meta.description);
  if (meta.training !== void 0)
    out.set(METADATA_KEYS.training, JSON.stringify(meta.training));
  if (meta.metrics !== void 0)
    out.set(METADATA_KEYS.metrics, JSON.stringify(meta.metrics));
  if (meta.profile !== void 0)
    out.set(METADATA_KEYS.profile, JSON.stringify(meta.profile));
  if (meta.samples !== void 0)
    out.set(METADATA_KEYS.samples, meta.samples);
  if (meta.provenance !== void 0)
    out.set(METADATA_KEYS.provenance, meta.provenance);
  return out;
}
var PREPROCESS_PRESETS = ["imagenet", "imagenet-crop", "imagenet-stretch", "unit-range"];
function parsePreprocessing(spec, inputShape, base) {
  const c = typeof inputShape[1] === "number" ? inputShape[1] : 3;
  const h = typeof inputShape[2] === "number" ? inputShape[2] : base?.size[0] ?? 224;
  const w = typeof inputShape[3] === "number" ? inputShape[3] : base?.size[1] ?? h;
  const channels = c === 1 ? "gray" : "rgb";
  const imagenet = (resize, crop) => {
    if (c !== 3)
      throw new ConvLensError("INVALID_ARGUMENT", `The ${spec} preset is for RGB models; this model takes ${c} channel${c === 1 ? "" : "s"}.`, 'Use --preprocess unit-range, or JSON such as {"channels":"gray","range":[0,1],"mean":[0.5],"std":[0.5]}.');
    return { size: [h, w], channels: "rgb", range: [0, 1], mean: IMAGENET_MEAN, std: IMAGENET_STD, resize, ...crop !== void 0 ? { crop } : {} };
  };
  const text = spec.trim();
  switch (text.toLowerCase()) {
    case "imagenet":
      return imagenet("crop", 224 / 256);
    case "imagenet-crop":
      return imagenet("crop", 1);
    case "imagenet-stretch":
      return imagenet("stretch");
    case "unit-range":
      return { size: [h, w], channels, range: [0, 1], mean: new Array(c === 1 ? 1 : 3).fill(0), std: new Array(c === 1 ? 1 : 3).fill(1), resize: "stretch" };
  }
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ConvLensError("INVALID_ARGUMENT", `Cannot read the preprocessing "${spec}": not a preset (${PREPROCESS_PRESETS.join(", ")}) and not JSON.`, 'Use a preset, or JSON such as {"size":[224,224],"range":[0,1],"mean":[0.5,0.5,0.5],"std":[0.5,0.5,0.5],"resize":"stretch"}.');
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed))
    throw new ConvLensError("INVALID_ARGUMENT", `The preprocessing JSON must be an object, got ${text.slice(0, 40)}.`, 'E.g. {"range":[0,1],"mean":[0.5],"std":[0.5]}.');
  const p = parsed;
  const known = ["size", "channels", "range", "mean", "std", "resize", "crop", "invert"];
  const unknown = Object.keys(p).filter((k) => !known.includes(k));
  if (unknown.length)
    throw new ConvLensError("INVALID_ARGUMENT", `Unknown preprocessing field${unknown.length > 1 ? "s" : ""} ${unknown.map((k) => `"${k}"`).join(", ")}.`, `Fields: ${known.join(", ")}.`);
  const start = base ?? { size: [h, w], channels, range: [0, 1], mean: new Array(c === 1 ? 1 : 3).fill(0), std: new Array(c === 1 ? 1 : 3).fill(1), resize: "stretch" };
  const out = { ...start, ...p };
  checkPreprocessing(out, c);
  return out;
}
function checkPreprocessing(p, c) {
  const bad = (field, why) => {
    throw new ConvLensError("INVALID_ARGUMENT", `Preprocessing field "${field}" ${why}.`, "See docs/models.md for every field and the presets.");
  };
  const nums = (v, n) => Array.isArray(v) && v.length === n && v.every((x) => typeof x === "number" && Number.isFinite(x));
  if (!nums(p.size, 2) || !p.size.every((v) => Number.isInteger(v) && v > 0))
    bad("size", "must be [height, width], positive integers");
  if (!["rgb", "bgr", "gray"].includes(p.channels))
    bad("channels", 'must be "rgb", "bgr" or "gray"');
  if (p.channels === "gray" !== (c === 1))
    bad("channels", `is "${p.channels}" but the model takes ${c} channel${c === 1 ? "" : "s"}`);
  if (!nums(p.range, 2) || !(p.range[1] !== p.range[0]))
    bad("range", "must be [low, high], two different numbers");
  const k = p.channels === "gray" ? 1 : 3;
  if (!(nums(p.mean, k) || nums(p.mean, 1)))
    bad("mean", `must hold ${k} number${k > 1 ? "s" : ""}`);
  if (!(nums(p.std, k) || nums(p.std, 1)) || p.std.some((v) => v === 0))
    bad("std", `must hold ${k} non-zero number${k > 1 ? "s" : ""}`);
  if (p.resize !== "stretch" && p.resize !== "crop")
    bad("resize", 'must be "stretch" or "crop"');
  if (p.crop !== void 0 && !(typeof p.crop === "number" && p.crop > 0 && p.crop <= 1))
    bad("crop", "must be a fraction in (0, 1]");
}
function parseLabels(text, source, classes) {
  const trimmed = text.trim();
  let labels;
  if (trimmed.startsWith("[")) {
    let parsed;
    try {
      parsed = JSON.parse(trimmed);
    } catch (e) {
      throw new ConvLensError("INPUT_UNREADABLE", `${source} starts like a JSON list but is not valid JSON: ${e.message}.`, "Write a JSON list of strings, or plain text with one class name per line.");
    }
    if (!Array.isArray(parsed) || !parsed.every((l) => typeof l === "string"))
      throw new ConvLensError("INPUT_UNREADABLE", `${source} is JSON but not a list of strings.`, 'Write ["name 0", "name 1", ...] or one name per line.');
    labels = parsed;
  } else {
    labels = text.split(/\r?\n/).map((l) => l.trim());
    while (labels.length && labels[labels.length - 1] === "")
      labels.pop();
  }
  if (!labels.length)
    throw new ConvLensError("INPUT_UNREADABLE", `${source} holds no class names.`, "One name per line, or a JSON list.");
  if (classes !== void 0 && labels.length !== classes) {
    throw new ConvLensError("INVALID_ARGUMENT", `${source} holds ${labels.length} class names; the model has ${classes} outputs.`, "Give one name per output, in the model's output order.");
  }
  return labels;
}

// dist/models/profile.js
var ROLE_NAMES = ["firstConv", "camLayer", "dreamLayer", "contentLayers", "styleLayers", "featureLayers", "inversionLayers"];
var FOLDS_FORWARD = /* @__PURE__ */ new Set(["Relu", "LeakyRelu", "PRelu", "Elu", "Selu", "Sigmoid", "Tanh", "Clip", "HardSigmoid", "HardSwish", "Softplus", "Mish", "Gelu", "BatchNormalization", "InstanceNormalization", "Identity", "Dropout"]);
var POOLING = /* @__PURE__ */ new Set(["MaxPool", "AveragePool", "LpPool"]);
var GLOBAL_POOL = /* @__PURE__ */ new Set(["GlobalAveragePool", "GlobalMaxPool", "ReduceMean", "ReduceMax"]);
var PASS_THROUGH = /* @__PURE__ */ new Set(["Flatten", "Reshape", "Squeeze", "Identity", "Dropout"]);
function modelProfile(model) {
  const graph = model.graph;
  const shape = model.input.shape ?? [];
  const channels = typeof shape[1] === "number" ? shape[1] : 3;
  const fixed = typeof shape[2] === "number" && typeof shape[3] === "number";
  const size = fixed ? [shape[2], shape[3]] : [...model.meta.preprocessing.size];
  const b = model.builder();
  const facts = (v) => {
    try {
      return b.factsOf(v).shape;
    } catch {
      return void 0;
    }
  };
  const dynamic = /* @__PURE__ */ new Set([model.input.name]);
  for (const n of graph.nodes)
    if (n.inputs.some((i) => i && dynamic.has(i))) {
      for (const o of n.outputs)
        if (o)
          dynamic.add(o);
    }
  const needed = /* @__PURE__ */ new Set([model.output]);
  for (let k = graph.nodes.length - 1; k >= 0; k--) {
    const n = graph.nodes[k];
    if (n.outputs.some((o) => needed.has(o))) {
      for (const i of n.inputs)
        if (i && dynamic.has(i))
          needed.add(i);
    }
  }
  const nodes = graph.nodes.filter((n) => n.outputs.some((o) => o && needed.has(o)));
  const remaining = /* @__PURE__ */ new Map();
  const consumers = /* @__PURE__ */ new Map();
  for (const n of nodes) {
    for (const i of new Set(n.inputs)) {
      if (!i || !needed.has(i))
        continue;
      remaining.set(i, (remaining.get(i) ?? 0) + 1);
      consumers.set(i, [...consumers.get(i) ?? [], n.op]);
    }
  }
  const depth = /* @__PURE__ */ new Map([[model.input.name, 0]]);
  const live = /* @__PURE__ */ new Set([model.input.name]);
  const cuts = [];
  for (const n of nodes) {
    const d = Math.max(0, ...n.inputs.filter((i) => i && depth.has(i)).map((i) => depth.get(i))) + (n.op === "Conv" || n.op === "ConvTranspose" || n.op === "Gemm" || n.op === "MatMul" ? 1 : 0);
    for (const i of new Set(n.inputs)) {
      if (!i || !remaining.has(i))
        continue;
      const left = remaining.get(i) - 1;
      remaining.set(i, left);
      if (left === 0)
        live.delete(i);
    }
    for (const o of n.outputs) {
      if (!o || !needed.has(o))
        continue;
      depth.set(o, d);
      if ((remaining.get(o) ?? 0) > 0)
        live.add(o);
      if (live.size === 1 && live.has(o))
        cuts.push(o);
    }
  }
  const producer = /* @__PURE__ */ new Map();
  for (const n of nodes)
    for (const o of n.outputs)
      if (o)
        producer.set(o, n.op);
  const fields = receptiveFields(graph, b, model.input.name);
  const side = Math.max(...size);
  let layers = [];
  for (const v of cuts) {
    const s = facts(v);
    if (!s || s.length !== 4 || s.slice(1).some((d) => typeof d !== "number"))
      continue;
    const [, c, h, w] = s;
    if (h * w <= 1)
      continue;
    const next = consumers.get(v) ?? [];
    if (next.length === 1 && FOLDS_FORWARD.has(next[0]))
      continue;
    const rf = fields.get(v);
    const field = rf ? rf.global ? side : Math.max(...rf.size) : side;
    layers.push({ name: v, op: producer.get(v) ?? "?", shape: [c, h, w], field, reach: field / side, depth: depth.get(v) ?? 0, pooling: POOLING.has(producer.get(v) ?? "") });
  }
  layers = layers.filter((l, i) => {
    const prev = layers[i - 1];
    const next = layers[i + 1];
    const same = (o) => !!o && o.shape[1] === l.shape[1] && o.shape[2] === l.shape[2];
    return l.pooling || !(same(prev) && same(next) && prev.shape[0] > l.shape[0] && next.shape[0] > l.shape[0]);
  });
  const derived = deriveRoles(layers, firstConvOf(model, b, channels, dynamic), model.output);
  const outShape = facts(model.output);
  const classes = typeof outShape?.[outShape.length - 1] === "number" ? outShape[outShape.length - 1] : model.meta.labels.length;
  const profile = {
    input: { name: model.input.name, channels, kind: channels === 1 ? "gray" : channels === 3 ? "rgb" : "multichannel", size, fixed },
    classes,
    labelled: !model.meta.labels.every((l, i) => l === `class ${i}`),
    sampleGroup: model.meta.samples ?? (channels === 1 ? "fashion-mnist" : "photos"),
    head: headKind(model),
    layers,
    ...derived,
    source: Object.fromEntries(ROLE_NAMES.map((r) => [r, "graph"])),
    warnings: []
  };
  applyOverrides(profile, model);
  return profile;
}
function deriveRoles(layers, firstConv, output) {
  const main = layers.filter((l) => !l.pooling);
  const pool = main.length ? main : layers;
  const closest = (target, among) => among.reduce((best, l) => !best || Math.abs(l.reach - target) <= Math.abs(best.reach - target) ? l : best, void 0);
  const last = layers[layers.length - 1];
  const dream = closest(0.6, pool.filter((l) => l !== last).length ? pool.filter((l) => l !== last) : pool);
  const content = closest(0.35, pool);
  const style = [];
  const seen = /* @__PURE__ */ new Set();
  for (const l of pool) {
    const key = `${l.shape[1]}x${l.shape[2]}`;
    if (seen.has(key))
      continue;
    seen.add(key);
    if (l.reach <= 1 || style.length < 2)
      style.push(l.name);
  }
  const inversion = /* @__PURE__ */ new Set();
  if (pool[0])
    inversion.add(pool[0].name);
  layers.forEach((l, i) => {
    const next = layers[i + 1];
    if (!next || next.shape[1] !== l.shape[1] || next.shape[2] !== l.shape[2] || l.name === dream?.name)
      inversion.add(l.name);
  });
  const ordered = layers.map((l) => l.name).filter((n) => inversion.has(n));
  const inversionLayers = [...ordered.length > 6 ? spread(ordered, 6) : ordered, output];
  return {
    ...firstConv ? { firstConv } : {},
    ...last ? { camLayer: last.name } : {},
    ...dream ? { dreamLayer: dream.name } : {},
    contentLayers: content ? [content.name] : [],
    styleLayers: style.slice(0, 5),
    featureLayers: [...new Set([dream?.name, last?.name].filter((n) => !!n))],
    inversionLayers
  };
}
function spread(items, k) {
  return Array.from({ length: k }, (_, i) => items[Math.round(i * (items.length - 1) / (k - 1))]).filter((v, i, a) => a.indexOf(v) === i);
}
function firstConvOf(model, b, channels, dynamic) {
  for (const n of model.graph.nodes) {
    if (n.op !== "Conv" || !n.inputs[0] || !dynamic.has(n.inputs[0]))
      continue;
    const w = model.graph.initializers.get(n.inputs[1] ?? "");
    if (w && w.dims.length === 4 && w.dims[1] === channels)
      return n.outputs[0];
    try {
      if (b.shapeOf(n.inputs[1]).length === 4)
        return n.outputs[0];
    } catch {
    }
  }
  return void 0;
}
function headKind(model) {
  const producers = /* @__PURE__ */ new Map();
  for (const n of model.graph.nodes)
    for (const o of n.outputs)
      if (o)
        producers.set(o, n);
  let v = model.output;
  let dense = false;
  for (let guard = 0; guard < 16; guard++) {
    const p = producers.get(v);
    if (!p)
      return "other";
    if (p.op === "Add" && !dense) {
      const mm = p.inputs.find((i) => producers.get(i)?.op === "MatMul");
      if (mm) {
        v = mm;
        continue;
      }
    }
    if ((p.op === "Gemm" || p.op === "MatMul") && !dense) {
      dense = true;
      v = p.inputs[0];
      continue;
    }
    if (PASS_THROUGH.has(p.op)) {
      v = p.inputs[0];
      continue;
    }
    if (GLOBAL_POOL.has(p.op))
      return dense ? "gap-dense" : "gap";
    return dense ? "dense" : "other";
  }
  return "other";
}
function applyOverrides(profile, model) {
  const o = model.meta.profile;
  if (!o)
    return;
  for (const [key, value] of Object.entries(o)) {
    if (!ROLE_NAMES.includes(key)) {
      profile.warnings.push(`convlens.profile: unknown role "${key}" ignored (roles: ${ROLE_NAMES.join(", ")})`);
      continue;
    }
    const role = key;
    const list = role.endsWith("Layers");
    const names = list ? value : [value];
    if (!Array.isArray(names) || !names.length || !names.every((n) => typeof n === "string")) {
      profile.warnings.push(`convlens.profile: ${role} must be ${list ? "a list of layer names" : "a layer name"}; derived from the graph instead`);
      continue;
    }
    try {
      const resolved = names.map((n) => model.resolveLayer(n));
      profile[role] = list ? resolved : resolved[0];
      profile.source[role] = "metadata";
    } catch (e) {
      profile.warnings.push(`convlens.profile: ${role} names a layer the graph does not have (${e instanceof ConvLensError ? e.message : String(e)}); derived from the graph instead`);
    }
  }
}
function describeProfile(p) {
  const from = (r) => p.source[r] === "metadata" ? " (model metadata)" : "";
  const list = (v) => v.length ? v.join(", ") : "-";
  return [
    `input: ${p.input.kind} ${p.input.size[0]}x${p.input.size[1]}${p.input.fixed ? "" : " (any size)"}, ${p.classes} classes${p.labelled ? "" : " (unlabelled)"}, head ${p.head}, samples/${p.sampleGroup}`,
    `first conv: ${p.firstConv ?? "-"}${from("firstConv")}`,
    `CAM layer: ${p.camLayer ?? "-"}${from("camLayer")}`,
    `dream layer: ${p.dreamLayer ?? "-"}${from("dreamLayer")}`,
    `style layers: ${list(p.styleLayers)}${from("styleLayers")}`,
    `content layers: ${list(p.contentLayers)}${from("contentLayers")}`,
    `feature layers (index): ${list(p.featureLayers)}${from("featureLayers")}`,
    `inversion layers: ${list(p.inversionLayers)}${from("inversionLayers")}`
  ];
}

// dist/engine/graph/fold-batchnorm.js
function foldBatchNorms(graph, keep) {
  const inputs = new Set(graph.inputs.map((i) => i.name));
  const constants = /* @__PURE__ */ new Map();
  for (const [name, t] of graph.initializers)
    if (!inputs.has(name))
      constants.set(name, t);
  for (const n of graph.nodes) {
    const v = n.attrs["value"];
    if (n.op === "Constant" && !n.domain && v?.type === "tensor")
      constants.set(n.outputs[0], v.value);
  }
  const consumers = /* @__PURE__ */ new Map();
  for (const n of graph.nodes)
    for (const i of n.inputs)
      if (i)
        consumers.set(i, (consumers.get(i) ?? 0) + 1);
  for (const o of graph.outputs)
    consumers.set(o.name, (consumers.get(o.name) ?? 0) + 1);
  const producer = /* @__PURE__ */ new Map();
  for (const n of graph.nodes)
    for (const o of n.outputs)
      if (o)
        producer.set(o, n);
  const constant = (name) => {
    if (!name || keep.has(name))
      return void 0;
    const t = constants.get(name);
    return t && t.dtype === "float32" ? t : void 0;
  };
  const dropped = /* @__PURE__ */ new Set();
  let folded = 0;
  for (const bn of graph.nodes) {
    if (bn.op !== "BatchNormalization" || bn.domain || attrInt(bn, "training_mode", 0) !== 0)
      continue;
    if (bn.outputs.slice(1).some((o) => o))
      continue;
    const x = bn.inputs[0];
    const conv = producer.get(x);
    if (!conv || conv.op !== "Conv" || conv.domain || dropped.has(conv) || keep.has(x) || consumers.get(x) !== 1)
      continue;
    const w = constant(conv.inputs[1]);
    const bias = conv.inputs[2] ? constant(conv.inputs[2]) : void 0;
    const [gamma, beta, mean, variance] = [1, 2, 3, 4].map((i) => constant(bn.inputs[i]));
    if (!w || conv.inputs[2] && !bias || !gamma || !beta || !mean || !variance)
      continue;
    const m = w.dims[0];
    if ([gamma, beta, mean, variance].some((t) => t.data.length !== m) || bias && bias.data.length !== m)
      continue;
    const eps = attrFloat(bn, "epsilon", 1e-5);
    const per = w.data.length / m;
    const wd = w.data;
    const folded_w = new Float32Array(wd.length);
    const folded_b = new Float32Array(m);
    for (let o = 0; o < m; o++) {
      const s = gamma.data[o] / Math.sqrt(variance.data[o] + eps);
      for (let k = o * per; k < (o + 1) * per; k++)
        folded_w[k] = wd[k] * s;
      folded_b[o] = ((bias?.data[o] ?? 0) - mean.data[o]) * s + beta.data[o];
    }
    const wName = uniqueName(graph, `${conv.name || "conv"}.bn_folded.weight`);
    const bName = uniqueName(graph, `${conv.name || "conv"}.bn_folded.bias`);
    graph.initializers.set(wName, { dtype: "float32", dims: [...w.dims], data: folded_w });
    graph.initializers.set(bName, { dtype: "float32", dims: [m], data: folded_b });
    conv.inputs = [conv.inputs[0], wName, bName];
    conv.outputs = [bn.outputs[0]];
    graph.valueInfo.delete(x);
    dropped.add(bn);
    folded++;
  }
  if (folded)
    graph.nodes = graph.nodes.filter((n) => !dropped.has(n));
  return folded;
}
function uniqueName(graph, hint) {
  const taken = graph.valueNames();
  let name = hint;
  for (let k = 1; taken.has(name) || graph.initializers.has(name); k++)
    name = `${hint}_${k}`;
  return name;
}

// dist/engine/graph/prune.js
function pruneGraph(graph, keepInputs = true) {
  const needed = new Set(graph.outputs.map((o) => o.name));
  const kept = [];
  for (let k = graph.nodes.length - 1; k >= 0; k--) {
    const node = graph.nodes[k];
    if (!node.outputs.some((o) => o && needed.has(o)))
      continue;
    kept.push(node);
    for (const i of node.inputs)
      if (i)
        needed.add(i);
  }
  graph.nodes = kept.reverse();
  for (const name of [...graph.initializers.keys()])
    if (!needed.has(name))
      graph.initializers.delete(name);
  if (!keepInputs)
    graph.inputs = graph.inputs.filter((i) => needed.has(i.name));
  for (const name of [...graph.valueInfo.keys()])
    if (!needed.has(name))
      graph.valueInfo.delete(name);
  return graph;
}

// dist/engine/autodiff/gradient.js
function buildGradientGraph(forward, request) {
  const ruleSet = request.ruleSet ?? "standard";
  const graph = forward.clone();
  const parameterInputs = [];
  for (const p of request.parametersAsInputs ?? []) {
    const t = graph.initializers.get(p);
    if (!t)
      throw unknownNameError("parameter", p, [...graph.initializers.keys()]);
    graph.initializers.delete(p);
    graph.inputs.push({ name: p, dtype: t.dtype, shape: [...t.dims] });
    parameterInputs.push(p);
  }
  const known = graph.valueNames();
  const seeds = "scalar" in request.seed ? [request.seed.scalar] : [...request.seed.upstream];
  for (const n of [...seeds, ...request.wrt, ...request.outputs ?? []]) {
    if (!known.has(n))
      throw unknownNameError("value", n, known);
  }
  foldBatchNorms(graph, /* @__PURE__ */ new Set([...seeds, ...request.wrt, ...request.outputs ?? [], ...graph.outputs.map((o) => o.name)]));
  const b = GraphBuilder.over(graph);
  const differentiable = (name) => isFloatDType(b.factsOf(name).dtype);
  const fromWrt = new Set(request.wrt.filter(differentiable));
  for (const node of graph.nodes) {
    const def = findOp(node.op);
    if (def?.nonDifferentiable)
      continue;
    const live = node.inputs.some((i, k) => i && fromWrt.has(i) && !def?.noGradInputs?.includes(k));
    if (live) {
      for (const o of node.outputs)
        if (o && differentiable(o))
          fromWrt.add(o);
    }
  }
  const toSeed = new Set(seeds);
  for (let k = graph.nodes.length - 1; k >= 0; k--) {
    const node = graph.nodes[k];
    if (node.outputs.some((o) => toSeed.has(o))) {
      for (const i of node.inputs)
        if (i)
          toSeed.add(i);
    }
  }
  const contributions = /* @__PURE__ */ new Map();
  const finalGrad = /* @__PURE__ */ new Map();
  const contribute = (name, g) => {
    if (finalGrad.has(name))
      throw new Error(`internal: gradient of "${name}" used before all contributions arrived`);
    const l = contributions.get(name);
    if (l)
      l.push(g);
    else
      contributions.set(name, [g]);
  };
  const gradOf = (name) => {
    if (finalGrad.has(name))
      return finalGrad.get(name);
    const l = contributions.get(name);
    const g = l && l.length ? sumAll(b, l) : void 0;
    finalGrad.set(name, g);
    return g;
  };
  const seedInputs = {};
  for (const s of seeds) {
    const f = b.factsOf(s);
    if (!isFloatDType(f.dtype))
      throw new ConvLensError("INVALID_ARGUMENT", `Cannot differentiate "${s}": it has type ${f.dtype}, not a float type.`);
    if ("scalar" in request.seed) {
      if (f.shape && f.shape.some((d) => d !== 1)) {
        throw new ConvLensError("INVALID_ARGUMENT", `"${s}" has shape [${f.shape.join(", ")}]; a scalar seed needs a single value.`, "Reduce it to a scalar (ReduceSum/ReduceMean) or seed it with an upstream gradient.");
      }
      contribute(s, b.op("ConstantOfShape", [b.op("Shape", [s])], { value: { dtype: "float32", dims: [1], data: Float32Array.of(1) } }, { name: b.uniqueName("seed") }));
    } else {
      const inputName = b.uniqueName(`${s}:grad_in`);
      b.input(inputName, f.dtype, f.shape ?? []);
      seedInputs[s] = inputName;
      contribute(s, inputName);
    }
  }
  const active = (node) => node.inputs.some((i) => i && fromWrt.has(i)) && node.outputs.some((o) => o && toSeed.has(o));
  const forwardNodes = graph.nodes.slice();
  for (let k = forwardNodes.length - 1; k >= 0; k--) {
    const node = forwardNodes[k];
    if (!active(node))
      continue;
    const dys = node.outputs.map((o) => o ? gradOf(o) : void 0);
    if (dys.every((d) => !d))
      continue;
    const def = requireOp(node, "gradient");
    if (def.nonDifferentiable)
      continue;
    const rule = ruleSet !== "standard" && def.variants?.[ruleSet] || def.grad;
    const wants = (i) => {
      const n = node.inputs[i];
      return !!n && fromWrt.has(n) && !def.noGradInputs?.includes(i);
    };
    const ctx = {
      node,
      b,
      x: (i) => node.inputs[i],
      y: (i) => node.outputs[i],
      dy: (i) => dys[i],
      wants,
      facts: (name) => b.factsOf(name),
      constant: (i) => node.inputs[i] ? b.valueOf(node.inputs[i]) : void 0
    };
    let grads;
    try {
      grads = rule(ctx);
    } catch (e) {
      if (e instanceof ConvLensError)
        throw e;
      throw new ConvLensError("UNSUPPORTED_OP", `Cannot differentiate ${node.op} node "${node.name}": ${e.message}`, "Fix the input shape or re-export the model with constant attributes.", { cause: e });
    }
    grads.forEach((g, i) => {
      if (g && wants(i))
        contribute(node.inputs[i], g);
    });
  }
  const gradientOutputs = {};
  const outputs = [];
  for (const w of request.wrt) {
    const g = differentiable(w) ? gradOf(w) : void 0;
    const name = b.uniqueName(`${w}:grad`);
    b.addNode({ op: "Identity", name: b.uniqueName(`${w}:grad_out`), inputs: [g ?? zerosLike(b, w)], outputs: [name], attrs: {} });
    gradientOutputs[w] = name;
    outputs.push(name);
  }
  graph.outputs = [];
  for (const o of request.outputs ?? [])
    b.output(o);
  for (const o of outputs)
    b.output(o);
  b.build();
  pruneGraph(graph);
  return { graph, gradientOutputs, seedInputs, parameterInputs };
}

// dist/engine/onnx/import.js
function normalizeGraph(src, source = "the model") {
  const from = src.opset;
  const b = new GraphBuilder();
  const g = b.graph;
  g.name = src.name;
  g.metadata = new Map(src.metadata);
  g.producerName = src.producerName;
  g.producerVersion = src.producerVersion;
  g.docString = src.docString;
  g.extraOpsets = src.extraOpsets.map((o) => ({ ...o }));
  g.valueInfo = new Map(src.valueInfo);
  b.strict = false;
  for (const i of src.inputs) {
    if (src.initializers.has(i.name))
      continue;
    b.input(i.name, i.dtype, i.shape);
  }
  for (const [name, t] of src.initializers)
    b.initializer(name, t);
  for (const node of src.nodes)
    convertNode(b, node, from, source);
  for (const o of src.outputs) {
    if (!b.has(o.name))
      throw new ConvLensError("MODEL_UNREADABLE", `${source}: graph output "${o.name}" is not produced by any node.`, "The model is malformed; re-export it.");
    b.output(o.name);
    const declared = o.shape;
    const inferred = g.outputs[g.outputs.length - 1];
    if (!inferred.shape && declared)
      inferred.shape = [...declared];
  }
  return b.build();
}
var NEWER_THAN_17 = /* @__PURE__ */ new Set(["BitwiseAnd", "BitwiseNot", "BitwiseOr", "BitwiseXor", "CenterCropPad", "Col2Im", "DeformConv", "AffineGrid", "ImageDecoder", "RegexFullMatch", "StringConcat", "StringSplit", "Attention", "RMSNormalization", "RotaryEmbedding"]);
var REDUCE_WITH_AXES_ATTR = ["ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare"];
function convertNode(b, node, from, source) {
  const n = { ...node, inputs: [...node.inputs], outputs: [...node.outputs], attrs: { ...node.attrs } };
  const constInts = (i, what) => {
    const name = n.inputs[i];
    if (!name)
      return void 0;
    const v = b.valueOf(name);
    if (!v) {
      throw new ConvLensError("MODEL_UNSUPPORTED", `${source}: ${n.op} node "${n.name}" computes its ${what} at run time; ConvLens needs them constant to convert opset ${from} to ${INTERNAL_OPSET}.`, "Export the model with opset 17, or with constant-folding enabled.");
    }
    return toNumbers(v);
  };
  const moveAttrToInput = (key, position) => {
    const v = attrInts(n, key);
    delete n.attrs[key];
    if (v) {
      while (n.inputs.length < position)
        n.inputs.push("");
      n.inputs[position] = b.ints(v, `${n.name}_${key}`);
    }
  };
  if (!n.domain) {
    if (from < 13) {
      if (n.op === "Squeeze" || n.op === "Unsqueeze" || n.op === "ReduceSum")
        moveAttrToInput("axes", 1);
      if (n.op === "Split")
        moveAttrToInput("split", 1);
      if ((n.op === "Softmax" || n.op === "LogSoftmax") && convertOldSoftmax(b, n))
        return;
    }
    if (from >= 18) {
      if (REDUCE_WITH_AXES_ATTR.includes(n.op)) {
        const axes = constInts(1, "reduction axes");
        n.inputs = [n.inputs[0]];
        const noop = attrInt(n, "noop_with_empty_axes", 0);
        delete n.attrs["noop_with_empty_axes"];
        if (axes && axes.length)
          n.attrs["axes"] = { type: "ints", value: axes };
        else if (noop) {
          b.addNode({ op: "Identity", name: n.name, inputs: [n.inputs[0]], outputs: n.outputs, attrs: {} });
          return;
        }
      }
      if (n.op === "Split" && n.attrs["num_outputs"]) {
        delete n.attrs["num_outputs"];
        if (!n.inputs[1]) {
          const x = b.shapeOf(n.inputs[0]);
          const axis = attrInt(n, "axis", 0);
          const d = x[axis < 0 ? axis + x.length : axis];
          if (typeof d !== "number")
            throw new ConvLensError("MODEL_UNSUPPORTED", `${source}: Split node "${n.name}" splits a dynamic axis into num_outputs parts.`, "Export with static sizes on that axis.");
          const k = n.outputs.length;
          const chunk = Math.ceil(d / k);
          n.inputs[1] = b.ints(Array.from({ length: k }, (_, i) => i < k - 1 ? chunk : d - chunk * (k - 1)));
        }
      }
      if (n.op === "Pad" && n.inputs[3]) {
        const axes = constInts(3, "pad axes");
        const pads = constInts(1, "pads");
        const r = b.shapeOf(n.inputs[0]).length;
        const full = new Array(2 * r).fill(0);
        axes.forEach((a0, i) => {
          const a = a0 < 0 ? a0 + r : a0;
          full[a] = pads[i];
          full[a + r] = pads[i + axes.length];
        });
        n.inputs = [n.inputs[0], b.ints(full), n.inputs[2] ?? ""];
        while (n.inputs.length && n.inputs[n.inputs.length - 1] === "")
          n.inputs.pop();
      }
      if (n.op === "Resize") {
        if (attrInt(n, "antialias", 0))
          throw new ConvLensError("MODEL_UNSUPPORTED", `${source}: Resize node "${n.name}" uses antialias=1, which ConvLens does not differentiate.`, "Export without antialiasing.");
        if (n.attrs["axes"])
          throw new ConvLensError("MODEL_UNSUPPORTED", `${source}: Resize node "${n.name}" uses the axes attribute (opset 18).`, "Export with full-rank scales or sizes.");
        const policy = attrString(n, "keep_aspect_ratio_policy", "stretch");
        if (policy !== "stretch")
          throw new ConvLensError("MODEL_UNSUPPORTED", `${source}: Resize node "${n.name}" uses keep_aspect_ratio_policy=${policy}.`, "Export with explicit sizes.");
        delete n.attrs["antialias"];
        delete n.attrs["keep_aspect_ratio_policy"];
        if (attrString(n, "coordinate_transformation_mode", "half_pixel") === "half_pixel_symmetric") {
          throw new ConvLensError("MODEL_UNSUPPORTED", `${source}: Resize node "${n.name}" uses half_pixel_symmetric coordinates (opset 19).`, "Export with half_pixel or align_corners.");
        }
      }
    }
    if (from >= 19) {
      if (n.op === "AveragePool" && n.attrs["dilations"]) {
        if ((attrInts(n, "dilations") ?? []).some((d) => d !== 1)) {
          throw new ConvLensError("MODEL_UNSUPPORTED", `${source}: AveragePool node "${n.name}" uses dilations (opset 19), which ConvLens does not support.`, "Export the model without dilated average pooling.");
        }
        delete n.attrs["dilations"];
      }
      if (n.op === "Cast")
        delete n.attrs["saturate"];
    }
    if (n.op === "Gelu" || n.op === "Mish" || n.op === "GroupNormalization") {
      decomposeNewOp(b, n, from);
      return;
    }
    if (NEWER_THAN_17.has(n.op)) {
      throw new ConvLensError("MODEL_UNSUPPORTED", `${source}: ${n.op} node "${n.name}" uses an op introduced after opset 17, which ConvLens does not convert.`, "Export the model with opset 17, or with this op decomposed into older ops.");
    }
    if (n.op === "Upsample") {
      const mode = attrString(n, "mode", "nearest");
      n.op = "Resize";
      n.attrs = {
        mode: { type: "string", value: mode === "bilinear" ? "linear" : mode },
        coordinate_transformation_mode: { type: "string", value: "asymmetric" },
        nearest_mode: { type: "string", value: "floor" }
      };
      n.inputs = [n.inputs[0], "", n.inputs[1]];
    }
    if (n.op === "Dropout") {
      b.addNode({ op: "Identity", name: n.name, inputs: [n.inputs[0]], outputs: [n.outputs[0]], attrs: {} });
      if (n.outputs[1]) {
        const shape = b.op("Shape", [n.inputs[0]]);
        b.addNode({ op: "ConstantOfShape", name: `${n.name}_mask`, inputs: [shape], outputs: [n.outputs[1]], attrs: { value: { type: "tensor", value: { dtype: "bool", dims: [1], data: Uint8Array.of(1) } } } });
      }
      return;
    }
    if (n.op === "BatchNormalization") {
      delete n.attrs["spatial"];
      delete n.attrs["is_test"];
      delete n.attrs["consumed_inputs"];
      const training = from < 14 ? n.outputs.length > 1 : attrInt(n, "training_mode", 0) === 1;
      if (training) {
        if (n.outputs.slice(3).some((o) => o)) {
          throw new ConvLensError("MODEL_UNSUPPORTED", `${source}: BatchNormalization node "${n.name}" outputs saved_mean/saved_var (opset < 14 training form).`, "Export the model in inference mode (model.eval()) or with opset 14+.");
        }
        n.outputs = [0, 1, 2].map((i) => n.outputs[i] || b.uniqueName(`${n.name}_stat${i}`));
        n.attrs["training_mode"] = { type: "int", value: 1 };
      } else {
        n.outputs = [n.outputs[0]];
        delete n.attrs["training_mode"];
      }
    }
    if ((n.op === "Conv" || n.op === "MaxPool" || n.op === "AveragePool") && attrString(n, "auto_pad", "NOTSET") !== "NOTSET") {
      const xs = b.factsOf(n.inputs[0]).shape;
      const kernel = n.op === "Conv" ? b.factsOf(n.inputs[1]).shape?.slice(2) : attrInts(n, "kernel_shape");
      if (xs && kernel && kernel.every((k) => typeof k === "number") && xs.slice(2).every((d) => typeof d === "number")) {
        const geo = windowGeometry(n, xs.slice(2), kernel);
        n.attrs["pads"] = { type: "ints", value: [...geo.padBegin, ...geo.padEnd] };
        delete n.attrs["auto_pad"];
      }
    }
  }
  b.addNode(n);
}
function convertOldSoftmax(b, n) {
  const x = n.inputs[0];
  const shape = b.factsOf(x).shape;
  const axis = attrInt(n, "axis", 1);
  if (shape) {
    const r = shape.length;
    const a = axis < 0 ? axis + r : axis;
    if (a === r - 1) {
      b.addNode({ ...n, attrs: { axis: { type: "int", value: -1 } } });
      return true;
    }
  }
  const flat = b.op("Flatten", [x], { axis });
  const soft = b.op(n.op, [flat], { axis: -1 });
  b.addNode({ op: "Reshape", name: n.name, inputs: [soft, b.op("Shape", [x])], outputs: n.outputs, attrs: {} });
  return true;
}
function decomposeNewOp(b, n, from) {
  const x = n.inputs[0];
  const out = n.outputs[0];
  const finish = (op, inputs, attrs = {}) => {
    b.addNode({ op, name: n.name, inputs, outputs: [out], attrs });
  };
  if (n.op === "Gelu") {
    const half = b.op("Mul", [x, b.scalar(0.5)]);
    if (attrString(n, "approximate", "none") === "tanh") {
      const cube = b.op("Mul", [b.op("Mul", [x, x]), x]);
      const inner = b.op("Mul", [b.op("Add", [x, b.op("Mul", [cube, b.scalar(0.044715)])]), b.scalar(Math.sqrt(2 / Math.PI))]);
      finish("Mul", [half, b.op("Add", [b.op("Tanh", [inner]), b.scalar(1)])]);
    } else {
      finish("Mul", [half, b.op("Add", [b.op("Erf", [b.op("Mul", [x, b.scalar(Math.SQRT1_2)])]), b.scalar(1)])]);
    }
    return;
  }
  if (n.op === "Mish") {
    finish("Mul", [x, b.op("Tanh", [b.op("Softplus", [x])])]);
    return;
  }
  const shape = b.shapeOf(x);
  const c = shape[1];
  const groups = attrInt(n, "num_groups", 1);
  const eps = n.attrs["epsilon"]?.type === "float" ? n.attrs["epsilon"].value : 1e-5;
  if (typeof c !== "number")
    throw new ConvLensError("MODEL_UNSUPPORTED", `GroupNormalization node "${n.name}" needs a static channel count.`);
  const grouped = b.op("Reshape", [x, b.ints([0, groups, -1])]);
  const mean = b.op("ReduceMean", [grouped], { axes: [2], keepdims: 1 });
  const centered = b.op("Sub", [grouped, mean]);
  const variance = b.op("ReduceMean", [b.op("Mul", [centered, centered])], { axes: [2], keepdims: 1 });
  const normed = b.op("Div", [centered, b.op("Sqrt", [b.op("Add", [variance, b.scalar(eps)])])]);
  const back = b.op("Reshape", [normed, b.op("Shape", [x])]);
  const perChannel = (name) => {
    const size = b.shapeOf(name)[0];
    const v = from < 21 && size === groups && groups !== c ? b.op("Reshape", [b.op("Expand", [b.op("Reshape", [name, b.ints([groups, 1])]), b.ints([groups, c / groups])]), b.ints([c])]) : name;
    return b.op("Reshape", [v, b.ints([c, ...new Array(shape.length - 2).fill(1)])]);
  };
  finish("Add", [b.op("Mul", [back, perChannel(n.inputs[1])]), perChannel(n.inputs[2])]);
}

// dist/models/model.js
var nextId = 1;
var PICKABLE_OPS = /* @__PURE__ */ new Set([
  "Conv",
  "ConvTranspose",
  "Relu",
  "LeakyRelu",
  "PRelu",
  "Elu",
  "Sigmoid",
  "Tanh",
  "Clip",
  "HardSigmoid",
  "HardSwish",
  "Softplus",
  "MaxPool",
  "AveragePool",
  "GlobalAveragePool",
  "GlobalMaxPool",
  "BatchNormalization",
  "InstanceNormalization",
  "Add",
  "Concat",
  "Gemm",
  "MatMul",
  "Resize",
  "Mul",
  "Softmax",
  "Flatten"
]);
var Model = class _Model {
  engine;
  name;
  id;
  graph;
  input;
  /** the classifier output (logits, pre-softmax when the graph ends in Softmax) */
  output;
  meta;
  builderCache;
  profileCache;
  aliasCache;
  gradientGraphs = /* @__PURE__ */ new Map();
  constructor(graph, engine, name = graph.name) {
    this.engine = engine;
    this.name = name;
    this.id = `${name}#${nextId++}`;
    const inputs = graph.realInputs();
    if (inputs.length !== 1) {
      throw new ConvLensError("MODEL_UNSUPPORTED", `Model "${name}" has ${inputs.length} inputs (${inputs.map((i) => i.name).join(", ")}); ConvLens expects one image input.`, "Export the model with a single NCHW image input.");
    }
    const input = inputs[0];
    if (!input.shape || input.shape.length !== 4) {
      throw new ConvLensError("MODEL_UNSUPPORTED", `Model "${name}" input "${input.name}" has shape [${input.shape?.join(", ") ?? "?"}]; ConvLens expects an NCHW image tensor.`, "Export the model with a 4-D input [N, C, H, W].");
    }
    this.graph = withSymbolicBatch(graph);
    this.input = this.graph.realInputs()[0];
    if (this.graph.outputs.length === 0)
      throw new ConvLensError("MODEL_UNSUPPORTED", `Model "${name}" has no outputs.`);
    this.output = preSoftmaxOutput(this.graph);
    const outShape = this.facts(this.output).shape;
    const classes = outShape && typeof outShape[outShape.length - 1] === "number" ? outShape[outShape.length - 1] : void 0;
    this.meta = readMetadata(this.graph, this.input, classes);
    const broken = nonFiniteParameters(this.graph);
    if (broken.length) {
      const shown = broken.slice(0, 3).map((b) => `"${b.name}" (${b.count} of ${b.size})`).join(", ");
      this.meta.warnings.push(`${broken.length} parameter tensor${broken.length > 1 ? "s hold" : " holds"} NaN or infinite values: ${shown}${broken.length > 3 ? ", ..." : ""}; the model's outputs will be NaN (a diverged training run or a damaged file)`);
    }
  }
  /** Builds a Model from a decoded ONNX graph (any supported opset). */
  static fromOnnxGraph(decoded, engine, name) {
    return new _Model(normalizeGraph(decoded, name), engine, name ?? decoded.name);
  }
  get labels() {
    return this.meta.labels;
  }
  /** Which layer plays which part in each method (see profile.ts), from the metadata or the graph. */
  get profile() {
    this.profileCache ??= modelProfile(this);
    return this.profileCache;
  }
  /**
   * Describes what the file does not say (or says wrongly): class names and preprocessing, as
   * `--labels` and `--preprocess` do. Call before running anything: compiled sessions bake the
   * preprocessing in. Drops the warnings about what was assumed.
   */
  describe(o) {
    if (o.labels) {
      if (this.meta.labels.length && o.labels.length !== this.meta.labels.length) {
        throw new ConvLensError("INVALID_ARGUMENT", `${o.labels.length} class names given; model "${this.name}" has ${this.meta.labels.length} outputs.`, "Give one name per output, in the model's output order.");
      }
      this.meta.labels = o.labels;
      this.meta.warnings = this.meta.warnings.filter((w) => !w.startsWith("no class labels") && !w.includes("convlens.labels"));
    }
    if (o.preprocessing) {
      const c = this.input.shape[1];
      checkPreprocessing(o.preprocessing, typeof c === "number" ? c : 3);
      const [, , h, w] = this.input.shape;
      if (typeof h === "number" && typeof w === "number" && (o.preprocessing.size[0] !== h || o.preprocessing.size[1] !== w)) {
        throw new ConvLensError("INVALID_ARGUMENT", `Preprocessing size ${o.preprocessing.size.join("x")} does not fit model "${this.name}", which takes ${h}x${w} images.`, `Leave "size" out (it defaults to the model's ${h}x${w}) or give [${h}, ${w}].`);
      }
      this.meta.preprocessing = o.preprocessing;
      this.builderCache = void 0;
      this.meta.warnings = this.meta.warnings.filter((w2) => !w2.startsWith("no preprocessing") && !w2.includes("preprocessing mean/std"));
    }
    this.profileCache = void 0;
  }
  /** Static facts (dtype, shape) of any value, from shape inference. */
  facts(name) {
    return this.builder().factsOf(name);
  }
  /**
   * Shape inference over the graph. A model that takes any image size is inferred at its
   * preprocessing size, so layers have the concrete shapes methods and summaries need.
   */
  builder() {
    if (!this.builderCache) {
      const g = this.graph.clone();
      const input = g.inputs.find((i) => i.name === this.input.name);
      const [n, c, h, w] = input.shape;
      const free = typeof h !== "number" || typeof w !== "number";
      if (free && !this.meta)
        return GraphBuilder.over(g, { strict: false });
      if (free)
        input.shape = [n, c, this.meta.preprocessing.size[0], this.meta.preprocessing.size[1]];
      this.builderCache = GraphBuilder.over(g, { strict: false });
    }
    return this.builderCache;
  }
  /** Values a user can name as a layer (conv, activation, pooling, ... outputs), in graph order. */
  pickableValues() {
    const out = [];
    for (const n of this.graph.nodes) {
      if (!PICKABLE_OPS.has(n.op))
        continue;
      const o = n.outputs[0];
      if (!o)
        continue;
      out.push({ name: o, node: n.name, op: n.op, shape: this.facts(o).shape ?? [] });
    }
    return out;
  }
  /**
   * Resolves a layer as users name it: a value name (`/fires.5/Concat_output_0`), a node name
   * (`/fires.5/Concat`, also without the leading slash), a module path from PyTorch's exporter
   * (`fires.5`: the output of the module's last node), or `#k`, the k-th layer of `convlens
   * summary`'s numbering (pickable values, from 1); names also match ignoring case when that is
   * unambiguous. Unknown names get the closest suggestions.
   */
  resolveLayer(name) {
    const values = this.graph.valueNames();
    if (values.has(name) && !this.graph.initializers.has(name))
      return name;
    const byNode = this.graph.nodes.find((n) => n.name === name);
    if (byNode?.outputs[0])
      return byNode.outputs[0];
    const aliases = this.layerAliases();
    const hit = aliases.get(name) ?? aliases.get(`~${name.toLowerCase()}`);
    if (hit)
      return hit;
    const index = /^#(\d+)$/.exec(name.trim());
    if (index) {
      const list = this.pickableValues();
      const k = Number(index[1]);
      if (k >= 1 && k <= list.length)
        return list[k - 1].name;
      throw new ConvLensError("UNKNOWN_NAME", `No layer #${k}: the model has ${list.length} numbered layers.`, "`convlens summary` shows the numbers (#1 to #" + list.length + ").");
    }
    const layers = this.pickableValues().map((p) => p.name);
    const modules = [...aliases.keys()].filter((k) => !k.startsWith("~") && !k.includes("/"));
    const close = closestNames(name, [...layers, ...modules]);
    throw new ConvLensError("UNKNOWN_NAME", `No layer named "${name}".`, `Closest layer names: ${close.join(", ")}. ${layers.length <= 20 ? `All layers: ${layers.join(", ")}.` : `\`convlens summary --model ...\` lists all ${layers.length} layers with their numbers (#k works too).`}`);
  }
  /** A short name for a layer in figures and messages: its module path when that names it (`fires.5`), else the name without exporter decoration. */
  layerLabel(value) {
    let best;
    for (const [alias, v] of this.layerAliases())
      if (v === value && !alias.startsWith("~") && (!best || alias.length < best.length))
        best = alias;
    const plain = shortLayerName(value);
    return best && best.length < plain.length ? best : plain;
  }
  /** 1-based number of a value in the layer numbering `#k` refers to, if it has one. */
  layerNumber(value) {
    const k = this.pickableValues().findIndex((p) => p.name === value);
    return k < 0 ? void 0 : k + 1;
  }
  /** Friendly names -> value names (node names without '/', module paths; `~lowercase` keys for case-insensitive matches). */
  layerAliases() {
    if (this.aliasCache)
      return this.aliasCache;
    const out = /* @__PURE__ */ new Map();
    const lower = /* @__PURE__ */ new Map();
    const add = (alias, value) => {
      if (!alias || out.has(alias))
        return;
      out.set(alias, value);
    };
    const real = (v) => !!v && !this.graph.initializers.has(v);
    for (const n of this.graph.nodes) {
      const o = n.outputs[0];
      if (!real(o))
        continue;
      if (n.name.startsWith("/"))
        add(n.name.slice(1), o);
      const parts = n.name.split("/").filter(Boolean);
      for (let k = 1; k < parts.length; k++)
        out.set(parts.slice(0, k).join("/"), o);
    }
    for (const v of this.graph.valueNames())
      if (out.has(v))
        out.delete(v);
    for (const [alias, value] of [...out, ...[...this.graph.valueNames()].filter(real).map((v) => [v, v]), ...this.graph.nodes.filter((n) => real(n.outputs[0])).map((n) => [n.name, n.outputs[0]])]) {
      const key = alias.toLowerCase();
      (lower.get(key) ?? lower.set(key, /* @__PURE__ */ new Set()).get(key)).add(value);
    }
    for (const [key, set] of lower)
      if (set.size === 1)
        out.set(`~${key}`, [...set][0]);
    this.aliasCache = out;
    return out;
  }
  /** The last spatial layer before global pooling (the profile's CAM layer): the default for Grad-CAM and friends. */
  lastSpatialLayer() {
    const layer = this.profile.camLayer;
    if (!layer)
      throw new ConvLensError("MODEL_UNSUPPORTED", `Model "${this.name}" has no spatial (4-D) layer on the path to its output.`, "CAM-type methods and layer visualizations need a convolutional model.");
    return layer;
  }
  /** Checks a batch against the model input and says what is wrong and what to pass instead. */
  checkInput(x) {
    const want = this.input.shape;
    const ok = x.dims.length === 4 && want.every((d, i) => typeof d !== "number" || d === x.dims[i]);
    if (x.dtype !== "float32") {
      throw new ConvLensError("SHAPE_MISMATCH", `Input tensor has dtype ${x.dtype}; model "${this.name}" takes float32.`, "Convert it: numpy.save(path, array.astype(numpy.float32)).");
    }
    if (!ok) {
      throw new ConvLensError("SHAPE_MISMATCH", `Input tensor has shape [${x.dims.join(", ")}]; model "${this.name}" takes [${want.join(", ")}] (NCHW float32).`, `Pass images (they are resized to ${want[2]}x${want[3]}) or a preprocessed array of that shape.`);
    }
  }
  /** Forward run returning the classifier output and any named values. */
  async run(x, fetch = []) {
    this.checkInput(x);
    const names = [.../* @__PURE__ */ new Set([this.output, ...fetch.map((f) => this.resolveLayer(f))])];
    const key = `${this.id}|forward|${names.join(",")}`;
    const compiled = await this.engine.compile(key, () => {
      const g = this.graph.clone();
      const b = GraphBuilder.over(g, { strict: false });
      g.outputs = [];
      for (const n of names)
        b.output(n);
      return pruneGraph(b.build());
    });
    return compiled.run({ [this.input.name]: x });
  }
  /**
   * One combined forward+backward run (see buildGradientGraph): forward `outputs`, and the
   * gradients of the seeded values with respect to `wrt`, with the given rule set.
   * `upstream` feeds the seed gradients (one per seeded value) when the seed is `upstream`.
   */
  async gradients(x, request, upstream = {}) {
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
    const feeds = { [this.input.name]: x };
    for (const [value, inputName] of Object.entries(meta.seedInputs)) {
      const t = upstream[value];
      if (!t)
        throw new ConvLensError("INVALID_ARGUMENT", `No upstream gradient given for "${value}".`);
      feeds[inputName] = t;
    }
    const out = await compiled.run(feeds);
    const gradients = {};
    for (const [w, o] of Object.entries(meta.gradientOutputs))
      gradients[w] = out[o];
    const values = {};
    for (const o of request.outputs ?? [])
      values[o] = out[o];
    return { values, gradients };
  }
  /** [C, H, W] of one input: the model's own, or its preprocessing size when it takes any size. */
  inputDims() {
    const [, c, h, w] = this.input.shape;
    const [ph, pw] = this.meta.preprocessing.size;
    return [typeof c === "number" ? c : this.meta.preprocessing.channels === "gray" ? 1 : 3, typeof h === "number" ? h : ph, typeof w === "number" ? w : pw];
  }
  /**
   * The graph with static spatial sizes for a batch of `dims`, as backward passes need: the
   * model's own graph, or for a model that takes any size a copy with the input fixed to the
   * batch's size (`sizeKey` tells cache keys apart).
   */
  staticGraph(dims) {
    const [, , h, w] = this.input.shape;
    if (typeof h === "number" && typeof w === "number")
      return { graph: this.graph, sizeKey: "" };
    const graph = this.graph.clone();
    const input = graph.inputs.find((i) => i.name === this.input.name);
    input.shape = [input.shape[0], input.shape[1], dims[2], dims[3]];
    return { graph, sizeKey: `|${dims[2]}x${dims[3]}` };
  }
  /** Number of trainable parameters (float initializers). */
  parameterCount() {
    let n = 0;
    for (const t of this.graph.initializers.values())
      if (t.dtype === "float32")
        n += sizeOf(t.dims);
    return n;
  }
};
function shortLayerName(name) {
  return name.replace(/^\//, "").replace(/_output_\d+$/, "");
}
function withSymbolicBatch(graph) {
  const input = graph.realInputs()[0];
  if (typeof input.shape[0] !== "number")
    return graph;
  const trial = graph.clone();
  const ti = trial.inputs.find((i) => i.name === input.name);
  ti.shape = ["N", ...input.shape.slice(1)];
  try {
    const b = GraphBuilder.over(trial, { strict: false });
    const ok = trial.outputs.every((o) => b.factsOf(o.name).shape?.[0] === "N");
    if (!ok)
      return graph;
    trial.outputs = trial.outputs.map((o) => ({ ...o, shape: b.factsOf(o.name).shape }));
    return trial;
  } catch {
    return graph;
  }
}
function preSoftmaxOutput(graph) {
  const out = graph.outputs[0].name;
  const producer = graph.nodes.find((n) => n.outputs.includes(out));
  if (producer && (producer.op === "Softmax" || producer.op === "LogSoftmax") && findOp(producer.op))
    return producer.inputs[0];
  return out;
}
function nonFiniteParameters(graph) {
  const found = [];
  for (const [name, t] of graph.initializers) {
    if (t.dtype !== "float32" && t.dtype !== "float64")
      continue;
    let count = 0;
    for (const v of t.data)
      if (!Number.isFinite(v))
        count++;
    if (count)
      found.push({ name, count, size: t.data.length });
  }
  return found;
}

// dist/models/load.js
import { existsSync, readFileSync } from "node:fs";
import { dirname, isAbsolute, join, normalize } from "node:path";
var GENERIC_GRAPH_NAMES = /* @__PURE__ */ new Set(["graph", "torch_jit", "torch-jit-export", "main_graph", "tf2onnx", "model"]);
function loadModelFile(path, engine, read, name) {
  const bytes = read ? read(path, `Model file "${path}"`) : readFileOrExplain(path, "model file");
  const folder = dirname(path);
  const files = /* @__PURE__ */ new Map();
  const graph = decodeModel(bytes, {
    source: `model file "${path}"`,
    readExternal: (location) => {
      if (isAbsolute(location) || normalize(location).startsWith(".."))
        throw new Error("external-data locations must stay inside the model folder");
      let data = files.get(location);
      const file = join(folder, location);
      if (!data)
        files.set(location, data = read ? read(file, `External data "${location}" of model "${path}"`) : readFileSync(file));
      return data;
    }
  });
  return Model.fromOnnxGraph(graph, engine, name ?? (graph.name && !GENERIC_GRAPH_NAMES.has(graph.name) ? graph.name : path.replace(/^.*[\\/]/, "").replace(/\.onnx$/, "")));
}
var BUILTIN_MODEL_PATH = DEFAULT_BUILTIN.file;
var FASHION_CNN_PROFILE = {
  firstConv: "conv1",
  camLayer: "relu4",
  dreamLayer: "relu3",
  styleLayers: ["relu1", "relu2", "relu3"],
  contentLayers: ["relu3"],
  featureLayers: ["relu3", "relu4"],
  inversionLayers: ["conv1", "pool1", "pool2", "relu3", "pool3", "relu4", "logits"]
};
function loadBuiltinModel(engine, name = DEFAULT_BUILTIN.name) {
  const builtin = findBuiltin(name);
  if (!builtin)
    throw unknownModelError(name);
  if (existsSync(builtin.file))
    return loadModelFile(builtin.file, engine, void 0, builtin.name);
  if (builtin !== DEFAULT_BUILTIN)
    throw new ConvLensError("INPUT_UNREADABLE", `The built-in model "${builtin.name}" is missing from this installation (${builtin.file}).`, "Reinstall convlens, or pass the path of an .onnx file.");
  const graph = courseCnn(0);
  writeMetadata(graph, {
    labels: FASHION_MNIST_LABELS,
    preprocessing: { size: [28, 28], channels: "gray", range: [0, 1], mean: [0], std: [1], resize: "stretch" },
    description: "Course CNN for Fashion-MNIST (untrained: random weights)",
    profile: FASHION_CNN_PROFILE,
    samples: "fashion-mnist"
  });
  const model = new Model(graph, engine, "fashion-cnn (untrained)");
  model.meta.warnings.push("the built-in model is untrained (random weights); predictions are meaningless");
  return model;
}
function loadModel(spec, engine) {
  if (spec === void 0)
    return loadBuiltinModel(engine);
  const builtin = findBuiltin(spec);
  if (builtin)
    return loadBuiltinModel(engine, builtin.name);
  if (!existsSync(spec))
    throw unknownModelError(spec);
  return loadModelFile(spec, engine);
}
function modelSource(spec) {
  const builtin = spec === void 0 ? DEFAULT_BUILTIN : findBuiltin(spec);
  return builtin ? { builtin } : { file: spec };
}
function unknownModelError(spec) {
  const names = BUILTIN_MODELS.map((m) => m.name);
  return new ConvLensError("INPUT_UNREADABLE", `Cannot read model file "${spec}": no such file, and no built-in model of that name.`, `Built-in models: ${names.join(", ")} (e.g. --model ${names[1] ?? names[0]}); otherwise pass the path of an .onnx file.`);
}

export {
  BUILTIN_MODELS,
  DEFAULT_BUILTIN,
  findBuiltin,
  decodeModel,
  encodeModel,
  pruneGraph,
  buildGradientGraph,
  METADATA_KEYS,
  writeMetadata,
  metadataEntries,
  PREPROCESS_PRESETS,
  parsePreprocessing,
  parseLabels,
  ROLE_NAMES,
  describeProfile,
  Model,
  shortLayerName,
  loadModelFile,
  loadBuiltinModel,
  loadModel,
  modelSource
};
