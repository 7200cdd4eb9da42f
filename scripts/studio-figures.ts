// Copies the studio screenshots the README shows from the end-to-end tests' screenshots into
// docs/figures/studio/, scaled down and palette-compressed. The tests save them only when asked:
//   CONVLENS_TEST_SHOTS=test-artifacts/shots npx vitest run test/studio/e2e.test.ts test/studio/squeezenet-e2e.test.ts
//   npx tsx scripts/studio-figures.ts
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';

const root = join(import.meta.dirname, '..');
const from = join(root, 'test-artifacts', 'shots');
const to = join(root, 'docs', 'figures', 'studio');
const SHOTS: Record<string, string> = {
  'squeezenet-e2e/squeezenet-inside-the-network.png': 'inside-the-network.png',
  'e2e/06b-explained-in-browser.png': 'explanations.png',
  'squeezenet-e2e/squeezenet-explanations.png': 'squeezenet-explanations.png',
  'squeezenet-e2e/squeezenet-dataset.png': 'squeezenet-dataset.png',
};

mkdirSync(to, { recursive: true });
for (const [shot, name] of Object.entries(SHOTS)) {
  const info = await sharp(join(from, shot)).resize({ width: 1200 }).png({ palette: true, quality: 90, effort: 10 }).toFile(join(to, name));
  console.log(`${name}: ${info.width}x${info.height}, ${Math.round(info.size / 1024)} kB`);
}
