// What crosses a shared Redis in a distributed scan, checked before anything is done with it.
// Anyone who can write to that Redis can put a job on the queue or a value in a result key, so a
// worker reads a job's data, and a coordinator a chunk's result, as hostile input: a closed
// schema (no field left unchecked, none unknown), integers in ranges, sizes bounded before any
// allocation. Refusals name the field and the rule, never a file's contents; values from Redis
// are shown only shortened and without control characters.
import { ConvLensError } from '../../engine/errors.js';
import type { Model } from '../../models/model.js';
import { describeLayers, type ChunkResult, type LayerInfo, type ScanSettings } from './chunk.js';

/** The most images in one chunk of a distributed scan (`--chunk`). */
export const MAX_CHUNK_IMAGES = 65_536;
/** The largest chunk result a worker leaves in Redis: Redis's own limit on one value (proto-max-bulk-len). */
export const MAX_RESULT_BYTES = 512 * 1024 * 1024;
/** The longest a result may wait in Redis for its coordinator: a week. */
export const MAX_RESULT_TTL_SECONDS = 7 * 24 * 3600;
export const DEFAULT_RESULT_TTL_SECONDS = 3600;
/** Image ids are 32-bit in the store. */
const MAX_IMAGE_ID = 2 ** 31 - 1;
const MAX_LAYERS = 256;
const MAX_PATH_CHARS = 4096;
/** a combined dataset: a JSON list of up to 64 paths */
const MAX_SPEC_CHARS = 65 * MAX_PATH_CHARS;

/** What a worker needs to run one chunk (the job's data). */
export interface ChunkJob {
  /** which scan (store) the chunk belongs to: job ids and results are keyed by it */
  scanId: string;
  /** model file; undefined = the built-in model */
  modelPath?: string;
  modelFingerprint: string;
  /** the model's input shape as the store records it (older enqueuers leave it out) */
  modelInput?: (number | string)[];
  dataset: string;
  datasetFingerprint: string;
  settings: ScanSettings;
  chunk: number;
  start: number;
  end: number;
  /** Older coordinators name the result key; a worker derives it (`resultKeyOf`) and refuses any other. */
  resultKey?: string;
  /** how long the result waits in Redis for the coordinator, s (1 s to a week; default an hour) */
  resultTtl?: number;
}

/**
 * What a queue name may hold: it becomes part of Redis keys (`bull:<queue>:...`,
 * `convlens:<queue>:result:...`), and a `:` or `*` would let one name reach another's keys.
 */
export const QUEUE_NAME = /^[A-Za-z0-9_.-]{1,128}$/;

export function checkQueueName(name: string): void {
  if (!QUEUE_NAME.test(name)) throw new ConvLensError('INVALID_ARGUMENT', `The queue name ${shown(name)} is not 1 to 128 letters, digits, "_", "-" or ".".`, 'Name the queue with letters, digits, "_", "-" or "." (CLI: --queue).');
}

/** Where a chunk's result waits: derived from the queue, scan and chunk, never taken from a job. */
export const resultKeyOf = (queue: string, scanId: string, chunk: number): string => `convlens:${queue}:result:${scanId}:${chunk}`;

/** A value from Redis as a message may show it: short, on one line, no control characters. */
export function shown(v: unknown): string {
  let s: string;
  try {
    s = typeof v === 'string' ? JSON.stringify(v) : (JSON.stringify(v) ?? String(v));
  } catch {
    s = Object.prototype.toString.call(v);
  }
  // eslint-disable-next-line no-control-regex
  s = s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, '?');
  return s.length > 40 ? `${s.slice(0, 40)}...` : s;
}

/** A job or result that breaks a rule; `field` is its path in the data (e.g. `settings.k`). */
export class WireRefusal extends Error {
  constructor(
    readonly field: string,
    rule: string,
  ) {
    super(`${field} ${rule}`);
  }
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;

function object(v: unknown, field: string, required: readonly string[], optional: readonly string[] = []): Record<string, unknown> {
  if (!isPlainObject(v)) throw new WireRefusal(field, `must be an object, got ${shown(v)}`);
  for (const k of Object.keys(v)) if (!required.includes(k) && !optional.includes(k)) throw new WireRefusal(`${field}.${shown(k)}`, 'is not a field of it');
  for (const k of required) if (v[k] === undefined) throw new WireRefusal(`${field}.${k}`, 'is missing');
  return v;
}

function int(v: unknown, field: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new WireRefusal(field, `must be a whole number in ${min}..${max}, got ${shown(v)}`);
  return v;
}

function text(v: unknown, field: string, maxChars: number, pattern?: RegExp): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > maxChars || v.includes('\u0000')) throw new WireRefusal(field, `must be a string of 1 to ${maxChars} characters, got ${shown(v)}`);
  if (pattern && !pattern.test(v)) throw new WireRefusal(field, `must match ${pattern.source}, got ${shown(v)}`);
  return v;
}

