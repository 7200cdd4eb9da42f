import {
  ConvLensError
} from "./chunk-N6ATQ4RF.js";

// dist/interfaces/cli/main.js
import { Command } from "commander";

// dist/interfaces/cli/registry.js
var COMMANDS = [
  { name: "studio", summary: "start the interactive studio (a local web app) and print its URL", load: () => import("./studio-CJWGYB7I.js") },
  { name: "summary", summary: "layer table: output shapes, parameters, FLOPs, receptive fields", load: () => import("./summary-IM42ZOVI.js") },
  { name: "predict", summary: "top-k classes for images (PNG/JPEG/WebP) or preprocessed .npy tensors", load: () => import("./predict-3R66ZLZY.js") },
  { name: "describe", summary: "write class names, preprocessing, layer roles and provenance into an ONNX model's metadata, so every command and the studio know them", load: () => import("./describe-ZWJHW4JK.js") },
  { name: "activations", summary: "write the values of any layer (intermediate tensor) as .npy", load: () => import("./activations-NVXDGMQR.js") },
  { name: "train", summary: "train an image classifier on Fashion-MNIST and write a self-describing ONNX model", load: () => import("./train-4GJBWHDX.js") },
  { name: "evaluate", summary: "accuracy, per-class accuracy and a confusion-matrix image on Fashion-MNIST", load: () => import("./evaluate-DIBO6PEU.js") },
  { name: "explain", summary: "attribution maps (saliency, Integrated Gradients, occlusion, Grad-CAM, ...) as PNGs, a labelled grid, raw .npy and a JSON summary", load: () => import("./explain-SG5S3XLT.js") },
  { name: "featviz", summary: "feature visualization by gradient ascent (Lucid-style): a class, channel, neuron or layer objective; result, strip of steps, GIF", load: () => import("./featviz-Q3PIR4RM.js") },
  { name: "adversarial", summary: "adversarial examples: FGSM or PGD, targeted or untargeted, L-inf or L2 budget; new prediction, perturbation norms, amplified perturbation", load: () => import("./adversarial-PK24E7JU.js") },
  { name: "invert", summary: "feature inversion (Mahendran & Vedaldi): reconstruct images from a layer's features with a TV prior; a grid over layers", load: () => import("./invert-IXTHY2HE.js") },
  { name: "dream", summary: "DeepDream: amplify what a layer (or channel) sees, over octaves with detail re-injection, jitter and L1-normalized steps; guided by another image's features with --guide", load: () => import("./dream-THNTPSLN.js") },
  { name: "style", summary: "neural style transfer and texture synthesis by Gram matching (Gatys et al.), or one pass of a trained fast style network (--net)", load: () => import("./style-PXAJZTRT.js") },
  { name: "style-train", summary: "train a fast style-transfer network (Johnson et al.; conditional instance norm: one network, several styles) and export it as ONNX", load: () => import("./style-train-SPQCXSQU.js") },
  { name: "index", summary: "scan a dataset through the model into a store: top-k activations per channel and a feature vector per image (resumable)", load: () => import("./commands-KIUWIVVR.js") },
  { name: "index-worker", summary: "run chunks of distributed `convlens index --redis` scans (BullMQ worker) until stopped; the model and dataset come with each job", load: () => import("./index-worker-AOYWYOP7.js") },
  { name: "patches", summary: "the image patches that most activate each channel of a layer (from an index), with their guided-backprop maps", load: () => import("./patches-RIY3J5BA.js") },
  { name: "neighbors", summary: "nearest images in a layer's feature space and in pixel space (from an index)", aliases: ["neighbours"], load: () => import("./neighbors-M2GMG2KI.js") },
  { name: "embed", summary: "2-D embeddings (PCA, t-SNE, UMAP) of a layer's feature vectors: class-coloured scatter and image grid", load: () => import("./embed-APVJPEH2.js") },
  { name: "diffuse", summary: "diffusion: forward noising, training a denoiser, guided sampling you can watch", load: () => import("./diffuse-XQVJ22ND.js") }
];

// dist/interfaces/cli/main.js
var program = new Command();
program.name("convlens").description("See inside convolutional vision models and make images with them: summaries, predictions, explanations, dataset search, synthesis, diffusion.").showHelpAfterError().configureOutput({ outputError: (str, write) => write(str) });
function prepare(entry) {
  const command = program.command(entry.name).description(entry.summary);
  for (const alias of entry.aliases ?? [])
    command.alias(alias);
  return command;
}
function requested(args) {
  const words = args.filter((a) => !a.startsWith("-"));
  const name = words[0] === "help" ? words[1] : words[0];
  return COMMANDS.find((c) => c.name === name || c.aliases?.includes(name ?? ""));
}
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (e) => {
    if (e.code === "EPIPE")
      process.exit(0);
    throw e;
  });
}
try {
  const entry = requested(process.argv.slice(2));
  if (entry) {
    (await entry.load()).define(prepare(entry));
  } else {
    for (const c of COMMANDS)
      prepare(c);
  }
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof ConvLensError) {
    process.stderr.write(`convlens: ${e.describe()}
`);
    process.exit(e.code === "CANCELLED" ? 130 : 1);
  }
  throw e;
}
