import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { ConvLensError } from '../../../engine/errors.js';
import { ensureWritableFile, writeFileAtomic } from '../../../io/files.js';
import { loadModel } from '../../../models/load.js';
import { recordedStyleRun, trainStyleNet } from '../../../methods/synthesize/fast-style.js';
import { encodeStyleNet } from '../../../methods/synthesize/stylize.js';
import { MAX_LOSS_WEIGHT } from '../../../methods/synthesize/style.js';
import { parseNamedImage, readImageTensor, summaryJson } from '../../../methods/synthesize/io.js';
import { loadCheckpoint, type Checkpoint } from '../../../training/checkpoint.js';
import { cliJob, commaList, type CommonOptions, createEngine, fileOrFolderOut, intIn, MAX_THREADS, numberIn, positiveInt, positiveNumber, seedNumber, threadCount, warner } from '../common.js';
import { lockTrainingFiles } from '../training-run.js';
import { defaultOut } from '../output.js';

interface StyleTrainCli extends CommonOptions {
  style: string[];
  content: string[];
  out: string;
  size: number;
  batch: number;
  steps: number;
  lr: number;
  width: number;
  blocks: number;
  styleWeight: number;
  contentWeight: number;
  tvWeight: number;
  styleScale: number;
  styleLayers?: string;
  contentLayers?: string;
  seed: number;
  checkpoint?: string;
  checkpointEvery: number;
  resume?: string;
  json?: boolean;
}

const lossWeight = numberIn(0, MAX_LOSS_WEIGHT);

