/**
 * Builds the portal's single-page app. `root` is this folder whatever the caller's working directory; the output
 * folder defaults to `.orgadmin/web-dist` and is meant to be overridden by the caller, e.g. the server's
 * `build({ configFile: 'web/vite.config.ts', build: { outDir } })` or `vite build --config web/vite.config.ts
 * --outDir DIR` (a relative outDir resolves against this folder, as Vite resolves it against `root`).
 */
import { fileURLToPath } from 'node:url';

import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const webRoot = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root: webRoot,
  base: '/',
  publicDir: false,
  plugins: [react()],
  build: {
    outDir: '../.orgadmin/web-dist',
    emptyOutDir: true,
    sourcemap: false,
    target: 'es2022',
  },
  server: {
    // The UI imports the pure spec schema from ../src/domain (same rules as the server).
    fs: { allow: [fileURLToPath(new URL('..', import.meta.url))] },
  },
});
