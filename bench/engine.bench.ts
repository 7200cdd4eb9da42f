// Engine benchmark: ConvLens (ONNX Runtime + backward graphs) against TensorFlow.js, measured in
// the same run on the same machine. Prints medians and ratios; run with `npm run bench`.
//
//   npm run bench -- engine       # this file only (npm run bench runs every bench/*.bench.ts)
//   npm run bench -- --quick      # fewer repetitions
//   npm run bench -- --full       # also the TF.js training steps that take minutes on its CPU backend
//   npm run bench -- engine --compile-only   # only session compile times: no cache, cold and warm disk cache
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { buildGradientGraph } from '../src/engine/autodiff/gradient.js';
import type { Graph } from '../src/engine/graph/ir.js';
import { Engine } from '../src/engine/runtime/engine.js';
import { nodeBackend } from '../src/engine/runtime/node.js';
import type { Tensor } from '../src/engine/tensor.js';
import { resnet18Like, vggLike } from '../src/models/zoo/index.js';
import { buildTrainingGraph } from '../src/training/step.js';
import { tfjsModel, type TfjsNet } from './tfjs-nets.js';
import { median, time } from './util.js';
import { encodeModel } from '../src/engine/onnx/codec.js';

const args = new Set(process.argv.slice(2));
const QUICK = args.has('--quick');
const FULL = args.has('--full');
const COMPILE_ONLY = args.has('--compile-only');
const THREADS = 2;



function randomTensor(dims: number[], seed: number): Tensor {
  let a = seed;
  const data = new Float32Array(dims.reduce((p, q) => p * q, 1));
  for (let i = 0; i < data.length; i++) {
    a = (a * 1103515245 + 12345) >>> 0;
    data[i] = (a / 2 ** 32) * 2 - 1;
  }
  return { dtype: 'float32', dims, data };
}

function oneHot(n: number, k: number, cls: (i: number) => number): Tensor {
  const data = new Float32Array(n * k);
  for (let i = 0; i < n; i++) data[i * k + cls(i)] = 1;
  return { dtype: 'float32', dims: [n, k], data };
}

interface Row {
  net: string;
  what: string;
  convlens: number;
  tfjs: number | string;
  note?: string;
}

