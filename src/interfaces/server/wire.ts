import type { Tensor } from '../../engine/tensor.js';

/** A float tensor on the wire: little-endian float32 bytes in base64, with dims. */
export interface WireTensor {
  dtype: 'float32';
  dims: number[];
  data: string;
}

export function toWire(t: Tensor): WireTensor {
  const f = t.data instanceof Float32Array ? t.data : Float32Array.from(t.data as ArrayLike<number>, Number);
  return { dtype: 'float32', dims: [...t.dims], data: Buffer.from(f.buffer, f.byteOffset, f.byteLength).toString('base64') };
}
