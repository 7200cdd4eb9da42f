// Ctrl-C during `convlens embed --method tsne` stops it: t-SNE ran its 750 iterations without
// yielding to the event loop, so the Ctrl-C was only seen after it (and the figures) had finished;
// the command then wrote every file and exited 0 seconds later, "Cancelling" notwithstanding.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLI, convlens, ROOT } from '../support/cli.js';
import { tempFolder } from '../support/temp-folder.js';

const tmp = tempFolder('convlens-embed-cancel-');
const store = join(tmp, 'store');

beforeAll(async () => {
  const r = await convlens('index', 'data/fashion-mnist-subset', '--split', 'test', '--layers', 'relu4', '--store', store, '-q');
  expect(r.code, r.stderr).toBe(0);
}, 60_000);

describe('convlens embed and Ctrl-C', () => {
  it('a Ctrl-C in the middle of t-SNE stops it and writes nothing', async () => {
    const out = join(tmp, 'out');
    const child = spawn(process.execPath, [CLI, 'embed', '--store', store, '--layer', 'relu4', '--method', 'tsne', '--grid', '0', '--threads', '1', '-o', out], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
    // t-SNE of the 2000 points runs for several seconds after a second of loading and affinities
    await new Promise((r) => setTimeout(r, 3000));
    expect(child.exitCode).toBeNull();
    const t0 = Date.now();
    child.kill('SIGINT');
    const code = await exited;
    expect(code, stderr).toBe(130);
    // Exit code and files tell a cancelled run from a finished one; the bound only catches a run
    // that hangs after the signal, loose enough for a loaded machine (2 s failed at load 12).
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(stderr).toContain('Cancelled t-SNE.');
    expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
  }, 60_000);
});
