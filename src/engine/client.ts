/**
 * The page's side of the engine: starts the engine worker and wraps it in a typed Comlink proxy.
 * Imports no tfjs (types only), so the main bundle stays free of it: tfjs and its backends load in
 * the worker alone.
 */
import * as Comlink from 'comlink';
import type { EngineApi, EngineEvents, JobNamespace } from './protocol';

/**
 * The engine as the page sees it: every method returns a promise, and so does every method of the
 * chapter namespaces (`api.inspect.attention(…)`; Comlink forwards the property path).
 */
export type EngineRemote = Comlink.Remote<Omit<EngineApi, JobNamespace>> & {
  readonly [K in JobNamespace]: Comlink.Remote<EngineApi[K]>;
};

export interface EngineClient {
  /** Every EngineApi method, returning a promise of its result from the worker. */
  api: EngineRemote;
  worker: Worker;
  /**
   * The Web Lock the worker holds for as long as it lives (its `name`, unique per worker). The
   * browser releases it when the worker ends in any way (closed, crashed, terminated), so the page
   * can wait on it to learn of a death that fires no event. Null without the Web Locks API.
   */
  lifeLock: string | null;
  /** Stops the worker (and training with it) and releases the proxy. */
  terminate(): void;
}

let workers = 0;

export function createEngine(): EngineClient {
  const name = `gpt-lab-engine ${Date.now().toString(36)}-${++workers}`;
  const worker = new Worker(new URL('./engine.worker.ts', import.meta.url), { type: 'module', name });
  const api = Comlink.wrap<EngineApi>(worker) as unknown as EngineRemote;
  return {
    api,
    worker,
    lifeLock: typeof navigator !== 'undefined' && navigator.locks != null ? name : null,
    terminate() {
      api[Comlink.releaseProxy]();
      worker.terminate();
    },
  };
}

/** The page's event callbacks, passed to `api.start` so the worker can call them back. */
export function eventsProxy(events: EngineEvents): EngineEvents {
  return Comlink.proxy(events);
}

/** Hands `bytes` to the worker without copying (the page's copy becomes empty). */
export function transferBytes(bytes: Uint8Array): Uint8Array {
  return Comlink.transfer(bytes, [bytes.buffer]);
}
