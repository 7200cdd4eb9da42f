// CAM-type methods on a vision transformer, as pytorch-grad-cam's ViT recipe computes them: the
// tokens the last block's first LayerNorm returns, class token dropped, read as the map of the
// patch grid. The model is torchvision's VisionTransformer at a tiny size with random weights,
// exported as vit_b_16 is; the references are float64 maps from scripts/reference-vit-cam.py
// (pytorch-grad-cam's algorithms written out in PyTorch, test/fixtures/vit-cam). Before token
// grids were read, the profile had no CAM layer on a ViT and every CAM method was refused.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { parseNpy } from '../../src/io/npy.js';
import { explain, type MethodName } from '../../src/methods/explain/index.js';
import { loadModelFile } from '../../src/models/load.js';
import { describeProfile } from '../../src/models/profile.js';

const ROOT = join(import.meta.dirname, '..', 'fixtures', 'vit-cam');
const manifest = JSON.parse(readFileSync(join(ROOT, 'manifest.json'), 'utf8')) as { layer: string; grid: [number, number]; classToken: number; targets: number[] };
const engine = new Engine(nodeBackend(), { threads: 2 });
afterAll(() => engine.dispose());
const model = loadModelFile(join(ROOT, 'model.onnx'), engine);
const x = parseNpy(readFileSync(join(ROOT, 'input.npy')), 'input');
const reference = (name: string): Tensor => parseNpy(readFileSync(join(ROOT, `${name}.npy`)), name);

/** max |ours - reference| / max |reference| over the whole batch. */
function relativeError(ours: Tensor, ref: Tensor): number {
  const a = ours.data as Float32Array;
  const b = ref.data as Float64Array;
  expect(a.length).toBe(b.length);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  expect(scale).toBeGreaterThan(0);
  return diff / scale;
}

const measured: string[] = [];
afterAll(() => console.log(`ViT CAMs against the float64 references (max |difference| / max |reference|):\n${measured.join('\n')}`));

describe('CAM-type methods on a vision transformer (torchvision VisionTransformer, tiny)', () => {
  it('reads the tokens the last attention reads, pytorch-grad-cam\'s layer, as the 4x4 patch grid', () => {
    const layer = model.resolveLayer(manifest.layer);
    expect(model.profile.camTokens?.layer).toBe(layer);
    expect(model.profile.camTokens?.grid).toMatchObject({ tokenAxis: 1, prefix: manifest.classToken, height: manifest.grid[0], width: manifest.grid[1], channels: 16 });
    // the refusal's reason stays for what still has no map: the patch embedding comes before attention
    expect(model.profile.camLayer).toBeUndefined();
    expect(model.profile.camBeforeAttention?.layer).toBe(model.resolveLayer('conv_proj'));
    const line = describeProfile(model.profile, (v) => model.layerLabel(v)).find((l) => l.startsWith('CAM layer'));
    expect(line).toContain(model.layerLabel(layer));
    expect(line).toContain('16x4x4 map, the first token dropped');
  });

  for (const method of ['gradcam', 'gradcam++', 'xgradcam', 'layercam', 'hirescam', 'eigencam', 'eigengradcam', 'ablationcam'] as MethodName[]) {
    it(`${method} matches the reference`, async () => {
      const e = await explain(model, x, { methods: [method], target: manifest.targets });
      const a = e.attributions[0]!;
      expect(a.method).toBe(method);
      expect(a.raw.dims).toEqual([2, 1, 4, 4]);
      expect(a.params['layer']).toBe(model.resolveLayer(manifest.layer));
      const err = relativeError(a.raw, reference(method));
      measured.push(`  ${method.padEnd(13)} ${err.toExponential(2)}`);
      expect(err).toBeLessThan(1e-4);
    });
  }
});
