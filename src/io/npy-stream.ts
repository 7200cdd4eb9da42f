// An .npy file written a few rows at a time (`explain` over more inputs than fit in memory): the
// rows go to a temporary file beside the target, whose header is rewritten with the final row
// count before it is renamed over the target, so a cancelled or failed run leaves no partial file.
import { closeSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { Tensor } from '../engine/tensor.js';
import { writeFileAtomic, writeTarget } from './files.js';
import { npyHeader } from './npy.js';
import { removeOnExit } from './remove-on-exit.js';

/** Room for any header: a shape of eight 15-digit sizes fits, and the data stays 64-byte aligned. */
const HEADER_BYTES = 256;

export class NpyStream {
  private readonly temp: string;
  private readonly target: { path: string; special: boolean };
  private fd: number | undefined;
  private rows = 0;
  private rowDims: number[] | undefined;
  private dtype: Tensor['dtype'] | undefined;
  /** Drops the temporary file from the ones removed at exit (it was renamed or removed). */
  private forgetTemp: () => void = () => undefined;

  constructor(readonly path: string) {
    this.target = writeTarget(path);
    // a device or pipe gets the finished file in one write; its temporary file cannot sit beside it
    const folder = this.target.special ? tmpdir() : dirname(this.target.path);
    this.temp = join(folder, `.${basename(this.target.path)}.${process.pid}.${Date.now()}.tmp`);
  }

  /** Appends the rows of `t` ([rows, ...]); every call must give the same dtype and row shape. */
  append(t: Tensor): void {
    const [rows, ...rowDims] = t.dims;
    if (this.fd === undefined) {
      this.fd = openSync(this.temp, 'w');
      this.forgetTemp = removeOnExit(this.temp);
      this.rowDims = rowDims;
      this.dtype = t.dtype;
      writeSync(this.fd, npyHeader(t.dtype, [0, ...rowDims], HEADER_BYTES));
    } else if (t.dtype !== this.dtype || rowDims.length !== this.rowDims!.length || rowDims.some((d, i) => d !== this.rowDims![i])) {
      throw new Error(`NpyStream: rows of ${t.dtype} [${rowDims.join(', ')}] after ${this.dtype} [${this.rowDims!.join(', ')}]`);
    }
    writeSync(this.fd, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    this.rows += rows ?? 1;
  }

  /** Writes the final header and puts the file in place. */
  close(): void {
    if (this.fd === undefined) return;
    writeSync(this.fd, npyHeader(this.dtype!, [this.rows, ...this.rowDims!], HEADER_BYTES), 0, HEADER_BYTES, 0);
    closeSync(this.fd);
    this.fd = undefined;
    this.forgetTemp();
    if (!this.target.special) return renameSync(this.temp, this.target.path);
    try {
      writeFileAtomic(this.path, readFileSync(this.temp));
    } finally {
      rmSync(this.temp, { force: true });
    }
  }

  /** Removes the temporary file (a run that failed or was cancelled). */
  abort(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    this.forgetTemp();
    rmSync(this.temp, { force: true });
  }
}
