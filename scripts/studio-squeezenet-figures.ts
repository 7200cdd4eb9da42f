// Screenshots of "Make images" on the built-in SqueezeNet, with runs long enough to show what the
// methods make (the end-to-end tests run a few steps only): class visualizations of two classes
// picked by name, and style transfer of the cat with SqueezeNet as the feature network. Needs the
// built page (npm run build) and Debian's chromium. Run: npx tsx scripts/studio-squeezenet-figures.ts
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { Engine } from '../src/engine/runtime/engine.js';
import { nodeBackend } from '../src/engine/runtime/node.js';
import { createStudio } from '../src/interfaces/server/app.js';
import { openStudioPage } from '../test/studio/browser.js';

const root = join(import.meta.dirname, '..');
const to = join(root, 'docs', 'figures', 'studio');
const tmp = mkdtempSync(join(tmpdir(), 'convlens-figures-'));
const engine = new Engine(nodeBackend(), { threads: 2 });
const studio = await createStudio({ engine, uploadsDir: join(tmp, 'uploads') });
const ui = await openStudioPage(studio, { timeout: 600_000 });
const { page } = ui;

async function save(selector: string, name: string): Promise<void> {
  // the whole page clipped to the element: an element screenshot scrolls, and the sticky header covers its top
  await page.evaluate(() => window.scrollTo(0, 0));
  const box = await page.locator(selector).boundingBox();
  if (!box) throw new Error(`${selector} is not on the page`);
  const shot = await page.screenshot({ fullPage: true, clip: box });
  const info = await sharp(shot).resize({ width: 1100, withoutEnlargement: true }).png({ palette: true, quality: 90, effort: 10 }).toFile(join(to, name));
  console.log(`${name}: ${info.width}x${info.height}, ${Math.round(info.size / 1024)} kB`);
}

try {
  mkdirSync(to, { recursive: true });
  await page.waitForSelector('[data-testid="model-select"] option[value="squeezenet"]', { state: 'attached' });
  await page.selectOption('[data-testid="model-select"]', 'squeezenet');
  await page.click('[data-testid="image-photos/chelsea.png"]');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="prediction-bars"] li').length === 5);
  await page.click('[data-testid="tab-synth"]');

  // Two classes picked by name, 256 steps in Lucid's Fourier parameterization.
  await page.click('[data-testid="synth-kind"] button:has-text("Feature visualization")');
  await page.click('[data-testid="synth-objective-kind"] button:has-text("classes")');
  await page.fill('[data-testid="synth-classes"]', '');
  for (const name of ['espresso', 'tabby']) {
    await page.click('[data-testid="synth-classes-add"]');
    await page.keyboard.type(name);
    await page.keyboard.press('Enter');
  }
  await page.fill('[data-testid="synth-steps"]', '256');
  await page.waitForFunction(() => /^2 images × 256 steps/.test(document.querySelector('[data-testid="synth-estimate"]')?.textContent ?? ''));
  await page.click('[data-testid="synth-run"]');
  await page.waitForSelector('[data-testid="synth-image-1"]');
  await save('main', 'squeezenet-make-images.png');

  // Style transfer: the cat in the brick texture's style, SqueezeNet's features (the form's 100 steps).
  await page.click('[data-testid="synth-kind"] button:has-text("Style / texture")');
  await page.selectOption('[data-testid="synth-content"]', 'photos/chelsea.png');
  await page.selectOption('[data-testid="synth-style"]', 'textures/brick.png');
  await page.click('[data-testid="synth-run"]');
  await page.waitForSelector('[data-testid="synth-made"]:has-text("feature network squeezenet")');
  await save('[data-testid="synth-result"]', 'squeezenet-style.png');
  if (ui.errors.length) console.error(`page errors: ${ui.errors.join('; ')}`);
} finally {
  await ui.close();
  await studio.app.close();
  await engine.dispose();
  rmSync(tmp, { recursive: true, force: true });
}
