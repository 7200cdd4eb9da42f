// Colormaps, range mapping, heatmaps, overlays, labelled grids and charts.
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { ConvLensError } from '../../src/engine/errors.js';
import type { RawImage } from '../../src/io/image.js';
import { displayStyle } from '../../src/methods/explain/display.js';
import { panelsSpec, renderChart } from '../../src/render/chart.js';
import { colorAt, colormap, COLORMAP_NAMES } from '../../src/render/colormap.js';
import { gridFigure, MAX_FIGURE_PIXELS, paint, wrapText, type Placed } from '../../src/render/grid.js';
import { colorbar, overlay, renderHeatmap, resizeImage } from '../../src/render/heatmap.js';
import { mapRange, parseRange, percentile, rangeOf, select } from '../../src/render/range.js';
import { rng } from '../support/rng.js';

const hex = (c: [number, number, number]): string => `#${c.map((v) => v.toString(16).padStart(2, '0')).join('')}`;

describe('colormaps', () => {
  it('sample d3-scale-chromatic: viridis and inferno end points, turbo, and diverging maps white at zero', () => {
    expect(hex(colorAt(colormap('viridis'), 0))).toBe('#440154');
    expect(hex(colorAt(colormap('viridis'), 1))).toBe('#fde725');
    expect(hex(colorAt(colormap('inferno'), 0))).toBe('#000004');
    const rdbu = colormap('rdbu');
    expect(rdbu.diverging).toBe(true);
    const [r0, , b0] = colorAt(rdbu, 0);
    const [r1, , b1] = colorAt(rdbu, 1);
    expect(b0).toBeGreaterThan(r0); // negative: blue
    expect(r1).toBeGreaterThan(b1); // positive: red
    expect(Math.min(...colorAt(rdbu, 0.5))).toBeGreaterThan(230);
    expect(COLORMAP_NAMES).toEqual(expect.arrayContaining(['viridis', 'inferno', 'magma', 'plasma', 'cividis', 'turbo', 'gray', 'rdbu']));
  });

  it('an unknown colormap names the closest ones', () => {
    expect(() => colormap('viridus')).toThrow(ConvLensError);
    try {
      colormap('viridus');
    } catch (e) {
      expect((e as ConvLensError).hint).toContain('viridis');
    }
  });
});

