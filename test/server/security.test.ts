// The studio server under attack (docs/security.md): every test tries one thing a hostile web
// page or client would, and checks the refusal and what is left behind (nothing read, nothing
// written, nothing kept). The legitimate flows next to each attack still pass.
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { encodeModel } from '../../src/engine/onnx/codec.js';
import { createStudio, type Studio } from '../../src/interfaces/server/app.js';
import { METHOD_NAMES } from '../../src/methods/explain/index.js';
import { TOKEN_HEADER } from '../../src/interfaces/server/access.js';
import { courseCnn } from '../../src/models/zoo/index.js';
import { CLI, ROOT } from '../support/cli.js';
import { multipart, PAGE_ORIGIN } from './page-inject.js';
import { tempFolder } from '../support/temp-folder.js';

const engine = new Engine(nodeBackend(), { threads: 2 });
const tmp = tempFolder('convlens-security-');
const data = join(tmp, 'data'); // the one data folder given to the studio
const outside = join(tmp, 'outside'); // next to it, not given
const stores = join(tmp, 'stores');
const SECRET = `CONVLENS-SECRET-${Math.random().toString(36).slice(2)}`;
const sample = (name: string): string => join(ROOT, 'samples', 'fashion-mnist', name);
const sameOrigin = { origin: PAGE_ORIGIN };

/** Every file and folder under `dir`, relative, sorted (to show that nothing was written). */
function tree(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();
}

function parseEvents(body: string): { type: string; result?: unknown; error?: { message: string; hint?: string } }[] {
  return body
    .split('\n\n')
    .filter((c) => c.includes('data: '))
    .map((c) => JSON.parse(c.split('\n').find((l) => l.startsWith('data: '))!.slice(6)));
}

let studio: Studio;

beforeAll(async () => {
  // Inside the data folder: a proper image dataset, things that point out of it, things that are no dataset.
  for (const [cls, file] of [['bag', 'bag-test18.png'], ['coat', 'coat-test6.png']] as const) {
    mkdirSync(join(data, 'images', cls), { recursive: true });
    copyFileSync(sample(file), join(data, 'images', cls, file));
  }
  mkdirSync(join(outside, 'images', 'bag'), { recursive: true });
  copyFileSync(sample('bag-test18.png'), join(outside, 'images', 'bag', 'private.png'));
  writeFileSync(join(outside, 'secret.txt'), `${SECRET}\nsecond line ${SECRET}\n`);
  symlinkSync(join(outside, 'images'), join(data, 'linked-folder'));
  mkdirSync(join(data, 'escape', 'bag'), { recursive: true });
  copyFileSync(sample('coat-test6.png'), join(data, 'escape', 'bag', 'fine.png'));
  symlinkSync(join(outside, 'images', 'bag', 'private.png'), join(data, 'escape', 'bag', 'leak.png'));
  symlinkSync(join(outside, 'secret.txt'), join(data, 'secret-link.txt'));
  writeFileSync(join(data, 'not-a-list.txt'), `${SECRET} is on the first line\n`);
  writeFileSync(join(data, 'list-out.txt'), `${join(outside, 'images', 'bag', 'private.png')},bag\n`);
  mkdirSync(join(data, 'fake', 'bag'), { recursive: true });
  writeFileSync(join(data, 'fake', 'bag', 'x.png'), `${SECRET} is not a PNG\n`);
  writeFileSync(join(data, 'bad-images-idx3-ubyte'), `${SECRET}`);
  writeFileSync(join(data, 'big.txt'), Buffer.alloc(300 * 1024, 0x41));
  execFileSync('mkfifo', [join(data, 'pipe.txt')]);
  mkdirSync(join(data, 'fifo-images', 'bag'), { recursive: true });
  execFileSync('mkfifo', [join(data, 'fifo-images', 'bag', 'stuck.png')]);
  process.env['CONVLENS_STORES'] = stores;
  studio = await createStudio({ engine, dataRoots: [data], maxDataFileBytes: 256 * 1024, webDir: join(ROOT, 'no-such-web-dir') });
});

afterAll(async () => {
  await studio.app.close();
  await engine.dispose();
  delete process.env['CONVLENS_STORES'];
  rmSync(tmp, { recursive: true, force: true });
});

