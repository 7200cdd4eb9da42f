/// <reference lib="dom" />
// The Prediction panel for models whose outputs are not one softmax (models/output-kind.ts): a
// declared regression's outputs show as values in their order, with no bar and no top one, and a
// multi-label head's as each output's own sigmoid (they were a softmax over the sigmoids).
import { describe, expect, it } from 'vitest';
import { encodeModel } from '../../src/engine/onnx/codec.js';
import { GraphBuilder } from '../../src/engine/graph/builder.js';
import { seededRandom } from '../../src/models/init.js';
import { Layers } from '../../src/models/layers.js';
import { METADATA_KEYS } from '../../src/models/metadata.js';
import { TOKEN_HEADER } from '../../src/interfaces/server/access.js';
import { fmtSig } from '../../web/src/format.js';
import { saveScreenshot } from '../support/screenshots.js';
import { studioInChromium } from './browser.js';

const SAMPLE = 'photos/coffee.png';

function headModel(outputs: number, o: { sigmoid?: boolean; kind?: string }): Uint8Array {
  const b = new GraphBuilder();
  const L = new Layers(b, seededRandom(9));
  const x = b.input('image', 'float32', ['N', 3, 24, 24]);
  const z = L.dense(L.flatten(L.globalAvgPool(L.relu(L.conv2d(x, 'conv', { filters: 4 }), 'relu'), 'gap'), 'flat'), 'fc', outputs);
  b.output(o.sigmoid ? b.op('Sigmoid', [z], {}, { name: 'attributes', outputs: ['attributes'] }) : z);
  const g = b.build();
  if (o.kind) g.metadata.set(METADATA_KEYS.output, o.kind);
  return encodeModel(g);
}

const ui = studioInChromium({ timeout: 30_000 });

async function predicted(id: string): Promise<{ label: string; probability?: number; logit: number }[]> {
  const res = await fetch(`${ui.base}/api/predict`, { method: 'POST', headers: { 'content-type': 'application/json', [TOKEN_HEADER]: ui.studio.access.token }, body: JSON.stringify({ model: id, image: SAMPLE, k: 5 }) });
  expect(res.ok).toBe(true);
  return ((await res.json()) as { top: { label: string; probability?: number; logit: number }[] }).top;
}

async function barsOf(id: string, count: number): Promise<string[]> {
  const { page } = ui;
  await page.waitForSelector(`[data-testid="model-select"] option[value="${id}"]`, { state: 'attached' });
  await page.selectOption('[data-testid="model-select"]', id);
  await page.click(`[data-testid="image-${SAMPLE}"]`);
  await page.waitForSelector(`[data-testid="image-${SAMPLE}"][aria-pressed="true"]`);
  const bars = page.locator('[data-testid="prediction-bars"] li .bar-value');
  await expect.poll(() => bars.count(), { timeout: 30_000 }).toBe(count);
  await page.waitForFunction(() => document.querySelector('[data-testid="prediction-bars"]')?.getAttribute('aria-busy') === 'false');
  return bars.allInnerTexts();
}

describe('output kinds in the Prediction panel (Chromium)', () => {
  it("shows a regression's values and a multi-label head's own sigmoids", async () => {
    const regression = ui.studio.models.addUpload('landmarks.onnx', headModel(3, { kind: 'regression' }));
    await ui.page.reload();
    const values = await barsOf(regression.id, 3);
    const want = await predicted(regression.id);
    expect(values).toEqual(want.map((t) => fmtSig(t.logit)));
    // in their order, none the "top" one, and no bar drawn on a scale they do not have
    expect(await ui.page.locator('[data-testid="prediction-bars"] li.top1').count()).toBe(0);
    expect(await ui.page.locator('[data-testid="prediction-bars"] .bar-fill').count()).toBe(0);
    // nor an empty track, which reads as a bar at 0%
    expect(await ui.page.locator('[data-testid="prediction-bars"] .bar-track').count()).toBe(0);
    await saveScreenshot(ui.page.getByTestId('prediction-panel'), 'regression-values');

    const multi = ui.studio.models.addUpload('attributes.onnx', headModel(5, { sigmoid: true }));
    await ui.page.reload();
    const shown = await barsOf(multi.id, 5);
    const top = await predicted(multi.id);
    expect(shown).toEqual(top.map((t) => `${(100 * t.probability!).toFixed(1)}%`));
    for (const t of top) expect(t.probability).toBeCloseTo(1 / (1 + Math.exp(-t.logit)), 5);
    await saveScreenshot(ui.page.getByTestId('prediction-panel'), 'multi-label-sigmoids');
    expect(ui.errors).toEqual([]);
  }, 120_000);

  it('takes another output kind under "Describe this model", and predicts with it', async () => {
    const { page } = ui;
    const upload = ui.studio.models.addUpload('scores.onnx', headModel(3, {}));
    await page.reload();
    const before = await barsOf(upload.id, 3);
    expect(before.every((v) => v.endsWith('%'))).toBe(true);
    // open (it opens by itself while the file leaves things unsaid)
    if (!(await page.$eval('[data-testid="model-describe"]', (d) => (d as HTMLDetailsElement).open))) await page.locator('[data-testid="model-describe"] > summary').click();
    await page.selectOption('[data-testid="describe-output-kind"]', 'regression');
    await page.click('[data-testid="describe-apply"]');
    await page.waitForSelector('[data-testid="describe-done"]:has-text("outputs regression")');
    const want = await predicted(upload.id);
    expect(want.every((t) => t.probability === undefined)).toBe(true);
    const bars = page.locator('[data-testid="prediction-bars"] li .bar-value');
    await expect.poll(() => bars.allInnerTexts(), { timeout: 30_000 }).toEqual(want.map((t) => fmtSig(t.logit)));
    expect(await page.locator('[data-testid="prediction-bars"] .bar-fill').count()).toBe(0);
    await saveScreenshot(page.getByTestId('model-panel'), 'described-regression');
    expect(ui.errors).toEqual([]);
  }, 120_000);
});
