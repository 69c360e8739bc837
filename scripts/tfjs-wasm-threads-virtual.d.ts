/**
 * The module scripts/vite-plugin-tfjs-wasm-threads.ts provides to the site (build and dev server):
 * the same-origin URLs of the two scripts tfjs-backend-wasm's threads load. Typed as nullable so
 * that a build without the plugin's scripts can say so (src/engine/wasm-paths.vite.ts).
 */
declare module 'virtual:tfjs-wasm-threads' {
  export const pthreadScripts: { main: string; worker: string } | null;
}
