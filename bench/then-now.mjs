// One method on one image with the code of another checkout, to compare against the code as it
// was when an issue was filed (the "faster than today" targets). Runs the checkout's TypeScript
// sources through tsx; its sessions are compiled before the timed calls, without the disk cache.
//
//   git worktree add /tmp/then d984571 && ln -s "$PWD/node_modules" /tmp/then/node_modules
//   (cd /tmp/then && ROOT=/tmp/then node --import tsx "$OLDPWD/bench/then-now.mjs" MODEL.onnx X.npy occlusion - 2)
//   ROOT=$PWD node --import tsx bench/then-now.mjs MODEL.onnx X.npy occlusion incremental 2
//
// METHOD: occlusion (16x16 windows, stride 8) or scorecam; MODE: that method's mode, or - for
// the checkout's default. X.npy: float32 [N, C, H, W]; the first image is explained.
import { readFileSync } from 'node:fs';

const root = process.env.ROOT;
const [modelPath, inputPath, method, mode = '-', reps = '2'] = process.argv.slice(2);
if (!root || !modelPath || !inputPath || !method) {
  console.error('usage: ROOT=<checkout> node --import tsx bench/then-now.mjs MODEL.onnx X.npy occlusion|scorecam [MODE|-] [REPS]');
  process.exit(2);
}
process.env.CONVLENS_CACHE_DIR = 'off';
const { Engine } = await import(`${root}/src/engine/runtime/engine.ts`);
const { nodeBackend } = await import(`${root}/src/engine/runtime/node.ts`);
const { loadModelFile } = await import(`${root}/src/models/load.ts`);
const { explain } = await import(`${root}/src/methods/explain/index.ts`);

const npy = readFileSync(inputPath);
const headerLength = npy.readUInt16LE(8);
const header = npy.subarray(10, 10 + headerLength).toString();
const dims = header.match(/'shape': \(([^)]*)\)/)[1].split(',').filter((d) => d.trim()).map(Number);
const per = dims.slice(1).reduce((a, d) => a * d, 1);
const all = new Float32Array(npy.buffer.slice(npy.byteOffset + 10 + headerLength, npy.byteOffset + 10 + headerLength + 4 * per));
const x = { dtype: 'float32', dims: [1, ...dims.slice(1)], data: all };

const model = loadModelFile(modelPath, new Engine(nodeBackend(), { threads: 2 }));
const options = { methods: [method] };
if (method === 'occlusion') options.occlusion = { window: 16, stride: 8, ...(mode !== '-' ? { mode } : {}) };
if (method === 'scorecam' && mode !== '-') options.scorecam = { mode };
await explain(model, x, options); // compiles the sessions
const ms = [];
for (let r = 0; r < Number(reps); r++) {
  const t0 = performance.now();
  await explain(model, x, options);
  ms.push(Math.round(performance.now() - t0));
}
console.log(JSON.stringify({ root, method, mode, ms }));
