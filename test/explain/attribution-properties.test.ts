// Stated properties of LRP, DeepLIFT, GradientSHAP and the CAM family (Ancona et al. 2018;
// Shrikumar et al. 2017; Lundberg & Lee 2017; Draelos & Carin 2020; Fu et al. 2020).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/engine/graph/builder.js';
import { lrpComposite, lrpNoRuleError, lrpRuleSet, lrpUnsupportedNode, type LrpCompositeName } from '../../src/engine/ops/rules/lrp.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { parseNpy } from '../../src/io/npy.js';
import { explain, inputBounds, principalProjection, type Attribution } from '../../src/methods/explain/index.js';
import { scoreGradients } from '../../src/methods/explain/session.js';
import { pearson } from '../../src/methods/metrics/similarity.js';
import { writeMetadata } from '../../src/models/metadata.js';
import { loadModelFile } from '../../src/models/load.js';
import { Model } from '../../src/models/model.js';
import { rng } from '../support/rng.js';
import { sliceBatch } from '../../src/methods/explain/arrays.js';
import { courseModel } from './models.js';
import { convnextLike } from '../support/unseen-models.js';

const engine = new Engine(nodeBackend());
afterAll(() => engine.dispose());
const REFS = join(import.meta.dirname, '..', 'fixtures', 'attribution-refs');
const f32 = (dims: number[], data: ArrayLike<number>): Tensor => ({ dtype: 'float32', dims, data: Float32Array.from(data) });
const data = (t: Tensor): Float32Array => t.data as Float32Array;
const fixture = (net: string): { model: Model; x: Tensor; manifest: { layer: string; targets: number[]; deepliftCompletenessGap: number } } => ({
  model: loadModelFile(join(REFS, net, 'model.onnx'), engine),
  x: parseNpy(readFileSync(join(REFS, net, 'input.npy'))),
  manifest: (JSON.parse(readFileSync(join(REFS, 'manifest.json'), 'utf8')) as Record<string, { layer: string; targets: number[]; deepliftCompletenessGap: number }>)[net]!,
});
const only = async (model: Model, x: Tensor, o: Parameters<typeof explain>[2]): Promise<Attribution> => (await explain(model, x, o)).attributions[0]!;

/**
 * conv(bias) -> BatchNorm -> ReLU -> conv(bias) -> ReLU, added to the first ReLU's output
 * (a residual block) -> ReLU -> global average pool -> dense. No max-pooling. With `merged`, the
 * BatchNorm is folded into the first conv by hand (the same function, one node fewer); with
 * `zeroBias`, no bias anywhere (the BatchNorm's mean and shift are 0 too).
 */
function residualModel(merged: boolean, zeroBias = false): Model {
  const rand = rng(23);
  const b = new GraphBuilder();
  b.graph.name = merged ? 'residual_merged' : 'residual';
  const x = b.input('input', 'float32', ['N', 3, 8, 8]);
  const bias = (n: number): number[] => Array.from({ length: n }, () => (zeroBias ? 0 : 0.2 * (rand() - 0.5)));
  const w1 = Array.from({ length: 4 * 27 }, () => rand() - 0.5);
  const b1 = bias(4);
  const scale = [0.8, 1.3, -0.6, 1.1];
  const shift = bias(4);
  const mean = zeroBias ? [0, 0, 0, 0] : [0.1, -0.2, 0.05, 0.3];
  const variance = [0.9, 1.4, 0.7, 1.2];
  const k = scale.map((s, c) => s / Math.sqrt(variance[c]! + 1e-5));
  let a: string;
  if (merged) {
    const w = b.initializer('conv1.weight', f32([4, 3, 3, 3], w1.map((v, i) => v * k[Math.floor(i / 27)]!)));
    const bb = b.initializer('conv1.bias', f32([4], k.map((kc, c) => (b1[c]! - mean[c]!) * kc + shift[c]!)));
    a = b.op('Conv', [x, w, bb], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, { name: 'conv1', outputs: ['conv1'] });
  } else {
    const w = b.initializer('conv1.weight', f32([4, 3, 3, 3], w1));
    const bb = b.initializer('conv1.bias', f32([4], b1));
    const c1 = b.op('Conv', [x, w, bb], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, { name: 'conv1', outputs: ['conv1'] });
    const params = [scale, shift, mean, variance].map((v, i) => b.initializer(`bn1.${i}`, f32([4], v)));
    a = b.op('BatchNormalization', [c1, ...params], { epsilon: 1e-5 }, { name: 'bn1', outputs: ['bn1'] });
  }
  const r1 = b.op('Relu', [a], {}, { name: 'relu1', outputs: ['relu1'] });
  const w2 = b.initializer('conv2.weight', f32([4, 4, 3, 3], Array.from({ length: 144 }, () => rand() - 0.5)));
  const b2 = b.initializer('conv2.bias', f32([4], bias(4)));
  const r2 = b.op('Relu', [b.op('Conv', [r1, w2, b2], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, { name: 'conv2', outputs: ['conv2'] })], {}, { name: 'relu2', outputs: ['relu2'] });
  const r3 = b.op('Relu', [b.op('Add', [r1, r2], {}, { name: 'add', outputs: ['add'] })], {}, { name: 'relu3', outputs: ['relu3'] });
  const flat = b.op('Flatten', [b.op('GlobalAveragePool', [r3], {}, { name: 'gap', outputs: ['gap'] })], { axis: 1 }, { name: 'flatten', outputs: ['flatten'] });
  const wd = b.initializer('fc.weight', f32([3, 4], Array.from({ length: 12 }, () => 2 * rand() - 1)));
  const bd = b.initializer('fc.bias', f32([3], bias(3)));
  b.output(b.op('Gemm', [flat, wd, bd], { transB: 1 }, { name: 'fc', outputs: ['logits'] }));
  const g = b.build();
  writeMetadata(g, { labels: ['a', 'b', 'c'], preprocessing: { size: [8, 8], channels: 'rgb', range: [0, 1], mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25], resize: 'stretch' } });
  return new Model(g, engine, b.graph.name);
}

