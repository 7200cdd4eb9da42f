// Requests a fuzzer sent the studio that ended in a 500, an internal error in a job, or a worker
// out of memory. Each is now refused in the API's error shape before any work starts (or, for
// duplicated layers, answered once per layer).
import { describe, expect, it } from 'vitest';
import { inProcessStudio } from './page-inject.js';

const { inject, studio } = inProcessStudio();

/** The API's error shape: { error: { code, message } }. */
function expectApiError(r: { statusCode: number; json(): unknown }, status: number, code: string): string {
  expect(r.statusCode).toBe(status);
  const body = r.json() as { error?: { code?: unknown; message?: unknown } };
  expect(body.error?.code).toBe(code);
  expect(typeof body.error?.message).toBe('string');
  return body.error!.message as string;
}

describe('requests that answered 500', () => {
  it('a token cookie with a malformed %-escape is no token, not a 500 on every route', async () => {
    for (const value of ['%', '%zz', '%E0%A4%A']) {
      const r = await studio().app.inject({ method: 'GET', url: '/api/health', headers: { cookie: `convlens-token-studio=${value}` } });
      expect(r.statusCode, value).toBe(200);
    }
  });

  it('a multipart upload without a boundary is a 400', async () => {
    for (const url of ['/api/images', '/api/models']) {
      const r = await inject({ method: 'POST', url, headers: { 'content-type': 'multipart/form-data' }, payload: 'x' });
      expect(expectApiError(r, 400, 'INVALID_ARGUMENT')).toContain('not a valid multipart form');
    }
  });

  it("names of Object.prototype's members are unknown names, not datasets or methods", async () => {
    for (const dataset of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      const r = await inject({ method: 'POST', url: '/api/dataset/index', payload: { model: 'builtin', dataset } });
      expect(r.statusCode, dataset).toBeGreaterThanOrEqual(400);
      expect(r.statusCode, dataset).toBeLessThan(500);
    }
    for (const method of ['constructor', 'Constructor', 'toString', 'valueOf']) {
      const r = await inject({ method: 'POST', url: '/api/explain', payload: { model: 'builtin', image: 'fashion-mnist/bag-test18.png', methods: [method] } });
      expect(expectApiError(r, 404, 'UNKNOWN_NAME'), method).toContain(`No attribution method named "${method}"`);
    }
  });

  it('a bad %-escape or an over-long path segment gets the API error shape', async () => {
    expectApiError(await studio().app.inject({ method: 'GET', url: '/api/models/%ff' }), 400, 'INVALID_ARGUMENT');
    expectApiError(await studio().app.inject({ method: 'GET', url: '/api/jobs/%' }), 400, 'INVALID_ARGUMENT');
    expectApiError(await studio().app.inject({ method: 'GET', url: `/api/models/${'a'.repeat(300)}` }), 414, 'INVALID_ARGUMENT');
  });

  it('an id of 128 characters (the most ids.ts allows) reaches its route', async () => {
    const r = await studio().app.inject({ method: 'GET', url: `/api/dataset/stores/${'a'.repeat(128)}` });
    expectApiError(r, 404, 'UNKNOWN_NAME');
  });
});

describe('requests whose jobs failed inside', () => {
  it('feature-visualization transforms are bounded before the job starts (rotate:1e9 ran a worker out of memory)', async () => {
    for (const transforms of ['rotate:1e9', 'rotate:3e9', 'rotate:-5', 'pad:1e9', 'jitter:-1', 'scale:0:2', 'pad:4:bogus']) {
      for (const url of ['/api/synthesize/featviz', '/api/synthesize/featviz/estimate']) {
        const r = await inject({ method: 'POST', url, payload: { params: { objective: 'channel:relu3:5', steps: 1, transforms } } });
        expect(expectApiError(r, 400, 'INVALID_ARGUMENT'), `${url} ${transforms}`).toMatch(/^Transform "/);
      }
    }
    const fine = await inject({ method: 'POST', url: '/api/synthesize/featviz/estimate', payload: { params: { objective: 'channel:relu3:5', steps: 1, transforms: 'pad:4:reflect,jitter:2,rotate:10,scale:0.9:1.1' } } });
    expect(fine.statusCode).toBe(200);
  });

  it('a class range far past the model\'s classes is refused before it is spelled out ("0-999999999" crashed the server, out of heap)', async () => {
    for (const classes of ['0-999999999', '0-4294967295', '5-99999999999']) {
      for (const url of ['/api/synthesize/featviz', '/api/synthesize/featviz/estimate']) {
        const started = performance.now();
        const r = await inject({ method: 'POST', url, payload: { params: { classes, steps: 1 } } });
        expect(expectApiError(r, 400, 'INVALID_ARGUMENT'), `${url} ${classes}`).toMatch(/^Class \d+ does not exist: the model has 10 classes \(0-9\)\.$/);
        expect(performance.now() - started).toBeLessThan(2_000);
      }
    }
    const fine = await inject({ method: 'POST', url: '/api/synthesize/featviz/estimate', payload: { params: { classes: '0-9,3,0-2', steps: 1 } } });
    expect(fine.statusCode).toBe(200);
  });

  it('a layer asked for many times is answered once', async () => {
    const r = await inject({ method: 'POST', url: '/api/activations', payload: { model: 'builtin', image: 'fashion-mnist/bag-test18.png', layers: Array.from({ length: 256 }, () => 'relu3') } });
    expect(r.statusCode).toBe(200);
    const layers = (r.json() as { layers: { name: string }[] }).layers;
    expect(layers.map((l) => l.name)).toEqual(['relu3']);
  }, 60_000);
});

describe('style transfer memory', () => {
  const style = (maxSide: number, backbone: string): Record<string, unknown> => ({
    image: 'photos/coffee.png',
    styles: [{ image: 'textures/gravel.png', weight: 1 }],
    params: { backbone, steps: 2, maxSide },
  });

  it('a size its worker cannot hold is refused before the job, naming the memory (a 768-px texture synthesis was stopped inside)', async () => {
    for (const url of ['/api/synthesize/style', '/api/synthesize/style/estimate']) {
      const r = await inject({ method: 'POST', url, payload: style(768, 'texture') });
      expect(expectApiError(r, 400, 'INVALID_ARGUMENT'), url).toMatch(/^Style transfer needs about [\d.]+ (MB|GB) of memory at once/);
    }
    const small = await inject({ method: 'POST', url: '/api/synthesize/style/estimate', payload: style(192, 'texture') });
    expect(small.statusCode).toBe(200);
  });
});
