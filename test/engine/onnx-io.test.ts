// ONNX file IO (src/engine/onnx/codec.ts, src/models/load.ts): what encodeModel writes,
// decodeModel reads back unchanged; external-data files are written the way ONNX Runtime reads
// them and their absence or truncation is explained; and no corrupt input escapes as a raw
// protobufjs / RangeError / TypeError crash.
import { mkdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import protobuf from 'protobufjs';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { ConvLensError } from '../../src/engine/errors.js';
import { GraphBuilder } from '../../src/engine/graph/builder.js';
import { Graph, type Node } from '../../src/engine/graph/ir.js';
import { decodeModel, encodeModel, type EncodeOptions, type InMemoryFile } from '../../src/engine/onnx/codec.js';
import { ONNX_PROTO } from '../../src/engine/onnx/schema.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { copiedOnRead, nonFiniteCount, tensorBytes } from '../../src/engine/tensor.js';
import { loadModelFile } from '../../src/models/load.js';
import { randn, rng } from '../support/rng.js';
import { expectConvLensError, f32, float, floats, i64, int, ints, node, own, runOrt, str, tempDir } from '../support/onnx-files.js';

const ModelProto = protobuf.parse(ONNX_PROTO, { keepCase: true }).root.lookupType('onnx.ModelProto');
/** The raw protobuf message as plain JSON-able data (int64 as strings, bytes as base64): what is really on disk. */
function onDisk(bytes: Uint8Array): OnDiskModel {
  return ModelProto.toObject(ModelProto.decode(bytes), { longs: String, bytes: String, defaults: false }) as OnDiskModel;
}
interface OnDiskAttr {
  name: string;
  type: number;
}
interface OnDiskTensor {
  name: string;
  raw_data?: string;
  data_location?: number;
  external_data?: { key: string; value: string }[];
}
interface OnDiskModel {
  graph: { node: { name: string; attribute?: OnDiskAttr[] }[]; initializer?: OnDiskTensor[] };
  opset_import: { domain?: string; version: string }[];
}
/** Builds raw ModelProto bytes from a plain object (for files encodeModel would never write). */
const rawModel = (graph: Record<string, unknown>, opset = 17, extra: Record<string, unknown> = {}): Uint8Array =>
  own(ModelProto.encode(ModelProto.fromObject({ ir_version: 8, opset_import: [{ domain: '', version: opset }], graph, ...extra })).finish());
const identityGraph = (initializer: Record<string, unknown>[], outType = 1): Record<string, unknown> => ({
  name: 'g',
  node: [{ op_type: 'Identity', name: 'id', input: ['t'], output: ['y'] }],
  initializer,
  output: [{ name: 'y', type: { tensor_type: { elem_type: outType } } }],
});

const A_FLOAT = 1, A_INT = 2, A_STRING = 3, A_TENSOR = 4, A_FLOATS = 6, A_INTS = 7, A_STRINGS = 8;

const engine = new Engine(nodeBackend(), { threads: 1 });
const tmp = tempDir();
afterAll(async () => {
  await engine.dispose();
  tmp.cleanup();
});

const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;

/** A graph exercising every attribute type, several dtypes, metadata, symbolic dims and value_info. */
function richGraph(): Graph {
  const g = new Graph();
  g.name = 'rich';
  g.opset = 17;
  g.irVersion = 8;
  g.producerName = 'onnx-io-test';
  g.producerVersion = '1.2.3';
  g.docString = 'a doc string';
  g.extraOpsets = [{ domain: 'com.microsoft', version: 1 }];
  g.metadata.set('convlens.labels', JSON.stringify(['cat', 'dög', '猫']));
  g.metadata.set('empty', '');
  g.metadata.set('multi\nline', 'a\nb');
  g.inputs = [
    { name: 'x', dtype: 'float32', shape: ['N', 3, 'H', 'W'] },
    { name: 'anything', dtype: 'float32' }, // rank unknown
  ];
  g.outputs = [
    { name: 'y', dtype: 'float32', shape: ['N', 3, 'H', 'W'] },
    { name: 'shape_out', dtype: 'int64', shape: [4] },
    { name: 'z', dtype: 'float32' },
  ];
  g.initializers.set('w_f32', f32([2, 3], [0.5, -1.25, 3e-8, 1e30, -0, Math.PI]));
  g.initializers.set('w_i64', i64([0, -1, 1 << 30, 2 ** 40]));
  g.initializers.set('extreme_i64', { dtype: 'int64', dims: [2], data: BigInt64Array.of(INT64_MAX, INT64_MIN) });
  g.initializers.set('w_i32', { dtype: 'int32', dims: [3], data: Int32Array.of(-2147483648, 0, 2147483647) });
  g.initializers.set('w_u8', { dtype: 'uint8', dims: [2, 2], data: Uint8Array.of(0, 1, 128, 255) });
  g.initializers.set('w_bool', { dtype: 'bool', dims: [3], data: Uint8Array.of(1, 0, 1) });
  g.initializers.set('w_f64', { dtype: 'float64', dims: [2], data: Float64Array.of(0.1, -1e300) });
  g.initializers.set('w_f16', { dtype: 'float16', dims: [2], data: Uint16Array.of(0x3c00, 0xc000) }); // 1.0, -2.0
  g.initializers.set('scalar', f32([], [7]));
  g.initializers.set('empty', f32([0, 3], []));
  const all: Node['attrs'] = {
    alpha: float(1.0), // integral float: must stay FLOAT on disk
    count: int(3),
    neg: int(-5),
    mode: str('nearest'),
    unicode: str('ünï'),
    sizes: ints([1, -1, 0]),
    scales: floats([1, 2.5]),
    integral_floats: floats([1, 2]),
    names: { type: 'strings', value: ['a', '', 'ç'] },
    value: { type: 'tensor', value: i64([1, 2, 3]) },
  };
  g.nodes = [
    node('Elu', ['x'], ['y'], { alpha: float(1.0) }, 'elu'),
    node('Shape', ['x'], ['shape_out'], {}, 'shape'),
    node('Resize', ['x', '', 'scales_in'], ['resized'], { mode: str('linear') }, 'resize_with_gap'),
    node('Custom', ['anything', 'w_f32'], ['z'], all, 'custom', 'com.microsoft'),
  ];
  g.valueInfo.set('resized', { name: 'resized', dtype: 'float32', shape: ['N', 3, 'H2', 17] });
  return g;
}

describe('round trip: encodeModel -> decodeModel', () => {
  const g = richGraph();
  const bytes = own(encodeModel(g));
  const back = decodeModel(bytes, { source: 'rich.onnx' });

  it('keeps the model header, opsets and metadata_props', () => {
    expect(back.name).toBe('rich');
    expect(back.opset).toBe(17);
    expect(back.irVersion).toBe(8);
    expect(back.producerName).toBe('onnx-io-test');
    expect(back.producerVersion).toBe('1.2.3');
    expect(back.docString).toBe('a doc string');
    expect(back.extraOpsets).toEqual([{ domain: 'com.microsoft', version: 1 }]);
    expect([...back.metadata]).toEqual([...g.metadata]);
    expect(JSON.parse(back.metadata.get('convlens.labels')!)).toEqual(['cat', 'dög', '猫']);
  });

  it('keeps inputs, outputs and value_info, with symbolic dims and unknown ranks', () => {
    expect(back.inputs).toEqual([
      { name: 'x', dtype: 'float32', shape: ['N', 3, 'H', 'W'] },
      { name: 'anything', dtype: 'float32' },
    ]);
    expect(back.outputs).toEqual(g.outputs);
    expect([...back.valueInfo.values()]).toEqual([{ name: 'resized', dtype: 'float32', shape: ['N', 3, 'H2', 17] }]);
  });

  it('keeps nodes: names, op types, domains, inputs (including "" gaps) and outputs', () => {
    expect(back.nodes.map((n) => [n.name, n.op, n.domain, n.inputs, n.outputs])).toEqual(g.nodes.map((n) => [n.name, n.op, n.domain, n.inputs, n.outputs]));
  });

  it('keeps every attribute with its ONNX type (float 1.0 stays a float, ints stay ints)', () => {
    const custom = back.nodes.find((n) => n.name === 'custom')!;
    const orig = g.nodes.find((n) => n.name === 'custom')!;
    expect(Object.keys(custom.attrs).sort()).toEqual(Object.keys(orig.attrs).sort());
    expect(custom.attrs['alpha']).toEqual({ type: 'float', value: 1 });
    expect(custom.attrs['count']).toEqual({ type: 'int', value: 3 });
    expect(custom.attrs['neg']).toEqual({ type: 'int', value: -5 });
    expect(custom.attrs['mode']).toEqual({ type: 'string', value: 'nearest' });
    expect(custom.attrs['unicode']).toEqual({ type: 'string', value: 'ünï' });
    expect(custom.attrs['sizes']).toEqual({ type: 'ints', value: [1, -1, 0] });
    expect(custom.attrs['scales']).toEqual({ type: 'floats', value: [1, 2.5] });
    expect(custom.attrs['integral_floats']).toEqual({ type: 'floats', value: [1, 2] });
    expect(custom.attrs['names']).toEqual({ type: 'strings', value: ['a', '', 'ç'] });
    const t = custom.attrs['value'];
    expect(t?.type).toBe('tensor');
    if (t?.type === 'tensor') {
      expect(t.value.dtype).toBe('int64');
      expect(t.value.dims).toEqual([3]);
      expect(Array.from(t.value.data as BigInt64Array)).toEqual([1n, 2n, 3n]);
    }
    expect(back.nodes.find((n) => n.name === 'elu')!.attrs).toEqual({ alpha: { type: 'float', value: 1 } });
  });

  it('writes the attribute type codes ONNX expects (checked on the raw protobuf)', () => {
    const raw = onDisk(bytes);
    const types = Object.fromEntries(raw.graph.node.find((n) => n.name === 'custom')!.attribute!.map((a) => [a.name, a.type]));
    expect(types).toEqual({
      alpha: A_FLOAT,
      count: A_INT,
      neg: A_INT,
      mode: A_STRING,
      unicode: A_STRING,
      sizes: A_INTS,
      scales: A_FLOATS,
      integral_floats: A_FLOATS,
      names: A_STRINGS,
      value: A_TENSOR,
    });
    expect(raw.graph.node.find((n) => n.name === 'elu')!.attribute).toEqual([{ name: 'alpha', type: A_FLOAT, f: 1 }]);
  });

  it('float attributes are stored as float32 (0.1 comes back as fround(0.1))', () => {
    const h = new Graph();
    h.inputs = [{ name: 'x', dtype: 'float32', shape: [1] }];
    h.outputs = [{ name: 'y', dtype: 'float32', shape: [1] }];
    h.nodes = [node('LeakyRelu', ['x'], ['y'], { alpha: float(0.1) }, 'lrelu')];
    const a = decodeModel(encodeModel(h)).nodes[0]!.attrs['alpha'];
    expect(a).toEqual({ type: 'float', value: Math.fround(0.1) });
  });

  it('keeps initializers of every dtype bit for bit (float32, int64 incl. INT64_MAX/MIN, int32, uint8, bool, float64, float16, scalar, empty)', () => {
    expect([...back.initializers.keys()]).toEqual([...g.initializers.keys()]);
    for (const [name, t] of g.initializers) {
      const b = back.initializers.get(name)!;
      expect(b.dtype, name).toBe(t.dtype);
      expect(b.dims, name).toEqual(t.dims);
      expect(b.data.constructor, name).toBe(t.data.constructor);
      expect(Array.from(b.data as ArrayLike<number | bigint>), name).toEqual(Array.from(t.data as ArrayLike<number | bigint>));
    }
    // -0 survives (bit-exact raw data), as does a denormal-free tiny value.
    const w = back.initializers.get('w_f32')!.data as Float32Array;
    expect(Object.is(w[4], -0)).toBe(true);
    expect(w[2]).toBe(Math.fround(3e-8));
  });

  it('decoded tensors own their memory (mutating the file buffer does not change them)', () => {
    const copy = Uint8Array.from(bytes);
    const before = Array.from(decodeModel(copy).initializers.get('w_f32')!.data as Float32Array);
    const decoded = decodeModel(copy);
    copy.fill(0);
    expect(Array.from(decoded.initializers.get('w_f32')!.data as Float32Array)).toEqual(before);
  });

  it('inPlace: aligned tensor data is a view of the given bytes, unaligned data a copy, the values the same at every offset', () => {
    const shared = new Map<string, number>();
    for (let shift = 0; shift < 8; shift++) {
      const big = new Uint8Array(bytes.length + 8);
      big.set(bytes, shift);
      const decoded = decodeModel(big.subarray(shift, shift + bytes.length), { inPlace: true });
      for (const [name, t] of back.initializers) {
        const got = decoded.initializers.get(name)!;
        expect(Array.from(got.data as ArrayLike<unknown>), `${name} at +${shift}`).toEqual(Array.from(t.data as ArrayLike<unknown>));
        if (got.data.buffer === big.buffer) shared.set(name, (shared.get(name) ?? 0) + 1);
      }
    }
    // the data moves one byte per shift: an element of w bytes is aligned on 8 / w of the 8 shifts
    for (const [name, t] of back.initializers) if (t.data.byteLength > 0) expect(shared.get(name) ?? 0, name).toBe(8 / t.data.BYTES_PER_ELEMENT);
  });

  it('is a fixed point: encode(decode(encode(g))) is byte-identical to encode(g)', () => {
    expect(Buffer.from(encodeModel(back)).equals(Buffer.from(bytes))).toBe(true);
  });

  it('decodes from a Buffer that is a view into a larger allocation (non-zero byteOffset)', () => {
    const big = new Uint8Array(bytes.length + 37);
    big.set(bytes, 29);
    const view = big.subarray(29, 29 + bytes.length);
    const again = decodeModel(view);
    expect(Array.from(again.initializers.get('w_i32')!.data as Int32Array)).toEqual([-2147483648, 0, 2147483647]);
  });

  it('GraphBuilder graphs round-trip and run in ONNX Runtime with the same result (typed attrs are valid ONNX)', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', ['N', 2, 3, 3]);
    const e = b.op('Elu', [x], { alpha: 1 }, { name: 'elu' }); // a plain number: the builder must type alpha as float
    const l = b.op('LeakyRelu', [e], { alpha: 0.2 }, { name: 'lrelu' });
    const s = b.op('Softmax', [l], { axis: 1 }, { name: 'softmax' });
    b.output(s);
    const built = b.build();
    const enc = own(encodeModel(built));
    const raw = onDisk(enc);
    expect(raw.graph.node.find((n) => n.name === 'elu')!.attribute).toEqual([{ name: 'alpha', type: A_FLOAT, f: 1 }]);
    expect(raw.graph.node.find((n) => n.name === 'softmax')!.attribute).toEqual([{ name: 'axis', type: A_INT, i: '1' }]);
    const dec = decodeModel(enc);
    expect(dec.nodes.map((n) => n.attrs)).toEqual(built.nodes.map((n) => n.attrs).map((a) => (a['alpha']?.type === 'float' ? { alpha: { type: 'float', value: Math.fround(a['alpha'].value) } } : a)));
    const xv = f32([2, 2, 3, 3], randn(rng(5), 36));
    const want = await runOrt(enc, { x: xv });
    const got = await runOrt(own(encodeModel(dec)), { x: xv });
    expect(Array.from(got[s]!.data as Float32Array)).toEqual(Array.from(want[s]!.data as Float32Array));
    // Elu(alpha=1) then LeakyRelu then Softmax over channels: a value check, so ORT really ran these attrs.
    const v = (c: number, i: number): number => {
      const t = xv.data[c * 9 + i] as number;
      const elu = t > 0 ? t : Math.exp(t) - 1;
      return elu >= 0 ? elu : 0.2 * elu;
    };
    const p0 = Math.exp(v(0, 0)) / (Math.exp(v(0, 0)) + Math.exp(v(1, 0)));
    expect((want[s]!.data as Float32Array)[0]).toBeCloseTo(p0, 6);
  });
});

