/// <reference lib="dom" />
// Controls that must fit what is loaded, not a default: the class-names placeholder of an
// unlabelled model (it showed ImageNet's "tench, goldfish" for a 2-class model). Screenshots go to
// /tmp/hunt-z-shots/ (HUNT_Z_SHOTS).
import { mkdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { encodeModel } from '../../src/engine/onnx/codec.js';
import { GraphBuilder } from '../../src/engine/graph/builder.js';
import { seededRandom } from '../../src/models/init.js';
import { Layers } from '../../src/models/layers.js';
import { studioInChromium } from './browser.js';

const SHOTS = process.env['HUNT_Z_SHOTS'] ?? '/tmp/hunt-z-shots';
const ui = studioInChromium({ timeout: 30_000 });

async function shot(name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await ui.page.evaluate(() => window.scrollTo(0, 0));
  await ui.page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
}

/** An RGB classifier with `classes` outputs and no class names in it. */
function unlabelledModel(classes: number): Uint8Array {
  const b = new GraphBuilder();
  const L = new Layers(b, seededRandom(3));
  const x = b.input('image', 'float32', ['N', 3, 16, 16]);
  b.output(L.dense(L.flatten(L.globalAvgPool(L.relu(L.conv2d(x, 'conv', { filters: 4 }), 'relu'), 'gap'), 'flat'), 'fc', classes));
  return encodeModel(b.build());
}

describe('controls that fit the loaded model and store (Chromium)', () => {
  it('asks an unlabelled model for as many class names as it has, with generic examples', async () => {
    const { page } = ui;
    for (const classes of [2, 5]) {
      const entry = ui.studio.models.addUpload(`unlabelled-${classes}.onnx`, unlabelledModel(classes));
      await page.reload();
      await page.waitForSelector(`[data-testid="model-select"] option[value="${entry.id}"]`, { state: 'attached' });
      await page.selectOption('[data-testid="model-select"]', entry.id);
      await page.waitForSelector('[data-testid="model-describe"][open]');
      if (classes === 2) await shot('1-labels-placeholder-2-classes');
      const placeholder = (await page.getAttribute('[data-testid="describe-labels"]', 'placeholder'))!;
      expect(placeholder).not.toMatch(/tench|goldfish/);
      // the first and the last of this model's classes, by index: no class it does not have
      expect(placeholder).toContain('class 0');
      expect(placeholder).toContain(`class ${classes - 1}`);
      expect(placeholder).not.toContain(`class ${classes}`);
    }
  });
});
