/// <reference lib="dom" />
// A QDQ model (int8 weights dequantized in the graph, as onnxruntime's static quantizer writes
// them) uploaded to the studio, in Chromium: the first layer's filters are drawn from the
// dequantized weights, and every explanation says its gradients are straight-through estimates.
import { describe, expect, it } from 'vitest';
import { encodeModel } from '../../src/engine/onnx/codec.js';
import { qdqModel } from '../support/quantized-models.js';
import { studioInChromium } from './browser.js';

const ui = studioInChromium({ timeout: 30_000, afterOpen: (page) => page.waitForSelector('[data-testid="model-select"] option[value="builtin"]', { state: 'attached' }).then(() => undefined) });
const refused: string[] = [];

describe('a QDQ model in the studio (Chromium)', () => {
  it('draws the filters of its convolutions from the dequantized weights, with no request refused', async () => {
    ui.page.on('response', (r) => void (r.status() >= 400 && refused.push(`${r.status()} ${r.url()}`)));
    const model = encodeModel(qdqModel({ input: 2 / 255, relu1: 1 / 64, relu2: 1 / 128 }));
    await ui.page.setInputFiles('[data-testid="model-file"]', { name: 'qdq.onnx', mimeType: 'application/octet-stream', buffer: Buffer.from(model) });
    await ui.page.waitForFunction(() => document.querySelector<HTMLSelectElement>('[data-testid="model-select"]')?.selectedOptions[0]?.textContent?.includes('qdq.onnx'));
    await ui.page.click('[data-testid="image-photos/chelsea.png"]');
    await ui.page.click('[data-testid="tab-network"]');
    // the filters panel asked for the first conv, whose weights are DequantizeLinear(int8): a 404
    await ui.page.waitForSelector('[data-testid="filters-panel"] [data-testid="filter-grid"]');
    expect(await ui.page.locator('[data-testid="filters-panel"] [data-testid="filter-grid"] .filter-tile').count()).toBe(8);
    expect(refused).toEqual([]);
  });

  it('notes on the explanation that its gradients through quantization are straight-through estimates', async () => {
    await ui.page.click('[data-testid="tab-explain"]');
    await ui.page.waitForSelector('[data-testid="method-gradcam"]');
    for (const m of await ui.page.$$eval('[data-testid^="method-"]', (els) => els.map((e) => e.getAttribute('data-testid')!.slice('method-'.length)))) {
      if (await ui.page.isEnabled(`[data-testid="method-${m}"]`)) await ui.page.setChecked(`[data-testid="method-${m}"]`, m === 'saliency' || m === 'gradcam');
    }
    await ui.page.setChecked('[data-testid="explain-metrics"]', false);
    await ui.page.click('[data-testid="explain-where"] button:has-text("server")');
    await ui.page.click('[data-testid="explain-run"]');
    await ui.page.waitForSelector('[data-testid="map-gradcam"]', { timeout: 60_000 });
    // the note came with every map and the page showed none; now once, for all of them
    const notes = ui.page.locator('[data-testid="explain-notes"] li');
    expect(await notes.count()).toBe(1);
    expect(await notes.first().textContent()).toMatch(/^the model is quantized \(QDQ.*straight-through estimates/);
    await ui.shot('qdq-explanations');
    expect(refused).toEqual([]);
  });

  it('raised no page errors', () => {
    expect(ui.errors).toEqual([]);
  });
});
