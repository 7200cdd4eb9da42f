// A small CNN with every geometry incremental inference has to get right: a non-square input,
// asymmetric padding, stride 2 with and without padding, a 1x1 stride-2 conv (stride larger
// than the kernel: some pixels reach no output), dilation, groups, max-pooling in ceil mode,
// average pooling with and without count_include_pad, a residual Add of branches with
// different reach, a channel Concat, per-channel constants, and a constant that varies over
// the image (which must run on full maps). With `pads`, Pad nodes as torch.onnx writes them: one
// padding nothing before an average pool (DenseNet's transitions) and an asymmetric ZeroPad2d
// before a conv that pads nothing itself.
import { GraphBuilder } from '../../src/engine/graph/builder.js';
import type { Engine } from '../../src/engine/runtime/engine.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { writeMetadata } from '../../src/models/metadata.js';
import { Model } from '../../src/models/model.js';
import { randn, rng } from '../support/rng.js';

export const GEOMETRY_INPUT = { channels: 3, height: 30, width: 22 };

export function geometryModel(engine: Engine, options: { spatialConstant?: boolean; pads?: boolean } = {}): Model {
  const rand = rng(21);
  const b = new GraphBuilder();
  b.graph.name = 'geometry';
  const t = (dims: number[], scale: number): Tensor => ({ dtype: 'float32', dims, data: randn(rand, dims.reduce((a, d) => a * d, 1), scale) });
  const param = (name: string, dims: number[], scale: number): string => b.initializer(name, t(dims, scale));
  const positive = (name: string, n: number): string => b.initializer(name, { dtype: 'float32', dims: [n], data: Float32Array.from({ length: n }, () => 0.5 + rand()) });
  const conv = (x: string, name: string, cin: number, cout: number, k: [number, number], attrs: Record<string, number[] | number>, bias = true): string =>
    b.op('Conv', [x, param(`${name}.w`, [cout, cin / ((attrs['group'] as number | undefined) ?? 1), ...k], Math.sqrt(2 / (cin * k[0] * k[1]))), bias ? param(`${name}.b`, [cout], 0.1) : undefined], { kernel_shape: k, ...attrs }, { name, outputs: [name] });

  const x = b.input('input', 'float32', ['N', GEOMETRY_INPUT.channels, GEOMETRY_INPUT.height, GEOMETRY_INPUT.width]);
  // 30x22, asymmetric pads (top 2, left 1, bottom 0, right 1), 5x3 kernel -> 28x22
  const c1 = conv(x, 'c1', 3, 8, [5, 3], { pads: [2, 1, 0, 1] });
  const bn = b.op('BatchNormalization', [c1, positive('bn.scale', 8), param('bn.bias', [8], 0.1), param('bn.mean', [8], 0.1), positive('bn.var', 8)], { epsilon: 1e-5 }, { name: 'bn', outputs: ['bn'] });
  const r1 = b.op('LeakyRelu', [bn], { alpha: 0.1 }, { name: 'r1', outputs: ['r1'] });
  // max pool 3x3 stride 2 in ceil mode: 28x22 -> 14x11 (the last windows hang over the edges)
  const p1 = b.op('MaxPool', [r1], { kernel_shape: [3, 3], strides: [2, 2], ceil_mode: 1 }, { name: 'p1', outputs: ['p1'] });
  let p = p1;
  if (options.spatialConstant) {
    const mask = Float32Array.from({ length: 14 * 11 }, (_, i) => 0.5 + (i % 3) / 3);
    p = b.op('Mul', [p1, b.initializer('spatial.mask', { dtype: 'float32', dims: [1, 1, 14, 11], data: mask })], {}, { name: 'spatial', outputs: ['spatial'] });
  }
  // residual: dilated 3x3 (reach 5) + pointwise, added
  const d = b.op('Relu', [conv(p, 'dil', 8, 8, [3, 3], { pads: [2, 2, 2, 2], dilations: [2, 2] })], {}, { name: 'dil.relu', outputs: ['dil.relu'] });
  const pw = conv(p, 'pw', 8, 8, [1, 1], {});
  const add = b.op('Add', [d, pw], {}, { name: 'add', outputs: ['add'] });
  const a1 = b.op('Clip', [add, b.scalar(0), b.scalar(6)], {}, { name: 'clip', outputs: ['clip'] });
  // two stride-2 branches: grouped 3x3 with padding, and 1x1 without (stride > kernel) -> concat
  const g = conv(a1, 'grouped', 8, 8, [3, 3], { strides: [2, 2], pads: [1, 1, 1, 1], group: 2 });
  const s = conv(a1, 'skip', 8, 4, [1, 1], { strides: [2, 2] }, false);
  const cat = b.op('Concat', [g, s], { axis: 1 }, { name: 'cat', outputs: ['cat'] }); // 12 x 7x6
  const scaled = b.op('Mul', [cat, b.initializer('cat.scale', { dtype: 'float32', dims: [1, 12, 1, 1], data: Float32Array.from({ length: 12 }, () => 0.5 + rand()) })], {}, { name: 'scaled', outputs: ['scaled'] });
  const r2 = b.op('Relu', [scaled], {}, { name: 'r2', outputs: ['r2'] });
  // average pools: 2x2 stride 1 with zero padding counted, then 3x3 stride 1 without padding
  const pooled = options.pads ? b.op('Pad', [r2, b.ints([0, 0, 0, 0, 0, 0, 0, 0])], {}, { name: 'nothing.pad', outputs: ['nothing.pad'] }) : r2;
  const ap1 = b.op('AveragePool', [pooled], { kernel_shape: [2, 2], pads: [1, 0, 0, 1], count_include_pad: 1 }, { name: 'ap1', outputs: ['ap1'] }); // 7x6
  const y = b.op('AveragePool', [ap1], { kernel_shape: [3, 3] }, { name: 'ap2', outputs: ['ap2'] }); // 5x4
  const zeroPadded = options.pads ? b.op('Pad', [y, b.ints([0, 0, 2, 1, 0, 0, 0, 1]), b.scalar(0)], { mode: 'constant' }, { name: 'zero.pad', outputs: ['zero.pad'] }) : y;
  const c3 = b.op('Relu', [conv(zeroPadded, 'c3', 12, 16, [3, 3], { pads: options.pads ? [0, 0, 0, 0] : [1, 1, 1, 1] })], {}, { name: 'feat', outputs: ['feat'] });
  const gap = b.op('GlobalAveragePool', [c3], {}, { name: 'gap', outputs: ['gap'] });
  const flat = b.op('Flatten', [gap], { axis: 1 }, { name: 'flatten', outputs: ['flatten'] });
  b.output(b.op('Gemm', [flat, param('fc.w', [5, 16], 0.5), param('fc.b', [5], 0.1)], { transB: 1 }, { name: 'logits', outputs: ['logits'] }));
  const graph = b.build();
  writeMetadata(graph, { labels: ['a', 'b', 'c', 'd', 'e'], preprocessing: { size: [GEOMETRY_INPUT.height, GEOMETRY_INPUT.width], channels: 'rgb', range: [0, 1], mean: [0, 0, 0], std: [1, 1, 1], resize: 'stretch' } });
  return new Model(graph, engine, options.spatialConstant ? 'geometry-spatial' : options.pads ? 'geometry-pads' : 'geometry');
}

/** Smooth images with noise for the geometry model. */
export function geometryInputs(n: number, seed = 5): Tensor {
  const rand = rng(seed);
  const { channels, height, width } = GEOMETRY_INPUT;
  const data = new Float32Array(n * channels * height * width);
  for (let p = 0; p < n * channels; p++) {
    const [fy, fx, ph] = [rand() * 0.5, rand() * 0.5, rand() * 6];
    for (let yy = 0; yy < height; yy++) for (let xx = 0; xx < width; xx++) data[(p * height + yy) * width + xx] = Math.sin(fy * yy + fx * xx + ph) + 0.3 * (rand() - 0.5);
  }
  return { dtype: 'float32', dims: [n, channels, height, width], data };
}
