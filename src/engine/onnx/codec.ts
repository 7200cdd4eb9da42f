import protobuf from 'protobufjs';
import { ConvLensError } from '../errors.js';
import { MAX_TENSOR_RANK } from '../graph/facts.js';
import { Graph, type Attr, type Dim, type Node, type ValueInfo } from '../graph/ir.js';
import {
  BYTES_PER_ELEMENT,
  ONNX_DTYPE_CODES,
  allocate,
  copiedOnRead,
  dtypeFromOnnx,
  sizeOf,
  tensorBytes,
  type DType,
  type Tensor,
  type TypedArray,
} from '../tensor.js';
import { ONNX_PROTO } from './schema.js';

/**
 * ai.onnx opsets whose CNN-relevant semantics ConvLens implements. Opsets 7-10 are upgraded on
 * import (onnx/legacy-opsets.ts); ONNX Runtime no longer runs the forms of opsets below 7 either.
 */
export const MIN_OPSET = 7;
export const MAX_OPSET = 22;

const root = protobuf.parse(ONNX_PROTO, { keepCase: true }).root;
const ModelProto = root.lookupType('onnx.ModelProto');
const GraphProto = root.lookupType('onnx.GraphProto');
const NodeProto = root.lookupType('onnx.NodeProto');
const AttributeProto = root.lookupType('onnx.AttributeProto');
const TensorProto = root.lookupType('onnx.TensorProto');

// Loose views of decoded messages: protobufjs gives plain objects with these optional fields.
type Int64 = number | { toNumber(): number } | undefined | null;
interface TensorMsg {
  dims?: Int64[];
  data_type?: number;
  float_data?: number[];
  int32_data?: number[];
  int64_data?: Int64[];
  double_data?: number[];
  uint64_data?: Int64[];
  raw_data?: Uint8Array;
  name?: string;
  external_data?: { key?: string; value?: string }[];
  data_location?: number;
}
interface AttrMsg {
  name?: string;
  type?: number;
  f?: number;
  i?: Int64;
  s?: Uint8Array;
  t?: TensorMsg;
  g?: unknown;
  floats?: number[];
  ints?: Int64[];
  strings?: Uint8Array[];
  tensors?: TensorMsg[];
  graphs?: unknown[];
  ref_attr_name?: string;
}
interface NodeMsg {
  input?: string[];
  output?: string[];
  name?: string;
  op_type?: string;
  domain?: string;
  attribute?: AttrMsg[];
}
interface DimMsg {
  dim_value?: Int64;
  dim_param?: string;
}
interface ValueInfoMsg {
  name?: string;
  type?: { tensor_type?: { elem_type?: number; shape?: { dim?: DimMsg[] } } };
}
interface GraphMsg {
  node?: NodeMsg[];
  name?: string;
  initializer?: TensorMsg[];
  sparse_initializer?: unknown[];
  input?: ValueInfoMsg[];
  output?: ValueInfoMsg[];
  value_info?: ValueInfoMsg[];
  doc_string?: string;
}
interface ModelMsg {
  ir_version?: Int64;
  opset_import?: { domain?: string; version?: Int64 }[];
  producer_name?: string;
  producer_version?: string;
  doc_string?: string;
  graph?: GraphMsg;
  metadata_props?: { key?: string; value?: string }[];
  functions?: unknown[];
}

const num = (v: Int64): number => (v == null ? 0 : typeof v === 'number' ? v : v.toNumber());
/** Exact value of a decoded 64-bit integer (a Long's toNumber rounds above 2^53, and INT64_MAX would wrap to INT64_MIN). */
const big = (v: Int64): bigint => (v == null ? 0n : typeof v === 'number' ? BigInt(v) : BigInt(String(v)));
const utf8 = new TextDecoder();
/** A bytes field as text: protobufjs gives an absent one as an empty Array, which TextDecoder refuses. */
const text = (bytes: Uint8Array | undefined): string => (bytes instanceof Uint8Array ? utf8.decode(bytes) : '');

