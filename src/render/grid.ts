// Labelled figures: a grid of equally sized tiles (rows = images, columns = methods, as in the
// papers' figures) with column headers, row labels and colorbar legends. Tiles and colour bars
// are copied into one RGB canvas here; sharp draws the text (SVG, rendered by librsvg) over it
// and encodes the PNG (letting sharp composite every tile cost 30-80 ms more on a 16-row grid).
import { ConvLensError } from '../engine/errors.js';
import { loadSharp } from '../io/sharp.js';
import type { RawImage } from '../io/image.js';
import { colorbar, resizeImage, toRgb } from './heatmap.js';

export interface GridRow {
  /** label lines at the left of the row (first line bold) */
  lines: string[];
  /** one tile per column; undefined leaves a blank */
  cells: (RawImage | undefined)[];
  /** small text under each tile (e.g. the range drawn), per column */
  captions?: (string | undefined)[];
  /** column headers drawn above this row: a later band of a figure wrapped into several */
  columns?: string[];
}

interface HeaderLine {
  text: string;
  bold: boolean;
}

export interface Legend {
  colormap: string;
  /** what the bar shows, e.g. "signed maps" */
  label: string;
  low: string;
  high: string;
  middle?: string;
}

export interface GridSpec {
  title?: string;
  columns: string[];
  rows: GridRow[];
  legends?: Legend[];
  /** lines of small text at the bottom */
  notes?: string[];
  background?: [number, number, number];
}

const FONT = "DejaVu Sans, Helvetica, Arial, sans-serif";
const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
/** Rough advance width of a string (DejaVu Sans averages ~0.6 em, bold ~0.68 em). */
const textWidth = (s: string, size: number, bold = false): number => s.length * size * (bold ? 0.68 : 0.6);

/** `text` broken into at most `maxLines` lines that fit `width` pixels at font `size`. */
export function wrapText(text: string, width: number, size: number, bold = false, maxLines = 2): string[] {
  const words = text.split(/\s+/);
  const lines: string[] = [];
  let cur = '';
  for (const w of words) {
    const next = cur ? `${cur} ${w}` : w;
    if (textWidth(next, size, bold) <= width || !cur) cur = next;
    else {
      lines.push(cur);
      cur = w;
    }
  }
  if (cur) lines.push(cur);
  // A single word wider than the tile (a long layer name) keeps its end: exported names share
  // their start (/features/features.8/...) and differ at the end (.../features.8.2/Mul).
  const perLine = Math.max(4, Math.floor(width / (size * (bold ? 0.68 : 0.6))));
  for (let i = 0; i < lines.length; i++) if (lines[i]!.length > perLine) lines[i] = `…${lines[i]!.slice(-(perLine - 1))}`;
  if (lines.length > maxLines) {
    const kept = lines.slice(0, maxLines);
    kept[maxLines - 1] = `${kept[maxLines - 1]}…`;
    return kept;
  }
  return lines;
}

/** An RGB image at a place on the canvas. */
export interface Placed {
  data: Uint8Array;
  width: number;
  height: number;
  left: number;
  top: number;
}

/** A `width` x `height` RGB canvas of `background` with the images copied in (clipped at its edges). */
export function paint(width: number, height: number, background: readonly [number, number, number], placed: readonly Placed[]): Uint8Array {
  const canvas = new Uint8Array(width * height * 3);
  const [r, g, b] = background;
  if (r === g && g === b) canvas.fill(r);
  else for (let p = 0; p < canvas.length; p += 3) (canvas[p] = r), (canvas[p + 1] = g), (canvas[p + 2] = b);
  for (const im of placed) {
    const left = Math.round(im.left);
    const top = Math.round(im.top);
    const x0 = Math.max(0, -left);
    const x1 = Math.min(im.width, width - left);
    if (x1 <= x0) continue;
    for (let y = Math.max(0, -top); y < Math.min(im.height, height - top); y++) {
      canvas.set(im.data.subarray((y * im.width + x0) * 3, (y * im.width + x1) * 3), ((top + y) * width + left + x0) * 3);
    }
  }
  return canvas;
}

