/**
 * Which backend trains this model fastest here? Measured, not guessed: tfjs's WebGPU can lose to
 * WebGL, or even to WASM, on a small model. Each candidate of the ladder (webgpu → webgl → wasm →
 * cpu) that the probe finds available builds the model's shapes with a batch of 2, takes one
 * warm-up step (shader compilation, first allocations), then times training steps for about
 * `budgetMs` (one step only when the warm-up alone took longer). The host caches the result per device.
 *
 * Nothing here may wait forever: a backend that does not start within `startTimeoutMs` (a GPU
 * driver that never answers) or does not finish its steps within `measureTimeoutMs` is reported
 * unavailable with that reason, and the next one is tried.
 */
import { DEFAULTS, type Hyperparameters, type ModelConfig } from '../gpt/config';
import { GPT } from '../gpt/model';
import { Trainer } from '../train/trainer';
import { BACKEND_NAMES, currentBackend, probeBackends, useBackend, type BackendName, type BackendReport } from './backends';
import type { BackendRate } from './protocol';

export interface CalibrateOptions {
  /** How long to time each backend, after its warm-up step (default 1500 ms). */
  budgetMs?: number;
  /** Windows per step (default 2). */
  batchSize?: number;
  /** The probe's reports, when the caller has them already. */
  reports?: BackendReport[];
  /** Called before switching to a backend (Node sets up WebGPU or the wasm paths here). */
  prepare?: (name: BackendName) => Promise<void>;
  /** A backend that has not started after this long is skipped (default 30 s: a slow network may be fetching WASM). */
  startTimeoutMs?: number;
  /** A backend whose warm-up and timed steps take longer than this is skipped (default 120 s). */
  measureTimeoutMs?: number;
}

export const DEFAULT_START_TIMEOUT_MS = 30_000;
export const DEFAULT_MEASURE_TIMEOUT_MS = 120_000;

/**
 * Tokens per second of training `config` on every available backend, in ladder order. The CPU
 * backend is not measured when WASM worked: WASM always beats it. The backend active before is
 * active again afterwards.
 */
export async function calibrate(config: ModelConfig, options: CalibrateOptions = {}): Promise<BackendRate[]> {
  const reports = options.reports ?? (await probeBackends());
  const previous = currentBackend();
  const rates: BackendRate[] = [];
  let wasmWorked = false;
  for (const name of BACKEND_NAMES) {
    const report = reports.find((r) => r.name === name);
    if (report == null || !report.available) {
      rates.push({ name, available: false, reason: report?.reason ?? 'not probed', tokensPerSecond: null });
      continue;
    }
    if (name === 'cpu' && wasmWorked) {
      const reason = `${report.reason}; not measured, since WebAssembly works here and is always faster`;
      rates.push({ name, available: true, reason, tokensPerSecond: null });
      continue;
    }
    try {
      await useBackend(name, { prepare: options.prepare, timeoutMs: options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS });
      const limit = options.measureTimeoutMs ?? DEFAULT_MEASURE_TIMEOUT_MS;
      const tokensPerSecond = await withinTime(
        measure(config, options.batchSize ?? 2, options.budgetMs ?? 1500),
        limit,
        `its training steps did not finish within ${Math.round(limit / 1000)} s`,
      );
      rates.push({ name, available: true, reason: report.reason, tokensPerSecond });
      if (name === 'wasm') wasmWorked = true;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      rates.push({ name, available: false, reason: `failed in calibration: ${message}`, tokensPerSecond: null });
    }
  }
  if (previous != null && currentBackend() !== previous) {
    await useBackend(previous).catch(() => undefined);
  }
  return rates;
}

/**
 * `work`, or a rejection with `message` once `ms` have passed. What `work` was doing goes on in the
 * background (a promise cannot be cancelled); a hung step holds its tensors until it ends, if ever.
 */
function withinTime<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([work, limit]).finally(() => clearTimeout(timer));
}

/** The fastest measured backend, or null when none was measured. */
export function fastest(rates: readonly BackendRate[]): BackendRate | null {
  let best: BackendRate | null = null;
  for (const r of rates) {
    if (r.available && r.tokensPerSecond != null && (best == null || r.tokensPerSecond > best.tokensPerSecond!)) best = r;
  }
  return best;
}

/** Trains a throwaway model of `config`'s shapes on the current backend; returns tokens/s. */
async function measure(config: ModelConfig, batchSize: number, budgetMs: number): Promise<number> {
  const T = config.contextLength;
  const V = config.vocabSize;
  // Any tokens do: only the time is measured. Enough for windows in both parts of the split.
  const tokens = (n: number) => Int32Array.from({ length: n }, (_, i) => (i * 7919) % V);
  const data = { train: tokens(4 * (T + 1) * batchSize + 64), val: tokens(2 * (T + 1) + 16) };
  const hp: Hyperparameters = { ...DEFAULTS, ...config, batchSize, warmupSteps: 0, steps: 1_000_000 };
  const model = GPT.create(config, 1);
  const trainer = new Trainer(model, data, hp);
  try {
    const warmStart = performance.now();
    await trainer.run(1, undefined, 1); // warm-up: compiles shaders and fills the buffer pools
    // A warm-up slower than the whole budget (a software GPU, a large model) means one timed step
    // already says enough; more would keep the reader waiting for minutes.
    const slow = performance.now() - warmStart > budgetMs;
    // Read the loss back as training does: every step on CPU backends, every few on a GPU.
    const gpu = currentBackend() === 'webgpu' || currentBackend() === 'webgl';
    const group = gpu && !slow ? 5 : 1;
    let steps = 0;
    const start = performance.now();
    while (steps === 0 || (!slow && performance.now() - start < budgetMs)) {
      await trainer.run(group, undefined, group);
      steps += group;
    }
    const seconds = (performance.now() - start) / 1000;
    return (steps * batchSize * T) / seconds;
  } finally {
    trainer.dispose();
    model.dispose();
  }
}
