// Small models for training tests: fast enough to train for a few dozen steps in a second.
import { GraphBuilder } from '../../src/engine/graph/builder.js';
import type { Graph } from '../../src/engine/graph/ir.js';
import { seededRandom } from '../../src/models/init.js';
import { Layers } from '../../src/models/layers.js';

/** conv 8 -> relu -> pool -> conv 16 -> [bn] -> relu -> pool -> flatten -> dense 10, for 1x28x28 input. */
/** `images`: what it takes and gives (default: Fashion-MNIST's 1x28x28 images, 10 classes). */
export function tinyCnn(seed = 0, batchNorm = false, images = { channels: 1, size: 28, classes: 10 }): Graph {
  const b = new GraphBuilder();
  b.graph.name = batchNorm ? 'tiny_bn' : 'tiny';
  const L = new Layers(b, seededRandom(seed));
  let x = b.input('input', 'float32', ['N', images.channels, images.size, images.size]);
  x = L.maxPool(L.relu(L.conv2d(x, 'conv1', { filters: 8 }), 'relu1'), 'pool1');
  x = L.conv2d(x, 'conv2', { filters: 16, bias: !batchNorm });
  if (batchNorm) x = L.batchNorm(x, 'bn2');
  x = L.maxPool(L.relu(x, 'relu2'), 'pool2');
  x = L.flatten(x, 'flatten');
  b.output(L.dense(x, 'logits', images.classes));
  return b.build();
}

/** conv 8 -> relu -> global average pool -> dense 10, for 1-channel images of any size (symbolic H and W). */
export function tinyAnySizeCnn(seed = 0): Graph {
  const b = new GraphBuilder();
  b.graph.name = 'torch_jit';
  const L = new Layers(b, seededRandom(seed));
  const x = b.input('input', 'float32', ['N', 1, 'height', 'width']);
  b.output(L.dense(L.flatten(L.globalAvgPool(L.relu(L.conv2d(x, 'conv1', { filters: 8 }), 'relu1'), 'gap'), 'flatten'), 'logits', 10));
  return b.build();
}
