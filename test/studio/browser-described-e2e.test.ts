/// <reference lib="dom" />
// Explaining in the browser after the model was described anew (Describe this model): the page's
// engine worker keeps a copy of each model by id, and went on explaining the copy it had, so a
// model declared multi-label scored its target by a softmax over the outputs in this browser while
// the server used the output's own sigmoid. The worker now drops its copy when the model is
// described (compute.ts forgetInBrowser).
import { describe, expect, it } from 'vitest';
import { encodeModel } from '../../src/engine/onnx/codec.js';
import { GraphBuilder } from '../../src/engine/graph/builder.js';
import { seededRandom } from '../../src/models/init.js';
import { Layers } from '../../src/models/layers.js';
import { studioInChromium } from './browser.js';

const SAMPLE = 'photos/coffee.png';

/** conv, GAP, a dense layer to 5 raw scores: a classifier's logits, or a multi-label head's */
function scores(): Uint8Array {
  const b = new GraphBuilder();
  const L = new Layers(b, seededRandom(9));
  const x = b.input('image', 'float32', ['N', 3, 24, 24]);
  b.output(L.dense(L.flatten(L.globalAvgPool(L.relu(L.conv2d(x, 'conv', { filters: 4 }), 'relu'), 'gap'), 'flat'), 'fc', 5));
  return encodeModel(b.build());
}

const ui = studioInChromium({ timeout: 30_000 });

/** Saliency of the predicted class in this browser, scored as asked: the score the results line shows. */
async function scoreInBrowser(score: 'logit' | 'probability'): Promise<number> {
  const { page } = ui;
  await page.click('[data-testid="tab-explain"]');
  await page.waitForSelector('[data-testid="panel-explain"]', { state: 'visible' });
  const checked = await page.$$eval('[data-testid^="method-"]:checked', (boxes) => boxes.map((b) => b.getAttribute('data-testid')!));
  for (const id of checked) await page.setChecked(`[data-testid="${id}"]`, false);
  await page.setChecked('[data-testid="method-saliency"]', true);
  await page.setChecked('[data-testid="explain-metrics"]', false);
  await page.click(`[data-testid="panel-explain"] [role="radiogroup"][aria-label="Score"] button:has-text("${score}")`);
  await page.click('[data-testid="explain-where"] button:has-text("this browser")');
  const before = await page.locator('[data-testid="explain-made"]').textContent().catch(() => null);
  await page.click('[data-testid="explain-run"]');
  await page.waitForFunction((old) => {
    const t = document.querySelector('[data-testid="explain-made"]')?.textContent ?? '';
    return t !== old && /computed in this browser/.test(t);
  }, before, { timeout: 90_000 });
  const text = (await page.locator('[data-testid="explain-made"]').textContent())!;
  const m = new RegExp(`· ${score === 'logit' ? 'logit' : 'prob'} (-?[\\d.]+(?:e-?\\d+)?)`).exec(text);
  expect(m, text).not.toBeNull();
  return Number(m![1]);
}

describe('explaining in the browser after "Describe this model" (Chromium)', () => {
  it("scores with the model as described now, not the page's earlier copy", async () => {
    const { page } = ui;
    const upload = ui.studio.models.addUpload('scores.onnx', scores());
    await page.reload();
    await page.waitForSelector(`[data-testid="model-select"] option[value="${upload.id}"]`, { state: 'attached' });
    await page.selectOption('[data-testid="model-select"]', upload.id);
    await page.click(`[data-testid="image-${SAMPLE}"]`);
    await page.waitForSelector(`[data-testid="image-${SAMPLE}"][aria-pressed="true"]`);

    const logit = await scoreInBrowser('logit');
    const softmax = await scoreInBrowser('probability');
    const sigmoid = 1 / (1 + Math.exp(-logit));
    // five outputs: the softmax of the top one is not its sigmoid
    expect(Math.abs(softmax - sigmoid)).toBeGreaterThan(0.01);

    if (!(await page.$eval('[data-testid="model-describe"]', (d) => (d as HTMLDetailsElement).open))) await page.locator('[data-testid="model-describe"] > summary').click();
    await page.selectOption('[data-testid="describe-output-kind"]', 'multi-label');
    await page.click('[data-testid="describe-apply"]');
    await page.waitForSelector('[data-testid="describe-done"]:has-text("outputs multi-label")');

    const own = await scoreInBrowser('probability');
    expect(own).toBeCloseTo(sigmoid, 2);
    expect(ui.errors).toEqual([]);
  }, 240_000);
});
