import type { EngineHost, EngineOptions } from '../../src/engine/engine';
import type { BackendRate } from '../../src/engine/protocol';
import { MemoryCache, MemoryRunStorage, type KeyValueCache } from '../../src/engine/storage';

/** Shared by the engine tests: a host that serves a corpus and a "shipped" checkpoint from memory. */
export const CORPUS_URL = 'https://lab.test/data/moby-dick.txt';
export const PRETRAINED_URL = 'https://lab.test/models/base.safetensors';

/** Short pacing so that evaluation and autosave happen within a few steps. */
export const TEST_ENGINE_OPTIONS: Partial<EngineOptions> = {
  chunkSteps: 5,
  evalEvery: 10,
  saveEvery: 10,
  sampleEveryMs: 1e9,
  sampleLength: 20,
  calibrationMs: 150,
  continueTraining: { batchSize: 2, learningRate: 5e-4, minLearningRate: 5e-5 },
};

/** `pretrained` is read at each fetch, so a test may set it after making the host. */
export function fakeHost(
  text: string,
  pretrained: () => Uint8Array,
  storage = new MemoryRunStorage(),
  cache: KeyValueCache<BackendRate[]> = new MemoryCache(),
): EngineHost {
  return {
    async fetchBytes(url) {
      if (url === CORPUS_URL) return new TextEncoder().encode(text);
      if (url === PRETRAINED_URL) return pretrained().slice();
      throw new Error(`HTTP 404 for ${url}`);
    },
    storage,
    calibrationCache: cache,
    userAgent: 'vitest',
  };
}
