import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConvLensError } from '../engine/errors.js';
import type { Preprocessing } from '../models/metadata.js';
import { FASHION_MNIST_LABELS } from '../models/zoo/index.js';
import type { ImageDataset } from './dataset.js';
import { parseIdx } from './idx.js';

export type Split = 'train' | 'test';
export const SPLITS: readonly Split[] = ['train', 'test'];

/** The split named, checked (a typo would otherwise surface as a missing file or a TypeError). */
export function checkSplit(split: string): Split {
  if ((SPLITS as readonly string[]).includes(split)) return split as Split;
  throw new ConvLensError('INVALID_ARGUMENT', `Unknown split "${split}": MNIST-format datasets have the splits ${SPLITS.join(' and ')}.`, `Use the split ${SPLITS.join(' or ')} (CLI: --split).`);
}

/** Where the Debian/Ubuntu package `dataset-fashion-mnist` installs the four IDX files. */
export const DEBIAN_FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

/** The committed stratified subset (see data/fashion-mnist-subset/README.md). */
export const SUBSET_DIR = fileURLToPath(new URL('../../data/fashion-mnist-subset', import.meta.url));

/** The installation's `data/` folder (the subset above and other committed data). */
export const PACKAGE_DATA_DIR = fileURLToPath(new URL('../../data', import.meta.url));

/**
 * The folders of the datasets that come with ConvLens (the committed subset, the Debian package
 * behind `fashion-mnist`): readers confined to given folders (the studio, scan workers) read these too.
 */
export const BUILTIN_DATA_ROOTS: readonly string[] = [PACKAGE_DATA_DIR, DEBIAN_FASHION_MNIST_DIR];

export const FASHION_MNIST_CLASSES = FASHION_MNIST_LABELS.length;

/** Fashion-MNIST as the course normalizes it: gray 28x28, pixels scaled to [0, 1], no mean/std shift. */
export const FASHION_MNIST_PREPROCESSING: Preprocessing = { size: [28, 28], channels: 'gray', range: [0, 1], mean: [0], std: [1], resize: 'stretch' };

const FILES: Record<Split, { images: string; labels: string }> = {
  train: { images: 'train-images-idx3-ubyte', labels: 'train-labels-idx1-ubyte' },
  test: { images: 't10k-images-idx3-ubyte', labels: 't10k-labels-idx1-ubyte' },
};

const HOW_TO_GET =
  `Install it with \`sudo apt-get install dataset-fashion-mnist\` (Debian/Ubuntu; files land in ${DEBIAN_FASHION_MNIST_DIR}), ` +
  'or download train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz ' +
  'from https://github.com/zalandoresearch/fashion-mnist (data/fashion) into a folder and pass it with --data. ' +
  'A 2,000-image test subset ships with ConvLens: --data data/fashion-mnist-subset.';

/** The file for `base`, gzipped or not, in `dir`, or undefined. */
function findFile(dir: string, base: string): string | undefined {
  for (const name of [`${base}.gz`, base, base.replace(/-idx/, '.idx'), `${base.replace(/-idx/, '.idx')}.gz`]) {
    const p = join(dir, name);
    if (existsSync(p)) return p;
  }
  return undefined;
}

/** The folders searched, in order: the one the user named, else the Debian package's. */
export function candidateDirs(dir?: string): string[] {
  return dir !== undefined ? [resolve(dir)] : [DEBIAN_FASHION_MNIST_DIR];
}

/**
 * Finds the IDX files of a split. Throws an error that lists every folder looked in, what was
 * missing there, and how to get the data.
 */
export function locateFashionMnist(split: Split, dir?: string): { images: string; labels: string; dir: string } {
  checkSplit(split);
  const looked: string[] = [];
  for (const d of candidateDirs(dir)) {
    if (!existsSync(d)) {
      looked.push(`${d} (no such folder)`);
      continue;
    }
    if (!statSync(d).isDirectory()) {
      looked.push(`${d} (not a folder)`);
      continue;
    }
    const images = findFile(d, FILES[split].images);
    const labels = findFile(d, FILES[split].labels);
    if (images && labels) return { images, labels, dir: d };
    const missing = [images ? '' : FILES[split].images, labels ? '' : FILES[split].labels].filter(Boolean).map((f) => `${f}[.gz]`);
    looked.push(`${d} (missing ${missing.join(' and ')})`);
  }
  throw new ConvLensError('INPUT_UNREADABLE', `Fashion-MNIST ${split} set not found. Looked in: ${looked.join('; ')}.`, HOW_TO_GET);
}

/** Loads one split of Fashion-MNIST (or any MNIST-format dataset) from IDX files, gzipped or not. */
export function loadFashionMnist(split: Split, dir?: string): ImageDataset {
  const files = locateFashionMnist(split, dir);
  return loadIdxPair(files.images, files.labels, FASHION_MNIST_CLASSES, `Fashion-MNIST ${split} (${files.dir})`);
}

/** Whether a split is present (without loading it). */
export function hasFashionMnist(split: Split, dir?: string): boolean {
  try {
    locateFashionMnist(split, dir);
    return true;
  } catch {
    return false;
  }
}

/** Reads an images file [N, H, W] and a labels file [N] and checks that they belong together. */
export function loadIdxPair(imagesPath: string, labelsPath: string, classes: number, source: string, readFile?: (path: string) => Uint8Array): ImageDataset {
  const read = (p: string): Uint8Array => {
    if (readFile) return readFile(p);
    try {
      return readFileSync(p);
    } catch (e) {
      throw new ConvLensError('INPUT_UNREADABLE', `Cannot read "${p}": ${(e as Error).message}.`, HOW_TO_GET, { cause: e });
    }
  };
  const images = parseIdx(read(imagesPath), `"${imagesPath}"`);
  const labels = parseIdx(read(labelsPath), `"${labelsPath}"`);
  const bad = (why: string): ConvLensError => new ConvLensError('INPUT_UNREADABLE', `${source} is malformed: ${why}.`, `Download the files again. ${HOW_TO_GET}`);
  if (images.dims.length !== 3) throw bad(`"${imagesPath}" holds a ${images.dims.length}-D array, not images [N, height, width]`);
  if (labels.dims.length !== 1) throw bad(`"${labelsPath}" holds a ${labels.dims.length}-D array, not labels [N]`);
  if (images.dims[0] !== labels.dims[0]) throw bad(`${images.dims[0]} images but ${labels.dims[0]} labels`);
  for (let i = 0; i < labels.data.length; i++) {
    if (labels.data[i]! >= classes) throw bad(`the label at index ${i} is not a class 0..${classes - 1}`);
  }
  return {
    images: images.data,
    labels: labels.data,
    count: images.dims[0]!,
    channels: 1,
    height: images.dims[1]!,
    width: images.dims[2]!,
    source,
  };
}
