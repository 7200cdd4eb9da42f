// Inputs named on the command line: a folder stands for the images and .npy files directly in
// it, and more inputs than fit in memory at once are refused before any of them is read.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { checkInputsFit, INPUT_MEMORY_FRACTION } from '../../src/interfaces/cli/common.js';
import { inputFiles, loadInputs, sampleCount } from '../../src/io/inputs.js';
import { loadModel } from '../../src/models/load.js';
import { convlens, ROOT } from '../support/cli.js';

const engine = new Engine(nodeBackend(), { threads: 1 });
const model = loadModel('squeezenet', engine); // 3x224x224 inputs
const dir = mkdtempSync(join(tmpdir(), 'convlens-inputs-'));
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await engine.dispose();
});

describe('folders as inputs', () => {
  it('stand for their image and .npy files, in name order, hidden files and sub-folders left out', () => {
    const folder = join(dir, 'photos');
    mkdirSync(join(folder, 'sub'), { recursive: true });
    for (const f of ['b.png', 'a.JPG', '10.png', '2.png', 'x.npy', '.hidden.png', 'notes.txt', 'sub/c.png']) writeFileSync(join(folder, f), '');
    expect(inputFiles([folder, 'other.png'])).toEqual([...['2.png', '10.png', 'a.JPG', 'b.png', 'x.npy'].map((f) => join(folder, f)), 'other.png']);
    mkdirSync(join(dir, 'empty'));
    expect(() => inputFiles([join(dir, 'empty')])).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('holds no image or .npy files') }));
  });

  it('load like the files named one by one', async () => {
    const photos = join(ROOT, 'samples', 'photos');
    const byFolder = await loadInputs([photos], model);
    const byName = await loadInputs(inputFiles([photos]), model);
    expect(byFolder.items.map((i) => i.source)).toEqual(byName.items.map((i) => i.source));
    expect(byFolder.items.length).toBeGreaterThan(1);
    expect(byFolder.batch.data).toEqual(byName.batch.data);
    const cli = await convlens('predict', photos, '--model', 'squeezenet', '--top', '1', '-q', '--json');
    expect(cli.code).toBe(0);
    expect((JSON.parse(cli.stdout) as { input: string }[]).map((r) => r.input)).toEqual(byName.items.map((i) => i.source));
  });
});

describe('an .npy input with no samples', () => {
  it('is refused with the reason (explain used to end in a TypeError)', async () => {
    const empty = join(dir, 'empty.npy');
    const header = "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 3, 224, 224), }";
    const padded = header.padEnd(118, ' ') + '\n';
    writeFileSync(empty, Buffer.concat([Buffer.from([0x93]), Buffer.from('NUMPY'), Buffer.from([1, 0, padded.length, 0]), Buffer.from(padded)]));
    await expect(loadInputs([empty], model)).rejects.toMatchObject({ code: 'INPUT_UNREADABLE', message: expect.stringContaining('holds no samples') });
    const cli = await convlens('explain', empty, '--model', 'squeezenet', '--method', 'saliency', '-q', '--out', join(dir, 'out'));
    expect(cli.code).toBe(1);
    expect(cli.stderr).toMatch(/^convlens: .*holds no samples/);
  });
});

describe('more inputs than fit in memory', () => {
  const per = 3 * 224 * 224 * 4;

  it('are counted without reading them: one per image, an .npy by its size', () => {
    const npy = join(dir, 'batch.npy');
    writeFileSync(npy, Buffer.alloc(5 * per + 128));
    expect(sampleCount(['a.png', 'missing.jpg', npy], model)).toBe(7);
  });

  it('are refused before anything is read, with how many one run may take', () => {
    // not images at all: reading any of them would fail differently
    const files = Array.from({ length: 50 }, (_, i) => join(dir, `fake-${i}.png`));
    const perInput = per * 5 + 224 * 224 * 3; // explain with one method: 2 + 3 arrays of an input's size
    const machine = { total: (perInput * 20) / INPUT_MEMORY_FRACTION };
    let refusal: unknown;
    try {
      checkInputsFit(files, model, 5, 'explain', machine);
    } catch (e) {
      refusal = e;
    }
    expect(refusal).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('50 inputs would hold about'), hint: expect.stringContaining('Run at most 20 per command') });
    expect(() => checkInputsFit(files.slice(0, 20), model, 5, 'explain', machine)).not.toThrow();
  });
});