const indexRequest = (dataset: string, extra: Record<string, unknown> = {}): Promise<LightMyRequestResponse> =>
  studio.app.inject({ method: 'POST', url: '/api/dataset/index', headers: sameOrigin, payload: { model: 'builtin', dataset, ...extra } });

describe('datasets are read only inside the data folders', () => {
  const refusals: [string, string, number][] = [
    ['an absolute path outside', join(outside, 'images'), 403],
    ['a relative path climbing out', join(data, '..', 'outside', 'secret.txt'), 403],
    ['a symlinked folder pointing out', join(data, 'linked-folder'), 403],
    ['a folder holding a symlink that points out', join(data, 'escape'), 403],
    ['a symlinked file pointing out', join(data, 'secret-link.txt'), 403],
    ['a list naming an image outside', join(data, 'list-out.txt'), 403],
    ['the process environment', '/proc/self/environ', 403],
    ['the shadow password file', '/etc/shadow', 403],
    ['the zero device', '/dev/zero', 403],
    ['a file that does not exist outside (no existence oracle)', '/etc/no-such-file-here', 403],
    ['a FIFO inside the data folder', join(data, 'pipe.txt'), 415],
    ['a folder holding a FIFO image', join(data, 'fifo-images'), 415],
    ['a file over the size limit', join(data, 'big.txt'), 415],
    ['a text file that is no list (its first line is not quoted)', join(data, 'not-a-list.txt'), 415],
    ['an IDX file that is no IDX file', join(data, 'bad-images-idx3-ubyte'), 415],
  ];
  it.each(refusals)('refuses %s, quoting nothing, writing nothing', async (_what, dataset, status) => {
    const before = tree(tmp);
    const r = await indexRequest(dataset);
    expect(r.statusCode, r.body).toBe(status);
    expect(r.json().error.message).toBeTruthy();
    expect(r.body).not.toContain(SECRET);
    expect(r.body).not.toMatch(/PATH=|root:|HOME=/);
    expect(r.body).not.toContain(process.env['PATH']!);
    expect(tree(tmp)).toEqual(before);
    expect(studio.jobs.running()).toBe(0);
  });

  it('says why in words a user can act on', async () => {
    const out = (await indexRequest('/etc/shadow')).json().error;
    expect(out.code).toBe('FORBIDDEN');
    expect(out.message).toBe('Dataset "/etc/shadow" is outside the folders this server reads from.');
    expect(out.hint).toMatch(/--data <folder>/);
    expect((await indexRequest(join(data, 'pipe.txt'))).json().error.message).toMatch(/not a regular file/);
    expect((await indexRequest(join(data, 'big.txt'))).json().error.message).toMatch(/is 300 kB; files up to 256 kB are read/);
  });

  it('fails a job on a fake image without quoting it', async () => {
    const r = await indexRequest(join(data, 'fake'), { id: 'fake-store' });
    expect(r.statusCode).toBe(202);
    const events = parseEvents((await studio.app.inject({ method: 'GET', url: `/api/jobs/${r.json().job}/events` })).body);
    const last = events.at(-1)!;
    expect(last.type).toBe('error');
    expect(last.error!.message).toMatch(/Cannot decode image .*x\.png.* as an image: it is not in a supported image format/);
    expect(JSON.stringify(events)).not.toContain(SECRET);
  });

  it('indexes a folder inside the data folders, and serves its images back', async () => {
    const r = await indexRequest(join(data, 'images'), { id: 'inside' });
    expect(r.statusCode, r.body).toBe(202);
    const events = parseEvents((await studio.app.inject({ method: 'GET', url: `/api/jobs/${r.json().job}/events` })).body);
    expect(events.at(-1)!.type, JSON.stringify(events.at(-1))).toBe('result');
    const img = await studio.app.inject({ method: 'GET', url: '/api/dataset/stores/inside/images/1' });
    expect(img.statusCode).toBe(200);
    expect(img.headers['content-type']).toBe('image/png');
    expect((await studio.app.inject({ method: 'GET', url: '/api/dataset/stores/inside/images/2' })).statusCode).toBe(404);
    expect(readdirSync(stores)).toContain('inside');
  });
});

