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
}

/**
 * conv (stride 2), relu, 1x1 conv to 5 classes: a class map "classifier" [N, 5, 6, 8] for a
 * 12x16 image; seeded, so nets of any options share their weights.
 */
export function segNet(o: SegOptions = {}): Graph {
  const b = new GraphBuilder();
  b.graph.name = `seg${o.softmax ? '_softmax' : ''}${o.linear ? '_linear' : ''}`;
  const L = new Layers(b, seededRandom(3));
  const image = b.input('image', 'float32', ['N', 3, SEG_HEIGHT, SEG_WIDTH]);
  const features = L.conv2d(image, 'features', { filters: 4, stride: 2 });
  const logits = L.conv2d(o.linear ? features : L.relu(features, 'relu'), 'classifier', { filters: SEG_CLASSES, kernel: 1 });
  b.output(o.softmax ? b.op('Softmax', [logits], { axis: 1 }, { name: 'probs', outputs: ['probs'] }) : logits);
  return b.build();
}
