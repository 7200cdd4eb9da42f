import {
  FASHION_MNIST_LABELS
} from "./chunk-X2V5Z5UO.js";
import {
  ConvLensError
} from "./chunk-N6ATQ4RF.js";

// dist/data/fashion-mnist.js
import { existsSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

// dist/data/idx.js
import { constants as bufferConstants } from "node:buffer";
import { constants, gunzipSync } from "node:zlib";
var MAX_BYTES = bufferConstants.MAX_LENGTH;
function idxHeader(raw, bad) {
  if (raw.length < 4 || raw[0] !== 0 || raw[1] !== 0)
    throw bad("bad magic number");
  if (raw[2] !== 8)
    throw bad("the element type is not unsigned byte");
  const rank = raw[3];
  if (rank < 1 || rank > 4 || raw.length < 4 + 4 * rank)
    throw bad("the rank is not 1 to 4");
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i, false));
  return { dims, n: dims.reduce((a, b) => a * b, 1), start: 4 + 4 * rank };
}
function parseIdx(bytes, source) {
  const bad = (why) => new ConvLensError("INPUT_UNREADABLE", `${source} is not a valid IDX file: ${why}.`, "Expected the (Fashion-)MNIST format: magic 0x00000803 for images or 0x00000801 for labels.");
  const claim = (dims2, n2, found) => bad(`the header claims dims ${dims2.join("x")}, ${n2.toLocaleString("en-US")} values, but ${found}`);
  let raw = bytes;
  if (raw.length >= 2 && raw[0] === 31 && raw[1] === 139) {
    let head;
    try {
      head = gunzipSync(raw.subarray(0, 256), { finishFlush: constants.Z_SYNC_FLUSH });
    } catch (e) {
      throw new ConvLensError("INPUT_UNREADABLE", `Cannot decompress ${source}: ${e.message}.`, "The file is damaged; download it again.", { cause: e });
    }
    const { dims: dims2, n: n2, start: start2 } = idxHeader(head, bad);
    if (start2 + n2 > MAX_BYTES)
      throw claim(dims2, n2, `this process can hold at most ${MAX_BYTES.toLocaleString("en-US")} bytes`);
    try {
      raw = gunzipSync(raw, { maxOutputLength: start2 + n2 + 1 });
    } catch (e) {
      if (e.code === "ERR_BUFFER_TOO_LARGE")
        throw claim(dims2, n2, "more data follows");
      throw new ConvLensError("INPUT_UNREADABLE", `Cannot decompress ${source}: ${e.message}.`, "The file is truncated; download it again.", { cause: e });
    }
  }
  const { dims, n, start } = idxHeader(raw, bad);
  if (raw.length - start !== n)
    throw claim(dims, n, `${(raw.length - start).toLocaleString("en-US")} bytes follow`);
  return { dims, data: raw.subarray(start, start + n) };
}

