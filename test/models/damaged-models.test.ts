// Damaged model files (found by mutating the built-in model's bytes): each loads as far as its
// graph allows and is then refused in words by ConvLens or ONNX Runtime; none ends in a TypeError,
// an infinite size or a receptive field made up for a window the file leaves undefined.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConvLensError } from '../../src/engine/errors.js';
import { GraphBuilder } from '../../src/engine/graph/builder.js';
import type { Graph, Node } from '../../src/engine/graph/ir.js';
import { decodeModel, encodeModel } from '../../src/engine/onnx/codec.js';
import { transposeGeometry, windowGeometry } from '../../src/engine/ops/geometry.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { f32 } from '../../src/engine/tensor.js';
import { seededRandom } from '../../src/models/init.js';
import { Layers } from '../../src/models/layers.js';
import { Model } from '../../src/models/model.js';
import { ROOT } from '../support/cli.js';
import { expectConvLensError, ints } from '../support/onnx-files.js';

const engine = new Engine(nodeBackend(), { threads: 1 });
afterAll(async () => {
  await engine.dispose();
});

const BUILTIN = readFileSync(join(ROOT, 'assets', 'models', 'fashion-cnn.onnx'));

/** The built-in CNN with one node changed, written and read back as a file would be. */
function damaged(change: (node: Node) => void, nodeName: string): Uint8Array {
  const g: Graph = decodeModel(BUILTIN);
  const node = g.nodes.find((n) => n.name === nodeName)!;
  change(node);
  return encodeModel(g);
}

async function expectRefusedWhenRun(model: Model): Promise<ConvLensError> {
  const error = await model.run(f32([1, 1, 28, 28], new Float32Array(784))).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ConvLensError);
  return error as ConvLensError;
}

describe('damaged model files', () => {
  it('a pool whose kernel_shape lost its name: refused when the model loads, naming the pool and the attribute', () => {
    const bytes = damaged((n) => {
      n.attrs.kernel_shap_ = n.attrs.kernel_shape!;
      delete n.attrs.kernel_shape;
    }, 'pool3');
    expect(() => new Model(decodeModel(bytes), engine)).toThrow(/^\w+ node "pool3": the kernel_shape attribute is required$/);
  });

  it('a zero stride: the window rule refuses it when the model loads, so no size comes out infinite', () => {
    const bytes = damaged((n) => {
      n.attrs.strides = ints([2, 0]);
    }, 'pool3');
    expect(() => new Model(decodeModel(bytes), engine)).toThrow(/^\w+ node "pool3": strides \[2, 0\] must be positive integers$/);
  });

  it("a Reshape fed a float tensor as its shape (a miswired node): no fractional sizes, refused by ONNX Runtime", async () => {
    const g: Graph = decodeModel(BUILTIN);
    const flat = g.nodes.find((n) => n.op === 'Flatten' || n.op === 'Reshape')!;
    g.initializers.set('float_shape', { dtype: 'float32', dims: [2], data: Float32Array.of(1.5, -1) });
    g.nodes.splice(g.nodes.indexOf(flat), 1, { op: 'Reshape', name: 'miswired', inputs: [flat.inputs[0]!, 'float_shape'], outputs: [...flat.outputs], attrs: {} });
    const model = new Model(decodeModel(encodeModel(g)), engine);
    const error = await expectRefusedWhenRun(model);
    expect(error.code).toBe('MODEL_UNSUPPORTED');
    expect(error.message).not.toContain('encodeModel');
  });

  it('an attribute whose type byte says STRING with no bytes decodes (protobufjs gives an empty Array)', () => {
    const bytes = Uint8Array.from(encodeModel(decodeModel(BUILTIN)));
    const name = new TextEncoder().encode('kernel_shape');
    const at = indexOf(bytes, name, 0);
    const type = indexOf(bytes, Uint8Array.of(0xa0, 0x01, 0x07), at); // AttributeProto.type = INTS
    expect(at).toBeGreaterThan(0);
    expect(type - at).toBeLessThan(40);
    bytes[type + 2] = 0x03; // STRING
    const g = decodeModel(bytes);
    const conv = g.nodes.find((n) => n.op === 'Conv')!;
    expect(conv.attrs.kernel_shape).toEqual({ type: 'string', value: '' });
  });
});

