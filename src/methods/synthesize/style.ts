// Texture synthesis and neural style transfer by optimization (Gatys, Ecker & Bethge 2015/2016):
// match the Gram matrices of a style image's features over several layers (texture), and
// optionally a content image's features at some layers (style transfer); total variation
// smooths. Several styles blend by weighting their Gram matrices; the style scale resizes the
// style image relative to the output; "keep original colours" (Gatys et al. 2016, "Preserving
// Color in Neural Artistic Style Transfer") puts the result's luminance on the content's colours.
import { ConvLensError } from '../../engine/errors.js';
import type { Tensor } from '../../engine/tensor.js';
import type { Engine } from '../../engine/runtime/engine.js';
import { gaussian, seededRandom } from '../../models/init.js';
import { Model } from '../../models/model.js';
import { TEXTURE_CONTENT_LAYERS, textureBackbone, textureLayers } from '../../models/zoo/texture-backbone.js';
import type { JobOptions } from '../../engine/jobs.js';
import { resizeImages } from './dream.js';
import { extractFeatures, SynthesisSession } from './graph.js';
import { featureMatch, gramMatch, sum, tv, weighted, type Objective } from './objectives.js';
import { ascend, type AscentOptions, type Frame, type OptimizerName } from './optimize.js';
import { pixelParam } from './params.js';
import type { DivergenceSetting } from '../../training/divergence.js';

const backbones = new WeakMap<Engine, Model>();

/** The built-in random multi-scale texture backbone (one per engine). */
/**
 * The weights of the style loss as settings that can blow an optimization up. The CLI takes them
 * up to MAX_LOSS_WEIGHT; far above the usual range they swamp float32 before anything is learnt.
 */
export function lossWeightSettings(w: { style: number; content: number; tv: number }): DivergenceSetting[] {
  const usualMax = 1e4;
  return [
    { option: '--style-weight', what: 'style weight', value: w.style, usualMax },
    ...(w.content ? [{ option: '--content-weight', what: 'content weight', value: w.content, usualMax }] : []),
    { option: '--tv-weight', what: 'TV weight', value: w.tv, usualMax },
  ];
}

/** The largest loss weight `style` and `style-train` take: a million times the defaults still runs in float32. */
export const MAX_LOSS_WEIGHT = 1e6;

export function builtinTextureBackbone(engine: Engine): Model {
  let m = backbones.get(engine);
  if (!m) backbones.set(engine, (m = new Model(textureBackbone(), engine, 'texture-backbone', undefined, { classMap: 'keep' })));
  return m;
}

export interface StyleImage {
  /** [1, 3, h, w] in [0, 1] */
  image: Tensor;
  /** blend weight (normalized over the styles) */
  weight?: number;
}

/**
 * Why a model cannot be the feature network of style transfer, or undefined when it can: Gram
 * statistics of colour textures need an RGB model with at least two spatial layers to match.
 */
export function backboneProblem(model: Model): string | undefined {
  const p = model.profile;
  if (p.input.channels !== 3) return `model "${model.name}" takes ${p.input.kind === 'gray' ? 'gray' : `${p.input.channels}-channel`} images, and colour styles need an RGB network`;
  if (p.styleLayers.length < 2) return `model "${model.name}" has ${p.styleLayers.length} spatial layer${p.styleLayers.length === 1 ? '' : 's'} before global pooling to take style statistics from; two or more are needed`;
  return undefined;
}

export interface StyleOptions extends JobOptions, Pick<AscentOptions, 'onFrame'> {
  /** the network whose features are matched (default: the built-in random texture backbone); its profile's style and content layers are the default layers */
  backbone?: Model;
  /** content image [1, 3, H, W] in [0, 1]; without it, texture synthesis */
  content?: Tensor;
  styles: StyleImage[];
  /** output size (default: the content's, or the first style's for textures) */
  size?: [number, number];
  styleLayers?: string[];
  /** per style layer (default: equal) */
  styleLayerWeights?: number[];
  contentLayers?: string[];
  /** default: 0.03 on a model backbone, 0.1 on the texture network (with a content image) */
  contentWeight?: number;
  styleWeight?: number;
  tvWeight?: number;
  /** style images are resized so their longer side is this times the output's longer side */
  styleScale?: number;
  keepColors?: boolean;
  optimizer?: OptimizerName;
  steps?: number;
  lr?: number;
  /** start: the content image (default with content), noise (default without), or the (first) style */
  init?: 'content' | 'noise' | 'style';
  seed?: number;
  /** intermediate images kept */
  frames?: number;
}

export interface StyleResult {
  image: Tensor;
  frames: Frame[];
  history: { step: number; value: number; terms: Record<string, number> }[];
  params: Record<string, unknown>;
}

function resizeTo(t: Tensor, H: number, W: number): Tensor {
  const [n, c, h, w] = t.dims as number[];
  if (h === H && w === W) return t;
  return { dtype: 'float32', dims: [n!, c!, H, W], data: resizeImages(t.data as Float32Array, t.dims, H, W) };
}

