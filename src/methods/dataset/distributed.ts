// Distributed scans on BullMQ (Redis): the coordinator (`convlens index --redis URL`) puts one
// job per pending chunk on a queue; workers (`convlens index-worker --redis URL`, any number, on
// any machine that sees the model and dataset at the same paths) run scanChunk and leave the
// chunk's result in a Redis key of its own (with a time to live); the coordinator commits each
// result into the store, the only writer, and deletes the key. Results never travel as job
// return values, which BullMQ would also copy into its events stream; finished jobs are removed
// at once, so a completed scan leaves Redis as it found it (bar a short, trimmed events stream).
//
// Duplicates cannot happen: a chunk's job id is fixed (re-adding it is a no-op), and a result for
// a chunk already in the store is dropped (see store.commit). A worker that dies holding a job
// stops renewing its lock; BullMQ's stalled-job check hands the job to another worker (up to
// `maxStalledCount` times), and a job that throws is retried (`attempts`).
//
// Faults the coordinator turns into one clear message instead of a hang: Redis unreachable (at
// the start, or lost for longer than `redisTimeoutMs`), jobs that vanished from Redis (flushed or
// restarted without its data), a Redis over its maxmemory, and a chunk that failed all its
// attempts. Cancelling withdraws the scan's queued jobs and never pauses the queue (a pause is
// global, and would stall every later scan on that Redis); a paused queue, found at the start or
// while the scan waits, is resumed with a note.
//
// The Redis may be shared, and whatever is on the queue or under a result key may come from
// someone else (wire.ts): a worker checks each job against a closed schema before any work,
// reads only inside its data folders and derives the result key itself; the coordinator reads a
// key only up to the size of a result of its chunk and checks the value whole before the store
// sees it, deleting a bad one and queueing its chunk again.
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { Queue, UnrecoverableError, Worker, type Job, type JobsOptions } from 'bullmq';
import { Redis } from 'ioredis';
import { ConvLensError } from '../../engine/errors.js';
import { Engine } from '../../engine/runtime/engine.js';
import { nodeBackend } from '../../engine/runtime/node.js';
import { openSource, type DatasetSource } from '../../data/sources.js';
import { BUILTIN_DATA_ROOTS } from '../../data/fashion-mnist.js';
import { FileAccess } from '../../io/file-access.js';
import { findBuiltin } from '../../models/builtins.js';
import { loadModel, loadModelFile } from '../../models/load.js';
import type { Model } from '../../models/model.js';
import { throwIfCancelled } from '../../engine/jobs.js';
import { encodeChunk, scanChunk, type ChunkResult, type ScanSettings } from './chunk.js';
import type { ChunkPlan } from './scan.js';
import type { DatasetStore } from './store.js';
import { checkChunkJob, checkQueueName, chunkTooLarge, cleanText, decodeChunkResult, DEFAULT_RESULT_TTL_SECONDS, maxResultBytes, MAX_RESULT_TTL_SECONDS, reasonSentence, resultKeyOf, settingsFitModel, shown, WireRefusal, type ChunkJob } from './wire.js';

export type { ChunkJob } from './wire.js';

export interface DistributedOptions {
  /** redis://host:port[/db] */
  redis: string;
  /** queue name (default `convlens-scan`, where workers listen by default) */
  queue?: string;
  /** tries per chunk when a worker throws (default 3) */
  attempts?: number;
  /** how often the coordinator collects results, ms (default 200) */
  pollMs?: number;
  /** how long Redis may be unreachable before the scan stops with an error, ms (default 5000) */
  redisTimeoutMs?: number;
  /** how often the coordinator checks that Redis still holds the scan's jobs, ms (default 2000) */
  checkMs?: number;
  /** how long a finished chunk's result waits in Redis for a coordinator, s (default 3600) */
  resultTtlSeconds?: number;
  /** notes for the user (a paused queue resumed, no workers listening) */
  log?: (line: string) => void;
}

