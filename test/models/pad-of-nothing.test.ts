// torch.onnx writes nn.AvgPool2d as a Pad, often of nothing, before the AveragePool. On
// torchvision's densenet121 that Pad's output was chosen as the dream layer, the content layer,
// an index layer and three inversion layers, named "features/transition1/pool/Pad": a copy of the
// transition's conv output named after the pool that comes next. A Pad that pads nothing is no
// layer; the conv before it stands for it.
import { afterAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { ROLE_NAMES } from '../../src/models/profile.js';
import { Model } from '../../src/models/model.js';
import { transitionPadLike } from '../support/unseen-models.js';

const engine = new Engine(nodeBackend(), { threads: 1 });
afterAll(() => engine.dispose());

describe('a Pad of nothing before a pool (DenseNet transitions as torch.onnx writes them)', () => {
  it('is no layer: the conv before it is, and the roles name that conv', () => {
    const profile = new Model(transitionPadLike(32, 10, 5), engine, 'transition_pad_like').profile;
    const names = profile.layers.map((l) => l.name);
    expect(names).not.toContain('transition.pad');
    expect(names).toContain('transition.conv');
    const roles = ROLE_NAMES.flatMap((r) => [profile[r]].flat()).filter((v): v is string => typeof v === 'string');
    expect(roles).not.toContain('transition.pad');
    expect(profile.inversionLayers).toContain('transition.conv');
  });
});