describe('large tensors (hand-framed raw_data, copied once)', () => {
  // Tensors of 64 KiB and more bypass protobufjs; these check the framing against protobufjs'
  // own decoder, our decoder, and ONNX Runtime.
  const rand = rng(17);
  const big = (n: number): Float32Array => Float32Array.from({ length: n }, () => rand() - 0.5);
  const wData = big(64 * 16 * 3 * 3 * 2); // 73,728 bytes: over the threshold
  const cData = big(20_000); // a Constant node's tensor attribute over the threshold
  const b = new GraphBuilder();
  const x = b.input('x', 'float32', ['N', 32, 6, 6]);
  const w = b.initializer('w', f32([64, 32, 3, 3], wData));
  const c = b.constant(f32([1, 64, 1, 1], cData.subarray(0, 64)), 'small_scale');
  const bigConst = b.constant(f32([20_000], cData), 'big_const');
  const y = b.op('Mul', [b.op('Conv', [x, w], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }), c], {}, { outputs: ['y'] });
  const z = b.input('z', 'float32', [20_000]);
  const product = b.op('Mul', [z, bigConst], {}, { outputs: ['product'] });
  b.output(y);
  b.output(product);
  const g = b.build();
  const bytes = own(encodeModel(g));

  it('protobufjs reads the hand-framed fields back as the same bytes', () => {
    const raw = ModelProto.toObject(ModelProto.decode(bytes), { bytes: Array }) as { graph: { initializer: { name: string; raw_data: number[] }[]; node: { name: string; attribute?: { name: string; t?: { raw_data: number[] } }[] }[] } };
    const init = raw.graph.initializer.find((t) => t.name === 'w')!;
    expect(Buffer.from(init.raw_data).equals(Buffer.from(wData.buffer))).toBe(true);
    const node = raw.graph.node.find((n) => n.name === bigConst)!;
    expect(Buffer.from(node.attribute![0]!.t!.raw_data).equals(Buffer.from(cData.buffer))).toBe(true);
  });

  it('decodeModel restores them exactly, and re-encoding is byte-identical', () => {
    const back = decodeModel(bytes);
    expect(back.initializers.get('w')!.data).toEqual(wData);
    const node = back.nodes.find((n) => n.name === bigConst)!;
    const value = node.attrs['value'];
    expect(value?.type === 'tensor' ? value.value.data : undefined).toEqual(cData);
    expect(Buffer.from(encodeModel(back)).equals(Buffer.from(bytes))).toBe(true);
  });

  it('ONNX Runtime runs the model: the conv and the product with the constant come out right', async () => {
    const xv = f32([1, 32, 6, 6], randn(rng(3), 32 * 36));
    const zv = f32([20_000], randn(rng(4), 20_000));
    const out = await runOrt(bytes, { x: xv, z: zv });
    const prod = out[product]!.data as Float32Array;
    for (let i = 0; i < 20_000; i += 997) expect(prod[i]).toBe(Math.fround((zv.data[i] as number) * cData[i]!));
    // output channel 5 at (2, 3): a direct 3x3 correlation over the 32 channels, times its scale
    let want = 0;
    for (let ci = 0; ci < 32; ci++)
      for (let dy = -1; dy <= 1; dy++)
        for (let dx = -1; dx <= 1; dx++) want += (xv.data[ci * 36 + (2 + dy) * 6 + (3 + dx)] as number) * wData[((5 * 32 + ci) * 3 + dy + 1) * 3 + dx + 1]!;
    expect((out[y]!.data as Float32Array)[5 * 36 + 2 * 6 + 3]).toBeCloseTo(want * cData[5]!, 4);
  });
});

