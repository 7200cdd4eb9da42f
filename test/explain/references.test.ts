// Agreement with Captum, zennit and pytorch-grad-cam on two models the project has not seen
// (random-weight VGG- and ResNet-style nets): fixtures made by scripts/reference-attributions.py,
// see test/fixtures/attribution-refs/PROVENANCE.md. Maps are compared by Pearson correlation
// per image (channel sums for input-space methods, layer-resolution maps for CAMs).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { parseNpy } from '../../src/io/npy.js';
import { explain, type ExplainOptions, type MethodName } from '../../src/methods/explain/index.js';
import { pearson } from '../../src/methods/metrics/similarity.js';
import { loadModelFile } from '../../src/models/load.js';

const ROOT = join(import.meta.dirname, '..', 'fixtures', 'attribution-refs');
const manifest = JSON.parse(readFileSync(join(ROOT, 'manifest.json'), 'utf8')) as Record<string, { layer: string; targets: number[] }>;
const engine = new Engine(nodeBackend());
afterAll(() => engine.dispose());

const npy = (net: string, name: string): Tensor => parseNpy(readFileSync(join(ROOT, net, `${name}.npy`)), name);

/** Per-image correlation of our result (raw reduced over channels) with the reference [N, ...]. */
function correlations(ours: Tensor, ref: Tensor): number[] {
  const n = ref.dims[0]!;
  const per = ref.data.length / n;
  const od = ours.data as Float32Array;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const mine = new Float64Array(per);
    const planes = od.length / n / per;
    for (let ch = 0; ch < planes; ch++) for (let p = 0; p < per; p++) mine[p]! += od[i * per * planes + ch * per + p]!;
    out.push(pearson(mine, (ref.data as Float32Array).subarray(i * per, (i + 1) * per)));
  }
  return out;
}

interface Case {
  method: MethodName;
  reference: string;
  options?: Partial<ExplainOptions>;
  nets?: string[];
  min: number;
}

const CASES: Case[] = [
  { method: 'deeplift', reference: 'deeplift', options: { deeplift: { baseline: 'black' } }, min: 0.999 },
  { method: 'deeplift-shap', reference: 'deeplift-shap', min: 0.999 },
  { method: 'gradient-shap', reference: 'gradient-shap-expectation', options: { shap: { samples: 600 } }, min: 0.95 },
  { method: 'lrp', reference: 'lrp-epsilon', options: { lrp: { composite: 'epsilon' } }, nets: ['vgg'], min: 0.999 },
  { method: 'lrp', reference: 'lrp-epsilon-gamma', options: { lrp: { composite: 'epsilon-gamma' } }, nets: ['vgg'], min: 0.999 },
  { method: 'lrp', reference: 'lrp-epsilon-plus-flat', options: { lrp: { composite: 'epsilon-plus-flat' } }, min: 0.999 },
  { method: 'lrp', reference: 'lrp-epsilon-gamma-box', options: { lrp: { composite: 'epsilon-gamma-box' } }, min: 0.999 },
  { method: 'gradcam', reference: 'gradcam', min: 0.999 },
  { method: 'xgradcam', reference: 'xgradcam', min: 0.999 },
  { method: 'hirescam', reference: 'hirescam', min: 0.999 },
  { method: 'eigencam', reference: 'eigencam', min: 0.999 },
  { method: 'eigengradcam', reference: 'eigengradcam', min: 0.999 },
  { method: 'ablationcam', reference: 'ablationcam', min: 0.999 },
  { method: 'fullgrad', reference: 'fullgrad', min: 0.999 },
  { method: 'fullgrad', reference: 'fullgrad-eigen-smooth', options: { cam: { eigenSmooth: true } }, min: 0.999 },
  { method: 'gradcam', reference: 'gradcam-eigen-smooth', options: { cam: { eigenSmooth: true } }, min: 0.999 },
  { method: 'gradcam', reference: 'gradcam-aug-smooth', options: { cam: { augSmooth: true } }, min: 0.999 },
];

/** Measured correlations, printed once at the end (the report quotes them). */
const measured: string[] = [];
afterAll(() => console.log(`correlation with the references (min over images):\n${measured.join('\n')}`));

for (const net of Object.keys(manifest)) {
  describe(`${net}: agreement with the reference libraries`, () => {
    const model = loadModelFile(join(ROOT, net, 'model.onnx'), engine);
    const x = npy(net, 'input');
    const { layer, targets } = manifest[net]!;
    for (const c of CASES.filter((c) => !c.nets || c.nets.includes(net))) {
      it(`${c.reference} correlates at >= ${c.min}`, async () => {
        const e = await explain(model, x, { methods: [c.method], target: targets, layer, ...c.options, shap: { baselines: npy(net, 'baselines'), ...c.options?.shap } });
        const r = correlations(e.attributions[0]!.raw, npy(net, c.reference));
        measured.push(`  ${net.padEnd(7)} ${c.reference.padEnd(28)} ${Math.min(...r).toFixed(6)}  (1 - r = ${(1 - Math.min(...r)).toExponential(1)})`);
        for (const v of r) expect(v, c.reference).toBeGreaterThanOrEqual(c.min);
      });
    }
  });
}
