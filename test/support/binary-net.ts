// Tiny binary classifiers for the tests of one-logit models (models/binary-logit.ts): a linear
// one-logit model with known weights, a conv net ending in one logit, and a binary segmentation
// net ending in a 1-channel map; each optionally followed by a Sigmoid, as exported.
import { GraphBuilder } from '../../src/engine/graph/builder.js';
import type { Graph } from '../../src/engine/graph/ir.js';
import { f32 } from '../../src/engine/tensor.js';
import { seededRandom } from '../../src/models/init.js';
import { Layers } from '../../src/models/layers.js';

/** The linear model's weights over its 1x2x2 image, and its bias. */
export const LINEAR_WEIGHTS = [0.5, -1.25, 2, 0.75];
export const LINEAR_BIAS = -0.25;

/** logit = LINEAR_WEIGHTS . image + LINEAR_BIAS, for a [N, 1, 2, 2] image; output [N, 1] (or its sigmoid). */
export function linearLogitNet(o: { sigmoid?: boolean } = {}): Graph {
  const b = new GraphBuilder();
  b.graph.name = `linear_logit${o.sigmoid ? '_sigmoid' : ''}`;
  const image = b.input('image', 'float32', ['N', 1, 2, 2]);
  const flat = b.op('Flatten', [image], { axis: 1 }, { name: 'flat', outputs: ['flat'] });
  const w = b.initializer('fc.weight', f32([1, 4], LINEAR_WEIGHTS));
  const bias = b.initializer('fc.bias', f32([1], [LINEAR_BIAS]));
  const logit = b.op('Gemm', [flat, w, bias], { transB: 1 }, { name: 'fc', outputs: ['fc'] });
  b.output(o.sigmoid ? b.op('Sigmoid', [logit], {}, { name: 'prob', outputs: ['prob'] }) : logit);
  return b.build();
}

export const BINARY_SIZE = 16;

/**
 * conv, relu, conv, relu, global pool, dense to one logit [N, 1] (or its sigmoid); a 3x16x16
 * image, seeded weights. `head`: 'squeezed' squeezes the logit to [N] (torch's
 * `logit.squeeze(1)`), 'pointwise' is the dense layer as a 1x1 conv, output [N, 1, 1, 1].
 */
export function binaryConvNet(o: { sigmoid?: boolean; head?: 'dense' | 'squeezed' | 'pointwise' } = {}): Graph {
  const b = new GraphBuilder();
  b.graph.name = `binary_conv${o.sigmoid ? '_sigmoid' : ''}${o.head && o.head !== 'dense' ? `_${o.head}` : ''}`;
  const L = new Layers(b, seededRandom(11));
  const image = b.input('image', 'float32', ['N', 3, BINARY_SIZE, BINARY_SIZE]);
  let x = L.relu(L.conv2d(image, 'conv1', { filters: 6, stride: 2 }), 'relu1');
  x = L.relu(L.conv2d(x, 'conv2', { filters: 8 }), 'relu2');
  const pooled = L.globalAvgPool(x, 'gap');
  let logit: string;
  if (o.head === 'pointwise') logit = L.conv2d(pooled, 'fc', { filters: 1, kernel: 1 });
  else logit = L.dense(L.flatten(pooled, 'flat'), 'fc', 1);
  if (o.head === 'squeezed') logit = b.op('Squeeze', [logit, b.ints([1])], {}, { name: 'squeezed', outputs: ['squeezed'] });
  b.output(o.sigmoid ? b.op('Sigmoid', [logit], {}, { name: 'prob', outputs: ['prob'] }) : logit);
  return b.build();
}

/** conv (stride 2), relu, 1x1 conv to ONE channel: a binary segmentation map "mask" [N, 1, 8, 8] (or its sigmoid). */
export function binaryMapNet(o: { sigmoid?: boolean; linear?: boolean } = {}): Graph {
  const b = new GraphBuilder();
  b.graph.name = `binary_map${o.sigmoid ? '_sigmoid' : ''}${o.linear ? '_linear' : ''}`;
  const L = new Layers(b, seededRandom(5));
  const image = b.input('image', 'float32', ['N', 3, BINARY_SIZE, BINARY_SIZE]);
  const features = L.conv2d(image, 'features', { filters: 4, stride: 2 });
  const mask = L.conv2d(o.linear ? features : L.relu(features, 'relu'), 'mask', { filters: 1, kernel: 1 });
  b.output(o.sigmoid ? b.op('Sigmoid', [mask], {}, { name: 'mask_prob', outputs: ['mask_prob'] }) : mask);
  return b.build();
}

/**
 * A tiny U-Net: conv, relu, 2x2 max pool, conv, relu, 2x2/2 transposed conv back up, joined to
 * the first conv's map (Concat), 1x1 conv to ONE channel "mask" [N, 1, 16, 16] (or its sigmoid).
 * As every U-Net, it only runs on even sides: an odd side pooled and upsampled is one short.
 */
export function binaryUNet(o: { sigmoid?: boolean } = {}): Graph {
  const b = new GraphBuilder();
  b.graph.name = `binary_unet${o.sigmoid ? '_sigmoid' : ''}`;
  const rand = seededRandom(17);
  const L = new Layers(b, rand);
  const image = b.input('image', 'float32', ['N', 3, BINARY_SIZE, BINARY_SIZE]);
  const enc = L.relu(L.conv2d(image, 'enc', { filters: 4 }), 'enc_relu');
  const down = L.relu(L.conv2d(L.maxPool(enc, 'pool'), 'down', { filters: 6 }), 'down_relu');
  const w = b.initializer('up.weight', f32([6, 4, 2, 2], Array.from({ length: 6 * 4 * 2 * 2 }, () => rand() - 0.5)));
  const up = b.op('ConvTranspose', [down, w], { kernel_shape: [2, 2], strides: [2, 2] }, { name: 'up', outputs: ['up'] });
  const joined = b.op('Concat', [up, enc], { axis: 1 }, { name: 'join', outputs: ['join'] });
  const mask = L.conv2d(L.relu(L.conv2d(joined, 'dec', { filters: 4 }), 'dec_relu'), 'mask', { filters: 1, kernel: 1 });
  b.output(o.sigmoid ? b.op('Sigmoid', [mask], {}, { name: 'mask_prob', outputs: ['mask_prob'] }) : mask);
  return b.build();
}
