// Datasets the dataset lens can scan: an IDX pair (Fashion-MNIST and other MNIST-format files),
// a folder of images (one sub-folder per class, as torchvision's ImageFolder), or a text file
// listing image paths (optionally with a label per line). Each is read lazily, a chunk at a time,
// and turned into model input with the model's own preprocessing.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, join, relative, resolve } from 'node:path';
import { ConvLensError } from '../engine/errors.js';
import { FileAccess } from '../io/file-access.js';
import { isImagePath, preprocessImage, type RawImage, type ScaledUp } from '../io/image.js';
import type { Preprocessing } from '../models/metadata.js';
import { FASHION_MNIST_LABELS } from '../models/zoo/index.js';
import { fillBatch, pixelTable, type ImageDataset } from './dataset.js';
import { checkSplit, loadIdxPair, locateFashionMnist, type Split } from './fashion-mnist.js';
import { parseIdx } from './idx.js';

export type SourceKind = 'idx' | 'folder' | 'list';

/** One image of a source: its label (-1 when unknown) and a name to show. */
export interface SourceItem {
  label: number;
  name: string;
}

/** A dataset read a chunk at a time. */
export interface DatasetSource {
  kind: SourceKind;
  /** the spec it was opened from, resolved (what workers on other processes reopen) */
  spec: string;
  /** human description ("Fashion-MNIST train (/usr/share/...)") */
  description: string;
  count: number;
  /** class names, when the source has them */
  classes: string[];
  /** a hash of what identifies the content (paths, sizes, labels): resume checks it */
  fingerprint: string;
  item(i: number): SourceItem;
  /** model input [end - start, C, H, W] for images [start, end), written into `out` */
  fill(start: number, end: number, prep: Preprocessing, out: Float32Array): Promise<void>;
  /** the image as the model sees it (resized to the model's input), 8-bit, for display */
  display(i: number, prep: Preprocessing): Promise<RawImage>;
  /**
   * The folders every file it reads lies in (the fewest: none inside another): what a reader
   * confined to folders, such as a scan worker spawned for it, must be given.
   */
  folders: readonly string[];
  /** throws SHAPE_MISMATCH when its images cannot become input of this preprocessing (checked before a scan starts) */
  check?(prep: Preprocessing): void;
  /**
   * The images `fill` has scaled up SCALED_UP_NOTE_FACTOR times or more to the model's size so
   * far (a folder of 32x32 thumbnails indexed with an ImageNet model), with the first as an example.
   */
  scaledUp?(): { count: number; example: { name: string } & ScaledUp } | undefined;
}

/** Options for opening a dataset spec. */
export interface OpenSourceOptions {
  /** split for IDX folders (default train) */
  split?: Split;
  /** class names for IDX labels (default: Fashion-MNIST's when there are 10 classes) */
  classes?: string[];
  /**
   * Which files may be read (default: any regular file). The studio passes its data folders:
   * every file the source reads, including the paths a list file names, is checked.
   */
  access?: FileAccess;
}

/**
 * Opens a dataset from a spec:
 * - `fashion-mnist` or `fashion-mnist:test`: the Debian package's files;
 * - a folder with IDX files (`train-images-idx3-ubyte[.gz]` + labels), `--split` picks the pair;
 * - an IDX images file (`*-images-idx3-ubyte[.gz]`; the labels file beside it is used if present);
 * - a folder of images (sub-folders are classes);
 * - a `.txt`/`.lst`/`.csv` file listing image paths, one per line, optionally `path,label` or `path<TAB>label`;
 * - several folders or images as a JSON list (`["samples/photos","samples/textures"]`, see
 *   `combinedSpec`): each folder is one class, named after it.
 */
