import type { Command } from 'commander';
import { inputFiles, loadInputs, scaledUpNote } from '../../../io/inputs.js';
import { encodeNpy } from '../../../io/npy.js';
import { conceptFigure } from '../../../methods/inspect/concept-figure.js';
import { factorizeFeatures } from '../../../methods/inspect/concepts.js';
import { shownScore } from '../../../methods/predict.js';
import { summaryJson } from '../../../methods/synthesize/io.js';
import { checkInputsFit, cliJob, type CommonOptions, intIn, modelInfo, openModel, outPath, seedNumber, warner, withCommon } from '../common.js';
import { defaultOut, OutputFiles } from '../output.js';

interface ConceptsCli extends CommonOptions {
  layer?: string;
  components: number;
  top: number;
  iterations: number;
  seed: number;
  size?: number;
  npy?: boolean;
  out: string;
  json?: boolean;
}

const percent = (p: number): string => `${(100 * p).toFixed(1)}%`;

export function define(command: Command): void {
  withCommon(
    command.addHelpText(
      'after',
      '\nDeep feature factorization (Collins et al. 2018; pytorch-grad-cam\'s DeepFeatureFactorization): a layer\'s activations over all the images, channels x pixels, factorized by non-negative matrix factorization into concepts shared by the images. Each concept is a channel vector and a map per image; the rest of the network, run on the layer filled with the concept, names it with classes. concepts.png shows the concepts together and one by one; summary.json holds their classes and where they are strongest.\n\nExamples:\n  convlens concepts samples/photos/chelsea.png --model squeezenet\n  convlens concepts samples/photos --model squeezenet --layer fires.5 --components 8',
    ),
  )
    .argument('<inputs...>', 'image files, .npy tensors (NCHW or CHW float32), or folders of them')
    .option('-l, --layer <name>', 'the layer factorized (default: the layer `convlens channels` scores: the CAM layer, or on a segmentation net the features its classifier reads)')
    .option('-k, --components <n>', 'concepts to find (1-64)', intIn(1, 64), 5)
    .option('--top <n>', 'classes named per concept (1-20)', intIn(1, 20), 3)
    .option('--iterations <n>', 'factorization sweeps at most (1-10000)', intIn(1, 10000), 200)
    .option('--seed <n>', 'seed of the factorization\'s random start', seedNumber, 0)
    .option('--size <px>', 'figure tile size in pixels (16-1024; default 160)', intIn(16, 1024))
    .option('--npy', 'also write maps.npy [N, k, h, w] and vectors.npy [k, C]')
    .option('-o, --out <dir>', 'output folder', outPath, defaultOut('concepts'))
    .option('--json', 'print the summary JSON to stdout instead of the table')
    .action(async (inputs: string[], opts: ConceptsCli) => {
      const out = new OutputFiles(opts.out);
      out.keepInputs(inputs, ['summary.json', 'concepts.png', 'maps.npy', 'vectors.npy']);
      const { engine, model } = openModel(opts);
      const job = cliJob(opts, 'concepts');
      out.stopOn(job.signal);
      try {
        const paths = inputFiles(inputs);
        checkInputsFit(paths, model, 3, 'concepts');
        const { batch, items } = await loadInputs(paths, model);
        const scaled = scaledUpNote(items, model);
        if (scaled) warner(opts)(scaled);
        const f = await factorizeFeatures(model, batch, {
          ...(opts.layer !== undefined ? { layer: opts.layer } : {}),
          components: opts.components,
          topClasses: opts.top,
          maxIterations: opts.iterations,
          seed: opts.seed,
          signal: job.signal!,
          onProgress: job.onProgress!,
        });
        job.done();
        for (const n of f.notes) warner(opts, 'note')(n);
        const [c, h, w] = f.shape;
        const k = f.concepts.length;
        const maps = f.maps.data as Float32Array;
        const perImage = items.map((it, i) => ({
          source: it.source,
          concepts: f.concepts.map((_, r) => {
            const plane = maps.subarray((i * k + r) * h * w, (i * k + r + 1) * h * w);
            return { concept: r + 1, peak: plane.reduce((a, b) => Math.max(a, b), 0) };
          }),
        }));
        const figure = await conceptFigure(
          f,
          items.map((it) => ({ name: it.source.split('/').at(-1)!, display: it.display })),
          { title: `${model.name}: ${k} concepts of ${f.label} [${f.shape.join(', ')}]`, ...(opts.size ? { size: opts.size } : {}) },
        );
        out.write('concepts.png', figure);
        if (opts.npy) {
          out.write('maps.npy', encodeNpy(f.maps));
          const vectors = new Float32Array(k * c);
          f.concepts.forEach((con, r) => vectors.set(con.vector, r * c));
          out.write('vectors.npy', encodeNpy({ dtype: 'float32', dims: [k, c], data: vectors }));
        }
        const summary = {
          command: 'concepts',
          model: modelInfo(model, opts),
          layer: { name: f.layer, label: f.label, shape: f.shape },
          factorization: { components: k, relativeError: f.relativeError, iterations: f.iterations, seed: opts.seed },
          concepts: f.concepts.map((con, r) => ({ concept: r + 1, coverage: con.coverage, ...(con.classes ? { classes: con.classes } : {}) })),
          inputs: perImage,
          ...(f.notes.length ? { notes: f.notes } : {}),
          files: { figure: 'concepts.png', ...(opts.npy ? { maps: 'maps.npy', vectors: 'vectors.npy' } : {}) },
        };
        const text = summaryJson(summary);
        out.write('summary.json', text);
        if (opts.json) process.stdout.write(text);
        else {
          const lines = [`${k} concepts of ${f.label} [${f.shape.join(', ')}] over ${items.length} image${items.length === 1 ? '' : 's'} (relative error ${f.relativeError.toFixed(3)}, ${f.iterations} sweeps)`];
          for (const [r, con] of f.concepts.entries()) {
            const named = con.classes ? con.classes.map((t) => `${t.label} ${shownScore(t, 1)}`).join(', ') : 'not named (see the note)';
            lines.push(`  ${String(r + 1).padStart(2)}. strongest on ${percent(con.coverage).padStart(6)} of the pixels  ${named}`);
          }
          process.stdout.write(`${lines.join('\n')}\n`);
        }
        out.report(opts);
      } finally {
        job.done();
        await engine.dispose();
      }
    });
}
