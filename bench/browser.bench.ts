// In-browser benchmark: what the studio computes in the browser (the engine, bundled by Vite into
// its engine worker, on onnxruntime-web's WebAssembly backend, one thread) against the very same calls in Node
// (onnxruntime-node, one and two threads), measured in the same run on the same model bytes and
// input tensor. The ratio is the price of computing in the browser.
//
//   npm run bench -- browser            # needs the built page (npm run build) and Debian's chromium
//   npm run bench -- browser --quick
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeModel, encodeModel } from '../src/engine/onnx/codec.js';
import { Engine } from '../src/engine/runtime/engine.js';
import { nodeBackend } from '../src/engine/runtime/node.js';
import type { Tensor } from '../src/engine/tensor.js';
import { createStudio, DEFAULT_WEB_DIR, type Studio } from '../src/interfaces/server/app.js';
import { explainReport, type ReportRequest } from '../src/methods/explain/report.js';
import { Model } from '../src/models/model.js';
import { vggLike } from '../src/models/zoo/index.js';
import { openStudioPage } from '../test/studio/browser.js';
import { time } from './util.js';

const QUICK = process.argv.includes('--quick');
const CHROMIUM = process.env['CONVLENS_CHROMIUM'] ?? '/usr/bin/chromium';

interface Case {
  name: string;
  /** undefined: a plain forward pass (the baseline of the explain bench) */
  request?: ReportRequest;
  reps: number;
}

const CASES: Case[] = [
  { name: 'forward', reps: QUICK ? 5 : 15 },
  { name: 'saliency', request: { methods: ['saliency'] }, reps: QUICK ? 3 : 9 },
  { name: 'gradcam', request: { methods: ['gradcam'] }, reps: QUICK ? 3 : 9 },
  { name: 'guided-backprop', request: { methods: ['guided-backprop'] }, reps: QUICK ? 3 : 9 },
  { name: 'integrated-gradients (50 steps)', request: { methods: ['integrated-gradients'], params: { 'integrated-gradients': { steps: 50 } } }, reps: QUICK ? 1 : 3 },
  { name: 'smoothgrad (50 samples)', request: { methods: ['smoothgrad'], params: { smoothgrad: { samples: 50 } } }, reps: QUICK ? 1 : 3 },
];

interface Subject {
  label: string;
  model: string;
  image: string;
}

const wireTensor = (w: { dims: number[]; data: string }): Tensor => ({ dtype: 'float32', dims: w.dims, data: new Float32Array(Buffer.from(w.data, 'base64').buffer.slice(0)) });

async function nodeTimes(studio: Studio, s: Subject, threads: number): Promise<number[]> {
  const bytes = (await studio.app.inject({ method: 'GET', url: `/api/models/${s.model}/onnx` })).rawPayload;
  const engine = new Engine(nodeBackend(), { threads });
  try {
    const model = Model.fromOnnxGraph(decodeModel(new Uint8Array(bytes), { source: s.model }), engine);
    const x = wireTensor((await studio.app.inject({ method: 'POST', url: '/api/input', payload: { model: s.model, image: s.image } })).json().tensor);
    const out: number[] = [];
    for (const c of CASES) out.push(await time(() => (c.request ? explainReport(model, x, c.request) : model.run(x, [model.output])), c.reps, 1));
    return out;
  } finally {
    await engine.dispose();
  }
}

// Runs in the page, driving the studio's engine worker through its message protocol
// (web/src/compute.ts) as the page does; times are round trips, measured in the page. A string,
// not a function: tsx's transpiled functions reference helpers (__name) that exist only in Node.
const IN_PAGE = `async ({ workerUrl, s, cases }) => {
  const worker = new Worker(workerUrl, { type: 'module' });
  let last = 0;
  const call = (msg) => new Promise((resolve, reject) => {
    const id = ++last;
    const on = (e) => {
      if (e.data.id !== id || e.data.type === 'progress') return;
      worker.removeEventListener('message', on);
      if (e.data.type === 'result') resolve(e.data.result);
      else reject(new Error(JSON.stringify(e.data)));
    };
    worker.addEventListener('message', on);
    worker.postMessage({ ...msg, id });
  });
  const out = [];
  for (const c of cases) {
    const msg = c.request ? { kind: 'explain', model: s.model, image: s.image, request: c.request } : { kind: 'predict', model: s.model, image: s.image };
    await call(msg);
    const ts = [];
    for (let i = 0; i < c.reps; i++) {
      const t0 = performance.now();
      await call(msg);
      ts.push(performance.now() - t0);
    }
    ts.sort((a, b) => a - b);
    out.push(ts.length % 2 ? ts[ts.length >> 1] : (ts[ts.length / 2 - 1] + ts[ts.length / 2]) / 2);
  }
  worker.terminate();
  return out;
}`;

