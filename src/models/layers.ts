import type { GraphBuilder } from '../engine/graph/builder.js';
import { filled, glorotUniform, heNormal } from './init.js';

/**
 * Keras-like layer helpers over the graph builder, for defining models in code. Each layer
 * names its parameters `<name>.weight`/`<name>.bias` and its output `<name>`, so layer names
 * in summaries, CLIs and attributions are the names given here.
 */
export class Layers {
  constructor(
    readonly b: GraphBuilder,
    readonly rand: () => number,
  ) {}

  private channels(x: string): number {
    const c = this.b.shapeOf(x)[1];
    if (typeof c !== 'number') throw new Error(`layer input "${x}" needs a static channel count`);
    return c;
  }

  conv2d(x: string, name: string, o: { filters: number; kernel?: number; stride?: number; padding?: 'same' | 'valid' | number; groups?: number; bias?: boolean }): string {
    const k = o.kernel ?? 3;
    const cin = this.channels(x);
    const groups = o.groups ?? 1;
    const pad = o.padding === 'valid' ? 0 : o.padding === undefined || o.padding === 'same' ? Math.floor(k / 2) : o.padding;
    const w = this.b.initializer(`${name}.weight`, heNormal(this.rand, [o.filters, cin / groups, k, k], (cin / groups) * k * k));
    const inputs = [x, w];
    if (o.bias !== false) inputs.push(this.b.initializer(`${name}.bias`, filled([o.filters], 0)));
    return this.b.op('Conv', inputs, { kernel_shape: [k, k], strides: [o.stride ?? 1, o.stride ?? 1], pads: [pad, pad, pad, pad], group: groups }, { name, outputs: [name] });
  }

  relu(x: string, name: string): string {
    return this.b.op('Relu', [x], {}, { name, outputs: [name] });
  }

  maxPool(x: string, name: string, size = 2, stride = size, pad = 0): string {
    return this.b.op('MaxPool', [x], { kernel_shape: [size, size], strides: [stride, stride], pads: [pad, pad, pad, pad] }, { name, outputs: [name] });
  }

  batchNorm(x: string, name: string, epsilon = 1e-5): string {
    const c = this.channels(x);
    const p = (s: string, v: number): string => this.b.initializer(`${name}.${s}`, filled([c], v));
    return this.b.op('BatchNormalization', [x, p('weight', 1), p('bias', 0), p('running_mean', 0), p('running_var', 1)], { epsilon }, { name, outputs: [name] });
  }

  globalAvgPool(x: string, name: string): string {
    return this.b.op('GlobalAveragePool', [x], {}, { name, outputs: [name] });
  }

  flatten(x: string, name: string): string {
    return this.b.op('Flatten', [x], { axis: 1 }, { name, outputs: [name] });
  }

  dense(x: string, name: string, units: number): string {
    const fin = this.b.shapeOf(x)[1];
    if (typeof fin !== 'number') throw new Error(`dense layer input "${x}" needs a static feature count`);
    const w = this.b.initializer(`${name}.weight`, glorotUniform(this.rand, [units, fin], fin, units));
    const bias = this.b.initializer(`${name}.bias`, filled([units], 0));
    return this.b.op('Gemm', [x, w, bias], { transB: 1 }, { name, outputs: [name] });
  }

  add(a: string, c: string, name: string): string {
    return this.b.op('Add', [a, c], {}, { name, outputs: [name] });
  }
}
