// A kernel that fails inside ONNX Runtime is reported once, in ConvLens's words: the node, its
// op and ORT's reason, without ORT's source location, and without ORT's own copy on stderr.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConvLensError } from '../../src/engine/errors.js';
import { GraphBuilder } from '../../src/engine/graph/builder.js';
import { decodeModel, encodeModel } from '../../src/engine/onnx/codec.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { compileRefusal, kernelFailure } from '../../src/engine/runtime/ort.js';
import { f32 } from '../../src/engine/tensor.js';
import { encodeNpy } from '../../src/io/npy.js';
import { seededRandom } from '../../src/models/init.js';
import { Layers } from '../../src/models/layers.js';
import { Model } from '../../src/models/model.js';
import { hintForStudio } from '../../src/util/ways-out.js';
import { convlens } from '../support/cli.js';
import { f32 as tensor, handGraph, int, ints, node } from '../support/onnx-files.js';
import { tempFolder } from '../support/temp-folder.js';

const engine = new Engine(nodeBackend(), { threads: 1 });
const dir = tempFolder('convlens-ort-errors-');
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

/** A classifier whose ReLU carries an attribute ReLU does not have: ConvLens loads it, ORT refuses to compile it. */
function reluWithUnknownAttribute(): Uint8Array {
  return encodeModel(
    handGraph({
      opset: 17,
      inputs: [{ name: 'x', dtype: 'float32', shape: [1, 3, 16, 16] }],
      outputs: ['logits'],
      nodes: [node('Conv', ['x', 'w'], ['c'], { kernel_shape: ints([3, 3]), pads: ints([1, 1, 1, 1]) }), node('Relu', ['c'], ['m'], { foo: int(1) }, 'act'), node('GlobalAveragePool', ['m'], ['p']), node('Flatten', ['p'], ['logits'])],
      initializers: { w: tensor([4, 3, 3, 3], Array.from({ length: 108 }, (_, k) => Math.sin(k))) },
    }),
  );
}

