import type { Command } from 'commander';
import { createStudio } from '../../server/app.js';
import { createEngine, portNumber, positiveInt, type CommonOptions } from '../common.js';

export function define(command: Command): void {
  command
    .option('-m, --model <file>', 'also open this ONNX model (the built-in one is always there)')
    .option('-p, --port <port>', 'port (0 picks a free one)', portNumber, 7860)
    .option('--host <host>', 'interface to listen on (loopback by default: the studio has no authentication)', '127.0.0.1')
    .option('--threads <n>', 'ONNX Runtime intra-op threads', positiveInt)
    .action(async (opts: CommonOptions & { port: number; host: string }) => {
      const engine = createEngine(opts);
      const studio = await createStudio({ engine, ...(opts.model ? { modelPath: opts.model } : {}) });
      for (const m of studio.models.list()) if (m.error) process.stderr.write(`warning: model "${m.name}" cannot be used: ${m.error.message}\n`);
      const address = await studio.app.listen({ port: opts.port, host: opts.host });
      process.stdout.write(`ConvLens studio: ${address.replace('127.0.0.1', 'localhost')}\n`);
      const stop = async (): Promise<void> => {
        await studio.app.close();
        await engine.dispose();
        process.exit(0);
      };
      process.once('SIGINT', () => void stop());
      process.once('SIGTERM', () => void stop());
    });
}
