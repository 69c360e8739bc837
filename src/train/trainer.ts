import * as tf from '@tensorflow/tfjs';
import type { Hyperparameters } from '../gpt/config';
import { mixSeed } from '../gpt/random';
import { GPT } from '../gpt/model';
import { AdamW, type MomentArrays } from './adamw';
import { batchAt, BatchSampler, type Batch, validationStarts } from './data';
import { learningRateAt } from './schedule';

/** A loss that is NaN or infinite: training stops, the caller restores the last good weights. */
export class NonFiniteLossError extends Error {
  readonly step: number;
  constructor(step: number, value: number) {
    super(`The loss became ${value} at step ${step}: training stopped. Lower the learning rate, or restore the last checkpoint.`);
    this.name = 'NonFiniteLossError';
    this.step = step;
  }
}

export interface StepReport {
  /** Steps completed (1 after the first update). */
  step: number;
  trainLoss: number;
  learningRate: number;
  gradNorm: number;
  /** Training tokens per second over the steps since the previous report (evaluation excluded). */
  tokensPerSecond: number;
}

export interface TrainerState {
  step: number;
  /** The training batch generator's state: where in the random stream of windows we are. */
  dataPosition: number;
  moments: MomentArrays;
}

/** An optimizer as the trainers share it: its moments saved and restored with a run, and freed. */
interface SavedOptimizer {
  exportMoments(): Promise<MomentArrays>;
  importMoments(moments: MomentArrays, t: number): void;
  dispose(): void;
}

/** A batch's inputs and targets as int32 tensors [B, T] (the caller disposes them, or a tidy does). */
export function batchTensors(batch: Batch): [tf.Tensor2D, tf.Tensor2D] {
  const shape: [number, number] = [batch.batchSize, batch.contextLength];
  return [tf.tensor2d(batch.x, shape, 'int32'), tf.tensor2d(batch.y, shape, 'int32')];
}

/**
 * What the reference and the fast trainer share: the run's settings, random windows of `train`, the
 * fixed validation batches of `val`, the step counter and the stop flag, and the loops over them.
 * A subclass gives one optimizer step, the loss of a validation batch, and its optimizer.
 */
export abstract class TrainerBase<O extends SavedOptimizer> {
  readonly model: GPT;
  readonly hp: Hyperparameters;
  abstract readonly optimizer: O;
  step = 0;
  protected readonly sampler: BatchSampler;
  private readonly valBatches: Batch[];
  private stopRequested = false;

  constructor(model: GPT, data: { train: Int32Array; val: Int32Array }, hp: Hyperparameters) {
    this.model = model;
    this.hp = { ...hp };
    this.sampler = new BatchSampler(data.train, hp.batchSize, hp.contextLength, hp.seed);
    this.valBatches = validationStarts(data.val.length, hp.batchSize, hp.contextLength).map((starts) =>
      batchAt(data.val, starts, hp.contextLength),
    );
  }

  /** One optimizer step on `batch`; returns [loss, gradNorm] as scalars the caller must dispose. */
  abstract trainStep(batch: Batch): [tf.Scalar, tf.Scalar];

  /**
   * The mean loss of a validation batch (evaluation mode), as a function made once per evaluation,
   * outside any tidy (the fast trainer refreshes its flat buffer there), and called inside one.
   */
  protected abstract validationLoss(): (x: tf.Tensor2D, y: tf.Tensor2D) => tf.Scalar;

  /** Changes the peak learning rate from the next step on (the schedule keeps its shape). */
  setLearningRate(lr: number): void {
    this.hp.learningRate = lr;
    this.hp.minLearningRate = Math.min(this.hp.minLearningRate, lr);
  }

  /**
   * Trains `steps` steps (or until `stop()`), reporting every `reportEvery` steps. Losses are read
   * back only at reports, so the device is not made to wait every step.
   */
  async run(steps: number, onReport?: (r: StepReport) => void | Promise<void>, reportEvery = 10): Promise<void> {
    this.stopRequested = false;
    try {
      await runSteps({
        steps,
        reportEvery,
        onReport,
        hp: this.hp,
        step: () => this.loopStep(this.sampler.next()),
        stepNumber: () => this.step,
        stopped: () => this.stopRequested,
        beforeReport: () => this.syncParams(),
      });
    } finally {
      this.syncParams();
    }
  }

  /** The step `run` takes between reports: `trainStep` unless the subclass defers work to a report. */
  protected loopStep(batch: Batch): [tf.Scalar, tf.Scalar] {
    return this.trainStep(batch);
  }

