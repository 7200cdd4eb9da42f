// A model that computes huge values from its constants alone loads (constant folding leaves them
// to ONNX Runtime: test/server/costly-constants.test.ts), but no run can hold them. The CLI
// refuses such a model before ONNX Runtime compiles it, naming the value and this machine's
// memory, instead of failing inside ONNX Runtime with an allocation it cannot make and a hint to
// check the input, or, between the machine's memory and what the kernel refuses outright, being
// killed without a word. A model whose such values fit still runs.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import type { Graph, Node } from '../../src/engine/graph/ir.js';
import { encodeModel } from '../../src/engine/onnx/codec.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { checkConstantsFit } from '../../src/interfaces/cli/common.js';
import { Model } from '../../src/models/model.js';
import { courseCnn } from '../../src/models/zoo/index.js';
import { CLI, convlens, ROOT } from '../support/cli.js';
import { i64, ints, str } from '../support/onnx-files.js';
import { tempFolder } from '../support/temp-folder.js';
import { cnnReading, fill, floatConstant, nodeOf, shapeConstant } from '../support/constant-graphs.js';

const GB = 2 ** 30;
const run = promisify(execFile);

const million = (): Node => ({ op: 'Constant', name: 'million', inputs: [], outputs: ['million'], attrs: { value: { type: 'tensor', value: i64([1_000_000]) } } });

/** A Range of `count` floats read by the network. */
const range = (count: number): Graph => cnnReading([floatConstant('from', 0), floatConstant('to', count), floatConstant('step', 1), nodeOf('Range', ['from', 'to', 'step'], 'y')], 'y');

describe('a model computing more from its constants than the machine holds', () => {
  const engine = new Engine(nodeBackend(), { threads: 1 });
  afterAll(async () => {
    await engine.dispose();
  });

  it('is refused by the machine it would not fit, naming the largest value, and runs where it fits', () => {
    // 60 summed ConstantOfShape nodes of a million floats: about 200 MB (ConvLens folds a few), about
    // twice that in ONNX Runtime; larger ones take ONNX Runtime long to fold and are refused at load
    const summed = cnnReading([million(), ...Array.from({ length: 60 }, (_, i) => fill(`fill${i}`, 'million', i)), { op: 'Sum', name: 'all', inputs: Array.from({ length: 60 }, (_, i) => `fill${i}`), outputs: ['all'], attrs: {} }], 'all');
    const model = Model.fromOnnxGraph(summed, engine, 'summed');
    expect(() => checkConstantsFit(model, { total: 0.5 * GB })).toThrow(/^"summed" computes \d{3} MB of values from its constants alone, which no input changes \(the largest: "\w+", \w+, \[1000000\] float32 and \d{2} more\); ONNX Runtime would hold about twice that, more than half of this machine's 0\.5 GB\.$/);
    expect(() => checkConstantsFit(model, { total: 0.5 * GB, limit: 'its address-space limit, `ulimit -v`' })).toThrow(/more than half of the 0\.5 GB this process may use \(its address-space limit, `ulimit -v`\)\.$/);
    expect(() => checkConstantsFit(model, { total: 1 * GB })).not.toThrow();
    // the same nodes, of which the network reads one: ONNX Runtime drops the others
    const unread = Model.fromOnnxGraph(cnnReading([million(), ...Array.from({ length: 1000 }, (_, i) => fill(`fill${i}`, 'million', i))], 'fill999'), engine, 'unread');
    expect(() => checkConstantsFit(unread, { total: 1 * GB })).not.toThrow();
    expect(() => checkConstantsFit(Model.fromOnnxGraph(courseCnn(), engine, 'cnn'), { total: 1 * GB })).not.toThrow();
  });

  it('ends `convlens predict` at once with the reason, where it failed inside ONNX Runtime or took minutes', async () => {
    const dir = tempFolder('convlens-constants-');
    // values too large for any machine are also too long to compute: the work bound refuses them as the model loads
    const cases: [string, Graph, RegExp][] = [
      ['range.onnx', range(1e12), /the costliest is Range node "y", 1\.0e12 steps for its \[\d{12}\] output/],
      ['outer.onnx', cnnReading([million(), fill('a', 'million', 1), fill('b', 'million', 1), nodeOf('Einsum', ['a', 'b'], 'y', { equation: str('i,j->ij') })], 'y'), /the costliest is Einsum node "y", 7\.0e12 steps for its \[1000000, 1000000\] output/],
      // 29-43 s on every prediction until 2026-12-07
      ['pool.onnx', cnnReading([shapeConstant('dims', [1, 1, 2000, 2000]), fill('x', 'dims', 1), nodeOf('MaxPool', ['x'], 'y', { kernel_shape: ints([100, 100]) })], 'y'), /the costliest is MaxPool node "y", 7\.2e10 steps for its \[1, 1, 1901, 1901\] output/],
    ];
    for (const [file, graph, costliest] of cases) {
      writeFileSync(join(dir, file), encodeModel(graph));
      const started = performance.now();
      const r = await convlens('predict', '-q', '--model', join(dir, file), 'samples/fashion-mnist/bag-test18.png');
      expect(r.code, r.stderr).toBe(1);
      // 1-2 s here
      expect(performance.now() - started).toBeLessThan(10_000);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/computes values from its constants alone that take [\d.]+e\d+ steps of kernel work, more than the 1\.1e9 ConvLens lets ONNX Runtime spend on them/);
      expect(r.stderr).toMatch(costliest);
      expect(r.stderr).toMatch(/\n {2}Those values do not depend on the input: re-export the model/);
      expect(r.stderr).not.toMatch(/onnxruntime|\.cc:|\.h:/i);
    }
    // a small Range still runs
    writeFileSync(join(dir, 'small.onnx'), encodeModel(range(1000)));
    const ok = await convlens('predict', '-q', '--model', join(dir, 'small.onnx'), 'samples/fashion-mnist/bag-test18.png');
    expect(ok.code, ok.stderr).toBe(0);
  }, 60_000);

  it('plans to the memory this process may use: its `ulimit -v` where that is less than the machine', async () => {
    // planned against the machine alone, 1 GB of such values (refused at load since, for the time
    // ONNX Runtime takes to fold them) passed under a 3 GB \`ulimit -v\` and ran out inside ONNX
    // Runtime after 13 s, with a hint to compute fewer methods or use a smaller input
    const script = "import('./dist/interfaces/cli/common.js').then((m) => console.log(JSON.stringify(m.processMemory())))";
    const { stdout } = await run('bash', ['-c', 'ulimit -v 3000000 && exec node --input-type=module -e "$0"', script], { cwd: ROOT });
    expect(JSON.parse(stdout)).toEqual({ total: 3_000_000 * 1024, limit: 'its address-space limit, `ulimit -v`' });
    const { stdout: free } = await run('node', ['--input-type=module', '-e', script], { cwd: ROOT });
    expect((JSON.parse(free) as { total: number }).total).toBeGreaterThan(0);
    // the built-in model runs under that limit
    const ok = await run('bash', ['-c', 'ulimit -v 3000000 && exec node "$@"', 'bash', CLI, 'predict', '-q', 'samples/fashion-mnist/bag-test18.png'], { cwd: ROOT });
    expect(ok.stdout).toMatch(/%/);
  }, 60_000);
});