describe('ids cannot name folders outside the stores folder', () => {
  it.each(['..', '.', 'a/b', '../escaped', '.hidden', 'a\\b', '', 'x'.repeat(129)])('refuses the store id %j and creates nothing', async (id) => {
    const before = tree(tmp);
    const parentBefore = readdirSync(dirname(tmp)).filter((d) => d.startsWith('escaped')).length;
    const r = await indexRequest(join(data, 'images'), { id });
    expect(r.statusCode, r.body).toBe(400);
    expect(tree(tmp)).toEqual(before);
    expect(readdirSync(dirname(tmp)).filter((d) => d.startsWith('escaped')).length).toBe(parentBefore);
  });

  it('refuses path-like ids in every route that takes one', async () => {
    for (const url of ['/api/dataset/stores/%2E%2E', '/api/dataset/stores/..%2Fstores', '/api/jobs/..%2F..', '/api/models/..%2Fx', '/api/models/.', '/api/dataset/stores/inside/images/-1']) {
      const r = await studio.app.inject({ method: 'GET', url });
      expect([400, 404], `${url}: ${r.body}`).toContain(r.statusCode);
    }
    const del = await studio.app.inject({ method: 'DELETE', url: '/api/images/upload/..%2F..', headers: sameOrigin });
    expect(del.statusCode).toBe(400);
    const predict = await studio.app.inject({ method: 'POST', url: '/api/predict', headers: sameOrigin, payload: { model: '../builtin', image: 'photos/coffee.png' } });
    expect(predict.statusCode).toBe(400);
  });
});

describe('only the studio\'s own names and page', () => {
  it('refuses a request under another Host name (DNS rebinding), page and API alike', async () => {
    for (const url of ['/api/models', '/', '/api/image?id=photos%2Fcoffee.png']) {
      const r = await studio.app.inject({ method: 'GET', url, headers: { host: 'rebind.attacker.example' } });
      expect(r.statusCode, url).toBe(403);
      expect(r.body).not.toContain('Fashion-MNIST');
    }
    const api = await studio.app.inject({ method: 'GET', url: '/api/models', headers: { host: 'rebind.attacker.example:7860' } });
    expect(api.json().error.code).toBe('FORBIDDEN');
    expect(api.json().error.message).toMatch(/host name "rebind\.attacker\.example:7860"/);
    for (const host of ['localhost', '127.0.0.1:80', '[::1]']) expect((await studio.app.inject({ method: 'GET', url: '/api/models', headers: { host } })).statusCode, host).toBe(200);
    for (const host of ['127.0.0.1.nip.io', 'localhost.attacker.example', 'user@localhost', 'localhost/x']) expect((await studio.app.inject({ method: 'GET', url: '/api/models', headers: { host } })).statusCode, host).toBe(403);
  });

  it('refuses cross-origin uploads (CSRF) before reading them, and stores nothing', async () => {
    const images = studio.images.list().length;
    const models = studio.models.list().length;
    const png = multipart('coat.png', new Uint8Array(await import('node:fs').then((fs) => fs.readFileSync(sample('coat-test6.png')))), 'image/png');
    const onnx = multipart('tiny.onnx', encodeModel(courseCnn(3)));
    const attacks: Record<string, string>[] = [
      { origin: 'http://evil.example' },
      { origin: 'null' },
      { origin: 'http://localhost:8080' }, // another port on the same host is another origin
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
      {}, // no Origin, no Sec-Fetch-Site, no token
      { origin: 'http://evil.example', 'sec-fetch-site': 'same-origin' },
      { [TOKEN_HEADER]: 'not-the-token' },
    ];
    for (const headers of attacks) {
      for (const [url, body] of [['/api/images', png], ['/api/models', onnx]] as const) {
        const r = await studio.app.inject({ method: 'POST', url, payload: body.payload, headers: { ...body.headers, ...headers } });
        expect(r.statusCode, `${url} ${JSON.stringify(headers)}`).toBe(403);
        expect(r.json().error.code).toBe('FORBIDDEN');
      }
    }
    expect(studio.images.list().length).toBe(images);
    expect(studio.models.list().length).toBe(models);
    // the page itself (Origin or Sec-Fetch-Site), and scripts with the token
    for (const headers of [sameOrigin, { 'sec-fetch-site': 'same-origin' }, { [TOKEN_HEADER]: studio.access.token }, { authorization: `Bearer ${studio.access.token}` }]) {
      const r = await studio.app.inject({ method: 'POST', url: '/api/images', payload: png.payload, headers: { ...png.headers, ...headers } });
      expect(r.statusCode, JSON.stringify(headers)).toBe(201);
    }
    expect(studio.images.list().length).toBe(images + 4);
  });

  it('says which Origin it refused against which address (localhost and 127.0.0.1 are two origins)', async () => {
    const r = await studio.app.inject({ method: 'POST', url: '/api/predict', headers: { host: '127.0.0.1:7860', origin: 'http://localhost:7860' }, payload: { model: 'builtin', image: 'photos/coffee.png' } });
    expect(r.statusCode).toBe(403);
    expect(r.json().error.message).toBe('POST /api/predict refused: the request does not come from the studio\'s own page (its Origin "http://localhost:7860" is not the address it was sent to, "http://127.0.0.1:7860").');
    expect(r.json().error.hint).toContain('localhost and 127.0.0.1 are two origins');
    const none = await studio.app.inject({ method: 'POST', url: '/api/predict', headers: { host: '127.0.0.1:7860' }, payload: { model: 'builtin', image: 'photos/coffee.png' } });
    expect(none.json().error.message).toContain('(no Origin header)');
    // an attacker's Origin is shortened, and shown as a quoted string
    const long = await studio.app.inject({ method: 'POST', url: '/api/predict', headers: { host: '127.0.0.1:7860', origin: `http://${'a'.repeat(5000)}.example` }, payload: {} });
    expect(long.json().error.message.length).toBeLessThan(400);
  });

  it('refuses cross-origin cancelling and JSON posts too', async () => {
    const id = studio.jobs.start('idle', () => new Promise((r) => setTimeout(() => r(1), 300)));
    const del = await studio.app.inject({ method: 'DELETE', url: `/api/jobs/${id}`, headers: { origin: 'http://evil.example' } });
    expect(del.statusCode).toBe(403);
    expect(studio.jobs.status(id)!.state).toBe('running');
    const predict = await studio.app.inject({ method: 'POST', url: '/api/predict', headers: { origin: 'http://evil.example' }, payload: { model: 'builtin', image: 'photos/coffee.png' } });
    expect(predict.statusCode).toBe(403);
    expect((await studio.app.inject({ method: 'GET', url: `/api/jobs/${id}/events` })).body).toContain('event: result');
  });
});

