import {
  loadInputs
} from "./chunk-TB3I72ED.js";
import {
  encodeNpy
} from "./chunk-H7NAK5QP.js";
import {
  defaultOut
} from "./chunk-SEMCHPMJ.js";
import {
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

// dist/interfaces/cli/commands/activations.js
import { join } from "node:path";
function define(command) {
  withCommon(command).argument("<inputs...>", "image files or .npy tensors").option("-l, --layer <names>", "layers, comma-separated: value or node names, module paths, or #k as numbered by `convlens summary` (default: the model profile's feature layers)").addHelpText("after", "\nExamples:\n  convlens activations samples/photos/chelsea.png --model squeezenet            # the profile's feature layers\n  convlens activations samples/photos/chelsea.png --model squeezenet --layer fires.3,#40\n  convlens activations samples/fashion-mnist/bag-test18.png --layer input").option("-o, --out <dir>", "output folder", defaultOut("activations")).action(async (inputs, opts) => {
    const { engine, model } = openModel(opts);
    const layers = opts.layer ? opts.layer.split(",").map((l) => model.resolveLayer(l.trim())) : model.profile.featureLayers;
    const { batch } = await loadInputs(inputs, model);
    const values = await model.run(batch, layers);
    for (const l of layers) {
      const file = join(opts.out, `${l.replace(/[^\w.-]+/g, "_")}.npy`);
      writeFileAtomic(file, encodeNpy(values[l]));
      process.stdout.write(`${l} [${values[l].dims.join(", ")}] -> ${file}
`);
    }
    await engine.dispose();
  });
}
export {
  define
};