describe('by reference: copied-on-read tensors, weights as in-memory external data, preallocated outputs', () => {
  // Large initializers reach ONNX Runtime as views (encodeModel's in-memory files), and a
  // misaligned tensor decoded in place is copied only when its values are read.
  const rand = rng(29);
  const wData = Float32Array.from({ length: 64 * 32 * 3 * 3 }, () => rand() - 0.5); // 73,728 bytes
  const b = new GraphBuilder();
  const x = b.input('x', 'float32', ['N', 32, 6, 6]);
  const w = b.initializer('w', f32([64, 32, 3, 3], wData));
  const small = b.initializer('small', f32([1, 64, 1, 1], wData.subarray(0, 64)));
  b.output(b.op('Add', [b.op('Conv', [x, w], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }), small], {}, { outputs: ['y'] }));
  const g = b.build();
  const bytes = own(encodeModel(g));

  it('a misaligned large tensor decoded in place hands on its bytes uncopied, and copies them on first read', () => {
    for (let shift = 0; shift < 4; shift++) {
      const big = new Uint8Array(bytes.length + 4);
      big.set(bytes, shift);
      const t = decodeModel(big.subarray(shift, shift + bytes.length), { inPlace: true }).initializers.get('w')!;
      const raw = tensorBytes(t);
      expect(raw.buffer, `+${shift}`).toBe(big.buffer); // a view either way before any read
      expect(Buffer.from(raw).equals(Buffer.from(wData.buffer))).toBe(true);
      expect(nonFiniteCount(t)).toBe(0);
      expect(tensorBytes(t).buffer, 'counting reads bytes only').toBe(big.buffer);
      expect(t.data).toEqual(wData);
      const aligned = raw.byteOffset % 4 === 0;
      expect(t.data.buffer === big.buffer, `+${shift}: a view only when aligned`).toBe(aligned);
      expect(t.data).toBe(t.data); // one copy, kept
      expect(Buffer.from(tensorBytes(t)).equals(Buffer.from(wData.buffer))).toBe(true);
    }
  });

  it('copiedOnRead refuses a byte count that does not match the dims', () => {
    expect(() => copiedOnRead('float32', [3], new Uint8Array(11))).toThrow(/11 bytes for dims \[3\] of float32/);
  });

  it('nonFiniteCount reads NaN and infinities from the bits, for float32 and float64, at every position', () => {
    const specials = [Number.NaN, Infinity, -Infinity];
    const finite = [0, -0, 1, -1, 3.4028234663852886e38, -3.4028234663852886e38, 1.401298464324817e-45, 5e-324, 1.7976931348623157e308, -1.7976931348623157e308, 2 ** 127, 2 ** 128 * (1 - 2 ** -24)];
    for (const dtype of ['float32', 'float64'] as const) {
      const values = [...finite, ...specials, ...finite.reverse()];
      const arr = dtype === 'float32' ? Float32Array.from(values) : Float64Array.from(values);
      const want = Array.from(arr).filter((v) => !Number.isFinite(v)).length;
      expect(want, dtype).toBeGreaterThanOrEqual(3);
      expect(nonFiniteCount({ dtype, dims: [arr.length], data: arr }), dtype).toBe(want);
      const raw = new Uint8Array(arr.byteLength + 1).subarray(1);
      raw.set(new Uint8Array(arr.buffer));
      expect(nonFiniteCount(copiedOnRead(dtype, [arr.length], raw)), `${dtype}, copied on read`).toBe(want);
    }
    expect(nonFiniteCount({ dtype: 'int32', dims: [1], data: Int32Array.of(-1) })).toBe(0);
  });

  it('nonFiniteCount finds every non-finite value of a misaligned tensor spanning many read chunks', () => {
    for (const dtype of ['float32', 'float64'] as const) {
      const n = 100_003;
      const arr = dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
      for (let i = 0; i < n; i++) arr[i] = Math.sin(i) * 1e30;
      // around every multiple of 4096 values (a chunk boundary in either width), and the last one
      const bad = [0, n - 1, ...Array.from({ length: 24 }, (_, k) => (k + 1) * 4096 + (k % 3) - 1)];
      bad.forEach((p, k) => (arr[p] = [Number.NaN, Infinity, -Infinity][k % 3]!));
      for (let shift = 1; shift < 4; shift++) {
        const raw = new Uint8Array(arr.byteLength + shift).subarray(shift);
        raw.set(new Uint8Array(arr.buffer));
        expect(nonFiniteCount(copiedOnRead(dtype, [n], raw)), `${dtype} +${shift}`).toBe(bad.length);
      }
      expect(nonFiniteCount({ dtype, dims: [n], data: arr }), dtype).toBe(bad.length);
    }
  });

  it('encodeModel leaves tensors over inMemoryThreshold out of the bytes, as views named in inMemoryFiles; ONNX Runtime runs them bit for bit', async () => {
    const files: InMemoryFile[] = [];
    const light = own(encodeModel(g, { inMemoryThreshold: 1 << 16, inMemoryFiles: files }));
    expect(light.length).toBeLessThan(bytes.length - wData.byteLength + 1024);
    expect(files.map((f) => f.path)).toEqual(['initializer-0.bin']);
    expect(files[0]!.data.buffer).toBe(g.initializers.get('w')!.data.buffer);
    const onFile = onDisk(light).graph.initializer!.find((t) => t.name === 'w')!;
    expect(onFile.data_location).toBe(1);
    expect(onFile.external_data).toEqual([
      { key: 'location', value: 'initializer-0.bin' },
      { key: 'offset', value: '0' },
      { key: 'length', value: String(wData.byteLength) },
    ]);
    const xv = f32([2, 32, 6, 6], randn(rng(5), 2 * 32 * 36));
    const inline = await nodeBackend({ cacheDir: false }).createSession(bytes, { threads: 1 });
    const want = (await inline.run({ x: xv }))['y']!.data as Float32Array;
    await inline.release();
    const reference = (await runOrt(bytes, { x: xv }))['y']!.data as Float32Array; // no ConvLens code, no graph optimizations
    for (let i = 0; i < want.length; i++) expect(Math.abs(want[i]! - reference[i]!)).toBeLessThan(1e-5);
    const direct = await nodeBackend({ cacheDir: false }).createSession(light, { threads: 1, externalData: files });
    expect((await direct.run({ x: xv }))['y']!.data).toEqual(want);
    await direct.release();
    // The engine takes this path on a backend that reads in-memory weights, and encodes inline otherwise.
    for (const backend of [nodeBackend({ cacheDir: false }), { ...nodeBackend({ cacheDir: false }), inMemoryWeights: false }]) {
      const seen: number[] = [];
      const counting = { ...backend, createSession: (m: Uint8Array, o: Parameters<typeof backend.createSession>[1]) => (seen.push(m.length, o.externalData?.length ?? 0), backend.createSession(m, o)) };
      const e = new Engine(counting, { threads: 1 });
      expect((await (await e.compileOnce(g)).run({ x: xv }))['y']!.data).toEqual(want);
      await e.dispose();
      expect(seen, String(backend.inMemoryWeights)).toEqual(backend.inMemoryWeights ? [light.length, 1] : [bytes.length, 0]);
    }
  });

  it('outputs offered as preallocated views are written there (onnx-runtime-node), or copied there by a session that ignores the offer', async () => {
    const xv = f32([3, 32, 6, 6], randn(rng(7), 3 * 32 * 36));
    const e = new Engine(nodeBackend({ cacheDir: false }), { threads: 1 });
    const compiled = await e.compileOnce(g);
    const want = (await compiled.run({ x: xv }))['y']!.data as Float32Array;
    const per = want.length / 3;
    const all = new Float32Array(per * 5).fill(7);
    const view = { dtype: 'float32' as const, dims: [3, 64, 6, 6], data: all.subarray(per, per * 4) };
    const out = await compiled.run({ x: xv }, ['y'], { y: view });
    expect(out['y']!.data).toBe(view.data); // written in place
    expect(all.subarray(per, per * 4)).toEqual(want);
    expect(all.subarray(0, per).every((v) => v === 7) && all.subarray(per * 4).every((v) => v === 7)).toBe(true);
    await e.dispose();
    // A backend whose sessions ignore `into` (as onnxruntime-web's adapter does): the engine copies.
    const plain = nodeBackend({ cacheDir: false });
    const ignoring = { ...plain, createSession: async (m: Uint8Array, o: Parameters<typeof plain.createSession>[1]) => {
      const s = await plain.createSession(m, o);
      return { ...s, run: (feeds: Parameters<typeof s.run>[0], fetch?: readonly string[]) => s.run(feeds, fetch) };
    } };
    const e2 = new Engine(ignoring, { threads: 1 });
    const target = { dtype: 'float32' as const, dims: [3, 64, 6, 6], data: new Float32Array(per * 3) };
    const out2 = await (await e2.compileOnce(g)).run({ x: xv }, ['y'], { y: target });
    expect(out2['y']!.data).toBe(target.data);
    expect(target.data).toEqual(want);
    await e2.dispose();
  });

  it('a model loaded from a file runs the same with its weights passed by reference', async () => {
    const file = tmp.path('by-reference.onnx');
    writeFileSync(file, bytes);
    const xv = f32([1, 32, 6, 6], randn(rng(6), 32 * 36));
    const e = new Engine(nodeBackend({ cacheDir: false }), { threads: 1 });
    const want = (await (await e.compileOnce(decodeModel(bytes))).run({ x: xv }))['y']!.data;
    const model = loadModelFile(file, e);
    // y is a feature map [1, C, 6, 6]: the model explains its channel means, and y stays a layer
    expect((await model.run(xv, ['y']))['y']!.data).toEqual(want);
    await e.dispose();
  });
});

