import { availableParallelism } from 'node:os';
// before onnxruntime-node: it reads ORT_DISABLE_TELEMETRY when it loads
import './ort-telemetry.js';
import * as ort from 'onnxruntime-node';
import type { Backend, Session, SessionOptions } from './backend.js';
import { ortBackend } from './ort.js';
import { defaultCacheDir, SessionCache, type SessionCacheOptions } from './session-cache.js';

export interface NodeBackendOptions {
  /**
   * Keep compiled sessions on disk so a model's next process skips ONNX Runtime's graph
   * optimizations: a folder, or false for none. Default: $CONVLENS_CACHE_DIR (a folder, or `off`
   * for none); unset, the OS cache folder ($XDG_CACHE_HOME/convlens or ~/.cache/convlens).
   */
  cacheDir?: string | false;
  /** size limits of the cache (see SessionCacheOptions) */
  cache?: Omit<SessionCacheOptions, 'dir'>;
}

/**
 * Intra-op threads of a session whose caller names none: one per CPU this process may run on.
 * ORT's own default (one per physical core it detects) gave one thread on the 2-core VM these
 * benches ran on: a ResNet-18 gradient run took 180-200 ms against 104-113 ms with two, and
 * occlusion of 4 images 7.0-7.5 s against 4.2 s (docs/speed.md, "Threads").
 */
export function defaultThreads(): number {
  return availableParallelism();
}

/** ONNX Runtime's CPU provider through onnxruntime-node: the Node backend. */
export function nodeBackend(options: NodeBackendOptions = {}): Backend {
  // ORT copies in-memory external data while it creates a session, so weights reach it as views
  // of the decoded model: no 47 MB copy into the encoded bytes per ResNet-18 graph (docs/speed.md).
  const defaults = { executionProviders: ['cpu'], intraOpNumThreads: defaultThreads(), interOpNumThreads: 1 };
  const base: Backend = { ...ortBackend(ort as unknown as Parameters<typeof ortBackend>[0], 'onnxruntime-node', defaults, true), inMemoryWeights: true };
  const dir = options.cacheDir === undefined ? defaultCacheDir() : options.cacheDir || undefined;
  if (!dir) return base;
  const limits = { ...options.cache };
  const maxMb = Number(process.env['CONVLENS_CACHE_MAX_MB']);
  if (limits.maxBytes === undefined && Number.isFinite(maxMb) && maxMb > 0) limits.maxBytes = maxMb * 1024 * 1024;
  // Everything besides the model that decides the optimized graph (the adapter's defaults).
  const cache = new SessionCache({ dir, ...limits }, `onnxruntime-node ${ort.env.versions.node ?? '?'}|cpu|optimization=all`);
  return withSessionCache(base, cache);
}

/** `base` with its sessions created through `cache`. */
export function withSessionCache(base: Backend, cache: SessionCache): Backend {
  return { ...base, createSession: (model, sessionOptions) => cachedSession(base, cache, model, sessionOptions) };
}

/**
 * A session from the stored optimized model when there is an intact one; otherwise compiled
 * from `model`, with ORT writing its optimized model into the cache on the way. Any trouble with
 * the cache falls back to an ordinary compile: the cache can only save time.
 */
async function cachedSession(base: Backend, cache: SessionCache, model: Uint8Array, options: SessionOptions): Promise<Session> {
  const externalData = options.externalData ?? [];
  const size = externalData.reduce((a, f) => a + f.data.length, model.length);
  // A model bigger than the whole folder would be written (and hashed) only to be pruned again.
  if (!cache.enabled || size < cache.minModelBytes || size > cache.maxBytes || options.optimizedModelPath || options.preoptimized) return base.createSession(model, options);
  const key = cache.key(model, externalData);
  const stored = cache.read(key);
  if (stored) {
    const { externalData: _weightsAreInTheEntry, ...rest } = options;
    try {
      const session = await base.openSession(stored, { ...rest, preoptimized: true });
      cache.stats.hits++;
      return session;
    } catch {
      // intact but unloadable (written by a runtime that reads it differently): rebuild it
      cache.stats.damaged++;
      cache.remove(key);
    }
  }
  const slot = cache.reserve(key);
  if (!slot) return base.createSession(model, options);
  let session: Session;
  try {
    session = await base.createSession(model, { ...options, optimizedModelPath: slot.modelPath, optimizedWeightsFile: slot.weightsFile });
  } catch (e) {
    slot.abort();
    // ORT may refuse to save some models (over protobuf's 2 GB); the model itself may still load.
    try {
      return await base.createSession(model, options);
    } catch {
      throw e;
    }
  }
  slot.commit();
  return session;
}
