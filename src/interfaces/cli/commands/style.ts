import type { Command } from 'commander';
import { ConvLensError } from '../../../engine/errors.js';
import type { Tensor } from '../../../engine/tensor.js';
import { readFileOrExplain } from '../../../io/files.js';
import { encodePng } from '../../../io/image.js';
import { loadModel } from '../../../models/load.js';
import { Model } from '../../../models/model.js';
import { textureBackbone } from '../../../models/zoo/texture-backbone.js';
import { loadStyleNet, styleNetInfo, stylize } from '../../../methods/synthesize/stylize.js';
import { parseNamedImage, readImageTensor, summaryJson } from '../../../methods/synthesize/io.js';
import type { OptimizerName } from '../../../methods/synthesize/optimize.js';
import { displaySize, encodeGif, tensorImage, toRaw } from '../../../methods/synthesize/render.js';
import { backboneProblem, MAX_LOSS_WEIGHT, styleTransfer } from '../../../methods/synthesize/style.js';
import { gridFigure } from '../../../render/grid.js';
import { resizeImage as resize } from '../../../render/heatmap.js';
import { applyDescription, choiceOption, cliJob, commaList, type CommonOptions, createEngine, imageSize, intIn, MAX_SIDE, MAX_THREADS, memoryNoteText, modelInfo, numberIn, outPath, positiveNumber, seedNumber, threadCount, warner, withModelOptions } from '../common.js';
import { onlyWith, optionRules } from '../option-rules.js';
import { defaultOut, OutputFiles } from '../output.js';

/** The feature network style transfer uses when --model is not given: the Fashion-MNIST default is gray and cannot judge colour textures. */
const STYLE_DEFAULT_MODEL = 'squeezenet';

interface StyleCli extends CommonOptions {
  backbone: string;
  style: string[];
  out: string;
  net?: string;
  blend?: string;
  size?: [number, number];
  maxSide: number;
  styleScale: number;
  styleLayers?: string;
  contentLayers?: string;
  styleWeight: number;
  contentWeight?: number;
  tvWeight?: number;
  keepColors?: boolean;
  optimizer: string;
  steps?: number;
  lr?: number;
  init?: string;
  seed: number;
  frames: number;
  json?: boolean;
}


const lossWeight = numberIn(0, MAX_LOSS_WEIGHT);

/** A texture's size when neither --size nor a content image gives one. */
const TEXTURE_SIZE: [number, number] = [256, 256];