describe('decoding tensors stored in typed fields (how onnx.helper.make_tensor writes them)', () => {
  it('reads float_data, int32_data (int32, uint8, bool), double_data and int64_data, with INT64_MAX exact', () => {
    const bytes = rawModel({
      ...identityGraph([
        { name: 't', dims: [2], data_type: 1, float_data: [1.5, -2] },
        { name: 'i32', dims: [2], data_type: 6, int32_data: [-7, 9] },
        { name: 'u8', dims: [3], data_type: 2, int32_data: [0, 200, 255] },
        { name: 'b', dims: [2], data_type: 9, int32_data: [1, 0] },
        { name: 'd', dims: [1], data_type: 11, double_data: [0.1] },
        // A Slice "to the end" constant: 2^63-1 must not come back as -2^63 (it did: Long -> Number -> BigInt wrapped).
        { name: 'ends', dims: [3], data_type: 7, int64_data: ['9223372036854775807', '-9223372036854775808', '9007199254740993'] },
        { name: 'u64', dims: [1], data_type: 13, uint64_data: ['18446744073709551615'] },
      ]),
    });
    const g = decodeModel(bytes, { source: 'typed.onnx' });
    const vals = (k: string): (number | bigint)[] => Array.from(g.initializers.get(k)!.data as ArrayLike<number | bigint>);
    expect(vals('t')).toEqual([1.5, -2]);
    expect(vals('i32')).toEqual([-7, 9]);
    expect(vals('u8')).toEqual([0, 200, 255]);
    expect(vals('b')).toEqual([1, 0]);
    expect(vals('d')).toEqual([0.1]);
    expect(vals('ends')).toEqual([INT64_MAX, INT64_MIN, 9007199254740993n]);
    expect(vals('u64')).toEqual([18446744073709551615n]);
  });
});

