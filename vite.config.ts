import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';
import { tfjsWasmThreads } from './scripts/vite-plugin-tfjs-wasm-threads';

/**
 * Cross-origin isolation (COOP/COEP) lets the wasm backend use threads (SharedArrayBuffer). Every
 * resource of the site is its own, so isolation costs nothing. Static hosts that cannot send these
 * headers get them from the site's Service Worker (DESIGN.md).
 */
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/**
 * The Content-Security-Policy: the site's own origin only, no inline script, no eval. Sent as a
 * header (a <meta> policy would not cover the engine's Web Worker, which takes its policy from its
 * own response). public/_headers carries the same line for static hosts; keep the two in step
 * (tests/e2e/security.test.ts compares them).
 */
export const CONTENT_SECURITY_POLICY = [
  // Anything not named below: the site's own origin.
  "default-src 'self'",
  // Scripts: the bundle's own files. 'wasm-unsafe-eval' lets WebAssembly.instantiate compile the tfjs
  // wasm backend's .wasm files (fetched from 'self'); it allows no JavaScript eval or new Function.
  "script-src 'self' 'wasm-unsafe-eval'",
  // Workers: the engine worker (a same-origin module script), the wasm backend's threads (classic
  // scripts of the build, not Blob URLs: scripts/vite-plugin-tfjs-wasm-threads.ts) and the Service
  // Worker. No blob:.
  "worker-src 'self'",
  // fetch/XHR: the checkpoint, the corpus and the .wasm files, all from the site itself.
  "connect-src 'self'",
  // Styles: the bundle's CSS files. No 'unsafe-inline': React's and uPlot's styles are set through
  // the CSSOM (element.style), which a policy does not govern.
  "style-src 'self'",
  // Images: the favicon. (The charts are canvases: drawing needs no img-src.)
  "img-src 'self'",
  "font-src 'self'",
  "manifest-src 'self'",
  // No plugins, no <base> rewriting, forms post only to the site, and no page may frame the site.
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * `vite dev` only: the dev server injects an inline script (React Fast Refresh's preamble) and
 * serves CSS as <style> elements, so scripts and styles may be inline there. Never sent by a build.
 */
const DEV_CONTENT_SECURITY_POLICY = CONTENT_SECURITY_POLICY.replace(
  "script-src 'self' 'wasm-unsafe-eval'",
  "script-src 'self' 'wasm-unsafe-eval' 'unsafe-inline'",
).replace("style-src 'self'", "style-src 'self' 'unsafe-inline'");

/** The Service Worker's source, and the fixed name it is served at, at the site's root (its scope). */
const SERVICE_WORKER_ENTRY = 'src/sw/sw.ts';
const SERVICE_WORKER_FILE = 'sw.js';

/**
 * The site's Service Worker (src/sw/sw.ts) as `sw.js` beside index.html. A build emits it as one
 * more entry chunk with a fixed name (no hash: the page registers it by name, and the browser
 * checks it for updates by its bytes). It must import nothing at run time: a chunk it shared with
 * the page would make it a module script, which not every browser runs as a Service Worker; the
 * build fails if it does. `vite dev` serves the same file compiled on the fly.
 */
function serviceWorker(): Plugin {
  return {
    name: 'gpt-lab-service-worker',
    buildStart() {
      if (this.environment?.config.consumer === 'client' && this.environment.mode === 'build') {
        this.emitFile({ type: 'chunk', id: SERVICE_WORKER_ENTRY, fileName: SERVICE_WORKER_FILE });
      }
    },
    generateBundle(_options, bundle) {
      const sw = bundle[SERVICE_WORKER_FILE];
      if (sw?.type === 'chunk' && (sw.imports.length > 0 || sw.dynamicImports.length > 0)) {
        this.error(`${SERVICE_WORKER_ENTRY} must not import anything at run time (it imports ${[...sw.imports, ...sw.dynamicImports].join(', ')})`);
      }
    },
    configureServer(server) {
      server.middlewares.use(async (req, res, next) => {
        if (req.url?.split('?')[0] !== `/${SERVICE_WORKER_FILE}`) return next();
        try {
          const result = await server.transformRequest(`/${SERVICE_WORKER_ENTRY}`);
          if (result == null) return next();
          res.setHeader('Content-Type', 'text/javascript; charset=utf-8');
          res.setHeader('Cache-Control', 'no-cache');
          // (`define` is not applied to code served this way: put the dev server's policy in by hand.)
          res.end(result.code.replaceAll('__GPT_LAB_CSP__', JSON.stringify(DEV_CONTENT_SECURITY_POLICY)));
        } catch (e) {
          next(e);
        }
      });
    },
  };
}

// `base: './'` keeps every asset URL relative, so the built folder works under any base path.
export default defineConfig({
  base: './',
  plugins: [react(), serviceWorker(), tfjsWasmThreads()],
  // The policy the Service Worker adds to the site's responses where a host sends none.
  define: { __GPT_LAB_CSP__: JSON.stringify(CONTENT_SECURITY_POLICY) },
  // The engine worker is bundled on its own, with its own plugins: tfjs lives there.
  worker: { format: 'es', plugins: () => [tfjsWasmThreads()] },
  build: {
    target: 'es2022',
    sourcemap: true,
    // The guide (index.html) and the benchmark page `npm run bench` drives in Chromium (bench.html,
    // not linked from the guide; src/bench).
    rolldownOptions: { input: { main: 'index.html', bench: 'bench.html' } },
  },
  server: { headers: { ...isolation, 'Content-Security-Policy': DEV_CONTENT_SECURITY_POLICY } },
  preview: { headers: { ...isolation, 'Content-Security-Policy': CONTENT_SECURITY_POLICY } },
});
