import { spawn, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { ConvLensError } from '../../../engine/errors.js';
import { findBuiltin } from '../../../models/builtins.js';
import { withHugePages } from '../../huge-pages.js';
import { cliJob, type CommonOptions, folderPath, intIn, openModel, positiveInt, queueName, redisUrl, warner, withCommon } from '../common.js';
import { DEFAULT_STORE } from '../output.js';
import { onlyWith, optionRules } from '../option-rules.js';

interface IndexOptions extends CommonOptions {
  layers?: string;
  store: string;
  k: number;
  pool: string;
  chunk: number;
  commitEvery?: number;
  batch: number;
  limit?: number;
  split?: string;
  fresh?: boolean;
  redis?: string;
  queue?: string;
  spawnWorkers?: number;
  json?: boolean;
}


/**
 * Stops spawned workers: each finishes its running chunk (its result stays in Redis for the
 * next run) for up to 5 s, then is killed.
 */
async function stopWorkers(workers: ChildProcess[]): Promise<void> {
  const running = workers.filter((w) => w.exitCode === null && w.signalCode === null);
  const exited = running.map((w) => new Promise<void>((resolve) => w.once('exit', () => resolve())));
  for (const w of running) w.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([Promise.all(exited), new Promise((r) => (timer = setTimeout(r, 5000)))]);
  clearTimeout(timer);
  for (const w of running) if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
}

export function define(command: Command): void {
  optionRules(command, [...onlyWith({ when: 'with --redis', add: 'add --redis redis://127.0.0.1:6379 (start redis-server first)' }, (opts) => opts['redis'] !== undefined, 'queue', 'spawnWorkers')]);
  withCommon(
    command
      .argument('<dataset>', 'a folder of images (sub-folders = classes), an IDX file or folder, a text file listing images, or fashion-mnist[:train|test]'),
  )
    .option('-l, --layers <names>', 'layers to record, comma-separated (default: the model profile\'s feature layers: a mid layer and the last spatial one)')
    .option('-s, --store <dir>', 'store folder (LanceDB); an existing store of the same scan is resumed', folderPath, DEFAULT_STORE)
    .option('-k, --top <k>', 'top-k images kept per channel (1-1000)', intIn(1, 1000), 16)
    .option('--pool <how>', 'feature vector of a feature map: avg or max over positions', 'avg')
    .option('--chunk <n>', 'images per chunk (the unit of commit, resume and distribution)', positiveInt, 1024)
    .option('--commit-every <n>', 'images gathered before each commit to the store (default: max(chunk, 8192)); a crash loses at most this many', positiveInt)
    .option('--batch <n>', 'images per engine run (1-4096)', intIn(1, 4096), 256)
    .option('--limit <n>', 'scan only the first n images', positiveInt)
    .option('--split <name>', 'train or test, for IDX folders', 'train')
    .option('--fresh', 'delete an existing store and start over')
    .option('--redis <url>', 'distribute the chunks over workers on this Redis (BullMQ), e.g. redis://127.0.0.1:6379', redisUrl)
    .option('--queue <name>', 'BullMQ queue name (default convlens-scan)', queueName)
    .option('--spawn-workers <n>', 'with --redis: also start n local worker processes (1-64)', intIn(1, 64))
    .option('--json', 'print the report as JSON')
    .action(async (dataset: string, opts: IndexOptions & { top: number }) => {
      // heavy modules (LanceDB, BullMQ, ...) load only when the command runs
      const { openSource } = await import('../../../data/sources.js');
      const { indexDataset } = await import('../../../methods/dataset/scan.js');
      if (opts.pool !== 'avg' && opts.pool !== 'max') throw new ConvLensError('INVALID_ARGUMENT', `Unknown pooling "${opts.pool}".`, 'Use --pool avg or --pool max.');
      const { checkSplit } = await import('../../../data/fashion-mnist.js');
      const split = checkSplit(opts.split ?? 'train');
      const { engine, model } = openModel(opts);
      if (!model.profile.input.fixed) throw new ConvLensError('MODEL_UNSUPPORTED', `Model "${model.name}" takes images of any size; the dataset lens scans models with a fixed input size.`, 'Export the model with a fixed input size (e.g. [N, 3, 224, 224]).');
      const source = openSource(dataset, { split });
      const layers = opts.layers ? opts.layers.split(',').map((l) => l.trim()).filter(Boolean) : model.profile.featureLayers;
      const note = warner(opts, 'note');
      const workers: ChildProcess[] = [];
      if (opts.spawnWorkers) {
        const cli = fileURLToPath(new URL('../../../../bin/convlens.js', import.meta.url));
        // Started anyway, so huge pages cost the workers nothing (src/interfaces/huge-pages.ts).
        // Each takes its share of the CPUs unless told otherwise: n workers of one thread per CPU
        // each would keep n times as many threads busy as there are CPUs.
        const threads = opts.threads ?? Math.max(1, Math.floor(availableParallelism() / opts.spawnWorkers));
        // They read only what this scan reads: the dataset's folders and the model's (see index-worker).
        const roots = [...source.folders, ...(opts.model && !findBuiltin(opts.model) ? [dirname(resolve(opts.model))] : [])];
        for (let i = 0; i < opts.spawnWorkers; i++) {
          // The IPC channel ties each worker to this process: it closes when this process ends in
          // any way (SIGKILL included), and the worker then stops (see index-worker).
          const w = spawn(process.execPath, [cli, 'index-worker', '--redis', opts.redis!, ...(opts.queue ? ['--queue', opts.queue] : []), ...roots.flatMap((r) => ['--data-root', r]), '--threads', String(threads), '--quiet'], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], env: withHugePages(process.env) ?? process.env });
          w.on('error', () => undefined);
          workers.push(w);
        }
        if (!opts.quiet) process.stderr.write(`started ${workers.length} local worker${workers.length > 1 ? 's' : ''} (pid ${workers.map((w) => w.pid).join(', ')})\n`);
      }
      const job = cliJob(opts, 'index', { terminate: true });
      let report;
      try {
        report = await indexDataset(model, source, opts.store, {
          layers,
          k: opts.top,
          pool: opts.pool as 'avg' | 'max',
          chunkSize: opts.chunk,
          batchSize: opts.batch,
          ...(opts.commitEvery ? { commitImages: opts.commitEvery } : {}),
          ...(opts.limit ? { limit: opts.limit } : {}),
          ...(opts.fresh ? { fresh: true } : {}),
          ...(opts.model ? { modelPath: opts.model } : {}),
          ...(opts.redis ? { distributed: { redis: opts.redis, ...(opts.queue ? { queue: opts.queue } : {}), log: note } } : {}),
          ...job,
        });
      } finally {
        job.done();
        await stopWorkers(workers);
        await engine.dispose();
      }
      for (const n of report.notes) note(n);
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        return;
      }
      const lines = [
        `store ${report.store}: ${report.count} images of ${source.description}, layers ${report.layers.map((l) => model.layerLabel(l)).join(', ')}`,
        report.scanned ? `scanned ${report.scanned} images in ${report.seconds.toFixed(1)} s (${report.imagesPerSecond.toFixed(0)} images/s, index building included)` : 'nothing to scan: the store is complete',
      ];
      if (report.resumed) lines.push(`resumed: ${report.resumed} images were already in the store`);
      lines.push(report.indexed.length ? `vector indexes: ${report.indexed.join(', ')}` : 'vector indexes: none (small tables are searched flat)');
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
