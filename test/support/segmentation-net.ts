// A tiny segmentation-shaped net for the tests of per-pixel class maps (models/class-map.ts).
import { GraphBuilder } from '../../src/engine/graph/builder.js';
import type { Graph } from '../../src/engine/graph/ir.js';
import { seededRandom } from '../../src/models/init.js';
import { Layers } from '../../src/models/layers.js';

export const SEG_HEIGHT = 12;
export const SEG_WIDTH = 16;
export const SEG_CLASSES = 5;

export interface SegOptions {
  /** a Softmax over the channels at the end */
  softmax?: boolean;
  /** no ReLU: the map is linear in the image */
  linear?: boolean;
  /**
   * channels-last throughout, as a TensorFlow export: NHWC image, NHWC class map [N, h, w, K].
   * 'transpose': the classifier conv's NCHW output transposed at the end (tf2onnx's shape);
   * 'matmul': the classifier a MatMul over the channels of the NHWC features (a Dense head).
   * The Softmax, if any, over the last axis with its axis left to the default.
   */
  channelsLast?: 'transpose' | 'matmul';
}

/**
 * conv (stride 2), relu, 1x1 conv to 5 classes: a class map "classifier" [N, 5, 6, 8] for a
 * 12x16 image; seeded, so nets of any options share their weights.
 */
export function segNet(o: SegOptions = {}): Graph {
  const b = new GraphBuilder();
  b.graph.name = `seg${o.softmax ? '_softmax' : ''}${o.linear ? '_linear' : ''}${o.channelsLast ? `_nhwc_${o.channelsLast}` : ''}`;
  const L = new Layers(b, seededRandom(3));
  const image = o.channelsLast
    ? b.op('Transpose', [b.input('image', 'float32', ['N', SEG_HEIGHT, SEG_WIDTH, 3])], { perm: [0, 3, 1, 2] }, { name: 'to_nchw', outputs: ['to_nchw'] })
    : b.input('image', 'float32', ['N', 3, SEG_HEIGHT, SEG_WIDTH]);
  const features = L.conv2d(image, 'features', { filters: 4, stride: 2 });
  const activated = o.linear ? features : L.relu(features, 'relu');
  if (!o.channelsLast) {
    const logits = L.conv2d(activated, 'classifier', { filters: SEG_CLASSES, kernel: 1 });
    b.output(o.softmax ? b.op('Softmax', [logits], { axis: 1 }, { name: 'probs', outputs: ['probs'] }) : logits);
    return b.build();
  }
  let logits: string;
  if (o.channelsLast === 'transpose') {
    logits = b.op('Transpose', [L.conv2d(activated, 'classifier', { filters: SEG_CLASSES, kernel: 1 })], { perm: [0, 2, 3, 1] }, { name: 'to_nhwc', outputs: ['to_nhwc'] });
  } else {
    const nhwc = b.op('Transpose', [activated], { perm: [0, 2, 3, 1] }, { name: 'features_nhwc', outputs: ['features_nhwc'] });
    const random = seededRandom(4);
    const weight = b.constant({ dtype: 'float32', dims: [4, SEG_CLASSES], data: Float32Array.from({ length: 4 * SEG_CLASSES }, () => random() - 0.5) }, 'dense_weight');
    logits = b.op('MatMul', [nhwc, weight], {}, { name: 'dense', outputs: ['dense'] });
  }
  b.output(o.softmax ? b.op('Softmax', [logits], {}, { name: 'probs', outputs: ['probs'] }) : logits);
  return b.build();
}

/**
 * A segmentation net shaped as torchvision's: a backbone (conv stride 2 to 4 channels, a dilated
 * conv to 8, "backbone"), a head that narrows it (3x3 conv to 6, "head_relu"), a 1x1 classifier
 * conv to 5 classes and a bilinear upsampling to the image, "out" [N, 5, 12, 16]. `lraspp`: the
 * classifier is LR-ASPP's, the sum of a 1x1 conv over the head and one over the stem's features.
 */
export function segHeadNet(o: { lraspp?: boolean } = {}): Graph {
  const b = new GraphBuilder();
  b.graph.name = `seg_head${o.lraspp ? '_lraspp' : ''}`;
  const L = new Layers(b, seededRandom(5));
  const image = b.input('image', 'float32', ['N', 3, SEG_HEIGHT, SEG_WIDTH]);
  const stem = L.relu(L.conv2d(image, 'stem', { filters: 4, stride: 2 }), 'stem_relu');
  const random = seededRandom(6);
  const weight = b.initializer('dilated.weight', { dtype: 'float32', dims: [8, 4, 3, 3], data: Float32Array.from({ length: 8 * 4 * 9 }, () => random() - 0.5) });
  const dilated = b.op('Conv', [stem, weight], { kernel_shape: [3, 3], pads: [2, 2, 2, 2], dilations: [2, 2] }, { name: 'dilated', outputs: ['dilated'] });
  const backbone = L.relu(dilated, 'backbone');
  const head = L.relu(L.conv2d(backbone, 'head', { filters: 6 }), 'head_relu');
  const high = L.conv2d(head, 'classifier', { filters: SEG_CLASSES, kernel: 1 });
  const logits = o.lraspp ? L.add(L.conv2d(stem, 'low_classifier', { filters: SEG_CLASSES, kernel: 1 }), high, 'classes') : high;
  b.output(b.op('Resize', [logits, '', b.constant({ dtype: 'float32', dims: [4], data: Float32Array.of(1, 1, 2, 2) }, 'scales')], { mode: 'linear' }, { name: 'upsample', outputs: ['out'] }));
  return b.build();
}
