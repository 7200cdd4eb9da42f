import type { Command } from 'commander';
import { ConvLensError } from '../../../engine/errors.js';
import { readFileOrExplain } from '../../../io/files.js';
import { inputFiles, loadInputs, scaledUpNote } from '../../../io/inputs.js';
import { parseNpy } from '../../../io/npy.js';
import { channelFigure, channelShare } from '../../../methods/explain/figures.js';
import { LAYER_METHODS, layerAttribution, type ChannelAblation, type LayerMethodName } from '../../../methods/explain/layer-attribution.js';
import { checkScore } from '../../../methods/explain/target.js';
import type { IgBaseline } from '../../../methods/explain/types.js';
import { summaryJson } from '../../../methods/synthesize/io.js';
import { checkInputsFit, choiceOption, cliJob, type CommonOptions, intIn, modelInfo, openModel, outPath, warner, withCommon } from '../common.js';
import { onlyWith, optionRules } from '../option-rules.js';
import { defaultOut, OutputFiles } from '../output.js';
import { targetsPerInput } from './explain.js';

interface ChannelsCli extends CommonOptions {
  layer?: string;
  method: string;
  target?: string;
  score: string;
  top: number;
  steps?: number;
  baseline?: string;
  ablation?: ChannelAblation;
  batchSize?: number;
  size?: number;
  out: string;
  json?: boolean;
}

function parseMethods(text: string): LayerMethodName[] {
  const names = text.split(',').map((m) => m.trim()).filter(Boolean);
  if (names.length === 1 && names[0] === 'all') return [...LAYER_METHODS];
  for (const n of names) if (!(LAYER_METHODS as readonly string[]).includes(n)) throw new ConvLensError('INVALID_ARGUMENT', `Unknown layer attribution method "${n}".`, `Use one or more of ${LAYER_METHODS.join(', ')} (comma-separated), or all.`);
  if (names.length === 0) throw new ConvLensError('INVALID_ARGUMENT', 'No methods given (--method).', `Use one or more of ${LAYER_METHODS.join(', ')}, or all.`);
  return names as LayerMethodName[];
}

const signed = (v: number): string => `${v >= 0 ? '+' : ''}${Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(2) : v.toFixed(3)}`;

