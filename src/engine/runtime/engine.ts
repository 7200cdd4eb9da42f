import { encodeModel, type InMemoryFile } from '../onnx/codec.js';
import type { Graph } from '../graph/ir.js';
import type { Tensor } from '../tensor.js';
import type { Backend, Session } from './backend.js';
import { ConvLensError } from '../errors.js';
import { constantValueBytes } from '../graph/constant-values.js';
import { isOutOfMemory } from './ort.js';

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

/**
 * A graph compiled into a runtime session. The session can be released to free its memory (the
 * engine does so under a ResidentCeiling) while callers still hold this object: a later run
 * compiles it again, so a method that keeps its session across steps never sees a dead one.
 */
export class CompiledGraph {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  private session: Session | undefined;
  private opening: Promise<void> | undefined;
  private releasing: Promise<void> | undefined;
  private closed = false;
  private running = 0;
  private idle: (() => void)[] = [];

  constructor(
    readonly key: string,
    readonly graph: Graph,
    session: Session,
    /** compiles the graph again after a release */
    private readonly reopen: (compiled: CompiledGraph) => Promise<Session>,
  ) {
    this.session = session;
    this.inputNames = session.inputNames;
    this.outputNames = session.outputNames;
  }

  /**
   * Runs the graph. Outputs named in `into` end up in those tensors (preallocated, of the exact
   * output shapes; views into a larger array work): written there by the runtime when it can,
   * copied otherwise. Batched callers use it to fill one result array with no per-run copies.
   */
  async run(feeds: Record<string, Tensor>, fetch?: readonly string[], into?: Record<string, Tensor>): Promise<Record<string, Tensor>> {
    const session = await this.acquire();
    try {
      return await runOn(session, feeds, fetch, into);
    } finally {
      if (--this.running === 0) for (const wake of this.idle.splice(0)) wake();
    }
  }

  /** The open session, counted as running until the caller's run ends. */
  private async acquire(): Promise<Session> {
    for (;;) {
      if (this.closed) throw new Error(`run(): the session "${this.key}" was closed with its engine`);
      if (this.releasing) await this.releasing;
      else if (this.session) {
        this.running++;
        return this.session;
      } else {
        this.opening ??= this.reopen(this).then(
          (session) => {
            this.session = session;
            this.opening = undefined;
          },
          (e: unknown) => {
            this.opening = undefined;
            throw e;
          },
        );
        await this.opening;
      }
    }
  }

  /** runs in progress */
  get busy(): boolean {
    return this.running > 0;
  }

  /** whether it holds a session now (released ones compile again on their next run) */
  get open(): boolean {
    return this.session !== undefined && !this.releasing;
  }

  /** Releases the session once the runs in progress end; a later run compiles it again. */
  release(): Promise<void> {
    if (this.releasing) return this.releasing;
    if (!this.session) return Promise.resolve();
    this.releasing = (async () => {
      if (this.running > 0) await new Promise<void>((wake) => this.idle.push(wake));
      const session = this.session!;
      this.session = undefined;
      await session.release();
    })().finally(() => (this.releasing = undefined));
    return this.releasing;
  }

  /** @internal Releases the session for good (the engine is disposed). */
  async close(): Promise<void> {
    this.closed = true;
    await this.release();
  }
}