async function main(): Promise<void> {
  if (!existsSync(CHROMIUM)) {
    console.log(`skipped: no Chromium at ${CHROMIUM} (apt-get install chromium, or set CONVLENS_CHROMIUM)`);
    return;
  }
  const bundle = existsSync(join(DEFAULT_WEB_DIR, 'assets')) ? readdirSync(join(DEFAULT_WEB_DIR, 'assets')).find((f) => /^engine\.worker-.*\.js$/.test(f)) : undefined;
  if (!bundle) throw new Error(`The studio page is not built (${DEFAULT_WEB_DIR} has no engine worker): run \`npm run build\` first.`);

  const dir = mkdtempSync(join(tmpdir(), 'convlens-bench-'));
  const vggPath = join(dir, 'vgg_like.onnx');
  writeFileSync(vggPath, encodeModel(vggLike(0, 128)));
  const engine = new Engine(nodeBackend(), { threads: 2 });
  const studio = await createStudio({ engine, modelPath: vggPath });
  const page = await openStudioPage(studio, { timeout: 600_000 });
  try {
    const models = (await studio.app.inject({ method: 'GET', url: '/api/models' })).json().models as { id: string; name: string }[];
    const vgg = models.find((m) => m.name.startsWith('vgg_like'));
    if (!vgg) throw new Error(`the VGG-like model did not open: ${JSON.stringify(models)}`);
    const subjects: Subject[] = [
      { label: 'built-in Fashion-MNIST CNN, 1x28x28', model: 'builtin', image: 'fashion-mnist/bag-test18.png' },
      { label: 'VGG-like net, 3x128x128, random weights', model: vgg.id, image: 'photos/chelsea.png' },
    ];
    console.log('ConvLens in-browser benchmark: median ms per call (one image), same model bytes and input tensor on both sides.');
    // the engine worker's own rule (web/src/inbrowser.ts): every core up to 4 when the page is cross-origin isolated
    const threads = (await page.page.evaluate('crossOriginIsolated ? Math.max(1, Math.min(4, navigator.hardwareConcurrency || 1)) : 1')) as number;
    console.log(`browser: the studio's engine worker in headless Chromium, onnxruntime-web WebAssembly, ${threads} thread(s), round trips from the page; node: onnxruntime-node.`);
    for (const s of subjects) {
      process.stderr.write(`  ${s.label}: browser...\n`);
      const browser = (await page.page.evaluate(`(${IN_PAGE})(${JSON.stringify({ workerUrl: `/assets/${bundle}`, s, cases: CASES })})`)) as number[];
      process.stderr.write(`  ${s.label}: node...\n`);
      const node1 = await nodeTimes(studio, s, 1);
      const node2 = await nodeTimes(studio, s, 2);
      console.log(`\n${s.label}`);
      console.log(`${'method'.padEnd(34)}${'node 2 thr'.padStart(12)}${'node 1 thr'.padStart(12)}${'browser'.padStart(12)}${'browser / node 1'.padStart(18)}${'browser / node 2'.padStart(18)}`);
      CASES.forEach((c, i) => {
        const f = (ms: number): string => (ms < 100 ? ms.toFixed(2) : ms.toFixed(0)).padStart(12);
        console.log(`${c.name.padEnd(34)}${f(node2[i]!)}${f(node1[i]!)}${f(browser[i]!)}${`${(browser[i]! / node1[i]!).toFixed(1)}x`.padStart(18)}${`${(browser[i]! / node2[i]!).toFixed(1)}x`.padStart(18)}`);
      });
    }
  } finally {
    await page.close();
    await studio.app.close();
    await engine.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
