// The engine's session cache under a resident-memory ceiling: a new session is compiled only
// after the least recently used idle sessions are released until the process is below it, and
// no session is released under a run in progress (neither by the ceiling nor by the cache size).
// A fake backend stands for ONNX Runtime: each session holds 100 "bytes" of arena once it has run.
import { describe, expect, it } from 'vitest';
import type { Backend, Session } from '../../src/engine/runtime/backend.js';
import { type CompiledGraph, Engine, type EngineOptions } from '../../src/engine/runtime/engine.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { courseCnn } from '../../src/models/zoo/index.js';

const ARENA = 100;

class FakeRuntime {
  resident = 0;
  created = 0;
  readonly released: number[] = [];
  /** runs wait for this while set */
  gate: Promise<void> | undefined;

  backend(): Backend {
    const runtime = this;
    return {
      name: 'fake',
      async createSession(): Promise<Session> {
        const id = runtime.created++;
        let holds = false;
        return {
          inputNames: ['input'],
          inputs: [],
          outputNames: ['logits'],
          async run(): Promise<Record<string, Tensor>> {
            if (!holds) runtime.resident += ARENA;
            holds = true;
            await runtime.gate;
            return {};
          },
          async release(): Promise<void> {
            if (holds) runtime.resident -= ARENA;
            runtime.released.push(id);
          },
        };
      },
      openSession(): Promise<Session> {
        throw new Error('not used');
      },
    };
  }

  engine(options: EngineOptions = {}): Engine {
    return new Engine(this.backend(), options);
  }
}

const graph = courseCnn(1);

/** Starts a run of `compiled` that waits inside the runtime until `open()`; later runs pass. */
async function runHeldAtGate(rt: FakeRuntime, compiled: CompiledGraph): Promise<{ open: () => void; running: Promise<unknown> }> {
  let open!: () => void;
  rt.gate = new Promise<void>((r) => (open = r));
  const running = compiled.run({});
  await new Promise((r) => setTimeout(r, 0)); // the run is inside the runtime now, at the gate
  expect(compiled.busy).toBe(true);
  rt.gate = undefined;
  return { open, running };
}
const compileAndRun = async (engine: Engine, key: string): Promise<void> => {
  await (await engine.compile(key, () => graph)).run({});
};

describe('Engine session cache under a resident-memory ceiling', () => {
  it('without a ceiling, every session keeps its arena', async () => {
    const rt = new FakeRuntime();
    const engine = rt.engine();
    for (const key of ['a', 'b', 'c']) await compileAndRun(engine, key);
    expect(rt.resident).toBe(3 * ARENA);
    expect(rt.released).toEqual([]);
  });

  it('releases the least recently used idle sessions before compiling a new one, until below the ceiling', async () => {
    const rt = new FakeRuntime();
    const engine = rt.engine({ ceiling: { measure: () => rt.resident, bytes: 150 } });
    await compileAndRun(engine, 'a');
    await compileAndRun(engine, 'b'); // 100 <= 150: a stays
    expect(rt.released).toEqual([]);
    await compileAndRun(engine, 'a'); // a cache hit, now the most recently used
    expect(rt.created).toBe(2);
    await compileAndRun(engine, 'c'); // 200 > 150: b (least recently used) goes, then 100 <= 150
    expect(rt.released).toEqual([1]);
    expect(rt.resident).toBe(2 * ARENA);
    await compileAndRun(engine, 'a'); // still cached
    expect(rt.created).toBe(3);
    await compileAndRun(engine, 'b'); // compiled again
    expect(rt.created).toBe(4);
    expect(rt.resident).toBeLessThanOrEqual(150 + ARENA);
  });

  it('a ceiling set later (per task) applies from the next compilation', async () => {
    const rt = new FakeRuntime();
    const engine = rt.engine();
    await compileAndRun(engine, 'a');
    await compileAndRun(engine, 'b');
    engine.ceiling = { measure: () => rt.resident, bytes: 0 };
    await compileAndRun(engine, 'c');
    expect(rt.released.sort()).toEqual([0, 1]);
    expect(rt.resident).toBe(ARENA);
  });

  it('never releases a session under a run in progress; the new one is compiled anyway', async () => {
    const rt = new FakeRuntime();
    const engine = rt.engine({ ceiling: { measure: () => rt.resident, bytes: 0 } });
    const a = await engine.compile('a', () => graph);
    const { open, running } = await runHeldAtGate(rt, a);
    await compileAndRun(engine, 'b');
    expect(rt.created).toBe(2);
    expect(rt.released).toEqual([]);
    open();
    await running;
    await compileAndRun(engine, 'c'); // a and b are idle now: both go
    expect(rt.released.sort()).toEqual([0, 1]);
  });

  it('a session evicted for the cache size while it runs is released when the run ends', async () => {
    const rt = new FakeRuntime();
    const engine = rt.engine({ cacheSize: 1 });
    const a = await engine.compile('a', () => graph);
    const { open, running } = await runHeldAtGate(rt, a);
    await engine.compile('b', () => graph); // evicts a
    await new Promise((r) => setTimeout(r, 10));
    expect(rt.released).toEqual([]);
    open();
    await running;
    await new Promise((r) => setTimeout(r, 0));
    expect(rt.released).toEqual([0]);
  });

  it('a caller holding a released session runs it again: it is compiled anew and cached again', async () => {
    const rt = new FakeRuntime();
    const engine = rt.engine({ ceiling: { measure: () => rt.resident, bytes: 0 } });
    const held = await engine.compile('held', () => graph); // as a diffusion sampler keeps its denoiser
    await held.run({});
    await compileAndRun(engine, 'other'); // over the ceiling: the held session is released
    expect(rt.released).toEqual([0]);
    expect(held.open).toBe(false);
    await held.run({}); // compiled again (and 'other' released to make room)
    expect(rt.created).toBe(3);
    expect(rt.released).toEqual([0, 1]);
    expect(await engine.compile('held', () => graph)).toBe(held); // back in the cache
    expect(rt.created).toBe(3);
  });

  it('runs after the engine is disposed are refused', async () => {
    const rt = new FakeRuntime();
    const engine = rt.engine();
    const a = await engine.compile('a', () => graph);
    await engine.dispose();
    await expect(a.run({})).rejects.toThrow(/closed with its engine/);
  });
});
