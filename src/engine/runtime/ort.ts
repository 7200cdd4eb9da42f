import type * as OrtCommon from 'onnxruntime-common';
import { ConvLensError } from '../errors.js';
import { WAYS_OUT } from '../../util/ways-out.js';
import type { DType, Tensor } from '../tensor.js';
import type { Backend, Session, SessionOptions, ValueInfo } from './backend.js';

/** The parts of an onnxruntime module (node or web) the adapter uses. */
export interface OrtModule {
  InferenceSession: { create(model: Uint8Array | string, options?: OrtCommon.InferenceSession.SessionOptions): Promise<OrtCommon.InferenceSession> };
  Tensor: new (type: OrtCommon.Tensor.Type, data: OrtCommon.Tensor.DataType, dims?: readonly number[]) => OrtCommon.Tensor;
}

const TO_ORT: Partial<Record<DType, OrtCommon.Tensor.Type>> = {
  float32: 'float32',
  float64: 'float64',
  float16: 'float16',
  int64: 'int64',
  int32: 'int32',
  int16: 'int16',
  int8: 'int8',
  uint8: 'uint8',
  uint16: 'uint16',
  uint32: 'uint32',
  uint64: 'uint64',
  bool: 'bool',
};

/**
 * Adapts an onnxruntime module (onnxruntime-node or onnxruntime-web) to the engine's Backend.
 * `preallocatedOutputs`: hand ORT the tensors a run offers for its outputs (Session.run's
 * `into`), which onnxruntime-node writes into directly.
 */
export function ortBackend(ort: OrtModule, name: string, defaults: OrtCommon.InferenceSession.SessionOptions = {}, preallocatedOutputs = false): Backend {
  const sessionOptions = (options: SessionOptions): OrtCommon.InferenceSession.SessionOptions => ({
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    // A memory pattern makes ORT's second run of a shape allocate one new block for the whole
    // plan, on top of what the arena already holds from the first: on ResNet-18's gradient graph
    // that second run took twice as long (110 MB of fresh pages at batch 8, 220 at 16) and later
    // runs were no faster than with the arena alone (docs/speed.md, "Session options").
    enableMemPattern: false,
    // Only fatal messages from ORT's own log: a failing kernel's status comes back in the thrown
    // error, which ConvLens reports in its words, and ORT's copy on stderr said it twice. Its
    // warnings are about its own choices (a cached NCHWc model suiting only this machine, unused
    // initializers removed), not something a user can act on.
    logSeverityLevel: 4,
    ...defaults,
    ...(options.threads ? { intraOpNumThreads: options.threads, interOpNumThreads: 1 } : {}),
    ...(options.optimizedModelPath ? { optimizedModelFilePath: options.optimizedModelPath } : {}),
    // Weights of 4 KiB and more go to one file at aligned offsets, which ORT maps when it opens the model.
    ...(options.optimizedModelPath && options.optimizedWeightsFile
      ? { extra: { session: { optimized_model_external_initializers_file_name: options.optimizedWeightsFile, optimized_model_external_initializers_min_size_in_bytes: '4096' } } }
      : {}),
    ...(options.preoptimized ? { graphOptimizationLevel: 'disabled' as const } : {}),
    ...(options.externalData?.length ? { externalData: options.externalData.map((f) => ({ path: f.path, data: f.data })) } : {}),
  });
  return {
    name,
    async createSession(model: Uint8Array, options: SessionOptions): Promise<Session> {
      try {
        return adapt(ort, name, await ort.InferenceSession.create(model, sessionOptions(options)), preallocatedOutputs);
      } catch (e) {
        throw compileRefusal((e as Error).message, e, name);
      }
    },
    async openSession(location: string, options: SessionOptions): Promise<Session> {
      try {
        return adapt(ort, name, await ort.InferenceSession.create(location, sessionOptions(options)), preallocatedOutputs);
      } catch (e) {
        throw new ConvLensError('MODEL_UNREADABLE', `ONNX Runtime cannot open ${location}: ${(e as Error).message}`, 'Check that the file (and its external-data files beside it) are complete.', { cause: e });
      }
    },
  };
}

