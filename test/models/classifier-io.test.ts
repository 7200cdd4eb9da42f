// Classifier inputs and outputs other exporters write. An 8-bit pixel input that the model casts
// to float takes float32 pixels in [0, 255] instead (the casts dropped); class scores shaped
// [N, K, 1, 1] (the model zoo's SqueezeNet 1.0, with a Softmax over axis 1) are flattened, the
// Softmax moved after the flattening so the logits before it are explained; and a model that
// sizes its last Reshape by the input's batch still has its layers found.
import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/engine/graph/builder.js';
import type { Graph } from '../../src/engine/graph/ir.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { f32, type Tensor } from '../../src/engine/tensor.js';
import { explain } from '../../src/methods/explain/index.js';
import { withClassifierFirst } from '../../src/models/classifier-output.js';
import { withFlatLogits } from '../../src/models/flat-logits.js';
import { seededRandom } from '../../src/models/init.js';
import { Layers } from '../../src/models/layers.js';
import { Model } from '../../src/models/model.js';
import { randn, rng } from '../support/rng.js';

const engine = new Engine(nodeBackend(), { threads: 1 });
afterAll(async () => {
  await engine.dispose();
});

const S = 16;
const K = 5;

interface NetOptions {
  /** the input's type: 'uint8' casts it to float and scales it by 1/255 first */
  input?: 'float32' | 'uint8';
  /** how the class scores leave the graph */
  head?: 'flat' | 'map' | 'map-softmax' | 'map-from-input-batch';
}

/** conv, relu, conv, relu, global pool, dense (1x1 conv for the map heads); seeded weights, so equal options give equal networks. */
function net(o: NetOptions = {}): Graph {
  const b = new GraphBuilder();
  b.graph.name = `net_${o.input ?? 'float32'}_${o.head ?? 'flat'}`;
  const L = new Layers(b, seededRandom(7));
  const image = b.input('image', o.input ?? 'float32', ['N', 3, S, S]);
  let x = o.input === 'uint8' ? b.op('Mul', [b.op('Cast', [image], { to: 1 }), b.scalar(1 / 255)]) : image;
  x = L.relu(L.conv2d(x, 'conv1', { filters: 6, stride: 2 }), 'relu1');
  x = L.relu(L.conv2d(x, 'conv2', { filters: 8 }), 'relu2');
  const pooled = L.globalAvgPool(x, 'gap');
  const head = o.head ?? 'flat';
  if (head === 'flat') {
    b.output(L.dense(L.flatten(pooled, 'flat'), 'fc', K));
  } else {
    let map = L.conv2d(pooled, 'classifier', { filters: K, kernel: 1 }); // [N, K, 1, 1]
    if (head === 'map-from-input-batch') {
      // torch's logits.reshape(x.shape[0], K, 1, 1): the target read off the input
      const batch = b.op('Slice', [b.op('Shape', [image]), b.ints([0]), b.ints([1])]);
      map = b.op('Reshape', [L.flatten(map, 'flat'), b.op('Concat', [batch, b.ints([K, 1, 1])], { axis: 0 })]);
    }
    b.output(head === 'map-softmax' ? b.op('Softmax', [map], { axis: 1 }) : map);
  }
  return b.build();
}

const pixels = (n: number): Tensor => f32([n, 3, S, S], Float32Array.from({ length: n * 3 * S * S }, (_, i) => Math.floor(rng(4 + (i % 7))() * 256)));

async function logits(model: Model, x: Tensor): Promise<Float32Array> {
  return (await model.run(x))[model.output]!.data as Float32Array;
}

