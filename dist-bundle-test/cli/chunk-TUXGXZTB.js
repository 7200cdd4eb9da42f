import {
  ConvLensError,
  unknownNameError
} from "./chunk-N6ATQ4RF.js";

// dist/render/colormap.js
import { color } from "d3-color";
import { interpolateBrBG, interpolateCividis, interpolateGreys, interpolateInferno, interpolateMagma, interpolatePiYG, interpolatePlasma, interpolatePRGn, interpolatePuOr, interpolateRdBu, interpolateTurbo, interpolateViridis } from "d3-scale-chromatic";
var DEFS = {
  viridis: { interpolate: interpolateViridis, diverging: false, description: "perceptually uniform, dark blue to yellow" },
  inferno: { interpolate: interpolateInferno, diverging: false, description: "perceptually uniform, black to yellow" },
  magma: { interpolate: interpolateMagma, diverging: false, description: "perceptually uniform, black to light pink" },
  plasma: { interpolate: interpolatePlasma, diverging: false, description: "perceptually uniform, blue to yellow" },
  cividis: { interpolate: interpolateCividis, diverging: false, description: "colour-vision-deficiency friendly" },
  turbo: { interpolate: interpolateTurbo, diverging: false, description: "rainbow (an improved jet)" },
  gray: { interpolate: (t) => interpolateGreys(1 - t), diverging: false, description: "black to white" },
  rdbu: { interpolate: (t) => interpolateRdBu(1 - t), diverging: true, description: "blue (negative), white, red (positive)" },
  "rdbu-rev": { interpolate: interpolateRdBu, diverging: true, description: "red (negative), white, blue (positive)" },
  puor: { interpolate: (t) => interpolatePuOr(1 - t), diverging: true, description: "purple (negative), white, orange (positive)" },
  piyg: { interpolate: interpolatePiYG, diverging: true, description: "pink (negative), white, green (positive)" },
  prgn: { interpolate: interpolatePRGn, diverging: true, description: "purple (negative), white, green (positive)" },
  brbg: { interpolate: interpolateBrBG, diverging: true, description: "brown (negative), white, teal (positive)" }
};
var COLORMAP_NAMES = Object.keys(DEFS);
var cache = /* @__PURE__ */ new Map();
function colormap(name) {
  const key = name.toLowerCase();
  const hit = cache.get(key);
  if (hit)
    return hit;
  const def = DEFS[key];
  if (!def)
    throw unknownNameError("colormap", name, COLORMAP_NAMES);
  const lut = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const c = color(def.interpolate(i / 255))?.rgb();
    if (!c)
      throw new ConvLensError("INVALID_ARGUMENT", `Colormap ${name} produced an unreadable colour.`);
    lut[i * 3] = Math.round(c.r);
    lut[i * 3 + 1] = Math.round(c.g);
    lut[i * 3 + 2] = Math.round(c.b);
  }
  const cm = { name: key, diverging: def.diverging, lut };
  cache.set(key, cm);
  return cm;
}
function colorAt(cm, t) {
  const i = Math.max(0, Math.min(255, Math.round((Number.isFinite(t) ? t : 0) * 255)));
  return [cm.lut[i * 3], cm.lut[i * 3 + 1], cm.lut[i * 3 + 2]];
}

// dist/render/range.js
function percentile(sorted, p) {
  const n = sorted.length;
  if (n === 0)
    return 0;
  const pos = Math.max(0, Math.min(100, p)) / 100 * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}