function adapt(ort: OrtModule, name: string, session: OrtCommon.InferenceSession, preallocatedOutputs: boolean): Session {
  const inputs: ValueInfo[] = [];
  for (const m of session.inputMetadata) if (m.isTensor) inputs.push({ name: m.name, type: m.type, shape: m.shape });
  return {
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    inputs,
    async run(feeds, fetch, into) {
      const toOrt = (k: string, t: Tensor): OrtCommon.Tensor => {
        const type = TO_ORT[t.dtype];
        if (!type) throw new ConvLensError('INVALID_ARGUMENT', `Cannot feed "${k}": dtype ${t.dtype} is not supported by ${name}.`, `Feed ${Object.keys(TO_ORT).join(', ')} tensors: convert the data to one of these first.`);
        return new ort.Tensor(type, t.data as OrtCommon.Tensor.DataType, t.dims);
      };
      const ortFeeds: Record<string, OrtCommon.Tensor> = {};
      for (const [k, t] of Object.entries(feeds)) ortFeeds[k] = toOrt(k, t);
      let fetches: string[] | Record<string, OrtCommon.Tensor | null> | undefined = fetch as string[] | undefined;
      if (preallocatedOutputs && into && fetch) {
        const targets: Record<string, OrtCommon.Tensor | null> = {};
        for (const k of fetch) targets[k] = into[k] ? toOrt(k, into[k]) : null;
        fetches = targets;
      }
      let result: OrtCommon.InferenceSession.ReturnType;
      try {
        result = fetches ? await session.run(ortFeeds, fetches) : await session.run(ortFeeds);
      } catch (e) {
        throw runFailure((e as Error).message, e);
      }
      const out: Record<string, Tensor> = {};
      for (const [k, v] of Object.entries(result)) {
        out[k] = { dtype: v.type as DType, dims: [...v.dims], data: v.data as Tensor['data'] };
      }
      return out;
    },
    async release() {
      await session.release();
    },
  };
}

/**
 * Why a run failed inside ONNX Runtime, as a ConvLensError. Running out of memory is not the
 * input's fault: the hint to check that the input fits the model sent a user whose run could
 * not allocate (a batch too large for the machine, values a model computes from its constants
 * alone) looking at the wrong thing.
 */
export function runFailure(message: string, cause?: unknown): ConvLensError {
  if (OUT_OF_MEMORY.test(message)) {
    return new ConvLensError(
      'RUNTIME_FAILURE',
      `ONNX Runtime ran out of memory running the graph: ${kernelFailure(message)}.`,
      "Run fewer or smaller inputs at once, or run where this process may use more memory (a larger machine, or a higher limit: `ulimit -v`, a container's memory limit).",
      { cause },
    );
  }
  return new ConvLensError('RUNTIME_FAILURE', `ONNX Runtime failed while running the graph: ${kernelFailure(message)}.`, 'Check that the input fits the model (`convlens summary` shows its input); if it does, the model fails in ONNX Runtime itself.', { cause });
}

/**
 * ORT's words for a failing kernel without its source location and assertion text:
 * `at node "Reshape" (Reshape): The input tensor cannot be reshaped ...` for
 * `Non-zero status code returned while running Reshape node. Name:'Reshape' Status Message:
 * /onnxruntime_src/.../reshape_helper.h:84 onnxruntime::ReshapeHelper::ReshapeHelper(...) size != 0 && ... was false. The input tensor ...`.
 */
export function kernelFailure(message: string): string {
  const m = /while running (\S+) node\. Name:'([^']*)' Status Message: ([\s\S]*)$/.exec(message);
  if (!m) return withoutSourceLocations(message);
  return `at node "${m[2]}" (${m[1]}): ${withoutSourceLocations(m[3]!)}`;
}

/**
 * ORT's text without the C++ behind it: `/onnxruntime_src/.../conv_attributes.h:50
 * onnxruntime::ConvAttributes::ConvAttributes(const KernelInfoType&) [with ...] auto_pad ==
 * AutoPadType::NOTSET was false. A Conv/ConvTranspose node has both ...` becomes `A
 * Conv/ConvTranspose node has both ...`. The build's source paths, line numbers, function
 * signatures and assertion conditions say nothing a user can act on and reveal how this copy of
 * ORT was built; any path left over where the pattern differs is cut out all the same.
 */
export function withoutSourceLocations(text: string): string {
  let out = text;
  for (;;) {
    const at = /(?:\/[^\s:]*)?[\w.-]+\.(?:h|hpp|cc|cpp|c):\d+ /.exec(out);
    if (!at) break;
    const before = out.slice(0, at.index);
    let rest = out.slice(at.index + at[0].length);
    rest = withoutLeadingSignature(rest);
    // ORT_ENFORCE's form: "<condition> was false. <message>"
    const assertion = / was false\. ?/.exec(rest);
    if (assertion) rest = rest.slice(assertion.index + assertion[0].length);
    out = before + rest;
  }
  return out
    .replace(/\/onnxruntime_src\/\S*/g, '')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/\.$/, '');
}

/** `rest` without a leading C++ function signature (`ns::Class::f(const T&, bool) [with T = U] const `). */
function withoutLeadingSignature(rest: string): string {
  const name = /^(?:[\w:<>,~*& ]*?\s)?[\w~]+(?:<[^>]*>)?::[\w~:<>,]*\(/.exec(rest);
  if (!name) return rest;
  let depth = 0;
  let k = name[0].length - 1;
  for (; k < rest.length; k++) {
    if (rest[k] === '(') depth++;
    else if (rest[k] === ')' && --depth === 0) break;
  }
  if (k >= rest.length) return rest;
  let tail = rest.slice(k + 1);
  const template = /^ \[with [^\]]*\]/.exec(tail);
  if (template) tail = tail.slice(template[0].length);
  return tail.replace(/^ const\b/, '').trimStart();
}

