import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ConvLensError } from '../engine/errors.js';
import type { Tensor } from '../engine/tensor.js';
import type { Model } from '../models/model.js';
import { readFileOrExplain, STDIN, STDIN_PATH } from './files.js';
import { isImagePath, preprocessImage, SCALED_UP_NOTE_FACTOR, type ScaledUp, tensorToRaw, type RawImage, unscaledSize } from './image.js';
import { parseNpy } from './npy.js';
import { WAYS_OUT } from '../util/ways-out.js';

export interface InputItem {
  /** file the sample came from (with #k for the k-th sample of an .npy batch) */
  source: string;
  /**
   * the sample as the model sees it, mapped back to 8-bit pixels for overlays; for .npy samples
   * made when first read (a 64-sample batch took ~0.2 s, and a figure may show only some)
   */
  readonly display: RawImage;
  /** set when the image was scaled up SCALED_UP_NOTE_FACTOR times or more to the model's size */
  scaledUp?: ScaledUp;
}

/** How many scaled-up inputs a note names before it counts the rest. */
const SCALED_UP_NAMED = 3;

/**
 * One line on the inputs scaled up to the model's size (a 32x32 thumbnail given to an ImageNet
 * model), or undefined when none was: the model then sees a blurred picture, which nothing in
 * its output shows.
 */
export function scaledUpNote(items: readonly InputItem[], model: Model): string | undefined {
  const scaled = items.filter((it) => it.scaledUp);
  if (scaled.length === 0) return undefined;
  const [h, w] = model.inputDims().slice(1);
  const [needH, needW] = unscaledSize(model.meta.preprocessing);
  const one = (it: InputItem): string => `${it.source} (${it.scaledUp!.from[1]}x${it.scaledUp!.from[0]}, ${Number(it.scaledUp!.factor.toFixed(it.scaledUp!.factor < 10 ? 1 : 0))}x)`;
  const named = scaled.slice(0, SCALED_UP_NAMED).map(one).join(', ');
  const more = scaled.length > SCALED_UP_NAMED ? ` and ${scaled.length - SCALED_UP_NAMED} more` : '';
  const what = scaled.length === 1 ? 'input is' : `${scaled.length} inputs are`;
  const seen = scaled.length === 1 ? 'a blurred picture, so what it says of it' : 'blurred pictures, so what it says of them';
  return `${what} scaled up ${SCALED_UP_NOTE_FACTOR}x or more to the model's ${w}x${h} input: ${named}${more}. The model sees ${seen} may mean little; images of ${needW}x${needH} pixels or more are not scaled up.`;
}

function npyItem(source: string, sample: Tensor, prep: Model['meta']['preprocessing']): InputItem {
  let display: RawImage | undefined;
  return {
    source,
    get display() {
      return (display ??= tensorToRaw(sample, prep));
    },
  };
}

const isInputPath = (p: string): boolean => isImagePath(p) || p.toLowerCase().endsWith('.npy');

/**
 * The files `paths` name: a folder stands for the images and .npy files directly in it (sorted
 * by name, hidden files left out), "-" for standard input (an image, named "stdin" in outputs),
 * anything else for itself (and is read, or refused, later).
 */
export function inputFiles(paths: readonly string[]): string[] {
  const files: string[] = [];
  for (const path of paths) {
    if (path === STDIN) {
      if (files.includes(STDIN_PATH)) throw new ConvLensError('INVALID_ARGUMENT', 'Standard input ("-") is named twice; it can be read once.', 'Name "-" once, and the other inputs by their paths.');
      files.push(STDIN_PATH);
      continue;
    }
    let folder = false;
    try {
      folder = statSync(path).isDirectory();
    } catch {
      // missing or unreadable: loading it says which and why
    }
    if (!folder) {
      files.push(path);
      continue;
    }
    const inside = readdirSync(path, { withFileTypes: true })
      .filter((e) => !e.name.startsWith('.') && isInputPath(e.name) && (e.isFile() || e.isSymbolicLink()))
      .map((e) => e.name)
      .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
    if (inside.length === 0) throw new ConvLensError('INVALID_ARGUMENT', `The folder "${path}" holds no image or .npy files directly (sub-folders are not searched).`, 'Pass image files (PNG, JPEG, WebP, GIF, TIFF, AVIF), .npy tensors, or a folder of them.');
    files.push(...inside.map((name) => join(path, name)));
  }
  return files;
}

/**
 * How many samples `files` hold for `model` without reading them: one per image, an .npy file's
 * first axis estimated from its size (a batch of float32 inputs of the model's size).
 */
export function sampleCount(files: readonly string[], model: Model): number {
  const [c, h, w] = model.inputDims();
  let count = 0;
  for (const f of files) {
    if (!f.toLowerCase().endsWith('.npy')) {
      count++;
      continue;
    }
    let size = 0;
    try {
      size = statSync(f).size;
    } catch {
      // refused with its reason when read
    }
    count += Math.max(1, Math.floor(size / (c * h * w * 4)));
  }
  return count;
}

/**
 * Loads images (decoded, resized, normalized per the model's metadata) and preprocessed .npy
 * tensors (NCHW or CHW float32) into one batch; a folder stands for the files in it (inputFiles).
 */
