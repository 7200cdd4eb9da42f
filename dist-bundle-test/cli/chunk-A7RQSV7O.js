import {
  isImagePath,
  preprocessImage
} from "./chunk-JFQ3PAZH.js";
import {
  fillBatch,
  pixelTable
} from "./chunk-EQEDVHDE.js";
import {
  checkSplit,
  loadIdxPair,
  locateFashionMnist,
  parseIdx
} from "./chunk-XD57GLXB.js";
import {
  FASHION_MNIST_LABELS
} from "./chunk-X2V5Z5UO.js";
import {
  ConvLensError
} from "./chunk-N6ATQ4RF.js";

// dist/data/sources.js
import { createHash } from "node:crypto";
import { existsSync, readdirSync } from "node:fs";
import { basename as basename2, dirname as dirname2, extname, isAbsolute as isAbsolute2, join as join2, relative as relative2 } from "node:path";

// dist/io/file-access.js
import { closeSync, constants, fstatSync, openSync, readSync, realpathSync, statSync } from "node:fs";
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
var fmtBytes = (n) => n >= 1 << 20 ? `${Math.round(n / (1 << 20))} MB` : `${Math.ceil(n / 1024)} kB`;
function realpathLoose(path) {
  const abs = resolve(path);
  try {
    return { real: realpathSync.native(abs), exists: true };
  } catch {
  }
  const tail = [];
  let head = abs;
  for (; ; ) {
    const parent = dirname(head);
    if (parent === head)
      return { real: abs, exists: false };
    tail.unshift(basename(head));
    head = parent;
    try {
      return { real: join(realpathSync.native(head), ...tail), exists: false };
    } catch {
    }
  }
}
var within = (root, path) => {
  const rel = relative(root, path);
  return rel === "" || rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
};
var FileAccess = class _FileAccess {
  static anywhere = new _FileAccess();
  /** the roots' real paths (folders that exist) */
  roots;
  maxFileBytes;
  outsideHint;
  constructor(options = {}) {
    this.maxFileBytes = options.maxFileBytes ?? Infinity;
    this.outsideHint = options.outsideHint ?? "Use a file inside the allowed folders.";
    if (options.roots) {
      const real = [];
      for (const r of options.roots) {
        try {
          const p = realpathSync.native(resolve(r));
          if (statSync(p).isDirectory() && !real.includes(p))
            real.push(p);
        } catch {
        }
      }
      this.roots = real;
    }
  }
  /** Whether `path` (resolved, symlinks followed) lies inside a root. Says nothing about whether it exists. */
  allows(path) {
    return !this.roots || this.roots.some((r) => within(r, realpathLoose(path).real));
  }
  /**
   * The real path of a regular file or folder `path` may be read from; `name` is how messages
   * refer to it (e.g. `dataset "photos"`). Refuses paths outside the roots (before saying whether
   * they exist), special files, and files over the size limit.
   */
  entry(path, name) {
    const { real, exists } = realpathLoose(path);
    if (this.roots && !this.roots.some((r) => within(r, real))) {
      throw new ConvLensError("FORBIDDEN", `${name} is outside the folders this server reads from.`, this.outsideHint);
    }
    let st;
    try {
      if (!exists)
        throw new Error("missing");
      st = statSync(real);
    } catch {
      throw new ConvLensError("INPUT_UNREADABLE", `${name} does not exist.`, "Check the path (relative paths are from the folder the program was started in).");
    }
    if (st.isDirectory())
      return { kind: "folder", path: real };
    if (!st.isFile())
      throw new ConvLensError("INPUT_UNREADABLE", `${name} is not a regular file (it is a device, pipe or socket).`, "Name a regular file or a folder.");
    this.checkSize(st.size, name);
    return { kind: "file", path: real, size: st.size };
  }
  /** As `entry`, for a path that must be a regular file. */
  file(path, name) {
    const e = this.entry(path, name);
    if (e.kind !== "file")
      throw new ConvLensError("INPUT_UNREADABLE", `${name} is a folder, not a file.`);
    return e;
  }
  /**
   * Reads a file that passes `file`. The descriptor is opened without following a symlink and
   * without blocking, and checked again (regular, size) before any byte is read, so a path
   * swapped after the check cannot turn into a pipe, a device or a larger file.
   */
  read(path, name) {
    const checked = this.file(path, name);
    let fd;
    try {
      fd = openSync(checked.path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOFOLLOW ?? 0));
    } catch (e) {
      const code = e.code;
      throw new ConvLensError("INPUT_UNREADABLE", `Cannot read ${name}: ${code === "EACCES" ? "permission denied" : code === "ELOOP" ? "it changed into a symbolic link" : "it cannot be opened"}.`, void 0, { cause: e });
    }
    try {
      const st = fstatSync(fd);
      if (!st.isFile())
        throw new ConvLensError("INPUT_UNREADABLE", `${name} is not a regular file (it is a device, pipe or socket).`, "Name a regular file or a folder.");
      this.checkSize(st.size, name);
      const buf = Buffer.allocUnsafe(st.size);
      let off = 0;
      while (off < st.size) {
        const n = readSync(fd, buf, off, st.size - off, off);
        if (n === 0)
          break;
        off += n;
      }
      return off === st.size ? buf : buf.subarray(0, off);
    } finally {
      closeSync(fd);
    }
  }
  checkSize(size, name) {
    if (size > this.maxFileBytes) {
      throw new ConvLensError("INPUT_UNREADABLE", `${name} is ${fmtBytes(size)}; files up to ${fmtBytes(this.maxFileBytes)} are read.`, "Split the data into smaller files (e.g. a folder of images).");
    }
  }
};