// dist/data/fashion-mnist.js
var SPLITS = ["train", "test"];
function checkSplit(split) {
  if (SPLITS.includes(split))
    return split;
  throw new ConvLensError("INVALID_ARGUMENT", `Unknown split "${split}": MNIST-format datasets have the splits ${SPLITS.join(" and ")}.`, `Use --split ${SPLITS.join(" or --split ")}.`);
}
var DEBIAN_FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist";
var SUBSET_DIR = fileURLToPath(new URL("../../data/fashion-mnist-subset", import.meta.url));
var FASHION_MNIST_CLASSES = FASHION_MNIST_LABELS.length;
var FASHION_MNIST_PREPROCESSING = { size: [28, 28], channels: "gray", range: [0, 1], mean: [0], std: [1], resize: "stretch" };
var FILES = {
  train: { images: "train-images-idx3-ubyte", labels: "train-labels-idx1-ubyte" },
  test: { images: "t10k-images-idx3-ubyte", labels: "t10k-labels-idx1-ubyte" }
};
var HOW_TO_GET = `Install it with \`sudo apt-get install dataset-fashion-mnist\` (Debian/Ubuntu; files land in ${DEBIAN_FASHION_MNIST_DIR}), or download train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz from https://github.com/zalandoresearch/fashion-mnist (data/fashion) into a folder and pass it with --data. A 2,000-image test subset ships with ConvLens: --data data/fashion-mnist-subset.`;
function findFile(dir, base) {
  for (const name of [`${base}.gz`, base, base.replace(/-idx/, ".idx"), `${base.replace(/-idx/, ".idx")}.gz`]) {
    const p = join(dir, name);
    if (existsSync(p))
      return p;
  }
  return void 0;
}
function candidateDirs(dir) {
  return dir !== void 0 ? [resolve(dir)] : [DEBIAN_FASHION_MNIST_DIR];
}
function locateFashionMnist(split, dir) {
  checkSplit(split);
  const looked = [];
  for (const d of candidateDirs(dir)) {
    if (!existsSync(d)) {
      looked.push(`${d} (no such folder)`);
      continue;
    }
    if (!statSync(d).isDirectory()) {
      looked.push(`${d} (not a folder)`);
      continue;
    }
    const images = findFile(d, FILES[split].images);
    const labels = findFile(d, FILES[split].labels);
    if (images && labels)
      return { images, labels, dir: d };
    const missing = [images ? "" : FILES[split].images, labels ? "" : FILES[split].labels].filter(Boolean).map((f) => `${f}[.gz]`);
    looked.push(`${d} (missing ${missing.join(" and ")})`);
  }
  throw new ConvLensError("INPUT_UNREADABLE", `Fashion-MNIST ${split} set not found. Looked in: ${looked.join("; ")}.`, HOW_TO_GET);
}
function loadFashionMnist(split, dir) {
  const files = locateFashionMnist(split, dir);
  return loadIdxPair(files.images, files.labels, FASHION_MNIST_CLASSES, `Fashion-MNIST ${split} (${files.dir})`);
}
function hasFashionMnist(split, dir) {
  try {
    locateFashionMnist(split, dir);
    return true;
  } catch {
    return false;
  }
}
function loadIdxPair(imagesPath, labelsPath, classes, source, readFile) {
  const read = (p) => {
    if (readFile)
      return readFile(p);
    try {
      return readFileSync(p);
    } catch (e) {
      throw new ConvLensError("INPUT_UNREADABLE", `Cannot read "${p}": ${e.message}.`, HOW_TO_GET, { cause: e });
    }
  };
  const images = parseIdx(read(imagesPath), `"${imagesPath}"`);
  const labels = parseIdx(read(labelsPath), `"${labelsPath}"`);
  const bad = (why) => new ConvLensError("INPUT_UNREADABLE", `${source} is malformed: ${why}.`, `Download the files again. ${HOW_TO_GET}`);
  if (images.dims.length !== 3)
    throw bad(`"${imagesPath}" holds a ${images.dims.length}-D array, not images [N, height, width]`);
  if (labels.dims.length !== 1)
    throw bad(`"${labelsPath}" holds a ${labels.dims.length}-D array, not labels [N]`);
  if (images.dims[0] !== labels.dims[0])
    throw bad(`${images.dims[0]} images but ${labels.dims[0]} labels`);
  for (let i = 0; i < labels.data.length; i++) {
    if (labels.data[i] >= classes)
      throw bad(`the label at index ${i} is not a class 0..${classes - 1}`);
  }
  return {
    images: images.data,
    labels: labels.data,
    count: images.dims[0],
    channels: 1,
    height: images.dims[1],
    width: images.dims[2],
    source
  };
}

export {
  parseIdx,
  SPLITS,
  checkSplit,
  DEBIAN_FASHION_MNIST_DIR,
  SUBSET_DIR,
  FASHION_MNIST_CLASSES,
  FASHION_MNIST_PREPROCESSING,
  candidateDirs,
  locateFashionMnist,
  loadFashionMnist,
  hasFashionMnist,
  loadIdxPair
};
