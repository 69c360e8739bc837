import * as tf from '@tensorflow/tfjs';
import { flopsPerToken, modelConfigOf, type Hyperparameters } from '../src/gpt/config';
import { GPT } from '../src/gpt/model';
import { Rng } from '../src/gpt/random';
import { Trainer } from '../src/train/trainer';
import { FastTrainer } from '../src/train/fastTrainer';
import { installConfiguredSimdKernels, simdKernelsFailure, simdKernelsInstalled, uninstallSimdKernels } from '../src/gpt/simd/install';
import { countKernels, countWebGPUPrograms } from './counters';

/** `reference`: src/gpt/model.ts with Trainer; `fast`: src/gpt/fast with FastTrainer. */
export type BenchPath = 'reference' | 'fast';

/** How often the fast path writes its flat parameters back to the model: Trainer.run's default report interval. */
export const REPORT_EVERY = 10;

export interface TrainStepResult {
  tokensPerSecond: number;
  gflops: number;
  /** Programs (webgpu) or kernels (cpu, wasm) of one training step as `run` takes it between reports. */
  kernelsPerStep: number;
  /** Fast path: programs or kernels of one write-back of the parameters (once per report); 0 for the reference. */
  syncKernels: number;
  secondsPerStep: number;
  steps: number;
}

/**
 * Tokens per second of full training steps (forward, backward, clipping, AdamW) of a model built
 * from `hp`, on random tokens, on the current backend. `warmup` steps run first (shader compiles,
 * buffer pools); the clock covers `steps` steps and ends when the last loss is on the CPU.
 */
export async function benchTrainStep(hp: Hyperparameters, steps: number, warmup = 2, path: BenchPath = 'reference'): Promise<TrainStepResult> {
  // On wasm the fast path runs on our SIMD module (src/gpt/simd: the fused GptLab* kernels and the
  // transposed products), the reference path on tfjs's stock kernels alone.
  const onWasm = tf.getBackend() === 'wasm';
  if (onWasm && path === 'fast' && !(await installConfiguredSimdKernels())) {
    throw new Error(`the SIMD kernels did not install: ${simdKernelsFailure() ?? 'not configured'}`);
  }
  // The reference path runs on tfjs's stock kernels.
  const restoreSimd = onWasm && path === 'reference' && simdKernelsInstalled();
  if (restoreSimd) uninstallSimdKernels();
  try {
    return await benchPath(hp, steps, warmup, path === 'fast');
  } finally {
    if (restoreSimd) await installConfiguredSimdKernels();
  }
}

async function benchPath(hp: Hyperparameters, steps: number, warmup: number, useFast: boolean): Promise<TrainStepResult> {
  const path: BenchPath = useFast ? 'fast' : 'reference';
  const model = GPT.create(modelConfigOf(hp), hp.seed);
  const rng = new Rng(99);
  const tokens = Int32Array.from({ length: 200_000 }, () => rng.int(hp.vocabSize));
  const data = { train: tokens, val: tokens.subarray(0, 20_000) };
  const fast = path === 'fast' ? new FastTrainer(model, data, hp) : null;
  const trainer = fast ?? new Trainer(model, data, hp);
  // The fast path writes its parameters back every REPORT_EVERY steps, as its run() does.
  let sinceSync = 0;
  const step = (b: ReturnType<typeof batch>): tf.Scalar[] => {
    if (!fast) return trainer.trainStep(b);
    const r = fast.stepFlat(b);
    if (++sinceSync === REPORT_EVERY) {
      fast.optimizer.syncToParams();
      sinceSync = 0;
    }
    return r;
  };
  const batch = () => {
    const starts = Array.from({ length: hp.batchSize }, () => rng.int(tokens.length - hp.contextLength - 1));
    const x = new Int32Array(hp.batchSize * hp.contextLength);
    const y = new Int32Array(hp.batchSize * hp.contextLength);
    starts.forEach((s, b) => {
      x.set(tokens.subarray(s, s + hp.contextLength), b * hp.contextLength);
      y.set(tokens.subarray(s + 1, s + hp.contextLength + 1), b * hp.contextLength);
    });
    return { x, y, batchSize: hp.batchSize, contextLength: hp.contextLength };
  };
  const once = async () => {
    const [loss, norm] = step(batch());
    await loss.data();
    tf.dispose([loss, norm]);
  };
  for (let i = 0; i < warmup; i++) await once();

  // Programs or kernels of one step, counted on a step of its own (profiling slows it down).
  let kernelsPerStep: number;
  let syncKernels = 0;
  const plainStep = () => (fast ? fast.stepFlat(batch()) : trainer.trainStep(batch()));
  if (tf.getBackend() === 'webgpu') {
    const counter = countWebGPUPrograms();
    const r = plainStep();
    await r[0].data();
    tf.dispose(r);
    kernelsPerStep = counter.read();
    if (fast) {
      counter.reset();
      fast.optimizer.syncToParams();
      syncKernels = counter.read();
    }
    counter.restore();
  } else {
    kernelsPerStep = await countKernels(plainStep);
    if (fast) syncKernels = await countKernels(() => fast.optimizer.syncToParams());
  }
  sinceSync = 0;

  const t0 = performance.now();
  let last: tf.Scalar[] = [];
  for (let i = 0; i < steps; i++) {
    tf.dispose(last);
    last = step(batch());
  }
  fast?.optimizer.syncToParams();
  await last[0].data();
  const seconds = (performance.now() - t0) / 1000;
  tf.dispose(last);
  trainer.dispose();
  model.dispose();
  const tokensPerSecond = (steps * hp.batchSize * hp.contextLength) / seconds;
  return {
    tokensPerSecond,
    gflops: (tokensPerSecond * flopsPerToken(hp)) / 1e9,
    kernelsPerStep,
    syncKernels,
    secondsPerStep: seconds / steps,
    steps,
  };
}