function sortedCopy(values, abs = false) {
  const out = new Float64Array(values.length);
  for (let i = 0; i < out.length; i++)
    out[i] = abs ? Math.abs(values[i]) : values[i];
  return out.sort();
}
function rangeOf(values, spec) {
  switch (spec.mode) {
    case "fixed":
      return { min: spec.min, max: spec.max };
    case "minmax": {
      let min = Infinity;
      let max = -Infinity;
      for (let i = 0; i < values.length; i++) {
        const v = values[i];
        if (v < min)
          min = v;
        if (v > max)
          max = v;
      }
      return values.length ? { min, max } : { min: 0, max: 0 };
    }
    case "percentile": {
      const s = sortedCopy(values);
      return { min: percentile(s, spec.low ?? 1), max: percentile(s, spec.high ?? 99) };
    }
    case "symmetric": {
      const m = percentile(sortedCopy(values, true), spec.percentile ?? 100);
      return { min: -m, max: m };
    }
  }
}
function mapRange(values, spec) {
  const { min, max } = rangeOf(values, spec);
  const normalized = new Float32Array(values.length);
  const span = max - min;
  if (!(span > 0)) {
    normalized.fill(spec.mode === "symmetric" ? 0.5 : 0);
    return { normalized, min, max };
  }
  for (let i = 0; i < values.length; i++) {
    const t = (values[i] - min) / span;
    normalized[i] = t < 0 ? 0 : t > 1 ? 1 : Number.isFinite(t) ? t : 0;
  }
  return { normalized, min, max };
}
function parseRange(text) {
  const [mode, ...rest] = text.trim().toLowerCase().split(":");
  const nums = rest.map(Number);
  const bad = () => {
    throw new ConvLensError("INVALID_ARGUMENT", `Cannot read range "${text}".`, "Use minmax, percentile[:LOW:HIGH] (e.g. percentile:1:99), symmetric[:P] (e.g. symmetric:99) or fixed:MIN:MAX.");
  };
  if (nums.some((v) => !Number.isFinite(v)))
    bad();
  switch (mode) {
    case "minmax":
    case "min-max":
      return rest.length ? bad() : { mode: "minmax" };
    case "percentile":
      if (rest.length !== 0 && rest.length !== 2)
        bad();
      if (rest.length === 2 && !(nums[0] >= 0 && nums[0] < nums[1] && nums[1] <= 100))
        bad();
      return rest.length ? { mode: "percentile", low: nums[0], high: nums[1] } : { mode: "percentile" };
    case "symmetric":
      if (rest.length > 1 || rest.length === 1 && !(nums[0] > 0 && nums[0] <= 100))
        bad();
      return rest.length ? { mode: "symmetric", percentile: nums[0] } : { mode: "symmetric" };
    case "fixed":
      if (rest.length !== 2 || !(nums[0] < nums[1]))
        bad();
      return { mode: "fixed", min: nums[0], max: nums[1] };
    default:
      return bad();
  }
}
function describeRange(spec) {
  switch (spec.mode) {
    case "minmax":
      return "min-max";
    case "percentile":
      return `percentiles ${spec.low ?? 1}-${spec.high ?? 99}`;
    case "symmetric":
      return spec.percentile === void 0 || spec.percentile === 100 ? "symmetric, max |value|" : `symmetric, ${spec.percentile}th pct of |value|`;
    case "fixed":
      return `fixed ${spec.min} to ${spec.max}`;
  }
}

