// Where an output lands. Outputs are written to a temporary file and renamed over the target,
// which is right for a regular file and wrong for anything else: `-o /dev/full` once replaced the
// device node with a PNG, and the same would have replaced /dev/null, a named pipe another
// program reads, or a symbolic link (leaving its target unwritten). Links are written through;
// devices and pipes are written into; a failure names its reason without temporary file names.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, lstatSync, openSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { ConvLensError } from '../../src/engine/errors.js';
import { writeFileAtomic } from '../../src/io/files.js';
import { parseNpy } from '../../src/io/npy.js';
import { NpyStream } from '../../src/io/npy-stream.js';
import { loadCheckpoint, saveCheckpoint } from '../../src/training/checkpoint.js';
import { ROOT } from '../support/cli.js';
import { tempFolder } from '../support/temp-folder.js';

const dir = tempFolder('convlens-write-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A named pipe whose reader (another process) copies what arrives into `copy`; resolves when it ends. */
function pipeInto(name: string): { fifo: string; copy: string; done: Promise<void> } {
  const fifo = join(dir, name);
  const copy = join(dir, `${name}.copy`);
  expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
  const reader = spawn('sh', ['-c', `cat "${fifo}" > "${copy}"`]);
  return { fifo, copy, done: new Promise((r) => reader.on('exit', () => r())) };
}

describe('writing an output', () => {
  it('writes through a symbolic link, and through one whose target does not exist yet', () => {
    const target = join(dir, 'target.png');
    writeFileSync(target, 'old');
    const link = join(dir, 'link.png');
    symlinkSync(target, link);
    writeFileAtomic(link, 'new');
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readFileSync(target, 'utf8')).toBe('new');

    const dangling = join(dir, 'dangling.png');
    symlinkSync('later.png', dangling); // relative to the link's folder
    writeFileAtomic(dangling, 'made');
    expect(readlinkSync(dangling)).toBe('later.png');
    expect(readFileSync(join(dir, 'later.png'), 'utf8')).toBe('made');
  });

  it('writes into a named pipe that another program reads, which stays a pipe', async () => {
    const { fifo, copy, done } = pipeInto('out.fifo');
    writeFileAtomic(fifo, 'through the pipe');
    await done;
    expect(statSync(fifo).isFIFO()).toBe(true);
    expect(readFileSync(copy, 'utf8')).toBe('through the pipe');
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('writes into a device, which stays a device', () => {
    // a null device of our own where allowed (mknod needs root); /dev/null itself otherwise
    const own = join(dir, 'null-device');
    const device = spawnSync('mknod', ['-m', '666', own, 'c', '1', '3']).status === 0 ? own : '/dev/null';
    writeFileAtomic(device, new Uint8Array(1000));
    expect(statSync(device).isCharacterDevice()).toBe(true);
  });

  it('writes into /dev/stdout as the shell opened it: through a pipe, and appended with >>', () => {
    const files = pathToFileURL(join(ROOT, 'src', 'io', 'files.ts')).href;
    const script = `import { writeFileAtomic } from ${JSON.stringify(files)}; writeFileAtomic('/dev/stdout', 'second\\n', '--npy');`;
    const child = (stdout: 'pipe' | number): ReturnType<typeof spawnSync> => spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, stdio: ['ignore', stdout, 'pipe'], encoding: 'utf8' });
    const piped = child('pipe');
    expect(piped.stderr).toBe('');
    expect(piped.stdout).toBe('second\n');
    const log = join(dir, 'appended.log');
    writeFileSync(log, 'first\n');
    const fd = openSync(log, 'a');
    try {
      expect(child(fd).status).toBe(0);
    } finally {
      closeSync(fd);
    }
    expect(readFileSync(log, 'utf8')).toBe('first\nsecond\n');
  });

  it('streams an .npy into a pipe as one finished file', async () => {
    const { fifo, copy, done } = pipeInto('rows.fifo');
    const stream = new NpyStream(fifo);
    stream.append({ dtype: 'float32', dims: [2, 3], data: Float32Array.of(1, 2, 3, 4, 5, 6) });
    stream.append({ dtype: 'float32', dims: [1, 3], data: Float32Array.of(7, 8, 9) });
    stream.close();
    await done;
    const t = parseNpy(readFileSync(copy));
    expect(t.dims).toEqual([3, 3]);
    expect([...(t.data as Float32Array)]).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(statSync(fifo).isFIFO()).toBe(true);
  });

  it('saves a checkpoint through a link', () => {
    const target = join(dir, 'run.ckpt');
    const link = join(dir, 'latest.ckpt');
    symlinkSync(target, link);
    saveCheckpoint(link, { meta: { step: 3 }, tensors: new Map() });
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(loadCheckpoint(target).meta['step']).toBe(3);
  });

  it('says why a write failed without the temporary file, and names the option to change', () => {
    let error: unknown;
    try {
      writeFileAtomic(join(dir, 'no', 'such', 'folder', 'x.npy').replace(dir, '/proc'), 'x', '--npy');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConvLensError);
    const e = error as ConvLensError;
    expect(e.message).not.toMatch(/\.tmp|ENOENT|EACCES/);
    expect(e.hint).toMatch(/--npy/);
    expect(existsSync('/proc/no')).toBe(false);
  });
});
