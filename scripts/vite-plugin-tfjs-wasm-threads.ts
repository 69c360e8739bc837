/**
 * A Vite plugin that lets tfjs-backend-wasm's threaded binary start in the site (build, preview and
 * dev server).
 *
 * How tfjs 4.22 starts its threads: the threaded binary is an Emscripten program whose threads are
 * Web Workers. Each such worker runs a small loader script (kept in tfjs as the string
 * `wasmWorkerContents`) and then `importScripts` the program's JavaScript glue, the factory
 * `WasmBackendModuleThreadedSimd`. tfjs hands both to the workers as Blob URLs, and it builds the
 * second one from the factory's own source: `wasmFactoryThreadedSimd.toString()`.
 *
 * Why that breaks once Vite builds the site ("ReferenceError: e is not defined" in a thread): the
 * glue is `(() => { var _scriptDir = …; return function (Module) { … } })()`, so the factory is a
 * closure over `_scriptDir`, and `toString()` gives the inner function without it. The glue
 * survives that only because it reads the variable as `typeof _scriptDir !== "undefined" &&
 * _scriptDir`. The production minifier renames `_scriptDir` to `e` and, seeing that the name is
 * declared in the enclosing scope, folds the `typeof` test to `e !== void 0`: correct for the
 * bundle, but in a thread, where the factory's text runs on its own, `e` exists nowhere and the
 * first line that reads it throws. (Unminified, as `vite dev` serves it, the `typeof` test stays
 * and the Blob works.) Blob URLs would also need `blob:` in the site's script-src and worker-src,
 * which the site's Content-Security-Policy does not allow (no script the site did not serve as a
 * file), and in a thread the Blob would inherit that policy.
 *
 * What the plugin does instead: it emits both scripts unchanged, as files of the build
 * (`assets/tfjs-backend-wasm-threaded-simd-<hash>.js`, the glue exactly as npm ships it, and
 * `assets/tfjs-backend-wasm-threaded-simd.worker-<hash>.js`, the loader string written out as
 * tfjs would write it into its Blob), and adds two lines to tfjs's `init` so that the threads
 * load those same-origin files instead of Blobs. The minified copy of the glue still runs the
 * engine worker's own (main) thread; the threads run the intact one. Both come from the same npm
 * file, so they agree on every message and every import of the binary. Nothing else of tfjs
 * changes, and the build fails loudly if a tfjs upgrade moves the two places it patches.
 *
 * The virtual module `virtual:tfjs-wasm-threads` gives the two URLs. Under `vite dev` the same two
 * lines go into the pre-bundled copy of tfjs (a plugin of the dependency optimizer), and the dev
 * server answers the two URLs itself, under DEV_PREFIX.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Plugin } from 'vite';

const VIRTUAL_ID = 'virtual:tfjs-wasm-threads';
const RESOLVED_ID = '\0' + VIRTUAL_ID;
/** The module of tfjs-backend-wasm that starts the binary (its ES build, which Vite bundles). */
const BACKEND_MODULE = /[\\/]@tensorflow[\\/]tfjs-backend-wasm[\\/]dist[\\/]backend_wasm\.js$/;
const PATCH_NAME = '__gptLabPthreadScripts';
/** Where `vite dev` serves the two scripts (at the root: the dev server's base is '/'). */
const DEV_PREFIX = '/@gpt-lab/tfjs-wasm-threads/';
const GLUE_FILE = '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js';

/** Where a thread's loader asks for the worker script (tfjs's `locateFile` override): before its Blob. */
const WORKER_ANCHOR = "if (path.endsWith('.worker.js')) {";
/** Where `init` calls the threaded factory, after setting `mainScriptUrlOrBlob` to its Blob. */
const FACTORY_ANCHOR = 'wasm = wasmFactoryThreadedSimd(factoryConfig);';

const require = createRequire(import.meta.url);