export interface DecodeOptions {
  /** Used in error messages. */
  source?: string;
  /** Reads an external-data file named relative to the model's folder. */
  readExternal?: (location: string) => Uint8Array;
  /**
   * The caller hands the bytes (and the external-data files read) over and never changes them:
   * tensor data at an aligned offset is used where it lies instead of copied (on a 47 MB model,
   * 43% of the weights, and all external data, which sits at 4096-aligned offsets). By default
   * decoded tensors own their memory.
   */
  inPlace?: boolean;
}

/**
 * How many nodes the main graph of an ONNX file declares, counted on the wire without decoding
 * anything (ModelProto.graph is field 7, GraphProto.node field 1). Each node costs about 35 bytes
 * of file but a few kB of work and memory once decoded and checked, so a caller that must bound
 * that work counts first. A truncated file gives the count up to where it ends.
 */
export function declaredNodeCount(bytes: Uint8Array): number {
  const GRAPH = (7 << 3) | 2;
  const NODE = (1 << 3) | 2;
  const reader = protobuf.Reader.create(bytes);
  let count = 0;
  try {
    while (reader.pos < reader.len) {
      const tag = reader.uint32();
      if (tag !== GRAPH) {
        reader.skipType(tag & 7);
        continue;
      }
      const end = reader.uint32() + reader.pos;
      while (reader.pos < end) {
        const field = reader.uint32();
        if (field === NODE) count++;
        reader.skipType(field & 7);
      }
    }
  } catch {
    // a damaged file: decodeModel says what is wrong with it
  }
  return count;
}

/** Parses .onnx bytes into a Graph. Throws ConvLensError for anything a user could have got wrong. */
export function decodeModel(bytes: Uint8Array, options: DecodeOptions = {}): Graph {
  const source = options.source ?? 'the model';
  let msg: ModelMsg;
  try {
    msg = ModelProto.decode(bytes) as unknown as ModelMsg;
  } catch (e) {
    throw new ConvLensError(
      'MODEL_UNREADABLE',
      `Cannot read ${source} as an ONNX model: ${(e as Error).message}.`,
      'The file is truncated or is not an ONNX protobuf; re-export or re-download it.',
      { cause: e },
    );
  }
  const gm = msg.graph;
  if (!gm || !gm.node || (gm.node.length === 0 && (gm.output?.length ?? 0) === 0)) {
    throw new ConvLensError(
      'MODEL_UNREADABLE',
      `${source} holds no ONNX graph (${bytes.length} bytes decoded to an empty model).`,
      'The file is truncated or is not an ONNX model; re-export or re-download it.',
    );
  }
  const g = new Graph();
  g.irVersion = num(msg.ir_version) || 8;
  g.producerName = msg.producer_name ?? '';
  g.producerVersion = msg.producer_version ?? '';
  g.docString = msg.doc_string ?? '';
  g.name = gm.name || 'graph';
  let opset: number | undefined;
  for (const o of msg.opset_import ?? []) {
    const domain = o.domain ?? '';
    if (domain === '' || domain === 'ai.onnx') {
      const version = num(o.version);
      // Two versions make every op's form ambiguous: read at the last one (as ONNX Runtime
      // reads it), an opset-11 Clip(x, min, max) in a file that also imports opset 7 lost its
      // bounds without a word.
      if (opset !== undefined && opset !== version) {
        throw new ConvLensError('MODEL_UNREADABLE', `${source} imports the ai.onnx opset twice, as ${opset} and ${version}; its ops cannot be read at both.`, 'The model is malformed; re-export it (one opset_import per domain).');
      }
      opset = version;
    } else g.extraOpsets.push({ domain, version: num(o.version) });
  }
  if (opset === undefined) {
    throw new ConvLensError('UNSUPPORTED_OPSET', `${source} declares no ai.onnx opset (or the file is truncated).`, `Re-export the model with opset ${MIN_OPSET} to ${MAX_OPSET}; if it came from a download, download it again.`);
  }
  if (opset < MIN_OPSET || opset > MAX_OPSET) {
    throw new ConvLensError(
      'UNSUPPORTED_OPSET',
      `${source} uses ai.onnx opset ${opset}; ConvLens supports opsets ${MIN_OPSET} to ${MAX_OPSET}.`,
      opset < MIN_OPSET
        ? `Opsets below ${MIN_OPSET} write ops in forms (consumed_inputs, broadcast and axis attributes on arithmetic) that ONNX Runtime no longer runs either. Convert it with onnx.version_converter.convert_version(model, 17), or download the model's opset-${MIN_OPSET}+ version (the ONNX Model Zoo ships most classics at opsets 7 to 12).`
        : 'Re-export the model with opset_version=17 (torch.onnx.export) or convert it down with onnx.version_converter.',
    );
  }
  g.opset = opset;
  if ((gm.sparse_initializer?.length ?? 0) > 0) {
    throw new ConvLensError('MODEL_UNSUPPORTED', `${source} stores sparse initializers, which ConvLens does not read.`, 'Save the model with dense initializers.');
  }
  if ((msg.functions?.length ?? 0) > 0) {
    throw new ConvLensError('MODEL_UNSUPPORTED', `${source} defines local ONNX functions, which ConvLens does not inline yet.`, 'Export with functions inlined (onnx.inliner.inline_local_functions).');
  }
  for (const kv of msg.metadata_props ?? []) if (kv.key) g.metadata.set(kv.key, kv.value ?? '');
  for (const t of gm.initializer ?? []) {
    const name = t.name ?? '';
    g.initializers.set(name, decodeTensor(t, source, options));
  }
  g.inputs = (gm.input ?? []).map((v) => decodeValueInfo(v, source));
  g.outputs = (gm.output ?? []).map((v) => decodeValueInfo(v, source));
  for (const v of gm.value_info ?? []) {
    if (v.type?.tensor_type) {
      const info = decodeValueInfo(v, source);
      g.valueInfo.set(info.name, info);
    }
  }
  g.nodes = (gm.node ?? []).map((n, i) => decodeNode(n, i, source, options));
  return g;
}

