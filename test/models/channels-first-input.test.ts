// Models exported from TensorFlow/Keras take [N, H, W, C] images. Loaded, they take NCHW like
// every other model: the transposes that only turned the input into NCHW are dropped, and a
// model that computes channels-last gets one Transpose in front. Either way the model computes
// what the file computes on the same image, and its input gradient is the file's, transposed.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildGradientGraph } from '../../src/engine/autodiff/gradient.js';
import { GraphBuilder } from '../../src/engine/graph/builder.js';
import type { Dim, Graph } from '../../src/engine/graph/ir.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { f32, type Tensor } from '../../src/engine/tensor.js';
import { loadInputs } from '../../src/io/inputs.js';
import { encodeNpy } from '../../src/io/npy.js';
import { withChannelsFirstInput } from '../../src/models/channels-first-input.js';
import { seededRandom } from '../../src/models/init.js';
import { Layers } from '../../src/models/layers.js';
import { Model } from '../../src/models/model.js';
import { randn, rng } from '../support/rng.js';
import { tempFolder } from '../support/temp-folder.js';

const engine = new Engine(nodeBackend(), { threads: 1 });
afterAll(async () => {
  await engine.dispose();
});

const S = 12;

/**
 * conv, pool, dense over an image input of `shape`. `start`: 'nchw' reads it as is, 'transpose'
 * transposes [N, H, W, C] to NCHW first (tf2onnx's first node), 'channels-last' computes a 1x1
 * projection and a per-channel scale channels-last before transposing (a TF graph that stays
 * NHWC for a while). Weights are seeded, so 'nchw' and 'transpose' build the same network.
 */
function net(shape: Dim[], start: 'nchw' | 'transpose' | 'channels-last'): Graph {
  const b = new GraphBuilder();
  b.graph.name = `net_${start}`;
  const L = new Layers(b, seededRandom(5));
  let x = b.input('image', 'float32', shape);
  if (start === 'channels-last') {
    const project = b.constant(f32([3, 4], randn(rng(9), 12, 0.5)), 'project');
    x = b.op('Relu', [b.op('MatMul', [b.op('Mul', [x, b.constant(f32([3], Float32Array.of(0.5, 2, -1)), 'scale')]), project])]);
  }
  if (start !== 'nchw') x = b.op('Transpose', [x], { perm: [0, 3, 1, 2] });
  x = L.relu(L.conv2d(x, 'conv1', { filters: 6, stride: 2 }), 'relu1');
  b.output(L.dense(L.flatten(L.globalAvgPool(x, 'gap'), 'flat'), 'fc', 5));
  return b.build();
}