  /** Brings the model's parameters up to date: before each report of `run` and at its end. */
  protected syncParams(): void {}

  stop(): void {
    this.stopRequested = true;
  }

  /** Mean loss over the fixed validation batches. */
  async evaluate(): Promise<number> {
    const lossOf = this.validationLoss();
    let total = 0;
    for (const batch of this.valBatches) {
      const loss = tf.tidy(() => lossOf(...batchTensors(batch)));
      total += (await loss.data())[0];
      loss.dispose();
    }
    return total / this.valBatches.length;
  }

  async exportState(): Promise<TrainerState> {
    return { step: this.step, dataPosition: this.sampler.rng.getState(), moments: await this.optimizer.exportMoments() };
  }

  importState(state: TrainerState): void {
    this.optimizer.importMoments(state.moments, state.step);
    this.sampler.rng.setState(state.dataPosition);
    this.step = state.step;
  }

  dispose(): void {
    this.optimizer.dispose();
  }
}

/**
 * The reference trainer: AdamW steps of `model` (src/gpt/model.ts, tfjs's autograd) on random
 * windows of `train`, loss measured on the fixed validation batches of `val`. One instance per
 * run; `stop()` ends `run` after the current step.
 */
export class Trainer extends TrainerBase<AdamW> {
  readonly optimizer: AdamW;

  constructor(model: GPT, data: { train: Int32Array; val: Int32Array }, hp: Hyperparameters) {
    super(model, data, hp);
    this.optimizer = new AdamW(model.params, hp);
  }

  trainStep(batch: Batch): [tf.Scalar, tf.Scalar] {
    const lr = learningRateAt(this.step, this.hp);
    const seed = mixSeed(this.hp.seed, this.step);
    const result = tf.tidy(() => {
      const [x, y] = batchTensors(batch);
      const { value, grads } = tf.variableGrads(
        () => this.model.loss(x, y, { training: true, dropoutSeed: seed }),
        [...this.model.params.values()],
      );
      const norm = this.optimizer.apply(grads, lr);
      return [value, norm] as [tf.Scalar, tf.Scalar];
    });
    this.step += 1;
    return result;
  }

  protected validationLoss() {
    return (x: tf.Tensor2D, y: tf.Tensor2D) => this.model.loss(x, y);
  }
}

/** What `runSteps` drives: one trainer's steps, its step counter and its stop flag. */
export interface StepLoop {
  steps: number;
  reportEvery: number;
  onReport?: (r: StepReport) => void | Promise<void>;
  hp: Hyperparameters;
  /** One optimizer step; returns [loss, gradNorm] as scalars the loop disposes. */
  step: () => [tf.Scalar, tf.Scalar];
  stepNumber: () => number;
  stopped: () => boolean;
  /** Runs before each report reads its loss (the fast path writes its parameters back there). */
  beforeReport?: () => void;
}

/**
 * The training loop both trainers share: `steps` steps (or until stopped), reading the loss back
 * only every `reportEvery` steps, yielding to messages every 4 steps, and throwing
 * NonFiniteLossError at a report whose loss is not finite.
 */
export async function runSteps(o: StepLoop): Promise<void> {
  let pending: [tf.Scalar, tf.Scalar][] = [];
  let windowStart = performance.now();
  let windowSteps = 0;
  const flush = async () => {
    if (pending.length === 0) return;
    o.beforeReport?.();
    const [loss, norm] = pending[pending.length - 1];
    const [lossValue] = await loss.data();
    const [normValue] = await norm.data();
    for (const pair of pending) tf.dispose(pair);
    pending = [];
    const seconds = (performance.now() - windowStart) / 1000;
    const step = o.stepNumber();
    const report: StepReport = {
      step,
      trainLoss: lossValue,
      learningRate: learningRateAt(step - 1, o.hp),
      gradNorm: normValue,
      tokensPerSecond: (windowSteps * o.hp.batchSize * o.hp.contextLength) / seconds,
    };
    if (!Number.isFinite(lossValue)) throw new NonFiniteLossError(step, lossValue);
    await o.onReport?.(report);
    windowStart = performance.now();
    windowSteps = 0;
  };
  try {
    for (let i = 0; i < o.steps && !o.stopped(); i++) {
      pending.push(o.step());
      windowSteps++;
      if (pending.length >= o.reportEvery || i === o.steps - 1) await flush();
      else if (i % 4 === 3) await new Promise((r) => setTimeout(r, 0)); // let messages in
    }
    await flush();
  } finally {
    for (const pair of pending) tf.dispose(pair);
  }
}
