// Hints and warnings are written once, for the CLI, naming its flags and commands. The studio
// shows the same text, where the user has no flags: hintForStudio rewrites the CLI's ways out
// into the studio's own controls. Two conventions make that possible without a second copy of
// every message: a flag that only annotates the way out is written as an aside, "(CLI: --steps)",
// which the studio drops; a way out that only the CLI offers in its own words is one of the
// phrases below, each with what the studio offers instead. No Node imports: the page's engine
// worker uses this too.

/** Ways out the CLI and the studio offer through different controls: [CLI text, studio text]. */
export const WAYS_OUT = {
  describeLabels: {
    cli: 'pass --labels FILE (one name per line, or a JSON list), or write them into the model once: convlens describe --model m.onnx --labels FILE -o m.described.onnx',
    // the field reads "Class names", or "Output names" for a regression: the warning already says which
    studio: 'name them under "Describe this model"',
  },
  describePreprocessing: {
    cli: 'pass --preprocess imagenet|imagenet-crop|unit-range|JSON, or write it into the model once: convlens describe --model m.onnx --preprocess ... -o m.described.onnx',
    studio: 'set it under "Describe this model" (Preprocessing)',
  },
  preprocessChannels: {
    cli: 'Set the preprocessing channels to match the model (--preprocess JSON with "channels").',
    studio: 'Set the preprocessing channels to match the model under "Describe this model" (Preprocessing, JSON with "channels").',
  },
  /** ends "(N, <channels>, H, W)." in the hint */
  npyInput: {
    cli: 'Images give 1 or 3 channels: pass preprocessed .npy tensors of shape',
    studio: 'The studio feeds it images only, so here its layers and filters can be looked at; to run it, give the CLI (convlens predict x.npy --model m.onnx) preprocessed .npy tensors of shape',
  },
  /** ends a hint about onnxruntime-web's 4 GB of WebAssembly memory */
  webMemory: {
    cli: 'onnxruntime-node, in Node, has the whole machine\'s',
    studio: 'compute on the server instead, which has the whole machine\'s',
  },
} as const;

export type WayOut = keyof typeof WAYS_OUT;

// "`convlens summary`" names where the layers are listed; "`convlens predict`" where the labels
// show. (A backslash before a backquote lets the hint test read them in template source text.)
const CLI_COMMANDS: readonly [RegExp, string][] = [
  [/\\?`convlens summary(?: --model <file>)?\\?`/g, 'the Layers tab'],
  [/\\?`convlens predict\\?`/g, 'the Prediction panel'],
];

/**
 * A hint or warning written for the CLI, as the studio shows it: CLI-only asides dropped
 * ("(CLI: --steps)", "; CLI: --window"), the CLI's ways out replaced by the studio's.
 */
export function hintForStudio(text: string): string {
  let out = text;
  for (const way of Object.values(WAYS_OUT)) out = out.split(way.cli).join(way.studio);
  // a command that began a sentence ("… fires.1. `convlens summary` lists …") begins it still, capitalized
  for (const [cli, studio] of CLI_COMMANDS) out = out.replace(cli, (_m: string, at: number, all: string) => (/(^|[.!?]\s+)$/.test(all.slice(0, at)) ? studio[0]!.toUpperCase() + studio.slice(1) : studio));
  return (
    out
      // "(occlusion "window"; CLI: --window)" keeps what precedes the aside
      .replace(/;\s*CLI:[^()]*(?:\([^()]*\)[^()]*)*\)/g, ')')
      .replace(/\s*\(CLI:[^()]*(?:\([^()]*\)[^()]*)*\)/g, '')
  );
}
