import {
  SAMPLERS,
  loadDenoiser,
  resolvePrompt
} from "./chunk-44J7T2MA.js";
import {
  defaultBatchSize,
  resolveMethods
} from "./chunk-DV6A6FR5.js";
import "./chunk-NAOYI6IT.js";
import {
  defaultSize
} from "./chunk-STAR42TX.js";
import "./chunk-ZH32LFI3.js";
import "./chunk-ESG57PNP.js";
import "./chunk-B4TGPIE7.js";
import {
  backboneProblem,
  encodeStyleNet,
  loadStyleNet,
  styleNetInfo
} from "./chunk-MLKMYL7B.js";
import "./chunk-3PCOP5KM.js";
import "./chunk-UGNQJFIR.js";
import {
  modelInputSize
} from "./chunk-RJFHHHPN.js";
import "./chunk-5XTLRBPQ.js";
import "./chunk-OMVEGQY4.js";
import {
  summarize
} from "./chunk-SP62ILAM.js";
import "./chunk-AMIDQS7B.js";
import "./chunk-R7SGPERG.js";
import "./chunk-3LLE3VGN.js";
import "./chunk-UHZBCOBN.js";
import {
  MAX_THREADS,
  createEngine,
  portNumber,
  positiveInt,
  positiveNumber,
  threadCount
} from "./chunk-OMSJE7ZP.js";
import "./chunk-4KDPQESB.js";
import {
  checkModel,
  storeSource
} from "./chunk-X72YILSQ.js";
import {
  BUILTIN_MODELS,
  DEFAULT_BUILTIN,
  Model,
  decodeModel,
  encodeModel,
  findBuiltin,
  loadBuiltinModel,
  loadModelFile
} from "./chunk-P6HER42Z.js";
import "./chunk-2RDMIJXC.js";
import {
  FileAccess,
  openSource
} from "./chunk-A7RQSV7O.js";
import {
  encodePng
} from "./chunk-JFQ3PAZH.js";
import "./chunk-EQEDVHDE.js";
import {
  DEBIAN_FASHION_MNIST_DIR,
  SUBSET_DIR
} from "./chunk-XD57GLXB.js";
import {
  GraphBuilder
} from "./chunk-X2V5Z5UO.js";
import {
  isFloatDType
} from "./chunk-75463JA6.js";
import {
  DatasetStore,
  currentWriter,
  describeWriter,
  modelFingerprint
} from "./chunk-US7IWGJH.js";
import "./chunk-REQFKBTL.js";
import "./chunk-4WR5QSMB.js";
import {
  parseEmbedMethod
} from "./chunk-EFVCFFLJ.js";
import "./chunk-Y3QEK5WU.js";
import "./chunk-GNZAA2KB.js";
import "./chunk-TOAD5ZOE.js";
import "./chunk-A36QIBQV.js";
import "./chunk-TUXGXZTB.js";
import {
  ConvLensError
} from "./chunk-N6ATQ4RF.js";

// dist/interfaces/cli/commands/studio.js
import { hostname as hostname2 } from "node:os";

// dist/interfaces/server/app.js
import { existsSync as existsSync3 } from "node:fs";
import { availableParallelism } from "node:os";
import { resolve as resolve2 } from "node:path";
import { fileURLToPath as fileURLToPath3 } from "node:url";
import Fastify from "fastify";
import multipart from "@fastify/multipart";
import fastifyStatic from "@fastify/static";

