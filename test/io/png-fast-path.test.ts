// Plain PNGs are decoded without sharp (src/io/image.ts, decodePlainPng). The two decoders must
// give the same pixels, or a model would see different inputs depending on the file's encoding:
// every committed sample and synthetic PNGs of each colour type are decoded both ways.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { decodeImage, encodePng, inflatesWithin, plainPngHeader, resizeForModel } from '../../src/io/image.js';
import type { ConvLensError } from '../../src/engine/errors.js';
import type { Preprocessing } from '../../src/models/metadata.js';

const SAMPLES = join(import.meta.dirname, '..', '..', 'samples');

function pngsUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return pngsUnder(path);
    return name.toLowerCase().endsWith('.png') ? [path] : [];
  });
}

/** What sharp alone makes of the bytes: the pipeline decodeImage used before the fast path. */
async function bySharp(bytes: Uint8Array, channels: 1 | 3): Promise<Uint8Array> {
  let img = sharp(bytes, { failOn: 'error' }).rotate();
  img = channels === 1 ? img.grayscale() : img.removeAlpha().toColourspace('srgb');
  return new Uint8Array(await img.raw().toBuffer());
}

function randomPixels(n: number, seed: number): Buffer {
  const out = Buffer.alloc(n);
  let a = seed;
  for (let i = 0; i < n; i++) {
    a = (a * 1103515245 + 12345) >>> 0;
    out[i] = a >>> 24;
  }
  return out;
}

/** A PNG of the given colour type, encoded by sharp from random pixels. */
async function syntheticPng(kind: 'gray' | 'gray+alpha' | 'rgb' | 'rgba', width = 37, height = 23): Promise<Uint8Array> {
  const channels = { gray: 1, 'gray+alpha': 2, rgb: 3, rgba: 4 }[kind] as 1 | 2 | 3 | 4;
  let img = sharp(randomPixels(width * height * channels, channels * 7 + 1), { raw: { width, height, channels } });
  if (channels <= 2) img = img.toColourspace('b-w');
  const png = await img.png({ palette: false }).toBuffer();
  return new Uint8Array(png);
}

