import { ConvLensError } from '../../engine/errors.js';
import { GraphBuilder } from '../../engine/graph/builder.js';
import type { Dim, Graph } from '../../engine/graph/ir.js';
import { heNormal, seededRandom } from '../init.js';

export interface StyleNetOptions {
  /** styles the network holds (conditional instance normalization); 1 = a plain network */
  styles: number;
  /** channels of the first layer (Johnson et al.: 32); the next stages have 2x and 4x */
  width?: number;
  /** residual blocks (Johnson et al.: 5) */
  blocks?: number;
  /** training size (shapes must be static to differentiate; the exported model takes any size) */
  size?: number;
  seed?: number;
}

/** The network's shape when a caller names none. */
export const STYLE_NET_DEFAULTS = { width: 16, blocks: 3 } as const;

/** Metadata key holding the network's configuration and style names. */
export const STYLE_NET_KEY = 'convlens.style_net';

/**
 * The image transformation network of Johnson, Alahi & Fei-Fei ("Perceptual Losses for Real-Time
 * Style Transfer", 2016) with Ulyanov et al.'s instance normalization and Dumoulin, Shlens &
 * Kudlur's conditional instance normalization ("A Learned Representation for Artistic Style",
 * 2017): reflection-padded 9x9 conv, two stride-2 convs, residual blocks, two nearest-neighbour
 * upsamplings each followed by a 3x3 conv (no checkerboard artefacts), a 9x9 conv and a sigmoid.
 * Every normalization is IN(x) * gamma + beta with gamma = style @ Gamma, beta = style @ Beta
 * (Gamma, Beta [S, C] learned): a one-hot `style` picks one style, other weights blend them.
 *
 * Inputs: `image` [N, 3, H, W] in [0, 1] and `style` [N, S]; output `stylized` [N, 3, H, W] in [0, 1].
 */
