// Compiled sessions on disk (src/engine/runtime/session-cache.ts through nodeBackend): a second
// backend on the same folder gets its sessions from the stored optimized models, with the same
// results; damaged entries (bit flips, truncation, missing files, a broken manifest, a verified
// model ORT cannot read) are detected, deleted and rebuilt, never run; writes leave no temporary
// folders behind, even when compiling fails; an unusable folder only turns the cache off.
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { buildGradientGraph } from '../../src/engine/autodiff/gradient.js';
import { GraphBuilder } from '../../src/engine/graph/builder.js';
import type { Graph } from '../../src/engine/graph/ir.js';
import { encodeModel, type InMemoryFile } from '../../src/engine/onnx/codec.js';
import type { Backend } from '../../src/engine/runtime/backend.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend, withSessionCache } from '../../src/engine/runtime/node.js';
import { ortBackend } from '../../src/engine/runtime/ort.js';
import { CACHED_WEIGHTS, defaultCacheDir, osCacheDir, SessionCache } from '../../src/engine/runtime/session-cache.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { courseCnn } from '../../src/models/zoo/index.js';
import { randn, rng } from '../support/rng.js';
import { tempDir } from '../support/onnx-files.js';

const tmp = tempDir('convlens-session-cache-');
afterAll(() => tmp.cleanup());

const plain = (): Backend => ortBackend(ort as unknown as Parameters<typeof ortBackend>[0], 'onnxruntime-node', { executionProviders: ['cpu'] });
const RUNTIME = 'test-runtime';
let folders = 0;
const freshDir = (): string => join(tmp.dir, `cache-${folders++}`);

/** The course CNN's forward + input-gradient graph: conv, pool, BN-free, a few hundred KB. */
const gradientGraph = (): Graph => buildGradientGraph(courseCnn(1), { seed: { upstream: ['logits'] }, wrt: ['input'], outputs: ['logits'] }).graph;
const model = encodeModel(gradientGraph());
const x: Tensor = { dtype: 'float32', dims: [2, 1, 28, 28], data: Float32Array.from(randn(rng(2), 2 * 784)) };
const seed: Tensor = { dtype: 'float32', dims: [2, 10], data: Float32Array.from({ length: 20 }, (_, i) => (i % 10 === 3 ? 1 : 0)) };
const seedName = buildGradientGraph(courseCnn(1), { seed: { upstream: ['logits'] }, wrt: ['input'], outputs: ['logits'] }).seedInputs['logits']!;

async function runOnce(backend: Backend, bytes = model, externalData?: InMemoryFile[]): Promise<Record<string, Float32Array>> {
  const session = await backend.createSession(bytes, { threads: 1, ...(externalData ? { externalData } : {}) });
  try {
    const out = await session.run({ input: x, [seedName]: seed });
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.data as Float32Array]));
  } finally {
    await session.release();
  }
}

const entries = (dir: string): string[] => readdirSync(dir).filter((f) => f.endsWith('.session'));
const leftovers = (dir: string): string[] => readdirSync(dir).filter((f) => f.endsWith('.tmp'));
const entrySize = (path: string): number => readdirSync(path).reduce((a, f) => a + statSync(join(path, f)).size, 0);

