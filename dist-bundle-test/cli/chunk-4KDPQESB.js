import {
  encodeModel
} from "./chunk-P6HER42Z.js";
import {
  ConvLensError
} from "./chunk-N6ATQ4RF.js";

// dist/engine/runtime/engine.js
var CompiledGraph = class {
  key;
  graph;
  session;
  constructor(key, graph, session) {
    this.key = key;
    this.graph = graph;
    this.session = session;
  }
  get inputNames() {
    return this.session.inputNames;
  }
  get outputNames() {
    return this.session.outputNames;
  }
  run(feeds, fetch) {
    return this.session.run(feeds, fetch);
  }
  /** @internal */
  release() {
    return this.session.release();
  }
};
var Engine = class {
  backend;
  cache = /* @__PURE__ */ new Map();
  options;
  constructor(backend, options = {}) {
    this.backend = backend;
    this.options = { cacheSize: 32, ...options };
  }
  /**
   * The compiled session for `key`, building the graph with `build` on first use.
   * Keys must identify the computation: model identity, outputs, seeds, wrt, rule set.
   */
  compile(key, build) {
    const hit = this.cache.get(key);
    if (hit) {
      this.cache.delete(key);
      this.cache.set(key, hit);
      return hit;
    }
    const pending = (async () => {
      const graph = build();
      const session = await this.backend.createSession(encodeModel(graph), this.options.threads ? { threads: this.options.threads } : {});
      return new CompiledGraph(key, graph, session);
    })();
    this.cache.set(key, pending);
    pending.catch(() => this.cache.delete(key));
    while (this.cache.size > this.options.cacheSize) {
      const oldest = this.cache.keys().next().value;
      const victim = this.cache.get(oldest);
      this.cache.delete(oldest);
      victim.then((c) => c.release()).catch(() => void 0);
    }
    return pending;
  }
  /** Compiles a graph without caching it (one-off runs). */
  async compileOnce(graph) {
    const session = await this.backend.createSession(encodeModel(graph), this.options.threads ? { threads: this.options.threads } : {});
    return new CompiledGraph("", graph, session);
  }
  async dispose() {
    const all = [...this.cache.values()];
    this.cache.clear();
    for (const p of all)
      await p.then((c) => c.release()).catch(() => void 0);
  }
};

// dist/engine/runtime/node.js
import * as ort from "onnxruntime-node";

// dist/engine/runtime/ort.js
var TO_ORT = {
  float32: "float32",
  float64: "float64",
  float16: "float16",
  int64: "int64",
  int32: "int32",
  int16: "int16",
  int8: "int8",
  uint8: "uint8",
  uint16: "uint16",
  uint32: "uint32",
  uint64: "uint64",
  bool: "bool"
};
function ortBackend(ort2, name, defaults = {}) {
  const sessionOptions = (options) => ({
    graphOptimizationLevel: "all",
    executionMode: "sequential",
    ...defaults,
    ...options.threads ? { intraOpNumThreads: options.threads, interOpNumThreads: 1 } : {},
    // ORT warns that a model saved after its layout (NCHWc) optimizations only suits this machine:
    // the cache that asks for it keys its files by machine, so the warning would only be noise.
    ...options.optimizedModelPath ? { optimizedModelFilePath: options.optimizedModelPath, logSeverityLevel: 3 } : {},
    ...options.preoptimized ? { graphOptimizationLevel: "disabled" } : {}
  });
  const isOrtFormat = (m) => m.length > 8 && m[4] === 79 && m[5] === 82 && m[6] === 84 && m[7] === 77;
  return {
    name,
    async createSession(model, options) {
      try {
        if (options.preoptimized && isOrtFormat(model)) {
          const inPlace = { ...sessionOptions(options), extra: { session: { use_ort_model_bytes_directly: "1", use_ort_model_bytes_for_initializers: "1" } } };
          return adapt(ort2, name, await ort2.InferenceSession.create(model, inPlace), model);
        }
        return adapt(ort2, name, await ort2.InferenceSession.create(model, sessionOptions(options)));
      } catch (e) {
        throw new ConvLensError("RUNTIME_FAILURE", `ONNX Runtime rejected the graph: ${e.message}`, "If this is your model, check that it loads in onnxruntime; otherwise this is a ConvLens bug worth reporting.", { cause: e });
      }
    },
    async openSession(location, options) {
      try {
        return adapt(ort2, name, await ort2.InferenceSession.create(location, sessionOptions(options)));
      } catch (e) {
        throw new ConvLensError("MODEL_UNREADABLE", `ONNX Runtime cannot open ${location}: ${e.message}`, "Check that the file (and its external-data files beside it) are complete.", { cause: e });
      }
    }
  };
}
var pinned = /* @__PURE__ */ new Set();
function adapt(ort2, name, session, keepAlive) {
  if (keepAlive)
    pinned.add(keepAlive);
  const inputs = [];
  for (const m of session.inputMetadata)
    if (m.isTensor)
      inputs.push({ name: m.name, type: m.type, shape: m.shape });
  return {
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    inputs,
    async run(feeds, fetch) {
      const ortFeeds = {};
      for (const [k, t] of Object.entries(feeds)) {
        const type = TO_ORT[t.dtype];
        if (!type)
          throw new ConvLensError("INVALID_ARGUMENT", `Cannot feed "${k}": dtype ${t.dtype} is not supported by ${name}.`);
        ortFeeds[k] = new ort2.Tensor(type, t.data, t.dims);
      }
      let result;
      try {
        result = fetch ? await session.run(ortFeeds, fetch) : await session.run(ortFeeds);
      } catch (e) {
        throw new ConvLensError("RUNTIME_FAILURE", `ONNX Runtime failed while running the graph: ${e.message}`, "Check the input shapes against `convlens summary`.", { cause: e });
      }
      const out = {};
      for (const [k, v] of Object.entries(result)) {
        out[k] = { dtype: v.type, dims: [...v.dims], data: v.data };
      }
      return out;
    },
    async release() {
      await session.release();
      if (keepAlive)
        pinned.delete(keepAlive);
    }
  };
}

