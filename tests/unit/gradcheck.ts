import * as tf from '@tensorflow/tfjs';
import type { GPT } from '../../src/gpt/model';
import { Rng } from '../../src/gpt/random';

export interface GroupCheck {
  name: string;
  analytic: number;
  numeric: number;
  relativeError: number;
}

/**
 * Finite-difference check of every parameter group (each named tensor) of `model`'s loss on one
 * batch. Along a direction d per group, the analytic directional derivative ⟨g, d⟩ is compared
 * with the central difference (L(p + εd) − L(p − εd)) / 2ε, computed in float32.
 *
 * d mixes the analytic gradient's direction with a random one, d = normalise(ĝ + r̂): the signal is
 * large enough to rise above float32 rounding, and a wrong gradient — a flipped sign, a missing
 * term — changes ⟨g, d⟩ while leaving the numerical derivative alone.
 * `tamper` lets a test plant a bug in the analytic gradients (keyed by tfjs variable name) before
 * they are compared.
 */
export async function gradientCheck(
  model: GPT,
  x: tf.Tensor2D,
  y: tf.Tensor2D,
  opts: { epsilon?: number; seed?: number; tamper?: (grads: tf.NamedTensorMap) => void } = {},
): Promise<GroupCheck[]> {
  const epsilon = opts.epsilon ?? 1e-2;
  const rng = new Rng(opts.seed ?? 7);
  const vars = [...model.params.values()];
  const { value, grads } = tf.variableGrads(() => model.loss(x, y), vars);
  value.dispose();
  opts.tamper?.(grads);
  const lossAt = async () => {
    const l = tf.tidy(() => model.loss(x, y));
    const v = (await l.data())[0];
    l.dispose();
    return v;
  };
  const results: GroupCheck[] = [];
  for (const [name, p] of model.params) {
    const g = (await grads[p.name].data()) as Float32Array;
    const original = (await p.data()) as Float32Array;
    const gNorm = Math.hypot(...g);
    const r = Float32Array.from(g, () => rng.normal());
    const rNorm = Math.hypot(...r);
    const d = new Float32Array(g.length);
    for (let i = 0; i < g.length; i++) d[i] = (gNorm > 0 ? g[i] / gNorm : 0) + r[i] / rNorm;
    const dNorm = Math.hypot(...d);
    for (let i = 0; i < d.length; i++) d[i] /= dNorm;
    let analytic = 0;
    for (let i = 0; i < g.length; i++) analytic += g[i] * d[i];
    const shifted = (sign: number) => Float32Array.from(original, (v, i) => v + sign * epsilon * d[i]);
    tf.tidy(() => p.assign(tf.tensor(shifted(+1), p.shape)));
    const plus = await lossAt();
    tf.tidy(() => p.assign(tf.tensor(shifted(-1), p.shape)));
    const minus = await lossAt();
    tf.tidy(() => p.assign(tf.tensor(original, p.shape)));
    const numeric = (plus - minus) / (2 * epsilon);
    const relativeError = Math.abs(analytic - numeric) / Math.max(Math.abs(analytic), Math.abs(numeric), 1e-6);
    results.push({ name, analytic, numeric, relativeError });
  }
  tf.dispose(grads);
  return results;
}
