// Vitest global setup (vitest.config.ts): the whole run, and every process it starts (the CLI,
// the studio, Chromium), gets a temp folder of its own, `<temp>/convlens-test-run-XXXXXX`, through
// TMPDIR, which os.tmpdir() and most programs honour. At the end the folder is removed whatever is
// in it, so an interrupted test or a product leak never reaches the user's /tmp, and no other
// process's temp files are ever looked at or touched. Anything named convlens-* still in it then was
// left by a test or by ConvLens itself (a studio's upload folder, say): the run fails and names it,
// since a user running the product would collect it.
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { removeFolder } from './temp-folder.js';

export default function setup(): () => void {
  const previous = process.env['TMPDIR'];
  const runFolder = mkdtempSync(join(tmpdir(), 'convlens-test-run-'));
  process.env['TMPDIR'] = runFolder;
  return () => {
    if (previous === undefined) delete process.env['TMPDIR'];
    else process.env['TMPDIR'] = previous;
    const leftovers = convLensLeftovers(runFolder);
    removeFolder(runFolder);
    if (leftovers.length > 0) {
      // vitest reports an error thrown here but still exits with 0: set the exit code as well
      process.exitCode = 1;
      throw new Error(
        `The tests left ${leftovers.length} temp file(s) or folder(s) behind: ${leftovers.join(', ')}. ` +
          'Make test folders with tempFolder() (test/support/temp-folder.ts), and find what in ConvLens leaves the others.',
      );
    }
  };
}

/** The convlens-* entries in a temp folder (what a test or ConvLens made and did not remove). */
export function convLensLeftovers(folder: string): string[] {
  return readdirSync(folder).filter((name) => name.startsWith('convlens-') || name.startsWith('.convlens-'));
}
