// Training benchmark: the built-in model's architecture (the course CNN, 1x28x28, 98,442
// parameters) trained with Adam at batch 128, in ConvLens and in TensorFlow.js, in the same run.
//
//   npm run bench -- training          # this file only
//   npm run bench -- training --quick  # fewer steps
//   npm run bench -- training --full   # ConvLens: one real epoch over the full training set
//
// ConvLens is measured two ways: the compiled training graph alone (session.run of forward, loss
// and all parameter gradients), and the trainer loop (`fit`: batch assembly from 8-bit pixels,
// the graph, the Adam update in JS, progress), whose samples/s gives the time per epoch of the
// 60,000-image training set. TF.js runs the same architecture and weights (NHWC) with
// tf.train.adam; its wasm backend has no Conv2DBackpropFilter kernel, so it trains on its pure-JS
// cpu backend, which is so slow (~140 s per batch-128 step here) that by default it runs at
// batch 16, compared with ConvLens at batch 16; --full measures it at batch 128. Times per epoch
// are extrapolated from samples/s (except ConvLens with --full, which runs one).
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fillBatch, pixelTable, type ImageDataset } from '../src/data/dataset.js';
import { FASHION_MNIST_PREPROCESSING, hasFashionMnist, loadFashionMnist, SUBSET_DIR } from '../src/data/fashion-mnist.js';
import type { Graph } from '../src/engine/graph/ir.js';
import { Engine } from '../src/engine/runtime/engine.js';
import { nodeBackend } from '../src/engine/runtime/node.js';
import type { Tensor } from '../src/engine/tensor.js';
import { courseCnn } from '../src/models/zoo/index.js';
import { buildTrainingGraph } from '../src/training/step.js';
import { fit, Trainer } from '../src/training/trainer.js';
import { time } from './util.js';

const args = new Set(process.argv.slice(2));
const QUICK = args.has('--quick');
const FULL = args.has('--full');
const THREADS = 2;
const BATCH = 128;
/** batch for the TF.js cpu backend by default (and ConvLens at the same batch, for a like-for-like ratio) */
const SMALL = 16;
const EPOCH = 60000;



function batchOf(ds: ImageDataset, start: number, n: number): { x: Float32Array; y: Float32Array } {
  const x = new Float32Array(n * 784);
  const y = new Float32Array(n * 10);
  fillBatch(ds, Array.from({ length: n }, (_, i) => (start + i) % ds.count), [pixelTable(FASHION_MNIST_PREPROCESSING)], x, { data: y, classes: 10 });
  return { x, y };
}

/** The course CNN in TF.js ops (NHWC), with the ConvLens model's initial weights. */
function tfjsCourseCnn(graph: Graph): { vars: tf.Variable[]; forward: (x: tf.Tensor4D) => tf.Tensor2D } {
  const v = (name: string, layout: 'conv' | 'dense' | 'vec'): tf.Variable => {
    const t = graph.initializers.get(name)!;
    let x = tf.tensor(t.data as Float32Array, [...t.dims]);
    if (layout === 'conv') x = x.transpose([2, 3, 1, 0]);
    if (layout === 'dense') x = x.transpose([1, 0]);
    return tf.variable(x, true, `course/${name}`);
  };
  const convs = [1, 2, 3, 4].map((i) => ({ w: v(`conv${i}.weight`, 'conv'), b: v(`conv${i}.bias`, 'vec') }));
  const dw = v('logits.weight', 'dense');
  const db = v('logits.bias', 'vec');
  return {
    vars: [...convs.flatMap((c) => [c.w, c.b]), dw, db],
    forward(x) {
      let h: tf.Tensor4D = x;
      convs.forEach((c, i) => {
        h = tf.relu(tf.add(tf.conv2d(h, c.w as unknown as tf.Tensor4D, 1, 'same'), c.b)) as tf.Tensor4D;
        if (i < 3) h = tf.maxPool(h, 2, 2, 'valid');
      });
      return tf.add(tf.matMul(tf.mean(h, [1, 2]) as tf.Tensor2D, dw as unknown as tf.Tensor2D), db) as tf.Tensor2D;
    },
  };
}

