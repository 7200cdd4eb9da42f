// LRN (AlexNet / GoogLeNet as the ONNX Model Zoo converts them from Caffe): the reference kernel
// and the engine's forward and backward against PyTorch float64 autograd
// (test/fixtures/lrn/torch-lrn.json, odd window sizes), against ONNX Runtime's own LRN kernel
// (odd sizes on 4-D inputs: all its CPU kernel runs), and against
// float64 central differences over random configurations.
//
// Tolerance: dx is a float32 sum over at most `size` window terms plus a Pow; its error is a few
// ulps of max|dx| (measured below 1e-6), finite differences add ~1e-9. 1e-5 leaves a 10x margin,
// while a window off by one channel, a wrong power or a missing cross-channel term gives O(1e-2)
// or more (the fixture's alpha = 2 cases make the cross-channel term as large as the direct one).
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/engine/graph/builder.js';
import type { Graph } from '../../src/engine/graph/ir.js';
import { encodeModel } from '../../src/engine/onnx/codec.js';
import { evaluateGraph } from '../../src/engine/reference/evaluator.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { f32, toFloat64 } from '../../src/engine/tensor.js';
import { engineGradients, finiteDifferences, float64Graph, relativeMaxError } from '../support/gradcheck.js';
import { own, runOrt } from '../support/onnx-files.js';
import { randn, rng } from '../support/rng.js';
import { lrpUnsupportedNode, type LrpCompositeName } from '../../src/engine/ops/rules/lrp.js';
import { explain } from '../../src/methods/explain/index.js';
import { writeMetadata } from '../../src/models/metadata.js';
import { Model } from '../../src/models/model.js';

const TOL = 1e-5;
const engine = new Engine(nodeBackend(), { threads: 1 });
const worst: Record<string, number> = {};
const note = (k: string, e: number): number => ((worst[k] = Math.max(worst[k] ?? 0, e)), e);
afterAll(async () => {
  await engine.dispose();
  console.log('LRN worst relative errors:', Object.fromEntries(Object.entries(worst).map(([k, v]) => [k, Number(v.toExponential(2))])));
});

interface Params {
  size: number;
  alpha: number;
  beta: number;
  bias: number;
}

function lrnGraph(dims: (number | string)[], p: Params): Graph {
  const b = new GraphBuilder();
  const x = b.input('x', 'float32', dims);
  b.output(b.op('LRN', [x], { size: p.size, alpha: p.alpha, beta: p.beta, bias: p.bias }, { outputs: ['y'] }));
  return b.build();
}

const ruleSets = ['standard', 'guided', 'deconvnet'] as const;

describe('LRN against PyTorch float64 autograd (F.local_response_norm)', () => {
  const fixture = JSON.parse(readFileSync('test/fixtures/lrn/torch-lrn.json', 'utf8')) as { cases: (Params & { shape: number[]; x: number[]; dy: number[]; y: number[]; dx: number[] })[] };
  for (const c of fixture.cases) {
    it(`[${c.shape}] size ${c.size} alpha ${c.alpha} beta ${c.beta} bias ${c.bias}: forward, and the gradient under every rule set`, async () => {
      const graph = lrnGraph(['N', ...c.shape.slice(1)], c);
      const x = f32(c.shape, c.x);
      const y64 = toFloat64(evaluateGraph(float64Graph(graph), { x: { dtype: 'float64', dims: c.shape, data: Float64Array.from(c.x) } }, ['y'])['y']!);
      expect(note('reference kernel vs torch', relativeMaxError(y64, c.y))).toBeLessThan(1e-12);
      const dy = f32(c.shape, c.dy);
      for (const ruleSet of ruleSets) {
        // guided backprop and deconvnet change ReLUs only: LRN keeps its gradient under them
        const dx = (await engineGradients(engine, graph, { x }, 'y', dy, ['x'], ruleSet)).get('x')!;
        expect(dx.dims).toEqual(c.shape);
        expect(note(`engine dx vs torch (${ruleSet})`, relativeMaxError(toFloat64(dx), c.dx))).toBeLessThan(TOL);
      }
    });
  }
});

