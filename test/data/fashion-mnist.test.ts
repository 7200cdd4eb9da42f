import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { fillBatch, indicesByClass, pixelTable, selectSamples, stratifiedSplit, stratifiedSubset, type ImageDataset } from '../../src/data/dataset.js';
import { DEBIAN_FASHION_MNIST_DIR, FASHION_MNIST_PREPROCESSING, hasFashionMnist, loadFashionMnist, SUBSET_DIR } from '../../src/data/fashion-mnist.js';
import { encodeIdx, parseIdx } from '../../src/data/idx.js';
import { rawToTensor } from '../../src/io/image.js';
import { tempFolder } from '../support/temp-folder.js';

const tmp = tempFolder('convlens-data-');

describe('committed Fashion-MNIST subset', () => {
  it('has 200 test and 100 training images per class, 28x28', () => {
    const test = loadFashionMnist('test', SUBSET_DIR);
    const train = loadFashionMnist('train', SUBSET_DIR);
    expect([test.count, test.height, test.width, test.channels]).toEqual([2000, 28, 28, 1]);
    expect(train.count).toBe(1000);
    expect(indicesByClass(test.labels, 10).map((l) => l.length)).toEqual(new Array(10).fill(200));
    expect(indicesByClass(train.labels, 10).map((l) => l.length)).toEqual(new Array(10).fill(100));
    expect(test.source).toContain('fashion-mnist-subset');
  });

  it.skipIf(!hasFashionMnist('test'))('is a subset of the full test set, as scripts/make-subset.ts makes it', () => {
    const full = loadFashionMnist('test');
    const picked = stratifiedSubset(full.labels, 10, 200, 2024);
    const sub = selectSamples(full, picked);
    const committed = loadFashionMnist('test', SUBSET_DIR);
    expect(Buffer.from(sub.images).equals(Buffer.from(committed.images))).toBe(true);
    expect(Buffer.from(sub.labels).equals(Buffer.from(committed.labels))).toBe(true);
  });
});

