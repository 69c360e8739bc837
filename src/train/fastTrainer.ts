import * as tf from '@tensorflow/tfjs';
import type { Hyperparameters } from '../gpt/config';
import type { GPT, Params } from '../gpt/model';
import { FastGPT } from '../gpt/fast/model';
import type { FlatLayout } from '../gpt/fast/layout';
import { adamWFlat, sliceFlat } from '../gpt/fast/ops';
import type { AdamWSettings, MomentArrays } from './adamw';
import type { Batch } from './data';
import { learningRateAt } from './schedule';
import { batchTensors, TrainerBase, type TrainerState } from './trainer';

/**
 * AdamW over every parameter at once: θ, m and v live in one flat buffer [θ, m, v] (3P), and a step
 * is a fixed handful of operations whatever the number of parameters (on WebGPU: partial sums of g²,
 * the update with clipping folded in, and the norm for reports; no readback).
 *
 * The model's `Params` (the tfjs variables the rest of the app reads and checkpoints) are views the
 * optimizer writes back with `syncToParams`; a change made to them from outside (a restored
 * checkpoint, a job that edits weights) is noticed at the next step and read back into θ.
 */
export class FlatAdamW {
  readonly settings: AdamWSettings;
  t = 0;
  readonly layout: FlatLayout;
  private readonly params: Params;
  /** [θ, m, v] (3P). */
  private state: tf.Tensor;
  private readonly mask: tf.Tensor;
  /** The tensor each parameter held after our last write, to notice writes from outside. */
  private written = new Map<string, object>();

  constructor(params: Params, layout: FlatLayout, settings: AdamWSettings) {
    this.params = params;
    this.layout = layout;
    this.settings = { ...settings };
    this.mask = tf.tensor1d(layout.decayMask);
    this.state = tf.tidy(() => tf.concat([this.thetaFromParams(), tf.zeros([2 * layout.size])]));
    this.remember();
  }

  private thetaFromParams(): tf.Tensor {
    return tf.concat(this.layout.entries.map((e) => tf.reshape(this.param(e.name), [-1])));
  }

  private param(name: string): tf.Variable {
    const v = this.params.get(name);
    if (!v) throw new Error(`no parameter ${name}`);
    return v;
  }

  private remember(): void {
    this.written = new Map(this.layout.entries.map((e) => [e.name, this.param(e.name).dataId]));
  }

  /** The flat state [θ, m, v], with θ re-read from the parameters if they were changed from outside. */
  current(): tf.Tensor {
    const changed = this.layout.entries.some((e) => this.param(e.name).dataId !== this.written.get(e.name));
    if (changed) {
      const P = this.layout.size;
      const next = tf.tidy(() => tf.concat([this.thetaFromParams(), sliceFlat(this.state, P, 2 * P)]));
      this.state.dispose();
      this.state = next;
      this.remember();
    }
    return this.state;
  }

  /**
   * Clips `grads` (flat, P) by their global norm and applies one AdamW update with learning rate
   * `lr`. Returns the norm before clipping as a scalar the caller owns. Parameters are not written
   * back until `syncToParams`.
   */
  apply(grads: tf.Tensor, lr: number): tf.Scalar {
    this.t += 1;
    const { beta1, beta2, epsilon, weightDecay, gradClip } = this.settings;
    const P = this.layout.size;
    const state = this.current();
    const { state: next, norm } = tf.tidy(() => {
      const r = adamWFlat(state, grads, this.mask, P, {
        lr,
        beta1,
        beta2,
        eps: epsilon,
        wd: weightDecay,
        bc1: 1 - beta1 ** this.t,
        bc2: 1 - beta2 ** this.t,
        clip: gradClip,
      });
      return { state: r.state, norm: r.norm };
    });
    state.dispose();
    this.state = next;
    return norm;
  }

  /** Writes θ into the model's parameters (each becomes a slice of θ). */
  syncToParams(): void {
    const state = this.current();
    tf.tidy(() => {
      for (const e of this.layout.entries) this.param(e.name).assign(tf.reshape(sliceFlat(state, e.offset, e.size), e.shape));
    });
    this.remember();
  }

