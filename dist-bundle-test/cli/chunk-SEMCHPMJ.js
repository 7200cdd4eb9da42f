import {
  ensureDir,
  writeFileAtomic
} from "./chunk-4WR5QSMB.js";

// dist/interfaces/cli/output.js
import { dirname, join, relative } from "node:path";
var DEFAULT_STORE = join("out", "index");
var defaultOut = (command, file) => join("out", command, ...file ? [file] : []);
var OutputFiles = class _OutputFiles {
  dir;
  written = [];
  constructor(dir) {
    this.dir = dir;
    ensureDir(dir);
  }
  /** For commands whose --out names one file: its folder is prepared the same way. */
  static forFile(path) {
    return new _OutputFiles(dirname(path));
  }
  /** Writes `name` (relative to the folder) and returns it. */
  write(name, data) {
    const path = join(this.dir, name);
    writeFileAtomic(path, data);
    this.record(path);
    return name;
  }
  /** Records a file written elsewhere (a checkpoint, a file the method wrote itself). */
  record(path) {
    if (!this.written.includes(path))
      this.written.push(path);
  }
  get files() {
    return this.written;
  }
  /** "wrote out/explain/: grid.png, summary.json", or "wrote out/train/model.onnx" for one file. */
  describe() {
    if (!this.written.length)
      return `wrote nothing to ${this.dir}`;
    if (this.written.length === 1)
      return `wrote ${this.written[0]}`;
    const names = this.written.map((p) => {
      const r = relative(this.dir, p);
      return r.startsWith("..") ? p : r;
    });
    return `wrote ${join(this.dir, "/")}: ${names.join(", ")}`;
  }
  /** Prints the "wrote" line: to stdout, or to stderr when stdout carries JSON; not with --quiet. */
  report(opts) {
    if (opts.quiet)
      return;
    (opts.json ? process.stderr : process.stdout).write(`${this.describe()}
`);
  }
};

export {
  DEFAULT_STORE,
  defaultOut,
  OutputFiles
};