/**
 * An image becomes 1 (gray) or 3 (RGB) channels; a model that takes another count (a 4-channel
 * RGB-D or multispectral net) can only take preprocessed .npy tensors. Without this check a
 * 4-channel model's 3-channel image ended in a RangeError (the CLI) or an ONNX Runtime error.
 */
export function requireImageChannels(model: Model, tensor: Tensor, source: string): void {
  const c = model.input.shape?.[1];
  const got = tensor.dims[1];
  if (typeof c === 'number' && got !== c) {
    throw new ConvLensError('SHAPE_MISMATCH', `Model "${model.name}" takes ${c}-channel input; ${source} gives ${got} (${got === 1 ? 'gray' : 'RGB'}).`, c === 1 || c === 3 ? WAYS_OUT.preprocessChannels.cli : `${WAYS_OUT.npyInput.cli} (N, ${c}, H, W).`);
  }
}

export async function loadInputs(named: readonly string[], model: Model): Promise<{ batch: Tensor; items: InputItem[] }> {
  const paths = inputFiles(named);
  if (paths.length === 0) throw new ConvLensError('INVALID_ARGUMENT', 'No inputs given.', 'Pass image files (PNG, JPEG, WebP) or .npy tensors.');
  const prep = model.meta.preprocessing;
  // a model that takes any size gets images at its preprocessing size
  const [, c0, h0, w0] = model.input.shape!;
  const c = typeof c0 === 'number' ? c0 : prep.channels === 'gray' ? 1 : 3;
  const h = typeof h0 === 'number' ? h0 : prep.size[0];
  const w = typeof w0 === 'number' ? w0 : prep.size[1];
  const per = c * h * w;
  const parts: Float32Array[] = [];
  const items: InputItem[] = [];
  for (const path of paths) {
    if (path.toLowerCase().endsWith('.npy')) {
      const t = parseNpy(readFileOrExplain(path, '.npy input'), `"${path}"`);
      if (t.dtype !== 'float32') {
        throw new ConvLensError('INPUT_UNREADABLE', `"${path}" holds ${t.dtype} values; preprocessed inputs must be float32.`, 'Save it with array.astype(numpy.float32).');
      }
      const dims = t.dims.length === 3 ? [1, ...t.dims] : t.dims;
      if (dims.length === 4 && dims[0] === 0) throw new ConvLensError('INPUT_UNREADABLE', `"${path}" holds no samples (shape (${t.dims.join(', ')})).`, 'Save at least one input in it, or leave the file out.');
      const want = [c, h, w];
      if (dims.length !== 4 || dims.slice(1).some((d, i) => d !== want[i])) {
        const channelsLast = dims.length === 4 && dims[1] === h && dims[2] === w && dims[3] === c;
        const hint = channelsLast ? `It looks channels-last (N, H, W, C): ConvLens takes NCHW, so save x.transpose(0, 3, 1, 2) (numpy).` : 'Preprocess it to the model input size, or pass the image file instead.';
        throw new ConvLensError('SHAPE_MISMATCH', `"${path}" has shape (${t.dims.join(', ')}); model "${model.name}" takes (N, ${want.join(', ')}) or (${want.join(', ')}).`, hint);
      }
      const data = t.data as Float32Array;
      let nonFinite = 0;
      for (let i = 0; i < data.length; i++) {
        const v = data[i]!;
        if (v - v !== 0) nonFinite++; // NaN for NaN and for ±Infinity
      }
      if (nonFinite) {
        throw new ConvLensError('INPUT_UNREADABLE', `"${path}" holds ${nonFinite} NaN or infinite value${nonFinite > 1 ? 's' : ''} (of ${data.length}).`, 'Check how the array was made; preprocessed inputs must be finite numbers.');
      }
      for (let k = 0; k < dims[0]!; k++) {
        const one = data.subarray(k * per, (k + 1) * per);
        parts.push(one);
        items.push(npyItem(dims[0] === 1 ? path : `${path}#${k}`, { dtype: 'float32', dims: [1, c, h, w], data: one }, prep));
      }
    } else {
      const { tensor, display, scaledUp } = await preprocessImage(readFileOrExplain(path, 'image'), prep, `"${path}"`);
      requireImageChannels(model, tensor, `"${path}"`);
      parts.push(tensor.data as Float32Array);
      items.push({ source: path === STDIN_PATH ? 'standard input' : path, display, ...(scaledUp ? { scaledUp } : {}) });
    }
  }
  // One .npy batch is used as it is: copying tens of megabytes into fresh memory is most of the
  // time an input takes to load.
  const whole = parts.length > 0 && parts.every((p, i) => p.buffer === parts[0]!.buffer && p.byteOffset === parts[0]!.byteOffset + i * per * 4);
  const batch = whole ? new Float32Array(parts[0]!.buffer, parts[0]!.byteOffset, parts.length * per) : new Float32Array(parts.length * per);
  if (!whole) parts.forEach((p, i) => batch.set(p, i * per));
  return { batch: { dtype: 'float32', dims: [parts.length, c, h, w], data: batch }, items };
}
