// A feature visualization job shows its image while it optimizes: each frame it keeps for the
// strip and the GIF goes out once, as a progress event of its own carrying a PNG (`preview`), in
// step order and before the result; events between frames carry none. Until 2026-12-07 the page
// had only a spinner and step counts until the result.
import { decode as decodePng } from 'fast-png';
import { describe, expect, it } from 'vitest';
import type { Progress } from '../../src/engine/jobs.js';
import { throttleProgress } from '../../src/interfaces/server/jobs.js';
import type { TaskContext } from '../../src/interfaces/server/tasks/context.js';
import { previewSent, synthesizeTask, type SynthPreview } from '../../src/interfaces/server/tasks/synthesize.js';
import { loadBuiltinModel } from '../../src/models/load.js';
import { inProcessStudio, jobEvents } from './page-inject.js';

const { inject, engine } = inProcessStudio();

interface Event {
  type: string;
  progress?: { done: number; total: number; preview?: { step: number; png: string } };
  result?: { frames: { step: number; png: string }[] };
}

async function featvizEvents(params: Record<string, unknown>): Promise<Event[]> {
  const r = await inject({ method: 'POST', url: '/api/synthesize/featviz', payload: { model: 'builtin', params } });
  expect(r.statusCode, r.body).toBe(202);
  return jobEvents<Event>(inject, r.json().job);
}

describe('feature visualization previews', () => {
  it('sends each kept frame once, as a PNG, in step order and before the result', async () => {
    const events = await featvizEvents({ objective: 'class:3', steps: 40, frames: 5 });
    const last = events.at(-1)!;
    expect(last.type).toBe('result');
    const kept = last.result!.frames.map((f) => f.step);
    expect(kept.length).toBe(5);
    const previews = events.filter((e) => e.progress?.preview).map((e) => e.progress!.preview!);
    // every kept frame, once each, in order: no more events than frames, none after the result
    expect(previews.map((p) => p.step)).toEqual(kept);
    // the strip's own pictures (the first image, at most 160 px), sent as they were taken
    expect(previews.map((p) => p.png)).toEqual(last.result!.frames.map((f) => f.png));
    const png = decodePng(Buffer.from(previews[0]!.png, 'base64'));
    expect(Math.max(png.width, png.height)).toBeLessThanOrEqual(160);
    // the image changes as it is optimized
    expect(previews[0]!.png).not.toBe(previews.at(-1)!.png);
    // the progress between frames stays plain, and a preview's counts are the job's, not zero
    expect(events.filter((e) => e.type === 'progress' && !e.progress?.preview).length).toBeGreaterThan(0);
    expect(events.find((e) => e.progress?.preview && e.progress.preview.step > 0)!.progress!.total).toBeGreaterThan(0);
  });

  it('sends none when no frames are kept', async () => {
    const events = await featvizEvents({ objective: 'class:3', steps: 10, frames: 0 });
    expect(events.at(-1)!.type).toBe('result');
    expect(events.filter((e) => e.progress?.preview)).toEqual([]);
  });
});

// DeepDream, inversion and style transfer run the same ascent loop: until 2026-12-07 only
// feature visualization sent previews, and the page showed a spinner for the others.
describe('previews of the other ascent methods', () => {
  const previewsOf = async (kind: string, payload: Record<string, unknown>): Promise<{ events: Event[]; previews: { step: number; png: string }[] }> => {
    const r = await inject({ method: 'POST', url: `/api/synthesize/${kind}`, payload: { model: 'builtin', ...payload } });
    expect(r.statusCode, r.body).toBe(202);
    const events = await jobEvents<Event>(inject, r.json().job);
    expect(events.at(-1)!.type, JSON.stringify(events.at(-1))).toBe('result');
    return { events, previews: events.filter((e) => e.progress?.preview).map((e) => e.progress!.preview!) };
  };
  const sides = (previews: { png: string }[]): number[] => previews.map((p) => {
    const img = decodePng(Buffer.from(p.png, 'base64'));
    return Math.max(img.width, img.height);
  });

  it.each([
    ['dream', { image: 'photos/coffee.png', params: { octaves: 3, steps: 6, maxSide: 200 } }, 3 * 6],
    ['invert', { image: 'photos/coffee.png', params: { steps: 12 } }, undefined],
    ['style', { image: 'photos/coffee.png', styles: [{ image: 'textures/brick.png' }], params: { steps: 8, maxSide: 48, backbone: 'texture' } }, 8],
  ] as const)('%s sends the image as it is optimized, small, in rising steps', async (kind, payload, totalSteps) => {
    const { events, previews } = await previewsOf(kind, payload);
    expect(previews.length, 'more than a start and an end').toBeGreaterThan(2);
    expect(previews.length).toBeLessThanOrEqual(32);
    // the job's steps (over octaves and layers), so the page's "step k of n" rises with the bar
    const steps = previews.map((p) => p.step);
    expect(steps).toEqual([...steps].sort((a, b) => a - b));
    // every preview carries the job's step count, the one at step 0 too (it comes before any progress)
    const totals = new Set(events.filter((e) => e.progress?.preview).map((e) => e.progress!.total));
    expect(totals.size).toBe(1);
    const [total] = totals;
    if (totalSteps !== undefined) expect(total).toBe(totalSteps);
    expect(Math.max(...steps)).toBe(total);
    for (const side of sides(previews)) expect(side).toBeLessThanOrEqual(160);
    expect(new Set(previews.map((p) => p.png)).size, 'the image changes').toBeGreaterThan(1);
  });
});

