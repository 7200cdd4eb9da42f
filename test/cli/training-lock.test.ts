// Two training runs into the same model or checkpoint would overwrite each other's saves (and a
// later --resume would continue whichever saved last): the second is refused while the first
// lives, naming it; a lock left by a run that is gone is taken over.
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, convlens, ROOT } from '../support/cli.js';
import { tempFolder } from '../support/temp-folder.js';

const tmp = tempFolder('convlens-train-lock-');
const data = join(ROOT, 'data', 'fashion-mnist-subset');

describe('one training run per model file', () => {
  it('refuses a second run into the same file while the first runs, and frees the file when it ends', async () => {
    const out = join(tmp, 'busy.onnx');
    const first = spawn(process.execPath, [CLI, 'train', '--data', data, '--epochs', '500', '--no-test', '-o', out], { cwd: ROOT, stdio: 'ignore' });
    const ended = new Promise<void>((done) => first.once('exit', () => done()));
    try {
      const deadline = Date.now() + 30_000;
      while (!existsSync(`${out}.ckpt.lock`) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(existsSync(`${out}.lock`)).toBe(true);
      const second = await convlens('train', '--data', data, '--epochs', '1', '--no-test', '-o', out);
      expect(second.code).toBe(1);
      expect(second.stderr).toContain(`"${out}" is being written by another training run: pid ${first.pid} on ${hostname()}`);
      expect(second.stderr).toMatch(/Wait for it to finish, or train into another file \(--out\)/);
      const byCheckpoint = await convlens('train', '--data', data, '--epochs', '1', '--no-test', '-o', join(tmp, 'other.onnx'), '--checkpoint', `${out}.ckpt`);
      expect(byCheckpoint.code).toBe(1);
      expect(byCheckpoint.stderr).toContain(`"${out}.ckpt" is being written by another training run`);
      expect(existsSync(join(tmp, 'other.onnx.lock'))).toBe(false); // the refused run let go of what it had taken
    } finally {
      first.kill('SIGINT');
      await ended;
    }
    expect(existsSync(`${out}.lock`)).toBe(false);
    expect(existsSync(`${out}.ckpt.lock`)).toBe(false);
  }, 90_000);

  it('takes over a lock whose run is gone', async () => {
    const out = join(tmp, 'stale.onnx');
    writeFileSync(`${out}.lock`, `${JSON.stringify({ pid: 2 ** 22 + 12345, hostname: hostname(), started: new Date(0).toISOString(), command: 'convlens train (killed)' })}\n`);
    const r = await convlens('train', '--data', data, '--epochs', '1', '--limit', '50', '--no-test', '-o', out);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(out)).toBe(true);
    expect(existsSync(`${out}.lock`)).toBe(false);
  }, 90_000);
});
