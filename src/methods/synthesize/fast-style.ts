// Fast style transfer (Johnson et al. 2016; Dumoulin et al. 2017): train the image
// transformation network (zoo/style-net.ts) once with the perceptual loss, Gram matching of the
// backbone's features to each style plus feature matching to the input image, then stylize any
// image in one forward pass. One network holds several styles through conditional instance
// normalization; style weights blend them at inference. Training runs on the generic trainer
// (checkpoints, resume, progress, cancellation); the result exports as a plain ONNX model.
import { ConvLensError } from '../../engine/errors.js';
import { GraphBuilder } from '../../engine/graph/builder.js';
import type { Graph } from '../../engine/graph/ir.js';
import type { Engine } from '../../engine/runtime/engine.js';
import type { Tensor } from '../../engine/tensor.js';
import { seededRandom } from '../../models/init.js';
import type { Model } from '../../models/model.js';
import { anySize, STYLE_NET_KEY, styleNet } from '../../models/zoo/style-net.js';
import { TEXTURE_CONTENT_LAYERS, textureLayers } from '../../models/zoo/texture-backbone.js';
import type { Checkpoint } from '../../training/checkpoint.js';
import { buildTrainingGraph } from '../../training/step.js';
import { fit, Trainer } from '../../training/trainer.js';
import type { JobOptions } from '../../engine/jobs.js';
import { resizeImages } from './dream.js';
import { appendModelCopy, appendPreprocessing, gramMatrix } from './graph.js';
import { builtinTextureBackbone, styleTargets } from './style.js';

export interface StyleTrainOptions extends JobOptions {
  /** style images [1, 3, h, w] in [0, 1], with names */
  styles: { name: string; image: Tensor }[];
  /** content photographs [1, 3, h, w] in [0, 1] (any sizes): training crops are drawn from them */
  content: Tensor[];
  backbone?: Model;
  styleLayers?: string[];
  contentLayers?: string[];
  /** training crop size */
  size?: number;
  batch?: number;
  steps?: number;
  lr?: number;
  width?: number;
  blocks?: number;
  styleWeight?: number;
  contentWeight?: number;
  tvWeight?: number;
  styleScale?: number;
  seed?: number;
  checkpoint?: string;
  checkpointEvery?: number;
  resume?: Checkpoint;
  stopAtStep?: number;
}

export interface TrainedStyleNet {
  /** the trained network at any size: inputs `image` [N, 3, H, W] and `style` [N, S], output `stylized` */
  graph: Graph;
  styles: string[];
  history: { step: number; loss: number }[];
  seconds: number;
  completed: boolean;
}

/** Per-sample relative Gram distance, mean over the batch. */
function styleLoss(b: GraphBuilder, feat: string, target: string): string {
  const g = gramMatrix(b, feat);
  const d = b.op('Sub', [g, target]);
  const num = b.op('ReduceSum', [b.op('Mul', [d, d]), b.ints([1, 2])], { keepdims: 0 });
  const den = b.op('Add', [b.op('ReduceSum', [b.op('Mul', [target, target]), b.ints([1, 2])], { keepdims: 0 }), b.scalar(1e-12)]);
  return b.op('ReduceMean', [b.op('Div', [num, den])], { keepdims: 0 });
}

function contentLoss(b: GraphBuilder, f: string, t: string): string {
  const rank = b.shapeOf(f).length;
  const axes = b.ints(Array.from({ length: rank - 1 }, (_, i) => i + 1));
  const d = b.op('Sub', [f, t]);
  const num = b.op('ReduceSum', [b.op('Mul', [d, d]), axes], { keepdims: 0 });
  const den = b.op('Add', [b.op('ReduceSum', [b.op('Mul', [t, t]), axes], { keepdims: 0 }), b.scalar(1e-8)]);
  return b.op('ReduceMean', [b.op('Div', [num, den])], { keepdims: 0 });
}

