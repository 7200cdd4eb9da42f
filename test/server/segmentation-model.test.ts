// A segmentation net uploaded to the studio: its per-pixel class map is scored by class means at
// load (models/class-map.ts), so the page lists its classes, predicts among them and explains
// them; the load note names the way to one pixel without the CLI's flag; and the unit at a pixel
// of the map is explained as the CLI's --unit map@row,col.
import { describe, expect, it } from 'vitest';
import { encodeModel } from '../../src/engine/onnx/codec.js';
import { SEG_CLASSES, SEG_HEIGHT, SEG_WIDTH, segNet } from '../support/segmentation-net.js';
import { inProcessStudio, jobResult, multipart } from './page-inject.js';

const { inject } = inProcessStudio();

interface Result {
  unit?: { label: string; at?: number[] };
  predicted: { index: number; label: string };
  maps: { method: string; values: { dims: number[] } }[];
}

const explained = (payload: Record<string, unknown>): Promise<Result> => jobResult<Result>(inject, '/api/explain', payload);

describe('a segmentation net in the studio', () => {
  it('lists its classes, predicts among them, and explains a class and a pixel', async () => {
    const up = await inject({ method: 'POST', url: '/api/models', ...multipart('seg.onnx', encodeModel(segNet({ softmax: true }))) });
    expect(up.statusCode, up.body).toBe(201);
    const { id } = up.json() as { id: string };
    const listed = (await inject({ method: 'GET', url: '/api/models' })).json().models.find((m: { id: string }) => m.id === id) as { labels: string[]; warnings: string[]; defaultLayer: string; channelsLayer: string };
    expect(listed.labels).toHaveLength(SEG_CLASSES);
    // Grad-CAM and the Channels panel start at the features the head reads (here the classifier
    // conv's input), as pytorch-grad-cam's segmentation tutorial: not at the class map, where
    // Grad-CAM drew the class's own logit map and channel k is class k (every channel method gave
    // the target's channel 100%)
    expect(listed.defaultLayer).toBe('relu');
    expect(listed.channelsLayer).toBe('relu');
    const note = listed.warnings.find((w) => w.includes('per-pixel class map'));
    expect(note).toMatch(/"classifier@3,4" for row 3, column 4\)$/);
    expect(note).not.toMatch(/--unit|CLI/);

    const p = await inject({ method: 'POST', url: '/api/predict', payload: { model: id, image: 'photos/coffee.png', k: SEG_CLASSES } });
    expect(p.statusCode, p.body).toBe(200);
    const top = p.json().top as { label: string; probability: number }[];
    expect(top.map((t) => t.label).sort()).toEqual(listed.labels.slice().sort());
    expect(top.reduce((a, t) => a + t.probability, 0)).toBeCloseTo(1, 4);

    const cls = await explained({ model: id, image: 'photos/coffee.png', methods: ['saliency', 'gradcam'] });
    expect(cls.predicted.index).toBeLessThan(SEG_CLASSES);
    for (const m of cls.maps) expect(m.values.dims.slice(-2), m.method).toEqual([SEG_HEIGHT, SEG_WIDTH]);
    const pixel = await explained({ model: id, image: 'photos/coffee.png', methods: ['saliency'], unit: { layer: 'classifier', at: [3, 4] } });
    expect(pixel.unit).toMatchObject({ label: 'classifier', at: [3, 4] });
    expect(pixel.predicted.label).toMatch(/^classifier:[0-4]@3,4$/);
  });
});