describe('compiled sessions on disk', () => {
  const reference = runOnce(plain());

  it('the first session writes one entry; a second backend on the folder loads it, with bit-identical results', async () => {
    const dir = freshDir();
    const first = new SessionCache({ dir, minModelBytes: 0 }, RUNTIME);
    const cold = await runOnce(withSessionCache(plain(), first));
    expect(first.stats).toEqual({ hits: 0, writes: 1, damaged: 0 });
    expect(entries(dir)).toHaveLength(1);
    expect(leftovers(dir)).toEqual([]);
    // ORT's optimized ONNX model with its weights in a file of their own, and the manifest
    const entry = join(dir, entries(dir)[0]!);
    expect(readdirSync(entry).sort()).toEqual(['manifest.json', 'model.onnx', CACHED_WEIGHTS]);
    expect(statSync(join(entry, CACHED_WEIGHTS)).size).toBeGreaterThan(statSync(join(entry, 'model.onnx')).size);

    const second = new SessionCache({ dir, minModelBytes: 0 }, RUNTIME);
    const warm = await runOnce(withSessionCache(plain(), second));
    expect(second.stats).toEqual({ hits: 1, writes: 0, damaged: 0 });
    const want = await reference;
    for (const k of Object.keys(want)) {
      expect(cold[k]).toEqual(want[k]);
      expect(warm[k]).toEqual(want[k]);
    }
  });

  it('a session from an entry keeps working after the entry is deleted and memory churned (the weights are mapped, not borrowed)', async () => {
    const dir = freshDir();
    await runOnce(withSessionCache(plain(), new SessionCache({ dir, minModelBytes: 0 }, RUNTIME)));
    const cache = new SessionCache({ dir, minModelBytes: 0 }, RUNTIME);
    const session = await withSessionCache(plain(), cache).createSession(model, { threads: 1 });
    expect(cache.stats.hits).toBe(1);
    try {
      rmSync(join(dir, entries(dir)[0]!), { recursive: true });
      let churn = 0;
      for (let i = 0; i < 40; i++) churn += new Float64Array(1 << 20).fill(i).length; // 320 MB of short-lived arrays
      expect(churn).toBe(40 << 20);
      const out = await session.run({ input: x, [seedName]: seed });
      const want = await reference;
      for (const k of Object.keys(want)) expect(out[k]!.data).toEqual(want[k]);
    } finally {
      await session.release();
    }
  });

  it('keys by model and runtime: another model or another runtime version gets its own file', async () => {
    const dir = freshDir();
    await runOnce(withSessionCache(plain(), new SessionCache({ dir, minModelBytes: 0 }, RUNTIME)));
    const other = new SessionCache({ dir, minModelBytes: 0 }, `${RUNTIME}-next`);
    await runOnce(withSessionCache(plain(), other));
    expect(other.stats.hits).toBe(0);
    expect(entries(dir)).toHaveLength(2);
    const a = new SessionCache({ dir, minModelBytes: 0 }, RUNTIME);
    expect(a.key(model)).not.toBe(a.key(encodeModel(courseCnn(2))));
  });

  it('keys by the weights too when they come as in-memory external data: the same graph with other weights is not served the first one', async () => {
    const dir = freshDir();
    const withWeights = (g: Graph): [Uint8Array, InMemoryFile[]] => {
      const files: InMemoryFile[] = [];
      return [encodeModel(g, { inMemoryThreshold: 1024, inMemoryFiles: files }), files];
    };
    const [bytesA, filesA] = withWeights(gradientGraph());
    const g = gradientGraph();
    const [bytesB, filesB] = withWeights(g);
    expect(filesA.length).toBeGreaterThan(0);
    expect(Buffer.from(bytesB).equals(Buffer.from(bytesA))).toBe(true);
    // other weights, same graph bytes: flip the sign of the first external weight file's floats
    const changed = filesB[0]!;
    const floats = new Float32Array(changed.data.slice().buffer);
    for (let i = 0; i < floats.length; i++) floats[i] = -floats[i]!;
    filesB[0] = { path: changed.path, data: new Uint8Array(floats.buffer) };
    const cache = new SessionCache({ dir, minModelBytes: 0 }, RUNTIME);
    expect(cache.key(bytesA, filesA)).not.toBe(cache.key(bytesB, filesB));

    const a = await runOnce(withSessionCache(plain(), cache), bytesA, filesA);
    const b = await runOnce(withSessionCache(plain(), new SessionCache({ dir, minModelBytes: 0 }, RUNTIME)), bytesB, filesB);
    const bPlain = await runOnce(plain(), bytesB, filesB);
    expect(entries(dir)).toHaveLength(2);
    for (const k of Object.keys(bPlain)) expect(b[k]).toEqual(bPlain[k]);
    expect(Object.keys(a).some((k) => !Buffer.from(a[k]!.buffer).equals(Buffer.from(b[k]!.buffer)))).toBe(true);
  });

  for (const [what, file, damage] of [
    ['a flipped bit in the weights', CACHED_WEIGHTS, (b: Buffer) => (b[Math.floor(b.length / 2)]! ^= 0x10, b)],
    ['a truncated weights file', CACHED_WEIGHTS, (b: Buffer) => b.subarray(0, b.length - 1000)],
    ['a missing weights file', CACHED_WEIGHTS, () => undefined],
    ['a flipped bit in the model', 'model.onnx', (b: Buffer) => (b[Math.floor(b.length / 3)]! ^= 0x01, b)],
    ['a missing model', 'model.onnx', () => undefined],
    ['a manifest cut short', 'manifest.json', (b: Buffer) => b.subarray(0, b.length - 3)],
    ['an empty manifest', 'manifest.json', () => Buffer.alloc(0)],
  ] as const) {
    it(`${what} is detected, deleted and rebuilt, and the results stay right`, async () => {
      const dir = freshDir();
      await runOnce(withSessionCache(plain(), new SessionCache({ dir, minModelBytes: 0 }, RUNTIME)));
      const path = join(dir, entries(dir)[0]!, file);
      const damaged = damage(readFileSync(path));
      if (damaged) writeFileSync(path, damaged);
      else rmSync(path);

      const cache = new SessionCache({ dir, minModelBytes: 0 }, RUNTIME);
      const out = await runOnce(withSessionCache(plain(), cache));
      expect(cache.stats).toEqual({ hits: 0, writes: 1, damaged: 1 });
      const want = await reference;
      for (const k of Object.keys(want)) expect(out[k]).toEqual(want[k]);
      // the rebuilt entry is whole again: the next backend hits it
      const again = new SessionCache({ dir, minModelBytes: 0 }, RUNTIME);
      await runOnce(withSessionCache(plain(), again));
      expect(again.stats).toEqual({ hits: 1, writes: 0, damaged: 0 });
      expect(leftovers(dir)).toEqual([]);
    });
  }

  it('an entry that matches its manifest but ONNX Runtime cannot load is deleted and rebuilt', async () => {
    const dir = freshDir();
    const cache = new SessionCache({ dir, minModelBytes: 0 }, RUNTIME);
    const key = cache.key(model);
    const slot = cache.reserve(key)!;
    writeFileSync(slot.modelPath, Buffer.from('not an onnx model at all'));
    expect(slot.commit()).toBe(true);
    const fresh = new SessionCache({ dir, minModelBytes: 0 }, RUNTIME);
    const out = await runOnce(withSessionCache(plain(), fresh));
    expect(fresh.stats).toEqual({ hits: 0, writes: 1, damaged: 1 });
    const want = await reference;
    for (const k of Object.keys(want)) expect(out[k]).toEqual(want[k]);
  });

  it('a second writer of the same entry leaves the first in place and its own temporary folder removed', async () => {
    const dir = freshDir();
    const cache = new SessionCache({ dir, minModelBytes: 0 }, RUNTIME);
    const key = cache.key(model);
    const [one, two] = [cache.reserve(key)!, cache.reserve(key)!];
    writeFileSync(one.modelPath, 'first');
    writeFileSync(two.modelPath, 'second');
    expect(one.commit()).toBe(true);
    expect(two.commit()).toBe(false);
    expect(readFileSync(join(dir, `${key}.session`, 'model.onnx'), 'utf8')).toBe('first');
    expect(leftovers(dir)).toEqual([]);
  });

  it('a graph ONNX Runtime rejects: the error surfaces, and no file or temporary file is left', async () => {
    const dir = freshDir();
    const b = new GraphBuilder();
    const input = b.input('x', 'float32', ['N', 3]);
    b.output(b.op('Relu', [input]));
    const bad = b.build();
    bad.nodes[0]!.op = 'NoSuchOp';
    const backend = withSessionCache(plain(), new SessionCache({ dir, minModelBytes: 0 }, RUNTIME));
    await expect(backend.createSession(encodeModel(bad), {})).rejects.toMatchObject({ code: 'MODEL_UNSUPPORTED' });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('an unusable folder (a file stands where it should be) only turns the cache off', async () => {
    const blocker = join(tmp.dir, 'blocker');
    writeFileSync(blocker, 'x');
    const cache = new SessionCache({ dir: join(blocker, 'cache'), minModelBytes: 0 }, RUNTIME);
    const out = await runOnce(withSessionCache(plain(), cache));
    expect(cache.enabled).toBe(false);
    const want = await reference;
    for (const k of Object.keys(want)) expect(out[k]).toEqual(want[k]);
  });

  it('models under minModelBytes compile in memory and write nothing', async () => {
    const dir = freshDir();
    const cache = new SessionCache({ dir, minModelBytes: model.length + 1 }, RUNTIME);
    await runOnce(withSessionCache(plain(), cache));
    expect(cache.stats.writes).toBe(0);
    expect(() => readdirSync(dir)).toThrow();
  });

  it('models bigger than the whole folder compile in memory and write nothing', async () => {
    const dir = freshDir();
    const cache = new SessionCache({ dir, minModelBytes: 0, maxBytes: model.length - 1 }, RUNTIME);
    const out = await runOnce(withSessionCache(plain(), cache));
    expect(cache.stats.writes).toBe(0);
    expect(() => readdirSync(dir)).toThrow();
    const want = await reference;
    for (const k of Object.keys(want)) expect(out[k]).toEqual(want[k]);
  });

  it('keeps the folder under maxBytes by deleting the least recently used files', async () => {
    const dir = freshDir();
    const first = new SessionCache({ dir, minModelBytes: 0 }, RUNTIME);
    await runOnce(withSessionCache(plain(), first));
    const size = entrySize(join(dir, entries(dir)[0]!));
    // room for one entry: writing a second one evicts the first
    const tight = new SessionCache({ dir, minModelBytes: 0, maxBytes: size + 10 }, `${RUNTIME}-other`);
    await runOnce(withSessionCache(plain(), tight));
    const left = entries(dir);
    expect(left).toHaveLength(1);
    expect(left[0]).toBe(`${tight.key(model)}.session`);
  });

  it('Engine + nodeBackend({ cacheDir }) use it end to end', async () => {
    const dir = freshDir();
    const g = gradientGraph();
    for (let run = 0; run < 2; run++) {
      const engine = new Engine(nodeBackend({ cacheDir: dir, cache: { minModelBytes: 0 } }), { threads: 1 });
      const compiled = await engine.compile('k', () => g);
      const out = await compiled.run({ input: x, [seedName]: seed });
      expect(out[g.outputs[1]!.name]!.data).toEqual((await reference)[g.outputs[1]!.name]);
      await engine.dispose();
    }
    expect(entries(dir)).toHaveLength(1);
  });
});

describe('where the cache lives', () => {
  it('the OS cache folder + convlens unless CONVLENS_CACHE_DIR names a folder or turns it off', () => {
    expect(defaultCacheDir({})).toBe(osCacheDir({}));
    expect(defaultCacheDir({ CONVLENS_CACHE_DIR: '/somewhere' })).toBe('/somewhere');
    for (const off of ['off', '0', '', 'false', 'none']) expect(defaultCacheDir({ CONVLENS_CACHE_DIR: off })).toBeUndefined();
    for (const on of ['on', '1', 'yes']) expect(defaultCacheDir({ CONVLENS_CACHE_DIR: on, XDG_CACHE_HOME: '/xdg' })).toBe(osCacheDir({ XDG_CACHE_HOME: '/xdg' }));
    if (process.platform === 'linux') {
      expect(defaultCacheDir({ XDG_CACHE_HOME: '/xdg' })).toBe(join('/xdg', 'convlens'));
      expect(defaultCacheDir({})).toMatch(/\.cache[\\/]convlens$/);
    }
  });
});
