// A free batch in the file that the graph does not keep. MXNet's converter wrote the ONNX Model
// Zoo's mobilenetv2-7 with input [N, 3, 224, 224] and its flatten as the constant Reshape
// [1, -1]: the file only runs one image, shape inference finds no class count, and explain
// stopped at 'output ... has no static class dimension'. Read as the batch-1 export it is, the
// Reshape copies the batch instead and the model takes any number of images; a graph whose
// shapes fit one image only is pinned to batch 1 and run one image at a time, saying so once.
import { afterAll, describe, expect, it } from 'vitest';
import type { Node } from '../../src/engine/graph/ir.js';
import { decodeModel, encodeModel } from '../../src/engine/onnx/codec.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { f32, type Tensor } from '../../src/engine/tensor.js';
import { explain, type MethodName } from '../../src/methods/explain/index.js';
import { Model } from '../../src/models/model.js';
import { randn, rng } from '../support/rng.js';
import { float, handGraph, i64, ints, node, own, runOrt, type HandGraph } from '../support/onnx-files.js';

const engine = new Engine(nodeBackend(), { threads: 1 });
afterAll(() => engine.dispose());

const rand = rng(9);
const weights = (dims: number[], scale = 0.3): Tensor => f32(dims, randn(rand, dims.reduce((a, b) => a * b, 1)).map((v) => v * scale));
const positive = (dims: number[]): Tensor => f32(dims, randn(rand, dims.reduce((a, b) => a * b, 1)).map((v) => 0.5 + Math.abs(v)));
const images = (n: number): Tensor => f32([n, 3, 16, 16], randn(rand, n * 3 * 16 * 16));
const row = (t: Tensor, i: number): Float32Array => {
  const per = t.data.length / t.dims[0]!;
  return (t.data as Float32Array).slice(i * per, (i + 1) * per);
};

/** mobilenetv2-7 in miniature, as MXNet wrote it: opset 7, Clip attributes, BatchNorm, 1x1-conv head, Reshape [1, -1]. */
function mobilenetShaped(middle: Node[] = []): HandGraph {
  const bn = (x: string, name: string, c: number): Node[] => [node('BatchNormalization', [x, `${name}_g`, `${name}_b`, `${name}_m`, `${name}_v`], [name], { epsilon: float(1e-5) }, name)];
  const stats = (name: string, c: number): Record<string, Tensor> => ({ [`${name}_g`]: positive([c]), [`${name}_b`]: weights([c]), [`${name}_m`]: weights([c]), [`${name}_v`]: positive([c]) });
  const nodes: Node[] = [
    node('Conv', ['data', 'conv0_w'], ['conv0'], { kernel_shape: ints([3, 3]), pads: ints([1, 1, 1, 1]), strides: ints([2, 2]) }, 'conv0'),
    ...bn('conv0', 'bn0', 8),
    node('Clip', ['bn0'], ['relu0'], { min: float(0), max: float(6) }, 'relu0'),
    node('Conv', ['relu0', 'dw_w'], ['dw'], { kernel_shape: ints([3, 3]), pads: ints([1, 1, 1, 1]), group: { type: 'int', value: 8 } }, 'dw'),
    ...bn('dw', 'bn1', 8),
    node('Clip', ['bn1'], ['relu1'], { min: float(0), max: float(6) }, 'relu1'),
    ...middle,
    node('GlobalAveragePool', [middle.length ? middle[middle.length - 1]!.outputs[0]! : 'relu1'], ['pool'], {}, 'pool'),
    node('Conv', ['pool', 'pred_w'], ['pred'], { kernel_shape: ints([1, 1]) }, 'pred'),
    node('Reshape', ['pred', 'flatten_shape'], ['logits'], {}, 'flatten'),
  ];
  return {
    opset: 7,
    name: 'mobilenetv2_shaped',
    inputs: [{ name: 'data', dtype: 'float32', shape: ['N', 3, 16, 16] }],
    outputs: [{ name: 'logits', dtype: 'float32', shape: [1, 10] }],
    nodes,
    initializers: { conv0_w: weights([8, 3, 3, 3]), dw_w: weights([8, 1, 3, 3]), pred_w: weights([10, 8, 1, 1]), flatten_shape: i64([1, -1]), ...stats('bn0', 8), ...stats('bn1', 8) },
  };
}

describe('a free input batch with a Reshape to the constant [1, -1]', () => {
  const bytes = own(encodeModel(handGraph(mobilenetShaped())));
  const model = Model.fromOnnxGraph(decodeModel(bytes, { source: 'mobilenetv2-shaped' }), engine, 'mobilenetv2-shaped');

  it('gets [N, classes] logits, and a run of three images gives what the file gives for each alone', async () => {
    expect(model.facts(model.output).shape).toEqual(['N', 10]);
    expect(model.meta.warnings.filter((w) => w.includes('free batch'))).toEqual([]);
    const x = images(3);
    const got = (await model.run(x))[model.output]!;
    expect(got.dims).toEqual([3, 10]);
    for (let i = 0; i < 3; i++) {
      const want = (await runOrt(bytes, { data: f32([1, 3, 16, 16], row(x, i)) }))['logits']!.data as Float32Array;
      const diff = Math.max(...row(got, i).map((v, k) => Math.abs(v - want[k]!)));
      expect(diff, `image ${i}`).toBeLessThan(1e-5);
    }
  });

  it('is explained (it stopped at "no static class dimension")', async () => {
    const methods: MethodName[] = ['saliency', 'gradcam', 'deeplift'];
    const result = await explain(model, images(2), { methods });
    expect(result.skipped).toEqual([]);
    expect(result.attributions.map((a) => a.method)).toEqual(methods);
  });
});

describe('a free input batch that the graph folds into another axis', () => {
  // [N, 8, 8, 8] -> [2, 4, 8, 8]: fits one image only, with no batch entry a Reshape could copy.
  const folded = mobilenetShaped([
    node('Reshape', ['relu1', 'halves_shape'], ['halves'], {}, 'halves'),
    node('Relu', ['halves'], ['halves_relu'], {}, 'halves_relu'),
    node('Reshape', ['halves_relu', 'whole_shape'], ['whole'], {}, 'whole'),
  ]);
  folded.initializers = { ...folded.initializers, halves_shape: i64([2, 4, 8, 8]), whole_shape: i64([1, 8, 8, 8]) };
  const bytes = own(encodeModel(handGraph(folded)));
  const model = Model.fromOnnxGraph(decodeModel(bytes, { source: 'folded' }), engine, 'folded');

  it('is pinned to batch 1 with one note, and explains several images one per run', async () => {
    expect(model.input.shape).toEqual([1, 3, 16, 16]);
    expect(model.facts(model.output).shape).toEqual([1, 10]);
    expect(model.meta.warnings.filter((w) => w.includes('free batch'))).toHaveLength(1);
    const x = images(2);
    const result = await explain(model, x, { methods: ['saliency', 'gradcam'] });
    expect(result.batchSize).toBe(1);
    const saliency = result.attributions.find((a) => a.method === 'saliency')!.raw;
    expect(saliency.dims[0]).toBe(2);
    const alone = await explain(model, f32([1, 3, 16, 16], row(x, 1)), { methods: ['saliency'] });
    const want = alone.attributions[0]!.raw.data as Float32Array;
    expect(Math.max(...row(saliency, 1).map((v, k) => Math.abs(v - want[k]!)))).toBeLessThan(1e-6);
  });
});
