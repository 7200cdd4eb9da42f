import { ConvLensError } from '../../engine/errors.js';
import { GraphBuilder } from '../../engine/graph/builder.js';
import type { Graph } from '../../engine/graph/ir.js';
import type { Tensor } from '../../engine/tensor.js';
import { filled, gaussian, glorotUniform, heNormal, seededRandom } from '../init.js';

/**
 * A small U-Net noise predictor for diffusion (Ho et al. 2020, as in the course and in
 * diffusers' UNet2DModel, scaled down): eps = f(x_t, t, class).
 *
 * Inputs: `sample` [N, C, H, W] (the noisy image x_t), `timestep` [N] float (the step index,
 * 0..T-1), `class_labels` [N] int64 (0..K-1 a class, K = the learned "no condition" used for
 * classifier-free guidance). Output `noise_pred` [N, C, H, W].
 *
 * The timestep goes through a sinusoidal embedding (computed in the graph) and a two-layer MLP
 * with SiLU; the class through an embedding table (Gather, K + 1 rows); their sum conditions
 * every residual block (added per channel after the first convolution). Residual blocks are
 * GroupNorm, SiLU, conv 3x3, + embedding, GroupNorm, SiLU, conv 3x3, plus a 1x1 skip when the
 * width changes. GroupNorm is built from Reshape + InstanceNormalization + a per-channel affine
 * (the engine has exact backward rules for all of them). Downsampling: conv 3x3 stride 2;
 * upsampling: nearest Resize x2 then conv 3x3; skips are concatenated. The output conv starts
 * at zero, so the untrained model predicts eps = 0 (loss 1), as diffusers' zero-initialized
 * output layers do.
 */
export interface UNetOptions {
  /** image channels (1 for Fashion-MNIST) */
  channels?: number;
  /** image side (28 for Fashion-MNIST; must be divisible by 2^(levels-1)) */
  size?: number;
  /** widths per resolution, highest first (default [32, 64, 64]: 28x28, 14x14, 7x7) */
  widths?: number[];
  /** residual blocks per resolution on the way down and up (default 1) */
  blocks?: number;
  /** number of classes K; the embedding table has K + 1 rows (row K = no condition) */
  classes?: number;
  /** time/class embedding width (default 4 x widths[0]) */
  embedding?: number;
  /** GroupNorm groups (default 8); 0 = no normalization */
  groups?: number;
  /**
   * patch side p: the image is first rearranged into p*p*C channels at 1/p resolution
   * (space-to-depth, "pixel unshuffle") and the output rearranged back, so the U-Net runs at
   * H/p x W/p (default 1)
   */
  patch?: number;
  /**
   * how the embedding conditions a residual block: 'shift' adds a per-channel bias after the
   * first conv (DDPM); 'scale-shift' (default) also scales the normalized features, h * (1 + s) + b
   * (diffusers' resnet_time_scale_shift="scale_shift"), which lets the noise level set gains
   */
  conditioning?: 'shift' | 'scale-shift';
  seed?: number;
}

export interface UNetInfo {
  sample: string;
  timestep: string;
  classLabels: string;
  output: string;
}

export const UNET_IO: UNetInfo = { sample: 'sample', timestep: 'timestep', classLabels: 'class_labels', output: 'noise_pred' };

class UNetBuilder {
  constructor(
    readonly b: GraphBuilder,
    readonly rand: () => number,
    readonly groups: number,
    readonly conditioning: 'shift' | 'scale-shift' = 'scale-shift',
  ) {}

  channels(x: string): number {
    return this.b.shapeOf(x)[1] as number;
  }

  conv(x: string, name: string, filters: number, o: { kernel?: number; stride?: number; zero?: boolean } = {}): string {
    const k = o.kernel ?? 3;
    const cin = this.channels(x);
    const pad = Math.floor(k / 2);
    const w = o.zero ? filled([filters, cin, k, k], 0) : heNormal(this.rand, [filters, cin, k, k], cin * k * k);
    const weight = this.b.initializer(`${name}.weight`, w);
    const bias = this.b.initializer(`${name}.bias`, filled([filters], 0));
    return this.b.op('Conv', [x, weight, bias], { kernel_shape: [k, k], strides: [o.stride ?? 1, o.stride ?? 1], pads: [pad, pad, pad, pad] }, { name, outputs: [name] });
  }

  dense(x: string, name: string, units: number): string {
    const fin = this.b.shapeOf(x)[1] as number;
    const w = this.b.initializer(`${name}.weight`, glorotUniform(this.rand, [units, fin], fin, units));
    const bias = this.b.initializer(`${name}.bias`, filled([units], 0));
    return this.b.op('Gemm', [x, w, bias], { transB: 1 }, { name, outputs: [name] });
  }

