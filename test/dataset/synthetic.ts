// A synthetic dataset with known answers: black 12x12 images, each with one bright 3x3 square
// of a distinct brightness at a known place, and a "spot model" whose conv1 channel 0 sums a
// 3x3 box (so it fires most at a square's centre, in proportion to its brightness) and whose
// channel 1 copies the pixel.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { GraphBuilder } from '../../src/engine/graph/builder.js';
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

/** Writes `n` PNGs into class folders even/ and odd/ (by spot index) and returns what they hold. */
export async function writeSpots(dir: string, n: number): Promise<Spot[]> {
  const spots: Spot[] = [];
  for (let i = 0; i < n; i++) {
    const value = 40 + 5 * i; // distinct brightnesses
    const row = 1 + ((i * 3) % (SIDE - 4));
    const col = 1 + ((i * 5) % (SIDE - 4));
    const label = i % 2;
    const px = new Uint8Array(SIDE * SIDE);
    for (let y = 0; y < 3; y++) for (let x = 0; x < 3; x++) px[(row + y) * SIDE + col + x] = value;
    const sub = join(dir, label ? 'odd' : 'even');
    mkdirSync(sub, { recursive: true });
    const file = join(sub, `spot-${String(i).padStart(3, '0')}.png`);
    writeFileSync(file, await sharp(Buffer.from(px), { raw: { width: SIDE, height: SIDE, channels: 1 } }).png().toBuffer());
    spots.push({ file, label, row, col, value });
  }
  return spots;
}
