// Integrated Gradients says when its attributions have not converged: the completeness gap beyond
// the 5% Sundararajan et al. suggest gets a note naming the image, the share of the score's change
// the attributions sum to, and the way out; a converged run says nothing.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { loadInputs } from '../../src/io/inputs.js';
import { explain } from '../../src/methods/explain/index.js';
import { explainReport } from '../../src/methods/explain/report.js';
import { loadBuiltinModel } from '../../src/models/load.js';
import { ROOT } from '../support/cli.js';

const engine = new Engine(nodeBackend(), { threads: 1 });
afterAll(() => engine.dispose());

describe('integrated gradients convergence', () => {
  it('notes a gap beyond 5% with the image, the share and more steps, and is silent once converged', async () => {
    const model = loadBuiltinModel(engine, 'squeezenet');
    const { batch } = await loadInputs([join(ROOT, 'samples/photos/coffee.png'), join(ROOT, 'samples/photos/chelsea.png')], model);
    const coarse = await explain(model, batch, { methods: ['integrated-gradients'], integratedGradients: { steps: 2, baseline: 'black' }, firstIndex: 10 });
    const c = coarse.attributions[0]!.completeness!;
    const worst = c[0]!.relativeGap > c[1]!.relativeGap ? 0 : 1;
    expect(c[worst]!.relativeGap).toBeGreaterThan(0.05);
    const [note] = coarse.attributions[0]!.notes;
    const share = `${((c[worst]!.sum / c[worst]!.scoreDifference) * 100).toFixed(0)}%`;
    expect(note).toContain(`has not converged at 2 steps: on image ${11 + worst} the attributions sum to ${share} of the score's change`);
    expect(note).toContain(`gap ${(c[worst]!.relativeGap * 100).toFixed(1)}%`);
    expect(note).toMatch(/more steps \(CLI: --steps 8\)/);

    const fine = await explain(model, batch, { methods: ['integrated-gradients'], integratedGradients: { steps: 64, baseline: 'black' } });
    expect(Math.max(...fine.attributions[0]!.completeness!.map((k) => k.relativeGap))).toBeLessThan(0.05);
    expect(fine.attributions[0]!.notes.filter((n) => n.includes('converged'))).toEqual([]);
  });

  it('puts the note in the studio\'s words when the studio asks (no CLI flags on the page)', async () => {
    const model = loadBuiltinModel(engine, 'squeezenet');
    const { batch } = await loadInputs([join(ROOT, 'samples/photos/coffee.png')], model);
    const page = await explainReport(model, batch, { methods: ['integrated-gradients', 'lrp'], score: 'prob', params: { 'integrated-gradients': { steps: 2, baseline: 'black' } } });
    const notes = page.maps.flatMap((m) => m.notes);
    expect(notes.some((n) => n.includes('has not converged at 2 steps'))).toBe(true);
    expect(notes.some((n) => n.includes('the probability score does not apply'))).toBe(true);
    expect(notes.filter((n) => /CLI|--/.test(n))).toEqual([]);
  });
});
