import {
  evaluateClassifier
} from "./chunk-7FNZRFSM.js";
import "./chunk-3LLE3VGN.js";
import "./chunk-UHZBCOBN.js";
import {
  defaultOut
} from "./chunk-SEMCHPMJ.js";
import {
  cliJob,
  intIn,
  openModel,
  withCommon
} from "./chunk-OMSJE7ZP.js";
import "./chunk-4KDPQESB.js";
import "./chunk-P6HER42Z.js";
import "./chunk-2RDMIJXC.js";
import "./chunk-EQEDVHDE.js";
import {
  loadFashionMnist
} from "./chunk-XD57GLXB.js";
import {
  FASHION_MNIST_LABELS
} from "./chunk-X2V5Z5UO.js";
import "./chunk-75463JA6.js";
import {
  writeFileAtomic
} from "./chunk-4WR5QSMB.js";
import "./chunk-Y3QEK5WU.js";
import "./chunk-GNZAA2KB.js";
import {
  ConvLensError
} from "./chunk-N6ATQ4RF.js";

// dist/training/confusion.js
import sharp from "sharp";
function confusionMatrixSvg(confusion, labels, title) {
  const K = labels.length;
  const cell = K <= 12 ? 52 : Math.max(18, Math.floor(620 / K));
  const font = "DejaVu Sans, Verdana, Arial, sans-serif";
  const longest = Math.max(...labels.map((l) => l.length));
  const labelW = Math.min(220, 14 + longest * 7.5);
  const left = labelW + 34;
  const top = 60 + labelW;
  const legendW = 90;
  const width = left + K * cell + legendW;
  const height = top + K * cell + 40;
  const rowTotals = Array.from({ length: K }, (_, y) => {
    let t = 0;
    for (let k = 0; k < K; k++)
      t += confusion[y * K + k];
    return t;
  });
  const parts = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${font}">`);
  parts.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  parts.push(`<text x="${width / 2}" y="26" font-size="17" font-weight="bold" text-anchor="middle">${esc(title)}</text>`);
  parts.push(`<text x="${left + K * cell / 2}" y="50" font-size="13" text-anchor="middle" fill="#333">predicted class</text>`);
  parts.push(`<text transform="translate(16 ${top + K * cell / 2}) rotate(-90)" font-size="13" text-anchor="middle" fill="#333">true class</text>`);
  const fs = Math.min(13, Math.max(8, cell * 0.26));
  for (let k = 0; k < K; k++) {
    const cx = left + k * cell + cell / 2;
    parts.push(`<text transform="translate(${cx + fs / 3} ${top - 8}) rotate(-60)" font-size="${fs}" text-anchor="start">${esc(labels[k])}</text>`);
    parts.push(`<text x="${left - 8}" y="${top + k * cell + cell / 2 + fs / 3}" font-size="${fs}" text-anchor="end">${esc(labels[k])}</text>`);
  }
  for (let y = 0; y < K; y++) {
    for (let k = 0; k < K; k++) {
      const count = confusion[y * K + k];
      const frac = rowTotals[y] ? count / rowTotals[y] : 0;
      const color = y === k ? blue(frac) : red(Math.min(1, frac * 4));
      const x0 = left + k * cell;
      const y0 = top + y * cell;
      parts.push(`<rect x="${x0}" y="${y0}" width="${cell}" height="${cell}" fill="${color}" stroke="#ddd" stroke-width="1"/>`);
      if (count > 0 && cell >= 24) {
        const dark = y === k ? frac > 0.5 : frac * 4 > 0.6;
        parts.push(`<text x="${x0 + cell / 2}" y="${y0 + cell / 2 + fs / 3}" font-size="${fs}" text-anchor="middle" fill="${dark ? "white" : "#222"}">${count}</text>`);
      }
    }
  }
  parts.push(`<rect x="${left}" y="${top}" width="${K * cell}" height="${K * cell}" fill="none" stroke="#888" stroke-width="1"/>`);
  const lx = left + K * cell + 22;
  const lh = Math.min(160, K * cell * 0.45);
  const legend = (y0, color, label, max) => {
    const steps = 20;
    for (let i = 0; i < steps; i++) {
      const t = 1 - i / (steps - 1);
      parts.push(`<rect x="${lx}" y="${y0 + i * lh / steps}" width="14" height="${lh / steps + 0.5}" fill="${color(t)}"/>`);
    }
    parts.push(`<rect x="${lx}" y="${y0}" width="14" height="${lh}" fill="none" stroke="#888"/>`);
    parts.push(`<text x="${lx + 18}" y="${y0 + 9}" font-size="10">${max}</text>`);
    parts.push(`<text x="${lx + 18}" y="${y0 + lh}" font-size="10">0%</text>`);
    parts.push(`<text transform="translate(${lx - 5} ${y0 + lh / 2}) rotate(-90)" font-size="10" text-anchor="middle" fill="#333">${label}</text>`);
  };
  legend(top, blue, "correct", "100%");
  legend(top + lh + 30, (t) => red(t), "errors", "\u226525%");
  parts.push(`<text x="${left}" y="${height - 14}" font-size="11" fill="#555">cells: counts; shade: fraction of the true class's images</text>`);
  parts.push("</svg>");
  return parts.join("\n");
}
async function confusionMatrixPng(confusion, labels, title) {
  const svg = confusionMatrixSvg(confusion, labels, title);
  const buf = await sharp(Buffer.from(svg), { density: 144 }).png().toBuffer();
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}
var mix = (a, b, t) => `rgb(${a.map((v, i) => Math.round(v + (b[i] - v) * t)).join(",")})`;
var blue = (t) => mix([247, 251, 255], [8, 69, 148], Math.max(0, Math.min(1, t)));
var red = (t) => mix([255, 255, 255], [203, 24, 29], Math.max(0, Math.min(1, t)));
function esc(s) {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

// dist/interfaces/cli/commands/evaluate.js
function define(command) {
  withCommon(command).option("-d, --data <dir>", "folder with the Fashion-MNIST IDX files (default: /usr/share/datasets/fashion-mnist)").option("--split <name>", "test or train", "test").option("-o, --out <file>", "confusion-matrix PNG to write", defaultOut("evaluate", "confusion-matrix.png")).option("--no-image", "do not write the confusion-matrix image").option("--json", "print the results as JSON").option("--batch <n>", "images per forward run (1-4096)", intIn(1, 4096), 256).action(async (opts) => {
    if (opts.split !== "test" && opts.split !== "train")
      throw new ConvLensError("INVALID_ARGUMENT", `Unknown split "${opts.split}".`, "Use --split test or --split train.");
    const ds = loadFashionMnist(opts.split, opts.data);
    const { engine, model } = openModel(opts);
    const prep = model.meta.preprocessing;
    const [, c, h, w] = model.input.shape;
    if (c !== ds.channels || h !== ds.height || w !== ds.width || prep.channels !== "gray") {
      throw new ConvLensError("SHAPE_MISMATCH", `Model "${model.name}" takes [N, ${c}, ${h}, ${w}] ${prep.channels} input; Fashion-MNIST images are [N, 1, ${ds.height}, ${ds.width}] gray.`, "Evaluate a model trained on Fashion-MNIST (for example one written by `convlens train`).");
    }
    const labels = model.labels.length === FASHION_MNIST_LABELS.length ? model.labels : FASHION_MNIST_LABELS;
    const job = cliJob(opts, "evaluate");
    let m;
    try {
      m = await evaluateClassifier(async (x) => (await model.run(x))[model.output], ds, prep, labels, { ...job, batchSize: opts.batch });
    } finally {
      job.done();
    }
    let image;
    if (opts.image) {
      const title = `${model.name} on Fashion-MNIST ${opts.split}: accuracy ${(m.accuracy * 100).toFixed(2)}% (${m.correct}/${m.total})`;
      writeFileAtomic(opts.out, await confusionMatrixPng(m.confusion, labels, title));
      image = opts.out;
    }
    await engine.dispose();
    if (opts.json) {
      const K = labels.length;
      const matrix = Array.from({ length: K }, (_, y) => Array.from(m.confusion.subarray(y * K, (y + 1) * K)));
      process.stdout.write(`${JSON.stringify({ model: model.name, data: ds.source, accuracy: m.accuracy, loss: m.loss, correct: m.correct, total: m.total, perClass: m.perClass, confusion: matrix, ...image ? { image } : {} }, null, 2)}
`);
      return;
    }
    const lines = [`model ${model.name} on ${ds.source}: ${m.total} images`, `accuracy ${m.accuracy.toFixed(4)} (${m.correct}/${m.total})`, `loss ${m.loss.toFixed(4)}`, "per class:"];
    const width = Math.max(...labels.map((l) => l.length));
    for (const p of m.perClass)
      lines.push(`  ${p.label.padEnd(width)}  ${p.accuracy.toFixed(4)}  (${p.correct}/${p.total})`);
    if (image)
      lines.push(`confusion matrix -> ${image}`);
    process.stdout.write(`${lines.join("\n")}
`);
  });
}
export {
  define
};