function checkUrl(url: string): void {
  if (!/^rediss?:\/\//.test(url)) throw new ConvLensError('INVALID_ARGUMENT', `"${url}" is not a Redis URL.`, 'Use redis://host:port, e.g. redis://127.0.0.1:6379.');
}

export const DEFAULT_QUEUE = 'convlens-scan';

/** A scan's id: the same store (folder, model, dataset, creation) gives the same id on a rerun. */
export function scanIdOf(store: DatasetStore): string {
  const m = store.manifest;
  return createHash('sha256').update(`${store.dir}|${m.model.fingerprint}|${m.dataset.fingerprint}|${m.created}`).digest('hex').slice(0, 16);
}

const jobIdOf = (scanId: string, chunk: number): string => `${scanId}-${chunk}`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * The coordinator's Redis connection: fails fast while Redis is away (no offline queue, one try
 * per command), reconnects for `timeoutMs`, then gives up; its errors are collected here instead
 * of being printed by ioredis on every reconnection attempt.
 */
class RedisLink {
  readonly client: Redis;
  private downSince: number | undefined = Date.now();
  private lastError: Error | undefined;
  private gaveUp = false;

  constructor(
    readonly url: string,
    private readonly timeoutMs: number,
  ) {
    checkUrl(url);
    this.client = new Redis(url, {
      lazyConnect: true,
      connectTimeout: Math.max(500, Math.min(timeoutMs, 10_000)),
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      retryStrategy: () => {
        this.downSince ??= Date.now();
        if (Date.now() - this.downSince >= this.timeoutMs) {
          this.gaveUp = true;
          return null;
        }
        return 250;
      },
    });
    this.client.on('error', (e: Error) => {
      this.lastError = e;
      this.downSince ??= Date.now();
    });
    this.client.on('close', () => (this.downSince ??= Date.now()));
    this.client.on('end', () => (this.gaveUp = true));
    this.client.on('ready', () => (this.downSince = undefined));
  }

  /** Connects, or throws the "cannot reach" error once `timeoutMs` has passed. */
  async connect(): Promise<void> {
    this.client.connect().catch(() => undefined); // the events below tell the outcome
    await new Promise<void>((resolve, reject) => {
      const check = setInterval(() => {
        if (this.client.status === 'ready') done();
        else if (this.gaveUp || this.client.status === 'end') done(this.error(`Cannot reach Redis at ${this.url}`, 'Start redis-server, or check --redis.'));
      }, 50);
      const done = (e?: ConvLensError): void => {
        clearInterval(check);
        if (e) reject(e);
        else resolve();
      };
    });
  }

  /** Whether the connection is away right now (reconnecting or given up). */
  get down(): boolean {
    return this.downSince !== undefined || this.client.status !== 'ready';
  }

  /** The error to stop with once Redis has been away too long, else undefined. */
  lost(hint: string): ConvLensError | undefined {
    const away = this.downSince !== undefined && Date.now() - this.downSince >= this.timeoutMs;
    return this.gaveUp || away ? this.error(`Lost the connection to Redis at ${this.url}`, hint) : undefined;
  }

  private error(what: string, hint: string): ConvLensError {
    const why = this.lastError ? `: ${this.lastError.message}` : '';
    return new ConvLensError('RUNTIME_FAILURE', `${what}${why} (tried for ${(this.timeoutMs / 1000).toFixed(0)} s).`, hint, { cause: this.lastError });
  }

  close(): void {
    this.client.disconnect();
  }
}

/**
 * The value for `key` from a cache of at most `max` entries (the oldest goes first), made by
 * `make` when missing. A failure is not kept: a file that appears later, or a Redis hiccup, does
 * not fail the jobs that follow. Jobs name what they need, so without a bound each model or
 * dataset ever named would stay loaded.
 */
async function cached<T>(cache: Map<string, Promise<T>>, key: string, max: number, make: () => T): Promise<T> {
  let p = cache.get(key);
  if (p) {
    cache.delete(key);
    cache.set(key, p);
    return p;
  }
  p = Promise.resolve().then(make);
  cache.set(key, p);
  while (cache.size > max) cache.delete(cache.keys().next().value!);
  p.catch(() => {
    if (cache.get(key) === p) cache.delete(key);
  });
  return p;
}

