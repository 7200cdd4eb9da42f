import type { Command } from 'commander';
import { ConvLensError } from '../../../engine/errors.js';
import { encodePng } from '../../../io/image.js';
import { encodeNpy } from '../../../io/npy.js';
import { attack, type AttackMethod, type AttackNorm } from '../../../methods/synthesize/adversarial.js';
import { modelChannels, modelInputSize } from '../../../methods/synthesize/graph.js';
import { inPredictFrame, readModelImage, stack, summaryJson } from '../../../methods/synthesize/io.js';
import { displaySize, perturbationImage, toRaw } from '../../../methods/synthesize/render.js';
import { gridFigure } from '../../../render/grid.js';
import { cliJob, type CommonOptions, intIn, modelInfo, openModel, outPath, positiveNumber, seedNumber, withCommon } from '../common.js';
import { onlyWith, optionRules } from '../option-rules.js';
import { defaultOut, OutputFiles, stemmer } from '../output.js';

interface AdvCli extends CommonOptions {
  method: string;
  norm: string;
  epsilon: string;
  stepSize?: number;
  steps: number;
  target?: string;
  randomStart?: boolean;
  seed: number;
  out: string;
  tile: number;
  npy?: boolean;
  json?: boolean;
}

const NUMBER = String.raw`(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?`;
const EPS_FORM = new RegExp(String.raw`^\s*(${NUMBER})\s*(?:/\s*(${NUMBER})\s*)?$`, 'i');

/**
 * --epsilon as a budget in image units: "0.03", "3e-2" or "8/255". It must be above 0 and at most
 * the largest perturbation the norm can measure between two images in [0, 1] (1 for L∞, the
 * diagonal sqrt(C·H·W) for L2): a larger budget, or an infinite one (8/0), lets the attack
 * replace the image with anything and reports a meaningless ε.
 */
export function parseEpsilon(s: string, norm: AttackNorm, values: number): number {
  const m = EPS_FORM.exec(s);
  const forms = 'a decimal (0.03, 3e-2) or a fraction (8/255)';
  if (!m) throw new ConvLensError('INVALID_ARGUMENT', `Cannot read epsilon "${s}".`, `Give --epsilon in image units as ${forms}.`);
  const v = Number(m[1]) / (m[2] !== undefined ? Number(m[2]) : 1);
  const most = norm === 'linf' ? 1 : Math.sqrt(values);
  const mostText = norm === 'linf' ? '1 (the whole pixel range [0, 1])' : `${most.toFixed(2)} (sqrt of the ${values} input values: every pixel from 0 to 1)`;
  const example = norm === 'linf' ? '8/255 or 0.03' : '1 or 0.5';
  if (!(v > 0) || !Number.isFinite(v) || v > most) {
    throw new ConvLensError(
      'INVALID_ARGUMENT',
      `Epsilon "${s}" is ${Number.isNaN(v) ? 'not a number' : Number.isFinite(v) ? String(v) : 'infinite'}; an ${norm === 'linf' ? 'L∞' : 'L2'} budget must be above 0 and at most ${mostText}.`,
      `Give --epsilon above 0 and at most ${norm === 'linf' ? 1 : most.toFixed(2)}, as ${forms}, e.g. ${example}.`,
    );
  }
  return v;
}

