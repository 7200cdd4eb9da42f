// Distributed scans on BullMQ (Redis): the coordinator (`convlens index --redis URL`) puts one
// job per pending chunk on a queue; workers (`convlens index-worker --redis URL`, any number, on
// any machine that sees the model and dataset at the same paths) run scanChunk and return the
// chunk's result through Redis; the coordinator commits each result into the store, the only
// writer. Duplicates cannot happen: a chunk's job id is fixed (re-adding it is a no-op), and a
// result for a chunk already in the store is dropped. A worker that dies holding a job stops
// renewing its lock; BullMQ's stalled-job check hands the job to another worker (up to
// `maxStalledCount` times), and a job that throws is retried (`attempts`).
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { Queue, Worker, type Job } from 'bullmq';
import { ConvLensError } from '../../engine/errors.js';
import { Engine } from '../../engine/runtime/engine.js';
import { nodeBackend } from '../../engine/runtime/node.js';
import { openSource, type DatasetSource } from '../../data/sources.js';
import { loadModel } from '../../models/load.js';
import type { Model } from '../../models/model.js';
import { throwIfCancelled } from '../jobs.js';
import { decodeChunk, encodeChunk, scanChunk, type ChunkResult, type ScanSettings } from './chunk.js';
import type { ChunkPlan } from './scan.js';
import type { DatasetStore } from './store.js';

export interface DistributedOptions {
  /** redis://host:port[/db] */
  redis: string;
  /** queue name (default `convlens-scan`, where workers listen by default) */
  queue?: string;
  /** tries per chunk when a worker throws (default 3) */
  attempts?: number;
  /** how often the coordinator collects results, ms (default 200) */
  pollMs?: number;
}

/** What a worker needs to run one chunk (the job's data). */
export interface ChunkJob {
  /** which scan (store) the chunk belongs to: job ids and results are keyed by it */
  scanId: string;
  /** model file; undefined = the built-in model */
  modelPath?: string;
  modelFingerprint: string;
  dataset: string;
  datasetFingerprint: string;
  settings: ScanSettings;
  chunk: number;
  start: number;
  end: number;
}

export function connectionOf(url: string): { url: string; maxRetriesPerRequest: null } {
  if (!/^rediss?:\/\//.test(url)) throw new ConvLensError('INVALID_ARGUMENT', `"${url}" is not a Redis URL.`, 'Use redis://host:port, e.g. redis://127.0.0.1:6379.');
  return { url, maxRetriesPerRequest: null };
}

export const DEFAULT_QUEUE = 'convlens-scan';

/** A scan's id: the same store (folder, model, dataset, creation) gives the same id on a rerun. */
export function scanIdOf(store: DatasetStore): string {
  const m = store.manifest;
  return createHash('sha256').update(`${store.dir}|${m.model.fingerprint}|${m.dataset.fingerprint}|${m.created}`).digest('hex').slice(0, 16);
}

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
  const scanId = scanIdOf(store);
  const queue = new Queue<ChunkJob, string>(name, { connection: connectionOf(o.redis) });
  const attempts = o.attempts ?? 3;
  try {
    await queue.waitUntilReady().catch((e: unknown) => {
      throw new ConvLensError('RUNTIME_FAILURE', `Cannot reach Redis at ${o.redis}: ${(e as Error).message}.`, 'Start redis-server, or check --redis.', { cause: e });
    });
    const data = (c: ChunkPlan): ChunkJob => ({
      scanId,
      ...(job.modelPath ? { modelPath: job.modelPath } : {}),
      modelFingerprint: m.model.fingerprint,
      dataset: m.dataset.spec,
      datasetFingerprint: m.dataset.fingerprint,
      settings,
      chunk: c.chunk,
      start: c.start,
      end: c.end,
    });
    await queue.addBulk(
      pending.map((c) => ({
        name: 'chunk',
        data: data(c),
        opts: { jobId: `${scanId}-${c.chunk}`, attempts, backoff: { type: 'fixed', delay: 500 }, removeOnComplete: false, removeOnFail: false },
      })),
    );
    const done = await store.doneChunks();
    const wanted = new Set(pending.map((c) => c.chunk));
    while ([...wanted].some((c) => !done.has(c))) {
      if (job.signal?.aborted) {
        // Stop handing out work; results of jobs already running stay in Redis for a rerun.
        await queue.pause();
        throwIfCancelled(job.signal, 'the distributed scan');
      }
      const completed = await queue.getJobs(['completed'], 0, 63, true);
      const results: ChunkResult[] = [];
      const finished: Job<ChunkJob, string>[] = [];
      for (const j of completed) {
        if (j.data?.scanId !== scanId || !wanted.has(j.data.chunk)) continue;
        finished.push(j);
        if (!done.has(j.data.chunk) && typeof j.returnvalue === 'string') results.push(decodeChunk(j.returnvalue));
      }
      if (results.length) {
        const fresh = await store.commit(results, done);
        job.onCommitted?.(fresh.reduce((a, r) => a + r.end - r.start, 0));
      }
      for (const j of finished) await j.remove().catch(() => undefined);
      const failed = (await queue.getJobs(['failed'], 0, 63)).filter((j) => j.data?.scanId === scanId && wanted.has(j.data.chunk) && !done.has(j.data.chunk));
      if (failed.length) {
        const f = failed[0]!;
        throw new ConvLensError('RUNTIME_FAILURE', `Chunk ${f.data.chunk} (images ${f.data.start}..${f.data.end - 1}) failed ${f.attemptsMade} times: ${f.failedReason}.`, 'Fix the cause and run the same command again: finished chunks are kept; remove the failed job with `redis-cli DEL` or use another --queue.');
      }
      if (!results.length) await new Promise((r) => setTimeout(r, o.pollMs ?? 200));
    }
  } finally {
    await queue.close();
  }
}

