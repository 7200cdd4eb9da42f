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

/**
 * A ConvNeXt-shaped net as torch.onnx exports torchvision's convnext at opset 17: a 4x4/4 stem,
 * blocks of depthwise 7x7 conv, then permute to channels-last for LayerNormalization, two Linear
 * layers (MatMul + Add) around an Erf GELU, a layer scale, permute back and a residual Add;
 * LayerNorm2d + 2x2/2 conv between stages; global pooling, LayerNorm2d, Flatten, Gemm.
 * `decomposedNorms`: every LayerNorm as opset 13 exports it (ReduceMean, Sub, Pow, Sqrt, Div).
 */
export function convnextLike(size: number, classes: number, seed: number, widths: readonly number[] = [8, 16], biases = true, decomposedNorms = false): Graph {
  const b = new GraphBuilder();
  b.graph.name = 'convnext_like';
  const L = new Layers(b, seededRandom(seed));
  const rand = seededRandom(seed + 1);
  const values = (n: number, scale: number, offset = 0): Float32Array => Float32Array.from({ length: n }, () => offset + scale * (rand() - 0.5));
  const param = (name: string, dims: number[], scale: number, offset = 0): string => b.initializer(name, { dtype: 'float32', dims, data: values(dims.reduce((p, q) => p * q, 1), scale, offset) });
  const toLast = (x: string, name: string): string => b.op('Transpose', [x], { perm: [0, 2, 3, 1] }, { name, outputs: [name] });
  const toFirst = (x: string, name: string): string => b.op('Transpose', [x], { perm: [0, 3, 1, 2] }, { name, outputs: [name] });
  const layerNorm = (x: string, name: string, c: number): string => {
    const [weight, bias] = [param(`${name}.weight`, [c], 0.4, 1), param(`${name}.bias`, [c], biases ? 0.2 : 0)];
    if (!decomposedNorms) return b.op('LayerNormalization', [x, weight, bias], { axis: -1, epsilon: 1e-6 }, { name, outputs: [name] });
    // as torch.onnx writes LayerNorm before opset 17
    const u = b.op('Sub', [x, b.op('ReduceMean', [x], { axes: [-1] })]);
    const deviation = b.op('Sqrt', [b.op('Add', [b.op('ReduceMean', [b.op('Pow', [u, b.scalar(2)])], { axes: [-1] }), b.scalar(1e-6)])]);
    return b.op('Add', [b.op('Mul', [b.op('Div', [u, deviation]), weight]), bias], {}, { name, outputs: [name] });
  };
  const linear = (x: string, name: string, cin: number, cout: number): string =>
    b.op('Add', [b.op('MatMul', [x, param(`${name}.weight`, [cin, cout], 2 / Math.sqrt(cin))]), param(`${name}.bias`, [cout], biases ? 0.1 : 0)], {}, { name, outputs: [name] });
  const gelu = (x: string, name: string): string => {
    const erf = b.op('Erf', [b.op('Div', [x, b.scalar(Math.SQRT2)])]);
    return b.op('Mul', [b.op('Mul', [x, b.op('Add', [erf, b.scalar(1)])]), b.scalar(0.5)], {}, { name, outputs: [name] });
  };

  let x = b.input('image', 'float32', ['N', 3, size, size]);
  x = L.conv2d(x, 'stem.conv', { filters: widths[0]!, kernel: 4, stride: 4, padding: 0 });
  x = toFirst(layerNorm(toLast(x, 'stem.permute'), 'stem.norm', widths[0]!), 'stem.unpermute');
  widths.forEach((c, s) => {
    if (s > 0) {
      x = toFirst(layerNorm(toLast(x, `down${s}.permute`), `down${s}.norm`, widths[s - 1]!), `down${s}.unpermute`);
      x = L.conv2d(x, `down${s}.conv`, { filters: c, kernel: 2, stride: 2, padding: 0 });
    }
    const p = `stage${s}.block`;
    let y = L.conv2d(x, `${p}.dwconv`, { filters: c, kernel: 7, padding: 3, groups: c });
    y = layerNorm(toLast(y, `${p}.permute`), `${p}.norm`, c);
    y = linear(gelu(linear(y, `${p}.pwconv1`, c, 4 * c), `${p}.gelu`), `${p}.pwconv2`, 4 * c, c);
    y = b.op('Mul', [y, param(`${p}.layer_scale`, [c], 0.2, 0.5)]);
    x = L.add(x, toFirst(y, `${p}.unpermute`), `${p}.add`);
  });
  const last = widths[widths.length - 1]!;
  x = toFirst(layerNorm(toLast(L.globalAvgPool(x, 'avgpool'), 'head.permute'), 'head.norm', last), 'head.unpermute');
  b.output(L.dense(L.flatten(x, 'head.flatten'), 'head.fc', classes));
  return b.build();
}

