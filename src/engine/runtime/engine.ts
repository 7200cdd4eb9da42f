import { encodeModel, type InMemoryFile } from '../onnx/codec.js';
import type { Graph } from '../graph/ir.js';
import type { Tensor } from '../tensor.js';
import type { Backend, Session } from './backend.js';

export interface EngineOptions {
  /** intra-op threads per session (default: backend default, all cores) */
  threads?: number;
  /** how many compiled sessions to keep (least recently used are released) */
  cacheSize?: number;
  /** release cached sessions to keep the process's resident memory down (see ResidentCeiling) */
  ceiling?: ResidentCeiling;
}

/**
 * Each ONNX Runtime session keeps its own memory arena at the size of its largest run. A job
 * whose methods each compile their own gradient graph (a rule set, a layer) holds every one of
 * those arenas at once: 25 methods on EfficientNet-B0 at batch 8 grew to 3.8 GB, where each
 * alone stays under 0.6 GB. With a ceiling, a new session is compiled only after the least
 * recently used idle ones are released until the process is below `bytes` (or none is left).
 */
export interface ResidentCeiling {
  /** the process's resident memory now, in bytes */
  measure: () => number;
  bytes: number;
}

/** Initializers of at least this many bytes go to a backend with `inMemoryWeights` as views. */
const IN_MEMORY_BYTES = 1 << 16;

/** A graph compiled into a runtime session. */
export class CompiledGraph {
  private running = 0;
  private retired?: { done: Promise<void>; resolve: () => void };

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
    if (this.retired) throw new Error(`run(): the session "${this.key}" was released`);
    this.running++;
    try {
      return await this.runSession(feeds, fetch, into);
    } finally {
      this.running--;
      this.settle();
    }
  }

  private async runSession(feeds: Record<string, Tensor>, fetch?: readonly string[], into?: Record<string, Tensor>): Promise<Record<string, Tensor>> {
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

  private settle(): void {
    if (this.running === 0) this.retired?.resolve();
  }

  /** runs in progress */
  get busy(): boolean {
    return this.running > 0;
  }

  /**
   * @internal Releases the session once the runs in progress end (a caller that evicted it from
   * a cache may still be awaiting one).
   */
  async release(): Promise<void> {
    if (!this.retired) {
      let resolve!: () => void;
      const done = new Promise<void>((r) => (resolve = r));
      this.retired = { done, resolve };
      this.settle();
    }
    await this.retired.done;
    await this.session.release();
  }
}

/**
 * Compiles graphs into sessions and caches them by what they compute, because iterative
 * methods run the same graph thousands of times and session creation costs 100+ ms.
 */
export class Engine {
  private readonly cache = new Map<string, Promise<CompiledGraph>>();
  /** the cached sessions whose compilation finished */
  private readonly ready = new Map<string, CompiledGraph>();
  /** see ResidentCeiling; set per task by callers that know their process's share of memory */
  ceiling: ResidentCeiling | undefined;
  readonly options: Required<Pick<EngineOptions, 'cacheSize'>> & EngineOptions;

  constructor(
    readonly backend: Backend,
    options: EngineOptions = {},
  ) {
    this.options = { cacheSize: 32, ...options };
    this.ceiling = options.ceiling;
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
    const pending: Promise<CompiledGraph> = (async () => {
      const graph = build();
      await this.makeRoom(key);
      return new CompiledGraph(key, graph, await this.createSession(graph));
    })().then((compiled) => {
      if (this.cache.get(key) === pending) this.ready.set(key, compiled);
      return compiled;
    });
    this.cache.set(key, pending);
    pending.catch(() => this.cache.delete(key));
    while (this.cache.size > this.options.cacheSize) this.evict(this.cache.keys().next().value as string);
    return pending;
  }

  /** Drops `key` from the cache; its session is released when its runs end. */
  private evict(key: string): Promise<void> {
    const victim = this.cache.get(key);
    this.cache.delete(key);
    this.ready.delete(key);
    return victim ? victim.then((c) => c.release()).catch(() => undefined) : Promise.resolve();
  }

  /** Under a ceiling, releases idle sessions, least recently used first, until the process is below it. */
  private async makeRoom(compiling: string): Promise<void> {
    const ceiling = this.ceiling;
    if (!ceiling) return;
    for (const key of [...this.cache.keys()]) {
      if (ceiling.measure() <= ceiling.bytes) return;
      const compiled = this.ready.get(key);
      if (key === compiling || !compiled || compiled.busy) continue;
      await this.evict(key);
    }
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
    this.ready.clear();
    for (const p of all) await p.then((c) => c.release()).catch(() => undefined);
  }
}
