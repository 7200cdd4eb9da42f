// Models ConvLens has never seen, for the tests that every command and studio job runs on any
// CNN: plain ONNX graphs without ConvLens metadata.
import { GraphBuilder } from '../../src/engine/graph/builder.js';
import type { Graph } from '../../src/engine/graph/ir.js';
import { seededRandom } from '../../src/models/init.js';
import { Layers } from '../../src/models/layers.js';

/** Conv/ReLU/pool stages, then Flatten + dense (no global pooling: CAM cannot apply). */
export function flattenHead(size: number, classes: number, seed: number): Graph {
  const b = new GraphBuilder();
  b.graph.name = 'flatten_head_net';
  const L = new Layers(b, seededRandom(seed));
  let x = b.input('image', 'float32', ['N', 3, size, size]);
  [8, 16, 32].forEach((filters, i) => {
    x = L.maxPool(L.relu(L.conv2d(x, `block${i}.conv`, { filters }), `block${i}.act`), `block${i}.pool`);
  });
  b.output(L.dense(L.flatten(x, 'flat'), 'classifier', classes));
  return b.build();
}
