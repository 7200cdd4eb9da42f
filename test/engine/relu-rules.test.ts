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
