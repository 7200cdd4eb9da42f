// A key the API does not know is refused with a 400 naming it and its path. Fastify's default
// Ajv options strip keys under `additionalProperties: false` instead: a misspelt or unsupported
// parameter (params.occlusion.windw, a method block the schema lacks) answered 202 and the result
// was computed without it, with no word to the user.
import { describe, expect, it } from 'vitest';
import { inProcessStudio } from './page-inject.js';

const { inject } = inProcessStudio();

const IMAGE = 'fashion-mnist/bag-test18.png';

function apiError(r: { statusCode: number; body: string; json(): unknown }): { code: string; message: string; hint?: string } {
  expect(r.statusCode, r.body).toBe(400);
  const { error } = r.json() as { error: { code: string; message: string; hint?: string } };
  expect(error.code).toBe('INVALID_ARGUMENT');
  return error;
}

describe('unknown keys in request bodies', () => {
  it('at the top level of an explain request', async () => {
    const r = await inject({ method: 'POST', url: '/api/explain', payload: { model: 'builtin', image: IMAGE, methods: ['saliency'], metric: true } });
    const e = apiError(r);
    expect(e.message).toContain('body/metric');
    expect(e.message).toMatch(/unknown/i);
    // the way out: the keys that are known, the near one first
    expect(e.hint).toContain('metrics');
  });

  it('inside params (a method block the schema does not have)', async () => {
    const r = await inject({ method: 'POST', url: '/api/explain', payload: { model: 'builtin', image: IMAGE, methods: ['saliency'], params: { salincy: { reduce: 'sum' } } } });
    const e = apiError(r);
    expect(e.message).toContain('body/params/salincy');
    expect(e.hint).toContain('saliency');
  });

  it('inside a method block', async () => {
    const r = await inject({ method: 'POST', url: '/api/explain', payload: { model: 'builtin', image: IMAGE, methods: ['occlusion'], params: { occlusion: { windw: 7 } } } });
    const e = apiError(r);
    expect(e.message).toContain('body/params/occlusion/windw');
    expect(e.hint).toContain('window');
  });

  it('in the other routes with closed bodies', async () => {
    const cases: [url: string, payload: Record<string, unknown>, path: string][] = [
      ['/api/diffusion/sample', { prompt: 'a bag', stpes: 4 }, 'body/stpes'],
      ['/api/synthesize/invert', { model: 'builtin', image: IMAGE, params: { step: 4 } }, 'body/params/step'],
      ['/api/models/builtin/describe', { label: 'a' }, 'body/label'],
      ['/api/dataset/index', { model: 'builtin', layer: ['x'] }, 'body/layer'],
    ];
    for (const [url, payload, path] of cases) {
      const e = apiError(await inject({ method: 'POST', url, payload }));
      expect(e.message, url).toContain(path);
    }
  });

  it('in the quick routes and in a style entry, whose objects were open', async () => {
    const cases: [url: string, payload: Record<string, unknown>, path: string][] = [
      ['/api/predict', { model: 'builtin', image: IMAGE, topk: 3 }, 'body/topk'],
      ['/api/activations', { model: 'builtin', image: IMAGE, layer: 'relu1' }, 'body/layer'],
      ['/api/input', { model: 'builtin', image: IMAGE, size: 64 }, 'body/size'],
      ['/api/synthesize/style', { model: 'builtin', image: IMAGE, styles: [{ image: 'textures/brick.png', wieght: 2 }] }, 'body/styles/0/wieght'],
    ];
    for (const [url, payload, path] of cases) {
      const e = apiError(await inject({ method: 'POST', url, payload }));
      expect(e.message, url).toContain(path);
    }
  });

  it('quotes a megabyte key as a short, escaped piece, and answers at once', async () => {
    // the body limit lets a key run to megabytes: it was echoed whole, twice, after a second of
    // edit distances on the event loop
    for (const payload of [{ ['k'.repeat(1_000_000)]: 1 }, { params: { occlusion: { [`<b>"\n${'w'.repeat(500_000)}`]: 1 } } }]) {
      const t0 = performance.now();
      const r = await inject({ method: 'POST', url: '/api/explain', payload: { model: 'builtin', image: IMAGE, methods: ['occlusion'], ...payload } });
      expect(performance.now() - t0).toBeLessThan(300);
      expect(r.body.length).toBeLessThan(2000);
      const e = apiError(r);
      expect(e.message.length).toBeLessThan(300);
      expect(e.message).not.toContain('\n');
      expect(e.message).toMatch(/^Unknown field "\S{1,80}\.\.\." \(body[a-z/]*\/\S{1,80}\.\.\.; the key is \d{6,7} characters long\)\.$/);
      expect(e.hint).toMatch(/takes /);
    }
    // a newline or quote in a short key is escaped, not carried into the message as it is
    const e = apiError(await inject({ method: 'POST', url: '/api/explain', payload: { model: 'builtin', image: IMAGE, methods: ['saliency'], ['a"\nb']: 1 } }));
    expect(e.message).toBe('Unknown field "a\\"\\nb" (body/a\\"\\nb).');
  });

  it('what the studio page sends is still accepted', async () => {
    // every parameter block ExplainPanel fills, with the page's own keys
    const params = {
      occlusion: { window: 4, stride: 2, fill: 'zero' },
      smoothgrad: { samples: 2, noise: 0.15 },
      saliency: { reduce: 'max' },
      'guided-gradcam': { interpolate: 'bilinear' },
      'integrated-gradients': { steps: 2, baseline: 'black', rule: 'gausslegendre' },
      deeplift: { baseline: 'black' },
      shap: { samples: 2, count: 2 },
      lrp: { composite: 'epsilon-gamma-box', gamma: 0.25 },
      segments: { segmentation: 'grid', count: 4, samples: 8, baseline: 'zero' },
      cam: { augSmooth: false, eigenSmooth: true },
    };
    const r = await inject({ method: 'POST', url: '/api/explain', payload: { model: 'builtin', image: IMAGE, methods: ['saliency'], target: 3, score: 'logit', params, metrics: false } });
    expect(r.statusCode, r.body).toBe(202);
    await inject({ method: 'DELETE', url: `/api/jobs/${(r.json() as { job: string }).job}` });
  });
});
