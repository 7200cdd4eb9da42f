/// <reference lib="dom" />
// What the studio calls a model's outputs (models/output-kind.ts): a regression's are values,
// "output k", with no class and no probability; a multi-label head's are classes, each with its own
// probability, the sigmoid of its logit. The Describe panel asked a regression for "Class names",
// the Explanations tab offered its "Target class" and a probability score, titled its curves
// "probability of the target" while they followed the value, and named the result "class 0 · logit".
import { describe, expect, it } from 'vitest';
import { encodeModel } from '../../src/engine/onnx/codec.js';
import { f32 } from '../../src/engine/tensor.js';
import { TOKEN_HEADER } from '../../src/interfaces/server/access.js';
import { GraphBuilder } from '../../src/engine/graph/builder.js';
import { seededRandom } from '../../src/models/init.js';
import { Layers } from '../../src/models/layers.js';
import { METADATA_KEYS } from '../../src/models/metadata.js';
import { saveScreenshot } from '../support/screenshots.js';
import { studioInChromium } from './browser.js';

const SAMPLE = 'photos/coffee.png';

function headModel(outputs: number, o: { sigmoid?: boolean; kind?: string; shift?: number[] }): Uint8Array {
  const b = new GraphBuilder();
  const L = new Layers(b, seededRandom(9));
  const x = b.input('image', 'float32', ['N', 3, 24, 24]);
  const dense = L.dense(L.flatten(L.globalAvgPool(L.relu(L.conv2d(x, 'conv', { filters: 4 }), 'relu'), 'gap'), 'flat'), 'fc', outputs);
  // logits set apart by a shift, so which outputs say yes is known
  const z = o.shift ? b.op('Add', [dense, b.initializer('shift', f32([outputs], o.shift))], {}, { name: 'shifted', outputs: ['shifted'] }) : dense;
  b.output(o.sigmoid ? b.op('Sigmoid', [z], {}, { name: 'attributes', outputs: ['attributes'] }) : z);
  const g = b.build();
  if (o.kind) g.metadata.set(METADATA_KEYS.output, o.kind);
  return encodeModel(g);
}

const ui = studioInChromium({ timeout: 30_000 });

async function choose(id: string, tab?: string): Promise<void> {
  const { page } = ui;
  await page.reload();
  await page.waitForSelector(`[data-testid="model-select"] option[value="${id}"]`, { state: 'attached' });
  await page.selectOption('[data-testid="model-select"]', id);
  await page.click(`[data-testid="image-${SAMPLE}"]`);
  await page.waitForSelector(`[data-testid="image-${SAMPLE}"][aria-pressed="true"]`);
  await page.waitForFunction(() => document.querySelector('[data-testid="prediction-bars"]')?.getAttribute('aria-busy') === 'false' && document.querySelectorAll('[data-testid="prediction-bars"] li .bar-value').length > 0);
  if (tab) await page.click(`[data-testid="tab-${tab}"]`);
}

