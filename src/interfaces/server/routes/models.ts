import type { Studio } from '../app.js';
import { ConvLensError, quotedName } from '../../../engine/errors.js';
import { encodeModel } from '../../../engine/onnx/codec.js';
import { lrpNoRuleError, lrpUnsupportedNode } from '../../../engine/ops/rules/lrp.js';
import { camHead, camMaps, METHOD_NAMES, METHODS, spatialLayer, tokenLayers, type MethodName } from '../../../methods/explain/index.js';
import { summarize } from '../../../methods/inspect/summary.js';
import { defaultChannelLayer } from '../../../methods/explain/layer-attribution.js';
import { parseLabels, parsePreprocessing } from '../../../models/metadata.js';
import { OUTPUT_KINDS } from '../../../models/output-kind.js';

import type { Model } from '../../../models/model.js';
import type { Tensor } from '../../../engine/tensor.js';
import { idSchema } from '../ids.js';
import { readUpload } from '../upload.js';
import type { ModelEntry } from '../state.js';
import { hintForStudio } from '../../../util/ways-out.js';
import { toWire } from '../wire.js';

/** Why an explanation method cannot apply to a model (its structure rules it out), by method. */
type Unavailable = Partial<Record<MethodName, { reason: string; hint?: string }>>;
const unavailableCache = new WeakMap<Model, Unavailable>();

/** The methods a model's structure rules out, with the library's own reason (checked once per model). */
export function unavailableMethods(m: Model): Unavailable {
  let out = unavailableCache.get(m);
  if (out) return out;
  out = {};
  let noLayer: { reason: string; hint?: string } | undefined;
  try {
    // the layer the CAM-type methods read by default (a ViT's tokens as their patch grid's map)
    spatialLayer(m, undefined, { tokens: true });
  } catch (e) {
    if (!(e instanceof ConvLensError)) throw e;
    // the model's own reason (no spatial layer at all, or only one before attention whose tokens cannot be followed)
    noLayer = { reason: e.message, ...(e.hint ? { hint: hintForStudio(e.hint) } : {}) };
  }
  for (const name of METHOD_NAMES) {
    if (!METHODS[name].layer || !noLayer) continue;
    out[name] = noLayer;
  }
  if (!out.cam) {
    try {
      camHead(m);
    } catch (e) {
      if (!(e instanceof ConvLensError)) throw e;
      out.cam = { reason: e.message, ...(e.hint ? { hint: hintForStudio(e.hint) } : {}) };
    }
  }
  const noRule = lrpUnsupportedNode(m.graph, m.input.name, (v) => m.builder().factsOf(v).value !== undefined, m.output);
  if (noRule) {
    const e = lrpNoRuleError(noRule);
    out.lrp = { reason: e.message, ...(e.hint ? { hint: hintForStudio(e.hint) } : {}) };
  }
  unavailableCache.set(m, out);
  return out;
}

export function describeModel(e: ModelEntry): Record<string, unknown> {
  const m = e.model;
  return {
    id: e.id,
    name: e.name,
    source: e.source,
    ...(e.error ? { error: e.error } : {}),
    ...(m
      ? {
          // the model's own short name (what results and dataset stores call it: "squeezenet")
          shortName: m.name,
          input: { name: m.input.name, shape: m.input.shape },
          labels: m.labels,
          // how the outputs read: a softmax's classes, independent attributes, or values (models/output-kind.ts)
          outputKind: m.outputKind,
          preprocessing: m.meta.preprocessing,
          description: m.meta.description,
          warnings: m.meta.warnings.map(hintForStudio),
          parameters: m.parameterCount(),
          defaultLayer: safe(() => m.lastSpatialLayer()),
          // the layer whose channels the Channels panel ranks first (on SqueezeNet's pooled class
          // maps the features its class conv reads, not the class maps themselves)
          channelsLayer: safe(() => defaultChannelLayer(m)),
          // the samples/<group> folder whose images fit the model, and its layer roles (models/profile.ts)
          sampleGroup: m.profile.sampleGroup,
          profile: safe(() => m.profile),
          unavailableMethods: safe(() => unavailableMethods(m)) ?? {},
          ...(e.described ? { described: e.described } : {}),
        }
      : {}),
  };
}

