// A detector's head exported without its post-processing (what the control-flow refusal's way
// out leads to) outputs a value per anchor: torchvision's SSDlite gives box regressions
// [N, 3234, 4] and class logits [N, 3234, 91]. It was read as a classifier with the last axis'
// 4 "classes": predict named "class 3752", and explain failed deep inside ("convlens_explain_score"
// has shape [1, 1, 4]; a scalar seed needs a single value). It is refused when loading, naming
// the output, its shape and what ConvLens takes.
import { afterAll, describe, expect, it } from 'vitest';
import { ConvLensError } from '../../src/engine/errors.js';
import { GraphBuilder } from '../../src/engine/graph/builder.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { seededRandom } from '../../src/models/init.js';
import { Layers } from '../../src/models/layers.js';
import { Model } from '../../src/models/model.js';

const engine = new Engine(nodeBackend(), { threads: 1 });
afterAll(() => engine.dispose());

/** A one-level SSD head: per-position box regressions and class logits, flattened to anchors [N, A, k]. */
function ssdLikeHead(): ReturnType<GraphBuilder['build']> {
  const b = new GraphBuilder();
  const L = new Layers(b, seededRandom(4));
  const x = b.input('images', 'float32', ['N', 3, 32, 32]);
  const features = L.relu(L.conv2d(x, 'backbone', { filters: 8, kernel: 4, stride: 4, padding: 0 }), 'backbone.act');
  const perAnchor = (name: string, k: number): string =>
    b.op('Reshape', [b.op('Transpose', [L.conv2d(features, `${name}.conv`, { filters: k })], { perm: [0, 2, 3, 1] }), b.ints([0, -1, k])], {}, { name, outputs: [name] });
  b.output(perAnchor('bbox_regression', 4));
  b.output(perAnchor('cls_logits', 5));
  return b.build();
}

describe("a detector's head (a value per anchor)", () => {
  it('is refused when loading, with its output, its shape and what ConvLens takes', () => {
    let error: unknown;
    try {
      new Model(ssdLikeHead(), engine, 'ssd_like');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConvLensError);
    const e = error as ConvLensError;
    expect(e.code).toBe('MODEL_UNSUPPORTED');
    expect(e.message).toContain('bbox_regression');
    expect(e.message).toContain('[N, 64, 4]');
    expect(e.message).toContain('class scores [N, K]');
    expect(e.hint).toContain('classifiers and segmentation nets');
  });
});
