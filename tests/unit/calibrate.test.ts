/**
 * Time limits on starting a backend (src/engine/backends.ts `useBackend(name, { timeoutMs })`, used
 * by calibrate.ts and the engine): a backend that never finishes starting is reported unavailable,
 * with the time limit as its reason, the next one is tried, and tfjs is left working on the backend
 * that was active before. Each test hangs a different backend, because one that timed out is not
 * tried again in the same session (module state).
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBackend, type BackendReport } from '../../src/engine/backends';
import { calibrate } from '../../src/engine/calibrate';
import { Engine } from '../../src/engine/engine';
import type { EngineEvents } from '../../src/engine/protocol';
import { disposeRun, saveCheckpoint, startRun } from '../../src/engine/run';
import { resolveHyperparameters } from '../../src/gpt/config';
import { loadMobyDick } from '../../scripts/lib/corpus-node';
import { configureNodeWasm } from '../../scripts/lib/node-backends';
import { CORPUS_URL, fakeHost, PRETRAINED_URL, TEST_ENGINE_OPTIONS } from './engineFixture';

const config = { vocabSize: 40, contextLength: 16, layers: 1, heads: 2, width: 16, dropout: 0 };
const prepareWasm = async (name: string) => void (name === 'wasm' && configureNodeWasm());
/** A promise that never settles: a driver, or a download, that never answers. */
const never = () => new Promise<never>(() => undefined);

function reports(available: Partial<Record<BackendReport['name'], boolean>>): BackendReport[] {
  return (['webgpu', 'webgl', 'wasm', 'cpu'] as const).map((name) => ({
    name,
    available: available[name] ?? false,
    reason: available[name] ? `fake ${name} for the test` : `no ${name} in this test`,
  }));
}

beforeAll(async () => {
  // Start wasm once ahead, so that compiling its binary on a busy machine does not count against
  // the short limits below (the limit is per start; the real one is 30 s).
  await useBackend('wasm', { prepare: prepareWasm });
  await tf.setBackend('cpu');
});

afterAll(() => {
  // No test leaves a tensor behind, the hung starts included.
  expect(tf.memory().numTensors).toBe(0);
});

describe('a backend that never starts', () => {
  it('is reported unavailable after the time limit, the next one is measured, and tfjs still works', async () => {
    // A tfjs backend whose initialization never resolves, under the name 'webgl' (Node has no real one).
    tf.registerBackend('webgl', never);
    const started = performance.now();
    const rates = await calibrate(config, {
      budgetMs: 50,
      reports: reports({ webgl: true, wasm: true, cpu: true }),
      prepare: prepareWasm,
      startTimeoutMs: 400,
    });
    const webgl = rates.find((r) => r.name === 'webgl')!;
    expect(webgl).toEqual({
      name: 'webgl',
      available: false,
      reason: 'failed in calibration: The webgl backend did not start within 0.4 s, so it is not used.',
      tokensPerSecond: null,
    });
    // The next rung was measured after it; calibration did not wait on the hung one.
    const wasm = rates.find((r) => r.name === 'wasm')!;
    expect(wasm.available).toBe(true);
    expect(wasm.tokensPerSecond).toBeGreaterThan(0);
    expect(performance.now() - started).toBeLessThan(60_000);
    // tfjs is back on the backend active before, and computes: the pending start was forgotten.
    expect(tf.getBackend()).toBe('cpu');
    const sum = tf.tidy(() => tf.add(tf.tensor1d([1, 2]), tf.tensor1d([3, 4])).arraySync());
    expect(sum).toEqual([4, 6]);
    // It is not tried again: the next attempt fails at once, with the same reason.
    await expect(useBackend('webgl', { timeoutMs: 60_000 })).rejects.toMatchObject({
      name: 'BackendError',
      backend: 'webgl',
      message: 'The webgl backend did not start within 0.4 s, so it is not used.',
    });
    expect(tf.getBackend()).toBe('cpu');
  }, 120_000);

  it('counts a set-up step that never finishes (the host preparing the backend) against the same limit', async () => {
    const rates = await calibrate(config, {
      budgetMs: 50,
      reports: reports({ wasm: true, cpu: true }),
      prepare: async (name) => (name === 'wasm' ? never() : undefined),
      startTimeoutMs: 150,
    });
    expect(rates.find((r) => r.name === 'wasm')).toMatchObject({
      available: false,
      reason: 'failed in calibration: The wasm backend did not start within 0.15 s, so it is not used.',
    });
    // With WebAssembly gone, the CPU is measured rather than skipped.
    const cpu = rates.find((r) => r.name === 'cpu')!;
    expect(cpu.available).toBe(true);
    expect(cpu.tokensPerSecond).toBeGreaterThan(0);
    expect(tf.getBackend()).toBe('cpu');
  }, 120_000);

  it('lets the engine start on another backend when the one in the URL never starts, and says why', async () => {
    const text = loadMobyDick().slice(0, 40_000);
    const hp = resolveHyperparameters('tiny', { batchSize: 2, steps: 100 });
    const seed = startRun(text, hp);
    const pretrained = await saveCheckpoint(seed);
    disposeRun(seed);

    const host = fakeHost(text, () => pretrained);
    // WebGPU's set-up never answers (in Node the host would install Dawn here).
    host.prepareBackend = async (name) => (name === 'webgpu' ? never() : prepareWasm(name));
    const engine = new Engine(host, { ...TEST_ENGINE_OPTIONS, backendStartMs: 250 });
    const events: EngineEvents = { status: () => undefined, metrics: () => undefined, sample: () => undefined };
    try {
      const status = await engine.start({ backend: 'webgpu', pretrainedUrl: PRETRAINED_URL, corpusUrl: CORPUS_URL }, events);
      expect(status.state).toBe('idle');
      expect(status.notice).toBe('The webgpu backend did not start within 0.25 s, so it is not used. The engine picked a backend itself.');
      // It calibrated what is left and runs on it: in Node that would be wasm, but wasm hung in the
      // test before, so this session does not try it again, and says so; the CPU is measured.
      const rates = status.backend?.rates ?? [];
      expect(rates.find((r) => r.name === 'wasm')?.reason).toBe(
        'failed in calibration: The wasm backend did not start within 0.15 s, so it is not used.',
      );
      expect(status.backend?.name).toBe('cpu');
      expect(status.backend?.reason).toMatch(/^fastest in calibration: \d+ tokens\/s$/);
      const metrics = await engine.step();
      expect(Number.isFinite(metrics.trainLoss)).toBe(true);
    } finally {
      await engine.dispose();
      await tf.setBackend('cpu');
    }
  }, 120_000);
});
