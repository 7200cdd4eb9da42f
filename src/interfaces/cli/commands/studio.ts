import { hostname } from 'node:os';
import type { Command } from 'commander';
import { ConvLensError } from '../../../engine/errors.js';
import { findBuiltin } from '../../../models/builtins.js';
import { createStudio } from '../../server/app.js';
import { isLoopbackHost } from '../../server/access.js';
import { type CommonOptions, createEngine, MAX_THREADS, intIn, numberIn, portNumber, threadCount } from '../common.js';

/** How long shutting down may take before the process exits anyway (a request that never ends, a stuck stream). */
const SHUTDOWN_MS = 3000;

export function define(command: Command): void {
  command
    .option('-m, --model <file>', 'also open this ONNX model (the built-in models are always there)')
    .option('-p, --port <port>', 'port (0 picks a free one)', portNumber, 7860)
    .option('--host <host>', 'interface to listen on (loopback by default; any other needs the access token the studio prints)', '127.0.0.1')
    .option('--data <dir>', 'a folder the studio may read datasets and models from (repeatable; samples/, data/ and out/uploads always)', (v: string, all: string[]) => [...all, v], [] as string[])
    .option('--threads <n>', `ONNX Runtime intra-op threads per worker process (1-${MAX_THREADS}; default: one per CPU)`, threadCount)
    .option('--workers <n>', 'job worker processes (1-64; default: 1 per 2 cores, up to 4); more jobs wait in a queue', intIn(1, 64))
    .option('--memory <GB>', 'memory all worker processes may hold together (0.5-1024; default: a quarter of the machine, 1 to 4 GB)', numberIn(0.5, 1024))
    .action(async (opts: CommonOptions & { port: number; host: string; data: string[]; workers?: number; memory?: number }) => {
      const engine = createEngine(opts);
      const studio = await createStudio({
        engine,
        host: opts.host,
        dataRoots: opts.data,
        ...(opts.model && !findBuiltin(opts.model) ? { modelPath: opts.model } : {}), // built-ins are always listed
        ...(opts.workers ? { jobWorkers: opts.workers } : {}),
        ...(opts.memory ? { workerMemoryBytes: Math.round(opts.memory * 2 ** 30) } : {}),
      });
      for (const m of studio.models.list()) if (m.error) process.stderr.write(`warning: model "${m.name}" cannot be used: ${m.error.message}\n`);
      let address: string;
      try {
        address = await studio.app.listen({ port: opts.port, host: opts.host });
      } catch (e) {
        await studio.pool.close();
        await engine.dispose();
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EADDRINUSE') throw new ConvLensError('INVALID_ARGUMENT', `Port ${opts.port} on ${opts.host} is already in use (another studio or program listens there).`, 'Pass --port <n> for another port, or --port 0 to pick a free one.');
        if (code === 'EACCES') throw new ConvLensError('INVALID_ARGUMENT', `Not allowed to listen on port ${opts.port} of ${opts.host}.`, 'Ports below 1024 need administrator rights: pass --port 7860, or --port 0 to pick a free one.');
        if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new ConvLensError('INVALID_ARGUMENT', `${opts.host} is not an address of this machine.`, 'Pass --host 127.0.0.1 (the default), or one of this machine\'s addresses.');
        throw e;
      }
      if (!isLoopbackHost(opts.host)) {
        process.stderr.write(
          `warning: the studio listens on ${opts.host}, beyond this machine. Its API has no user accounts: anyone with the token below can\n` +
            '  read the data folders, run models and use this machine\'s CPU. Share the URL only with people you trust (see docs/security.md).\n',
        );
      }
      let shown = address.replace('127.0.0.1', 'localhost');
      if (!isLoopbackHost(opts.host)) {
        // The address others open: the machine's name when listening everywhere, else the host given.
        const port = (studio.app.server.address() as { port: number }).port;
        const name = ['0.0.0.0', '::'].includes(opts.host) ? hostname() : opts.host.includes(':') ? `[${opts.host}]` : opts.host;
        shown = `http://${name}:${port}`;
      }
      process.stdout.write(`ConvLens studio: ${studio.access.url(shown)}\n`);
      // The first prediction need not wait for a worker process to start.
      studio.pool.warm('interactive');
      // Shutting down always ends, mid-job too: workers are killed first (their jobs end as
      // cancelled, which ends their event streams), then the server closes; past SHUTDOWN_MS,
      // or on a second signal, the process exits regardless.
      let stopping = false;
      const stop = async (): Promise<void> => {
        if (stopping) process.exit(1);
        stopping = true;
        setTimeout(() => process.exit(0), SHUTDOWN_MS).unref();
        studio.jobs.cancelAll();
        await studio.pool.close();
        await studio.app.close();
        await engine.dispose();
        process.exit(0);
      };
      process.on('SIGINT', () => void stop());
      process.on('SIGTERM', () => void stop());
      // The terminal it runs in was closed: stop as cleanly (Node's default for SIGHUP exits at once,
      // leaving the uploads' folder behind).
      process.on('SIGHUP', () => void stop());
    });
}