async function benchNet(name: string, graph: Graph, size: number, classes: number, engine: Engine, net: TfjsNet, reps: number): Promise<Row[]> {
  const rows: Row[] = [];
  const x = randomTensor([1, 3, size, size], 1);
  const input = graph.realInputs()[0]!.name;
  const logits = graph.outputs[0]!.name;
  const seed = oneHot(1, classes, () => 3);

  const fwd = await engine.compileOnce(graph);
  const tFwd = await time(() => fwd.run({ [input]: x }), reps, 2, 'ConvLens forward');

  const grad = buildGradientGraph(graph, { seed: { upstream: [logits] }, wrt: [input], outputs: [logits] });
  const gradRun = await engine.compileOnce(grad.graph);
  const tGrad = await time(() => gradRun.run({ [input]: x, [grad.seedInputs[logits]!]: seed }), reps, 2, 'ConvLens input gradient');

  const guided = buildGradientGraph(graph, { seed: { upstream: [logits] }, wrt: [input], outputs: [logits], ruleSet: 'guided' });
  const guidedRun = await engine.compileOnce(guided.graph);
  const tGuided = await time(() => guidedRun.run({ [input]: x, [guided.seedInputs[logits]!]: seed }), reps, 2, 'ConvLens guided backprop');

  const batch = 32;
  const train = buildTrainingGraph(graph, { batchNorm: 'inference' }); // as the TF.js side does
  const trainRun = await engine.compileOnce(train.graph);
  const xb = randomTensor([batch, 3, size, size], 2);
  const yb = oneHot(batch, classes, (i) => i % classes);
  const params: Record<string, Tensor> = {};
  for (const p of train.parameters) params[p] = graph.initializers.get(p)!;
  const tTrain = await time(() => trainRun.run({ ...params, [input]: xb, [train.targets]: yb }), Math.max(3, reps >> 2), 1, 'ConvLens training step');

  // TensorFlow.js, same architecture and weights, NHWC.
  await tf.setBackend('wasm');
  const xt = tf.tensor4d(x.data as Float32Array, [1, 3, size, size]).transpose([0, 2, 3, 1]) as tf.Tensor4D;
  const seedT = tf.tensor2d(seed.data as Float32Array, [1, classes]);
  const tfFwd = await time(async () => {
    const y = net.forward(xt, false);
    await y.data();
    y.dispose();
  }, reps, 2, 'TF.js forward');
  const tfGradFn = tf.grad((inp: tf.Tensor) => net.forward(inp as tf.Tensor4D, false).mul(seedT).sum());
  const tfGrad = await time(async () => {
    const g = tfGradFn(xt);
    await g.data();
    g.dispose();
  }, Math.max(3, reps >> 1), 1, 'TF.js input gradient');
  const tfGuidedFn = tf.grad((inp: tf.Tensor) => net.forward(inp as tf.Tensor4D, true).mul(seedT).sum());
  const tfGuided = await time(async () => {
    const g = tfGuidedFn(xt);
    await g.data();
    g.dispose();
  }, Math.max(3, reps >> 1), 1, 'TF.js guided backprop');

  // TF.js cannot train this net on its wasm backend (no Conv2DBackpropFilter kernel); its pure-JS
  // cpu backend can, slowly (VGG-like, batch 2: ~190 s), so only --full measures it (batch 32).
  let tfTrain: number | string;
  const tfBatch = FULL ? batch : 2;
  const xbt = tf.tensor4d((xb.data as Float32Array).subarray(0, tfBatch * 3 * size * size), [tfBatch, 3, size, size]).transpose([0, 2, 3, 1]) as tf.Tensor4D;
  const ybt = tf.tensor2d((yb.data as Float32Array).subarray(0, tfBatch * classes), [tfBatch, classes]);
  const step = async (): Promise<void> => {
    const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(ybt, net.forward(xbt, false)) as tf.Scalar);
    await value.data();
    for (const g of Object.values(grads)) await g.data();
    value.dispose();
    tf.dispose(grads);
  };
  let wasmError = '';
  try {
    await step();
  } catch (e) {
    wasmError = (e as Error).message.split('\n')[0]!.replace(/ not registered for backend 'wasm'/, ' missing');
  }
  if (!wasmError) tfTrain = ((await time(step, 1, 0, 'TF.js training step (wasm)')) * batch) / tfBatch;
  else if (FULL) {
    await tf.setBackend('cpu');
    const t = await time(step, 1, 0, `TF.js training step (cpu backend, batch ${tfBatch})`);
    await tf.setBackend('wasm');
    tfTrain = (t * batch) / tfBatch;
  } else tfTrain = 'n/a';
  const tfTrainNote = !wasmError ? '' : FULL ? `TF.js wasm: ${wasmError}; measured on its cpu backend` : `TF.js wasm: ${wasmError}; its cpu backend takes minutes per step: --full measures it`;
  tf.dispose([xt, seedT, xbt, ybt]);

  rows.push({ net: name, what: 'forward (batch 1)', convlens: tFwd, tfjs: tfFwd });
  rows.push({ net: name, what: 'forward + input gradient', convlens: tGrad, tfjs: tfGrad });
  rows.push({ net: name, what: 'guided backprop', convlens: tGuided, tfjs: tfGuided });
  rows.push({ net: name, what: `training step (batch ${batch})`, convlens: tTrain, tfjs: tfTrain, note: tfTrainNote });
  for (const r of [fwd, gradRun, guidedRun, trainRun]) await r.release();
  console.log(`  ${name}: input gradient / forward = ${(tGrad / tFwd).toFixed(2)}x, guided / forward = ${(tGuided / tFwd).toFixed(2)}x`);
  return rows;
}

/**
 * Session compile times: what a process pays before its first run of a graph. Without the disk
 * cache, with an empty cache folder (ORT optimizes and writes its optimized model), and with the
 * entry already there (as for a second process: verify, load with optimizations off, map the
 * weights). In one process memory freed by a compile is reused by the next, so these times
 * flatter the no-cache column; the peers and startup benches time whole processes.
 */