describe('IDX loading', () => {
  it('reads gzipped and plain files alike, and encodeIdx inverts parseIdx', () => {
    const dir = join(tmp, 'plain');
    mkdirSync(dir, { recursive: true });
    for (const f of ['t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte']) writeFileSync(join(dir, f), gunzipSync(readFileSync(join(SUBSET_DIR, `${f}.gz`))));
    const a = loadFashionMnist('test', dir);
    const b = loadFashionMnist('test', SUBSET_DIR);
    expect(a.count).toBe(b.count);
    expect(Buffer.from(a.images).equals(Buffer.from(b.images))).toBe(true);
    const idx = { dims: [3, 2, 2], data: Uint8Array.from({ length: 12 }, (_, i) => i * 7) };
    for (const bytes of [encodeIdx(idx), gzipSync(encodeIdx(idx))]) {
      const back = parseIdx(bytes, 'x');
      expect(back.dims).toEqual(idx.dims);
      expect(Array.from(back.data)).toEqual(Array.from(idx.data));
    }
  });

  it('a missing folder: says where it looked and how to get the data', () => {
    const missing = join(tmp, 'nowhere');
    expect(() => loadFashionMnist('train', missing)).toThrow(/Fashion-MNIST train set not found\. Looked in: .*nowhere \(no such folder\)/);
    try {
      loadFashionMnist('train', missing);
    } catch (e) {
      const hint = (e as { hint: string }).hint;
      expect(hint).toContain('apt-get install dataset-fashion-mnist');
      expect(hint).toContain(DEBIAN_FASHION_MNIST_DIR);
      expect(hint).toContain('zalandoresearch/fashion-mnist');
      expect(hint).toContain('--data');
    }
  });

  it('a folder without the labels file: names the missing file', () => {
    const dir = join(tmp, 'half');
    mkdirSync(dir, { recursive: true });
    copyFileSync(join(SUBSET_DIR, 't10k-images-idx3-ubyte.gz'), join(dir, 't10k-images-idx3-ubyte.gz'));
    expect(() => loadFashionMnist('test', dir)).toThrow(/half \(missing t10k-labels-idx1-ubyte\[\.gz\]\)/);
  });

  it('malformed files: truncated gzip, counts that disagree, labels out of range', () => {
    const dir = (name: string): string => {
      const d = join(tmp, name);
      mkdirSync(d, { recursive: true });
      return d;
    };
    const images = readFileSync(join(SUBSET_DIR, 't10k-images-idx3-ubyte.gz'));
    const labels = readFileSync(join(SUBSET_DIR, 't10k-labels-idx1-ubyte.gz'));
    const d1 = dir('truncated');
    writeFileSync(join(d1, 't10k-images-idx3-ubyte.gz'), images.subarray(0, 5000));
    writeFileSync(join(d1, 't10k-labels-idx1-ubyte.gz'), labels);
    expect(() => loadFashionMnist('test', d1)).toThrow(/Cannot decompress .*t10k-images-idx3-ubyte\.gz/);
    const d2 = dir('mismatch');
    writeFileSync(join(d2, 't10k-images-idx3-ubyte'), encodeIdx({ dims: [3, 28, 28], data: new Uint8Array(3 * 784) }));
    writeFileSync(join(d2, 't10k-labels-idx1-ubyte'), encodeIdx({ dims: [2], data: new Uint8Array(2) }));
    expect(() => loadFashionMnist('test', d2)).toThrow(/malformed: 3 images but 2 labels/);
    const d3 = dir('badlabel');
    writeFileSync(join(d3, 't10k-images-idx3-ubyte'), encodeIdx({ dims: [2, 28, 28], data: new Uint8Array(2 * 784) }));
    writeFileSync(join(d3, 't10k-labels-idx1-ubyte'), encodeIdx({ dims: [2], data: Uint8Array.of(3, 12) }));
    expect(() => loadFashionMnist('test', d3)).toThrow(/the label at index 1 is not a class 0..9/);
  });

  it.skipIf(!hasFashionMnist('train'))('loads the full dataset from the Debian package folder by default', () => {
    const train = loadFashionMnist('train');
    const test = loadFashionMnist('test');
    expect([train.count, test.count]).toEqual([60000, 10000]);
    expect(indicesByClass(train.labels, 10).map((l) => l.length)).toEqual(new Array(10).fill(6000));
  });
});

describe('batches and splits', () => {
  const ds: ImageDataset = loadFashionMnist('test', SUBSET_DIR);

  it('fillBatch applies the preprocessing exactly as image files get it (rawToTensor)', () => {
    for (const prep of [FASHION_MNIST_PREPROCESSING, { ...FASHION_MNIST_PREPROCESSING, mean: [0.286], std: [0.353] }, { ...FASHION_MNIST_PREPROCESSING, invert: true, range: [-1, 1] as [number, number] }]) {
      const out = new Float32Array(2 * 784);
      const onehot = new Float32Array(20);
      fillBatch(ds, [5, 17], [pixelTable(prep)], out, { data: onehot, classes: 10 });
      const ref = rawToTensor({ width: 28, height: 28, channels: 1, data: ds.images.subarray(17 * 784, 18 * 784) }, prep);
      expect(Array.from(out.subarray(784))).toEqual(Array.from(ref.data as Float32Array));
      expect(onehot[ds.labels[5]!]).toBe(1);
      expect(onehot[10 + ds.labels[17]!]).toBe(1);
      expect(onehot.reduce((a, b) => a + b, 0)).toBe(2);
    }
  });

  it('stratifiedSplit: seeded, disjoint, complete, per-class proportions', () => {
    const a = stratifiedSplit(ds.labels, 10, 0.1, 7);
    const b = stratifiedSplit(ds.labels, 10, 0.1, 7);
    const c = stratifiedSplit(ds.labels, 10, 0.1, 8);
    expect(Array.from(a.second)).toEqual(Array.from(b.second));
    expect(Array.from(a.second)).not.toEqual(Array.from(c.second));
    expect(a.first.length + a.second.length).toBe(ds.count);
    expect(new Set([...a.first, ...a.second]).size).toBe(ds.count);
    const perClass = new Array(10).fill(0);
    for (const i of a.second) perClass[ds.labels[i]!]++;
    expect(perClass).toEqual(new Array(10).fill(20));
  });
});