async function main(): Promise<void> {
  const full = hasFashionMnist('train');
  const ds = full ? loadFashionMnist('train') : loadFashionMnist('train', SUBSET_DIR);
  const graph = courseCnn(0);
  const engine = new Engine(nodeBackend(), { threads: THREADS });
  console.log(`ConvLens training benchmark: course CNN (98,442 params), Adam, batch ${BATCH}, data: ${ds.source}`);
  console.log(`onnxruntime-node, ${THREADS} intra-op threads; TensorFlow.js ${tf.version.tfjs}`);

  // 1. the compiled training graph alone, at the training batch and at the small batch TF.js's
  //    cpu backend is measured at
  const training = buildTrainingGraph(graph);
  const session = await engine.compileOnce(training.graph);
  const graphStep = async (n: number): Promise<number> => {
    const { x, y } = batchOf(ds, 0, n);
    const feeds: Record<string, Tensor> = {
      input: { dtype: 'float32', dims: [n, 1, 28, 28], data: x },
      [training.targets]: { dtype: 'float32', dims: [n, 10], data: y },
    };
    for (const p of training.parameters) feeds[p] = graph.initializers.get(p)!;
    return time(() => session.run(feeds), QUICK ? 8 : 25, 3);
  };
  const tGraph = await graphStep(BATCH);
  const tGraphSmall = await graphStep(SMALL);
  await session.release();

  // 2. the trainer loop: real batches, Adam in JS, progress
  const trainer = new Trainer(engine, training, graph.initializers, { optimizer: { type: 'adam' } });
  const steps = FULL ? Math.ceil(ds.count / BATCH) : QUICK ? 30 : 100;
  const size = Math.min(ds.count, steps * BATCH);
  const xBuf = new Float32Array(BATCH * 784);
  const yBuf = new Float32Array(BATCH * 10);
  const tables = [pixelTable(FASHION_MNIST_PREPROCESSING)];
  const data = {
    size,
    batch(indices: Int32Array): Record<string, Tensor> {
      fillBatch(ds, indices, tables, xBuf, { data: yBuf, classes: 10 });
      return {
        input: { dtype: 'float32', dims: [indices.length, 1, 28, 28], data: xBuf.subarray(0, indices.length * 784) },
        [training.targets]: { dtype: 'float32', dims: [indices.length, 10], data: yBuf.subarray(0, indices.length * 10) },
      };
    },
  };
  await trainer.step(data.batch(Int32Array.from({ length: BATCH }, (_, i) => i)), 1e-3); // compile + warm up
  const t0 = performance.now();
  const r = await fit(trainer, data, { epochs: 1, batchSize: BATCH, seed: 0, lr: 1e-3 });
  const loopSeconds = (performance.now() - t0) / 1000;
  await trainer.dispose();
  await engine.dispose();
  const loopStep = (loopSeconds * 1000) / r.steps;

  // 3. TF.js: wasm if it can train convolutions, else the cpu backend
  const wasmDir = dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json'));
  setWasmPaths(`${wasmDir}/dist/`);
  const setup = (n: number) => {
    const net = tfjsCourseCnn(graph);
    const opt = tf.train.adam(1e-3);
    const { x, y } = batchOf(ds, 0, n);
    const xt = tf.tensor4d(x, [n, 28, 28, 1]); // one channel: NCHW and NHWC coincide
    const yt = tf.tensor2d(y, [n, 10]);
    const step = async (): Promise<void> => {
      const loss = opt.minimize(() => tf.losses.softmaxCrossEntropy(yt, net.forward(xt)) as tf.Scalar, true, net.vars);
      await loss!.data();
      loss!.dispose();
    };
    return { step, dispose: () => (tf.dispose([xt, yt]), tf.disposeVariables()) };
  };
  let backend = 'wasm';
  let tfBatch = BATCH;
  let note = '';
  await tf.setBackend('wasm');
  await tf.ready();
  let tfjs = setup(BATCH);
  try {
    await tfjs.step();
  } catch (e) {
    note = `TF.js wasm backend: ${(e as Error).message.split('\n')[0]!.replace(/ not registered for backend 'wasm'/, ' missing')}; measured on its cpu backend`;
    backend = 'cpu';
    tfjs.dispose();
    await tf.setBackend('cpu');
    await tf.ready();
    // The cpu backend takes ~140 s per batch-128 step of this net on a 2-core machine; its time
    // grows linearly with the batch, so by default it is measured at batch 16 (--full: 128).
    tfBatch = FULL ? BATCH : SMALL;
    tfjs = setup(tfBatch);
  }
  const tfReps = QUICK || backend === 'cpu' ? 2 : 5;
  const tTf = await time(tfjs.step, tfReps, 1);
  tfjs.dispose();

  const perSecond = (n: number, ms: number): number => (n * 1000) / ms;
  const epoch = (samplesPerSecond: number): string => {
    const s = EPOCH / samplesPerSecond;
    return s < 3600 ? `${s.toFixed(0)} s` : `${(s / 3600).toFixed(1)} h`;
  };
  console.log(`\nAdam training steps; samples/s = images per second; epoch = the 60,000 training images, extrapolated from samples/s`);
  const rows: [string, number, number, number][] = [
    [`ConvLens training graph (session.run)`, BATCH, tGraph, perSecond(BATCH, tGraph)],
    [`ConvLens trainer loop (${r.steps} steps: batches, graph, Adam)`, BATCH, loopStep, perSecond(size / r.steps, loopStep)],
    [`ConvLens training graph (session.run)`, SMALL, tGraphSmall, perSecond(SMALL, tGraphSmall)],
    [`TF.js ${backend} backend (median of ${tfReps} steps)`, tfBatch, tTf, perSecond(tfBatch, tTf)],
  ];
  console.log(['what'.padEnd(56), 'batch'.padStart(5), 'ms/step'.padStart(10), 'samples/s'.padStart(10), 'epoch'.padStart(8)].join('  '));
  for (const [what, n, ms, sps] of rows) console.log([what.padEnd(56), String(n).padStart(5), ms.toFixed(1).padStart(10), sps.toFixed(1).padStart(10), epoch(sps).padStart(8)].join('  '));
  const same = tfBatch === BATCH ? tGraph : tGraphSmall;
  console.log(`\nratio TF.js / ConvLens, same batch (${tfBatch}), training graph step: ${(tTf / same).toFixed(0)}x`);
  console.log(`ratio of epoch times, TF.js (batch ${tfBatch}) / ConvLens trainer loop (batch ${BATCH}): ${(perSecond(size / r.steps, loopStep) / perSecond(tfBatch, tTf)).toFixed(0)}x`);
  if (note) console.log(`(${note})`);
  if (FULL) console.log(`measured full ConvLens epoch: ${loopSeconds.toFixed(1)} s for ${size} images`);
}

await main();