/** [N, C, H, W] -> [N, H, W, C] */
function toNhwc(t: Tensor): Tensor {
  const [n, c, h, w] = t.dims as [number, number, number, number];
  const src = t.data as Float32Array;
  const out = new Float32Array(src.length);
  for (let i = 0; i < n; i++) for (let ch = 0; ch < c; ch++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out[((i * h + y) * w + x) * c + ch] = src[((i * c + ch) * h + y) * w + x]!;
  return f32([n, h, w, c], out);
}

const image = (n: number): Tensor => f32([n, 3, S, S], randn(rng(3), n * 3 * S * S));

/** The file's graph run as it is (no Model: no rewrite), on NHWC input. */
async function runFile(graph: Graph, x: Tensor): Promise<Float32Array> {
  const session = await engine.compile(`file-${graph.name}`, () => graph);
  const out = await session.run({ image: toNhwc(x) });
  return out[graph.outputs[0]!.name]!.data as Float32Array;
}

/** d sum(output) / d image of the file's graph on NHWC input, transposed back to NCHW. */
async function fileGradient(graph: Graph, x: Tensor): Promise<Float32Array> {
  const output = graph.outputs[0]!.name;
  const meta = buildGradientGraph(graph, { seed: { upstream: [output] }, wrt: ['image'] });
  const session = await engine.compile(`file-grad-${graph.name}`, () => meta.graph);
  const out = await session.run({ image: toNhwc(x), [meta.seedInputs[output]!]: f32([x.dims[0]!, 5], new Float32Array(x.dims[0]! * 5).fill(1)) });
  const g = out[meta.gradientOutputs['image']!]!;
  const [n, c, h, w] = x.dims as [number, number, number, number];
  const nhwc = g.data as Float32Array;
  const back = new Float32Array(nhwc.length);
  for (let i = 0; i < n; i++) for (let ch = 0; ch < c; ch++) for (let y = 0; y < h; y++) for (let xx = 0; xx < w; xx++) back[((i * c + ch) * h + y) * w + xx] = nhwc[((i * h + y) * w + xx) * c + ch]!;
  return back;
}

async function modelGradient(model: Model, x: Tensor): Promise<Float32Array> {
  const r = await model.gradients(x, { seed: { upstream: [model.output] }, wrt: [model.input.name] }, { [model.output]: f32([x.dims[0]!, 5], new Float32Array(x.dims[0]! * 5).fill(1)) });
  return r.gradients[model.input.name]!.data as Float32Array;
}

describe('channels-last image inputs', () => {
  it('drop the transpose to NCHW: the same network as the NCHW export, bit for bit', async () => {
    const file = net(['N', S, S, 3], 'transpose');
    const model = new Model(file, engine);
    expect(model.input.shape).toEqual(['N', 3, S, S]);
    expect(model.graph.nodes.some((n) => n.op === 'Transpose')).toBe(false);
    expect(model.meta.warnings.filter((w) => w.includes('channels-last [N, 12, 12, 3] in the file'))).toHaveLength(1);
    // a converter's name for the free batch is shown as N
    const tf2onnx = new Model(net(['unk__123', S, S, 3], 'transpose'), engine);
    expect(tf2onnx.meta.warnings.filter((w) => w.includes('channels-last [N, 12, 12, 3] in the file; ConvLens gives it NCHW [N, 3, 12, 12] images'))).toHaveLength(1);
    const twin = new Model(net(['N', 3, S, S], 'nchw'), engine);
    expect(twin.meta.warnings.some((w) => w.includes('channels-last'))).toBe(false);
    const x = image(2);
    const out = (await model.run(x))[model.output]!.data as Float32Array;
    expect(out).toEqual((await twin.run(x))[twin.output]!.data);
    expect(out).toEqual(await runFile(file, x));
    expect(await modelGradient(model, x)).toEqual(await modelGradient(twin, x));
    expect(await modelGradient(model, x)).toEqual(await fileGradient(file, x));
  });

  it('computing channels-last: one Transpose in front, the file\'s outputs and gradients', async () => {
    for (const shape of [['N', S, S, 3], [1, S, S, 3], ['N', 'H', 'W', 3]] as Dim[][]) {
      const file = net(shape, 'channels-last');
      const model = new Model(file, engine);
      expect(model.input.shape).toEqual([shape[0] === 1 ? 'N' : shape[0], 3, shape[1], shape[2]]);
      const x = image(shape[0] === 1 ? 1 : 2);
      const fixed = file.clone();
      fixed.inputs = fixed.inputs.map((i) => ({ ...i, shape: [...toNhwc(x).dims] }));
      fixed.name = `${file.name}_${shape.join('x')}`;
      expect((await model.run(x))[model.output]!.data).toEqual(await runFile(fixed, x));
      const grad = await modelGradient(model, x);
      const reference = await fileGradient(fixed, x);
      expect(grad.some((v) => v !== 0)).toBe(true);
      for (let i = 0; i < grad.length; i++) expect(grad[i]).toBeCloseTo(reference[i]!, 6);
    }
  });

  it('a channels-last .npy input is refused with the transpose that fixes it', async () => {
    const model = new Model(net(['N', S, S, 3], 'transpose'), engine);
    const dir = tempFolder('convlens-nhwc-');
    try {
      const x = image(1);
      writeFileSync(join(dir, 'nchw.npy'), encodeNpy(x));
      writeFileSync(join(dir, 'nhwc.npy'), encodeNpy(toNhwc(x)));
      expect((await loadInputs([join(dir, 'nchw.npy')], model)).batch.data).toEqual(x.data);
      await expect(loadInputs([join(dir, 'nhwc.npy')], model)).rejects.toMatchObject({ code: 'SHAPE_MISMATCH', hint: expect.stringContaining('x.transpose(0, 3, 1, 2)') });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('leaves NCHW and ambiguous inputs alone', () => {
    for (const shape of [['N', 3, S, S], [1, 1, 28, 28], ['N', 3, 'H', 'W'], ['N', 3, S, 3], ['N', 4, 4, 3]] as Dim[][]) {
      const b = new GraphBuilder();
      b.output(b.op('Relu', [b.input('image', 'float32', shape)]));
      const g = b.build();
      expect(withChannelsFirstInput(g)).toBe(g);
    }
  });
});