/**
 * An EfficientNet/RegNet-shaped net: 3x3 conv stages, each followed by a squeeze-and-excitation
 * gate as torchvision's SqueezeExcitation exports it (GlobalAveragePool, 1x1 conv, ReLU, 1x1
 * conv, Sigmoid, then `scale * input`: the gate is the Mul's first input), global pooling and a dense head.
 */
export function squeezeExciteLike(size: number, classes: number, seed: number, widths: readonly number[] = [8, 16, 32]): Graph {
  const b = new GraphBuilder();
  b.graph.name = 'squeeze_excite_like';
  const L = new Layers(b, seededRandom(seed));
  let x = b.input('image', 'float32', ['N', 3, size, size]);
  widths.forEach((filters, s) => {
    x = L.relu(L.conv2d(x, `stage${s}.conv`, { filters, stride: 2 }), `stage${s}.act`);
    const squeezed = L.relu(L.conv2d(L.globalAvgPool(x, `stage${s}.se.avgpool`), `stage${s}.se.fc1`, { filters: Math.max(2, filters / 4), kernel: 1, padding: 0 }), `stage${s}.se.act`);
    const gate = b.op('Sigmoid', [L.conv2d(squeezed, `stage${s}.se.fc2`, { filters, kernel: 1, padding: 0 })], {}, { name: `stage${s}.se.gate`, outputs: [`stage${s}.se.gate`] });
    x = b.op('Mul', [gate, x], {}, { name: `stage${s}.se.scale`, outputs: [`stage${s}.se.scale`] });
  });
  b.output(L.dense(L.flatten(L.globalAvgPool(x, 'avgpool'), 'flatten'), 'classifier', classes));
  return b.build();
}

/**
 * A vision transformer as torch.onnx exports torchvision's ViT, shrunk: a patch-embedding conv
 * (the only [N, C, H, W] value), its positions flattened to tokens [N, h*w, C], one block of
 * single-head self-attention (Softmax of Q K^T weighting V through MatMuls) with a residual, the
 * tokens averaged and a dense head; with `pooledQuery`, an attention pool (one query) instead;
 * with `batchSecond`, the tokens projected as [tokens, N, C] (a layout ConvLens does not follow).
 */
export function vitLike(size: number, patch: number, dim: number, classes: number, seed: number, pooledQuery = false, batchSecond = false): Graph {
  const b = new GraphBuilder();
  b.graph.name = 'vit_like';
  const L = new Layers(b, seededRandom(seed));
  const rand = seededRandom(seed + 1);
  const weight = (name: string): string => b.initializer(name, { dtype: 'float32', dims: [dim, dim], data: Float32Array.from({ length: dim * dim }, () => (rand() - 0.5) * (2 / Math.sqrt(dim))) });
  const x = b.input('image', 'float32', ['N', 3, size, size]);
  const patches = L.conv2d(x, 'conv_proj', { filters: dim, kernel: patch, stride: patch, padding: 0 });
  // batchSecond: the tokens as [tokens, N, C] while they are projected, as PyTorch's own attention holds them
  const flat = b.op('Reshape', [patches, b.ints([0, dim, -1])]);
  const held = b.op('Transpose', [flat], { perm: batchSecond ? [2, 0, 1] : [0, 2, 1] }, { name: 'tokens', outputs: ['tokens'] });
  const batchFirst = (v: string): string => (batchSecond ? b.op('Transpose', [v], { perm: [1, 0, 2] }) : v);
  const tokens = batchFirst(held);
  // pooledQuery: one query, the tokens' mean (an attention pool, as CLIP's ResNet head), instead of one per token
  const queries = pooledQuery ? b.op('ReduceMean', [tokens], { axes: [1], keepdims: 1 }) : tokens;
  const [q, k, v] = ['q', 'k', 'v'].map((p) => (p === 'q' && pooledQuery ? b.op('MatMul', [queries, weight(`attn.${p}.weight`)]) : batchFirst(b.op('MatMul', [held, weight(`attn.${p}.weight`)]))));
  const scores = b.op('Mul', [b.op('MatMul', [q!, b.op('Transpose', [k!], { perm: [0, 2, 1] })]), b.scalar(1 / Math.sqrt(dim))]);
  const weights = b.op('Softmax', [scores], { axis: -1 }, { name: 'attn.softmax', outputs: ['attn.softmax'] });
  const mixed = b.op('Add', [queries, b.op('MatMul', [b.op('MatMul', [weights, v!]), weight('attn.out.weight')])], {}, { name: 'block', outputs: ['block'] });
  b.output(L.dense(b.op('ReduceMean', [mixed], { axes: [1], keepdims: 0 }), 'head', classes));
  return b.build();
}

