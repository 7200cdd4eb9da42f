// A synthetic dataset with known answers: black 12x12 images, each with one bright 3x3 square
// of a distinct brightness at a known place, and a "spot model" whose conv1 channel 0 sums a
// 3x3 box (so it fires most at a square's centre, in proportion to its brightness) and whose
// channel 1 copies the pixel.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { encodeIdx } from '../../src/data/idx.js';
import { GraphBuilder } from '../../src/engine/graph/builder.js';
import { encodeModel } from '../../src/engine/onnx/codec.js';
import type { Engine } from '../../src/engine/runtime/engine.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { writeMetadata } from '../../src/models/metadata.js';
import { Model } from '../../src/models/model.js';

const f32 = (dims: number[], data: ArrayLike<number>): Tensor => ({ dtype: 'float32', dims, data: Float32Array.from(data) });

export const SIDE = 12;

export function spotModel(engine: Engine): Model {
  const b = new GraphBuilder();
  b.graph.name = 'spot_model';
  const x = b.input('input', 'float32', ['N', 1, SIDE, SIDE]);
  const w = new Float32Array(2 * 9);
  for (let i = 0; i < 9; i++) w[i] = 1; // channel 0: 3x3 box
  w[9 + 4] = 1; // channel 1: identity
  const c1 = b.op('Conv', [x, b.initializer('conv1.weight', f32([2, 1, 3, 3], w))], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, { name: 'conv1', outputs: ['conv1'] });
  const r1 = b.op('Relu', [c1], {}, { name: 'relu1', outputs: ['relu1'] });
  const p1 = b.op('MaxPool', [r1], { kernel_shape: [2, 2], strides: [2, 2] }, { name: 'pool1', outputs: ['pool1'] });
  const gap = b.op('GlobalAveragePool', [p1], {}, { name: 'gap', outputs: ['gap'] });
  const flat = b.op('Flatten', [gap], { axis: 1 }, { name: 'flatten', outputs: ['flatten'] });
  const logits = b.op('Gemm', [flat, b.initializer('fc.weight', f32([2, 2], [1, 0, 0, 1])), b.initializer('fc.bias', f32([2], [0, 0]))], { transB: 1 }, { name: 'logits', outputs: ['logits'] });
  b.output(logits);
  const g = b.build();
  writeMetadata(g, { labels: ['even', 'odd'], preprocessing: { size: [SIDE, SIDE], channels: 'gray', range: [0, 1], mean: [0], std: [1], resize: 'stretch' } });
  return new Model(g, engine, 'spot');
}

export interface Spot {
  file: string;
  label: number;
  /** top-left of the square, and its brightness 0..255 */
  row: number;
  col: number;
  value: number;
}

/** Spot `i`: its square's place and brightness, and its pixels. */
function spot(i: number): Omit<Spot, 'file'> & { px: Uint8Array } {
  const value = 40 + (5 * i) % 215; // distinct brightnesses (for up to 43 images)
  const row = 1 + ((i * 3) % (SIDE - 4));
  const col = 1 + ((i * 5) % (SIDE - 4));
  const label = i % 2;
  const px = new Uint8Array(SIDE * SIDE);
  for (let y = 0; y < 3; y++) for (let x = 0; x < 3; x++) px[(row + y) * SIDE + col + x] = value;
  return { label, row, col, value, px };
}

/** Writes `n` PNGs into class folders even/ and odd/ (by spot index) and returns what they hold. */
export async function writeSpots(dir: string, n: number): Promise<Spot[]> {
  const spots: Spot[] = [];
  for (let i = 0; i < n; i++) {
    const { px, ...s } = spot(i);
    const sub = join(dir, s.label ? 'odd' : 'even');
    mkdirSync(sub, { recursive: true });
    const file = join(sub, `spot-${String(i).padStart(3, '0')}.png`);
    writeFileSync(file, await sharp(Buffer.from(px), { raw: { width: SIDE, height: SIDE, channels: 1 } }).png().toBuffer());
    spots.push({ file, ...s });
  }
  return spots;
}

/**
 * The same spots as an IDX pair (`spots-images-idx3-ubyte` + labels) in `dir`, for scans that
 * should cost next to nothing (no image decoding); returns the images file, the dataset spec.
 */
export function writeSpotsIdx(dir: string, n: number): string {
  mkdirSync(dir, { recursive: true });
  const images = new Uint8Array(n * SIDE * SIDE);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const s = spot(i);
    images.set(s.px, i * SIDE * SIDE);
    labels[i] = s.label;
  }
  const file = join(dir, 'spots-images-idx3-ubyte');
  writeFileSync(file, encodeIdx({ dims: [n, SIDE, SIDE], data: images }));
  writeFileSync(join(dir, 'spots-labels-idx1-ubyte'), encodeIdx({ dims: [n], data: labels }));
  return file;
}

/** The spot model as an .onnx file (for CLI runs); returns its path. */
export function writeSpotModel(path: string, engine: Engine): string {
  writeFileSync(path, encodeModel(spotModel(engine).graph));
  return path;
}
