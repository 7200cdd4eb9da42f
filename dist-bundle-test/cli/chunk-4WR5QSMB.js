import {
  ConvLensError
} from "./chunk-N6ATQ4RF.js";

// dist/io/files.js
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, basename, join } from "node:path";
function readFileOrExplain(path, what) {
  try {
    return readFileSync(path);
  } catch (e) {
    const code = e.code;
    const reason = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a directory" : code === "EACCES" ? "permission denied" : e.message;
    throw new ConvLensError("INPUT_UNREADABLE", `Cannot read ${what} "${path}": ${reason}.`, code === "ENOENT" ? "Check the path (relative paths are from the current directory)." : void 0, { cause: e });
  }
}
function ensureDir(dir) {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    const code = e.code;
    const reason = code === "EEXIST" || code === "ENOTDIR" ? "a file is in the way (the path or one of its parent folders is a file, not a folder)" : code === "EACCES" || code === "EPERM" ? "permission denied" : code === "EROFS" ? "the file system is read-only" : e.message;
    throw new ConvLensError("INVALID_ARGUMENT", `Cannot create the output folder "${dir}": ${reason}.`, "Choose another output path (--out).", { cause: e });
  }
}
function writeFileAtomic(path, data) {
  ensureDir(dirname(path));
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    const code = e.code;
    const reason = code === "EISDIR" ? "it is a folder" : code === "ENOSPC" ? "the disk is full" : code === "EACCES" || code === "EPERM" ? "permission denied" : e.message;
    throw new ConvLensError("INVALID_ARGUMENT", `Cannot write "${path}": ${reason}.`, "Choose another output path (--out), or check that the folder is writable.", { cause: e });
  }
}

export {
  readFileOrExplain,
  ensureDir,
  writeFileAtomic
};
