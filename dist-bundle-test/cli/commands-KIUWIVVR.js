import {
  DEFAULT_STORE
} from "./chunk-SEMCHPMJ.js";
import {
  cliJob,
  intIn,
  openModel,
  positiveInt,
  warner,
  withCommon
} from "./chunk-OMSJE7ZP.js";
import "./chunk-4KDPQESB.js";
import "./chunk-P6HER42Z.js";
import "./chunk-2RDMIJXC.js";
import "./chunk-X2V5Z5UO.js";
import "./chunk-75463JA6.js";
import "./chunk-4WR5QSMB.js";
import "./chunk-Y3QEK5WU.js";
import {
  ConvLensError
} from "./chunk-N6ATQ4RF.js";

// dist/interfaces/cli/commands/index.js
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
async function stopWorkers(workers) {
  const running = workers.filter((w) => w.exitCode === null && w.signalCode === null);
  const exited = running.map((w) => new Promise((resolve) => w.once("exit", () => resolve())));
  for (const w of running)
    w.kill("SIGTERM");
  let timer;
  await Promise.race([Promise.all(exited), new Promise((r) => timer = setTimeout(r, 5e3))]);
  clearTimeout(timer);
  for (const w of running)
    if (w.exitCode === null && w.signalCode === null)
      w.kill("SIGKILL");
}
function define(command) {
  withCommon(command.argument("<dataset>", "a folder of images (sub-folders = classes), an IDX file or folder, a text file listing images, or fashion-mnist[:train|test]")).option("-l, --layers <names>", "layers to record, comma-separated (default: the model profile's feature layers: a mid layer and the last spatial one)").option("-s, --store <dir>", "store folder (LanceDB); an existing store of the same scan is resumed", DEFAULT_STORE).option("-k, --top <k>", "top-k images kept per channel (1-1024)", intIn(1, 1024), 16).option("--pool <how>", "feature vector of a feature map: avg or max over positions", "avg").option("--chunk <n>", "images per chunk (the unit of commit, resume and distribution)", positiveInt, 1024).option("--commit-every <n>", "images gathered before each commit to the store (default: max(chunk, 8192)); a crash loses at most this many", positiveInt).option("--batch <n>", "images per engine run (1-4096)", intIn(1, 4096), 256).option("--limit <n>", "scan only the first n images", positiveInt).option("--split <name>", "train or test, for IDX folders", "train").option("--fresh", "delete an existing store and start over").option("--redis <url>", "distribute the chunks over workers on this Redis (BullMQ), e.g. redis://127.0.0.1:6379").option("--queue <name>", "BullMQ queue name (default convlens-scan)").option("--spawn-workers <n>", "with --redis: also start n local worker processes", positiveInt).option("--json", "print the report as JSON").action(async (dataset, opts) => {
    const { openSource } = await import("./sources-LYKARYWI.js");
    const { indexDataset } = await import("./scan-ITH3Z7GQ.js");
    if (opts.pool !== "avg" && opts.pool !== "max")
      throw new ConvLensError("INVALID_ARGUMENT", `Unknown pooling "${opts.pool}".`, "Use --pool avg or --pool max.");
    if (opts.spawnWorkers && !opts.redis)
      throw new ConvLensError("INVALID_ARGUMENT", "--spawn-workers needs --redis.", "Pass --redis redis://127.0.0.1:6379 (start redis-server first).");
    const { checkSplit } = await import("./fashion-mnist-TK2OAGRP.js");
    const split = checkSplit(opts.split ?? "train");
    const { engine, model } = openModel(opts);
    if (!model.profile.input.fixed)
      throw new ConvLensError("MODEL_UNSUPPORTED", `Model "${model.name}" takes images of any size; the dataset lens scans models with a fixed input size.`, "Export the model with a fixed input size (e.g. [N, 3, 224, 224]).");
    const source = openSource(dataset, { split });
    const layers = opts.layers ? opts.layers.split(",").map((l) => l.trim()).filter(Boolean) : model.profile.featureLayers;
    const note = warner(opts, "note");
    const workers = [];
    if (opts.spawnWorkers) {
      const cli = fileURLToPath(new URL("../../../../bin/convlens.js", import.meta.url));
      for (let i = 0; i < opts.spawnWorkers; i++) {
        const w = spawn(process.execPath, [cli, "index-worker", "--redis", opts.redis, ...opts.queue ? ["--queue", opts.queue] : [], ...opts.threads ? ["--threads", String(opts.threads)] : [], "--quiet"], { stdio: ["ignore", "ignore", "inherit", "ipc"] });
        w.on("error", () => void 0);
        workers.push(w);
      }
      if (!opts.quiet)
        process.stderr.write(`started ${workers.length} local worker${workers.length > 1 ? "s" : ""} (pid ${workers.map((w) => w.pid).join(", ")})
`);
    }
    const job = cliJob(opts, "index", { terminate: true });
    let report;
    try {
      report = await indexDataset(model, source, opts.store, {
        layers,
        k: opts.top,
        pool: opts.pool,
        chunkSize: opts.chunk,
        batchSize: opts.batch,
        ...opts.commitEvery ? { commitImages: opts.commitEvery } : {},
        ...opts.limit ? { limit: opts.limit } : {},
        ...opts.fresh ? { fresh: true } : {},
        ...opts.model ? { modelPath: opts.model } : {},
        ...opts.redis ? { distributed: { redis: opts.redis, ...opts.queue ? { queue: opts.queue } : {}, log: note } } : {},
        ...job
      });
    } finally {
      job.done();
      await stopWorkers(workers);
      await engine.dispose();
    }
    for (const n of report.notes)
      note(n);
    if (opts.json) {
      process.stdout.write(`${JSON.stringify(report, null, 2)}
`);
      return;
    }
    const lines = [
      `store ${report.store}: ${report.count} images of ${source.description}, layers ${report.layers.join(", ")}`,
      report.scanned ? `scanned ${report.scanned} images in ${report.seconds.toFixed(1)} s (${report.imagesPerSecond.toFixed(0)} images/s, index building included)` : "nothing to scan: the store is complete"
    ];
    if (report.resumed)
      lines.push(`resumed: ${report.resumed} images were already in the store`);
    lines.push(report.indexed.length ? `vector indexes: ${report.indexed.join(", ")}` : "vector indexes: none (small tables are searched flat)");
    process.stdout.write(`${lines.join("\n")}
`);
  });
}
export {
  define
};
