// Output folders are made one path component at a time: Node's recursive mkdir spins forever when
// mkdir answers ENOENT under a parent that exists (/proc), and a broken symbolic link or a file in
// the way is named in the refusal.
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureDir } from '../../src/io/files.js';
import { DirectoryFault, makeDirectories } from '../../src/util/make-directories.js';
import { CLI, ROOT } from '../support/cli.js';
import { tempFolder } from '../support/temp-folder.js';

const dir = tempFolder('convlens-mkdir-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const faultOf = (path: string): DirectoryFault => {
  try {
    makeDirectories(path);
  } catch (e) {
    return e as DirectoryFault;
  }
  throw new Error(`made ${path}`);
};

describe('makeDirectories', () => {
  it('makes every missing parent, and accepts a folder that exists', () => {
    const deep = join(dir, 'a', 'b', 'c');
    makeDirectories(deep);
    expect(statSync(deep).isDirectory()).toBe(true);
    makeDirectories(deep);
    makeDirectories(`${deep}/`);
  });

  it('names a file in the way, and a broken symbolic link', () => {
    writeFileSync(join(dir, 'file'), 'x');
    const underFile = faultOf(join(dir, 'file', 'sub'));
    expect([underFile.code, underFile.path]).toEqual(['ENOTDIR', join(dir, 'file')]);
    symlinkSync(join(dir, 'nowhere', 'target'), join(dir, 'broken'));
    const broken = faultOf(join(dir, 'broken', 'sub'));
    expect([broken.code, broken.path, broken.reason]).toEqual(['ENOTDIR', join(dir, 'broken'), 'it is a symbolic link to nothing']);
    expect(existsSync(join(dir, 'nowhere'))).toBe(false); // the link's target is not made
  });

  it.runIf(existsSync('/proc/self'))('stops at /proc instead of retrying for ever', () => {
    const fault = faultOf('/proc/convlens-no-such/out');
    expect([fault.code, fault.path]).toEqual(['ENOENT', '/proc/convlens-no-such']);
  });

  it('makeDirectories returns the folders it made, outermost first', () => {
    expect(makeDirectories(join(dir, 'm', 'n'))).toEqual([join(dir, 'm'), join(dir, 'm', 'n')]);
    expect(makeDirectories(join(dir, 'm', 'n'))).toEqual([]);
  });

  it('an output folder a run made and left empty is gone when the process exits; one with files stays', () => {
    // as a refused run ends: the folder was made before the work, then nothing was written
    const files = pathToFileURL(join(ROOT, 'src', 'io', 'files.ts')).href;
    const run = (out: string, write: boolean): number | null =>
      spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', [
        `import { prepareOutputDir } from ${JSON.stringify(files)};`,
        "import { writeFileSync } from 'node:fs';",
        `prepareOutputDir(${JSON.stringify(out)});`,
        write ? `writeFileSync(${JSON.stringify(join(out, 'result.png'))}, 'x');` : '',
        'process.exit(1);',
      ].join('\n')], { cwd: ROOT }).status;
    const refused = join(dir, 'refused', 'run1');
    expect(run(refused, false)).toBe(1);
    expect(existsSync(join(dir, 'refused'))).toBe(false); // both levels it made
    const kept = join(dir, 'kept', 'run1');
    expect(run(kept, true)).toBe(1);
    expect(existsSync(join(kept, 'result.png'))).toBe(true);
    // a folder that was there before stays, empty or not
    const before = join(dir, 'before');
    makeDirectories(before);
    expect(run(before, false)).toBe(1);
    expect(existsSync(before)).toBe(true);
  });

  it('ensureDir names the component at fault', () => {
    expect(() => ensureDir(join(dir, 'file', 'a', 'b'))).toThrow(`Cannot create the output folder "${join(dir, 'file', 'a', 'b')}": a file is in the way (${join(dir, 'file')}): it is a file, not a folder.`);
  });
});

it.runIf(existsSync('/proc/self'))('explain --out under /proc is refused at once (it spun at 100% CPU)', async () => {
  let result: { code: number | string | null; stderr: string; killed?: boolean };
  try {
    await promisify(execFile)('node', [CLI, 'explain', 'samples/photos/astronaut.png', '--model', 'squeezenet', '--method', 'saliency', '--out', '/proc/convlens-no-such'], { cwd: ROOT, timeout: 60_000, killSignal: 'SIGKILL' });
    result = { code: 0, stderr: '' };
  } catch (e) {
    result = e as { code: number; stderr: string; killed: boolean };
  }
  expect(result.killed ?? false).toBe(false);
  expect(result.code).toBe(1);
  expect(result.stderr).toContain('Cannot create the output folder "/proc/convlens-no-such": the file system there does not take new folders.');
}, 90_000);
