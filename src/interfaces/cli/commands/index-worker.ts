import { statSync } from 'node:fs';
import type { Command } from 'commander';
import { ConvLensError } from '../../../engine/errors.js';
import { type CommonOptions, folderPath, intIn, MAX_THREADS, positiveInt, queueName, redisUrl, threadCount } from '../common.js';

export function define(command: Command): void {
  command
    .option('--threads <n>', `ONNX Runtime intra-op threads (1-${MAX_THREADS}; default: one per CPU)`, threadCount)
    .option('-q, --quiet', 'no log lines')
    .requiredOption('--redis <url>', 'Redis URL, e.g. redis://127.0.0.1:6379', redisUrl)
    .option('--queue <name>', 'BullMQ queue name', queueName, 'convlens-scan')
    .option('--concurrency <n>', 'chunks at once (1-64)', intIn(1, 64), 1)
    .option('--lock-ms <ms>', 'job lock time: a dead worker\'s chunk goes to another worker after this', positiveInt, 30000)
    .option('--max-jobs <n>', 'exit after n chunks', positiveInt)
    .option('--data-root <dir>', 'a folder jobs may read models and datasets from (repeatable; default: the current folder; the built-in model and datasets always)', (v: string, all: string[]) => [...all, folderPath(v)], [] as string[])
    .action(async (opts: CommonOptions & { redis: string; queue: string; concurrency: number; lockMs: number; maxJobs?: number; dataRoot: string[] }) => {
      for (const root of opts.dataRoot) {
        if (!statSync(root, { throwIfNoEntry: false })?.isDirectory()) throw new ConvLensError('INVALID_ARGUMENT', `--data-root "${root}" is not a folder.`, 'Give an existing folder that holds the models and datasets the scans read.');
      }
      // heavy modules (LanceDB, BullMQ, ...) load only when the command runs
      const { runScanWorker } = await import('../../../methods/dataset/distributed.js');
      const controller = new AbortController();
      const abandon = new AbortController();
      // first signal: finish the running chunk; a second one: leave it (its lock expires)
      const stop = (): void => (controller.signal.aborted ? abandon : controller).abort();
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
      // Started by `convlens index --spawn-workers`: the IPC channel closes when that process
      // ends, however it ends; a worker of no coordinator stops at once.
      if (process.channel) process.on('disconnect', () => abandon.abort());
      const log = opts.quiet ? undefined : (line: string): void => void process.stderr.write(`index-worker: ${line}\n`);
      const r = await runScanWorker({
        redis: opts.redis,
        queue: opts.queue,
        concurrency: opts.concurrency,
        lockMs: opts.lockMs,
        ...(opts.dataRoot.length ? { dataRoots: opts.dataRoot } : {}),
        ...(opts.threads ? { threads: opts.threads } : {}),
        ...(opts.maxJobs ? { maxJobs: opts.maxJobs } : {}),
        signal: controller.signal,
        abandon: abandon.signal,
        ...(log ? { log } : {}),
      });
      log?.(`stopped after ${r.jobs} chunks`);
      process.exit(0);
    });
}
