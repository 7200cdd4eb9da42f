// POST /api/concepts is `convlens concepts` as a studio job: one factorization of a layer over the
// request's images, each concept with its classes, coverage and colour, and per image its maps.
// Every size is bounded and the library's refusals are the route's answer before a job starts;
// the job reports progress and can be cancelled.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { createStudio } from '../../src/interfaces/server/app.js';
import { loadInputs } from '../../src/io/inputs.js';
import { conceptColour } from '../../src/methods/inspect/concept-figure.js';
import { factorizedLayer, factorizeFeatures, MAX_FACTORIZATION_WORK, MAX_FACTORIZED_VALUES } from '../../src/methods/inspect/concepts.js';
import { ROOT } from '../support/cli.js';
import { inProcessStudio, jobEvents, pageInject } from './page-inject.js';
import { tempFolder } from '../support/temp-folder.js';

const { inject, studio } = inProcessStudio();

const FASHION = ['fashion-mnist/bag-test18.png', 'fashion-mnist/trouser-test2.png', 'fashion-mnist/sneaker-test9.png'];
const PHOTOS = ['photos/chelsea.png', 'photos/coffee.png', 'photos/astronaut.png', 'photos/rocket.jpg'];
const post = (payload: Record<string, unknown>) => inject({ method: 'POST', url: '/api/concepts', payload: { model: 'builtin', images: FASHION, ...payload } });

interface Wire {
  dtype: string;
  dims: number[];
  data: string;
}
interface Result {
  layer: { name: string; label: string; shape: number[] };
  factorization: { components: number; relativeError: number; iterations: number; seed: number };
  concepts: { concept: number; coverage: number; colour: number[]; classes?: { index: number; label: string; probability: number; logit: number }[] }[];
  images: { image: string; input: { width: number; height: number; png: string }; maps: Wire[] }[];
  notes: string[];
}
type Event = { type: string; result?: Result; error?: { message: string }; done?: number; total?: number };

async function result(payload: Record<string, unknown>): Promise<{ result: Result; events: Event[] }> {
  const r = await post(payload);
  expect(r.statusCode, r.body).toBe(202);
  const events = await jobEvents<Event>(inject, r.json().job);
  const last = events.at(-1)!;
  expect(last.type, JSON.stringify(last.error)).toBe('result');
  return { result: last.result!, events };
}

const floats = (data: string): Float32Array => {
  const b = Buffer.from(data, 'base64');
  return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
};

