import { readFileSync } from 'node:fs';
const ort = (await import('onnxruntime-node')).default ?? await import('onnxruntime-node');
const variant = JSON.parse(process.argv[2] ?? '{}'); const batch = Number(process.argv[3] ?? 8);
const F = () => process.resourceUsage().minorPageFault; let t = performance.now(), f = F();
const mark = (s) => { const n = performance.now(), g = F(); console.log(s.padEnd(10), (n - t).toFixed(0).padStart(5), 'ms', String(g - f).padStart(7), 'faults'); t = n; f = g; };
const bytes = readFileSync('/tmp/graph-0.onnx'); mark('read');
const s = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'all', executionMode: 'sequential', intraOpNumThreads: 2, interOpNumThreads: 1, ...variant }); mark('create');
const feeds = {}; for (const m of s.inputMetadata) {
  const dims = m.shape.map((d, i) => typeof d === 'number' ? d : (i === 0 ? batch : 1));
  const size = dims.reduce((a, b) => a * b, 1);
  feeds[m.name] = m.type === 'int64' ? new ort.Tensor('int64', BigInt64Array.from({ length: size }, () => -1n), dims) : new ort.Tensor('float32', Float32Array.from({ length: size }, () => Math.random()), dims);
}
mark('feeds');
for (let i = 0; i < 5; i++) { await s.run(feeds); mark('run' + i); }
