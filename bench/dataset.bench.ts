// Dataset-lens benchmark: scan throughput of `convlens index` (built-in model over the
// Fashion-MNIST training set, layers relu2,relu3,relu4) and nearest-neighbour query latency of
// the store at 10k and 100k vectors (128-d, clustered), through the IVF index and flat.
//
//   npm run bench -- dataset            # this file only
//   npm run bench -- dataset --quick    # 10k images, 10k vectors only
import '../src/methods/dataset/quiet.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../src/engine/runtime/engine.js';
import { nodeBackend } from '../src/engine/runtime/node.js';
import { hasFashionMnist, SUBSET_DIR } from '../src/data/fashion-mnist.js';
import { openSource } from '../src/data/sources.js';
import { loadBuiltinModel } from '../src/models/load.js';
import type { ChunkResult } from '../src/methods/dataset/chunk.js';
import { indexDataset } from '../src/methods/dataset/scan.js';
import { DatasetStore, STORE_VERSION } from '../src/methods/dataset/store.js';

const QUICK = process.argv.includes('--quick');
const tmp = mkdtempSync(join(tmpdir(), 'convlens-bench-ds-'));

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
};

async function scanBench(): Promise<void> {
  const engine = new Engine(nodeBackend());
  const model = loadBuiltinModel(engine);
  const full = hasFashionMnist('train');
  const source = openSource(full ? 'fashion-mnist:train' : `${SUBSET_DIR}:train`);
  const limit = QUICK ? Math.min(10_000, source.count) : source.count;
  let scanEnd = 0;
  const t0 = performance.now();
  const r = await indexDataset(model, source, join(tmp, 'scan'), {
    layers: ['relu2', 'relu3', 'relu4'],
    limit,
    onProgress: (p) => {
      if (p.phase === 'building indexes' && !scanEnd) scanEnd = performance.now();
    },
  });
  const total = (performance.now() - t0) / 1000;
  const scan = (scanEnd - t0) / 1000;
  console.log(`scan: built-in model over ${source.description}, ${r.count} images, layers relu2,relu3,relu4 (top-16 per channel, avg-pooled vectors, pixel vectors), chunks of 1024, batches of 256, onnxruntime-node default threads`);
  console.log(`  scan + commit      ${scan.toFixed(1).padStart(7)} s   ${(r.count / scan).toFixed(0).padStart(6)} images/s`);
  console.log(`  indexes + compact  ${(total - scan).toFixed(1).padStart(7)} s   (${r.indexed.length} IVF-Flat indexes)`);
  console.log(`  total              ${total.toFixed(1).padStart(7)} s   ${(r.count / total).toFixed(0).padStart(6)} images/s`);
  await engine.dispose();
}

/** A store holding n clustered 128-d feature vectors (and 16-d pixel vectors), indexed. */
async function vectorStore(n: number): Promise<DatasetStore> {
  const dim = 128;
  const store = await DatasetStore.create(join(tmp, `nn-${n}`), {
    version: STORE_VERSION,
    model: { name: 'bench', fingerprint: 'bench', input: [1, 1, 4, 4], labels: [] },
    dataset: { spec: 'bench', kind: 'list', description: 'synthetic', count: n, fingerprint: 'bench', classes: [] },
    layers: [{ name: 'feat', op: 'Relu', channels: dim, height: 1, width: 1, dim }],
    k: 1,
    pool: 'avg',
    chunkSize: 10_000,
    pixelShape: [1, 4, 4],
    created: new Date().toISOString(),
  });
  let s = 12345;
  const rand = (): number => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0), s / 2 ** 32);
  const centres = Array.from({ length: 100 }, () => Float32Array.from({ length: dim }, () => rand() * 4));
  for (let start = 0, c = 0; start < n; start += 10_000, c++) {
    const m = Math.min(10_000, n - start);
    const features = new Float32Array(m * dim);
    for (let i = 0; i < m; i++) {
      const cen = centres[(start + i) % 100]!;
      for (let d = 0; d < dim; d++) features[i * dim + d] = cen[d]! + rand() - 0.5;
    }
    const r: ChunkResult = {
      chunk: c,
      start,
      end: start + m,
      pixels: new Float32Array(m * 16).map(() => rand()),
      ms: 0,
      worker: 'bench',
      layers: [{ features, kk: 1, topValue: new Float32Array(dim), topImage: new Int32Array(dim).fill(start), topY: new Int32Array(dim), topX: new Int32Array(dim), sumMean: new Float64Array(dim), sumMax: new Float64Array(dim), max: new Float32Array(dim) }],
    };
    await store.commit([r]);
  }
  const t0 = performance.now();
  await store.finalize();
  const indexS = (performance.now() - t0) / 1000;
  store.manifest.complete = { at: new Date().toISOString(), seconds: indexS, indexed: [] };
  console.log(`  ${n} vectors: stored and indexed (IVF-Flat, ${Math.round(Math.sqrt(n) / 2)} partitions, vector + unit columns) in ${indexS.toFixed(1)} s`);
  return store;
}

async function nnBench(): Promise<void> {
  console.log('\nnearest-neighbour queries: k = 10, 128-d clustered vectors, one query at a time (median and p95 over 200 queries; recall@10 against the flat scan)');
  const rows: string[] = [];
  for (const n of QUICK ? [10_000] : [10_000, 100_000]) {
    const store = await vectorStore(n);
    const all = await store.vectors({ layer: 'feat' }, Array.from({ length: 200 }, (_, i) => (i * 7919) % n));
    for (const metric of ['l2', 'cosine'] as const) {
      const lat: number[] = [];
      const flat: number[] = [];
      let hit = 0;
      for (let q = 0; q < 200; q++) {
        const v = all.data.subarray(q * 128, (q + 1) * 128);
        let t = performance.now();
        const a = await store.nearest({ layer: 'feat' }, v, 10, metric);
        lat.push(performance.now() - t);
        if (q < 50) {
          t = performance.now();
          const b = await store.nearest({ layer: 'feat' }, v, 10, metric, { exact: true });
          flat.push(performance.now() - t);
          const ids = new Set(b.map((x) => x.id));
          hit += a.filter((x) => ids.has(x.id)).length;
        }
      }
      rows.push([String(n).padStart(7), metric.padEnd(7), pct(lat, 0.5).toFixed(2).padStart(9), pct(lat, 0.95).toFixed(2).padStart(9), pct(flat, 0.5).toFixed(2).padStart(10), (hit / 500).toFixed(3).padStart(9)].join('  '));
    }
    store.close();
  }
  console.log(['vectors'.padStart(7), 'metric '.padEnd(7), 'index p50'.padStart(9), 'index p95'.padStart(9), 'flat p50'.padStart(10), 'recall@10'.padStart(9)].join('  ') + '   (ms)');
  for (const r of rows) console.log(r);
}

try {
  await scanBench();
  await nnBench();
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
