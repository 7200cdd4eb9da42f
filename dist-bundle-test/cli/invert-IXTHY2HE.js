import {
  invert
} from "./chunk-ESG57PNP.js";
import "./chunk-UGNQJFIR.js";
import {
  displaySize,
  modelChannels,
  modelInputSize,
  readImageTensor,
  readModelImage,
  stack,
  summaryJson,
  toRaw
} from "./chunk-RJFHHHPN.js";
import "./chunk-UHZBCOBN.js";
import {
  OutputFiles,
  defaultOut
} from "./chunk-SEMCHPMJ.js";
import {
  choiceOption,
  cliJob,
  imageSize,
  intIn,
  modelInfo,
  nonNegative,
  nonNegativeInt,
  openModel,
  positiveInt,
  positiveNumber,
  withCommon
} from "./chunk-OMSJE7ZP.js";
import "./chunk-4KDPQESB.js";
import "./chunk-P6HER42Z.js";
import "./chunk-2RDMIJXC.js";
import {
  encodePng
} from "./chunk-JFQ3PAZH.js";
import "./chunk-X2V5Z5UO.js";
import "./chunk-75463JA6.js";
import "./chunk-4WR5QSMB.js";
import "./chunk-Y3QEK5WU.js";
import "./chunk-GNZAA2KB.js";
import {
  gridFigure
} from "./chunk-TUXGXZTB.js";
import "./chunk-N6ATQ4RF.js";

// dist/interfaces/cli/commands/invert.js
import { basename } from "node:path";
function define(command) {
  withCommon(command.addHelpText("after", "\nImages are resized or centre-cropped as predict does. The default layers are the model profile's inversion layers (`convlens summary` shows them).\n\nExamples:\n  convlens invert samples/fashion-mnist/ankle-boot-test0.png samples/fashion-mnist/bag-test18.png\n  convlens invert samples/photos/chelsea.png --model squeezenet --layers fires.1,fires.3,fires.5 --steps 200")).argument("<images...>", "image files").option("-l, --layers <names>", "layers to invert, comma-separated (default: the model profile's inversion layers, shallow to deep, and the logits)").option("--steps <n>", "optimization steps per layer (1-100000)", intIn(1, 1e5), 300).option("--lr <lr>", "Adam learning rate", positiveNumber, 0.05).option("--tv <w>", "weight of the total-variation (TV^2) prior at the input resolution; coarser layers get it times sqrt(pixels / layer positions)", nonNegative, 0.5).addOption(choiceOption("--optimizer <name>", "adam or lbfgs", ["adam", "lbfgs"], "adam")).option("--seed <n>", "seed of the noise start", nonNegativeInt, 0).option("--size <HxW>", "image size for models that take any size (default: their preprocessing size)", imageSize).option("-o, --out <dir>", "output folder", defaultOut("invert")).option("--tile <px>", "tile size in the grid", positiveInt, 112).option("--json", "print the summary JSON").action(async (images, opts) => {
    const out = new OutputFiles(opts.out);
    const { engine, model } = openModel(opts);
    const job = cliJob(opts, "invert");
    try {
      const free = !modelInputSize(model) && opts.size;
      const x = stack(await Promise.all(images.map((p) => free ? readImageTensor(p, modelChannels(model), { size: free }) : readModelImage(p, model))));
      const layers = opts.layers ? opts.layers.split(",").map((l) => l.trim()) : model.profile.inversionLayers;
      const r = await invert(model, x, { layers, steps: opts.steps, lr: opts.lr, tv: opts.tv, optimizer: opts.optimizer, seed: opts.seed, signal: job.signal, onProgress: job.onProgress });
      job.done();
      const rows = images.map((p, i) => ({
        lines: [basename(p).replace(/\.\w+$/, "")],
        cells: [displaySize(toRaw(x.data, x.dims, i), opts.tile), ...r.inversions.map((inv) => displaySize(toRaw(inv.images.data, inv.images.dims, i), opts.tile))]
      }));
      const heads = ["input", ...r.inversions.map((inv) => `${model.layerLabel(inv.layer)}
${model.facts(inv.layer).shape?.slice(1).join("\xD7") ?? ""}`)];
      out.write("grid.png", await gridFigure({ title: `Images reconstructed from each layer's features (${model.name})`, columns: heads, rows, notes: [`${opts.steps} Adam steps from noise; TV\xB2 prior weight ${opts.tv} x sqrt(image pixels / layer positions): ${r.inversions.map((i) => i.tvWeight.toFixed(1)).join(", ")}`] }));
      for (const inv of r.inversions)
        for (let i = 0; i < images.length; i++)
          out.write(`${basename(images[i]).replace(/\.\w+$/, "")}.${inv.layer.replace(/[^\w.-]+/g, "_")}.png`, await encodePng(toRaw(inv.images.data, inv.images.dims, i)));
      const text = summaryJson({ command: "invert", model: modelInfo(model, opts), params: r.params, layers: r.inversions.map((inv) => ({ layer: inv.layer, shape: model.facts(inv.layer).shape, featureDistance: inv.distance, pixelMse: inv.pixelError })), grid: "grid.png" });
      out.write("summary.json", text);
      if (opts.json)
        process.stdout.write(text);
      out.report(opts);
    } finally {
      job.done();
      await engine.dispose();
    }
  });
}
export {
  define
};
