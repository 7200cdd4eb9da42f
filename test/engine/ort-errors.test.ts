// A kernel that fails inside ONNX Runtime is reported once, in ConvLens's words: the node, its
// op and ORT's reason, without ORT's source location, and without ORT's own copy on stderr.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConvLensError } from '../../src/engine/errors.js';
import { GraphBuilder } from '../../src/engine/graph/builder.js';
import { decodeModel, encodeModel } from '../../src/engine/onnx/codec.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { kernelFailure } from '../../src/engine/runtime/ort.js';
import { f32 } from '../../src/engine/tensor.js';
import { encodeNpy } from '../../src/io/npy.js';
import { seededRandom } from '../../src/models/init.js';
import { Layers } from '../../src/models/layers.js';
import { Model } from '../../src/models/model.js';
import { convlens } from '../support/cli.js';

const engine = new Engine(nodeBackend(), { threads: 1 });
const dir = mkdtempSync(join(tmpdir(), 'convlens-ort-errors-'));
afterAll(async () => {
  await engine.dispose();
  rmSync(dir, { recursive: true, force: true });
});

/** Six pooled features reshaped to rows of five: loads (the batch is symbolic), fails when run. */
function badReshape(): Uint8Array {
  const b = new GraphBuilder();
  b.graph.name = 'bad_reshape';
  const L = new Layers(b, seededRandom(7));
  const image = b.input('image', 'float32', ['N', 3, 16, 16]);
  const x = L.relu(L.conv2d(image, 'conv1', { filters: 6, stride: 2 }), 'relu1');
  b.output(b.op('Reshape', [L.flatten(L.globalAvgPool(x, 'gap'), 'flat'), b.ints([-1, 5])]));
  return encodeModel(b.build());
}

describe('kernel failures', () => {
  it('kernelFailure keeps the node, the op and the reason', () => {
    const ort =
      "Non-zero status code returned while running Reshape node. Name:'Reshape_7' Status Message: /onnxruntime_src/onnxruntime/core/providers/cpu/tensor/reshape_helper.h:84 onnxruntime::ReshapeHelper::ReshapeHelper(const onnxruntime::TensorShape&, onnxruntime::TensorShapeVector&, bool) size != 0 && (input_shape_size % size) == 0 was false. The input tensor cannot be reshaped to the requested shape. Input shape:{1,6}, requested shape:{-1,5}\n";
    expect(kernelFailure(ort)).toBe('at node "Reshape_7" (Reshape): The input tensor cannot be reshaped to the requested shape. Input shape:{1,6}, requested shape:{-1,5}');
    const conv = "Non-zero status code returned while running Conv node. Name:'conv1' Status Message: Input channels C is not equal to kernel channels * group. C: 1 kernel channels: 1 group: 9";
    expect(kernelFailure(conv)).toBe('at node "conv1" (Conv): Input channels C is not equal to kernel channels * group. C: 1 kernel channels: 1 group: 9');
    expect(kernelFailure('something else.\n')).toBe('something else');
  });

  it('a run that fails in ORT throws a RUNTIME_FAILURE naming the node', async () => {
    const model = new Model(decodeModel(badReshape(), { source: 'bad_reshape' }), engine);
    const error = await model.run(f32([1, 3, 16, 16], new Float32Array(768))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConvLensError);
    expect((error as ConvLensError).code).toBe('RUNTIME_FAILURE');
    expect((error as ConvLensError).message).toMatch(/^ONNX Runtime failed while running the graph: at node "[^"]+" \(Reshape\): The input tensor cannot be reshaped/);
    expect((error as ConvLensError).message).not.toContain('onnxruntime_src');
  });

  it('the CLI says it once, with no ORT log line on stderr', async () => {
    writeFileSync(join(dir, 'bad.onnx'), badReshape());
    writeFileSync(join(dir, 'x.npy'), encodeNpy(f32([1, 3, 16, 16], new Float32Array(768))));
    const r = await convlens('predict', join(dir, 'x.npy'), '--model', join(dir, 'bad.onnx'), '-q');
    expect(r.code).toBe(1);
    expect(r.stderr).not.toContain('[E:onnxruntime');
    expect(r.stderr).toMatch(/^convlens: ONNX Runtime failed while running the graph: at node "[^"]+" \(Reshape\): .*\.\n {2}Check that the input fits the model/);
  }, 60_000);
});