export function openSource(spec: string, options: OpenSourceOptions = {}): DatasetSource {
  const access = options.access ?? FileAccess.anywhere;
  if (options.split !== undefined) checkSplit(options.split);
  const list = combinedPaths(spec);
  if (list) return combinedSource(access, list, spec);
  const m = /^fashion-mnist(?::(train|test))?$/i.exec(spec);
  if (m) {
    const split = (m[1]?.toLowerCase() as Split | undefined) ?? options.split ?? 'train';
    const files = locateFashionMnist(split);
    return idxSource(access, files.images, files.labels, `fashion-mnist:${split}`, options.classes ?? FASHION_MNIST_LABELS);
  }
  const withSplit = /^(.*):(train|test)$/.exec(spec);
  if (withSplit && access.allows(withSplit[1]!) && existsSync(withSplit[1]!)) {
    const dir = access.entry(withSplit[1]!, `Dataset "${withSplit[1]}"`);
    if (dir.kind === 'folder') return openSource(dir.path, { ...options, split: withSplit[2] as Split });
  }
  const found = (() => {
    try {
      return access.entry(spec, `Dataset "${spec}"`);
    } catch (e) {
      if (e instanceof ConvLensError && e.code === 'INPUT_UNREADABLE' && / does not exist/.test(e.message)) {
        throw new ConvLensError(
          'INPUT_UNREADABLE',
          `Dataset "${spec}" not found.`,
          'Pass a folder of images (one sub-folder per class), an IDX file or folder (Fashion-MNIST format), a text file listing image paths, or `fashion-mnist[:train|test]`.',
        );
      }
      throw e;
    }
  })();
  const path = found.path;
  if (found.kind === 'folder') {
    const split = options.split ?? 'train';
    const hasIdx = readdirSync(path).some((f) => /idx\d-ubyte/.test(f));
    if (hasIdx) {
      const files = locateFashionMnist(split, path);
      return idxSource(access, files.images, files.labels, `${path}:${split}`, options.classes);
    }
    return folderSource(access, path);
  }
  if (/idx3-ubyte(\.gz)?$/.test(path)) {
    const labels = path.replace('images-idx3', 'labels-idx1');
    return idxSource(access, path, labels !== path && existsSync(labels) ? labels : undefined, path, options.classes);
  }
  if (isImagePath(path)) return listSource(access, [path], [-1], [], path, dirname(path));
  return listFileSource(access, path);
}

/** The most folders or images one combined spec names. */
export const MAX_COMBINED = 64;

/** The spec of several folders or images read as one dataset (what `openSource` takes back). */
export function combinedSpec(paths: readonly string[]): string {
  return JSON.stringify(paths);
}

/** The paths of a combined spec (a JSON list of strings), or undefined when `spec` is not one. */
function combinedPaths(spec: string): string[] | undefined {
  if (!spec.trimStart().startsWith('[')) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(spec);
  } catch {
    return undefined; // a path that starts with "[": opened as a path
  }
  if (!Array.isArray(parsed) || !parsed.length || !parsed.every((p) => typeof p === 'string' && p !== '')) {
    throw new ConvLensError('INVALID_ARGUMENT', 'A combined dataset must be a JSON list of folder or image paths.', 'E.g. ["samples/photos", "samples/textures"].');
  }
  if (parsed.length > MAX_COMBINED) throw new ConvLensError('INVALID_ARGUMENT', `A combined dataset names ${parsed.length} paths; at most ${MAX_COMBINED} are read together.`, 'Put the images in one folder, one sub-folder per class.');
  return parsed as string[];
}

/** Folders (each one class, named after the folder) and single images (no class) read as one dataset. */
function combinedSource(access: FileAccess, paths: string[], spec: string): DatasetSource {
  const files: string[] = [];
  const labels: number[] = [];
  const classes: string[] = [];
  const roots: string[] = [];
  const read: string[] = [];
  for (const p of paths) {
    const e = access.entry(p, `Dataset path "${p}"`);
    read.push(e.kind === 'folder' ? e.path : dirname(e.path));
    if (e.kind === 'folder') {
      const found = listImages(e.path);
      if (!found.length) throw new ConvLensError('INPUT_UNREADABLE', `Folder "${p}" holds no images (PNG, JPEG, WebP, ...).`, 'Leave it out, or put images in it.');
      let name = basename(e.path);
      for (let k = 2; classes.includes(name); k++) name = `${basename(e.path)} (${k})`;
      classes.push(name);
      for (const f of found) {
        files.push(f);
        labels.push(classes.length - 1);
      }
      roots.push(dirname(e.path));
    } else {
      if (!isImagePath(e.path)) throw new ConvLensError('INPUT_UNREADABLE', `"${p}" is neither a folder nor an image file.`, 'List folders of images or image files.');
      files.push(e.path);
      labels.push(-1);
      roots.push(dirname(e.path));
    }
  }
  const source = listSource(access, files, labels, classes, spec, commonFolder(roots));
  const names = paths.map((p) => basename(p.replace(/[\\/]+$/, '')));
  // (the folders named, not their common parent, which may hold much else)
  return { ...source, kind: 'list', folders: fewestFolders(read), description: `${files.length} images from ${names.length <= 4 ? names.join(' + ') : `${names.length} folders`}` };
}

const inside = (folder: string, path: string): boolean => {
  const rel = relative(folder, path);
  return !rel.startsWith('..') && !isAbsolute(rel);
};

/** The fewest of `folders` that hold them all (less those inside another). */
function fewestFolders(folders: readonly string[]): string[] {
  const dirs = [...new Set(folders.map((d) => resolve(d)))].sort();
  const out: string[] = [];
  // sorted, a folder comes after every folder it lies in
  for (const d of dirs) if (!out.some((o) => inside(o, d))) out.push(d);
  return out;
}

