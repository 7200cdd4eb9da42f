import {
  defaultOut
} from "./chunk-SEMCHPMJ.js";
import {
  applyDescription,
  createEngine,
  withModelOptions
} from "./chunk-OMSJE7ZP.js";
import "./chunk-4KDPQESB.js";
import {
  METADATA_KEYS,
  Model,
  ROLE_NAMES,
  decodeModel,
  describeProfile,
  findBuiltin,
  metadataEntries
} from "./chunk-P6HER42Z.js";
import "./chunk-2RDMIJXC.js";
import "./chunk-X2V5Z5UO.js";
import "./chunk-75463JA6.js";
import {
  readFileOrExplain,
  writeFileAtomic
} from "./chunk-4WR5QSMB.js";
import "./chunk-Y3QEK5WU.js";
import {
  ConvLensError
} from "./chunk-N6ATQ4RF.js";

// dist/interfaces/cli/commands/describe.js
import { readFileSync } from "node:fs";
import { basename, dirname, isAbsolute, join, normalize } from "node:path";

// dist/models/describe.js
var METADATA_FIELD = 14;
function readVarint(bytes, pos) {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= bytes.length)
      throw new Error("truncated varint");
    const b = bytes[pos++];
    value += (b & 127) * scale;
    if (b < 128)
      return { value, next: pos };
    scale *= 128;
  }
  throw new Error("varint longer than 10 bytes");
}
function* fields(bytes, start = 0, end = bytes.length) {
  let pos = start;
  while (pos < end) {
    const fieldStart = pos;
    const tag = readVarint(bytes, pos);
    pos = tag.next;
    const number = Math.floor(tag.value / 8);
    const wireType = tag.value % 8;
    let payloadStart = pos;
    switch (wireType) {
      case 0:
        pos = readVarint(bytes, pos).next;
        break;
      case 1:
        pos += 8;
        break;
      case 2: {
        const len = readVarint(bytes, pos);
        payloadStart = len.next;
        pos = len.next + len.value;
        break;
      }
      case 5:
        pos += 4;
        break;
      default:
        throw new Error(`unsupported wire type ${wireType}`);
    }
    if (pos > end)
      throw new Error("field runs past the end of the message");
    yield { number, wireType, start: fieldStart, end: pos, payloadStart };
  }
}
function varint(n) {
  const out = [];
  while (n >= 128) {
    out.push(n % 128 | 128);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}
function lengthDelimited(number, payload) {
  const head = [...varint(number * 8 + 2), ...varint(payload.length)];
  const out = new Uint8Array(head.length + payload.length);
  out.set(head, 0);
  out.set(payload, head.length);
  return out;
}
var utf8 = new TextEncoder();
var fromUtf8 = new TextDecoder();
function entryKey(bytes, f) {
  for (const g of fields(bytes, f.payloadStart, f.end))
    if (g.number === 1 && g.wireType === 2)
      return fromUtf8.decode(bytes.subarray(g.payloadStart, g.end));
  return void 0;
}
function readModelMetadata(bytes) {
  const out = /* @__PURE__ */ new Map();
  for (const f of fields(bytes)) {
    if (f.number !== METADATA_FIELD || f.wireType !== 2)
      continue;
    let key;
    let value = "";
    for (const g of fields(bytes, f.payloadStart, f.end)) {
      if (g.wireType !== 2)
        continue;
      const s = fromUtf8.decode(bytes.subarray(g.payloadStart, g.end));
      if (g.number === 1)
        key = s;
      else if (g.number === 2)
        value = s;
    }
    if (key !== void 0)
      out.set(key, value);
  }
  return out;
}
function setModelMetadata(bytes, set, remove = [], source = "the model") {
  const parts = [];
  try {
    for (const f of fields(bytes)) {
      if (f.number === METADATA_FIELD && f.wireType === 2) {
        const key = entryKey(bytes, f);
        if (key !== void 0 && (set.has(key) || remove.includes(key)))
          continue;
      }
      parts.push(bytes.subarray(f.start, f.end));
    }
  } catch (e) {
    throw new ConvLensError("MODEL_UNREADABLE", `Cannot read ${source} as an ONNX model: ${e.message}.`, "The file is truncated or is not an ONNX protobuf; re-export or re-download it.", { cause: e });
  }
  for (const [key, value] of set) {
    parts.push(lengthDelimited(METADATA_FIELD, concatBytes([lengthDelimited(1, utf8.encode(key)), lengthDelimited(2, utf8.encode(value))])));
  }
  return concatBytes(parts);
}
function concatBytes(parts) {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
  return out;
}

// dist/interfaces/cli/commands/describe.js
function jsonArgument(spec, what) {
  const text = spec.startsWith("@") ? readFileOrExplain(spec.slice(1), `${what} file`).toString("utf8") : spec;
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ConvLensError("INVALID_ARGUMENT", `Cannot read the ${what} as JSON: ${e.message}.`, `Give a JSON object inline or as @file.json, e.g. {"dreamLayer": "<layer>", "styleLayers": ["<a>", "<b>"]}; roles: ${ROLE_NAMES.join(", ")}.`);
  }
}
function define(command) {
  withModelOptions(command, "the ONNX model to describe (a file, or a built-in name to start from its file)").addHelpText("after", `
Writes what ConvLens needs to know about a model into the file's metadata_props (every other
byte of the file is kept), so every command and the studio use it without flags.

Examples:
  convlens describe --model resnet50.onnx --labels imagenet-labels.txt --preprocess imagenet -o resnet50.described.onnx
  convlens describe --model m.onnx --preprocess '{"size":[96,96],"range":[0,1],"mean":[0.5,0.5,0.5],"std":[0.5,0.5,0.5],"resize":"stretch"}' --samples photos -o m2.onnx
  convlens describe --model m.onnx --profile '{"dreamLayer":"/layer3/layer3.1/relu_1/Relu_output_0"}' -o m2.onnx`).option("-o, --out <file>", "the described model to write (default: out/describe/<name>.onnx; may be the input file itself)").option("--description <text>", "one line saying what the model is").option("--samples <group>", "the sample folder whose images fit the model (photos, fashion-mnist, textures, ...)").option("--provenance <text>", "where the weights come from and their licence").option("--profile <json|@file>", `layer roles (JSON object with any of ${ROLE_NAMES.join(", ")}); checked against the graph`).option("-q, --quiet", "no warnings").option("--json", "print the written metadata as JSON").action(async (opts) => {
    if (!opts.model)
      throw new ConvLensError("INVALID_ARGUMENT", "Which model? --model is required.", "convlens describe --model m.onnx --labels labels.txt --preprocess imagenet -o m.described.onnx");
    const builtin = findBuiltin(opts.model);
    const file = builtin?.file ?? opts.model;
    const bytes = new Uint8Array(readFileOrExplain(file, "model file"));
    const out = opts.out ?? defaultOut("describe", `${basename(file).replace(/\.onnx$/i, "")}.onnx`);
    const engine = createEngine({});
    try {
      const readExternal = (location) => {
        if (isAbsolute(location) || normalize(location).startsWith(".."))
          throw new Error("external-data locations must stay inside the model folder");
        return readFileSync(join(dirname(file), location));
      };
      const model = Model.fromOnnxGraph(decodeModel(bytes, { source: `model file "${file}"`, readExternal }), engine, builtin?.name ?? basename(file).replace(/\.onnx$/i, ""));
      applyDescription(model, { ...opts, quiet: true });
      const parts = {
        ...opts.labels ? { labels: model.meta.labels } : {},
        ...opts.preprocess ? { preprocessing: model.meta.preprocessing } : {},
        ...opts.description !== void 0 ? { description: opts.description } : {},
        ...opts.samples !== void 0 ? { samples: opts.samples } : {},
        ...opts.provenance !== void 0 ? { provenance: opts.provenance } : {}
      };
      if (opts.profile !== void 0) {
        const profile = jsonArgument(opts.profile, "profile");
        if (!profile || typeof profile !== "object" || Array.isArray(profile))
          throw new ConvLensError("INVALID_ARGUMENT", "The profile must be a JSON object of roles.", `Roles: ${ROLE_NAMES.join(", ")}.`);
        model.meta.profile = profile;
        model.describe({});
        if (model.profile.warnings.length)
          throw new ConvLensError("INVALID_ARGUMENT", `The profile does not fit the model: ${model.profile.warnings.join("; ")}.`, "`convlens summary --model ...` lists the layers.");
        parts.profile = profile;
      }
      if (opts.samples !== void 0)
        model.meta.samples = opts.samples;
      const entries = metadataEntries(parts);
      if (!entries.size)
        throw new ConvLensError("INVALID_ARGUMENT", "Nothing to write.", "Pass --labels, --preprocess, --description, --samples, --provenance or --profile.");
      const described = setModelMetadata(bytes, entries, [], `model file "${file}"`);
      decodeModel(described, { source: "the described model", readExternal });
      writeFileAtomic(out, described);
      const after = readModelMetadata(described);
      const written = Object.fromEntries([...entries.keys()].map((k) => [k, k === METADATA_KEYS.description || k === METADATA_KEYS.samples || k === METADATA_KEYS.provenance ? after.get(k) : JSON.parse(after.get(k))]));
      if (opts.json)
        process.stdout.write(`${JSON.stringify({ model: file, out, metadata: written }, null, 2)}
`);
      else {
        const lines = [`${file} -> ${out}`, ...[...entries.keys()].map((k) => `  ${k}: ${summarizeEntry(after.get(k))}`)];
        if (!opts.quiet)
          lines.push("profile:", ...describeProfile(model.profile).map((l) => `  ${l}`));
        process.stdout.write(`${lines.join("\n")}
`);
      }
    } finally {
      await engine.dispose();
    }
  });
}
function summarizeEntry(value) {
  return value.length > 100 ? `${value.slice(0, 97)}...` : value;
}
export {
  define
};
