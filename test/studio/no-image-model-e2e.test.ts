/// <reference lib="dom" />
// A model no image fits (4-channel input): the page knew it (the Model panel said so) but its
// tabs still sent a prediction, the feature maps and, on a click, explanations, made images and an
// index, each refused by the server with a SHAPE_MISMATCH. Now every tab says so up front and
// sends none of them; the server's refusal is tested in test/server/api.test.ts.
import { describe, expect, it } from 'vitest';
import { encodeModel } from '../../src/engine/onnx/codec.js';
import { GraphBuilder } from '../../src/engine/graph/builder.js';
import { seededRandom } from '../../src/models/init.js';
import { Layers } from '../../src/models/layers.js';
import { studioInChromium } from './browser.js';

function fourChannelModel(): Uint8Array {
  const b = new GraphBuilder();
  const L = new Layers(b, seededRandom(6));
  const x = b.input('image', 'float32', ['N', 4, 20, 24]);
  b.output(L.dense(L.flatten(L.globalAvgPool(L.relu(L.conv2d(x, 'conv', { filters: 4 }), 'relu'), 'gap'), 'flat'), 'fc', 3));
  return encodeModel(b.build());
}

const ui = studioInChromium({ timeout: 30_000 });

describe('a 4-channel model in the studio (Chromium)', () => {
  it('every tab says no image can be fed to it and sends no request the server would refuse', async () => {
    const { page } = ui;
    const entry = ui.studio.models.addUpload('rgbd.onnx', fourChannelModel());
    const doomed: string[] = [];
    page.on('request', (r) => {
      const path = new URL(r.url()).pathname;
      if (r.method() === 'POST' && (r.postData() ?? '').includes(entry.id) && /^\/api\/(predict|activations|explain|synthesize\/(featviz|adversarial|invert|dream)(\/estimate)?|dataset\/stores)$/.test(path)) doomed.push(path);
    });
    await page.reload();
    await page.waitForSelector(`[data-testid="model-select"] option[value="${entry.id}"]`, { state: 'attached' });
    await page.selectOption('[data-testid="model-select"]', entry.id);

    await page.getByTestId('prediction-no-images').waitFor();
    expect(await page.getByTestId('prediction-no-images').textContent()).toContain('takes 4-channel input');
    await page.getByTestId('network-no-images').waitFor();
    // the filters still show: they need no image
    await page.waitForSelector('[data-testid="panel-network"] canvas');

    await page.click('[data-testid="tab-explain"]');
    await page.getByTestId('explain-no-images').waitFor();
    expect(await page.isDisabled('[data-testid="explain-run"]')).toBe(true);

    await page.click('[data-testid="tab-synth"]');
    for (const kind of ['Feature visualization', 'Adversarial', 'Inversion', 'DeepDream']) {
      await page.locator('[data-testid="synth-kind"] button', { hasText: kind }).first().click();
      await page.getByTestId('synth-no-images').waitFor();
      expect(await page.isDisabled('[data-testid="synth-run"]')).toBe(true);
    }
    // style transfer runs on another network, so it stays open
    await page.locator('[data-testid="synth-kind"] button', { hasText: 'Style / texture' }).first().click();
    expect(await page.getByTestId('synth-no-images').count()).toBe(0);

    await page.click('[data-testid="tab-dataset"]');
    await page.getByTestId('dataset-no-index').waitFor();
    expect(await page.getByTestId('dataset-no-index').textContent()).toContain('can index no images');
    expect(await page.isDisabled('[data-testid="index-run"]')).toBe(true);

    await page.waitForTimeout(500);
    expect(doomed).toEqual([]);
    await ui.shot('four-channel-model');
  }, 90_000);
});
