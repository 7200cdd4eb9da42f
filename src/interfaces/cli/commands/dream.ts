import type { Command } from 'commander';
import { encodePng } from '../../../io/image.js';
import { dream } from '../../../methods/synthesize/dream.js';
import { readImageTensor, summaryJson } from '../../../methods/synthesize/io.js';
import { encodeGif, tensorImage, toRaw } from '../../../methods/synthesize/render.js';
import { gridFigure } from '../../../render/grid.js';
import { resizeImage } from '../../../render/heatmap.js';
import { cliJob, type CommonOptions, intIn, MAX_SIDE, memoryNoteText, modelInfo, nonNegativeInt, numberIn, openModel, outPath, seedNumber, warner, withCommon } from '../common.js';
import { onlyWith, optionRules } from '../option-rules.js';
import { defaultOut, OutputFiles } from '../output.js';

interface DreamCli extends CommonOptions {
  layer?: string;
  objective?: string;
  octaves: number;
  octaveScale: number;
  steps: number;
  stepSize: number;
  jitter: number;
  guide?: string;
  maxSide: number;
  seed: number;
  out: string;
  json?: boolean;
}

export function define(command: Command): void {
  optionRules(command, [...onlyWith({ when: 'without --objective', why: 'an objective names its own layers', add: 'leave out --objective' }, (opts) => opts['objective'] === undefined, 'layer')]);
  withCommon(
    command
      .addHelpText('after', '\nThe model sees the photograph at any size (layers before any flatten/dense); a gray model sees its luminance.\nThe default layer is the model profile\'s dream layer (`convlens summary --model ...` shows it).\n\nExamples:\n  convlens dream samples/photos/chelsea.png --model squeezenet\n  convlens dream samples/photos/chelsea.png --model squeezenet --objective channel:fires.5:12 --octaves 5\n  convlens dream samples/photos/chelsea.png --model squeezenet --layer fires.2 --guide samples/textures/brick.png'),
  )
    .argument('<image>', 'the photograph to dream on')
    .option('-l, --layer <name>', 'layer whose mean squared activation is maximized (default: the model profile\'s dream layer)')
    .option('--objective <spec>', 'another objective instead (channel:<layer>:<c>, neuron:..., sums)')
    .option('--octaves <n>', 'octaves (1-12)', intIn(1, 12), 4)
    .option('--octave-scale <f>', 'size ratio between octaves (1-4)', numberIn(1, 4), 1.4)
    .option('--steps <n>', 'gradient steps per octave (1-10000)', intIn(1, 10_000), 10)
    .option('--step-size <s>', 'step in pixel units (0.00001-1) after L1 normalization', numberIn(1e-5, 1), 1.5 / 255)
    .option('--jitter <px>', 'random roll each step, up to this many pixels', nonNegativeInt, 32)
    .option('--guide <image>', 'guide image: dream towards its features at the layer')
    .option('--max-side <px>', `longer side the image is resized to (16-${MAX_SIDE})`, intIn(16, MAX_SIDE), 384)
    .option('--seed <n>', 'seed of the jitter', seedNumber, 0)
    .option('-o, --out <dir>', 'output folder', outPath, defaultOut('dream'))
    .option('--json', 'print the summary JSON')
    .action(async (image: string, opts: DreamCli) => {
      const out = new OutputFiles(opts.out);
      out.keepInputs([image, opts.guide], ['result.png', 'figure.png', 'optimization.gif', 'summary.json']);
      const { engine, model } = openModel(opts);
      const job = cliJob(opts, 'dream');
      out.stopOn(job.signal);
      try {
        const x = await readImageTensor(image, 3, { maxSide: opts.maxSide });
        const heavy = memoryNoteText('DeepDream', model, [x.dims[2]!, x.dims[3]!]);
        if (heavy) warner(opts, 'note')(heavy);
        const guide = opts.guide ? await readImageTensor(opts.guide, 3, { maxSide: 256 }) : undefined;
        const r = await dream(model, x, {
          ...(opts.layer ? { layer: opts.layer } : {}),
          ...(opts.objective ? { objective: opts.objective } : {}),
          octaves: opts.octaves,
          octaveScale: opts.octaveScale,
          steps: opts.steps,
          stepSize: opts.stepSize,
          jitter: opts.jitter,
          ...(guide ? { guide } : {}),
          seed: opts.seed,
          frames: 3,
          signal: job.signal!,
          onProgress: job.onProgress!,
        });
        job.done();
        for (const n of r.notes ?? []) warner(opts, 'note')(n);
        if (r.zeroGradient) warner(opts, 'note')(`the objective's gradient was zero at every step: ${opts.objective ?? model.layerLabel(r.params['layer'] as string)} does not respond to this image (its activations are zero or constant, e.g. ReLUs off everywhere), so the result is the photo unchanged; try another --layer or --objective`);
        out.write('result.png', await encodePng(tensorImage(r.image)));
        const [, , H, W] = r.image.dims as number[];
        const up = (t: { data: Float32Array; dims: readonly number[] }): ReturnType<typeof toRaw> => resizeImage(toRaw(t.data, t.dims), W!, H!, 'bilinear');
        const show = (img: ReturnType<typeof toRaw>): ReturnType<typeof toRaw> => resizeImage(img, 320, Math.round((320 * H!) / W!), 'bilinear');
        const octaveTiles = r.octaves.map((o) => show(up({ data: o.data as Float32Array, dims: o.dims })));
        out.write(
          'figure.png',
          await gridFigure({ columns: ['input', ...r.octaves.map((o, k) => `octave ${k + 1}\n${o.dims[3]}×${o.dims[2]}`)], rows: [{ lines: [], cells: [show(tensorImage(x)), ...octaveTiles] }], notes: [`layer ${model.layerLabel(r.params['layer'] as string)}, ${opts.steps} steps per octave, step ${(opts.stepSize * 255).toFixed(1)}/255, jitter ${opts.jitter}px`] }),
        );
        const gifFrames = r.frames.map((f) => show(up({ data: f.frame.image, dims: [1, 3, f.height, f.width] })));
        out.write('optimization.gif', encodeGif(gifFrames, 250, 1500));
        const text = summaryJson({ command: 'dream', model: modelInfo(model, opts), image, guide: opts.guide ?? null, params: r.params, files: { result: 'result.png', figure: 'figure.png', gif: 'optimization.gif' } });
        out.write('summary.json', text);
        if (opts.json) process.stdout.write(text);
        out.report(opts);
      } finally {
        job.done();
        await engine.dispose();
      }
    });
}