/**
 * Why ORT refused to compile a graph, as a ConvLensError. A refusal of what the graph asks for
 * (an attribute ORT does not know or combine, operands of different types, an axis out of
 * range, a kernel whose constructor rejects its attributes) is the model file's fault:
 * MODEL_UNSUPPORTED, a 422 in the studio, naming the node and op when ORT's text does. Anything
 * else (memory, a fault in ORT itself) stays RUNTIME_FAILURE. Neither quotes ORT's sources.
 */
export function compileRefusal(message: string, cause?: unknown, backend = 'onnxruntime-node'): ConvLensError {
  // the preambles say only that ORT refused, which the message says already
  const reason = withoutSourceLocations(message).replace(/^(?:Exception during initialization: |This is an invalid model\. (?:Error:? )?)/, '');
  if (OUT_OF_MEMORY.test(message)) {
    // onnxruntime-web's form: "Can't create a session. ERROR_CODE: 6, ERROR_MESSAGE: std::bad_alloc"
    const said = reason.replace(/^Can't create a session\. (?:ERROR_CODE: \d+, ERROR_MESSAGE: )?/, '');
    const where = backend === 'onnxruntime-web' ? `, and onnxruntime-web's WebAssembly memory ends at 4 GB: ${WAYS_OUT.webMemory.cli}` : '';
    return new ConvLensError('RUNTIME_FAILURE', `ONNX Runtime ran out of memory compiling a graph (${said}).`, `Compute fewer methods at once, or use a smaller model or input: every method compiles its own graph with its own copy of the weights${where}.`, { cause });
  }
  if (!GRAPH_REFUSAL.test(message)) {
    return new ConvLensError('RUNTIME_FAILURE', `ONNX Runtime could not compile the graph: ${reason}.`, 'If this is your model, check that it loads in onnxruntime; otherwise this is a ConvLens bug worth reporting.', { cause });
  }
  const where = refusedNode(reason);
  const what = where ? `node "${where.node}"${where.op ? ` (${where.op})` : ''}: ${where.reason}` : reason;
  return new ConvLensError(
    'MODEL_UNSUPPORTED',
    `ONNX Runtime cannot compile this model: ${what}.`,
    'The file asks for something ONNX Runtime does not implement. Re-export the model (a current exporter and opset), or fix the node; if the file loads in onnxruntime itself, this is a ConvLens bug worth reporting.',
    { cause },
  );
}

/** ORT's words for running out of memory (onnxruntime-node's and onnxruntime-web's). */
const OUT_OF_MEMORY = /bad_alloc|Failed to allocate|out of memory/i;

/** Whether `e` (or what caused it) is ONNX Runtime running out of memory. */
export function isOutOfMemory(e: unknown): boolean {
  for (let x = e, depth = 0; x instanceof Error && depth < 4; x = x.cause, depth++) if (OUT_OF_MEMORY.test(x.message)) return true;
  return false;
}

/** The forms in which ORT refuses a graph for what it asks (onnxruntime-node 1.2x). */
const GRAPH_REFUSAL = /This is an invalid model|^\s*Type Error:|\[(?:ShapeInferenceError|TypeInferenceError)\]|^\s*Exception during initialization:|Could not find an implementation for|^\s*Node \(/;

/** The node and op ORT's refusal names, in any of the forms it writes them, and the rest of its reason. */
function refusedNode(reason: string): { node: string; op?: string; reason: string } | undefined {
  // This is an invalid model. In Node, ("act", Relu, "", -1) : (...) -> (...) , Error Unrecognized attribute: foo for operator Relu
  let m = /In Node, \("([^"]*)", (\w+), [\s\S]*?, Error ([\s\S]*)$/.exec(reason);
  if (m) return { node: m[1]!, op: m[2]!, reason: m[3]! };
  // Node (sm) Op (Softmax) [ShapeInferenceError] 'axis' must be in [-4 , 3]. ...
  m = /Node \(([^)]*)\) Op \((\w+)\) (?:\[\w+\] )?([\s\S]*)$/.exec(reason);
  if (m) return { node: m[1]!, op: m[2]!, reason: m[3]! };
  // Type Error: Type parameter (T) of Optype (Add) bound to different types (tensor(float) and tensor(int64) in node (plus)
  m = /^Type Error: ([\s\S]*?) of Optype \((\w+)\) ([\s\S]*?) in node \(([^)]*)\)$/.exec(reason);
  // (ORT leaves the types' parenthesis open)
  if (m) return { node: m[4]!, op: m[2]!, reason: balanced(`${m[1]} ${m[3]}`) };
  // Could not find an implementation for Foo(7) node with name 'bar'
  m = /Could not find an implementation for (\w+)\(\d+\) node with name '([^']*)'/.exec(reason);
  if (m) return { node: m[2]!, op: m[1]!, reason: `ONNX Runtime has no kernel for ${m[1]} with these input types or this opset` };
  return undefined;
}

/** `text` with the parentheses it leaves open closed. */
function balanced(text: string): string {
  const open = [...text].reduce((depth, c) => (c === '(' ? depth + 1 : c === ')' ? Math.max(0, depth - 1) : depth), 0);
  return text + ')'.repeat(open);
}