async function runOn(session: Session, feeds: Record<string, Tensor>, fetch?: readonly string[], into?: Record<string, Tensor>): Promise<Record<string, Tensor>> {
  if (!into) return session.run(feeds, fetch);
  const out = await session.run(feeds, fetch, into);
  for (const [name, target] of Object.entries(into)) {
    const got = out[name];
    if (!got || got.data === target.data) continue;
    if (got.data.length !== target.data.length) throw new Error(`run(): output "${name}" has ${got.data.length} values, its preallocated tensor ${target.data.length}`);
    (target.data as Float32Array).set(got.data as Float32Array);
    out[name] = target;
  }
  return out;
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
      return new CompiledGraph(key, graph, await this.createSession(graph, key), (c) => this.reopen(c));
    })().then((compiled) => {
      if (this.cache.get(key) === pending) this.ready.set(key, compiled);
      return compiled;
    });
    this.cache.set(key, pending);
    pending.catch(() => this.cache.delete(key));
    while (this.cache.size > this.options.cacheSize) this.evict(this.cache.keys().next().value as string);
    return pending;
  }

  /** Drops `key` from the cache; its session is released when its runs end (a holder's next run compiles it again). */
  private evict(key: string): Promise<void> {
    const victim = this.cache.get(key);
    this.cache.delete(key);
    this.ready.delete(key);
    return victim ? victim.then((c) => c.release()).catch(() => undefined) : Promise.resolve();
  }

  /**
   * Releases and forgets every cached session whose key starts with `prefix` (a model's own:
   * `${model.id}|`), once its runs in progress end: a model that is dropped would otherwise keep
   * its sessions' weights and arenas until the cache happened to evict them. A holder's next run
   * compiles again.
   */
  async releaseSessions(prefix: string): Promise<void> {
    await Promise.all([...this.cache.keys()].filter((k) => k.startsWith(prefix)).map((k) => this.evict(k)));
  }

  /** The keys of the cached sessions that hold a runtime session now (tests count them). */
  openSessionKeys(): string[] {
    return [...this.ready].filter(([, c]) => c.open).map(([k]) => k);
  }

  /** Under a ceiling, releases idle sessions, least recently used first, until the process is below it. */
  private async makeRoom(compiling: string): Promise<void> {
    const ceiling = this.ceiling;
    if (!ceiling) return;
    for (const key of [...this.cache.keys()]) {
      if (ceiling.measure() <= ceiling.bytes) return;
      const compiled = this.ready.get(key);
      if (key === compiling || !compiled?.open || compiled.busy) continue;
      await this.evict(key);
    }
  }

  /** Compiles a graph without caching it (one-off runs; the caller releases it). */
  async compileOnce(graph: Graph): Promise<CompiledGraph> {
    return new CompiledGraph('', graph, await this.createSession(graph), (c) => this.createSession(c.graph));
  }

  /** A released cached session compiles again for a caller that held on to it, and is cached again. */
  private async reopen(compiled: CompiledGraph): Promise<Session> {
    await this.makeRoom(compiled.key);
    const session = await this.createSession(compiled.graph, compiled.key);
    if (!this.cache.has(compiled.key)) {
      this.cache.set(compiled.key, Promise.resolve(compiled));
      this.ready.set(compiled.key, compiled);
      while (this.cache.size > this.options.cacheSize) void this.evict(this.cache.keys().next().value as string);
    }
    return session;
  }

  /**
   * Compiles `graph` into a session. When the runtime runs out of memory doing so, the idle
   * cached sessions are released and it is tried once more: each holds its own copy of the
   * weights and its arena, and onnxruntime-web's WebAssembly memory ends at 4 GB. In a browser
   * a VGG-16's fourth method failed so, and every later run too, the cache holding it all.
   */
  private async createSession(graph: Graph, compiling = ''): Promise<Session> {
    try {
      return await this.newSession(graph);
    } catch (e) {
      if (!isOutOfMemory(e)) throw e;
      if (!(await this.releaseIdle(compiling))) throw outOfMemoryOnConstants(e, graph);
      try {
        return await this.newSession(graph);
      } catch (again) {
        throw isOutOfMemory(again) ? outOfMemoryOnConstants(again, graph) : again;
      }
    }
  }

  /** Releases every idle cached session but `keep`'s; whether there was one. */
  private async releaseIdle(keep: string): Promise<boolean> {
    let released = false;
    for (const key of [...this.cache.keys()]) {
      const compiled = this.ready.get(key);
      if (key === keep || !compiled?.open || compiled.busy) continue;
      await this.evict(key);
      released = true;
    }
    return released;
  }

  private newSession(graph: Graph): Promise<Session> {
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
    for (const p of all) await p.then((c) => c.close()).catch(() => undefined);
  }
}

/** Values computed from constants alone below this are not named as the cause of running out of memory. */
const NAMED_CONSTANT_BYTES = 64 * 2 ** 20;

/**
 * ONNX Runtime's failure to allocate while compiling `graph`, naming the values the graph computes
 * from its constants alone when they are large: ONNX Runtime's constant folding computes and
 * keeps them all while it compiles (a Sum of 1000 ConstantOfShape nodes of a million values,
 * 3.7 GB, peaked at 7.7 GB), and the hint to compute fewer methods or use a smaller input said
 * nothing about them. Otherwise `e` as it was.
 */
function outOfMemoryOnConstants(e: unknown, graph: Graph): unknown {
  const constants = constantValueBytes(graph);
  if (!constants?.largest || constants.bytes < NAMED_CONSTANT_BYTES) return e;
  const size = constants.bytes >= 2 ** 30 ? `${(constants.bytes / 2 ** 30).toFixed(1)} GB` : `${Math.round(constants.bytes / 2 ** 20)} MB`;
  const { name, op, dims } = constants.largest;
  return new ConvLensError(
    'RUNTIME_FAILURE',
    `ONNX Runtime ran out of memory compiling a graph that computes ${size} of values from its constants alone (the largest: "${name}", ${op}, [${dims.join(', ')}]); ONNX Runtime computes and keeps them all while it compiles, about twice over.`,
    'Those values do not depend on the input: re-export the model without them or with smaller ones, or run it where this process may use more memory (a larger machine, or a higher limit: `ulimit -v`, a container\'s memory limit).',
    { cause: e },
  );
}