async function benchCompile(): Promise<void> {
  const net = resnet18Like(0, 224, 1000);
  const graphs: [string, () => Graph][] = [
    ['forward', () => net],
    ['forward + input gradient', () => buildGradientGraph(net, { seed: { upstream: ['fc'] }, wrt: ['input'], outputs: ['fc'] }).graph],
    ['forward + layer gradient (Grad-CAM)', () => buildGradientGraph(net, { seed: { upstream: ['fc'] }, wrt: ['layer4.1.relu2'], outputs: ['fc', 'layer4.1.relu2'] }).graph],
  ];
  const reps = QUICK ? 2 : 3;
  const dirs: string[] = [];
  const fresh = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'convlens-compile-bench-'));
    dirs.push(d);
    return d;
  };
  const compileMs = async (cacheDir: string | false, graph: Graph): Promise<number> => {
    const engine = new Engine(nodeBackend({ cacheDir }), { threads: THREADS });
    const t0 = performance.now();
    await engine.compileOnce(graph);
    const ms = performance.now() - t0;
    await engine.dispose();
    return ms;
  };
  const rows: string[][] = [];
  try {
    for (const [what, make] of graphs) {
      let t0 = performance.now();
      const graph = make();
      const buildMs = performance.now() - t0;
      t0 = performance.now();
      const bytes = encodeModel(graph);
      const encodeMs = performance.now() - t0;
      const none: number[] = [];
      const cold: number[] = [];
      const warm: number[] = [];
      for (let r = 0; r < reps; r++) {
        none.push(await compileMs(false, graph));
        const dir = fresh();
        cold.push(await compileMs(dir, graph));
        warm.push(await compileMs(dir, graph));
      }
      process.stderr.write(`    compile ${what}: none ${median(none).toFixed(0)} ms, cold ${median(cold).toFixed(0)} ms, warm ${median(warm).toFixed(0)} ms\n`);
      rows.push([what, (bytes.length / 1e6).toFixed(1), buildMs.toFixed(0), encodeMs.toFixed(0), median(none).toFixed(0), median(cold).toFixed(0), median(warm).toFixed(0), `${(median(none) / median(warm)).toFixed(1)}x`]);
    }
  } finally {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
  console.log(`\nsession compile, ResNet-18-shaped 3x224x224 (milliseconds, median of ${reps}; compile = encode + hash + ONNX Runtime session creation)`);
  const head = ['graph', 'MB', 'build', 'encode', 'no cache', 'cold cache', 'warm cache', 'speed-up'];
  const width = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  console.log(head.map((h, i) => (i === 0 ? h.padEnd(width[i]!) : h.padStart(width[i]!))).join('  '));
  for (const r of rows) console.log(r.map((v, i) => (i === 0 ? v.padEnd(width[i]!) : v.padStart(width[i]!))).join('  '));
}

async function main(): Promise<void> {
  if (COMPILE_ONLY) {
    await benchCompile();
    return;
  }
  const wasmDir = dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json'));
  setWasmPaths(`${wasmDir}/dist/`);
  await tf.setBackend('wasm');
  await tf.ready();
  const engine = new Engine(nodeBackend(), { threads: THREADS });
  console.log(`ConvLens engine benchmark: onnxruntime-node, ${THREADS} threads; TensorFlow.js ${tf.version.tfjs} (${tf.getBackend()} backend, ${(tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT') ? 'multi' : 'single')}-threaded)`);
  const reps = QUICK ? 5 : 15;
  const rows: Row[] = [];
  const vgg = vggLike(0, 128);
  rows.push(...(await benchNet('VGG-like 3x128x128', vgg, 128, 10, engine, tfjsModel(vgg, 'vgg'), reps)));
  const resnet = resnet18Like(0, 224, 1000);
  rows.push(...(await benchNet('ResNet-18 3x224x224', resnet, 224, 1000, engine, tfjsModel(resnet, 'resnet'), Math.max(3, reps >> 1))));
  await engine.dispose();

  const fmt = (v: number): string => v.toFixed(1);
  console.log('\nmedian milliseconds (lower is better); ratio = TF.js time / ConvLens time');
  console.log(['net'.padEnd(20), 'computation'.padEnd(26), 'ConvLens'.padStart(9), 'TF.js'.padStart(9), 'ratio'.padStart(8)].join('  '));
  for (const r of rows) {
    const tf = typeof r.tfjs === 'number' ? fmt(r.tfjs).padStart(9) : r.tfjs;
    const ratio = typeof r.tfjs === 'number' ? `${(r.tfjs / r.convlens).toFixed(1)}x`.padStart(8) : '';
    console.log([r.net.padEnd(20), r.what.padEnd(26), fmt(r.convlens).padStart(9), tf, ratio].join('  ') + (r.note ? `   (${r.note})` : ''));
  }
  await benchCompile();
}

await main();
