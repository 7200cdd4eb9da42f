// What the studio's memory plan says when it refuses a request: a forward-only run (a prediction,
// the feature maps) is refused for its activations, not for "activations and gradients" it
// never computes (a ConvNeXt upload was told its prediction needed gradients).
import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/engine/graph/builder.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { MemoryPlan } from '../../src/interfaces/server/workers/memory.js';
import { seededRandom } from '../../src/models/init.js';
import { Layers } from '../../src/models/layers.js';
import { Model } from '../../src/models/model.js';

const GB = 2 ** 30;

const engine = new Engine(nodeBackend({ cacheDir: false }), { threads: 1 });
afterAll(() => engine.dispose());

function wideModel(): Model {
  const b = new GraphBuilder();
  b.graph.name = 'wide';
  const L = new Layers(b, seededRandom(1));
  let x = b.input('image', 'float32', ['N', 3, 2048, 2048]);
  for (let i = 0; i < 2; i++) x = L.relu(L.conv2d(x, `conv${i}`, { filters: 16 }), `relu${i}`);
  b.output(L.dense(L.flatten(L.globalAvgPool(x, 'gap'), 'flat'), 'fc', 10));
  return new Model(b.build(), engine, 'wide');
}

describe('the memory plan\'s refusals', () => {
  const plan = new MemoryPlan(1 * GB, 1);
  const model = wideModel();

  it('names activations only for a forward run', () => {
    expect(() => plan.batch('A prediction', model, 'forward', { max: 1, worker: 'interactive' })).toThrow(/^A prediction needs about .* \(activations of "wide", beside/);
  });

  it('names activations and gradients for a gradient run', () => {
    expect(() => plan.batch('Saliency', model, 'gradient', { max: 1 })).toThrow(/\(activations and gradients of "wide", beside/);
  });
});