/** Runs `p`, giving up (quietly) after `ms`: closing a connection to a lost Redis can hang. */
const bounded = async (p: Promise<unknown>, ms: number): Promise<void> => {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p.catch(() => undefined), new Promise((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
};

/** Coordinates a distributed scan of `pending` chunks into `store` (see the file comment). */
export async function runDistributed(
  store: DatasetStore,
  pending: ChunkPlan[],
  settings: ScanSettings,
  o: DistributedOptions,
  job: { signal?: AbortSignal; modelPath?: string; onCommitted?: (images: number) => void },
): Promise<void> {
  const m = store.manifest;
  const name = o.queue ?? DEFAULT_QUEUE;
  checkQueueName(name);
  const scanId = scanIdOf(store);
  const attempts = o.attempts ?? 3;
  const ttl = o.resultTtlSeconds ?? DEFAULT_RESULT_TTL_SECONDS;
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > MAX_RESULT_TTL_SECONDS) throw new ConvLensError('INVALID_ARGUMENT', `A result's time to live in Redis must be 1 to ${MAX_RESULT_TTL_SECONDS} s, got ${ttl}.`, 'Leave resultTtlSeconds out for an hour.');
  // workers refuse larger chunks (wire.ts): say so before anything is queued
  const largest = pending.reduce((a, c) => Math.max(a, c.end - c.start), 0);
  const tooLarge = chunkTooLarge(settings, largest);
  if (tooLarge) throw new ConvLensError('INVALID_ARGUMENT', `A chunk of this scan is too large to hand over through Redis: ${tooLarge}.`, 'Use smaller chunks for a distributed scan (CLI: --chunk), or scan in one process (CLI: leave out --redis).');
  const link = new RedisLink(o.redis, o.redisTimeoutMs ?? 5000);
  const done = await store.doneChunks();
  const plan = new Map(pending.map((c) => [c.chunk, c]));
  const left = (): ChunkPlan[] => pending.filter((c) => !done.has(c.chunk));
  const stored = (): string => {
    const images = [...done].reduce((a, c) => a + (Math.min(m.dataset.count, (c + 1) * m.chunkSize) - c * m.chunkSize), 0);
    return `${images} of ${m.dataset.count} images are in the store`;
  };
  let queue: Queue<ChunkJob> | undefined;
  try {
    await link.connect();
    queue = new Queue<ChunkJob>(name, { connection: link.client, streams: { events: { maxLen: 1000 } } });
    // Errors of the shared connection are the link's to report; without a listener they would throw.
    queue.on('error', () => undefined);
    await queue.waitUntilReady();
    await throwIfFull(link.client, o.redis, stored);
    if (await queue.isPaused()) {
      await queue.resume();
      o.log?.(`the queue "${name}" on ${o.redis} was paused (an interrupted scan of an older ConvLens leaves it so, and it stalls every scan); resumed it`);
    }
    // Jobs of this scan left finished by an earlier run would block re-adding them (fixed ids).
    for (const c of left()) {
      const state = await queue.getJobState(jobIdOf(scanId, c.chunk));
      if (state === 'failed' || state === 'completed') await queue.remove(jobIdOf(scanId, c.chunk));
    }
    // chunks whose results an earlier run left in Redis need no job
    const waiting = await link.client.pipeline(left().map((c) => ['exists', resultKeyOf(name, scanId, c.chunk)])).exec();
    const toRun = left().filter((_, i) => waiting?.[i]?.[1] !== 1);
    const jobOf = (c: ChunkPlan): { name: string; data: ChunkJob; opts: JobsOptions } => ({
      name: 'chunk',
      data: {
        scanId,
        ...(job.modelPath ? { modelPath: job.modelPath } : {}),
        modelFingerprint: m.model.fingerprint,
        modelInput: m.model.input,
        dataset: m.dataset.spec,
        datasetFingerprint: m.dataset.fingerprint,
        settings,
        chunk: c.chunk,
        start: c.start,
        end: c.end,
        // (workers derive the key themselves; older ones read it from here)
        resultKey: resultKeyOf(name, scanId, c.chunk),
        resultTtl: ttl,
      },
      opts: { jobId: jobIdOf(scanId, c.chunk), attempts, backoff: { type: 'fixed', delay: 500 }, removeOnComplete: true, removeOnFail: { age: 24 * 3600 } },
    });
    await queue.addBulk(toRun.map(jobOf));
    // Chunks whose value in Redis was refused: how often, and which still need their job queued again.
    const refusedTimes = new Map<number, number>();
    const requeue = new Set<number>();
    let lastCheck = Date.now();
    let progressAt = Date.now();
    let warnedIdle = false;
    let pausedTimes = 0;
    while (left().length) {
      if (job.signal?.aborted) {
        // Withdraw this scan's queued jobs (running ones finish and leave results for a rerun).
        await bounded(Promise.all(left().map((c) => queue!.remove(jobIdOf(scanId, c.chunk)).catch(() => 0))), 2000);
        throwIfCancelled(job.signal, 'the distributed scan');
      }
      const lost = link.lost(`Start Redis again (or check --redis) and run the same command to continue (${stored()}).`);
      if (lost) throw lost;
      let results: ChunkResult[] = [];
      let keys: string[] = [];
      try {
        // A refused chunk's job is queued again once its old one is gone (a worker may still
        // hold it, and then leaves a result) and no value waits in its key.
        for (const chunk of [...requeue]) {
          const id = jobIdOf(scanId, chunk);
          // still queued or running: it leaves a result; failed: reported below
          const state = done.has(chunk) ? 'done' : await queue.getJobState(id);
          if (state !== 'done' && state !== 'unknown' && state !== 'completed') continue;
          requeue.delete(chunk);
          if (state === 'done' || (await link.client.exists(resultKeyOf(name, scanId, chunk))) === 1) continue;
          if (state === 'completed') await queue.remove(id);
          const again = jobOf(plan.get(chunk)!);
          await queue.add(again.name, again.data, again.opts);
        }
        const fetched = await fetchResults(link.client, left(), (c) => resultKeyOf(name, scanId, c), settings);
        ({ results, keys } = fetched);
        for (const r of fetched.refused) {
          const times = (refusedTimes.get(r.chunk) ?? 0) + 1;
          refusedTimes.set(r.chunk, times);
          const c = plan.get(r.chunk)!;
          // never committed, and deleted: the key is ours (a rerun would refuse the value again)
          await link.client.del(resultKeyOf(name, scanId, r.chunk));
          if (times >= attempts) {
            throw new ConvLensError(
              'RUNTIME_FAILURE',
              `The result of chunk ${c.chunk} (images ${c.start}..${c.end - 1}) in Redis was refused ${times} times; the last: ${r.reason}.`,
              `Something other than this scan's workers writes its keys on ${o.redis}: use a Redis or a queue of your own (CLI: --queue), then run the same command again to continue (${stored()}).`,
            );
          }
          o.log?.(`refused the value found in Redis for chunk ${c.chunk} (${r.reason}); the chunk is queued again`);
          requeue.add(r.chunk);
        }
        // (the newest failures first: the quick look; checkJobsExist finds ours behind a peer's)
        const failed = (await queue.getJobs(['failed'], 0, 63)).filter((j) => plan.has(j.data?.chunk) && j.id === jobIdOf(scanId, j.data.chunk) && !done.has(j.data.chunk));
        if (failed.length) await throwFailed(failed, plan.get(failed[0]!.data.chunk)!, stored);
        if (!results.length && Date.now() - lastCheck >= (o.checkMs ?? 2000)) {
          lastCheck = Date.now();
          await checkJobsExist(queue, link.client, left().filter((c) => !requeue.has(c.chunk)), scanId, (c) => resultKeyOf(name, scanId, c), o.redis, stored);
          // Nothing moves on a Redis over its maxmemory: it refuses the writes workers need.
          await throwIfFull(link.client, o.redis, stored);
          // Another client of the Redis paused the queue (a pause is global): nothing moves either.
          if (await queue.isPaused()) {
            if (++pausedTimes > 3) {
              throw new ConvLensError('RUNTIME_FAILURE', `The queue "${name}" on ${o.redis} keeps being paused by another client of that Redis (${pausedTimes} times during this scan).`, `Use a queue of your own (CLI: --queue), then run the same command again to continue (${stored()}).`);
            }
            await queue.resume();
            o.log?.(`the queue "${name}" on ${o.redis} was paused during the scan, by another client of that Redis (a pause stalls every scan on the queue); resumed it`);
          }
          if (!warnedIdle && Date.now() - progressAt > 15_000 && (await queue.getWorkersCount()) === 0) {
            warnedIdle = true;
            o.log?.(`no worker is listening on the queue "${name}" at ${o.redis}: start one with \`convlens index-worker --redis ${o.redis}${name === DEFAULT_QUEUE ? '' : ` --queue ${name}`}\``);
          }
        }
      } catch (e) {
        if (e instanceof ConvLensError) throw e;
        if (!link.down) throw new ConvLensError('RUNTIME_FAILURE', `Redis at ${o.redis} answered with an error: ${(e as Error).message}.`, `Check the Redis server, then run the same command again to continue (${stored()}).`, { cause: e });
        await sleep(250); // reconnecting: link.lost() decides when to give up
        continue;
      }
      if (results.length) {
        const fresh = await store.commit(results, done);
        progressAt = Date.now();
        job.onCommitted?.(fresh.reduce((a, r) => a + r.end - r.start, 0));
        // committed: the payloads can go (a lost DEL only leaves a key until its time to live)
        await link.client.del(...keys).catch(() => undefined);
      } else {
        await sleep(o.pollMs ?? 200);
      }
    }
    // Jobs of committed chunks still queued (their result came from an earlier run) go too.
    await bounded(Promise.all(pending.map((c) => queue!.remove(jobIdOf(scanId, c.chunk)).catch(() => 0))), 2000);
  } finally {
    if (queue) await bounded(queue.close(), 2000);
    link.close();
  }
}

/** The most result bytes read from Redis in one round (at least one result is read). */
const ROUND_BYTES = 256 * 1024 * 1024;

/** A chunk's value in Redis that is not a result of it, and why. */
interface RefusedResult {
  chunk: number;
  reason: string;
}

/**
 * Reads results that workers left for chunks still to commit, each checked before the store sees
 * it (`decodeChunkResult`). Anyone may write these keys, so a value's size is read first (STRLEN)
 * and at most the bytes a result of the chunk takes are read (GETRANGE: a value that grows in
 * between is read no further); at most ROUND_BYTES per round. Values that are not a result of
 * their chunk (too large, another type, torn, wrong lengths, non-finite numbers, another range)
 * come back as refused.
 */
async function fetchResults(client: Redis, left: ChunkPlan[], keyOf: (chunk: number) => string, settings: ScanSettings): Promise<{ results: ChunkResult[]; keys: string[]; refused: RefusedResult[] }> {
  const results: ChunkResult[] = [];
  const keys: string[] = [];
  const refused: RefusedResult[] = [];
  if (!left.length) return { results, keys, refused };
  const sizes = (await client.pipeline(left.map((c) => ['strlen', keyOf(c.chunk)])).exec()) ?? [];
  let bytes = 0;
  for (const [i, c] of left.entries()) {
    const [err, size] = sizes[i] ?? [null, 0];
    if (err) {
      if (/WRONGTYPE/.test(err.message)) refused.push({ chunk: c.chunk, reason: 'its key holds another type of value than a string' });
      else throw err;
      continue;
    }
    if (typeof size !== 'number' || size === 0) continue;
    const max = maxResultBytes(settings, c.end - c.start);
    if (size > max) {
      refused.push({ chunk: c.chunk, reason: `the value is ${size} bytes, more than the ${max} a result of this chunk takes` });
      continue;
    }
    if (results.length && bytes + size > ROUND_BYTES) break;
    const text = await client.getrange(keyOf(c.chunk), 0, max);
    if (text.length === 0) continue; // gone meanwhile (a rerun's coordinator took it)
    if (Buffer.byteLength(text) > max) {
      refused.push({ chunk: c.chunk, reason: `the value grew past the ${max} bytes a result of this chunk takes` });
      continue;
    }
    bytes += text.length;
    try {
      results.push(decodeChunkResult(text, c, settings));
      keys.push(keyOf(c.chunk));
    } catch (e) {
      if (!(e instanceof WireRefusal)) throw e;
      refused.push({ chunk: c.chunk, reason: e.message });
    }
  }
  return { results, keys, refused };
}

/** Stops the scan with the first failed job's reason; the jobs are removed, so that the rerun queues them again. */
async function throwFailed(failed: Job<ChunkJob>[], c: ChunkPlan, stored: () => string): Promise<never> {
  const f = failed[0]!;
  for (const j of failed) await j.remove().catch(() => undefined);
  throw new ConvLensError('RUNTIME_FAILURE', `Chunk ${c.chunk} (images ${c.start}..${c.end - 1}) failed ${f.attemptsMade === 1 ? 'once' : `${f.attemptsMade} times`}: ${reasonSentence(f.failedReason)}`, `Fix the cause and run the same command again to continue (${stored()}).`);
}

/**
 * Fails when Redis is over its `maxmemory`: it then refuses every write (with the `noeviction`
 * policy, or when nothing can be evicted), and workers can neither take a job nor leave a
 * result, so the scan would wait for ever. A Redis that does not answer INFO is not judged.
 */
async function throwIfFull(client: Redis, url: string, stored: () => string): Promise<void> {
  let info: string;
  try {
    info = await client.info('memory');
  } catch {
    return;
  }
  const field = (k: string): string | undefined => new RegExp(`^${k}:(.*)$`, 'm').exec(info)?.[1]?.trim();
  const used = Number(field('used_memory'));
  const max = Number(field('maxmemory'));
  if (!(max > 0 && used > max)) return;
  const mb = (b: number): string => `${(b / (1 << 20)).toFixed(1)} MB`;
  throw new ConvLensError(
    'RUNTIME_FAILURE',
    `Redis at ${url} is full: it holds ${mb(used)}, over its maxmemory of ${mb(max)} (policy ${field('maxmemory_policy') ?? 'unknown'}), and refuses the writes that workers need to take chunks and leave results.`,
    `Free memory in that Redis or raise its maxmemory (CONFIG SET maxmemory), then run the same command again to continue (${stored()}).`,
  );
}

/**
 * Fails when Redis no longer has the job of a chunk still to commit, and no result for it
 * either: flushed, or restarted without its data. The job's state is read before the result key,
 * because a worker stores the result before its job is completed and removed.
 */
async function checkJobsExist(queue: Queue<ChunkJob>, client: Redis, left: ChunkPlan[], scanId: string, keyOf: (chunk: number) => string, url: string, stored: () => string): Promise<void> {
  const missing: number[] = [];
  for (const c of left) {
    const state = await queue.getJobState(jobIdOf(scanId, c.chunk));
    if (state === 'failed') {
      // failed behind the 64 newest failures of the queue (a busy or hostile peer's)
      const job = await queue.getJob(jobIdOf(scanId, c.chunk));
      if (job) await throwFailed([job], c, stored);
    }
    if (state !== 'unknown') continue;
    if ((await client.exists(keyOf(c.chunk))) === 0) missing.push(c.chunk);
  }
  if (!missing.length) return;
  const list = missing.length > 8 ? `${missing.slice(0, 8).join(', ')}, ...` : missing.join(', ');
  throw new ConvLensError(
    'RUNTIME_FAILURE',
    `Redis at ${url} no longer has the jobs of ${missing.length} chunk${missing.length > 1 ? 's' : ''} (${list}) of this scan: it was flushed, or restarted without its data, while the scan waited.`,
    `Run the same command again: it queues the missing chunks anew (${stored()}).`,
  );
}

export interface WorkerOptions {
  redis: string;
  /** default `convlens-scan` */
  queue?: string;
  /**
   * Folders this worker reads models and datasets from (a job naming a path outside is refused);
   * the built-in model and datasets are read too. Default: the folder it was started in.
   */
  dataRoots?: readonly string[];
  /** chunks processed at once by this worker (default 1) */
  concurrency?: number;
  /** ms a job's lock lasts without renewal: a dead worker's job is handed on after this (default 30000) */
  lockMs?: number;
  threads?: number;
  /** stop after this many jobs (default: run until the signal) */
  maxJobs?: number;
  /** stop taking jobs and finish the running ones */
  signal?: AbortSignal;
  /** stop at once, abandoning running jobs (their locks expire and other workers take them) */
  abandon?: AbortSignal;
  log?: (line: string) => void;
}

/** Whether an error of a Redis client is its connection failing (not a command or a job's data). */
function isConnectionError(e: Error): boolean {
  const code = (e as NodeJS.ErrnoException).code ?? '';
  return /^(ECONN|ETIMEDOUT|EPIPE|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|ENETDOWN)/.test(code) || /Connection is closed|Stream isn't writeable|getaddrinfo|connect ETIMEDOUT|ECONNREFUSED|ECONNRESET/.test(e.message);
}

/**
 * A scan worker: takes chunk jobs from the queue until the signal fires. Models and datasets
 * are opened once per process and checked against the fingerprints in each job. While Redis is
 * away it keeps reconnecting, and says so once (and again when Redis is back).
 */
export async function runScanWorker(o: WorkerOptions): Promise<{ jobs: number }> {
  checkUrl(o.redis);
  const engine = new Engine(nodeBackend(), o.threads ? { threads: o.threads } : {});
  const models = new Map<string, Promise<Model>>();
  const sources = new Map<string, Promise<DatasetSource>>();
  const { isRecordedModel } = await import('./scan.js');
  // Jobs name the files to read, and anyone who can write to the Redis can queue a job: only
  // files inside the data folders are read (after symlinks), so a job cannot have a private
  // folder's pictures scanned into pixel vectors it then reads from Redis.
  const files = new FileAccess({
    roots: [...(o.dataRoots ?? [process.cwd()]), ...BUILTIN_DATA_ROOTS],
    reader: 'this scan worker',
    outsideHint: 'Start the worker with the folders it may read (CLI: --data-root <folder>, repeatable; its working folder when left out).',
  });
  const openModel = (path: string | undefined): Model => (path === undefined || findBuiltin(path) ? loadModel(path, engine) : loadModelFile(path, engine, (p, name) => files.read(p, name)));
  let jobs = 0;
  // Fault injection for the tests: CONVLENS_FAULT_KILL_ONCE=<chunk>:<marker file> makes the first
  // worker (of any process) that finishes that chunk die before reporting it.
  const fault = /^(\d+):(.+)$/.exec(process.env['CONVLENS_FAULT_KILL_ONCE'] ?? '');
  // CONVLENS_FAULT_CHUNK_MS=<ms> makes every chunk take at least that long, so that a test's
  // signal lands while chunks are still to come however fast the machine is.
  const chunkMs = Number(process.env['CONVLENS_FAULT_CHUNK_MS'] ?? 0) || 0;
  let stop: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  const queueName = o.queue ?? DEFAULT_QUEUE;
  checkQueueName(queueName);
  const retryStrategy = (times: number): number => Math.min(250 * times, 2000);
  let away = false;
  const onLost = (e: Error): void => {
    if (away) return;
    away = true;
    o.log?.(`lost Redis at ${o.redis} (${e.message}); reconnecting until it is back (Ctrl-C to stop)`);
  };
  const results = new Redis(o.redis, { maxRetriesPerRequest: null, retryStrategy });
  results.on('error', onLost);
  results.on('ready', () => {
    if (!away) return;
    away = false;
    o.log?.(`Redis at ${o.redis} is back`);
  });
  // A job that breaks the rules (wire.ts) fails at once, with the reason, and is not retried.
  const refuse = (id: string | undefined, e: unknown): Error => {
    if (!(e instanceof WireRefusal)) return e as Error;
    o.log?.(`refused job ${shown(id)}: ${e.message}`);
    return new UnrecoverableError(`refused by worker ${process.pid}: ${e.message}`);
  };
  // a path outside the data folders is a refusal too (another worker may have other folders, but
  // retrying here gives the same answer); other failures (a file missing here) are retried
  const outside = (field: string, e: unknown): unknown => (e instanceof ConvLensError && e.code === 'FORBIDDEN' ? new WireRefusal(field, `is refused: ${e.message} ${e.hint ?? ''}`.trim()) : e);
  const worker = new Worker<ChunkJob>(
    queueName,
    async (j) => {
      let d: ReturnType<typeof checkChunkJob>;
      try {
        d = checkChunkJob(j.data, queueName);
      } catch (e) {
        throw refuse(j.id, e);
      }
      const model = await cached(models, d.modelPath ?? '(built-in)', 2, () => openModel(d.modelPath)).catch((e: unknown) => {
        throw refuse(j.id, outside('modelPath', e));
      });
      if (!isRecordedModel({ fingerprint: d.modelFingerprint, ...(d.modelInput ? { input: d.modelInput } : {}) }, model)) throw new Error(`model ${d.modelPath ?? '(built-in)'} here is not the model the scan uses (fingerprint ${d.modelFingerprint})`);
      const source = await cached(sources, d.dataset, 4, () => openSource(d.dataset, { access: files })).catch((e: unknown) => {
        throw refuse(j.id, outside('dataset', e));
      });
      if (source.fingerprint !== d.datasetFingerprint) throw new Error(`dataset ${d.dataset} here differs from the one scanned (fingerprint ${d.datasetFingerprint})`);
      try {
        settingsFitModel(d.settings, model, source.count, d.start, d.end);
      } catch (e) {
        throw refuse(j.id, e);
      }
      const started = Date.now();
      const r = await scanChunk(model, source, d.settings, d.chunk, d.start, d.end, { worker: `${process.env['HOSTNAME'] ?? 'worker'}:${process.pid}` });
      if (chunkMs) await new Promise((resolve) => setTimeout(resolve, Math.max(0, started + chunkMs - Date.now())));
      if (fault && Number(fault[1]) === d.chunk) {
        try {
          writeFileSync(fault[2]!, `${process.pid}\n`, { flag: 'wx' });
          process.kill(process.pid, 'SIGKILL');
        } catch {
          // the marker exists: this chunk already killed a worker once
        }
      }
      // the result goes to its own key, not the job's return value (see the file comment)
      await results.set(d.resultKey, encodeChunk(r), 'EX', d.resultTtl);
      o.log?.(`chunk ${d.chunk} (images ${d.start}..${d.end - 1}) in ${r.ms.toFixed(0)} ms`);
      jobs++;
      if (o.maxJobs !== undefined && jobs >= o.maxJobs) stop();
    },
    {
      connection: { url: o.redis, maxRetriesPerRequest: null, retryStrategy },
      concurrency: o.concurrency ?? 1,
      lockDuration: o.lockMs ?? 30_000,
      stalledInterval: Math.max(500, Math.round((o.lockMs ?? 30_000) / 2)),
      maxStalledCount: 3,
      removeOnComplete: { count: 0 },
    },
  );
  // The worker's errors are not all a lost connection: a job whose stored data is not JSON (a
  // peer wrote it) fails BullMQ's own parsing. Reported as "lost Redis", that marked Redis away
  // for good: no word when it really went, and every later stop abandoned the running chunk.
  let lastError = '';
  worker.on('error', (e: Error) => {
    if (isConnectionError(e)) return onLost(e);
    const what = cleanText(e.message, 200);
    if (what === lastError) return;
    lastError = what;
    o.log?.(`could not take a job from the queue ${queueName} (${what}); it is left to BullMQ's stalled-job check, and this worker goes on`);
  });
  let force = false;
  o.signal?.addEventListener('abort', () => stop(), { once: true });
  o.abandon?.addEventListener(
    'abort',
    () => {
      force = true;
      stop();
    },
    { once: true },
  );
  if (o.signal?.aborted) stop();
  if (o.abandon?.aborted) {
    force = true;
    stop();
  }
  // (a worker started before Redis waits for it, and can be stopped meanwhile)
  void worker.waitUntilReady().then(
    () => o.log?.(`worker ${process.pid} listening on queue ${queueName}`),
    () => undefined,
  );
  await stopped;
  // A graceful close waits for the running chunk, whose result could not be stored with Redis
  // away: then the chunk is left to the next run.
  if (away) force = true;
  await bounded(worker.close(force), force ? 1000 : 60_000);
  results.disconnect();
  await engine.dispose();
  return { jobs };
}
