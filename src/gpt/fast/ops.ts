import * as tf from '@tensorflow/tfjs';
import {
  adamWProgram,
  attentionBackwardProgram,
  attentionBackwardSplitPrograms,
  attentionProgram,
  crossEntropyProgram,
  embedBackwardProgram,
  embedProgram,
  gemmProgram,
  gemmSplits,
  geluProgram,
  splitKSumProgram,
  layerNormBackwardProgram,
  layerNormParamGradProgram,
  layerNormProgram,
  meanProgram,
  sumSquaresProgram,
  type AttentionShape,
  type GemmFlags,
  type UniformValue,
  type WebGPUProgramSpec,
} from './programs';

/**
 * The fused operations of the fast path, each implemented so (the same maths each time):
 *  - on `webgpu`, one program of ./programs.ts, registered as a tfjs kernel for the webgpu backend
 *    (`tf.registerKernel`) and run through `tf.engine().runKernel`, so tidy and memory accounting work
 *    as for any tfjs op;
 *  - on `wasm` with our SIMD module, a WebAssembly kernel (src/gpt/simd/fused.ts);
 *  - elsewhere (cpu, plain wasm), a composition of stock tfjs ops, written so that every matrix product
 *    is a plain 2-D matMul with explicit transposes (the layout the wasm backend runs fastest).
 *
 * Parameters are read from one flat buffer θ at offsets (see ./layout.ts). Several outputs of one
 * fused op travel in one flat tensor (values, then the extras the backward pass needs), because a
 * tfjs WebGPU program writes one output buffer.
 */

/**
 * Whether the current backend runs the fused kernels: webgpu always (./programs.ts); wasm once our
 * WebAssembly SIMD module has registered its versions (src/gpt/simd/fused.ts). Elsewhere the stock-op
 * compositions below run.
 */
export function fusedKernelsHere(): boolean {
  const b = tf.getBackend();
  return b === 'webgpu' || (b === 'wasm' && tf.getKernel(K_GEMM, 'wasm') != null);
}
const useFused = fusedKernelsHere;

/**
 * Whether the WebGPU adapter is SwiftShader (software Vulkan on the CPU). There, workgroup barriers
 * are expensive switches between emulated threads, and each thread is one lane of a 4-wide vector
 * whose loads are gathers, so the kernels take variants written for that (`direct`): products with
 * 8×8 register tiles and no workgroup memory, attention unrolled over the head.
 */
export type KernelVariant = 'auto' | 'tiled' | 'direct';
let variant: KernelVariant = 'auto';

/** Chooses the WebGPU kernel variants: `auto` (by adapter), or one of them everywhere (tests). */
export function setKernelVariant(v: KernelVariant): void {
  variant = v;
}

function softwareGPU(): boolean {
  if (variant !== 'auto') return variant === 'direct';
  const info = (tf.backend() as unknown as { adapterInfo?: { vendor?: string; architecture?: string } }).adapterInfo;
  return /swiftshader/i.test(`${info?.vendor ?? ''} ${info?.architecture ?? ''}`);
}

// ---------------------------------------------------------------------------------------------
// Kernel registration.

type Attrs = Record<string, number | boolean | number[]>;
type Built = { program: WebGPUProgramSpec; uniforms?: UniformValue[] };
interface WebGPUBackendLike {
  runWebGPUProgram(program: WebGPUProgramSpec, inputs: tf.TensorInfo[], dtype: tf.DataType, uniforms?: UniformValue[]): tf.TensorInfo;
}

const builders = new Map<string, (attrs: Attrs) => Built>();

function defineKernel(name: string, build: (attrs: Attrs) => Built): string {
  const kernelName = `GptLab${name}`;
  builders.set(kernelName, build);
  return kernelName;
}

/** Registers every fast-path kernel with tfjs for the webgpu backend (once; safe to call again). */
export function registerFastKernels(): void {
  for (const [kernelName, build] of builders) {
    if (tf.getKernel(kernelName, 'webgpu')) continue;
    tf.registerKernel({
      kernelName,
      backendName: 'webgpu',
      kernelFunc: ({ inputs, backend, attrs }) => {
        const { program, uniforms } = build(attrs as Attrs);
        const ordered = program.variableNames.map((n) => {
          const t = (inputs as Record<string, tf.TensorInfo>)[n];
          if (!t) throw new Error(`${kernelName}: missing input ${n}`);
          return t;
        });
        return (backend as unknown as WebGPUBackendLike).runWebGPUProgram(program, ordered, 'float32', uniforms);
      },
    });
  }
}