describe('POST /api/concepts', () => {
  it('factorizes the layer over all the images as the library does: classes, coverage, colour and a map per image and concept', async () => {
    const { result: r, events } = await result({ layer: 'relu3', components: 4, top: 2, seed: 3 });
    const model = studio().models.require('builtin');
    const { batch } = await loadInputs(FASHION.map((f) => join(ROOT, 'samples', f)), model);
    const lib = await factorizeFeatures(model, batch, { layer: 'relu3', components: 4, topClasses: 2, seed: 3 });
    const [c, h, w] = lib.shape;
    expect(r.layer).toEqual({ name: lib.layer, label: 'relu3', shape: [c, h, w] });
    expect(r.factorization).toEqual({ components: lib.concepts.length, relativeError: expect.closeTo(lib.relativeError, 5), iterations: lib.iterations, seed: 3 });
    expect(r.concepts).toHaveLength(lib.concepts.length);
    for (const [i, concept] of r.concepts.entries()) {
      expect(concept.concept).toBe(i + 1);
      expect(concept.coverage).toBeCloseTo(lib.concepts[i]!.coverage, 6);
      expect(concept.colour).toEqual(conceptColour(i, lib.concepts.length));
      expect(concept.classes!.map((k) => k.label)).toEqual(lib.concepts[i]!.classes!.map((k) => k.label));
      expect(concept.classes).toHaveLength(2);
    }
    // the coverages split the pixels among the concepts
    expect(r.concepts.reduce((a, k) => a + k.coverage, 0)).toBeCloseTo(1, 5);
    expect(r.images.map((i) => i.image)).toEqual(FASHION);
    const k = lib.concepts.length;
    const maps = lib.maps.data as Float32Array;
    let peak = 0;
    for (const [i, image] of r.images.entries()) {
      expect(image.input).toMatchObject({ width: 28, height: 28 });
      expect(Buffer.from(image.input.png, 'base64').subarray(1, 4).toString()).toBe('PNG');
      expect(image.maps).toHaveLength(k);
      for (const [j, map] of image.maps.entries()) {
        expect(map.dims).toEqual([h, w]);
        const got = floats(map.data);
        const want = maps.subarray((i * k + j) * h * w, (i * k + j + 1) * h * w);
        for (let p = 0; p < h * w; p++) expect(got[p]).toBeCloseTo(want[p]!, 5);
        peak = Math.max(peak, ...got);
      }
    }
    // each concept's maps peak at 1 over all the images
    expect(peak).toBeCloseTo(1, 5);
    // the factorization's sweeps are reported as progress
    expect(events.some((e) => e.type === 'progress')).toBe(true);
  });

  it('defaults to the layer the model listing names for channels, 5 concepts and seed 0, and names the concepts\' classes', async () => {
    const listed = (await inject({ method: 'GET', url: '/api/models' })).json().models.find((m: { id: string }) => m.id === 'builtin') as { channelsLayer: string };
    const { result: r } = await result({ images: [FASHION[0]] });
    expect(r.layer.name).toBe(listed.channelsLayer);
    expect(r.factorization).toMatchObject({ components: r.concepts.length, seed: 0 });
    expect(r.concepts.length).toBeLessThanOrEqual(5);
    expect(r.concepts[0]!.classes).toHaveLength(3);
  });

  it('sends block means of a large layer\'s maps, no side over 64', async () => {
    const { result: r } = await result({ model: 'squeezenet', images: PHOTOS.slice(0, 2), layer: 'relu0', components: 2, iterations: 5 });
    expect(r.layer.shape).toEqual([64, 111, 111]);
    for (const image of r.images) for (const map of image.maps) expect(map.dims).toEqual([56, 56]);
    expect(r.images[0]!.input).toMatchObject({ width: 224, height: 224 });
  }, 60_000);

  const refusals: [what: string, payload: Record<string, unknown>, status: number, message: RegExp][] = [
    ['an unknown layer', { layer: 'conv9' }, 404, /No layer named "conv9"/],
    ['a layer that is no feature map', { layer: 'flatten' }, 400, /flatten/],
    ['a 1x1 layer', { layer: 'gap' }, 400, /1x1 spatially/],
    ['more concepts than the layer has channels', { layer: 'conv1', components: 17 }, 400, /Cannot find 17 concepts in layer "conv1"/],
    ['no concepts', { components: 0 }, 400, /components/],
    ['more than 64 concepts', { components: 65 }, 400, /components/],
    ['more than 20 classes', { top: 21 }, 400, /top/],
    ['more than 10000 sweeps', { iterations: 10001 }, 400, /iterations/],
    ['no images', { images: [] }, 400, /images/],
    ['an image twice', { images: [FASHION[0], FASHION[0]] }, 400, /images/],
    ['more than 16 images', { images: Array.from({ length: 17 }, (_, i) => `fashion-mnist/x${i}.png`) }, 400, /images/],
    ['an unknown image', { images: [FASHION[0], 'fashion-mnist/nothing.png'] }, 404, /nothing\.png/],
    ['an unknown model', { model: 'nosuchmodel' }, 404, /nosuchmodel/],
    ['an over-long layer name', { layer: 'x'.repeat(300) }, 400, /layer/],
    ['an unknown key', { methods: ['deeplift'] }, 400, /Unknown field "methods"/],
  ];
  for (const [what, payload, status, message] of refusals) {
    it(`refuses ${what} before a job starts`, async () => {
      const before = studio().jobs.running() + studio().jobs.queued();
      const r = await post(payload);
      expect(r.statusCode, r.body).toBe(status);
      const { error } = r.json() as { error: { message: string; hint?: string } };
      expect(error.message).toMatch(message);
      // the studio's words: no CLI flags in the way out
      expect(error.hint ?? '').not.toMatch(/--components/);
      expect(studio().jobs.running() + studio().jobs.queued()).toBe(before);
    });
  }

  it('refuses more values than one factorization takes (64 M), as the library checks them', () => {
    const model = studio().models.require('squeezenet');
    const per = 512 * 13 * 13;
    const most = Math.floor(MAX_FACTORIZED_VALUES / per);
    expect(factorizedLayer(model, most, { layer: 'fires.7', components: 1 })).toMatchObject({ channels: 512, height: 13, width: 13 });
    expect(() => factorizedLayer(model, most + 1, { layer: 'fires.7', components: 1 })).toThrow(/at most 67108864 are factorized at once/);
  });

  it('refuses a factorization whose sweeps would take more than a few minutes, naming how many concepts would do', () => {
    const model = studio().models.require('squeezenet');
    // 64 concepts of the first layer (64 x 111 x 111) over 16 images: 806 M multiply-adds a sweep
    const values = 64 * 111 * 111 * 16;
    const most = Math.floor(MAX_FACTORIZATION_WORK / values);
    expect(most).toBe(21);
    expect(factorizedLayer(model, 16, { layer: 'relu0', components: most })).toMatchObject({ channels: 64 });
    expect(() => factorizedLayer(model, 16, { layer: 'relu0', components: 64 })).toThrow(/64 concepts of layer "relu0" over 16 images is 807 M multiply-adds a sweep; at most 268 M are done/);
    try {
      factorizedLayer(model, 16, { layer: 'relu0', components: 64 });
    } catch (e) {
      expect((e as { hint: string }).hint).toMatch(/^Ask for at most 21 concepts \(CLI: --components\)/);
    }
  });

  it('is cancelled by DELETE /api/jobs/:id', async () => {
    // SqueezeNet's first layer over four photos into 64 concepts for up to 10000 sweeps: far longer than the cancel
    const r = await post({ model: 'squeezenet', images: PHOTOS, layer: 'relu0', components: 64, iterations: 10000 });
    expect(r.statusCode, r.body).toBe(202);
    const job = r.json().job as string;
    await expect.poll(async () => (await inject({ method: 'GET', url: `/api/jobs/${job}` })).json().state, { timeout: 30_000 }).toBe('running');
    const del = await inject({ method: 'DELETE', url: `/api/jobs/${job}` });
    expect(del.json()).toEqual({ cancelled: true });
    const last = (await jobEvents<Event>(inject, job)).at(-1)!;
    expect(last.type).toBe('cancelled');
  }, 60_000);
});