// PGD runs its steps as the others do; until 2026-12-07 it sent none, and the page showed a
// spinner and a step count for its whole run (40 steps of SqueezeNet: half a minute and more).
describe('adversarial (PGD) previews', () => {
  const attackEvents = async (params: Record<string, unknown>): Promise<{ events: Event[]; previews: SynthPreview[] }> => {
    const r = await inject({ method: 'POST', url: '/api/synthesize/adversarial', payload: { model: 'builtin', image: 'fashion-mnist/bag-test18.png', params } });
    expect(r.statusCode, r.body).toBe(202);
    const events = await jobEvents<Event>(inject, r.json().job);
    const last = events.at(-1)!;
    expect(last.type, JSON.stringify(last)).toBe('result');
    return { events, previews: events.filter((e) => e.progress?.preview).map((e) => e.progress!.preview as SynthPreview) };
  };

  it('sends the amplified perturbation as it grows, in rising steps up to the last, each saying what it is', async () => {
    const steps = 12;
    const { events, previews } = await attackEvents({ method: 'pgd', norm: 'linf', epsilon: 8 / 255, steps });
    expect(previews.length, 'more than a start and an end').toBeGreaterThan(2);
    const at = previews.map((p) => p.step);
    expect(at).toEqual([...at].sort((a, b) => a - b));
    expect(at[0]).toBe(0);
    expect(at.at(-1)).toBe(steps);
    for (const e of events.filter((e) => e.progress?.preview)) expect(e.progress!.total).toBe(steps);
    // L∞ is shown at the budget's scale: 0.5 / (8/255) = ×16 in every frame
    expect(new Set(previews.map((p) => p.label))).toEqual(new Set(['perturbation, amplified ×16']));
    // the perturbation starts at nothing (flat grey) and grows
    const spread = (png: string): number => {
      const img = decodePng(Buffer.from(png, 'base64'));
      const v = Array.from(img.data as Uint8Array);
      return Math.max(...v) - Math.min(...v);
    };
    expect(spread(previews[0]!.png)).toBe(0);
    expect(spread(previews.at(-1)!.png)).toBeGreaterThan(100);
    for (const p of previews) {
      const img = decodePng(Buffer.from(p.png, 'base64'));
      expect(Math.max(img.width, img.height)).toBeLessThanOrEqual(160);
    }
  });

  it('FGSM, one step, sends its start and its step', async () => {
    const { previews } = await attackEvents({ method: 'fgsm', epsilon: 4 / 255 });
    expect(previews.map((p) => p.step)).toEqual([0, 1]);
  });
});

describe('style transfer previews', () => {
  it("are the strip's frames, in the content's colours when it keeps them", async () => {
    const r = await inject({ method: 'POST', url: '/api/synthesize/style', payload: { model: 'builtin', image: 'photos/coffee.png', styles: [{ image: 'textures/brick.png' }], params: { steps: 8, maxSide: 48, backbone: 'texture', keepColors: true } } });
    expect(r.statusCode, r.body).toBe(202);
    const events = await jobEvents<Event>(inject, r.json().job);
    const last = events.at(-1)!;
    expect(last.type).toBe('result');
    const previews = events.filter((e) => e.progress?.preview).map((e) => e.progress!.preview!);
    expect(previews.map((p) => p.step)).toEqual(last.result!.frames.map((f) => f.step));
    expect(previews.map((p) => p.png)).toEqual(last.result!.frames.map((f) => f.png));
  });
});

