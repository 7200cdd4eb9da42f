// Float16 models (a `model.half()` export, or onnxconverter-common's float16 conversion with float32
// input and output kept): the first was refused ("input is float16"), the second explained with a
// flat saliency map and failed to compile its other methods. Loaded, they compute in float32 with
// the file's float16 weights, so every method gives what the same function in float32 gives.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeModel } from '../../src/engine/onnx/codec.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { f32 } from '../../src/engine/tensor.js';
import { explain } from '../../src/methods/explain/index.js';
import { Model } from '../../src/models/model.js';
import { courseCnn } from '../../src/models/zoo/index.js';
import { convlens } from '../support/cli.js';
import { float16Model, float64Model, roundedToHalf } from '../support/float16-models.js';
import { randn, rng } from '../support/rng.js';
import { tempFolder } from '../support/temp-folder.js';

const engine = new Engine(nodeBackend(), { threads: 1 });
const tmp = tempFolder('convlens-float16-');
afterAll(async () => {
  rmSync(tmp, { recursive: true, force: true });
  await engine.dispose();
});

const x = f32([2, 1, 28, 28], Float32Array.from(randn(rng(8), 2 * 784), (v) => 0.5 + 0.2 * v));

describe('a float16 model', () => {
  // the reference: the same function in float32, its weights rounded to the file's float16 values
  const reference = new Model(roundedToHalf(courseCnn(1)), engine, 'reference');

  for (const io of ['half', 'keep'] as const) {
    it(`${io === 'half' ? 'float16 throughout' : 'float32 input and output kept'}: loads with a note, scores and explains as the float32 function of its weights`, async () => {
      const model = new Model(float16Model(courseCnn(1), io), engine, `f16-${io}`);
      expect(model.input.dtype).toBe('float32');
      expect(model.meta.warnings.find((w) => w.includes('computes in float16 in the file'))).toMatch(io === 'half' ? /float16 input and output become float32/ : /about 1e-3 of a value\)?$/);
      const scores = (await model.run(x))[model.output]!.data as Float32Array;
      const want = (await reference.run(x))[reference.output]!.data as Float32Array;
      for (let i = 0; i < want.length; i++) expect(scores[i]).toBeCloseTo(want[i]!, 5);
      const methods = ['saliency', 'gradcam', 'integrated-gradients'] as const;
      const e = await explain(model, x, { methods: [...methods], target: 3, integratedGradients: { steps: 8 } });
      const r = await explain(reference, x, { methods: [...methods], target: 3, integratedGradients: { steps: 8 } });
      expect(e.skipped).toEqual([]);
      for (const method of methods) {
        const got = e.attributions.find((a) => a.method === method)!.map.data as Float32Array;
        const ref = r.attributions.find((a) => a.method === method)!.map.data as Float32Array;
        const scale = Math.max(...Array.from(ref, Math.abs));
        expect(scale, method).toBeGreaterThan(0);
        for (let i = 0; i < ref.length; i++) expect(Math.abs(got[i]! - ref[i]!), `${method} ${i}`).toBeLessThanOrEqual(1e-5 * scale);
      }
    });
  }

  it('a float64 model (model.double()): computes in float32, scores and explains as the float32 net', async () => {
    const model = new Model(float64Model(courseCnn(1)), engine, 'f64');
    const reference = new Model(courseCnn(1), engine, 'f32');
    expect(model.input.dtype).toBe('float32');
    expect(model.meta.warnings.some((w) => w.startsWith('the model computes in float64 in the file'))).toBe(true);
    const scores = (await model.run(x))[model.output]!.data as Float32Array;
    const want = (await reference.run(x))[reference.output]!.data as Float32Array;
    expect(Array.from(scores)).toEqual(Array.from(want));
    const e = await explain(model, x, { methods: ['saliency', 'gradcam'], target: 3 });
    const r = await explain(reference, x, { methods: ['saliency', 'gradcam'], target: 3 });
    for (let k = 0; k < 2; k++) expect(Array.from(e.attributions[k]!.map.data as Float32Array)).toEqual(Array.from(r.attributions[k]!.map.data as Float32Array));
  });

  it('the CLI explains a float16 file and says it computes in float32', async () => {
    const file = join(tmp, 'course-f16.onnx');
    writeFileSync(file, encodeModel(float16Model(courseCnn(1), 'half')));
    const out = join(tmp, 'explain');
    const r = await convlens('explain', 'samples/fashion-mnist/ankle-boot-test0.png', '--model', file, '--method', 'saliency,gradcam', '--preprocess', 'unit-range', '-o', out);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('computes in float16 in the file');
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { methods: { method: string }[] };
    expect(summary.methods.map((m) => m.method)).toEqual(['saliency', 'gradcam']);
  }, 60_000);
});
