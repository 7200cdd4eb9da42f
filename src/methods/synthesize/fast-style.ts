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
import { anySize, STYLE_NET_DEFAULTS, STYLE_NET_KEY, styleNet } from '../../models/zoo/style-net.js';
import { TEXTURE_CONTENT_LAYERS, textureLayers } from '../../models/zoo/texture-backbone.js';
import type { Checkpoint } from '../../training/checkpoint.js';
import { buildTrainingGraph } from '../../training/step.js';
import { fit, Trainer } from '../../training/trainer.js';
import type { JobOptions } from '../../engine/jobs.js';
import { checksum } from '../../util/checksum.js';
import { resizeImages } from './dream.js';
import { appendModelCopy, appendPreprocessing, gramMatrix } from './graph.js';
import { builtinTextureBackbone, lossWeightSettings, styleTargets } from './style.js';

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
  /** what the caller should tell the user (the loss rose: the network did not learn) */
  notes?: string[];
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

/** Where a style-training checkpoint keeps its run (see styleTrainingRun). */
const RUN_KEY = 'styleTrain';

/** The settings a style-training run records in its checkpoints; a resumed run must match them. */
export type StyleTrainSettings = Record<'size' | 'batch' | 'steps' | 'lr' | 'width' | 'blocks' | 'styleWeight' | 'contentWeight' | 'tvWeight' | 'styleScale' | 'seed', number> &
  Record<'styleLayers' | 'contentLayers', string[]>;

/** A run: its settings, and checksums of what it trains on (images are not in the checkpoint). */
export interface StyleTrainingRun {
  settings: StyleTrainSettings;
  styles: { name: string; checksum: string }[];
  content: string[];
  backbone: string;
}

function styleTrainingRun(o: StyleTrainOptions, backbone: Model, settings: StyleTrainSettings): StyleTrainingRun {
  return {
    settings,
    styles: o.styles.map((s) => ({ name: s.name, checksum: checksum(s.image.data) })),
    content: o.content.map((c) => checksum(c.data)),
    backbone: o.backbone ? backbone.name : '(built-in texture backbone)',
  };
}

/** The run a style-training checkpoint recorded (undefined for checkpoints written before runs were recorded). */
export function recordedStyleRun(checkpoint: Checkpoint): StyleTrainingRun | undefined {
  const extra = checkpoint.meta['extra'] as Record<string, unknown> | undefined;
  return extra?.[RUN_KEY] as StyleTrainingRun | undefined;
}

/**
 * Refuses to resume a checkpoint with other settings or images: the trainer replays the same
 * batches only for the same run, and another loss or learning rate would change the experiment
 * without a word.
 */
function checkSameRun(checkpoint: Checkpoint, run: StyleTrainingRun): void {
  const recorded = recordedStyleRun(checkpoint);
  if (!recorded) {
    // Only style checkpoints from before runs were recorded may lack one; a run another command
    // recorded would otherwise fail later on its data size, a message that points nowhere.
    const otherRuns = Object.keys((checkpoint.meta['extra'] as Record<string, unknown> | undefined) ?? {});
    if (otherRuns.length) {
      throw new ConvLensError(
        'INVALID_ARGUMENT',
        `The checkpoint is not a style-training checkpoint: it records a ${otherRuns[0]} run (another command's).`,
        'Pass the file that `convlens style-train --checkpoint` wrote, or leave out --resume to start a new run.',
      );
    }
    return;
  }
  const show = (v: unknown): string => (Array.isArray(v) ? v.join(',') : String(v));
  const differences: string[] = [];
  for (const [key, value] of Object.entries(run.settings)) {
    const then = recorded.settings[key as keyof StyleTrainSettings];
    if (show(value) !== show(then)) differences.push(`${key} ${show(value)} (the checkpoint's: ${show(then)})`);
  }
  const styleList = (styles: StyleTrainingRun['styles']): string => styles.map((s) => `${s.name}:${s.checksum}`).join(',');
  if (styleList(run.styles) !== styleList(recorded.styles)) differences.push(`style images ${run.styles.map((s) => s.name).join(', ')} (the checkpoint's: ${recorded.styles.map((s) => s.name).join(', ')}${run.styles.map((s) => s.name).join() === recorded.styles.map((s) => s.name).join() ? ', with other pixels' : ''})`);
  if (run.content.join() !== recorded.content.join()) differences.push(`${run.content.length} content images (the checkpoint's: ${recorded.content.length}${run.content.length === recorded.content.length ? ', with other pixels' : ''})`);
  if (run.backbone !== recorded.backbone) differences.push(`loss network ${run.backbone} (the checkpoint's: ${recorded.backbone})`);
  if (differences.length) {
    throw new ConvLensError(
      'INVALID_ARGUMENT',
      `Cannot resume: this run differs from the checkpoint's in ${differences.join('; ')}.`,
      'Resume with the same style and content images and settings (CLI: leave the settings out to take the checkpoint\'s), or start a new run without --resume.',
    );
  }
}

