import * as tf from '@tensorflow/tfjs';
import type { ModelConfig } from './config';
import { mixSeed, Rng } from './random';
import { parameterShapes } from './shapes';

/**
 * The GPT, written plainly: this is the reference path, the oracle every faster path is checked
 * against. Classes and functions appear in the order data flows through the model:
 * embeddings → (LayerNorm → attention → residual → LayerNorm → MLP → residual) × layers → LayerNorm → head.
 *
 * Shapes (see src/gpt/config.ts for the glossary): batch is folded into rows, so every Linear is one
 * 2-D matrix product on (N, C) with N = B·T; attention unfolds to (B, nh, T, hs).
 */

export type Params = Map<string, tf.Variable>;

/** nanoGPT's initialisation: N(0, 0.02) weights, residual projections scaled by 1/√(2·layers). */
export function initParameters(config: ModelConfig, seed: number): Params {
  const rng = new Rng(seed);
  const params: Params = new Map();
  const residualStd = 0.02 / Math.sqrt(2 * config.layers);
  for (const [name, shape] of parameterShapes(config)) {
    const size = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(size);
    if (name.includes('ln_') && name.endsWith('.weight')) {
      data.fill(1);
    } else if (name.endsWith('.weight')) {
      const std = name.endsWith('c_proj.weight') ? residualStd : 0.02;
      for (let i = 0; i < size; i++) data[i] = rng.normal() * std;
    } // biases stay zero
    params.set(name, tf.tidy(() => tf.variable(tf.tensor(data, shape, 'float32'), true)));
  }
  return params;
}

/** Builds variables from named arrays (a checkpoint), checking every shape against the config. */
export function paramsFromArrays(config: ModelConfig, arrays: Map<string, { shape: number[]; data: Float32Array }>): Params {
  const params: Params = new Map();
  for (const [name, shape] of parameterShapes(config)) {
    const a = arrays.get(name);
    if (!a) throw new Error(`missing parameter ${name}`);
    if (a.shape.join(',') !== shape.join(',')) throw new Error(`${name} has shape [${a.shape}], expected [${shape}]`);
    params.set(name, tf.tidy(() => tf.variable(tf.tensor(a.data, shape, 'float32'), true)));
  }
  return params;
}

/** Copies every parameter to plain arrays (async: safe on WebGPU). */
export async function paramsToArrays(params: Params): Promise<Map<string, { shape: number[]; data: Float32Array }>> {
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, v] of params) out.set(name, { shape: v.shape.slice(), data: (await v.data()) as Float32Array });
  return out;
}

export function disposeParams(params: Params): void {
  for (const v of params.values()) v.dispose();
}

// ---------------------------------------------------------------------------------------------
// Building blocks. Each takes and returns tensors; the caller's tf.tidy cleans the intermediates.

/**
 * y = x Wᵀ + b, with W stored [out, in] as PyTorch keeps it. (N, in) → (N, out)
 *
 * The backward pass is written out rather than derived by tfjs, so that every product is a plain
 * 2-D matmul with explicit transposes (tfjs's own matMul gradient uses transpose flags, which the
 * wasm backend runs on a slow scalar path):
 *   dx = dy · W          (N, out)·(out, in) → (N, in)
 *   dW = dyᵀ · x         (out, N)·(N, in)   → (out, in)
 *   db = Σ_rows dy       (out,)
 */
const linearWithBias = tf.customGrad((...args) => {
  const [x2, w, bias, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor, tf.GradSaveFunc];
  save([x2, w]);
  return {
    value: tf.add(tf.matMul(x2, tf.transpose(w)), bias),
    gradFunc: (dy, saved) => {
      const [xs, ws] = saved as tf.Tensor2D[];
      const g = dy as tf.Tensor2D;
      return [tf.matMul(g, ws), tf.matMul(tf.transpose(g), xs), tf.sum(g, 0)];
    },
  };
}) as (x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor) => tf.Tensor2D;

