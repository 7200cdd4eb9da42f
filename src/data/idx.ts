import { constants as bufferConstants } from 'node:buffer';
import { constants, gunzipSync } from 'node:zlib';
import { ConvLensError } from '../engine/errors.js';

const MAX_BYTES = bufferConstants.MAX_LENGTH;

/** An IDX array (the MNIST file format): unsigned bytes with their dims. */
export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

/** The header of IDX bytes: dims, element count and where the data starts (checked). */
function idxHeader(raw: Uint8Array, bad: (why: string) => ConvLensError): { dims: number[]; n: number; start: number } {
  if (raw.length < 4 || raw[0] !== 0 || raw[1] !== 0) throw bad('bad magic number');
  // Messages say what is wrong, not which bytes the file holds (errors never quote file contents).
  if (raw[2] !== 0x08) throw bad('the element type is not unsigned byte');
  const rank = raw[3]!;
  if (rank < 1 || rank > 4 || raw.length < 4 + 4 * rank) throw bad('the rank is not 1 to 4');
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i, false));
  return { dims, n: dims.reduce((a, b) => a * b, 1), start: 4 + 4 * rank };
}

/** Parses IDX bytes (gzipped or not). Only the ubyte type (0x08) used by (Fashion-)MNIST is supported. */
export function parseIdx(bytes: Uint8Array, source: string): IdxArray {
  const bad = (why: string): ConvLensError => new ConvLensError('INPUT_UNREADABLE', `${source} is not a valid IDX file: ${why}.`, 'Expected the (Fashion-)MNIST format: magic 0x00000803 for images or 0x00000801 for labels.');
  const claim = (dims: number[], n: number, found: string): ConvLensError => bad(`the header claims dims ${dims.join('x')}, ${n.toLocaleString('en-US')} values, but ${found}`);
  let raw = bytes;
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
    // Read the header from the first bytes, and decompress no more than it promises: a header
    // claiming 1e12 values is refused before anything that size is allocated.
    let head: Uint8Array;
    try {
      head = gunzipSync(raw.subarray(0, 256), { finishFlush: constants.Z_SYNC_FLUSH });
    } catch (e) {
      throw new ConvLensError('INPUT_UNREADABLE', `Cannot decompress ${source}: ${(e as Error).message}.`, 'The file is damaged; download it again.', { cause: e });
    }
    const { dims, n, start } = idxHeader(head, bad);
    if (start + n > MAX_BYTES) throw claim(dims, n, `this process can hold at most ${MAX_BYTES.toLocaleString('en-US')} bytes`);
    try {
      raw = gunzipSync(raw, { maxOutputLength: start + n + 1 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw claim(dims, n, 'more data follows');
      throw new ConvLensError('INPUT_UNREADABLE', `Cannot decompress ${source}: ${(e as Error).message}.`, 'The file is truncated; download it again.', { cause: e });
    }
  }
  const { dims, n, start } = idxHeader(raw, bad);
  if (raw.length - start !== n) throw claim(dims, n, `${(raw.length - start).toLocaleString('en-US')} bytes follow`);
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