  async exportMoments(): Promise<MomentArrays> {
    const P = this.layout.size;
    const all = (await this.current().data()) as Float32Array;
    const out: MomentArrays = new Map();
    for (const e of this.layout.entries) {
      out.set(e.name, { m: all.slice(P + e.offset, P + e.offset + e.size), v: all.slice(2 * P + e.offset, 2 * P + e.offset + e.size) });
    }
    return out;
  }

  importMoments(moments: MomentArrays, t: number): void {
    for (const e of this.layout.entries) {
      const saved = moments.get(e.name);
      if (!saved) throw new Error(`the resume record has no moments for ${e.name}`);
      if (saved.m.length !== e.size || saved.v.length !== e.size) throw new Error(`the resume record's moments for ${e.name} have the wrong size`);
    }
    const P = this.layout.size;
    const mv = new Float32Array(2 * P);
    for (const e of this.layout.entries) {
      const saved = moments.get(e.name)!;
      mv.set(saved.m, e.offset);
      mv.set(saved.v, P + e.offset);
    }
    const next = tf.tidy(() => tf.concat([this.thetaFromParams(), tf.tensor1d(mv)]));
    this.state.dispose();
    this.state = next;
    this.remember();
    this.t = t;
  }

  dispose(): void {
    this.state.dispose();
    this.mask.dispose();
  }
}

/**
 * The fast path's trainer: the same interface and behaviour as `Trainer` (src/train/trainer.ts),
 * over `FastGPT` and `FlatAdamW`. The reference `GPT` it is given keeps owning the parameters,
 * which are written back at every report, at the end of `run`, after `trainStep` and before
 * `exportState`; between reports training, and `evaluate`, run on the flat buffer alone. What it
 * shares with `Trainer` (sampling, validation batches, the loop, state) is `TrainerBase`.
 */
export class FastTrainer extends TrainerBase<FlatAdamW> {
  readonly fast: FastGPT;
  readonly optimizer: FlatAdamW;

  constructor(model: GPT, data: { train: Int32Array; val: Int32Array }, hp: Hyperparameters) {
    const why = FastGPT.unsupported(model.config);
    if (why) throw new Error(why);
    super(model, data, hp);
    this.fast = new FastGPT(model.config);
    this.optimizer = new FlatAdamW(model.params, this.fast.layout, hp);
  }

  /**
   * One optimizer step on `batch` without writing the parameters back (what `run` does between
   * reports); returns [loss, gradNorm] as scalars the caller must dispose.
   */
  stepFlat(batch: Batch): [tf.Scalar, tf.Scalar] {
    const lr = learningRateAt(this.step, this.hp);
    const theta = this.optimizer.current();
    const [loss, grads] = tf.tidy(() => {
      const [x, y] = batchTensors(batch);
      const r = this.fast.lossAndGrads(theta, x, y);
      return [r.loss, r.grads!] as [tf.Scalar, tf.Tensor];
    });
    const norm = this.optimizer.apply(grads, lr);
    grads.dispose();
    this.step += 1;
    return [loss, norm];
  }

  /** One optimizer step on `batch`, parameters written back; returns [loss, gradNorm] to dispose. */
  trainStep(batch: Batch): [tf.Scalar, tf.Scalar] {
    const result = this.stepFlat(batch);
    this.optimizer.syncToParams();
    return result;
  }

  /** Between reports `run` steps on the flat buffer alone... */
  protected override loopStep(batch: Batch): [tf.Scalar, tf.Scalar] {
    return this.stepFlat(batch);
  }

  /** ...and writes the parameters back at each report and at its end. */
  protected override syncParams(): void {
    this.optimizer.syncToParams();
  }

  /** The fast forward pass on the flat buffer, brought up to date once, before the batches. */
  protected validationLoss() {
    const theta = this.optimizer.current();
    return (x: tf.Tensor2D, y: tf.Tensor2D) => this.fast.lossAndGrads(theta, x, y, true).loss;
  }

  override async exportState(): Promise<TrainerState> {
    this.optimizer.syncToParams();
    return super.exportState();
  }
}
