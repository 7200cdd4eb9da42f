// The input tensor a page computes with in the browser (POST /api/input) decodes the model and
// preprocesses one image; no session is compiled. Planned as a forward run, a model whose four
// weight copies overfill the interactive worker (VGG-16: 2.1 GB at the default --memory) was
// refused, so the page could not compute on it in the browser although the worker holds it.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/engine/graph/builder.js';
import { encodeModel } from '../../src/engine/onnx/codec.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { createStudio, type Studio } from '../../src/interfaces/server/app.js';
import { writeMetadata } from '../../src/models/metadata.js';
import { ROOT } from '../support/cli.js';
import { multipart, pageInject } from './page-inject.js';
import { tempFolder } from '../support/temp-folder.js';

const GB = 2 ** 30;
const tmp = tempFolder('convlens-input-memory-');
const engine = new Engine(nodeBackend(), { threads: 1 });
let studio: Studio | undefined;
const inject = pageInject(() => studio!);
beforeAll(async () => {
  studio = await createStudio({ engine, webDir: join(tmp, 'no-web'), uploadsDir: join(tmp, 'uploads'), workerMemoryBytes: GB, jobWorkers: 1 });
});
afterAll(async () => {
  await studio?.app.close();
  await engine.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

/** A dense head over 3x32x32 pixels with 64 MB of weights: four copies fill the 384 MB interactive worker of a 1 GB studio, one does not. */
function heavyModel(): Uint8Array {
  const b = new GraphBuilder();
  b.graph.name = 'heavy';
  const x = b.input('image', 'float32', ['N', 3, 32, 32]);
  const classes = (64 * 2 ** 20) / 4 / 3072;
  const w = b.initializer('fc.weight', { dtype: 'float32', dims: [Math.round(classes), 3072], data: new Float32Array(Math.round(classes) * 3072) });
  b.output(b.op('Gemm', [b.op('Flatten', [x], { axis: 1 }), w], { transB: 1 }, { name: 'fc', outputs: ['logits'] }));
  const g = b.build();
  writeMetadata(g, { preprocessing: { size: [32, 32], channels: 'rgb', range: [0, 1], mean: [0, 0, 0], std: [1, 1, 1], resize: 'stretch' } });
  return encodeModel(g);
}

describe('POST /api/input on a model whose sessions would not fit', () => {
  it('gives the input tensor (a prediction is still refused, for its sessions)', async () => {
    const up = await inject({ method: 'POST', url: '/api/models', ...multipart('heavy.onnx', heavyModel()) });
    expect(up.statusCode, up.body).toBe(201);
    const model = (up.json() as { id: string }).id;
    const png = readFileSync(join(ROOT, 'samples', 'photos', 'chelsea.png'));
    const img = await inject({ method: 'POST', url: '/api/images', ...multipart('cat.png', png, 'image/png') });
    expect(img.statusCode, img.body).toBe(201);
    const image = (img.json() as { id: string }).id;
    const predict = await inject({ method: 'POST', url: '/api/predict', payload: { model, image } });
    expect(predict.statusCode).toBe(400);
    expect(predict.body).toMatch(/copies of its 64 MB of weights \(256 MB\) beside the worker's own \d+ MB fill the interactive worker's/);
    const input = await inject({ method: 'POST', url: '/api/input', payload: { model, image } });
    expect(input.statusCode, input.body).toBe(200);
    expect((input.json() as { tensor: { dims: number[] } }).tensor.dims).toEqual([1, 3, 32, 32]);
  }, 60_000);
});