/** y = x Wᵀ without a bias (the tied output head), with the same explicit backward. */
const linearNoBias = tf.customGrad((...args) => {
  const [x2, w, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
  save([x2, w]);
  return {
    value: tf.matMul(x2, tf.transpose(w)),
    gradFunc: (dy, saved) => {
      const [xs, ws] = saved as tf.Tensor2D[];
      const g = dy as tf.Tensor2D;
      return [tf.matMul(g, ws), tf.matMul(tf.transpose(g), xs)];
    },
  };
}) as (x: tf.Tensor, weight: tf.Tensor) => tf.Tensor2D;

function linear(x: tf.Tensor2D, weight: tf.Tensor, bias?: tf.Tensor): tf.Tensor2D {
  return bias ? linearWithBias(x, weight, bias) : linearNoBias(x, weight);
}

/**
 * Token embedding as one-hot · wte: a plain matmul whose gradient exists on every backend
 * (tf.gather's gradient needs UnsortedSegmentSum, which the wasm backend lacks). The gradient
 * reaches wte only: d wte = onehotᵀ · dy. (N, V)·(V, C) → (N, C)
 */
const embed = tf.customGrad((...args) => {
  const [oneHot, wte, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
  save([oneHot]);
  return {
    value: tf.matMul(oneHot, wte),
    gradFunc: (dy, saved) => {
      const [oh] = saved as tf.Tensor2D[];
      return [tf.zerosLike(oh), tf.matMul(tf.transpose(oh), dy as tf.Tensor2D)];
    },
  };
}) as (oneHot: tf.Tensor2D, wte: tf.Tensor) => tf.Tensor2D;

/** LayerNorm over the last axis with a learned scale and shift, ε = 1e-5. (N, C) → (N, C) */
function layerNorm(x: tf.Tensor2D, weight: tf.Tensor, bias: tf.Tensor): tf.Tensor2D {
  const { mean, variance } = tf.moments(x, -1, true);
  const normed = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, 1e-5)));
  return tf.add(tf.mul(normed, weight), bias);
}

/**
 * GELU in its tanh form (GPT-2; PyTorch's gelu(approximate='tanh')):
 *   0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))  =  x·σ(2·√(2/π)·(x + 0.044715·x³)),
 * since 0.5·(1 + tanh(u)) = σ(2u) exactly. The sigmoid form is the same function and cheaper on CPUs,
 * and x³ is written x·x·x: tfjs's general `pow` (and its gradient, which takes logarithms) costs
 * about as much as all the model's matrix products together on the wasm backend.
 */
export function geluTanh(x: tf.Tensor): tf.Tensor {
  const k = 2 * Math.sqrt(2 / Math.PI);
  const inner = tf.mul(tf.add(x, tf.mul(tf.mul(tf.mul(x, x), x), 0.044715)), k);
  return tf.mul(x, tf.sigmoid(inner));
}

/** The additive causal mask, built once per model: 0 on and below the diagonal, -1e9 above. (T, T) */
function causalMask(T: number): tf.Tensor2D {
  const data = new Float32Array(T * T);
  for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) data[i * T + j] = -1e9;
  return tf.tensor2d(data, [T, T]);
}

export interface ForwardOptions {
  /** Apply dropout (training only); needs `dropoutSeed`. */
  training?: boolean;
  dropoutSeed?: number;
  /** Return only the last position's logits, (B, V): what sampling needs. */
  lastOnly?: boolean;
  /** With `lastOnly`: the position to return instead of the last (a window padded at its end). */
  position?: number;
  /** Called with each layer's attention probabilities (B, nh, T, T); the callee must tf.keep what it holds. */
  onAttention?: (layer: number, probs: tf.Tensor4D) => void;
}

export class GPT {
  readonly config: ModelConfig;
  readonly params: Params;
  private readonly mask: tf.Tensor2D;

  constructor(config: ModelConfig, params: Params) {
    this.config = config;
    this.params = params;
    this.mask = causalMask(config.contextLength);
  }

  static create(config: ModelConfig, seed: number): GPT {
    return new GPT(config, initParameters(config, seed));
  }

  private p(name: string): tf.Variable {
    const v = this.params.get(name);
    if (!v) throw new Error(`no parameter ${name}`);
    return v;
  }

  private dropout(x: tf.Tensor, opts: ForwardOptions, ...where: number[]): tf.Tensor {
    const rate = this.config.dropout;
    if (!opts.training || rate === 0) return x;
    return tf.dropout(x, rate, undefined, mixSeed(opts.dropoutSeed ?? 0, ...where));
  }