// dist/engine/runtime/session-cache.js
import { createHash } from "node:crypto";
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeSync } from "node:fs";
import { cpus, homedir } from "node:os";
import { join } from "node:path";
import { crc32 } from "node:zlib";
var SUFFIX = ".ortmodel";
var MAGIC = "CLSESS01";
var FOOTER_BYTES = 24;
var MiB = 1024 * 1024;
function defaultCacheDir(env2 = process.env) {
  const explicit = env2["CONVLENS_CACHE_DIR"];
  if (explicit !== void 0)
    return /^(|0|off|false|none|no)$/i.test(explicit.trim()) ? void 0 : explicit;
  if (process.platform === "win32" && env2["LOCALAPPDATA"])
    return join(env2["LOCALAPPDATA"], "convlens", "cache");
  if (process.platform === "darwin")
    return join(homedir(), "Library", "Caches", "convlens");
  return join(env2["XDG_CACHE_HOME"] || join(homedir(), ".cache"), "convlens");
}
var SessionCache = class {
  dir;
  maxBytes;
  minModelBytes;
  runtime;
  /** false once the folder turned out unusable: the process then compiles without the cache */
  usable = true;
  /** what happened so far: sessions from files, files written, damaged files found and deleted */
  stats = { hits: 0, writes: 0, damaged: 0 };
  /** `runtime` names what else decides the optimized model: runtime version, machine, options. */
  constructor(options, runtime) {
    this.dir = options.dir;
    this.maxBytes = options.maxBytes ?? 2048 * MiB;
    this.minModelBytes = options.minModelBytes ?? MiB;
    this.runtime = `${runtime}|${machineId()}`;
  }
  get enabled() {
    return this.usable;
  }
  /** The cache key of a model (its bytes) under the given session options. */
  key(model, options) {
    return createHash("sha256").update(`convlens-session/1|${this.runtime}|${options}|`).update(model).digest("hex");
  }
  file(key) {
    return join(this.dir, `${key}${SUFFIX}`);
  }
  /**
   * The stored optimized model for `key`, if present and intact. A damaged file (wrong footer,
   * length or checksum) is deleted and reported as absent.
   */
  read(key) {
    if (!this.usable)
      return void 0;
    const path = this.file(key);
    let bytes;
    try {
      bytes = readFileSync(path);
    } catch {
      return void 0;
    }
    const payload = verify(bytes);
    if (!payload) {
      this.stats.damaged++;
      this.remove(key);
      return void 0;
    }
    try {
      const now = /* @__PURE__ */ new Date();
      utimesSync(path, now, now);
    } catch {
    }
    return payload;
  }
  /** Deletes the file for `key` (a file ORT could not load, or a damaged one). */
  remove(key) {
    rmSync(this.file(key), { force: true });
  }
  /** A temporary file for ORT to write the optimized model of `key` into; undefined if the folder is unusable. */
  reserve(key) {
    if (!this.usable)
      return void 0;
    try {
      mkdirSync(this.dir, { recursive: true });
    } catch {
      this.usable = false;
      return void 0;
    }
    const temp = join(this.dir, `.${key}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp.ort`);
    return {
      path: temp,
      commit: () => {
        try {
          if (!existsSync(temp))
            return false;
          seal(temp);
          renameSync(temp, this.file(key));
        } catch {
          rmSync(temp, { force: true });
          return false;
        }
        this.stats.writes++;
        this.prune();
        return true;
      },
      abort: () => rmSync(temp, { force: true })
    };
  }
  /** Deletes the least recently used files until the folder fits `maxBytes`, and stale temporaries. */
  prune() {
    let entries;
    try {
      entries = readdirSync(this.dir).flatMap((name) => {
        const path = join(this.dir, name);
        try {
          const st = statSync(path);
          if (name.includes(".tmp.")) {
            if (Date.now() - st.mtimeMs > 36e5)
              rmSync(path, { force: true });
            return [];
          }
          return name.endsWith(SUFFIX) ? [{ path, size: st.size, used: st.mtimeMs }] : [];
        } catch {
          return [];
        }
      });
    } catch {
      return;
    }
    let total = entries.reduce((a, e) => a + e.size, 0);
    entries.sort((a, b) => a.used - b.used);
    for (const e of entries) {
      if (total <= this.maxBytes)
        break;
      rmSync(e.path, { force: true });
      total -= e.size;
    }
  }
};
function seal(path) {
  const payload = readFileSync(path);
  const footer = Buffer.alloc(FOOTER_BYTES);
  footer.write(MAGIC, 0, "latin1");
  footer.writeUInt32LE(payload.length % 2 ** 32, 8);
  footer.writeUInt32LE(Math.floor(payload.length / 2 ** 32), 12);
  footer.writeUInt32LE(crc32(payload), 16);
  const fd = openSync(path, "a");
  try {
    writeSync(fd, footer);
  } finally {
    closeSync(fd);
  }
}
function verify(bytes) {
  if (bytes.length < FOOTER_BYTES)
    return void 0;
  const footer = bytes.subarray(bytes.length - FOOTER_BYTES);
  if (footer.toString("latin1", 0, 8) !== MAGIC)
    return void 0;
  const length = footer.readUInt32LE(8) + footer.readUInt32LE(12) * 2 ** 32;
  if (length !== bytes.length - FOOTER_BYTES)
    return void 0;
  const payload = bytes.subarray(0, length);
  if (crc32(payload) !== footer.readUInt32LE(16))
    return void 0;
  return new Uint8Array(payload.buffer, payload.byteOffset, payload.length);
}
function machineId() {
  let flags = "";
  try {
    const info = readFileSync("/proc/cpuinfo", "utf8");
    flags = /^flags\s*:\s*(.*)$/m.exec(info)?.[1] ?? "";
  } catch {
  }
  const flagsHash = createHash("sha256").update(flags).digest("hex").slice(0, 16);
  return `${process.platform}-${process.arch}|${cpus()[0]?.model ?? "cpu"}|${flagsHash}`;
}

