import {
  receptiveFields
} from "./chunk-2RDMIJXC.js";
import {
  attrInt,
  attrInts,
  isFloatDType,
  sizeOf
} from "./chunk-75463JA6.js";

// dist/methods/inspect/summary.js
var ACTIVATIONS = /* @__PURE__ */ new Set(["Relu", "LeakyRelu", "PRelu", "Elu", "Sigmoid", "Tanh", "Clip", "HardSigmoid", "HardSwish", "Softplus", "Softsign"]);
var FUSES_ACTIVATION = /* @__PURE__ */ new Set(["Conv", "ConvTranspose", "Gemm", "MatMul", "BatchNormalization", "InstanceNormalization", "Add"]);
var RESHAPES = /* @__PURE__ */ new Set(["Flatten", "Reshape", "Squeeze"]);
var HIDDEN = /* @__PURE__ */ new Set(["Constant", "Identity", "Dropout", "Shape", "Gather", "Unsqueeze", "Concat", "Cast", "ConstantOfShape"]);
function summarize(model) {
  const graph = model.graph;
  const b = model.builder();
  const consumers = graph.consumers();
  const rfs = receptiveFields(graph, b, model.input.name);
  const per = (shape) => shape ? shape.slice(1).reduce((a, d) => a * (typeof d === "number" ? d : 1), 1) : 0;
  const rows = [];
  const fused = /* @__PURE__ */ new Set();
  const paramsOf = (n) => n.inputs.reduce((acc, i) => {
    const t = i ? graph.initializers.get(i) : void 0;
    return acc + (t && isFloatDType(t.dtype) ? sizeOf(t.dims) : 0);
  }, 0);
  for (const node of graph.nodes) {
    if (fused.has(node))
      continue;
    const out = node.outputs[0];
    if (!out)
      continue;
    const facts = b.factsOf(out);
    if (!isFloatDType(facts.dtype) || facts.value)
      continue;
    if (HIDDEN.has(node.op) && !(node.op === "Concat" && (facts.shape?.length ?? 0) === 4))
      continue;
    const row = { name: node.name, type: node.op, output: out, shape: facts.shape ?? [], params: paramsOf(node), flops: flopsOf(node, model), receptiveField: rfs.get(out), nodes: [node.name] };
    const next = soleConsumer(consumers.get(out));
    if (next && FUSES_ACTIVATION.has(node.op) && ACTIVATIONS.has(next.op))
      absorb(row, next);
    const after = soleConsumer(consumers.get(row.output));
    if (after && RESHAPES.has(after.op) && (node.op === "GlobalAveragePool" || node.op === "GlobalMaxPool") && per(b.factsOf(after.outputs[0]).shape) === per(row.shape)) {
      absorb(row, after);
      row.type = node.op;
    }
    rows.push(row);
  }
  function absorb(row, n) {
    fused.add(n);
    row.type = `${row.type}+${n.op}`;
    row.output = n.outputs[0];
    row.shape = b.factsOf(row.output).shape ?? [];
    row.params += paramsOf(n);
    row.flops += flopsOf(n, model);
    row.receptiveField = rfs.get(row.output);
    row.nodes.push(n.name);
  }
  for (const row of rows) {
    const k = model.layerNumber(row.output);
    if (k !== void 0)
      row.number = k;
  }
  let total = 0;
  let trainable = 0;
  for (const [name, t] of graph.initializers) {
    if (!isFloatDType(t.dtype))
      continue;
    total += sizeOf(t.dims);
    if (!/running_(mean|var)|\.num_batches/.test(name) && !isBatchNormStat(model, name))
      trainable += sizeOf(t.dims);
  }
  return {
    name: model.name,
    input: { name: model.input.name, shape: model.input.shape ?? [] },
    rows,
    totalParams: total,
    trainableParams: trainable,
    totalFlops: rows.reduce((a, r) => a + r.flops, 0)
  };
}
function soleConsumer(list) {
  return list && list.length === 1 ? list[0] : void 0;
}
function isBatchNormStat(model, name) {
  return model.graph.nodes.some((n) => n.op === "BatchNormalization" && (n.inputs[3] === name || n.inputs[4] === name));
}
function flopsOf(node, model) {
  const b = model.builder();
  const count = (name) => {
    if (!name)
      return 0;
    const s = b.factsOf(name).shape;
    return s ? s.slice(1).reduce((a, d) => a * (typeof d === "number" ? d : 1), 1) : 0;
  };
  const out = count(node.outputs[0]);
  switch (node.op) {
    case "Conv": {
      const w = b.shapeOf(node.inputs[1]);
      const macs = out * w.slice(1).reduce((a, d) => a * d, 1);
      return 2 * macs + (node.inputs[2] ? out : 0);
    }
    case "ConvTranspose": {
      const w = b.shapeOf(node.inputs[1]);
      const macs = count(node.inputs[0]) * (w[1] * attrInt(node, "group", 1)) * w.slice(2).reduce((a, d) => a * d, 1);
      return 2 * macs + (node.inputs[2] ? out : 0);
    }
    case "Gemm":
    case "MatMul": {
      const a = b.shapeOf(node.inputs[0]);
      const k = node.op === "Gemm" && attrInt(node, "transA", 0) ? a[0] : a[a.length - 1];
      return 2 * out * (typeof k === "number" ? k : 1) + (node.inputs[2] ? out : 0);
    }
    case "MaxPool":
    case "AveragePool":
      return out * (attrInts(node, "kernel_shape") ?? [1]).reduce((p, q) => p * q, 1);
    case "GlobalAveragePool":
    case "GlobalMaxPool":
      return count(node.inputs[0]);
    case "BatchNormalization":
      return 2 * out;
    case "InstanceNormalization":
    case "Softmax":
    case "LogSoftmax":
      return 5 * out;
    default:
      return ACTIVATIONS.has(node.op) || ["Add", "Sub", "Mul", "Div", "Sum"].includes(node.op) ? out : 0;
  }
}
function formatSummary(s) {
  const fmtShape = (d) => `(${d.map((x) => typeof x === "number" ? String(x) : "N").join(", ")})`;
  const fmtRf = (r) => {
    if (!r)
      return "";
    if (r.global)
      return "whole image";
    const pair = (a) => a[0] === a[1] ? fmt(a[0]) : `${fmt(a[0])}x${fmt(a[1])}`;
    return `${pair(r.size)} / ${pair(r.jump)} / ${pair(r.start)}`;
  };
  const header = ["#", "Layer (type)", "Output Shape", "Param #", "FLOPs", "Receptive field (size / jump / start)"];
  const body = s.rows.map((r) => [r.number !== void 0 ? `#${r.number}` : "", `${r.name} (${r.type})`, fmtShape(r.shape), r.params.toLocaleString("en-US"), humanFlops(r.flops), fmtRf(r.receptiveField)]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const line = (cells) => cells.map((c, i) => i === 0 || i === 3 || i === 4 ? c.padStart(widths[i]) : c.padEnd(widths[i])).join("  ").trimEnd();
  const rule = (ch) => ch.repeat(widths.reduce((a, w) => a + w + 2, -2));
  return [
    `Model: "${s.name}"   input ${s.input.name} ${fmtShape(s.input.shape)}`,
    rule("="),
    line(header),
    rule("="),
    ...body.map(line),
    rule("="),
    `Total params: ${s.totalParams.toLocaleString("en-US")}`,
    `Trainable params: ${s.trainableParams.toLocaleString("en-US")}`,
    `Non-trainable params: ${(s.totalParams - s.trainableParams).toLocaleString("en-US")}`,
    `FLOPs per image: ${humanFlops(s.totalFlops)} (a multiply-add counts 2)`,
    rule("_")
  ].join("\n");
}
function fmt(v) {
  return Number.isInteger(v) ? String(v) : v.toFixed(1);
}
function humanFlops(f) {
  if (f >= 1e9)
    return `${(f / 1e9).toFixed(2)} G`;
  if (f >= 1e6)
    return `${(f / 1e6).toFixed(2)} M`;
  if (f >= 1e3)
    return `${(f / 1e3).toFixed(1)} k`;
  return String(f);
}

export {
  summarize,
  formatSummary
};
