import { defineConfig } from 'vitest/config';

// The tests, and the CLI processes they start, run without the compiled-session cache (on by
// default in the user's cache folder, which tests must not fill; test/engine/session-cache.test.ts
// tests it in folders of its own), unless the caller sets CONVLENS_CACHE_DIR to run the whole
// suite through it.
process.env['CONVLENS_CACHE_DIR'] ??= 'off';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The run gets a temp folder of its own, removed at the end and checked for leftovers, and each
    // test file removes the temp folders it made (test/support/temp-folder.ts).
    globalSetup: ['test/support/temp-sandbox.ts'],
    setupFiles: ['test/support/temp-folder-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // ONNX Runtime sessions use both cores; running test files one at a time keeps timings sane.
    fileParallelism: false,
    env: { CONVLENS_CACHE_DIR: process.env['CONVLENS_CACHE_DIR'] },
  },
});
