/**
 * The fast path's fused operations as kernels of the tfjs `wasm` backend: the `GptLab*` kernels that
 * src/gpt/fast/ops.ts runs (on webgpu they are WGSL programs), here calls into our WebAssembly SIMD
 * module (./assembly/fused.ts) on tensors where tfjs-wasm keeps them. With them, `FastGPT` and
 * `FlatAdamW` train on wasm with a few dozen kernels per step instead of the ~1,000 stock ones of
 * the reference path, every matrix product on our register-tiled f32x4 loops (transposed operands
 * read in place), GELU, bias and residual folded into the products, and attention, LayerNorm,
 * cross-entropy and AdamW each one pass.
 */
import * as tf from '@tensorflow/tfjs';
import { FAST_KERNELS } from '../fast/ops';
import type { ProductPool } from './pool';

/** The exports of ./assembly/fused.ts (pointers are byte offsets into the backend's memory). */
export interface FusedExports {
  geluInto(src: number, dst: number, count: number): void;
  gemm(a: number, b: number, c: number, M: number, K: number, N: number, aRow: number, aCol: number, ldb: number, ldc: number): void;
  transpose(src: number, dst: number, rows: number, cols: number, lds: number): void;
  copyRows(src: number, dst: number, rows: number, cols: number, lds: number, ldd: number): void;
  rowSumsOf(a: number, out: number, M: number, K: number, aRow: number, aCol: number, os: number): void;
  epilogue(c: number, M: number, N: number, ldc: number, bias: number, res: number, gu: number): void;
  layerNorm(x: number, gamma: number, beta: number, out: number, R: number, C: number): void;
  layerNormBackward(dy: number, x: number, ln: number, gamma: number, dres: number, out: number, R: number, C: number): void;
  layerNormParamGrads(dy: number, x: number, ln: number, out: number, R: number, C: number): void;
  attention(qkv: number, out: number, scratch: number, B: number, T: number, heads: number, C: number): void;
  attentionBackward(qkv: number, att: number, dy: number, out: number, scratch: number, B: number, T: number, heads: number, C: number): void;
  embed(idx: number, wte: number, wpe: number, out: number, N: number, T: number, C: number): void;
  embedBackward(head: number, dx: number, idx: number, out: number, N: number, T: number, ctx: number, V: number, C: number): void;
  crossEntropy(logits: number, targets: number, out: number, N: number, V: number): void;
  sum(x: number, count: number, squares: number): number;
  adamW(
    state: number, g: number, mask: number, out: number, P: number,
    lr: number, beta1: number, beta2: number, eps: number, wd: number, bc1: number, bc2: number, coef: number,
  ): void;
}