describe('a studio beyond loopback needs its token', () => {
  let open: Studio;
  beforeAll(async () => {
    open = await createStudio({ engine, host: '192.0.2.10', webDir: join(ROOT, 'no-such-web-dir') });
  });
  afterAll(async () => {
    await open.app.close();
  });
  const host = { host: '192.0.2.10' };

  it('refuses every request without the token, page included', async () => {
    expect(open.access.requireToken).toBe(true);
    for (const url of ['/', '/api/models', '/api/image?id=photos%2Fcoffee.png', '/api/jobs/x/events']) {
      const r = await open.app.inject({ method: 'GET', url, headers: host });
      expect(r.statusCode, url).toBe(401);
      expect(r.body).not.toContain('Fashion-MNIST');
    }
    expect((await open.app.inject({ method: 'GET', url: '/api/models?token=wrong', headers: host })).statusCode).toBe(401);
    expect((await open.app.inject({ method: 'GET', url: '/', headers: { ...host, accept: 'text/html' } })).body).toMatch(/<p>This studio needs its access token/);
  });

  it('sets a strict cookie when the page is opened with the token; the page\'s requests then pass', async () => {
    const first = await open.app.inject({ method: 'GET', url: `/?token=${open.access.token}`, headers: host });
    expect(first.statusCode).toBe(200);
    const setCookie = String(first.headers['set-cookie']);
    expect(setCookie).toMatch(/^convlens-token-studio=[0-9a-f]{64}; Path=\/; HttpOnly; SameSite=Strict$/);
    const cookie = setCookie.split(';')[0]!;
    expect((await open.app.inject({ method: 'GET', url: '/api/models', headers: { ...host, cookie } })).statusCode).toBe(200);
    // state-changing: the cookie alone is not enough (another site's form would send it too on some browsers)
    const post = { method: 'POST' as const, url: '/api/predict', payload: { model: 'builtin', image: 'photos/coffee.png' } };
    expect((await open.app.inject({ ...post, headers: { ...host, cookie } })).statusCode).toBe(403);
    expect((await open.app.inject({ ...post, headers: { ...host, cookie, origin: 'http://192.0.2.10' } })).statusCode).toBe(200);
    expect((await open.app.inject({ ...post, headers: { ...host, [TOKEN_HEADER]: open.access.token } })).statusCode).toBe(200);
    // a page elsewhere does not have the token
    expect((await open.app.inject({ ...post, headers: { ...host, origin: 'http://192.0.2.10' } })).statusCode).toBe(401);
  });
});

