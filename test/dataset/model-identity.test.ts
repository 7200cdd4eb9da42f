// Which model made a store. The fingerprint hashes what decides the activations: the same
// weights exported at another input size, or with other strides, are another model (the studio
// once matched a 384 px store to a 256 px model with the same weights and ran a gradient built
// for the wrong sizes). Stores made before the fingerprint hashed input shapes and attributes
// keep working with the model they recorded, at the input size they recorded.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/engine/graph/builder.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { checkModel } from '../../src/methods/dataset/context.js';
import { isRecordedModel, memoizedFingerprints, modelFingerprint } from '../../src/methods/dataset/scan.js';
import type { DatasetStore } from '../../src/methods/dataset/store.js';
import { seededRandom } from '../../src/models/init.js';
import { Layers } from '../../src/models/layers.js';
import { Model } from '../../src/models/model.js';

const engine = new Engine(nodeBackend({ cacheDir: false }));

function net(size: number, stride = 1): Model {
  const b = new GraphBuilder();
  const L = new Layers(b, seededRandom(7));
  const x = b.input('image', 'float32', ['N', 3, size, size]);
  const y = L.relu(L.conv2d(x, 'conv', { filters: 4, stride }), 'relu');
  b.output(L.dense(L.flatten(L.globalAvgPool(y, 'gap'), 'flat'), 'fc', 3));
  return new Model(b.build(), engine, `net${size}s${stride}`);
}

/** The hash stores recorded before version 2 (nodes without attributes, weights), written out as the oracle. */
function olderFingerprint(model: Model): string {
  const h = createHash('sha256');
  for (const n of model.graph.nodes) h.update(`${n.op}|${n.inputs.join(',')}|${n.outputs.join(',')}\n`);
  for (const [name, t] of [...model.graph.initializers.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    h.update(name);
    h.update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  return h.digest('hex').slice(0, 24);
}

const storeOf = (model: { fingerprint: string; input: (number | string)[] }): DatasetStore => ({ dir: '/stores/s1', manifest: { model: { name: 'recorded', labels: [], ...model } } }) as unknown as DatasetStore;

describe('the model a store was made with', () => {
  const small = net(32);
  const large = net(48);
  const strided = net(32, 2);

  it('tells apart the same weights at other input sizes or strides', () => {
    expect(olderFingerprint(small)).toBe(olderFingerprint(large)); // what went wrong before
    expect(olderFingerprint(small)).toBe(olderFingerprint(strided));
    const prints = [small, large, strided].map(modelFingerprint);
    expect(new Set(prints).size).toBe(3);
    expect(modelFingerprint(net(32))).toBe(prints[0]); // and is a function of the model alone
  });

  it('refuses a store made by the same weights at another size, naming both', () => {
    const store = storeOf({ fingerprint: modelFingerprint(large), input: large.input.shape as (number | string)[] });
    expect(() => checkModel(store, small)).toThrow(/Model "net32s1" is not the model the store "\/stores\/s1" was made with \("recorded"\)/);
    expect(() => checkModel(store, large)).not.toThrow();
  });

  it('accepts a store of the older fingerprint with the input it recorded, and only that', () => {
    const older = storeOf({ fingerprint: olderFingerprint(small), input: small.input.shape as (number | string)[] });
    expect(() => checkModel(older, small)).not.toThrow();
    expect(() => checkModel(older, large)).toThrow(/not the model/);
    expect(() => checkModel(older, strided)).not.toThrow(); // all an older store can tell: its hash ignored strides
    expect(isRecordedModel({ fingerprint: olderFingerprint(small) }, small)).toBe(false); // a record without its input
  });

  it('memoized fingerprints agree with the plain ones', () => {
    const memo = memoizedFingerprints();
    expect(memo.current(small)).toBe(modelFingerprint(small));
    expect(memo.legacy(small)).toBe(olderFingerprint(small));
    expect(memo.current(small)).toBe(memo.current(small));
  });
});
