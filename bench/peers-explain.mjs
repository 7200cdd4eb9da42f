// The library call a script makes, for bench/peers.bench.ts: load the model and the inputs,
// explain, write the raw result as .npy; no figures (the Python peers draw none either). Plain
// JavaScript on the built library (dist/), so its process time is not a TypeScript loader's.
//
//   node bench/peers-explain.mjs MODEL.onnx INPUTS.npy OUT.npy THREADS '{"methods":["saliency"],"target":1}'
import { readFileSync, writeFileSync } from 'node:fs';
import { encodeNpy, Engine, explain, parseNpy } from '../dist/index.js';
import { loadModelFile, nodeBackend } from '../dist/node.js';

const [modelPath, inputPath, outPath, threads, optionsJson] = process.argv.slice(2);
const engine = new Engine(nodeBackend(), { threads: Number(threads) });
const model = loadModelFile(modelPath, engine);
const x = parseNpy(readFileSync(inputPath), inputPath);
const e = await explain(model, x, JSON.parse(optionsJson));
writeFileSync(outPath, encodeNpy(e.attributions[0].raw));
await engine.dispose();
