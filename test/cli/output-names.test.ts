// Output names: inputs from different folders often share a file name, and --out of the commands
// that write one figure is a .png file or a folder.
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fileOrFolderOut } from '../../src/interfaces/cli/common.js';
import { distinctNames, stemmer } from '../../src/interfaces/cli/output.js';
import { convlens } from '../support/cli.js';
import { tempFolder } from '../support/temp-folder.js';

describe('stemmer', () => {
  it('numbers repeated names and never hands out a name twice', () => {
    const nameOf = stemmer();
    expect(['a/x.png', 'b/x.png', 'c/x-2.png', 'd/x.png', 't.npy#3', 'odd name!.jpg'].map(nameOf)).toEqual(['x', 'x-2', 'x-2-2', 'x-3', 't-3', 'odd_name_']);
  });
});

describe('distinctNames', () => {
  it('adds parent folders until the names differ, and numbers the same path given twice', () => {
    expect(distinctNames(['a/x.png', 'b/x.png', 'c/y.png'])).toEqual(['a/x.png', 'b/x.png', 'y.png']);
    expect(distinctNames(['/p/a/x.png', '/q/a/x.png', 'x.png'])).toEqual(['p/a/x.png', 'q/a/x.png', 'x.png']);
    expect(distinctNames(['a\\x.png', 'b\\x.png'])).toEqual(['a/x.png', 'b/x.png']);
    expect(distinctNames(['d/x.png', 'd/x.png', 'e.npy#3'])).toEqual(['d/x.png', 'd/x.png (2)', 'e.npy#3']);
  });
});

describe('--out of the commands that write one file (a figure, a model)', () => {
  const dir = tempFolder('convlens-figure-out-');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const out = fileOrFolderOut('patches.png');

  it('is a .png file as given, or a folder the figure is written into', () => {
    expect(out(join(dir, 'mine.PNG'))).toBe(join(dir, 'mine.PNG'));
    // a new name without an extension was written as a PNG file of that name
    expect(out(join(dir, 'results'))).toBe(join(dir, 'results', 'patches.png'));
    expect(out(`${join(dir, 'run.v2')}/`)).toBe(join(dir, 'run.v2', 'patches.png'));
    mkdirSync(join(dir, 'existing.d'));
    expect(out(join(dir, 'existing.d'))).toBe(join(dir, 'existing.d', 'patches.png'));
  });

  it('refuses another extension and an empty path, naming the way out', () => {
    expect(() => out(join(dir, 'figure.jpg'))).toThrow(/the figure is a PNG: name a \.png file, or a folder to write patches\.png into .*not a \.jpg file/);
    expect(() => out(join(dir, 'run.v2'))).toThrow(/end it with "\/" when its name has a dot/);
    expect(() => out(' ')).toThrow(/empty/);
    expect(() => fileOrFolderOut('model.onnx')(join(dir, 'model.pt'))).toThrow(/the file is \.onnx: name a \.onnx file, or a folder to write model\.onnx into .*not a \.pt file/);
    expect(fileOrFolderOut('model.onnx')(join(dir, 'runs'))).toBe(join(dir, 'runs', 'model.onnx'));
  });

  it('is what diffuse noise writes', async () => {
    const r = await convlens('diffuse', 'noise', '--timesteps', '0,500', '--out', join(dir, 'noise-run'), '-q');
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(join(dir, 'noise-run'))).toEqual(['noise.png']);
    const bad = await convlens('diffuse', 'noise', '--out', join(dir, 'noise.jpg'));
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('the figure is a PNG');
    expect(existsSync(join(dir, 'noise.jpg'))).toBe(false);
  });
});

describe('a folder reused by a run that writes fewer numbered files', () => {
  const dir = tempFolder('convlens-leftovers-');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('says which files named like the run\'s are from an earlier run, and is silent when the run wrote them all', async () => {
    const out = join(dir, 'boots');
    const sample = (count: string): ReturnType<typeof convlens> => convlens('diffuse', 'sample', 'ankle boot', '--count', count, '--steps', '2', '--seed', '3', '--no-gif', '--out', out, '--threads', '2');
    const first = await sample('3');
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).not.toMatch(/earlier run/);
    const again = await sample('3');
    expect(again.stderr).not.toMatch(/earlier run/);
    const fewer = await sample('1');
    expect(fewer.code, fewer.stderr).toBe(0);
    expect(fewer.stderr).toMatch(/note: .*boots\/ also holds 2 files named like this run's that it did not write \(00-ankle-boot-1\.png, 00-ankle-boot-2\.png\), from an earlier run; write each run to its own folder/);
    // nothing is deleted: they are the user's files now
    expect(readdirSync(out)).toEqual(expect.arrayContaining(['00-ankle-boot-0.png', '00-ankle-boot-1.png', '00-ankle-boot-2.png']));
  }, 120_000);
});