/**
 * conv -> ReLU -> MaxPool 3x3/2 padded (overlapping windows, ResNet's stem) -> conv -> ReLU ->
 * GlobalMaxPool -> dense: every max-pool shape DeepLIFT's pool rule meets.
 */
function pooledModel(): Model {
  const rand = rng(31);
  const b = new GraphBuilder();
  b.graph.name = 'pooled';
  const x = b.input('input', 'float32', ['N', 3, 8, 8]);
  const conv = (name: string, input: string, cin: number, cout: number): string => {
    const w = b.initializer(`${name}.weight`, f32([cout, cin, 3, 3], Array.from({ length: cout * cin * 9 }, () => rand() - 0.5)));
    const bias = b.initializer(`${name}.bias`, f32([cout], Array.from({ length: cout }, () => 0.2 * (rand() - 0.5))));
    return b.op('Relu', [b.op('Conv', [input, w, bias], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, { name, outputs: [name] })], {}, { name: `${name}.relu`, outputs: [`${name}.relu`] });
  };
  const pooled = b.op('MaxPool', [conv('conv1', x, 3, 4)], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }, { name: 'pool', outputs: ['pool'] });
  const top = b.op('GlobalMaxPool', [conv('conv2', pooled, 4, 6)], {}, { name: 'gmp', outputs: ['gmp'] });
  const flat = b.op('Flatten', [top], { axis: 1 }, { name: 'flatten', outputs: ['flatten'] });
  const wd = b.initializer('fc.weight', f32([3, 6], Array.from({ length: 18 }, () => 2 * rand() - 1)));
  const bd = b.initializer('fc.bias', f32([3], [0.1, -0.1, 0.05]));
  b.output(b.op('Gemm', [flat, wd, bd], { transB: 1 }, { name: 'fc', outputs: ['logits'] }));
  const g = b.build();
  writeMetadata(g, { labels: ['a', 'b', 'c'], preprocessing: { size: [8, 8], channels: 'rgb', range: [0, 1], mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25], resize: 'stretch' } });
  return new Model(g, engine, 'pooled');
}

/**
 * conv -> SiLU (x * sigmoid x) -> squeeze-and-excitation (GAP, 1x1 convs, sigmoid gate times
 * the map) -> x / (1 + |x|) -> sqrt(x^2 + 1) (a Pow by 2) -> LayerNorm over C, H, W -> GAP ->
 * dense: the products, quotients and element-wise functions DeepLIFT's rules take apart.
 */
function gatedModel(): Model {
  const rand = rng(37);
  const b = new GraphBuilder();
  b.graph.name = 'gated';
  const x = b.input('input', 'float32', ['N', 3, 8, 8]);
  const weight = (name: string, dims: number[], scale = 1): string => b.initializer(name, f32(dims, Array.from({ length: dims.reduce((p, q) => p * q, 1) }, () => scale * (rand() - 0.5))));
  const conv = b.op('Conv', [x, weight('conv.weight', [6, 3, 3, 3]), weight('conv.bias', [6], 0.4)], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
  const silu = b.op('Mul', [conv, b.op('Sigmoid', [conv])]);
  const squeezed = b.op('GlobalAveragePool', [silu]);
  const reduced = b.op('Relu', [b.op('Conv', [squeezed, weight('se.reduce', [3, 6, 1, 1], 2), weight('se.reduce.bias', [3], 0.4)], { kernel_shape: [1, 1] })]);
  const gate = b.op('Sigmoid', [b.op('Conv', [reduced, weight('se.expand', [6, 3, 1, 1], 2), weight('se.expand.bias', [6], 0.4)], { kernel_shape: [1, 1] })]);
  const excited = b.op('Mul', [silu, gate]);
  const soft = b.op('Div', [excited, b.op('Add', [b.op('Abs', [excited]), b.scalar(1)])]);
  const lifted = b.op('Sqrt', [b.op('Add', [b.op('Pow', [soft, b.scalar(2)]), b.scalar(1)])]);
  const mixed = b.op('Add', [lifted, soft]);
  const normed = b.op('LayerNormalization', [mixed, weight('ln.weight', [6, 8, 8], 2), weight('ln.bias', [6, 8, 8], 0.4)], { axis: 1, epsilon: 1e-5 });
  const flat = b.op('Flatten', [b.op('GlobalAveragePool', [normed])], { axis: 1 });
  b.output(b.op('Gemm', [flat, weight('fc.weight', [3, 6], 4), weight('fc.bias', [3], 0.2)], { transB: 1 }, { outputs: ['logits'] }));
  const g = b.build();
  writeMetadata(g, { labels: ['a', 'b', 'c'], preprocessing: { size: [8, 8], channels: 'rgb', range: [0, 1], mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25], resize: 'stretch' } });
  return new Model(g, engine, 'gated');
}

