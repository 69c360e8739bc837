/**
 * Tells the wasm backend where Vite put its binaries (tfjs's and our SIMD kernels') and whether its
 * threads can start. Import this once, for its effect, before the
 * first `useBackend('wasm')` (the engine worker does). `?url` makes Vite copy each file into the
 * build and give back its final, base-relative URL, so the site works under any base path.
 */
import plainUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import simdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import threadedSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import simdKernelsUrl from '../gpt/simd/kernels.wasm?url';
import sharedSimdKernelsUrl from '../gpt/simd/kernels-shared.wasm?url';
import { pthreadScripts } from 'virtual:tfjs-wasm-threads';
import { configureSimdKernels } from '../gpt/simd/install';
import { configureWasmPaths, configureWasmThreads } from './backends';

configureWasmPaths({
  'tfjs-backend-wasm.wasm': plainUrl,
  'tfjs-backend-wasm-simd.wasm': simdUrl,
  'tfjs-backend-wasm-threaded-simd.wasm': threadedSimdUrl,
});

// The threaded binary's workers load two scripts that the site serves as files (the build and the
// dev server alike: scripts/vite-plugin-tfjs-wasm-threads.ts).
configureWasmThreads(pthreadScripts != null ? true : 'the site was built without the scripts tfjs\'s thread workers load');

// GPT Lab's own SIMD kernels for the wasm backend (src/gpt/simd), fetched from the site like the rest:
// the build for a shared memory when tfjs runs its threaded binary.
// With tfjs on N threads, N − 1 workers of our own run row blocks of the products (src/gpt/simd/pool.ts).
configureSimdKernels(
  async (shared) => {
    const response = await fetch(shared ? sharedSimdKernelsUrl : simdKernelsUrl);
    if (!response.ok) throw new Error(`fetching the SIMD kernels answered HTTP ${response.status}`);
    return response.arrayBuffer();
  },
  () => new Worker(new URL('../gpt/simd/pool.worker.ts', import.meta.url), { type: 'module', name: 'gpt-lab-products' }),
);
