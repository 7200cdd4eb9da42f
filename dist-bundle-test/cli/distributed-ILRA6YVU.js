import {
  Engine,
  nodeBackend
} from "./chunk-4KDPQESB.js";
import {
  loadModel
} from "./chunk-P6HER42Z.js";
import "./chunk-2RDMIJXC.js";
import {
  openSource
} from "./chunk-A7RQSV7O.js";
import "./chunk-JFQ3PAZH.js";
import "./chunk-EQEDVHDE.js";
import "./chunk-XD57GLXB.js";
import "./chunk-X2V5Z5UO.js";
import "./chunk-75463JA6.js";
import {
  decodeChunk,
  encodeChunk,
  scanChunk
} from "./chunk-REQFKBTL.js";
import "./chunk-4WR5QSMB.js";
import "./chunk-Y3QEK5WU.js";
import {
  throwIfCancelled
} from "./chunk-GNZAA2KB.js";
import {
  ConvLensError
} from "./chunk-N6ATQ4RF.js";

// dist/methods/dataset/distributed.js
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { Queue, Worker } from "bullmq";
import { Redis } from "ioredis";
function checkUrl(url) {
  if (!/^rediss?:\/\//.test(url))
    throw new ConvLensError("INVALID_ARGUMENT", `"${url}" is not a Redis URL.`, "Use redis://host:port, e.g. redis://127.0.0.1:6379.");
}
var DEFAULT_QUEUE = "convlens-scan";
function scanIdOf(store) {
  const m = store.manifest;
  return createHash("sha256").update(`${store.dir}|${m.model.fingerprint}|${m.dataset.fingerprint}|${m.created}`).digest("hex").slice(0, 16);
}
var resultKeyOf = (queue, scanId, chunk) => `convlens:${queue}:result:${scanId}:${chunk}`;
var jobIdOf = (scanId, chunk) => `${scanId}-${chunk}`;
var sleep = (ms) => new Promise((r) => setTimeout(r, ms));
var RedisLink = class {
  url;
  timeoutMs;
  client;
  downSince = Date.now();
  lastError;
  gaveUp = false;
  constructor(url, timeoutMs) {
    this.url = url;
    this.timeoutMs = timeoutMs;
    checkUrl(url);
    this.client = new Redis(url, {
      lazyConnect: true,
      connectTimeout: Math.max(500, Math.min(timeoutMs, 1e4)),
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      retryStrategy: () => {
        this.downSince ??= Date.now();
        if (Date.now() - this.downSince >= this.timeoutMs) {
          this.gaveUp = true;
          return null;
        }
        return 250;
      }
    });
    this.client.on("error", (e) => {
      this.lastError = e;
      this.downSince ??= Date.now();
    });
    this.client.on("close", () => this.downSince ??= Date.now());
    this.client.on("end", () => this.gaveUp = true);
    this.client.on("ready", () => this.downSince = void 0);
  }
  /** Connects, or throws the "cannot reach" error once `timeoutMs` has passed. */
  async connect() {
    this.client.connect().catch(() => void 0);
    await new Promise((resolve, reject) => {
      const check = setInterval(() => {
        if (this.client.status === "ready")
          done();
        else if (this.gaveUp || this.client.status === "end")
          done(this.error(`Cannot reach Redis at ${this.url}`, "Start redis-server, or check --redis."));
      }, 50);
      const done = (e) => {
        clearInterval(check);
        if (e)
          reject(e);
        else
          resolve();
      };
    });
  }
  /** Whether the connection is away right now (reconnecting or given up). */
  get down() {
    return this.downSince !== void 0 || this.client.status !== "ready";
  }
  /** The error to stop with once Redis has been away too long, else undefined. */
  lost(hint) {
    const away = this.downSince !== void 0 && Date.now() - this.downSince >= this.timeoutMs;
    return this.gaveUp || away ? this.error(`Lost the connection to Redis at ${this.url}`, hint) : void 0;
  }
  error(what, hint) {
    const why = this.lastError ? `: ${this.lastError.message}` : "";
    return new ConvLensError("RUNTIME_FAILURE", `${what}${why} (tried for ${(this.timeoutMs / 1e3).toFixed(0)} s).`, hint, { cause: this.lastError });
  }
  close() {
    this.client.disconnect();
  }
};
var bounded = async (p, ms) => {
  let timer;
  await Promise.race([p.catch(() => void 0), new Promise((r) => timer = setTimeout(r, ms))]);
  clearTimeout(timer);
};
async function runDistributed(store, pending, settings, o, job) {
  const m = store.manifest;
  const name = o.queue ?? DEFAULT_QUEUE;
  const scanId = scanIdOf(store);
  const attempts = o.attempts ?? 3;
  const ttl = o.resultTtlSeconds ?? 3600;
  const link = new RedisLink(o.redis, o.redisTimeoutMs ?? 5e3);
  const done = await store.doneChunks();
  const plan = new Map(pending.map((c) => [c.chunk, c]));
  const left = () => pending.filter((c) => !done.has(c.chunk));
  const stored = () => {
    const images = [...done].reduce((a, c) => a + (Math.min(m.dataset.count, (c + 1) * m.chunkSize) - c * m.chunkSize), 0);
    return `${images} of ${m.dataset.count} images are in the store`;
  };
  let queue;
  try {
    await link.connect();
    queue = new Queue(name, { connection: link.client, streams: { events: { maxLen: 1e3 } } });
    queue.on("error", () => void 0);
    await queue.waitUntilReady();
    if (await queue.isPaused()) {
      await queue.resume();
      o.log?.(`the queue "${name}" on ${o.redis} was paused (an interrupted scan of an older ConvLens leaves it so, and it stalls every scan); resumed it`);
    }
    for (const c of left()) {
      const state = await queue.getJobState(jobIdOf(scanId, c.chunk));
      if (state === "failed" || state === "completed")
        await queue.remove(jobIdOf(scanId, c.chunk));
    }
    const waiting = await link.client.pipeline(left().map((c) => ["exists", resultKeyOf(name, scanId, c.chunk)])).exec();
    const toRun = left().filter((_, i) => waiting?.[i]?.[1] !== 1);
    await queue.addBulk(toRun.map((c) => ({
      name: "chunk",
      data: {
        scanId,
        ...job.modelPath ? { modelPath: job.modelPath } : {},
        modelFingerprint: m.model.fingerprint,
        dataset: m.dataset.spec,
        datasetFingerprint: m.dataset.fingerprint,
        settings,
        chunk: c.chunk,
        start: c.start,
        end: c.end,
        resultKey: resultKeyOf(name, scanId, c.chunk),
        resultTtl: ttl
      },
      opts: { jobId: jobIdOf(scanId, c.chunk), attempts, backoff: { type: "fixed", delay: 500 }, removeOnComplete: true, removeOnFail: { age: 24 * 3600 } }
    })));
    let lastCheck = Date.now();
    let progressAt = Date.now();
    let warnedIdle = false;
    while (left().length) {
      if (job.signal?.aborted) {
        await bounded(Promise.all(left().map((c) => queue.remove(jobIdOf(scanId, c.chunk)).catch(() => 0))), 2e3);
        throwIfCancelled(job.signal, "the distributed scan");
      }
      const lost = link.lost(`Start Redis again (or check --redis) and run the same command to continue (${stored()}).`);
      if (lost)
        throw lost;
      let results = [];
      let keys = [];
      try {
        ({ results, keys } = await fetchResults(link.client, left(), (c) => resultKeyOf(name, scanId, c), plan));
        const failed = (await queue.getJobs(["failed"], 0, 63)).filter((j) => j.data?.scanId === scanId && plan.has(j.data.chunk) && !done.has(j.data.chunk));
        if (failed.length) {
          const f = failed[0];
          for (const j of failed)
            await j.remove().catch(() => void 0);
          throw new ConvLensError("RUNTIME_FAILURE", `Chunk ${f.data.chunk} (images ${f.data.start}..${f.data.end - 1}) failed ${f.attemptsMade} times: ${f.failedReason}.`, `Fix the cause and run the same command again to continue (${stored()}).`);
        }
        if (!results.length && Date.now() - lastCheck >= (o.checkMs ?? 2e3)) {
          lastCheck = Date.now();
          await checkJobsExist(queue, link.client, left(), scanId, (c) => resultKeyOf(name, scanId, c), o.redis, stored);
          if (!warnedIdle && Date.now() - progressAt > 15e3 && await queue.getWorkersCount() === 0) {
            warnedIdle = true;
            o.log?.(`no worker is listening on the queue "${name}" at ${o.redis}: start one with \`convlens index-worker --redis ${o.redis}${name === DEFAULT_QUEUE ? "" : ` --queue ${name}`}\``);
          }
        }
      } catch (e) {
        if (e instanceof ConvLensError)
          throw e;
        if (!link.down)
          throw new ConvLensError("RUNTIME_FAILURE", `Redis at ${o.redis} answered with an error: ${e.message}.`, `Check the Redis server, then run the same command again to continue (${stored()}).`, { cause: e });
        await sleep(250);
        continue;
      }
      if (results.length) {
        const fresh = await store.commit(results, done);
        progressAt = Date.now();
        job.onCommitted?.(fresh.reduce((a, r) => a + r.end - r.start, 0));
        await link.client.del(...keys).catch(() => void 0);
      } else {
        await sleep(o.pollMs ?? 200);
      }
    }
    await bounded(Promise.all(pending.map((c) => queue.remove(jobIdOf(scanId, c.chunk)).catch(() => 0))), 2e3);
  } finally {
    if (queue)
      await bounded(queue.close(), 2e3);
    link.close();
  }
}
async function fetchResults(client, left, keyOf, plan) {
  if (!left.length)
    return { results: [], keys: [] };
  const exists = await client.pipeline(left.map((c) => ["exists", keyOf(c.chunk)])).exec();
  const ready = left.filter((_, i) => exists?.[i]?.[1] === 1).slice(0, 8);
  const results = [];
  const keys = [];
  for (const c of ready) {
    const key = keyOf(c.chunk);
    const text = await client.get(key);
    if (text === null)
      continue;
    keys.push(key);
    let r;
    try {
      r = decodeChunk(text);
    } catch {
      continue;
    }
    const p = plan.get(r.chunk);
    if (p && r.chunk === c.chunk && r.start === p.start && r.end === p.end)
      results.push(r);
  }
  return { results, keys };
}
async function checkJobsExist(queue, client, left, scanId, keyOf, url, stored) {
  const missing = [];
  for (const c of left) {
    if (await queue.getJobState(jobIdOf(scanId, c.chunk)) !== "unknown")
      continue;
    if (await client.exists(keyOf(c.chunk)) === 0)
      missing.push(c.chunk);
  }
  if (!missing.length)
    return;
  const list = missing.length > 8 ? `${missing.slice(0, 8).join(", ")}, ...` : missing.join(", ");
  throw new ConvLensError("RUNTIME_FAILURE", `Redis at ${url} no longer has the jobs of ${missing.length} chunk${missing.length > 1 ? "s" : ""} (${list}) of this scan: it was flushed, or restarted without its data, while the scan waited.`, `Run the same command again: it queues the missing chunks anew (${stored()}).`);
}
async function runScanWorker(o) {
  checkUrl(o.redis);
  const engine = new Engine(nodeBackend(), o.threads ? { threads: o.threads } : {});
  const models = /* @__PURE__ */ new Map();
  const sources = /* @__PURE__ */ new Map();
  const { modelFingerprint } = await import("./scan-ITH3Z7GQ.js");
  let jobs = 0;
  const fault = /^(\d+):(.+)$/.exec(process.env["CONVLENS_FAULT_KILL_ONCE"] ?? "");
  let stop = () => void 0;
  const stopped = new Promise((resolve) => stop = resolve);
  const queueName = o.queue ?? DEFAULT_QUEUE;
  const retryStrategy = (times) => Math.min(250 * times, 2e3);
  let away = false;
  const onLost = (e) => {
    if (away)
      return;
    away = true;
    o.log?.(`lost Redis at ${o.redis} (${e.message}); reconnecting until it is back (Ctrl-C to stop)`);
  };
  const results = new Redis(o.redis, { maxRetriesPerRequest: null, retryStrategy });
  results.on("error", onLost);
  results.on("ready", () => {
    if (!away)
      return;
    away = false;
    o.log?.(`Redis at ${o.redis} is back`);
  });
  const worker = new Worker(queueName, async (j) => {
    const d = j.data;
    const key = d.modelPath ?? "(built-in)";
    let mp = models.get(key);
    if (!mp) {
      mp = Promise.resolve().then(() => loadModel(d.modelPath, engine));
      models.set(key, mp);
    }
    const model = await mp;
    if (modelFingerprint(model) !== d.modelFingerprint)
      throw new Error(`model ${key} here is not the model the scan uses (fingerprint ${d.modelFingerprint})`);
    let source = sources.get(d.dataset);
    if (!source)
      sources.set(d.dataset, source = openSource(d.dataset));
    if (source.fingerprint !== d.datasetFingerprint)
      throw new Error(`dataset ${d.dataset} here differs from the one scanned (fingerprint ${d.datasetFingerprint})`);
    const r = await scanChunk(model, source, d.settings, d.chunk, d.start, d.end, { worker: `${process.env["HOSTNAME"] ?? "worker"}:${process.pid}` });
    if (fault && Number(fault[1]) === d.chunk) {
      try {
        writeFileSync(fault[2], `${process.pid}
`, { flag: "wx" });
        process.kill(process.pid, "SIGKILL");
      } catch {
      }
    }
    await results.set(d.resultKey, encodeChunk(r), "EX", d.resultTtl);
    o.log?.(`chunk ${d.chunk} (images ${d.start}..${d.end - 1}) in ${r.ms.toFixed(0)} ms`);
    jobs++;
    if (o.maxJobs !== void 0 && jobs >= o.maxJobs)
      stop();
  }, {
    connection: { url: o.redis, maxRetriesPerRequest: null, retryStrategy },
    concurrency: o.concurrency ?? 1,
    lockDuration: o.lockMs ?? 3e4,
    stalledInterval: Math.max(500, Math.round((o.lockMs ?? 3e4) / 2)),
    maxStalledCount: 3,
    removeOnComplete: { count: 0 }
  });
  worker.on("error", onLost);
  let force = false;
  o.signal?.addEventListener("abort", () => stop(), { once: true });
  o.abandon?.addEventListener("abort", () => {
    force = true;
    stop();
  }, { once: true });
  if (o.signal?.aborted)
    stop();
  if (o.abandon?.aborted) {
    force = true;
    stop();
  }
  void worker.waitUntilReady().then(() => o.log?.(`worker ${process.pid} listening on queue ${queueName}`), () => void 0);
  await stopped;
  if (away)
    force = true;
  await bounded(worker.close(force), force ? 1e3 : 6e4);
  results.disconnect();
  await engine.dispose();
  return { jobs };
}
export {
  DEFAULT_QUEUE,
  runDistributed,
  runScanWorker,
  scanIdOf
};
