// Synthesis at a size the user picks (DeepDream's --max-side, style transfer's --size) can need
// gigabytes on an ImageNet model. Before such a run starts, the CLI says how much it may hold
// when that is a large share of the machine, from the graph's own estimate, which grows with the
// pixel count; small runs say nothing.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { memoryNoteText } from '../../src/interfaces/cli/common.js';
import { bytesPerSample } from '../../src/methods/inspect/memory.js';
import { loadModel } from '../../src/models/load.js';
import { CLI, ROOT } from '../support/cli.js';
import { tempFolder } from '../support/temp-folder.js';

const GB = 2 ** 30;

describe('the memory note of a synthesis run', () => {
  const engine = new Engine(nodeBackend());
  afterAll(async () => {
    await engine.dispose();
  });
  const model = loadModel('squeezenet', engine);
  const big = [1365, 2048] as const;
  const bytes = bytesPerSample(model, 'gradient', big);

  it('follows the graph estimate, which grows with the pixel count', () => {
    // SqueezeNet at 2048x1365 held 2.8 GB (peak RSS of a one-step DeepDream); the estimate bounds it
    expect(bytes).toBeGreaterThan(2.8 * GB);
    expect(bytes).toBeLessThan(8 * GB);
    const half = bytesPerSample(model, 'gradient', [683, 1024]);
    expect(half / bytes).toBeGreaterThan(0.22);
    expect(half / bytes).toBeLessThan(0.28);
  });

  it('speaks when the run may take half the machine or most of what is free, and not otherwise', () => {
    const note = memoryNoteText('DeepDream', model, big, { total: 8 * GB, free: 6 * GB });
    expect(note).toBe(`DeepDream at 2048x1365 on ${model.name} may hold up to ${(bytes / GB).toFixed(1)} GB of memory (this machine has 8.0 GB, 6.0 GB free); memory grows with the pixel count, so half the side needs a quarter.`);
    expect(memoryNoteText('DeepDream', model, big, { total: 64 * GB, free: bytes / 0.8 - 1 })).toBeDefined();
    expect(memoryNoteText('DeepDream', model, big, { total: 64 * GB, free: 60 * GB })).toBeUndefined();
    expect(memoryNoteText('DeepDream', model, [224, 224], { total: 8 * GB, free: 6 * GB })).toBeUndefined();
  });
});

describe('the memory note of texture synthesis on the random texture network', () => {
  it('is planned on that network too, before the run starts', async () => {
    // 2048x2048 on the texture network is estimated far above half of any machine this runs on;
    // the command is killed as soon as it has spoken (or after a while, when it never does).
    const child = spawn(process.execPath, [CLI, 'style', '--style', join(ROOT, 'samples', 'textures', 'brick.png'), '--backbone', 'texture', '--size', '2048x2048', '--steps', '1', '--out', join(tempFolder('convlens-texture-note-'), 'out')], { cwd: ROOT });
    let stderr = '';
    const note = await new Promise<string | undefined>((done) => {
      const timer = setTimeout(() => done(undefined), 20_000);
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        const m = /note: Style transfer at 2048x2048 on the texture network may hold up to ([\d.]+) GB/.exec(stderr);
        if (m) {
          clearTimeout(timer);
          done(m[1]);
        }
      });
      child.once('exit', () => done(undefined));
    });
    const exited = new Promise((done) => (child.exitCode === null && child.signalCode === null ? child.once('exit', done) : done(undefined)));
    child.kill('SIGKILL');
    await exited;
    expect(note, stderr).toBeDefined();
    expect(Number(note)).toBeGreaterThan(4);
  }, 30_000);
});