describe('POST /api/concepts on a studio with little memory', () => {
  it('refuses a factorization larger than a job may hold before it starts, naming it', async () => {
    const tmp = tempFolder('convlens-concepts-');
    const engine = new Engine(nodeBackend(), { threads: 1 });
    const small = await createStudio({ engine, webDir: join(tmp, 'no-web'), uploadsDir: join(tmp, 'uploads'), workerMemoryBytes: 0.75 * 1024 ** 3, jobWorkers: 1 });
    try {
      const send = pageInject(() => small);
      const images = ((await send({ method: 'GET', url: '/api/images' })).json().images as { id: string }[]).map((i) => i.id).slice(0, 16);
      const r = await send({ method: 'POST', url: '/api/concepts', payload: { model: 'squeezenet', images, layer: 'relu0', components: 21 } });
      expect(r.statusCode, r.body).toBe(400);
      expect((r.json() as { error: { message: string } }).error.message).toMatch(/^Factorizing layer "relu0" over \d+ images needs about/);
      expect(small.jobs.running() + small.jobs.queued()).toBe(0);
    } finally {
      await small.app.close();
      await engine.dispose();
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});

describe('docs/api.md: Concepts a layer holds', () => {
  const doc = readFileSync(join(ROOT, 'docs/api.md'), 'utf8');
  const section = doc.slice(doc.indexOf('### Concepts a layer holds'), doc.indexOf('## Dataset lens'));
  const blocks = [...section.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1]!);

  it('documents a request the route takes, and the result it gives', async () => {
    const body = JSON.parse(blocks[0]!.replace('POST /api/concepts', '').replace(/\s\/\/.*$/gm, '')) as Record<string, unknown>;
    const { result: r } = await result(body);
    const documented = JSON.parse(blocks[1]!.replace(/"WireTensor \[h, w\]"/, '{}')) as Result;
    expect(Object.keys(r).sort()).toEqual(Object.keys(documented).sort());
    expect(r.layer).toEqual(documented.layer);
    expect(Object.keys(r.factorization).sort()).toEqual(Object.keys(documented.factorization).sort());
    expect(Object.keys(r.concepts[0]!).sort()).toEqual(Object.keys(documented.concepts[0]!).sort());
    expect(Object.keys(r.concepts[0]!.classes![0]!).sort()).toEqual(Object.keys(documented.concepts[0]!.classes![0]!).sort());
    expect(Object.keys(r.images[0]!).sort()).toEqual(Object.keys(documented.images[0]!).sort());
    expect(r.images[0]!.image).toBe(documented.images[0]!.image);
    expect(r.concepts.map((c) => c.classes![0]!.label).slice(0, 2)).toEqual(documented.concepts.map((c) => c.classes![0]!.label));
  }, 60_000);
});
