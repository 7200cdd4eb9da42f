// Inputs named on the command line: a folder stands for the images and .npy files directly in
// it; more inputs than fit in memory at once are refused before any of them is read, or (explain)
// taken in chunks that give the same maps and files as one batch.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { checkInputsFit, INPUT_MEMORY_FRACTION, inputChunks, inputsThatFit } from '../../src/interfaces/cli/common.js';
import { inputFiles, loadInputs, sampleCount } from '../../src/io/inputs.js';
import { parseNpy } from '../../src/io/npy.js';
import { NpyStream } from '../../src/io/npy-stream.js';
import { loadModel } from '../../src/models/load.js';
import { convlens, ROOT } from '../support/cli.js';
import { tempFolder } from '../support/temp-folder.js';

const engine = new Engine(nodeBackend(), { threads: 1 });
const model = loadModel('squeezenet', engine); // 3x224x224 inputs
const dir = tempFolder('convlens-inputs-');
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

describe('inputs in chunks', () => {
  const per = 3 * 224 * 224 * 4;
  const perInput = per * 5 + 224 * 224 * 3;
  const machine = { total: (perInput * 20) / INPUT_MEMORY_FRACTION }; // 20 inputs fit at once
  const images = Array.from({ length: 50 }, (_, i) => join(dir, `chunk-${i}.png`));

  it('as many per chunk as fit, in order, without reading any', () => {
    expect(inputsThatFit(model, 5, machine)).toBe(20);
    const chunks = inputChunks(images, model, 5, 'explain', undefined, machine);
    expect(chunks.map((c) => c.length)).toEqual([20, 20, 10]);
    expect(chunks.flat()).toEqual(images);
    expect(inputChunks(images, model, 5, 'explain', 7, machine).map((c) => c.length)).toEqual([7, 7, 7, 7, 7, 7, 7, 1]);
  });

  it('an .npy is never split; one larger than memory allows is refused naming it', () => {
    const five = join(dir, 'five.npy');
    writeFileSync(five, Buffer.alloc(5 * per + 128));
    expect(inputChunks([images[0]!, five, images[1]!], model, 5, 'explain', 3, machine)).toEqual([[images[0]!], [five], [images[1]!]]);
    const thirty = join(dir, 'thirty.npy');
    writeFileSync(thirty, Buffer.alloc(30 * per + 128));
    let refusal: unknown;
    try {
      inputChunks([thirty], model, 5, 'explain', undefined, machine);
    } catch (e) {
      refusal = e;
    }
    expect(refusal).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('30 inputs would hold about'), hint: `Split "${thirty}" into smaller .npy files.` });
  });
});

describe('explain in chunks', () => {
  it('gives the same maps, files and summary as one batch, the grid showing the first chunk', async () => {
    const whole = join(dir, 'explain-whole');
    const chunked = join(dir, 'explain-chunked');
    // SmoothGrad and GradientSHAP draw seeded noise: each chunk continues the stream where the last ended
    const args = ['explain', 'samples/fashion-mnist', '--method', 'saliency,gradcam,integrated-gradients,smoothgrad,gradient-shap', '--samples', '3', '--shap-stdev', '0.1', '--npy', '--size', '32'];
    const a = await convlens(...args, '--out', whole, '-q');
    const b = await convlens(...args, '--out', chunked, '--chunk', '3');
    expect([a.code, b.code]).toEqual([0, 0]);
    expect(b.stderr).toContain('note: grid.png shows the first 3 of 10 inputs (explained in 4 chunks of at most 3); every input has its own PNGs');
    const files = readdirSync(whole).filter((f) => f.endsWith('.png') && f !== 'grid.png');
    expect(files).toHaveLength(50);
    expect(readdirSync(chunked).sort()).toEqual(readdirSync(whole).sort());
    for (const f of files) expect(readFileSync(join(chunked, f)).equals(readFileSync(join(whole, f))), f).toBe(true);
    for (const m of ['saliency', 'gradcam', 'integrated-gradients', 'smoothgrad', 'gradient-shap']) {
      const x = parseNpy(readFileSync(join(whole, `${m}.npy`)));
      const y = parseNpy(readFileSync(join(chunked, `${m}.npy`)));
      expect(y.dims).toEqual(x.dims);
      expect(y.dims[0]).toBe(10);
      expect(Buffer.from(y.data.buffer, y.data.byteOffset, y.data.byteLength).equals(Buffer.from(x.data.buffer, x.data.byteOffset, x.data.byteLength))).toBe(true);
    }
    const sa = JSON.parse(readFileSync(join(whole, 'summary.json'), 'utf8'));
    const sb = JSON.parse(readFileSync(join(chunked, 'summary.json'), 'utf8'));
    expect(sb.inputs).toEqual(sa.inputs);
    expect(sb.methods.map((m: { images: string[]; raw: unknown; completeness?: unknown }) => [m.images, m.raw, m.completeness])).toEqual(sa.methods.map((m: { images: string[]; raw: unknown; completeness?: unknown }) => [m.images, m.raw, m.completeness]));
    expect([sb.chunks, sb.gridShows, sa.chunks]).toEqual([4, 'the first 3 of 10 inputs', undefined]);
  }, 120_000);

  it('--chunk with a metric is refused: the metrics need every map at once', async () => {
    const r = await convlens('explain', 'samples/fashion-mnist', '--method', 'saliency', '--faithfulness', '--chunk', '3', '--out', join(dir, 'explain-metric'));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--chunk does not combine with --faithfulness');
  }, 60_000);
});