function safe<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch {
    return undefined;
  }
}

/** ONNX files are protobuf; the first byte of a ModelProto is a field tag (ir_version = 0x08). */
function looksLikeOnnx(bytes: Uint8Array): boolean {
  return bytes.length > 16 && (bytes[0] === 0x08 || bytes[0] === 0x12 || bytes[0] === 0x1a || bytes[0] === 0x3a);
}

const params = { type: 'object', required: ['id'], properties: { id: idSchema } } as const;

export function registerModelRoutes({ app, models }: Studio, maxBytes: number): void {
  app.get('/api/models', async () => ({ models: models.list().map(describeModel) }));

  app.get<{ Params: { id: string } }>('/api/models/:id', { schema: { params } }, async (req) => {
    const e = models.get(req.params.id);
    if (!e) throw new ConvLensError('UNKNOWN_NAME', `No model with id "${req.params.id}".`, 'GET /api/models lists the models.');
    return describeModel(e);
  });

  app.post('/api/models', async (req, reply) => {
    const hint = 'Send multipart/form-data with a "file" field holding an .onnx file.';
    const file = await readUpload(req, maxBytes, hint);
    if (!file) throw new ConvLensError('INVALID_ARGUMENT', 'No file in the upload.', hint);
    const { bytes } = file;
    if (!/\.onnx$/i.test(file.filename) || !looksLikeOnnx(bytes)) {
      return reply.status(415).send({ error: { code: 'INPUT_UNREADABLE', message: `"${file.filename}" is not an ONNX model.`, hint: 'Upload a .onnx file (exported with torch.onnx.export, tf2onnx, ...).' } });
    }
    const entry = models.addUpload(file.filename.slice(0, 200), bytes);
    return reply.status(entry.error ? 422 : 201).send(entry.error ? { ...describeModel(entry), error: entry.error } : describeModel(entry));
  });

  // Uploads only; a model a running job uses stays until the job ends.
  app.delete<{ Params: { id: string } }>('/api/models/:id', { schema: { params } }, async (req) => {
    models.delete(req.params.id);
    return { deleted: req.params.id };
  });

  // The model as the engine holds it (normalized, symbolic batch, metadata kept), for the page to
  // run on onnxruntime-web.
  app.get<{ Params: { id: string } }>('/api/models/:id/onnx', { schema: { params } }, async (req, reply) => {
    const model = models.require(req.params.id);
    const file = `${model.name.replace(/[^\w.-]+/g, '_')}.onnx`;
    return reply.type('application/octet-stream').header('content-disposition', `attachment; filename="${file}"`).send(Buffer.from(encodeModel(model.graph)));
  });

  app.get<{ Params: { id: string } }>('/api/models/:id/summary', { schema: { params } }, async (req) => {
    const model = models.require(req.params.id);
    const s = summarize(model);
    // each layer also by the names people use: the module path (`fires.5`) and its number (`#k`)
    // featureMap: an [N, C, H, W] map the page may draw as a channel grid (not a channels-last
    // [N, H, W, C] value inside a ConvNeXt-style block, which read as NCHW shows H channels of W x C)
    // tokenLayers: a vision transformer's tokens the CAM-type methods read as their patch grid's
    // map (token-grid.ts), for the CAM layer picker, which lists maps otherwise
    // camMap: a 4-D value the CAM-type methods read as a map, as --layer takes it (the CAM
    // picker leaves out the rest: the values inside a window attention, 1x1 maps)
    const pickable = model.pickableValues();
    const cam = safe(() => camMaps(model, pickable.map((p) => p.name))) ?? new Set<string>();
    return {
      ...s,
      pickable: pickable.map((p, k) => ({ ...p, label: model.layerLabel(p.name), number: k + 1, featureMap: p.shape.length === 4 && model.isChannelsFirst(p.name), ...(p.shape.length === 4 ? { camMap: cam.has(p.name) } : {}) })),
      tokenLayers: safe(() => tokenLayers(model)) ?? [],
    };
  });

  // What the file does not say, told in the studio as the CLI's --labels, --preprocess and
  // --output-kind do: class names (a labels file's text or a list), a preprocessing preset or
  // JSON, and how the outputs read (single-label, multi-label, regression).
  app.post<{ Params: { id: string }; Body: { labels?: string | string[]; preprocess?: string; outputKind?: string } }>(
    '/api/models/:id/describe',
    {
      schema: {
        params,
        body: {
          type: 'object',
          properties: {
            labels: { anyOf: [{ type: 'string', minLength: 1, maxLength: 2_000_000 }, { type: 'array', items: { type: 'string', maxLength: 500 }, minItems: 1, maxItems: 100_000 }] },
            preprocess: { type: 'string', minLength: 1, maxLength: 4000 },
            // checked below, to name the kinds in the refusal
            outputKind: { type: 'string', maxLength: 100 },
          },
          additionalProperties: false,
        },
      },
    },
    async (req) => {
      const model = models.require(req.params.id);
      const { labels: given, preprocess, outputKind: kind } = req.body;
      if (given === undefined && preprocess === undefined && kind === undefined) throw new ConvLensError('INVALID_ARGUMENT', 'Nothing to describe.', 'Send "labels" (a labels file\'s text or a list of names), "preprocess" (a preset or JSON) and/or "outputKind".');
      const outputKind = kind === undefined ? undefined : OUTPUT_KINDS.find((k) => k === kind);
      if (kind !== undefined && !outputKind) {
        throw new ConvLensError('INVALID_ARGUMENT', `Unknown output kind ${quotedName(kind)}.`, `Send one of ${OUTPUT_KINDS.join(', ')} (CLI: --output-kind).`);
      }
      // All are checked before any is applied; under another kind the count of outputs may differ
      // (a one-output file's two binary classes), which the model checks as it takes the labels.
      const sameKind = outputKind === undefined || outputKind === model.outputKind;
      const labels = given === undefined ? undefined : parseLabels(typeof given === 'string' ? given : JSON.stringify(given), 'The list of class names', model.binary || !sameKind ? undefined : model.profile.classes);
      if (labels?.some((l) => l.length > 500)) throw new ConvLensError('INVALID_ARGUMENT', 'A class name is longer than 500 characters.', 'One short name per line.');
      const preprocessing = preprocess === undefined ? undefined : parsePreprocessing(preprocess, model.input.shape ?? [], model.meta.preprocessing);
      models.describe(req.params.id, { ...(labels ? { labels } : {}), ...(preprocessing ? { preprocessing } : {}), ...(outputKind ? { outputKind } : {}) });
      return describeModel(models.get(req.params.id)!);
    },
  );

  app.get<{ Params: { id: string }; Querystring: { layer?: string } }>(
    '/api/models/:id/filters',
    { schema: { params, querystring: { type: 'object', properties: { layer: { type: 'string', maxLength: 256 } } } } },
    async (req) => {
      const model = models.require(req.params.id);
      const layer = req.query.layer;
      // A QDQ model's weights are int8 codes dequantized in the graph: their folded float value is
      // the filter bank (reading initializers alone refused every conv of such a model, 404).
      const folded = model.builder();
      const weightsOf = (n: (typeof model.graph.nodes)[number]): Tensor | undefined => {
        const name = n.inputs[1];
        return name ? (model.graph.initializers.get(name) ?? folded.valueOf(name)) : undefined;
      };
      const convs = model.graph.nodes.filter((n) => n.op === 'Conv' && weightsOf(n)?.dims.length === 4);
      const node = layer ? convs.find((n) => n.name === layer || n.outputs[0] === layer) : convs[0];
      if (!node) {
        throw new ConvLensError('UNKNOWN_NAME', `No convolution layer "${layer}" with constant weights.`, `Convolution layers: ${convs.map((n) => n.name).join(', ') || 'none'}.`);
      }
      const w = weightsOf(node)!;
      return { layer: node.name, output: node.outputs[0], weights: toWire(w), layers: convs.map((n) => n.name) };
    },
  );
}