/**
 * The most pixels a figure gets: 16 rows of 7 methods at `--size 2048` would be a 14800x21800
 * canvas, over the image library's limit (268 megapixels) and ~1 GB of RGB, so larger grids
 * draw their tiles smaller (and say so). 48 megapixels is 16 x 10 tiles of 540 pixels.
 */
export const MAX_FIGURE_PIXELS = 48e6;

/** The smallest side tiles are shrunk to before a figure is refused as too large. */
const MIN_FITTED_TILE = 32;

/** Renders the grid as PNG bytes, with its tiles shrunk when the figure would exceed MAX_FIGURE_PIXELS. */
export async function gridFigure(spec: GridSpec): Promise<Uint8Array> {
  const tiles = spec.rows.flatMap((r) => r.cells).filter((c): c is RawImage => !!c);
  const cellW = Math.max(1, ...tiles.map((t) => t.width));
  const cellH = Math.max(1, ...tiles.map((t) => t.height));
  const side = Math.max(cellW, cellH);
  const shrunkNote = (to: number): string => `Tiles drawn at ${to} of ${side} pixels to keep the figure under ${MAX_FIGURE_PIXELS / 1e6} megapixels.`;
  const noted = { ...spec, notes: [...(spec.notes ?? []), shrunkNote(side)] };
  const fits = (scale: number): boolean => {
    const { width, height } = gridLayout(scale === 1 ? spec : noted, Math.ceil(cellW * scale), Math.ceil(cellH * scale));
    return width * height <= MAX_FIGURE_PIXELS;
  };
  if (fits(1)) return drawGrid(spec);
  if (!fits(MIN_FITTED_TILE / side)) {
    const columns = Math.max(spec.columns.length, ...spec.rows.map((r) => r.cells.length));
    throw new ConvLensError('INVALID_ARGUMENT', `A figure of ${spec.rows.length} rows and ${columns} columns does not fit in ${MAX_FIGURE_PIXELS / 1e6} megapixels even with ${MIN_FITTED_TILE}-pixel tiles.`, 'Ask for fewer images or methods per figure.');
  }
  // the largest scale that fits (the size grows with the scale), then every tile shrunk once
  let lo = MIN_FITTED_TILE / side;
  let hi = 1;
  for (let k = 0; k < 20; k++) {
    const mid = (lo + hi) / 2;
    if (fits(mid)) lo = mid;
    else hi = mid;
  }
  const shrink = (c: RawImage | undefined): RawImage | undefined => c && resizeImage(c, Math.max(1, Math.floor(c.width * lo)), Math.max(1, Math.floor(c.height * lo)), 'bilinear');
  return drawGrid({
    ...spec,
    rows: spec.rows.map((r) => ({ ...r, cells: r.cells.map(shrink) })),
    notes: [...(spec.notes ?? []), shrunkNote(Math.floor(side * lo))],
  });
}

