// Which token layers of a vision transformer CAM-type methods can draw a map from, as the layer
// lists (the studio's CAM picker, the summary's tokenLayers) show them and --layer takes them.
// After the last attention only the class token goes on to the head: every patch token's
// gradient is 0 there, and Grad-CAM at those layers (listed and taken before) drew all-zero maps.
// A per-token statistic (one channel: a written-out LayerNorm's mean or variance) was left out of
// the lists but taken by --layer, where the map is that value itself whatever the class.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConvLensError } from '../../src/engine/errors.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { readFileSync } from 'node:fs';
import { parseNpy } from '../../src/io/npy.js';
import { explain, tokenLayers } from '../../src/methods/explain/index.js';
import { loadModelFile } from '../../src/models/load.js';

const ROOT = join(import.meta.dirname, '..', 'fixtures', 'vit-cam');
const engine = new Engine(nodeBackend(), { threads: 2 });
afterAll(() => engine.dispose());
// torchvision's VisionTransformer, tiny (two blocks, a 4x4 patch grid, a class token)
const model = loadModelFile(join(ROOT, 'model.onnx'), engine);
const x = parseNpy(readFileSync(join(ROOT, 'input.npy')), 'input');

/** The token grids of numbered layers (those the lists show) with one channel. */
function statistics(): string[] {
  return model.pickableValues().map((p) => p.name).filter((v) => model.tokenGrid(v)?.channels === 1);
}

async function refusal(layer: string): Promise<ConvLensError> {
  try {
    await explain(model, x, { methods: ['gradcam'], layer, target: 3 });
  } catch (e) {
    if (e instanceof ConvLensError) return e;
    throw e;
  }
  throw new Error(`gradcam at "${model.layerLabel(layer)}" was drawn, not refused`);
}

describe('the token layers a CAM can be drawn from (torchvision VisionTransformer, tiny)', () => {
  it('lists the layers whose patch tokens have a gradient, and not those after the last attention, whose patch tokens have none', async () => {
    const numbered = model.pickableValues().map((p) => p.name).filter((v) => (model.tokenGrid(v)?.channels ?? 0) > 1);
    const classes = model.profile.classes;
    const batch = x.dims[0]!;
    const seed = new Float32Array(batch * classes);
    for (let n = 0; n < batch; n++) seed[n * classes + 3] = 1;
    const { gradients } = await model.gradients(x, { seed: { upstream: [model.output] }, wrt: numbered }, { [model.output]: { dtype: 'float32', dims: [batch, classes], data: seed } });
    // the largest |gradient| over the grid's own tokens (the class token left out)
    const patchGradient = (v: string): number => {
      const { prefix, channels } = model.tokenGrid(v)!;
      const g = gradients[v]!;
      const tokens = g.dims[1]!;
      let most = 0;
      for (let n = 0; n < batch; n++) for (let t = prefix; t < tokens; t++) for (let c = 0; c < channels; c++) most = Math.max(most, Math.abs((g.data as Float32Array)[(n * tokens + t) * channels + c]!));
      return most;
    };
    const listed = new Set(tokenLayers(model).map((t) => t.name));
    const zero = numbered.filter((v) => patchGradient(v) === 0);
    // the last block's residual and MLP and the final LayerNorm: no gradient at any patch token
    expect(zero.length).toBeGreaterThan(4);
    expect(numbered.filter((v) => listed.has(v))).toEqual(numbered.filter((v) => patchGradient(v) > 0));
    // the default, the tokens the last attention reads, is the last one listed
    expect(tokenLayers(model).at(-1)!.name).toBe(model.profile.camTokens?.layer);

    for (const v of zero) {
      const e = await refusal(v);
      expect(e.message, model.layerLabel(v)).toContain('after the last attention');
      expect(e.message).toContain('class token');
      expect(e.hint).toContain(model.layerLabel(model.profile.camTokens!.layer));
    }
  }, 60_000);

  it('refuses a per-token statistic (one channel), as the lists leave it out', async () => {
    const listed = new Set(tokenLayers(model).map((t) => t.name));
    expect(statistics().length).toBeGreaterThan(0);
    for (const v of statistics()) expect(listed.has(v)).toBe(false);
    for (const v of statistics()) expect((await refusal(v)).message, model.layerLabel(v)).toContain('one channel');
  });
});
