// A quick request's forward run is planned by the values alive at its peak, not by the sum of
// every value: the interactive worker refused a prediction on ResNet-50 (101 MB of values, a peak
// of a few MB) and on Inception v3 on a default studio. Feature maps it returns stay alive to the
// end and count in full.
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/engine/graph/builder.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { MemoryPlan } from '../../src/interfaces/server/workers/memory.js';
import { fetchingBytesPerSample, peakValuesPerSample, valuesPerSample } from '../../src/methods/inspect/memory.js';
import { seededRandom } from '../../src/models/init.js';
import { Layers } from '../../src/models/layers.js';
import { Model } from '../../src/models/model.js';

const engine = new Engine(nodeBackend({ cacheDir: false }), { threads: 1 });
const GB = 2 ** 30;

/** conv (4 x 8 x 8 = 256 values) -> relu (256) -> max pool (4 x 4 x 4 = 64) -> flatten (64) -> dense (3). */
function chain(): Model {
  const b = new GraphBuilder();
  const L = new Layers(b, seededRandom(1));
  const x = b.input('image', 'float32', ['N', 1, 8, 8]);
  b.output(L.dense(L.flatten(L.maxPool(L.relu(L.conv2d(x, 'conv', { filters: 4 }), 'relu'), 'pool'), 'flat'), 'fc', 3));
  return new Model(b.build(), engine, 'chain');
}

/** `depth` full-resolution 16-channel conv + ReLU pairs at 224 px, global pooling and a dense head. */
function deep(depth: number): Model {
  const b = new GraphBuilder();
  const L = new Layers(b, seededRandom(2));
  let x = b.input('image', 'float32', ['N', 3, 224, 224]);
  for (let i = 0; i < depth; i++) x = L.relu(L.conv2d(x, `conv${i}`, { filters: 16 }), `relu${i}`);
  b.output(L.dense(L.flatten(L.globalAvgPool(x, 'gap'), 'flat'), 'fc', 10));
  return new Model(b.build(), engine, `deep_${depth}`);
}

describe('values alive at once in a forward run', () => {
  it('a chain peaks where a value and its consumer\'s output are both alive; a fetched value lives to the end', () => {
    const m = chain();
    const conv = m.resolveLayer('conv');
    const sizes = [256, 256, 64, 64, 3]; // conv, relu, pool, flat, fc (and whatever else the builder emits)
    expect(valuesPerSample(m)).toBeGreaterThanOrEqual(sizes.reduce((a, v) => a + v, 0));
    expect(peakValuesPerSample(m)).toBe(512); // conv + relu
    expect(peakValuesPerSample(m, [conv])).toBe(256 + 256 + 64); // conv kept: relu + conv + pool at the pool
  });

  it('the studio plans a prediction by the peak and feature maps of every layer by the sum', () => {
    const m = deep(60); // 60 x 2 x 802,816 values: 385 MB in all, 6.4 MB at the peak
    const plan = new MemoryPlan(1 * GB, 1); // 384 MB for the interactive worker
    expect(fetchingBytesPerSample(m, [])).toBe(2 * 2 * 16 * 224 * 224 * 4);
    expect(plan.batch('A prediction', m, 'forward', { max: 1, worker: 'interactive', fetched: [] })).toBe(1);
    // before: every value counted, and the prediction was refused
    expect(() => plan.batch('A prediction', m, 'forward', { max: 1, worker: 'interactive' })).toThrow(/^A prediction needs about 3\d\d MB of memory at once/);
    const all = m.pickableValues().filter((p) => p.shape.length === 4).map((p) => p.name);
    expect(() => plan.batch('Activations', m, 'forward', { max: 1, worker: 'interactive', fetched: all })).toThrow(/^Activations needs about 3\d\d MB of memory at once/);
  });
});