export function define(command: Command): void {
  optionRules(command, [
    ...onlyWith({ when: 'with --method pgd', why: 'FGSM takes one step of the whole budget', add: 'use --method pgd' }, (opts) => opts['method'] !== 'fgsm', 'stepSize', 'steps', 'randomStart'),
    ...onlyWith({ when: 'with --random-start', add: 'add --random-start' }, (opts) => !!opts['randomStart'], 'seed'),
  ]);
  withCommon(
    command
      .addHelpText('after', '\nBudgets are in image units (pixel values in [0, 1]): 8/255 is 8 grey levels. Images are resized or centre-cropped as predict does.\n\nExamples:\n  convlens adversarial samples/fashion-mnist/ankle-boot-test0.png --method pgd --epsilon 8/255\n  convlens adversarial samples/fashion-mnist/*.png --method pgd --norm l2 --epsilon 1 --target Bag\n  convlens adversarial samples/photos/chelsea.png --model squeezenet --epsilon 2/255'),
  )
    .argument('<images...>', 'image files')
    .option('--method <m>', 'fgsm or pgd', 'pgd')
    .option('--norm <n>', 'linf or l2', 'linf')
    .option('--epsilon <e>', 'budget (max |delta| for linf, |delta|_2 for l2): a decimal or a fraction, above 0 and at most 1 for linf, sqrt(C*H*W) for l2, e.g. 8/255', '8/255')
    .option('--step-size <a>', 'PGD step (default 2.5 * epsilon / steps)', positiveNumber)
    .option('--steps <n>', 'PGD steps (1-10000)', intIn(1, 10_000), 40)
    .option('-t, --target <class>', 'targeted attack towards this class (index or label)')
    .option('--random-start', 'PGD: start from a random point of the ball')
    .option('--seed <n>', 'seed of the random start', seedNumber, 0)
    .option('-o, --out <dir>', 'output folder', outPath, defaultOut('adversarial'))
    .option('--tile <px>', 'tile size in the figure (8-1024)', intIn(8, 1024), 168)
    .option('--npy', 'also write the adversarial images and perturbations as .npy (image units)')
    .option('--json', 'print the summary JSON')
    .action(async (images: string[], opts: AdvCli) => {
      const out = new OutputFiles(opts.out);
      out.keepInputs(images, ['figure.png', 'summary.json', 'adversarial.npy', 'perturbation.npy']);
      const { engine, model } = openModel(opts);
      const job = cliJob(opts, 'adversarial');
      out.stopOn(job.signal);
      try {
        if (!modelInputSize(model)) throw new ConvLensError('MODEL_UNSUPPORTED', 'The model takes any size; adversarial examples need a classifier with a fixed input size.', 'Use a classifier with a fixed input size (e.g. --model fashion-cnn or squeezenet), or export this model with one.');
        const method = opts.method as AttackMethod;
        const norm = opts.norm as AttackNorm;
        if (!['fgsm', 'pgd'].includes(method)) throw new ConvLensError('INVALID_ARGUMENT', `Unknown method "${opts.method}".`, 'Use fgsm or pgd.');
        if (!['linf', 'l2'].includes(norm)) throw new ConvLensError('INVALID_ARGUMENT', `Unknown norm "${opts.norm}".`, 'Use linf or l2.');
        const [h, w] = modelInputSize(model)!;
        const epsilon = parseEpsilon(opts.epsilon, norm, modelChannels(model) * h * w);
        // exactly the pixels predict sees (resize or centre crop per the model), so the clean prediction matches predict's
        const x = stack(await Promise.all(images.map((p) => readModelImage(p, model))));
        const r = await attack(model, x, {
          method,
          norm,
          epsilon,
          ...(opts.stepSize ? { stepSize: opts.stepSize } : {}),
          steps: opts.steps,
          ...(opts.target !== undefined ? { target: opts.target } : {}),
          randomStart: !!opts.randomStart,
          // judged as the PNG holds it: 8-bit levels within the budget
          quantize: true,
          seed: opts.seed,
          signal: job.signal!,
          onProgress: job.onProgress!,
        });
        job.done();
        const rows = [];
        const files: Record<string, string>[] = [];
        const stems = images.map(stemmer());
        for (let i = 0; i < images.length; i++) {
          const stem = stems[i]!;
          const adv = toRaw(r.images.data as Float32Array, r.images.dims, i);
          const pert = perturbationImage(r.perturbation.data as Float32Array, r.perturbation.dims, i);
          // framed as predict crops it (256x256 around SqueezeNet's 224), so predict sees these pixels
          out.write(`${stem}.adversarial.png`, await encodePng(await inPredictFrame(images[i]!, model, adv, toRaw(x.data as Float32Array, x.dims, i))));
          out.write(`${stem}.perturbation.png`, await encodePng(pert.image));
          files.push({ adversarial: `${stem}.adversarial.png`, perturbation: `${stem}.perturbation.png` });
          const p = r.perImage[i]!;
          rows.push({
            lines: [stem, p.success ? 'attack succeeded' : 'attack failed'],
            cells: [displaySize(toRaw(x.data as Float32Array, x.dims, i), opts.tile), displaySize(pert.image, opts.tile), displaySize(adv, opts.tile)],
            captions: [`${p.original.label} ${(100 * p.original.probability).toFixed(1)}%`, `L∞ ${(p.linf * 255).toFixed(1)}/255 · L2 ${p.l2.toFixed(2)} · ×${(0.5 / pert.scale).toFixed(0)}`, `${p.adversarial.label} ${(100 * p.adversarial.probability).toFixed(1)}%`],
          });
        }
        const title = `${method.toUpperCase()} ${norm === 'linf' ? 'L∞' : 'L2'} ε = ${opts.epsilon}${opts.target !== undefined ? `, target ${opts.target}` : ', untargeted'}${method === 'pgd' ? `, ${opts.steps} steps` : ''}`;
        out.write(
          'figure.png',
          await gridFigure({ title, columns: ['original', 'perturbation (amplified)', 'adversarial'], rows, notes: ["captions under original and adversarial: the model's prediction for that image", 'perturbation: grey = 0, scaled so the largest change spans the full range (factor shown)'] }),
        );
        if (opts.npy) {
          out.write('adversarial.npy', encodeNpy(r.images));
          out.write('perturbation.npy', encodeNpy(r.perturbation));
        }
        const text = summaryJson({ command: 'adversarial', model: modelInfo(model, opts), params: r.params, images: images.map((p, i) => ({ source: p, ...r.perImage[i], files: files[i] })), lossHistory: r.history, figure: 'figure.png' });
        out.write('summary.json', text);
        if (opts.json) process.stdout.write(text);
        else if (!opts.quiet) {
          for (const [i, p] of r.perImage.entries()) process.stdout.write(`${images[i]}: ${p.original.label} (${(100 * p.original.probability).toFixed(1)}%) -> ${p.adversarial.label} (${(100 * p.adversarial.probability).toFixed(1)}%), Linf ${p.linf.toFixed(4)}, L2 ${p.l2.toFixed(4)}\n`);
        }
        out.report(opts);
      } finally {
        job.done();
        await engine.dispose();
      }
    });
}