/** The parts of tfjs-backend-wasm's BackendWasm the kernels use. */
export interface WasmBackendLike {
  wasm: {
    asm?: { memory?: WebAssembly.Memory };
    wasmMemory?: WebAssembly.Memory;
    tfjs?: { getThreadsCount?: () => number };
    _malloc(bytes: number): number;
    _free(ptr: number): void;
  };
  dataIdMap: { get(id: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  disposeData(dataId: object): boolean;
}

/**
 * The memory tfjs-wasm keeps its tensors in: exported by its single-threaded binaries (`asm.memory`),
 * created shared and imported by its threaded one (`wasmMemory`).
 */
export function wasmMemoryOf(backend: WasmBackendLike): WebAssembly.Memory | null {
  const m = backend.wasm?.asm?.memory ?? backend.wasm?.wasmMemory;
  return m instanceof WebAssembly.Memory ? m : null;
}

type Attrs = Record<string, number | boolean>;

/**
 * Where the fused product's core runs: `auto` takes our SIMD loops (on tfjs's thread count where the
 * helper pool of ./pool.ts runs), unless tfjs runs three or more threads and the pool did not start:
 * then the stock 2-D product (XNNPACK, multi-threaded) does the multiply-adds on copies of the
 * operands laid out plainly and ours do the rest (GELU, transposes, ones column, epilogues).
 * `stock` and `ours` force a route (tests).
 */
export type GemmRoute = 'auto' | 'ours' | 'stock';
let route: GemmRoute = 'auto';
export function setGemmRoute(r: GemmRoute): void {
  route = r;
}
interface Args {
  inputs: Record<string, tf.TensorInfo | undefined>;
  attrs?: Record<string, unknown>;
}

/**
 * Registers the fused kernels on the wasm backend over the module's exports `k`. Returns a function
 * that unregisters them (the stock-op compositions of ops.ts then run again).
 */
export function registerFusedWasmKernels(k: FusedExports, backend: WasmBackendLike, pool: ProductPool | null = null): () => void {
  const memory = wasmMemoryOf(backend);
  if (memory == null) throw new Error('The wasm backend does not expose its memory.');
  const ptr = (t: tf.TensorInfo | undefined): number => {
    if (!t) throw new Error('a fused wasm kernel is missing an input');
    return backend.dataIdMap.get(t.dataId)!.memoryOffset;
  };
  const optional = (t: tf.TensorInfo | undefined): number => (t ? ptr(t) : 0);
  const threads = backend.wasm.tfjs?.getThreadsCount?.() ?? 1;
  // Measured on 2 cores (Chromium, baby, tfjs on 2 threads): our one-thread product 5,023 tokens/s,
  // XNNPACK's two threads 4,464. Where the pool runs our products on tfjs's thread count they stay
  // ours; without it, from three threads up XNNPACK has more cores than we would use.
  const useStockProduct = () => route === 'stock' || (route === 'auto' && threads >= 3 && pool == null);
  const product = pool?.gemm ?? k.gemm.bind(k);
  /** Runs `f` with scratch buffers of the given float counts, freed afterwards. */
  const withScratch = <T>(floats: number[], f: (p: number[]) => T): T => {
    const ps = floats.map((n) => backend.wasm._malloc(Math.max(n, 1) * 4));
    try {
      return f(ps);
    } finally {
      for (const p of ps) backend.wasm._free(p);
    }
  };

  const gemm = ({ inputs, attrs }: Args) => {
    const a = attrs as Attrs;
    const M = a.M as number;
    const N = a.N as number;
    const K = a.K as number;
    const onesB = Boolean(a.onesB);
    const Nb = N - (onesB ? 1 : 0);
    if (onesB && (a.bias || a.residual || a.geluGrad)) throw new Error('GptLabGemm on wasm: a ones column with an epilogue is not supported');
    if (a.splitLast && !onesB) throw new Error('GptLabGemm on wasm: splitLast goes with onesB');
    const out = backend.makeOutput(a.splitLast ? [M * (N - 1) + M] : [M, N], 'float32');
    const lda = a.lda as number;
    const ldb0 = a.ldb as number;
    const aStoredRows = a.transA ? K : M;
    const bStoredRows = a.transB ? Nb : K;
    const sizes = [a.geluA ? aStoredRows * lda : 0, a.geluB ? bStoredRows * ldb0 : 0, a.transB ? K * Nb : 0];
    withScratch(sizes, ([ga, gb, tb]) => {
      let aPtr = ptr(inputs.a) + (a.aOff as number) * 4;
      if (a.geluA) {
        k.geluInto(aPtr, ga, aStoredRows * lda);
        aPtr = ga;
      }
      let bPtr = ptr(inputs.b) + (a.bOff as number) * 4;
      let ldb = ldb0;
      if (a.geluB) {
        k.geluInto(bPtr, gb, bStoredRows * ldb);
        bPtr = gb;
      }
      if (a.transB) {
        k.transpose(bPtr, tb, Nb, K, ldb);
        bPtr = tb;
        ldb = Nb;
      }
      const o = ptr(out);
      const ldc = a.splitLast ? Nb : N;
      const aRow = a.transA ? 1 : lda;
      const aCol = a.transA ? lda : 1;
      if (useStockProduct()) {
        const aT = backend.makeOutput([M, K], 'float32');
        const bT = backend.makeOutput([K, Nb], 'float32');
        if (a.transA) k.transpose(aPtr, ptr(aT), K, M, lda);
        else k.copyRows(aPtr, ptr(aT), M, K, lda, K);
        k.copyRows(bPtr, ptr(bT), K, Nb, ldb, Nb);
        const stockOut = tf.getKernel('BatchMatMul', 'wasm')!.kernelFunc({
          inputs: { a: aT, b: bT },
          backend: backend as never,
          attrs: { transposeA: false, transposeB: false },
        }) as tf.TensorInfo;
        k.copyRows(ptr(stockOut), o, M, Nb, Nb, ldc);
        for (const t of [aT, bT, stockOut]) backend.disposeData(t.dataId);
      } else {
        product(aPtr, bPtr, o, M, K, Nb, aRow, aCol, ldb, ldc);
      }
      if (onesB) {
        if (a.splitLast) k.rowSumsOf(aPtr, o + M * Nb * 4, M, K, aRow, aCol, 1);
        else k.rowSumsOf(aPtr, o + Nb * 4, M, K, aRow, aCol, N);
      }
      const bias = a.bias ? ptr(inputs.bias) + (a.biasOff as number) * 4 : 0;
      const res = a.residual ? ptr(inputs.res) : 0;
      const gu = a.geluGrad ? ptr(inputs.gu) : 0;
      if (bias || res || gu) k.epilogue(o, M, Nb, ldc, bias, res, gu);
    });
    return out;
  };

  const layerNorm = ({ inputs, attrs }: Args) => {
    const { R, C, gOff, bOff } = attrs as Record<string, number>;
    const out = backend.makeOutput([R * C + 2 * R], 'float32');
    const th = ptr(inputs.theta);
    k.layerNorm(ptr(inputs.x), th + gOff * 4, th + bOff * 4, ptr(out), R, C);
    return out;
  };
  const layerNormBackward = ({ inputs, attrs }: Args) => {
    const { R, C, gOff } = attrs as Record<string, number>;
    const out = backend.makeOutput([R, C], 'float32');
    k.layerNormBackward(ptr(inputs.dy), ptr(inputs.x), ptr(inputs.ln), ptr(inputs.theta) + gOff * 4, optional(inputs.dres), ptr(out), R, C);
    return out;
  };
  const layerNormParamGrad = ({ inputs, attrs }: Args) => {
    const { R, C } = attrs as Record<string, number>;
    const out = backend.makeOutput([2 * C], 'float32');
    k.layerNormParamGrads(ptr(inputs.dy), ptr(inputs.x), ptr(inputs.ln), ptr(out), R, C);
    return out;
  };
  const attention = ({ inputs, attrs }: Args) => {
    const { B, T, heads, C } = attrs as Record<string, number>;
    const out = backend.makeOutput([B * T * C + B * heads * T], 'float32');
    withScratch([T], ([s]) => k.attention(ptr(inputs.qkv), ptr(out), s, B, T, heads, C));
    return out;
  };
  const attentionBackward = ({ inputs, attrs }: Args) => {
    const { B, T, heads, C } = attrs as Record<string, number>;
    const out = backend.makeOutput([B * T, 3 * C], 'float32');
    withScratch([2 * T], ([s]) => k.attentionBackward(ptr(inputs.qkv), ptr(inputs.att), ptr(inputs.dy), ptr(out), s, B, T, heads, C));
    return out;
  };
  const embed = ({ inputs, attrs }: Args) => {
    const { N, T, C, wteOff, wpeOff } = attrs as Record<string, number>;
    const out = backend.makeOutput([N, C], 'float32');
    const th = ptr(inputs.theta);
    k.embed(ptr(inputs.idx), th + wteOff * 4, th + wpeOff * 4, ptr(out), N, T, C);
    return out;
  };
  const embedBackward = ({ inputs, attrs }: Args) => {
    const { N, T, ctx, V, C } = attrs as Record<string, number>;
    const out = backend.makeOutput([V * C + ctx * C], 'float32');
    k.embedBackward(ptr(inputs.head), ptr(inputs.dx), ptr(inputs.idx), ptr(out), N, T, ctx, V, C);
    return out;
  };
  const crossEntropy = ({ inputs, attrs }: Args) => {
    const { N, V } = attrs as Record<string, number>;
    const out = backend.makeOutput([N * V + N], 'float32');
    k.crossEntropy(ptr(inputs.logits), ptr(inputs.targets), ptr(out), N, V);
    return out;
  };
  const write1 = (value: number) => {
    const out = backend.makeOutput([1], 'float32');
    new Float32Array(memory.buffer, ptr(out), 1)[0] = value;
    return out;
  };
  const mean = ({ inputs, attrs }: Args) => {
    const { offset, count } = attrs as Record<string, number>;
    const total = k.sum(ptr(inputs.x) + offset * 4, count, 0);
    return write1((attrs as Attrs).sqrt ? Math.sqrt(total) : total / count);
  };
  const copy = ({ inputs, attrs }: Args) => {
    const { offset, size } = attrs as Record<string, number>;
    const out = backend.makeOutput([size], 'float32');
    k.copyRows(ptr(inputs.x) + offset * 4, ptr(out), 1, size, size, size);
    return out;
  };
  const sumSquares = ({ inputs, attrs }: Args) => write1(k.sum(ptr(inputs.g), (attrs as Attrs).P as number, 1));
  const adamW = ({ inputs, attrs }: Args) => {
    const a = attrs as Record<string, number>;
    const P = a.P;
    const norm = new Float32Array(memory.buffer, ptr(inputs.norm), 1)[0];
    const coef = a.clip > 0 ? Math.min(a.clip / (norm + 1e-6), 1) : 1;
    const out = backend.makeOutput([3 * P], 'float32');
    k.adamW(ptr(inputs.state), ptr(inputs.g), ptr(inputs.mask), ptr(out), P, a.lr, a.beta1, a.beta2, a.eps, a.wd, a.bc1, a.bc2, coef);
    return out;
  };

  const funcs: Record<keyof typeof FAST_KERNELS, (args: Args) => tf.TensorInfo> = {
    gemm,
    layerNorm,
    layerNormBackward,
    layerNormParamGrad,
    attention,
    attentionBackward,
    embed,
    embedBackward,
    crossEntropy,
    mean,
    copy,
    sumSquares,
    adamW,
  };
  const names: string[] = [];
  for (const [key, kernelName] of Object.entries(FAST_KERNELS)) {
    if (tf.getKernel(kernelName, 'wasm')) tf.unregisterKernel(kernelName, 'wasm');
    tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc: funcs[key as keyof typeof FAST_KERNELS] as never });
    names.push(kernelName);
  }
  return () => {
    for (const name of names) if (tf.getKernel(name, 'wasm')) tf.unregisterKernel(name, 'wasm');
  };
}
