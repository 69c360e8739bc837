/**
 * The engine worker: one module Web Worker for the whole app, owning tfjs, the model, the trainer
 * and checkpoints. The page reaches it through Comlink (client.ts); the contract is protocol.ts.
 */
import './wasm-paths.vite';
import * as Comlink from 'comlink';
import { Engine, type EngineHost } from './engine';
import type { BackendRate } from './protocol';
import { IndexedDbCache, IndexedDbRunStorage } from './storage';

const host: EngineHost = {
  async fetchBytes(url) {
    let response: Response;
    try {
      response = await fetch(url);
    } catch (err) {
      throw new Error(`could not fetch ${url}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    if (!response.ok) throw new Error(`fetching ${url} answered HTTP ${response.status} ${response.statusText}`.trim());
    return new Uint8Array(await response.arrayBuffer());
  },
  storage: new IndexedDbRunStorage(),
  calibrationCache: new IndexedDbCache<BackendRate[]>('gpt-lab-calibration'),
  userAgent: self.navigator.userAgent,
};

/** The engine, with the exported checkpoint's buffer transferred to the page rather than copied. */
class WorkerEngine extends Engine {
  override async exportCheckpoint(): Promise<Uint8Array> {
    let bytes = await super.exportCheckpoint();
    if (bytes.byteOffset !== 0 || bytes.byteLength !== bytes.buffer.byteLength) bytes = bytes.slice();
    return Comlink.transfer(bytes, [bytes.buffer]);
  }
}

Comlink.expose(new WorkerEngine(host));

// Held until this worker ends, however it ends: the page waits on it to notice a silent death
// (client.ts `lifeLock`). The name is the worker's own, unique per worker.
void self.navigator.locks?.request(self.name, () => new Promise<never>(() => undefined));
