import { gunzipSync } from 'node:zlib';
import { ConvLensError } from '../engine/errors.js';

/** An IDX array (the MNIST file format): unsigned bytes with their dims. */
export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

/** Parses IDX bytes (gzipped or not). Only the ubyte type (0x08) used by (Fashion-)MNIST is supported. */
export function parseIdx(bytes: Uint8Array, source: string): IdxArray {
  let raw = bytes;
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      raw = gunzipSync(raw);
    } catch (e) {
      throw new ConvLensError('INPUT_UNREADABLE', `Cannot decompress ${source}: ${(e as Error).message}.`, 'The file is truncated; download it again.', { cause: e });
    }
  }
  const bad = (why: string): ConvLensError => new ConvLensError('INPUT_UNREADABLE', `${source} is not a valid IDX file: ${why}.`, 'Expected the (Fashion-)MNIST format: magic 0x00000803 for images or 0x00000801 for labels.');
  if (raw.length < 4 || raw[0] !== 0 || raw[1] !== 0) throw bad('bad magic number');
  // Messages say what is wrong, not which bytes the file holds (errors never quote file contents).
  if (raw[2] !== 0x08) throw bad('the element type is not unsigned byte');
  const rank = raw[3]!;
  if (rank < 1 || rank > 4 || raw.length < 4 + 4 * rank) throw bad('the rank is not 1 to 4');
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i, false));
  const n = dims.reduce((a, b) => a * b, 1);
  const start = 4 + 4 * rank;
  if (raw.length - start !== n) throw bad(`the header's dims do not match the ${raw.length - start} bytes that follow it (truncated or extra data)`);
  return { dims, data: raw.subarray(start, start + n) };
}

/** Encodes unsigned bytes with their dims as IDX (the inverse of parseIdx, uncompressed). */
export function encodeIdx(array: IdxArray): Uint8Array {
  const { dims, data } = array;
  const n = dims.reduce((a, b) => a * b, 1);
  if (dims.length < 1 || dims.length > 4) throw new Error(`encodeIdx: rank ${dims.length} is outside 1..4`);
  if (n !== data.length) throw new Error(`encodeIdx: dims ${dims.join('x')} hold ${n} values, got ${data.length}`);
  const out = new Uint8Array(4 + 4 * dims.length + n);
  const view = new DataView(out.buffer);
  out[2] = 0x08;
  out[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}
