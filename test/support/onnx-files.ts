// Helpers for tests that write, corrupt and run .onnx files: hand-made graphs in any opset
// (old-style attributes included), a direct onnxruntime-node runner that bypasses the engine's
// own adapter, temp folders, and an assertion for ConvLensError.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { expect } from 'vitest';
import { ConvLensError, type ErrorCode } from '../../src/engine/errors.js';
import { Graph, type Attr, type Dim, type Node, type ValueInfo } from '../../src/engine/graph/ir.js';
import type { DType, Tensor } from '../../src/engine/tensor.js';
import { tempFolder } from './temp-folder.js';

// ------------------------------------------------------------ typed attributes

export const int = (value: number): Attr => ({ type: 'int', value });
export const float = (value: number): Attr => ({ type: 'float', value });
export const str = (value: string): Attr => ({ type: 'string', value });
export const ints = (value: number[]): Attr => ({ type: 'ints', value });
export const floats = (value: number[]): Attr => ({ type: 'floats', value });

export function node(op: string, inputs: string[], outputs: string[], attrs: Record<string, Attr> = {}, name = `${op}_${outputs[0]}`, domain?: string): Node {
  const n: Node = { op, name, inputs, outputs, attrs };
  if (domain) n.domain = domain;
  return n;
}

export const f32 = (dims: number[], data: ArrayLike<number>): Tensor => ({ dtype: 'float32', dims, data: Float32Array.from(data) });
export const i64 = (values: number[], dims: number[] = [values.length]): Tensor => ({ dtype: 'int64', dims, data: BigInt64Array.from(values, (v) => BigInt(v)) });

export interface HandGraph {
  opset: number;
  inputs: ValueInfo[];
  /** Output names, with optional dtype (default float32); shapes are left for the runtime to infer. */
  outputs: (string | { name: string; dtype: DType; shape?: Dim[] })[];
  nodes: Node[];
  initializers?: Record<string, Tensor>;
  name?: string;
}

/** A Graph written exactly as given: no builder, no inference, no conversion (the "old form" of a model). */
export function handGraph(h: HandGraph): Graph {
  const g = new Graph();
  g.name = h.name ?? 'hand';
  g.opset = h.opset;
  g.irVersion = 8;
  g.inputs = h.inputs.map((i) => ({ ...i, ...(i.shape ? { shape: [...i.shape] } : {}) }));
  g.outputs = h.outputs.map((o) => (typeof o === 'string' ? { name: o, dtype: 'float32' } : { ...o }));
  g.nodes = h.nodes;
  for (const [k, t] of Object.entries(h.initializers ?? {})) g.initializers.set(k, t);
  return g;
}

// ------------------------------------------------------------ running in ONNX Runtime directly

export interface OrtResult {
  dims: number[];
  data: Float32Array | BigInt64Array | Uint8Array | Int32Array;
}

const ORT_TYPE: Partial<Record<DType, ort.Tensor.Type>> = { float32: 'float32', int64: 'int64', int32: 'int32', uint8: 'uint8', bool: 'bool' };

/** Runs .onnx bytes in onnxruntime-node (no ConvLens code in the path) and returns every output. */
export async function runOrt(bytes: Uint8Array, feeds: Record<string, Tensor>): Promise<Record<string, OrtResult>> {
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'disabled' });
  try {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [k, t] of Object.entries(feeds)) {
      const type = ORT_TYPE[t.dtype];
      if (!type) throw new Error(`runOrt: cannot feed dtype ${t.dtype}`);
      ortFeeds[k] = new ort.Tensor(type, t.data as ort.Tensor.DataType, [...t.dims]);
    }
    const res = await session.run(ortFeeds);
    const out: Record<string, OrtResult> = {};
    for (const [k, v] of Object.entries(res)) out[k] = { dims: [...v.dims], data: v.data as OrtResult['data'] };
    return out;
  } finally {
    await session.release();
  }
}

/** Asserts two runs agree: same outputs, same dims, values equal to float32 rounding. */
export function expectSameOutputs(got: Record<string, OrtResult>, want: Record<string, OrtResult>, tol = 1e-6): void {
  expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
  for (const [k, w] of Object.entries(want)) {
    const g = got[k]!;
    expect(g.dims, `${k} dims`).toEqual(w.dims);
    expect(g.data.length, `${k} length`).toBe(w.data.length);
    let worst = 0;
    for (let i = 0; i < w.data.length; i++) {
      const a = Number(g.data[i]!);
      const b = Number(w.data[i]!);
      worst = Math.max(worst, Math.abs(a - b) / Math.max(1, Math.abs(b)));
    }
    expect(worst, `${k} max relative difference`).toBeLessThanOrEqual(tol);
  }
}

// ------------------------------------------------------------ files and errors

/** A fresh temp folder (removed after the test file; cleanup removes it sooner). */
export function tempDir(prefix = 'convlens-onnx-'): { dir: string; path(name: string): string; cleanup(): void } {
  const dir = tempFolder(prefix);
  return { dir, path: (name) => join(dir, name), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs `fn`, asserts it throws a ConvLensError (not a raw runtime/protobuf error) and returns it. */
export function expectConvLensError(fn: () => unknown, code?: ErrorCode | readonly ErrorCode[]): ConvLensError {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  if (thrown === undefined) throw new Error('expected a ConvLensError, but nothing was thrown');
  if (!(thrown instanceof ConvLensError)) {
    const e = thrown as Error;
    throw new Error(`expected a ConvLensError, got ${e?.constructor?.name ?? typeof thrown}: ${e?.message ?? String(thrown)}`);
  }
  if (code !== undefined) {
    const codes: readonly ErrorCode[] = typeof code === 'string' ? [code] : code;
    expect(codes, `error code of: ${thrown.message}`).toContain(thrown.code);
  }
  expect(thrown.hint, `hint of: ${thrown.message}`).toBeTruthy();
  return thrown;
}

/** Copy of encoder output as a plain, unshared Uint8Array (Node's encoder returns a Buffer whose slice() aliases). */
export const own = (bytes: Uint8Array): Uint8Array => Uint8Array.from(bytes);
