// Images much smaller than the model's input. A 32x32 thumbnail given to an ImageNet model is
// scaled up 8x, and the model then classifies a blur; the output looked like any other
// prediction. Inputs scaled up 2x or more are now named in one warning, with the size that
// needs no scaling; images at or above the model's size, or shrunk to it, get none.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { resizeForModel, SCALED_UP_NOTE_FACTOR, unscaledSize } from '../../src/io/image.js';
import { loadInputs, scaledUpNote } from '../../src/io/inputs.js';
import { loadModel } from '../../src/models/load.js';
import { convlens } from '../support/cli.js';
import { tempFolder } from '../support/temp-folder.js';

const engine = new Engine(nodeBackend(), { threads: 1 });
const squeezenet = loadModel('squeezenet', engine); // centre crop 224 of 256
const fashion = loadModel('builtin', engine); // stretched to 28x28 gray
const dir = tempFolder('convlens-scaled-up-');
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await engine.dispose();
});

async function image(name: string, width: number, height: number, orientation?: number): Promise<string> {
  const data = Buffer.alloc(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 37) % 251;
  let img = sharp(data, { raw: { width, height, channels: 3 } });
  if (orientation) img = img.withMetadata({ orientation });
  const path = join(dir, name);
  writeFileSync(path, await img.toFormat(name.endsWith('.jpg') ? 'jpeg' : 'png').toBuffer());
  return path;
}

describe('inputs scaled up to the model size', () => {
  it('report the size they came from and the factor, for the centre crop and for stretching', async () => {
    const tiny = await image('tiny.png', 32, 32);
    const [item] = (await loadInputs([tiny], squeezenet)).items;
    // the crop keeps 224/256 of the shorter side: 28 pixels of the thumbnail become 224
    expect(item!.scaledUp).toEqual({ from: [32, 32], factor: 8 });
    const small = await image('small.png', 10, 12);
    const [stretched] = (await loadInputs([small], fashion)).items;
    expect(stretched!.scaledUp).toEqual({ from: [12, 10], factor: 28 / 10 });
  });

  it('take an EXIF quarter turn into account (stored 40x20, shown 20x40)', async () => {
    const turned = await image('turned.jpg', 40, 20, 6);
    expect((await sharp(turned).metadata()).orientation).toBe(6);
    const bytes = new Uint8Array(readFileSync(turned));
    const img = await resizeForModel(bytes, fashion.meta.preprocessing, 'turned');
    expect(img.scaledUp).toBeUndefined(); // 28/20 = 1.4x, under the note's factor
    // 120 rows of 60: 3x the shown 40 rows and 20 columns alike (the stored 40x20 would be 6x)
    const tall = { ...fashion.meta.preprocessing, size: [120, 60] as [number, number] };
    const up = await resizeForModel(bytes, tall, 'turned');
    expect(up.scaledUp).toEqual({ from: [40, 20], factor: 3 });
  });

  it('are left unmarked at or above the size that needs no scaling, and just under the factor', async () => {
    expect(unscaledSize(squeezenet.meta.preprocessing)).toEqual([256, 256]);
    expect(unscaledSize(fashion.meta.preprocessing)).toEqual([28, 28]);
    const paths = [await image('exact.png', 256, 256), await image('large.png', 640, 480), await image('mild.png', 130, 200)];
    const { items } = await loadInputs(paths, squeezenet);
    expect(items.map((it) => it.scaledUp)).toEqual([undefined, undefined, undefined]); // 130 -> 256 is 1.97x
    expect(scaledUpNote(items, squeezenet)).toBeUndefined();
    const { items: under } = await loadInputs([await image('under.png', 128, 300)], squeezenet);
    expect(under[0]!.scaledUp!.factor).toBeGreaterThanOrEqual(SCALED_UP_NOTE_FACTOR);
  });

  it('are named in one line, the first three by name and the rest counted', async () => {
    const paths = [];
    for (let i = 0; i < 5; i++) paths.push(await image(`t${i}.png`, 16 + i, 16 + i));
    paths.push(await image('fine.png', 300, 300));
    const { items } = await loadInputs(paths, squeezenet);
    const note = scaledUpNote(items, squeezenet)!;
    expect(note).toContain("5 inputs are scaled up 2x or more to the model's 224x224 input");
    expect(note).toContain(`${paths[0]} (16x16, 16x)`);
    expect(note).toContain('and 2 more');
    expect(note).not.toContain('fine.png');
    expect(note).toContain('images of 256x256 pixels or more are not scaled up');
  });

  it('are warned about by the CLI, and not under -q', async () => {
    const tiny = join(dir, 'tiny.png');
    const run = await convlens('predict', tiny, '--model', 'squeezenet', '--top', '1');
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/^warning: input is scaled up 2x or more to the model's 224x224 input: .*tiny\.png \(32x32, 8x\)\. The model sees a blurred picture/m);
    const quiet = await convlens('predict', tiny, '--model', 'squeezenet', '--top', '1', '-q');
    expect(quiet.stderr).toBe('');
    const explained = await convlens('explain', tiny, '--model', 'squeezenet', '--method', 'saliency', '--no-images', '--out', join(dir, 'out'));
    expect(explained.code).toBe(0);
    expect(explained.stderr).toContain('tiny.png (32x32, 8x)');
  });
});
