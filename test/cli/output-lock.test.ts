// Two runs writing into the same output folder at once each renamed their files over the other's
// (a grid.png of one run beside a summary.json of the other): the second is refused while the first
// lives, naming it; the folder is free again when the first ends, and a lock left by a run that is
// gone is taken over.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, convlens, ROOT } from '../support/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'convlens-output-lock-'));
const LOCK = '.convlens-writer.lock';
const images = ['bag-test18.png', 'coat-test6.png', 'dress-test13.png'].map((f) => join(ROOT, 'samples', 'fashion-mnist', f));

describe('one run at a time per output folder', () => {
  it('refuses a second run into the folder while the first writes, and frees it when the first ends', async () => {
    const out = join(tmp, 'busy');
    const first = spawn(process.execPath, [CLI, 'explain', ...images, '--method', 'all', '--threads', '1', '-q', '-o', out], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    first.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const ended = new Promise<number | null>((done) => first.once('exit', (code) => done(code)));
    const deadline = Date.now() + 30_000;
    while (!existsSync(join(out, LOCK)) && first.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(first.exitCode, stderr).toBeNull();
    for (const args of [['explain', images[0]!, '--method', 'saliency'], ['channels', images[0]!, '--layer', 'relu3']]) {
      const second = await convlens(...args, '-o', out);
      expect(second.code, second.stderr).toBe(1);
      expect(second.stderr).toContain(`The output folder "${out}" is being written by another run: pid ${first.pid} on ${hostname()} ("convlens explain`);
      expect(second.stderr).toContain(`Wait for it to finish, or write to another folder (--out ${join(out, 'run2')}).`);
    }
    expect(await ended, stderr).toBe(0);
    expect(readdirSync(out)).not.toContain(LOCK);
    expect(readdirSync(out)).toContain('summary.json');
    const after = await convlens('explain', images[0]!, '--method', 'saliency', '-q', '-o', out);
    expect(after.code, after.stderr).toBe(0);
    expect(readdirSync(out)).not.toContain(LOCK);
  }, 90_000);

  it('takes over a lock whose run is gone', async () => {
    const out = join(tmp, 'stale');
    mkdirSync(out);
    writeFileSync(join(out, LOCK), `${JSON.stringify({ pid: 2 ** 22 + 12345, hostname: hostname(), started: new Date(0).toISOString(), command: 'convlens explain (killed)' })}\n`);
    const r = await convlens('explain', images[0]!, '--method', 'saliency', '-q', '-o', out);
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(out)).not.toContain(LOCK);
  }, 60_000);

  it('a refused or failed run leaves no lock and no folder it made', async () => {
    const out = join(tmp, 'never', 'made');
    const r = await convlens('explain', join(tmp, 'no-such.png'), '-o', out);
    expect(r.code).toBe(1);
    expect(existsSync(join(tmp, 'never'))).toBe(false);
  });
});
