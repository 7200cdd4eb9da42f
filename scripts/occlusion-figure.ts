// docs/figures/occlusion/modes.png: occlusion maps of SqueezeNet 1.1 on photos by
// brute force, incremental inference (exact) and the approximate mode, each captioned with its
// time and its relative L2 distance from brute force.
//
//   npx tsx scripts/occlusion-figure.ts
import { Engine } from '../src/engine/runtime/engine.js';
import { nodeBackend } from '../src/engine/runtime/node.js';
import { writeFileAtomic } from '../src/io/files.js';
import { loadInputs } from '../src/io/inputs.js';
import { explain, type Attribution, type MethodParams } from '../src/methods/explain/index.js';
import { loadBuiltinModel } from '../src/models/load.js';
import { renderAttribution } from '../src/methods/explain/display.js';
import { gridFigure, type GridRow } from '../src/render/grid.js';
import { resizeImage } from '../src/render/heatmap.js';

const PHOTOS = ['chelsea.png', 'coffee.png', 'rocket.jpg'].map((f) => `samples/photos/${f}`);
const OUT = 'docs/figures/occlusion/modes.png';

const modes: { title: string; occlusion: NonNullable<MethodParams['occlusion']> }[] = [
  { title: 'Brute force', occlusion: { mode: 'brute-force' } },
  { title: 'Incremental (exact)', occlusion: { mode: 'incremental' } },
  { title: 'Approximate\ntau 0.75, drill-down 0.5', occlusion: { mode: 'approximate' } },
  { title: 'Approximate\ntau 0.75, drill-down 0.25', occlusion: { mode: 'approximate', drillDown: 0.25 } },
];

function relativeL2(a: Attribution, b: Attribution): number {
  const p = a.raw.data as Float32Array;
  const q = b.raw.data as Float32Array;
  let d = 0;
  let n = 0;
  for (let i = 0; i < p.length; i++) {
    d += (p[i]! - q[i]!) ** 2;
    n += q[i]! ** 2;
  }
  return Math.sqrt(d / n);
}

const engine = new Engine(nodeBackend(), { threads: 2 });
const model = loadBuiltinModel(engine, 'squeezenet'); // its file carries the ImageNet labels
const rows: GridRow[] = [];
for (const photo of PHOTOS) {
  const { batch, items } = await loadInputs([photo], model);
  const display = items[0]!.display;
  const cells = [resizeImage(display, 224, 224, 'nearest')];
  const captions: (string | undefined)[] = [undefined];
  let reference: Attribution | undefined;
  let label = '';
  for (const m of modes) {
    const occlusion = { window: 16, stride: 8, ...m.occlusion };
    await explain(model, batch, { methods: ['occlusion'], occlusion }); // compile first, time the second run
    const e = await explain(model, batch, { methods: ['occlusion'], occlusion });
    const a = e.attributions[0]!;
    reference ??= a;
    label = `${e.images[0]!.predicted.label} (${((e.images[0]!.predicted.probability ?? 0) * 100).toFixed(0)}%)`;
    cells.push(renderAttribution(a, 0, display, { size: 224 }).image);
    captions.push(`${(a.timeMs / 1000).toFixed(1)} s, L2 error ${relativeL2(a, reference).toFixed(3)}`);
  }
  rows.push({ lines: [photo.replace(/^.*\//, ''), label], cells, captions });
}
await engine.dispose();
writeFileAtomic(
  OUT,
  await gridFigure({
    title: 'SqueezeNet 1.1: occlusion, 16x16 window, stride 8 (729 windows), zero fill, logit of the predicted class',
    columns: ['Input', ...modes.map((m) => m.title)],
    rows,
    legends: [{ colormap: 'rdbu', label: 'signed maps', low: 'negative', middle: '0', high: 'positive' }],
    notes: ['Each tile uses its own symmetric range. Captions: time of the call on a shared 2-core machine, and ||map - brute force|| / ||brute force||.'],
  }),
);
console.log(`wrote ${OUT}`);
