import {
  MAX_THREADS,
  positiveInt,
  threadCount
} from "./chunk-OMSJE7ZP.js";
import "./chunk-4KDPQESB.js";
import "./chunk-P6HER42Z.js";
import "./chunk-2RDMIJXC.js";
import "./chunk-X2V5Z5UO.js";
import "./chunk-75463JA6.js";
import "./chunk-4WR5QSMB.js";
import "./chunk-Y3QEK5WU.js";
import "./chunk-N6ATQ4RF.js";

// dist/interfaces/cli/commands/index-worker.js
function define(command) {
  command.option("--threads <n>", `ONNX Runtime intra-op threads (1-${MAX_THREADS})`, threadCount).option("-q, --quiet", "no log lines").requiredOption("--redis <url>", "Redis URL, e.g. redis://127.0.0.1:6379").option("--queue <name>", "BullMQ queue name", "convlens-scan").option("--concurrency <n>", "chunks at once", positiveInt, 1).option("--lock-ms <ms>", "job lock time: a dead worker's chunk goes to another worker after this", positiveInt, 3e4).option("--max-jobs <n>", "exit after n chunks", positiveInt).action(async (opts) => {
    const { runScanWorker } = await import("./distributed-ILRA6YVU.js");
    const controller = new AbortController();
    const abandon = new AbortController();
    const stop = () => (controller.signal.aborted ? abandon : controller).abort();
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
    if (process.channel)
      process.on("disconnect", () => abandon.abort());
    const log = opts.quiet ? void 0 : (line) => void process.stderr.write(`index-worker: ${line}
`);
    const r = await runScanWorker({
      redis: opts.redis,
      queue: opts.queue,
      concurrency: opts.concurrency,
      lockMs: opts.lockMs,
      ...opts.threads ? { threads: opts.threads } : {},
      ...opts.maxJobs ? { maxJobs: opts.maxJobs } : {},
      signal: controller.signal,
      abandon: abandon.signal,
      ...log ? { log } : {}
    });
    log?.(`stopped after ${r.jobs} chunks`);
    process.exit(0);
  });
}
export {
  define
};
