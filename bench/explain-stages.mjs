// Where one explain() process spends its time: each stage's wall time and the fresh memory it
// touched (minor page faults x 4 KiB; on the 2-core VM these benches ran on, each fault cost
// ~5 us, so fresh memory was a large part of a run's fixed cost). Plain JavaScript on dist/.
//
//   npm run build && node bench/explain-stages.mjs MODEL.onnx INPUTS.npy THREADS '{"methods":["saliency"],"batchSize":16}'
//   (the peers bench's files: $CONVLENS_PEERS_DIR, default <tmp>/convlens-peers)
import { readFileSync } from 'node:fs';

const faults = () => process.resourceUsage().minorPageFault;
let lastTime = performance.now();
let lastFaults = faults();
const stage = (name) => {
  const now = performance.now();
  const f = faults();
  console.log(`${name.padEnd(28)} ${(now - lastTime).toFixed(0).padStart(6)} ms ${(((f - lastFaults) * 4) / 1024).toFixed(0).padStart(6)} MB fresh`);
  lastTime = now;
  lastFaults = f;
};

const { Engine, explain, parseNpy } = await import('../dist/index.js');
const { loadModelFile, nodeBackend } = await import('../dist/node.js');
stage('import');
const [modelPath, inputPath, threads = '2', optionsJson = '{"methods":["saliency"]}'] = process.argv.slice(2);
if (!modelPath || !inputPath) {
  console.error('usage: node bench/explain-stages.mjs MODEL.onnx INPUTS.npy [THREADS] [OPTIONS_JSON]');
  process.exit(2);
}
const engine = new Engine(nodeBackend(), { threads: Number(threads) });
const model = loadModelFile(modelPath, engine);
stage('read + decode the model');
const x = parseNpy(readFileSync(inputPath), inputPath);
stage('read the inputs');
const e = await explain(model, x, { ...JSON.parse(optionsJson), onProgress: (p) => stage(`${p.phase} ${p.done}/${p.total}`) });
stage('rest of explain()');
console.log(e.attributions.map((a) => `${a.method}: ${a.timeMs.toFixed(0)} ms`).join(', '));
await engine.dispose();
