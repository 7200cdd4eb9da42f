// The studio's feature visualization of a multi-label head's output (models/output-kind.ts): each
// image is captioned by the visualized output's own sigmoid, yes or no, not by the top output's
// probability ("predicted class 11 56.3%" under an image made for class 24).
import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/engine/graph/builder.js';
import { encodeModel } from '../../src/engine/onnx/codec.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { f32 } from '../../src/engine/tensor.js';
import { createStudio } from '../../src/interfaces/server/app.js';
import { seededRandom } from '../../src/models/init.js';
import { Layers } from '../../src/models/layers.js';
import { pageInject } from './page-inject.js';

const engine = new Engine(nodeBackend(), { threads: 1 });
const studio = await createStudio({ engine, webDir: '/nonexistent' });
const inject = pageInject(() => studio);
afterAll(async () => {
  await studio.app.close();
  await engine.dispose();
});

/** conv, GAP, dense to 3 logits shifted far apart (about 6, -6, 0), then a Sigmoid each. */
function attributes(sigmoid: boolean): Uint8Array {
  const b = new GraphBuilder();
  const L = new Layers(b, seededRandom(3));
  const x = b.input('image', 'float32', ['N', 3, 24, 24]);
  const z = L.dense(L.flatten(L.globalAvgPool(L.relu(L.conv2d(x, 'conv', { filters: 4 }), 'relu'), 'gap'), 'flat'), 'fc', 3);
  const shifted = b.op('Add', [z, b.initializer('shift', f32([3], [6, -6, 0]))], {}, { name: 'shifted', outputs: ['shifted'] });
  b.output(sigmoid ? b.op('Sigmoid', [shifted], {}, { name: 'attributes', outputs: ['attributes'] }) : shifted);
  return encodeModel(b.build());
}

async function featviz(model: string, classes: string, objective = 'class:*'): Promise<{ label: string; caption?: string }[]> {
  const r = await inject({ method: 'POST', url: '/api/synthesize/featviz', payload: { model, params: { objective, ...(classes ? { classes } : {}), steps: 2 } } });
  expect(r.statusCode, r.body).toBe(202);
  const ev = await inject({ method: 'GET', url: `/api/jobs/${(r.json() as { job: string }).job}/events` });
  const last = ev.body.split('\n\n').filter(Boolean).map((chunk) => JSON.parse(chunk.split('\n').find((l) => l.startsWith('data: '))!.slice(6))).at(-1) as { type: string; result?: { images: { label: string; caption?: string }[] }; error?: unknown };
  expect(last.type, JSON.stringify(last.error)).toBe('result');
  return last.result!.images;
}

describe('feature visualization of a multi-label head', () => {
  it("captions each image by the visualized output's own sigmoid", async () => {
    const multi = studio.models.addUpload('attributes.onnx', attributes(true));
    // output 1 sits near sigmoid(-6) whatever two steps do: a "no", though output 0 says yes near 100%
    const images = await featviz(multi.id, '0,1');
    expect(images.map((i) => i.label)).toEqual(['class 0', 'class 1']);
    expect(images[0]!.caption).toMatch(/^yes: 9\d\.\d% \(its own sigmoid\)$/);
    expect(images[1]!.caption).toMatch(/^no: 0\.\d% \(its own sigmoid\)$/);
  }, 60_000);

  it('captions the images of one class objective by that output too, named by index or label', async () => {
    const multi = studio.models.addUpload('attributes.onnx', attributes(true));
    for (const objective of ['class:1', 'logit:1', 'prob:class 1']) {
      const images = await featviz(multi.id, '', objective);
      expect(images[0]!.caption, objective).toMatch(/^no: 0\.\d% \(its own sigmoid\)$/);
    }
    // a sum of terms raises no one output: the prediction is the caption
    const summed = await featviz(multi.id, '', 'class:1+0.5*class:2');
    expect(summed[0]!.caption).toMatch(/^predicted class 0 /);
  }, 60_000);

  it('keeps the prediction caption for a single-label classifier', async () => {
    const single = studio.models.addUpload('classes.onnx', attributes(false));
    const images = await featviz(single.id, '1');
    expect(images[0]!.caption).toMatch(/^predicted class \d \d+\.\d%$/);
  }, 60_000);
});