/**
 * The folders `files` are read from: `root` when it holds them all (a folder dataset: one
 * folder, not one per class, as a reader confined to folders checks each file against each),
 * else the fewest folders that hold them.
 */
function foldersOf(files: readonly string[], root?: string): string[] {
  if (root !== undefined && files.every((f) => inside(root, resolve(f)))) return [resolve(root)];
  return fewestFolders(files.map((f) => dirname(resolve(f))));
}

/** The deepest folder holding every one of `dirs`. */
function commonFolder(dirs: string[]): string {
  let common = dirs[0]!;
  for (const d of dirs.slice(1)) {
    while (common !== dirname(common) && relative(common, d).startsWith('..')) common = dirname(common);
  }
  return common;
}

function hash(parts: (string | number)[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(`${p}\u0000`);
  return h.digest('hex').slice(0, 24);
}

function describeIdx(spec: string, imagesPath: string, ds: ImageDataset): string {
  const size = `${ds.count} images, ${ds.height}x${ds.width}`;
  const m = /^(.*):(train|test)$/.exec(spec);
  if (m) return m[1] === 'fashion-mnist' ? `Fashion-MNIST ${m[2]} (${size})` : `${basename(m[1]!)} ${m[2]} (${size})`;
  return `${basename(imagesPath)} (${size})`;
}

function idxSource(access: FileAccess, imagesPath: string, labelsPath: string | undefined, spec: string, classes?: string[]): DatasetSource {
  let ds: ImageDataset;
  if (labelsPath) {
    const first = loadIdxPair(imagesPath, labelsPath, 256, `IDX dataset ${imagesPath}`, (p) => access.read(p, `IDX file "${p}"`));
    const maxLabel = first.labels.reduce((a, b) => Math.max(a, b), 0);
    ds = first;
    classes ??= maxLabel === 9 ? FASHION_MNIST_LABELS : Array.from({ length: maxLabel + 1 }, (_, i) => String(i));
  } else {
    const arr = parseIdx(access.read(imagesPath, `IDX file "${imagesPath}"`), `"${imagesPath}"`);
    if (arr.dims.length !== 3) throw new ConvLensError('INPUT_UNREADABLE', `"${imagesPath}" holds a ${arr.dims.length}-D array, not images [N, height, width].`, 'Give the images file of an IDX pair (e.g. train-images-idx3-ubyte), which holds [N, height, width].');
    ds = { images: arr.data, labels: new Uint8Array(arr.dims[0]!), count: arr.dims[0]!, channels: 1, height: arr.dims[1]!, width: arr.dims[2]!, source: imagesPath };
    classes ??= [];
  }
  const hasLabels = !!labelsPath;
  const h = createHash('sha256');
  h.update(ds.images);
  if (hasLabels) h.update(ds.labels);
  const fingerprint = h.digest('hex').slice(0, 24);
  const tables = new Map<string, Float32Array[]>();
  const tablesFor = (prep: Preprocessing): Float32Array[] => {
    const key = JSON.stringify(prep);
    let t = tables.get(key);
    if (!t) tables.set(key, (t = [pixelTable(prep, 0)]));
    return t;
  };
  const checkSize = (prep: Preprocessing): void => {
    const [h2, w2] = prep.size;
    if (h2 !== ds.height || w2 !== ds.width || prep.channels !== 'gray') {
      throw new ConvLensError(
        'SHAPE_MISMATCH',
        `The model takes ${prep.channels} ${h2}x${w2} input; ${spec} holds gray ${ds.height}x${ds.width} images.`,
        'Scan it with a model trained on this dataset (gray input of the same size), or index a folder of images instead: images are resized to the model\'s input (the studio\'s Dataset tab lists the folders it can read).',
      );
    }
  };
  return {
    kind: 'idx',
    spec,
    folders: foldersOf(labelsPath ? [imagesPath, labelsPath] : [imagesPath]),
    check: checkSize,
    description: describeIdx(spec, imagesPath, ds),
    count: ds.count,
    classes: classes ?? [],
    fingerprint,
    item: (i) => ({ label: hasLabels ? ds.labels[i]! : -1, name: `#${i}` }),
    async fill(start, end, prep, out) {
      checkSize(prep);
      const idx = new Int32Array(end - start);
      for (let i = 0; i < idx.length; i++) idx[i] = start + i;
      fillBatch(ds, idx, tablesFor(prep), out);
    },
    async display(i) {
      const per = ds.height * ds.width;
      return { width: ds.width, height: ds.height, channels: 1, data: ds.images.slice(i * per, (i + 1) * per) };
    },
  };
}

const listImages = (root: string): string[] => {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      if (e.name.startsWith('.')) continue;
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (isImagePath(e.name)) out.push(p);
    }
  };
  walk(root);
  return out;
};

