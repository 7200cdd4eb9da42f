import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The studio page. `vite build --config web/vite.config.ts` writes dist/web, which the studio
// server (src/interfaces/server/app.ts) serves; `vite --config web/vite.config.ts` runs a dev
// server that forwards /api to a studio started with `convlens studio` on the default port.
const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: './',
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 1024,
  },
  // The engine worker (src/engine.worker.ts) is an ES module: it shares chunks with the page.
  worker: { format: 'es' },
  server: {
    proxy: { '/api': 'http://127.0.0.1:7860' },
    port: 5174,
    // as the studio server sends them: isolation lets the engine worker use several threads
    headers: { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' },
  },
});