const inputs = (n: number, seed = 4): Tensor => {
  const rand = rng(seed);
  return f32([n, 3, 8, 8], Array.from({ length: n * 192 }, () => (rand() - 0.5) / 0.25));
};

describe('LRP', () => {
  it('LRP-epsilon with epsilon near 0 equals input x gradient on ReLU networks (max-pooling, residual additions, BatchNorm)', async () => {
    for (const [model, x] of [[residualModel(false), inputs(3)], [fixture('vgg').model, fixture('vgg').x], [fixture('resnet').model, fixture('resnet').x]] as const) {
      const lrp = await only(model, x, { methods: ['lrp'], lrp: { composite: 'epsilon', epsilon: 1e-12 } });
      const ixg = await only(model, x, { methods: ['input-x-gradient'] });
      const a = data(lrp.raw);
      const b = data(ixg.raw);
      const scale = Math.max(...b.map(Math.abs));
      for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!), `${model.name} element ${i}`).toBeLessThan(1e-4 * scale);
    }
  });

  it('a BatchNorm after a conv is folded into the conv\'s rule: the same map as with the BN merged by hand, for every composite', async () => {
    const x = inputs(2);
    for (const composite of ['epsilon', 'epsilon-gamma', 'epsilon-plus-flat', 'epsilon-gamma-box'] as LrpCompositeName[]) {
      const a = data((await only(residualModel(false), x, { methods: ['lrp'], lrp: { composite } })).raw);
      const b = data((await only(residualModel(true), x, { methods: ['lrp'], lrp: { composite } })).raw);
      const scale = Math.max(...b.map(Math.abs));
      expect(scale).toBeGreaterThan(0);
      for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!), `${composite} element ${i}`).toBeLessThan(1e-4 * scale);
    }
  });

  it('relevance is conserved layer by layer without biases (every composite), and biases absorb their share otherwise', async () => {
    const x = inputs(2, 9);
    // Cuts through the network: every path from the input to the output crosses each once
    // (relu2 alone is not one: the residual branch and the skip share relu3's relevance).
    const layers = ['relu1', 'relu3', 'gap', 'input'];
    for (const zeroBias of [true, false]) {
      const model = residualModel(false, zeroBias);
      const targets = Int32Array.of(0, 2);
      for (const name of ['epsilon-gamma', 'epsilon-plus-flat', 'epsilon-gamma-box'] as LrpCompositeName[]) {
        const ruleSet = lrpRuleSet(model.graph, lrpComposite(name, inputBounds(model)));
        const r = await scoreGradients(model, x, targets, { score: 'logit', wrt: layers, ruleSet });
        for (const layer of layers) {
          const t = r.gradients[layer]!;
          const per = t.data.length / 2;
          for (let i = 0; i < 2; i++) {
            let sum = 0;
            for (let p = i * per; p < (i + 1) * per; p++) sum += data(t)[p]!;
            // Relevance starts as 1 at the target (a one-hot seed); the dense layer's bias and the
            // conv biases take their share when present.
            if (zeroBias) expect(sum, `${name} at ${layer}`).toBeCloseTo(1, 4);
            else expect(Math.abs(sum - 1), `${name} at ${layer}`).toBeLessThan(2);
          }
        }
      }
    }
  });

  it('reports the absorbed relevance as the completeness gap (zero without biases for the conserving composites)', async () => {
    const model = residualModel(false, true);
    const a = await only(model, inputs(2), { methods: ['lrp'], lrp: { composite: 'epsilon-plus-flat' } });
    for (const c of a.completeness!) expect(c.relativeGap).toBeLessThan(1e-4);
  });

  it('passes relevance through sigmoid gates (SiLU, squeeze-and-excitation) as through the same net with the gates frozen', async () => {
    // conv -> SiLU (x * sigmoid(x)) -> squeeze-and-excitation (GAP, 1x1 conv, ReLU, 1x1 conv,
    // sigmoid, channel product) -> GAP -> dense, no biases: relevance is conserved, and the gates
    // take none of it, so the map equals that of the net whose gates are constants.
    const rand = rng(31);
    const weights = (n: number): number[] => Array.from({ length: n }, () => rand() - 0.5);
    const [w1, wa, wb, wd] = [weights(4 * 27), weights(2 * 4), weights(4 * 2), weights(3 * 4)];
    const gatedNet = (frozen?: { silu: Tensor; se: Tensor }): Model => {
      const b = new GraphBuilder();
      b.graph.name = frozen ? 'gates_frozen' : 'gated';
      const x = b.input('input', 'float32', frozen ? [1, 3, 8, 8] : ['N', 3, 8, 8]);
      const c1 = b.op('Conv', [x, b.initializer('w1', f32([4, 3, 3, 3], w1))], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
      const siluGate = frozen ? b.initializer('silu_gate', frozen.silu) : b.op('Sigmoid', [c1], {}, { outputs: ['silu_gate'] });
      const silu = b.op('Mul', [c1, siluGate], {}, { outputs: ['silu'] });
      const squeezed = b.op('GlobalAveragePool', [silu]);
      const hidden = b.op('Relu', [b.op('Conv', [squeezed, b.initializer('wa', f32([2, 4, 1, 1], wa))], { kernel_shape: [1, 1] })]);
      const seGate = frozen ? b.initializer('se_gate', frozen.se) : b.op('Sigmoid', [b.op('Conv', [hidden, b.initializer('wb', f32([4, 2, 1, 1], wb))], { kernel_shape: [1, 1] })], {}, { outputs: ['se_gate'] });
      const excited = b.op('Mul', [silu, seGate], {}, { outputs: ['excited'] });
      const flat = b.op('Flatten', [b.op('GlobalAveragePool', [excited])], { axis: 1 });
      b.output(b.op('Gemm', [flat, b.initializer('wd', f32([3, 4], wd))], { transB: 1 }, { outputs: ['logits'] }));
      const g = b.build();
      writeMetadata(g, { labels: ['a', 'b', 'c'], preprocessing: { size: [8, 8], channels: 'rgb', range: [0, 1], mean: [0, 0, 0], std: [1, 1, 1], resize: 'stretch' } });
      return new Model(g, engine, g.name);
    };
    const gated = gatedNet();
    const x = f32([1, 3, 8, 8], Array.from({ length: 192 }, () => rand() * 2 - 1));
    const gates = await gated.run(x, ['silu_gate', 'se_gate']);
    const frozen = gatedNet({ silu: gates['silu_gate']!, se: gates['se_gate']! });
    for (const composite of ['epsilon', 'epsilon-plus-flat'] as LrpCompositeName[]) {
      const a = await only(gated, x, { methods: ['lrp'], lrp: { composite }, target: 1 });
      const b = await only(frozen, x, { methods: ['lrp'], lrp: { composite }, target: 1 });
      const ra = data(a.raw);
      const rb = data(b.raw);
      const scale = Math.max(...rb.map(Math.abs));
      expect(scale, composite).toBeGreaterThan(0);
      for (let i = 0; i < ra.length; i++) expect(Math.abs(ra[i]! - rb[i]!), `${composite} element ${i}`).toBeLessThan(1e-4 * scale);
      expect(a.completeness![0]!.relativeGap, `${composite}: conserved`).toBeLessThan(1e-3);
    }
  });

  it('refuses an op it has no rule for, naming it', async () => {
    const b = new GraphBuilder();
    b.graph.name = 'exp_model';
    const x = b.input('input', 'float32', ['N', 1, 4, 4]);
    const flat = b.op('Flatten', [b.op('Exp', [x])], { axis: 1 });
    b.output(b.op('Gemm', [flat, b.initializer('w', f32([2, 16], new Array(32).fill(0.1)))], { transB: 1 }, { outputs: ['logits'] }));
    const g = b.build();
    writeMetadata(g, { labels: ['a', 'b'], preprocessing: { size: [4, 4], channels: 'gray', range: [0, 1], mean: [0], std: [1], resize: 'stretch' } });
    const model = new Model(g, engine, 'exp');
    await expect(explain(model, f32([1, 1, 4, 4], new Array(16).fill(0.5)), { methods: ['lrp'], lrp: { composite: 'epsilon' } })).rejects.toThrow(/LRP has no rule for Exp/);
  });

  it('knows without building the graph which models it refuses, and which node stops it', async () => {
    const constant = (m: Model) => (v: string): boolean => m.builder().factsOf(v).value !== undefined;
    const b = new GraphBuilder();
    b.graph.name = 'exp_then_relu';
    const x = b.input('input', 'float32', ['N', 1, 4, 4]);
    const flat = b.op('Flatten', [b.op('Relu', [b.op('Exp', [x], {}, { name: 'exp', outputs: ['exp'] })])], { axis: 1 });
    b.output(b.op('Gemm', [flat, b.initializer('w', f32([2, 16], new Array(32).fill(0.1)))], { transB: 1 }, { outputs: ['logits'] }));
    const g = b.build();
    writeMetadata(g, { labels: ['a', 'b'], preprocessing: { size: [4, 4], channels: 'gray', range: [0, 1], mean: [0], std: [1], resize: 'stretch' } });
    const refused = new Model(g, engine, 'exp_then_relu');
    const node = lrpUnsupportedNode(refused.graph, refused.input.name, constant(refused));
    expect(node?.name).toBe('exp');
    await expect(explain(refused, f32([1, 1, 4, 4], new Array(16).fill(0.5)), { methods: ['lrp'] })).rejects.toThrow(lrpNoRuleError(node!).message);
    for (const m of [residualModel(false), courseModel(engine), new Model(convnextLike(32, 4, 2), engine)]) {
      expect(lrpUnsupportedNode(m.graph, m.input.name, constant(m)), m.name).toBeUndefined();
      const xm = f32([1, ...m.inputDims()], Array.from({ length: m.inputDims().reduce((p, q) => p * q, 1) }, (_, i) => Math.sin(i)));
      expect((await explain(m, xm, { methods: ['lrp'], lrp: { composite: 'epsilon' } })).attributions, m.name).toHaveLength(1);
    }
  });

  it('ConvNeXt blocks: LayerNorm with its deviation held fixed, GELU as a gate, layer scales; relevance conserved without biases', async () => {
    const model = new Model(convnextLike(32, 4, 5, [8, 16], false), engine);
    const x = f32([2, 3, 32, 32], Array.from({ length: 2 * 3 * 1024 }, (_, i) => Math.sin(i * 0.37) + 0.3 * Math.cos(i * 0.11)));
    for (const composite of ['epsilon', 'epsilon-gamma', 'epsilon-plus-flat'] as LrpCompositeName[]) {
      const a = await only(model, x, { methods: ['lrp'], lrp: { composite } });
      for (const c of a.completeness!) expect(c.relativeGap, composite).toBeLessThan(1e-3);
    }
    // exported before opset 17 LayerNorm is ReduceMean, Sub, Pow, Sqrt and Div (torchvision's
    // ConvNeXt at opset 13): LRP refused it ("no rule for Div"); it is the same rule
    const decomposed = new Model(convnextLike(32, 4, 5, [8, 16], false, true), engine);
    // up to the stabilizers the centering's Sub and ReduceMean add (1e-9 in Captum's epsilon
    // composite; zennit's 1e-6 moved the map by 1.4e-4 of its largest value)
    for (const [composite, tol] of [['epsilon', 1e-5], ['epsilon-gamma-box', 1e-3]] as [LrpCompositeName, number][]) {
      const a = data((await only(model, x, { methods: ['lrp'], lrp: { composite } })).raw);
      const lrp = await only(decomposed, x, { methods: ['lrp'], lrp: { composite } });
      const d = data(lrp.raw);
      const scale = a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      for (let i = 0; i < a.length; i++) expect(Math.abs(d[i]! - a[i]!), composite).toBeLessThanOrEqual(tol * scale);
      for (const c of lrp.completeness!) expect(c.relativeGap, composite).toBeLessThan(1e-3);
    }
    // with biases they take their share: the gap is reported, not hidden
    const biased = await only(new Model(convnextLike(32, 4, 5), engine), x, { methods: ['lrp'], lrp: { composite: 'epsilon' } });
    expect(Math.max(...biased.completeness!.map((c) => c.relativeGap))).toBeGreaterThan(1e-3);
  });
});

