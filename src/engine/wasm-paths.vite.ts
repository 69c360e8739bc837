/**
 * Tells the wasm backend where Vite put its binaries (tfjs's and our SIMD kernels'). Import this once, for its effect, before the
 * first `useBackend('wasm')` (the engine worker does). `?url` makes Vite copy each file into the
 * build and give back its final, base-relative URL, so the site works under any base path.
 */
import plainUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import simdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import threadedSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import simdKernelsUrl from '../gpt/simd/kernels.wasm?url';
import { configureSimdKernels } from '../gpt/simd/install';
import { configureWasmPaths } from './backends';

configureWasmPaths({
  'tfjs-backend-wasm.wasm': plainUrl,
  'tfjs-backend-wasm-simd.wasm': simdUrl,
  'tfjs-backend-wasm-threaded-simd.wasm': threadedSimdUrl,
});

// GPT Lab's own SIMD kernels for the wasm backend (src/gpt/simd), fetched from the site like the rest.
configureSimdKernels(async () => {
  const response = await fetch(simdKernelsUrl);
  if (!response.ok) throw new Error(`fetching the SIMD kernels answered HTTP ${response.status}`);
  return response.arrayBuffer();
});
