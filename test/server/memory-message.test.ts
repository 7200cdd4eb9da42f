// What the studio's memory plan says when it refuses a request: a forward-only run (a prediction,
// the feature maps) is refused for its activations, not for "activations and gradients" it
// never computes (a ConvNeXt upload was told its prediction needed gradients). A model whose
// weights alone fill the worker (torchvision's AlexNet, 233 MB held four times, in the default
// studio's 1 GB interactive worker) is told so, not to "ask for less" (its 3 MB prediction).
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

/** A dense head over 3x32x32 pixels with `mb` MB of weights. */
function heavyModel(mb: number): Model {
  const b = new GraphBuilder();
  b.graph.name = `heavy${mb}`;
  const x = b.input('image', 'float32', ['N', 3, 32, 32]);
  const classes = Math.round((mb * 2 ** 20) / 4 / 3072);
  const w = b.initializer('fc.weight', { dtype: 'float32', dims: [classes, 3072], data: new Float32Array(classes * 3072) });
  b.output(b.op('Gemm', [b.op('Flatten', [x], { axis: 1 }), w], { transB: 1 }, { name: 'fc', outputs: ['logits'] }));
  return new Model(b.build(), engine, `heavy${mb}`);
}

describe('a model whose weights alone fill the worker', () => {
  it('is refused for its weights, with more memory as the only way out', () => {
    const plan = new MemoryPlan(1 * GB, 1);
    const model = heavyModel(64); // four copies (256 MB) and the base (192 MB) exceed the 384 MB interactive worker
    let error: unknown;
    try {
      plan.batch('A prediction', model, 'forward', { max: 1, worker: 'interactive' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(Error);
    const { message, hint } = error as { message: string; hint?: string };
    expect(message).toMatch(/^A prediction cannot run on "heavy64" here: 4 copies of its 64 MB of weights \(256 MB\) beside the worker's own 192 MB fill the interactive worker's 384 MB/);
    expect(hint).toMatch(/--memory/);
    expect(hint).not.toMatch(/Ask for less/);
  });
});

describe('the input tensor a page computes with (POST /api/input)', () => {
  const plan = new MemoryPlan(1 * GB, 1);

  it('fits where the weights fit once: no session is compiled for it, so its sessions\' copies do not count', () => {
    // 64 MB of weights: four copies leave a prediction no room in the 384 MB interactive worker
    const model = heavyModel(64);
    expect(() => plan.batch('A prediction', model, 'forward', { max: 1, worker: 'interactive' })).toThrow(/4 copies of its 64 MB of weights \(256 MB\)/);
    expect(() => plan.checkInput('Preprocessing an image', model)).not.toThrow();
  });

  it('is refused when the weights alone fill the worker, naming them once', () => {
    expect(() => plan.checkInput('Preprocessing an image', heavyModel(200))).toThrow(/^Preprocessing an image cannot run on "heavy200" here: its 200 MB of weights beside the worker's own 192 MB fill the interactive worker's 384 MB/);
  });
});