describe('DeepLIFT', () => {
  it('attributions sum to the score difference from the baseline without max-pooling (BatchNorm, residual addition)', async () => {
    const model = residualModel(false);
    for (const baseline of ['black', 'zero', 'blurred'] as const) {
      const a = await only(model, inputs(3), { methods: ['deeplift'], deeplift: { baseline } });
      for (const c of a.completeness!) {
        expect(Math.abs(c.scoreDifference)).toBeGreaterThan(1e-3);
        expect(c.relativeGap, baseline).toBeLessThan(1e-4);
      }
    }
  });

  it('stays complete through max-pooling (Captum\'s cross-maximum rule), as the reference implementation does', async () => {
    for (const net of ['vgg', 'resnet']) {
      const { model, x, manifest } = fixture(net);
      const a = await only(model, x, { methods: ['deeplift'], target: manifest.targets });
      for (const c of a.completeness!) {
        expect(Math.abs(c.scoreDifference), net).toBeGreaterThan(1e-2);
        expect(c.relativeGap, net).toBeLessThan(1e-4);
      }
      expect(manifest.deepliftCompletenessGap, net).toBeLessThan(1e-4);
    }
  });

  it('stays complete through overlapping, padded and global max-pooling, where the gradient rule leaves a gap', async () => {
    const model = pooledModel();
    const x = inputs(3, 9);
    for (const baseline of ['black', 'blurred'] as const) {
      const a = await only(model, x, { methods: ['deeplift'], deeplift: { baseline } });
      for (const c of a.completeness!) {
        expect(Math.abs(c.scoreDifference), baseline).toBeGreaterThan(1e-3);
        expect(c.relativeGap, baseline).toBeLessThan(1e-4);
      }
    }
  });

  it('stays complete through gates, products, quotients and LayerNorm (a ConvNeXt-shaped net with GELU; SiLU, squeeze-and-excitation, x / (1 + |x|), LayerNorm over C, H, W)', async () => {
    const nets: [string, Model][] = [['convnext', new Model(convnextLike(32, 4, 5), engine, 'convnext')], ['gated', gatedModel()]];
    for (const [name, model] of nets) {
      const x = model.input.shape![2] === 32 ? f32([2, 3, 32, 32], Array.from({ length: 2 * 3 * 1024 }, (_, i) => Math.sin(i * 0.37) * 1.5)) : inputs(3, 11);
      for (const baseline of ['black', 'blurred'] as const) {
        const a = await only(model, x, { methods: ['deeplift'], deeplift: { baseline } });
        for (const c of a.completeness!) {
          expect(Math.abs(c.scoreDifference), `${name} ${baseline}`).toBeGreaterThan(1e-3);
          expect(c.relativeGap, `${name} ${baseline}`).toBeLessThan(1e-4);
        }
      }
    }
  });

  it('runs one shared row for the images that share a baseline, or the baselines of one image, with the attributions of one pair per run', async () => {
    // Captum runs [x; x'] per pair. One black baseline for six images needs one baseline row per
    // run; one image against three baselines one image row. Pooling, gates and LayerNorm each
    // read the partner row; per-image targets differ.
    const close = (a: Float32Array, b: Float32Array, what: string): void => {
      const scale = b.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      expect(scale, what).toBeGreaterThan(0);
      for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!), what).toBeLessThanOrEqual(1e-5 * scale);
    };
    const nets: [string, Model, Tensor][] = [
      ['pooled', pooledModel(), inputs(6, 21)],
      ['convnext', new Model(convnextLike(32, 4, 5), engine, 'convnext'), f32([6, 3, 32, 32], Array.from({ length: 6 * 3 * 1024 }, (_, i) => Math.sin(i * 0.37) * 1.5))],
    ];
    for (const [name, model, x] of nets) {
      const targets = [0, 1, 2, 1, 0, 2];
      const shared = await only(model, x, { methods: ['deeplift'], target: targets, batchSize: 4 });
      const onePair = await only(model, x, { methods: ['deeplift'], target: targets, batchSize: 2 });
      expect(shared.params['rows'], name).toBe(8); // 3 images and the baseline, twice
      expect(onePair.params['rows'], name).toBe(12);
      close(data(shared.raw), data(onePair.raw), name);
      for (const c of shared.completeness!) expect(c.relativeGap, name).toBeLessThan(1e-4);

      const one = sliceBatch(x, 0, 1);
      const baselines = sliceBatch(x, 1, 4);
      const shap = await only(model, one, { methods: ['deeplift-shap'], target: [2], shap: { baselines }, batchSize: 4 });
      const shapPairs = await only(model, one, { methods: ['deeplift-shap'], target: [2], shap: { baselines }, batchSize: 2 });
      expect(shap.params['rows'], name).toBe(4); // 3 baselines and the image
      close(data(shap.raw), data(shapPairs.raw), `${name} deeplift-shap`);
      expect(shap.completeness![0]!.relativeGap, name).toBeLessThan(1e-4);
    }
    // per-image baselines share nothing: they run as pairs
    const blurred = await only(pooledModel(), inputs(3, 9), { methods: ['deeplift'], deeplift: { baseline: 'blurred' }, batchSize: 4 });
    expect(blurred.params['rows']).toBe(6);
  });

  it('agrees closely with integrated gradients from the same baseline on a small ReLU network', async () => {
    const model = residualModel(false);
    const x = inputs(2);
    const dl = data((await only(model, x, { methods: ['deeplift'], deeplift: { baseline: 'zero' } })).raw);
    const ig = data((await only(model, x, { methods: ['integrated-gradients'], integratedGradients: { baseline: 'zero', steps: 256 } })).raw);
    // Not equal (the rescale rule is not the path integral), but close to it.
    expect(pearson(dl, ig)).toBeGreaterThan(0.9);
  });
});

