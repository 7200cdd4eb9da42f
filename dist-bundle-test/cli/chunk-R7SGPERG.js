// dist/methods/predict.js
function softmax(logits) {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++)
    max = Math.max(max, logits[i]);
  const out = new Float64Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++)
    sum += out[i] = Math.exp(logits[i] - max);
  for (let i = 0; i < out.length; i++)
    out[i] /= sum;
  return out;
}
function topK(model, logits, k) {
  const n = logits.dims[0];
  const classes = logits.data.length / n;
  const data = logits.data;
  const preds = [];
  for (let s = 0; s < n; s++) {
    const row = data.subarray(s * classes, (s + 1) * classes);
    const p = softmax(row);
    const order = Array.from({ length: classes }, (_, i) => i).sort((a, b) => row[b] - row[a]);
    preds.push({
      top: order.slice(0, Math.min(k, classes)).map((i) => ({ index: i, label: model.labels[i] ?? `class ${i}`, probability: p[i], logit: row[i] }))
    });
  }
  return preds;
}
async function predict(model, batch, k = 5) {
  const out = await model.run(batch);
  const logits = out[model.output];
  return { logits, predictions: topK(model, logits, k), nonFinite: nonFiniteRows(logits) };
}
function nonFiniteRows(t) {
  const n = t.dims[0] ?? 1;
  const per = t.data.length / n;
  const rows = [];
  for (let s = 0; s < n; s++) {
    for (let i = s * per; i < (s + 1) * per; i++) {
      if (!Number.isFinite(t.data[i])) {
        rows.push(s);
        break;
      }
    }
  }
  return rows;
}

export {
  softmax,
  predict
};