function run(kernelName: string, inputs: Record<string, tf.Tensor>, attrs: Attrs): tf.Tensor {
  registerFastKernels();
  return tf.engine().runKernel(kernelName, inputs as tf.NamedTensorMap, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
}

const int = (v: number): UniformValue => ({ type: 'int32', data: [v] });
const float = (v: number): UniformValue => ({ type: 'float32', data: [v] });

const K_GEMM = defineKernel('Gemm', (a) => ({
  program: gemmProgram(a.M as number, a.N as number, a.K as number, a as unknown as GemmFlags, a.direct as boolean, (a.splits as number) ?? 1),
  uniforms: [int(a.aOff as number), int(a.lda as number), int(a.bOff as number), int(a.ldb as number), int(a.biasOff as number)],
}));
const K_LN = defineKernel('LayerNorm', (a) => ({
  program: layerNormProgram(a.R as number, a.C as number, a.direct as boolean),
  uniforms: [int(a.gOff as number), int(a.bOff as number)],
}));
const K_LN_BACK = defineKernel('LayerNormBackward', (a) => ({
  program: layerNormBackwardProgram(a.R as number, a.C as number, a.residual as boolean, a.direct as boolean),
  uniforms: [int(a.gOff as number)],
}));
const K_LN_PARAMS = defineKernel('LayerNormParamGrad', (a) => ({ program: layerNormParamGradProgram(a.R as number, a.C as number) }));
const shapeOf = (a: Attrs): AttentionShape => ({ B: a.B as number, T: a.T as number, heads: a.heads as number, C: a.C as number });
const K_ATTN = defineKernel('Attention', (a) => ({ program: attentionProgram(shapeOf(a), a.direct as boolean) }));
const K_ATTN_BACK = defineKernel('AttentionBackward', (a) => ({ program: attentionBackwardProgram(shapeOf(a)) }));
const K_ATTN_BACK_DQ = defineKernel('AttentionBackwardDq', (a) => ({ program: attentionBackwardSplitPrograms(shapeOf(a))[0] }));
const K_ATTN_BACK_DK = defineKernel('AttentionBackwardDk', (a) => ({ program: attentionBackwardSplitPrograms(shapeOf(a))[1] }));
const K_ATTN_BACK_DV = defineKernel('AttentionBackwardDv', (a) => ({ program: attentionBackwardSplitPrograms(shapeOf(a))[2] }));
const K_EMBED = defineKernel('Embed', (a) => ({
  program: embedProgram(a.N as number, a.T as number, a.C as number),
  uniforms: [int(a.wteOff as number), int(a.wpeOff as number)],
}));
const K_EMBED_BACK = defineKernel('EmbedBackward', (a) => ({
  program: embedBackwardProgram(a.N as number, a.T as number, a.ctx as number, a.V as number, a.C as number),
}));
const K_CE = defineKernel('CrossEntropy', (a) => ({ program: crossEntropyProgram(a.N as number, a.V as number, a.direct as boolean) }));
const K_GELU = defineKernel('Gelu', (a) => ({ program: geluProgram(a.count as number), uniforms: [int(a.off as number)] }));
const K_SPLITK_SUM = defineKernel('SplitKSum', (a) => ({ program: splitKSumProgram(a.size as number, a.splits as number) }));
/** wasm only (src/gpt/simd/fused.ts): on webgpu tfjs's own slice is already one copy program. */
const K_COPY = 'GptLabCopy';
const K_MEAN = defineKernel('Mean', (a) => ({ program: meanProgram(a.offset as number, a.count as number, a.sqrt as boolean) }));
const K_SUMSQ = defineKernel('SumSquares', (a) => ({ program: sumSquaresProgram(a.P as number) }));
const K_ADAMW = defineKernel('AdamW', (a) => ({
  program: adamWProgram(a.P as number),
  uniforms: ['lr', 'beta1', 'beta2', 'eps', 'wd', 'bc1', 'bc2', 'clip'].map((k) => float(a[k] as number)),
}));

/** Kernel names of the fused operations, for backends that register their own versions (wasm). */
export const FAST_KERNELS = {
  gemm: K_GEMM,
  layerNorm: K_LN,
  layerNormBackward: K_LN_BACK,
  layerNormParamGrad: K_LN_PARAMS,
  attention: K_ATTN,
  attentionBackward: K_ATTN_BACK,
  embed: K_EMBED,
  embedBackward: K_EMBED_BACK,
  crossEntropy: K_CE,
  mean: K_MEAN,
  copy: K_COPY,
  sumSquares: K_SUMSQ,
  adamW: K_ADAMW,
} as const;

// ---------------------------------------------------------------------------------------------
// Operations.

/** A row-major matrix stored [rows, cols] at element `off` of `t`, read as is or transposed. */
export interface Operand {
  t: tf.Tensor;
  off: number;
  rows: number;
  cols: number;
  trans?: boolean;
}

export interface GemmOptions {
  geluA?: boolean;
  geluB?: boolean;
  onesB?: boolean;
  /** Bias from the flat parameters θ at `off` (one value per output column). */
  bias?: { theta: tf.Tensor; off: number };
  residual?: tf.Tensor;
  /** Multiply by GELU'(u), u of the output's shape. */
  geluGradOf?: tf.Tensor;
  splitLast?: boolean;
}

/** Stored matrix of an operand as a 2-D tensor (fallback path). */
function matrixOf(o: Operand): tf.Tensor2D {
  const flat = tf.reshape(o.t, [-1]);
  const m = tf.reshape(tf.slice(flat, o.off, o.rows * o.cols), [o.rows, o.cols]) as tf.Tensor2D;
  return o.trans ? (tf.transpose(m) as tf.Tensor2D) : m;
}

/** tanh-GELU in the sigmoid form the reference uses (src/gpt/model.ts geluTanh). */
const GELU_K = 2 * Math.sqrt(2 / Math.PI);
function geluOps(x: tf.Tensor): tf.Tensor {
  return tf.mul(x, tf.sigmoid(tf.mul(tf.add(x, tf.mul(tf.mul(tf.mul(x, x), x), 0.044715)), GELU_K)));
}
function geluGradOps(x: tf.Tensor): tf.Tensor {
  const x2 = tf.mul(x, x);
  const s = tf.sigmoid(tf.mul(tf.add(x, tf.mul(tf.mul(x2, x), 0.044715)), GELU_K));
  const ds = tf.mul(tf.mul(s, tf.sub(1, s)), tf.mul(tf.add(1, tf.mul(x2, 3 * 0.044715)), GELU_K));
  return tf.add(s, tf.mul(x, ds));
}

/**
 * out = op(A)·op(B) with optional epilogues: (M, N) or, with `splitLast`, flat [M·(N−1) + M].
 * With `onesB`, N counts B's extra column of ones.
 */
export function gemm(A: Operand, B: Operand, o: GemmOptions = {}): tf.Tensor {
  const M = A.trans ? A.cols : A.rows;
  const K = A.trans ? A.rows : A.cols;
  const Kb = B.trans ? B.cols : B.rows;
  if (K !== Kb) throw new Error(`gemm: inner sizes differ (${K} vs ${Kb})`);
  const N = (B.trans ? B.rows : B.cols) + (o.onesB ? 1 : 0);
  if (useFused()) {
    const inputs: Record<string, tf.Tensor> = { a: A.t, b: B.t };
    if (o.bias) inputs.bias = o.bias.theta;
    if (o.residual) inputs.res = o.residual;
    if (o.geluGradOf) inputs.gu = o.geluGradOf;
    const flags: GemmFlags = {
      transA: !!A.trans,
      transB: !!B.trans,
      geluA: !!o.geluA,
      geluB: !!o.geluB,
      onesB: !!o.onesB,
      bias: !!o.bias,
      residual: !!o.residual,
      geluGrad: !!o.geluGradOf,
      splitLast: !!o.splitLast,
    };
    const direct = softwareGPU();
    if (direct && (o.geluA || o.geluB)) {
      // A barrier-free product reads each element of an operand once per tile of 8 outputs it
      // feeds: apply GELU once to the whole operand instead (baby on SwiftShader, two bench:ops runs
      // each way: proj2 78–88 → 55–68 ms, dW proj2 97–146 → 52–89 ms).
      const X = o.geluA ? A : B;
      const g = run(K_GELU, { x: X.t }, { off: X.off, count: X.rows * X.cols });
      const Xg: Operand = { ...X, t: g, off: 0 };
      const out = gemm(o.geluA ? Xg : A, o.geluA ? B : Xg, { ...o, geluA: false, geluB: o.geluA ? o.geluB : false });
      g.dispose();
      return out;
    }
    // Split-K for products with a long inner dimension and few output tiles (weight gradients);
    // only where there is no epilogue to apply after the sum.
    const splits = direct || o.bias || o.residual || o.geluGradOf ? 1 : gemmSplits(M, N, K);
    const out = run(K_GEMM, inputs, {
      M,
      N,
      K,
      ...flags,
      aOff: A.off,
      lda: A.cols,
      bOff: B.off,
      ldb: B.cols,
      biasOff: o.bias?.off ?? 0,
      direct,
      splits,
    });
    if (splits === 1) return out;
    const size = M * N;
    const sum = tf.reshape(run(K_SPLITK_SUM, { parts: out }, { size, splits }), o.splitLast ? [size] : [M, N]);
    out.dispose();
    return sum;
  }
  let a: tf.Tensor2D = matrixOf(A);
  let b: tf.Tensor2D = matrixOf(B);
  if (o.geluA) a = geluOps(a) as tf.Tensor2D;
  if (o.geluB) b = geluOps(b) as tf.Tensor2D;
  if (o.onesB) b = tf.concat([b, tf.ones([K, 1])], 1);
  let out: tf.Tensor = tf.matMul(a, b);
  if (o.bias) out = tf.add(out, tf.slice(tf.reshape(o.bias.theta, [-1]), o.bias.off, N));
  if (o.residual) out = tf.add(out, tf.reshape(o.residual, [M, N]));
  if (o.geluGradOf) out = tf.mul(out, geluGradOps(tf.reshape(o.geluGradOf, [M, N])));
  if (o.splitLast) {
    const body = tf.reshape(tf.slice(out, [0, 0], [M, N - 1]), [-1]);
    const last = tf.reshape(tf.slice(out, [0, N - 1], [M, 1]), [-1]);
    out = tf.concat([body, last]);
  }
  return out;
}

/**
 * LayerNorm of x (R, C) with scale and shift from θ; returns [R·C normalised, R means, R reciprocal
 * deviations] flat. The normalised rows are the operand {t, off: 0, rows: R, cols: C}.
 */
export function layerNorm(x: tf.Tensor, theta: tf.Tensor, gOff: number, bOff: number, R: number, C: number): tf.Tensor {
  if (useFused()) return run(K_LN, { x, theta }, { R, C, gOff, bOff, direct: softwareGPU() });
  const x2 = tf.reshape(x, [R, C]);
  const { mean, variance } = tf.moments(x2, -1, true);
  const rstd = tf.rsqrt(tf.add(variance, 1e-5));
  const th = tf.reshape(theta, [-1]);
  const y = tf.add(tf.mul(tf.mul(tf.sub(x2, mean), rstd), tf.slice(th, gOff, C)), tf.slice(th, bOff, C));
  return tf.concat([tf.reshape(y, [-1]), tf.reshape(mean, [-1]), tf.reshape(rstd, [-1])]);
}

/** Mean and reciprocal deviation columns (R, 1) from a layerNorm output (fallback path). */
function statsOf(ln: tf.Tensor, R: number, C: number): [tf.Tensor, tf.Tensor] {
  return [tf.reshape(tf.slice(ln, R * C, R), [R, 1]), tf.reshape(tf.slice(ln, R * C + R, R), [R, 1])];
}

/** dx of LayerNorm from dy (R, C), its input x and its output `ln`; plus `dres` when given. */
export function layerNormBackward(
  dy: tf.Tensor,
  x: tf.Tensor,
  ln: tf.Tensor,
  theta: tf.Tensor,
  gOff: number,
  R: number,
  C: number,
  dres?: tf.Tensor,
): tf.Tensor {
  if (useFused()) {
    const inputs: Record<string, tf.Tensor> = { dy, x, ln, theta };
    if (dres) inputs.dres = dres;
    return run(K_LN_BACK, inputs, { R, C, gOff, residual: !!dres, direct: softwareGPU() });
  }
  const [mean, rstd] = statsOf(ln, R, C);
  const xh = tf.mul(tf.sub(tf.reshape(x, [R, C]), mean), rstd);
  const g = tf.mul(tf.reshape(dy, [R, C]), tf.slice(tf.reshape(theta, [-1]), gOff, C));
  const m1 = tf.mean(g, -1, true);
  const m2 = tf.mean(tf.mul(g, xh), -1, true);
  let dx = tf.mul(rstd, tf.sub(tf.sub(g, m1), tf.mul(xh, m2)));
  if (dres) dx = tf.add(dx, tf.reshape(dres, [R, C]));
  return dx;
}

/** [dγ, dβ] (2C) of LayerNorm from dy (R, C), its input x and its output `ln`. */
export function layerNormParamGrads(dy: tf.Tensor, x: tf.Tensor, ln: tf.Tensor, R: number, C: number): tf.Tensor {
  if (useFused()) return run(K_LN_PARAMS, { dy, x, ln }, { R, C });
  const [mean, rstd] = statsOf(ln, R, C);
  const xh = tf.mul(tf.sub(tf.reshape(x, [R, C]), mean), rstd);
  const d = tf.reshape(dy, [R, C]);
  return tf.concat([tf.sum(tf.mul(d, xh), 0), tf.sum(d, 0)]);
}

/** Heads of one third of qkv (B·T, 3C) as (B·nh, T, hs) (fallback path). */
function headsOf(qkv: tf.Tensor, part: number, s: AttentionShape): tf.Tensor3D {
  const { B, T, heads, C } = s;
  const hs = C / heads;
  const x = tf.slice(tf.reshape(qkv, [B * T, 3 * C]), [0, part * C], [B * T, C]);
  return tf.reshape(tf.transpose(tf.reshape(x, [B, T, heads, hs]), [0, 2, 1, 3]), [B * heads, T, hs]) as tf.Tensor3D;
}
function mergeHeads(x: tf.Tensor, s: AttentionShape): tf.Tensor2D {
  const { B, T, heads, C } = s;
  return tf.reshape(tf.transpose(tf.reshape(x, [B, heads, T, C / heads]), [0, 2, 1, 3]), [B * T, C]) as tf.Tensor2D;
}
const maskCache = new Map<number, Float32Array>();
function causalMaskData(T: number): Float32Array {
  let m = maskCache.get(T);
  if (!m) {
    m = new Float32Array(T * T);
    for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) m[i * T + j] = -1e9;
    maskCache.set(T, m);
  }
  return m;
}