/**
 * A declared shape of absurd rank is read no further: every node after it copies the shape (a
 * ReLU chain behind an input of 100,000 axes copies them at every link).
 */
function tooManyAxes(source: string, what: string, rank: number): ConvLensError {
  return new ConvLensError('MODEL_UNREADABLE', `${source}: ${what} has ${rank} axes; ConvLens handles tensors of up to ${MAX_TENSOR_RANK}.`, 'The file is damaged or was not written by an ONNX exporter; re-export the model.');
}

function decodeValueInfo(v: ValueInfoMsg, source: string): ValueInfo {
  const name = v.name ?? '';
  const tt = v.type?.tensor_type;
  if (!tt) {
    throw new ConvLensError('MODEL_UNSUPPORTED', `${source}: graph value "${name}" is not a tensor (sequence or map types are not supported).`, 'ConvLens handles tensor-only CNN graphs.');
  }
  const dtype = dtypeFromOnnx(tt.elem_type ?? 0) ?? 'float32';
  if (!tt.shape) return { name, dtype };
  if ((tt.shape.dim?.length ?? 0) > MAX_TENSOR_RANK) throw tooManyAxes(source, `graph value "${name}"`, tt.shape.dim!.length);
  // Some converters (keras2onnx, tf2onnx) write -1 for a size they do not know: read any
  // negative size as unknown, as ONNX Runtime does, so that shape inference only ever meets
  // sizes of 0 or more and can refuse a negative one as the fault it is.
  const shape: Dim[] = (tt.shape.dim ?? []).map((d, i) => {
    if (d.dim_param) return d.dim_param;
    const size = d.dim_value != null ? num(d.dim_value) : undefined;
    return size !== undefined && size >= 0 ? size : `${name}_d${i}`;
  });
  return { name, dtype, shape };
}

function decodeNode(n: NodeMsg, index: number, source: string, options: DecodeOptions): Node {
  const attrs: Record<string, Attr> = {};
  const op = n.op_type ?? '';
  const name = n.name || `${op}_${index}`;
  for (const a of n.attribute ?? []) {
    const key = a.name ?? '';
    if (a.ref_attr_name) continue;
    const decoded = decodeAttr(a, `${op} node "${name}"`, source, options);
    if (decoded) attrs[key] = decoded;
  }
  const node: Node = { op, name, inputs: [...(n.input ?? [])], outputs: [...(n.output ?? [])], attrs };
  if (n.domain && n.domain !== 'ai.onnx') node.domain = n.domain;
  return node;
}