describe('range mapping', () => {
  const v = Float32Array.from([-2, -1, 0, 1, 4]);
  it('min-max, percentiles (numpy linear interpolation), symmetric and fixed', () => {
    expect(rangeOf(v, { mode: 'minmax' })).toEqual({ min: -2, max: 4 });
    expect(percentile([1, 2, 3, 4], 50)).toBeCloseTo(2.5, 12);
    expect(percentile([0, 10], 99)).toBeCloseTo(9.9, 12);
    expect(rangeOf(v, { mode: 'percentile', low: 25, high: 75 })).toEqual({ min: -1, max: 1 });
    expect(rangeOf(v, { mode: 'symmetric' })).toEqual({ min: -4, max: 4 });
    expect(rangeOf(v, { mode: 'symmetric', percentile: 50 })).toEqual({ min: -1, max: 1 });
    const m = mapRange(v, { mode: 'symmetric' });
    expect(Array.from(m.normalized)).toEqual([0.25, 0.375, 0.5, 0.625, 1]);
    const clipped = mapRange(v, { mode: 'fixed', min: -1, max: 1 });
    expect(Array.from(clipped.normalized)).toEqual([0, 0, 0.5, 1, 1]);
    expect(Array.from(mapRange(new Float32Array(3).fill(2), { mode: 'minmax' }).normalized)).toEqual([0, 0, 0]);
  });

  it('percentile ranges by selection equal numpy\'s percentiles of the sorted values', () => {
    const rand = rng(7);
    const sortedPercentile = (values: ArrayLike<number>, p: number, abs = false): number =>
      percentile(Float64Array.from(values, (x) => (abs ? Math.abs(x) : x)).sort(), p);
    const cases: [string, Float32Array][] = [
      ['random', Float32Array.from({ length: 5001 }, () => rand() * 2 - 1)],
      ['many ties', Float32Array.from({ length: 3000 }, () => Math.floor(rand() * 4))],
      ['all equal', new Float32Array(1000).fill(0.25)],
      ['sorted', Float32Array.from({ length: 2000 }, (_, i) => i)],
      ['reversed', Float32Array.from({ length: 2000 }, (_, i) => -i)],
      ['one value', Float32Array.of(3)],
      ['two values', Float32Array.of(5, -5)],
      ['with NaNs', Float32Array.from({ length: 400 }, (_, i) => (i % 7 === 0 ? NaN : rand()))],
    ];
    for (const [name, values] of cases) {
      for (const [low, high] of [[1, 99], [0, 100], [25, 75], [50, 50.5], [0.1, 99.9]] as const) {
        const got = rangeOf(values, { mode: 'percentile', low, high });
        expect(got.min, `${name} ${low}`).toBe(sortedPercentile(values, low));
        expect(got.max, `${name} ${high}`).toBe(sortedPercentile(values, high));
      }
      for (const p of [100, 99, 98, 50, 1]) expect(rangeOf(values, { mode: 'symmetric', percentile: p }).max, `${name} symmetric ${p}`).toBe(sortedPercentile(values, p, true));
    }
    expect(rangeOf(new Float32Array(0), { mode: 'percentile' })).toEqual({ min: 0, max: 0 });
  });

  it('selection stays exact when it stops partitioning and sorts the rest (its guard against quadratic inputs)', () => {
    const rand = rng(11);
    for (const rounds of [0, 1, 2, 3]) {
      for (const k of [0, 17, 250, 499]) {
        const values = Float64Array.from({ length: 500 }, () => Math.floor(rand() * 50));
        const sorted = Float64Array.from(values).sort();
        const a = Float64Array.from(values);
        expect(select(a, k, a.length, rounds), `rounds ${rounds}, k ${k}`).toBe(sorted[k]);
        for (let i = 0; i < k; i++) expect(a[i]!).toBeLessThanOrEqual(a[k]!);
        for (let i = k + 1; i < a.length; i++) expect(a[i]!).toBeGreaterThanOrEqual(a[k]!);
      }
    }
  });

  it('parses range specs and rejects bad ones', () => {
    expect(parseRange('minmax')).toEqual({ mode: 'minmax' });
    expect(parseRange('percentile:2:98')).toEqual({ mode: 'percentile', low: 2, high: 98 });
    expect(parseRange('symmetric:99.5')).toEqual({ mode: 'symmetric', percentile: 99.5 });
    expect(parseRange('fixed:-1:1')).toEqual({ mode: 'fixed', min: -1, max: 1 });
    for (const bad of ['percentile:98:2', 'symmetric:0', 'fixed:1:1', 'log', 'minmax:3']) expect(() => parseRange(bad), bad).toThrow(/Cannot read range/);
  });

  it('default display: signed maps symmetric on a diverging map, CAMs min-max overlays, unsigned clipped', () => {
    expect(displayStyle('integrated-gradients', true)).toMatchObject({ view: 'heatmap', colormap: 'rdbu', range: { mode: 'symmetric', percentile: 98 } });
    expect(displayStyle('gradcam', false)).toMatchObject({ view: 'overlay', colormap: 'turbo', range: { mode: 'minmax' }, interpolation: 'bilinear', opacity: 0.5 });
    expect(displayStyle('saliency', false)).toMatchObject({ view: 'heatmap', colormap: 'inferno', interpolation: 'nearest' });
    expect(displayStyle('gradcam', false, { view: 'heatmap', colormap: 'viridis' })).toMatchObject({ view: 'heatmap', colormap: 'viridis' });
  });

  it('pixel maps with a few huge values still show their structure under the default range (outliers clipped as Captum does)', () => {
    // a photo-like gradient map: small structured values everywhere, 1% of pixels 1000x larger
    const n = 100 * 100;
    const map = Float32Array.from({ length: n }, (_, i) => (i % 100 === 7 ? 1000 : Math.sin(i / 50) * 0.5 + 0.5));
    const style = displayStyle('saliency', false);
    const shown = mapRange(map, style.range).normalized;
    const minmax = mapRange(map, { mode: 'minmax' }).normalized;
    const spread = (v: Float32Array): number => v.filter((x, i) => map[i]! < 2 && x > 0.25).length / v.length;
    expect(spread(minmax)).toBe(0); // min-max: everything but the outliers is black
    expect(spread(shown)).toBeGreaterThan(0.5); // clipped: the structure spans the colormap
    const signed = mapRange(Float32Array.from(map, (v, i) => (i % 2 ? v : -v)), displayStyle('gradient', true).range).normalized;
    expect(signed.filter((x) => x > 0.6 || x < 0.4).length / n).toBeGreaterThan(0.5);
  });
});

