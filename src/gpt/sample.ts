import * as tf from '@tensorflow/tfjs';
import type { GPT } from './model';
import { Rng } from './random';

export interface SampleOptions {
  /** Divides the logits: below 1 sharpens the distribution, above 1 flattens it. 0 means greedy. */
  temperature?: number;
  /** Keep only the k most likely tokens (0 or undefined: all). */
  topK?: number;
  /** Keep the smallest set of most likely tokens whose probabilities add up to at least p (1: all). */
  topP?: number;
  seed?: number;
}

/**
 * The next-token distribution after temperature, top-k and top-p, from raw logits (V,).
 * Returns probabilities that sum to 1 (zeros for the tokens filtered out).
 */
export function nextTokenDistribution(logits: ArrayLike<number>, opts: SampleOptions = {}): Float64Array {
  const V = logits.length;
  const temperature = opts.temperature ?? 1;
  const probs = new Float64Array(V);
  if (temperature <= 0) {
    let best = 0;
    for (let i = 1; i < V; i++) if (logits[i] > logits[best]) best = i;
    probs[best] = 1;
    return probs;
  }
  let max = -Infinity;
  for (let i = 0; i < V; i++) max = Math.max(max, logits[i] / temperature);
  let sum = 0;
  for (let i = 0; i < V; i++) sum += probs[i] = Math.exp(logits[i] / temperature - max);
  for (let i = 0; i < V; i++) probs[i] /= sum;
  const order = Array.from({ length: V }, (_, i) => i).sort((a, b) => probs[b] - probs[a]);
  let keep = V;
  if (opts.topK && opts.topK > 0) keep = Math.min(keep, Math.floor(opts.topK));
  const topP = opts.topP ?? 1;
  if (topP < 1) {
    let cumulative = 0;
    for (let r = 0; r < keep; r++) {
      cumulative += probs[order[r]];
      if (cumulative >= topP) {
        keep = r + 1;
        break;
      }
    }
  }
  for (let r = keep; r < V; r++) probs[order[r]] = 0;
  let kept = 0;
  for (let i = 0; i < V; i++) kept += probs[i];
  for (let i = 0; i < V; i++) probs[i] /= kept;
  return probs;
}

/** Draws one index from `probs` with `rng`. */
export function drawFrom(probs: ArrayLike<number>, rng: Rng): number {
  const u = rng.next();
  let cumulative = 0;
  for (let i = 0; i < probs.length; i++) {
    cumulative += probs[i];
    if (u < cumulative) return i;
  }
  for (let i = probs.length - 1; i >= 0; i--) if (probs[i] > 0) return i;
  return 0;
}

/**
 * Continues `prompt` (token ids) by `maxTokens` tokens, feeding the model at most its context
 * length of the most recent tokens. `onToken` sees each new token as it is drawn; returning false
 * stops early.
 */
export async function generate(
  model: GPT,
  prompt: readonly number[],
  maxTokens: number,
  opts: SampleOptions = {},
  onToken?: (id: number) => boolean | void,
): Promise<number[]> {
  if (prompt.length === 0) throw new Error('the prompt needs at least one token');
  const rng = new Rng(opts.seed ?? 0);
  const tokens = [...prompt];
  const out: number[] = [];
  const T = model.config.contextLength;
  // On a GPU every new input shape compiles new shader programs, so a window that grows by one
  // token a step would compile a set per token: there the window is padded at its end to the full
  // context, and the logits are read at the last real token. Causal attention keeps the padding
  // out of every earlier position, so the numbers are the same.
  const fixedShape = ['webgpu', 'webgl'].includes(tf.getBackend());
  for (let i = 0; i < maxTokens; i++) {
    const window = tokens.slice(-T);
    const length = window.length;
    if (fixedShape) while (window.length < T) window.push(window[length - 1]);
    const logits = tf.tidy(() =>
      model.forward(tf.tensor2d(window, [1, window.length], 'int32'), { lastOnly: true, position: length - 1 }),
    );
    const values = await logits.data();
    logits.dispose();
    const id = drawFrom(nextTokenDistribution(values, opts), rng);
    tokens.push(id);
    out.push(id);
    if (onToken?.(id) === false) break;
  }
  return out;
}