describe('integer pixel inputs', () => {
  it('take float32 pixels: the same scores and maps as the float model fed the pixels / 255', async () => {
    const u8 = new Model(net({ input: 'uint8' }), engine);
    const float = new Model(net(), engine);
    expect(u8.input.dtype).toBe('float32');
    expect(u8.graph.nodes.some((n) => n.op === 'Cast')).toBe(false);
    expect(u8.meta.preprocessing.range).toEqual([0, 255]);
    expect(u8.meta.preprocessing.mean).toEqual([0, 0, 0]);
    expect(u8.meta.warnings.some((w) => w.includes('is uint8 in the file'))).toBe(true);
    const x = pixels(2);
    const scaled = f32(x.dims, (x.data as Float32Array).map((v) => v * (1 / 255)));
    const a = await logits(u8, x);
    const b = await logits(float, scaled);
    for (let i = 0; i < a.length; i++) expect(a[i]).toBeCloseTo(b[i]!, 5);
    // Grad-CAM and IG do not depend on the input's scale; saliency scales by 1/255
    const eu = await explain(u8, x, { methods: ['gradcam', 'gradient'], target: 1 });
    const ef = await explain(float, scaled, { methods: ['gradcam', 'gradient'], target: 1 });
    const cam = (e: typeof eu): Float32Array => e.attributions.find((r) => r.method === 'gradcam')!.map.data as Float32Array;
    const grad = (e: typeof eu): Float32Array => e.attributions.find((r) => r.method === 'gradient')!.raw.data as Float32Array;
    cam(eu).forEach((v, i) => expect(v).toBeCloseTo(cam(ef)[i]!, 5));
    expect(grad(eu).some((v) => v !== 0)).toBe(true);
    grad(eu).forEach((v, i) => expect(v * 255).toBeCloseTo(grad(ef)[i]!, 4));
  });

  it('an integer input used as integers is refused with the way out', () => {
    const b = new GraphBuilder();
    const image = b.input('image', 'int64', ['N', 3, S, S]);
    b.output(b.op('Cast', [b.op('Add', [image, b.constant({ dtype: 'int64', dims: [], data: BigInt64Array.of(1n) })])], { to: 1 }));
    expect(() => new Model(b.build(), engine)).toThrow(expect.objectContaining({ code: 'MODEL_UNSUPPORTED', hint: expect.stringContaining('float32 input') }));
  });
});

describe('class scores shaped [N, K, 1, 1]', () => {
  it('are flattened: the same scores, and the maps of the flat model', async () => {
    const flat = new Model(net({ head: 'map' }), engine);
    expect(flat.facts(flat.output).shape).toEqual(['N', K]);
    const x = f32([2, 3, S, S], randn(rng(2), 2 * 3 * S * S));
    const file = net({ head: 'map' });
    const raw = await engine.compile('file-map', () => file);
    expect(await logits(flat, x)).toEqual((await raw.run({ image: x }))[file.outputs[0]!.name]!.data);
    const e = await explain(flat, x, { methods: ['gradcam', 'saliency'] });
    expect(e.skipped).toEqual([]);
    expect(e.attributions.map((a) => a.method)).toEqual(['gradcam', 'saliency']);
  });

  it('after a Softmax over the channels: the logits before it are explained', async () => {
    const model = new Model(net({ head: 'map-softmax' }), engine);
    const twin = new Model(net({ head: 'map' }), engine);
    const x = f32([2, 3, S, S], randn(rng(3), 2 * 3 * S * S));
    expect(await logits(model, x)).toEqual(await logits(twin, x));
    const probabilities = (await model.run(x, [model.graph.outputs[0]!.name]))[model.graph.outputs[0]!.name]!.data as Float32Array;
    expect(probabilities[0]! + probabilities[1]! + probabilities[2]! + probabilities[3]! + probabilities[4]!).toBeCloseTo(1, 6);
  });

  it('sized by the input\'s batch: the layers are still found', async () => {
    const model = new Model(net({ head: 'map-from-input-batch' }), engine);
    expect(model.profile.camLayer).toBe(new Model(net({ head: 'map' }), engine).profile.camLayer);
    expect(model.profile.camLayer).toBeDefined();
    const x = f32([3, 3, S, S], randn(rng(5), 3 * 3 * S * S));
    const e = await explain(model, x, { methods: ['gradcam'] });
    expect(e.attributions[0]!.map.dims).toEqual([3, S, S]);
  });

  it('leaves flat outputs and real maps alone', () => {
    const flat = net();
    expect(withFlatLogits(flat)).toBe(flat);
    const b = new GraphBuilder();
    b.output(b.op('Relu', [b.input('image', 'float32', ['N', 3, S, S])]));
    const segmentation = b.build();
    expect(withFlatLogits(segmentation)).toBe(segmentation);
  });
});