// AttributeProto.type codes
const A_FLOAT = 1, A_INT = 2, A_STRING = 3, A_TENSOR = 4, A_GRAPH = 5, A_FLOATS = 6, A_INTS = 7, A_STRINGS = 8, A_TENSORS = 9, A_GRAPHS = 10;

function decodeAttr(a: AttrMsg, where: string, source: string, options: DecodeOptions): Attr | undefined {
  switch (a.type) {
    case A_FLOAT:
      return { type: 'float', value: a.f ?? 0 };
    case A_INT:
      return { type: 'int', value: num(a.i) };
    case A_STRING:
      return { type: 'string', value: text(a.s) };
    case A_TENSOR:
      return { type: 'tensor', value: decodeTensor(a.t ?? {}, source, options) };
    case A_FLOATS:
      return { type: 'floats', value: [...(a.floats ?? [])] };
    case A_INTS:
      return { type: 'ints', value: (a.ints ?? []).map(num) };
    case A_STRINGS:
      return { type: 'strings', value: (a.strings ?? []).map(text) };
    case A_GRAPH:
    case A_GRAPHS:
      throw new ConvLensError(
        'MODEL_UNSUPPORTED',
        `${source}: ${where} has a subgraph attribute "${a.name}" (If/Loop/Scan control flow).`,
        // a detector's post-processing (anchors, NMS, a Loop over detections) is where exports get control flow
        'ConvLens explains feed-forward image classifiers (class scores [N, K]) and segmentation nets (class maps [N, K, H, W]); a detector (boxes, labels and scores out, as torchvision\'s detection models) is neither. If the model is a classifier or a segmentation net, export it without control flow.',
      );
    case A_TENSORS:
      throw new ConvLensError('MODEL_UNSUPPORTED', `${source}: ${where} has a tensor-list attribute "${a.name}".`, 'Export without it.');
    default:
      // IR version 1 files have no type field; infer it from which field is set.
      if (a.ints && a.ints.length) return { type: 'ints', value: a.ints.map(num) };
      if (a.floats && a.floats.length) return { type: 'floats', value: [...a.floats] };
      if (a.t) return { type: 'tensor', value: decodeTensor(a.t, source, options) };
      if (a.s && a.s.length) return { type: 'string', value: text(a.s) };
      if (a.i != null && num(a.i) !== 0) return { type: 'int', value: num(a.i) };
      if (a.f != null && a.f !== 0) return { type: 'float', value: a.f };
      return undefined;
  }
}

