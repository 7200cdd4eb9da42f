import {
  predict
} from "./chunk-R7SGPERG.js";
import {
  loadInputs
} from "./chunk-TB3I72ED.js";
import {
  encodeNpy
} from "./chunk-H7NAK5QP.js";
import {
  intIn,
  openModel,
  withCommon
} from "./chunk-OMSJE7ZP.js";
import "./chunk-4KDPQESB.js";
import "./chunk-P6HER42Z.js";
import "./chunk-2RDMIJXC.js";
import "./chunk-JFQ3PAZH.js";
import "./chunk-X2V5Z5UO.js";
import "./chunk-75463JA6.js";
import {
  writeFileAtomic
} from "./chunk-4WR5QSMB.js";
import "./chunk-Y3QEK5WU.js";
import "./chunk-N6ATQ4RF.js";

// dist/interfaces/cli/commands/predict.js
function define(command) {
  withCommon(command).argument("<inputs...>", "image files or .npy tensors (NCHW or CHW float32)").option("-k, --top <k>", "how many classes to show (1-1000)", intIn(1, 1e3), 5).option("--npy <file>", "also write the raw logits [N, classes] as .npy").option("--json", "print predictions as JSON").action(async (inputs, opts) => {
    const { engine, model } = openModel(opts);
    const { batch, items } = await loadInputs(inputs, model);
    const { logits, predictions, nonFinite } = await predict(model, batch, opts.top);
    for (const i of nonFinite)
      process.stderr.write(`warning: the model's outputs for ${items[i].source} are NaN or infinite, so its probabilities mean nothing${model.meta.warnings.some((w) => w.includes("NaN")) ? " (see the warning about its parameters)" : ""}
`);
    if (opts.npy)
      writeFileAtomic(opts.npy, encodeNpy(logits));
    if (opts.json) {
      process.stdout.write(`${JSON.stringify(items.map((it, i) => ({ input: it.source, top: predictions[i].top })), null, 2)}
`);
    } else {
      items.forEach((it, i) => {
        process.stdout.write(`${it.source}
`);
        for (const p of predictions[i].top) {
          const bar = "#".repeat(Math.round(p.probability * 30));
          process.stdout.write(`  ${p.label.padEnd(16)} ${(p.probability * 100).toFixed(2).padStart(6)}%  ${bar}
`);
        }
      });
    }
    await engine.dispose();
  });
}
export {
  define
};
