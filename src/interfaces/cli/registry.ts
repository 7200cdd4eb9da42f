import type { Command } from 'commander';

/** What a command module exports: its options, arguments and action, added to a prepared command. */
export interface CommandModule {
  define(command: Command): void;
}

export interface CommandEntry {
  name: string;
  /** one line for `convlens --help` and the command's own help */
  summary: string;
  aliases?: string[];
  /** the command's module, imported only when the command runs (or shows its own help) */
  load(): Promise<CommandModule>;
}

/**
 * Every CLI command, one module each (commands/<name>.ts). Modules are imported lazily so that
 * a command loads only the libraries it uses and `convlens --help` loads none of them.
 */
export const COMMANDS: CommandEntry[] = [
  { name: 'studio', summary: 'start the interactive studio (a local web app) and print its URL', load: () => import('./commands/studio.js') },
  { name: 'summary', summary: 'layer table: output shapes, parameters, FLOPs, receptive fields', load: () => import('./commands/summary.js') },
  { name: 'predict', summary: 'top-k classes for images (PNG/JPEG/WebP) or preprocessed .npy tensors', load: () => import('./commands/predict.js') },
  { name: 'describe', summary: 'write class names, preprocessing, layer roles and provenance into an ONNX model\'s metadata, so every command and the studio know them', load: () => import('./commands/describe.js') },
  { name: 'activations', summary: 'write the values of any layer (intermediate tensor) as .npy', load: () => import('./commands/activations.js') },
  { name: 'train', summary: 'train an image classifier on Fashion-MNIST and write a self-describing ONNX model', load: () => import('./commands/train.js') },
  { name: 'evaluate', summary: 'accuracy, per-class accuracy and a confusion-matrix image on Fashion-MNIST', load: () => import('./commands/evaluate.js') },
  { name: 'explain', summary: 'attribution maps (saliency, Integrated Gradients, occlusion, Grad-CAM, ...) as PNGs, a labelled grid, raw .npy and a JSON summary', load: () => import('./commands/explain.js') },
  { name: 'channels', summary: 'which channels of a layer carry a prediction (layer gradient x activation, integrated gradients, DeepLIFT, ablation): top channels, their shares, a figure of their maps', load: () => import('./commands/channels.js') },
  { name: 'concepts', summary: 'deep feature factorization: a layer\'s activations over the images split into concepts by NMF, each named by the classes the network gives it, drawn over the images', load: () => import('./commands/concepts.js') },
  { name: 'featviz', summary: 'feature visualization by gradient ascent (Lucid-style): a class, channel, neuron or layer objective; result, strip of steps, GIF', load: () => import('./commands/featviz.js') },
  { name: 'adversarial', summary: 'adversarial examples: FGSM or PGD, targeted or untargeted, L-inf or L2 budget; new prediction, perturbation norms, amplified perturbation', load: () => import('./commands/adversarial.js') },
  { name: 'invert', summary: 'feature inversion (Mahendran & Vedaldi): reconstruct images from a layer\'s features with a TV prior; a grid over layers', load: () => import('./commands/invert.js') },
  { name: 'dream', summary: 'DeepDream: amplify what a layer (or channel) sees, over octaves with detail re-injection, jitter and L1-normalized steps; guided by another image\'s features with --guide', load: () => import('./commands/dream.js') },
  { name: 'style', summary: 'neural style transfer and texture synthesis by Gram matching (Gatys et al.), or one pass of a trained fast style network (--net)', load: () => import('./commands/style.js') },
  { name: 'style-train', summary: 'train a fast style-transfer network (Johnson et al.; conditional instance norm: one network, several styles) and export it as ONNX', load: () => import('./commands/style-train.js') },
  { name: 'index', summary: 'scan a dataset through the model into a store: top-k activations per channel and a feature vector per image (resumable)', load: () => import('./commands/index.js') },
  { name: 'index-worker', summary: 'run chunks of distributed `convlens index --redis` scans (BullMQ worker) until stopped; the model and dataset come with each job', load: () => import('./commands/index-worker.js') },
  { name: 'patches', summary: 'the image patches that most activate each channel of a layer (from an index), with their guided-backprop maps', load: () => import('./commands/patches.js') },
  { name: 'neighbors', summary: 'nearest images in a layer\'s feature space and in pixel space (from an index)', aliases: ['neighbours'], load: () => import('./commands/neighbors.js') },
  { name: 'embed', summary: '2-D embeddings (PCA, t-SNE, UMAP) of a layer\'s feature vectors: class-coloured scatter and image grid', load: () => import('./commands/embed.js') },
  { name: 'diffuse', summary: 'diffusion: forward noising, training a denoiser, guided sampling you can watch', load: () => import('./commands/diffuse.js') },
];
