import { loadSharp } from '../io/sharp.js';

/**
 * A confusion-matrix image: rows are true classes, columns predicted classes, each cell shows its
 * count and is shaded by the fraction of its row (so classes of different sizes compare), the
 * diagonal in blue and errors in red. Drawn as SVG and rasterized with sharp (librsvg).
 */
export function confusionMatrixSvg(confusion: Int32Array, labels: readonly string[], title: string): string {
  const K = labels.length;
  const cell = K <= 12 ? 52 : Math.max(18, Math.floor(620 / K));
  const font = 'DejaVu Sans, Verdana, Arial, sans-serif';
  const longest = Math.max(...labels.map((l) => l.length));
  const labelW = Math.min(220, 14 + longest * 7.5);
  const left = labelW + 34;
  const top = 60 + labelW;
  const legendW = 90;
  const width = left + K * cell + legendW;
  const height = top + K * cell + 40;
  const rowTotals = Array.from({ length: K }, (_, y) => {
    let t = 0;
    for (let k = 0; k < K; k++) t += confusion[y * K + k]!;
    return t;
  });
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${font}">`);
  parts.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  parts.push(`<text x="${width / 2}" y="26" font-size="17" font-weight="bold" text-anchor="middle">${esc(title)}</text>`);
  // axis titles
  parts.push(`<text x="${left + (K * cell) / 2}" y="50" font-size="13" text-anchor="middle" fill="#333">predicted class</text>`);
  parts.push(`<text transform="translate(16 ${top + (K * cell) / 2}) rotate(-90)" font-size="13" text-anchor="middle" fill="#333">true class</text>`);
  const fs = Math.min(13, Math.max(8, cell * 0.26));
  for (let k = 0; k < K; k++) {
    // column labels, rotated
    const cx = left + k * cell + cell / 2;
    parts.push(`<text transform="translate(${cx + fs / 3} ${top - 8}) rotate(-60)" font-size="${fs}" text-anchor="start">${esc(labels[k]!)}</text>`);
    // row labels
    parts.push(`<text x="${left - 8}" y="${top + k * cell + cell / 2 + fs / 3}" font-size="${fs}" text-anchor="end">${esc(labels[k]!)}</text>`);
  }
  for (let y = 0; y < K; y++) {
    for (let k = 0; k < K; k++) {
      const count = confusion[y * K + k]!;
      const frac = rowTotals[y] ? count / rowTotals[y]! : 0;
      const color = y === k ? blue(frac) : red(Math.min(1, frac * 4));
      const x0 = left + k * cell;
      const y0 = top + y * cell;
      parts.push(`<rect x="${x0}" y="${y0}" width="${cell}" height="${cell}" fill="${color}" stroke="#ddd" stroke-width="1"/>`);
      if (count > 0 && cell >= 24) {
        const dark = y === k ? frac > 0.5 : frac * 4 > 0.6;
        parts.push(`<text x="${x0 + cell / 2}" y="${y0 + cell / 2 + fs / 3}" font-size="${fs}" text-anchor="middle" fill="${dark ? 'white' : '#222'}">${count}</text>`);
      }
    }
  }
  parts.push(`<rect x="${left}" y="${top}" width="${K * cell}" height="${K * cell}" fill="none" stroke="#888" stroke-width="1"/>`);
  // legends: diagonal (fraction of the row correct), off-diagonal (fraction of the row)
  const lx = left + K * cell + 22;
  const lh = Math.min(160, K * cell * 0.45);
  const legend = (y0: number, color: (t: number) => string, label: string, max: string): void => {
    const steps = 20;
    for (let i = 0; i < steps; i++) {
      const t = 1 - i / (steps - 1);
      parts.push(`<rect x="${lx}" y="${y0 + (i * lh) / steps}" width="14" height="${lh / steps + 0.5}" fill="${color(t)}"/>`);
    }
    parts.push(`<rect x="${lx}" y="${y0}" width="14" height="${lh}" fill="none" stroke="#888"/>`);
    parts.push(`<text x="${lx + 18}" y="${y0 + 9}" font-size="10">${max}</text>`);
    parts.push(`<text x="${lx + 18}" y="${y0 + lh}" font-size="10">0%</text>`);
    parts.push(`<text transform="translate(${lx - 5} ${y0 + lh / 2}) rotate(-90)" font-size="10" text-anchor="middle" fill="#333">${label}</text>`);
  };
  legend(top, blue, 'correct', '100%');
  legend(top + lh + 30, (t) => red(t), 'errors', '≥25%');
  parts.push(`<text x="${left}" y="${height - 14}" font-size="11" fill="#555">cells: counts; shade: fraction of the true class's images</text>`);
  parts.push('</svg>');
  return parts.join('\n');
}

/** Renders the confusion matrix as PNG bytes. */
export async function confusionMatrixPng(confusion: Int32Array, labels: readonly string[], title: string): Promise<Uint8Array> {
  const svg = confusionMatrixSvg(confusion, labels, title);
  const sharp = await loadSharp();
  const buf = await sharp(Buffer.from(svg), { density: 144 }).png().toBuffer();
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

const mix = (a: number[], b: number[], t: number): string => `rgb(${a.map((v, i) => Math.round(v + (b[i]! - v) * t)).join(',')})`;
const blue = (t: number): string => mix([247, 251, 255], [8, 69, 148], Math.max(0, Math.min(1, t)));
const red = (t: number): string => mix([255, 255, 255], [203, 24, 29], Math.max(0, Math.min(1, t)));

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