describe('bounded work', () => {
  const post = (url: string, payload: Record<string, unknown>): Promise<LightMyRequestResponse> => studio.app.inject({ method: 'POST', url, headers: sameOrigin, payload });
  const explain = (params: Record<string, unknown>, methods = ['integrated-gradients']): Promise<LightMyRequestResponse> =>
    post('/api/explain', { model: 'builtin', image: 'fashion-mnist/bag-test18.png', methods, params });

  it('refuses integrated gradients with 1e9 or 20,000 steps with a 400 before any job starts', async () => {
    const running = studio.jobs.running();
    for (const steps of [1e9, 20000, 0, 2.5]) {
      const r = await explain({ 'integrated-gradients': { steps } });
      expect(r.statusCode, String(steps)).toBe(400);
      expect(r.json().error.code).toBe('INVALID_ARGUMENT');
      expect(r.json().error.message).toMatch(/steps/);
    }
    expect((await explain({ ig: { steps: 1001 } })).statusCode).toBe(400);
    expect(studio.jobs.running()).toBe(running);
    const ok = await explain({ 'integrated-gradients': { steps: 1000 } });
    expect(ok.statusCode).toBe(202);
    await studio.app.inject({ method: 'DELETE', url: `/api/jobs/${ok.json().job}`, headers: sameOrigin });
    expect((await studio.app.inject({ method: 'GET', url: `/api/jobs/${ok.json().job}/events` })).body).toMatch(/event: (cancelled|result)/);
  });

  it('refuses out-of-range GradientSHAP, DeepLIFT, LRP and CAM-smoothing parameters with a 400 before any job starts', async () => {
    const running = studio.jobs.running();
    const bad: [string[], Record<string, unknown>, RegExp][] = [
      [['gradient-shap'], { 'gradient-shap': { samples: 1e6 } }, /samples/],
      [['gradient-shap'], { shap: { count: 1000 } }, /count/],
      [['deeplift-shap'], { 'deeplift-shap': { count: 0 } }, /count/],
      [['gradient-shap'], { shap: { noise: -1 } }, /noise/],
      [['deeplift'], { deeplift: { baseline: '/etc/passwd' } }, /baseline/],
      [['lrp'], { lrp: { composite: 'alpha2-beta1' } }, /composite/],
      [['lrp'], { lrp: { epsilon: -1 } }, /epsilon/],
      [['lrp'], { lrp: { gamma: 1e9 } }, /gamma/],
      [['gradcam'], { cam: { augSmooth: 'yes' } }, /augSmooth/],
    ];
    for (const [methods, params, what] of bad) {
      const r = await explain(params, methods);
      expect(r.statusCode, JSON.stringify(params)).toBe(400);
      expect(r.json().error.message, JSON.stringify(params)).toMatch(what);
    }
    expect(studio.jobs.running()).toBe(running);
    const ok = await explain({ 'gradient-shap': { samples: 500, count: 64 }, lrp: { composite: 'epsilon-gamma-box', gamma: 0.5 }, cam: { augSmooth: true, eigenSmooth: true } }, ['gradient-shap', 'lrp', 'xgradcam']);
    expect(ok.statusCode).toBe(202);
    await studio.app.inject({ method: 'DELETE', url: `/api/jobs/${ok.json().job}`, headers: sameOrigin });
    expect((await studio.app.inject({ method: 'GET', url: `/api/jobs/${ok.json().job}/events` })).body).toMatch(/event: (cancelled|result)/);
  });

  it('refuses out-of-range parameters on every long route', async () => {
    const cases: [string, Record<string, unknown>][] = [
      ['/api/explain', { model: 'builtin', image: 'fashion-mnist/bag-test18.png', methods: ['smoothgrad'], params: { smoothgrad: { samples: 1e6 } } }],
      ['/api/explain', { model: 'builtin', image: 'fashion-mnist/bag-test18.png', methods: ['occlusion'], params: { occlusion: { window: 0 } } }],
      ['/api/explain', { model: 'builtin', image: 'fashion-mnist/bag-test18.png', methods: Array(METHOD_NAMES.length + 1).fill('saliency') }], // more names than there are methods
      ['/api/predict', { model: 'builtin', image: 'photos/coffee.png', k: 1e6 }],
      ['/api/synthesize/featviz', { params: { steps: 1e9 } }],
      ['/api/synthesize/featviz', { params: { batch: 1000 } }],
      ['/api/synthesize/dream', { image: 'photos/coffee.png', params: { maxSide: 100000 } }],
      ['/api/synthesize/invert', { image: 'photos/coffee.png', params: { layers: Array(100).fill('relu1') } }],
      ['/api/synthesize/style-train', { styles: [{ image: 'textures/brick.png' }], images: ['photos/coffee.png'], params: { steps: 1e7 } }],
      ['/api/diffusion/sample', { prompt: 'bag', count: 1e6 }],
      ['/api/diffusion/sample', { prompt: 'bag', steps: 1000, previewEvery: 1 }],
      ['/api/diffusion/sample', { prompt: 'bag', eta: 3 }], // the CLI's and the sampler's bound: DDIM's eta is meaningful in [0, 1]
      ['/api/diffusion/sample', { prompt: 'bag', guidanceScale: 51 }],
      ['/api/dataset/index', { model: 'builtin', k: 1e6 }],
      ['/api/dataset/index', { model: 'builtin', limit: 1e12 }],
    ];
    const running = studio.jobs.running();
    for (const [url, body] of cases) {
      const r = await post(url, body);
      expect(r.statusCode, `${url} ${JSON.stringify(body).slice(0, 120)}: ${r.body}`).toBe(400);
    }
    expect(studio.jobs.running()).toBe(running);
    const top = await studio.app.inject({ method: 'GET', url: '/api/dataset/stores/inside/top?layer=relu4&channel=0&k=1000000' });
    expect(top.statusCode).toBe(400);
  });
});

