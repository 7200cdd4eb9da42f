// Compiled sessions on disk (src/engine/runtime/session-cache.ts through nodeBackend): a second
// backend on the same folder gets its sessions from the stored optimized models, with the same
// results; damaged files (bit flips, truncation, a sealed file ORT cannot read) are detected,
// deleted and rebuilt, never run; writes leave no temporary files behind, even when compiling
// fails; an unusable folder only turns the cache off.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { buildGradientGraph } from '../../src/engine/autodiff/gradient.js';
import { GraphBuilder } from '../../src/engine/graph/builder.js';
import type { Graph } from '../../src/engine/graph/ir.js';
import { encodeModel } from '../../src/engine/onnx/codec.js';
import type { Backend } from '../../src/engine/runtime/backend.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend, withSessionCache } from '../../src/engine/runtime/node.js';
import { ortBackend } from '../../src/engine/runtime/ort.js';
import { defaultCacheDir, SessionCache } from '../../src/engine/runtime/session-cache.js';
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

async function runOnce(backend: Backend): Promise<Record<string, Float32Array>> {
  const session = await backend.createSession(model, { threads: 1 });
  try {
    const out = await session.run({ input: x, [seedName]: seed });
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.data as Float32Array]));
  } finally {
    await session.release();
  }
}

const cacheFiles = (dir: string): string[] => readdirSync(dir).filter((f) => f.endsWith('.ortmodel'));
const leftovers = (dir: string): string[] => readdirSync(dir).filter((f) => f.endsWith('.tmp'));

