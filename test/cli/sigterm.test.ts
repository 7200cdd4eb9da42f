// SIGTERM (kill, a scheduler's or container's stop) cancels a command as Ctrl-C does: it stops
// within a moment, says so in one line, exits non-zero and leaves no lock or temporary file in its
// output folder. It used to kill the process outright: no word, and the folder's writer lock left.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, ROOT } from '../support/cli.js';
import { tempFolder } from '../support/temp-folder.js';

const tmp = tempFolder('convlens-sigterm-');
const LOCK = '.convlens-writer.lock';
const fashion = (f: string): string => join(ROOT, 'samples', 'fashion-mnist', f);

async function terminate(args: string[], out: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string; ms: number }> {
  const child = spawn(process.execPath, [CLI, ...args, '-o', out], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => child.once('exit', (code, signal) => done({ code, signal })));
  const deadline = Date.now() + 30_000;
  // the output folder is made before the work: then some work
  while (!existsSync(out) && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 600));
  expect(child.exitCode, stderr).toBeNull();
  const t0 = Date.now();
  child.kill('SIGTERM');
  const r = await exited;
  return { ...r, stderr, ms: Date.now() - t0 };
}

describe('SIGTERM cancels a command', () => {
  const cases: [string, string[]][] = [
    ['explain', ['explain', fashion('bag-test18.png'), fashion('coat-test6.png'), fashion('dress-test13.png'), '--method', 'all', '--threads', '1']],
    ['featviz', ['featviz', '--objective', 'class:Bag', '--steps', '100000', '--threads', '1']],
  ];
  for (const [name, args] of cases) {
    it(`${name}: stops at once with a one-line message and leaves no lock or temporary file`, async () => {
      const out = join(tmp, name);
      const r = await terminate(args, out);
      expect(r.signal, r.stderr).toBeNull();
      expect(r.code, r.stderr).toBe(130);
      // 130 tells a cancelled run from a finished one; the bound catches a hang after the signal,
      // loose enough for a loaded machine.
      expect(r.ms).toBeLessThan(10_000);
      expect(r.stderr).toMatch(/^convlens: Cancelled .*\.$/m);
      expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
      const left = existsSync(out) ? readdirSync(out) : [];
      expect(left.filter((f) => f === LOCK || f.endsWith('.tmp'))).toEqual([]);
    }, 60_000);
  }
});