// dist/engine/runtime/node.js
function nodeBackend(options = {}) {
  const base = ortBackend(ort, "onnxruntime-node", { executionProviders: ["cpu"] });
  const dir = options.cacheDir === void 0 ? defaultCacheDir() : options.cacheDir || void 0;
  if (!dir)
    return base;
  const limits = { ...options.cache };
  const maxMb = Number(process.env["CONVLENS_CACHE_MAX_MB"]);
  if (limits.maxBytes === void 0 && Number.isFinite(maxMb) && maxMb > 0)
    limits.maxBytes = maxMb * 1024 * 1024;
  const cache = new SessionCache({ dir, ...limits }, `onnxruntime-node ${ort.env.versions.node ?? "?"}|cpu|optimization=all`);
  return withSessionCache(base, cache);
}
function withSessionCache(base, cache) {
  return { ...base, createSession: (model, sessionOptions) => cachedSession(base, cache, model, sessionOptions) };
}
async function cachedSession(base, cache, model, options) {
  if (!cache.enabled || model.length < cache.minModelBytes || options.optimizedModelPath || options.preoptimized)
    return base.createSession(model, options);
  const key = cache.key(model, "");
  const stored = cache.read(key);
  if (stored) {
    try {
      const session2 = await base.createSession(stored, { ...options, preoptimized: true });
      cache.stats.hits++;
      return session2;
    } catch {
      cache.stats.damaged++;
      cache.remove(key);
    }
  }
  const slot = cache.reserve(key);
  if (!slot)
    return base.createSession(model, options);
  let session;
  try {
    session = await base.createSession(model, { ...options, optimizedModelPath: slot.path });
  } catch (e) {
    slot.abort();
    try {
      return await base.createSession(model, options);
    } catch {
      throw e;
    }
  }
  slot.commit();
  return session;
}

export {
  Engine,
  nodeBackend
};