describe('uploads are capped, evicted least recently used, and deletable', () => {
  let capped: Studio;
  beforeAll(async () => {
    capped = await createStudio({ engine, imageUploads: { count: 3, bytes: 1 << 20 }, modelUploads: { count: 2, bytes: 64 << 20 }, webDir: join(ROOT, 'no-such-web-dir') });
  });
  afterAll(async () => {
    await capped.app.close();
  });
  const png = async (): Promise<ReturnType<typeof multipart>> => multipart('coat.png', (await import('node:fs')).readFileSync(sample('coat-test6.png')), 'image/png');
  const upload = async (): Promise<string> => {
    const r = await capped.app.inject({ method: 'POST', url: '/api/images', ...(await png()), headers: { ...(await png()).headers, ...sameOrigin } });
    expect(r.statusCode, r.body).toBe(201);
    return r.json().id as string;
  };
  const uploads = (): string[] => capped.images.list().filter((i) => i.source === 'upload').map((i) => i.id);
  const get = (id: string): Promise<number> => capped.app.inject({ method: 'GET', url: `/api/image?id=${encodeURIComponent(id)}` }).then((r) => r.statusCode);

  it('evicts the least recently used upload, never one a running job holds', async () => {
    const [a, b, c] = [await upload(), await upload(), await upload()];
    expect(await get(a!)).toBe(200); // a is now more recent than b
    const d = await upload();
    expect(uploads().sort()).toEqual([a, c, d].sort());
    expect(await get(b!)).toBe(404);
    // c is the oldest now, but a job holds it
    const release = capped.images.pin(c!);
    const e = await upload();
    expect(uploads().sort()).toEqual([c, d, e].sort());
    const [r1, r2] = [capped.images.pin(d), capped.images.pin(e)];
    const full = await capped.app.inject({ method: 'POST', url: '/api/images', ...(await png()), headers: { ...(await png()).headers, ...sameOrigin } });
    expect(full.statusCode).toBe(400);
    expect(full.json().error.message).toMatch(/in use by running jobs/);
    expect(uploads().sort()).toEqual([c, d, e].sort());
    for (const r of [release, r1, r2]) r();
    expect(capped.images.uploads.stats()).toMatchObject({ count: 3, pinned: 0 });
  });

  it('deletes uploads with DELETE, but not samples, not the built-in model, not what a job uses', async () => {
    const id = uploads()[0]!;
    const hold = capped.images.pin(id);
    expect((await capped.app.inject({ method: 'DELETE', url: `/api/images/${id}`, headers: sameOrigin })).statusCode).toBe(400);
    hold();
    const del = await capped.app.inject({ method: 'DELETE', url: `/api/images/${id}`, headers: sameOrigin });
    expect(del.statusCode, del.body).toBe(200);
    expect(await get(id)).toBe(404);
    expect((await capped.app.inject({ method: 'DELETE', url: `/api/images/${encodeURIComponent(id)}`, headers: sameOrigin })).statusCode).toBe(404);
    expect((await capped.app.inject({ method: 'DELETE', url: '/api/images/photos/coffee.png', headers: sameOrigin })).statusCode).toBe(403);
    expect(await get('photos/coffee.png')).toBe(200);

    const models: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await capped.app.inject({ method: 'POST', url: '/api/models', ...multipart(`m${i}.onnx`, encodeModel(courseCnn(i))), headers: { ...multipart('x', new Uint8Array()).headers, ...sameOrigin } });
      expect(r.statusCode, r.body).toBe(201);
      models.push(r.json().id);
    }
    const listed = (await capped.app.inject({ method: 'GET', url: '/api/models' })).json().models.map((m: { id: string }) => m.id);
    expect(listed).toEqual(['builtin', 'squeezenet', models[1], models[2]]);
    for (const builtin of ['builtin', 'squeezenet']) expect((await capped.app.inject({ method: 'DELETE', url: `/api/models/${builtin}`, headers: sameOrigin })).statusCode).toBe(403);
    expect((await capped.app.inject({ method: 'DELETE', url: `/api/models/${models[1]}`, headers: sameOrigin })).statusCode).toBe(200);
    expect((await capped.app.inject({ method: 'GET', url: `/api/models/${models[1]}` })).statusCode).toBe(404);
    expect((await capped.app.inject({ method: 'DELETE', url: `/api/models/${models[2]}`, headers: { origin: 'http://evil.example' } })).statusCode).toBe(403);
    expect(capped.models.get(models[2]!)).toBeDefined();
  });

  it('refuses an image whose header declares more pixels than allowed (decompression bomb)', async () => {
    const sharp = (await import('sharp')).default;
    const huge = await sharp(Buffer.alloc(8000 * 8000), { raw: { width: 8000, height: 8000, channels: 1 } }).png({ compressionLevel: 9 }).toBuffer();
    expect(huge.length).toBeLessThan(1 << 20);
    const before = uploads().length;
    const r = await capped.app.inject({ method: 'POST', url: '/api/images', ...multipart('bomb.png', huge, 'image/png'), headers: { ...multipart('x', new Uint8Array()).headers, ...sameOrigin } });
    expect(r.statusCode).toBe(413);
    expect(r.json().error.message).toMatch(/8000x8000 pixels/);
    expect(uploads().length).toBe(before);
  });
});

