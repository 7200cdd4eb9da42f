// Segments masks in the studio (POST /api/masks, params.segments.mask): the CLI's refusals
// (a bomb from its header, 16 bits a sample, too many colours, other proportions than the image)
// before any job, bounded uploads, data-folder reads only, and a mask that really gives the
// segments: on a model linear in its input, feature ablation gives each region exactly w . x.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import { encode as encodePng } from 'fast-png';
import sharp from 'sharp';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { encodeModel } from '../../src/engine/onnx/codec.js';
import { GraphBuilder } from '../../src/engine/graph/builder.js';
import { writeMetadata } from '../../src/models/metadata.js';
import { createStudio, type Studio } from '../../src/interfaces/server/app.js';
import { ROOT } from '../support/cli.js';
import { rng } from '../support/rng.js';
import { jobEvents, multipart, pageInject } from './page-inject.js';
import { tempFolder } from '../support/temp-folder.js';

const engine = new Engine(nodeBackend(), { threads: 1 });
const tmp = tempFolder('convlens-masks-');
const data = join(tmp, 'data');
const outside = join(tmp, 'outside');
const MAX_BYTES = 256 * 1024;
let studio: Studio;

beforeAll(async () => {
  mkdirSync(data);
  mkdirSync(outside);
  studio = await createStudio({ engine, webDir: join(ROOT, 'no-such-web-dir'), dataRoots: [data], maxImageBytes: MAX_BYTES, maskUploads: { count: 4, bytes: 1 << 20 } });
});
afterAll(async () => {
  await studio.app.close();
  await engine.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

const inject = pageInject(() => studio);

const rgbPng = async (w: number, h: number, colour: (y: number, x: number) => [number, number, number]): Promise<Buffer> => {
  const px = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) px.set(colour(y, x), (y * w + x) * 3);
  return sharp(px, { raw: { width: w, height: h, channels: 3 } }).png().toBuffer();
};

/** 10000x10000 grey, one label: 100 megapixels in a file of about 100 kB. */
function bomb(): Buffer {
  const chunk = (type: string, body: Buffer): Buffer => {
    const b = Buffer.concat([Buffer.from(type, 'latin1'), body]);
    const head = Buffer.alloc(4);
    head.writeUInt32BE(body.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(b) >>> 0);
    return Buffer.concat([head, b, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(10_000, 0);
  ihdr.writeUInt32BE(10_000, 4);
  ihdr[8] = 8;
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.alloc(10_001 * 10_000), { level: 9 })), chunk('IEND', Buffer.alloc(0))]);
}

const masksHeld = async (): Promise<number> => ((await inject({ method: 'GET', url: '/api/masks' })).json() as { masks: unknown[] }).masks.length;
const jobsRunning = async (): Promise<number> => {
  const h = (await inject({ method: 'GET', url: '/api/health' })).json() as { jobsRunning: number; jobsQueued: number };
  return h.jobsRunning + h.jobsQueued;
};
const BAG = 'fashion-mnist/bag-test18.png';

/** 56x56 (twice the built-in model's 28x28, like the bag image's proportions): red upper-left triangle, blue elsewhere. */
const triangle = (): Promise<Buffer> => rgbPng(56, 56, (y, x) => (x + y < 40 ? [255, 0, 0] : [0, 0, 255]));

async function upload(name: string, bytes: Uint8Array): Promise<LightMyRequestResponse> {
  return inject({ method: 'POST', url: '/api/masks', ...multipart(name, bytes, 'image/png') });
}

async function explainResult(payload: Record<string, unknown>): Promise<{ maps: { method: string; params: Record<string, unknown>; values: { data: string } }[] }> {
  const r = await inject({ method: 'POST', url: '/api/explain', payload });
  expect(r.statusCode, r.body.slice(0, 400)).toBe(202);
  const last = (await jobEvents<{ type: string; result?: never; error?: unknown }>(inject, (r.json() as { job: string }).job)).at(-1)!;
  expect(last.type, JSON.stringify(last.error)).toBe('result');
  return last.result!;
}
const values = (m: { values: { data: string } }): Float32Array => {
  const b = Buffer.from(m.values.data, 'base64');
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};

