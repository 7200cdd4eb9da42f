// The engine: graph IR and builder, ONNX IO, reverse-mode differentiation emitted as ONNX,
// and a runtime-agnostic execution layer. Nothing here imports a runtime binding.
export * from './tensor.js';
export * from './errors.js';
export { Graph, type Attr, type AttrInput, type Dim, type Node, type OpsetImport, type ValueInfo } from './graph/ir.js';
export { GraphBuilder, INTERNAL_OPSET, type OpOptions } from './graph/builder.js';
export type { ValueFacts } from './graph/facts.js';
export { pruneGraph } from './graph/prune.js';
export { planIncremental, gatherIndices, type IncrementalOptions, type IncrementalPlan, type GatherSpec, type TableSpec } from './graph/incremental.js';
export { targetHead, type TargetHead } from './graph/target-head.js';
export { decodeModel, encodeModel, MIN_OPSET, MAX_OPSET, type DecodeOptions, type EncodeOptions, type InMemoryFile } from './onnx/codec.js';
export { normalizeGraph } from './onnx/import.js';
export { importOnnx } from './onnx/load.js';
export { buildGradientGraph, type GradientGraph, type GradientRequest, type GradientSeed } from './autodiff/gradient.js';
export { supportedOps, differentiableOps, RULE_SETS, type RuleSetName } from './ops/index.js';
export type { RuleSet, RuleSetSpec, GradRule, GradContext, OpDef } from './ops/registry.js';
export { evaluateGraph, evaluateNode } from './reference/evaluator.js';
export { Engine, CompiledGraph, type EngineOptions, type ResidentCeiling } from './runtime/engine.js';
export type { Backend, Session, SessionOptions } from './runtime/backend.js';
export { ortBackend, type OrtModule } from './runtime/ort.js';