describe('NpyStream', () => {
  it('writes rows as they come and puts the file in place when closed; aborted, it leaves nothing', () => {
    const folder = join(dir, 'stream');
    mkdirSync(folder);
    const rows = (n: number, start: number): Tensor => ({ dtype: 'float32', dims: [n, 2, 3], data: Float32Array.from({ length: n * 6 }, (_, i) => start + i) });
    const done = new NpyStream(join(folder, 'a.npy'));
    done.append(rows(2, 0));
    expect(readdirSync(folder)).toHaveLength(1); // the temporary file only
    expect(existsSync(join(folder, 'a.npy'))).toBe(false);
    done.append(rows(3, 12));
    done.close();
    const back = parseNpy(readFileSync(join(folder, 'a.npy')));
    expect(back.dims).toEqual([5, 2, 3]);
    expect(Array.from(back.data as Float32Array)).toEqual(Array.from({ length: 30 }, (_, i) => i));
    const cancelled = new NpyStream(join(folder, 'c.npy'));
    cancelled.append(rows(2, 0));
    expect(() => cancelled.append({ dtype: 'float32', dims: [1, 3, 2], data: new Float32Array(6) })).toThrow(/rows of float32 \[3, 2\] after float32 \[2, 3\]/);
    cancelled.abort();
    expect(readdirSync(folder)).toEqual(['a.npy']);
  });

  it('leaves nothing when the process exits while it is open (a second Ctrl-C exits at once)', () => {
    const folder = join(dir, 'stream-exit');
    mkdirSync(folder);
    const stream = join(ROOT, 'dist', 'io', 'npy-stream.js');
    const script = [
      `import { readdirSync } from 'node:fs';`,
      `import { NpyStream } from ${JSON.stringify(stream)};`,
      `const s = new NpyStream(${JSON.stringify(join(folder, 'maps.npy'))});`,
      `s.append({ dtype: 'float32', dims: [2, 3], data: new Float32Array(6) });`,
      `console.log(readdirSync(${JSON.stringify(folder)}).length);`,
      `process.exit(130);`,
    ].join('\n');
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(130);
    expect(r.stdout.trim()).toBe('1'); // the temporary file was there
    expect(readdirSync(folder)).toEqual([]);
  });

  it('holds many streams open without Node warning of a leak, and removes them all at exit', () => {
    // explain --method all --npy --chunk holds one stream per method: one exit listener each made
    // Node print MaxListenersExceededWarning past ten
    const folder = join(dir, 'streams-exit');
    mkdirSync(folder);
    const stream = join(ROOT, 'dist', 'io', 'npy-stream.js');
    const script = [
      `import { readdirSync } from 'node:fs';`,
      `import { NpyStream } from ${JSON.stringify(stream)};`,
      `for (let k = 0; k < 26; k++) new NpyStream(${JSON.stringify(folder)} + '/m' + k + '.npy').append({ dtype: 'float32', dims: [1, 2], data: new Float32Array(2) });`,
      `const done = new NpyStream(${JSON.stringify(join(folder, 'done.npy'))});`,
      `done.append({ dtype: 'float32', dims: [1, 2], data: new Float32Array(2) });`,
      `done.close();`,
      `console.log(readdirSync(${JSON.stringify(folder)}).length);`,
      // Node prints its warnings on a later tick
      `setTimeout(() => process.exit(143), 100);`,
    ].join('\n');
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(143);
    expect(r.stderr).not.toContain('MaxListenersExceededWarning');
    expect(r.stdout.trim()).toBe('27');
    expect(readdirSync(folder)).toEqual(['done.npy']);
  });
});

describe('an input larger than memory allows', () => {
  it('is refused as too large for the machine, not with a count of inputs per run', () => {
    const per = 3 * 224 * 224 * 4;
    const machine = { total: per }; // half of it holds less than one input
    let refusal: unknown;
    try {
      checkInputsFit([join(dir, 'one.png')], model, 2, 'predict', machine);
    } catch (e) {
      refusal = e;
    }
    expect(refusal).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/^One 3x224x224 input would hold about 0\.0 GB in `predict`/), hint: expect.stringContaining('too large for this machine') });
  });
});

describe('an image for a model that takes neither 1 nor 3 channels', () => {
  // a 4-channel (RGB-D, multispectral) model: the 3-channel image ended in "RangeError: Invalid
  // typed array length", reported as a fault in ConvLens
  it('is refused with the reason and the way to feed it', async () => {
    const { GraphBuilder } = await import('../../src/engine/graph/builder.js');
    const { Layers } = await import('../../src/models/layers.js');
    const { seededRandom } = await import('../../src/models/init.js');
    const { Model } = await import('../../src/models/model.js');
    const b = new GraphBuilder();
    const L = new Layers(b, seededRandom(6));
    const x = b.input('image', 'float32', ['N', 4, 20, 24]);
    b.output(L.dense(L.flatten(L.globalAvgPool(L.conv2d(x, 'conv', { filters: 4 }), 'gap'), 'flat'), 'fc', 3));
    const rgbd = new Model(b.build(), engine, 'rgbd');
    await expect(loadInputs([join(ROOT, 'samples', 'photos', 'chelsea.png')], rgbd)).rejects.toMatchObject({ code: 'SHAPE_MISMATCH', message: expect.stringContaining('takes 4-channel input') });
  });
});