// dist/data/sources.js
function openSource(spec, options = {}) {
  const access = options.access ?? FileAccess.anywhere;
  if (options.split !== void 0)
    checkSplit(options.split);
  const m = /^fashion-mnist(?::(train|test))?$/i.exec(spec);
  if (m) {
    const split = m[1]?.toLowerCase() ?? options.split ?? "train";
    const files = locateFashionMnist(split);
    return idxSource(access, files.images, files.labels, `fashion-mnist:${split}`, options.classes ?? FASHION_MNIST_LABELS);
  }
  const withSplit = /^(.*):(train|test)$/.exec(spec);
  if (withSplit && access.allows(withSplit[1]) && existsSync(withSplit[1])) {
    const dir = access.entry(withSplit[1], `Dataset "${withSplit[1]}"`);
    if (dir.kind === "folder")
      return openSource(dir.path, { ...options, split: withSplit[2] });
  }
  const found = (() => {
    try {
      return access.entry(spec, `Dataset "${spec}"`);
    } catch (e) {
      if (e instanceof ConvLensError && e.code === "INPUT_UNREADABLE" && / does not exist/.test(e.message)) {
        throw new ConvLensError("INPUT_UNREADABLE", `Dataset "${spec}" not found.`, "Pass a folder of images (one sub-folder per class), an IDX file or folder (Fashion-MNIST format), a text file listing image paths, or `fashion-mnist[:train|test]`.");
      }
      throw e;
    }
  })();
  const path = found.path;
  if (found.kind === "folder") {
    const split = options.split ?? "train";
    const hasIdx = readdirSync(path).some((f) => /idx\d-ubyte/.test(f));
    if (hasIdx) {
      const files = locateFashionMnist(split, path);
      return idxSource(access, files.images, files.labels, `${path}:${split}`, options.classes);
    }
    return folderSource(access, path);
  }
  if (/idx3-ubyte(\.gz)?$/.test(path)) {
    const labels = path.replace("images-idx3", "labels-idx1");
    return idxSource(access, path, labels !== path && existsSync(labels) ? labels : void 0, path, options.classes);
  }
  if (isImagePath(path))
    return listSource(access, [path], [-1], [], path, dirname2(path));
  return listFileSource(access, path);
}
function hash(parts) {
  const h = createHash("sha256");
  for (const p of parts)
    h.update(`${p}\0`);
  return h.digest("hex").slice(0, 24);
}
function describeIdx(spec, imagesPath, ds) {
  const size = `${ds.count} images, ${ds.height}x${ds.width}`;
  const m = /^(.*):(train|test)$/.exec(spec);
  if (m)
    return m[1] === "fashion-mnist" ? `Fashion-MNIST ${m[2]} (${size})` : `${basename2(m[1])} ${m[2]} (${size})`;
  return `${basename2(imagesPath)} (${size})`;
}
function idxSource(access, imagesPath, labelsPath, spec, classes) {
  let ds;
  if (labelsPath) {
    const first = loadIdxPair(imagesPath, labelsPath, 256, `IDX dataset ${imagesPath}`, (p) => access.read(p, `IDX file "${p}"`));
    const maxLabel = first.labels.reduce((a, b) => Math.max(a, b), 0);
    ds = first;
    classes ??= maxLabel === 9 ? FASHION_MNIST_LABELS : Array.from({ length: maxLabel + 1 }, (_, i) => String(i));
  } else {
    const arr = parseIdx(access.read(imagesPath, `IDX file "${imagesPath}"`), `"${imagesPath}"`);
    if (arr.dims.length !== 3)
      throw new ConvLensError("INPUT_UNREADABLE", `"${imagesPath}" holds a ${arr.dims.length}-D array, not images [N, height, width].`);
    ds = { images: arr.data, labels: new Uint8Array(arr.dims[0]), count: arr.dims[0], channels: 1, height: arr.dims[1], width: arr.dims[2], source: imagesPath };
    classes ??= [];
  }
  const hasLabels = !!labelsPath;
  const h = createHash("sha256");
  h.update(ds.images);
  if (hasLabels)
    h.update(ds.labels);
  const fingerprint = h.digest("hex").slice(0, 24);
  const tables = /* @__PURE__ */ new Map();
  const tablesFor = (prep) => {
    const key = JSON.stringify(prep);
    let t = tables.get(key);
    if (!t)
      tables.set(key, t = [pixelTable(prep, 0)]);
    return t;
  };
  const checkSize = (prep) => {
    const [h2, w2] = prep.size;
    if (h2 !== ds.height || w2 !== ds.width || prep.channels !== "gray") {
      throw new ConvLensError("SHAPE_MISMATCH", `The model takes ${prep.channels} ${h2}x${w2} input; ${spec} holds gray ${ds.height}x${ds.width} images.`, "Scan it with a model trained on this dataset (gray input of the same size), or export the images to a folder.");
    }
  };
  return {
    kind: "idx",
    spec,
    description: describeIdx(spec, imagesPath, ds),
    count: ds.count,
    classes: classes ?? [],
    fingerprint,
    item: (i) => ({ label: hasLabels ? ds.labels[i] : -1, name: `#${i}` }),
    async fill(start, end, prep, out) {
      checkSize(prep);
      const idx = new Int32Array(end - start);
      for (let i = 0; i < idx.length; i++)
        idx[i] = start + i;
      fillBatch(ds, idx, tablesFor(prep), out);
    },
    async display(i) {
      const per = ds.height * ds.width;
      return { width: ds.width, height: ds.height, channels: 1, data: ds.images.slice(i * per, (i + 1) * per) };
    }
  };
}
var listImages = (root) => {
  const out = [];
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0)) {
      if (e.name.startsWith("."))
        continue;
      const p = join2(dir, e.name);
      if (e.isDirectory())
        walk(p);
      else if (isImagePath(e.name))
        out.push(p);
    }
  };
  walk(root);
  return out;
};
function folderSource(access, root) {
  const files = listImages(root);
  if (files.length === 0)
    throw new ConvLensError("INPUT_UNREADABLE", `Folder "${root}" holds no images (PNG, JPEG, WebP, ...).`, "Put images in it, one sub-folder per class.");
  const classNames = [...new Set(files.map((f) => relative2(root, f).split(/[\\/]/)).filter((p) => p.length > 1).map((p) => p[0]))].sort();
  const labels = files.map((f) => {
    const parts = relative2(root, f).split(/[\\/]/);
    return parts.length > 1 ? classNames.indexOf(parts[0]) : -1;
  });
  return listSource(access, files, labels, classNames, root, root);
}
function listFileSource(access, path) {
  const text = access.read(path, `File list "${path}"`).toString("utf8");
  const base = dirname2(path);
  const files = [];
  const lineOf = [];
  const rawLabels = [];
  text.split(/\r?\n/).forEach((line, n) => {
    const t = line.trim();
    if (!t || t.startsWith("#"))
      return;
    const m = /^(.*?)(?:\t|,)\s*([^,\t]+)$/.exec(t);
    const file = (m ? m[1] : t).trim();
    const full = isAbsolute2(file) ? file : join2(base, file);
    if (!isImagePath(full))
      throw new ConvLensError("INPUT_UNREADABLE", `Line ${n + 1} of "${path}" does not name an image file (PNG, JPEG, WebP, GIF, TIFF, AVIF).`, "One image path per line, optionally followed by a comma or tab and a label.");
    files.push(full);
    lineOf.push(n + 1);
    rawLabels.push(m ? m[2].trim() : void 0);
  });
  if (files.length === 0)
    throw new ConvLensError("INPUT_UNREADABLE", `"${path}" lists no images.`, "One image path per line, optionally followed by a comma or tab and a label.");
  const named = rawLabels.filter((l) => l !== void 0);
  const numeric = named.every((l) => /^\d+$/.test(l));
  const classes = numeric ? [] : [...new Set(named)].sort();
  const labels = rawLabels.map((l) => l === void 0 ? -1 : numeric ? Number(l) : classes.indexOf(l));
  return listSource(access, files, labels, classes, path, base, (i) => `The image on line ${lineOf[i]} of "${path}"`);
}
function listSource(access, files, labels, classes, spec, root, nameOf = (i) => `Image "${files[i]}"`) {
  const sizes = files.map((f, i) => access.file(f, nameOf(i)).size);
  const fingerprint = hash(files.flatMap((f, i) => [relative2(root, f), sizes[i], labels[i]]));
  const decode = async (i, prep) => {
    const name = nameOf(i);
    const r = await preprocessImage(access.read(files[i], name), prep, name[0].toLowerCase() + name.slice(1));
    return { tensor: r.tensor.data, display: r.display };
  };
  return {
    kind: files.length === 1 ? "list" : spec === root ? "folder" : "list",
    spec,
    description: `${files.length} images from ${spec}`,
    count: files.length,
    classes,
    fingerprint,
    item: (i) => ({ label: labels[i], name: relative2(root, files[i]) || basename2(files[i], extname(files[i])) }),
    async fill(start, end, prep, out) {
      const per = out.length / (end - start);
      const width = 8;
      for (let s = start; s < end; s += width) {
        const e = Math.min(end, s + width);
        const done = await Promise.all(Array.from({ length: e - s }, (_, k) => decode(s + k, prep)));
        done.forEach((d, k) => out.set(d.tensor, (s + k - start) * per));
      }
    },
    async display(i, prep) {
      return (await decode(i, prep)).display;
    }
  };
}

export {
  FileAccess,
  openSource
};
