import { InvalidArgumentError, type Command } from 'commander';
import cliProgress from 'cli-progress';
import { Engine } from '../../engine/runtime/engine.js';
import { nodeBackend } from '../../engine/runtime/node.js';
import { loadModel } from '../../models/load.js';
import type { Model } from '../../models/model.js';
import type { JobOptions, Progress } from '../../methods/jobs.js';

export interface CommonOptions {
  model?: string;
  threads?: number;
  quiet?: boolean;
}

export const positiveInt = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer');
  return n;
};

export const positiveNumber = (v: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number');
  return n;
};

export const nonNegative = (v: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a number >= 0');
  return n;
};

export const nonNegativeInt = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected an integer >= 0');
  return n;
};

export const portNumber = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port number, 0 to 65535 (0 picks a free one)');
  return n;
};

/** A probability that must leave something over, e.g. a validation split or a label-dropping rate. */
export const fraction = (v: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || n >= 1) throw new InvalidArgumentError('expected a fraction in [0, 1)');
  return n;
};

export const intList = (v: string): number[] => {
  const nums = v.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  if (!nums.length || nums.some((n) => !Number.isInteger(n) || n < 0)) throw new InvalidArgumentError('expected a comma-separated list of integers >= 0');
  return nums;
};

export const numberList = (v: string): number[] => {
  const nums = v.split(',').map((s) => Number(s.trim()));
  if (!nums.length || nums.some((n) => !Number.isFinite(n) || n < 0)) throw new InvalidArgumentError('expected a comma-separated list of numbers >= 0');
  return nums;
};

/** For repeatable options that also take comma-separated lists: `--style a.png --style b.png` or `--style a.png,b.png`. */
export const commaList = (v: string, prev: string[] = []): string[] => [...prev, ...v.split(',').filter(Boolean)];

/** Adds the options every command shares. */
export function withCommon(c: Command): Command {
  return c
    .option('-m, --model <file>', 'ONNX model (default: the built-in Fashion-MNIST CNN)')
    .option('--threads <n>', 'ONNX Runtime intra-op threads', positiveInt)
    .option('-q, --quiet', 'no warnings or progress bars');
}

/** Prints a warning (or note) line to stderr unless --quiet. */
export const warner =
  (opts: CommonOptions, kind: 'warning' | 'note' = 'warning') =>
  (text: string): void => {
    if (!opts.quiet) process.stderr.write(`${kind}: ${text}\n`);
  };

/** Engine + model for a command, printing metadata warnings to stderr. */
export function openModel(opts: CommonOptions): { engine: Engine; model: Model } {
  const engine = createEngine(opts);
  const model = loadModel(opts.model, engine);
  if (!opts.quiet) for (const w of model.meta.warnings) process.stderr.write(`warning: ${w}\n`);
  return { engine, model };
}

export function createEngine(opts: CommonOptions): Engine {
  return new Engine(nodeBackend(), opts.threads ? { threads: opts.threads } : {});
}

/**
 * Job options for a CLI run: a progress bar on stderr (unless quiet or not a terminal) and
 * Ctrl-C as cancellation (a second Ctrl-C exits at once). With `terminate`, SIGTERM cancels the
 * same way, for jobs that must clean up (locks, worker processes, queued jobs) when stopped.
 */
export type CliJob = JobOptions & { done(): void };

export function cliJob(opts: CommonOptions, label: string, o: { terminate?: boolean } = {}): CliJob {
  const controller = new AbortController();
  const onSigint = (): void => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write('\nCancelling (Ctrl-C again to quit now)...\n');
    controller.abort();
  };
  const onSigterm = (): void => {
    if (controller.signal.aborted) process.exit(143);
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  if (o.terminate) process.on('SIGTERM', onSigterm);
  const show = !opts.quiet && process.stderr.isTTY;
  const bar = show
    ? new cliProgress.SingleBar(
        { format: `${label} [{bar}] {percentage}% | {value}/{total} | ETA {eta_formatted} | {info}`, hideCursor: true, stream: process.stderr, etaBuffer: 20 },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  let started = false;
  return {
    signal: controller.signal,
    onProgress(p: Progress) {
      if (!bar) return;
      const info = [p.phase, ...Object.entries(p.metrics ?? {}).map(([k, v]) => `${k} ${formatMetric(v)}`)].filter(Boolean).join(' ');
      if (!started) {
        bar.start(p.total, p.done, { info });
        started = true;
      } else {
        bar.setTotal(p.total);
        bar.update(p.done, { info });
      }
    },
    done() {
      if (started) bar?.stop();
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigterm);
    },
  };
}

function formatMetric(v: number): string {
  return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toFixed(4);
}