function rgb(t: Tensor, what: string): Tensor {
  const [n, c, h, w] = t.dims as number[];
  if (n !== 1) throw new ConvLensError('INVALID_ARGUMENT', `The ${what} must be one image, got ${n}.`, `Pass the ${what} as a single image [1, C, H, W].`);
  if (c === 3) return t;
  if (c !== 1) throw new ConvLensError('INVALID_ARGUMENT', `The ${what} has ${c} channels.`, `Pass the ${what} as a gray (1-channel) or RGB (3-channel) image.`);
  const data = new Float32Array(3 * h! * w!);
  for (let k = 0; k < 3; k++) data.set(t.data as Float32Array, k * h! * w!);
  return { dtype: 'float32', dims: [1, 3, h!, w!], data };
}

/** Y of YIQ from one image and I, Q from another (same size), as Gatys et al. 2016 / neural-style's -original_colors. */
export function transferLuminance(result: Float32Array, colours: Float32Array, plane: number): Float32Array {
  const out = new Float32Array(result.length);
  for (let p = 0; p < plane; p++) {
    const [r, g, b] = [result[p]!, result[plane + p]!, result[2 * plane + p]!];
    const [cr, cg, cb] = [colours[p]!, colours[plane + p]!, colours[2 * plane + p]!];
    const y = 0.299 * r + 0.587 * g + 0.114 * b;
    const i = 0.596 * cr - 0.274 * cg - 0.322 * cb;
    const q = 0.211 * cr - 0.523 * cg + 0.312 * cb;
    out[p] = Math.min(1, Math.max(0, y + 0.956 * i + 0.621 * q));
    out[plane + p] = Math.min(1, Math.max(0, y - 0.272 * i - 0.647 * q));
    out[2 * plane + p] = Math.min(1, Math.max(0, y - 1.106 * i + 1.703 * q));
  }
  return out;
}

/** Target Gram matrices per layer: the styles' Grams blended by their weights. */
export async function styleTargets(backbone: Model, styles: StyleImage[], layers: string[], outSize: [number, number], styleScale = 1): Promise<Tensor[]> {
  const total = styles.reduce((a, s) => a + (s.weight ?? 1), 0);
  if (!(total > 0)) throw new ConvLensError('INVALID_ARGUMENT', 'Style blend weights must add up to more than 0.', 'Give at least one style a weight above 0 (CLI: --style file:w).');
  const blended: Float32Array[] = [];
  let dims: number[][] = [];
  for (const s of styles) {
    const img = rgb(s.image, 'style image');
    const [, , h, w] = img.dims as number[];
    const k = (styleScale * Math.max(outSize[0], outSize[1])) / Math.max(h!, w!);
    const sized = resizeTo(img, Math.max(16, Math.round(h! * k)), Math.max(16, Math.round(w! * k)));
    const grams = await extractFeatures(backbone, sized, layers.map((layer) => ({ layer, gram: true })));
    dims = grams.map((g) => [...g.dims]);
    grams.forEach((g, i) => {
      const acc = (blended[i] ??= new Float32Array(g.data.length));
      const wgt = (s.weight ?? 1) / total;
      for (let q = 0; q < acc.length; q++) acc[q]! += wgt * (g.data as Float32Array)[q]!;
    });
  }
  return blended.map((data, i) => ({ dtype: 'float32', dims: dims[i]!, data }));
}

