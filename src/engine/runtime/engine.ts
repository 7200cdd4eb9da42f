import { encodeModel, type InMemoryFile } from '../onnx/codec.js';
import type { Graph } from '../graph/ir.js';
import type { Tensor } from '../tensor.js';
import type { Backend, Session } from './backend.js';

export interface EngineOptions {
  /** intra-op threads per session (default: backend default, all cores) */
  threads?: number;
  /** how many compiled sessions to keep (least recently used are released) */
  cacheSize?: number;
}

/** Initializers of at least this many bytes go to a backend with `inMemoryWeights` as views. */
const IN_MEMORY_BYTES = 1 << 16;

/** A graph compiled into a runtime session. */
export class CompiledGraph {
  constructor(
    readonly key: string,
    readonly graph: Graph,
    private readonly session: Session,
  ) {}

  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }

  get outputNames(): readonly string[] {
    return this.session.outputNames;
  }

  /**
   * Runs the graph. Outputs named in `into` end up in those tensors (preallocated, of the exact
   * output shapes; views into a larger array work): written there by the runtime when it can,
   * copied otherwise. Batched callers use it to fill one result array with no per-run copies.
   */
  async run(feeds: Record<string, Tensor>, fetch?: readonly string[], into?: Record<string, Tensor>): Promise<Record<string, Tensor>> {
    if (!into) return this.session.run(feeds, fetch);
    const out = await this.session.run(feeds, fetch, into);
    for (const [name, target] of Object.entries(into)) {
      const got = out[name];
      if (!got || got.data === target.data) continue;
      if (got.data.length !== target.data.length) throw new Error(`run(): output "${name}" has ${got.data.length} values, its preallocated tensor ${target.data.length}`);
      (target.data as Float32Array).set(got.data as Float32Array);
      out[name] = target;
    }
    return out;
  }

  /** @internal */
  release(): Promise<void> {
    return this.session.release();
  }
}

/**
 * Compiles graphs into sessions and caches them by what they compute, because iterative
 * methods run the same graph thousands of times and session creation costs 100+ ms.
 */
export class Engine {
  private readonly cache = new Map<string, Promise<CompiledGraph>>();
  readonly options: Required<Pick<EngineOptions, 'cacheSize'>> & EngineOptions;

  constructor(
    readonly backend: Backend,
    options: EngineOptions = {},
  ) {
    this.options = { cacheSize: 32, ...options };
  }

  /**
   * The compiled session for `key`, building the graph with `build` on first use.
   * Keys must identify the computation: model identity, outputs, seeds, wrt, rule set.
   */
  compile(key: string, build: () => Graph): Promise<CompiledGraph> {
    const hit = this.cache.get(key);
    if (hit) {
      this.cache.delete(key);
      this.cache.set(key, hit);
      return hit;
    }
    const pending = (async () => {
      const graph = build();
      return new CompiledGraph(key, graph, await this.createSession(graph));
    })();
    this.cache.set(key, pending);
    pending.catch(() => this.cache.delete(key));
    while (this.cache.size > this.options.cacheSize) {
      const oldest = this.cache.keys().next().value as string;
      const victim = this.cache.get(oldest)!;
      this.cache.delete(oldest);
      victim.then((c) => c.release()).catch(() => undefined);
    }
    return pending;
  }

  /** Compiles a graph without caching it (one-off runs). */
  async compileOnce(graph: Graph): Promise<CompiledGraph> {
    return new CompiledGraph('', graph, await this.createSession(graph));
  }

  private createSession(graph: Graph): Promise<Session> {
    const threads = this.options.threads ? { threads: this.options.threads } : {};
    if (!this.backend.inMemoryWeights) return this.backend.createSession(encodeModel(graph), threads);
    // Weights stay where they are (views), named as in-memory external data: only the graph's
    // structure and small tensors are encoded.
    const externalData: InMemoryFile[] = [];
    const bytes = encodeModel(graph, { inMemoryThreshold: IN_MEMORY_BYTES, inMemoryFiles: externalData });
    return this.backend.createSession(bytes, { ...threads, ...(externalData.length ? { externalData } : {}) });
  }

  async dispose(): Promise<void> {
    const all = [...this.cache.values()];
    this.cache.clear();
    for (const p of all) await p.then((c) => c.release()).catch(() => undefined);
  }
}
