import type { DType, Tensor } from '../tensor.js';

/** A dimension: a size, or a symbol (such as "N" for the batch) resolved at run time. */
export type Dim = number | string;

export interface ValueInfo {
  name: string;
  dtype: DType;
  /** undefined when the rank itself is unknown */
  shape?: Dim[];
}

/** Attribute values keep the ONNX type, because float 1.0 and int 1 are different attributes on disk. */
export type Attr =
  | { type: 'int'; value: number }
  | { type: 'float'; value: number }
  | { type: 'string'; value: string }
  | { type: 'ints'; value: number[] }
  | { type: 'floats'; value: number[] }
  | { type: 'strings'; value: string[] }
  | { type: 'tensor'; value: Tensor };

export interface Node {
  op: string;
  name: string;
  inputs: string[]; // "" marks an omitted optional input
  outputs: string[];
  attrs: Record<string, Attr>;
  domain?: string;
}

export interface OpsetImport {
  domain: string;
  version: number;
}

/**
 * The in-memory model: a topologically ordered node list over named values.
 * Initializers are constants unless they also appear in `inputs` (then they are defaults).
 */
export class Graph {
  name = 'graph';
  nodes: Node[] = [];
  inputs: ValueInfo[] = [];
  outputs: ValueInfo[] = [];
  initializers = new Map<string, Tensor>();
  /** ai.onnx opset version the nodes are written against */
  opset = 17;
  extraOpsets: OpsetImport[] = [];
  irVersion = 8;
  producerName = 'convlens';
  producerVersion = '';
  docString = '';
  metadata = new Map<string, string>();
  /** shape annotations from the file (value_info); shape inference refines them */
  valueInfo = new Map<string, ValueInfo>();

  clone(): Graph {
    const g = new Graph();
    g.name = this.name;
    g.nodes = this.nodes.map((n) => ({ ...n, inputs: [...n.inputs], outputs: [...n.outputs], attrs: { ...n.attrs } }));
    g.inputs = this.inputs.map(cloneInfo);
    g.outputs = this.outputs.map(cloneInfo);
    g.initializers = new Map(this.initializers);
    g.opset = this.opset;
    g.extraOpsets = this.extraOpsets.map((o) => ({ ...o }));
    g.irVersion = this.irVersion;
    g.producerName = this.producerName;
    g.producerVersion = this.producerVersion;
    g.docString = this.docString;
    g.metadata = new Map(this.metadata);
    g.valueInfo = new Map([...this.valueInfo].map(([k, v]) => [k, cloneInfo(v)]));
    return g;
  }

  /** Graph inputs that are not merely initializer defaults. */
  realInputs(): ValueInfo[] {
    return this.inputs.filter((i) => !this.initializers.has(i.name));
  }

  producers(): Map<string, Node> {
    const m = new Map<string, Node>();
    for (const n of this.nodes) for (const o of n.outputs) if (o) m.set(o, n);
    return m;
  }

  consumers(): Map<string, Node[]> {
    const m = new Map<string, Node[]>();
    for (const n of this.nodes)
      for (const i of n.inputs) {
        if (!i) continue;
        let l = m.get(i);
        if (!l) m.set(i, (l = []));
        l.push(n);
      }
    return m;
  }

  /** Every value name: inputs, initializers and node outputs. */
  valueNames(): Set<string> {
    const s = new Set<string>();
    for (const i of this.inputs) s.add(i.name);
    for (const k of this.initializers.keys()) s.add(k);
    for (const n of this.nodes) for (const o of n.outputs) if (o) s.add(o);
    return s;
  }
}

function cloneInfo(v: ValueInfo): ValueInfo {
  return v.shape ? { name: v.name, dtype: v.dtype, shape: [...v.shape] } : { name: v.name, dtype: v.dtype };
}

// Attribute accessors with defaults; they throw on a type mismatch so a malformed model fails loudly.

export function attrInt(n: Node, key: string, dflt: number): number;
export function attrInt(n: Node, key: string): number | undefined;
export function attrInt(n: Node, key: string, dflt?: number): number | undefined {
  const a = n.attrs[key];
  if (!a) return dflt;
  if (a.type !== 'int') throw new Error(`${n.op} node "${n.name}": attribute ${key} should be an int, found ${a.type}`);
  return a.value;
}

export function attrFloat(n: Node, key: string, dflt: number): number;
export function attrFloat(n: Node, key: string): number | undefined;
export function attrFloat(n: Node, key: string, dflt?: number): number | undefined {
  const a = n.attrs[key];
  if (!a) return dflt;
  if (a.type === 'float' || a.type === 'int') return a.value;
  throw new Error(`${n.op} node "${n.name}": attribute ${key} should be a float, found ${a.type}`);
}

export function attrInts(n: Node, key: string, dflt: number[]): number[];
export function attrInts(n: Node, key: string): number[] | undefined;
export function attrInts(n: Node, key: string, dflt?: number[]): number[] | undefined {
  const a = n.attrs[key];
  if (!a) return dflt;
  if (a.type !== 'ints') throw new Error(`${n.op} node "${n.name}": attribute ${key} should be ints, found ${a.type}`);
  return a.value;
}

export function attrFloats(n: Node, key: string): number[] | undefined {
  const a = n.attrs[key];
  if (!a) return undefined;
  if (a.type !== 'floats') throw new Error(`${n.op} node "${n.name}": attribute ${key} should be floats, found ${a.type}`);
  return a.value;
}

export function attrString(n: Node, key: string, dflt: string): string;
export function attrString(n: Node, key: string): string | undefined;
export function attrString(n: Node, key: string, dflt?: string): string | undefined {
  const a = n.attrs[key];
  if (!a) return dflt;
  if (a.type !== 'string') throw new Error(`${n.op} node "${n.name}": attribute ${key} should be a string, found ${a.type}`);
  return a.value;
}

export function attrTensor(n: Node, key: string): Tensor | undefined {
  const a = n.attrs[key];
  if (!a) return undefined;
  if (a.type !== 'tensor') throw new Error(`${n.op} node "${n.name}": attribute ${key} should be a tensor, found ${a.type}`);
  return a.value;
}

/** Attribute names ONNX types as float; the builder uses this to type plain numbers. */
const FLOAT_ATTRS = new Set([
  'alpha',
  'beta',
  'epsilon',
  'momentum',
  'gamma',
  'lambd',
  'bias',
  'ratio',
  'extrapolation_value',
  'cubic_coeff_a',
  'value_float',
  'value_floats',
  'spatial_scale',
  'scales',
  'scale',
  'min',
  'max',
  'threshold',
  'seed',
  'mean',
  'low',
  'high',
]);

export type AttrInput = number | number[] | string | string[] | Tensor | Attr;

/** Turns builder-style attribute values into typed attributes. */
export function toAttr(key: string, v: AttrInput): Attr {
  if (typeof v === 'string') return { type: 'string', value: v };
  if (typeof v === 'number') return FLOAT_ATTRS.has(key) ? { type: 'float', value: v } : { type: 'int', value: v };
  if (Array.isArray(v)) {
    if (v.length > 0 && typeof v[0] === 'string') return { type: 'strings', value: v as string[] };
    return FLOAT_ATTRS.has(key) ? { type: 'floats', value: v as number[] } : { type: 'ints', value: v as number[] };
  }
  if ('type' in v && 'value' in v && typeof (v as Attr).type === 'string' && !('dims' in v)) return v as Attr;
  return { type: 'tensor', value: v as Tensor };
}