  silu(x: string, name: string): string {
    return this.b.op('Mul', [x, this.b.op('Sigmoid', [x])], {}, { name, outputs: [name] });
  }

  /** GroupNorm(groups, C) with a per-channel affine: Reshape [N, G, -1], InstanceNormalization, Reshape back, scale and shift. */
  groupNorm(x: string, name: string): string {
    const b = this.b;
    if (this.groups === 0) return x;
    const [, c, h, w] = b.shapeOf(x) as [string | number, number, number, number];
    const g = Math.min(this.groups, c);
    const grouped = g === c ? x : b.op('Reshape', [x, b.ints([0, g, -1])]);
    const ones = b.constant(filled([g], 1), `${name}.ones`);
    const zeros = b.constant(filled([g], 0), `${name}.zeros`);
    const normed = b.op('InstanceNormalization', [grouped, ones, zeros], { epsilon: 1e-5 });
    const back = g === c ? normed : b.op('Reshape', [normed, b.ints([0, c, h, w])]);
    const gamma = b.initializer(`${name}.weight`, filled([c, 1, 1], 1));
    const beta = b.initializer(`${name}.bias`, filled([c, 1, 1], 0));
    return b.op('Add', [b.op('Mul', [back, gamma]), beta], {}, { name, outputs: [name] });
  }

  /** Residual block conditioned on the embedding `emb` [N, E] (already passed through SiLU). */
  resBlock(x: string, emb: string, name: string, out: number): string {
    const b = this.b;
    let h = this.silu(this.groupNorm(x, `${name}.norm1`), `${name}.act1`);
    h = this.conv(h, `${name}.conv1`, out);
    if (this.conditioning === 'shift') {
      const e = this.dense(emb, `${name}.emb`, out);
      h = this.groupNorm(b.op('Add', [h, b.op('Unsqueeze', [e, b.ints([2, 3])])]), `${name}.norm2`);
    } else {
      // [N, 2C] -> scale [N, C, 1, 1], shift [N, C, 1, 1]
      const e = b.op('Unsqueeze', [this.dense(emb, `${name}.emb`, 2 * out), b.ints([2, 3])]);
      const [scale, shift] = b.opN('Split', [e, b.ints([out, out])], { axis: 1 }, { outputs: 2 });
      h = b.op('Add', [b.op('Mul', [this.groupNorm(h, `${name}.norm2`), b.op('Add', [scale!, b.scalar(1)])]), shift!]);
    }
    h = this.silu(h, `${name}.act2`);
    h = this.conv(h, `${name}.conv2`, out);
    const skip = this.channels(x) === out ? x : this.conv(x, `${name}.skip`, out, { kernel: 1 });
    return b.op('Add', [h, skip], {}, { name, outputs: [name] });
  }
}

/** Sinusoidal timestep features [N, dim] (first half sin, second half cos, as diffusers' flip_sin_to_cos=False). */
function timestepFeatures(b: GraphBuilder, t: string, dim: number): string {
  const half = dim / 2;
  const freqs = new Float32Array(half);
  for (let i = 0; i < half; i++) freqs[i] = Math.exp((-Math.log(10000) * i) / half);
  const f = b.constant({ dtype: 'float32', dims: [1, half], data: freqs }, 'time_freqs');
  const args = b.op('Mul', [b.op('Unsqueeze', [t, b.ints([1])]), f]);
  return b.op('Concat', [b.op('Sin', [args]), b.op('Cos', [args])], { axis: 1 }, { name: 'time_proj', outputs: ['time_proj'] });
}

/** [N, C, H, W] -> [N, C*p*p, H/p, W/p] (channel order c, dy, dx), as torch.nn.PixelUnshuffle. */
function spaceToDepth(b: GraphBuilder, x: string, c: number, size: number, p: number): string {
  const s = size / p;
  const r = b.op('Reshape', [x, b.ints([0, c, s, p, s, p])]);
  const t = b.op('Transpose', [r], { perm: [0, 1, 3, 5, 2, 4] });
  return b.op('Reshape', [t, b.ints([0, c * p * p, s, s])], {}, { name: 'pixel_unshuffle', outputs: ['pixel_unshuffle'] });
}

/** Inverse of spaceToDepth, as torch.nn.PixelShuffle. */
function depthToSpace(b: GraphBuilder, x: string, c: number, size: number, p: number, name: string): string {
  const s = size / p;
  const r = b.op('Reshape', [x, b.ints([0, c, p, p, s, s])]);
  const t = b.op('Transpose', [r], { perm: [0, 1, 4, 2, 5, 3] });
  return b.op('Reshape', [t, b.ints([0, c, size, size])], {}, { name, outputs: [name] });
}

