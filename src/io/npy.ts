import { ConvLensError } from '../engine/errors.js';
import { allocate, BYTES_PER_ELEMENT, type DType, type Tensor } from '../engine/tensor.js';

/** NumPy .npy (format 1.0-3.0) reading and writing, little-endian, C order. */

const DESCR_TO_DTYPE: Record<string, DType> = {
  '<f4': 'float32',
  '<f8': 'float64',
  '<f2': 'float16',
  '<i8': 'int64',
  '<i4': 'int32',
  '<i2': 'int16',
  '|i1': 'int8',
  '|u1': 'uint8',
  '<u2': 'uint16',
  '<u4': 'uint32',
  '<u8': 'uint64',
  '|b1': 'bool',
};
const DTYPE_TO_DESCR = Object.fromEntries(Object.entries(DESCR_TO_DTYPE).map(([k, v]) => [v, k])) as Record<DType, string>;

export function parseNpy(bytes: Uint8Array, source = 'the .npy file'): Tensor {
  const bad = (why: string): ConvLensError =>
    new ConvLensError('INPUT_UNREADABLE', `Cannot read ${source} as a NumPy .npy array: ${why}.`, 'Save it with numpy.save(path, array.astype(numpy.float32)).');
  if (bytes.length < 10 || bytes[0] !== 0x93 || String.fromCharCode(...bytes.subarray(1, 6)) !== 'NUMPY') throw bad('missing the \\x93NUMPY magic');
  const major = bytes[6]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let start: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw bad('truncated header');
    headerLen = view.getUint32(8, true);
    start = 12;
  } else throw bad(`unknown format version ${major}`);
  if (start + headerLen > bytes.length) throw bad('truncated header');
  const header = new TextDecoder().decode(bytes.subarray(start, start + headerLen));
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  // Messages name what is wrong, never the header text itself (errors do not quote file contents).
  if (!descr || !fortran || shapeText === undefined) throw bad('the header has no descr, fortran_order and shape entries');
  if (fortran === 'True') throw bad('Fortran-ordered arrays are not supported (use numpy.ascontiguousarray)');
  const dtype = DESCR_TO_DTYPE[descr === '<b1' ? '|b1' : descr];
  if (!dtype) throw bad(`unsupported dtype${/^[<>|=][a-zA-Z]\d{0,2}$/.test(descr) ? ` '${descr}'` : ''} (big-endian or non-numeric)`);
  const dims = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  if (dims.some((d) => !Number.isInteger(d) || d < 0)) throw bad('the shape is not a tuple of sizes');
  const count = dims.reduce((a, b) => a * b, 1);
  // The header's claim is checked against the bytes present before anything is allocated: a
  // shape of (1000000, 1000000) must be refused, not attempted.
  const need = count * BYTES_PER_ELEMENT[dtype];
  const offset = start + headerLen;
  if (bytes.length - offset < need) throw bad(`the header claims shape (${dims.join(', ')}) of ${descr}, ${count.toLocaleString('en-US')} elements (${need.toLocaleString('en-US')} bytes), but only ${(bytes.length - offset).toLocaleString('en-US')} data bytes follow`);
  // A big file's data is used where it lies when aligned: copying tens of megabytes into fresh
  // memory was most of an input's load time. Small reads may share Node's buffer pool, so they
  // are copied.
  if (dtype === 'float32' && (bytes.byteOffset + offset) % 4 === 0 && bytes.buffer.byteLength >= 1 << 20) {
    return { dtype, dims, data: new Float32Array(bytes.buffer, bytes.byteOffset + offset, count) };
  }
  const data = allocate(dtype, count);
  new Uint8Array(data.buffer).set(bytes.subarray(offset, offset + need));
  return { dtype, dims, data };
}

export function encodeNpy(t: Tensor): Uint8Array {
  const header = npyHeader(t.dtype, t.dims);
  const out = new Uint8Array(header.length + t.data.byteLength);
  out.set(header);
  out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), header.length);
  return out;
}

/**
 * The bytes before an .npy file's data: magic, version 1.0 and the header padded so the data
 * starts on a 64-byte boundary, as NumPy writes it; `length` pads it further (a header written
 * before the final row count is known, then rewritten in place).
 */
export function npyHeader(dtype: Tensor['dtype'], dims: readonly number[], length?: number): Uint8Array {
  const descr = DTYPE_TO_DESCR[dtype];
  const shape = dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  const natural = 10 + header.length + 1;
  const total = length ?? natural + ((64 - (natural % 64)) % 64);
  if (total < natural || total > 10 + 0xffff) throw new RangeError(`npyHeader: ${total} bytes cannot hold the header of shape ${shape}`);
  header += `${' '.repeat(total - natural)}\n`;
  const out = new Uint8Array(total);
  out.set([0x93, ...new TextEncoder().encode('NUMPY'), 1, 0]);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  return out;
}
