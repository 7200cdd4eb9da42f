// docs/figures/explain/segments-squeezenet.png: the SLIC superpixels of two photos and the
// feature-ablation, KernelSHAP and LIME maps over them at the defaults, beside occlusion, on the
// built-in SqueezeNet 1.1; each tile captioned with its forward passes and time.
//
//   npx tsx scripts/segments-figure.ts
import { Engine } from '../src/engine/runtime/engine.js';
import { nodeBackend } from '../src/engine/runtime/node.js';
import { writeFileAtomic } from '../src/io/files.js';
import { loadInputs } from '../src/io/inputs.js';
import type { RawImage } from '../src/io/image.js';
import { explain, segmentImage, type Segmentation } from '../src/methods/explain/index.js';
import { renderAttribution } from '../src/methods/explain/display.js';
import { loadModel } from '../src/node.js';
import { gridFigure, type GridRow } from '../src/render/grid.js';

const PHOTOS = ['chelsea.png', 'coffee.png'].map((f) => `samples/photos/${f}`);
const OUT = 'docs/figures/explain/segments-squeezenet.png';
const METHODS = ['feature-ablation', 'kernel-shap', 'lime', 'occlusion'] as const;
const TITLES = ['Feature ablation', 'KernelSHAP\n256 coalitions', 'LIME\n256 coalitions', 'Occlusion\n(for comparison)'];

/** The photo with each segment's border drawn in yellow. */
function withBorders(image: RawImage, s: Segmentation): RawImage {
  const data = Uint8Array.from(image.data);
  for (let y = 0; y < s.height; y++) {
    for (let x = 0; x < s.width; x++) {
      const p = y * s.width + x;
      const border = (x + 1 < s.width && s.labels[p] !== s.labels[p + 1]) || (y + 1 < s.height && s.labels[p] !== s.labels[p + s.width]);
      if (border) data.set([255, 230, 0], p * 3);
    }
  }
  return { ...image, data };
}

const engine = new Engine(nodeBackend(), { threads: 2 });
const model = loadModel('squeezenet', engine);
const rows: GridRow[] = [];
for (const photo of PHOTOS) {
  const { batch, items } = await loadInputs([photo], model);
  const display = items[0]!.display;
  const segments = segmentImage(display, {});
  const cells: RawImage[] = [withBorders(display, segments)];
  const captions: (string | undefined)[] = [`${segments.count} SLIC segments`];
  let label = '';
  for (const method of METHODS) {
    const e = await explain(model, batch, { methods: [method] });
    const a = e.attributions[0]!;
    label = `${e.images[0]!.predicted.label} (${((e.images[0]!.predicted.probability ?? 0) * 100).toFixed(0)}%)`;
    cells.push(renderAttribution(a, 0, display, { size: 224 }).image);
    const passes = method === 'occlusion' ? (a.params['windows'] as number) + 1 : (a.params['forwardPasses'] as number[])[0]!;
    captions.push(method === 'occlusion' ? `${passes - 1} windows, ${(a.timeMs / 1000).toFixed(1)} s` : `${passes} passes, ${(a.timeMs / 1000).toFixed(1)} s`);
  }
  rows.push({ lines: [photo.replace(/^.*\//, ''), label], cells, captions });
}
await engine.dispose();
writeFileAtomic(
  OUT,
  await gridFigure({
    title: 'SqueezeNet 1.1: segment attributions at the defaults (50 SLIC segments asked, compactness 10, zero baseline), logit of the predicted class',
    columns: ['SLIC segments', ...TITLES],
    rows,
    legends: [{ colormap: 'rdbu', label: 'signed maps', low: 'negative', middle: '0', high: 'positive' }],
    notes: ['Each tile uses its own symmetric range. Captions: forward passes per image and time of the call on a shared 2-core machine (occlusion: its default 32x32 window, stride 16, 169 windows, by incremental inference, which recomputes only what each window changes).'],
  }),
);
console.log(`wrote ${OUT}`);
