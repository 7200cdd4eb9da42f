// Nodes that lost a required input (a hostile or truncated file). Until 2026-12-07 a Dropout
// without inputs said 'No value named "undefined"' or, in the studio, 'Identity node "drop":
// input 0 is required' (an op the file does not have); on the CLI predict stopped with an
// internal error in encodeModel; a Concat of nothing was a TypeError. Each is now refused when
// the model loads, naming the node, its op and what is missing.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConvLensError } from '../../src/engine/errors.js';
import type { Node } from '../../src/engine/graph/ir.js';
import { decodeModel, encodeModel } from '../../src/engine/onnx/codec.js';
import { requiredInputs } from '../../src/engine/onnx/required-inputs.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { Model } from '../../src/models/model.js';
import { convlens } from '../support/cli.js';
import { f32, handGraph, int, ints, node } from '../support/onnx-files.js';
import { tempFolder } from '../support/temp-folder.js';

const engine = new Engine(nodeBackend(), { threads: 1 });
const dir = tempFolder('convlens-missing-inputs-');
afterAll(async () => {
  await engine.dispose();
  rmSync(dir, { recursive: true, force: true });
});

/** x -> Conv -> "c"; `broken` writes "m"; c + m -> pooled logits. */
function classifierWith(broken: Node, opset = 17): Uint8Array {
  return encodeModel(
    handGraph({
      opset,
      inputs: [{ name: 'x', dtype: 'float32', shape: [1, 3, 32, 32] }],
      outputs: ['logits'],
      nodes: [node('Conv', ['x', 'w'], ['c'], { kernel_shape: ints([3, 3]), pads: ints([1, 1, 1, 1]) }, 'conv'), broken, node('Add', ['c', 'm'], ['a'], {}, 'add'), node('GlobalAveragePool', ['a'], ['p']), node('Flatten', ['p'], ['logits'])],
      initializers: { w: f32([4, 3, 3, 3], Array.from({ length: 108 }, (_, k) => Math.sin(k))) },
    }),
  );
}

const refused: [string, Node, number, string][] = [
  ['a Dropout without inputs', node('Dropout', [], ['m'], {}, 'drop'), 17, 'Dropout node "drop" has no inputs; Dropout needs an input.'],
  ['an old-opset Dropout without inputs', node('Dropout', [], ['m'], {}, 'drop'), 7, 'Dropout node "drop" has no inputs; Dropout needs an input.'],
  ['a Concat of nothing (a TypeError)', node('Concat', [], ['m'], { axis: int(1) }, 'cat'), 17, 'Concat node "cat" has no inputs; Concat needs an input.'],
  ['a Conv without weights', node('Conv', ['c'], ['m'], { kernel_shape: ints([1, 1]) }, 'conv2'), 17, 'Conv node "conv2" has 1 input; Conv needs 2 inputs.'],
  ['a BatchNormalization with an empty name for its bias', node('BatchNormalization', ['c', 's', '', 'mu', 'var'], ['m'], {}, 'bn'), 17, 'BatchNormalization node "bn" leaves input 2 empty; BatchNormalization needs 5 inputs.'],
  ['an Add of one operand (refused only by ONNX Runtime)', node('Add', ['c'], ['m'], {}, 'plus'), 17, 'Add node "plus" has 1 input; Add needs 2 inputs.'],
  ['an opset-10 Slice without ends', node('Slice', ['c', 'starts'], ['m'], {}, 'cut'), 10, 'Slice node "cut" has 2 inputs; Slice needs 3 inputs.'],
];

describe('nodes missing a required input', () => {
  it.each(refused)('refuses %s when the model loads, naming the node', (_what, broken, opset, message) => {
    const error = (() => {
      try {
        Model.fromOnnxGraph(decodeModel(classifierWith(broken, opset)), engine, 'broken.onnx');
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ConvLensError);
    expect((error as ConvLensError).code).toBe('MODEL_UNREADABLE');
    expect((error as ConvLensError).message).toBe(`broken.onnx: ${message}`);
    expect((error as ConvLensError).hint).toMatch(/re-export/);
  });

  it('counts what changed with the opset as ONNX does', () => {
    expect([requiredInputs('Reshape', 1), requiredInputs('Reshape', 17)]).toEqual([1, 2]);
    expect([requiredInputs('Slice', 9), requiredInputs('Slice', 10)]).toEqual([1, 3]);
    expect([requiredInputs('Pad', 10), requiredInputs('Pad', 11)]).toEqual([1, 2]);
    expect([requiredInputs('Resize', 10), requiredInputs('Resize', 13)]).toEqual([2, 1]);
    expect([requiredInputs('Unsqueeze', 11), requiredInputs('Unsqueeze', 13)]).toEqual([1, 2]);
    expect(requiredInputs('NoSuchOp', 17)).toBe(0);
  });

  it('the CLI says the same in summary and predict, without an internal error', async () => {
    const path = join(dir, 'dropout.onnx');
    writeFileSync(path, classifierWith(node('Dropout', [], ['m'], {}, 'drop')));
    for (const args of [['summary', '--model', path], ['predict', join('samples', 'photos', 'coffee.png'), '--model', path, '-q']]) {
      const r = await convlens(...args);
      expect(r.code, args[0]).toBe(1);
      expect(r.stderr, args[0]).toContain(`convlens: hand: Dropout node "drop" has no inputs; Dropout needs an input.\n  The model file is malformed (a node lost an input); re-export it.\n`);
      expect(r.stderr).not.toMatch(/internal error|undefined/);
    }
  }, 60_000);
});