export function define(command: Command): void {
  command
    .addHelpText('after', '\nExample:\n  convlens style-train --style gravel=samples/textures/gravel.png --style coffee=samples/photos/coffee.png \\\n    --content samples/photos/astronaut.png,samples/photos/rocket.jpg --steps 1500 --out style.onnx\n\nThe loss network is the built-in random texture backbone unless --model names another (e.g. --model squeezenet; its profile gives the style and content layers).')
    .option('--style <name=file>', 'a style image (repeat or comma-separate for several; name= optional); required, on --resume too', commaList)
    .option('--content <files>', 'content photographs to draw training crops from (comma-separated or repeated); required, on --resume too', commaList)
    .option('-o, --out <file|dir>', 'the trained network (.onnx), or a folder for style-net.onnx', fileOrFolderOut('style-net.onnx'), defaultOut('style-train', 'style-net.onnx'))
    .option('-m, --model <file|name>', 'loss network: an ONNX file or a built-in name such as squeezenet (default: the built-in random texture backbone)')
    .option('--size <px>', 'training crop size (16-1024)', intIn(16, 1024), 128)
    .option('--batch <n>', 'crops per step (1-64)', intIn(1, 64), 2)
    .option('--steps <n>', 'training steps (1-1000000)', intIn(1, 1_000_000), 1500)
    .option('--lr <lr>', 'Adam learning rate', positiveNumber, 1e-3)
    .option('--width <n>', 'channels of the first layer (then 2x, 4x; 1-256)', intIn(1, 256), 16)
    .option('--blocks <n>', 'residual blocks (1-32)', intIn(1, 32), 3)
    .option('--style-weight <w>', `weight of the Gram (style) loss (0-${MAX_LOSS_WEIGHT})`, lossWeight, 1)
    .option('--content-weight <w>', `weight of the feature (content) loss (0-${MAX_LOSS_WEIGHT})`, lossWeight, 1)
    .option('--tv-weight <w>', `weight of the total-variation loss (0-${MAX_LOSS_WEIGHT})`, lossWeight, 1)
    .option('--style-scale <f>', 'style image longer side relative to the crop size (0.1-4)', numberIn(0.1, 4), 1)
    .option('--style-layers <names>', 'loss-network layers for the style (comma-separated)')
    .option('--content-layers <names>', 'loss-network layers for the content (comma-separated)')
    .option('--seed <n>', 'seeds initialization and crops', seedNumber, 0)
    .option('--checkpoint <file>', 'write a resumable checkpoint here (every --checkpoint-every steps and on Ctrl-C)')
    .option('--checkpoint-every <n>', 'steps between checkpoints', positiveInt, 200)
    .option('--resume <file>', 'continue from a checkpoint')
    .option('--threads <n>', `ONNX Runtime intra-op threads (1-${MAX_THREADS}; default: one per CPU)`, threadCount)
    .option('-q, --quiet', 'no progress bar')
    .option('--json', 'print the summary JSON')
    .action(async (opts: StyleTrainCli, cmd: Command) => {
      const missing = (['style', 'content'] as const).filter((o) => !opts[o]?.length);
      if (missing.length) {
        const names = missing.map((o) => `--${o}`).join(' and ');
        throw new ConvLensError(
          'INVALID_ARGUMENT',
          `style-train needs ${names}.`,
          opts.resume
            ? `A checkpoint keeps only checksums of the images it trained on: give the same ${names} files again with --resume.`
            : 'Give the style image(s) with --style [name=]file and the photographs to draw training crops from with --content a.png,b.png.',
        );
      }
      const engine = createEngine(opts);
      const job = cliJob(opts, 'style-train', { terminate: true });
      try {
        const styles = await Promise.all(opts.style.map(async (s) => {
          const p = parseNamedImage(s);
          return { name: p.name, image: await readImageTensor(p.path, 3, { maxSide: 512 }) };
        }));
        const content = await Promise.all(opts.content.map((c) => readImageTensor(c, 3, { maxSide: 512 })));
        const backbone = opts.model ? loadModel(opts.model, engine) : undefined;
        if (opts.resume && !existsSync(opts.resume)) throw new ConvLensError('INPUT_UNREADABLE', `No checkpoint "${opts.resume}".`, 'Check the --resume path: pass the file that --checkpoint wrote, or leave out --resume to start over.');
        const resume = opts.resume ? loadCheckpoint(opts.resume, 'convlens style-train') : undefined;
        if (resume) {
          takeCheckpointSettings(opts, cmd, resume);
          // as `train --resume`: the resumed run goes on saving to the checkpoint it came from
          if (cmd.getOptionValueSource('checkpoint') !== 'cli') opts.checkpoint = opts.resume;
        }
        ensureWritableFile(opts.out, '--out', 'style-net.onnx');
        if (opts.checkpoint) ensureWritableFile(opts.checkpoint, '--checkpoint', 'style-net.ckpt');
        lockTrainingFiles([opts.out, ...(opts.checkpoint ? [opts.checkpoint] : [])]);
        const t0 = performance.now();
        const r = await trainStyleNet(engine, {
          styles,
          content,
          ...(backbone ? { backbone } : {}),
          ...(opts.styleLayers ? { styleLayers: opts.styleLayers.split(',') } : {}),
          ...(opts.contentLayers ? { contentLayers: opts.contentLayers.split(',') } : {}),
          size: opts.size,
          batch: opts.batch,
          steps: opts.steps,
          lr: opts.lr,
          width: opts.width,
          blocks: opts.blocks,
          styleWeight: opts.styleWeight,
          contentWeight: opts.contentWeight,
          tvWeight: opts.tvWeight,
          styleScale: opts.styleScale,
          seed: opts.seed,
          ...(opts.checkpoint ? { checkpoint: opts.checkpoint, checkpointEvery: opts.checkpointEvery } : {}),
          ...(resume ? { resume } : {}),
          signal: job.signal!,
          onProgress: job.onProgress!,
        });
        const bytes = encodeStyleNet(r.graph);
        writeFileAtomic(opts.out, bytes);
        job.done();
        for (const note of r.notes ?? []) warner(opts)(note);
        const summary = { command: 'style-train', out: opts.out, bytes: bytes.length, styles: r.styles, steps: opts.steps, completed: r.completed, seconds: r.seconds, finalLoss: r.history[r.history.length - 1]?.loss, ...(r.notes ? { notes: r.notes } : {}), totalMs: Math.round(performance.now() - t0) };
        if (opts.json) process.stdout.write(summaryJson(summary));
        else if (!opts.quiet) process.stderr.write(`wrote ${opts.out} (${(bytes.length / 1024).toFixed(0)} kB, styles: ${r.styles.join(', ')}) after ${r.seconds.toFixed(0)} s\n`);
      } finally {
        job.done();
        await engine.dispose();
      }
    });
}

/**
 * A resumed run takes the settings it was started with from its checkpoint, as `train --resume`
 * does; a setting given again must match it (the method refuses a difference, naming it).
 */
function takeCheckpointSettings(opts: StyleTrainCli, cmd: Command, checkpoint: Checkpoint): void {
  const recorded = recordedStyleRun(checkpoint);
  if (!recorded) return;
  const given = (name: string): boolean => cmd.getOptionValueSource(name) === 'cli';
  const target = opts as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(recorded.settings)) {
    if (given(key)) continue;
    // a loss network's layers come from its profile unless named: only names the run gave are taken
    if (key === 'styleLayers' || key === 'contentLayers') {
      if (Array.isArray(value) && value.length) target[key] = value.join(',');
    } else target[key] = value;
  }
}
