import {
  parseNpy
} from "./chunk-H7NAK5QP.js";
import {
  preprocessImage,
  tensorToRaw
} from "./chunk-JFQ3PAZH.js";
import {
  readFileOrExplain
} from "./chunk-4WR5QSMB.js";
import {
  ConvLensError
} from "./chunk-N6ATQ4RF.js";

// dist/io/inputs.js
async function loadInputs(paths, model) {
  if (paths.length === 0)
    throw new ConvLensError("INVALID_ARGUMENT", "No inputs given.", "Pass image files (PNG, JPEG, WebP) or .npy tensors.");
  const prep = model.meta.preprocessing;
  const [, c0, h0, w0] = model.input.shape;
  const c = typeof c0 === "number" ? c0 : prep.channels === "gray" ? 1 : 3;
  const h = typeof h0 === "number" ? h0 : prep.size[0];
  const w = typeof w0 === "number" ? w0 : prep.size[1];
  const per = c * h * w;
  const parts = [];
  const items = [];
  for (const path of paths) {
    if (path.toLowerCase().endsWith(".npy")) {
      const t = parseNpy(readFileOrExplain(path, ".npy input"), `"${path}"`);
      if (t.dtype !== "float32") {
        throw new ConvLensError("INPUT_UNREADABLE", `"${path}" holds ${t.dtype} values; preprocessed inputs must be float32.`, "Save it with array.astype(numpy.float32).");
      }
      const dims = t.dims.length === 3 ? [1, ...t.dims] : t.dims;
      const want = [c, h, w];
      if (dims.length !== 4 || dims.slice(1).some((d, i) => d !== want[i])) {
        throw new ConvLensError("SHAPE_MISMATCH", `"${path}" has shape (${t.dims.join(", ")}); model "${model.name}" takes (N, ${want.join(", ")}) or (${want.join(", ")}).`, "Preprocess it to the model input size, or pass the image file instead.");
      }
      const data = t.data;
      let nonFinite = 0;
      for (const v of data)
        if (!Number.isFinite(v))
          nonFinite++;
      if (nonFinite) {
        throw new ConvLensError("INPUT_UNREADABLE", `"${path}" holds ${nonFinite} NaN or infinite value${nonFinite > 1 ? "s" : ""} (of ${data.length}).`, "Check how the array was made; preprocessed inputs must be finite numbers.");
      }
      for (let k = 0; k < dims[0]; k++) {
        const one = data.slice(k * per, (k + 1) * per);
        parts.push(one);
        items.push({ source: dims[0] === 1 ? path : `${path}#${k}`, display: tensorToRaw({ dtype: "float32", dims: [1, c, h, w], data: one }, prep) });
      }
    } else {
      const { tensor, display } = await preprocessImage(readFileOrExplain(path, "image"), prep, `"${path}"`);
      parts.push(tensor.data);
      items.push({ source: path, display });
    }
  }
  const batch = new Float32Array(parts.length * per);
  parts.forEach((p, i) => batch.set(p, i * per));
  return { batch: { dtype: "float32", dims: [parts.length, c, h, w], data: batch }, items };
}

export {
  loadInputs
};
