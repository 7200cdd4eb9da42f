// Two runs writing into the same output folder at once each renamed their files over the other's
// (a grid.png of one run beside a summary.json of the other): a run is refused while another lives
// that writes there, naming it; the folder is free again when the writer ends, and a lock left by a
// run that is gone is taken over.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, convlens, ROOT } from '../support/cli.js';
import { tempFolder } from '../support/temp-folder.js';

const tmp = tempFolder('convlens-output-lock-');
const LOCK = '.convlens-writer.lock';
const images = ['bag-test18.png', 'coat-test6.png', 'dress-test13.png'].map((f) => join(ROOT, 'samples', 'fashion-mnist', f));

describe('one run at a time per output folder', () => {
  it('refuses a run into a folder another live run writes, before any work', async () => {
    const out = join(tmp, 'busy');
    mkdirSync(out);
    // the holder: this test's own process, alive on this host
    const started = new Date().toISOString();
    writeFileSync(join(out, LOCK), `${JSON.stringify({ pid: process.pid, hostname: hostname(), started, command: 'convlens explain a.png -o busy' })}\n`);
    // diffuse sample: refused before it samples (256 images, 1000 steps: minutes), not when it comes to write
    for (const args of [['explain', images[0]!, '--method', 'all'], ['channels', images[0]!, '--layer', 'relu3'], ['diffuse', 'sample', 'ankle boot', '--steps', '1000', '--count', '256']]) {
      const t0 = Date.now();
      const r = await convlens(...args, '-o', out);
      expect(Date.now() - t0, args[0]).toBeLessThan(15_000);
      expect(r.stderr).not.toContain('images in');
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toContain(`The output folder "${out}" is being written by another run: pid ${process.pid} on ${hostname()} ("convlens explain a.png -o busy"), since ${started}`);
      expect(r.stderr).toContain(`Wait for it to finish, or write to another folder (--out ${join(out, 'run2')}).`);
      expect(r.stderr).not.toMatch(/^note:/m); // refused before the methods ran
    }
    expect(readdirSync(out)).toEqual([LOCK]);
  }, 60_000);

  it('holds the lock while it writes and frees the folder when it ends', async () => {
    const out = join(tmp, 'writing');
    const first = spawn(process.execPath, [CLI, 'explain', ...images, '--method', 'all', '--threads', '1', '-q', '-o', out], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    first.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const ended = new Promise<number | null>((done) => first.once('exit', (code) => done(code)));
    let held: { pid?: number } | undefined;
    const deadline = Date.now() + 30_000;
    while (!held && first.exitCode === null && Date.now() < deadline) {
      try {
        held = JSON.parse(readFileSync(join(out, LOCK), 'utf8')) as { pid?: number };
      } catch {
        await new Promise((r) => setTimeout(r, 10));
      }
    }
    expect(held?.pid, stderr).toBe(first.pid);
    expect(await ended, stderr).toBe(0);
    expect(readdirSync(out)).not.toContain(LOCK);
    expect(readdirSync(out)).toContain('summary.json');
    const after = await convlens('explain', images[0]!, '--method', 'saliency', '-q', '-o', out);
    expect(after.code, after.stderr).toBe(0);
    expect(readdirSync(out)).not.toContain(LOCK);
  }, 90_000);

  it('refuses a second run started while the first still computes, before either writes', async () => {
    // the lock was taken at the first write: both runs passed the check for a holder, both did all
    // their work (~10 s here), and the one that came to write second failed then
    const out = join(tmp, 'together');
    const first = spawn(process.execPath, [CLI, 'explain', ...images, '--method', 'all', '--threads', '1', '-q', '-o', out], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    first.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const ended = new Promise<number | null>((done) => first.once('exit', (code) => done(code)));
    const deadline = Date.now() + 30_000;
    // the folder is made when the run sets out, before it loads the model
    while (!existsSync(out) && first.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 300));
    expect(readdirSync(out).filter((f) => f !== LOCK), 'the first run wrote before the second started').toEqual([]);
    const t0 = Date.now();
    const second = await convlens('explain', ...images, '--method', 'all', '--threads', '1', '-q', '-o', out);
    const waited = Date.now() - t0;
    expect(second.code, second.stderr).toBe(1);
    expect(second.stderr).toContain(`The output folder "${out}" is being written by another run: pid ${first.pid} on ${hostname()}`);
    expect(waited).toBeLessThan(5_000);
    expect(await ended, stderr).toBe(0);
    expect(readdirSync(out)).toContain('summary.json');
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
