import { GraphBuilder } from '../../engine/graph/builder.js';
import type { Graph } from '../../engine/graph/ir.js';
import { seededRandom } from '../init.js';
import { Layers } from '../layers.js';

/** Fashion-MNIST class names, in label order. */
export const FASHION_MNIST_LABELS = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

/**
 * The course's small CNN for 28x28 grayscale images: conv 16/32/64/128 (3x3 same, ReLU) with
 * 2x2 max-pools after the first three, global average pooling, dense 10. 98,442 parameters.
 */
export function courseCnn(seed = 0): Graph {
  const b = new GraphBuilder();
  b.graph.name = 'fashion_cnn';
  const L = new Layers(b, seededRandom(seed));
  let x = b.input('input', 'float32', ['N', 1, 28, 28]);
  const widths = [16, 32, 64, 128];
  widths.forEach((filters, i) => {
    const k = i + 1;
    x = L.relu(L.conv2d(x, `conv${k}`, { filters }), `relu${k}`);
    if (i < 3) x = L.maxPool(x, `pool${k}`);
  });
  x = L.flatten(L.globalAvgPool(x, 'gap'), 'flatten');
  const logits = L.dense(x, 'logits', 10);
  b.output(logits);
  return b.build();
}

/** VGG-like benchmark net: conv3x3 32/64/128/256 with 2x2 max-pools, global average pool, linear 10. */
export function vggLike(seed = 0, size = 128): Graph {
  const b = new GraphBuilder();
  b.graph.name = 'vgg_like';
  const L = new Layers(b, seededRandom(seed));
  let x = b.input('input', 'float32', ['N', 3, size, size]);
  [32, 64, 128, 256].forEach((filters, i) => {
    x = L.relu(L.conv2d(x, `conv${i + 1}`, { filters }), `relu${i + 1}`);
    x = L.maxPool(x, `pool${i + 1}`);
  });
  x = L.flatten(L.globalAvgPool(x, 'gap'), 'flatten');
  b.output(L.dense(x, 'logits', 10));
  return b.build();
}

export interface ResNetOptions {
  /** channels per stage (ResNet-18: 64, 128, 256, 512) */
  widths?: number[];
  /** basic blocks per stage (ResNet-18: 2) */
  blocks?: number;
  size?: number;
  classes?: number;
  seed?: number;
}

/** A ResNet of basic blocks with BatchNorm in inference form and random weights. */
export function resnet(o: ResNetOptions = {}): Graph {
  const widths = o.widths ?? [64, 128, 256, 512];
  const size = o.size ?? 224;
  const b = new GraphBuilder();
  b.graph.name = 'resnet';
  const L = new Layers(b, seededRandom(o.seed ?? 0));
  let x = b.input('input', 'float32', ['N', 3, size, size]);
  x = L.relu(L.batchNorm(L.conv2d(x, 'conv1', { filters: widths[0]!, kernel: 7, stride: 2, padding: 3, bias: false }), 'bn1'), 'relu');
  x = L.maxPool(x, 'maxpool', 3, 2, 1);
  widths.forEach((w, s) => {
    for (let blk = 0; blk < (o.blocks ?? 2); blk++) {
      const p = `layer${s + 1}.${blk}`;
      const stride = s > 0 && blk === 0 ? 2 : 1;
      let y = L.relu(L.batchNorm(L.conv2d(x, `${p}.conv1`, { filters: w, stride, bias: false }), `${p}.bn1`), `${p}.relu1`);
      y = L.batchNorm(L.conv2d(y, `${p}.conv2`, { filters: w, bias: false }), `${p}.bn2`);
      const shortcut = stride !== 1 || b.shapeOf(x)[1] !== w ? L.batchNorm(L.conv2d(x, `${p}.downsample.0`, { filters: w, kernel: 1, stride, padding: 0, bias: false }), `${p}.downsample.1`) : x;
      x = L.relu(L.add(y, shortcut, `${p}.add`), `${p}.relu2`);
    }
  });
  x = L.flatten(L.globalAvgPool(x, 'avgpool'), 'flatten');
  b.output(L.dense(x, 'fc', o.classes ?? 1000));
  return b.build();
}

/** ResNet-18-shaped net (basic blocks 2-2-2-2), random weights: the benchmark's second net. */
export function resnet18Like(seed = 0, size = 224, classes = 1000): Graph {
  const g = resnet({ seed, size, classes });
  g.name = 'resnet18_like';
  return g;
}
