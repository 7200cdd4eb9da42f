import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/engine/graph/builder.js';
import { buildGradientGraph } from '../../src/engine/autodiff/gradient.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { f32, toNumbers, type RuleSetName } from '../../src/engine/index.js';

// The worked example from the course notes (Springenberg et al., fig. 1): one ReLU, a 3x3 input.
const forwardInput = [1, -1, 5, 2, -5, -7, -3, 2, 4];
const upstream = [-2, 3, -1, 6, -3, 1, 2, -1, 3];
const expected: Record<RuleSetName, number[]> = {
  standard: [-2, 0, -1, 6, 0, 0, 0, -1, 3],
  deconvnet: [0, 3, 0, 6, 0, 1, 2, 0, 3],
  guided: [0, 0, 0, 6, 0, 0, 0, 0, 3],
};

const engine = new Engine(nodeBackend(), { threads: 1 });
afterAll(() => engine.dispose());

describe('ReLU rule sets reproduce the course-notes example', () => {
  for (const ruleSet of ['standard', 'deconvnet', 'guided'] as RuleSetName[]) {
    it(ruleSet, async () => {
      const b = new GraphBuilder();
      const x = b.input('x', 'float32', [3, 3]);
      const y = b.op('Relu', [x], {}, { outputs: ['y'] });
      b.output(y);
      const gg = buildGradientGraph(b.build(), { seed: { upstream: ['y'] }, wrt: ['x'], ruleSet });
      const run = await engine.compileOnce(gg.graph);
      const out = await run.run({ x: f32([3, 3], forwardInput), [gg.seedInputs['y']!]: f32([3, 3], upstream) });
      await run.release();
      // + 0 turns ONNX Runtime's -0 (0 * negative) into 0 for the comparison.
      expect(toNumbers(out[gg.gradientOutputs['x']!]!).map((v) => v + 0)).toEqual(expected[ruleSet]);
    });
  }
});

// ReLU6 exports as Clip(x, 0, 6): a rectifier, so the guided and deconvnet rules rectify it as
// they do ReLU. Here the cap is 4, so the input 5 is clipped (its gradient 0 in every rule set
// but deconvnet, which ignores the forward pass). A clip with a negative lower bound (hardtanh)
// is no rectifier: every rule set keeps its gradient.
const cappedExpected: Record<RuleSetName, number[]> = {
  standard: [-2, 0, 0, 6, 0, 0, 0, -1, 0],
  deconvnet: [0, 3, 0, 6, 0, 1, 2, 0, 3],
  guided: [0, 0, 0, 6, 0, 0, 0, 0, 0],
};
const hardtanhExpected = [-2, 3, 0, 6, 0, 0, 0, -1, 0];

async function clipGradient(min: number, max: number, ruleSet: RuleSetName): Promise<number[]> {
  const b = new GraphBuilder();
  const x = b.input('x', 'float32', [3, 3]);
  const y = b.op('Clip', [x, b.scalar(min), b.scalar(max)], {}, { outputs: ['y'] });
  b.output(y);
  const gg = buildGradientGraph(b.build(), { seed: { upstream: ['y'] }, wrt: ['x'], ruleSet });
  const run = await engine.compileOnce(gg.graph);
  const out = await run.run({ x: f32([3, 3], forwardInput), [gg.seedInputs['y']!]: f32([3, 3], upstream) });
  await run.release();
  return toNumbers(out[gg.gradientOutputs['x']!]!).map((v) => v + 0);
}

describe('a Clip at 0 (ReLU6) takes the rectifier rules; other clips keep the gradient', () => {
  for (const ruleSet of ['standard', 'deconvnet', 'guided'] as RuleSetName[]) {
    it(`Clip(x, 0, 4) under ${ruleSet}`, async () => {
      expect(await clipGradient(0, 4, ruleSet)).toEqual(cappedExpected[ruleSet]);
    });
    it(`Clip(x, -2, 4) under ${ruleSet}`, async () => {
      expect(await clipGradient(-2, 4, ruleSet)).toEqual(hardtanhExpected);
    });
  }
});