/**
 * MaxViT's window attention as torchvision writes it, shrunk: maps [N, C, H, W] cut into P x P
 * windows ([N, C, H/P, P, W/P, P], permuted, then [N, windows, P*P, C]), a Linear layer and a
 * residual on those partitioned values, put back ([N, H/P, W/P, P, P, C], permuted, [N, C, H, W])
 * between convolutions; `pixelShuffle`: a sub-pixel upsampling written out the same way
 * ([N, C r^2, H, W] -> [N, C, r, r, H, W] -> [N, C, H, r, W, r] -> [N, C, H r, W r]) after it.
 */
export function windowPartitionLike(size: number, dim: number, window: number, classes: number, seed: number, pixelShuffle = false): Graph {
  const b = new GraphBuilder();
  b.graph.name = 'window_partition_like';
  const L = new Layers(b, seededRandom(seed));
  const rand = seededRandom(seed + 1);
  const x = b.input('image', 'float32', ['N', 3, size, size]);
  const maps = L.relu(L.conv2d(x, 'stem', { filters: dim, kernel: 3, stride: 2, padding: 1 }), 'stem.act');
  const h = size / 2;
  const parts = h / window;
  const cut = b.op('Reshape', [maps, b.ints([0, dim, parts, window, parts, window])], {}, { name: 'partition.split', outputs: ['partition.split'] });
  const swapped = b.op('Transpose', [cut], { perm: [0, 2, 4, 3, 5, 1] }, { name: 'partition.permute', outputs: ['partition.permute'] });
  const windows = b.op('Reshape', [swapped, b.ints([0, parts * parts, window * window, dim])], {}, { name: 'partition', outputs: ['partition'] });
  const w = b.initializer('mix.weight', { dtype: 'float32', dims: [dim, dim], data: Float32Array.from({ length: dim * dim }, () => (rand() - 0.5) / Math.sqrt(dim)) });
  const mixed = b.op('Add', [windows, b.op('MatMul', [windows, w])], {}, { name: 'mix', outputs: ['mix'] });
  const split = b.op('Reshape', [mixed, b.ints([0, parts, parts, window, window, dim])], {}, { name: 'departition.split', outputs: ['departition.split'] });
  const back = b.op('Transpose', [split], { perm: [0, 5, 1, 3, 2, 4] }, { name: 'departition.permute', outputs: ['departition.permute'] });
  const restored = b.op('Reshape', [back, b.ints([0, dim, h, h])], {}, { name: 'departition', outputs: ['departition'] });
  let y = L.relu(L.conv2d(restored, 'conv', { filters: dim, kernel: 3, padding: 1 }), 'conv.act');
  if (pixelShuffle) {
    const r = 2;
    const wide = L.conv2d(y, 'shuffle.conv', { filters: (dim / (r * r)) * r * r, kernel: 1, padding: 0 });
    const c = dim / (r * r);
    const split6 = b.op('Reshape', [wide, b.ints([0, c, r, r, h, h])]);
    const moved = b.op('Transpose', [split6], { perm: [0, 1, 4, 2, 5, 3] });
    y = L.relu(b.op('Reshape', [moved, b.ints([0, c, h * r, h * r])], {}, { name: 'shuffle', outputs: ['shuffle'] }), 'shuffle.act');
  }
  b.output(L.dense(L.flatten(L.globalAvgPool(y, 'avgpool'), 'flatten'), 'classifier', classes));
  return b.build();
}