export function classConditionalUNet(o: UNetOptions = {}): Graph {
  const channels = o.channels ?? 1;
  const size = o.size ?? 28;
  const widths = o.widths ?? [32, 64, 64];
  const blocks = o.blocks ?? 1;
  const classes = o.classes ?? 10;
  const embDim = o.embedding ?? 4 * widths[0]!;
  const groups = o.groups ?? 8;
  // The timestep features are half sines, half cosines; GroupNorm splits each width into equal groups.
  // (`--widths 1` ended in a fractional tensor size and an internal error.)
  const problem = (w: number, i: number): string | undefined => {
    if (!Number.isInteger(w) || w < 2) return `${w} is not a whole number of 2 or more`;
    if (i === 0 && w % 2 !== 0) return `the first, ${w}, is odd (it sizes the timestep features, half sines and half cosines)`;
    if (groups > 0 && w % Math.min(groups, w) !== 0) return `${w} does not split into ${Math.min(groups, w)} GroupNorm groups (--groups ${groups})`;
    return undefined;
  };
  const why = widths.length ? widths.map(problem).find((p) => p !== undefined) : 'none given';
  if (why !== undefined) {
    throw new ConvLensError(
      'INVALID_ARGUMENT',
      `U-Net widths [${widths.join(', ')}] cannot be built: ${why}.`,
      `Use even widths that are multiples of the GroupNorm groups (${groups > 0 ? groups : 'none'}), e.g. --widths 32,64.`,
    );
  }
  const p = o.patch ?? 1;
  const inner = size / p;
  if (!Number.isInteger(inner) || inner % 2 ** (widths.length - 1) !== 0) throw new Error(`image side ${size} / patch ${p} is not divisible by 2^${widths.length - 1}`);
  const b = new GraphBuilder();
  b.graph.name = 'class_conditional_unet';
  const rand = seededRandom(o.seed ?? 0);
  const U = new UNetBuilder(b, rand, groups, o.conditioning ?? 'scale-shift');

  const sample = b.input(UNET_IO.sample, 'float32', ['N', channels, size, size]);
  const t = b.input(UNET_IO.timestep, 'float32', ['N']);
  const cls = b.input(UNET_IO.classLabels, 'int64', ['N']);

  // Conditioning: time MLP + class embedding (row K = no condition), summed, then SiLU once.
  let temb = timestepFeatures(b, t, widths[0]!);
  temb = U.dense(U.silu(U.dense(temb, 'time_embedding.linear_1', embDim), 'time_embedding.act'), 'time_embedding.linear_2', embDim);
  const table: Tensor = (() => {
    const data = new Float32Array((classes + 1) * embDim);
    for (let i = 0; i < data.length; i++) data[i] = gaussian(rand);
    return { dtype: 'float32', dims: [classes + 1, embDim], data };
  })();
  const cemb = b.op('Gather', [b.initializer('class_embedding.weight', table), cls], { axis: 0 }, { name: 'class_embedding', outputs: ['class_embedding'] });
  const emb = U.silu(b.op('Add', [temb, cemb], {}, { name: 'embedding', outputs: ['embedding'] }), 'embedding_act');

  // Down path.
  let h = U.conv(p > 1 ? spaceToDepth(b, sample, channels, size, p) : sample, 'conv_in', widths[0]!);
  const skips: string[] = [];
  widths.forEach((w, level) => {
    for (let i = 0; i < blocks; i++) h = U.resBlock(h, emb, `down${level}.res${i}`, w);
    if (level < widths.length - 1) {
      skips.push(h);
      h = U.conv(h, `down${level}.downsample`, widths[level + 1]!, { stride: 2 });
    }
  });
  h = U.resBlock(h, emb, 'mid.res', widths[widths.length - 1]!);
  // Up path: upsample, conv, concatenate the skip of that resolution, residual blocks.
  for (let level = widths.length - 2; level >= 0; level--) {
    const up = b.op('Resize', [h, '', b.constant({ dtype: 'float32', dims: [4], data: Float32Array.of(1, 1, 2, 2) }, 'scales2')], { mode: 'nearest' });
    h = U.conv(up, `up${level}.upsample`, widths[level]!);
    h = b.op('Concat', [h, skips[level]!], { axis: 1 });
    for (let i = 0; i < blocks; i++) h = U.resBlock(h, emb, `up${level}.res${i}`, widths[level]!);
  }
  h = U.silu(U.groupNorm(h, 'norm_out'), 'act_out');
  const out = p > 1 ? depthToSpace(b, U.conv(h, 'conv_out', channels * p * p, { zero: true }), channels, size, p, UNET_IO.output) : U.conv(h, UNET_IO.output, channels, { zero: true });
  b.output(out);
  return b.build();
}
