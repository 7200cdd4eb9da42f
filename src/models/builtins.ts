// The models that ship with ConvLens, by name: `--model fashion-cnn` (the default) and
// `--model squeezenet`. A built-in name resolves before a file path of the same spelling.
import { fileURLToPath } from 'node:url';

export interface BuiltinModel {
  /** what --model takes */
  name: string;
  aliases: string[];
  /** shown in lists (the studio's model picker, errors) */
  title: string;
  /** absolute path of the .onnx inside the package */
  file: string;
  /** the sample folder whose images fit it (also in the file's metadata, convlens.samples) */
  sampleGroup: string;
}

const asset = (relative: string): string => fileURLToPath(new URL(`../../assets/models/${relative}`, import.meta.url));

export const BUILTIN_MODELS: readonly BuiltinModel[] = [
  { name: 'fashion-cnn', aliases: ['fashion', 'fashion-mnist', 'cnn', 'builtin'], title: 'Fashion-MNIST CNN (built-in, 28x28 gray)', file: asset('fashion-cnn.onnx'), sampleGroup: 'fashion-mnist' },
  { name: 'squeezenet', aliases: ['squeezenet1.1', 'squeezenet1_1', 'squeezenet-1.1'], title: 'SqueezeNet 1.1, ImageNet (built-in, 224x224 RGB)', file: asset('squeezenet1.1/squeezenet1.1.onnx'), sampleGroup: 'photos' },
];

/** The model every command uses without --model. */
export const DEFAULT_BUILTIN = BUILTIN_MODELS[0]!;

/** The built-in a --model value names (case-insensitive, aliases included), if any. */
export function findBuiltin(spec: string): BuiltinModel | undefined {
  const key = spec.trim().toLowerCase();
  return BUILTIN_MODELS.find((m) => m.name === key || m.aliases.includes(key));
}