function patchBackend(code: string): string {
  const count = (anchor: string) => code.split(anchor).length - 1;
  for (const anchor of [WORKER_ANCHOR, FACTORY_ANCHOR]) {
    if (count(anchor) !== 1) {
      throw new Error(
        `tfjs-backend-wasm's backend_wasm.js no longer contains "${anchor}" exactly once: ` +
          'scripts/vite-plugin-tfjs-wasm-threads.ts must be updated for this tfjs version',
      );
    }
  }
  return (
    `import { pthreadScripts as ${PATCH_NAME} } from '${VIRTUAL_ID}';\n` +
    code
      .replace(WORKER_ANCHOR, `${WORKER_ANCHOR}\n if (${PATCH_NAME} != null) return ${PATCH_NAME}.worker;`)
      .replace(
        FACTORY_ANCHOR,
        `if (${PATCH_NAME} != null) factoryConfig.mainScriptUrlOrBlob = ${PATCH_NAME}.main;\n ${FACTORY_ANCHOR}`,
      )
  );
}

/** The thread loader script, as tfjs writes it into its Blob (its newlines escaped, as tfjs does). */
function workerScript(): string {
  const { wasmWorkerContents } = require('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js') as {
    wasmWorkerContents: string;
  };
  return wasmWorkerContents.replace(/\n/g, '\\n');
}

/** The virtual module under `vite dev`: the two scripts as the dev server serves them. */
const DEV_MODULE =
  'export const pthreadScripts = {\n' +
  `  main: new URL('${DEV_PREFIX}main.js', self.location.href).href,\n` +
  `  worker: new URL('${DEV_PREFIX}worker.js', self.location.href).href,\n` +
  '};\n';

/** The same patch for the dependency optimizer, which pre-bundles tfjs for `vite dev`. */
function devDependencyPatch() {
  return {
    name: 'gpt-lab-tfjs-wasm-threads-deps',
    resolveId(id: string) {
      return id === VIRTUAL_ID ? RESOLVED_ID : undefined;
    },
    load(id: string) {
      return id === RESOLVED_ID ? DEV_MODULE : undefined;
    },
    transform(code: string, id: string) {
      return BACKEND_MODULE.test(id.split('?')[0]) ? { code: patchBackend(code), map: null } : undefined;
    },
  };
}

export function tfjsWasmThreads(): Plugin {
  let build = false;
  return {
    name: 'gpt-lab-tfjs-wasm-threads',
    enforce: 'pre',
    config() {
      return { optimizeDeps: { rolldownOptions: { plugins: [devDependencyPatch()] } } };
    },
    configResolved(config) {
      build = config.command === 'build';
    },
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const path = req.url?.split('?')[0];
        if (path !== `${DEV_PREFIX}main.js` && path !== `${DEV_PREFIX}worker.js`) return next();
        // The dev server's own headers (COOP/COEP, its policy): a thread's script needs them too.
        for (const [name, value] of Object.entries(server.config.server.headers ?? {})) {
          if (value != null) res.setHeader(name, value);
        }
        res.setHeader('Content-Type', 'text/javascript; charset=utf-8');
        res.setHeader('Cache-Control', 'no-cache');
        res.end(path.endsWith('main.js') ? readFileSync(require.resolve(GLUE_FILE)) : workerScript());
      });
    },
    resolveId(id) {
      return id === VIRTUAL_ID ? RESOLVED_ID : undefined;
    },
    load(id) {
      if (id !== RESOLVED_ID) return undefined;
      if (!build) return DEV_MODULE;
      const glue = this.emitFile({
        type: 'asset',
        name: 'tfjs-backend-wasm-threaded-simd.js',
        source: readFileSync(require.resolve(GLUE_FILE)),
      });
      const worker = this.emitFile({ type: 'asset', name: 'tfjs-backend-wasm-threaded-simd.worker.js', source: workerScript() });
      // Absolute URLs: a thread resolves what it is given against its own (asset) address.
      return (
        'export const pthreadScripts = {\n' +
        `  main: new URL(import.meta.ROLLUP_FILE_URL_${glue}, self.location.href).href,\n` +
        `  worker: new URL(import.meta.ROLLUP_FILE_URL_${worker}, self.location.href).href,\n` +
        '};\n'
      );
    },
    transform(code, id) {
      if (!BACKEND_MODULE.test(id.split('?')[0])) return undefined;
      return { code: patchBackend(code), map: null };
    },
  };
}