function checkLayer(v: unknown, field: string): LayerInfo {
  const o = object(v, field, ['name', 'op', 'channels', 'height', 'width', 'dim']);
  const channels = int(o['channels'], `${field}.channels`, 1, 1 << 20);
  if (o['dim'] !== channels) throw new WireRefusal(`${field}.dim`, `must equal channels (${channels}), got ${shown(o['dim'])}`);
  if (typeof o['op'] !== 'string' || o['op'].length > 128) throw new WireRefusal(`${field}.op`, `must be a string of up to 128 characters, got ${shown(o['op'])}`);
  return { name: text(o['name'], `${field}.name`, 1024), op: o['op'], channels, height: int(o['height'], `${field}.height`, 1, 1 << 16), width: int(o['width'], `${field}.width`, 1, 1 << 16), dim: channels };
}

/** Checks a scan's settings as they come from a job (shape and ranges; `settingsFitModel` checks them against the model). */
export function checkSettings(v: unknown, field = 'settings'): ScanSettings {
  const o = object(v, field, ['layers', 'k', 'pool', 'batchSize', 'pixelShape']);
  const layers = o['layers'];
  if (!Array.isArray(layers) || layers.length === 0 || layers.length > MAX_LAYERS) throw new WireRefusal(`${field}.layers`, `must be a list of 1 to ${MAX_LAYERS} layers, got ${shown(Array.isArray(layers) ? `${layers.length} entries` : layers)}`);
  const pool = o['pool'];
  if (pool !== 'avg' && pool !== 'max') throw new WireRefusal(`${field}.pool`, `must be "avg" or "max", got ${shown(pool)}`);
  const px = o['pixelShape'];
  if (!Array.isArray(px) || px.length !== 3) throw new WireRefusal(`${field}.pixelShape`, `must be [channels, height, width], got ${shown(px)}`);
  return {
    layers: layers.map((l, i) => checkLayer(l, `${field}.layers[${i}]`)),
    k: int(o['k'], `${field}.k`, 1, 1000),
    pool,
    batchSize: int(o['batchSize'], `${field}.batchSize`, 1, 4096),
    pixelShape: [int(px[0], `${field}.pixelShape[0]`, 1, 64), int(px[1], `${field}.pixelShape[1]`, 1, 4096), int(px[2], `${field}.pixelShape[2]`, 1, 4096)],
  };
}

/** Bytes of a chunk result of `images` images as `encodeChunk` writes it (JSON with base64 arrays), less the small fields. */
export function resultBytes(settings: ScanSettings, images: number): number {
  const b64 = (bytes: number): number => Math.ceil(bytes / 3) * 4;
  const kk = Math.min(settings.k, images);
  const [pc, ph, pw] = settings.pixelShape;
  let total = b64(images * pc * ph * pw * 4);
  for (const l of settings.layers) total += b64(images * l.dim * 4) + 4 * b64(l.channels * kk * 4) + 2 * b64(l.channels * 8) + b64(l.channels * 4);
  return total;
}

/** Whether a chunk of `images` images with these settings fits one Redis value, or why not. */
export function chunkTooLarge(settings: ScanSettings, images: number): string | undefined {
  if (images > MAX_CHUNK_IMAGES) return `${images} images are more than the ${MAX_CHUNK_IMAGES} a chunk may hold`;
  const bytes = resultBytes(settings, images) + 64 * 1024;
  if (bytes > MAX_RESULT_BYTES) return `its result would take ${Math.ceil(bytes / (1 << 20))} MB in Redis, above the ${MAX_RESULT_BYTES / (1 << 20)} MB Redis holds in one value`;
  return undefined;
}

/**
 * Checks a job's data (see the file comment) before any work: every field's type and range, the
 * chunk's size and its result's, and that a result key it names is the one the worker derives.
 */