export function styleNet(o: StyleNetOptions): Graph {
  const S = o.styles;
  if (!(S >= 1)) throw new ConvLensError('INVALID_ARGUMENT', 'A style network needs at least one style.', 'Build it with styles: 1 or more.');
  const c = o.width ?? STYLE_NET_DEFAULTS.width;
  const blocks = o.blocks ?? STYLE_NET_DEFAULTS.blocks;
  const size = o.size ?? 128;
  const rand = seededRandom(o.seed ?? 0);
  const b = new GraphBuilder();
  b.graph.name = 'style_net';
  const x0 = b.input('image', 'float32', ['N', 3, size, size]);
  const style = b.input('style', 'float32', ['N', S]);
  const conv = (x: string, name: string, cout: number, k: number, stride = 1): string => {
    const cin = b.shapeOf(x)[1] as number;
    const p = Math.floor(k / 2);
    const padded = p ? b.op('Pad', [x, b.ints([0, 0, p, p, 0, 0, p, p])], { mode: 'reflect' }, { name: `${name}.pad` }) : x;
    const w = b.initializer(`${name}.weight`, heNormal(rand, [cout, cin, k, k], cin * k * k));
    const bias = b.initializer(`${name}.bias`, { dtype: 'float32', dims: [cout], data: new Float32Array(cout) });
    return b.op('Conv', [padded, w, bias], { kernel_shape: [k, k], strides: [stride, stride] }, { name, outputs: [name] });
  };
  const cin = (x: string, name: string): string => {
    const C = b.shapeOf(x)[1] as number;
    const ones = b.constant({ dtype: 'float32', dims: [C], data: new Float32Array(C).fill(1) }, 'ones');
    const zeros = b.constant({ dtype: 'float32', dims: [C], data: new Float32Array(C) }, 'zeros');
    const n = b.op('InstanceNormalization', [x, ones, zeros], { epsilon: 1e-5 }, { name: `${name}.in` });
    const G = b.initializer(`${name}.gamma`, { dtype: 'float32', dims: [S, C], data: new Float32Array(S * C).fill(1) });
    const B = b.initializer(`${name}.beta`, { dtype: 'float32', dims: [S, C], data: new Float32Array(S * C) });
    const shape = b.ints([-1, C, 1, 1]);
    const g = b.op('Reshape', [b.op('MatMul', [style, G]), shape]);
    const be = b.op('Reshape', [b.op('MatMul', [style, B]), shape]);
    return b.op('Add', [b.op('Mul', [n, g]), be], {}, { name, outputs: [name] });
  };
  const relu = (x: string): string => b.op('Relu', [x]);
  let x = relu(cin(conv(x0, 'conv1', c, 9), 'norm1'));
  x = relu(cin(conv(x, 'conv2', 2 * c, 3, 2), 'norm2'));
  x = relu(cin(conv(x, 'conv3', 4 * c, 3, 2), 'norm3'));
  for (let r = 1; r <= blocks; r++) {
    const y = relu(cin(conv(x, `res${r}.conv1`, 4 * c, 3), `res${r}.norm1`));
    x = b.op('Add', [x, cin(conv(y, `res${r}.conv2`, 4 * c, 3), `res${r}.norm2`)], {}, { name: `res${r}`, outputs: [`res${r}`] });
  }
  const up = (v: string, name: string): string =>
    b.op('Resize', [v, '', b.constant({ dtype: 'float32', dims: [4], data: Float32Array.of(1, 1, 2, 2) }, 'scales2')], { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' }, { name });
  x = relu(cin(conv(up(x, 'up1'), 'conv4', 2 * c, 3), 'norm4'));
  x = relu(cin(conv(up(x, 'up2'), 'conv5', c, 3), 'norm5'));
  const out = b.op('Sigmoid', [conv(x, 'conv6', 3, 9)], {}, { name: 'stylized', outputs: ['stylized'] });
  b.output(out);
  const g = b.build();
  g.metadata.set(STYLE_NET_KEY, JSON.stringify({ styles: S, width: c, blocks, size }));
  return g;
}

/**
 * The network with the style fixed: `weights` (one per style; one-hot = that style's own
 * network) folded into every normalization's scale and bias, and the `style` input removed.
 * The result is an ordinary single-style network: InstanceNormalization(x, gamma, beta).
 */
export function fixStyle(g: Graph, weights: readonly number[]): Graph {
  const meta = JSON.parse(g.metadata.get(STYLE_NET_KEY) ?? '{}') as { styles?: number };
  const S = meta.styles ?? weights.length;
  if (weights.length !== S) throw new ConvLensError('INVALID_ARGUMENT', `The network holds ${S} styles; ${weights.length} weights given.`, `Pass ${S} weights, one per style.`);
  const out = g.clone();
  out.inputs = out.inputs.filter((i) => i.name !== 'style');
  const blend = (name: string): Float32Array => {
    const t = g.initializers.get(name)!;
    const C = t.dims[1]!;
    const v = new Float32Array(C);
    for (let s = 0; s < S; s++) for (let k = 0; k < C; k++) v[k]! += weights[s]! * (t.data as Float32Array)[s * C + k]!;
    return v;
  };
  const bases = new Set(out.nodes.filter((n) => n.op === 'InstanceNormalization' && n.name.endsWith('.in')).map((n) => n.name.slice(0, -3)));
  const nodes = [];
  for (const n of out.nodes) {
    // IN -> Mul(., gamma(style)) -> Add(., beta(style)) named <base>: the IN takes the blended
    // gamma/beta as its own scale/bias and writes <base> itself; the style branch is pruned below.
    if (n.op === 'InstanceNormalization' && n.name.endsWith('.in')) {
      const base = n.name.slice(0, -3);
      const gname = `${base}.scale`;
      const bname = `${base}.shift`;
      out.initializers.set(gname, { dtype: 'float32', dims: [blend(`${base}.gamma`).length], data: blend(`${base}.gamma`) });
      out.initializers.set(bname, { dtype: 'float32', dims: [blend(`${base}.beta`).length], data: blend(`${base}.beta`) });
      nodes.push({ ...n, inputs: [n.inputs[0]!, gname, bname], outputs: [base] });
      continue;
    }
    if (n.op === 'Add' && bases.has(n.name)) continue;
    nodes.push(n);
  }
  out.nodes = nodes;
  out.metadata.set(STYLE_NET_KEY, JSON.stringify({ ...meta, fixedWeights: weights }));
  // prune what no output needs (the MatMuls on `style`, the gamma/beta tables)
  const needed = new Set(out.outputs.map((o) => o.name));
  const kept = [];
  for (let k = out.nodes.length - 1; k >= 0; k--) {
    const node = out.nodes[k]!;
    if (!node.outputs.some((o) => needed.has(o))) continue;
    kept.push(node);
    for (const i of node.inputs) if (i) needed.add(i);
  }
  out.nodes = kept.reverse();
  for (const name of [...out.initializers.keys()]) if (!needed.has(name)) out.initializers.delete(name);
  out.valueInfo.clear();
  return out;
}

/** The graph with symbolic spatial input size (and no stale shapes), for export: one forward pass at any size. */
export function anySize(g: Graph): Graph {
  const out = g.clone();
  out.inputs = out.inputs.map((i) => (i.name === 'image' ? { ...i, shape: ['N', 3, 'H', 'W'] as Dim[] } : i));
  out.outputs = out.outputs.map((o) => ({ name: o.name, dtype: o.dtype, shape: ['N', 3, 'H', 'W'] }));
  out.valueInfo.clear();
  return out;
}