function decodeTensor(t: TensorMsg, source: string, options: DecodeOptions): Tensor {
  const name = t.name ?? '(unnamed)';
  if ((t.dims?.length ?? 0) > MAX_TENSOR_RANK) throw tooManyAxes(source, `tensor "${name}"`, t.dims!.length);
  const dims = (t.dims ?? []).map(num);
  const dtype = dtypeFromOnnx(t.data_type ?? 0);
  if (!dtype) {
    throw new ConvLensError('MODEL_UNSUPPORTED', `${source}: tensor "${name}" has data type ${t.data_type}, which ConvLens does not handle.`, 'Convert the model to float32 (and int64 for shapes).');
  }
  if (!dims.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new ConvLensError('MODEL_UNREADABLE', `${source}: tensor "${name}" has invalid dims [${dims.join(', ')}].`, 'The file is corrupt; re-export it.');
  }
  const n = sizeOf(dims);
  let raw = t.raw_data && t.raw_data.length ? t.raw_data : undefined;
  if (t.data_location === 1) {
    raw = readExternalData(t, name, source, options.readExternal);
  }
  if (raw) {
    const need = n * BYTES_PER_ELEMENT[dtype];
    if (raw.length !== need) {
      throw new ConvLensError(
        'MODEL_UNREADABLE',
        `${source}: tensor "${name}" has ${raw.length} bytes of data, but dims [${dims.join(', ')}] of ${dtype} need ${need}.`,
        'The file is truncated or corrupt; re-export it.',
      );
    }
    if (options.inPlace && raw.byteOffset % BYTES_PER_ELEMENT[dtype] === 0) return { dtype, dims, data: viewAs(dtype, raw.buffer as ArrayBuffer, raw.byteOffset, n) };
    // Protobuf puts bytes at any offset, and a typed array cannot view misaligned ones (57% of
    // ResNet-18's weights): those are copied only if something reads their values. ONNX Runtime
    // takes them as bytes (encodeModel's in-memory files) and is most weights' only reader.
    if (options.inPlace && need >= LAZY_COPY_BYTES) return copiedOnRead(dtype, dims, raw);
    const copy = new Uint8Array(need);
    copy.set(raw);
    return { dtype, dims, data: viewAs(dtype, copy.buffer, 0, n) };
  }
  // Allocated only once the data is known to match the dims (corrupt dims could ask for terabytes).
  let data: TypedArray = allocate(dtype, 0);
  const fill = (src: ArrayLike<number | bigint> | undefined, conv: (v: number | bigint) => number | bigint): void => {
    if (!src || src.length === 0) {
      if (n === 0) return;
      throw new ConvLensError('MODEL_UNREADABLE', `${source}: tensor "${name}" has no data for its ${n} elements.`, 'The file is truncated or corrupt; re-export it.');
    }
    if (src.length !== n) {
      throw new ConvLensError('MODEL_UNREADABLE', `${source}: tensor "${name}" has ${src.length} values for dims [${dims.join(', ')}].`, 'The file is corrupt; re-export it.');
    }
    data = allocate(dtype, n);
    for (let i = 0; i < n; i++) (data as unknown as (number | bigint)[])[i] = conv(src[i]!);
  };
  switch (dtype) {
    case 'float32':
      fill(t.float_data, Number);
      break;
    case 'float64':
      fill(t.double_data, Number);
      break;
    case 'int64':
      fill((t.int64_data ?? []).map(big), (v) => v);
      break;
    case 'uint64':
    case 'uint32':
      fill((t.uint64_data ?? []).map(big), (v) => (dtype === 'uint64' ? v : Number(v)));
      break;
    default:
      fill(t.int32_data, Number);
  }
  return { dtype, dims, data };
}

function readExternalData(t: TensorMsg, name: string, source: string, readExternal: DecodeOptions['readExternal']): Uint8Array {
  const kv = new Map((t.external_data ?? []).map((e) => [e.key ?? '', e.value ?? '']));
  const location = kv.get('location');
  if (!location) {
    throw new ConvLensError('MODEL_UNREADABLE', `${source}: tensor "${name}" is marked external but names no location.`, 'The file is corrupt; re-export it.');
  }
  if (!readExternal) {
    throw new ConvLensError(
      'EXTERNAL_DATA_MISSING',
      `${source}: tensor "${name}" keeps its data in the external file "${location}", and no folder was given to read it from.`,
      'Load the model from its file path (not from bytes) so its external-data files can be found beside it.',
    );
  }
  let file: Uint8Array;
  try {
    file = readExternal(location);
  } catch (e) {
    throw new ConvLensError(
      'EXTERNAL_DATA_MISSING',
      `${source}: tensor "${name}" keeps its data in "${location}", which cannot be read (${(e as Error).message}).`,
      `Put "${location}" next to the .onnx file, as it was when the model was saved.`,
      { cause: e },
    );
  }
  const offset = Number(kv.get('offset') ?? 0);
  const length = kv.has('length') ? Number(kv.get('length')) : file.length - offset;
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) {
    throw new ConvLensError(
      'MODEL_UNREADABLE',
      `${source}: tensor "${name}" has an invalid external-data range in "${location}" (offset ${kv.get('offset') ?? 0}, length ${kv.get('length') ?? 'to end of file'}).`,
      'The file is corrupt; re-export it.',
    );
  }
  if (offset + length > file.length) {
    throw new ConvLensError(
      'MODEL_UNREADABLE',
      `${source}: tensor "${name}" needs bytes ${offset}..${offset + length} of "${location}", which has only ${file.length}.`,
      'The external-data file is truncated; copy it again.',
    );
  }
  return file.subarray(offset, offset + length);
}

