import * as tf from '@tensorflow/tfjs';
import { modelConfigOf, type Hyperparameters } from '../src/gpt/config';
import * as ops from '../src/gpt/fast/ops';
import { awaitOneValue } from './matmul';

export interface OpTime {
  /** Which operation of a training step, with the shapes of `config`. */
  op: string;
  /** How many times one training step runs it. */
  perStep: number;
  /** Milliseconds per call (wall clock over `reps` calls queued back to back, ended by reading one value). */
  ms: number;
  /** Floating-point operations per call (products only; 0 for the rest). */
  flop: number;
}

/**
 * Times each fused operation of the fast path (src/gpt/fast/ops.ts) alone, at the shapes one
 * training step of `hp` gives it, on the current backend: where a step's time goes, operation by
 * operation, and how close each product comes to the backend's matmul ceiling. Inputs are random
 * (the timing does not depend on values); each operation runs `reps` times after one warm-up call.
 */
export async function benchOps(hp: Hyperparameters, reps: number): Promise<OpTime[]> {
  const config = modelConfigOf(hp);
  const { width: C, vocabSize: V, heads, layers: L } = config;
  const B = hp.batchSize;
  const T = hp.contextLength;
  const N = B * T;
  const P = 13 * C * C + 2 * V * C; // room for any weight at any offset used below
  const keep: tf.Tensor[] = [];
  const rand = (shape: number[], seed: number) => {
    const t = tf.randomNormal(shape, 0, 0.5, 'float32', seed);
    keep.push(t);
    return t;
  };
  const theta = rand([3 * P], 1);
  const x = rand([N, C], 2);
  const x3 = rand([N, 3 * C], 3);
  const x4 = rand([N, 4 * C], 4);
  const dy = rand([N, C], 5);
  const logits = rand([N, V], 6);
  const ids = tf.tensor1d(Int32Array.from({ length: N }, (_, i) => (i * 7) % V), 'int32');
  const grads = rand([P], 7);
  const mask = tf.ones([P]);
  keep.push(ids, mask);
  const ln = tf.tidy(() => ops.layerNorm(x, theta, 0, C, N, C));
  const att = tf.tidy(() => ops.attention(x3, { B, T, heads, C }));
  keep.push(ln, att);
  const rows = (t: tf.Tensor, cols: number) => ({ t, off: 0, rows: N, cols });
  const W = (rowsW: number, cols: number, trans = true) => ({ t: theta, off: 8 * C, rows: rowsW, cols, trans });
  const bias = { theta, off: 4 * C };
  const shape = { B, T, heads, C };
  const mm = (m: number, k: number, n: number) => 2 * m * k * n;
  const cases: { op: string; perStep: number; flop: number; f: () => tf.Tensor }[] = [
    { op: 'linear qkv (LN·Wᵀ + b)', perStep: L, flop: mm(N, C, 3 * C), f: () => ops.gemm(rows(ln, C), W(3 * C, C), { bias }) },
    { op: 'linear proj (+ b + residual)', perStep: L, flop: mm(N, C, C), f: () => ops.gemm(rows(x, C), W(C, C), { bias, residual: x }) },
    { op: 'linear fc (LN·Wᵀ + b)', perStep: L, flop: mm(N, C, 4 * C), f: () => ops.gemm(rows(ln, C), W(4 * C, C), { bias }) },
    { op: 'linear proj2 (GELU(u)·Wᵀ + b + residual)', perStep: L, flop: mm(N, 4 * C, C), f: () => ops.gemm(rows(x4, 4 * C), W(C, 4 * C), { geluA: true, bias, residual: x }) },
    { op: 'head (LN·wteᵀ)', perStep: 1, flop: mm(N, C, V), f: () => ops.gemm(rows(ln, C), W(V, C)) },
    { op: 'dx through proj2 (× GELU′)', perStep: L, flop: mm(N, C, 4 * C), f: () => ops.gemm(rows(dy, C), W(C, 4 * C, false), { geluGradOf: x4 }) },
    { op: 'dx through fc', perStep: L, flop: mm(N, 4 * C, C), f: () => ops.gemm(rows(x4, 4 * C), W(4 * C, C, false)) },
    { op: 'dx through proj', perStep: L, flop: mm(N, C, C), f: () => ops.gemm(rows(dy, C), W(C, C, false)) },
    { op: 'dx through qkv', perStep: L, flop: mm(N, 3 * C, C), f: () => ops.gemm(rows(x3, 3 * C), W(3 * C, C, false)) },
    { op: 'dW proj2 (dyᵀ·[GELU(u) | 1])', perStep: L, flop: mm(C, N, 4 * C + 1), f: () => ops.gemm({ ...rows(dy, C), trans: true }, rows(x4, 4 * C), { geluB: true, onesB: true, splitLast: true }) },
    { op: 'dW fc (duᵀ·[LN | 1])', perStep: L, flop: mm(4 * C, N, C + 1), f: () => ops.gemm({ ...rows(x4, 4 * C), trans: true }, rows(ln, C), { onesB: true, splitLast: true }) },
    { op: 'dW proj (dyᵀ·[att | 1])', perStep: L, flop: mm(C, N, C + 1), f: () => ops.gemm({ ...rows(dy, C), trans: true }, rows(att, C), { onesB: true, splitLast: true }) },
    { op: 'dW qkv (dqkvᵀ·[LN | 1])', perStep: L, flop: mm(3 * C, N, C + 1), f: () => ops.gemm({ ...rows(x3, 3 * C), trans: true }, rows(ln, C), { onesB: true, splitLast: true }) },
    { op: 'dW head (dlogitsᵀ·LN)', perStep: 1, flop: mm(V, N, C), f: () => ops.gemm({ ...rows(logits, V), trans: true }, rows(ln, C)) },
    // Causal attention: about half of the T² score pairs; 2 products forward, 5 backward (recomputing scores).
    { op: 'attention', perStep: L, flop: mm(B * heads * T, C / heads, T), f: () => ops.attention(x3, shape) },
    { op: 'attention backward', perStep: L, flop: 2.5 * mm(B * heads * T, C / heads, T), f: () => ops.attentionBackward(x3, att, dy, shape) },
    { op: 'LayerNorm', perStep: 2 * L + 1, flop: 0, f: () => ops.layerNorm(x, theta, 0, C, N, C) },
    { op: 'LayerNorm backward', perStep: 2 * L + 1, flop: 0, f: () => ops.layerNormBackward(dy, x, ln, theta, 0, N, C, dy) },
    { op: 'LayerNorm parameter gradients', perStep: 2 * L + 1, flop: 0, f: () => ops.layerNormParamGrads(dy, x, ln, N, C) },
    { op: 'cross-entropy', perStep: 1, flop: 0, f: () => ops.crossEntropy(logits, ids, N, V) },
    { op: 'embedding', perStep: 1, flop: 0, f: () => ops.embed(ids, theta, 0, C, N, T, V, C) },
    { op: 'embedding backward', perStep: 1, flop: 0, f: () => ops.embedBackward(grads, dy, ids, N, T, T, V, C) },
    {
      op: 'AdamW (norm, clip, update: all parameters)',
      perStep: 1,
      flop: 0,
      f: () => ops.adamWFlat(theta, grads, mask, P, { lr: 1e-3, beta1: 0.9, beta2: 0.99, eps: 1e-8, wd: 0.1, bc1: 0.1, bc2: 0.01, clip: 1 }).state,
    },
  ];
  const out: OpTime[] = [];
  try {
    for (const c of cases) {
      const warm = tf.tidy(c.f);
      await warm.data();
      warm.dispose();
      const t0 = performance.now();
      let last: tf.Tensor | null = null;
      for (let i = 0; i < reps; i++) {
        last?.dispose();
        last = tf.tidy(c.f);
      }
      await awaitOneValue(last!);
      last!.dispose();
      out.push({ op: c.op, perStep: c.perStep, ms: (performance.now() - t0) / reps, flop: c.flop });
    }
  } finally {
    tf.dispose(keep);
  }
  return out;
}
