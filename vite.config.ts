import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

/**
 * Cross-origin isolation (COOP/COEP) lets the wasm backend use threads (SharedArrayBuffer). Every
 * resource of the site is its own, so isolation costs nothing. Static hosts that cannot send these
 * headers get them from the site's Service Worker (DESIGN.md).
 */
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

// `base: './'` keeps every asset URL relative, so the built folder works under any base path.
export default defineConfig({
  base: './',
  plugins: [react()],
  worker: { format: 'es' },
  build: { target: 'es2022', sourcemap: true },
  server: { headers: isolation },
  preview: { headers: isolation },
});
