// GoogLeNet and Inception v3 exported from torchvision with pretrained weights begin with
// transform_input: each channel picked (Gather on axis 1), unsqueezed, rescaled and concatenated
// again. The layout tracking stopped at the Gather, so every receptive field after it was the
// whole image: the summary said "whole image" for every layer, and the roles chosen by receptive
// field moved (torchvision googlenet's dream layer went from inception4b to inception5a, its content
// layer to the CAM layer inception5b). A channel picked keeps the positions.
import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/engine/graph/builder.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { receptiveFields } from '../../src/methods/inspect/receptive-field.js';
import { ROLE_NAMES } from '../../src/models/profile.js';
import { Model } from '../../src/models/model.js';
import { channelTransformLike } from '../support/unseen-models.js';

const engine = new Engine(nodeBackend(), { threads: 1 });
afterAll(() => engine.dispose());

describe('a channel-wise input transform (GoogLeNet transform_input)', () => {
  it('keeps each unit its window: the first conv after it sees 3x3 pixels', () => {
    const graph = channelTransformLike(32, 10, 3);
    const rf = receptiveFields(graph, GraphBuilder.over(graph.clone(), { strict: false }), 'image');
    expect(rf.get('transform.pick0')?.global).toBe(false);
    expect(rf.get('transform')).toMatchObject({ global: false, size: [1, 1] });
    expect(rf.get('conv1.act')).toMatchObject({ global: false, size: [3, 3], jump: [2, 2] });
  });

  it('gives the layers and roles of the same net without the transform', () => {
    const transformed = new Model(channelTransformLike(32, 10, 3), engine, 'transformed').profile;
    const plain = new Model(channelTransformLike(32, 10, 3, false), engine, 'plain').profile;
    expect(transformed.layers.map((l) => [l.name, l.field])).toEqual(plain.layers.map((l) => [l.name, l.field]));
    for (const role of ROLE_NAMES) expect(transformed[role], role).toEqual(plain[role]);
  });
});
