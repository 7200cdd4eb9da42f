// Writes data/fashion-mnist-subset/: a stratified, seeded subset of Fashion-MNIST as gzipped IDX
// files in the original layout, so every loader (and --data) reads it like the full dataset.
//   t10k-*:  200 test images per class (2,000), for tests, demos and quick evaluation
//   train-*: 100 training images per class (1,000), for tests and demos of `convlens train`
// Run: npx tsx scripts/make-subset.ts [dataset dir]   (default: /usr/share/datasets/fashion-mnist)
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { selectSamples, stratifiedSubset } from '../src/data/dataset.js';
import { FASHION_MNIST_CLASSES, loadFashionMnist, SUBSET_DIR } from '../src/data/fashion-mnist.js';
import { encodeIdx } from '../src/data/idx.js';

const dir = process.argv[2];
const SEED = 2024;
const plan = [
  { split: 'test' as const, prefix: 't10k', perClass: 200 },
  { split: 'train' as const, prefix: 'train', perClass: 100 },
];
mkdirSync(SUBSET_DIR, { recursive: true });
for (const { split, prefix, perClass } of plan) {
  const full = loadFashionMnist(split, dir);
  const picked = stratifiedSubset(full.labels, FASHION_MNIST_CLASSES, perClass, SEED);
  const sub = selectSamples(full, picked);
  // mtime 0 in the gzip header (Node writes none), so re-running gives byte-identical files.
  const write = (name: string, bytes: Uint8Array): void => writeFileSync(join(SUBSET_DIR, `${name}.gz`), gzipSync(bytes, { level: 9 }));
  write(`${prefix}-images-idx3-ubyte`, encodeIdx({ dims: [sub.count, sub.height, sub.width], data: sub.images }));
  write(`${prefix}-labels-idx1-ubyte`, encodeIdx({ dims: [sub.count], data: sub.labels }));
  console.log(`${split}: ${sub.count} of ${full.count} images (${perClass} per class, seed ${SEED}) from ${full.source}`);
}
console.log(`wrote ${SUBSET_DIR}`);
