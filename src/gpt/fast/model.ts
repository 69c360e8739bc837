import * as tf from '@tensorflow/tfjs';
import type { ModelConfig } from '../config';
import { flatLayout, type FlatLayout } from './layout';
import {
  attention,
  attentionBackward,
  crossEntropy,
  embed,
  embedBackward,
  gemm,
  layerNorm,
  layerNormBackward,
  layerNormParamGrads,
  meanOf,
} from './ops';

/**
 * The fast path's GPT: the same maths as the reference (src/gpt/model.ts), with the parameters in
 * one flat buffer θ (./layout.ts) and the backward pass written out by hand as fused operations
 * (./ops.ts), so a training step is about a hundred GPU programs on WebGPU instead of ~1,600.
 *
 * Forward, per block (N = B·T rows):
 *   h = LN₁(x); qkv = h·W_attnᵀ + b; a = attention(qkv); x₁ = x + a·W_projᵀ + b
 *   u = LN₂(x₁)·W_fcᵀ + b; x₂ = x₁ + GELU(u)·W_proj2ᵀ + b      (GELU applied as the product reads u)
 * then LN_f, the tied head (logits = h·wteᵀ) and softmax cross-entropy. Backward retraces these
 * steps; each Linear's weight and bias gradients come from one product (dyᵀ·[x | 1]).
 *
 * Dropout is not part of the fast path: `FastGPT.supports` says so and callers fall back to the reference.
 */
export class FastGPT {
  readonly config: ModelConfig;
  readonly layout: FlatLayout;

  constructor(config: ModelConfig) {
    this.config = config;
    this.layout = flatLayout(config);
  }

  /** Why the fast path cannot train this configuration, or null when it can. */
  static unsupported(config: ModelConfig): string | null {
    if (config.dropout > 0) return 'the fast path has no dropout; use the reference path when dropout > 0';
    return null;
  }

  private off(name: string): number {
    const o = this.layout.offsets.get(name);
    if (o === undefined) throw new Error(`no parameter ${name}`);
    return o;
  }

