// Writes samples/fashion-mnist/*.png: the first test image of each class, as the dataset stores
// them (white garment on black, 28x28 gray). Run: npx tsx scripts/make-samples.ts [dataset dir]
import { readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseIdx } from '../src/data/idx.js';
import { encodePng } from '../src/io/image.js';
import { FASHION_MNIST_LABELS } from '../src/models/zoo/index.js';

const dir = process.argv[2] ?? '/usr/share/datasets/fashion-mnist';
const images = parseIdx(readFileSync(join(dir, 't10k-images-idx3-ubyte.gz')), 't10k images');
const labels = parseIdx(readFileSync(join(dir, 't10k-labels-idx1-ubyte.gz')), 't10k labels');
const out = join(import.meta.dirname, '..', 'samples', 'fashion-mnist');
mkdirSync(out, { recursive: true });
const seen = new Set<number>();
for (let i = 0; i < labels.data.length && seen.size < 10; i++) {
  const y = labels.data[i]!;
  if (seen.has(y)) continue;
  seen.add(y);
  const slug = FASHION_MNIST_LABELS[y]!.toLowerCase().replace(/[^a-z]+/g, '-');
  const png = await encodePng({ width: 28, height: 28, channels: 1, data: images.data.slice(i * 784, (i + 1) * 784) });
  writeFileSync(join(out, `${slug}-test${i}.png`), png);
}
console.log(`wrote ${seen.size} samples to ${out}`);