export function define(command: Command): void {
  optionRules(command, [
    ...onlyWith({ when: 'with --net', add: 'add --net style.onnx (made by convlens style-train)' }, (opts) => opts['net'] !== undefined, 'blend'),
    ...onlyWith(
      { when: 'without --net', why: 'a fast style network holds its own styles and runs in one pass', add: 'leave out --net' },
      (opts) => opts['net'] === undefined,
      'model', 'style', 'styleScale', 'backbone', 'styleLayers', 'contentLayers', 'styleWeight', 'contentWeight', 'tvWeight', 'keepColors', 'optimizer', 'steps', 'lr', 'init', 'seed', 'frames',
    ),
    ...onlyWith({ when: 'with --backbone model', why: '--backbone texture uses the built-in random network', add: 'use --backbone model' }, (opts) => opts['backbone'] !== 'texture', 'model'),
    ...onlyWith({ when: 'with a content image', add: 'name a content image' }, (_, args) => args[0] !== undefined, 'contentLayers', 'contentWeight', 'keepColors'),
  ]);
  withModelOptions(command, `the feature network whose Gram matrices are matched: an RGB ONNX CNN or a built-in name (default: ${STYLE_DEFAULT_MODEL}); its profile gives the style and content layers`)
    .addHelpText('after', `\nExamples:\n  convlens style samples/photos/chelsea.png --style samples/textures/gravel.png            # SqueezeNet features\n  convlens style --style samples/textures/brick.png --size 192 --backbone texture       # texture synthesis, random network\n  convlens style photo.png --style starry.png --model vgg19.onnx --style-layers a,b,c --content-layers d\n  convlens style samples/photos/chelsea.png --net assets/models/style/fast-style.onnx`)
    .argument('[content]', 'content image (leave out for texture synthesis)')
    .option('--style <file[:w]>', 'style image(s), with blend weights after a colon (repeat or comma-separate)', commaList, [])
    .option('-o, --out <dir>', 'output folder', outPath, defaultOut('style'))
    .option('--net <file.onnx>', 'a fast style network from `convlens style-train`: stylize in one forward pass')
    .option('--blend <weights>', 'with --net: style weights, e.g. 1,0 or 0.5,0.5; several sets separated by ";"')
    .option('--size <HxW>', 'output size (default: the content, scaled to --max-side; textures: 256)', imageSize)
    .option('--max-side <px>', `longer side the content is resized to (16-${MAX_SIDE})`, intIn(16, MAX_SIDE), 384)
    .option('--style-scale <f>', 'style image longer side relative to the output\'s (0.1-4)', numberIn(0.1, 4), 1)
    .option('--backbone <kind>', 'model: the --model is the feature network (default); texture: the built-in random multi-scale texture network (no training, no --model)', 'model')
    .option('--style-layers <names>', 'layers whose Gram matrices are matched (comma-separated; default: the model profile\'s style layers)')
    .option('--content-layers <names>', 'layers whose features are matched to the content (default: the model profile\'s content layer)')
    .option('--style-weight <w>', `style weight (0-${MAX_LOSS_WEIGHT})`, lossWeight, 1)
    .option('--content-weight <w>', `content weight (0-${MAX_LOSS_WEIGHT}; default with a content image: 0.03 on a model, 0.1 on the texture network)`, lossWeight)
    .option('--tv-weight <w>', `total-variation weight (0-${MAX_LOSS_WEIGHT}, default 0.5)`, lossWeight)
    .option('--keep-colors', 'keep the content image\'s colours (luminance transfer, Gatys et al. 2016)')
    .addOption(choiceOption('--optimizer <name>', 'lbfgs or adam', ['lbfgs', 'adam'], 'lbfgs'))
    .option('--steps <n>', 'iterations (1-100000; default 100 for L-BFGS, 300 for Adam)', intIn(1, 100_000))
    .option('--lr <lr>', 'learning rate (Adam) or first-step scale (L-BFGS)', positiveNumber)
    .option('--init <how>', 'content (default with content), noise (default for textures) or style')
    .option('--seed <n>', 'random seed (noise start)', seedNumber, 0)
    .option('--frames <n>', 'intermediate images saved (1-256)', intIn(1, 256), 6)
    .option('--threads <n>', `ONNX Runtime intra-op threads (1-${MAX_THREADS}; default: one per CPU)`, threadCount)
    .option('-q, --quiet', 'no warnings or progress bar')
    .option('--json', 'print the summary JSON')
    .action(async (content: string | undefined, opts: StyleCli) => {
      const out = new OutputFiles(opts.out);
      out.keepInputs([content, opts.net, ...opts.style.map((s) => parseNamedImage(s).path)], ['result.png', 'figure.png', 'strip.png', 'optimization.gif', 'summary.json']);
      const engine = createEngine(opts);
      const job = cliJob(opts, 'style');
      out.stopOn(job.signal);
      try {
        const size = opts.size;
        const contentImg = content ? await readImageTensor(content, 3, size ? { size } : { maxSide: opts.maxSide }) : undefined;
        if (opts.net) {
          if (!contentImg) throw new ConvLensError('INVALID_ARGUMENT', 'A fast style network needs a content image.', 'convlens style photo.jpg --net style.onnx');
          const g = loadStyleNet(readFileOrExplain(opts.net, 'style network'), `"${opts.net}"`);
          const info = styleNetInfo(g);
          const sets = opts.blend ? parseBlend(opts.blend, info.names) : info.names.map((_, k) => info.names.map((__, j) => (j === k ? 1 : 0)));
          const results: { weights: number[]; file: string; ms: number }[] = [];
          const tiles = [];
          for (const w of sets) {
            const t0 = performance.now();
            const y = await stylize(engine, g, contentImg, w);
            const ms = performance.now() - t0;
            const file = `stylized-${w.join('_')}.png`;
            out.write(file, await encodePng(tensorImage(y)));
            results.push({ weights: w, file, ms: Math.round(ms) });
            tiles.push(displaySize(tensorImage(y), 256));
          }
          const label = (w: number[]): string => w.map((v, k) => (v ? `${v === 1 ? '' : `${v} `}${info.names[k]}` : '')).filter(Boolean).join(' + ');
          out.write('result.png', await gridFigure({ columns: ['content', ...sets.map(label)], rows: [{ lines: [], cells: [displaySize(tensorImage(contentImg), 256), ...tiles] }] }));
          job.done();
          const text = summaryJson({ command: 'style', mode: 'fast', net: opts.net, styles: info.names, content, size: contentImg.dims.slice(2), results });
          out.write('summary.json', text);
          if (opts.json) process.stdout.write(text);
          out.report(opts);
          return;
        }
        if (!opts.style.length) throw new ConvLensError('INVALID_ARGUMENT', 'No style image.', 'Pass --style file.png (several: --style a.png:0.7,b.png:0.3).');
        const styles = await Promise.all(opts.style.map(async (s) => {
          const p = parseNamedImage(s);
          return { name: p.name, image: await readImageTensor(p.path, 3, { maxSide: 1024 }), weight: p.weight };
        }));
        if (opts.backbone !== 'model' && opts.backbone !== 'texture') throw new ConvLensError('INVALID_ARGUMENT', `Unknown backbone "${opts.backbone}".`, 'Use --backbone model (the --model, default squeezenet) or --backbone texture (the random texture network).');
        const backbone = opts.backbone === 'model' ? loadModel(opts.model ?? STYLE_DEFAULT_MODEL, engine, opts.outputKind ? { outputKind: opts.outputKind } : {}) : undefined;
        backbone?.requireFloatComputation();
        if (backbone) {
          applyDescription(backbone, opts);
          const problem = opts.styleLayers ? undefined : backboneProblem(backbone);
          if (problem) throw new ConvLensError('MODEL_UNSUPPORTED', `Model "${backbone.name}" cannot be the style network: ${problem}.`, `Use --model ${STYLE_DEFAULT_MODEL} (the default) or another RGB CNN, or --backbone texture for the random texture network.`);
        }
        const outSize = size ?? (contentImg ? ([contentImg.dims[2]!, contentImg.dims[3]!] as [number, number]) : TEXTURE_SIZE);
        // the random texture network is planned like any model (shape inference only; it runs inside styleTransfer)
        const heavy = memoryNoteText('Style transfer', backbone ?? new Model(textureBackbone(), engine, 'the texture network', undefined, { classMap: 'keep' }), outSize);
        if (heavy) warner(opts, 'note')(heavy);
        const r = await styleTransfer(engine, {
          ...(backbone ? { backbone } : {}),
          ...(contentImg ? { content: contentImg } : {}),
          styles: styles.map((s) => ({ image: s.image, weight: s.weight })),
          ...(size ? { size } : contentImg ? {} : { size: TEXTURE_SIZE }),
          ...(opts.styleLayers ? { styleLayers: opts.styleLayers.split(',') } : {}),
          ...(opts.contentLayers ? { contentLayers: opts.contentLayers.split(',') } : {}),
          styleWeight: opts.styleWeight,
          ...(opts.contentWeight !== undefined ? { contentWeight: opts.contentWeight } : {}),
          ...(opts.tvWeight !== undefined ? { tvWeight: opts.tvWeight } : {}),
          styleScale: opts.styleScale,
          keepColors: !!opts.keepColors,
          optimizer: opts.optimizer as OptimizerName,
          ...(opts.steps ? { steps: opts.steps } : {}),
          ...(opts.lr ? { lr: opts.lr } : {}),
          ...(opts.init ? { init: opts.init as 'content' | 'noise' | 'style' } : {}),
          seed: opts.seed,
          frames: opts.frames,
          signal: job.signal!,
          onProgress: job.onProgress!,
        });
        job.done();
        out.write('result.png', await encodePng(tensorImage(r.image)));
        const stepFiles: string[] = [];
        for (const f of r.frames) {
          const file = `step-${String(f.step).padStart(4, '0')}.png`;
          out.write(file, await encodePng(toRaw(f.image, r.image.dims)));
          stepFiles.push(file);
        }
        const tile = 200;
        const inputs: Tensor[] = [...(contentImg ? [contentImg] : []), ...styles.map((s) => s.image)];
        const heads = [...(contentImg ? ['content'] : []), ...styles.map((s) => `style: ${s.name}${styles.length > 1 ? ` (${s.weight})` : ''}`), 'result'];
        out.write('figure.png', await gridFigure({ columns: heads, rows: [{ lines: [], cells: [...inputs.map((t) => displaySize(tensorImage(t), tile)), displaySize(tensorImage(r.image), tile)].map((c) => fit(c, tile)) }] }));
        out.write('strip.png', await gridFigure({ columns: r.frames.map((f) => `step ${f.step}`), rows: [{ lines: [], cells: r.frames.map((f) => fit(toRaw(f.image, r.image.dims), 160)) }] }));
        out.write('optimization.gif', encodeGif(r.frames.map((f) => fit(toRaw(f.image, r.image.dims), 256)), 200, 1200));
        const model = backbone ? modelInfo(backbone, { ...opts, model: opts.model ?? STYLE_DEFAULT_MODEL }) : { name: 'texture', file: 'built-in', builtin: 'texture (random multi-scale filters, src/models/zoo/texture-backbone.ts)' };
        const text = summaryJson({ command: 'style', mode: contentImg ? 'transfer' : 'texture', model, content: content ?? null, styles: styles.map((s) => ({ name: s.name, weight: s.weight })), params: r.params, loss: r.history.filter((_, i) => i % 10 === 0 || i === r.history.length - 1).map((h) => ({ step: h.step, loss: -h.value, ...Object.fromEntries(Object.entries(h.terms).map(([k, v]) => [k, -v])) })), files: { result: 'result.png', figure: 'figure.png', strip: 'strip.png', gif: 'optimization.gif', steps: stepFiles } });
        out.write('summary.json', text);
        if (opts.json) process.stdout.write(text);
        else if (!opts.quiet) process.stdout.write(`${r.image.dims[3]}x${r.image.dims[2]} with ${model.name} features (style ${(r.params['styleLayers'] as string[]).map((l) => backbone?.layerLabel(l) ?? l).join(', ')}) in ${((r.params['ms'] as number) / 1000).toFixed(1)} s\n`);
        out.report(opts);
      } finally {
        job.done();
        await engine.dispose();
      }
    });
}