describe('inputs too small for the windows', () => {
  it("a model declaring an input its pools do not fit is refused when loaded (ONNX Runtime's pooling divided by zero: SIGFPE)", () => {
    const g = decodeModel(readFileSync(join(ROOT, 'assets', 'models', 'squeezenet1.1', 'squeezenet1.1.onnx')));
    g.inputs[0]!.shape = [1, 3, 7, 224];
    const error = expectConvLensError(() => new Model(g, engine, 'small-squeezenet'), 'SHAPE_MISMATCH');
    expect(error.message).toBe('Model "small-squeezenet" cannot run on 7x224 inputs: MaxPool node "/MaxPool_1": window of extent 3 does not fit the padded input size 1 on spatial axis 0.');
  });

  it('a model of any size is refused a preprocessing size its windows do not fit', () => {
    const b = new GraphBuilder();
    b.graph.name = 'any_size';
    const L = new Layers(b, seededRandom(3));
    const image = b.input('image', 'float32', ['N', 3, 'H', 'W']);
    const x = b.op('MaxPool', [L.relu(L.conv2d(image, 'conv1', { filters: 4, stride: 2 }), 'relu1')], { kernel_shape: [3, 3], strides: [2, 2] });
    b.output(L.dense(L.flatten(L.globalAvgPool(x, 'gap'), 'flat'), 'fc', 3));
    const model = new Model(b.build(), engine);
    const preprocessing = { ...model.meta.preprocessing, size: [4, 4] as [number, number] };
    const before = model.meta.preprocessing;
    expect(expectConvLensError(() => model.describe({ preprocessing }), 'SHAPE_MISMATCH').message).toContain('cannot run on 4x4 inputs: MaxPool node');
    expect(model.meta.preprocessing).toBe(before); // refused: unchanged
    model.describe({ preprocessing: { ...preprocessing, size: [16, 16] } });
  });
});

describe('window attributes', () => {
  const node = (op: string, attrs: Node['attrs']): Node => ({ op, name: 'n', inputs: ['x'], outputs: ['y'], attrs });
  it('zero or negative strides, dilations and kernels, and negative pads, are refused naming the attribute', () => {
    expect(windowGeometry(node('MaxPool', { strides: ints([2, 2]) }), [8, 8], [2, 2]).out).toEqual([4, 4]);
    expect(expectConvLensError(() => windowGeometry(node('MaxPool', { strides: ints([2, 0]) }), [8, 8], [2, 2]), 'SHAPE_MISMATCH').message).toContain('strides [2, 0] must be positive integers');
    expect(expectConvLensError(() => windowGeometry(node('Conv', { dilations: ints([0, 1]) }), [8, 8], [3, 3])).message).toContain('dilations [0, 1]');
    expect(expectConvLensError(() => windowGeometry(node('Conv', {}), [8, 8], [0, 3])).message).toContain('kernel [0, 3]');
    expect(expectConvLensError(() => windowGeometry(node('Conv', { pads: ints([0, -1, 0, 0]) }), [8, 8], [3, 3])).message).toContain('pads [0, -1, 0, 0] must not be negative');
    expect(expectConvLensError(() => transposeGeometry(node('ConvTranspose', { strides: ints([0, 2]) }), [8, 8], [3, 3])).message).toContain('strides [0, 2]');
    expect(expectConvLensError(() => transposeGeometry(node('ConvTranspose', { output_padding: ints([-1, 0]) }), [8, 8], [3, 3])).message).toContain('output_padding [-1, 0]');
  });
});

function indexOf(haystack: Uint8Array, needle: Uint8Array, from: number): number {
  outer: for (let i = from; i <= haystack.length - needle.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
