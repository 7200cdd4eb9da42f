// Hand-built models with known attributions, for the explain tests.
import { GraphBuilder } from '../../src/engine/graph/builder.js';
import type { Engine } from '../../src/engine/runtime/engine.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { writeMetadata } from '../../src/models/metadata.js';
import { Model } from '../../src/models/model.js';
import { courseCnn, FASHION_MNIST_LABELS } from '../../src/models/zoo/index.js';
import { rng } from '../support/rng.js';

const f32 = (dims: number[], data: ArrayLike<number>): Tensor => ({ dtype: 'float32', dims, data: Float32Array.from(data) });

/** The region the region model looks at: rows [4, 8), cols [8, 12) of a 16x16 image. */
export const REGION = { top: 4, left: 8, height: 4, width: 4, size: 16 };

export const inRegion = (y: number, x: number): boolean => y >= REGION.top && y < REGION.top + REGION.height && x >= REGION.left && x < REGION.left + REGION.width;

/**
 * A CNN whose scores depend on one image region only: the input is multiplied by a constant
 * mask, then conv 3x3 (3->6, positive weights) -> ReLU -> max-pool 2 -> conv 1x1 (6->8,
 * positive) -> ReLU ("feat", 8x8) -> GAP -> dense 3. Class 0 has positive weights (more input,
 * higher score), class 1 negative ones, class 2 mixed. No biases, so activations outside the
 * region's footprint are exactly zero.
 */
export function regionModel(engine: Engine): Model {
  const rand = rng(7);
  const b = new GraphBuilder();
  b.graph.name = 'region_model';
  const x = b.input('input', 'float32', ['N', 3, 16, 16]);
  const mask = new Float32Array(16 * 16);
  for (let y = 0; y < 16; y++) for (let xx = 0; xx < 16; xx++) mask[y * 16 + xx] = inRegion(y, xx) ? 1 : 0;
  const m = b.initializer('mask', f32([1, 1, 16, 16], mask));
  const xm = b.op('Mul', [x, m], {}, { outputs: ['masked'] });
  const w1 = b.initializer('conv1.weight', f32([6, 3, 3, 3], Array.from({ length: 6 * 27 }, () => 0.05 + rand())));
  const c1 = b.op('Conv', [xm, w1], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, { name: 'conv1', outputs: ['conv1'] });
  const r1 = b.op('Relu', [c1], {}, { name: 'relu1', outputs: ['relu1'] });
  const p1 = b.op('MaxPool', [r1], { kernel_shape: [2, 2], strides: [2, 2] }, { name: 'pool1', outputs: ['pool1'] });
  const w2 = b.initializer('conv2.weight', f32([8, 6, 1, 1], Array.from({ length: 48 }, () => 0.05 + rand())));
  const c2 = b.op('Conv', [p1, w2], { kernel_shape: [1, 1] }, { name: 'conv2', outputs: ['conv2'] });
  const feat = b.op('Relu', [c2], {}, { name: 'feat', outputs: ['feat'] });
  const gap = b.op('GlobalAveragePool', [feat], {}, { name: 'gap', outputs: ['gap'] });
  const flat = b.op('Flatten', [gap], { axis: 1 }, { name: 'flatten', outputs: ['flatten'] });
  const wd = new Float32Array(3 * 8);
  for (let k = 0; k < 8; k++) {
    wd[k] = 0.1 + rand();
    wd[8 + k] = -(0.1 + rand());
    wd[16 + k] = rand() - 0.5;
  }
  const w = b.initializer('logits.weight', f32([3, 8], wd));
  const bias = b.initializer('logits.bias', f32([3], [0, 0, 0]));
  const logits = b.op('Gemm', [flat, w, bias], { transB: 1 }, { name: 'logits', outputs: ['logits'] });
  b.output(logits);
  const g = b.build();
  writeMetadata(g, { labels: ['more', 'less', 'mixed'], preprocessing: { size: [16, 16], channels: 'rgb', range: [0, 1], mean: [0, 0, 0], std: [1, 1, 1], resize: 'stretch' } });
  return new Model(g, engine, 'region');
}

/** Positive random images for the region model. */
export function regionInputs(n: number, seed = 3): Tensor {
  const rand = rng(seed);
  return f32([n, 3, 16, 16], Array.from({ length: n * 3 * 256 }, () => 0.1 + 0.9 * rand()));
}

/** logits = W x + b over a flattened [1, 4, 4] input: every attribution has a closed form. */
export function linearModel(engine: Engine): { model: Model; weights: Float32Array; bias: Float32Array } {
  const rand = rng(11);
  const b = new GraphBuilder();
  b.graph.name = 'linear_model';
  const x = b.input('input', 'float32', ['N', 1, 4, 4]);
  const flat = b.op('Flatten', [x], { axis: 1 }, { name: 'flatten', outputs: ['flatten'] });
  const weights = Float32Array.from({ length: 3 * 16 }, () => rand() * 2 - 1);
  const bias = Float32Array.from({ length: 3 }, () => rand() - 0.5);
  const w = b.initializer('fc.weight', f32([3, 16], weights));
  const bb = b.initializer('fc.bias', f32([3], bias));
  b.output(b.op('Gemm', [flat, w, bb], { transB: 1 }, { name: 'fc', outputs: ['logits'] }));
  const g = b.build();
  writeMetadata(g, { labels: ['a', 'b', 'c'], preprocessing: { size: [4, 4], channels: 'gray', range: [0, 1], mean: [0], std: [1], resize: 'stretch' } });
  return { model: new Model(g, engine, 'linear'), weights, bias };
}

/** The course CNN (GAP + dense head) with Fashion-MNIST metadata and seeded random weights. */
export function courseModel(engine: Engine, seed = 0): Model {
  const g = courseCnn(seed);
  writeMetadata(g, { labels: FASHION_MNIST_LABELS, preprocessing: { size: [28, 28], channels: 'gray', range: [0, 1], mean: [0], std: [1], resize: 'stretch' } });
  return new Model(g, engine, `course-${seed}`);
}

/** A small CNN without global average pooling (flatten + dense over conv features). */
export function flattenHeadModel(engine: Engine): Model {
  const rand = rng(5);
  const b = new GraphBuilder();
  b.graph.name = 'flatten_head';
  const x = b.input('input', 'float32', ['N', 1, 8, 8]);
  const w1 = b.initializer('conv1.weight', f32([4, 1, 3, 3], Array.from({ length: 36 }, () => rand() - 0.5)));
  const c1 = b.op('Conv', [x, w1], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, { name: 'conv1', outputs: ['conv1'] });
  const r1 = b.op('Relu', [c1], {}, { name: 'relu1', outputs: ['relu1'] });
  const flat = b.op('Flatten', [r1], { axis: 1 }, { name: 'flatten', outputs: ['flatten'] });
  const w = b.initializer('fc.weight', f32([2, 256], Array.from({ length: 512 }, () => rand() - 0.5)));
  b.output(b.op('Gemm', [flat, w], { transB: 1 }, { name: 'fc', outputs: ['logits'] }));
  const g = b.build();
  writeMetadata(g, { labels: ['x', 'y'], preprocessing: { size: [8, 8], channels: 'gray', range: [0, 1], mean: [0], std: [1], resize: 'stretch' } });
  return new Model(g, engine, 'flatten-head');
}
