// Every command on quantized model files. A QLinearConv (integer-op) model predicts and evaluates;
// every other command refuses it up front with the quantization message, not the symptom its own
// work met first ("No classes to visualize. Pick classes from 0 to -1", "no spatial (4-D) layer").
// A QDQ model of the same net runs every command.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Node } from '../../src/engine/graph/ir.js';
import { encodeModel } from '../../src/engine/onnx/codec.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { convlens } from '../support/cli.js';
import { f32, handGraph, int, ints, node } from '../support/onnx-files.js';
import { qdqModel } from '../support/quantized-models.js';

const dir = mkdtempSync(join(tmpdir(), 'convlens-quantized-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function qlinearFile(): string {
  const scalar = (v: number): Tensor => f32([], [v]);
  const conv = { kernel_shape: ints([3, 3]), pads: ints([1, 1, 1, 1]) };
  const nodes: Node[] = [
    node('QuantizeLinear', ['image', 's', 'z'], ['xq']),
    node('QLinearConv', ['xq', 's', 'z', 'wq', 'ws', 'wz', 's2', 'z'], ['cq'], conv, 'conv_int8'),
    node('DequantizeLinear', ['cq', 's2', 'z'], ['c']),
    node('Relu', ['c'], ['r']),
    node('GlobalAveragePool', ['r'], ['p']),
    node('Flatten', ['p'], ['f']),
    node('Gemm', ['f', 'fw', 'fb'], ['logits'], { transB: int(1) }),
  ];
  const g = handGraph({
    name: 'qlinear',
    opset: 13,
    inputs: [{ name: 'image', dtype: 'float32', shape: ['N', 3, 16, 16] }],
    outputs: ['logits'],
    nodes,
    initializers: {
      s: scalar(0.02),
      z: { dtype: 'uint8', dims: [], data: Uint8Array.of(128) },
      wq: { dtype: 'int8', dims: [8, 3, 3, 3], data: Int8Array.from({ length: 216 }, (_, i) => ((i * 37) % 41) - 20) },
      ws: scalar(0.005),
      wz: { dtype: 'int8', dims: [], data: Int8Array.of(0) },
      s2: scalar(0.05),
      fw: f32([10, 8], Array.from({ length: 80 }, (_, i) => Math.sin(i))),
      fb: f32([10], new Array<number>(10).fill(0)),
    },
  });
  const path = join(dir, 'qlinear.onnx');
  writeFileSync(path, encodeModel(g));
  return path;
}

const IMAGE = 'samples/photos/chelsea.png';

describe('quantized model files on the command line', () => {
  const qlinear = qlinearFile();
  const commands: string[][] = [
    ['summary'],
    ['activations', IMAGE],
    ['explain', IMAGE, '--method', 'gradcam'],
    ['featviz', '--steps', '2'],
    ['dream', IMAGE, '--steps', '1'],
    ['invert', IMAGE, '--steps', '1'],
    ['index', 'data/fashion-mnist-subset'],
  ];
  const outOption = (command: string): string[] => (command === 'summary' ? [] : command === 'index' ? ['--store', join(dir, 'store')] : ['--out', join(dir, `out-${command}`)]);
  for (const args of commands) {
    it(`integer ops: ${args[0]} is refused up front, naming the integer node`, async () => {
      const r = await convlens(...args, '--model', qlinear, ...outOption(args[0]!));
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/The model is quantized: QLinearConv node "conv_int8" works on 8-bit integers/);
      expect(r.stderr).toMatch(/QDQ form/);
    });
  }

  it('integer ops: predict runs', async () => {
    const r = await convlens('predict', IMAGE, '--model', qlinear, '-k', '2');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/class \d/);
  });

  it('QDQ: summary, explain, featviz and dream run; explain notes the straight-through estimate', async () => {
    const path = join(dir, 'qdq.onnx');
    writeFileSync(path, encodeModel(qdqModel({ input: 0.03, relu1: 0.02, relu2: 0.01 })));
    const summary = await convlens('summary', '--model', path);
    expect(summary.code, summary.stderr).toBe(0);
    expect(summary.stdout).toMatch(/Total params: 1,?230/);
    const explain = await convlens('explain', IMAGE, '--method', 'gradcam', '--model', path, '--out', join(dir, 'qdq-explain'));
    expect(explain.code, explain.stderr).toBe(0);
    expect(explain.stderr + explain.stdout).toMatch(/gradients through quantization are straight-through estimates/);
    for (const args of [['featviz', '--steps', '2', '--classes', '0-1'], ['dream', IMAGE, '--steps', '1']]) {
      const r = await convlens(...args, '--model', path, '--out', join(dir, `qdq-${args[0]}`), '-q');
      expect(r.code, `${args[0]}: ${r.stderr}`).toBe(0);
    }
  });
});