// dist/render/heatmap.js
function resamplePlane(src, w, h, W, H, how) {
  if (w === W && h === H)
    return src;
  const out = new Float32Array(W * H);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      if (how === "nearest") {
        out[y * W + x] = src[Math.min(h - 1, Math.floor((y + 0.5) * h / H)) * w + Math.min(w - 1, Math.floor((x + 0.5) * w / W))];
        continue;
      }
      const sy = Math.max(0, Math.min(h - 1, (y + 0.5) * h / H - 0.5));
      const sx = Math.max(0, Math.min(w - 1, (x + 0.5) * w / W - 0.5));
      const y0 = Math.floor(sy);
      const x0 = Math.floor(sx);
      const y1 = Math.min(h - 1, y0 + 1);
      const x1 = Math.min(w - 1, x0 + 1);
      const fy = sy - y0;
      const fx = sx - x0;
      const top = src[y0 * w + x0] * (1 - fx) + src[y0 * w + x1] * fx;
      const bottom = src[y1 * w + x0] * (1 - fx) + src[y1 * w + x1] * fx;
      out[y * W + x] = top * (1 - fy) + bottom * fy;
    }
  }
  return out;
}
function colorize(normalized, width, height, cm) {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    const t = normalized[i];
    const k = Math.max(0, Math.min(255, Math.round((Number.isFinite(t) ? t : 0) * 255))) * 3;
    data[i * 3] = cm.lut[k];
    data[i * 3 + 1] = cm.lut[k + 1];
    data[i * 3 + 2] = cm.lut[k + 2];
  }
  return { width, height, channels: 3, data };
}
function renderHeatmap(map, width, height, options = {}) {
  if (map.length !== width * height)
    throw new ConvLensError("INVALID_ARGUMENT", `A ${width}x${height} heatmap needs ${width * height} values, got ${map.length}.`);
  const cm = colormap(options.colormap ?? "inferno");
  const spec = options.range ?? (cm.diverging ? { mode: "symmetric" } : { mode: "minmax" });
  const { normalized, min, max } = mapRange(map, spec);
  const W = options.width ?? width;
  const H = options.height ?? height;
  const resampled = resamplePlane(normalized, width, height, W, H, options.interpolation ?? "nearest");
  return { image: colorize(resampled, W, H, cm), min, max, colormap: cm.name };
}
function toRgb(img) {
  if (img.channels === 3)
    return img;
  const data = new Uint8Array(img.width * img.height * 3);
  for (let i = 0; i < img.width * img.height; i++)
    data[i * 3] = data[i * 3 + 1] = data[i * 3 + 2] = img.data[i];
  return { width: img.width, height: img.height, channels: 3, data };
}
function resizeImage(img, width, height, how = "nearest") {
  if (img.width === width && img.height === height)
    return img;
  const c = img.channels;
  const data = new Uint8Array(width * height * c);
  for (let ch = 0; ch < c; ch++) {
    const plane = new Float32Array(img.width * img.height);
    for (let i = 0; i < plane.length; i++)
      plane[i] = img.data[i * c + ch];
    const r = resamplePlane(plane, img.width, img.height, width, height, how);
    for (let i = 0; i < width * height; i++)
      data[i * c + ch] = Math.max(0, Math.min(255, Math.round(r[i])));
  }
  return { width, height, channels: c, data };
}
function overlay(base, heat, opacity = 0.5) {
  if (!(opacity >= 0 && opacity <= 1))
    throw new ConvLensError("INVALID_ARGUMENT", `Overlay opacity must be between 0 and 1, got ${opacity}.`);
  if (base.width !== heat.width || base.height !== heat.height)
    throw new ConvLensError("INVALID_ARGUMENT", `Overlay sizes differ: image ${base.width}x${base.height}, heatmap ${heat.width}x${heat.height}.`);
  const b = toRgb(base);
  const h = toRgb(heat);
  const data = new Uint8Array(b.data.length);
  for (let i = 0; i < data.length; i++)
    data[i] = Math.round((1 - opacity) * b.data[i] + opacity * h.data[i]);
  return { width: b.width, height: b.height, channels: 3, data };
}
function colorbar(name, width, height) {
  const cm = colormap(name);
  const row = new Float32Array(width);
  for (let x = 0; x < width; x++)
    row[x] = width > 1 ? x / (width - 1) : 0;
  const data = new Uint8Array(width * height * 3);
  const line = colorize(row, width, 1, cm).data;
  for (let y = 0; y < height; y++)
    data.set(line, y * width * 3);
  return { width, height, channels: 3, data };
}

