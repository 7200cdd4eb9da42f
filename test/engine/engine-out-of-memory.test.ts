// The engine's session cache when the runtime runs out of memory compiling a graph: every cached
// session holds its own copy of the weights and its arena, and onnxruntime-web's WebAssembly memory
// ends at 4 GB (in a browser, VGG-16's fourth method failed so, and every later run). The idle
// cached sessions are released and the graph compiled once more. A fake backend stands for ONNX
// Runtime: it holds at most `room` sessions and refuses another with ORT's own words.
import { describe, expect, it } from 'vitest';
import type { Backend, Session } from '../../src/engine/runtime/backend.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import { compileRefusal, ortBackend, type OrtModule } from '../../src/engine/runtime/ort.js';
import { ConvLensError } from '../../src/engine/errors.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { courseCnn } from '../../src/models/zoo/index.js';
import { cnnReading, fill, nodeOf, shapeConstant } from '../support/constant-graphs.js';

class FullRuntime {
  live = 0;
  created = 0;
  refused = 0;
  readonly released: number[] = [];
  /** runs wait for this while set */
  gate: Promise<void> | undefined;

  constructor(readonly room: number) {}

  backend(): Backend {
    const runtime = this;
    return {
      name: 'fake',
      async createSession(): Promise<Session> {
        if (runtime.live >= runtime.room) {
          runtime.refused++;
          // what the onnxruntime adapter throws for onnxruntime-web's refusal
          throw compileRefusal("Can't create a session. ERROR_CODE: 6, ERROR_MESSAGE: std::bad_alloc", undefined, 'onnxruntime-web');
        }
        const id = runtime.created++;
        runtime.live++;
        return {
          inputNames: ['input'],
          inputs: [],
          outputNames: ['logits'],
          async run(): Promise<Record<string, Tensor>> {
            await runtime.gate;
            return {};
          },
          async release(): Promise<void> {
            runtime.live--;
            runtime.released.push(id);
          },
        };
      },
      openSession(): Promise<Session> {
        throw new Error('not used');
      },
    };
  }
}

const graph = courseCnn(1);
const compileAndRun = async (engine: Engine, key: string): Promise<void> => {
  await (await engine.compile(key, () => graph)).run({});
};

describe('Engine out of memory compiling a session', () => {
  it('releases the idle cached sessions and compiles again, so later methods and runs still work', async () => {
    const rt = new FullRuntime(2);
    const engine = new Engine(rt.backend());
    await compileAndRun(engine, 'a');
    await compileAndRun(engine, 'b');
    await compileAndRun(engine, 'c'); // full: a and b go, c compiles
    expect(rt.refused).toBe(1);
    expect(rt.released.sort()).toEqual([0, 1]);
    await compileAndRun(engine, 'c'); // still cached
    await compileAndRun(engine, 'a'); // compiled again beside c
    expect(rt.created).toBe(4);
    await compileAndRun(engine, 'b'); // full again: c and a go
    expect(rt.created).toBe(5);
    expect(rt.live).toBe(1);
  });

  it('releases no session under a run in progress, and says what ran out and the way out when nothing is left to release', async () => {
    const rt = new FullRuntime(1);
    const engine = new Engine(rt.backend());
    const a = await engine.compile('a', () => graph);
    let open!: () => void;
    rt.gate = new Promise<void>((r) => (open = r));
    const running = a.run({});
    await new Promise((r) => setTimeout(r, 0));
    rt.gate = undefined;
    const error = await engine.compile('b', () => graph).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConvLensError);
    expect((error as ConvLensError).message).toBe('ONNX Runtime ran out of memory compiling a graph (std::bad_alloc).');
    expect((error as ConvLensError).hint).toMatch(/fewer methods at once.*WebAssembly memory ends at 4 GB/);
    expect(rt.released).toEqual([]);
    open();
    await running;
    await compileAndRun(engine, 'b'); // a is idle now: it goes
    expect(rt.released).toEqual([0]);
  });

  it('names the values the graph computes from its constants alone when they are what filled the memory', async () => {
    // 250 ConstantOfShape nodes of a million values, summed: 1 GB that ONNX Runtime's constant
    // folding computes and keeps while it compiles; under a 3 GB \`ulimit -v\` it ran out after 13 s,
    // and the hint said to compute fewer methods or use a smaller input
    const summed = cnnReading([shapeConstant('million', [1_000_000]), ...Array.from({ length: 250 }, (_, i) => fill(`fill${i}`, 'million', i)), nodeOf('Sum', Array.from({ length: 250 }, (_, i) => `fill${i}`), 'all')], 'all');
    const engine = new Engine(new FullRuntime(0).backend());
    const error = await engine.compile('summed', () => summed).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConvLensError);
    // (the first 4 of them ConvLens folds itself, within its fold budget)
    expect((error as ConvLensError).message).toMatch(/^ONNX Runtime ran out of memory compiling a graph that computes 942 MB of values from its constants alone \(the largest: "fill\d+", ConstantOfShape, \[1000000\]\); ONNX Runtime computes and keeps them all while it compiles, about twice over\.$/);
    expect((error as ConvLensError).hint).toMatch(/^Those values do not depend on the input: re-export the model without them or with smaller ones, or run it where this process may use more memory/);
    // a graph of no such values keeps ONNX Runtime's words and the hint about methods and inputs
    const plain = await new Engine(new FullRuntime(0).backend()).compile('plain', () => graph).catch((e: unknown) => e);
    expect((plain as ConvLensError).message).toBe('ONNX Runtime ran out of memory compiling a graph (std::bad_alloc).');
  });
});

describe('ONNX Runtime out of memory in a run', () => {
  it('says so, with the way out, instead of asking whether the input fits the model', async () => {
    // ORT's words when its arena cannot grow (onnxruntime-node 1.2x)
    const said = "Non-zero status code returned while running Sum node. Name:'all' Status Message: /onnxruntime_src/onnxruntime/core/framework/bfc_arena.cc:376 void* onnxruntime::BFCArena::AllocateRawInternal(size_t, bool, onnxruntime::Stream*, bool, onnxruntime::WaitNotificationFn) Failed to allocate memory for requested buffer of size 4000000";
    const session = { inputMetadata: [], inputNames: ['input'], outputNames: ['all'], run: () => Promise.reject(new Error(said)), release: () => Promise.resolve() };
    const fakeOrt = { InferenceSession: { create: () => Promise.resolve(session) }, Tensor: class {} } as unknown as OrtModule;
    const opened = await ortBackend(fakeOrt, 'fake').createSession(new Uint8Array(0), {});
    const error = await opened.run({}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConvLensError);
    expect((error as ConvLensError).message).toBe('ONNX Runtime ran out of memory running the graph: at node "all" (Sum): Failed to allocate memory for requested buffer of size 4000000.');
    expect((error as ConvLensError).hint).toMatch(/^Run fewer or smaller inputs at once, or run where this process may use more memory/);
    expect((error as ConvLensError).hint).not.toMatch(/input fits the model/);
  });
});