export interface WorkerOptions {
  redis: string;
  /** default `convlens-scan` */
  queue?: string;
  /** chunks processed at once by this worker (default 1) */
  concurrency?: number;
  /** ms a job's lock lasts without renewal: a dead worker's job is handed on after this (default 30000) */
  lockMs?: number;
  threads?: number;
  /** stop after this many jobs (default: run until the signal) */
  maxJobs?: number;
  signal?: AbortSignal;
  log?: (line: string) => void;
}

/**
 * A scan worker: takes chunk jobs from the queue until the signal fires. Models and datasets
 * are opened once per process and checked against the fingerprints in each job.
 */
export async function runScanWorker(o: WorkerOptions): Promise<{ jobs: number }> {
  const engine = new Engine(nodeBackend(), o.threads ? { threads: o.threads } : {});
  const models = new Map<string, Promise<Model>>();
  const sources = new Map<string, DatasetSource>();
  const { modelFingerprint } = await import('./scan.js');
  let jobs = 0;
  // Fault injection for the tests: CONVLENS_FAULT_KILL_ONCE=<chunk>:<marker file> makes the first
  // worker (of any process) that finishes that chunk die before reporting it.
  const fault = /^(\d+):(.+)$/.exec(process.env['CONVLENS_FAULT_KILL_ONCE'] ?? '');
  let stop: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  const queueName = o.queue ?? DEFAULT_QUEUE;
  const worker = new Worker<ChunkJob, string>(
    queueName,
    async (j) => {
      const d = j.data;
      const key = d.modelPath ?? '(built-in)';
      let mp = models.get(key);
      if (!mp) {
        mp = Promise.resolve().then(() => loadModel(d.modelPath, engine));
        models.set(key, mp);
      }
      const model = await mp;
      if (modelFingerprint(model) !== d.modelFingerprint) throw new Error(`model ${key} here is not the model the scan uses (fingerprint ${d.modelFingerprint})`);
      let source = sources.get(d.dataset);
      if (!source) sources.set(d.dataset, (source = openSource(d.dataset)));
      if (source.fingerprint !== d.datasetFingerprint) throw new Error(`dataset ${d.dataset} here differs from the one scanned (fingerprint ${d.datasetFingerprint})`);
      const r = await scanChunk(model, source, d.settings, d.chunk, d.start, d.end, { worker: `${process.env['HOSTNAME'] ?? 'worker'}:${process.pid}` });
      if (fault && Number(fault[1]) === d.chunk) {
        try {
          writeFileSync(fault[2]!, `${process.pid}\n`, { flag: 'wx' });
          process.kill(process.pid, 'SIGKILL');
        } catch {
          // the marker exists: this chunk already killed a worker once
        }
      }
      o.log?.(`chunk ${d.chunk} (images ${d.start}..${d.end - 1}) in ${r.ms.toFixed(0)} ms`);
      jobs++;
      if (o.maxJobs !== undefined && jobs >= o.maxJobs) stop();
      return encodeChunk(r);
    },
    {
      connection: connectionOf(o.redis),
      concurrency: o.concurrency ?? 1,
      lockDuration: o.lockMs ?? 30_000,
      stalledInterval: Math.max(500, Math.round((o.lockMs ?? 30_000) / 2)),
      maxStalledCount: 3,
    },
  );
  worker.on('error', (e) => o.log?.(`worker error: ${e.message}`));
  await worker.waitUntilReady();
  o.log?.(`worker ${process.pid} listening on queue ${queueName}`);
  o.signal?.addEventListener('abort', () => stop(), { once: true });
  if (o.signal?.aborted) stop();
  await stopped;
  await worker.close();
  await engine.dispose();
  return { jobs };
}