export function define(command: Command): void {
  const asked = (opts: Record<string, unknown>): LayerMethodName[] => {
    try {
      return parseMethods(String(opts['method']));
    } catch {
      return [];
    }
  };
  const using = (...m: LayerMethodName[]) => (opts: Record<string, unknown>) => { const a = asked(opts); return !a.length || a.some((k) => m.includes(k)); };
  optionRules(command, [
    ...onlyWith({ when: 'with --method integrated-gradients or conductance', add: 'add integrated-gradients or conductance to --method' }, using('integrated-gradients', 'conductance'), 'steps'),
    ...onlyWith({ when: 'with --method ablation', add: 'add ablation to --method' }, using('ablation'), 'ablation'),
    ...onlyWith({ when: 'with integrated-gradients, conductance, deeplift, or --ablation baseline', add: 'add one of them' }, (opts) => using('integrated-gradients', 'conductance', 'deeplift')(opts) || opts['ablation'] === 'baseline', 'baseline'),
  ]);
  withCommon(
    command.addHelpText(
      'after',
      `\nWhich channels of a layer carry a prediction (Captum's layer attributions). Per image and method: the top channels with their contribution to the target score and their share of the channels' net total; summary.json holds them, channels.png draws their maps over the image.\n\nMethods: ${LAYER_METHODS.join(', ')}\n  integrated-gradients: along the straight path from the baseline's activations at the layer to the image's (Captum's LayerIntegratedGradients); sums to score(image) - score(baseline)\n  conductance: along the straight path from the baseline image to the image, the gradient at the layer x the layer's change between consecutive points (Captum's LayerConductance, --steps + 1 points); works at any layer, and sums to score(image) - score(baseline) at a layer every path passes through, to a first-order rule's accuracy (raise --steps to tighten it)\n  deeplift: rescale-rule multipliers at the layer x (activation - the baseline's); sums to the logit difference\n  ablation: the score drop when the channel is set to zero (or to the baseline's activations, --ablation baseline)\nIntegrated gradients and ablation replace the layer's activations, so they need a layer every path passes through (a block's output); at another layer they are skipped with the reason and the other methods run.\n\nThe labels (fires.7:333) are what \`convlens explain --unit fires.7 --target 333\` takes.\n\nExamples:\n  convlens channels samples/photos/chelsea.png --model squeezenet --layer fires.7\n  convlens channels samples/photos/chelsea.png --model squeezenet --layer fires.5 --method integrated-gradients,ablation --top 8 --target tabby`,
    ),
  )
    .argument('<inputs...>', 'image files, .npy tensors (NCHW or CHW float32), or folders of them')
    .option('-l, --layer <name>', 'the layer whose channels are scored (default: the CAM layer, the last spatial one, on a segmentation net the backbone\'s last layer; where that is the class maps pooled (SqueezeNet) the features the class conv reads; `convlens summary` lists them)')
    .option('--method <names>', `methods, comma-separated, or all (${LAYER_METHODS.join(', ')})`, 'all')
    .option('-t, --target <class>', "class index or label (default: each image's predicted class), or one per input, comma-separated")
    .option('--score <kind>', 'logit (pre-softmax, default) or prob (softmax probability)', 'logit')
    .option('-k, --top <k>', 'channels shown per image and method (1-64)', intIn(1, 64), 5)
    .option('--steps <n>', 'integrated-gradients, conductance: path steps (1-1000, default 50)', intIn(1, 1000))
    .option('--baseline <b>', 'integrated-gradients, conductance, deeplift, --ablation baseline: the reference image, black (default), zero, blurred, or a .npy file')
    .addOption(choiceOption('--ablation <to>', 'ablation: what a removed channel is set to, zero (default, as Captum) or baseline (the baseline image\'s activations)', ['zero', 'baseline']))
    .option('--batch-size <n>', 'samples per engine run (1-4096)', intIn(1, 4096))
    .option('--size <px>', 'figure tile size in pixels (16-1024; default 160)', intIn(16, 1024))
    .option('-o, --out <dir>', 'output folder', outPath, defaultOut('channels'))
    .option('--json', 'print the summary JSON to stdout instead of the table')
    .action(async (inputs: string[], opts: ChannelsCli) => {
      const methods = parseMethods(opts.method);
      const score = checkScore(opts.score);
      const out = new OutputFiles(opts.out);
      out.keepInputs([...inputs, opts.baseline], ['summary.json', 'channels.png']);
      let baseline: IgBaseline | undefined;
      if (opts.baseline !== undefined) {
        if (opts.baseline.toLowerCase().endsWith('.npy')) baseline = parseNpy(readFileOrExplain(opts.baseline, 'baseline .npy'), `"${opts.baseline}"`);
        else if (['black', 'zero', 'blurred'].includes(opts.baseline)) baseline = opts.baseline as IgBaseline;
        else throw new ConvLensError('INVALID_ARGUMENT', `Unknown baseline "${opts.baseline}".`, 'Use black, zero, blurred, or a .npy file in the model input space.');
      }
      const { engine, model } = openModel(opts);
      const job = cliJob(opts, 'channels');
      out.stopOn(job.signal);
      try {
        const paths = inputFiles(inputs);
        checkInputsFit(paths, model, 2 + 2 * methods.length, 'channels');
        const { batch, items } = await loadInputs(paths, model);
        const scaled = scaledUpNote(items, model);
        if (scaled) warner(opts)(scaled);
        const target = opts.target === undefined ? undefined : targetsPerInput(model, opts.target, () => items.length);
        const r = await layerAttribution(model, batch, {
          ...(opts.layer !== undefined ? { layer: opts.layer } : {}),
          methods,
          score,
          ...(target !== undefined ? { target } : {}),
          ...(opts.steps !== undefined ? { steps: opts.steps } : {}),
          ...(baseline !== undefined ? { baseline } : {}),
          ...(opts.ablation ? { ablation: opts.ablation } : {}),
          ...(opts.batchSize ? { batchSize: opts.batchSize } : {}),
          signal: job.signal!,
          onProgress: job.onProgress!,
        });
        job.done();
        const [c] = r.shape;
        const top = Math.min(opts.top, c);
        const scoreName = score === 'prob' ? 'probability' : 'logit';
        // a regression's output is a value, not a class's logit (models/output-kind.ts)
        const regression = model.outputKind === 'regression';
        const shownScore = regression ? 'value' : scoreName;
        const targetName = (t: { index: number; label: string }): string => (regression ? `output ${t.index}${t.label === `output ${t.index}` ? '' : ` ${t.label}`}` : `${t.index} ${t.label}`);
        const perImage = items.map((it, i) => {
          const t = r.targets[i]!;
          return {
            source: it.source,
            target: { index: t, label: model.labels[t] ?? `class ${t}`, [scoreName]: r.scores[i]! },
            methods: Object.fromEntries(
              r.results.map((m) => {
                const totals = m.channels.data as Float32Array;
                const channels = Array.from(m.ranked[i]!.subarray(0, top), (ch) => ({ channel: ch, label: `${r.label}:${ch}`, contribution: totals[i * c + ch]!, share: channelShare(totals, i, c, ch) ?? null }));
                return [m.method, { top: channels, ...(m.completeness ? { completeness: m.completeness[i] } : {}) }];
              }),
            ),
          };
        });
        // as explain prints a method the model rules out
        if (!opts.quiet) for (const k of r.skipped) process.stderr.write(`skipped ${k.method}: ${k.reason}${k.hint ? `\n  ${k.hint}` : ''}\n`);
        const notes = [...new Set(r.results.flatMap((m) => m.notes))];
        for (const n of notes) warner(opts, 'note')(n);
        const modelArg = opts.model ? ` --model ${opts.model}` : '';
        const best = perImage[0]!.methods[r.results[0]!.method]!.top[0]!;
        const hint = `convlens explain ${items[0]!.source}${modelArg} --unit ${r.label} --target ${best.channel}`;
        const figure = await channelFigure(r, items.map((it) => ({ name: it.source.split('/').at(-1)!, display: it.display })), {
          top,
          title: `${model.name}: channels of ${r.label} [${r.shape.join(', ')}] behind the ${shownScore}`,
          rowLines: (i) => [items[i]!.source.split('/').at(-1)!, `target: ${perImage[i]!.target.label}`],
          ...(opts.size ? { size: opts.size } : {}),
          notes: [`Explain a channel's own evidence in the image: ${hint}`],
        });
        out.write('channels.png', figure);
        const summary = {
          command: 'channels',
          model: modelInfo(model, opts),
          layer: { name: r.layer, label: r.label, shape: r.shape },
          score,
          methods: r.results.map((m) => ({ method: m.method, params: m.params, ...(m.notes.length ? { notes: m.notes } : {}) })),
          ...(r.skipped.length ? { skipped: r.skipped } : {}),
          inputs: perImage,
          files: { figure: 'channels.png' },
        };
        const text = summaryJson(summary);
        out.write('summary.json', text);
        if (opts.json) process.stdout.write(text);
        else {
          const lines: string[] = [];
          for (const img of perImage) {
            lines.push(`${img.source}: target ${targetName(img.target)} (${shownScore} ${(img.target[scoreName] as number).toPrecision(4)}), layer ${r.label} [${r.shape.join(', ')}]`);
            for (const m of r.results) {
              const entry = img.methods[m.method]!;
              const k = entry.completeness;
              lines.push(`  ${m.method}${k ? ` (channels sum to ${k.sum.toPrecision(4)}, score change ${k.scoreDifference.toPrecision(4)})` : ''}`);
              for (const [j, ch] of entry.top.entries()) lines.push(`    ${String(j + 1).padStart(2)}. ${ch.label.padEnd(r.label.length + 6)} ${signed(ch.contribution).padStart(10)}${ch.share === null ? '' : `  ${(ch.share * 100).toFixed(1).padStart(5)}%`}`);
            }
          }
          lines.push(`hint: explain a channel with --unit, e.g. the first: ${hint}`);
          process.stdout.write(`${lines.join('\n')}\n`);
        }
        out.report(opts);
      } finally {
        job.done();
        await engine.dispose();
      }
    });
}
