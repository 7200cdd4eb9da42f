// A map whose values are a millionth of the score or less says the score barely depends on the
// input; drawn scaled to full colour it looks like an explanation. Random-weight deep nets do
// this (a torchvision GoogLeNet export's logits move by 1e-13 across images), so the map gets a note.
import { afterAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { f32 } from '../../src/engine/tensor.js';
import { explain } from '../../src/methods/explain/index.js';
import { Model } from '../../src/models/model.js';
import { courseCnn } from '../../src/models/zoo/index.js';
import { writeMetadata } from '../../src/models/metadata.js';
import { rng } from '../support/rng.js';
import { courseModel } from './models.js';

const engine = new Engine(nodeBackend(), { threads: 1 });
afterAll(() => engine.dispose());

/** The course CNN with its dense weights scaled by 1e-12: the logits are its biases, give or take 1e-12. */
function nearlyConstant(): Model {
  const g = courseCnn(0);
  const dense = [...g.initializers].filter(([, t]) => t.dims.length === 2);
  expect(dense.length).toBeGreaterThan(0);
  for (const [name, t] of dense) g.initializers.set(name, { ...t, data: Float32Array.from(t.data as Float32Array, (v) => v * 1e-12) });
  const [biasName, bias] = [...g.initializers].find(([, t]) => t.dims.length === 1 && t.dims[0] === 10)!;
  g.initializers.set(biasName, { ...bias, data: Float32Array.from({ length: 10 }, (_, k) => 0.5 + k / 10) });
  writeMetadata(g, { preprocessing: { size: [28, 28], channels: 'gray', range: [0, 1], mean: [0], std: [1], resize: 'stretch' } });
  return new Model(g, engine, 'nearly-constant');
}

const images = (): ReturnType<typeof f32> => {
  const rand = rng(3);
  return f32([2, 1, 28, 28], Float32Array.from({ length: 2 * 28 * 28 }, () => rand()));
};

describe('flat maps', () => {
  it('are noted for a score that barely depends on the input, with the image and the ways out', async () => {
    const e = await explain(nearlyConstant(), images(), { methods: ['saliency', 'integrated-gradients', 'occlusion', 'gradcam'], integratedGradients: { steps: 8 } });
    const notes = Object.fromEntries(e.attributions.map((a) => [a.method, a.notes.filter((n) => n.includes('the map is flat'))]));
    for (const m of ['saliency', 'integrated-gradients', 'occlusion']) {
      expect(notes[m], m).toHaveLength(1);
      expect(notes[m]![0]).toMatch(new RegExp(`^${m} on image 1: the map is flat \\(its values sum in magnitude to [\\d.e+-]+ against a target logit of 1\\.\\d+\\), so the score barely depends on the input`));
    }
    // a CAM is a layer's evidence, not score units: an all-zero one means no positive evidence there
    expect(notes['gradcam']).toEqual([]);
    const prob = await explain(nearlyConstant(), images(), { methods: ['saliency'], score: 'prob' });
    expect(prob.attributions[0]!.notes.join()).toContain('a saturated probability (the logit score avoids it; CLI: --score logit)');
  });

  it('are not noted for a model whose score moves with the input', async () => {
    const e = await explain(courseModel(engine), images(), { methods: ['saliency', 'integrated-gradients', 'occlusion'], integratedGradients: { steps: 8 } });
    for (const a of e.attributions) expect(a.notes.filter((n) => n.includes('flat')), a.method).toEqual([]);
  });
});