describe('GradientSHAP and DeepLiftShap', () => {
  it('GradientSHAP converges to the mean of integrated gradients over its baselines as samples grow', async () => {
    const model = residualModel(false);
    const x = inputs(1, 5);
    const rand = rng(8);
    const baselines = f32([3, 3, 8, 8], Array.from({ length: 3 * 192 }, () => (rand() - 0.5) / 0.25));
    const per = 192;
    const expected = new Float64Array(per);
    for (let k = 0; k < 3; k++) {
      const base = f32([1, 3, 8, 8], data(baselines).subarray(k * per, (k + 1) * per));
      const ig = data((await only(model, x, { methods: ['integrated-gradients'], integratedGradients: { baseline: base, steps: 128 } })).raw);
      for (let p = 0; p < per; p++) expected[p]! += ig[p]! / 3;
    }
    const error = async (samples: number): Promise<number> => {
      const a = data((await only(model, x, { methods: ['gradient-shap'], shap: { baselines, samples, seed: 3 } })).raw);
      let e = 0;
      let norm = 0;
      for (let p = 0; p < per; p++) {
        e += (a[p]! - expected[p]!) ** 2;
        norm += expected[p]! ** 2;
      }
      return Math.sqrt(e / norm);
    };
    const coarse = await error(8);
    const fine = await error(2048);
    expect(fine).toBeLessThan(coarse / 4);
    expect(fine).toBeLessThan(0.1);
  });

  it('DeepLiftShap is the mean of DeepLIFT over the baselines, and complete against the mean baseline score', async () => {
    const model = residualModel(false);
    const x = inputs(2, 6);
    const rand = rng(12);
    const baselines = f32([4, 3, 8, 8], Array.from({ length: 4 * 192 }, () => (rand() - 0.5) / 0.25));
    const shap = await only(model, x, { methods: ['deeplift-shap'], shap: { baselines } });
    const mean = new Float64Array(2 * 192);
    for (let k = 0; k < 4; k++) {
      const base = f32([1, 3, 8, 8], data(baselines).subarray(k * 192, (k + 1) * 192));
      const dl = data((await only(model, x, { methods: ['deeplift'], deeplift: { baseline: base } })).raw);
      for (let p = 0; p < mean.length; p++) mean[p]! += dl[p]! / 4;
    }
    const s = data(shap.raw);
    for (let p = 0; p < mean.length; p++) expect(s[p]).toBeCloseTo(mean[p]!, 4);
    for (const c of shap.completeness!) expect(c.relativeGap).toBeLessThan(1e-4);
  });
});

