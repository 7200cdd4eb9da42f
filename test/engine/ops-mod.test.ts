// Mod had no shape rule and no reference kernel. torchvision's Swin pads each stage to whole
// windows with F.pad(x, (0, 0, 0, (w - W % w) % w, 0, (w - H % w) % w)), which torch.onnx writes
// as Mod over Gather(Shape(x)): the pads were unknown, so were the Pad's output and every size
// after it (Swin-T's summary showed "pad?4529" from the first block on, counted 1.03 GFLOPs of its
// 9, and no layer after the stem could be a CAM, dream or style layer).
import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/engine/graph/builder.js';
import { buildGradientGraph } from '../../src/engine/autodiff/gradient.js';
import { evaluateGraph } from '../../src/engine/reference/evaluator.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { f32, type Tensor } from '../../src/engine/tensor.js';
import '../../src/engine/index.js';

const engine = new Engine(nodeBackend(), { threads: 1 });
afterAll(() => engine.dispose());

const i64 = (dims: number[], values: number[]): Tensor => ({ dtype: 'int64', dims, data: BigInt64Array.from(values, BigInt) });

describe('Mod', () => {
  it("settles Swin's padding to whole windows, so the padded map has known sizes", () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', ['N', 10, 9, 4]); // channels-last, as Swin's blocks hold it
    const window = 7;
    const padOf = (axis: number): string => {
      const size = b.op('Gather', [b.op('Shape', [x]), b.ints([axis])], { axis: 0 });
      return b.op('Mod', [b.op('Sub', [b.ints([window]), b.op('Mod', [size, b.ints([window])])]), b.ints([window])]);
    };
    const pads = b.op('Concat', [b.ints([0, 0, 0, 0, 0]), padOf(1), padOf(2), b.ints([0])], { axis: 0 });
    const padded = b.op('Pad', [x, pads]);
    expect(b.factsOf(padded).shape).toEqual(['N', 14, 14, 4]);
  });

  it('computes what ONNX Runtime computes: the divisor\'s sign (fmod=0) and the dividend\'s (fmod=1)', async () => {
    const b = new GraphBuilder();
    const a = b.input('a', 'int64', [6]);
    const d = b.input('d', 'int64', [6]);
    const x = b.input('x', 'float32', [4]);
    const y = b.input('y', 'float32', [4]);
    b.output(b.op('Mod', [a, d], {}, { outputs: ['floored'] }));
    b.output(b.op('Mod', [a, d], { fmod: 1 }, { outputs: ['truncated'] }));
    b.output(b.op('Mod', [x, y], { fmod: 1 }, { outputs: ['float'] }));
    const graph = b.build();
    const feeds = { a: i64([6], [-7, 7, -7, 7, 6, -6]), d: i64([6], [3, 3, -3, -3, 3, 4]), x: f32([4], [-7.5, 7.5, 5.25, -0.5]), y: f32([4], [2, -2, 1.5, 3]) };
    const run = await engine.compileOnce(graph);
    const want = await run.run(feeds);
    await run.release();
    const got = evaluateGraph(graph, feeds, ['floored', 'truncated', 'float']);
    for (const name of ['floored', 'truncated', 'float']) expect(Array.from(got[name]!.data as ArrayLike<number | bigint>, Number), name).toEqual(Array.from(want[name]!.data as ArrayLike<number | bigint>, Number));
    expect(Array.from(got['floored']!.data as BigInt64Array, Number)).toEqual([2, 1, -1, -2, 0, 2]);
  });

  it('passes the gradient: d/da = dy, d/db = -trunc(a / b) dy', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [4]);
    const y = b.input('y', 'float32', [4]);
    b.output(b.op('Mod', [x, y], { fmod: 1 }, { outputs: ['r'] }));
    const gg = buildGradientGraph(b.build(), { seed: { upstream: ['r'] }, wrt: ['x', 'y'] });
    const run = await engine.compileOnce(gg.graph);
    const out = await run.run({ x: f32([4], [-7.5, 7.5, 5.25, -0.5]), y: f32([4], [2, -2, 1.5, 3]), [gg.seedInputs['r']!]: f32([4], [1, 2, 3, 4]) });
    await run.release();
    expect(Array.from(out[gg.gradientOutputs['x']!]!.data as Float32Array)).toEqual([1, 2, 3, 4]);
    // trunc(a / b): -3, -3, 3, 0
    expect(Array.from(out[gg.gradientOutputs['y']!]!.data as Float32Array, (v) => v + 0)).toEqual([3, 6, -9, 0]);
  });
});
