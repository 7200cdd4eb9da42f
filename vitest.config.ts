import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

// Compiled sessions are cached on disk (nodeBackend); the tests, and the CLI processes they
// start, get a fresh folder per run (removed by test/support/global-setup.ts), so no run depends
// on what an earlier one left in the user's cache, and warm loads are still exercised.
if (process.env['CONVLENS_CACHE_DIR'] === undefined) {
  process.env['CONVLENS_CACHE_DIR'] = mkdtempSync(join(tmpdir(), 'convlens-test-cache-'));
  process.env['CONVLENS_TEST_CACHE_OWNED'] = process.env['CONVLENS_CACHE_DIR'];
}

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // ONNX Runtime sessions use both cores; running test files one at a time keeps timings sane.
    fileParallelism: false,
    globalSetup: ['test/support/global-setup.ts'],
    env: { CONVLENS_CACHE_DIR: process.env['CONVLENS_CACHE_DIR'] },
  },
});