describe('graphs ONNX Runtime refuses to compile', () => {
  // Until 2026-12-07 every refusal was a RUNTIME_FAILURE (a 500 in the studio) quoting ORT's text whole.
  const SOURCES = /onnxruntime_src|\.(?:h|cc|cpp):\d+|onnxruntime::/;

  it("is the model's fault when ORT refuses what the graph asks for, named by node when ORT names it", () => {
    const cases: [string, string][] = [
      ['This is an invalid model. In Node, ("act", Relu, "", -1) : ("c": tensor(float),) -> ("m": tensor(float),) , Error Unrecognized attribute: foo for operator Relu', 'node "act" (Relu): Unrecognized attribute: foo for operator Relu'],
      ['Type Error: Type parameter (T) of Optype (Add) bound to different types (tensor(float) and tensor(int64) in node (plus).', 'node "plus" (Add): Type parameter (T) bound to different types (tensor(float) and tensor(int64))'],
      ["Node (sm) Op (Softmax) [ShapeInferenceError] 'axis' must be in [-4 , 3]. Its actual value is: 7", "node \"sm\" (Softmax): 'axis' must be in [-4 , 3]. Its actual value is: 7"],
      ["Could not find an implementation for Foo(7) node with name 'bar'", 'node "bar" (Foo): ONNX Runtime has no kernel for Foo with these input types or this opset'],
      [
        "Exception during initialization: /onnxruntime_src/onnxruntime/core/providers/cpu/nn/conv_attributes.h:50 onnxruntime::ConvAttributes::ConvAttributes(const KernelInfoType&) [with KernelInfoType = onnxruntime::OpKernelInfo] auto_pad == AutoPadType::NOTSET was false. A Conv/ConvTranspose node has both 'auto_pad' and 'pads' attributes\n",
        "A Conv/ConvTranspose node has both 'auto_pad' and 'pads' attributes",
      ],
      [
        'Exception during initialization: /onnxruntime_src/onnxruntime/core/providers/cpu/tensor/upsamplebase.h:74 onnxruntime::UpsampleMode onnxruntime::UpsampleBase::StringToUpsampleMode(const std::string&) mode attribute is bogus. It can only be nearest(default) or linear or cubic.\n',
        'mode attribute is bogus. It can only be nearest(default) or linear or cubic',
      ],
    ];
    for (const [ort, said] of cases) {
      const error = compileRefusal(ort);
      expect(error.code).toBe('MODEL_UNSUPPORTED');
      expect(error.message).toBe(`ONNX Runtime cannot compile this model: ${said}.`);
      expect(error.hint).toMatch(/re-export/i);
    }
  });

  it('says that memory ran out, and the way out, without its sources', () => {
    const error = compileRefusal('/onnxruntime_src/onnxruntime/core/framework/bfc_arena.cc:376 void* onnxruntime::BFCArena::AllocateRawInternal(size_t, bool, onnxruntime::Stream*, bool, onnxruntime::WaitNotificationFn) Failed to allocate memory for requested buffer of size 123\n');
    expect(error.code).toBe('RUNTIME_FAILURE');
    expect(error.message).toBe('ONNX Runtime ran out of memory compiling a graph (Failed to allocate memory for requested buffer of size 123).');
    expect(error.message).not.toMatch(SOURCES);
    expect(error.hint).toBe('Compute fewer methods at once, or use a smaller model or input: every method compiles its own graph with its own copy of the weights.');
    // onnxruntime-web's words; its memory ends at 4 GB, and the studio's way out is its server
    const web = compileRefusal("Can't create a session. ERROR_CODE: 6, ERROR_MESSAGE: std::bad_alloc", undefined, 'onnxruntime-web');
    expect(web.message).toBe('ONNX Runtime ran out of memory compiling a graph (std::bad_alloc).');
    expect(web.hint).toMatch(/WebAssembly memory ends at 4 GB: onnxruntime-node, in Node, has the whole machine's\.$/);
    expect(hintForStudio(web.hint!)).toMatch(/WebAssembly memory ends at 4 GB: compute on the server instead, which has the whole machine's\.$/);
  });

  it('stays an internal failure when ORT itself fails otherwise', () => {
    const error = compileRefusal("Can't create a session. ERROR_CODE: 1, ERROR_MESSAGE: something inside ORT broke");
    expect(error.code).toBe('RUNTIME_FAILURE');
    expect(error.message).toBe("ONNX Runtime could not compile the graph: Can't create a session. ERROR_CODE: 1, ERROR_MESSAGE: something inside ORT broke.");
  });

  it('a run of such a model throws that refusal', async () => {
    const model = new Model(decodeModel(reluWithUnknownAttribute(), { source: 'relu_attr' }), engine);
    const error = await model.run(f32([1, 3, 16, 16], new Float32Array(768))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConvLensError);
    expect((error as ConvLensError).code).toBe('MODEL_UNSUPPORTED');
    expect((error as ConvLensError).message).toBe('ONNX Runtime cannot compile this model: node "act" (Relu): Unrecognized attribute: foo for operator Relu.');
  });

  it('the CLI prints the refusal with its hint and no stack trace', async () => {
    writeFileSync(join(dir, 'relu-attr.onnx'), reluWithUnknownAttribute());
    writeFileSync(join(dir, 'x16.npy'), encodeNpy(f32([1, 3, 16, 16], new Float32Array(768))));
    const r = await convlens('predict', join(dir, 'x16.npy'), '--model', join(dir, 'relu-attr.onnx'), '-q');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('convlens: ONNX Runtime cannot compile this model: node "act" (Relu): Unrecognized attribute: foo for operator Relu.\n  The file asks for something ONNX Runtime does not implement. Re-export the model (a current exporter and opset), or fix the node; if the file loads in onnxruntime itself, this is a ConvLens bug worth reporting.\n');
  }, 60_000);
});
