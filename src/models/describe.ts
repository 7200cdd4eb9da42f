// Writing ConvLens metadata into an existing .onnx file without re-encoding it: the ModelProto's
// top-level fields are copied byte for byte, metadata_props entries with the keys being set are
// dropped, and the new entries are appended (protobuf concatenates repeated fields). Weights,
// external-data references, doc strings and anything this version of ConvLens does not model
// survive unchanged.
import { ConvLensError } from '../engine/errors.js';

/** ModelProto.metadata_props (repeated StringStringEntryProto) */
const METADATA_FIELD = 14;

interface Field {
  number: number;
  wireType: number;
  /** the whole field, tag included */
  start: number;
  end: number;
  /** for length-delimited fields: the payload */
  payloadStart: number;
}

function readVarint(bytes: Uint8Array, pos: number): { value: number; next: number } {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= bytes.length) throw new Error('truncated varint');
    const b = bytes[pos++]!;
    value += (b & 0x7f) * scale;
    if (b < 0x80) return { value, next: pos };
    scale *= 128;
  }
  throw new Error('varint longer than 10 bytes');
}

function* fields(bytes: Uint8Array, start = 0, end = bytes.length): Generator<Field> {
  let pos = start;
  while (pos < end) {
    const fieldStart = pos;
    const tag = readVarint(bytes, pos);
    pos = tag.next;
    const number = Math.floor(tag.value / 8);
    const wireType = tag.value % 8;
    let payloadStart = pos;
    switch (wireType) {
      case 0:
        pos = readVarint(bytes, pos).next;
        break;
      case 1:
        pos += 8;
        break;
      case 2: {
        const len = readVarint(bytes, pos);
        payloadStart = len.next;
        pos = len.next + len.value;
        break;
      }
      case 5:
        pos += 4;
        break;
      default:
        throw new Error(`unsupported wire type ${wireType}`);
    }
    if (pos > end) throw new Error('field runs past the end of the message');
    yield { number, wireType, start: fieldStart, end: pos, payloadStart };
  }
}

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 128) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

function lengthDelimited(number: number, payload: Uint8Array): Uint8Array {
  const head = [...varint(number * 8 + 2), ...varint(payload.length)];
  const out = new Uint8Array(head.length + payload.length);
  out.set(head, 0);
  out.set(payload, head.length);
  return out;
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

function entryKey(bytes: Uint8Array, f: Field): string | undefined {
  for (const g of fields(bytes, f.payloadStart, f.end)) if (g.number === 1 && g.wireType === 2) return fromUtf8.decode(bytes.subarray(g.payloadStart, g.end));
  return undefined;
}

/** The metadata_props of an .onnx file (key -> value), read without decoding the graph. */
export function readModelMetadata(bytes: Uint8Array): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of fields(bytes)) {
    if (f.number !== METADATA_FIELD || f.wireType !== 2) continue;
    let key: string | undefined;
    let value = '';
    for (const g of fields(bytes, f.payloadStart, f.end)) {
      if (g.wireType !== 2) continue;
      const s = fromUtf8.decode(bytes.subarray(g.payloadStart, g.end));
      if (g.number === 1) key = s;
      else if (g.number === 2) value = s;
    }
    if (key !== undefined) out.set(key, value);
  }
  return out;
}

/**
 * Returns the .onnx bytes with `set` written into metadata_props (replacing entries of the same
 * keys) and the keys in `remove` deleted; every other byte of the file is kept.
 */
export function setModelMetadata(bytes: Uint8Array, set: ReadonlyMap<string, string>, remove: readonly string[] = [], source = 'the model'): Uint8Array {
  const parts: Uint8Array[] = [];
  try {
    for (const f of fields(bytes)) {
      if (f.number === METADATA_FIELD && f.wireType === 2) {
        const key = entryKey(bytes, f);
        if (key !== undefined && (set.has(key) || remove.includes(key))) continue;
      }
      parts.push(bytes.subarray(f.start, f.end));
    }
  } catch (e) {
    throw new ConvLensError('MODEL_UNREADABLE', `Cannot read ${source} as an ONNX model: ${(e as Error).message}.`, 'The file is truncated or is not an ONNX protobuf; re-export or re-download it.', { cause: e });
  }
  for (const [key, value] of set) {
    parts.push(lengthDelimited(METADATA_FIELD, concatBytes([lengthDelimited(1, utf8.encode(key)), lengthDelimited(2, utf8.encode(value))])));
  }
  return concatBytes(parts);
}

function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
  return out;
}