// dist/render/grid.js
import sharp from "sharp";
var FONT = "DejaVu Sans, Helvetica, Arial, sans-serif";
var esc = (s) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
var textWidth = (s, size, bold = false) => s.length * size * (bold ? 0.68 : 0.6);
function wrap(text, width, size, bold = false, maxLines = 2) {
  const words = text.split(/\s+/);
  const lines = [];
  let cur = "";
  for (const w of words) {
    const next = cur ? `${cur} ${w}` : w;
    if (textWidth(next, size, bold) <= width || !cur)
      cur = next;
    else {
      lines.push(cur);
      cur = w;
    }
  }
  if (cur)
    lines.push(cur);
  const perLine = Math.max(4, Math.floor(width / (size * (bold ? 0.68 : 0.6))));
  for (let i = 0; i < lines.length; i++)
    if (lines[i].length > perLine)
      lines[i] = `${lines[i].slice(0, perLine - 1)}\u2026`;
  if (lines.length > maxLines) {
    const kept = lines.slice(0, maxLines);
    kept[maxLines - 1] = `${kept[maxLines - 1]}\u2026`;
    return kept;
  }
  return lines;
}
async function gridFigure(spec) {
  const tiles = spec.rows.flatMap((r) => r.cells).filter((c) => !!c);
  const cellW = Math.max(1, ...tiles.map((t) => t.width));
  const cellH = Math.max(1, ...tiles.map((t) => t.height));
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
  const headers = Array.from({ length: cols }, (_, c) => (spec.columns[c] ?? "").split("\n").flatMap((part, i) => wrap(part, cellW + gap - 4, headerSize, i === 0).map((text2) => ({ text: text2, bold: i === 0 }))));
  const headerLines = Math.max(1, ...headers.map((h) => h.length));
  const titleH = spec.title ? titleSize + 12 : 0;
  const headerH = Math.ceil(headerLines * (headerSize + 3) + 8);
  const gridTop = margin + titleH + headerH;
  const rowH = cellH + captionH + gap;
  const gridW = labelW + cols * (cellW + gap) - gap;
  const legendH = spec.legends?.length ? 52 : 0;
  const notesH = (spec.notes?.length ?? 0) * (captionSize + 5) + (spec.notes?.length ? 6 : 0);
  const legendsW = (spec.legends?.length ?? 0) * 250;
  const width = Math.ceil(Math.max(gridW, legendsW, ...(spec.notes ?? []).map((n) => textWidth(n, captionSize))) + 2 * margin);
  const height = Math.ceil(gridTop + spec.rows.length * rowH - gap + (legendH ? legendH + 10 : 0) + notesH + margin);
  const svg = [];
  const text = (x, y2, s, size, opts = {}) => {
    svg.push(`<text x="${x.toFixed(1)}" y="${y2.toFixed(1)}" font-family="${FONT}" font-size="${size}" fill="${opts.color ?? "#222"}"${opts.bold ? ' font-weight="bold"' : ""} text-anchor="${opts.anchor ?? "start"}">${esc(s)}</text>`);
  };
  if (spec.title)
    text(margin, margin + titleSize, spec.title, titleSize, { bold: true });
  headers.forEach((lines, c) => {
    const cx = margin + labelW + c * (cellW + gap) + cellW / 2;
    const top = gridTop - 6 - lines.length * (headerSize + 3) + headerSize;
    lines.forEach((l, i) => text(cx, top + i * (headerSize + 3), l.text, l.bold ? headerSize : headerSize - 1, { anchor: "middle", bold: l.bold, color: l.bold ? "#222" : "#555" }));
  });
  const placed = [];
  spec.rows.forEach((row, r) => {
    const top = gridTop + r * rowH;
    const lineH = labelSize + 4;
    const startY = top + cellH / 2 - (row.lines.length - 1) * lineH / 2 + labelSize / 3;
    row.lines.forEach((l, i) => text(margin, startY + i * lineH, l, labelSize, { bold: i === 0, color: i === 0 ? "#111" : "#444" }));
    row.cells.forEach((cell, c) => {
      const left = margin + labelW + c * (cellW + gap);
      if (cell) {
        const rgb = toRgb(cell);
        placed.push({
          input: Buffer.from(rgb.data.buffer, rgb.data.byteOffset, rgb.data.byteLength),
          raw: { width: rgb.width, height: rgb.height, channels: 3 },
          left: left + Math.floor((cellW - rgb.width) / 2),
          top: top + Math.floor((cellH - rgb.height) / 2)
        });
      }
      const cap = row.captions?.[c];
      if (cap)
        text(left + cellW / 2, top + cellH + captionSize + 2, cap, captionSize, { anchor: "middle", color: "#555" });
    });
  });
  let y = gridTop + spec.rows.length * rowH - gap + 10;
  if (spec.legends?.length) {
    spec.legends.forEach((lg, i) => {
      const left = margin + i * 250;
      const barW = 160;
      text(left, y + 12, lg.label, captionSize + 1, { bold: true, color: "#333" });
      const bar = colorbar(lg.colormap, barW, 10);
      placed.push({ input: Buffer.from(bar.data), raw: { width: barW, height: 10, channels: 3 }, left, top: y + 18 });
      text(left, y + 42, lg.low, captionSize, { color: "#444" });
      if (lg.middle)
        text(left + barW / 2, y + 42, lg.middle, captionSize, { anchor: "middle", color: "#444" });
      text(left + barW, y + 42, lg.high, captionSize, { anchor: "end", color: "#444" });
    });
    y += legendH + 10;
  }
  (spec.notes ?? []).forEach((n, i) => text(margin, y + (i + 1) * (captionSize + 5), n, captionSize, { color: "#555" }));
  const overlaySvg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${svg.join("")}</svg>`;
  const bg = spec.background ?? [255, 255, 255];
  const out = await sharp({ create: { width, height, channels: 3, background: { r: bg[0], g: bg[1], b: bg[2] } } }).composite([...placed.map((p) => ({ input: p.input, ...p.raw ? { raw: p.raw } : {}, left: Math.round(p.left), top: Math.round(p.top) })), { input: Buffer.from(overlaySvg), left: 0, top: 0 }]).png().toBuffer();
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

export {
  colormap,
  colorAt,
  parseRange,
  describeRange,
  resamplePlane,
  renderHeatmap,
  toRgb,
  resizeImage,
  overlay,
  gridFigure
};