export function checkChunkJob(data: unknown, queue: string): ChunkJob & { resultKey: string; resultTtl: number } {
  const o = object(data, 'job data', ['scanId', 'modelFingerprint', 'dataset', 'datasetFingerprint', 'settings', 'chunk', 'start', 'end'], ['modelPath', 'modelInput', 'resultKey', 'resultTtl']);
  const scanId = text(o['scanId'], 'scanId', 16, /^[0-9a-f]{16}$/);
  const chunk = int(o['chunk'], 'chunk', 0, MAX_IMAGE_ID);
  const start = int(o['start'], 'start', 0, MAX_IMAGE_ID - 1);
  const end = int(o['end'], 'end', start + 1, MAX_IMAGE_ID);
  const settings = checkSettings(o['settings']);
  const tooLarge = chunkTooLarge(settings, end - start);
  if (tooLarge) throw new WireRefusal('end', `makes a chunk too large: ${tooLarge}`);
  const resultKey = resultKeyOf(queue, scanId, chunk);
  if (o['resultKey'] !== undefined && o['resultKey'] !== resultKey) throw new WireRefusal('resultKey', `must be the chunk's own key "${resultKey}", got ${shown(o['resultKey'])}`);
  const modelInput = o['modelInput'];
  if (modelInput !== undefined && (!Array.isArray(modelInput) || modelInput.length > 8 || !modelInput.every((d) => (typeof d === 'number' && Number.isInteger(d)) || (typeof d === 'string' && d.length <= 64)))) {
    throw new WireRefusal('modelInput', `must be a list of up to 8 dimensions, got ${shown(modelInput)}`);
  }
  return {
    scanId,
    ...(o['modelPath'] !== undefined ? { modelPath: text(o['modelPath'], 'modelPath', MAX_PATH_CHARS) } : {}),
    modelFingerprint: text(o['modelFingerprint'], 'modelFingerprint', 128),
    ...(modelInput !== undefined ? { modelInput: modelInput as (number | string)[] } : {}),
    dataset: text(o['dataset'], 'dataset', MAX_SPEC_CHARS),
    datasetFingerprint: text(o['datasetFingerprint'], 'datasetFingerprint', 128),
    settings,
    chunk,
    start,
    end,
    resultKey,
    resultTtl: o['resultTtl'] === undefined ? DEFAULT_RESULT_TTL_SECONDS : int(o['resultTtl'], 'resultTtl', 1, MAX_RESULT_TTL_SECONDS),
  };
}

/**
 * Checks a job's settings against the model the worker loaded, as the CLI describes them
 * (`describeLayers`): the layers exist with those shapes, the pixel vectors fit the input.
 */
export function settingsFitModel(settings: ScanSettings, model: Model, count: number, start: number, end: number): void {
  if (end > count) throw new WireRefusal('end', `is past the dataset's ${count} images (got ${end})`);
  let described: LayerInfo[];
  try {
    described = describeLayers(model, settings.layers.map((l) => l.name));
  } catch (e) {
    throw new WireRefusal('settings.layers', `do not fit the model: ${(e as Error).message}`);
  }
  if (described.length !== settings.layers.length) throw new WireRefusal('settings.layers', 'name a layer twice');
  settings.layers.forEach((l, i) => {
    const d = described[i]!;
    if (d.name !== l.name || d.channels !== l.channels || d.height !== l.height || d.width !== l.width) {
      throw new WireRefusal(`settings.layers[${i}]`, `says ${shown(l.name)} is ${l.channels}x${l.height}x${l.width}; in the model it is ${d.name}, ${d.channels}x${d.height}x${d.width}`);
    }
  });
  const [, c, h, w] = model.input.shape as number[];
  const [pc, ph, pw] = settings.pixelShape;
  if (pc !== c || ph > h! || pw > w!) throw new WireRefusal('settings.pixelShape', `must be [${c}, <= ${h}, <= ${w}] for this model's input, got [${pc}, ${ph}, ${pw}]`);
}

/** Text from Redis (a worker's failure reason) as a message may print it: no control characters, at most `max` characters. */
export function cleanText(v: unknown, max = 300): string {
  // eslint-disable-next-line no-control-regex
  const s = String(v ?? '').replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, ' ');
  return s.length > max ? `${s.slice(0, max)}...` : s;
}

/**
 * A worker's failure reason as the end of a sentence: control characters out, at most `max`
 * characters, one full stop. A reason cut short keeps its "..." (the stop replaced it before, so
 * a reason cut inside its way out read as whole), and the cap is wide enough for a worker's own
 * reasons, which name folders (a 300-character cap cut "Start the worker with the folders it may
 * read (CLI: --data-root ..." off a dataset path 140 characters long).
 */
export function reasonSentence(v: unknown, max = 1000): string {
  const text = cleanText(v, max);
  return String(v ?? '').length > max ? text : `${text.replace(/\.+$/, '')}.`;
}