/** Where everything goes in a figure whose tiles are cellW x cellH (gridFigure sizes it before drawing). */
function gridLayout(spec: GridSpec, cellW: number, cellH: number) {
  const cols = Math.max(spec.columns.length, ...spec.rows.map((r) => r.cells.length));
  const margin = 14;
  const gap = 8;
  const headerSize = 13;
  const labelSize = 12;
  const captionSize = 10;
  const titleSize = 16;
  const hasCaptions = spec.rows.some((r) => r.captions?.some(Boolean));
  const captionH = hasCaptions ? captionSize + 6 : 0;

  const labelW = Math.ceil(Math.min(260, Math.max(60, ...spec.rows.flatMap((r) => r.lines.map((l, i) => textWidth(l, labelSize) * (i === 0 ? 1.08 : 1)))))) + 10;
  // Column headers: the first line bold, later lines (after '\n') regular; each wrapped to the tile.
  const headersOf = (columns: readonly string[]): HeaderLine[][] =>
    Array.from({ length: cols }, (_, c) => (columns[c] ?? '').split('\n').flatMap((part, i) => wrapText(part, cellW + gap - 4, headerSize, i === 0).map((text) => ({ text, bold: i === 0 }))));
  const headers = headersOf(spec.columns);
  const bandHeaders = spec.rows.map((r) => (r.columns ? headersOf(r.columns) : undefined));
  const headerLines = Math.max(1, ...[headers, ...bandHeaders].flatMap((hs) => (hs ?? []).map((h) => h.length)));
  const headerH = Math.ceil(headerLines * (headerSize + 3) + 8);
  const rowH = cellH + captionH + gap;
  const gridW = labelW + cols * (cellW + gap) - gap;
  const legendH = spec.legends?.length ? 52 : 0;
  const notesH = (spec.notes?.length ?? 0) * (captionSize + 5) + (spec.notes?.length ? 6 : 0);
  const legendsW = (spec.legends?.length ?? 0) * 250;
  const contentW = Math.max(gridW, legendsW, ...(spec.notes ?? []).map((n) => textWidth(n, captionSize)));
  // A title wider than a narrow figure (one neighbour, two samples) wraps instead of running off
  // the edge; the figure is widened to at least 320 px so that it wraps into few lines.
  const titleW = Math.max(contentW, Math.min(320, textWidth(spec.title ?? '', titleSize, true)));
  const titleLines = spec.title ? wrapText(spec.title, titleW, titleSize, true, 4) : [];
  const titleH = titleLines.length ? titleLines.length * (titleSize + 4) + 8 : 0;
  const gridTop = margin + titleH + headerH;
  // a row that starts a band sits below its own headers
  const rowTops: number[] = [];
  let top = gridTop;
  spec.rows.forEach((r, i) => {
    if (i > 0 && r.columns) top += headerH;
    rowTops.push(top);
    top += rowH;
  });
  const gridBottom = top - gap;
  const width = Math.ceil(Math.max(contentW, titleW) + 2 * margin);
  const height = Math.ceil(gridBottom + (legendH ? legendH + 10 : 0) + notesH + margin);
  return { margin, gap, headerSize, labelSize, captionSize, titleSize, titleLines, labelW, headers, bandHeaders, gridTop, rowTops, gridBottom, legendH, width, height };
}

/**
 * A caption drawn in `width` pixels: at a smaller font (down to 8 px) when it is wider, and then
 * keeping its end (a channel label's number and value) behind an ellipsis. Captions ran into
 * their neighbours under a long layer name ("features/denseblock1:158  0.098 (8%)").
 */
export function fitCaption(text: string, width: number, size: number): { text: string; size: number } {
  const w = textWidth(text, size);
  if (w <= width) return { text, size };
  const smaller = Math.max(8, Math.floor((size * width) / w));
  const perLine = Math.max(4, Math.floor(width / (smaller * 0.6)));
  return { text: text.length > perLine ? `…${text.slice(-(perLine - 1))}` : text, size: smaller };
}

/**
 * A row's label lines within `width` pixels, each wrapped at spaces into up to 3 lines (a word
 * too wide keeps its end), the first (bold) line's pieces staying bold. A unit's long label
 * ("most active: features/denseblock1/denselayer4:30@10,20 (3.270)") ran over the first tile.
 */
export function rowLabelLines(lines: readonly string[], width: number, size: number): { text: string; bold: boolean }[] {
  // measured as the label column is sized (the bold line at 1.08x)
  return lines.flatMap((l, i) => wrapText(l, i === 0 ? width / 1.08 : width, size, false, 3).map((text) => ({ text, bold: i === 0 })));
}

