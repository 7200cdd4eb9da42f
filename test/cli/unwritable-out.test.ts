// An existing output folder that takes no new files is refused before any work: explain --method
// all computed every map and failed at its first PNG; patches, embed, neighbors, evaluate and
// activations likewise ran their whole job first.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convlens, ROOT } from '../support/cli.js';
import { tempFolder } from '../support/temp-folder.js';

const tmp = tempFolder('convlens-unwritable-');
const locked = join(tmp, 'locked');
const store = join(tmp, 'store');
const bag = join(ROOT, 'samples', 'fashion-mnist', 'bag-test18.png');
const root = process.getuid?.() === 0;

/** Makes `dir` refuse new files: root ignores permission bits, so it gets the immutable flag. */
function lock(dir: string): boolean {
  mkdirSync(dir, { recursive: true });
  if (!root) {
    chmodSync(dir, 0o555);
    return true;
  }
  try {
    execFileSync('chattr', ['+i', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false; // no chattr, or a file system without the flag
  }
}

let usable = false;
beforeAll(async () => {
  const r = await convlens('index', 'data/fashion-mnist-subset', '--split', 'test', '--limit', '100', '--store', store, '-q');
  expect(r.code, r.stderr).toBe(0);
  usable = lock(locked);
}, 60_000);

afterAll(() => {
  if (root) execFileSync('chattr', ['-i', locked], { stdio: 'ignore' });
  else chmodSync(locked, 0o755);
});

describe('an output folder that takes no new files', () => {
  const cases: [string, string[]][] = [
    ['explain', ['explain', bag, '--method', 'all', '-o', locked]],
    ['channels', ['channels', bag, '--layer', 'relu3', '-o', locked]],
    ['patches', ['patches', '--store', store, '-o', join(locked, 'p.png')]],
    ['embed', ['embed', '--store', store, '--method', 'pca', '-o', locked]],
    ['neighbors', ['neighbors', '--store', store, '--ids', '1', '-o', locked]],
    ['evaluate', ['evaluate', '--data', 'data/fashion-mnist-subset', '-o', locked]],
    ['activations', ['activations', bag, '-o', locked]],
  ];
  for (const [name, args] of cases) {
    it(`${name} refuses it before the work, naming the folder and the way out`, async (ctx) => {
      if (!usable) ctx.skip();
      const r = await convlens(...args);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toContain(`Cannot write into the output folder "${locked}"`);
      expect(r.stderr).toContain('Choose another output path (--out), or make the folder writable.');
      // refused up front: no method ran (explain notes what its methods did)
      expect(r.stderr).not.toMatch(/^note:/m);
      expect(readdirSync(locked)).toEqual([]);
    }, 60_000);
  }
});
