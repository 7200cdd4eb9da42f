import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildGradientGraph } from '../../src/engine/autodiff/gradient.js';
import { importOnnx } from '../../src/engine/onnx/load.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import type { RuleSetName } from '../../src/engine/ops/registry.js';
import { parseNpy } from '../../src/io/npy.js';
import { toFloat64 } from '../../src/engine/tensor.js';
import { relativeMaxError } from '../support/gradcheck.js';

// External oracle: 38 cases whose forward outputs and gradients PyTorch autograd computed in
// float64 (test/fixtures/grad-vectors/README.md). The engine runs in float32, so the tolerance is
// relative to the largest reference magnitude: float32 sums of a few hundred products land within
// ~1e-6 of it; 2e-5 leaves room for the longest accumulations (weight gradients summing over
// batch x spatial positions) while any wrong index, sign or missing term shows up as O(1).
const TOL = 2e-5;

const root = join(import.meta.dirname, '..', 'fixtures', 'grad-vectors');
interface Case {
  description: string;
  param_grads: string[];
  rules: string[];
}
const manifest = JSON.parse(readFileSync(join(root, 'manifest.json'), 'utf8')) as Record<string, Case>;
const npy = (dir: string, file: string) => parseNpy(readFileSync(join(root, dir, file)), file);

const engine = new Engine(nodeBackend(), { threads: 2 });
afterAll(() => engine.dispose());

describe('gradient conformance against PyTorch float64 autograd', () => {
  for (const [name, c] of Object.entries(manifest)) {
    it(`${name}: ${c.description}`, async () => {
      const graph = importOnnx(readFileSync(join(root, name, 'model.onnx')), { source: name });
      const x = npy(name, 'x.npy');
      const dy = npy(name, 'dy.npy');
      const wrt = ['x', ...c.param_grads];
      const variants: RuleSetName[] = ['standard', ...(c.rules as RuleSetName[])];
      for (const ruleSet of variants) {
        const gg = buildGradientGraph(graph, { seed: { upstream: ['y'] }, wrt, outputs: ['y'], ruleSet });
        const run = await engine.compileOnce(gg.graph);
        const out = await run.run({ x, [gg.seedInputs['y']!]: dy });
        await run.release();
        if (ruleSet === 'standard') {
          expect(relativeMaxError(toFloat64(out['y']!), toFloat64(npy(name, 'y64.npy'))), 'forward y').toBeLessThan(TOL);
        }
        const dxFile = ruleSet === 'standard' ? 'dx64.npy' : `dx64_${ruleSet}.npy`;
        const dx = toFloat64(out[gg.gradientOutputs['x']!]!);
        expect(relativeMaxError(dx, toFloat64(npy(name, dxFile))), `${ruleSet} dx`).toBeLessThan(TOL);
        if (ruleSet !== 'standard') continue;
        for (const p of c.param_grads) {
          const file = join('grad64', `${p}.npy`);
          expect(existsSync(join(root, name, file)), file).toBe(true);
          const got = toFloat64(out[gg.gradientOutputs[p]!]!);
          expect(relativeMaxError(got, toFloat64(npy(name, file))), `d/d ${p}`).toBeLessThan(TOL);
        }
      }
    });
  }

  // With only the input asked for, the gradient graph differs: inference BatchNorms fold into
  // their convs (foldBatchNorms), which a parameter gradient would have prevented.
  for (const [name, c] of Object.entries(manifest).filter(([, c]) => c.param_grads.length > 0)) {
    it(`${name}, input gradient alone: ${c.description}`, async () => {
      const graph = importOnnx(readFileSync(join(root, name, 'model.onnx')), { source: name });
      const x = npy(name, 'x.npy');
      const dy = npy(name, 'dy.npy');
      for (const ruleSet of ['standard', ...(c.rules as RuleSetName[])] as RuleSetName[]) {
        const gg = buildGradientGraph(graph, { seed: { upstream: ['y'] }, wrt: ['x'], outputs: ['y'], ruleSet });
        const run = await engine.compileOnce(gg.graph);
        const out = await run.run({ x, [gg.seedInputs['y']!]: dy });
        await run.release();
        expect(relativeMaxError(toFloat64(out['y']!), toFloat64(npy(name, 'y64.npy'))), 'forward y').toBeLessThan(TOL);
        const dxFile = ruleSet === 'standard' ? 'dx64.npy' : `dx64_${ruleSet}.npy`;
        expect(relativeMaxError(toFloat64(out[gg.gradientOutputs['x']!]!), toFloat64(npy(name, dxFile))), `${ruleSet} dx`).toBeLessThan(TOL);
      }
    });
  }
});
