// Ctrl-C while `convlens patches` draws its figure (seconds for many channels) cancels the run:
// it said "Cancelling", then wrote patches.png anyway and exited 0, as if nothing had been asked.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLI, convlens, ROOT } from '../support/cli.js';
import { tempFolder } from '../support/temp-folder.js';

const tmp = tempFolder('convlens-patches-cancel-');
const store = join(tmp, 'store');
const args = (out: string): string[] => ['patches', '--store', store, '--channels', '0-31', '-k', '64', '--no-guided', '--threads', '1', '-q', '-o', out];

function run(out: string, interruptAfterMs?: number): Promise<{ code: number | null; stderr: string; ms: number; aliveAtSignal: boolean }> {
  const t0 = Date.now();
  const child = spawn(process.execPath, [CLI, ...args(out)], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let aliveAtSignal = false;
  if (interruptAfterMs !== undefined) {
    setTimeout(() => {
      aliveAtSignal = child.exitCode === null && child.signalCode === null;
      if (aliveAtSignal) child.kill('SIGINT');
    }, interruptAfterMs);
  }
  return new Promise((done) => child.once('exit', (code) => done({ code, stderr, ms: Date.now() - t0, aliveAtSignal })));
}

beforeAll(async () => {
  const r = await convlens('index', 'data/fashion-mnist-subset', '--split', 'test', '--limit', '400', '-k', '64', '--layers', 'relu3', '--store', store, '-q');
  expect(r.code, r.stderr).toBe(0);
}, 60_000);

describe('convlens patches and Ctrl-C', () => {
  it('a Ctrl-C while the figure is drawn cancels the run and writes nothing', async () => {
    // the first run also compiles and caches its sessions: the second is the one to time
    const runs = [await run(join(tmp, 'full')), await run(join(tmp, 'full2'))];
    for (const full of runs) expect(full.code, full.stderr).toBe(0);
    expect(existsSync(join(tmp, 'full', 'patches.png'))).toBe(true);
    const ms = Math.min(...runs.map((f) => f.ms));
    // late in the run: the crops are read, the figure is being drawn; on a busy machine a run can
    // finish before the signal, so the signal comes earlier on the next try
    let r: Awaited<ReturnType<typeof run>> | undefined;
    let out = '';
    for (const fraction of [0.8, 0.6, 0.4]) {
      out = join(tmp, `cancelled-${fraction * 10}`);
      r = await run(out, Math.round(ms * fraction));
      if (r.aliveAtSignal) break;
    }
    if (!r) throw new Error('no run');
    expect(r.aliveAtSignal).toBe(true);
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toContain('Cancelled the patches.');
    expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
  }, 120_000);
});
