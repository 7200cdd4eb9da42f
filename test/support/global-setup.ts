// Removes the run's compiled-session cache folder after the run, if vitest.config.ts made it
// (a folder the caller chose through CONVLENS_CACHE_DIR is left alone).
import { rmSync } from 'node:fs';

export default function setup(): () => void {
  const owned = process.env['CONVLENS_TEST_CACHE_OWNED'];
  return () => {
    if (owned && owned === process.env['CONVLENS_CACHE_DIR']) rmSync(owned, { recursive: true, force: true });
  };
}