  /**
   * Mean cross-entropy of predicting `targets` from `idx` (both (B, T) int32) with parameters θ
   * (the first P values of `theta`), and, unless `lossOnly`, the flat gradient (P,) of that loss.
   * Not wrapped in tidy: call it inside one.
   */
  lossAndGrads(theta: tf.Tensor, idx: tf.Tensor2D, targets: tf.Tensor2D, lossOnly = false): { loss: tf.Scalar; grads: tf.Tensor | null } {
    const [B, T] = idx.shape;
    const { width: C, vocabSize: V, layers: L, heads, contextLength: ctx } = this.config;
    if (T > ctx) throw new Error(`a window of ${T} tokens is longer than the context length ${ctx}`);
    const N = B * T;
    const ids = tf.reshape(idx, [N]);
    const tgt = tf.reshape(targets, [N]);
    const shape = { B, T, heads, C };
    const p = (name: string) => this.off(name);
    const W = (name: string, rows: number, cols: number) => ({ t: theta, off: p(name), rows, cols, trans: true });
    const rowsOf = (t: tf.Tensor, cols: number) => ({ t, off: 0, rows: N, cols });

    // Forward, keeping what the backward pass reads.
    const saved: { x: tf.Tensor; ln1: tf.Tensor; qkv: tf.Tensor; att: tf.Tensor; x1: tf.Tensor; ln2: tf.Tensor; u: tf.Tensor }[] = [];
    let x = embed(ids, theta, p('transformer.wte.weight'), p('transformer.wpe.weight'), N, T, V, C);
    for (let l = 0; l < L; l++) {
      const h = `transformer.h.${l}.`;
      const ln1 = layerNorm(x, theta, p(h + 'ln_1.weight'), p(h + 'ln_1.bias'), N, C);
      const qkv = gemm(rowsOf(ln1, C), W(h + 'attn.c_attn.weight', 3 * C, C), { bias: { theta, off: p(h + 'attn.c_attn.bias') } });
      const att = attention(qkv, shape);
      const x1 = gemm(rowsOf(att, C), W(h + 'attn.c_proj.weight', C, C), {
        bias: { theta, off: p(h + 'attn.c_proj.bias') },
        residual: x,
      });
      const ln2 = layerNorm(x1, theta, p(h + 'ln_2.weight'), p(h + 'ln_2.bias'), N, C);
      const u = gemm(rowsOf(ln2, C), W(h + 'mlp.c_fc.weight', 4 * C, C), { bias: { theta, off: p(h + 'mlp.c_fc.bias') } });
      const x2 = gemm(rowsOf(u, 4 * C), W(h + 'mlp.c_proj.weight', C, 4 * C), {
        geluA: true,
        bias: { theta, off: p(h + 'mlp.c_proj.bias') },
        residual: x1,
      });
      saved.push({ x, ln1, qkv, att, x1, ln2, u });
      x = x2;
    }
    const lnf = layerNorm(x, theta, p('transformer.ln_f.weight'), p('transformer.ln_f.bias'), N, C);
    const wteOff = p('transformer.wte.weight');
    const logits = gemm(rowsOf(lnf, C), { t: theta, off: wteOff, rows: V, cols: C, trans: true });
    const ce = crossEntropy(logits, tgt, N, V);
    const loss = meanOf(ce, N * V, N);
    if (lossOnly) return { loss, grads: null };

    // Backward. ce's first N·V values are d loss / d logits.
    const dlogits = { t: ce, off: 0, rows: N, cols: V };
    const dxf = gemm(dlogits, { t: theta, off: wteOff, rows: V, cols: C });
    const dWteHead = gemm({ ...dlogits, trans: true }, rowsOf(lnf, C));
    const gLnf = layerNormParamGrads(dxf, x, lnf, N, C);
    let dx = layerNormBackward(dxf, x, lnf, theta, p('transformer.ln_f.weight'), N, C);
    const blockGrads: tf.Tensor[][] = [];
    for (let l = L - 1; l >= 0; l--) {
      const h = `transformer.h.${l}.`;
      const s = saved[l];
      // x₂ = x₁ + GELU(u)·W_proj2ᵀ + b
      const du = gemm(rowsOf(dx, C), { t: theta, off: p(h + 'mlp.c_proj.weight'), rows: C, cols: 4 * C }, { geluGradOf: s.u });
      const gProj2 = gemm({ ...rowsOf(dx, C), trans: true }, rowsOf(s.u, 4 * C), { geluB: true, onesB: true, splitLast: true });
      // u = LN₂(x₁)·W_fcᵀ + b
      const dln2 = gemm(rowsOf(du, 4 * C), { t: theta, off: p(h + 'mlp.c_fc.weight'), rows: 4 * C, cols: C });
      const gFc = gemm({ ...rowsOf(du, 4 * C), trans: true }, rowsOf(s.ln2, C), { onesB: true, splitLast: true });
      const gLn2 = layerNormParamGrads(dln2, s.x1, s.ln2, N, C);
      const dx1 = layerNormBackward(dln2, s.x1, s.ln2, theta, p(h + 'ln_2.weight'), N, C, dx);
      // x₁ = x + attention(qkv)·W_projᵀ + b
      const datt = gemm(rowsOf(dx1, C), { t: theta, off: p(h + 'attn.c_proj.weight'), rows: C, cols: C });
      const gProj = gemm({ ...rowsOf(dx1, C), trans: true }, rowsOf(s.att, C), { onesB: true, splitLast: true });
      const dqkv = attentionBackward(s.qkv, s.att, datt, shape);
      // qkv = LN₁(x)·W_attnᵀ + b
      const dln1 = gemm(rowsOf(dqkv, 3 * C), { t: theta, off: p(h + 'attn.c_attn.weight'), rows: 3 * C, cols: C });
      const gQkv = gemm({ ...rowsOf(dqkv, 3 * C), trans: true }, rowsOf(s.ln1, C), { onesB: true, splitLast: true });
      const gLn1 = layerNormParamGrads(dln1, s.x, s.ln1, N, C);
      dx = layerNormBackward(dln1, s.x, s.ln1, theta, p(h + 'ln_1.weight'), N, C, dx1);
      blockGrads[l] = [gLn1, gQkv, gProj, gLn2, gFc, gProj2];
    }
    const gEmb = embedBackward(dWteHead, dx, ids, N, T, ctx, V, C);
    const grads = tf.concat([gEmb, ...blockGrads.flat(), gLnf].map((g) => tf.reshape(g, [-1])));
    return { loss, grads };
  }
}
