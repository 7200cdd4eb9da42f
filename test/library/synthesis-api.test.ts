// The synthesis methods are part of the library's entries, composed from the same parts the CLI
// uses (objectives, parameterizations, transforms), and they do what they say through them.
import { afterAll, describe, expect, it } from 'vitest';
import * as lib from '../../src/index.js';
import * as node from '../../src/node.js';

const engine = new lib.Engine(node.nodeBackend(), { threads: 1 });
afterAll(() => engine.dispose());
const model = node.loadBuiltinModel(engine); // the trained Fashion-MNIST CNN

describe('synthesis through the library entries', () => {
  it('a composed objective (class logit minus a layer penalty) rises under a pixel parameterization and jitter', async () => {
    const objective = lib.objectives.sum(lib.objectives.classLogit('Bag'), lib.objectives.weighted(-0.01, lib.objectives.layerL2('relu4')));
    const r = await lib.featureVisualization(model, { objective, param: lib.pixelParam({}), transforms: [lib.transforms.jitter(2)], steps: 24, seed: 3, background: 0 });
    expect(r.images.dims).toEqual([1, 1, 28, 28]);
    expect(r.history.at(-1)!.value).toBeGreaterThan(r.history[0]!.value + 1);
    expect(r.predictions[0]!.label).toBe('Bag');
  });

  it('a targeted attack from the main entry reaches its target inside the budget', async () => {
    const x: lib.Tensor = { dtype: 'float32', dims: [1, 1, 28, 28], data: Float32Array.from({ length: 784 }, (_, i) => ((i * 37) % 101) / 101) };
    const r = await lib.attack(model, x, { method: 'pgd', epsilon: 0.3, steps: 20, target: 'Sandal' });
    expect(r.perImage[0]!.adversarial.label).toBe('Sandal');
    expect(r.perImage[0]!.linf).toBeLessThanOrEqual(0.3 + 1e-6);
  });

  it('the Node entry has what needs files: fast style training and image files', () => {
    expect(typeof node.trainStyleNet).toBe('function');
    expect(typeof node.readModelImage).toBe('function');
    expect(typeof node.writeImagePng).toBe('function');
  });
});