function viewAs(dtype: DType, buf: ArrayBuffer, offset: number, length: number): TypedArray {
  switch (dtype) {
    case 'float32':
      return new Float32Array(buf, offset, length);
    case 'float64':
      return new Float64Array(buf, offset, length);
    case 'int64':
      return new BigInt64Array(buf, offset, length);
    case 'uint64':
      return new BigUint64Array(buf, offset, length);
    case 'int32':
      return new Int32Array(buf, offset, length);
    case 'int16':
      return new Int16Array(buf, offset, length);
    case 'int8':
      return new Int8Array(buf, offset, length);
    case 'uint8':
    case 'bool':
      return new Uint8Array(buf, offset, length);
    case 'uint16':
    case 'float16':
      return new Uint16Array(buf, offset, length);
    case 'uint32':
      return new Uint32Array(buf, offset, length);
  }
}

// ---------------------------------------------------------------- encoding

export interface EncodeOptions {
  /**
   * Tensors with at least this many bytes go to the external-data file that `writeExternal`
   * receives (ONNX's external-data convention); default: everything inline.
   */
  externalThreshold?: number;
  externalLocation?: string;
  writeExternal?: (location: string, data: Uint8Array) => void;
  /**
   * Initializers with at least this many bytes are not copied into the model: each is named as an
   * external-data file of its own whose bytes are a view of the tensor, and pushed to
   * `inMemoryFiles` for a runtime that reads external data from memory (ONNX Runtime's
   * `externalData` session option). Takes precedence over `writeExternal`.
   */
  inMemoryThreshold?: number;
  inMemoryFiles?: InMemoryFile[];
}

/** An external-data "file" held in memory: `data` is a view of a tensor's bytes, not a copy. */
export interface InMemoryFile {
  path: string;
  data: Uint8Array;
}

// Large byte fields (weights) are framed by hand, so that their bytes are copied once, into the
// final buffer: protobufjs shifts a nested message's content when it writes the length in front
// and grows its buffer by doubling, which took ~1 s for ResNet-18's 85 MB gradient graph.
// A message's fields may come in any order, so the hand-framed ones go after the rest.
const LARGE_BYTES = 1 << 16;
/** Misaligned tensors at least this large are decoded in place as copied-on-read. */
const LAZY_COPY_BYTES = 1 << 16;
const WIRE_LEN = 2;

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return out;
}

const byteLength = (parts: readonly Uint8Array[]): number => parts.reduce((a, p) => a + p.length, 0);

/** A length-delimited field (tag, length, content) over content given as parts. */
function lengthField(field: number, parts: readonly Uint8Array[]): Uint8Array[] {
  return [Uint8Array.from([...varint(field * 8 + WIRE_LEN), ...varint(byteLength(parts))]), ...parts];
}