/** Scales an image so its longer side is `side` (bilinear), for figures. */
function fit(img: ReturnType<typeof toRaw>, side: number): ReturnType<typeof toRaw> {
  const k = side / Math.max(img.width, img.height);
  if (Math.abs(k - 1) < 1e-6) return img;
  return resize(img, Math.max(1, Math.round(img.width * k)), Math.max(1, Math.round(img.height * k)), 'bilinear');
}


/** `--blend "1,0;0.5,0.5"`: one weight per style of the network in each set, finite and >= 0, not all zero. */
function parseBlend(spec: string, styles: readonly string[]): number[][] {
  return spec.split(';').map((set) => {
    const w = set.split(',').map((v) => Number(v.trim()));
    if (w.length !== styles.length || w.some((v) => !Number.isFinite(v) || v < 0) || w.every((v) => v === 0)) {
      throw new ConvLensError(
        'INVALID_ARGUMENT',
        `Cannot read the blend "${set}": the network has ${styles.length} style${styles.length === 1 ? '' : 's'} (${styles.join(', ')}), so each set needs ${styles.length} weight${styles.length === 1 ? '' : 's'} >= 0, not all zero.`,
        `For example --blend "${styles.map((_, k) => (k === 0 ? 1 : 0)).join(',')};${styles.map(() => (1 / styles.length).toFixed(2)).join(',')}" (sets separated by ";").`,
      );
    }
    return w;
  });
}