describe('a client that does not read its event stream', () => {
  let live: Studio;
  let port: number;
  const HIGH_WATER = 64 * 1024;
  beforeAll(async () => {
    live = await createStudio({ engine, streamHighWaterBytes: HIGH_WATER, webDir: join(ROOT, 'no-such-web-dir') });
    await live.app.listen({ port: 0, host: '127.0.0.1' });
    port = (live.app.server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await live.app.close();
  });

  it('keeps the server\'s buffer bounded (latest progress only) and still delivers the result', async () => {
    const EVENT = 256 * 1024;
    const EVENTS = 160; // 40 MB of progress: far beyond what the kernel's socket buffers absorb
    let emitted = 0;
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const id = live.jobs.start('flood', async ({ onProgress }) => {
      await released;
      const filler = 'x'.repeat(EVENT);
      for (let i = 0; i < EVENTS; i++) {
        // done === total: not throttled by the job manager, so every one reaches the stream
        onProgress?.({ done: 1, total: 1, phase: `flood ${i}`, preview: filler } as never);
        emitted++;
        await new Promise((r) => setImmediate(r));
      }
      return { answer: 42 };
    });
    const socket: Socket = connect(port, '127.0.0.1');
    await new Promise<void>((r) => socket.once('connect', () => r()));
    socket.write(`GET /api/jobs/${id}/events HTTP/1.1\r\nHost: localhost:${port}\r\n\r\n`);
    socket.pause(); // never reads while the job floods
    await new Promise((r) => setTimeout(r, 100));
    expect(live.streams.stats().streams).toBe(1);
    release();
    let maxBuffered = 0;
    let maxQueued = 0;
    while (live.jobs.status(id)!.state === 'running') {
      const s = live.streams.stats();
      maxBuffered = Math.max(maxBuffered, s.bufferedBytes);
      maxQueued = Math.max(maxQueued, s.queued);
      await new Promise((r) => setTimeout(r, 5));
    }
    const stats = live.streams.stats();
    expect(emitted).toBe(EVENTS);
    expect(stats.coalesced, 'the client never stalled: the test proves nothing').toBeGreaterThan(EVENTS / 2);
    // at most the high-water mark plus one event in flight, plus the one waiting
    expect(maxBuffered).toBeLessThan(HIGH_WATER + 2 * (EVENT + 1024));
    expect(maxQueued).toBeLessThanOrEqual(2);
    // the client reads at last: the result is there
    const chunks: Buffer[] = [];
    const ended = new Promise<void>((r) =>
      socket.on('data', (c: Buffer) => {
        chunks.push(c);
        if (c.subarray(-5).toString() === '0\r\n\r\n') r(); // the last chunk of a chunked response
      }),
    );
    socket.resume();
    await ended;
    socket.destroy();
    const raw = Buffer.concat(chunks);
    let at = raw.indexOf('\r\n\r\n') + 4;
    const parts: Buffer[] = [];
    for (;;) {
      const eol = raw.indexOf('\r\n', at);
      const size = parseInt(raw.subarray(at, eol).toString(), 16);
      if (!size) break;
      parts.push(raw.subarray(eol + 2, eol + 2 + size));
      at = eol + 2 + size + 2;
    }
    const events = parseEvents(Buffer.concat(parts).toString('utf8'));
    expect(events.at(-1)).toEqual({ type: 'result', result: { answer: 42 } });
    expect(events.filter((e) => e.type === 'progress').length).toBeLessThan(EVENTS);
    expect(live.streams.stats().streams).toBe(0);
  });

  it('refuses a wrong port in the Host header over real HTTP', async () => {
    const status = (host: string): Promise<number> =>
      new Promise((resolve, reject) => {
        const req = httpRequest({ host: '127.0.0.1', port, path: '/api/health', headers: { host } }, (res) => {
          res.resume();
          resolve(res.statusCode!);
        });
        req.on('error', reject);
        req.end();
      });
    expect(await status(`localhost:${port}`)).toBe(200);
    expect(await status(`127.0.0.1:${port}`)).toBe(200);
    expect(await status(`localhost:${port + 1}`)).toBe(403);
    expect(await status(`rebind.attacker.example:${port}`)).toBe(403);
  });
});

describe('convlens studio', () => {
  it('names a port in use and the way out, without a stack trace', async () => {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
    const port = (busy.address() as AddressInfo).port;
    try {
      const child = spawn('node', [CLI, 'studio', '--port', String(port)], { cwd: ROOT });
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
      expect(code).toBe(1);
      expect(stderr).toContain(`Port ${port} on 127.0.0.1 is already in use`);
      expect(stderr).toContain('--port 0');
      expect(stderr).not.toMatch(/\n\s+at /);
    } finally {
      busy.close();
    }
  });

  it('beyond loopback: warns, prints the URL with a token, and refuses requests without it', async () => {
    const child = spawn('node', [CLI, 'studio', '--host', '0.0.0.0', '--port', '0'], { cwd: ROOT });
    try {
      let stdout = '';
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (c: Buffer) => {
          stdout += c.toString();
          const m = /ConvLens studio: (\S+)/.exec(stdout);
          if (m) resolve(m[1]!);
        });
        child.on('exit', () => reject(new Error(`studio exited: ${stderr}`)));
      });
      expect(stderr).toMatch(/warning: the studio listens on 0\.0\.0\.0.*token/s);
      const u = new URL(url);
      expect(u.searchParams.get('token')).toMatch(/^[0-9a-f]{64}$/);
      const base = `http://127.0.0.1:${u.port}`;
      expect((await fetch(`${base}/api/health`)).status).toBe(401);
      expect((await fetch(`${base}/api/health`, { headers: { [TOKEN_HEADER]: u.searchParams.get('token')! } })).status).toBe(200);
    } finally {
      child.kill('SIGTERM');
    }
  });
});
