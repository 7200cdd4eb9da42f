import { gaussian } from '../util/random.js';
import type { Tensor } from '../engine/tensor.js';

export { seededRandom, gaussian } from '../util/random.js';

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