/** Serializes a Graph to .onnx bytes. */
export function encodeModel(g: Graph, options: EncodeOptions = {}): Uint8Array {
  const external: Uint8Array[] = [];
  let externalSize = 0;
  /** A TensorProto as parts: protobufjs for everything but a large raw_data, which is appended. */
  const encodeTensor = (name: string, t: Tensor, allowExternal: boolean): Uint8Array[] => {
    const bytes = tensorBytes(t);
    const msg: Record<string, unknown> = { name, dims: [...t.dims], data_type: ONNX_DTYPE_CODES[t.dtype] };
    let large: Uint8Array | undefined;
    const files = options.inMemoryFiles;
    if (allowExternal && files && options.inMemoryThreshold !== undefined && bytes.length >= options.inMemoryThreshold) {
      const path = `initializer-${files.length}.bin`;
      msg.data_location = 1;
      msg.external_data = [
        { key: 'location', value: path },
        { key: 'offset', value: '0' },
        { key: 'length', value: String(bytes.length) },
      ];
      files.push({ path, data: bytes });
    } else if (allowExternal && options.writeExternal && options.externalThreshold !== undefined && bytes.length >= options.externalThreshold) {
      // Align each tensor to 4096 bytes so readers can mmap it, as onnx.save_model does.
      const pad = (4096 - (externalSize % 4096)) % 4096;
      if (pad) external.push(new Uint8Array(pad));
      externalSize += pad;
      msg.data_location = 1;
      msg.external_data = [
        { key: 'location', value: options.externalLocation ?? 'model.onnx.data' },
        { key: 'offset', value: String(externalSize) },
        { key: 'length', value: String(bytes.length) },
      ];
      external.push(bytes.slice());
      externalSize += bytes.length;
    } else if (bytes.length >= LARGE_BYTES) {
      large = bytes;
    } else {
      msg.raw_data = bytes;
    }
    const head = encodeMessage(TensorProto, msg);
    return large ? [head, ...lengthField(9, [large])] : [head];
  };
  const vi = (v: ValueInfo): Record<string, unknown> => ({
    name: v.name,
    type: {
      tensor_type: {
        elem_type: ONNX_DTYPE_CODES[v.dtype],
        // a size that is no count (NaN, a fraction, from a damaged file's arithmetic) is written as unknown
        ...(v.shape ? { shape: { dim: v.shape.map((d) => (typeof d === 'string' ? { dim_param: d } : Number.isSafeInteger(d) && d >= 0 ? { dim_value: d } : {})) } } : {}),
      },
    },
  });
  const enc = new TextEncoder();
  const attr = (key: string, a: Exclude<Attr, { type: 'tensor' }>): Record<string, unknown> => {
    switch (a.type) {
      case 'float':
        return { name: key, type: A_FLOAT, f: a.value };
      case 'int':
        return { name: key, type: A_INT, i: a.value };
      case 'string':
        return { name: key, type: A_STRING, s: enc.encode(a.value) };
      case 'floats':
        return { name: key, type: A_FLOATS, floats: a.value };
      case 'ints':
        return { name: key, type: A_INTS, ints: a.value };
      case 'strings':
        return { name: key, type: A_STRINGS, strings: a.value.map((s) => enc.encode(s)) };
    }
  };
  /** A NodeProto as parts; tensor attributes (Constant values) are framed after the others. */
  const encodeNode = (n: Node): Uint8Array[] => {
    const plain = Object.entries(n.attrs).filter((e): e is [string, Exclude<Attr, { type: 'tensor' }>] => e[1].type !== 'tensor');
    const head = encodeMessage(NodeProto, {
      input: n.inputs,
      output: n.outputs,
      name: n.name,
      op_type: n.op,
      ...(n.domain ? { domain: n.domain } : {}),
      attribute: plain.map(([k, a]) => attr(k, a)),
    });
    const parts = [head];
    for (const [k, a] of Object.entries(n.attrs)) {
      if (a.type !== 'tensor') continue;
      parts.push(...lengthField(5, [encodeMessage(AttributeProto, { name: k, type: A_TENSOR }), ...lengthField(5, encodeTensor('', a.value, false))]));
    }
    return parts;
  };
  const graphParts: Uint8Array[] = [];
  for (const n of g.nodes) graphParts.push(...lengthField(1, encodeNode(n)));
  graphParts.push(
    encodeMessage(GraphProto, {
      name: g.name,
      doc_string: g.docString || undefined,
      input: g.inputs.map(vi),
      output: g.outputs.map(vi),
      value_info: [...g.valueInfo.values()].filter((v) => v.shape).map(vi),
    }),
  );
  for (const [name, t] of g.initializers) graphParts.push(...lengthField(5, encodeTensor(name, t, true)));
  // The graph (field 7) between the lower- and higher-numbered fields, where protobufjs puts it.
  const before = encodeMessage(ModelProto, {
    ir_version: g.irVersion,
    producer_name: g.producerName || 'convlens',
    producer_version: g.producerVersion,
    doc_string: g.docString || undefined,
  });
  const after = encodeMessage(ModelProto, {
    opset_import: [{ domain: '', version: g.opset }, ...g.extraOpsets],
    metadata_props: [...g.metadata].map(([key, value]) => ({ key, value })),
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
    options.writeExternal(options.externalLocation ?? 'model.onnx.data', all);
  }
  return bytes;
}

/** One message through protobufjs, checked first (the objects are built here, so a failure is a bug). */
function encodeMessage(type: protobuf.Type, msg: Record<string, unknown>): Uint8Array {
  const err = type.verify(msg);
  if (err) throw new Error(`encodeModel: internal error building ${type.name}: ${err}`);
  return type.encode(type.fromObject(msg)).finish();
}