describe('the words for a model\'s outputs (Chromium)', () => {
  it("asks a regression for its outputs' names, a classifier for its classes'", async () => {
    const { page } = ui;
    const regression = ui.studio.models.addUpload('landmarks.onnx', headModel(3, { kind: 'regression' }));
    await choose(regression.id);
    const describePanel = page.getByTestId('model-describe');
    if (!(await describePanel.evaluate((d) => (d as HTMLDetailsElement).open))) await page.locator('[data-testid="model-describe"] > summary').click();
    await expect.poll(() => describePanel.locator('label.field').first().innerText()).toMatch(/^Output names/);
    expect(await page.getByTestId('describe-labels').getAttribute('placeholder')).toBe('name of output 0\nname of output 1\nname of output 2');
    // the warning sends the user to the panel, not to a field it does not have
    const warnings = (await page.getByTestId('model-warning').allInnerTexts()).join('\n');
    expect(warnings).toMatch(/no output labels.*name them under "Describe this model"/);
    expect(warnings).not.toMatch(/Class names/);
    await saveScreenshot(page.getByTestId('model-panel'), 'regression-describe');

    const classifier = ui.studio.models.addUpload('classes.onnx', headModel(3, {}));
    await choose(classifier.id);
    if (!(await describePanel.evaluate((d) => (d as HTMLDetailsElement).open))) await page.locator('[data-testid="model-describe"] > summary').click();
    await expect.poll(() => describePanel.locator('label.field').first().innerText()).toMatch(/^Class names/);
    expect(await page.getByTestId('describe-labels').getAttribute('placeholder')).toBe('name of class 0\nname of class 1\nname of class 2');
    expect(ui.errors).toEqual([]);
  }, 120_000);
  it('explains a regression\'s output by its value, and a multi-label output by its own sigmoid', async () => {
    const { page } = ui;
    const regression = ui.studio.models.addUpload('landmarks.onnx', headModel(3, { kind: 'regression' }));
    await choose(regression.id, 'explain');
    const form = page.getByTestId('explain-form');
    await expect.poll(() => form.innerText()).toMatch(/Which input pixels does the value of an output depend on\?/);
    expect(await page.getByTestId('explain-subject').innerText()).toMatch(/output/);
    expect(await form.innerText()).toMatch(/Target output/);
    expect(await form.innerText()).not.toMatch(/Target class/);
    // no probability to pick: the score is the value
    expect(await page.getByTestId('explain-score-value').innerText()).toBe("score: the output's value");
    expect(await form.getByText('probability', { exact: true }).count()).toBe(0);
    await page.click('[data-testid="explain-run"]');
    const made = page.getByTestId('explain-made');
    await made.waitFor({ timeout: 60_000 });
    // "output 0 · value 0.0545", not "class 0 (output 0) · logit"
    expect(await made.innerText()).toMatch(/· output \d · value -?\d/);
    expect(await made.innerText()).not.toMatch(/class|logit/);
    const deletion = page.locator('[data-testid="curve-deletion"] canvas');
    await deletion.waitFor({ timeout: 60_000 });
    expect(await deletion.getAttribute('aria-label')).toBe('Deletion: value of the target output against fraction of pixels');
    // the channels behind it and the concepts say the same
    expect(await page.getByTestId('channels-panel').innerText()).toMatch(/carry the largest output's value/);
    expect(await page.getByTestId('channels-score-value').count()).toBe(1);
    expect(await page.getByTestId('channels-score').count()).toBe(0);
    expect(await page.getByTestId('concepts-panel').innerText()).toMatch(/names each concept with the values it gives the first outputs/);
    await ui.shot('regression-explained');

    const multi = ui.studio.models.addUpload('attributes.onnx', headModel(5, { sigmoid: true }));
    await choose(multi.id, 'explain');
    await page.click('[data-testid="explain-run"]');
    const curve = page.locator('[data-testid="curve-insertion"] canvas');
    await curve.waitFor({ timeout: 60_000 });
    await expect.poll(() => curve.getAttribute('aria-label')).toBe("Insertion: target's own probability (sigmoid) against fraction of pixels");
    const prob = page.locator('[data-testid="explain-form"] [title^="the output\'s own probability"]');
    expect(await prob.count()).toBe(1);
    await ui.shot('multi-label-explained');
    expect(ui.errors).toEqual([]);
  }, 180_000);
  it("lists a regression's outputs, in order, in the network strip and in Make images", async () => {
    const { page } = ui;
    const regression = ui.studio.models.addUpload('landmarks.onnx', headModel(3, { kind: 'regression' }));
    await choose(regression.id, 'network');
    // its first outputs in their order: none is a "top" one
    await expect.poll(() => page.getByTestId('network-output-order').innerText()).toBe('first 3');
    await page.click('[data-testid="tab-synth"]');
    expect(await page.getByTestId('synth-objective-kind').innerText()).toMatch(/^Objective\noutputs\n/);
    const selection = page.locator('.class-selection');
    expect(await selection.locator('> span').first().innerText()).toBe('Outputs');
    expect(await page.getByTestId('synth-classes-count').innerText()).toBe('all 3 outputs');
    await page.getByTestId('synth-classes').fill('0,2');
    expect(await page.getByTestId('synth-classes-count').innerText()).toMatch(/^2 outputs/);
    expect(await selection.innerHTML()).toContain('add an output by name');
    expect(await selection.innerText()).not.toMatch(/class/i);
    await saveScreenshot(page.getByTestId('synth-form'), 'regression-make-images');

    const classifier = ui.studio.models.addUpload('classes.onnx', headModel(3, {}));
    await choose(classifier.id, 'network');
    await expect.poll(() => page.getByTestId('network-output-order').innerText()).toBe('top 3');
    await page.click('[data-testid="tab-synth"]');
    expect(await page.getByTestId('synth-classes-count').innerText()).toBe('all 3 classes');
    expect(ui.errors).toEqual([]);
  }, 120_000);
  it('says before a run that an attack needs a single-label classifier', async () => {
    const { page } = ui;
    const attack = async (): Promise<void> => {
      await page.click('[data-testid="tab-synth"]');
      await page.click('[data-testid="synth-kind"] >> text=Adversarial');
    };
    for (const [name, bytes, kind] of [
      ['landmarks.onnx', headModel(3, { kind: 'regression' }), /is a regression \(its outputs are values\)/],
      ['attributes.onnx', headModel(5, { sigmoid: true }), /is a multi-label head \(independent yes\/no outputs\)/],
    ] as const) {
      const upload = ui.studio.models.addUpload(name, bytes);
      await choose(upload.id);
      await attack();
      const refused = page.getByTestId('synth-attack-refused');
      await expect.poll(() => refused.count()).toBe(1);
      expect(await refused.innerText()).toMatch(kind);
      expect(await refused.innerText()).toMatch(/set its Outputs to single-label under "Describe this model"/);
      expect(await page.getByTestId('synth-run').isDisabled()).toBe(true);
    }
    await saveScreenshot(page.getByTestId('synth-form'), 'multi-label-attack-refused');
    const classifier = ui.studio.models.addUpload('classes.onnx', headModel(3, {}));
    await choose(classifier.id);
    await attack();
    await expect.poll(() => page.getByTestId('synth-run').isDisabled()).toBe(false);
    expect(await page.getByTestId('synth-attack-refused').count()).toBe(0);
    expect(ui.errors).toEqual([]);
  }, 120_000);
  it("marks every yes of a multi-label head, each by its own sigmoid", async () => {
    const { page } = ui;
    // logits about 3, 2, -3, 1, -2: three outputs say yes
    const multi = ui.studio.models.addUpload('attributes.onnx', headModel(5, { sigmoid: true, shift: [3, 2, -3, 1, -2] }));
    await choose(multi.id);
    const res = await fetch(`${ui.base}/api/predict`, { method: 'POST', headers: { 'content-type': 'application/json', [TOKEN_HEADER]: ui.studio.access.token }, body: JSON.stringify({ model: multi.id, image: SAMPLE, k: 5 }) });
    const top = ((await res.json()) as { top: { label: string; probability: number }[] }).top;
    const yes = top.filter((t) => t.probability >= 0.5).map((t) => t.label);
    expect(yes).toHaveLength(3);
    await expect.poll(() => page.locator('[data-testid="prediction-bars"] li.top1 .bar-label').allInnerTexts()).toEqual(yes);
    expect(await page.getByTestId('prediction-multi-label-note').innerText()).toMatch(/each one's probability is its own sigmoid/);
    await saveScreenshot(page.getByTestId('prediction-panel'), 'multi-label-yes');
    // a single-label classifier keeps its one top class
    const classifier = ui.studio.models.addUpload('classes.onnx', headModel(5, { shift: [3, 2, -3, 1, -2] }));
    await choose(classifier.id);
    await expect.poll(() => page.locator('[data-testid="prediction-bars"] li.top1').count()).toBe(1);
    expect(await page.getByTestId('prediction-multi-label-note').count()).toBe(0);
    expect(ui.errors).toEqual([]);
  }, 120_000);
});