describe('heatmaps and overlays', () => {
  it('colours each value through the range and colormap, resampling the values (not the colours)', () => {
    const h = renderHeatmap(Float32Array.from([0, 1, 2, 3]), 2, 2, { colormap: 'viridis', range: { mode: 'minmax' }, width: 4, height: 4 });
    expect([h.image.width, h.image.height, h.image.channels, h.min, h.max]).toEqual([4, 4, 3, 0, 3]);
    const px = (x: number, y: number): string => hex([h.image.data[(y * 4 + x) * 3]!, h.image.data[(y * 4 + x) * 3 + 1]!, h.image.data[(y * 4 + x) * 3 + 2]!]);
    expect(px(0, 0)).toBe('#440154');
    expect(px(3, 3)).toBe('#fde725');
    expect(px(1, 0)).toBe(px(0, 0)); // nearest: 2x2 blocks
  });

  it('blends with the given opacity', () => {
    const base: RawImage = { width: 1, height: 1, channels: 1, data: Uint8Array.of(200) };
    const heat: RawImage = { width: 1, height: 1, channels: 3, data: Uint8Array.of(0, 100, 250) };
    expect(Array.from(overlay(base, heat, 0).data)).toEqual([200, 200, 200]);
    expect(Array.from(overlay(base, heat, 1).data)).toEqual([0, 100, 250]);
    expect(Array.from(overlay(base, heat, 0.5).data)).toEqual([100, 150, 225]);
    expect(() => overlay(base, heat, 1.5)).toThrow(/opacity/);
    expect(resizeImage(base, 3, 2).data.length).toBe(6);
  });
});

