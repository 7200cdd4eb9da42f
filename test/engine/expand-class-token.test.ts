// ViT prepends its class token with torch.cat([class_token.expand(n, -1, -1), x], dim=1), which
// torch.onnx writes as Expand(token, Where(Equal(s, -1), 1, s)) with s = Reshape(Concat(n, -1,
// -1), [-1]) and n = Gather(Shape(x), 0). The Reshape dropped the symbolic entries, and Equal and
// Where kept none, so the Expand's sizes were unknown and every gradient through the Concat failed:
// "Cannot differentiate Concat node "/Concat_2": gradient needs static sizes along axis 1"
// (saliency, Grad-CAM and every other gradient method on torchvision's vit_b_16).
import { afterAll, describe, expect, it } from 'vitest';
import { buildGradientGraph } from '../../src/engine/autodiff/gradient.js';
import { GraphBuilder } from '../../src/engine/graph/builder.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { f32 } from '../../src/engine/tensor.js';
import { randn, rng } from '../support/rng.js';

const engine = new Engine(nodeBackend(), { threads: 1 });
afterAll(() => engine.dispose());

/** tokens [N, 4, 3] with a learned class token in front: [N, 5, 3], as torch.onnx exports ViT's. */
function classTokenGraph(): { b: GraphBuilder; tokens: string } {
  const b = new GraphBuilder();
  const x = b.input('x', 'float32', ['N', 4, 3]);
  const token = b.initializer('class_token', f32([1, 1, 3], [0.5, -1, 2]));
  const n = b.op('Unsqueeze', [b.op('Gather', [b.op('Shape', [x]), b.initializer('batch_axis', { dtype: 'int64', dims: [], data: BigInt64Array.of(0n) })], { axis: 0 }), b.ints([0])]);
  const requested = b.op('Reshape', [b.op('Concat', [n, b.ints([-1]), b.ints([-1])], { axis: 0 }), b.ints([-1])]);
  const shape = b.op('Where', [b.op('Equal', [requested, b.ints([-1, -1, -1])]), b.ints([1, 1, 1]), requested]);
  const tokens = b.op('Concat', [b.op('Expand', [token, shape]), x], { axis: 1 }, { outputs: ['tokens'] });
  b.output(tokens);
  return { b, tokens };
}

describe("ViT's class token (expand(n, -1, -1), then concatenated)", () => {
  it('keeps the batch and one token: [N, 1, C], so the sequence is [N, 1 + tokens, C]', () => {
    const { b, tokens } = classTokenGraph();
    expect(b.factsOf(tokens).shape).toEqual(['N', 5, 3]);
  });

  it('passes gradients through the concatenation to the patch tokens', async () => {
    const { b } = classTokenGraph();
    const gg = buildGradientGraph(b.build(), { seed: { upstream: ['tokens'] }, wrt: ['x'] });
    const run = await engine.compileOnce(gg.graph);
    const dy = randn(rng(1), 2 * 5 * 3);
    const out = await run.run({ x: f32([2, 4, 3], randn(rng(2), 24)), [gg.seedInputs['tokens']!]: f32([2, 5, 3], dy) });
    await run.release();
    const want = [...dy.slice(3, 15), ...dy.slice(18, 30)];
    expect(Array.from(out[gg.gradientOutputs['x']!]!.data as Float32Array)).toEqual(Array.from(Float32Array.from(want)));
  });
});
