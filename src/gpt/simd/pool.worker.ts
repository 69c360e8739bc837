/**
 * A helper thread of the product pool (./pool.ts): our SIMD module over tfjs-wasm's shared memory,
 * computing the row blocks of products that the training thread posts to it.
 */
import { serveProducts, type HelperStart, type HelperReply } from './pool';

self.onmessage = (e: MessageEvent<HelperStart>) => {
  if (e.data?.type !== 'start') return;
  self.onmessage = null;
  void serveProducts(e.data, (r: HelperReply) => self.postMessage(r));
};
