import * as tf from '@tensorflow/tfjs';
import { flopsPerToken, modelConfigOf, type Hyperparameters } from '../src/gpt/config';
import { GPT } from '../src/gpt/model';
import { Rng } from '../src/gpt/random';
import { Trainer } from '../src/train/trainer';
import { countKernels, countWebGPUPrograms } from './counters';

export interface TrainStepResult {
  tokensPerSecond: number;
  gflops: number;
  kernelsPerStep: number;
  secondsPerStep: number;
  steps: number;
}

/**
 * Tokens per second of full training steps (forward, backward, clipping, AdamW) of a model built
 * from `hp`, on random tokens, on the current backend. `warmup` steps run first (shader compiles,
 * buffer pools); the clock covers `steps` steps and ends when the last loss is on the CPU.
 */
export async function benchTrainStep(hp: Hyperparameters, steps: number, warmup = 2): Promise<TrainStepResult> {
  const model = GPT.create(modelConfigOf(hp), hp.seed);
  const rng = new Rng(99);
  const tokens = Int32Array.from({ length: 200_000 }, () => rng.int(hp.vocabSize));
  const trainer = new Trainer(model, { train: tokens, val: tokens.subarray(0, 20_000) }, hp);
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
    const [loss, norm] = trainer.trainStep(batch());
    await loss.data();
    tf.dispose([loss, norm]);
  };
  for (let i = 0; i < warmup; i++) await once();

  // Programs or kernels of one step, counted on a step of its own (profiling slows it down).
  let kernelsPerStep: number;
  if (tf.getBackend() === 'webgpu') {
    const counter = countWebGPUPrograms();
    await once();
    kernelsPerStep = counter.read();
    counter.restore();
  } else {
    kernelsPerStep = await countKernels(() => trainer.trainStep(batch()));
  }

  const t0 = performance.now();
  let last: tf.Scalar[] = [];
  for (let i = 0; i < steps; i++) {
    tf.dispose(last);
    last = trainer.trainStep(batch());
  }
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
    secondsPerStep: seconds / steps,
    steps,
  };
}