// ------------------------------------------------------------------ external data

/** A small CNN with one NCHW input (what Model accepts): conv 8x3x3x3 and fc 10x8 are big enough to go external. */
function smallCnn(): Graph {
  const r = rng(42);
  const b = new GraphBuilder();
  b.graph.name = 'ext_cnn';
  const x = b.input('x', 'float32', [1, 3, 8, 8]);
  const w = b.initializer('conv.weight', f32([8, 3, 3, 3], randn(r, 216, 0.3)));
  const bias = b.initializer('conv.bias', f32([8], randn(r, 8, 0.1)));
  const c = b.op('Conv', [x, w, bias], { pads: [1, 1, 1, 1] }, { name: 'conv' });
  const a = b.op('Relu', [c], {}, { name: 'relu' });
  const p = b.op('GlobalAveragePool', [a], {}, { name: 'gap' });
  const f = b.op('Flatten', [p], { axis: 1 }, { name: 'flatten' });
  const fw = b.initializer('fc.weight', f32([10, 8], randn(r, 80, 0.3)));
  const fb = b.initializer('fc.bias', f32([10], randn(r, 10, 0.1)));
  const y = b.op('Gemm', [f, fw, fb], { transB: 1 }, { name: 'fc', outputs: ['logits'] });
  b.output(y);
  const g = b.build();
  g.metadata.set('convlens.labels', JSON.stringify(Array.from({ length: 10 }, (_, i) => `class${i}`)));
  return g;
}