/**
 * Swin's shifted-window attention as torchvision writes it, shrunk to one block: a 4x4/4 patch
 * embedding permuted to channels-last [N, H, W, C], cut into `window` x `window` windows with the
 * batch merged in ([N, H/P, P, W/P, P, C], permuted, then [N * windows, P*P, C] by a -1 the
 * shape inference names afresh), attention inside each window over `heads` heads
 * ([N * windows, heads, P*P, P*P]), the windows put back ([N, H/P, W/P, P, P, C], permuted,
 * [N, H, W, C]) and added to the block's input; permuted back, pooled, a dense head.
 */
export function swinLike(size: number, dim: number, window: number, heads: number, classes: number, seed: number): Graph {
  const b = new GraphBuilder();
  b.graph.name = 'swin_like';
  const L = new Layers(b, seededRandom(seed));
  const rand = seededRandom(seed + 1);
  const weight = (name: string): string => b.initializer(name, { dtype: 'float32', dims: [dim, dim], data: Float32Array.from({ length: dim * dim }, () => (rand() - 0.5) * (2 / Math.sqrt(dim))) });
  const image = b.input('image', 'float32', ['N', 3, size, size]);
  const patches = L.conv2d(image, 'patch_embed', { filters: dim, kernel: 4, stride: 4, padding: 0 });
  const h = size / 4;
  const parts = h / window;
  const positions = window * window;
  const d = dim / heads;
  const x = b.op('Transpose', [patches], { perm: [0, 2, 3, 1] }, { name: 'embed.permute', outputs: ['embed.permute'] });
  const split = b.op('Reshape', [x, b.ints([0, parts, window, parts, window, dim])], {}, { name: 'attn.split', outputs: ['attn.split'] });
  const swapped = b.op('Transpose', [split], { perm: [0, 1, 3, 2, 4, 5] });
  const windows = b.op('Reshape', [swapped, b.ints([-1, positions, dim])], {}, { name: 'attn.windows', outputs: ['attn.windows'] });
  const perHead = (v: string): string => b.op('Transpose', [b.op('Reshape', [v, b.ints([0, positions, heads, d])])], { perm: [0, 2, 1, 3] });
  const [q, k, v] = ['q', 'k', 'v'].map((p) => perHead(b.op('MatMul', [windows, weight(`attn.${p}.weight`)], {}, { name: `attn.${p}`, outputs: [`attn.${p}`] })));
  const scores = b.op('Mul', [b.op('MatMul', [q!, b.op('Transpose', [k!], { perm: [0, 1, 3, 2] })]), b.scalar(1 / Math.sqrt(d))], {}, { name: 'attn.scores', outputs: ['attn.scores'] });
  const weights = b.op('Softmax', [scores], { axis: -1 }, { name: 'attn.softmax', outputs: ['attn.softmax'] });
  const mixed = b.op('MatMul', [weights, v!], {}, { name: 'attn.mixed', outputs: ['attn.mixed'] });
  const joined = b.op('Reshape', [b.op('Transpose', [mixed], { perm: [0, 2, 1, 3] }), b.ints([0, positions, dim])]);
  const projected = b.op('MatMul', [joined, weight('attn.proj.weight')], {}, { name: 'attn.proj', outputs: ['attn.proj'] });
  const unsplit = b.op('Reshape', [projected, b.ints([-1, parts, parts, window, window, dim])]);
  const back = b.op('Reshape', [b.op('Transpose', [unsplit], { perm: [0, 1, 3, 2, 4, 5] }), b.ints([-1, h, h, dim])], {}, { name: 'attn.merge', outputs: ['attn.merge'] });
  const block = b.op('Add', [x, back], {}, { name: 'block', outputs: ['block'] });
  const maps = b.op('Transpose', [block], { perm: [0, 3, 1, 2] }, { name: 'permute', outputs: ['permute'] });
  b.output(L.dense(L.flatten(L.globalAvgPool(maps, 'avgpool'), 'flatten'), 'head', classes));
  return b.build();
}