  /** Causal multi-head self-attention of layer `l`. (N, C) → (N, C) */
  private attention(x: tf.Tensor2D, l: number, B: number, T: number, opts: ForwardOptions): tf.Tensor2D {
    const { width: C, heads: nh } = this.config;
    const hs = C / nh;
    const pre = `transformer.h.${l}.attn.`;
    const qkv = linear(x, this.p(pre + 'c_attn.weight'), this.p(pre + 'c_attn.bias')); // (N, 3C)
    const toHeads = (t: tf.Tensor) => tf.transpose(tf.reshape(t, [B, T, nh, hs]), [0, 2, 1, 3]) as tf.Tensor4D; // (B, nh, T, hs)
    const [q, k, v] = tf.split(qkv, 3, 1).map(toHeads);
    const mask = T === this.config.contextLength ? this.mask : tf.slice(this.mask, [0, 0], [T, T]);
    const scores = tf.add(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(hs)), mask); // (B, nh, T, T)
    const probs = tf.softmax(scores) as tf.Tensor4D; // each row sums to 1 over the keys it may see
    opts.onAttention?.(l, probs);
    const y = tf.matMul(this.dropout(probs, opts, l, 0) as tf.Tensor4D, v); // (B, nh, T, hs)
    const merged = tf.reshape(tf.transpose(y, [0, 2, 1, 3]), [B * T, C]) as tf.Tensor2D; // (N, C)
    return linear(merged, this.p(pre + 'c_proj.weight'), this.p(pre + 'c_proj.bias'));
  }

  /** The MLP of layer `l`: C → 4C → GELU → C. (N, C) → (N, C) */
  private mlp(x: tf.Tensor2D, l: number): tf.Tensor2D {
    const pre = `transformer.h.${l}.mlp.`;
    const h = geluTanh(linear(x, this.p(pre + 'c_fc.weight'), this.p(pre + 'c_fc.bias'))) as tf.Tensor2D; // (N, 4C)
    return linear(h, this.p(pre + 'c_proj.weight'), this.p(pre + 'c_proj.bias'));
  }

  /**
   * Logits for every position of `idx` (B, T) int32, as (B·T, V); or (B, V) with `lastOnly`.
   * Not wrapped in tidy: call it inside one.
   */
  forward(idx: tf.Tensor2D, opts: ForwardOptions = {}): tf.Tensor2D {
    const [B, T] = idx.shape;
    const { width: C, vocabSize: V, contextLength, layers } = this.config;
    if (T > contextLength) throw new Error(`a window of ${T} tokens is longer than the context length ${contextLength}`);
    const wte = this.p('transformer.wte.weight'); // (V, C)
    const oneHot = tf.cast(tf.oneHot(tf.reshape(idx, [B * T]), V), 'float32') as tf.Tensor2D; // (N, V)
    const tok = embed(oneHot, wte); // (N, C)
    const pos = tf.slice(this.p('transformer.wpe.weight'), [0, 0], [T, C]); // (T, C)
    let x = tf.reshape(tf.add(tf.reshape(tok, [B, T, C]), pos), [B * T, C]) as tf.Tensor2D; // (N, C)
    x = this.dropout(x, opts, 1000) as tf.Tensor2D;
    for (let l = 0; l < layers; l++) {
      const pre = `transformer.h.${l}.`;
      const a = this.attention(layerNorm(x, this.p(pre + 'ln_1.weight'), this.p(pre + 'ln_1.bias')), l, B, T, opts);
      x = tf.add(x, this.dropout(a, opts, l, 1));
      const m = this.mlp(layerNorm(x, this.p(pre + 'ln_2.weight'), this.p(pre + 'ln_2.bias')), l);
      x = tf.add(x, this.dropout(m, opts, l, 2));
    }
    if (opts.lastOnly) {
      const at = opts.position ?? T - 1;
      if (!Number.isInteger(at) || at < 0 || at >= T) throw new Error(`position ${at} is outside a window of ${T} tokens`);
      x = tf.reshape(tf.slice(tf.reshape(x, [B, T, C]), [0, at, 0], [B, 1, C]), [B, C]) as tf.Tensor2D; // (B, C)
    }
    x = layerNorm(x, this.p('transformer.ln_f.weight'), this.p('transformer.ln_f.bias'));
    return linear(x, wte); // head tied to wte: (N, V)
  }

  /**
   * Mean cross-entropy of predicting `targets` (B, T) from `idx` (B, T). With `weights` (B·T values,
   * e.g. 0 on a prompt and 1 on an answer) it is the weighted mean: a masked loss.
   */
  loss(idx: tf.Tensor2D, targets: tf.Tensor2D, opts: ForwardOptions = {}, weights?: tf.Tensor1D): tf.Scalar {
    const logits = this.forward(idx, opts);
    return crossEntropy(logits, tf.reshape(targets, [-1]) as tf.Tensor1D, this.config.vocabSize, weights);
  }

  dispose(): void {
    disposeParams(this.params);
    this.mask.dispose();
  }
}

/**
 * Cross-entropy of logits (N, V) against integer targets (N,): mean over rows of −log softmax at the
 * target. Written with a one-hot product rather than a gather, so it has a gradient on every backend.
 */
export function crossEntropy(logits: tf.Tensor2D, targets: tf.Tensor1D, V: number, weights?: tf.Tensor1D): tf.Scalar {
  const logProbs = tf.logSoftmax(logits); // (N, V)
  const picked = tf.sum(tf.mul(logProbs, tf.cast(tf.oneHot(targets, V), 'float32')), -1); // (N,)
  if (!weights) return tf.neg(tf.mean(picked));
  return tf.neg(tf.div(tf.sum(tf.mul(picked, weights)), tf.maximum(tf.sum(weights), 1e-8)));
}