// dist/interfaces/server/access.js
import { randomBytes, timingSafeEqual } from "node:crypto";
import { hostname, networkInterfaces } from "node:os";
var TOKEN_HEADER = "x-convlens-token";
var STATE_CHANGING = /* @__PURE__ */ new Set(["POST", "PUT", "PATCH", "DELETE"]);
var WILDCARDS = /* @__PURE__ */ new Set(["0.0.0.0", "::", "[::]", ""]);
var isLoopbackHost = (host) => {
  const h = host.toLowerCase().replace(/^\[|\]$/g, "");
  return h === "localhost" || h === "::1" || /^127(\.\d{1,3}){3}$/.test(h);
};
function parseHost(value) {
  if (!value || /[\s/\\@?#]/.test(value))
    return void 0;
  try {
    const u = new URL(`http://${value}`);
    return { hostname: u.hostname, port: u.port === "" ? 80 : Number(u.port) };
  } catch {
    return void 0;
  }
}
var bracket = (h) => (h.includes(":") && !h.startsWith("[") ? `[${h}]` : h).toLowerCase();
function sameSecret(a, b) {
  if (!a)
    return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
function cookie(req, name) {
  const header = req.headers.cookie;
  if (!header)
    return void 0;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name)
      return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return void 0;
}
var AccessPolicy = class {
  boundPort;
  token;
  requireToken;
  host;
  names = /* @__PURE__ */ new Set(["localhost", "127.0.0.1", "[::1]"]);
  constructor(options = {}, boundPort = () => void 0) {
    this.boundPort = boundPort;
    this.host = options.host ?? "127.0.0.1";
    this.token = options.token ?? randomBytes(32).toString("hex");
    this.requireToken = options.requireToken ?? !isLoopbackHost(this.host);
    if (WILDCARDS.has(this.host)) {
      for (const list of Object.values(networkInterfaces()))
        for (const a of list ?? [])
          this.names.add(bracket(a.address.replace(/%.*$/, "")));
      this.names.add(hostname().toLowerCase());
    } else
      this.names.add(bracket(this.host));
    for (const h of options.allowedHosts ?? [])
      this.names.add(bracket(h));
  }
  /** The cookie the page's token is kept in (per port: cookies are shared between the ports of a host). */
  cookieName() {
    return `convlens-token-${this.boundPort() ?? "studio"}`;
  }
  /** Whether a Host header names this studio. */
  hostAllowed(value) {
    const h = parseHost(value ?? "");
    if (!h || !this.names.has(h.hostname))
      return false;
    const port = this.boundPort();
    return port === void 0 || h.port === port;
  }
  /** Whether the request says it comes from the studio's own page (Origin, else Sec-Fetch-Site). */
  sameOrigin(req) {
    const origin = req.headers.origin;
    if (origin !== void 0) {
      if (origin === "null")
        return false;
      const o = parseHost(origin.replace(/^https?:\/\//i, ""));
      const h = parseHost(req.headers.host ?? "");
      return !!o && !!h && /^https?:\/\//i.test(origin) && o.hostname === h.hostname && o.port === h.port;
    }
    return req.headers["sec-fetch-site"] === "same-origin";
  }
  /** Where a valid token came with the request, if it did. */
  tokenIn(req) {
    const header = req.headers[TOKEN_HEADER];
    const auth = req.headers.authorization;
    if (sameSecret(typeof header === "string" ? header : void 0, this.token))
      return "header";
    if (auth && /^(bearer|token) /i.test(auth) && sameSecret(auth.replace(/^\S+ /, "").trim(), this.token))
      return "header";
    if (sameSecret(cookie(req, this.cookieName()), this.token))
      return "cookie";
    const q = req.query?.["token"];
    if (typeof q === "string" && sameSecret(q, this.token))
      return "query";
    return void 0;
  }
  /** The URL to print: with the token when it is required. */
  url(address) {
    return this.requireToken ? `${address}/?token=${this.token}` : `${address}/`;
  }
};
function refuse(req, reply, r) {
  const wantsPage = req.method === "GET" && !req.url.startsWith("/api/") && /text\/html/.test(req.headers.accept ?? "");
  if (wantsPage) {
    const esc = (s) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
    return reply.status(r.status).type("text/html; charset=utf-8").send(`<!doctype html><title>ConvLens studio</title><p>${esc(r.message)}</p><p>${esc(r.hint)}</p>`);
  }
  return reply.status(r.status).send({ error: { code: r.code, message: r.message, hint: r.hint } });
}
function registerAccessControl(app, policy) {
  app.addHook("onRequest", async (req, reply) => {
    if (!policy.hostAllowed(req.headers.host)) {
      return refuse(req, reply, {
        status: 403,
        code: "FORBIDDEN",
        message: `This studio does not answer to the host name ${JSON.stringify((req.headers.host ?? "").slice(0, 100))}.`,
        hint: "Open it at the address `convlens studio` printed (localhost). A page reaching it under another name may be a DNS-rebinding attack; to serve other names, start it with --host."
      });
    }
    const token = policy.tokenIn(req);
    if (policy.requireToken && !token) {
      return refuse(req, reply, {
        status: 401,
        code: "UNAUTHORIZED",
        message: "This studio needs its access token.",
        hint: `Open the URL \`convlens studio\` printed (it ends in ?token=...), or send the token in the ${TOKEN_HEADER} header.`
      });
    }
    if (STATE_CHANGING.has(req.method) && token !== "header" && !policy.sameOrigin(req)) {
      return refuse(req, reply, {
        status: 403,
        code: "FORBIDDEN",
        message: `${req.method} ${req.url.split("?")[0]} refused: the request does not come from the studio's own page.`,
        hint: `Scripts send the token in the ${TOKEN_HEADER} header (or an Origin header naming the studio's address); a web page of another origin cannot change the studio.`
      });
    }
    if (token === "query" && req.method === "GET") {
      reply.header("set-cookie", `${policy.cookieName()}=${policy.token}; Path=/; HttpOnly; SameSite=Strict`);
    }
    return void 0;
  });
}

// dist/interfaces/server/sse.js
var frame = (e) => `event: ${e.type}
data: ${JSON.stringify(e)}

`;
var EventStream = class {
  res;
  highWaterBytes;
  onEnd;
  pendingProgress;
  pendingFinal;
  ended = false;
  coalesced = 0;
  constructor(res, highWaterBytes, onEnd) {
    this.res = res;
    this.highWaterBytes = highWaterBytes;
    this.onEnd = onEnd;
    res.on("drain", () => this.flush());
    res.on("close", () => this.end(false));
  }
  get buffered() {
    return this.res.writableLength + (this.pendingProgress?.length ?? 0) + (this.pendingFinal?.length ?? 0);
  }
  get queued() {
    return (this.pendingProgress ? 1 : 0) + (this.pendingFinal ? 1 : 0);
  }
  send(e) {
    if (this.ended || this.pendingFinal)
      return;
    if (e.type === "progress") {
      if (this.pendingProgress)
        this.coalesced++;
      this.pendingProgress = frame(e);
    } else {
      if (this.pendingProgress)
        this.coalesced++;
      this.pendingProgress = void 0;
      this.pendingFinal = frame(e);
    }
    this.flush();
  }
  flush() {
    if (this.ended || this.res.writableLength >= this.highWaterBytes)
      return;
    if (this.pendingProgress) {
      const text2 = this.pendingProgress;
      this.pendingProgress = void 0;
      this.res.write(text2);
    }
    if (this.pendingFinal && this.res.writableLength < this.highWaterBytes) {
      this.res.write(this.pendingFinal);
      this.pendingFinal = void 0;
      this.end(true);
    }
  }
  end(graceful) {
    if (this.ended)
      return;
    this.ended = true;
    this.pendingProgress = void 0;
    this.pendingFinal = void 0;
    if (graceful)
      this.res.end();
    this.onEnd();
  }
};
var EventStreams = class {
  highWaterBytes;
  open = /* @__PURE__ */ new Set();
  coalescedClosed = 0;
  constructor(highWaterBytes = 256 * 1024) {
    this.highWaterBytes = highWaterBytes;
  }
  /** Starts an event stream on a raw response; the caller subscribes `send` to the job. */
  start(res, onClose) {
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
    const stream = new EventStream(res, this.highWaterBytes, () => {
      this.open.delete(stream);
      this.coalescedClosed += stream.coalesced;
      onClose();
    });
    this.open.add(stream);
    return (e) => stream.send(e);
  }
  stats() {
    const all = [...this.open];
    return {
      streams: all.length,
      bufferedBytes: all.reduce((a, s) => a + s.buffered, 0),
      maxStreamBytes: all.reduce((a, s) => Math.max(a, s.buffered), 0),
      queued: all.reduce((a, s) => a + s.queued, 0),
      coalesced: this.coalescedClosed + all.reduce((a, s) => a + s.coalesced, 0)
    };
  }
};

// dist/interfaces/server/ids.js
var ID_PATTERN = "^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$";
var IMAGE_ID_PATTERN = "^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}/[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$";
var ID = new RegExp(ID_PATTERN);
var IMAGE_ID = new RegExp(IMAGE_ID_PATTERN);
var idSchema = { type: "string", pattern: ID_PATTERN };
var imageIdSchema = { type: "string", pattern: IMAGE_ID_PATTERN };
var isId = (id) => ID.test(id);
function checkId(what, id) {
  if (!isId(id)) {
    throw new ConvLensError("INVALID_ARGUMENT", `${what} id ${JSON.stringify(id.slice(0, 140))} is not valid.`, 'Ids are 1 to 128 letters, digits, "_", "-" or "." and do not start with "." (no "/", "\\\\", "." or "..").');
  }
  return id;
}
function toId(text2, fallback = "item") {
  const id = text2.replace(/[^A-Za-z0-9_.-]+/g, "_").replace(/^\.+/, "").slice(0, 128);
  return isId(id) ? id : fallback;
}

// dist/interfaces/server/wire.js
function toWire(t) {
  const f = t.data instanceof Float32Array ? t.data : Float32Array.from(t.data, Number);
  return { dtype: "float32", dims: [...t.dims], data: Buffer.from(f.buffer, f.byteOffset, f.byteLength).toString("base64") };
}

// dist/interfaces/server/routes/models.js
function describeModel(e) {
  const m = e.model;
  return {
    id: e.id,
    name: e.name,
    source: e.source,
    ...e.error ? { error: e.error } : {},
    ...m ? {
      input: { name: m.input.name, shape: m.input.shape },
      labels: m.labels,
      preprocessing: m.meta.preprocessing,
      description: m.meta.description,
      warnings: m.meta.warnings,
      parameters: m.parameterCount(),
      defaultLayer: safe(() => m.lastSpatialLayer()),
      // the samples/<group> folder whose images fit the model, and its layer roles (models/profile.ts)
      sampleGroup: m.profile.sampleGroup,
      profile: safe(() => m.profile)
    } : {}
  };
}
function safe(f) {
  try {
    return f();
  } catch {
    return void 0;
  }
}
function looksLikeOnnx(bytes) {
  return bytes.length > 16 && (bytes[0] === 8 || bytes[0] === 18 || bytes[0] === 26 || bytes[0] === 58);
}
var params = { type: "object", required: ["id"], properties: { id: idSchema } };
function registerModelRoutes({ app, models }, maxBytes) {
  app.get("/api/models", async () => ({ models: models.list().map(describeModel) }));
  app.get("/api/models/:id", { schema: { params } }, async (req) => {
    const e = models.get(req.params.id);
    if (!e)
      throw new ConvLensError("UNKNOWN_NAME", `No model with id "${req.params.id}".`, "GET /api/models lists the models.");
    return describeModel(e);
  });
  app.post("/api/models", async (req, reply) => {
    const file = await req.file({ limits: { fileSize: maxBytes } });
    if (!file)
      throw new ConvLensError("INVALID_ARGUMENT", "No file in the upload.", 'Send multipart/form-data with a "file" field holding an .onnx file.');
    const bytes = new Uint8Array(await file.toBuffer());
    if (!/\.onnx$/i.test(file.filename) || !looksLikeOnnx(bytes)) {
      return reply.status(415).send({ error: { code: "INPUT_UNREADABLE", message: `"${file.filename}" is not an ONNX model.`, hint: "Upload a .onnx file (exported with torch.onnx.export, tf2onnx, ...)." } });
    }
    const entry = models.addUpload(file.filename.slice(0, 200), bytes);
    return reply.status(entry.error ? 422 : 201).send(entry.error ? { ...describeModel(entry), error: entry.error } : describeModel(entry));
  });
  app.delete("/api/models/:id", { schema: { params } }, async (req) => {
    models.delete(req.params.id);
    return { deleted: req.params.id };
  });
  app.get("/api/models/:id/onnx", { schema: { params } }, async (req, reply) => {
    const model = models.require(req.params.id);
    const file = `${model.name.replace(/[^\w.-]+/g, "_")}.onnx`;
    return reply.type("application/octet-stream").header("content-disposition", `attachment; filename="${file}"`).send(Buffer.from(encodeModel(model.graph)));
  });
  app.get("/api/models/:id/summary", { schema: { params } }, async (req) => {
    const model = models.require(req.params.id);
    const s = summarize(model);
    return { ...s, pickable: model.pickableValues() };
  });
  app.get("/api/models/:id/filters", { schema: { params, querystring: { type: "object", properties: { layer: { type: "string", maxLength: 256 } } } } }, async (req) => {
    const model = models.require(req.params.id);
    const layer = req.query.layer;
    const convs = model.graph.nodes.filter((n) => n.op === "Conv" && model.graph.initializers.has(n.inputs[1]));
    const node = layer ? convs.find((n) => n.name === layer || n.outputs[0] === layer) : convs[0];
    if (!node) {
      throw new ConvLensError("UNKNOWN_NAME", `No convolution layer "${layer}" with constant weights.`, `Convolution layers: ${convs.map((n) => n.name).join(", ") || "none"}.`);
    }
    const w = model.graph.initializers.get(node.inputs[1]);
    return { layer: node.name, output: node.outputs[0], weights: toWire(w), layers: convs.map((n) => n.name) };
  });
}

// dist/interfaces/server/routes/images.js
import sharp from "sharp";
var TYPES = [
  ["image/png", (b) => b[0] === 137 && b[1] === 80 && b[2] === 78 && b[3] === 71],
  ["image/jpeg", (b) => b[0] === 255 && b[1] === 216 && b[2] === 255],
  ["image/webp", (b) => b[0] === 82 && b[1] === 73 && b[2] === 70 && b[3] === 70 && b[8] === 87 && b[9] === 69]
];
function sniffImage(bytes) {
  return TYPES.find(([, test]) => bytes.length > 12 && test(bytes))?.[0];
}
async function imageSize(bytes) {
  try {
    const m = await sharp(bytes).metadata();
    return m.width && m.height ? { width: m.width, height: m.height } : void 0;
  } catch {
    return void 0;
  }
}
function registerImageRoutes({ app, images, maxImagePixels }, maxBytes) {
  const describe = (e) => ({
    id: e.id,
    name: e.name,
    source: e.source,
    group: e.group,
    url: `/api/image?id=${encodeURIComponent(e.id)}`
  });
  app.get("/api/images", async () => ({ images: images.list().map(describe) }));
  app.get("/api/image", { schema: { querystring: { type: "object", required: ["id"], properties: { id: { type: "string", maxLength: 300 } } } } }, async (req, reply) => {
    const img = images.require(req.query.id);
    return reply.type(sniffImage(img.bytes) ?? "application/octet-stream").header("cache-control", "max-age=3600").send(Buffer.from(img.bytes));
  });
  app.post("/api/images", async (req, reply) => {
    const file = await req.file({ limits: { fileSize: maxBytes } });
    if (!file)
      throw new ConvLensError("INVALID_ARGUMENT", "No file in the upload.", 'Send multipart/form-data with a "file" field holding a PNG, JPEG or WebP image.');
    const bytes = new Uint8Array(await file.toBuffer());
    const name = file.filename.slice(0, 200);
    if (!sniffImage(bytes)) {
      return reply.status(415).send({ error: { code: "INPUT_UNREADABLE", message: `"${name}" is not a PNG, JPEG or WebP image.`, hint: "Upload a PNG, JPEG or WebP file." } });
    }
    const size = await imageSize(bytes);
    if (!size)
      return reply.status(415).send({ error: { code: "INPUT_UNREADABLE", message: `"${name}" has no readable image header.`, hint: "Upload an intact PNG, JPEG or WebP file." } });
    if (size.width * size.height > maxImagePixels) {
      return reply.status(413).send({ error: { code: "TOO_LARGE", message: `"${name}" is ${size.width}x${size.height} pixels; images up to ${Math.round(maxImagePixels / 1e6)} million pixels are accepted.`, hint: "Scale the image down before uploading it." } });
    }
    const entry = images.addUpload(name.replace(/\.\w+$/, ""), bytes);
    return reply.status(201).send(describe(entry));
  });
  app.delete("/api/images/*", { schema: { params: { type: "object", properties: { "*": imageIdSchema } } } }, async (req) => {
    images.delete(req.params["*"]);
    return { deleted: req.params["*"] };
  });
}

// dist/interfaces/server/routes/inspect.js
var target = { type: "object", required: ["model", "image"], properties: { model: idSchema, image: imageIdSchema } };
function registerInspectRoutes({ app, models, images, call }) {
  app.post("/api/predict", { schema: { body: { ...target, properties: { ...target.properties, k: { type: "integer", minimum: 1, maximum: 1e3 } } } } }, async (req, reply) => {
    models.require(req.body.model);
    images.require(req.body.image);
    return call("predict", { image: req.body.image, k: req.body.k ?? 5 }, { model: req.body.model, images: [req.body.image] }, clientGone(reply));
  });
  app.post("/api/input", { schema: { body: target } }, async (req, reply) => {
    models.require(req.body.model);
    images.require(req.body.image);
    return call("input", { image: req.body.image }, { model: req.body.model, images: [req.body.image] }, clientGone(reply));
  });
  app.post("/api/activations", { schema: { body: { ...target, properties: { ...target.properties, layers: { type: "array", items: { type: "string", maxLength: 256 }, maxItems: 256 } } } } }, async (req, reply) => {
    const model = models.require(req.body.model);
    const layers = req.body.layers?.length ? req.body.layers.map((l) => model.resolveLayer(l)) : model.pickableValues().filter((p) => p.shape.length === 4).map((p) => p.name);
    images.require(req.body.image);
    return call("activations", { image: req.body.image, layers }, { model: req.body.model, images: [req.body.image] }, clientGone(reply));
  });
}

// dist/interfaces/server/routes/jobs.js
var params2 = { type: "object", required: ["id"], properties: { id: idSchema } };
function registerJobRoutes({ app, jobs, streams }) {
  app.get("/api/jobs/:id", { schema: { params: params2 } }, async (req) => {
    const s = jobs.status(req.params.id);
    if (!s)
      throw new ConvLensError("UNKNOWN_NAME", `No job "${req.params.id}".`, "Jobs are kept for 10 minutes after they finish.");
    return s;
  });
  app.delete("/api/jobs/:id", { schema: { params: params2 } }, async (req) => {
    if (!jobs.cancel(req.params.id))
      throw new ConvLensError("UNKNOWN_NAME", `No job "${req.params.id}".`);
    return { cancelled: true };
  });
  app.get("/api/jobs/:id/events", { schema: { params: params2 } }, (req, reply) => {
    if (!jobs.status(req.params.id)) {
      void reply.status(404).send({ error: { code: "UNKNOWN_NAME", message: `No job "${req.params.id}".` } });
      return;
    }
    reply.hijack();
    let unsubscribe;
    const send = streams.start(reply.raw, () => unsubscribe?.());
    unsubscribe = jobs.subscribe(req.params.id, send);
  });
}

// dist/interfaces/server/routes/explain.js
var side = { anyOf: [{ type: "integer", minimum: 1, maximum: 4096 }, { type: "array", items: { type: "integer", minimum: 1, maximum: 4096 }, minItems: 2, maxItems: 2 }] };
var sigma = { type: "number", minimum: 0.01, maximum: 1e3 };
var noisy = {
  type: "object",
  properties: { samples: { type: "integer", minimum: 1, maximum: 500 }, noise: { type: "number", minimum: 0, maximum: 5 }, seed: { type: "integer", minimum: 0, maximum: 4294967295 } },
  additionalProperties: false
};
var integrated = {
  type: "object",
  properties: {
    steps: { type: "integer", minimum: 1, maximum: 1e3 },
    baseline: { enum: ["black", "zero", "blurred"] },
    rule: { enum: ["gausslegendre", "riemann-trapezoid", "riemann-left", "riemann-right", "riemann-middle"] },
    blurSigma: sigma
  },
  additionalProperties: false
};
var occlusion = { type: "object", properties: { window: side, stride: side, fill: { enum: ["zero", "mean", "blur"] }, blurSigma: sigma }, additionalProperties: false };
var saliency = { type: "object", properties: { reduce: { enum: ["max", "sum"] } }, additionalProperties: false };
var guided = { type: "object", properties: { interpolate: { enum: ["bilinear", "nearest"] } }, additionalProperties: false };
var EXPLAIN_PARAMS = {
  type: "object",
  // The keys report.ts's methodParams reads (page names and library names); others are dropped.
  properties: {
    saliency,
    smoothgrad: noisy,
    "smoothgrad-sq": noisy,
    vargrad: noisy,
    integratedGradients: integrated,
    "integrated-gradients": integrated,
    ig: integrated,
    occlusion,
    guidedGradcam: guided,
    "guided-gradcam": guided
  },
  additionalProperties: false
};
var schema = {
  body: {
    type: "object",
    required: ["model", "image", "methods"],
    properties: {
      model: idSchema,
      image: imageIdSchema,
      methods: { type: "array", items: { type: "string", maxLength: 64 }, minItems: 1, maxItems: 20 },
      layer: { type: "string", maxLength: 256 },
      target: { anyOf: [{ type: "integer", minimum: 0, maximum: 1e6 }, { type: "string", maxLength: 200 }] },
      score: { enum: ["logit", "prob"] },
      params: EXPLAIN_PARAMS,
      metrics: { type: "boolean" }
    },
    additionalProperties: false
  }
};
function registerExplainRoutes({ app, models, images, jobs, memory, task }) {
  app.post("/api/explain", { schema }, async (req, reply) => {
    const { model: modelId, image, ...request } = req.body;
    const model = models.require(modelId);
    images.require(image);
    resolveMethods(request.methods);
    const batchSize = memory.batch("An explanation", model, "gradient", { max: defaultBatchSize(model) });
    const job = jobs.submit("explain", task("explain", { image, request, batchSize }, { model: modelId, images: [image] }), [models.pin(modelId), images.pin(image)]);
    return reply.status(202).send({ job });
  });
}

// dist/interfaces/server/routes/dataset.js
import { existsSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";

// dist/interfaces/server/tasks/dataset.js
async function storeInfo(id, s) {
  const m = s.manifest;
  const status = m.complete ? void 0 : await s.status();
  return {
    id,
    model: m.model.name,
    modelFingerprint: m.model.fingerprint,
    dataset: m.dataset.description,
    count: m.dataset.count,
    classes: m.dataset.classes,
    layers: m.layers.map((l) => ({ name: l.name, channels: l.channels, height: l.height, width: l.width })),
    k: m.k,
    complete: !!m.complete,
    ...status ? { committed: status.images, ...status.writer ? { writer: { pid: status.writer.pid, hostname: status.writer.hostname, since: status.writer.started, command: status.writer.command } } : {} } : {},
    created: m.created
  };
}

// dist/interfaces/server/routes/dataset.js
function storesRoot() {
  return resolve(process.env["CONVLENS_STORES"] ?? join("out", "stores"));
}
var EMBED_BYTES_PER_VALUE = 16;
var DATASETS = {
  "fashion-mnist-subset": `${SUBSET_DIR}:test`,
  "fashion-mnist-subset:train": `${SUBSET_DIR}:train`,
  "fashion-mnist": "fashion-mnist:train",
  "fashion-mnist:test": "fashion-mnist:test"
};
function registerDatasetRoutes({ app, models, images, jobs, files, memory, task, call }) {
  const root = storesRoot();
  const opened = /* @__PURE__ */ new Map();
  const storeIds = () => existsSync(root) ? readdirSync(root).filter((d) => isId(d) && DatasetStore.exists(join(root, d))).sort() : [];
  const fingerprints = /* @__PURE__ */ new WeakMap();
  const fingerprint = (m) => {
    let f = fingerprints.get(m);
    if (f === void 0)
      fingerprints.set(m, f = modelFingerprint(m));
    return f;
  };
  const modelFor = (store) => {
    for (const e of models.list())
      if (e.model && e.ref && fingerprint(e.model) === store.manifest.model.fingerprint)
        return { model: e.model, ref: e.ref };
    const engine = models.require("builtin").engine;
    const path = store.manifest.model.path;
    const file = path === void 0 ? void 0 : files.file(path, `The model file "${path}" of this store`).path;
    const model = file === void 0 ? loadBuiltinModel(engine) : loadModelFile(file, engine, (p, name) => files.read(p, name));
    checkModel(store, model);
    return { model, ref: file === void 0 ? { key: "builtin", type: "builtin" } : { key: `store-model:${file}`, type: "data-file", path: file } };
  };
  const open = (id) => {
    if (!isId(id) || !DatasetStore.exists(join(root, id))) {
      return Promise.reject(new ConvLensError("UNKNOWN_NAME", `No dataset store "${id}".`, "GET /api/dataset/stores lists them; POST /api/dataset/index makes one."));
    }
    let p = opened.get(id);
    if (!p) {
      p = (async () => {
        const store = await DatasetStore.open(join(root, id));
        return { store, ...modelFor(store), source: storeSource(store, void 0, { access: files }) };
      })();
      p.catch(() => opened.delete(id));
      opened.set(id, p);
    }
    return p;
  };
  app.addHook("onClose", async () => {
    for (const p of opened.values())
      await p.then((o) => o.store.close()).catch(() => void 0);
  });
  app.get("/api/dataset/stores", async () => {
    const out = [];
    for (const id of storeIds()) {
      try {
        out.push(await storeInfo(id, (await open(id)).store));
      } catch (e) {
        out.push({ id, error: { message: e.message } });
      }
    }
    return { root, stores: out };
  });
  app.post("/api/dataset/index", {
    schema: {
      body: {
        type: "object",
        required: ["model"],
        properties: {
          model: idSchema,
          dataset: { type: "string", minLength: 1, maxLength: 4096 },
          layers: { type: "array", items: { type: "string", maxLength: 256 }, minItems: 1, maxItems: 16 },
          k: { type: "integer", minimum: 1, maximum: 100 },
          limit: { type: "integer", minimum: 1, maximum: 1e7 },
          id: idSchema
        },
        additionalProperties: false
      }
    }
  }, async (req, reply) => {
    const model = models.require(req.body.model);
    const dsName = req.body.dataset ?? "fashion-mnist-subset";
    openSource(DATASETS[dsName] ?? dsName, { access: files });
    const layers = req.body.layers ?? model.pickableValues().filter((p) => p.shape.length === 4 && p.op === "Relu").slice(-2).map((p) => p.name);
    const id = checkId("Store", req.body.id ?? toId(`${model.name}-${dsName}`, "store"));
    const writer = currentWriter(join(root, id));
    if (writer) {
      return reply.status(409).send({ error: { code: "INVALID_ARGUMENT", message: `The store "${id}" is being written by another index run: ${describeWriter(writer)}.`, hint: "Wait for that job to finish (or cancel it), or index into another id." } });
    }
    const batchSize = memory.batch("Indexing", model, "forward", { max: 256 });
    const request = task("dataset-index", { id, dir: join(root, id), dataset: DATASETS[dsName] ?? dsName, layers, k: req.body.k ?? 16, ...req.body.limit ? { limit: req.body.limit } : {}, batchSize }, { model: req.body.model });
    const forget = async () => {
      const existing = opened.get(id);
      opened.delete(id);
      (await existing?.catch(() => void 0))?.store.close();
    };
    await forget();
    const job = jobs.submit("dataset-index", request, [models.pin(req.body.model)], async (result) => {
      await forget();
      return result;
    });
    return reply.status(202).send({ job });
  });
  const params3 = { type: "object", required: ["id"], properties: { id: idSchema } };
  const layer = { type: "string", maxLength: 256 };
  app.get("/api/dataset/stores/:id", { schema: { params: params3 } }, async (req) => await storeInfo(req.params.id, (await open(req.params.id)).store));
  app.get("/api/dataset/stores/:id/channels", { schema: { params: params3, querystring: { type: "object", required: ["layer"], properties: { layer } } } }, async (req) => {
    const { store } = await open(req.params.id);
    const layer2 = store.layer(req.query.layer).name;
    return { layer: layer2, channels: await store.channelStats(layer2) };
  });
  app.get("/api/dataset/stores/:id/top", {
    schema: {
      params: params3,
      querystring: {
        type: "object",
        required: ["layer", "channel"],
        properties: { layer, channel: { type: "integer", minimum: 0, maximum: 65535 }, k: { type: "integer", minimum: 1, maximum: 100 }, guided: { type: "boolean" } }
      }
    }
  }, async (req, reply) => {
    const { store, model, ref } = await open(req.params.id);
    const layer2 = store.layer(model.resolveLayer(req.query.layer)).name;
    const batchSize = memory.batch("Top patches", model, "gradient", { max: 64, worker: "interactive" });
    return call("dataset-top", { dir: store.dir, layer: layer2, channel: req.query.channel, k: req.query.k ?? 8, guided: req.query.guided ?? true, batchSize }, { model: ref, budgetBytes: memory.budget(model, "interactive") }, clientGone(reply));
  });
  app.get("/api/dataset/stores/:id/images/:n", { schema: { params: { type: "object", required: ["id", "n"], properties: { id: idSchema, n: { type: "integer", minimum: 0, maximum: 2147483647 } } } } }, async (req, reply) => {
    const { store, model, source } = await open(req.params.id);
    const n = req.params.n;
    if (n >= store.manifest.dataset.count)
      throw new ConvLensError("UNKNOWN_NAME", `No image ${req.params.n} in store "${req.params.id}" (0..${store.manifest.dataset.count - 1}).`);
    const img = await source.display(n, model.meta.preprocessing);
    return reply.type("image/png").header("cache-control", "max-age=3600").send(Buffer.from(await encodePng(img)));
  });
  app.post("/api/dataset/stores/:id/neighbors", {
    schema: {
      params: params3,
      body: {
        type: "object",
        required: ["layer"],
        properties: { layer, image: { type: "integer", minimum: 0, maximum: 2147483647 }, imageId: imageIdSchema, k: { type: "integer", minimum: 1, maximum: 64 }, metric: { enum: ["l2", "cosine"] } },
        additionalProperties: false
      }
    }
  }, async (req, reply) => {
    const { store, model, ref } = await open(req.params.id);
    const b = req.body;
    if (b.image === void 0 === (b.imageId === void 0))
      throw new ConvLensError("INVALID_ARGUMENT", "Give exactly one of `image` (a dataset index) or `imageId` (a studio image).");
    const layer2 = store.layer(model.resolveLayer(b.layer)).name;
    if (b.image !== void 0 && b.image >= store.manifest.dataset.count)
      throw new ConvLensError("UNKNOWN_NAME", `No image ${b.image} in the store (0..${store.manifest.dataset.count - 1}).`);
    if (b.imageId !== void 0)
      images.require(b.imageId);
    const args = { dir: store.dir, layer: layer2, k: b.k ?? 8, metric: b.metric ?? "l2", ...b.image !== void 0 ? { image: b.image } : { imageId: b.imageId } };
    return call("dataset-neighbors", args, { model: ref, images: b.imageId !== void 0 ? [b.imageId] : [], budgetBytes: memory.budget(model, "interactive") }, clientGone(reply));
  });
  app.post("/api/dataset/stores/:id/embed", {
    schema: {
      params: params3,
      body: {
        type: "object",
        required: ["layer", "method"],
        properties: { layer, method: { type: "string", maxLength: 16 }, sample: { type: "integer", minimum: 10, maximum: 2e4 }, seed: { type: "integer", minimum: 0, maximum: 4294967295 }, metric: { enum: ["l2", "cosine"] } },
        additionalProperties: false
      }
    }
  }, async (req, reply) => {
    const method = parseEmbedMethod(req.body.method);
    const { store, model } = await open(req.params.id);
    const space = req.body.layer === "pixels" ? "pixels" : { layer: store.layer(model.resolveLayer(req.body.layer)).name };
    const dim = space === "pixels" ? store.manifest.pixelShape.reduce((a, d) => a * d, 1) : store.layer(space.layer).channels;
    memory.check(`Embedding ${store.manifest.dataset.count} vectors of ${dim} values`, EMBED_BYTES_PER_VALUE * store.manifest.dataset.count * dim);
    const sample = req.body.sample ?? (method === "pca" ? 5e3 : void 0);
    const request = task("dataset-embed", { dir: store.dir, space, method, ...sample ? { sample } : {}, seed: req.body.seed ?? 0, metric: req.body.metric ?? "l2" }, { budgetBytes: memory.budget() });
    const job = jobs.submit("dataset-embed", request);
    return reply.status(202).send({ job });
  });
}

// dist/interfaces/server/routes/synthesize.js
import { randomUUID } from "node:crypto";
import { existsSync as existsSync2, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

// dist/interfaces/server/tasks/synthesize.js
var SYNTH_KINDS = ["featviz", "adversarial", "invert", "dream", "style", "style-train", "fast-style"];
var isAllClasses = (objective) => /^(class|logit):\*$/i.test(objective.trim());

// dist/interfaces/server/routes/synthesize.js
var BUILTIN_STYLE_NET = fileURLToPath(new URL("../../../../assets/models/style/fast-style.onnx", import.meta.url));
var int = (minimum, maximum) => ({ type: "integer", minimum, maximum });
var real = (minimum, maximum) => ({ type: "number", minimum, maximum });
var text = (maxLength = 256) => ({ type: "string", maxLength });
var oneOf = (...values) => ({ enum: values });
var SEED = int(0, 4294967295);
var WEIGHT = real(0, 1e6);
var LAYERS = { anyOf: [text(4096), { type: "array", items: text(), maxItems: 32 }] };
var SYNTH_PARAMS = {
  featviz: {
    objective: text(1e3),
    param: oneOf("fourier", "pixel", "pixel-clip"),
    transforms: text(1e3),
    steps: int(1, 4096),
    lr: real(1e-6, 10),
    seed: SEED,
    batch: int(1, 16),
    start: oneOf("zero", "noise"),
    background: real(0, 1),
    tv: WEIGHT,
    l1: WEIGHT,
    l2: WEIGHT,
    blurEvery: int(1, 4096),
    blurSigma: real(0.01, 100),
    frames: int(0, 16)
  },
  adversarial: {
    method: oneOf("pgd", "fgsm"),
    norm: oneOf("linf", "l2"),
    epsilon: real(1e-6, 10),
    steps: int(1, 1e3),
    target: { anyOf: [int(0, 1e6), text(200)] },
    randomStart: { type: "boolean" }
  },
  invert: { layers: LAYERS, steps: int(1, 4e3), tv: WEIGHT },
  dream: {
    layer: text(),
    objective: text(1e3),
    octaves: int(1, 8),
    octaveScale: real(1.05, 3),
    steps: int(1, 200),
    stepSize: real(1e-5, 1),
    jitter: int(0, 256),
    guide: imageIdSchema,
    maxSide: int(16, 1024)
  },
  style: {
    backbone: oneOf("model", "texture"),
    contentWeight: WEIGHT,
    styleWeight: WEIGHT,
    tvWeight: WEIGHT,
    styleScale: real(0.05, 4),
    keepColors: { type: "boolean" },
    optimizer: oneOf("lbfgs", "adam"),
    steps: int(1, 2e3),
    maxSide: int(16, 768)
  },
  "style-train": { size: int(16, 256), batch: int(1, 8), steps: int(1, 2e4), lr: real(1e-6, 1), width: int(2, 64), blocks: int(1, 8), tvWeight: WEIGHT },
  "fast-style": { weights: { type: "array", items: real(-100, 100), maxItems: 64 }, maxSide: int(16, 1024) }
};
var bodySchema = (kind) => ({
  type: "object",
  properties: {
    model: idSchema,
    image: imageIdSchema,
    images: { type: "array", items: imageIdSchema, maxItems: 16 },
    styles: { type: "array", items: { type: "object", required: ["image"], properties: { image: imageIdSchema, weight: real(0, 100), name: text(100) } }, maxItems: 8 },
    net: idSchema,
    params: { type: "object", properties: SYNTH_PARAMS[kind], additionalProperties: false }
  },
  additionalProperties: false
});
var MAX_TRAINED_NETS = 8;
var FEATVIZ_FACTOR = 1.5;
function registerSynthesizeRoutes({ app, models, images, jobs, memory, task }) {
  const nets = /* @__PURE__ */ new Map();
  const net = (id) => {
    const hit = nets.get(id);
    if (hit)
      return hit;
    if (id === "builtin" && existsSync2(BUILTIN_STYLE_NET)) {
      const entry = { name: "built-in fast style network", graph: loadStyleNet(readFileSync(BUILTIN_STYLE_NET), "the built-in style network") };
      nets.set("builtin", entry);
      return entry;
    }
    throw new ConvLensError("UNKNOWN_NAME", `No style network "${id}".`, "GET /api/style-nets lists them; train one with POST /api/synthesize/style-train.");
  };
  app.get("/api/style-nets", async () => {
    const list = [];
    if (existsSync2(BUILTIN_STYLE_NET)) {
      try {
        list.push({ id: "builtin", name: net("builtin").name, styles: styleNetInfo(net("builtin").graph).names });
      } catch {
      }
    }
    for (const [id, n] of nets)
      if (id !== "builtin")
        list.push({ id, name: n.name, styles: styleNetInfo(n.graph).names });
    return { nets: list };
  });
  app.get("/api/style-nets/:id/onnx", async (req, reply) => {
    const n = net(req.params.id);
    return reply.type("application/octet-stream").header("content-disposition", `attachment; filename="${req.params.id}.onnx"`).send(Buffer.from(encodeStyleNet(n.graph)));
  });
  app.post("/api/synthesize/:kind", { schema: { params: { type: "object", properties: { kind: { enum: [...SYNTH_KINDS] } }, required: ["kind"] } } }, async () => {
    throw new ConvLensError("INVALID_ARGUMENT", `Unknown synthesis kind.`, `Use one of ${SYNTH_KINDS.join(", ")}.`);
  });
  for (const kind of SYNTH_KINDS)
    app.post(`/api/synthesize/${kind}`, { schema: { body: bodySchema(kind) } }, (req, reply) => synthesize(kind, req.body, reply));
  const keepTrained = (r) => {
    const result = r;
    if (!result.trained)
      return result;
    const { trained, ...rest } = result;
    const id = randomUUID();
    for (const old of [...nets.keys()].filter((k) => k !== "builtin").slice(0, Math.max(0, nets.size - MAX_TRAINED_NETS)))
      nets.delete(old);
    nets.set(id, { name: trained.name, graph: loadStyleNet(trained.bytes, "the trained style network") });
    return { ...rest, summary: { net: id, ...rest.summary } };
  };
  async function synthesize(kind, body, reply) {
    const p = body.params ?? {};
    const used = /* @__PURE__ */ new Set();
    const useImage = (id) => {
      images.require(id);
      used.add(id);
      return id;
    };
    const needImage = () => {
      if (!body.image)
        throw new ConvLensError("INVALID_ARGUMENT", `${kind} needs an image.`, 'Pass "image": an id from GET /api/images.');
      return useImage(body.image);
    };
    let modelId;
    let backboneId;
    const needModel = () => {
      modelId = body.model ?? "builtin";
      return models.require(modelId);
    };
    const args = { kind, params: p };
    const oneImage = (what, model, size) => {
      memory.batch(what, model, "gradient", { size, max: 1, factor: FEATVIZ_FACTOR });
    };
    switch (kind) {
      case "featviz": {
        const model = needModel();
        const size = defaultSize(model);
        const fit = memory.batch("Feature visualization", model, "gradient", { size, max: Math.max(1, model.labels.length), factor: FEATVIZ_FACTOR });
        const objective = typeof p["objective"] === "string" && p["objective"] ? p["objective"] : "class:*";
        const batch = typeof p["batch"] === "number" ? p["batch"] : void 0;
        if (!isAllClasses(objective) && batch !== void 0 && batch > fit) {
          throw new ConvLensError("INVALID_ARGUMENT", `A batch of ${batch} images at ${size[0]}x${size[1]} does not fit this studio's memory per job; ${fit} do${fit === 1 ? "es" : ""}.`, `Use batch ${fit} or less, or start the studio with more memory (convlens studio --memory <GB>).`);
        }
        args.maxBatch = fit;
        break;
      }
      case "adversarial": {
        const model = needModel();
        needImage();
        const size = modelInputSize(model);
        if (!size)
          throw new ConvLensError("MODEL_UNSUPPORTED", "Adversarial examples need a classifier with a fixed input size.");
        oneImage("An adversarial example", model, size);
        break;
      }
      case "invert": {
        const model = needModel();
        needImage();
        oneImage("Inversion", model, modelInputSize(model) ?? [128, 128]);
        break;
      }
      case "dream": {
        const model = needModel();
        needImage();
        if (typeof p["guide"] === "string" && p["guide"])
          useImage(p["guide"]);
        const side2 = typeof p["maxSide"] === "number" ? p["maxSide"] : 256;
        oneImage("DeepDream", model, [side2, side2]);
        break;
      }
      case "style": {
        const styles = body.styles ?? [];
        if (!styles.length)
          throw new ConvLensError("INVALID_ARGUMENT", "Style transfer needs at least one style image.", 'Pass "styles": [{ "image": "<id>", "weight": 1 }].');
        for (const s of styles)
          useImage(s.image);
        if (body.image)
          args.image = useImage(body.image);
        args.styles = styles;
        if (p["backbone"] !== "texture") {
          const selected = body.model !== void 0 ? models.require(body.model) : void 0;
          const problem = selected ? backboneProblem(selected) : void 0;
          if (selected && problem && p["backbone"] === "model")
            throw new ConvLensError("MODEL_UNSUPPORTED", `Model "${selected.name}" cannot be the style network: ${problem}.`, 'Choose an RGB model, or backbone "texture".');
          backboneId = selected && !problem ? body.model : models.get("squeezenet")?.model ? "squeezenet" : void 0;
          args.backbone = backboneId !== void 0;
        }
        break;
      }
      case "style-train": {
        const styles = body.styles ?? [];
        const content = body.images ?? [];
        if (!styles.length || !content.length)
          throw new ConvLensError("INVALID_ARGUMENT", "Training a style network needs style images and content images.", 'Pass "styles": [{ "image": id, "name": ... }] and "images": [content ids].');
        for (const s of styles)
          useImage(s.image);
        for (const c of content)
          useImage(c);
        args.styles = styles;
        args.images = content;
        break;
      }
      case "fast-style": {
        needImage();
        const id = body.net ?? "builtin";
        const n = net(id);
        const { names } = styleNetInfo(n.graph);
        const weights = Array.isArray(p["weights"]) ? p["weights"].map(Number) : names.map((_, k) => k === 0 ? 1 : 0);
        if (weights.length !== names.length)
          throw new ConvLensError("INVALID_ARGUMENT", `The network holds ${names.length} styles (${names.join(", ")}); ${weights.length} weights given.`);
        args.net = { id, bytes: encodeStyleNet(n.graph) };
        break;
      }
    }
    if (body.image && kind !== "style")
      args.image = body.image;
    const request = task("synthesize", args, { ...modelId !== void 0 ? { model: modelId } : {}, ...backboneId !== void 0 ? { models: { backbone: backboneId } } : {}, images: [...used] });
    const holds = [...modelId !== void 0 ? [models.pin(modelId)] : [], ...backboneId !== void 0 ? [models.pin(backboneId)] : [], ...[...used].map((id) => images.pin(id))];
    const job = jobs.submit(`synthesize:${kind}`, request, holds, kind === "style-train" ? keepTrained : void 0);
    return reply.status(202).send({ job });
  }
}

// dist/interfaces/server/routes/diffusion.js
var MAX_RECORDED_STEPS = 250;
var schema2 = {
  body: {
    type: "object",
    required: ["prompt"],
    properties: {
      model: idSchema,
      prompt: { type: "string", maxLength: 200 },
      negativePrompt: { type: "string", maxLength: 200 },
      steps: { type: "integer", minimum: 1, maximum: 1e3 },
      guidanceScale: { type: "number", minimum: 0, maximum: 50 },
      seed: { type: "integer", minimum: 0, maximum: 4294967295 },
      count: { type: "integer", minimum: 1, maximum: 64 },
      sampler: { enum: [...SAMPLERS] },
      eta: { type: "number", minimum: 0, maximum: 10 },
      previewEvery: { type: "integer", minimum: 1, maximum: 1e3 }
    },
    additionalProperties: false
  }
};
function registerDiffusionRoutes({ app, jobs, task }, engine, denoiserPath) {
  let denoiser;
  const open = (id) => {
    if (id !== void 0 && id !== "builtin")
      throw new ConvLensError("UNKNOWN_NAME", `No denoiser "${id}".`, 'The studio has one denoiser, "builtin".');
    denoiser ??= loadDenoiser(denoiserPath, engine);
    return denoiser;
  };
  app.get("/api/diffusion", async () => {
    const d = open(void 0);
    return {
      models: [
        {
          id: "builtin",
          name: d.name,
          kind: "class-conditional",
          labels: d.labels,
          imageSize: [d.shape[1], d.shape[2]],
          channels: d.shape[0],
          parameters: d.parameterCount(),
          schedule: d.meta.schedule,
          description: d.graph.metadata.get("convlens.description") ?? ""
        }
      ],
      samplers: SAMPLERS,
      defaults: { steps: 50, guidanceScale: 3, seed: 0, count: 4, sampler: "ddim", eta: 0, previewEvery: 5 }
    };
  });
  app.post("/api/diffusion/sample", { schema: schema2 }, async (req, reply) => {
    const body = req.body;
    const d = open(body.model);
    resolvePrompt(body.prompt, d.labels);
    if (body.negativePrompt !== void 0)
      resolvePrompt(body.negativePrompt, d.labels, "negative prompt");
    const count = body.count ?? 4;
    const steps = body.steps ?? 50;
    const every = body.previewEvery ?? Math.max(1, Math.round(steps / 10));
    if (Math.ceil(steps / every) > MAX_RECORDED_STEPS) {
      throw new ConvLensError("INVALID_ARGUMENT", `previewEvery ${every} records ${Math.ceil(steps / every)} of ${steps} steps; at most ${MAX_RECORDED_STEPS} are recorded.`, `Use previewEvery ${Math.ceil(steps / MAX_RECORDED_STEPS)} or more.`);
    }
    const request = task("diffusion", {
      ...denoiserPath !== void 0 ? { denoiserPath } : {},
      prompt: body.prompt,
      ...body.negativePrompt !== void 0 ? { negativePrompt: body.negativePrompt } : {},
      steps,
      guidanceScale: body.guidanceScale ?? 3,
      seed: body.seed ?? 0,
      count,
      sampler: body.sampler ?? "ddim",
      ...body.eta !== void 0 ? { eta: body.eta } : {},
      previewEvery: every
    });
    const job = jobs.submit("diffusion", request);
    return reply.status(202).send({ job });
  });
}

// dist/interfaces/server/jobs.js
import { randomUUID as randomUUID2 } from "node:crypto";
function toApiError(e) {
  if (e instanceof ConvLensError)
    return { code: e.code, message: e.message, ...e.hint ? { hint: e.hint } : {} };
  return { code: "INTERNAL", message: e?.message ?? String(e) };
}
var isActive = (j) => j.state === "queued" || j.state === "running";
var JobManager = class {
  jobs = /* @__PURE__ */ new Map();
  pool;
  keepMs;
  maxActive;
  maxKept;
  constructor(options = {}) {
    this.pool = options.pool;
    this.keepMs = options.keepMs ?? 10 * 6e4;
    this.maxActive = options.maxActive ?? 16;
    this.maxKept = options.maxKept ?? 64;
  }
  running() {
    return [...this.jobs.values()].filter((j) => j.state === "running").length;
  }
  queued() {
    return [...this.jobs.values()].filter((j) => j.state === "queued").length;
  }
  /**
   * Runs `task` on a worker process (`lane`: job workers, or the interactive one) and returns the
   * job id at once. `holds` are released when the job ends (pins on the uploads it uses, so they
   * are not evicted under it); `then` turns the worker's result into the job's (on the server).
   */
  submit(kind, task, holds = [], then, lane = "job") {
    const pool = this.pool;
    if (!pool) {
      for (const release of holds)
        release();
      throw new ConvLensError("RUNTIME_FAILURE", "This studio has no worker processes to run jobs on.", "Create the studio with createStudio(), which starts them.");
    }
    const job = this.create(kind, "queued", holds);
    const options = this.options(job);
    pool.run(task, lane, {
      signal: job.controller.signal,
      onStart: () => {
        if (job.state !== "queued")
          return;
        job.state = "running";
        delete job.ahead;
        this.emit(job, { type: "progress", progress: { done: 0, total: 0, phase: "starting" } });
      },
      onQueued: (ahead) => {
        if (job.state !== "queued" || job.ahead === ahead)
          return;
        job.ahead = ahead;
        this.emit(job, { type: "progress", progress: { done: 0, total: 0, phase: `queued: ${ahead ? `${ahead} job${ahead > 1 ? "s" : ""} ahead` : "next"} (waiting for a free worker)` } });
      },
      onProgress: options.onProgress
    }).then((result) => then ? then(result) : result).then((result) => this.settled(job, result), (e) => this.failed(job, e));
    return job.id;
  }
  /**
   * Runs `work` in this process (no worker): only for light work and tests. Returns the job id
   * at once; `holds` are released when the job ends.
   */
  start(kind, work, holds = []) {
    const job = this.create(kind, "running", holds);
    const options = this.options(job);
    setImmediate(() => {
      work(options).then((result) => this.settled(job, result), (e) => this.failed(job, e));
    });
    return job.id;
  }
  status(id) {
    const j = this.jobs.get(id);
    return j && { id: j.id, kind: j.kind, state: j.state, ...j.ahead !== void 0 ? { ahead: j.ahead } : {} };
  }
  cancel(id) {
    const j = this.jobs.get(id);
    if (!j)
      return false;
    if (!isActive(j))
      return true;
    j.controller.abort();
    if (j.state === "queued")
      this.finish(j, "cancelled", { type: "cancelled" });
    return true;
  }
  /** Replays past events, then follows new ones; returns an unsubscribe function. */
  subscribe(id, listener) {
    const j = this.jobs.get(id);
    if (!j)
      return void 0;
    for (const e of j.events)
      listener(e);
    if (!isActive(j))
      return () => void 0;
    j.listeners.add(listener);
    return () => j.listeners.delete(listener);
  }
  cancelAll() {
    for (const j of this.jobs.values())
      if (isActive(j))
        j.controller.abort();
  }
  create(kind, state, holds) {
    this.expire();
    const active = [...this.jobs.values()].filter(isActive).length;
    if (active >= this.maxActive) {
      for (const release of holds)
        release();
      throw new ConvLensError("INVALID_ARGUMENT", `${active} jobs are already running or queued.`, "Wait for one to finish or cancel it (DELETE /api/jobs/:id).");
    }
    const job = { id: randomUUID2(), kind, state, controller: new AbortController(), events: [], listeners: /* @__PURE__ */ new Set(), created: Date.now(), holds };
    this.jobs.set(job.id, job);
    return job;
  }
  options(job) {
    let lastProgress = 0;
    return {
      signal: job.controller.signal,
      onProgress: (progress) => {
        const now = Date.now();
        if (progress.done < progress.total && now - lastProgress < 100)
          return;
        lastProgress = now;
        if (isActive(job))
          this.emit(job, { type: "progress", progress });
      }
    };
  }
  settled(job, result) {
    if (!isActive(job))
      return;
    if (job.controller.signal.aborted)
      return this.finish(job, "cancelled", { type: "cancelled" });
    this.finish(job, "done", { type: "result", result });
  }
  failed(job, e) {
    if (!isActive(job))
      return;
    if (job.controller.signal.aborted || e instanceof ConvLensError && e.code === "CANCELLED")
      this.finish(job, "cancelled", { type: "cancelled" });
    else
      this.finish(job, "failed", { type: "error", error: toApiError(e) });
  }
  emit(job, e) {
    if (e.type === "progress")
      job.events = job.events.filter((x) => x.type !== "progress");
    job.events.push(e);
    for (const l of job.listeners)
      l(e);
  }
  finish(job, state, e) {
    job.state = state;
    delete job.ahead;
    for (const release of job.holds.splice(0))
      release();
    this.emit(job, e);
    job.listeners.clear();
    this.expire();
  }
  expire() {
    const cutoff = Date.now() - this.keepMs;
    for (const [id, j] of this.jobs)
      if (!isActive(j) && j.created < cutoff)
        this.jobs.delete(id);
    let finished = [...this.jobs.values()].filter((j) => !isActive(j)).length;
    for (const [id, j] of this.jobs) {
      if (finished <= this.maxKept)
        break;
      if (!isActive(j)) {
        this.jobs.delete(id);
        finished--;
      }
    }
  }
};

// dist/interfaces/server/state.js
import { randomUUID as randomUUID3 } from "node:crypto";
import { mkdtempSync, readdirSync as readdirSync2, readFileSync as readFileSync2, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join as join2 } from "node:path";
var UploadShelf = class {
  caps;
  what;
  drop;
  items = /* @__PURE__ */ new Map();
  clock = 0;
  constructor(caps, what, drop) {
    this.caps = caps;
    this.what = what;
    this.drop = drop;
  }
  /** Evicts until an upload of `bytes` fits; refuses when what is left is held by running jobs. */
  makeRoom(bytes) {
    if (bytes > this.caps.bytes) {
      throw new ConvLensError("INVALID_ARGUMENT", `The ${this.what} is larger than all ${this.what}s may be together (${Math.round(this.caps.bytes / (1 << 20))} MB).`, `Upload a smaller ${this.what}.`);
    }
    for (; ; ) {
      const total = [...this.items.values()].reduce((a, b) => a + b.bytes, 0);
      if (this.items.size < this.caps.count && total + bytes <= this.caps.bytes)
        return;
      let victim;
      let oldest = Infinity;
      for (const [id, it] of this.items)
        if (it.pins === 0 && it.used < oldest)
          [victim, oldest] = [id, it.used];
      if (victim === void 0) {
        throw new ConvLensError("INVALID_ARGUMENT", `No room for another ${this.what}: the ${this.items.size} uploaded ${this.what}s are all in use by running jobs.`, "Wait for a job to finish or cancel it (DELETE /api/jobs/:id), then upload again.");
      }
      this.remove(victim);
      this.drop(victim);
    }
  }
  add(id, bytes) {
    this.items.set(id, { bytes, used: ++this.clock, pins: 0 });
  }
  has(id) {
    return this.items.has(id);
  }
  touch(id) {
    const it = this.items.get(id);
    if (it)
      it.used = ++this.clock;
  }
  /** Holds an upload until the returned function is called (a running job uses it). */
  pin(id) {
    const it = this.items.get(id);
    if (!it)
      return () => void 0;
    it.pins++;
    let released = false;
    return () => {
      if (!released)
        it.pins--;
      released = true;
    };
  }
  pinned(id) {
    return (this.items.get(id)?.pins ?? 0) > 0;
  }
  remove(id) {
    this.items.delete(id);
  }
  stats() {
    const all = [...this.items.values()];
    return { count: all.length, bytes: all.reduce((a, b) => a + b.bytes, 0), pinned: all.filter((i) => i.pins > 0).length };
  }
};
function undeletable(shelf, what, id, source) {
  if (!shelf.has(id))
    return new ConvLensError("FORBIDDEN", `The ${what} "${id}" is not an upload (${source}) and cannot be deleted.`, `Only uploaded ${what}s can be deleted.`);
  if (shelf.pinned(id))
    return new ConvLensError("INVALID_ARGUMENT", `The ${what} "${id}" is in use by a running job.`, "Cancel the job (DELETE /api/jobs/:id) or wait for it, then delete.");
  return void 0;
}
var ModelRegistry = class {
  engine;
  entries = /* @__PURE__ */ new Map();
  uploads;
  uploadDir;
  /** called with the id of a model that left the registry (caches keyed by it let go) */
  onRemove = () => void 0;
  constructor(engine, caps = { count: 8, bytes: 1 << 30 }) {
    this.engine = engine;
    this.uploads = new UploadShelf(caps, "model", (id) => this.forget(id));
  }
  /** Every built-in model: the default (id "builtin", the page's first choice), then the others by name ("squeezenet"). */
  addBuiltin() {
    const entries = BUILTIN_MODELS.map((b) => {
      const id = b === DEFAULT_BUILTIN ? "builtin" : b.name;
      return this.add({ id, name: b.title, source: "builtin" }, () => loadBuiltinModel(this.engine, b.name), { key: id, type: "builtin", name: b.name });
    });
    return entries[0];
  }
  addPath(path) {
    const id = randomUUID3();
    return this.add({ id, name: basename(path), source: "path" }, () => loadModelFile(path, this.engine), { key: id, type: "file", path });
  }
  /** An uploaded model; the least recently used upload leaves first when the caps are reached. */
  addUpload(name, bytes) {
    this.uploads.makeRoom(bytes.byteLength);
    const id = randomUUID3();
    const entry = this.add({ id, name, source: "upload" }, () => Model.fromOnnxGraph(decodeModel(bytes, { source: `"${name}"` }), this.engine, name.replace(/\.onnx$/i, "")));
    if (entry.model) {
      this.uploadDir ??= mkdtempSync(join2(tmpdir(), "convlens-models-"));
      const path = join2(this.uploadDir, `${id}.onnx`);
      writeFileSync(path, bytes, { mode: 384 });
      entry.ref = { key: id, type: "upload", path, name };
    }
    this.uploads.add(entry.id, entry.model ? bytes.byteLength : 0);
    return entry;
  }
  /** How a worker loads the usable model of an id (errors as `require`). */
  ref(id) {
    this.require(id);
    return this.entries.get(id).ref;
  }
  /** Removes the uploads' folder (the studio closes). */
  dispose() {
    if (this.uploadDir)
      rmSync(this.uploadDir, { recursive: true, force: true });
    this.uploadDir = void 0;
  }
  list() {
    return [...this.entries.values()];
  }
  get(id) {
    this.uploads.touch(id);
    return this.entries.get(id);
  }
  /** The usable model for an id, or an error the API turns into 404/422. */
  require(id) {
    const e = this.get(id);
    if (!e)
      throw new ConvLensError("UNKNOWN_NAME", `No model with id "${id}".`, "GET /api/models lists the models.");
    if (!e.model)
      throw new ConvLensError("MODEL_UNSUPPORTED", e.error?.message ?? "The model could not be loaded.", e.error?.hint);
    return e.model;
  }
  /** Holds an uploaded model while a job runs on it (it is not evicted or deleted meanwhile). */
  pin(id) {
    return this.uploads.pin(id);
  }
  /** Deletes an uploaded model (not the built-in one, not one in use). */
  delete(id) {
    const e = this.entries.get(id);
    if (!e)
      throw new ConvLensError("UNKNOWN_NAME", `No model with id "${id}".`, "GET /api/models lists the models.");
    const why = undeletable(this.uploads, "model", id, e.source === "builtin" ? "the built-in model" : "given when the studio started");
    if (why)
      throw why;
    this.uploads.remove(id);
    this.forget(id);
  }
  forget(id) {
    const entry = this.entries.get(id);
    this.entries.delete(id);
    if (entry?.ref?.type === "upload")
      rmSync(entry.ref.path, { force: true });
    if (entry?.model)
      this.onRemove(id);
  }
  add(entry, load, ref) {
    try {
      entry.model = load();
      GraphBuilder.over(entry.model.graph.clone(), { strict: true });
      if (ref)
        entry.ref = ref;
    } catch (e) {
      entry.error = toApiError(e);
      delete entry.model;
    }
    this.entries.set(entry.id, entry);
    return entry;
  }
};
var ImageRegistry = class {
  entries = /* @__PURE__ */ new Map();
  uploads;
  constructor(caps = { count: 256, bytes: 256 << 20 }) {
    this.uploads = new UploadShelf(caps, "image", (id) => this.forget(id));
  }
  /** Registers every image in the sample folders (group = folder name). */
  addSamples(root) {
    for (const dir of safeList(root)) {
      const group = toId(dir);
      for (const file of safeList(join2(root, dir)).sort()) {
        if (!/\.(png|jpe?g|webp)$/i.test(file))
          continue;
        const id = `${group}/${toId(file)}`;
        this.entries.set(id, { id, name: file.replace(/\.\w+$/, ""), source: "sample", group, bytes: readFileSync2(join2(root, dir, file)) });
      }
    }
  }
  /** An uploaded image; the least recently used upload leaves first when the caps are reached. */
  addUpload(name, bytes) {
    this.uploads.makeRoom(bytes.byteLength);
    const entry = { id: `upload/${randomUUID3()}`, name, source: "upload", group: "uploads", bytes };
    this.entries.set(entry.id, entry);
    this.uploads.add(entry.id, bytes.byteLength);
    return entry;
  }
  list() {
    return [...this.entries.values()];
  }
  get(id) {
    this.uploads.touch(id);
    return this.entries.get(id);
  }
  require(id) {
    const e = this.get(id);
    if (!e)
      throw new ConvLensError("UNKNOWN_NAME", `No image with id "${id}".`, "GET /api/images lists the images.");
    return e;
  }
  /** An image as a worker task receives it. */
  ref(id) {
    const e = this.require(id);
    return { id: e.id, name: e.name, bytes: e.bytes };
  }
  /** Holds an uploaded image while a job runs on it. */
  pin(id) {
    return this.uploads.pin(id);
  }
  /** Deletes an uploaded image (not a sample, not one in use). */
  delete(id) {
    if (!this.entries.has(id))
      throw new ConvLensError("UNKNOWN_NAME", `No image with id "${id}".`, "GET /api/images lists the images.");
    const why = undeletable(this.uploads, "image", id, "a sample");
    if (why)
      throw why;
    this.uploads.remove(id);
    this.forget(id);
  }
  forget(id) {
    this.entries.delete(id);
  }
};
function safeList(dir) {
  try {
    return readdirSync2(dir);
  } catch {
    return [];
  }
}

// dist/interfaces/server/workers/memory.js
import { totalmem } from "node:os";

// dist/methods/inspect/memory.js
var BYTES_PER_VALUE = { forward: 4, gradient: 12 };
function valuesPerSample(model, size) {
  const b = model.builder();
  const [, , h0, w0] = model.input.shape ?? [];
  const fixed = typeof h0 === "number" && typeof w0 === "number";
  const [h, w] = size ?? (fixed ? [h0, w0] : [224, 224]);
  const scale = fixed ? h * w / (h0 * w0) : 1;
  let total = 0;
  for (const node of model.graph.nodes) {
    for (const out of node.outputs) {
      if (!out)
        continue;
      let facts;
      try {
        facts = b.factsOf(out);
      } catch {
        continue;
      }
      if (!facts.shape || facts.value || !isFloatDType(facts.dtype))
        continue;
      total += facts.shape.slice(1).reduce((a, d, i) => a * (typeof d === "number" ? d : i === 1 ? h : i === 2 ? w : 1), 1);
    }
  }
  return Math.ceil(total * scale);
}
function bytesPerSample(model, kind, size) {
  return valuesPerSample(model, size) * BYTES_PER_VALUE[kind];
}
function samplesWithin(budget, perSample, max) {
  return Math.max(0, Math.min(max, Math.floor(budget / Math.max(1, perSample))));
}

// dist/interfaces/server/workers/memory.js
var MB = 1 << 20;
var GB = 1 << 30;
var mb = (bytes) => bytes >= GB ? `${(bytes / GB).toFixed(1)} GB` : `${Math.round(bytes / MB)} MB`;
var WORKER_BASE_BYTES = 192 * MB;
var WEIGHT_COPIES = 4;
var PLANNED_FRACTION = 0.75;
function defaultWorkerMemory(total = totalmem()) {
  return Math.round(Math.min(2.5 * GB, Math.max(1 * GB, total / 4)));
}
function defaultJobWorkers(cores) {
  return Math.max(1, Math.min(4, Math.floor(cores / 2)));
}
var MemoryPlan = class {
  totalBytes;
  jobWorkers;
  /** resident memory a job worker may reach */
  jobWorkerBytes;
  /** resident memory the interactive worker may reach */
  interactiveBytes;
  /** JavaScript heap limit of a worker, MB */
  heapMb;
  constructor(totalBytes, jobWorkers) {
    this.totalBytes = totalBytes;
    this.jobWorkers = jobWorkers;
    if (!(totalBytes >= 512 * MB))
      throw new ConvLensError("INVALID_ARGUMENT", `The studio needs at least 512 MB for its workers, got ${mb(totalBytes)}.`, "Pass --memory 1 or more (GB).");
    this.interactiveBytes = Math.max(384 * MB, Math.round(totalBytes / 4));
    this.jobWorkerBytes = Math.round((totalBytes - this.interactiveBytes) / Math.max(1, jobWorkers));
    this.heapMb = Math.max(512, Math.round(this.jobWorkerBytes / 2 / MB));
  }
  /** Bytes a task on `model` may plan its batches to (0 when the model alone fills the worker). */
  budget(model, worker = "job") {
    const limit = worker === "job" ? this.jobWorkerBytes : this.interactiveBytes;
    return Math.max(0, Math.floor((limit - WORKER_BASE_BYTES - WEIGHT_COPIES * (model ? weightBytes(model) : 0)) * PLANNED_FRACTION));
  }
  /**
   * Samples per engine run of `kind` on `model` that fit the job budget (at most `o.max`).
   * Refuses, naming the numbers, when not even one fits.
   */
  batch(what, model, kind, o) {
    const per = Math.ceil(bytesPerSample(model, kind, o.size) * (o.factor ?? 1));
    const n = samplesWithin(this.budget(model, o.worker), per, o.max);
    if (n < 1)
      throw this.tooLarge(what, per, model, o.worker);
    return n;
  }
  /** Refuses work whose estimated bytes exceed the job budget. */
  check(what, bytes, model) {
    if (bytes > this.budget(model))
      throw this.tooLarge(what, bytes, model);
  }
  tooLarge(what, bytes, model, worker = "job") {
    const weights = model ? weightBytes(model) : 0;
    const where = worker === "job" ? `a job on this studio may use ${mb(this.budget(model))} (of ${mb(this.jobWorkerBytes)} per job worker)` : `a quick request on this studio may use ${mb(this.budget(model, worker))} (of ${mb(this.interactiveBytes)} for the interactive worker)`;
    return new ConvLensError("INVALID_ARGUMENT", `${what} needs about ${mb(bytes)} of memory at once${model ? ` (activations and gradients of "${model.name}", beside ${mb(WEIGHT_COPIES * weights)} of weight copies)` : ""}; ${where}.`, "Ask for less (a smaller image size, fewer images or points), or start the studio with more memory for its workers: convlens studio --memory <GB> (and fewer --workers).");
  }
};
function weightBytes(model) {
  let n = 0;
  for (const t of model.graph.initializers.values())
    if (isFloatDType(t.dtype))
      n += t.data.byteLength;
  return n;
}

// dist/interfaces/server/workers/pool.js
import { fork } from "node:child_process";
import { readFileSync as readFileSync3 } from "node:fs";
import { createRequire } from "node:module";
import { setPriority } from "node:os";
import { fileURLToPath as fileURLToPath2, pathToFileURL } from "node:url";
var MB2 = 1 << 20;
var mb2 = (bytes) => `${Math.round(bytes / MB2)} MB`;
function residentBytes(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync3(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return pid === "self" ? process.memoryUsage().rss : 0;
  }
}
function workerEntry() {
  if (import.meta.url.endsWith(".ts")) {
    const tsx = createRequire(import.meta.url).resolve("tsx");
    return { file: fileURLToPath2(new URL("./child.ts", import.meta.url)), execArgv: ["--import", pathToFileURL(tsx).href] };
  }
  return { file: fileURLToPath2(new URL("./child.js", import.meta.url)), execArgv: [] };
}
var WorkerPool = class {
  options;
  slots;
  queues = { job: [], interactive: [] };
  nextId = 1;
  closed = false;
  watch;
  killed = { cancel: 0, memory: 0, recycle: 0, shutdown: 0 };
  exits = /* @__PURE__ */ new Set();
  constructor(options) {
    this.options = options;
    const slot = (lane, limitBytes) => ({ lane, proc: void 0, ready: void 0, current: void 0, killReason: void 0, stderrTail: "", limitBytes });
    this.slots = [...Array.from({ length: Math.max(1, options.jobWorkers) }, () => slot("job", options.jobRssBytes)), slot("interactive", options.interactiveRssBytes)];
  }
  /** Runs a task on a worker of `lane`; resolves with its result, rejects with its error (CANCELLED when cancelled). */
  run(task, lane, hooks = {}) {
    if (this.closed)
      return Promise.reject(new ConvLensError("CANCELLED", "The studio is shutting down."));
    return new Promise((resolve3, reject) => {
      const p = { ...hooks, id: this.nextId++, task, lane, resolve: resolve3, reject };
      if (hooks.signal) {
        if (hooks.signal.aborted)
          return reject(cancelled());
        const onAbort = () => this.cancel(p);
        hooks.signal.addEventListener("abort", onAbort, { once: true });
        p.detach = () => hooks.signal.removeEventListener("abort", onAbort);
      }
      this.queues[lane].push(p);
      this.pump(lane);
      this.reportQueue(lane);
    });
  }
  /** Starts the workers of a lane ahead of their first task (the first request then need not wait for one to start). */
  warm(lane = "interactive") {
    for (const s of this.slots)
      if (s.lane === lane && !s.proc && !this.closed)
        this.spawn(s).catch(() => void 0);
  }
  /** Tells every worker that models left the registry. */
  forget(keys) {
    for (const s of this.slots)
      if (s.proc?.connected)
        this.post(s, { type: "forget", keys });
  }
  stats() {
    const workers = this.slots.map((s) => ({
      lane: s.lane,
      pid: s.proc?.pid,
      state: !s.proc ? "idle" : s.killReason ? "stopping" : s.current ? "busy" : "idle",
      ...s.current ? { task: s.current.task.kind } : {},
      rssBytes: s.proc?.pid ? residentBytes(s.proc.pid) : 0
    }));
    for (const w of workers)
      if (w.pid === void 0)
        w.state = "idle";
    const server = residentBytes("self");
    const inWorkers = workers.reduce((a, w) => a + w.rssBytes, 0);
    return { workers, queued: { job: this.queues.job.length, interactive: this.queues.interactive.length }, rssBytes: { server, workers: inWorkers, total: server + inWorkers }, killed: { ...this.killed } };
  }
  /** Cancels everything and stops every worker (killed after a short grace); resolves when they are gone. */
  async close(graceMs = 300) {
    if (this.closed)
      return Promise.all(this.exits).then(() => void 0);
    this.closed = true;
    if (this.watch)
      clearInterval(this.watch);
    for (const lane of ["job", "interactive"])
      for (const p of this.queues[lane].splice(0))
        this.settle(p, () => p.reject(new ConvLensError("CANCELLED", "The studio is shutting down.")));
    const busy = this.slots.filter((s) => s.current);
    for (const s of busy)
      this.post(s, { type: "abort", id: s.current.id });
    if (busy.length)
      await Promise.race([Promise.all(busy.map((s) => this.idle(s))), new Promise((r) => setTimeout(r, graceMs))]);
    for (const s of this.slots)
      if (s.proc)
        this.kill(s, "shutdown");
    await Promise.race([Promise.all(this.exits), new Promise((r) => setTimeout(r, 3e3))]);
  }
  idle(s) {
    return new Promise((resolve3) => {
      const check = () => s.current ? void setTimeout(check, 20) : resolve3();
      check();
    });
  }
  cancel(p) {
    const q = this.queues[p.lane];
    const at = q.indexOf(p);
    if (at >= 0) {
      q.splice(at, 1);
      this.settle(p, () => p.reject(cancelled()));
      this.reportQueue(p.lane);
      return;
    }
    const slot = this.slots.find((s) => s.current === p);
    if (!slot || p.abortRequested)
      return;
    p.abortRequested = true;
    this.post(slot, { type: "abort", id: p.id });
    p.graceTimer = setTimeout(() => {
      if (slot.current === p)
        this.kill(slot, "cancel");
    }, this.options.graceMs ?? 1e3);
  }
  pump(lane) {
    if (this.closed)
      return;
    for (const s of this.slots) {
      if (s.lane !== lane || s.current || s.killReason)
        continue;
      const p = this.queues[lane].shift();
      if (!p)
        return;
      this.start(s, p);
    }
  }
  start(s, p) {
    s.current = p;
    p.onStart?.();
    this.hold(s, true);
    this.reportQueue(s.lane);
    const ready = s.proc && s.ready ? s.ready : this.spawn(s);
    ready.then(() => {
      if (s.current !== p)
        return;
      if (p.abortRequested)
        return this.finish(s, p, () => p.reject(cancelled()));
      this.post(s, { type: "run", id: p.id, task: p.task });
      this.watchMemory();
    }, (e) => {
      if (s.current === p)
        this.finish(s, p, () => p.reject(e));
    });
  }
  spawn(s) {
    const { file, execArgv } = workerEntry();
    const heap = `--max-old-space-size=${Math.max(256, Math.round(this.options.heapMb))}`;
    const proc = fork(file, [], {
      execArgv: [...execArgv, heap],
      serialization: "advanced",
      stdio: ["ignore", "ignore", "pipe", "ipc"],
      env: { ...process.env, ...this.options.env }
    });
    s.proc = proc;
    s.killReason = void 0;
    s.stderrTail = "";
    proc.stderr?.on("data", (c) => s.stderrTail = (s.stderrTail + c.toString()).slice(-4e3));
    if (s.lane === "job" && proc.pid) {
      try {
        setPriority(proc.pid, 10);
      } catch {
      }
    }
    let exited;
    const gone = new Promise((r) => exited = r);
    this.exits.add(gone);
    s.ready = new Promise((resolve3, reject) => {
      const onReady = (m) => {
        if (m.type === "ready") {
          proc.off("message", onReady);
          resolve3();
        }
      };
      proc.on("message", onReady);
      proc.once("exit", (code, signal) => reject(this.exitError(s, code, signal)));
    });
    s.ready.catch(() => void 0);
    proc.on("message", (m) => this.receive(s, proc, m));
    proc.once("exit", (code, signal) => {
      this.exits.delete(gone);
      exited();
      this.onExit(s, proc, code, signal);
    });
    proc.on("error", () => void 0);
    this.hold(s, !!s.current);
    this.post(s, { type: "init", init: { ...this.options.init, lane: s.lane, ...this.options.threads ? { threads: this.options.threads } : {} } });
    return s.ready;
  }
  receive(s, proc, m) {
    if (s.proc !== proc)
      return;
    const p = s.current;
    if (m.type === "ready" || !p || m.id !== p.id)
      return;
    if (m.type === "progress")
      p.onProgress?.(m.progress);
    else if (m.type === "result")
      this.finish(s, p, () => p.resolve(m.result));
    else
      this.finish(s, p, () => p.reject(m.error.code === "CANCELLED" && p.abortRequested ? cancelled() : new ConvLensError(m.error.code, m.error.message, m.error.hint)));
  }
  /** A task ended on slot `s`: settle it, maybe replace a bloated worker, take the next task. */
  finish(s, p, settle) {
    s.current = void 0;
    this.hold(s, false);
    this.settle(p, settle);
    const pid = s.proc?.pid;
    if (pid && !s.killReason && residentBytes(pid) > s.limitBytes * (this.options.recycleFraction ?? 0.6))
      this.kill(s, "recycle");
    this.pump(s.lane);
  }
  /**
   * A busy worker keeps this process alive until its answer arrives; an idle one does not (a
   * script that used the studio without closing it still exits).
   */
  hold(s, busy) {
    const handles = [s.proc, s.proc?.channel, s.proc?.stderr];
    for (const h of handles) {
      if (busy)
        h?.ref();
      else
        h?.unref();
    }
  }
  settle(p, settle) {
    if (p.graceTimer)
      clearTimeout(p.graceTimer);
    p.detach?.();
    settle();
  }
  onExit(s, proc, code, signal) {
    if (s.proc !== proc)
      return;
    const reason = s.killReason;
    s.proc = void 0;
    s.ready = void 0;
    s.killReason = void 0;
    const p = s.current;
    if (p) {
      s.current = void 0;
      const error = reason === "cancel" || p.abortRequested ? cancelled() : this.exitError(s, code, signal, reason);
      this.settle(p, () => p.reject(error));
    } else if (!reason && !this.closed && s.stderrTail.trim()) {
      process.stderr.write(`convlens studio: a ${s.lane} worker stopped (${signal ?? `exit code ${code}`}):
${s.stderrTail.trim().split("\n").slice(-5).join("\n")}
`);
    }
    this.pump(s.lane);
  }
  exitError(s, code, signal, reason) {
    if (reason === "memory") {
      return new ConvLensError("RUNTIME_FAILURE", `The job needed more memory than a studio worker may use (${mb2(s.limitBytes)}) and was stopped.`, "Ask for less (a smaller image, batch, sample or model), or start the studio with more memory: convlens studio --memory <GB>.");
    }
    if (reason === "shutdown" || this.closed)
      return new ConvLensError("CANCELLED", "The studio is shutting down.");
    if (/heap out of memory|Allocation failed/i.test(s.stderrTail)) {
      return new ConvLensError("RUNTIME_FAILURE", `The job ran out of JavaScript heap (${Math.round(this.options.heapMb)} MB per worker) and was stopped.`, "Ask for less (fewer images, points or steps), or start the studio with more memory: convlens studio --memory <GB>.");
    }
    return new ConvLensError("RUNTIME_FAILURE", `The studio worker running this task stopped unexpectedly (${signal ?? `exit code ${code}`}).`, "Try again; the studio starts a new worker. If it happens again, run the same method with the convlens CLI to see the full error.");
  }
  kill(s, reason) {
    if (!s.proc || s.killReason)
      return;
    s.killReason = reason;
    this.killed[reason]++;
    s.proc.kill("SIGKILL");
  }
  post(s, m) {
    if (!s.proc?.connected)
      return;
    try {
      s.proc.send(m);
    } catch {
    }
  }
  reportQueue(lane) {
    this.queues[lane].forEach((p, i) => p.onQueued?.(i));
  }
  /** While any worker is busy, checks resident memory and stops a worker over its limit. */
  watchMemory() {
    if (this.watch || this.closed)
      return;
    this.watch = setInterval(() => {
      let busy = false;
      for (const s of this.slots) {
        if (!s.current || !s.proc?.pid || s.killReason)
          continue;
        busy = true;
        if (residentBytes(s.proc.pid) > s.limitBytes)
          this.kill(s, "memory");
      }
      if (!busy && this.watch) {
        clearInterval(this.watch);
        this.watch = void 0;
      }
    }, this.options.watchMs ?? 200);
    this.watch.unref();
  }
};
var cancelled = () => new ConvLensError("CANCELLED", "Cancelled.");

// dist/interfaces/server/app.js
function clientGone(reply) {
  const controller = new AbortController();
  reply.raw.once("close", () => {
    if (!reply.raw.writableFinished)
      controller.abort();
  });
  return controller.signal;
}
var fmtMB = (bytes) => bytes >= 1 << 20 ? `${Math.round(bytes / (1 << 20))} MB` : `${Math.round(bytes / 1024)} kB`;
var DEFAULT_SAMPLES_DIR = fileURLToPath3(new URL("../../../samples", import.meta.url));
var DEFAULT_DATA_DIR = fileURLToPath3(new URL("../../../data", import.meta.url));
var DEFAULT_WEB_DIR = fileURLToPath3(new URL("../../../dist/web", import.meta.url));
var DEFAULT_UPLOADS_DIR = resolve2("out", "uploads");
function studioDataRoots(options) {
  return [options.samplesDir ?? DEFAULT_SAMPLES_DIR, DEFAULT_DATA_DIR, options.uploadsDir ?? DEFAULT_UPLOADS_DIR, DEBIAN_FASHION_MNIST_DIR, ...options.dataRoots ?? []];
}
var STATUS = {
  MODEL_UNREADABLE: 422,
  MODEL_UNSUPPORTED: 422,
  UNSUPPORTED_OP: 422,
  UNSUPPORTED_OPSET: 422,
  EXTERNAL_DATA_MISSING: 422,
  SHAPE_MISMATCH: 422,
  UNKNOWN_NAME: 404,
  INPUT_UNREADABLE: 415,
  INVALID_ARGUMENT: 400,
  RUNTIME_FAILURE: 500,
  CANCELLED: 409,
  FORBIDDEN: 403
};
async function createStudio(options) {
  const maxModelBytes = options.maxModelBytes ?? 256 * 1024 * 1024;
  const maxImageBytes = options.maxImageBytes ?? 16 * 1024 * 1024;
  const app = Fastify({ logger: options.logger ?? false, bodyLimit: 4 * 1024 * 1024 });
  const bound = () => {
    const a = app.server.listening ? app.server.address() : null;
    return a && typeof a === "object" ? a.port : void 0;
  };
  const access = new AccessPolicy(options, bound);
  registerAccessControl(app, access);
  await app.register(multipart, { limits: { files: 1, fields: 4, parts: 6 } });
  const models = new ModelRegistry(options.engine, options.modelUploads);
  models.addBuiltin();
  if (options.modelPath)
    models.addPath(options.modelPath);
  const images = new ImageRegistry(options.imageUploads);
  images.addSamples(options.samplesDir ?? DEFAULT_SAMPLES_DIR);
  const fileOptions = {
    roots: studioDataRoots(options),
    maxFileBytes: options.maxDataFileBytes ?? 1 << 30,
    outsideHint: "The studio reads datasets and models only from its data folders (samples/, data/, out/uploads and those given with --data); start it with --data <folder> to add one."
  };
  const files = new FileAccess(fileOptions);
  const jobWorkers = options.jobWorkers ?? defaultJobWorkers(availableParallelism());
  const memory = new MemoryPlan(options.workerMemoryBytes ?? defaultWorkerMemory(), jobWorkers);
  const pool = new WorkerPool({
    jobWorkers,
    ...options.engine.options.threads ? { threads: options.engine.options.threads } : {},
    init: { files: fileOptions },
    jobRssBytes: memory.jobWorkerBytes,
    interactiveRssBytes: memory.interactiveBytes,
    heapMb: memory.heapMb,
    ...options.cancelGraceMs !== void 0 ? { graceMs: options.cancelGraceMs } : {},
    ...options.workerEnv ? { env: options.workerEnv } : {}
  });
  models.onRemove = (id) => pool.forget([id]);
  const jobs = new JobManager({ pool });
  const streams = new EventStreams(options.streamHighWaterBytes);
  const refOf = (m) => typeof m === "string" ? models.ref(m) : m;
  const task = (kind, args, inputs = {}) => {
    const model = inputs.model !== void 0 ? refOf(inputs.model) : void 0;
    const imageRefs = (inputs.images ?? []).map((id) => images.ref(id));
    return {
      kind,
      ...model ? { model } : {},
      ...inputs.models ? { models: Object.fromEntries(Object.entries(inputs.models).map(([k, m]) => [k, refOf(m)])) } : {},
      images: imageRefs,
      args,
      budgetBytes: inputs.budgetBytes ?? memory.budget(typeof inputs.model === "string" ? models.require(inputs.model) : void 0)
    };
  };
  const call = (kind, args, inputs = {}, signal, lane = "interactive") => pool.run(task(kind, args, { ...inputs, budgetBytes: inputs.budgetBytes ?? memory.budget(typeof inputs.model === "string" ? models.require(inputs.model) : void 0, "interactive") }), lane, signal ? { signal } : {});
  const studio = { app, models, images, jobs, access, files, streams, pool, memory, call, task, maxImagePixels: options.maxImagePixels ?? 5e7 };
  app.addHook("onSend", async (_req, reply) => {
    reply.header("cross-origin-opener-policy", "same-origin");
    reply.header("cross-origin-embedder-policy", "require-corp");
  });
  app.setErrorHandler((error, _req, reply) => {
    if (error instanceof ConvLensError)
      return reply.status(STATUS[error.code] ?? 400).send({ error: toApiError(error) });
    const e = error;
    if (e.validation)
      return reply.status(400).send({ error: { code: "INVALID_ARGUMENT", message: e.message ?? "invalid request", hint: "See docs/api.md for the request format." } });
    if (e.code === "FST_REQ_FILE_TOO_LARGE" || e.statusCode === 413) {
      return reply.status(413).send({ error: { code: "TOO_LARGE", message: "The upload is too large.", hint: `Models up to ${fmtMB(maxModelBytes)}, images up to ${fmtMB(maxImageBytes)}.` } });
    }
    if (e.statusCode && e.statusCode < 500)
      return reply.status(e.statusCode).send({ error: { code: "INVALID_ARGUMENT", message: e.message ?? "bad request" } });
    app.log.error(error);
    return reply.status(500).send({ error: toApiError(error) });
  });
  app.setNotFoundHandler((req, reply) => reply.status(404).send({ error: { code: "UNKNOWN_NAME", message: `No API route ${req.method} ${req.url.split("?")[0]}.`, hint: "See docs/api.md for the routes." } }));
  app.get("/api/health", async () => {
    const workers = pool.stats();
    return {
      ok: true,
      models: models.list().length,
      images: images.list().length,
      jobsRunning: jobs.running(),
      jobsQueued: jobs.queued(),
      uploads: { models: models.uploads.stats(), images: images.uploads.stats() },
      streams: streams.stats(),
      workers: workers.workers,
      memory: { ...workers.rssBytes, workerLimit: memory.totalBytes, jobWorkerLimit: memory.jobWorkerBytes, interactiveLimit: memory.interactiveBytes, killed: workers.killed }
    };
  });
  registerModelRoutes(studio, maxModelBytes);
  registerImageRoutes(studio, maxImageBytes);
  registerInspectRoutes(studio);
  registerJobRoutes(studio);
  registerExplainRoutes(studio);
  registerDatasetRoutes(studio);
  registerSynthesizeRoutes(studio);
  registerDiffusionRoutes(studio, options.engine);
  const webDir = options.webDir ?? DEFAULT_WEB_DIR;
  if (existsSync3(webDir)) {
    await app.register(fastifyStatic, { root: webDir, prefix: "/", index: ["index.html"] });
  } else {
    app.get("/", async (_req, reply) => reply.type("text/html").send("<p>The ConvLens front end is not built. Run <code>npm run build</code> in the convlens folder, then restart the studio.</p>"));
  }
  app.addHook("onClose", async () => {
    jobs.cancelAll();
    await pool.close();
    models.dispose();
  });
  return studio;
}

// dist/interfaces/cli/commands/studio.js
var SHUTDOWN_MS = 3e3;
function define(command) {
  command.option("-m, --model <file>", "also open this ONNX model (the built-in models are always there)").option("-p, --port <port>", "port (0 picks a free one)", portNumber, 7860).option("--host <host>", "interface to listen on (loopback by default; any other needs the access token the studio prints)", "127.0.0.1").option("--data <dir>", "a folder the studio may read datasets and models from (repeatable; samples/, data/ and out/uploads always)", (v, all) => [...all, v], []).option("--threads <n>", `ONNX Runtime intra-op threads per worker process (1-${MAX_THREADS})`, threadCount).option("--workers <n>", "job worker processes (default: 1 per 2 cores, up to 4); more jobs wait in a queue", positiveInt).option("--memory <GB>", "memory all worker processes may hold together (default: a quarter of the machine, 1 to 2.5 GB)", positiveNumber).action(async (opts) => {
    const engine = createEngine(opts);
    const studio = await createStudio({
      engine,
      host: opts.host,
      dataRoots: opts.data,
      ...opts.model && !findBuiltin(opts.model) ? { modelPath: opts.model } : {},
      // built-ins are always listed
      ...opts.workers ? { jobWorkers: opts.workers } : {},
      ...opts.memory ? { workerMemoryBytes: Math.round(opts.memory * 2 ** 30) } : {}
    });
    for (const m of studio.models.list())
      if (m.error)
        process.stderr.write(`warning: model "${m.name}" cannot be used: ${m.error.message}
`);
    let address;
    try {
      address = await studio.app.listen({ port: opts.port, host: opts.host });
    } catch (e) {
      await studio.pool.close();
      await engine.dispose();
      const code = e.code;
      if (code === "EADDRINUSE")
        throw new ConvLensError("INVALID_ARGUMENT", `Port ${opts.port} on ${opts.host} is already in use (another studio or program listens there).`, "Pass --port <n> for another port, or --port 0 to pick a free one.");
      if (code === "EACCES")
        throw new ConvLensError("INVALID_ARGUMENT", `Not allowed to listen on port ${opts.port} of ${opts.host}.`, "Ports below 1024 need administrator rights: pass --port 7860, or --port 0 to pick a free one.");
      if (code === "EADDRNOTAVAIL" || code === "ENOTFOUND")
        throw new ConvLensError("INVALID_ARGUMENT", `${opts.host} is not an address of this machine.`, "Pass --host 127.0.0.1 (the default), or one of this machine's addresses.");
      throw e;
    }
    if (!isLoopbackHost(opts.host)) {
      process.stderr.write(`warning: the studio listens on ${opts.host}, beyond this machine. Its API has no user accounts: anyone with the token below can
  read the data folders, run models and use this machine's CPU. Share the URL only with people you trust (see docs/security.md).
`);
    }
    let shown = address.replace("127.0.0.1", "localhost");
    if (!isLoopbackHost(opts.host)) {
      const port = studio.app.server.address().port;
      const name = ["0.0.0.0", "::"].includes(opts.host) ? hostname2() : opts.host.includes(":") ? `[${opts.host}]` : opts.host;
      shown = `http://${name}:${port}`;
    }
    process.stdout.write(`ConvLens studio: ${studio.access.url(shown)}
`);
    studio.pool.warm("interactive");
    let stopping = false;
    const stop = async () => {
      if (stopping)
        process.exit(1);
      stopping = true;
      setTimeout(() => process.exit(0), SHUTDOWN_MS).unref();
      studio.jobs.cancelAll();
      await studio.pool.close();
      await studio.app.close();
      await engine.dispose();
      process.exit(0);
    };
    process.on("SIGINT", () => void stop());
    process.on("SIGTERM", () => void stop());
  });
}
export {
  define
};
