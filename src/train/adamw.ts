import * as tf from '@tensorflow/tfjs';
import type { TrainConfig } from '../gpt/config';
import type { Params } from '../gpt/model';

export type AdamWSettings = Pick<TrainConfig, 'beta1' | 'beta2' | 'epsilon' | 'weightDecay' | 'gradClip'>;

/** Moments of one parameter, as plain arrays: what a resume record stores. */
export type MomentArrays = Map<string, { m: Float32Array; v: Float32Array }>;

/**
 * AdamW (Loshchilov & Hutter, "Decoupled Weight Decay Regularization", 2019) as PyTorch's
 * `torch.optim.AdamW` computes it, after clipping the gradients' global norm:
 *
 *   g ← g · min(1, clip / (‖g‖ + 1e-6))             (all parameters together)
 *   m ← β1·m + (1−β1)·g        v ← β2·v + (1−β2)·g²
 *   p ← p·(1 − lr·wd) − lr · (m / (1−β1ᵗ)) / (√(v / (1−β2ᵗ)) + ε)
 *
 * Weight decay applies to 2-D weights only (embeddings and Linear weights), never to biases or
 * LayerNorm parameters.
 */
export class AdamW {
  readonly settings: AdamWSettings;
  /** Updates applied so far (t in the bias corrections). */
  t = 0;
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();

  constructor(
    private readonly params: Params,
    settings: AdamWSettings,
  ) {
    this.settings = { ...settings };
    for (const [name, p] of params) {
      this.m.set(name, tf.tidy(() => tf.variable(tf.zerosLike(p), false)));
      this.v.set(name, tf.tidy(() => tf.variable(tf.zerosLike(p), false)));
    }
  }

  /**
   * Clips and applies `grads` (keyed by tfjs variable name, as `tf.variableGrads` returns them)
   * with learning rate `lr`; returns the global gradient norm before
   * clipping as a scalar the caller owns (read it rarely: reading waits for the device).
   */
  apply(grads: tf.NamedTensorMap, lr: number): tf.Scalar {
    this.t += 1;
    const { beta1, beta2, epsilon, weightDecay, gradClip } = this.settings;
    const bc1 = 1 - beta1 ** this.t;
    const bc2 = 1 - beta2 ** this.t;
    return tf.tidy(() => {
      const names = [...this.params.keys()];
      const gradOf = (name: string) => {
        const g = grads[this.params.get(name)!.name];
        if (!g) throw new Error(`no gradient for ${name}`);
        return g;
      };
      // Summed pairwise, not with tf.addN: webgpu's AddN binds every input to one shader, and past
      // 8 inputs that exceeds WebGPU's default limit of storage buffers per stage.
      const squares = names.map((n) => tf.sum(tf.square(gradOf(n))));
      const norm = tf.sqrt(squares.reduce((a, b) => tf.add(a, b))) as tf.Scalar;
      const coef = gradClip > 0 ? tf.minimum(tf.div(gradClip, tf.add(norm, 1e-6)), 1) : tf.scalar(1);
      for (const name of names) {
        const p = this.params.get(name)!;
        const m = this.m.get(name)!;
        const v = this.v.get(name)!;
        const g = tf.mul(gradOf(name), coef);
        const m1 = tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1));
        const v1 = tf.add(tf.mul(v, beta2), tf.mul(tf.square(g), 1 - beta2));
        const update = tf.div(tf.div(m1, bc1), tf.add(tf.sqrt(tf.div(v1, bc2)), epsilon));
        const decayed = p.shape.length >= 2 && weightDecay > 0 ? tf.mul(p, 1 - lr * weightDecay) : p;
        m.assign(m1);
        v.assign(v1);
        p.assign(tf.sub(decayed, tf.mul(update, lr)));
      }
      return norm;
    });
  }

  async exportMoments(): Promise<MomentArrays> {
    const out: MomentArrays = new Map();
    for (const name of this.params.keys()) {
      out.set(name, {
        m: (await this.m.get(name)!.data()) as Float32Array,
        v: (await this.v.get(name)!.data()) as Float32Array,
      });
    }
    return out;
  }

  importMoments(moments: MomentArrays, t: number): void {
    for (const name of this.params.keys()) {
      if (!moments.has(name)) throw new Error(`the resume record has no moments for ${name}`);
    }
    tf.tidy(() => {
      for (const [name, p] of this.params) {
        const saved = moments.get(name)!;
        this.m.get(name)!.assign(tf.tensor(saved.m, p.shape, 'float32'));
        this.v.get(name)!.assign(tf.tensor(saved.v, p.shape, 'float32'));
      }
    });
    this.t = t;
  }

  dispose(): void {
    for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
  }
}
