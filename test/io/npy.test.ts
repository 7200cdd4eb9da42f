// .npy reading: a big aligned float32 file is used where it lies, anything else is copied; both
// must give the values written.
import { describe, expect, it } from 'vitest';
import { encodeNpy, parseNpy } from '../../src/io/npy.js';
import { rng } from '../support/rng.js';

describe('parseNpy', () => {
  const rand = rng(3);
  const values = Float32Array.from({ length: 600_000 }, () => rand() * 2 - 1);
  const file = encodeNpy({ dtype: 'float32', dims: [6, 100, 1000], data: values });

  it('reads a big aligned float32 array in place, with the values written', () => {
    const bytes = new Uint8Array(file); // its own 2.4 MB buffer
    const t = parseNpy(bytes, 'big.npy');
    expect(t.dims).toEqual([6, 100, 1000]);
    expect(t.data.buffer).toBe(bytes.buffer);
    expect(Buffer.from((t.data as Float32Array).buffer, (t.data as Float32Array).byteOffset, values.byteLength).equals(Buffer.from(values.buffer))).toBe(true);
  });

  it('copies data that is not 4-byte aligned, or that sits in a small shared buffer', () => {
    const shifted = new Uint8Array(file.length + 1);
    shifted.set(file, 1);
    const unaligned = parseNpy(shifted.subarray(1), 'shifted.npy');
    expect(unaligned.data.buffer).not.toBe(shifted.buffer);
    expect(Array.from((unaligned.data as Float32Array).subarray(0, 1000))).toEqual(Array.from(values.subarray(0, 1000)));
    const small = encodeNpy({ dtype: 'float32', dims: [4], data: Float32Array.of(1, 2, 3, 4) });
    const pooled = Buffer.from(small); // may live in Node's shared pool
    const t = parseNpy(pooled, 'small.npy');
    expect(t.data.buffer).not.toBe(pooled.buffer);
    expect(Array.from(t.data as Float32Array)).toEqual([1, 2, 3, 4]);
  });
});
