import { ConvLensError } from '../engine/errors.js';
import type { Graph } from '../engine/graph/ir.js';
import { decodeModel, encodeModel } from '../engine/onnx/codec.js';
import type { Tensor } from '../engine/tensor.js';
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { cannotWrite, ensureDir, readFileOrExplain, writeFileAtomic, writeTarget } from '../io/files.js';
import type { FitCheckpointOptions } from './trainer.js';

/**
 * Checkpoint files: one file, written atomically (temporary file + rename), so a run killed at
 * any moment leaves either the previous checkpoint or the new one, never a torn file.
 *
 *   bytes 0..7   "CLCKPT\r\n" (magic; the CR LF catches text-mode mangling)
 *   bytes 8..11  header length H, uint32 little-endian
 *   bytes 12..   H bytes of UTF-8 JSON: { format, version, meta, tensors: [{ name, dtype, dims, offset, length }] }
 *   then         tensor data (float32 little-endian or bytes), each 8-byte aligned, offsets relative
 *                to the start of the data section
 *
 * `meta` is whatever JSON the trainer needs (progress, configuration, history); tensors hold
 * parameters, buffers, optimizer slots and any caller payload (the model's ONNX bytes).
 */
export interface Checkpoint {
  meta: Record<string, unknown>;
  tensors: Map<string, Tensor>;
}

const MAGIC = 'CLCKPT\r\n';
const FORMAT = 'convlens-checkpoint';
const VERSION = 1;

interface Entry {
  name: string;
  dtype: 'float32' | 'uint8';
  dims: number[];
  offset: number;
  length: number;
}

const align8 = (n: number): number => (n + 7) & ~7;

export function encodeCheckpoint(c: Checkpoint): Uint8Array {
  const entries: Entry[] = [];
  let offset = 0;
  let end = 0;
  for (const [name, t] of c.tensors) {
    if (t.dtype !== 'float32' && t.dtype !== 'uint8') throw new Error(`checkpoint: tensor "${name}" has dtype ${t.dtype}; only float32 and uint8 are stored`);
    const length = t.data.byteLength;
    entries.push({ name, dtype: t.dtype, dims: [...t.dims], offset, length });
    end = offset + length;
    offset = align8(end);
  }
  const header = new TextEncoder().encode(JSON.stringify({ format: FORMAT, version: VERSION, meta: c.meta, tensors: entries }));
  const dataStart = align8(12 + header.length);
  const out = new Uint8Array(dataStart + end);
  out.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(out.buffer).setUint32(8, header.length, true);
  out.set(header, 12);
  let i = 0;
  for (const t of c.tensors.values()) {
    const e = entries[i++]!;
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), dataStart + e.offset);
  }
  return out;
}

/**
 * `writtenBy` is the command that resumes (train, diffuse train, style-train): the hint names the
 * one whose checkpoint the user should pass, not always `convlens train`.
 */
export function decodeCheckpoint(bytes: Uint8Array, source: string, writtenBy = 'convlens train'): Checkpoint {
  const bad = (why: string): ConvLensError =>
    new ConvLensError('INPUT_UNREADABLE', `${source} is not a usable ConvLens checkpoint: ${why}.`, `Pass a file written by \`${writtenBy}\` (its --checkpoint file), or leave out --resume to start a new run.`);
  if (bytes.length < 12 || new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) throw bad('wrong magic bytes');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const h = view.getUint32(8, true);
  if (12 + h > bytes.length) throw bad('the header is truncated');
  let header: { format?: string; version?: number; meta?: Record<string, unknown>; tensors?: Entry[] };
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + h)));
  } catch {
    throw bad('the header is not valid JSON');
  }
  if (header.format !== FORMAT || !Array.isArray(header.tensors)) throw bad('unknown format');
  if (header.version !== VERSION) throw bad(`format version ${header.version}, this ConvLens reads version ${VERSION}`);
  const dataStart = align8(12 + h);
  const tensors = new Map<string, Tensor>();
  for (const e of header.tensors) {
    const start = dataStart + e.offset;
    if (start + e.length > bytes.length) throw bad(`tensor "${e.name}" runs past the end of the file (truncated)`);
    const n = e.dims.reduce((a, b) => a * b, 1);
    // A fresh copy (not slice: on a Node Buffer that is a view into a shared pool): aligned, and independent of the file bytes.
    const raw = new Uint8Array(e.length);
    raw.set(bytes.subarray(start, start + e.length));
    const data = e.dtype === 'float32' ? new Float32Array(raw.buffer, 0, e.length / 4) : raw;
    if (data.length !== n) throw bad(`tensor "${e.name}" has ${data.length} values for dims [${e.dims.join(', ')}]`);
    tensors.set(e.name, { dtype: e.dtype, dims: e.dims, data });
  }
  return { meta: header.meta ?? {}, tensors };
}

/**
 * Writes the checkpoint to a temporary file in the same folder, flushes it to disk, and renames
 * it over `path` (like writeFileAtomic, plus the fsync that makes it survive a power cut too).
 */
export function saveCheckpoint(path: string, c: Checkpoint): void {
  const bytes = encodeCheckpoint(c);
  const target = writeTarget(path);
  if (target.special) return writeFileAtomic(path, bytes, '--checkpoint');
  ensureDir(dirname(target.path), '--checkpoint');
  const tmp = join(dirname(target.path), `.${basename(target.path)}.${process.pid}.tmp`);
  try {
    const fd = openSync(tmp, 'w');
    try {
      let off = 0;
      while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, target.path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw cannotWrite(path, e, '--checkpoint');
  }
}

export function loadCheckpoint(path: string, writtenBy?: string): Checkpoint {
  return decodeCheckpoint(readFileOrExplain(path, 'checkpoint'), `"${path}"`, writtenBy);
}

/**
 * Checkpoint options for a run that resumes from the checkpoint alone: besides the trainer's
 * state, the model's ONNX structure and the run's description (`payload().meta`, under one key
 * such as "classifier") travel in the file.
 */
export function resumableCheckpoint(checkpoint: FitCheckpointOptions, model: Graph, payload: () => { meta: Record<string, unknown>; tensors?: [string, Tensor][] }): FitCheckpointOptions {
  const structure = encodeModel(model);
  return {
    ...checkpoint,
    extra: () => {
      const p = payload();
      return { meta: p.meta, tensors: new Map<string, Tensor>([['model.onnx', { dtype: 'uint8', dims: [structure.length], data: structure }], ...(p.tensors ?? [])]) };
    },
  };
}

/** What resumableCheckpoint stored: the model and the run's description under `key`. */
export function resumableRun<T>(c: Checkpoint, key: string, source: string, writtenBy: string): { model: Graph; run: T } {
  const extra = c.meta.extra as Record<string, unknown> | undefined;
  const bytes = c.tensors.get('extra/model.onnx');
  if (!extra?.[key] || !bytes) {
    throw new ConvLensError('INPUT_UNREADABLE', `${source} is not a ${key} checkpoint (no model or configuration inside).`, `Pass a checkpoint written by \`${writtenBy}\`.`);
  }
  return { model: decodeModel(bytes.data as Uint8Array, { source }), run: extra[key] as T };
}
