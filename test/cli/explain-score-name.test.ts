// What summary.json calls the score on a regression (models/output-kind.ts): the output's value,
// "value", where it said "logit" (a regression has no softmax before which it could be a logit);
// for a classifier the score keeps its name.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { convlens } from '../support/cli.js';
import { tempFolder } from '../support/temp-folder.js';

const tmp = tempFolder('convlens-explain-score-');

interface Scores { score: string; faithfulness: { score: string; road: { score: string }; infidelity: { score: string } } }

async function scores(name: string, ...args: string[]): Promise<Scores> {
  const out = join(tmp, name);
  const r = await convlens('explain', 'samples/fashion-mnist/bag-test18.png', '--method', 'saliency', '--faithfulness', '--curve-steps', '4', '--no-images', '-q', '--out', out, ...args);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as Scores;
}

describe('explain summary: the score by its name', () => {
  it("calls a regression's score its value, every curve's too, and a classifier's a logit or a probability", async () => {
    const regression = await scores('regression', '--output-kind', 'regression');
    expect([regression.score, regression.faithfulness.score, regression.faithfulness.road.score, regression.faithfulness.infidelity.score]).toEqual(['value', 'value', 'value', 'value']);
    const classifier = await scores('classifier');
    expect([classifier.score, classifier.faithfulness.score, classifier.faithfulness.road.score, classifier.faithfulness.infidelity.score]).toEqual(['logit', 'prob', 'prob', 'logit']);
  }, 120_000);
});