describe('figures', () => {
  it('lays out a labelled grid: tiles where expected, text drawn', async () => {
    const tile = (r: number, g: number, b: number): RawImage => ({ width: 40, height: 40, channels: 3, data: Uint8Array.from({ length: 40 * 40 * 3 }, (_, i) => [r, g, b][i % 3]!) });
    const png = await gridFigure({
      title: 'A grid',
      columns: ['Input', 'Grad-CAM\n@relu4', 'Saliency'],
      rows: [
        { lines: ['a.png', 'pred: Bag (90%)'], cells: [tile(255, 0, 0), tile(0, 255, 0), tile(0, 0, 255)], captions: [undefined, '0 to 1', '±2'] },
        { lines: ['b.png'], cells: [tile(255, 0, 0), undefined, tile(0, 0, 255)] },
      ],
      legends: [{ colormap: 'rdbu', label: 'signed maps', low: 'negative', middle: '0', high: 'positive' }],
      notes: ['a note'],
    });
    const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    const count = (r: number, g: number, b: number): number => {
      let n = 0;
      for (let i = 0; i < info.width * info.height; i++) if (data[i * info.channels] === r && data[i * info.channels + 1] === g && data[i * info.channels + 2] === b) n++;
      return n;
    };
    expect(count(255, 0, 0)).toBe(2 * 1600);
    expect(count(0, 255, 0)).toBe(1600);
    expect(count(0, 0, 255)).toBe(2 * 1600);
    let dark = 0;
    for (let i = 0; i < info.width * 40; i++) if (data[i * info.channels]! < 100) dark++;
    expect(dark).toBeGreaterThan(50); // the title's glyphs
    expect(colorbar('viridis', 10, 2).data.length).toBe(60);
  });

  it('keeps a long row label off the first tile and a long caption off its neighbour', async () => {
    // a unit's label ("most active: features/denseblock1/denselayer4:30@10,20 (3.270)") ran over
    // the input tile, and a channel caption under a long layer name into the next tile's
    const tile = (r: number, g: number, b: number): RawImage => ({ width: 40, height: 40, channels: 3, data: Uint8Array.from({ length: 40 * 40 * 3 }, (_, i) => [r, g, b][i % 3]!) });
    const png = await gridFigure({
      columns: ['Input', 'A', 'B'],
      rows: [{ lines: ['chelsea.png', 'most active: features/denseblock1/denselayer4/conv2:30@10,20 (3.270) and a long tail of words'], cells: [tile(255, 0, 0), tile(0, 255, 0), tile(0, 0, 255)], captions: [undefined, 'features/denseblock1/denselayer4:158  0.098 (8%)', undefined] }],
    });
    const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    const at = (x: number, y: number): number[] => [0, 1, 2].map((k) => data[(y * info.width + x) * info.channels + k]!);
    let red = 0;
    let blueX = Infinity;
    let blueBottom = 0;
    for (let y = 0; y < info.height; y++) {
      for (let x = 0; x < info.width; x++) {
        const [r, g, b] = at(x, y);
        if (r === 255 && g === 0 && b === 0) red++;
        if (r === 0 && g === 0 && b === 255) {
          blueX = Math.min(blueX, x);
          blueBottom = Math.max(blueBottom, y);
        }
      }
    }
    expect(red).toBe(1600); // no label glyph drawn over the input tile
    let ink = 0;
    for (let y = blueBottom + 1; y < Math.min(info.height, blueBottom + 18); y++) for (let x = blueX; x < blueX + 40; x++) if (at(x, y)[0]! < 200) ink++;
    expect(ink).toBe(0); // nothing under the last tile, which has no caption
  });

  it('wraps a title wider than a narrow figure instead of cutting it at the edge', async () => {
    const tile: RawImage = { width: 40, height: 40, channels: 3, data: new Uint8Array(40 * 40 * 3).fill(200) };
    const title = 'fashion-unet: ddim eta 0.5, 20 steps, guidance 3, classes Bag and Sandal';
    const png = await gridFigure({ title, columns: ['x'], rows: [{ lines: ['one'], cells: [tile] }] });
    const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    const darkIn = (x0: number, x1: number, y0: number, y1: number): number => {
      let n = 0;
      for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) if (data[(y * info.width + x) * info.channels]! < 100) n++;
      return n;
    };
    expect(info.width).toBeGreaterThanOrEqual(320);
    expect(darkIn(info.width - 12, info.width, 0, info.height)).toBe(0); // nothing runs into the right margin
    expect(darkIn(0, info.width, 32, 52)).toBeGreaterThan(50); // a second title line
  });

  it('a column head too long for its tile keeps the end of the layer name, where exported names differ', () => {
    const heads = ['/features/features.8/features.8.0/Conv', '/features/features.8/features.8.2/Mul'].map((name) => wrapText(name, 160, 13, true));
    for (const lines of heads) expect(lines).toHaveLength(1);
    expect(heads[0]![0]).toMatch(/^….*features\.8\.0\/Conv$/);
    expect(heads[1]![0]).toMatch(/^….*features\.8\.2\/Mul$/);
    expect(wrapText('Grad-CAM', 160, 13, true)).toEqual(['Grad-CAM']); // short heads are left alone
  });

  it('shrinks the tiles of a figure over the pixel budget (sharp refused such a canvas), and says so', async () => {
    const side = 2048;
    const tile: RawImage = { width: side, height: side, channels: 3, data: new Uint8Array(side * side * 3).fill(200) };
    const rows = Array.from({ length: 4 }, (_, r) => ({ lines: [`row ${r}`], cells: [tile, tile, tile, tile] }));
    const png = await gridFigure({ columns: ['a', 'b', 'c', 'd'], rows }); // 16 tiles of 4.2 MP: 67 MP at full size
    const meta = await sharp(png).metadata();
    expect(meta.width! * meta.height!).toBeLessThanOrEqual(MAX_FIGURE_PIXELS);
    expect(meta.width!).toBeGreaterThan(2 * side); // shrunk to fit, not to a thumbnail
    const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    let grey = 0;
    for (let i = 0; i < info.width * info.height; i++) if (data[i * info.channels] === 200) grey++;
    expect(grey / (info.width * info.height)).toBeGreaterThan(0.7); // the tiles still fill the figure
    // a figure that cannot fit even with small tiles is refused with the reason
    const wide = [{ lines: ['one'], cells: Array.from({ length: 20_000 }, () => tile) }];
    await expect(gridFigure({ columns: [], rows: wide })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', hint: expect.stringContaining('fewer') });
  });

  it('the grid\'s canvas equals sharp\'s composite of the same images, clipped at the edges, on any background', async () => {
    const rand = rng(11);
    const image = (w: number, h: number) => ({ data: Uint8Array.from({ length: w * h * 3 }, () => Math.floor(rand() * 256)), width: w, height: h });
    const placed: Placed[] = [
      { ...image(30, 20), left: 5, top: 7 },
      { ...image(25, 25), left: 20.4, top: 10.6 }, // overlaps the first, placed at rounded coordinates
      { ...image(16, 12), left: 60, top: 44 }, // runs over the right and bottom edges
      { ...image(10, 10), left: -4, top: -3 }, // and over the left and top
    ];
    const [width, height] = [70, 50];
    const ours = paint(width, height, [250, 240, 200], placed);
    // sharp refuses overlays that leave the image, so its reference gets them cut to the canvas
    const inputs = placed.map((p) => {
      const [left, top] = [Math.round(p.left), Math.round(p.top)];
      const [x0, y0] = [Math.max(0, -left), Math.max(0, -top)];
      const [x1, y1] = [Math.min(p.width, width - left), Math.min(p.height, height - top)];
      const cut = new Uint8Array((x1 - x0) * (y1 - y0) * 3);
      for (let y = y0; y < y1; y++) cut.set(p.data.subarray((y * p.width + x0) * 3, (y * p.width + x1) * 3), (y - y0) * (x1 - x0) * 3);
      return { input: Buffer.from(cut), raw: { width: x1 - x0, height: y1 - y0, channels: 3 as const }, left: left + x0, top: top + y0 };
    });
    const reference = await sharp({ create: { width, height, channels: 3, background: { r: 250, g: 240, b: 200 } } }).composite(inputs).removeAlpha().raw().toBuffer();
    expect(Buffer.from(ours).equals(reference)).toBe(true);
  });

  it('renders Vega-Lite line charts to SVG and PNG', async () => {
    const spec = panelsSpec([{ title: 'Deletion', xTitle: 'fraction removed', yTitle: 'probability', series: [{ name: 'gradcam (AUC 0.1)', x: [0, 0.5, 1], y: [1, 0.3, 0.1] }, { name: 'random', x: [0, 0.5, 1], y: [1, 0.8, 0.1], dashed: true }] }], 'Curves');
    const { svg, png } = await renderChart(spec);
    expect(svg).toContain('fraction removed');
    expect(svg).toContain('gradcam (AUC 0.1)');
    expect(svg).toContain('stroke-dasharray');
    const meta = await sharp(png).metadata();
    expect(meta.format).toBe('png');
    expect(meta.width).toBeGreaterThan(500);
  });
});