export async function trainStyleNet(engine: Engine, o: StyleTrainOptions): Promise<TrainedStyleNet> {
  const S = o.styles.length;
  if (!S) throw new ConvLensError('INVALID_ARGUMENT', 'No style images given.', 'Pass at least one style image (CLI: --style name=file).');
  // The names label the blend weights (figures, the studio's sliders): two alike leave no way to tell which weight is which.
  const repeated = o.styles.map((s) => s.name).find((name, i, names) => names.indexOf(name) !== i);
  if (repeated !== undefined) throw new ConvLensError('INVALID_ARGUMENT', `Two styles are named "${repeated}".`, 'Give each style its own name (CLI: --style name=file; a name left out is the file name without its folder and extension).');
  if (!o.content.length) throw new ConvLensError('INVALID_ARGUMENT', 'No content images to train on.', 'Pass photographs (CLI: --content).');
  const backbone = o.backbone ?? builtinTextureBackbone(engine);
  const builtin = !o.backbone;
  const styleLayers = o.styleLayers ?? (builtin ? textureLayers() : []);
  const contentLayers = o.contentLayers ?? (builtin ? TEXTURE_CONTENT_LAYERS : styleLayers.slice(-1));
  if (!styleLayers.length) throw new ConvLensError('INVALID_ARGUMENT', 'Which backbone layers carry the style?', 'Name them (CLI: --style-layers).');
  const size = o.size ?? 128;
  const B = o.batch ?? 4;
  const steps = o.steps ?? 2000;
  const seed = o.seed ?? 0;
  const sw = o.styleWeight ?? 1;
  const cw = o.contentWeight ?? 1;
  const tvw = o.tvWeight ?? 1;

  const run = styleTrainingRun(o, backbone, { size, batch: B, steps, lr: o.lr ?? 1e-3, width: o.width ?? STYLE_NET_DEFAULTS.width, blocks: o.blocks ?? STYLE_NET_DEFAULTS.blocks, styleWeight: sw, contentWeight: cw, tvWeight: tvw, styleScale: o.styleScale ?? 1, styleLayers, contentLayers, seed });
  if (o.resume) checkSameRun(o.resume, run);

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
  const trainer = new Trainer(engine, training, initial, {
    optimizer: { type: 'adam' },
    divergence: {
      settings: [
        { option: '--lr', what: 'learning rate', value: o.lr ?? 1e-3, usualMax: 1 },
        ...lossWeightSettings({ style: sw, content: cw, tv: tvw }),
      ],
    },
  });
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
      ...(o.checkpoint ? { checkpoint: { path: o.checkpoint, everySteps: o.checkpointEvery ?? 200, extra: () => ({ meta: { [RUN_KEY]: run } }) } } : {}),
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
  const notes = lossRose(history, o.lr ?? 1e-3);
  return { graph, styles: o.styles.map((s) => s.name), history, seconds: result.seconds, completed: result.completed, ...(notes ? { notes: [notes] } : {}) };
}

/**
 * Whether the perceptual loss ended higher than it began (means of the first and last tenth of
 * the steps), and what to do: a learning rate too high (--lr 1e9) left a network that paints
 * everything one colour, with a finite loss, and the run reported success.
 */
export function lossRose(history: readonly { loss: number }[], lr: number): string | undefined {
  const losses = history.map((h) => h.loss).filter(Number.isFinite);
  if (losses.length < 10) return undefined;
  const tenth = Math.max(1, Math.floor(losses.length / 10));
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  const first = mean(losses.slice(0, tenth));
  const last = mean(losses.slice(-tenth));
  if (!(last > first)) return undefined;
  const lower = lr > 1e-3 ? 'the default 0.001' : String(Number((lr / 10).toPrecision(2)));
  return `the loss rose from ${first.toPrecision(3)} to ${last.toPrecision(3)} over the run: the network did not learn (learning rate ${lr}). Train again with a lower --lr, e.g. ${lower}.`;
}

