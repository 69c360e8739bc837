import * as tf from '@tensorflow/tfjs';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { Engine, type EngineHost, type EngineOptions } from '../../src/engine/engine';
import type { BackendRate, EngineEvents } from '../../src/engine/protocol';
import { disposeRun, saveCheckpoint, startRun } from '../../src/engine/run';
import { MemoryCache, MemoryRunStorage, type KeyValueCache } from '../../src/engine/storage';
import { resolveHyperparameters } from '../../src/gpt/config';
import { loadMobyDick } from '../../scripts/lib/corpus-node';

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

/** Events nobody listens to. */
export const QUIET_EVENTS: EngineEvents = { status() {}, metrics() {}, sample() {} };

/**
 * The setup of a test file that drives real Engines on cpu: the first `chars` characters of
 * Moby-Dick, the tiny preset at `batchSize` (a run of `steps`), and a "shipped" checkpoint of that
 * model trained `pretrainSteps` steps (none by default) made before the file's tests. Engines from
 * `started`, and those handed to `track`, are disposed after each test; the file ends with no tensor left.
 */
export function liveEngineSuite(o: { chars?: number; batchSize?: number; steps?: number; pretrainSteps?: number } = {}) {
  const text = loadMobyDick().slice(0, o.chars ?? 40_000);
  const tiny = resolveHyperparameters('tiny', { batchSize: o.batchSize ?? 2, steps: o.steps ?? 10_000, warmupSteps: 5 });
  const engines: Engine[] = [];
  let pretrained: Uint8Array | null = null;
  beforeAll(async () => {
    await tf.setBackend('cpu');
    const run = startRun(text, tiny);
    if (o.pretrainSteps) await run.trainer.run(o.pretrainSteps);
    pretrained = await saveCheckpoint(run);
    disposeRun(run);
  });
  afterEach(async () => {
    for (const e of engines.splice(0)) await e.dispose();
    await tf.setBackend('cpu');
  });
  afterAll(() => {
    expect(tf.memory().numTensors).toBe(0);
  });
  const checkpoint = (): Uint8Array => {
    if (pretrained == null) throw new Error('liveEngineSuite: the checkpoint is made in beforeAll');
    return pretrained;
  };
  /** An engine over the file's corpus and checkpoint, started on cpu (idle), disposed after the test. */
  const started = async (storage = new MemoryRunStorage()): Promise<Engine> => {
    const engine = track(new Engine(fakeHost(text, checkpoint, storage), TEST_ENGINE_OPTIONS));
    const status = await engine.start({ backend: 'cpu', pretrainedUrl: PRETRAINED_URL, corpusUrl: CORPUS_URL }, QUIET_EVENTS);
    expect(status.state).toBe('idle');
    return engine;
  };
  const track = (engine: Engine): Engine => {
    engines.push(engine);
    return engine;
  };
  return { text, tiny, checkpoint, started, track };
}