describe('PNG fast path', () => {
  it('decodes every committed sample PNG to the same pixels as sharp, gray and RGB', async () => {
    const files = pngsUnder(SAMPLES);
    let fast = 0;
    for (const file of files) {
      const bytes = new Uint8Array(readFileSync(file));
      const header = plainPngHeader(bytes);
      for (const channels of [1, 3] as const) {
        const ours = await decodeImage(bytes, file, channels);
        expect(Buffer.from(ours.data).equals(Buffer.from(await bySharp(bytes, channels))), `${file} as ${channels} channel(s)`).toBe(true);
        if (header) fast++;
      }
    }
    // The samples are what users try first: the Fashion-MNIST ones (gray content saved as RGB)
    // and the RGB photos take the fast path both ways.
    expect(fast).toBeGreaterThan(files.length);
  });

  it.each(['gray', 'gray+alpha', 'rgb', 'rgba'] as const)('a %s PNG takes the fast path and matches sharp', async (kind) => {
    const bytes = await syntheticPng(kind);
    const header = plainPngHeader(bytes);
    expect(header).toEqual({ width: 37, height: 23, colour: kind.startsWith('rgb'), alpha: kind === 'gray+alpha' || kind === 'rgba' });
    for (const channels of [1, 3] as const) {
      const ours = await decodeImage(bytes, kind, channels);
      expect([ours.width, ours.height, ours.channels]).toEqual([37, 23, channels]);
      expect(Buffer.from(ours.data).equals(Buffer.from(await bySharp(bytes, channels))), `${kind} as ${channels} channel(s)`).toBe(true);
    }
  });

  it('leaves to sharp what needs colour management, 16 bits, palettes or is too big', async () => {
    const raw = randomPixels(16 * 16 * 3, 5);
    const withProfile = new Uint8Array(await sharp(raw, { raw: { width: 16, height: 16, channels: 3 } }).withIccProfile('p3').png().toBuffer());
    const sixteenBit = new Uint8Array(await sharp(raw, { raw: { width: 16, height: 16, channels: 3 } }).toColourspace('rgb16').png().toBuffer());
    const palette = new Uint8Array(await sharp(raw, { raw: { width: 16, height: 16, channels: 3 } }).png({ palette: true }).toBuffer());
    expect(plainPngHeader(withProfile)).toBeUndefined();
    expect(plainPngHeader(sixteenBit)).toBeUndefined();
    expect(plainPngHeader(palette)).toBeUndefined();
    for (const bytes of [withProfile, sixteenBit, palette]) {
      const ours = await decodeImage(bytes, 'x', 3);
      expect(Buffer.from(ours.data).equals(Buffer.from(await bySharp(bytes, 3)))).toBe(true);
    }
    // A header claiming 100000 x 100000 pixels: not decoded in JS; sharp's pixel limit refuses it.
    const bomb = new Uint8Array(await syntheticPng('gray', 4, 4));
    new DataView(bomb.buffer).setUint32(16, 100000);
    new DataView(bomb.buffer).setUint32(20, 100000);
    expect(plainPngHeader(bomb)).toBeUndefined();
    await expect(decodeImage(bomb, 'bomb.png', 1)).rejects.toThrow(/Cannot decode bomb.png as an image/);
    // with the header's checksum mended it is the pixel count that is refused, and the way out says so
    new DataView(bomb.buffer).setUint32(29, crc32(bomb.subarray(12, 29)));
    const refused = await decodeImage(bomb, 'bomb.png', 1).then(
      () => undefined,
      (e: unknown) => e as ConvLensError,
    );
    expect(refused?.message).toBe('Cannot decode bomb.png as an image: it has more pixels than the decoder accepts.');
    expect(refused?.hint).toMatch(/^Scale it down first \(at most 268 megapixels/);
  });

  it('an image already at the model size skips resampling with the same pixels sharp gives', async () => {
    const prep: Preprocessing = { size: [28, 28], channels: 'gray', range: [0, 1], mean: [0], std: [1], resize: 'stretch' };
    const file = pngsUnder(join(SAMPLES, 'fashion-mnist'))[0]!;
    const bytes = new Uint8Array(readFileSync(file));
    const ours = await resizeForModel(bytes, prep, file);
    const reference = await sharp(bytes, { failOn: 'error' }).rotate().grayscale().resize(28, 28, { fit: 'fill', kernel: 'lanczos3' }).raw().toBuffer();
    expect(Buffer.from(ours.data).equals(reference)).toBe(true);
  });

  it.each([1, 3] as const)('maps encoded in JS (%i channel(s)) decode in sharp to the same pixels', async (channels) => {
    const img = { width: 41, height: 29, channels, data: new Uint8Array(randomPixels(41 * 29 * channels, 11 + channels)) };
    const png = await encodePng(img);
    expect(plainPngHeader(png)).toEqual({ width: 41, height: 29, colour: channels === 3, alpha: false });
    const { info } = await sharp(png).metadata().then((m) => ({ info: m }));
    expect([info.width, info.height, info.channels]).toEqual([41, 29, channels]);
    expect(Buffer.from(img.data).equals(Buffer.from(await bySharp(png, channels)))).toBe(true);
  });

  it('an eXIf chunk after the image data still sends the file to sharp (it may turn the picture)', async () => {
    const png = Buffer.from(await syntheticPng('rgb'));
    expect(plainPngHeader(png)).toBeDefined();
    const iend = png.length - 12;
    const exif = Buffer.alloc(12 + 4);
    exif.writeUInt32BE(4, 0);
    exif.write('eXIfMM\0*', 4, 'latin1');
    exif.writeUInt32BE(crc32(exif.subarray(4, 12)), 12);
    const withExif = Buffer.concat([png.subarray(0, iend), exif, png.subarray(iend)]);
    expect(plainPngHeader(withExif)).toBeUndefined();
  });

  it('a small header over image data that inflates to far more (a compression bomb) is not inflated in JS', async () => {
    const png = Buffer.from(await syntheticPng('gray', 4, 4));
    const header = plainPngHeader(png)!;
    expect(inflatesWithin(png, header)).toBe(true);
    // 4x4 gray needs 4 rows of 1 + 4 bytes; this IDAT inflates to 32 MB of zeros.
    const data = deflateSync(Buffer.alloc(32 << 20), { level: 9 });
    const idat = Buffer.alloc(12 + data.length);
    idat.writeUInt32BE(data.length, 0);
    idat.write('IDAT', 4, 'latin1');
    data.copy(idat, 8);
    idat.writeUInt32BE(crc32(idat.subarray(4, 8 + data.length)), 8 + data.length);
    const ihdrEnd = 8 + 12 + 13;
    const bomb = Buffer.concat([png.subarray(0, ihdrEnd), idat, png.subarray(png.length - 12)]);
    expect(plainPngHeader(bomb)).toEqual(header);
    expect(inflatesWithin(bomb, header)).toBe(false);
    // sharp, which stops at the rows it expects, answers instead: pixels or a worded refusal
    await decodeImage(bomb, 'bomb.png', 1).then(
      (img) => expect([img.width, img.height]).toEqual([4, 4]),
      (e: Error) => expect(e.message).toMatch(/Cannot decode bomb.png as an image/),
    );
  });
});
