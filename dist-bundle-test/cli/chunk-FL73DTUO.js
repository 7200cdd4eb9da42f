import {
  checkpointProgress,
  loadCheckpoint
} from "./chunk-3LLE3VGN.js";
import {
  selectSamples,
  stratifiedSubset
} from "./chunk-EQEDVHDE.js";
import {
  FASHION_MNIST_CLASSES,
  loadFashionMnist
} from "./chunk-XD57GLXB.js";
import {
  ensureDir
} from "./chunk-4WR5QSMB.js";

// dist/interfaces/cli/training-run.js
import { existsSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
function prepareTrainingRun(opts, cmd, factory, description) {
  const log = (line) => {
    if (!opts.quiet)
      process.stderr.write(`${process.stderr.isTTY ? "\r\x1B[K" : ""}${line}
`);
  };
  const explicit = (name) => cmd.getOptionValueSource(name) === "cli";
  let run;
  let resume;
  let dataDir = opts.data;
  let out = opts.out;
  let limit = opts.limit;
  if (opts.resume) {
    resume = loadCheckpoint(opts.resume);
    run = factory.fromCheckpoint(resume, `checkpoint "${opts.resume}"`);
    const prov = run.provenance ?? {};
    if (dataDir === void 0 && typeof prov.dataDir === "string")
      dataDir = prov.dataDir;
    if (!explicit("out") && typeof prov.out === "string")
      out = prov.out;
    if (explicit("epochs"))
      run.config = { ...run.config, epochs: opts.epochs };
    limit = typeof prov.limit === "number" ? prov.limit : void 0;
    const p = checkpointProgress(resume);
    log(`resuming from ${opts.resume}: step ${p.step}, epoch ${p.epoch + 1}/${run.config.epochs}, batch ${p.batchInEpoch}`);
  } else {
    run = factory.fresh({
      description,
      command: ["convlens", ...process.argv.slice(2)].join(" "),
      dataset: "Fashion-MNIST",
      ...dataDir !== void 0 ? { dataDir: resolve(dataDir) } : {},
      out: resolve(out),
      ...limit ? { limit } : {}
    });
  }
  const full = loadFashionMnist("train", dataDir);
  const train = limit && limit < full.count ? selectSamples(full, stratifiedSubset(full.labels, FASHION_MNIST_CLASSES, Math.max(1, Math.floor(limit / FASHION_MNIST_CLASSES)), run.config.seed), `${full.source}, ${limit} samples`) : full;
  const checkpointPath = opts.checkpoint === false ? void 0 : opts.checkpoint ?? (opts.resume && !explicit("checkpoint") ? opts.resume : `${out}.ckpt`);
  ensureDir(dirname(out));
  if (checkpointPath)
    ensureDir(dirname(checkpointPath));
  if (!opts.resume && checkpointPath && existsSync(checkpointPath) && statSync(checkpointPath).isFile()) {
    log(`note: ${checkpointPath} exists and will be overwritten (use --resume ${checkpointPath} to continue that run)`);
  }
  return { run, ...resume ? { resume } : {}, out, ...dataDir !== void 0 ? { dataDir } : {}, train, ...checkpointPath ? { checkpointPath } : {}, log };
}
function trainerOptions(prepared, job, everySteps, formatEpoch) {
  const { checkpointPath, resume, log } = prepared;
  return {
    ...job.signal ? { signal: job.signal } : {},
    onProgress: job.onProgress,
    ...checkpointPath ? { checkpoint: { path: checkpointPath, everySteps } } : {},
    ...resume ? { resume } : {},
    onEpoch: (r) => log(formatEpoch(r)),
    log
  };
}
var parameterCount = (model) => [...model.initializers.values()].reduce((a, t) => a + (t.dtype === "float32" ? t.data.length : 0), 0);

export {
  prepareTrainingRun,
  trainerOptions,
  parameterCount
};