describe('LRN against ONNX Runtime and finite differences', () => {
  const rand = rng(4401);
  const pick = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));
  it('random odd sizes, parameters and shapes', async () => {
    for (let trial = 0; trial < 12; trial++) {
      const shape = [pick(1, 2), pick(1, 8), pick(1, 3), pick(1, 3)];
      const p: Params = { size: 2 * pick(0, 3) + 1, alpha: [1e-4, 0.1, 1, 3][pick(0, 3)]!, beta: [0.5, 0.75, 1, 1.7][pick(0, 3)]!, bias: [0.5, 1, 2][pick(0, 2)]! };
      const what = `[${shape}] ${JSON.stringify(p)}`;
      const graph = lrnGraph(shape, p);
      const x = f32(shape, randn(rand, shape.reduce((a, b) => a * b, 1), 1.5));
      const ort = (await runOrt(own(encodeModel(graph)), { x }))['y']!;
      const ref = toFloat64(evaluateGraph(graph, { x }, ['y'])['y']!);
      expect(note('reference kernel vs ONNX Runtime', relativeMaxError(Array.from(ort.data, Number), ref)), what).toBeLessThan(1e-5);
      const dy = f32(shape, randn(rand, x.data.length));
      const fd = finiteDifferences(graph, { x }, 'y', dy, ['x']).get('x')!;
      const got = (await engineGradients(engine, graph, { x }, 'y', dy, ['x'])).get('x')!;
      expect(note('engine dx vs finite differences', relativeMaxError(toFloat64(got), fd.values, fd.indices)), what).toBeLessThan(TOL);
    }
  });

  it('refuses, when the graph is built, what ONNX Runtime cannot run: a size below 1, an even size, a rank other than 4', () => {
    expect(() => lrnGraph([1, 4, 2, 2], { size: 0, alpha: 1, beta: 1, bias: 1 })).toThrow(/size must be a positive integer/);
    expect(() => lrnGraph([1, 4, 2, 2], { size: 4, alpha: 1, beta: 1, bias: 1 })).toThrow(/only with an odd window size, got 4/);
    expect(() => lrnGraph([1, 4, 2], { size: 3, alpha: 1, beta: 1, bias: 1 })).toThrow(/only on \[N, C, H, W\] inputs, got rank 3/);
    // and what its kernel refuses when it compiles, or would allocate terabytes for
    expect(() => lrnGraph([1, 4, 2, 2], { size: 3, alpha: NaN, beta: 1, bias: 1 })).toThrow(/alpha must be a positive number, got NaN/);
    expect(() => lrnGraph([1, 4, 2, 2], { size: 3, alpha: 1, beta: 0, bias: 1 })).toThrow(/beta must be a positive number, got 0/);
    expect(() => lrnGraph([1, 4, 2, 2], { size: 3, alpha: 1, beta: 1, bias: -Infinity })).toThrow(/bias must be a finite number/);
    expect(() => lrnGraph([1, 4, 2, 2], { size: 2 ** 31 + 1, alpha: 1, beta: 1, bias: 1 })).toThrow(/size 2147483649 is a window of more channels than ConvLens runs/);
  });
});

/**
 * An AlexNet-shaped net without biases: conv -> ReLU -> LRN -> 3x3/2 max-pool -> conv -> ReLU ->
 * LRN -> global average pool -> dense, with alpha large enough that the cross-channel term
 * matters (Caffe's 1e-4 on activations near 1 would make LRN almost a constant scaling).
 */
function lrnNet(): Model {
  const rand = rng(91);
  const b = new GraphBuilder();
  b.graph.name = 'lrn_net';
  const x = b.input('data_0', 'float32', ['N', 3, 12, 12]);
  const weight = (name: string, dims: number[], scale: number): string => b.initializer(name, f32(dims, Array.from({ length: dims.reduce((p, q) => p * q, 1) }, () => scale * (rand() - 0.5))));
  const lrn = { size: 5, alpha: 0.5, beta: 0.75, bias: 1 };
  let h = b.op('Relu', [b.op('Conv', [x, weight('conv1_w_0', [8, 3, 3, 3], 1)], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] })]);
  h = b.op('MaxPool', [b.op('LRN', [h], lrn, { name: 'norm1_1', outputs: ['norm1_1'] })], { kernel_shape: [3, 3], strides: [2, 2], pads: [0, 0, 1, 1] });
  h = b.op('Relu', [b.op('Conv', [h, weight('conv2_w_0', [6, 4, 3, 3], 0.6)], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], group: 2 })]);
  h = b.op('LRN', [h], lrn, { name: 'norm2_1', outputs: ['norm2_1'] });
  const flat = b.op('Flatten', [b.op('GlobalAveragePool', [h])], { axis: 1 });
  b.output(b.op('Gemm', [flat, weight('fc_w_0', [3, 6], 3)], { transB: 1 }, { outputs: ['fc8_1'] }));
  const g = b.build();
  writeMetadata(g, { labels: ['a', 'b', 'c'], preprocessing: { size: [12, 12], channels: 'rgb', range: [0, 1], mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25], resize: 'stretch' } });
  return new Model(g, engine, 'lrn_net');
}

describe('LRN under the data-driven rule sets', () => {
  const rand = rng(5);
  const x = f32([3, 3, 12, 12], Array.from({ length: 3 * 3 * 144 }, () => (rand() - 0.5) / 0.25));

  it('DeepLIFT splits LRN exactly (product, rescaled power, window sum, square): attributions sum to the score difference', async () => {
    const model = lrnNet();
    for (const baseline of ['black', 'blurred'] as const) {
      const a = (await explain(model, x, { methods: ['deeplift'], deeplift: { baseline } })).attributions[0]!;
      for (const c of a.completeness!) {
        expect(Math.abs(c.scoreDifference), baseline).toBeGreaterThan(1e-3);
        note(`DeepLIFT completeness gap (${baseline})`, c.relativeGap);
        expect(c.relativeGap, baseline).toBeLessThan(1e-4);
      }
    }
  });

  it('LRP passes relevance through LRN unchanged: conserved without biases, for every composite', async () => {
    const model = lrnNet();
    expect(lrpUnsupportedNode(model.graph, 'data_0', (v) => model.graph.initializers.has(v))).toBeUndefined();
    for (const composite of ['epsilon-gamma', 'epsilon-plus-flat', 'epsilon-gamma-box'] as LrpCompositeName[]) {
      const a = (await explain(model, x, { methods: ['lrp'], lrp: { composite } })).attributions[0]!;
      for (const c of a.completeness!) expect(c.relativeGap, composite).toBeLessThan(1e-4);
    }
  });
});