/** Causal attention from qkv (B·T, 3C): [y (B·T·C), log-sum-exp of each score row (B·nh·T)] flat. */
export function attention(qkv: tf.Tensor, s: AttentionShape): tf.Tensor {
  if (useFused()) return run(K_ATTN, { qkv }, { ...s, direct: softwareGPU() });
  const { B, T, heads, C } = s;
  const q = headsOf(qkv, 0, s);
  const k = headsOf(qkv, 1, s);
  const v = headsOf(qkv, 2, s);
  const scores = tf.add(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(C / heads)), tf.tensor2d(causalMaskData(T), [T, T]));
  const lse = tf.logSumExp(scores, -1);
  const probs = tf.exp(tf.sub(scores, tf.expandDims(lse, -1)));
  const y = mergeHeads(tf.matMul(probs, v), s);
  return tf.concat([tf.reshape(y, [-1]), tf.reshape(lse, [B * heads * T])]);
}

/** Gradient of attention into qkv (B·T, 3C), from qkv, attention's output `att` and dy (B·T, C). */
export function attentionBackward(qkv: tf.Tensor, att: tf.Tensor, dy: tf.Tensor, s: AttentionShape): tf.Tensor {
  if (tf.getBackend() === 'webgpu' && variant !== 'direct' && (s.C / s.heads) % 4 === 0) {
    // Three programs that keep fewer rows in registers (attentionBackwardSplitPrograms), on real GPUs
    // and on SwiftShader alike (baby, SwiftShader: 80 ms against 172 for the single program). The
    // single program serves head sizes that are not a multiple of 4; the `direct` variant forces it
    // so that the tests can hold the two against each other.
    const dqd = run(K_ATTN_BACK_DQ, { qkv, att, dy }, { ...s });
    const dkb = run(K_ATTN_BACK_DK, { qkv, att, dy, dqd }, { ...s });
    const out = run(K_ATTN_BACK_DV, { qkv, att, dy, dqd, dkb }, { ...s });
    tf.dispose([dqd, dkb]);
    return out;
  }
  if (useFused()) return run(K_ATTN_BACK, { qkv, att, dy }, { ...s });
  const { B, T, heads, C } = s;
  const hs = C / heads;
  const scale = 1 / Math.sqrt(hs);
  const q = headsOf(qkv, 0, s);
  const k = headsOf(qkv, 1, s);
  const v = headsOf(qkv, 2, s);
  const toHeads = (x: tf.Tensor) =>
    tf.reshape(tf.transpose(tf.reshape(x, [B, T, heads, hs]), [0, 2, 1, 3]), [B * heads, T, hs]) as tf.Tensor3D;
  const y = toHeads(tf.slice(att, 0, B * T * C));
  const lse = tf.reshape(tf.slice(att, B * T * C, B * heads * T), [B * heads, T, 1]);
  const dY = toHeads(dy);
  const scores = tf.add(tf.mul(tf.matMul(q, k, false, true), scale), tf.tensor2d(causalMaskData(T), [T, T]));
  const P = tf.exp(tf.sub(scores, lse));
  const dV = tf.matMul(P, dY, true, false);
  const dP = tf.matMul(dY, v, false, true);
  const D = tf.sum(tf.mul(dY, y), -1, true);
  const dS = tf.mul(P, tf.sub(dP, D));
  const dQ = tf.mul(tf.matMul(dS, k), scale);
  const dK = tf.mul(tf.matMul(dS, q, true, false), scale);
  return tf.concat([mergeHeads(dQ, s), mergeHeads(dK, s), mergeHeads(dV, s)], 1);
}