function tvLoss(b: GraphBuilder, x: string): string {
  const [, , H, W] = b.staticShape(x) as [number, number, number, number];
  const dy = b.op('Sub', [b.op('Slice', [x, b.ints([1]), b.ints([H]), b.ints([2])]), b.op('Slice', [x, b.ints([0]), b.ints([H - 1]), b.ints([2])])]);
  const dx = b.op('Sub', [b.op('Slice', [x, b.ints([1]), b.ints([W]), b.ints([3])]), b.op('Slice', [x, b.ints([0]), b.ints([W - 1]), b.ints([3])])]);
  return b.op('Add', [b.op('ReduceMean', [b.op('Mul', [dy, dy])], { keepdims: 0 }), b.op('ReduceMean', [b.op('Mul', [dx, dx])], { keepdims: 0 })]);
}

/** A random square crop (random scale 0.6-1 of the shorter side, random flip) resized to `size`. */
function randomCrop(img: Tensor, size: number, rand: () => number, out: Float32Array, offset: number): void {
  const [, , h, w] = img.dims as [number, number, number, number];
  const side = Math.max(8, Math.floor(Math.min(h, w) * (0.6 + 0.4 * rand())));
  const y0 = Math.floor(rand() * (h - side + 1));
  const x0 = Math.floor(rand() * (w - side + 1));
  const flip = rand() < 0.5;
  const crop = new Float32Array(3 * side * side);
  const d = img.data as Float32Array;
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < side; y++)
      for (let x = 0; x < side; x++) crop[(c * side + y) * side + x] = d[(c * h + y0 + y) * w + x0 + (flip ? side - 1 - x : x)]!;
  out.set(resizeImages(crop, [1, 3, side, side], size, size), offset);
}

