// A class asked for by name on a model without class names: the error says how to name them,
// not "did you mean class 0, class 1".
import { afterAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { labelIndex, presetTargets } from '../../src/methods/explain/target.js';
import { parseObjective } from '../../src/methods/synthesize/objectives.js';
import { Model } from '../../src/models/model.js';
import { resnet } from '../../src/models/zoo/index.js';
import { courseModel } from '../explain/models.js';

const engine = new Engine(nodeBackend());
afterAll(() => engine.dispose());

describe('classes by name', () => {
  const unnamed = new Model(resnet({ widths: [8, 16], blocks: 1, size: 32, classes: 5, seed: 3 }), engine, 'unnamed');

  it('on a model without class names, points to --labels and to indices', () => {
    expect(unnamed.labels[0]).toBe('class 0');
    expect(() => presetTargets(unnamed, 'tabby', 1, 5)).toThrow(/has no class names, so "tabby" names no class/);
    expect(() => presetTargets(unnamed, 'tabby', 1, 5)).toThrow(expect.objectContaining({ hint: expect.stringMatching(/index \(0-4\).*--labels <file>/) }));
    expect(() => parseObjective('class:tabby').layers(unnamed)).toThrow(/has no class names/);
    expect(presetTargets(unnamed, 'class 3', 1, 5)[0]).toBe(3);
  });

  it('on a model with class names, lists them', () => {
    const named = courseModel(engine, 3);
    expect(() => parseObjective('class:tabby').layers(named)).toThrow(/No class "tabby"/);
    expect(() => presetTargets(named, 'tabby', 1, 10)).not.toThrow(/has no class names/);
    expect(() => presetTargets(named, 'tabby', 1, 10)).toThrow();
  });
});

describe('labels that differ only in case (ImageNet\'s "Cardigan", the corgi, and "cardigan", the sweater)', () => {
  const model = (): Model => {
    const m = courseModel(engine, 3);
    m.describe({ labels: ['Cardigan', 'cardigan', 'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Bag'] });
    return m;
  };

  it('an exact label names its own class, in explain targets and in synthesize objectives', () => {
    const m = model();
    expect(presetTargets(m, 'Cardigan', 1, 10)[0]).toBe(0);
    expect(presetTargets(m, 'cardigan', 1, 10)[0]).toBe(1);
    expect(labelIndex(m.labels, 'cardigan')).toBe(1); // synthesize's class:cardigan drew the corgi's class 0
    expect(presetTargets(m, 'trouser', 1, 10)[0]).toBe(3); // an unambiguous case-insensitive match still works
    expect(presetTargets(m, 't shirt top', 1, 10)[0]).toBe(2);
  });

  it('a label matching several classes only when case is ignored is refused with both, not silently the first', () => {
    const m = model();
    expect(() => presetTargets(m, 'CARDIGAN', 1, 10)).toThrow(/"CARDIGAN" matches 2 class labels: "Cardigan" \(0\), "cardigan" \(1\)/);
    expect(() => parseObjective('class:CARDIGAN').layers(m)).toThrow(/matches 2 class labels/);
  });
});
