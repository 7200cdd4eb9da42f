// FLOPs per image of layers whose values do not lead with the batch. PyTorch's attention works on
// [L, N, C] and reshapes it to [L, N x heads, C / heads]; the summary counted every axis but the
// first at a symbolic batch, so the tokens axis L was dropped as if it were the batch and the
// N x heads rows (a symbol) counted 1: ViT-B/16 summed to 22.6 GFLOPs (fvcore: 17.6 GMACs, 35 G),
// Swin-T to 6.0 (9.0). Counted at a batch of one, every axis counts.
import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/engine/graph/builder.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { summarize } from '../../src/methods/inspect/summary.js';
import { seededRandom } from '../../src/models/init.js';
import { Layers } from '../../src/models/layers.js';
import { Model } from '../../src/models/model.js';
import { vitLike } from '../support/unseen-models.js';

const engine = new Engine(nodeBackend(), { threads: 1 });
afterAll(() => engine.dispose());

const TOKENS = 64;
const HEADS = 2;
const WIDTH = 4;

/** A 1x1 conv to 4 channels, its 8x8 positions as tokens [L, N, C], split into heads [L, N x 2, 2] as PyTorch's attention does, a per-head product. */
function headsNet(): ReturnType<GraphBuilder['build']> {
  const b = new GraphBuilder();
  const L = new Layers(b, seededRandom(2));
  const x = b.input('image', 'float32', ['N', 3, 8, 8]);
  const tokens = b.op('Transpose', [b.op('Reshape', [L.conv2d(x, 'embed', { filters: WIDTH, kernel: 1, padding: 0 }), b.ints([0, WIDTH, -1])])], { perm: [2, 0, 1] });
  const batch = b.op('Gather', [b.op('Shape', [tokens]), b.ints([1])], { axis: 0 });
  const rows = b.op('Concat', [b.ints([TOKENS]), b.op('Mul', [batch, b.ints([HEADS])]), b.ints([WIDTH / HEADS])], { axis: 0 });
  const perHead = b.op('Reshape', [tokens, rows]);
  const weight = b.initializer('per_head.weight', { dtype: 'float32', dims: [WIDTH / HEADS, WIDTH / HEADS], data: Float32Array.of(1, 2, 3, 4) });
  const mixed = b.op('MatMul', [perHead, weight], {}, { name: 'per_head', outputs: ['per_head'] });
  const back = b.op('Transpose', [b.op('Reshape', [mixed, b.op('Shape', [tokens])])], { perm: [1, 0, 2] });
  b.output(L.dense(b.op('ReduceMean', [back], { axes: [1], keepdims: 0 }), 'head', 3));
  return b.build();
}

describe('FLOPs per image where the batch is not the first axis', () => {
  it("count every token of PyTorch's per-head reshape", () => {
    const summary = summarize(new Model(headsNet(), engine, 'heads'));
    const row = summary.rows.find((r) => r.output === 'per_head')!;
    // [64 tokens, 2 heads, 2] x [2, 2]: 2 x 64 x 2 x 2 x 2 per image
    expect(row.flops).toBe(2 * TOKENS * HEADS * (WIDTH / HEADS) * (WIDTH / HEADS));
  });

  it('stay per image on a batch-first transformer (the batch of one is not counted twice)', () => {
    const summary = summarize(new Model(vitLike(32, 8, 8, 10, 3), engine, 'vit_like'));
    const embed = summary.rows.find((r) => r.type.startsWith('Conv'))!;
    // 8 channels x 4 x 4 positions, each 3 x 8 x 8 multiply-adds, plus the bias
    expect(embed.flops).toBe(8 * 16 * (2 * 3 * 8 * 8) + 8 * 16);
  });
});
