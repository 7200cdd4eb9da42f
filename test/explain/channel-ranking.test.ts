// The studio's channel ranking answer (methods/explain/channel-ranking.ts), which the server's
// job and the page's engine worker both build: top channels in the ranking's order, shares, maps
// shrunk by block means past CHANNEL_MAP_SIDE and copied out of the layer, ablation's maps the
// activations, the studio's words in hints, and the request's refusals.
import { describe, expect, it } from 'vitest';
import { ConvLensError } from '../../src/engine/errors.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { CHANNEL_MAP_SIDE, channelShare, checkChannelsOptions, shapeChannels, shrinkMap } from '../../src/methods/explain/channel-ranking.js';
import type { LayerAttribution } from '../../src/methods/explain/layer-attribution.js';

const f32 = (dims: number[], data: Float32Array): Tensor => ({ dtype: 'float32', dims, data });

/** A layer of `c` channels of h x w for one image: channel k's attribution is k+1 at every position, its activation -(k+1). */
function attribution(c: number, h: number, w: number, totalsOf: (k: number) => number): LayerAttribution {
  const attr = new Float32Array(c * h * w);
  const acts = new Float32Array(c * h * w);
  for (let k = 0; k < c; k++) for (let i = 0; i < h * w; i++) {
    attr[k * h * w + i] = k + 1;
    acts[k * h * w + i] = -(k + 1);
  }
  const totals = Float32Array.from({ length: c }, (_, k) => totalsOf(k));
  const ranked = Int32Array.from([...totals.keys()].sort((a, b) => totals[b]! - totals[a]!));
  const result = (method: 'deeplift' | 'ablation') => ({ method, attribution: f32([1, c, h, w], attr), channels: f32([1, c], totals), ranked: [ranked], params: { baseline: 'black' }, notes: ['the sum is off by 3%: raise the steps (CLI: --steps)'] });
  return {
    skipped: [{ method: 'integrated-gradients', reason: 'another branch bypasses it', hint: 'Pick a layer every path runs through (CLI: --layer).' }],
    layer: 'feat_out',
    label: 'feat',
    shape: [c, h, w],
    targets: Int32Array.from([2]),
    scores: Float64Array.from([4.5]),
    score: 'logit',
    activations: f32([1, c, h, w], acts),
    results: [{ ...result('deeplift'), completeness: [{ sum: 1, scoreDifference: 1.5, gap: -0.5, relativeGap: 1 / 3 }] }, result('ablation')],
  };
}

describe('the channel ranking answer', () => {
  it('keeps the ranking\'s top channels with their contribution, share, label and map; ablation shows activations', () => {
    const r = shapeChannels(attribution(5, 3, 4, (k) => [1, 5, -2, 3, 0][k]!), ['a', 'b', 'cat'], 3);
    expect(r.layer).toEqual({ name: 'feat_out', label: 'feat', shape: [5, 3, 4] });
    expect(r.target).toEqual({ index: 2, label: 'cat', score: 4.5 });
    expect(r.score).toBe('logit');
    const [deeplift, ablation] = r.methods;
    expect(deeplift!.top.map((t) => t.channel)).toEqual([1, 3, 0]);
    expect(deeplift!.top.map((t) => t.label)).toEqual(['feat:1', 'feat:3', 'feat:0']);
    expect(deeplift!.top.map((t) => t.contribution)).toEqual([5, 3, 1]);
    expect(deeplift!.top[0]!.share).toBeCloseTo(5 / 7, 6);
    expect(deeplift!.completeness).toEqual({ sum: 1, scoreDifference: 1.5, gap: -0.5, relativeGap: 1 / 3 });
    expect(deeplift!.maps).toBe('attribution');
    expect(deeplift!.top[0]!.map.dims).toEqual([3, 4]);
    expect([...(deeplift!.top[0]!.map.data as Float32Array)]).toEqual(Array(12).fill(2));
    // a copy of the channel's map, not a view of the whole layer (a worker's message would clone the layer)
    expect((deeplift!.top[0]!.map.data as Float32Array).buffer.byteLength).toBe(12 * 4);
    expect(ablation!.maps).toBe('activation');
    expect([...(ablation!.top[0]!.map.data as Float32Array)]).toEqual(Array(12).fill(-2));
    expect(ablation!.completeness).toBeUndefined();
  });

  it('says its hints and notes in the studio\'s words, not the CLI\'s flags', () => {
    const r = shapeChannels(attribution(2, 1, 1, (k) => k), [], 8);
    expect(r.methods[0]!.top).toHaveLength(2);
    expect(r.target.label).toBe('class 2');
    expect(JSON.stringify(r.skipped)).not.toMatch(/--/);
    expect(r.skipped[0]!.reason).toBe('another branch bypasses it');
    expect(r.methods[0]!.notes.join(' ')).not.toMatch(/--/);
  });

  it('shrinks a map by block means so that neither side exceeds CHANNEL_MAP_SIDE', () => {
    const h = 2 * CHANNEL_MAP_SIDE + 2;
    const w = CHANNEL_MAP_SIDE;
    const map = Float32Array.from({ length: h * w }, (_, i) => Math.floor(i / w));
    const s = shrinkMap(map, h, w);
    // factor 3: 44 rows of 22 columns (rows 0-2 mean 1), the last row block one row high (row 129)
    expect(s.dims).toEqual([44, 22]);
    expect(s.data[0]).toBeCloseTo(1, 6);
    expect(s.data[43 * 22]).toBeCloseTo(129, 6);
    expect(shrinkMap(map, h, w, h).dims).toEqual([h, w]);
    // a channel's map at the layer's full size would be shrunk in the answer too
    const big = shapeChannels(attribution(2, h, w, (k) => k), [], 1);
    expect(big.methods[0]!.top[0]!.map.dims).toEqual([44, 22]);
  });

  it('gives no share where the channels cancel out', () => {
    expect(channelShare(Float32Array.from([1, -1, 2, -2]), 0, 4, 2)).toBeUndefined();
    expect(channelShare(Float32Array.from([0, 0, 1, 3]), 1, 2, 1)).toBeCloseTo(0.75, 6);
  });

  it('refuses options the asked methods would ignore, named by the request\'s fields', () => {
    const refusal = (q: Parameters<typeof checkChannelsOptions>[0]): ConvLensError | undefined => {
      try {
        checkChannelsOptions(q);
        return undefined;
      } catch (e) {
        return e as ConvLensError;
      }
    };
    expect(refusal({ layer: 'x', methods: ['gradient-x-activation'], steps: 8 })?.message).toMatch(/"steps" applies only with integrated-gradients or conductance/);
    expect(refusal({ layer: 'x', methods: ['deeplift'], ablation: 'zero' })?.message).toMatch(/"ablation" applies only/);
    expect(refusal({ layer: 'x', methods: ['gradient-x-activation'], baseline: 'black' })?.code).toBe('INVALID_ARGUMENT');
    expect(refusal({ layer: 'x', methods: ['deeplift'], score: 'prob' })?.hint).toMatch(/Use score "logit"/);
    expect(refusal({ layer: 'x', methods: ['ablation'], ablation: 'baseline', baseline: 'blurred' })).toBeUndefined();
    expect(refusal({ layer: 'x', methods: ['deeplift', 'integrated-gradients'], score: 'prob', steps: 4, rule: 'riemann-left' })).toBeUndefined();
  });
});