/** Writes model.onnx + its data file into `dir`; returns the model path and what was written. */
function writeExternalModel(dir: string, options: Partial<EncodeOptions> = {}): { path: string; written: Map<string, Uint8Array>; bytes: Uint8Array } {
  mkdirSync(dir, { recursive: true });
  const written = new Map<string, Uint8Array>();
  const bytes = own(
    encodeModel(smallCnn(), {
      externalThreshold: 256,
      writeExternal: (location, data) => {
        written.set(location, Uint8Array.from(data));
        writeFileSync(join(dir, location), data);
      },
      ...options,
    }),
  );
  const path = join(dir, 'model.onnx');
  writeFileSync(path, bytes);
  return { path, written, bytes };
}

describe('external data', () => {
  const dir = tmp.path('ext');
  const { path, written, bytes } = writeExternalModel(dir);
  const x = f32([1, 3, 8, 8], randn(rng(7), 192));

  it('puts tensors >= externalThreshold in the data file at 4096-aligned offsets, the rest inline', () => {
    expect([...written.keys()]).toEqual(['model.onnx.data']);
    const data = written.get('model.onnx.data')!;
    const inits = onDisk(bytes).graph.initializer!;
    const byName = new Map(inits.map((t) => [t.name, t]));
    const ext = (n: string): Record<string, string> => Object.fromEntries(byName.get(n)!.external_data!.map((e) => [e.key, e.value]));
    expect(byName.get('conv.weight')!.data_location).toBe(1);
    expect(ext('conv.weight')).toEqual({ location: 'model.onnx.data', offset: '0', length: String(216 * 4) });
    expect(ext('fc.weight')).toEqual({ location: 'model.onnx.data', offset: '4096', length: String(80 * 4) });
    for (const n of ['conv.bias', 'fc.bias']) {
      expect(byName.get(n)!.data_location ?? 0, n).toBe(0);
      expect(byName.get(n)!.raw_data, n).toBeTruthy();
    }
    expect(data.length).toBe(4096 + 320);
    const orig = smallCnn().initializers.get('fc.weight')!.data as Float32Array;
    expect(Array.from(new Float32Array(data.slice(4096, 4096 + 320).buffer))).toEqual(Array.from(orig));
  });

  it('decodeModel + readExternal restores every initializer exactly', () => {
    const g = decodeModel(readFileSync(path), { source: path, readExternal: (loc) => readFileSync(join(dir, loc)) });
    for (const [name, t] of smallCnn().initializers) {
      expect(Array.from(g.initializers.get(name)!.data as Float32Array), name).toEqual(Array.from(t.data as Float32Array));
    }
  });

  it('ONNX Runtime reads the same file + data (by path) and agrees with loadModelFile + Model.run', async () => {
    const session = await ort.InferenceSession.create(path);
    const want = (await session.run({ x: new ort.Tensor('float32', x.data as Float32Array, [...x.dims]) }))['logits']!;
    await session.release();
    const model = loadModelFile(path, engine);
    expect(model.labels).toEqual(Array.from({ length: 10 }, (_, i) => `class${i}`));
    const out = await model.run(x);
    const got = out[model.output]!;
    expect(got.dims).toEqual([1, 10]);
    const w = want.data as Float32Array;
    const gd = got.data as Float32Array;
    for (let i = 0; i < 10; i++) expect(gd[i]).toBeCloseTo(w[i]!, 5);
    expect(Math.max(...Array.from(w, Math.abs))).toBeGreaterThan(1e-3); // not a trivially zero output
  });

  it('decodeModel without readExternal: EXTERNAL_DATA_MISSING naming the tensor and the file', () => {
    const e = expectConvLensError(() => decodeModel(readFileSync(path), { source: 'bytes-only' }), 'EXTERNAL_DATA_MISSING');
    expect(e.message).toContain('bytes-only');
    expect(e.message).toContain('"conv.weight"');
    expect(e.message).toContain('model.onnx.data');
    expect(e.hint).toMatch(/file path/);
  });

  it('a deleted data file: EXTERNAL_DATA_MISSING naming model, tensor and data file, with a hint', () => {
    const d = tmp.path('ext-missing');
    const m = writeExternalModel(d);
    rmSync(join(d, 'model.onnx.data'));
    const e = expectConvLensError(() => loadModelFile(m.path, engine), 'EXTERNAL_DATA_MISSING');
    expect(e.message).toContain(m.path);
    expect(e.message).toContain('"conv.weight"');
    expect(e.message).toContain('"model.onnx.data"');
    expect(e.hint).toContain('model.onnx.data');
  });

  it('a truncated data file: MODEL_UNREADABLE naming the tensor, the byte range and the file', () => {
    const d = tmp.path('ext-truncated');
    const m = writeExternalModel(d);
    // Cut inside the second tensor: conv.weight still reads, fc.weight does not.
    truncateSync(join(d, 'model.onnx.data'), 4096 + 100);
    const e = expectConvLensError(() => loadModelFile(m.path, engine), 'MODEL_UNREADABLE');
    expect(e.message).toContain(m.path);
    expect(e.message).toContain('"fc.weight"');
    expect(e.message).toContain('"model.onnx.data"');
    expect(e.message).toContain(`${4096 + 100}`);
    expect(e.hint).toMatch(/truncated/);
    // Cut to nothing: the first tensor fails.
    truncateSync(join(d, 'model.onnx.data'), 0);
    const e0 = expectConvLensError(() => loadModelFile(m.path, engine), 'MODEL_UNREADABLE');
    expect(e0.message).toContain('"conv.weight"');
  });

  it('a custom externalLocation is written and resolved beside the model', () => {
    const d = tmp.path('ext-custom');
    const m = writeExternalModel(d, { externalLocation: 'weights.bin' });
    expect([...m.written.keys()]).toEqual(['weights.bin']);
    const model = loadModelFile(m.path, engine);
    expect(Array.from(model.graph.initializers.get('fc.weight')!.data as Float32Array)).toEqual(
      Array.from(smallCnn().initializers.get('fc.weight')!.data as Float32Array),
    );
  });

  it('refuses external-data locations outside the model folder, even when the file exists', () => {
    const root = tmp.path('ext-escape');
    const sub = join(root, 'sub');
    mkdirSync(sub, { recursive: true });
    const bytesOut = own(
      encodeModel(smallCnn(), {
        externalThreshold: 256,
        externalLocation: '../outside.data',
        writeExternal: (_loc, data) => writeFileSync(join(root, 'outside.data'), data),
      }),
    );
    const p = join(sub, 'model.onnx');
    writeFileSync(p, bytesOut);
    const e = expectConvLensError(() => loadModelFile(p, engine), 'EXTERNAL_DATA_MISSING');
    expect(e.message).toContain('../outside.data');
    expect(e.message).toMatch(/inside the model folder/);
  });

  it('invalid external offset / length values are MODEL_UNREADABLE, not silently misread', () => {
    const mk = (kv: Record<string, string>): Uint8Array =>
      rawModel(identityGraph([{ name: 't', dims: [1], data_type: 1, data_location: 1, external_data: Object.entries(kv).map(([key, value]) => ({ key, value })) }]));
    const read = (): Uint8Array => new Uint8Array(8);
    const bad: Record<string, string>[] = [
      { location: 'd.bin', offset: '-4' },
      { location: 'd.bin', offset: 'abc' },
      { location: 'd.bin', offset: '0', length: '-4' },
      { location: 'd.bin', offset: '6', length: '4' },
    ];
    for (const kv of bad) {
      const e = expectConvLensError(() => decodeModel(mk(kv), { source: 'ext.onnx', readExternal: read }), 'MODEL_UNREADABLE');
      expect(e.message).toContain('"t"');
      expect(e.message).toContain('d.bin');
    }
    const noLoc = expectConvLensError(() => decodeModel(mk({ offset: '0' }), { source: 'ext.onnx', readExternal: read }), 'MODEL_UNREADABLE');
    expect(noLoc.message).toMatch(/no location/);
  });
});

