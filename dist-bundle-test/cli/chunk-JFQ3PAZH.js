import {
  readFileOrExplain
} from "./chunk-4WR5QSMB.js";
import {
  ConvLensError
} from "./chunk-N6ATQ4RF.js";

// dist/io/image.js
import sharp from "sharp";
var IMAGE_EXTENSIONS = [".png", ".jpg", ".jpeg", ".webp", ".gif", ".tif", ".tiff", ".avif"];
var isImagePath = (p) => IMAGE_EXTENSIONS.some((e) => p.toLowerCase().endsWith(e));
function decodeFailure(source, e) {
  const m = e?.message ?? "";
  const why = /unsupported image format|not a known/i.test(m) ? "it is not in a supported image format" : /pixel limit/i.test(m) ? "it has more pixels than the decoder accepts" : /premature|truncat|end of (input|file|data)|corrupt|crc|invalid|bad/i.test(m) ? "the data is truncated or corrupt" : "the decoder refused it";
  return new ConvLensError("INPUT_UNREADABLE", `Cannot decode ${source} as an image: ${why}.`, "Use a PNG, JPEG or WebP file (or a preprocessed .npy tensor).", { cause: e });
}
async function decodeImage(bytes, source, channels = 3) {
  try {
    let img = sharp(bytes, { failOn: "error" }).rotate();
    img = channels === 1 ? img.grayscale() : img.removeAlpha().toColourspace("srgb");
    const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
    return { width: info.width, height: info.height, channels: info.channels === 1 ? 1 : 3, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  } catch (e) {
    throw decodeFailure(source, e);
  }
}
async function readImageFile(path, channels = 3) {
  return decodeImage(readFileOrExplain(path, "image"), `"${path}"`, channels);
}
async function preprocessImage(bytes, prep, source) {
  const resized = await resizeForModel(bytes, prep, source);
  return { tensor: rawToTensor(resized, prep), display: resized };
}
async function resizeForModel(bytes, prep, source) {
  const channels = prep.channels === "gray" ? 1 : 3;
  const [h, w] = prep.size;
  try {
    let img = sharp(bytes, { failOn: "error" }).rotate();
    img = channels === 1 ? img.grayscale() : img.removeAlpha().toColourspace("srgb");
    if (prep.resize === "crop") {
      const upright = await img.raw().toBuffer({ resolveWithObject: true });
      const { width: W0, height: H0 } = upright.info;
      const scale = Math.max(h / H0, w / W0) / (prep.crop ?? 224 / 256);
      const W1 = Math.max(w, Math.round(W0 * scale));
      const H1 = Math.max(h, Math.round(H0 * scale));
      img = sharp(upright.data, { raw: { width: W0, height: H0, channels: upright.info.channels } }).resize(W1, H1, { fit: "fill", kernel: "lanczos3" });
      const buf = await img.raw().toBuffer({ resolveWithObject: true });
      img = sharp(buf.data, { raw: { width: buf.info.width, height: buf.info.height, channels: buf.info.channels } }).extract({
        left: Math.floor((buf.info.width - w) / 2),
        top: Math.floor((buf.info.height - h) / 2),
        width: w,
        height: h
      });
    } else {
      img = img.resize(w, h, { fit: "fill", kernel: "lanczos3" });
    }
    const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
    return { width: info.width, height: info.height, channels: info.channels === 1 ? 1 : 3, data: new Uint8Array(data) };
  } catch (e) {
    if (e instanceof ConvLensError)
      throw e;
    throw decodeFailure(source, e);
  }
}
function rawToTensor(img, prep) {
  const c = prep.channels === "gray" ? 1 : 3;
  const { width: w, height: h } = img;
  const out = new Float32Array(c * h * w);
  const [lo, hi] = prep.range;
  for (let ch = 0; ch < c; ch++) {
    const src = prep.channels === "bgr" ? 2 - ch : ch;
    const mean = prep.mean[ch] ?? prep.mean[0] ?? 0;
    const std = prep.std[ch] ?? prep.std[0] ?? 1;
    for (let i = 0; i < h * w; i++) {
      let v = img.channels === 1 ? img.data[i] : img.data[i * 3 + src];
      if (prep.invert)
        v = 255 - v;
      out[ch * h * w + i] = (lo + (hi - lo) * v / 255 - mean) / std;
    }
  }
  return { dtype: "float32", dims: [1, c, h, w], data: out };
}
function tensorToRaw(t, prep, index = 0) {
  const [, c, h, w] = t.dims;
  const data = t.data;
  const channels = c === 1 ? 1 : 3;
  const out = new Uint8Array(h * w * channels);
  const [lo, hi] = prep.range;
  for (let ch = 0; ch < channels; ch++) {
    const src = prep.channels === "bgr" ? 2 - ch : ch;
    const mean = prep.mean[src] ?? prep.mean[0] ?? 0;
    const std = prep.std[src] ?? prep.std[0] ?? 1;
    for (let i = 0; i < h * w; i++) {
      const x = data[index * c * h * w + src * h * w + i] * std + mean;
      let v = (x - lo) / (hi - lo) * 255;
      if (prep.invert)
        v = 255 - v;
      out[i * channels + ch] = Math.max(0, Math.min(255, Math.round(v)));
    }
  }
  return { width: w, height: h, channels, data: out };
}
async function encodePng(img) {
  const buf = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: img.channels } }).png().toBuffer();
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

export {
  isImagePath,
  readImageFile,
  preprocessImage,
  resizeForModel,
  rawToTensor,
  tensorToRaw,
  encodePng
};