export async function styleTransfer(engine: Engine, o: StyleOptions): Promise<StyleResult> {
  const t0 = performance.now();
  if (!o.styles.length) throw new ConvLensError('INVALID_ARGUMENT', 'No style image given.', 'Pass at least one style (texture) image.');
  const backbone = o.backbone ?? builtinTextureBackbone(engine);
  const builtin = !o.backbone;
  if (o.backbone && !o.styleLayers) {
    const problem = backboneProblem(o.backbone);
    if (problem) throw new ConvLensError('MODEL_UNSUPPORTED', `Model "${o.backbone.name}" cannot be the style network: ${problem}.`, 'Use an RGB CNN (e.g. SqueezeNet; CLI: --model squeezenet), the random texture network (CLI: --backbone texture), or name the layers (CLI: --style-layers).');
  }
  const styleLayers = (o.styleLayers ?? (builtin ? textureLayers() : backbone.profile.styleLayers)).map((l) => backbone.resolveLayer(l));
  if (!styleLayers.length) throw new ConvLensError('INVALID_ARGUMENT', 'Which layers carry the style?', 'Name them (CLI: --style-layers): early-to-mid convolutional layers, e.g. the first of each resolution.');
  // Gram matrices are taken over positions: a layer without them (the logits) gave a NaN size.
  for (const l of styleLayers) {
    const shape = backbone.facts(l).shape;
    if (shape?.length !== 4) throw new ConvLensError('INVALID_ARGUMENT', `Style layer "${l}" has shape [${shape?.join(', ') ?? '?'}]; style statistics need a feature map [N, C, H, W].`, 'Name convolutional layers (`convlens summary` lists them), early to mid, e.g. the first of each resolution.');
  }
  const content = o.content ? rgb(o.content, 'content image') : undefined;
  const contentLayers = (o.contentLayers ?? (builtin ? TEXTURE_CONTENT_LAYERS : backbone.profile.contentLayers.length ? backbone.profile.contentLayers : styleLayers.slice(-1))).map((l) => backbone.resolveLayer(l));
  const first = rgb(o.styles[0]!.image, 'style image');
  const [H, W] = o.size ?? (content ? [content.dims[2]!, content.dims[3]!] : [first.dims[2]!, first.dims[3]!]);
  const contentSized = content ? resizeTo(content, H, W) : undefined;
  const shape = { batch: 1, channels: 3 as const, height: H, width: W };

  const grams = await styleTargets(backbone, o.styles, styleLayers, [H, W], o.styleScale ?? 1);
  const lw = o.styleLayerWeights ?? styleLayers.map(() => 1);
  const lsum = lw.reduce((a, b) => a + b, 0);
  const sw = o.styleWeight ?? 1;
  const terms: Objective[] = styleLayers.map((l, i) => weighted((sw * lw[i]!) / lsum, gramMatch(l, grams[i]!, 'style')));
  // A trained network's deep features hold the content firmly, the random texture network's loosely.
  const cw = o.contentWeight ?? (content ? (builtin ? 0.1 : 0.03) : 0);
  if (contentSized && cw > 0) {
    const feats = await extractFeatures(backbone, contentSized, contentLayers.map((layer) => ({ layer })));
    contentLayers.forEach((l, i) => terms.push(weighted(cw / contentLayers.length, featureMatch(l, feats[i]!, 'content'))));
  }
  const tvw = o.tvWeight ?? 0.5;
  if (tvw > 0) terms.push(weighted(tvw, tv(2)));
  const param = pixelParam({ range: 'clip' });
  const session = await SynthesisSession.create({ model: backbone, shape, param, objective: sum(...terms) });

  const init = o.init ?? (content ? 'content' : 'noise');
  let theta: Float32Array;
  if (init === 'content') {
    if (!contentSized) throw new ConvLensError('INVALID_ARGUMENT', 'init "content" needs a content image.', 'Name a content image (CLI: the [content] argument), or start from noise or the style (CLI: --init noise or --init style).');
    theta = Float32Array.from(contentSized.data as Float32Array);
  } else if (init === 'style') theta = Float32Array.from(resizeTo(first, H, W).data as Float32Array);
  else {
    const rand = seededRandom(o.seed ?? 0);
    theta = Float32Array.from({ length: 3 * H * W }, () => Math.min(1, Math.max(0, 0.5 + 0.2 * gaussian(rand))));
  }
  const optimizer = o.optimizer ?? 'lbfgs';
  const steps = o.steps ?? (optimizer === 'lbfgs' ? 100 : 300);
  const r = await ascend(session, theta, {
    steps,
    lr: o.lr ?? (optimizer === 'lbfgs' ? 1 : 0.02),
    optimizer,
    frames: o.frames ?? 6,
    phase: content ? 'style transfer' : 'texture synthesis',
    divergence: [
      ...(o.lr !== undefined ? [{ option: '--lr', what: optimizer === 'lbfgs' ? 'first-step scale' : 'learning rate', value: o.lr, usualMax: 10 }] : []),
      ...lossWeightSettings({ style: sw, content: content ? cw : 0, tv: tvw }),
    ],
    ...(o.signal ? { signal: o.signal } : {}),
    ...(o.onProgress ? { onProgress: o.onProgress } : {}),
    // with keepColors a frame is told as the result will show it, in the content's colours
    ...(o.onFrame ? { onFrame: o.keepColors && contentSized ? (f, shape) => o.onFrame!({ ...f, image: transferLuminance(f.image, contentSized.data as Float32Array, H * W) }, shape) : o.onFrame } : {}),
  });
  let image = r.image;
  if (o.keepColors && contentSized) {
    image = transferLuminance(image, contentSized.data as Float32Array, H * W);
    for (const f of r.frames) f.image = transferLuminance(f.image, contentSized.data as Float32Array, H * W);
  }
  return {
    image: { dtype: 'float32', dims: [1, 3, H, W], data: image },
    frames: r.frames,
    history: r.history,
    params: {
      backbone: builtin ? 'texture (random multi-scale filters)' : backbone.name,
      size: [H, W],
      styleLayers,
      styleLayerWeights: lw,
      contentLayers: content ? contentLayers : [],
      contentWeight: content ? cw : 0,
      styleWeight: sw,
      tvWeight: tvw,
      styleScale: o.styleScale ?? 1,
      blend: o.styles.map((s) => s.weight ?? 1),
      keepColors: !!o.keepColors,
      optimizer,
      steps,
      init,
      seed: o.seed ?? 0,
      ms: Math.round(performance.now() - t0),
    },
  };
}
