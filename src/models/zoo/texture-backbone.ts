import { GraphBuilder } from '../../engine/graph/builder.js';
import type { Graph } from '../../engine/graph/ir.js';
import { gaussian, seededRandom } from '../init.js';
import { writeMetadata } from '../metadata.js';

export interface TextureBackboneOptions {
  seed?: number;
  /** random filters per scale */
  filters?: number;
  /** pyramid levels (each half the size of the one before) */
  scales?: number;
  /** kernel size at every level */
  kernel?: number;
  /** default input size (the network itself takes any size) */
  size?: number;
}

/**
 * The built-in texture backbone: a single layer of random convolution filters at several scales
 * (Ustyuzhaninov, Brendel, Gatys & Bethge, "What does it take to generate natural textures?",
 * ICLR 2017, found such untrained multi-scale networks synthesize natural textures with Gram
 * matching nearly as well as VGG). Their network applies 128 filters of each of 8 sizes from
 * 3x3 to 55x55 at full resolution, 76 GFLOPs for one 256x256 image: too slow for a CPU. Here
 * every scale runs the same small kernel on an average-pooled copy of the image (a pyramid), so
 * level k's filters span 5 * 2^k pixels (5 to 80 by default) for ~1 GFLOP.
 *
 * Filters are Gaussian, zero-mean (flat regions give no response, so the Gram matrices describe
 * structure rather than the mean colour) and unit-norm; no bias; ReLU. Layers `scale1` (finest)
 * to `scaleK` are the ReLU outputs; `conv1`.. the linear responses; `color` is the normalized
 * image average-pooled 4x4, which carries the colour the zero-mean filters cannot see.
 */
export function textureBackbone(o: TextureBackboneOptions = {}): Graph {
  const filters = o.filters ?? 128;
  const scales = o.scales ?? 5;
  const k = o.kernel ?? 5;
  const size = o.size ?? 256;
  const rand = seededRandom(o.seed ?? 2017);
  const b = new GraphBuilder();
  b.graph.name = 'texture_backbone';
  let x = b.input('input', 'float32', ['N', 3, size, size]);
  const outputs: string[] = [];
  // The zero-mean filters are blind to flat colour; `color` (the normalized image, 4x4 average-
  // pooled) carries it: its Gram matrix is the colour's second moments, its values the colour layout.
  const color = b.op('AveragePool', [x], { kernel_shape: [4, 4], strides: [4, 4] }, { name: 'color', outputs: ['color'] });
  for (let s = 1; s <= scales; s++) {
    if (s > 1) x = b.op('AveragePool', [x], { kernel_shape: [2, 2], strides: [2, 2] }, { name: `pool${s}`, outputs: [`pool${s}`] });
    const n = 3 * k * k;
    const w = new Float32Array(filters * n);
    for (let f = 0; f < filters; f++) {
      let mean = 0;
      for (let i = 0; i < n; i++) mean += w[f * n + i] = gaussian(rand);
      mean /= n;
      let norm = 0;
      for (let i = 0; i < n; i++) norm += (w[f * n + i]! -= mean) ** 2;
      norm = Math.sqrt(norm);
      for (let i = 0; i < n; i++) w[f * n + i]! /= norm;
    }
    const W = b.initializer(`conv${s}.weight`, { dtype: 'float32', dims: [filters, 3, k, k], data: w });
    const pad = Math.floor(k / 2);
    const c = b.op('Conv', [x, W], { kernel_shape: [k, k], pads: [pad, pad, pad, pad] }, { name: `conv${s}`, outputs: [`conv${s}`] });
    outputs.push(b.op('Relu', [c], {}, { name: `scale${s}`, outputs: [`scale${s}`] }));
  }
  for (const out of outputs) b.output(out);
  b.output(color);
  const g = b.build();
  writeMetadata(g, {
    labels: [],
    preprocessing: { size: [size, size], channels: 'rgb', range: [0, 1], mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], resize: 'stretch' },
    description: `Random multi-scale texture backbone (Ustyuzhaninov et al. 2017, pyramid variant): ${scales} scales x ${filters} random ${k}x${k} filters, seed ${o.seed ?? 2017}; any input size`,
  });
  return g;
}

/** The texture backbone's Gram layers: colour, then the scales, finest first. */
export function textureLayers(scales = 5): string[] {
  return ['color', ...Array.from({ length: scales }, (_, i) => `scale${i + 1}`)];
}

/** The texture backbone's default content layers (colour layout and the finest structure). */
export const TEXTURE_CONTENT_LAYERS = ['color', 'scale1'];
