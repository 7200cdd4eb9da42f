// nonNegativeValues: which values can never be negative. LRP's gamma and z+ rules drop the
// negative half of a layer's input on that knowledge, so a value wrongly called non-negative
// would silently lose relevance; the op cases below include the ones that must stay out.
import { afterAll, describe, expect, it } from 'vitest';
import { buildGradientGraph } from '../../src/engine/autodiff/gradient.js';
import { GraphBuilder } from '../../src/engine/graph/builder.js';
import type { Graph } from '../../src/engine/graph/ir.js';
import { nonNegativeValues } from '../../src/engine/graph/sign.js';
import { lrpComposite, lrpRuleSet, type LrpCompositeName } from '../../src/engine/ops/rules/lrp.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { resnet } from '../../src/models/zoo/index.js';
import { randn, rng } from '../support/rng.js';

const engine = new Engine(nodeBackend(), { threads: 1 });
afterAll(() => engine.dispose());

const f32 = (dims: number[], values: number[]): Tensor => ({ dtype: 'float32', dims, data: Float32Array.from(values) });

describe('nonNegativeValues', () => {
  it('finds every ResNet conv input after the stem, and not the image or a conv output', () => {
    const net = resnet({ widths: [8, 16], blocks: 1, size: 32, classes: 5, seed: 3 });
    const known = nonNegativeValues(net);
    const convs = net.nodes.filter((n) => n.op === 'Conv');
    expect(known.has(convs[0]!.inputs[0]!)).toBe(false);
    for (const c of convs.slice(1)) expect(known.has(c.inputs[0]!), c.name).toBe(true);
    for (const c of convs) expect(known.has(c.outputs[0]!)).toBe(false);
  });

  it('decides op by op, keeping out what can go negative', () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [1, 2, 4, 4]);
    const r = b.op('Relu', [x]);
    const cases: Record<string, [string, boolean]> = {
      relu: [r, true],
      input: [x, false],
      leaky: [b.op('LeakyRelu', [x], { alpha: 0.1 }), false],
      leakyOfRelu: [b.op('LeakyRelu', [r], { alpha: 0.1 }), true],
      sub: [b.op('Sub', [r, r]), false],
      addRelus: [b.op('Add', [r, b.op('Sigmoid', [x])]), true],
      addInput: [b.op('Add', [r, x]), false],
      mulNegativeConstant: [b.op('Mul', [r, b.constant(f32([1], [-1]), 'minus')]), false],
      mulPositiveConstant: [b.op('Mul', [r, b.constant(f32([1], [2]), 'two')]), true],
      maxWithZero: [b.op('Max', [x, b.constant(f32([1], [0]), 'zero')]), true],
      clipAtZero: [b.op('Clip', [x, b.constant(f32([], [0]), 'lo'), b.constant(f32([], [6]), 'hi')]), true],
      clipBelowZero: [b.op('Clip', [x, b.constant(f32([], [-1]), 'lo2'), b.constant(f32([], [6]), 'hi2')]), false],
      clipOfReluNegativeHigh: [b.op('Clip', [r, '', b.constant(f32([], [-1]), 'hi3')]), false],
      pool: [b.op('MaxPool', [r], { kernel_shape: [2, 2] }), true],
      padZero: [b.op('Pad', [r, b.constant({ dtype: 'int64', dims: [8], data: BigInt64Array.from([0, 0, 1, 1, 0, 0, 1, 1].map(BigInt)) }, 'pads')]), true],
      padNegative: [b.op('Pad', [r, b.constant({ dtype: 'int64', dims: [8], data: BigInt64Array.from([0, 0, 1, 1, 0, 0, 1, 1].map(BigInt)) }, 'pads2'), b.constant(f32([], [-3]), 'padValue')]), false],
      resizeLinear: [b.op('Resize', [r, '', b.constant(f32([4], [1, 1, 2, 2]), 'scales')], { mode: 'linear' }), true],
      resizeCubic: [b.op('Resize', [r, '', b.constant(f32([4], [1, 1, 2, 2]), 'scales2')], { mode: 'cubic' }), false],
      concatMixed: [b.op('Concat', [r, x], { axis: 1 }), false],
    };
    const known = nonNegativeValues(b.graph);
    for (const [name, [value, expected]] of Object.entries(cases)) expect(known.has(value), name).toBe(expected);
  });
});

describe('LRP on inputs known to be non-negative', () => {
  const net = resnet({ widths: [8, 16], blocks: 1, size: 32, classes: 5, seed: 3 });
  /** The same function with every conv input after the stem hidden from the analysis: x * -1 * -1. */
  const hidden = (): Graph => {
    const g = net.clone();
    const minus = 'minus_one';
    g.initializers.set(minus, f32([1], [-1]));
    const nodes = [];
    for (const n of g.nodes) {
      if (n.op === 'Conv' && n !== g.nodes.find((m) => m.op === 'Conv')) {
        const v = n.inputs[0]!;
        nodes.push({ op: 'Mul', name: `${n.name}_flip1`, inputs: [v, minus], outputs: [`${v}_flip1_${n.name}`], attrs: {} });
        nodes.push({ op: 'Mul', name: `${n.name}_flip2`, inputs: [`${v}_flip1_${n.name}`, minus], outputs: [`${v}_flip2_${n.name}`], attrs: {} });
        nodes.push({ ...n, inputs: [`${v}_flip2_${n.name}`, ...n.inputs.slice(1)] });
      } else nodes.push(n);
    }
    g.nodes = nodes;
    return g;
  };

  const relevance = async (g: Graph, composite: LrpCompositeName, x: Tensor): Promise<{ map: Float32Array; convs: number }> => {
    const ruleSet = lrpRuleSet(g, lrpComposite(composite, { low: [-2.2, -2.1, -1.9], high: [2.3, 2.4, 2.6] }));
    const gg = buildGradientGraph(g, { seed: { upstream: ['fc'] }, wrt: ['input'], ruleSet });
    const dy = f32([x.dims[0]!, 5], [1, 0, 0, 0, 0, 0, 0, 1, 0, 0]);
    const c = await engine.compileOnce(gg.graph);
    const out = await c.run({ input: x, [gg.seedInputs['fc']!]: dy });
    await c.release();
    return { map: out[gg.gradientOutputs['input']!]!.data as Float32Array, convs: gg.graph.nodes.filter((n) => n.op === 'Conv' || n.op === 'ConvTranspose').length };
  };

  for (const composite of ['epsilon-gamma-box', 'epsilon-plus-flat'] as const) {
    it(`${composite}: drops the negative half's convolutions, same relevance`, async () => {
      const x: Tensor = { dtype: 'float32', dims: [2, 3, 32, 32], data: Float32Array.from(randn(rng(11), 2 * 3 * 32 * 32)) };
      const fast = await relevance(net, composite, x);
      const general = await relevance(hidden(), composite, x);
      // Five convs read a ReLU's output: each drops the negative input's products, two forward
      // and two transposed for zennit's gamma, one and one for z+.
      expect(general.convs - fast.convs).toBe(5 * (composite === 'epsilon-gamma-box' ? 4 : 2));
      const scale = general.map.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      expect(scale).toBeGreaterThan(0);
      for (let i = 0; i < fast.map.length; i++) expect(Math.abs(fast.map[i]! - general.map[i]!)).toBeLessThanOrEqual(1e-5 * scale);
    });
  }
});