// ------------------------------------------------------------------ corrupt input

describe('corrupt input never escapes as a raw crash', () => {
  const g = smallCnn();
  const bytes = own(encodeModel(g));

  const check = (data: Uint8Array, source: string): ConvLensError | Graph => {
    try {
      return decodeModel(data, { source });
    } catch (e) {
      if (!(e instanceof ConvLensError)) throw new Error(`${source}: raw ${(e as Error).constructor.name}: ${(e as Error).message}`);
      expect(e.message, source).toContain(source);
      expect(e.hint, source).toBeTruthy();
      return e;
    }
  };

  it('truncated at every byte: a ConvLensError naming the source, or (only at a top-level field boundary) the same graph minus trailing fields', () => {
    let decoded = 0;
    const codes = new Set<string>();
    for (let cut = 0; cut < bytes.length; cut++) {
      const r = check(bytes.subarray(0, cut), `cut-${cut}.onnx`);
      if (r instanceof ConvLensError) {
        codes.add(r.code);
        continue;
      }
      // protobuf has no end marker: a cut right after a complete top-level field is a valid message.
      decoded++;
      expect(r.nodes.map((n) => n.name), `cut ${cut}`).toEqual(g.nodes.map((n) => n.name));
      expect(r.initializers.size, `cut ${cut}`).toBe(g.initializers.size);
    }
    expect(decoded).toBeLessThanOrEqual(2);
    expect([...codes].sort()).toEqual(['MODEL_UNREADABLE', 'UNSUPPORTED_OPSET']);
  });

  it('truncated files through loadModelFile name the file path', () => {
    for (const cut of [1, 10, Math.floor(bytes.length / 2), bytes.length - 5]) {
      const p = tmp.path(`truncated-${cut}.onnx`);
      writeFileSync(p, bytes.subarray(0, cut));
      const e = expectConvLensError(() => loadModelFile(p, engine), ['MODEL_UNREADABLE', 'UNSUPPORTED_OPSET']);
      expect(e.message).toContain(p);
    }
  });

  it('random bytes (seeded, many lengths) and single-byte corruptions', () => {
    const r = rng(2024);
    for (let k = 0; k < 300; k++) {
      const junk = Uint8Array.from({ length: 1 + Math.floor(r() * 3000) }, () => Math.floor(r() * 256));
      check(junk, `random-${k}.bin`);
    }
    for (let k = 0; k < 3000; k++) {
      const m = Uint8Array.from(bytes);
      m[Math.floor(r() * m.length)] = Math.floor(r() * 256);
      check(m, `flipped-${k}.onnx`);
    }
  });

  it('an empty file', () => {
    const p = tmp.path('empty.onnx');
    writeFileSync(p, new Uint8Array(0));
    const e = expectConvLensError(() => loadModelFile(p, engine), 'MODEL_UNREADABLE');
    expect(e.message).toContain(p);
    expect(e.message).toMatch(/no ONNX graph/);
  });

  it('a PNG image passed as a model', async () => {
    const png = await sharp({ create: { width: 4, height: 4, channels: 3, background: { r: 255, g: 0, b: 0 } } }).png().toBuffer();
    expect(Array.from(png.subarray(0, 4))).toEqual([0x89, 0x50, 0x4e, 0x47]);
    const p = tmp.path('photo.png');
    writeFileSync(p, png);
    const e = expectConvLensError(() => loadModelFile(p, engine), 'MODEL_UNREADABLE');
    expect(e.message).toContain(p);
    expect(e.hint).toMatch(/not an ONNX/);
  });

  it('a JSON / text file passed as a model', () => {
    const p = tmp.path('config.json');
    writeFileSync(p, JSON.stringify({ model: 'resnet', layers: [1, 2, 3] }));
    const e = expectConvLensError(() => loadModelFile(p, engine), ['MODEL_UNREADABLE', 'UNSUPPORTED_OPSET']);
    expect(e.message).toContain(p);
  });

  for (const opset of [3, 6, 23, 25]) {
    it(`unsupported opset ${opset}: UNSUPPORTED_OPSET naming the source and the range, with a conversion hint`, () => {
      const h = smallCnn();
      h.opset = opset;
      const e = expectConvLensError(() => decodeModel(encodeModel(h), { source: `op${opset}.onnx` }), 'UNSUPPORTED_OPSET');
      expect(e.message).toContain(`op${opset}.onnx`);
      expect(e.message).toContain(`opset ${opset}`);
      expect(e.message).toMatch(/7 to 22/);
      expect(e.hint).toMatch(opset < 7 ? /convert_version/ : /opset_version=17/);
    });
  }

  it('a model with only a non-default-domain opset: UNSUPPORTED_OPSET', () => {
    const bytes2 = rawModel(identityGraph([{ name: 't', dims: [1], data_type: 1, float_data: [1] }]), 17, { opset_import: [{ domain: 'com.microsoft', version: 1 }] });
    const e = expectConvLensError(() => decodeModel(bytes2, { source: 'noai.onnx' }), 'UNSUPPORTED_OPSET');
    expect(e.message).toMatch(/declares no ai.onnx opset/);
  });

  it('corrupt tensors: negative dims, absurd dims, wrong raw_data length, wrong value count, unknown data type', () => {
    const cases: [string, Record<string, unknown>, string][] = [
      ['negative dims', { dims: [-4], data_type: 1 }, 'invalid dims'],
      ['negative dims with raw data', { dims: [-4], data_type: 1, raw_data: new Uint8Array(16) }, 'invalid dims'],
      ['terabyte dims, no data', { dims: [1000000, 1000000], data_type: 1 }, 'no data'],
      ['terabyte int64 dims, no data', { dims: [1000000, 1000000], data_type: 7 }, 'no data'],
      ['terabyte dims, some data', { dims: [1000000, 1000000], data_type: 1, float_data: [1, 2] }, '2 values'],
      ['raw_data too short', { dims: [3], data_type: 1, raw_data: new Uint8Array(11) }, '11 bytes'],
      ['float_data count mismatch', { dims: [3], data_type: 1, float_data: [1, 2] }, '2 values'],
    ];
    for (const [what, t, words] of cases) {
      const e = expectConvLensError(() => decodeModel(rawModel(identityGraph([{ name: 't', ...t }])), { source: 'bad.onnx' }), 'MODEL_UNREADABLE');
      expect(e.message, what).toContain('"t"');
      expect(e.message, what).toContain(words);
    }
    const str8 = expectConvLensError(() => decodeModel(rawModel(identityGraph([{ name: 't', dims: [1], data_type: 8 }])), { source: 'bad.onnx' }), 'MODEL_UNSUPPORTED');
    expect(str8.message).toMatch(/data type 8/);
  });

  it('unsupported structures: sparse initializers, local functions, control-flow subgraphs', () => {
    const sparse = rawModel({ ...identityGraph([]), sparse_initializer: [{ dims: [2] }] });
    expect(expectConvLensError(() => decodeModel(sparse, { source: 's.onnx' }), 'MODEL_UNSUPPORTED').message).toMatch(/sparse/);
    const fn = rawModel(identityGraph([{ name: 't', dims: [1], data_type: 1, float_data: [1] }]), 17, { functions: [{ name: 'f', domain: 'custom' }] });
    expect(expectConvLensError(() => decodeModel(fn, { source: 'f.onnx' }), 'MODEL_UNSUPPORTED').message).toMatch(/functions/);
    const withIf = rawModel({
      name: 'g',
      node: [{ op_type: 'If', name: 'branch', input: ['c'], output: ['y'], attribute: [{ name: 'then_branch', type: 5, g: { name: 'then' } }] }],
      input: [{ name: 'c', type: { tensor_type: { elem_type: 9, shape: { dim: [] } } } }],
      output: [{ name: 'y', type: { tensor_type: { elem_type: 1 } } }],
    });
    const e = expectConvLensError(() => decodeModel(withIf, { source: 'if.onnx' }), 'MODEL_UNSUPPORTED');
    expect(e.message).toContain('"branch"');
    expect(e.message).toContain('then_branch');
    expect(e.hint).toContain('detector');
  });
});