describe('segments masks in the studio', () => {
  it('takes an uploaded mask as the segments of feature ablation and LIME, and it changes the map', async () => {
    const r = await upload('triangle.png', await triangle());
    expect(r.statusCode, r.body).toBe(201);
    const mask = r.json() as { id: string; segments: number; width: number; url: string };
    expect(mask).toMatchObject({ segments: 2, width: 56, source: 'upload' });
    expect((await inject({ method: 'GET', url: mask.url })).headers['content-type']).toBe('image/png');

    const masked = await explainResult({ model: 'builtin', image: BAG, methods: ['feature-ablation', 'lime'], target: 8, params: { segments: { mask: mask.id, samples: 20 } } });
    const plain = await explainResult({ model: 'builtin', image: BAG, methods: ['feature-ablation'], target: 8, params: { segments: { segmentation: 'grid', count: 16 } } });
    for (const m of masked.maps) {
      // the mask's name, for the reader of the report (the studio's cards say it)
      expect(m.params, m.method).toMatchObject({ segmentation: 'mask', mask: 'triangle', segments: [2] });
      const v = values(m);
      // input pixel (y, x) reads mask pixel (2y + 1, 2x + 1): red where 2x + 2y + 2 < 40
      for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) expect(v[y * 28 + x], `${m.method} ${y},${x}`).toBe(2 * x + 2 * y + 2 < 40 ? v[0] : v[27 * 28 + 27]);
    }
    expect(new Set(values(plain.maps[0]!)).size).toBeGreaterThan(2);
    expect(plain.maps[0]!.params).not.toHaveProperty('mask');
  });

  it('gives each region of the mask exactly w . x on a model linear in its input', async () => {
    const [H, W] = [12, 16];
    const rand = rng(5);
    const b = new GraphBuilder();
    const x = b.input('input', 'float32', ['N', 3, H, W]);
    const flat = b.op('Flatten', [x], { axis: 1 }, { outputs: ['flat'] });
    const weights = Float32Array.from({ length: 2 * 3 * H * W }, () => rand() * 2 - 1);
    const w = b.initializer('fc.weight', { dtype: 'float32', dims: [2, 3 * H * W], data: weights });
    const bias = b.initializer('fc.bias', { dtype: 'float32', dims: [2], data: Float32Array.of(0.1, -0.1) });
    b.output(b.op('Gemm', [flat, w, bias], { transB: 1 }, { outputs: ['logits'] }));
    const g = b.build();
    writeMetadata(g, { labels: ['a', 'b'], preprocessing: { size: [H, W], channels: 'rgb', range: [0, 1], mean: [0, 0, 0], std: [1, 1, 1], resize: 'stretch' } });
    const model = await inject({ method: 'POST', url: '/api/models', ...multipart('linear.onnx', encodeModel(g), 'image/png') });
    expect(model.statusCode, model.body).toBe(201);
    const pixels = Buffer.from(Array.from({ length: H * W * 3 }, () => Math.floor(rand() * 256)));
    const image = await inject({ method: 'POST', url: '/api/images', ...multipart('noise.png', await sharp(pixels, { raw: { width: W, height: H, channels: 3 } }).png().toBuffer()) });
    expect(image.statusCode, image.body).toBe(201);
    // a ring (label 1) in a field (label 0), drawn at twice the image's size
    const inRing = (y: number, xx: number): boolean => Math.hypot(y - 5.5, xx - 7.5) < 4;
    const mask = (await upload('ring.png', await rgbPng(2 * W, 2 * H, (y, xx) => (inRing(Math.floor(y / 2), Math.floor(xx / 2)) ? [200, 10, 10] : [10, 10, 200])))).json() as { id: string };
    const res = await explainResult({ model: (model.json() as { id: string }).id, image: (image.json() as { id: string }).id, methods: ['feature-ablation', 'kernel-shap'], target: 1, params: { segments: { mask: mask.id, baseline: 'zero', regression: 'linear', samples: 16 } } });
    const exact = [0, 0];
    for (let c = 0; c < 3; c++) for (let p = 0; p < H * W; p++) exact[inRing(Math.floor(p / W), p % W) ? 1 : 0] += weights[3 * H * W + c * H * W + p]! * (pixels[p * 3 + c]! / 255);
    for (const m of res.maps) {
      const v = values(m);
      for (let p = 0; p < H * W; p++) expect(v[p], `${m.method} pixel ${p}`).toBeCloseTo(exact[inRing(Math.floor(p / W), p % W) ? 1 : 0]!, 3);
    }
  });

  it('refuses a PNG bomb from its header, quickly, and keeps nothing', async () => {
    const before = await masksHeld();
    const t0 = performance.now();
    const r = await upload('bomb.png', bomb());
    expect(performance.now() - t0).toBeLessThan(3000);
    expect(r.statusCode).toBe(400);
    expect(r.json().error.message).toMatch(/The mask "bomb\.png" is 10000x10000 pixels \(100 megapixels\); a mask may have at most 50\./);
    expect(await masksHeld()).toBe(before);
  });

  it('refuses a 16-bit mask, a JPEG, and one with more than 512 colours', async () => {
    const before = await masksHeld();
    const labels16 = Uint16Array.from({ length: 28 * 28 }, (_, p) => 2 * Number(Math.floor(p / 28) >= 14) + Number(p % 28 >= 14));
    const r16 = await upload('labels16.png', encodePng({ width: 28, height: 28, depth: 16, channels: 1, data: labels16 }));
    expect(r16.statusCode).toBe(400);
    expect(r16.json().error.message).toMatch(/"labels16\.png" has 16 bits per sample; read at 8 bits, its labels would round together and merge/);
    const jpeg = await upload('mask.jpg', await sharp(await triangle()).jpeg().toBuffer());
    expect(jpeg.statusCode).toBe(415);
    expect(jpeg.json().error.hint).toMatch(/JPEG and WebP blend the edges/);
    const many = await upload('many.png', await rgbPng(40, 40, (y, x) => [(y * 40 + x) % 256, Math.floor((y * 40 + x) / 256), 0]));
    expect(many.statusCode).toBe(400);
    expect(many.json().error.message).toMatch(/The mask "many\.png" has more than 512 distinct colours/);
    expect(await masksHeld()).toBe(before);
  });

  it('bounds uploads: a file over the limit is refused, and the oldest mask leaves when the count is reached', async () => {
    const before = await masksHeld();
    const big = Buffer.concat([await triangle(), Buffer.alloc(MAX_BYTES + 1)]);
    const r = await upload('big.png', big);
    expect(r.statusCode).toBe(413);
    expect(await masksHeld()).toBe(before);
    for (let i = 0; i < 6; i++) expect((await upload(`m${i}.png`, await triangle())).statusCode).toBe(201);
    expect(await masksHeld()).toBe(4);
  });

  it('reads a mask named by path only inside the data folders, and never says what a file holds', async () => {
    const secret = `CONVLENS-SECRET-${Math.random().toString(36).slice(2)}`;
    writeFileSync(join(outside, 'mask.png'), await triangle());
    writeFileSync(join(outside, 'secret.txt'), secret);
    writeFileSync(join(data, 'not-a-png.png'), secret);
    writeFileSync(join(data, 'mask.png'), await triangle());
    const before = await masksHeld();
    for (const path of [join(outside, 'mask.png'), join(data, '..', 'outside', 'secret.txt'), '/etc/passwd']) {
      const r = await inject({ method: 'POST', url: '/api/masks', payload: { path } });
      expect(r.statusCode, path).toBe(403);
      expect(r.body).toMatch(/outside the folders this server reads from/);
      expect(r.body).not.toContain(secret);
      expect(r.body).not.toContain('root:');
    }
    const bad = await inject({ method: 'POST', url: '/api/masks', payload: { path: join(data, 'not-a-png.png') } });
    expect(bad.statusCode).toBe(415);
    expect(bad.body).not.toContain(secret);
    expect(await masksHeld()).toBe(before);
    const ok = await inject({ method: 'POST', url: '/api/masks', payload: { path: join(data, 'mask.png') } });
    expect(ok.statusCode, ok.body).toBe(201);
    expect(ok.json()).toMatchObject({ source: 'data', segments: 2 });
  });

  it('lists the PNGs in the data folders for the page to pick a mask from (sub-folders too), none outside them, no other files', async () => {
    mkdirSync(join(data, 'masks', 'cats'), { recursive: true });
    writeFileSync(join(data, 'masks', 'cats', 'chelsea-mask.png'), await triangle());
    writeFileSync(join(data, 'masks', 'readme.txt'), 'masks for the cat');
    writeFileSync(join(outside, 'elsewhere.png'), await triangle());
    const r = await inject({ method: 'GET', url: '/api/masks/files' });
    expect(r.statusCode, r.body).toBe(200);
    const { files, truncated } = r.json() as { files: { path: string; root: string; relative: string }[]; truncated: boolean };
    expect(truncated).toBe(false);
    const mine = files.filter((f) => f.path.startsWith(data));
    expect(mine).toContainEqual({ path: join(data, 'masks', 'cats', 'chelsea-mask.png'), root: data, relative: join('masks', 'cats', 'chelsea-mask.png') });
    expect(files.every((f) => /\.png$/i.test(f.path))).toBe(true);
    expect(files.some((f) => f.path.startsWith(outside))).toBe(false);
    // and what is listed is what POST { path } reads
    const picked = await inject({ method: 'POST', url: '/api/masks', payload: { path: join(data, 'masks', 'cats', 'chelsea-mask.png') } });
    expect(picked.statusCode, picked.body).toBe(201);
  });

  it('refuses a mask that cannot serve the request before any job starts, with hints that name no CLI flag', async () => {
    const mask = (await upload('triangle.png', await triangle())).json() as { id: string };
    const wide = (await upload('wide.png', await rgbPng(80, 40, (_, x) => (x < 40 ? [0, 0, 0] : [255, 255, 255])))).json() as { id: string };
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ methods: ['feature-ablation'], params: { segments: { mask: wide.id } } }, /The mask "wide" is 80x40 but the image "bag-test18" is 28x28: a mask drawn on the image has its proportions/],
      [{ methods: ['gradcam'], params: { segments: { mask: mask.id } } }, /applies only to feature ablation, KernelSHAP and LIME/],
      [{ methods: ['lime'], params: { segments: { mask: mask.id, count: 12 } } }, /Segment count applies only to computed segments; the mask gives the segments itself/],
      [{ methods: ['lime'], params: { segments: { mask: 'mask/no-such-mask' } } }, /No segments mask with id "mask\/no-such-mask"/],
      [{ methods: ['lime'], params: { segments: { mask: '../../etc/passwd' } } }, /mask/],
    ];
    for (const [body, message] of cases) {
      const r = await inject({ method: 'POST', url: '/api/explain', payload: { model: 'builtin', image: BAG, ...body } });
      expect(r.statusCode, JSON.stringify(body)).toBeGreaterThanOrEqual(400);
      expect(r.statusCode).toBeLessThan(500);
      expect(r.json().error.message, JSON.stringify(body)).toMatch(message);
      expect(`${r.json().error.message} ${r.json().error.hint ?? ''}`).not.toMatch(/--[a-z]/);
      expect(await jobsRunning()).toBe(0);
    }
  });
});