describe('the preview budget', () => {
  it.each([
    [6, 6],
    [32, 32],
    [33, 32],
    [600, 32],
  ])('of %i frames sends %i, evenly spaced, the last always', (expected, sent) => {
    const chosen = Array.from({ length: expected }, (_, i) => i).filter((i) => previewSent(i, expected));
    expect(chosen.length).toBe(sent);
    expect(chosen.at(-1)).toBe(expected - 1);
    // no gap more than twice another: spread over the run, not bunched at its start
    const gaps = chosen.slice(1).map((v, i) => v - chosen[i]!);
    if (gaps.length) expect(Math.max(...gaps)).toBeLessThanOrEqual(2 * Math.max(1, Math.min(...gaps)));
  });
});

describe('the progress throttle', () => {
  it('lets a new picture through at a step already shown (the next octave or layer starts where the last ended)', () => {
    const sent: unknown[] = [];
    const onProgress = throttleProgress((p) => sent.push((p as { preview?: unknown }).preview));
    const at = (png: string): Progress => ({ done: 6, total: 18, phase: 'octave', preview: { step: 6, png } }) as Progress;
    onProgress(at('end of octave 1'));
    onProgress(at('end of octave 1'));
    onProgress(at('start of octave 2'));
    expect(sent.map((p) => (p as { png: string }).png)).toEqual(['end of octave 1', 'start of octave 2']);
  });
});

// class:* runs in batches (as many classes as the memory plan lets optimize together). Until
// 2026-12-07 only the first batch kept frames, so the page's image stopped at the first batch's
// last frame for the rest of the run (99 of 100 batches on SqueezeNet).
describe('class:* in batches', () => {
  it("sends every batch's frames, their steps counted over the batches", async () => {
    const model = loadBuiltinModel(engine);
    const events: Progress[] = [];
    const noImages = (): never => {
      throw new Error('no images in this test');
    };
    const ctx: TaskContext = { engine, files: undefined as never, model: () => model, image: noImages, input: noImages, job: { onProgress: (p) => events.push(p) }, budgetBytes: 1 << 30 };
    const steps = 8;
    const r = await synthesizeTask(ctx, { kind: 'featviz', params: { objective: 'class:*', steps, frames: 3 }, maxBatch: 3, classes: [0, 1, 2, 3, 4, 5, 6] });
    const previews = events.flatMap((e) => {
      const preview = (e as { preview?: SynthPreview }).preview;
      return preview ? [preview] : [];
    });
    // seven classes three at a time: batches of 3, 3 and 1, each keeping frames at steps 0, 4 and 8
    const batches = 3;
    expect(previews.map((p) => p.step)).toEqual(Array.from({ length: batches }, (_, b) => [0, 4, 8].map((s) => b * steps + s)).flat());
    expect(new Set(events.filter((e) => (e as { preview?: unknown }).preview).map((e) => e.total))).toEqual(new Set([batches * steps]));
    // the result's strip is still the first batch's
    expect(r.frames.map((f) => f.step)).toEqual([0, 4, 8]);
    expect(previews.slice(0, 3).map((p) => p.png)).toEqual(r.frames.map((f) => f.png));
    // the last batch's image is another class's, not the first batch's again
    expect(previews.at(-1)!.png).not.toBe(previews[2]!.png);
    // and each preview says whose it is: the first class of its batch (until 2026-12-07 the page
    // showed a picture and a step number, and only the result said which class was which)
    const named = (k: number): string => `class ${k} (${model.labels[k]})`;
    expect(previews.map((p) => p.label)).toEqual([...Array(3).fill(`${named(0)}, the first of 3 in this batch`), ...Array(3).fill(`${named(3)}, the first of 3 in this batch`), ...Array(3).fill(named(6))]);
  });

  it('names the class of a lone picked class too (the page\'s default on a model of many classes)', async () => {
    const events = await featvizEvents({ objective: 'class:*', classes: '4', steps: 6, frames: 2 });
    expect(events.at(-1)!.type).toBe('result');
    const labels = events.filter((e) => e.progress?.preview).map((e) => (e.progress!.preview as SynthPreview).label);
    expect(labels).toEqual([`class 4 (${loadBuiltinModel(engine).labels[4]})`, `class 4 (${loadBuiltinModel(engine).labels[4]})`]);
  });

  it('leaves an objective of its own unlabelled: the form says what it is', async () => {
    const events = await featvizEvents({ objective: 'class:3', steps: 6, frames: 2 });
    const previews = events.filter((e) => e.progress?.preview).map((e) => e.progress!.preview as SynthPreview);
    expect(previews.length).toBe(2);
    expect(previews.map((p) => p.label)).toEqual([undefined, undefined]);
  });
});