export async function trainStyleNet(engine: Engine, o: StyleTrainOptions): Promise<TrainedStyleNet> {
  const S = o.styles.length;
  if (!S) throw new ConvLensError('INVALID_ARGUMENT', 'No style images given.', 'Pass at least one style image (CLI: --style name=file).');
  if (!o.content.length) throw new ConvLensError('INVALID_ARGUMENT', 'No content images to train on.', 'Pass photographs (--content).');
  const backbone = o.backbone ?? builtinTextureBackbone(engine);
  const builtin = !o.backbone;
  const styleLayers = o.styleLayers ?? (builtin ? textureLayers() : []);
  const contentLayers = o.contentLayers ?? (builtin ? TEXTURE_CONTENT_LAYERS : styleLayers.slice(-1));
  if (!styleLayers.length) throw new ConvLensError('INVALID_ARGUMENT', 'Which backbone layers carry the style?', 'Name them (--style-layers).');
  const size = o.size ?? 128;
  const B = o.batch ?? 4;
  const steps = o.steps ?? 2000;
  const seed = o.seed ?? 0;
  const sw = o.styleWeight ?? 1;
  const cw = o.contentWeight ?? 1;
  const tvw = o.tvWeight ?? 1;

  // Gram targets per style and layer, at the training size.
  const targets: Tensor[][] = [];
  for (const s of o.styles) targets.push(await styleTargets(backbone, [{ image: s.image }], styleLayers, [size, size], o.styleScale ?? 1));

  const net = styleNet({ styles: S, size, ...(o.width ? { width: o.width } : {}), ...(o.blocks ? { blocks: o.blocks } : {}), seed });
  const fixed = net.clone();
  fixed.inputs = fixed.inputs.map((i) => (i.name === 'image' ? { ...i, shape: [B, 3, size, size] } : i.name === 'style' ? { ...i, shape: [B, S] } : i));
  fixed.valueInfo.clear();
  const prep = backbone.meta.preprocessing;
  const targetInputs: string[] = [];
  const parts: string[] = [];
  const training = buildTrainingGraph(fixed, {
    batchNorm: 'inference',
    frozen: (name) => name.startsWith('backbone/'),
    loss: (b, prediction) => {
      const po = appendPreprocessing(b, prediction, 3, prep, 3);
      const px = appendPreprocessing(b, 'image', 3, prep, 3);
      const fo = appendModelCopy(b, backbone, po, [...new Set([...styleLayers, ...contentLayers])], 'out/', 'backbone/');
      const fx = appendModelCopy(b, backbone, px, contentLayers, 'in/', 'backbone/');
      const styleTerms = styleLayers.map((l, i) => {
        const C = b.staticShape(fo[l]!)[1]!;
        const t = b.input(`gram_target:${l}`, 'float32', [B, C, C]);
        targetInputs[i] = t;
        return styleLoss(b, fo[l]!, t);
      });
      const style = b.op('Mul', [b.op('Sum', styleTerms), b.scalar(sw / styleLayers.length)], {}, { outputs: ['loss:style'] });
      const content = b.op('Mul', [b.op('Sum', contentLayers.map((l) => contentLoss(b, fo[l]!, fx[l]!))), b.scalar(cw / contentLayers.length)], {}, { outputs: ['loss:content'] });
      const tv = b.op('Mul', [tvLoss(b, prediction), b.scalar(tvw)], {}, { outputs: ['loss:tv'] });
      parts.push(style, content, tv);
      return b.op('Sum', [style, content, tv]);
    },
    outputs: ['loss:style', 'loss:content', 'loss:tv'],
  });
  const initial = new Map(fixed.initializers);
  const trainer = new Trainer(engine, training, initial, { optimizer: { type: 'adam' } });
  const history: TrainedStyleNet['history'] = [];
  const per = 3 * size * size;
  const data = {
    size: steps * B,
    batch(_indices: Int32Array, step: number): Record<string, Tensor> {
      const rand = seededRandom((Math.imul(seed + 1, 0x9e3779b1) ^ Math.imul(step + 1, 0x85ebca6b)) >>> 0);
      const x = new Float32Array(B * per);
      const style = new Float32Array(B * S);
      const which: number[] = [];
      for (let i = 0; i < B; i++) {
        randomCrop(o.content[Math.floor(rand() * o.content.length)]!, size, rand, x, i * per);
        const s = (step * B + i) % S;
        style[i * S + s] = 1;
        which.push(s);
      }
      const feeds: Record<string, Tensor> = { image: { dtype: 'float32', dims: [B, 3, size, size], data: x }, style: { dtype: 'float32', dims: [B, S], data: style } };
      styleLayers.forEach((_, li) => {
        const t0 = targets[0]![li]!;
        const CC = t0.data.length;
        const buf = new Float32Array(B * CC);
        which.forEach((s, i) => buf.set(targets[s]![li]!.data as Float32Array, i * CC));
        feeds[targetInputs[li]!] = { dtype: 'float32', dims: [B, t0.dims[1]!, t0.dims[2]!], data: buf };
      });
      return feeds;
    },
    score(out: Record<string, Tensor>): Record<string, number> {
      const v = (k: string): number => (out[k]!.data as Float32Array)[0]! * B;
      return { style: v('loss:style'), content: v('loss:content'), tv: v('loss:tv') };
    },
  };
  const result = await fit(
    trainer,
    data,
    { epochs: 1, batchSize: B, seed, shuffle: false, lr: o.lr ?? 1e-3 },
    {
      ...(o.signal ? { signal: o.signal } : {}),
      onProgress: (p) => {
        history.push({ step: p.done, loss: p.metrics?.['loss'] ?? NaN });
        o.onProgress?.({ ...p, phase: 'training the style network' });
      },
      ...(o.checkpoint ? { checkpoint: { path: o.checkpoint, everySteps: o.checkpointEvery ?? 200 } } : {}),
      ...(o.resume ? { resume: o.resume } : {}),
      ...(o.stopAtStep !== undefined ? { stopAtStep: o.stopAtStep } : {}),
    },
  );
  const trained = net.clone();
  for (const [name, t] of trainer.state()) if (trained.initializers.has(name)) trained.initializers.set(name, { dtype: 'float32', dims: [...t.dims], data: Float32Array.from(t.data as Float32Array) });
  await trainer.dispose();
  const graph = anySize(trained);
  const meta = JSON.parse(graph.metadata.get(STYLE_NET_KEY)!) as Record<string, unknown>;
  graph.metadata.set(
    STYLE_NET_KEY,
    JSON.stringify({ ...meta, styleNames: o.styles.map((s) => s.name), training: { steps, batch: B, size, lr: o.lr ?? 1e-3, styleWeight: sw, contentWeight: cw, tvWeight: tvw, styleLayers, contentLayers, backbone: backbone.name, seed } }),
  );
  return { graph, styles: o.styles.map((s) => s.name), history, seconds: result.seconds, completed: result.completed };
}

