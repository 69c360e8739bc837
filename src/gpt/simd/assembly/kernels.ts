// AssemblyScript source of GPT Lab's WebAssembly SIMD kernels (built by scripts/build-simd.ts into
// src/gpt/simd/kernels.wasm). The module imports the tfjs wasm backend's own memory, so it reads
// and writes tensors where they already are: every argument named *Ptr is a byte offset into that
// memory. It keeps no data of its own (no strings, no globals, no allocation), so instantiating it
// writes nothing into the memory it shares.
//
// Matrices are row-major float32. Glossary: M rows of the result, N its columns, K the inner size.

/**
 * C = op(A) · op(B) for `batch` pairs, with op(A) (M, K) and op(B) (K, N).
 * Not transposed, A is stored (M, K); transposed, (K, M). B is stored (K, N), or (N, K) transposed:
 * that case reads B through `scratchPtr` (K·N floats), where it is first copied into (K, N) order.
 * Strides are in floats between consecutive batch items (0 broadcasts one matrix to every item).
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
      if (p == 0 || bStride != 0) transposeInto(b, scratchPtr, N, K);
      b = scratchPtr;
    }
    // Where op(A)[i, k] lives: row step and column step, in floats.
    const aRow: i32 = transA ? 1 : K;
    const aCol: i32 = transA ? M : 1;
    if ((N & 3) == 0) matmulTiles(a, b, c, M, K, N, aRow, aCol);
    else matmulScalar(a, b, c, M, K, N, aRow, aCol);
  }
}

/** dst (cols, rows) = srcᵀ, src (rows, cols). */
function transposeInto(src: usize, dst: usize, rows: i32, cols: i32): void {
  for (let r = 0; r < rows; r++) {
    for (let q = 0; q < cols; q++) {
      store<f32>(dst + <usize>(q * rows + r) * 4, load<f32>(src + <usize>(r * cols + q) * 4));
    }
  }
}

/** N a multiple of 4: tiles of 4 rows × 8 columns, then 4 × 4, then single rows. */
function matmulTiles(a: usize, b: usize, c: usize, M: i32, K: i32, N: i32, aRow: i32, aCol: i32): void {
  const rowBytes = <usize>N * 4;
  let i = 0;
  for (; i + 4 <= M; i += 4) {
    const a0 = a + <usize>(i * aRow) * 4;
    const a1 = a0 + <usize>aRow * 4;
    const a2 = a1 + <usize>aRow * 4;
    const a3 = a2 + <usize>aRow * 4;
    const kStep = <usize>aCol * 4;
    let j = 0;
    for (; j + 8 <= N; j += 8) {
      let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
      let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
      let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
      let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
      let bp = b + <usize>j * 4;
      let ak: usize = 0;
      for (let k = 0; k < K; k++) {
        const b0 = v128.load(bp);
        const b1 = v128.load(bp, 16);
        const x0 = f32x4.splat(load<f32>(a0 + ak));
        const x1 = f32x4.splat(load<f32>(a1 + ak));
        const x2 = f32x4.splat(load<f32>(a2 + ak));
        const x3 = f32x4.splat(load<f32>(a3 + ak));
        c00 = f32x4.add(c00, f32x4.mul(x0, b0)); c01 = f32x4.add(c01, f32x4.mul(x0, b1));
        c10 = f32x4.add(c10, f32x4.mul(x1, b0)); c11 = f32x4.add(c11, f32x4.mul(x1, b1));
        c20 = f32x4.add(c20, f32x4.mul(x2, b0)); c21 = f32x4.add(c21, f32x4.mul(x2, b1));
        c30 = f32x4.add(c30, f32x4.mul(x3, b0)); c31 = f32x4.add(c31, f32x4.mul(x3, b1));
        bp += rowBytes;
        ak += kStep;
      }
      const cp = c + <usize>(i * N + j) * 4;
      v128.store(cp, c00); v128.store(cp, c01, 16);
      v128.store(cp + rowBytes, c10); v128.store(cp + rowBytes, c11, 16);
      v128.store(cp + 2 * rowBytes, c20); v128.store(cp + 2 * rowBytes, c21, 16);
      v128.store(cp + 3 * rowBytes, c30); v128.store(cp + 3 * rowBytes, c31, 16);
    }
    for (; j < N; j += 4) {
      let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
      let bp = b + <usize>j * 4;
      let ak: usize = 0;
      for (let k = 0; k < K; k++) {
        const b0 = v128.load(bp);
        c0 = f32x4.add(c0, f32x4.mul(f32x4.splat(load<f32>(a0 + ak)), b0));
        c1 = f32x4.add(c1, f32x4.mul(f32x4.splat(load<f32>(a1 + ak)), b0));
        c2 = f32x4.add(c2, f32x4.mul(f32x4.splat(load<f32>(a2 + ak)), b0));
        c3 = f32x4.add(c3, f32x4.mul(f32x4.splat(load<f32>(a3 + ak)), b0));
        bp += rowBytes;
        ak += kStep;
      }
      const cp = c + <usize>(i * N + j) * 4;
      v128.store(cp, c0);
      v128.store(cp + rowBytes, c1);
      v128.store(cp + 2 * rowBytes, c2);
      v128.store(cp + 3 * rowBytes, c3);
    }
  }
  for (; i < M; i++) {
    const ai = a + <usize>(i * aRow) * 4;
    const kStep = <usize>aCol * 4;
    for (let j = 0; j < N; j += 4) {
      let acc = f32x4.splat(0);
      let bp = b + <usize>j * 4;
      let ak: usize = 0;
      for (let k = 0; k < K; k++) {
        acc = f32x4.add(acc, f32x4.mul(f32x4.splat(load<f32>(ai + ak)), v128.load(bp)));
        bp += rowBytes;
        ak += kStep;
      }
      v128.store(c + <usize>(i * N + j) * 4, acc);
    }
  }
}

/** Any N: the plain triple loop. */
function matmulScalar(a: usize, b: usize, c: usize, M: i32, K: i32, N: i32, aRow: i32, aCol: i32): void {
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let acc: f32 = 0;
      for (let k = 0; k < K; k++) {
        acc += load<f32>(a + <usize>(i * aRow + k * aCol) * 4) * load<f32>(b + <usize>(k * N + j) * 4);
      }
      store<f32>(c + <usize>(i * N + j) * 4, acc);
    }
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
