// `convlens featviz` on a multi-label head (models/output-kind.ts): an image made to raise one
// output is captioned by that output's own sigmoid, yes from 0.5, not by the top output ("class 11
// 56.2%" under an image made for class 24); the captions are in summary.json as in result.png.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { convlens } from '../support/cli.js';
import { tempFolder } from '../support/temp-folder.js';

const tmp = tempFolder('convlens-featviz-caption-');

interface Summary { images: { label: string; caption?: string; prediction: { index: number; logits: number[] } }[] }

async function featviz(out: string, ...args: string[]): Promise<Summary> {
  const r = await convlens('featviz', '--steps', '2', '--out', join(tmp, out), ...args);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(readFileSync(join(tmp, out, 'summary.json'), 'utf8')) as Summary;
}

const ownSigmoid = (logit: number): string => {
  const p = 1 / (1 + Math.exp(-logit));
  return `${p >= 0.5 ? 'yes' : 'no'}: ${(100 * p).toFixed(1)}%`;
};

describe('featviz captions of a multi-label head', () => {
  it("follow the output a class objective raises, by index or label, and each class of class:*", async () => {
    for (const objective of ['class:3', 'logit:Dress']) {
      const s = await featviz(objective.replace(':', '-'), '--output-kind', 'multi-label', '--objective', objective);
      const image = s.images[0]!;
      expect(image.caption, objective).toBe(ownSigmoid(image.prediction.logits[3]!));
    }
    const each = await featviz('classes', '--output-kind', 'multi-label', '--classes', '1,7');
    expect(each.images.map((i) => i.caption)).toEqual([ownSigmoid(each.images[0]!.prediction.logits[1]!), ownSigmoid(each.images[1]!.prediction.logits[7]!)]);
  }, 120_000);

  it('stay the prediction for a single-label model and for objectives that raise no one output', async () => {
    const single = await featviz('single', '--objective', 'class:3');
    expect(single.images[0]!.caption).toMatch(/^\S.* \d+\.\d%$/);
    expect(single.images[0]!.caption).not.toMatch(/^(yes|no):/);
    const summed = await featviz('summed', '--output-kind', 'multi-label', '--objective', 'class:3+class:4');
    expect(summed.images[0]!.caption).not.toMatch(/^(yes|no):/);
  }, 120_000);
});
