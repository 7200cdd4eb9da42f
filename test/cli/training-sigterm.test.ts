// SIGTERM (kill, a scheduler's stop, a container shutting down) stops a training run as Ctrl-C
// does: it saves a checkpoint at the step it reached, says how to resume and frees its lock files.
// It used to kill the process outright: the steps since the last periodic checkpoint were lost, no
// word was said, and the .lock files stayed behind.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, ROOT } from '../support/cli.js';
import { loadCheckpoint } from '../../src/training/checkpoint.js';
import { checkpointProgress } from '../../src/training/trainer.js';
import { tempFolder } from '../support/temp-folder.js';

const tmp = tempFolder('convlens-train-sigterm-');
const data = join(ROOT, 'data', 'fashion-mnist-subset');
const samples = join(ROOT, 'samples');

/** Starts the CLI, lets it train until its stderr matches `started` (plus a moment), then sends SIGTERM. */
async function terminateWhileTraining(args: string[], started: RegExp): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string; ms: number }> {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => child.once('exit', (code, signal) => done({ code, signal })));
  const deadline = Date.now() + 60_000;
  while (!started.test(stderr) && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 700)); // some steps past any save at the start
  const t0 = Date.now();
  child.kill('SIGTERM');
  const r = await exited;
  return { ...r, stderr, ms: Date.now() - t0 };
}

function expectStoppedCleanly(r: { code: number | null; signal: NodeJS.Signals | null; stderr: string; ms: number }, dir: string, ckpt: string): void {
  expect(r.signal, r.stderr).toBeNull();
  expect(r.code, r.stderr).toBe(130);
  expect(r.ms).toBeLessThan(5000);
  expect(r.stderr).toMatch(/Training stopped at step (\d+) of \d+/);
  expect(r.stderr).toContain(`continue with --resume ${ckpt}`);
  const step = Number(/Training stopped at step (\d+)/.exec(r.stderr)![1]);
  expect(checkpointProgress(loadCheckpoint(ckpt))!.step).toBe(step);
  // no lock or temporary file is left behind
  expect(readdirSync(dir).filter((f) => f.endsWith('.lock') || f.endsWith('.tmp'))).toEqual([]);
}

describe('SIGTERM stops training runs as Ctrl-C does', () => {
  it('convlens train saves a checkpoint at the step reached and frees its locks', async () => {
    const dir = join(tmp, 'train');
    const out = join(dir, 'm.onnx');
    const r = await terminateWhileTraining(['train', '--data', data, '--epochs', '50', '--batch', '16', '--checkpoint-every', '100000', '--no-test', '--threads', '1', '--out', out], /^training /m);
    expectStoppedCleanly(r, dir, `${out}.ckpt`);
    expect(existsSync(out)).toBe(false);
  }, 90_000);

  it('convlens diffuse train does too', async () => {
    const dir = join(tmp, 'diffuse');
    const out = join(dir, 'd.onnx');
    const r = await terminateWhileTraining(['diffuse', 'train', '--data', data, '--limit', '200', '--widths', '8,16', '--batch', '8', '--epochs', '500', '--checkpoint-every', '100000', '--threads', '1', '-o', out], /^training /m);
    expectStoppedCleanly(r, dir, `${out}.ckpt`);
  }, 90_000);

  it('convlens style-train does too', async () => {
    const dir = join(tmp, 'style');
    const ckpt = join(dir, 's.ckpt');
    const r = await terminateWhileTraining(
      ['style-train', '--style', join(samples, 'textures', 'brick.png'), '--content', join(samples, 'photos', 'chelsea.png'), '--size', '32', '--steps', '100000', '--checkpoint-every', '100000', '--threads', '1', '--checkpoint', ckpt, '-o', join(dir, 's.onnx')],
      /./,
    );
    expectStoppedCleanly(r, dir, ckpt);
  }, 90_000);
});