describe('the CAM family', () => {
  it('HiResCAM equals the ReLU of the gradient-times-activation sum at the layer', async () => {
    const { model, x, manifest } = fixture('resnet');
    const a = await only(model, x, { methods: ['hirescam'], target: manifest.targets });
    const r = await scoreGradients(model, x, Int32Array.from(manifest.targets), { score: 'logit', wrt: [manifest.layer], outputs: [manifest.layer] });
    const g = data(r.gradients[manifest.layer]!);
    const act = data(r.values[manifest.layer]!);
    const [n, k, h, w] = r.values[manifest.layer]!.dims as number[];
    const hw = h! * w!;
    for (let i = 0; i < n!; i++) {
      for (let p = 0; p < hw; p++) {
        let s = 0;
        for (let c = 0; c < k!; c++) s += g[(i * k! + c) * hw + p]! * act[(i * k! + c) * hw + p]!;
        expect(data(a.raw)[i * hw + p]).toBeCloseTo(Math.max(0, s), 5);
      }
    }
  });

  it('on a GAP + dense model XGradCAM equals Grad-CAM up to scale', async () => {
    const model = courseModel(engine, 2);
    const rand = rng(2);
    const x = f32([2, 1, 28, 28], Array.from({ length: 2 * 784 }, () => rand()));
    const e = await explain(model, x, { methods: ['gradcam', 'xgradcam'] });
    const [gc, xg] = e.attributions.map((a) => data(a.raw));
    const hw = gc!.length / 2;
    for (let i = 0; i < 2; i++) {
      const a = gc!.subarray(i * hw, (i + 1) * hw);
      const b = xg!.subarray(i * hw, (i + 1) * hw);
      const top = a.indexOf(Math.max(...a));
      const ratio = b[top]! / a[top]!;
      expect(ratio).toBeGreaterThan(0);
      for (let p = 0; p < hw; p++) expect(b[p]).toBeCloseTo(a[p]! * ratio, 5);
    }
  });

  it('the principal projection of maps that are multiples of one map is that map, centered, oriented along the channel mean', () => {
    const f = Float32Array.from({ length: 12 }, (_, p) => Math.sin(p) + 0.1 * p);
    const coefficients = [2, -0.5, 1.5];
    const stack = new Float32Array(3 * 12);
    coefficients.forEach((c, k) => f.forEach((v, p) => (stack[k * 12 + p] = c * v)));
    const proj = principalProjection(stack, 1, 3, 12);
    const mean = f.reduce((a, b) => a + b, 0) / 12;
    const norm = Math.hypot(...coefficients);
    for (let p = 0; p < 12; p++) expect(proj[p]).toBeCloseTo(norm * (f[p]! - mean), 4);
    // The same maps negated: the channel mean flips, and so does the projection.
    const negated = principalProjection(stack.map((v) => -v), 1, 3, 12);
    for (let p = 0; p < 12; p++) expect(negated[p]).toBeCloseTo(-norm * (f[p]! - mean), 4);
  });

  it('orients the projection by its largest value where the channel mean map is flat (LayerNorm tokens), not by rounding noise', () => {
    // channels in pairs (a, -a): the mean over channels is 0 at every position, up to a noise of
    // 1e-9 whose sign alone differs between the two stacks (float32 against float64 rounding)
    const f = Float64Array.from({ length: 12 }, (_, p) => Math.sin(p) + 0.1 * p);
    const stack = (noise: number): Float64Array => {
      const s = new Float64Array(4 * 12);
      [1, -1, 0.5, -0.5].forEach((c, k) => f.forEach((v, p) => (s[k * 12 + p] = c * v + (k === 0 ? noise * Math.cos(3 * p) : 0))));
      return s;
    };
    const up = principalProjection(stack(1e-9), 1, 4, 12);
    const down = principalProjection(stack(-1e-9), 1, 4, 12);
    const largest = up.reduce((m, v) => (Math.abs(v) > Math.abs(m) ? v : m), 0);
    expect(largest).toBeGreaterThan(0);
    for (let p = 0; p < 12; p++) expect(down[p]).toBeCloseTo(up[p]!, 6);
  });

  it('eigen smoothing of Grad-CAM is the ReLU of the first principal component of the gradient-weighted activations', async () => {
    const { model, x, manifest } = fixture('vgg');
    const a = await only(model, x, { methods: ['gradcam'], target: manifest.targets, layer: manifest.layer, cam: { eigenSmooth: true } });
    expect(a.params['eigenSmooth']).toBe(true);
    const r = await scoreGradients(model, x, Int32Array.from(manifest.targets), { score: 'logit', wrt: [manifest.layer], outputs: [manifest.layer] });
    const g = data(r.gradients[manifest.layer]!);
    const act = data(r.values[manifest.layer]!);
    const [n, k, h, w] = r.values[manifest.layer]!.dims as number[];
    const hw = h! * w!;
    const weighted = new Float32Array(act.length);
    for (let p = 0; p < n! * k!; p++) {
      let mean = 0;
      for (let q = p * hw; q < (p + 1) * hw; q++) mean += g[q]! / hw;
      for (let q = p * hw; q < (p + 1) * hw; q++) weighted[q] = mean * act[q]!;
    }
    const expected = principalProjection(weighted, n!, k!, hw);
    expect(Math.max(...data(a.raw))).toBeGreaterThan(0);
    for (let p = 0; p < expected.length; p++) expect(data(a.raw)[p]).toBeCloseTo(Math.max(0, expected[p]!), 5);
  });

  it('aug smoothing averages six min-max scaled maps at input resolution, and a symmetric input gives a symmetric map', async () => {
    const { model, manifest } = fixture('vgg');
    const size = 32;
    const mirror = new Float32Array(3 * size * size);
    const rand = rng(1);
    for (let c = 0; c < 3; c++) for (let y = 0; y < size; y++) for (let xx = 0; xx < size / 2; xx++) mirror[(c * size + y) * size + xx] = mirror[(c * size + y) * size + size - 1 - xx] = rand();
    const a = await only(model, f32([1, 3, size, size], mirror), { methods: ['gradcam'], layer: manifest.layer, cam: { augSmooth: true } });
    expect(a.raw.dims).toEqual([1, 1, size, size]);
    const m = data(a.raw);
    expect(Math.max(...m)).toBeLessThanOrEqual(1 + 1e-6);
    for (let y = 0; y < size; y++) for (let xx = 0; xx < size; xx++) expect(m[y * size + xx]).toBeCloseTo(m[y * size + size - 1 - xx]!, 4);
  });

  it('AblationCAM on a GAP + dense model weights each channel by its share of the logit', async () => {
    // Zeroing channel k of the pooled layer lowers the logit by w_k * mean(A_k): the weights are
    // w_k * mean(A_k) / logit, so the map is ReLU(sum_k w_k mean(A_k) A_k) / logit.
    const model = courseModel(engine, 1);
    const rand = rng(5);
    const x = f32([1, 1, 28, 28], Array.from({ length: 784 }, () => rand()));
    const e = await explain(model, x, { methods: ['ablationcam', 'cam'] });
    const layer = e.attributions[1]!.layer!.name;
    const ab = e.attributions[0]!;
    expect(ab.layer!.name).toBe(layer);
    const out = await model.run(x, [layer]);
    const act = out[layer]!;
    const logits = data(out[model.output]!);
    const t = e.targets[0]!;
    const [, k, h, w] = act.dims as number[];
    const hw = h! * w!;
    const { camHead } = await import('../../src/methods/explain/layers.js');
    const head = camHead(model);
    const expected = new Float64Array(hw);
    for (let c = 0; c < k!; c++) {
      let mean = 0;
      for (let p = 0; p < hw; p++) mean += data(act)[c * hw + p]!;
      mean /= hw;
      const weight = (head.weights[t * k! + c]! * mean) / logits[t]!;
      for (let p = 0; p < hw; p++) expected[p]! += weight * data(act)[c * hw + p]!;
    }
    for (let p = 0; p < hw; p++) expect(data(ab.raw)[p]).toBeCloseTo(Math.max(0, expected[p]!), 4);
  });
});