describe('several outputs', () => {
  /** conv, relu, global pool, dense; outputs in the order given (the pooled features, the logits, the feature map). */
  function multi(order: ('features' | 'logits' | 'map')[]): Graph {
    const b = new GraphBuilder();
    b.graph.name = `multi_${order.join('_')}`;
    const L = new Layers(b, seededRandom(7));
    const map = L.relu(L.conv2d(b.input('image', 'float32', ['N', 3, S, S]), 'conv1', { filters: 6, stride: 2 }), 'relu1');
    const features = L.flatten(L.globalAvgPool(map, 'gap'), 'flat');
    const logits = L.dense(features, 'fc', K);
    for (const o of order) b.output(o === 'features' ? features : o === 'logits' ? logits : map);
    return b.build();
  }

  it('explain the classifier (the output a dense layer makes), wherever it is, and say so', async () => {
    const single = new Model(multi(['logits']), engine);
    const x = f32([2, 3, S, S], randn(rng(8), 2 * 3 * S * S));
    for (const order of [['features', 'logits', 'map'], ['map', 'logits'], ['logits', 'features']] as const) {
      const model = new Model(multi([...order]), engine);
      expect(model.output).toBe(single.output);
      expect(model.profile.classes).toBe(K);
      expect(model.meta.warnings.filter((w) => w.startsWith(`the model has ${order.length} outputs`) && w.includes(`explains and labels "${single.output}"`))).toHaveLength(1);
      expect(await logits(model, x)).toEqual(await logits(single, x));
    }
    expect(single.meta.warnings.some((w) => w.includes('outputs ('))).toBe(false);
  });

  it('with auxiliary classifiers (GoogLeNet, Inception), the main head, before or after them, and its own CAM layer', () => {
    // stem -> block1 -> [aux: conv, relu, GAP, dense, softmax] ; block1 -> two more convs -> GAP -> dense -> softmax,
    // as the zoo's Caffe GoogLeNet names them (loss1/..., prob_1), both heads [N, K] after a softmax
    const build = (auxFirst: boolean): Graph => {
      const b = new GraphBuilder();
      b.graph.name = `aux_${auxFirst ? 'first' : 'last'}`;
      const L = new Layers(b, seededRandom(11));
      const block1 = L.relu(L.conv2d(L.relu(L.conv2d(b.input('data_0', 'float32', ['N', 3, S, S]), 'conv1', { filters: 4 }), 'relu1'), 'conv2', { filters: 6, stride: 2 }), 'relu2');
      const auxMap = L.relu(L.conv2d(block1, 'loss1/conv', { filters: 4, kernel: 1, padding: 0 }), 'loss1/relu_conv');
      const aux = b.op('Softmax', [L.dense(L.flatten(L.globalAvgPool(auxMap, 'loss1/ave_pool'), 'loss1/flat'), 'loss1/classifier', K)], { axis: 1 }, { name: 'loss1_prob_1', outputs: ['loss1_prob_1'] });
      const block2 = L.relu(L.conv2d(L.relu(L.conv2d(block1, 'conv3', { filters: 8, stride: 2 }), 'relu3'), 'conv4', { filters: 8 }), 'relu4');
      const main = b.op('Softmax', [L.dense(L.flatten(L.globalAvgPool(block2, 'pool5'), 'flat'), 'loss3/classifier', K)], { axis: 1 }, { name: 'prob_1', outputs: ['prob_1'] });
      for (const o of auxFirst ? [aux, main] : [main, aux]) b.output(o);
      return b.build();
    };
    for (const auxFirst of [true, false]) {
      const model = new Model(build(auxFirst), engine);
      expect(model.output, `aux ${auxFirst ? 'first' : 'last'}`).toBe('loss3/classifier'); // the logits before prob_1
      expect(model.profile.camLayer).toBe('relu4');
      expect(model.meta.warnings.some((w) => w.includes('explains and labels "prob_1"') && w.includes('auxiliary'))).toBe(true);
    }
  });

  it('without a dense head, the first [N, K] output', () => {
    const b = new GraphBuilder();
    const x = b.input('image', 'float32', ['N', 3, S, S]);
    b.output(b.op('Relu', [x]));
    b.output(b.op('Flatten', [b.op('GlobalAveragePool', [x])], { axis: 1 }));
    const g = b.build();
    const r = withClassifierFirst(g);
    expect(r.graph.outputs.map((o) => o.shape?.length)).toEqual([2, 4]);
    expect(r.note).toContain('the first');
  });
});