describe('compiled sessions on disk', () => {
  const reference = runOnce(plain());

  it('the first session writes one file; a second backend on the folder loads it, with bit-identical results', async () => {
    const dir = freshDir();
    const first = new SessionCache({ dir, minModelBytes: 0 }, RUNTIME);
    const cold = await runOnce(withSessionCache(plain(), first));
    expect(first.stats).toEqual({ hits: 0, writes: 1, damaged: 0 });
    expect(cacheFiles(dir)).toHaveLength(1);
    expect(leftovers(dir)).toEqual([]);
    // ORT's own format (flatbuffer identifier "ORTM" at byte 4), which loads from the bytes in place
    expect(readFileSync(join(dir, cacheFiles(dir)[0]!)).subarray(4, 8).toString('latin1')).toBe('ORTM');

    const second = new SessionCache({ dir, minModelBytes: 0 }, RUNTIME);
    const warm = await runOnce(withSessionCache(plain(), second));
    expect(second.stats).toEqual({ hits: 1, writes: 0, damaged: 0 });
    const want = await reference;
    for (const k of Object.keys(want)) {
      expect(cold[k]).toEqual(want[k]);
      expect(warm[k]).toEqual(want[k]);
    }
  });

  it('a session running from the cached bytes in place keeps them alive: results hold after memory churned', async () => {
    const dir = freshDir();
    await runOnce(withSessionCache(plain(), new SessionCache({ dir, minModelBytes: 0 }, RUNTIME)));
    const cache = new SessionCache({ dir, minModelBytes: 0 }, RUNTIME);
    const session = await withSessionCache(plain(), cache).createSession(model, { threads: 1 });
    expect(cache.stats.hits).toBe(1);
    try {
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
    expect(cacheFiles(dir)).toHaveLength(2);
    const a = new SessionCache({ dir, minModelBytes: 0 }, RUNTIME);
    expect(a.key(model, '')).not.toBe(a.key(encodeModel(courseCnn(2)), ''));
  });

  for (const [what, damage] of [
    ['a flipped bit in the weights', (b: Buffer) => (b[Math.floor(b.length / 2)]! ^= 0x10)],
    ['a truncated file', (b: Buffer) => b.subarray(0, b.length - 1000)],
    ['a file cut inside its footer', (b: Buffer) => b.subarray(0, b.length - 3)],
    ['an empty file', () => Buffer.alloc(0)],
  ] as const) {
    it(`${what} is detected, deleted and rebuilt, and the results stay right`, async () => {
      const dir = freshDir();
      await runOnce(withSessionCache(plain(), new SessionCache({ dir, minModelBytes: 0 }, RUNTIME)));
      const [name] = cacheFiles(dir);
      const path = join(dir, name!);
      const bytes = readFileSync(path);
      const damaged = damage(bytes) ?? bytes;
      writeFileSync(path, typeof damaged === 'number' ? bytes : damaged);

      const cache = new SessionCache({ dir, minModelBytes: 0 }, RUNTIME);
      const out = await runOnce(withSessionCache(plain(), cache));
      expect(cache.stats).toEqual({ hits: 0, writes: 1, damaged: 1 });
      const want = await reference;
      for (const k of Object.keys(want)) expect(out[k]).toEqual(want[k]);
      // the rebuilt file is whole again: the next backend hits it
      const again = new SessionCache({ dir, minModelBytes: 0 }, RUNTIME);
      await runOnce(withSessionCache(plain(), again));
      expect(again.stats).toEqual({ hits: 1, writes: 0, damaged: 0 });
    });
  }

  it('a sealed file that ONNX Runtime cannot load (right checksum, wrong content) is deleted and rebuilt', async () => {
    const dir = freshDir();
    const cache = new SessionCache({ dir, minModelBytes: 0 }, RUNTIME);
    const key = cache.key(model, '');
    const slot = cache.reserve(key)!;
    writeFileSync(slot.path, Buffer.from('not an onnx model at all'));
    expect(slot.commit()).toBe(true);
    const fresh = new SessionCache({ dir, minModelBytes: 0 }, RUNTIME);
    const out = await runOnce(withSessionCache(plain(), fresh));
    expect(fresh.stats).toEqual({ hits: 0, writes: 1, damaged: 1 });
    const want = await reference;
    for (const k of Object.keys(want)) expect(out[k]).toEqual(want[k]);
  });

  it('a graph ONNX Runtime rejects: the error surfaces, and no file or temporary file is left', async () => {
    const dir = freshDir();
    const b = new GraphBuilder();
    const input = b.input('x', 'float32', ['N', 3]);
    b.output(b.op('Relu', [input]));
    const bad = b.build();
    bad.nodes[0]!.op = 'NoSuchOp';
    const backend = withSessionCache(plain(), new SessionCache({ dir, minModelBytes: 0 }, RUNTIME));
    await expect(backend.createSession(encodeModel(bad), {})).rejects.toMatchObject({ code: 'RUNTIME_FAILURE' });
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

  it('keeps the folder under maxBytes by deleting the least recently used files', async () => {
    const dir = freshDir();
    const first = new SessionCache({ dir, minModelBytes: 0 }, RUNTIME);
    await runOnce(withSessionCache(plain(), first));
    const size = statSync(join(dir, cacheFiles(dir)[0]!)).size;
    // room for one file: writing a second one evicts the first
    const tight = new SessionCache({ dir, minModelBytes: 0, maxBytes: size + 10 }, `${RUNTIME}-other`);
    await runOnce(withSessionCache(plain(), tight));
    const left = cacheFiles(dir);
    expect(left).toHaveLength(1);
    expect(left[0]).toBe(`${tight.key(model, '')}.ortmodel`);
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
    expect(cacheFiles(dir)).toHaveLength(1);
  });
});

describe('where the cache lives', () => {
  it('off unless CONVLENS_CACHE_DIR names a folder, or `on` for XDG_CACHE_HOME or ~/.cache, + convlens', () => {
    expect(defaultCacheDir({})).toBeUndefined();
    expect(defaultCacheDir({ XDG_CACHE_HOME: '/xdg' })).toBeUndefined();
    expect(defaultCacheDir({ CONVLENS_CACHE_DIR: '/somewhere' })).toBe('/somewhere');
    for (const off of ['off', '0', '', 'false', 'none']) expect(defaultCacheDir({ CONVLENS_CACHE_DIR: off })).toBeUndefined();
    if (process.platform === 'linux') {
      expect(defaultCacheDir({ CONVLENS_CACHE_DIR: 'on', XDG_CACHE_HOME: '/xdg' })).toBe(join('/xdg', 'convlens'));
      expect(defaultCacheDir({ CONVLENS_CACHE_DIR: 'on' })).toMatch(/\.cache[\\/]convlens$/);
    }
  });
});
