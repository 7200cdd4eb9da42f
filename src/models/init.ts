import type { Tensor } from '../engine/tensor.js';

/** Seeded PRNG (mulberry32): model initialization must be repeatable. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function gaussian(rand: () => number): number {
  const u = Math.max(rand(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

/** He (Kaiming) normal initialization: std = sqrt(2 / fan_in), right for ReLU networks. */
export function heNormal(rand: () => number, dims: number[], fanIn: number): Tensor {
  const n = dims.reduce((a, b) => a * b, 1);
  const std = Math.sqrt(2 / fanIn);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = gaussian(rand) * std;
  return { dtype: 'float32', dims, data };
}

/** Glorot/Xavier uniform: the usual default for a final linear layer. */
export function glorotUniform(rand: () => number, dims: number[], fanIn: number, fanOut: number): Tensor {
  const n = dims.reduce((a, b) => a * b, 1);
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = (rand() * 2 - 1) * limit;
  return { dtype: 'float32', dims, data };
}

export function filled(dims: number[], value: number): Tensor {
  return { dtype: 'float32', dims, data: new Float32Array(dims.reduce((a, b) => a * b, 1)).fill(value) };
}
