// Every file a command reads goes through readFileOrExplain: regular files and pipes are read,
// devices (which may never end: /dev/zero) and sockets are refused before they are opened, and
// nothing is read past the bound, so an absurd path ends in a message, not a hang or an
// exhausted memory.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, constants, existsSync, openSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConvLensError } from '../../src/engine/errors.js';
import { readFileOrExplain } from '../../src/io/files.js';
import { CLI, convlens, ROOT } from '../support/cli.js';
import { tempFolder } from '../support/temp-folder.js';

const dir = tempFolder('convlens-read-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function refusal(f: () => unknown): ConvLensError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ConvLensError);
    return e as ConvLensError;
  }
  throw new Error('expected a refusal');
}

/** A named pipe that `writer` fills (in another process, as `<(...)` does). */
function pipeFrom(name: string, script: string): string {
  const path = join(dir, name);
  expect(spawnSync('mkfifo', [path]).status).toBe(0);
  spawn(process.execPath, ['-e', `require('fs').writeFileSync(${JSON.stringify(path)}, ${script})`], { stdio: 'ignore' });
  return path;
}

describe.skipIf(process.platform === 'win32')('reading an input file', () => {
  it('reads a regular file, and refuses one above the bound', () => {
    const file = join(dir, 'labels.txt');
    writeFileSync(file, 'cat\ndog\n');
    expect(readFileOrExplain(file, 'labels file').toString()).toBe('cat\ndog\n');
    const e = refusal(() => readFileOrExplain(file, 'labels file', 4));
    expect(e.message).toContain('more than 4 bytes');
    expect(e.message).toContain(file);
  });

  it('refuses devices and sockets without reading them', async () => {
    for (const device of ['/dev/zero', '/dev/urandom']) {
      const e = refusal(() => readFileOrExplain(device, 'model file'));
      expect(e.message).toBe(`Cannot read model file "${device}": it is not a regular file (it is a device or socket).`);
    }
    const socket = join(dir, 's.sock');
    const server = createServer();
    await new Promise<void>((r) => server.listen(socket, r));
    try {
      expect(refusal(() => readFileOrExplain(socket, 'image')).message).toContain('not a regular file');
    } finally {
      server.close();
    }
  });

  it('reads a pipe to its end, and stops one that goes on past the bound', () => {
    // more than one read's worth (1 MiB per read)
    expect(readFileOrExplain(pipeFrom('p1', `'a'.repeat(3_000_000)`), 'labels file').toString()).toBe('a'.repeat(3_000_000));
    const e = refusal(() => readFileOrExplain(pipeFrom('p2', `'x'.repeat(5_000_000)`), 'labels file', 2_000_000));
    expect(e.message).toContain('more than 2000000 bytes');
  });

  it('says system faults in words, without the raw error text', async () => {
    symlinkSync(join(dir, 'loop-b'), join(dir, 'loop-a'));
    symlinkSync(join(dir, 'loop-a'), join(dir, 'loop-b'));
    const e = refusal(() => readFileOrExplain(join(dir, 'loop-a'), 'image'));
    expect(e.message).toBe(`Cannot read image "${join(dir, 'loop-a')}": the path has a loop of symbolic links.`);
    expect(e.hint).toMatch(/ls -l/);
    writeFileSync(join(dir, 'plain'), 'x');
    expect(refusal(() => readFileOrExplain(join(dir, 'plain', 'under'), 'image')).message).toContain('a part of the path is not a folder');
    // a model path that exists but cannot be read is reported as such, not as an unknown built-in name
    for (const path of [join(dir, 'loop-a'), join(dir, 'plain', 'x.onnx')]) {
      const r = await convlens('summary', '--model', path);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/loop of symbolic links|part of the path is not a folder/);
      expect(r.stderr).not.toMatch(/ELOOP:|ENOTDIR:|no built-in model/);
    }
  }, 30_000);

  it('names a missing file and a folder', () => {
    expect(refusal(() => readFileOrExplain(join(dir, 'none.png'), 'image')).message).toContain('no such file');
    expect(refusal(() => readFileOrExplain(dir, 'image')).message).toContain('it is a directory');
    expect(refusal(() => readFileOrExplain(dir, 'image')).hint).toMatch(/Name one image file in it/);
    // what is already called a file is not called a file twice ("Name one model file file in it")
    expect(refusal(() => readFileOrExplain(dir, 'model file')).hint).toMatch(/^Name one model file in it/);
  });

  it('ends a command given a device as its image or its model, at once', async () => {
    const image = await convlens('explain', '/dev/zero', '--out', join(dir, 'out'));
    expect(image.code).toBe(1);
    expect(image.stderr).toContain('"/dev/zero": it is not a regular file');
    const model = await convlens('explain', 'samples/fashion-mnist/bag-test18.png', '--model', '/dev/zero', '--out', join(dir, 'out'));
    expect(model.code).toBe(1);
    expect(model.stderr).toContain('Cannot read model file "/dev/zero"');
  }, 30_000);

  it('reads an image from standard input named "-", once', () => {
    const png = readFileSync(join(ROOT, 'samples', 'fashion-mnist', 'bag-test18.png'));
    const cli = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, input: png, encoding: 'utf8', timeout: 60_000 });
    const predicted = cli('predict', '-');
    expect(predicted.status, predicted.stderr).toBe(0);
    expect(predicted.stdout).toMatch(/^standard input\n[\s\S]*Bag\s+\d+\.\d+%/);
    const out = join(dir, 'stdin-out');
    const explained = cli('explain', '-', '--method', 'saliency', '--out', out);
    expect(explained.status, explained.stderr).toBe(0);
    expect(readdirSync(out)).toContain('standard_input.saliency.png');
    const twice = cli('predict', '-', '-');
    expect(twice.status).toBe(1);
    expect(twice.stderr).toContain('Standard input ("-") is named twice');
  }, 60_000);

  it('lets Ctrl-C end a command waiting on a named pipe that no one writes', async () => {
    const fifo = join(dir, 'stuck.png');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const out = join(dir, 'stuck-out');
    const child = spawn(process.execPath, [CLI, 'explain', fifo, '--out', out], { cwd: ROOT, stdio: 'ignore' });
    const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => child.once('exit', (code, signal) => done({ code, signal })));
    // A writer that opens without blocking succeeds only once the command has the pipe open for
    // reading; holding it open without writing leaves the command blocked inside the read.
    let writer: number | undefined;
    const deadline = Date.now() + 20_000;
    while (writer === undefined && Date.now() < deadline) {
      try {
        writer = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    try {
      expect(writer, 'the command never opened the pipe').toBeDefined();
      child.kill('SIGINT');
      const timeout = new Promise<'still running'>((r) => setTimeout(() => r('still running'), 5_000));
      const result = await Promise.race([ended, timeout]);
      expect(result).not.toBe('still running');
      if (result !== 'still running') expect(result.signal === 'SIGINT' || result.code === 130).toBe(true);
      expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
    } finally {
      child.kill('SIGKILL');
      if (writer !== undefined) closeSync(writer);
    }
  }, 40_000);
});