async function drawGrid(spec: GridSpec): Promise<Uint8Array> {
  const tiles = spec.rows.flatMap((r) => r.cells).filter((c): c is RawImage => !!c);
  const cellW = Math.max(1, ...tiles.map((t) => t.width));
  const cellH = Math.max(1, ...tiles.map((t) => t.height));
  const { margin, gap, headerSize, labelSize, captionSize, titleSize, titleLines, labelW, headers, bandHeaders, gridTop, rowTops, gridBottom, legendH, width, height } = gridLayout(spec, cellW, cellH);

  const svg: string[] = [];
  const text = (x: number, y: number, s: string, size: number, opts: { anchor?: 'start' | 'middle' | 'end'; bold?: boolean; color?: string } = {}): void => {
    svg.push(`<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" font-family="${FONT}" font-size="${size}" fill="${opts.color ?? '#222'}"${opts.bold ? ' font-weight="bold"' : ''} text-anchor="${opts.anchor ?? 'start'}">${esc(s)}</text>`);
  };
  titleLines.forEach((line, i) => text(margin, margin + titleSize + i * (titleSize + 4), line, titleSize, { bold: true }));
  const drawHeaders = (band: HeaderLine[][], bottom: number): void =>
    band.forEach((lines, c) => {
      const cx = margin + labelW + c * (cellW + gap) + cellW / 2;
      const top = bottom - 6 - lines.length * (headerSize + 3) + headerSize;
      lines.forEach((l, i) => text(cx, top + i * (headerSize + 3), l.text, l.bold ? headerSize : headerSize - 1, { anchor: 'middle', bold: l.bold, color: l.bold ? '#222' : '#555' }));
    });
  drawHeaders(headers, gridTop);

  const placed: Placed[] = [];
  spec.rows.forEach((row, r) => {
    const top = rowTops[r]!;
    const band = r > 0 ? bandHeaders[r] : undefined;
    if (band) drawHeaders(band, top);
    const lineH = labelSize + 4;
    const lines = rowLabelLines(row.lines, labelW - 10, labelSize);
    const startY = top + cellH / 2 - ((lines.length - 1) * lineH) / 2 + labelSize / 3;
    lines.forEach((l, i) => text(margin, startY + i * lineH, l.text, labelSize, { bold: l.bold, color: l.bold ? '#111' : '#444' }));
    row.cells.forEach((cell, c) => {
      const left = margin + labelW + c * (cellW + gap);
      if (cell) {
        const rgb = toRgb(cell);
        placed.push({ data: rgb.data, width: rgb.width, height: rgb.height, left: left + Math.floor((cellW - rgb.width) / 2), top: top + Math.floor((cellH - rgb.height) / 2) });
      }
      const cap = row.captions?.[c];
      if (cap) {
        const fit = fitCaption(cap, cellW + gap - 2, captionSize);
        text(left + cellW / 2, top + cellH + captionSize + 2, fit.text, fit.size, { anchor: 'middle', color: '#555' });
      }
    });
  });

  let y = gridBottom + 10;
  if (spec.legends?.length) {
    spec.legends.forEach((lg, i) => {
      const left = margin + i * 250;
      const barW = 160;
      text(left, y + 12, lg.label, captionSize + 1, { bold: true, color: '#333' });
      const bar = colorbar(lg.colormap, barW, 10);
      placed.push({ data: bar.data, width: barW, height: 10, left, top: y + 18 });
      text(left, y + 42, lg.low, captionSize, { color: '#444' });
      if (lg.middle) text(left + barW / 2, y + 42, lg.middle, captionSize, { anchor: 'middle', color: '#444' });
      text(left + barW, y + 42, lg.high, captionSize, { anchor: 'end', color: '#444' });
    });
    y += legendH + 10;
  }
  (spec.notes ?? []).forEach((n, i) => text(margin, y + (i + 1) * (captionSize + 5), n, captionSize, { color: '#555' }));

  const overlaySvg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${svg.join('')}</svg>`;
  const bg = spec.background ?? [255, 255, 255];
  const canvas = paint(width, height, bg, placed);
  const sharp = await loadSharp();
  const out = await sharp(canvas, { raw: { width, height, channels: 3 } })
    .composite([{ input: Buffer.from(overlaySvg), left: 0, top: 0 }])
    // the text overlay brings an alpha channel the opaque figure does not need: RGB encodes
    // ~15% faster and 11% smaller (a 16-row grid of 224-pixel tiles: 150 vs 175 ms, 4.7 vs 5.3 MB)
    .removeAlpha()
    .png()
    .toBuffer();
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}