/** x (N, C) = wte[idx] + wpe[position] from θ; idx (N,) int32, positions cycle every T. */
export function embed(idx: tf.Tensor, theta: tf.Tensor, wteOff: number, wpeOff: number, N: number, T: number, V: number, C: number): tf.Tensor {
  if (useFused()) return run(K_EMBED, { idx, theta }, { N, T, C, wteOff, wpeOff });
  const th = tf.reshape(theta, [-1]);
  const wte = tf.reshape(tf.slice(th, wteOff, V * C), [V, C]);
  const wpe = tf.reshape(tf.slice(th, wpeOff, T * C), [1, T, C]);
  return tf.reshape(tf.add(tf.reshape(tf.gather(wte, idx), [N / T, T, C]), wpe), [N, C]);
}

/** [d wte (V·C), d wpe (ctx·C)]: the head's wte gradient plus the embeddings' gradients from dx. */
export function embedBackward(head: tf.Tensor, dx: tf.Tensor, idx: tf.Tensor, N: number, T: number, ctx: number, V: number, C: number): tf.Tensor {
  if (useFused()) return run(K_EMBED_BACK, { head, dx, idx }, { N, T, ctx, V, C });
  const d = tf.reshape(dx, [N, C]) as tf.Tensor2D;
  const oneHotT = tf.transpose(tf.cast(tf.oneHot(idx as tf.Tensor1D, V), 'float32')) as tf.Tensor2D; // (V, N)
  const dwte = tf.add(tf.reshape(head, [V, C]), tf.matMul(oneHotT, d));
  const parts: tf.Tensor[] = [tf.reshape(dwte, [-1]), tf.reshape(tf.sum(tf.reshape(d, [N / T, T, C]), 0), [-1])];
  if (ctx > T) parts.push(tf.zeros([(ctx - T) * C]));
  return tf.concat(parts);
}