/**
 * A small CNN behind GoogLeNet's and Inception v3's transform_input (torchvision sets it with
 * pretrained weights): each channel picked by Gather(axis 1), unsqueezed back to [N, 1, H, W],
 * rescaled and concatenated again before the first conv. `transformInput` false leaves it out.
 */
export function channelTransformLike(size: number, classes: number, seed: number, transformInput = true): Graph {
  const b = new GraphBuilder();
  b.graph.name = 'channel_transform_like';
  const L = new Layers(b, seededRandom(seed));
  let x = b.input('image', 'float32', ['N', 3, size, size]);
  if (transformInput) {
    const channels = [0, 1, 2].map((c) => {
      const picked = b.op('Gather', [x, b.constant({ dtype: 'int64', dims: [], data: BigInt64Array.of(BigInt(c)) }, 'channel')], { axis: 1 }, { name: `transform.pick${c}`, outputs: [`transform.pick${c}`] });
      const back = b.op('Unsqueeze', [picked, b.ints([1])], {}, { name: `transform.unsqueeze${c}`, outputs: [`transform.unsqueeze${c}`] });
      return b.op('Add', [b.op('Mul', [back, b.scalar(0.45 + 0.01 * c)]), b.scalar(-0.03 * c)]);
    });
    x = b.op('Concat', channels, { axis: 1 }, { name: 'transform', outputs: ['transform'] });
  }
  let y = L.relu(L.conv2d(x, 'conv1', { filters: 8, kernel: 3, stride: 2, padding: 1 }), 'conv1.act');
  y = L.relu(L.conv2d(y, 'conv2', { filters: 16, kernel: 3, stride: 2, padding: 1 }), 'conv2.act');
  y = L.relu(L.conv2d(y, 'conv3', { filters: 16, kernel: 3, padding: 1 }), 'conv3.act');
  y = L.relu(L.conv2d(y, 'conv4', { filters: 32, kernel: 3, stride: 2, padding: 1 }), 'conv4.act');
  b.output(L.dense(L.flatten(L.globalAvgPool(y, 'avgpool'), 'flatten'), 'classifier', classes));
  return b.build();
}

/**
 * A small CNN with DenseNet's transition as torch.onnx writes it: a 1x1 conv, then nn.AvgPool2d
 * as a Pad of nothing ('transition.pad') before the AveragePool.
 */
export function transitionPadLike(size: number, classes: number, seed: number): Graph {
  const b = new GraphBuilder();
  b.graph.name = 'transition_pad_like';
  const L = new Layers(b, seededRandom(seed));
  const x = b.input('image', 'float32', ['N', 3, size, size]);
  let y = L.relu(L.conv2d(x, 'conv1', { filters: 8, kernel: 3, stride: 2, padding: 1 }), 'conv1.act');
  y = L.relu(L.conv2d(y, 'conv2', { filters: 16, kernel: 3, padding: 1 }), 'conv2.act');
  const squeezed = L.conv2d(y, 'transition.conv', { filters: 8, kernel: 1, padding: 0 });
  const padded = b.op('Pad', [squeezed, b.ints([0, 0, 0, 0, 0, 0, 0, 0])], { mode: 'constant' }, { name: 'transition.pad', outputs: ['transition.pad'] });
  y = b.op('AveragePool', [padded], { kernel_shape: [2, 2], strides: [2, 2] }, { name: 'transition.pool', outputs: ['transition.pool'] });
  y = L.relu(L.conv2d(y, 'conv3', { filters: 16, kernel: 3, padding: 1 }), 'conv3.act');
  y = L.relu(L.conv2d(y, 'conv4', { filters: 16, kernel: 3, stride: 2, padding: 1 }), 'conv4.act');
  b.output(L.dense(L.flatten(L.globalAvgPool(y, 'avgpool'), 'flatten'), 'classifier', classes));
  return b.build();
}