function folderSource(access: FileAccess, root: string): DatasetSource {
  const files = listImages(root);
  if (files.length === 0) throw new ConvLensError('INPUT_UNREADABLE', `Folder "${root}" holds no images (PNG, JPEG, WebP, ...).`, 'Put images in it, one sub-folder per class.');
  // ImageFolder convention: the first path component under the root is the class.
  const classNames = [...new Set(files.map((f) => relative(root, f).split(/[\\/]/)).filter((p) => p.length > 1).map((p) => p[0]!))].sort();
  const labels = files.map((f) => {
    const parts = relative(root, f).split(/[\\/]/);
    return parts.length > 1 ? classNames.indexOf(parts[0]!) : -1;
  });
  return listSource(access, files, labels, classNames, root, root);
}

function listFileSource(access: FileAccess, path: string): DatasetSource {
  const text = access.read(path, `File list "${path}"`).toString('utf8');
  const base = dirname(path);
  const files: string[] = [];
  const lineOf: number[] = [];
  const rawLabels: (string | undefined)[] = [];
  text.split(/\r?\n/).forEach((line, n) => {
    const t = line.trim();
    if (!t || t.startsWith('#')) return;
    const m = /^(.*?)(?:\t|,)\s*([^,\t]+)$/.exec(t);
    const file = (m ? m[1]! : t).trim();
    const full = isAbsolute(file) ? file : join(base, file);
    // The line itself is not quoted: the file may not be a list at all, and errors never show file contents.
    if (!isImagePath(full)) throw new ConvLensError('INPUT_UNREADABLE', `Line ${n + 1} of "${path}" does not name an image file (PNG, JPEG, WebP, GIF, TIFF, AVIF).`, 'One image path per line, optionally followed by a comma or tab and a label.');
    files.push(full);
    lineOf.push(n + 1);
    rawLabels.push(m ? m[2]!.trim() : undefined);
  });
  if (files.length === 0) throw new ConvLensError('INPUT_UNREADABLE', `"${path}" lists no images.`, 'One image path per line, optionally followed by a comma or tab and a label.');
  const named = rawLabels.filter((l): l is string => l !== undefined);
  const numeric = named.every((l) => /^\d+$/.test(l));
  const classes = numeric ? [] : [...new Set(named)].sort();
  const labels = rawLabels.map((l) => (l === undefined ? -1 : numeric ? Number(l) : classes.indexOf(l)));
  const source = listSource(access, files, labels, classes, path, base, (i) => `The image on line ${lineOf[i]} of "${path}"`);
  return { ...source, folders: fewestFolders([dirname(resolve(path)), ...source.folders]) };
}

/**
 * Images by path. `nameOf` is how messages refer to image i (for a list file: by line, as the
 * path is the file's content).
 */
function listSource(access: FileAccess, files: string[], labels: number[], classes: string[], spec: string, root: string, nameOf: (i: number) => string = (i) => `Image "${files[i]}"`): DatasetSource {
  const sizes = files.map((f, i) => access.file(f, nameOf(i)).size);
  const fingerprint = hash(files.flatMap((f, i) => [relative(root, f), sizes[i]!, labels[i]!]));
  const scaled = new Set<number>();
  let example: ({ name: string } & ScaledUp) | undefined;
  const decode = async (i: number, prep: Preprocessing): Promise<{ tensor: Float32Array; display: RawImage; scaledUp?: ScaledUp }> => {
    const name = nameOf(i);
    const r = await preprocessImage(access.read(files[i]!, name), prep, name[0]!.toLowerCase() + name.slice(1));
    return { tensor: r.tensor.data as Float32Array, display: r.display, ...(r.scaledUp ? { scaledUp: r.scaledUp } : {}) };
  };
  return {
    kind: files.length === 1 ? 'list' : spec === root ? 'folder' : 'list',
    spec,
    folders: foldersOf(files, root),
    description: `${files.length} images from ${spec}`,
    count: files.length,
    classes,
    fingerprint,
    item: (i) => ({ label: labels[i]!, name: relative(root, files[i]!) || basename(files[i]!, extname(files[i]!)) }),
    async fill(start, end, prep, out) {
      const per = out.length / (end - start);
      // sharp decodes on its own thread pool: several images at once.
      const width = 8;
      for (let s = start; s < end; s += width) {
        const e = Math.min(end, s + width);
        const done = await Promise.all(Array.from({ length: e - s }, (_, k) => decode(s + k, prep)));
        done.forEach((d, k) => {
          out.set(d.tensor, (s + k - start) * per);
          if (!d.scaledUp) return;
          scaled.add(s + k);
          example ??= { name: relative(root, files[s + k]!) || files[s + k]!, ...d.scaledUp };
        });
      }
    },
    async display(i, prep) {
      return (await decode(i, prep)).display;
    },
    scaledUp: () => (example ? { count: scaled.size, example } : undefined),
  };
}
