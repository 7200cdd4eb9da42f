// Every command on quantized model files. A QLinearConv (integer-op) model predicts and evaluates;
// every other command refuses it up front with the quantization message, not the symptom its own
// work met first ("No classes to visualize. Pick classes from 0 to -1", "no spatial (4-D) layer").
// A QDQ model of the same net runs every command.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeModel } from '../../src/engine/onnx/codec.js';
import { convlens } from '../support/cli.js';
import { qdqModel, qlinearGraph } from '../support/quantized-models.js';
import { tempFolder } from '../support/temp-folder.js';

const dir = tempFolder('convlens-quantized-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function qlinearFile(): string {
  const g = qlinearGraph();
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