/** The most bytes of a chunk's result value: what `encodeChunk` writes for the chunk, plus room for the small fields. */
export const maxResultBytes = (settings: ScanSettings, images: number): number => resultBytes(settings, images) + 4096 + 256 * settings.layers.length;

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function array<T extends Float32Array | Float64Array | Int32Array>(v: unknown, field: string, kind: { new (b: ArrayBuffer): T; BYTES_PER_ELEMENT: number }, length: number): T {
  const bytes = length * kind.BYTES_PER_ELEMENT;
  if (typeof v !== 'string' || v.length !== Math.ceil(bytes / 3) * 4 || !BASE64.test(v)) throw new WireRefusal(field, `must hold ${length} values (${bytes} bytes in base64), got ${typeof v === 'string' ? `${v.length} characters` : shown(v)}`);
  const b = Buffer.from(v, 'base64');
  if (b.byteLength !== bytes) throw new WireRefusal(field, `must hold ${length} values, got ${b.byteLength} bytes`);
  return new kind(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer);
}

function finite(a: Float32Array | Float64Array, field: string): void {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i]!)) throw new WireRefusal(field, `holds ${a[i]} at ${i}`);
}

function within(a: Int32Array, field: string, min: number, max: number): void {
  for (let i = 0; i < a.length; i++) if (a[i]! < min || a[i]! > max) throw new WireRefusal(field, `holds ${a[i]} at ${i}, outside ${min}..${max}`);
}

/**
 * Reads a chunk's result from its Redis value (as `encodeChunk` wrote it) and checks it against
 * the chunk and the scan's settings before the store sees it: the chunk's own range, every array
 * of the length the settings give, finite values, top-k images inside the chunk and positions
 * inside their layer. A value that fails is refused (`WireRefusal`) whole.
 */
export function decodeChunkResult(text: string, expected: { chunk: number; start: number; end: number }, settings: ScanSettings): ChunkResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new WireRefusal('the result', 'is not JSON (torn or not written by a worker)');
  }
  const o = object(parsed, 'the result', ['chunk', 'start', 'end', 'ms', 'worker', 'pixels', 'layers']);
  for (const k of ['chunk', 'start', 'end'] as const) if (o[k] !== expected[k]) throw new WireRefusal(`the result's ${k}`, `must be ${expected[k]} (the chunk's plan), got ${shown(o[k])}`);
  const ms = o['ms'];
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) throw new WireRefusal('the result\'s ms', `must be a time in ms, got ${shown(ms)}`);
  const name = o['worker'];
  if (typeof name !== 'string' || name.length > 256) throw new WireRefusal('the result\'s worker', `must be a name of up to 256 characters, got ${shown(name)}`);
  const worker = cleanText(name, 256);
  const { start, end } = expected;
  const n = end - start;
  const [pc, ph, pw] = settings.pixelShape;
  const pixels = array(o['pixels'], 'the result\'s pixels', Float32Array, n * pc * ph * pw);
  finite(pixels, 'the result\'s pixels');
  const layers = o['layers'];
  if (!Array.isArray(layers) || layers.length !== settings.layers.length) throw new WireRefusal('the result\'s layers', `must be a list of ${settings.layers.length}, got ${shown(Array.isArray(layers) ? `${layers.length} entries` : layers)}`);
  const kk = Math.min(settings.k, n);
  return {
    chunk: expected.chunk,
    start,
    end,
    ms,
    worker,
    pixels,
    layers: settings.layers.map((info, li) => {
      const f = `the result's layers[${li}]`;
      const l = object(layers[li], f, ['kk', 'features', 'topValue', 'topImage', 'topY', 'topX', 'sumMean', 'sumMax', 'max']);
      if (l['kk'] !== kk) throw new WireRefusal(`${f}.kk`, `must be ${kk}, got ${shown(l['kk'])}`);
      const C = info.channels;
      const out = {
        kk,
        features: array(l['features'], `${f}.features`, Float32Array, n * info.dim),
        topValue: array(l['topValue'], `${f}.topValue`, Float32Array, C * kk),
        topImage: array(l['topImage'], `${f}.topImage`, Int32Array, C * kk),
        topY: array(l['topY'], `${f}.topY`, Int32Array, C * kk),
        topX: array(l['topX'], `${f}.topX`, Int32Array, C * kk),
        sumMean: array(l['sumMean'], `${f}.sumMean`, Float64Array, C),
        sumMax: array(l['sumMax'], `${f}.sumMax`, Float64Array, C),
        max: array(l['max'], `${f}.max`, Float32Array, C),
      };
      for (const k of ['features', 'topValue', 'sumMean', 'sumMax', 'max'] as const) finite(out[k], `${f}.${k}`);
      within(out.topImage, `${f}.topImage`, start, end - 1);
      within(out.topY, `${f}.topY`, 0, info.height - 1);
      within(out.topX, `${f}.topX`, 0, info.width - 1);
      return out;
    }),
  };
}
