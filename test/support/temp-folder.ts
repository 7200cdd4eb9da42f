// Temp folders that remove themselves. Every folder made here is removed after its test file has run
// (test/support/temp-folder-setup.ts, a vitest setup file, registers the afterAll), so a user who runs
// `npm test` does not collect convlens-* folders in the temp folder, and a test that fails half-way
// still cleans up. Tests make temp folders only through this module: test/util/temp-folders.test.ts
// fails on a bare mkdtemp/mkdtempSync anywhere else under test/.
import { chmodSync, lstatSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const madeHere = new Set<string>();

/** A fresh folder `<parent>/<prefix>XXXXXX` (parent: the temp folder), removed after this test file. */
export function tempFolder(prefix: string, parent: string = tmpdir()): string {
  const folder = mkdtempSync(join(parent, prefix));
  madeHere.add(folder);
  return folder;
}

/** Removes every folder made by tempFolder so far (the setup file calls this after each test file). */
export function removeTempFolders(): void {
  for (const folder of madeHere) {
    removeFolder(folder);
    madeHere.delete(folder);
  }
}

/** Removes a folder and everything in it, read-only folders included. */
export function removeFolder(folder: string): void {
  try {
    rmSync(folder, { recursive: true, force: true });
  } catch {
    // A test that made a folder read-only (test/cli/unwritable-out.test.ts) leaves entries rm cannot
    // unlink: give the owner its rights back, then remove.
    restoreOwnerRights(folder);
    rmSync(folder, { recursive: true, force: true });
  }
}

function restoreOwnerRights(path: string): void {
  const stat = lstatSync(path, { throwIfNoEntry: false });
  if (stat === undefined || !stat.isDirectory()) return;
  chmodSync(path, 0o700);
  for (const name of readdirSync(path)) restoreOwnerRights(join(path, name));
}
