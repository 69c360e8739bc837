// AssemblyScript source of GPT Lab's WebAssembly SIMD kernels (built by scripts/build-simd.ts into
// src/gpt/simd/kernels.wasm). The module imports the tfjs wasm backend's own memory, so it reads
// and writes tensors where they already are: every argument named *Ptr is a byte offset into that
// memory. It keeps no data of its own (no strings, no globals, no allocation), so instantiating it
// writes nothing into the memory it shares.
//
// Matrices are row-major float32. Glossary: M rows of the result, N its columns, K the inner size.

import { gemm, transpose } from './fused';

/**
 * C = op(A) · op(B) for `batch` pairs, with op(A) (M, K) and op(B) (K, N).
 * Not transposed, A is stored (M, K); transposed, (K, M). B is stored (K, N), or (N, K) transposed:
 * that case reads B through `scratchPtr` (K·N floats), where it is first copied into (K, N) order.
 * Strides are in floats between consecutive batch items (0 broadcasts one matrix to every item).
 * The products themselves are ./fused.ts's register-tiled `gemm`.
 */
export function matmul(
  aPtr: usize, bPtr: usize, cPtr: usize, scratchPtr: usize,
  batch: i32, M: i32, K: i32, N: i32,
  transA: bool, transB: bool,
  aStride: i32, bStride: i32,
): void {
  for (let p = 0; p < batch; p++) {
    const a = aPtr + <usize>(p * aStride) * 4;
    let b = bPtr + <usize>(p * bStride) * 4;
    const c = cPtr + <usize>(p * M * N) * 4;
    if (transB) {
      if (p == 0 || bStride != 0) transpose(b, scratchPtr, N, K, K);
      b = scratchPtr;
    }
    // Where op(A)[i, k] lives: row step and column step, in floats.
    gemm(a, b, c, M, K, N, transA ? 1 : K, transA ? M : 1, N, N);
  }
}

/** out[j] = Σ_i x[i, j] for x (rows, cols): column sums (a bias gradient), cols a multiple of 4 or not. */
export function columnSums(xPtr: usize, outPtr: usize, rows: i32, cols: i32): void {
  let j = 0;
  for (; j + 4 <= cols; j += 4) {
    let acc = f32x4.splat(0);
    let p = xPtr + <usize>j * 4;
    for (let i = 0; i < rows; i++) {
      acc = f32x4.add(acc, v128.load(p));
      p += <usize>cols * 4;
    }
    v128.store(outPtr + <usize>j * 4, acc);
  }
  for (; j < cols; j++) {
    let acc: f32 = 0;
    for (let i = 0; i < rows; i++) acc += load<f32>(xPtr + <usize>(i * cols + j) * 4);
    store<f32>(outPtr + <usize>j * 4, acc);
  }
}

// The fast path's fused operations (LayerNorm, GELU, attention, cross-entropy, AdamW …).
export * from './fused';
