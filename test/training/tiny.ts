// Small models for training tests: fast enough to train for a few dozen steps in a second.
import { GraphBuilder } from '../../src/engine/graph/builder.js';
import type { Graph } from '../../src/engine/graph/ir.js';
import { seededRandom } from '../../src/models/init.js';
import { Layers } from '../../src/models/layers.js';

/** conv 8 -> relu -> pool -> conv 16 -> [bn] -> relu -> pool -> flatten -> dense 10, for 1x28x28 input. */
export function tinyCnn(seed = 0, batchNorm = false): Graph {
  const b = new GraphBuilder();
  b.graph.name = batchNorm ? 'tiny_bn' : 'tiny';
  const L = new Layers(b, seededRandom(seed));
  let x = b.input('input', 'float32', ['N', 1, 28, 28]);
  x = L.maxPool(L.relu(L.conv2d(x, 'conv1', { filters: 8 }), 'relu1'), 'pool1');
  x = L.conv2d(x, 'conv2', { filters: 16, bias: !batchNorm });
  if (batchNorm) x = L.batchNorm(x, 'bn2');
  x = L.maxPool(L.relu(x, 'relu2'), 'pool2');
  x = L.flatten(x, 'flatten');
  b.output(L.dense(x, 'logits', 10));
  return b.build();
}
