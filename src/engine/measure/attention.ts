/**
 * One attention head, small enough to print: T = 4 positions, head size hs = 3.
 *
 *   scores = Q·Kᵀ / √hs (+ causal mask)      (T, T)
 *   P      = softmax(scores) over each row    (T, T)
 *   O      = P·V                              (T, hs)
 *   L      = Σ O ⊙ R                          a scalar
 *
 * R is a fixed "upstream gradient": in a real network the layers above the head decide how much
 * each output number matters, and R stands in for them, so L is a scalar we can differentiate.
 *
 * Plain JavaScript (float64), no tfjs: the page computes finite differences with it, the engine
 * job computes the same L with tfjs and differentiates it with `tf.grads`.
 */
import { Rng } from '../../gpt/random';
import { MeasureInputError } from './expression';

export const HEAD_T = 4;
export const HEAD_SIZE = 3;
export const HEAD_INPUTS = ['q', 'k', 'v'] as const;
export type HeadInput = (typeof HEAD_INPUTS)[number];

export interface HeadRequest {
  /** Seeds Q, K, V and R. */
  seed: number;
  /** Each position attends only to itself and earlier ones (as in a GPT). */
  causal: boolean;
}

/** Row-major (T, hs) matrices for Q, K and V and the (T, hs) weighting R. */
export interface HeadTensors {
  q: number[];
  k: number[];
  v: number[];
  r: number[];
}

export function checkSeed(value: unknown): string | null {
  if (typeof value !== 'number' || !Number.isInteger(value)) return 'the seed must be a whole number';
  if (value < 0 || value > 1_000_000) return 'the seed must lie between 0 and 1000000';
  return null;
}

export function validateHeadRequest(req: Partial<Record<keyof HeadRequest, unknown>>): HeadRequest {
  const problem = checkSeed(req.seed);
  if (problem) throw new MeasureInputError('seed', problem);
  return { seed: req.seed as number, causal: req.causal !== false };
}

/** Q, K, V uniform in [−1.5, 1.5) and R in [−1, 1), from the seed. Values rounded to 2 decimals so the page can print them exactly. */
export function headTensors(seed: number): HeadTensors {
  const rng = new Rng(seed * 7919 + 17);
  const draw = (scale: number) =>
    Array.from({ length: HEAD_T * HEAD_SIZE }, () => Math.round((rng.next() * 2 - 1) * scale * 100) / 100);
  return { q: draw(1.5), k: draw(1.5), v: draw(1.5), r: draw(1) };
}

export interface HeadForward {
  /** (T, T) attention probabilities, row-major. */
  probs: number[];
  /** (T, hs) output, row-major. */
  out: number[];
  loss: number;
}

/** The head's forward pass in float64. */
export function headForward(t: HeadTensors, causal: boolean): HeadForward {
  const T = HEAD_T;
  const hs = HEAD_SIZE;
  const probs = new Array<number>(T * T).fill(0);
  for (let i = 0; i < T; i++) {
    const row: number[] = [];
    for (let j = 0; j < T; j++) {
      let s = 0;
      for (let d = 0; d < hs; d++) s += t.q[i * hs + d] * t.k[j * hs + d];
      row.push(causal && j > i ? -Infinity : s / Math.sqrt(hs));
    }
    const max = Math.max(...row);
    const exps = row.map((s) => Math.exp(s - max));
    const sum = exps.reduce((a, b) => a + b, 0);
    for (let j = 0; j < T; j++) probs[i * T + j] = exps[j] / sum;
  }
  const out = new Array<number>(T * hs).fill(0);
  for (let i = 0; i < T; i++)
    for (let d = 0; d < hs; d++) {
      let s = 0;
      for (let j = 0; j < T; j++) s += probs[i * T + j] * t.v[j * hs + d];
      out[i * hs + d] = s;
    }
  let loss = 0;
  for (let i = 0; i < out.length; i++) loss += out[i] * t.r[i];
  return { probs, out, loss };
}

/** ∂L/∂Q, ∂L/∂K, ∂L/∂V by central differences, one entry at a time (float64, h = 1e-5). */
export function headFiniteDifferences(t: HeadTensors, causal: boolean, h = 1e-5): Record<HeadInput, number[]> {
  const out = {} as Record<HeadInput, number[]>;
  for (const name of HEAD_INPUTS) {
    out[name] = t[name].map((x, i) => {
      const at = (value: number) => {
        const changed = t[name].slice();
        changed[i] = value;
        return headForward({ ...t, [name]: changed }, causal).loss;
      };
      return (at(x + h) - at(x - h)) / (2 * h);
    });
  }
  return out;
}
