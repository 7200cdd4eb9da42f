import {
  attrInts,
  attrString,
  toNumbers,
  transposeGeometry,
  windowGeometry
} from "./chunk-75463JA6.js";

// dist/models/region.js
function unitRegion(r, row, col, height, width) {
  if (r.global)
    return [0, 0, height - 1, width - 1];
  const cy = r.start[0] + row * r.jump[0];
  const cx = r.start[1] + col * r.jump[1];
  const hy = (r.size[0] - 1) / 2;
  const hx = (r.size[1] - 1) / 2;
  const clip = (v, hi) => Math.max(0, Math.min(hi, v));
  return [clip(Math.ceil(cy - hy), height - 1), clip(Math.ceil(cx - hx), width - 1), clip(Math.floor(cy + hy), height - 1), clip(Math.floor(cx + hx), width - 1)];
}

// dist/models/receptive-field.js
var IDENTITY_LIKE = /* @__PURE__ */ new Set(["Relu", "LeakyRelu", "PRelu", "Elu", "Sigmoid", "Tanh", "Clip", "HardSigmoid", "HardSwish", "Softplus", "Softsign", "BatchNormalization", "Identity", "Dropout", "Neg", "Abs", "Exp", "Sqrt", "Cast"]);
var COMBINE = /* @__PURE__ */ new Set(["Add", "Sub", "Mul", "Div", "Sum", "Max", "Min", "Mean", "Concat", "Where"]);
function receptiveFields(graph, b, input) {
  const rf = /* @__PURE__ */ new Map();
  const inShape = b.shapeOf(input);
  const H = typeof inShape[2] === "number" ? inShape[2] : 0;
  const W = typeof inShape[3] === "number" ? inShape[3] : 0;
  const whole = { size: [H, W], jump: [H, W], start: [(H - 1) / 2, (W - 1) / 2], global: true };
  rf.set(input, { size: [1, 1], jump: [1, 1], start: [0, 0], global: false });
  for (const node of graph.nodes) {
    const ins = node.inputs.filter((i) => i && rf.has(i));
    if (ins.length === 0)
      continue;
    const src = rf.get(ins[0]);
    const out = node.outputs[0];
    if (!out)
      continue;
    const shape = b.factsOf(out).shape;
    let r;
    if (src.global)
      r = whole;
    else if (node.op === "Conv" || node.op === "MaxPool" || node.op === "AveragePool") {
      const xs = b.shapeOf(node.inputs[0]);
      const kernel = node.op === "Conv" ? b.shapeOf(node.inputs[1]).slice(2) : attrInts(node, "kernel_shape");
      if (kernel.length !== 2)
        r = whole;
      else {
        const g = windowGeometry(node, xs.slice(2), kernel);
        r = { size: [0, 0], jump: [0, 0], start: [0, 0], global: false };
        for (let a = 0; a < 2; a++) {
          r.jump[a] = src.jump[a] * g.strides[a];
          r.size[a] = src.size[a] + (kernel[a] - 1) * g.dilations[a] * src.jump[a];
          r.start[a] = src.start[a] + ((kernel[a] - 1) * g.dilations[a] / 2 - g.padBegin[a]) * src.jump[a];
        }
      }
    } else if (node.op === "ConvTranspose") {
      const xs = b.shapeOf(node.inputs[0]);
      const kernel = b.shapeOf(node.inputs[1]).slice(2);
      const g = transposeGeometry(node, xs.slice(2), kernel);
      r = { size: [0, 0], jump: [0, 0], start: [0, 0], global: false };
      for (let a = 0; a < 2; a++) {
        r.jump[a] = src.jump[a] / g.strides[a];
        r.size[a] = src.size[a] + (Math.ceil(kernel[a] / g.strides[a]) - 1) * src.jump[a];
        r.start[a] = src.start[a] + (g.padBegin[a] - (kernel[a] - 1) * g.dilations[a] / 2) * r.jump[a];
      }
    } else if (node.op === "Resize") {
      const scales = node.inputs[2] ? b.valueOf(node.inputs[2]) : void 0;
      const xs = b.shapeOf(node.inputs[0]);
      const s = scales ? toNumbers(scales).slice(2) : shape && xs ? [Number(shape[2]) / Number(xs[2]), Number(shape[3]) / Number(xs[3])] : [1, 1];
      const linear = attrString(node, "mode", "nearest") === "linear";
      r = { size: [0, 0], jump: [0, 0], start: [0, 0], global: false };
      for (let a = 0; a < 2; a++) {
        r.jump[a] = src.jump[a] / s[a];
        r.size[a] = src.size[a] + (linear ? src.jump[a] : 0);
        r.start[a] = src.start[a] + (0.5 / s[a] - 0.5) * src.jump[a];
      }
    } else if (IDENTITY_LIKE.has(node.op)) {
      r = src;
    } else if (COMBINE.has(node.op)) {
      const all = ins.map((i) => rf.get(i));
      if (all.some((f) => f.global))
        r = whole;
      else {
        r = { size: [0, 0], jump: [0, 0], start: [0, 0], global: false };
        for (let a = 0; a < 2; a++) {
          const lo = Math.min(...all.map((f) => f.start[a] - (f.size[a] - 1) / 2));
          const hi = Math.max(...all.map((f) => f.start[a] + (f.size[a] - 1) / 2));
          r.size[a] = hi - lo + 1;
          r.start[a] = (lo + hi) / 2;
          r.jump[a] = Math.max(...all.map((f) => f.jump[a]));
        }
      }
    } else {
      r = whole;
    }
    for (const o of node.outputs)
      if (o)
        rf.set(o, r);
  }
  return rf;
}

export {
  unitRegion,
  receptiveFields
};
