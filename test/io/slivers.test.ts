// Images far from square. The centre-crop transform scales an image until its shorter side fits
// and then crops: for a 20000x1 sliver that intermediate is 5 gigapixels, which sharp refused
// (with a message about the decoder's pixel limit) or, with an alpha channel, answered by
// aborting the whole process (free(): double free). The region the crop shows is now cut first.
// The synthesis commands, which keep the aspect ratio, say when a side ends up too short.
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { resizeForModel } from '../../src/io/image.js';
import { dream } from '../../src/methods/synthesize/dream.js';
import { loadModel } from '../../src/models/load.js';

const engine = new Engine(nodeBackend(), { threads: 1 });
const model = loadModel('squeezenet', engine);
afterAll(() => engine.dispose());

/** A w x h image whose red channel rises from 0 to 255 along its longer side. */
async function ramp(w: number, h: number, alpha: boolean): Promise<Uint8Array> {
  const channels = alpha ? 4 : 3;
  const data = Buffer.alloc(w * h * channels);
  const long = Math.max(w, h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const p = (y * w + x) * channels;
      data[p] = Math.round((255 * Math.max(x, y)) / (long - 1));
      data[p + 1] = 100;
      if (alpha) data[p + 3] = 255;
    }
  return new Uint8Array(await sharp(data, { raw: { width: w, height: h, channels } }).png().toBuffer());
}

describe('slivers through the centre crop', () => {
  it('give the middle of the image at the model size, with or without alpha', async () => {
    const prep = model.meta.preprocessing;
    expect(prep.resize).toBe('crop');
    for (const [w, h, alpha] of [[20000, 1, false], [1, 30000, true]] as const) {
      const img = await resizeForModel(await ramp(w, h, alpha), prep, `"${w}x${h}.png"`);
      expect([img.width, img.height, img.channels]).toEqual([224, 224, 3]);
      const centre = img.data[(112 * 224 + 112) * 3]!;
      expect(Math.abs(centre - 128)).toBeLessThanOrEqual(2); // the middle of the ramp
      expect(img.data[(112 * 224 + 112) * 3 + 1]).toBe(100);
    }
  });

  it('a photo keeps the exact transform (scale, then crop)', async () => {
    const prep = model.meta.preprocessing;
    const bytes = await ramp(300, 200, false);
    const img = await resizeForModel(bytes, prep, '"photo.png"');
    // 200 -> 256 on the short side (scale 1.28), 384 wide, centre crop 224: x from 80 to 303 of 384
    const scaled = await sharp(bytes).resize(384, 256, { fit: 'fill', kernel: 'lanczos3' }).extract({ left: 80, top: 16, width: 224, height: 224 }).raw().toBuffer();
    expect(Buffer.from(img.data).equals(scaled)).toBe(true);
  });
});

describe('a synthesis image too small for the model', () => {
  it('is refused with the octave, its size and the way out', async () => {
    const image = { dtype: 'float32' as const, dims: [1, 3, 20, 30], data: new Float32Array(3 * 20 * 30).fill(0.5) };
    await expect(dream(model, image, { octaves: 3, steps: 1 })).rejects.toMatchObject({
      code: 'SHAPE_MISMATCH',
      message: expect.stringMatching(/^DeepDream's octave 3 is 30 pixels wide and 20 high, too small for the model/),
      hint: expect.stringContaining('fewer octaves'),
    });
  });

  it('skips the smallest octaves the model cannot take and dreams on the others, saying so', async () => {
    // the studio's 256-pixel photo at 8 octaves: the smallest is 24x16
    const [h, w] = [171, 256];
    const data = new Float32Array(3 * h * w);
    for (let i = 0; i < data.length; i++) data[i] = 0.5 + 0.4 * Math.sin(i * 0.37);
    const r = await dream(model, { dtype: 'float32', dims: [1, 3, h, w], data }, { octaves: 8, steps: 1 });
    const sizes = r.params['sizes'] as [number, number][];
    expect(sizes.length).toBeGreaterThan(1);
    expect(sizes.length).toBeLessThan(8);
    expect(sizes.at(-1)).toEqual([h, w]);
    expect(r.octaves).toHaveLength(sizes.length);
    expect(r.notes).toEqual([expect.stringMatching(new RegExp(`^the ${8 - sizes.length} smallest octaves \\(24x16, .*pixels\\) are too small for the model; DeepDream ran the other ${sizes.length}$`))]);
  }, 60_000);
});