/** [dlogits (N·V) of the mean loss, loss of each row (N)] flat; targets (N,) int32, no one-hot. */
export function crossEntropy(logits: tf.Tensor, targets: tf.Tensor, N: number, V: number): tf.Tensor {
  if (useFused()) return run(K_CE, { logits, targets }, { N, V, direct: softwareGPU() });
  const z = tf.reshape(logits, [N, V]);
  const lse = tf.logSumExp(z, -1, true);
  const oneHot = tf.cast(tf.oneHot(targets as tf.Tensor1D, V), 'float32');
  const dl = tf.mul(tf.sub(tf.exp(tf.sub(z, lse)), oneHot), 1 / N);
  const rowLoss = tf.sub(tf.reshape(lse, [N]), tf.sum(tf.mul(z, oneHot), -1));
  return tf.concat([tf.reshape(dl, [-1]), rowLoss]);
}

/**
 * `size` values of flat x from `offset`, as a new tensor. On wasm our kernel copies just those values:
 * tfjs-wasm's Slice first copies the whole input out of the heap (readSync), which for a parameter's
 * view of the 3P optimizer state costs the whole state per parameter (seconds per write-back in a
 * browser). On webgpu tfjs's slice is already one copy program.
 */
export function sliceFlat(x: tf.Tensor, offset: number, size: number): tf.Tensor {
  if (tf.getBackend() === 'wasm' && useFused()) return run(K_COPY, { x }, { offset, size });
  return tf.slice(tf.reshape(x, [-1]), offset, size);
}

