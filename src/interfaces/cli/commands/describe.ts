import { basename, dirname, isAbsolute, join, normalize } from 'node:path';
import type { Command } from 'commander';
import { ConvLensError } from '../../../engine/errors.js';
import { decodeModel } from '../../../engine/onnx/codec.js';
import { readFileOrExplain, writeFileAtomic } from '../../../io/files.js';
import { findBuiltin } from '../../../models/builtins.js';
import { readModelMetadata, setModelMetadata } from '../../../models/describe.js';
import { METADATA_KEYS, metadataEntries, type ModelMetadata } from '../../../models/metadata.js';
import { Model } from '../../../models/model.js';
import { describeProfile, ROLE_NAMES } from '../../../models/profile.js';
import { parseJson } from '../../../util/json.js';
import { applyDescription, type CommonOptions, createEngine, outPath, withModelOptions } from '../common.js';
import { defaultOut } from '../output.js';

interface DescribeCli extends CommonOptions {
  out?: string;
  description?: string;
  samples?: string;
  provenance?: string;
  profile?: string;
  json?: boolean;
}

/** JSON given inline or as @file. */
function jsonArgument(spec: string, what: string): unknown {
  const text = spec.startsWith('@') ? readFileOrExplain(spec.slice(1), `${what} file`).toString('utf8') : spec;
  const parsed = parseJson(text);
  if (parsed.fault !== undefined) {
    throw new ConvLensError('INVALID_ARGUMENT', `Cannot read the ${what} as JSON (${parsed.fault}).`, `Give a JSON object inline or as @file.json, e.g. {"dreamLayer": "<layer>", "styleLayers": ["<a>", "<b>"]}; roles: ${ROLE_NAMES.join(', ')}.`);
  }
  return parsed.value;
}

export function define(command: Command): void {
  withModelOptions(command, 'the ONNX model to describe (a file, or a built-in name to start from its file)')
    .addHelpText(
      'after',
      `
Writes what ConvLens needs to know about a model into the file's metadata_props (every other
byte of the file is kept), so every command and the studio use it without flags.

Examples:
  convlens describe --model resnet50.onnx --labels imagenet-labels.txt --preprocess imagenet -o resnet50.described.onnx
  convlens describe --model m.onnx --preprocess '{"size":[96,96],"range":[0,1],"mean":[0.5,0.5,0.5],"std":[0.5,0.5,0.5],"resize":"stretch"}' --samples photos -o m2.onnx
  convlens describe --model celeba.onnx --output-kind multi-label --labels attributes.txt -o celeba.described.onnx
  convlens describe --model age.onnx --output-kind regression --labels age.txt -o age.described.onnx
  convlens describe --model m.onnx --profile '{"dreamLayer":"/layer3/layer3.1/relu_1/Relu_output_0"}' -o m2.onnx`,
    )
    .option('-o, --out <file>', 'the described model to write (default: out/describe/<name>.onnx; may be the input file itself)', outPath)
    .option('--description <text>', 'one line saying what the model is')
    .option('--samples <group>', 'the sample folder whose images fit the model (photos, fashion-mnist, textures, ...)')
    .option('--provenance <text>', 'where the weights come from and their licence')
    .option('--profile <json|@file>', `layer roles (JSON object with any of ${ROLE_NAMES.join(', ')}); checked against the graph`)
    .option('-q, --quiet', 'no warnings')
    .option('--json', 'print the written metadata as JSON')
    .action(async (opts: DescribeCli) => {
      if (!opts.model) throw new ConvLensError('INVALID_ARGUMENT', 'Which model? --model is required.', 'convlens describe --model m.onnx --labels labels.txt --preprocess imagenet -o m.described.onnx');
      const builtin = findBuiltin(opts.model);
      const file = builtin?.file ?? opts.model;
      const bytes = new Uint8Array(readFileOrExplain(file, 'model file'));
      const out = opts.out ?? defaultOut('describe', `${basename(file).replace(/\.onnx$/i, '')}.onnx`);
      const engine = createEngine({});
      try {
        const readExternal = (location: string): Uint8Array => {
          if (isAbsolute(location) || normalize(location).startsWith('..')) throw new Error('external-data locations must stay inside the model folder');
          return readFileOrExplain(join(dirname(file), location), `external data "${location}" of model`);
        };
        const decoded = decodeModel(bytes, { source: `model file "${file}"`, readExternal });
        if (opts.outputKind) decoded.metadata.set(METADATA_KEYS.output, opts.outputKind);
        const model = Model.fromOnnxGraph(decoded, engine, builtin?.name ?? basename(file).replace(/\.onnx$/i, ''));
        applyDescription(model, { ...opts, quiet: true });
        const parts: Partial<Omit<ModelMetadata, 'warnings'>> = {
          ...(opts.labels ? { labels: model.meta.labels } : {}),
          ...(opts.preprocess ? { preprocessing: model.meta.preprocessing } : {}),
          ...(opts.description !== undefined ? { description: opts.description } : {}),
          ...(opts.samples !== undefined ? { samples: opts.samples } : {}),
          ...(opts.provenance !== undefined ? { provenance: opts.provenance } : {}),
          ...(opts.outputKind ? { outputKind: opts.outputKind } : {}),
        };
        if (opts.profile !== undefined) {
          const profile = jsonArgument(opts.profile, 'profile');
          if (!profile || typeof profile !== 'object' || Array.isArray(profile)) throw new ConvLensError('INVALID_ARGUMENT', 'The profile must be a JSON object of roles.', `Roles: ${ROLE_NAMES.join(', ')}.`);
          model.meta.profile = profile as Record<string, unknown>;
          model.describe({}); // recompute the profile with these roles
          if (model.profile.rejectedRoles.length) {
            throw new ConvLensError('INVALID_ARGUMENT', `The profile does not fit the model, so nothing was written: ${model.profile.rejectedRoles.join('; ')}.`, '`convlens summary --model ...` lists the layers.');
          }
          parts.profile = profile as Record<string, unknown>;
        }
        if (opts.samples !== undefined) model.meta.samples = opts.samples;
        const entries = metadataEntries(parts);
        if (!entries.size) throw new ConvLensError('INVALID_ARGUMENT', 'Nothing to write.', 'Pass --labels, --preprocess, --output-kind, --description, --samples, --provenance or --profile.');
        const described = setModelMetadata(bytes, entries, [], `model file "${file}"`);
        decodeModel(described, { source: 'the described model', readExternal }); // never write a file that does not read back
        writeFileAtomic(out, described);
        const after = readModelMetadata(described);
        const written = Object.fromEntries([...entries.keys()].map((k) => [k, k === METADATA_KEYS.description || k === METADATA_KEYS.samples || k === METADATA_KEYS.provenance || k === METADATA_KEYS.output ? after.get(k) : JSON.parse(after.get(k)!)]));
        if (opts.json) process.stdout.write(`${JSON.stringify({ model: file, out, metadata: written }, null, 2)}\n`);
        else {
          const lines = [`${file} -> ${out}`, ...[...entries.keys()].map((k) => `  ${k}: ${summarizeEntry(after.get(k)!)}`)];
          if (!opts.quiet) lines.push('profile:', ...describeProfile(model.profile, (v) => model.layerLabel(v)).map((l) => `  ${l}`));
          process.stdout.write(`${lines.join('\n')}\n`);
        }
      } finally {
        await engine.dispose();
      }
    });
}

function summarizeEntry(value: string): string {
  return value.length > 100 ? `${value.slice(0, 97)}...` : value;
}
