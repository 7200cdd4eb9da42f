// Model inputs back to 8-bit pixels, with no Node imports: attribution methods that work on the
// image as displayed (superpixels) run in the studio's browser worker too.
import type { Tensor } from '../engine/tensor.js';
import type { Preprocessing } from '../models/metadata.js';
import type { RawImage } from './image.js';

/** Inverse of rawToTensor for one image of a batch: model input back to 8-bit pixels for display. */
export function tensorToRaw(t: Tensor, prep: Preprocessing, index = 0): RawImage {
  const [, c, h, w] = t.dims as [number, number, number, number];
  const data = t.data as Float32Array;
  const channels = c === 1 ? 1 : 3;
  const out = new Uint8Array(h * w * channels);
  const [lo, hi] = prep.range;
  for (let ch = 0; ch < channels; ch++) {
    const src = prep.channels === 'bgr' ? 2 - ch : ch;
    const mean = prep.mean[src] ?? prep.mean[0] ?? 0;
    const std = prep.std[src] ?? prep.std[0] ?? 1;
    for (let i = 0; i < h * w; i++) {
      const x = data[index * c * h * w + src * h * w + i]! * std + mean;
      let v = ((x - lo) / (hi - lo)) * 255;
      if (prep.invert) v = 255 - v;
      out[i * channels + ch] = Math.max(0, Math.min(255, Math.round(v)));
    }
  }
  return { width: w, height: h, channels, data: out };
}