/** Mean of `count` values of flat x from `offset`, as a scalar. */
export function meanOf(x: tf.Tensor, offset: number, count: number): tf.Scalar {
  if (useFused()) return tf.reshape(run(K_MEAN, { x }, { offset, count, sqrt: false }), []) as tf.Scalar;
  return tf.mean(tf.slice(tf.reshape(x, [-1]), offset, count)) as tf.Scalar;
}

export interface AdamWStep {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  wd: number;
  bc1: number;
  bc2: number;
  clip: number;
}

/**
 * One AdamW step over the flat state [θ, m, v] (3P) with the flat gradient g (P) and the decay mask
 * (P: 1 on 2-D weights). Returns the next state and the gradient's global norm (before clipping).
 */
export function adamWFlat(state: tf.Tensor, g: tf.Tensor, mask: tf.Tensor, P: number, s: AdamWStep): { state: tf.Tensor; norm: tf.Scalar } {
  if (useFused()) {
    const parts = run(K_SUMSQ, { g }, { P });
    const norm = run(K_MEAN, { x: parts }, { offset: 0, count: parts.size, sqrt: true });
    const next = run(K_ADAMW, { state, g, norm, mask }, { P, ...s });
    return { state: next, norm: tf.reshape(norm, []) as tf.Scalar };
  }
  const theta = tf.slice(state, 0, P);
  const m = tf.slice(state, P, P);
  const v = tf.slice(state, 2 * P, P);
  const norm = tf.sqrt(tf.sum(tf.square(g))) as tf.Scalar;
  const coef = s.clip > 0 ? tf.minimum(tf.div(s.clip, tf.add(norm, 1e-6)), 1) : tf.scalar(1);
  const gc = tf.mul(g, coef);
  const m1 = tf.add(tf.mul(m, s.beta1), tf.mul(gc, 1 - s.beta1));
  const v1 = tf.add(tf.mul(v, s.beta2), tf.mul(tf.square(gc), 1 - s.beta2));
  const update = tf.div(tf.div(m1, s.bc1), tf.add(tf.sqrt(tf.div(v1, s.bc2)), s.eps));
  const decayed = tf.mul(theta, tf.sub(1, tf.mul(mask, s.lr * s.wd)));
  return { state: tf.concat([tf.sub(decayed, tf.mul(update, s.lr)), m1, v1]), norm };
}
