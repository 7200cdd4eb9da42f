// The CLI refuses a model file with a self-contradicting node when it loads it: the node, the
// problem and the way out, exit 1, no stack and nothing of ONNX Runtime's sources. Until
// 2026-12-07 these loaded, and the first run failed inside ONNX Runtime.
import { writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import type { Node } from '../../src/engine/graph/ir.js';
import { encodeModel } from '../../src/engine/onnx/codec.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { convlens } from '../support/cli.js';
import { f32, handGraph, i64, int, ints, node, tempDir } from '../support/onnx-files.js';

const tmp = tempDir('convlens-malformed-');
afterAll(() => tmp.cleanup());

const filled = (dims: number[]): Tensor => f32(dims, Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, k) => Math.sin(k)));

function modelFile(name: string, middle: Node[], initializers: Record<string, Tensor>): string {
  const graph = handGraph({
    opset: 17,
    inputs: [{ name: 'x', dtype: 'float32', shape: [1, 3, 32, 32] }],
    outputs: ['logits'],
    nodes: [node('Conv', ['x', 'w'], ['c'], { kernel_shape: ints([3, 3]), pads: ints([1, 1, 1, 1]) }), ...middle, node('GlobalAveragePool', ['m'], ['p']), node('Flatten', ['p'], ['logits'])],
    initializers: { w: filled([4, 3, 3, 3]), ...initializers },
  });
  const path = tmp.path(`${name}.onnx`);
  writeFileSync(path, encodeModel(graph));
  return path;
}

const cases: [string, Node[], Record<string, Tensor>, string][] = [
  ['group', [node('Conv', ['c', 'w2'], ['m'], { group: int(2) }, 'bad')], { w2: filled([4, 3, 3, 3]) }, 'Conv node "bad": input has 4 channels but the weight expects 6 (group=2)'],
  ['reshape', [node('Reshape', ['c', 'target'], ['m'], {}, 'bad')], { target: i64([1, 4, 2, 2]) }, 'Reshape node "bad": cannot reshape [1, 4, 32, 32] (4096 elements) into [1, 4, 2, 2] (16 elements)'],
  ['gather', [node('Gather', ['c', 'picks'], ['m'], { axis: int(1) }, 'bad')], { picks: i64([0, 9]) }, 'Gather node "bad": index 9 is out of range for axis 1 of size 4'],
];

describe('convlens predict on a model file with a malformed node', () => {
  it.each(cases)('refuses the %s node when it loads the model', async (name, middle, initializers, message) => {
    const r = await convlens('predict', '--model', modelFile(name, middle, initializers), 'samples/photos/coffee.png');
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(`convlens: ${message}`);
    expect(r.stderr).toMatch(/re-export/);
    expect(r.stderr).not.toMatch(/ONNX Runtime|onnxruntime_src|\.(?:h|cc|cpp):\d+|\n\s+at /);
    expect(r.stdout).toBe('');
  });
});
