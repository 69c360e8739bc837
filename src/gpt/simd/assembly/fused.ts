// AssemblyScript source of the fast path's fused operations for the tfjs wasm backend: the same
// maths as the WebGPU programs of src/gpt/fast/programs.ts and the stock-op fallbacks of
// src/gpt/fast/ops.ts, written as WebAssembly SIMD (f32x4) loops over tfjs-wasm's own memory.
// src/gpt/simd/fused.ts registers them as the `GptLab*` kernels of the wasm backend.
//
// Every *Ptr / pointer argument is a byte offset into the shared memory; sizes and strides count
// floats. Matrices are row-major. Nothing here allocates: callers pass scratch space.

// ---------------------------------------------------------------------------------------------
// exp, sigmoid and GELU on four lanes.

// exp(x) = 2ⁿ·eʳ with n = round(x·log₂e) and r = x − n·ln2 (ln2 in two parts, so r is exact to
// float precision); eʳ on |r| ≤ ln2/2 by its Taylor series to r⁶ (relative error below 2e-7).
// Inputs are clamped to [−87, 88], where 2ⁿ is a normal float.
// @ts-ignore: decorator
@inline
function expv(x: v128): v128 {
  const c = f32x4.max(f32x4.min(x, f32x4.splat(88.0)), f32x4.splat(-87.0));
  const n = f32x4.nearest(f32x4.mul(c, f32x4.splat(1.4426950408889634)));
  let r = f32x4.sub(c, f32x4.mul(n, f32x4.splat(0.693359375)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(-2.12194440e-4)));
  let p = f32x4.splat(<f32>(1.0 / 720.0));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(<f32>(1.0 / 120.0)));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(<f32>(1.0 / 24.0)));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(<f32>(1.0 / 6.0)));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(0.5));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.0));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.0));
  const scale = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  return f32x4.mul(p, scale);
}

// @ts-ignore: decorator
@inline
function exps(x: f32): f32 {
  return f32x4.extract_lane(expv(f32x4.splat(x)), 0);
}

// @ts-ignore: decorator
@inline
function sigmoidv(z: v128): v128 {
  const one = f32x4.splat(1.0);
  return f32x4.div(one, f32x4.add(one, expv(f32x4.neg(z))));
}

// tanh-GELU in its sigmoid form: x·σ(k·(x + 0.044715x³)), k = 2·√(2/π).
const GELU_K: f32 = 1.5957691216057308;
const GELU_A: f32 = 0.044715;

// @ts-ignore: decorator
@inline
function geluv(x: v128): v128 {
  const x3 = f32x4.mul(f32x4.mul(x, x), x);
  const z = f32x4.mul(f32x4.add(x, f32x4.mul(x3, f32x4.splat(GELU_A))), f32x4.splat(GELU_K));
  return f32x4.mul(x, sigmoidv(z));
}

// d GELU / dx = s + x·s·(1 − s)·k·(1 + 3·0.044715·x²), s = σ(k·(x + 0.044715x³)).
// @ts-ignore: decorator
@inline
function geluGradv(x: v128): v128 {
  const x2 = f32x4.mul(x, x);
  const z = f32x4.mul(f32x4.add(x, f32x4.mul(f32x4.mul(x2, x), f32x4.splat(GELU_A))), f32x4.splat(GELU_K));
  const s = sigmoidv(z);
  const dz = f32x4.mul(f32x4.add(f32x4.splat(1.0), f32x4.mul(x2, f32x4.splat(3 * GELU_A))), f32x4.splat(GELU_K));
  const ds = f32x4.mul(f32x4.mul(s, f32x4.sub(f32x4.splat(1.0), s)), dz);
  return f32x4.add(s, f32x4.mul(x, ds));
}

/** dst[i] = GELU(src[i]) for `count` values (dst may be src). */
export function geluInto(src: usize, dst: usize, count: i32): void {
  let i = 0;
  for (; i + 4 <= count; i += 4) v128.store(dst + <usize>i * 4, geluv(v128.load(src + <usize>i * 4)));
  for (; i < count; i++) {
    store<f32>(dst + <usize>i * 4, f32x4.extract_lane(geluv(f32x4.splat(load<f32>(src + <usize>i * 4))), 0));
  }
}

// ---------------------------------------------------------------------------------------------
// Matrix products.

/**
 * C (M, N) = op(A)·B with op(A)[i, k] at a + (i·aRow + k·aCol) floats, B (K, N) with rows `ldb`
 * floats apart, C with rows `ldc` apart. Tiles of 4 rows × 8 columns of f32x4 accumulators, then
 * 4 × 4, then single columns; leftover rows one at a time.
 */
export function gemm(a: usize, b: usize, c: usize, M: i32, K: i32, N: i32, aRow: i32, aCol: i32, ldb: i32, ldc: i32): void {
  const bRow = <usize>ldb * 4;
  const cRow = <usize>ldc * 4;
  const kStep = <usize>aCol * 4;
  let i = 0;
  for (; i + 4 <= M; i += 4) {
    const a0 = a + <usize>(i * aRow) * 4;
    const a1 = a0 + <usize>aRow * 4;
    const a2 = a1 + <usize>aRow * 4;
    const a3 = a2 + <usize>aRow * 4;
    const cp0 = c + <usize>i * cRow;
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
        bp += bRow;
        ak += kStep;
      }
      const cp = cp0 + <usize>j * 4;
      v128.store(cp, c00); v128.store(cp, c01, 16);
      v128.store(cp + cRow, c10); v128.store(cp + cRow, c11, 16);
      v128.store(cp + 2 * cRow, c20); v128.store(cp + 2 * cRow, c21, 16);
      v128.store(cp + 3 * cRow, c30); v128.store(cp + 3 * cRow, c31, 16);
    }
    for (; j + 4 <= N; j += 4) {
      let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
      let bp = b + <usize>j * 4;
      let ak: usize = 0;
      for (let k = 0; k < K; k++) {
        const b0 = v128.load(bp);
        c0 = f32x4.add(c0, f32x4.mul(f32x4.splat(load<f32>(a0 + ak)), b0));
        c1 = f32x4.add(c1, f32x4.mul(f32x4.splat(load<f32>(a1 + ak)), b0));
        c2 = f32x4.add(c2, f32x4.mul(f32x4.splat(load<f32>(a2 + ak)), b0));
        c3 = f32x4.add(c3, f32x4.mul(f32x4.splat(load<f32>(a3 + ak)), b0));
        bp += bRow;
        ak += kStep;
      }
      const cp = cp0 + <usize>j * 4;
      v128.store(cp, c0);
      v128.store(cp + cRow, c1);
      v128.store(cp + 2 * cRow, c2);
      v128.store(cp + 3 * cRow, c3);
    }
    for (; j < N; j++) {
      // One column: four rows at once.
      let acc = f32x4.splat(0);
      let bp = b + <usize>j * 4;
      let ak: usize = 0;
      for (let k = 0; k < K; k++) {
        let xa = f32x4.splat(load<f32>(a0 + ak));
        xa = f32x4.replace_lane(xa, 1, load<f32>(a1 + ak));
        xa = f32x4.replace_lane(xa, 2, load<f32>(a2 + ak));
        xa = f32x4.replace_lane(xa, 3, load<f32>(a3 + ak));
        acc = f32x4.add(acc, f32x4.mul(xa, f32x4.splat(load<f32>(bp))));
        bp += bRow;
        ak += kStep;
      }
      const cp = cp0 + <usize>j * 4;
      store<f32>(cp, f32x4.extract_lane(acc, 0));
      store<f32>(cp + cRow, f32x4.extract_lane(acc, 1));
      store<f32>(cp + 2 * cRow, f32x4.extract_lane(acc, 2));
      store<f32>(cp + 3 * cRow, f32x4.extract_lane(acc, 3));
    }
  }
  for (; i < M; i++) {
    const ai = a + <usize>(i * aRow) * 4;
    const cp0 = c + <usize>i * cRow;
    let j = 0;
    for (; j + 4 <= N; j += 4) {
      let acc = f32x4.splat(0);
      let bp = b + <usize>j * 4;
      let ak: usize = 0;
      for (let k = 0; k < K; k++) {
        acc = f32x4.add(acc, f32x4.mul(f32x4.splat(load<f32>(ai + ak)), v128.load(bp)));
        bp += bRow;
        ak += kStep;
      }
      v128.store(cp0 + <usize>j * 4, acc);
    }
    for (; j < N; j++) {
      let acc: f32 = 0;
      let bp = b + <usize>j * 4;
      let ak: usize = 0;
      for (let k = 0; k < K; k++) {
        acc += load<f32>(ai + ak) * load<f32>(bp);
        bp += bRow;
        ak += kStep;
      }
      store<f32>(cp0 + <usize>j * 4, acc);
    }
  }
}

/** dst (cols, rows) = srcᵀ for src (rows, cols) with rows `lds` floats apart. */
export function transpose(src: usize, dst: usize, rows: i32, cols: i32, lds: i32): void {
  // Blocks of 8 × 8 keep both sides in cache lines.
  for (let r0 = 0; r0 < rows; r0 += 8) {
    const r1 = min(r0 + 8, rows);
    for (let q0 = 0; q0 < cols; q0 += 8) {
      const q1 = min(q0 + 8, cols);
      for (let r = r0; r < r1; r++) {
        for (let q = q0; q < q1; q++) {
          store<f32>(dst + <usize>(q * rows + r) * 4, load<f32>(src + <usize>(r * lds + q) * 4));
        }
      }
    }
  }
}

/** Copies `rows` rows of `cols` floats from src (rows lds apart) to dst (rows ldd apart). */
export function copyRows(src: usize, dst: usize, rows: i32, cols: i32, lds: i32, ldd: i32): void {
  for (let r = 0; r < rows; r++) memory.copy(dst + <usize>(r * ldd) * 4, src + <usize>(r * lds) * 4, <usize>cols * 4);
}

/**
 * out[i·os] = Σ_k op(A)[i, k] for i < M: the product's column for B's extra column of ones.
 * With aRow = 1 (A transposed) the sums run four rows at a time.
 */
export function rowSumsOf(a: usize, out: usize, M: i32, K: i32, aRow: i32, aCol: i32, os: i32): void {
  let i = 0;
  if (aRow == 1) {
    for (; i + 4 <= M; i += 4) {
      let acc = f32x4.splat(0);
      for (let k = 0; k < K; k++) acc = f32x4.add(acc, v128.load(a + <usize>(i + k * aCol) * 4));
      store<f32>(out + <usize>(i * os) * 4, f32x4.extract_lane(acc, 0));
      store<f32>(out + <usize>((i + 1) * os) * 4, f32x4.extract_lane(acc, 1));
      store<f32>(out + <usize>((i + 2) * os) * 4, f32x4.extract_lane(acc, 2));
      store<f32>(out + <usize>((i + 3) * os) * 4, f32x4.extract_lane(acc, 3));
    }
  }
  for (; i < M; i++) {
    let acc: f32 = 0;
    for (let k = 0; k < K; k++) acc += load<f32>(a + <usize>(i * aRow + k * aCol) * 4);
    store<f32>(out + <usize>(i * os) * 4, acc);
  }
}

/**
 * The epilogues of a product C (M, N; rows ldc apart), in this order: + bias[j]; + res[i, j];
 * × GELU'(gu[i, j]) (res and gu (M, N) contiguous). A pointer of 0 skips its step.
 */
export function epilogue(c: usize, M: i32, N: i32, ldc: i32, bias: usize, res: usize, gu: usize): void {
  for (let i = 0; i < M; i++) {
    const cp = c + <usize>(i * ldc) * 4;
    const off = <usize>(i * N) * 4;
    let j = 0;
    for (; j + 4 <= N; j += 4) {
      const o = <usize>j * 4;
      let v = v128.load(cp + o);
      if (bias) v = f32x4.add(v, v128.load(bias + o));
      if (res) v = f32x4.add(v, v128.load(res + off + o));
      if (gu) v = f32x4.mul(v, geluGradv(v128.load(gu + off + o)));
      v128.store(cp + o, v);
    }
    for (; j < N; j++) {
      const o = <usize>j * 4;
      let v = load<f32>(cp + o);
      if (bias) v += load<f32>(bias + o);
      if (res) v += load<f32>(res + off + o);
      if (gu) v *= f32x4.extract_lane(geluGradv(f32x4.splat(load<f32>(gu + off + o))), 0);
      store<f32>(cp + o, v);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Reductions over rows.

// @ts-ignore: decorator
@inline
function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

// @ts-ignore: decorator
@inline
function dot(x: usize, y: usize, n: i32): f32 {
  let acc = f32x4.splat(0);
  let d = 0;
  for (; d + 4 <= n; d += 4) acc = f32x4.add(acc, f32x4.mul(v128.load(x + <usize>d * 4), v128.load(y + <usize>d * 4)));
  let s = hsum(acc);
  for (; d < n; d++) s += load<f32>(x + <usize>d * 4) * load<f32>(y + <usize>d * 4);
  return s;
}

/** y[d] += α·x[d] for d < n. */
// @ts-ignore: decorator
@inline
function axpy(alpha: f32, x: usize, y: usize, n: i32): void {
  const av = f32x4.splat(alpha);
  let d = 0;
  for (; d + 4 <= n; d += 4) {
    const o = <usize>d * 4;
    v128.store(y + o, f32x4.add(v128.load(y + o), f32x4.mul(av, v128.load(x + o))));
  }
  for (; d < n; d++) store<f32>(y + <usize>d * 4, load<f32>(y + <usize>d * 4) + alpha * load<f32>(x + <usize>d * 4));
}

/** dst[j] = exp(src[j] − shift) for j < n (dst may be src); returns their sum. */
// @ts-ignore: decorator
@inline
function expInto(src: usize, dst: usize, n: i32, shift: f32): f32 {
  const sh = f32x4.splat(shift);
  let acc = f32x4.splat(0);
  let j = 0;
  for (; j + 4 <= n; j += 4) {
    const e = expv(f32x4.sub(v128.load(src + <usize>j * 4), sh));
    v128.store(dst + <usize>j * 4, e);
    acc = f32x4.add(acc, e);
  }
  let s = hsum(acc);
  for (; j < n; j++) {
    const e = exps(load<f32>(src + <usize>j * 4) - shift);
    store<f32>(dst + <usize>j * 4, e);
    s += e;
  }
  return s;
}

/** Fills n floats at p with zeros. */
export function zero(p: usize, n: i32): void {
  memory.fill(p, 0, <usize>n * 4);
}

/**
 * LayerNorm of x (R, C) with scale γ and shift β: out = [y (R·C), mean (R), 1/σ (R)], σ² the
 * population variance + 1e-5.
 */
export function layerNorm(x: usize, gamma: usize, beta: usize, out: usize, R: i32, C: i32): void {
  const inv: f32 = 1.0 / <f32>C;
  for (let r = 0; r < R; r++) {
    const xr = x + <usize>(r * C) * 4;
    const yr = out + <usize>(r * C) * 4;
    let s = f32x4.splat(0);
    let c = 0;
    for (; c + 4 <= C; c += 4) s = f32x4.add(s, v128.load(xr + <usize>c * 4));
    let sum = hsum(s);
    for (; c < C; c++) sum += load<f32>(xr + <usize>c * 4);
    const mean = sum * inv;
    const mv = f32x4.splat(mean);
    let q = f32x4.splat(0);
    c = 0;
    for (; c + 4 <= C; c += 4) {
      const d = f32x4.sub(v128.load(xr + <usize>c * 4), mv);
      q = f32x4.add(q, f32x4.mul(d, d));
    }
    let sq = hsum(q);
    for (; c < C; c++) {
      const d = load<f32>(xr + <usize>c * 4) - mean;
      sq += d * d;
    }
    const rstd: f32 = 1.0 / Mathf.sqrt(sq * inv + 1e-5);
    const rv = f32x4.splat(rstd);
    c = 0;
    for (; c + 4 <= C; c += 4) {
      const o = <usize>c * 4;
      const h = f32x4.mul(f32x4.sub(v128.load(xr + o), mv), rv);
      v128.store(yr + o, f32x4.add(f32x4.mul(h, v128.load(gamma + o)), v128.load(beta + o)));
    }
    for (; c < C; c++) {
      const o = <usize>c * 4;
      store<f32>(yr + o, (load<f32>(xr + o) - mean) * rstd * load<f32>(gamma + o) + load<f32>(beta + o));
    }
    store<f32>(out + <usize>(R * C + r) * 4, mean);
    store<f32>(out + <usize>(R * C + R + r) * 4, rstd);
  }
}

/**
 * dx of LayerNorm (R, C) from dy, its input x and its output `ln` (which holds the means and
 * reciprocal deviations after the R·C values): with g = dy·γ and x̂ = (x − mean)/σ,
 * dx = (g − mean(g) − x̂·mean(g·x̂))/σ, plus dres (R, C) when its pointer is not 0.
 */
export function layerNormBackward(dy: usize, x: usize, ln: usize, gamma: usize, dres: usize, out: usize, R: i32, C: i32): void {
  const inv: f32 = 1.0 / <f32>C;
  for (let r = 0; r < R; r++) {
    const row = <usize>(r * C) * 4;
    const mean = load<f32>(ln + <usize>(R * C + r) * 4);
    const rstd = load<f32>(ln + <usize>(R * C + R + r) * 4);
    const mv = f32x4.splat(mean);
    const rv = f32x4.splat(rstd);
    let s1 = f32x4.splat(0);
    let s2 = f32x4.splat(0);
    let c = 0;
    for (; c + 4 <= C; c += 4) {
      const o = <usize>c * 4;
      const g = f32x4.mul(v128.load(dy + row + o), v128.load(gamma + o));
      const h = f32x4.mul(f32x4.sub(v128.load(x + row + o), mv), rv);
      s1 = f32x4.add(s1, g);
      s2 = f32x4.add(s2, f32x4.mul(g, h));
    }
    let m1 = hsum(s1);
    let m2 = hsum(s2);
    for (let t = c; t < C; t++) {
      const o = <usize>t * 4;
      const g = load<f32>(dy + row + o) * load<f32>(gamma + o);
      m1 += g;
      m2 += g * (load<f32>(x + row + o) - mean) * rstd;
    }
    m1 *= inv;
    m2 *= inv;
    const m1v = f32x4.splat(m1);
    const m2v = f32x4.splat(m2);
    c = 0;
    for (; c + 4 <= C; c += 4) {
      const o = <usize>c * 4;
      const g = f32x4.mul(v128.load(dy + row + o), v128.load(gamma + o));
      const h = f32x4.mul(f32x4.sub(v128.load(x + row + o), mv), rv);
      let d = f32x4.mul(rv, f32x4.sub(f32x4.sub(g, m1v), f32x4.mul(h, m2v)));
      if (dres) d = f32x4.add(d, v128.load(dres + row + o));
      v128.store(out + row + o, d);
    }
    for (; c < C; c++) {
      const o = <usize>c * 4;
      const g = load<f32>(dy + row + o) * load<f32>(gamma + o);
      const h = (load<f32>(x + row + o) - mean) * rstd;
      let d = rstd * (g - m1 - h * m2);
      if (dres) d += load<f32>(dres + row + o);
      store<f32>(out + row + o, d);
    }
  }
}

/** [dγ (C), dβ (C)] of LayerNorm: Σ_r dy·x̂ and Σ_r dy over the R rows. */
export function layerNormParamGrads(dy: usize, x: usize, ln: usize, out: usize, R: i32, C: i32): void {
  zero(out, 2 * C);
  const dg = out;
  const db = out + <usize>C * 4;
  for (let r = 0; r < R; r++) {
    const row = <usize>(r * C) * 4;
    const mean = load<f32>(ln + <usize>(R * C + r) * 4);
    const rstd = load<f32>(ln + <usize>(R * C + R + r) * 4);
    const mv = f32x4.splat(mean);
    const rv = f32x4.splat(rstd);
    let c = 0;
    for (; c + 4 <= C; c += 4) {
      const o = <usize>c * 4;
      const d = v128.load(dy + row + o);
      const h = f32x4.mul(f32x4.sub(v128.load(x + row + o), mv), rv);
      v128.store(dg + o, f32x4.add(v128.load(dg + o), f32x4.mul(d, h)));
      v128.store(db + o, f32x4.add(v128.load(db + o), d));
    }
    for (; c < C; c++) {
      const o = <usize>c * 4;
      const d = load<f32>(dy + row + o);
      store<f32>(dg + o, load<f32>(dg + o) + d * (load<f32>(x + row + o) - mean) * rstd);
      store<f32>(db + o, load<f32>(db + o) + d);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Attention.

/**
 * Causal self-attention from qkv (B·T, 3C; each row [q | k | v], head h in columns h·hs…): out =
 * [y (B·T, C), log-sum-exp of each score row ((b·nh + h)·T + t)]. `scratch` holds T floats.
 */
export function attention(qkv: usize, out: usize, scratch: usize, B: i32, T: i32, heads: i32, C: i32): void {
  const hs = C / heads;
  const scale: f32 = 1.0 / Mathf.sqrt(<f32>hs);
  const row3 = <usize>(3 * C) * 4;
  const lseBase = out + <usize>(B * T * C) * 4;
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < heads; h++) {
      const base = qkv + <usize>(b * T) * row3 + <usize>(h * hs) * 4;
      for (let t = 0; t < T; t++) {
        const q = base + <usize>t * row3;
        let mx: f32 = -Infinity;
        for (let j = 0; j <= t; j++) {
          const s = dot(q, base + <usize>j * row3 + <usize>C * 4, hs) * scale;
          store<f32>(scratch + <usize>j * 4, s);
          mx = max(mx, s);
        }
        const n = t + 1;
        const sum = expInto(scratch, scratch, n, mx);
        const y = out + <usize>((b * T + t) * C + h * hs) * 4;
        zero(y, hs);
        const inv: f32 = 1.0 / sum;
        for (let j = 0; j < n; j++) axpy(load<f32>(scratch + <usize>j * 4) * inv, base + <usize>j * row3 + <usize>(2 * C) * 4, y, hs);
        store<f32>(lseBase + <usize>((b * heads + h) * T + t) * 4, mx + Mathf.log(sum));
      }
    }
  }
}

/**
 * Gradient of attention into qkv: out (B·T, 3C) = [dq | dk | dv] from qkv, the forward output
 * `att` ([y, lse]) and dy (B·T, C). With P the probabilities and D_t = dy_t·y_t:
 * dS = P·(dy·vᵀ − D); dq = scale·dS·k; dk = scale·dSᵀ·q; dv = Pᵀ·dy. `scratch` holds 2T floats.
 */
export function attentionBackward(qkv: usize, att: usize, dy: usize, out: usize, scratch: usize, B: i32, T: i32, heads: i32, C: i32): void {
  const hs = C / heads;
  const scale: f32 = 1.0 / Mathf.sqrt(<f32>hs);
  const row3 = <usize>(3 * C) * 4;
  const kOff = <usize>C * 4;
  const vOff = <usize>(2 * C) * 4;
  const lseBase = att + <usize>(B * T * C) * 4;
  const ps = scratch;
  const ds = scratch + <usize>T * 4;
  zero(out, B * T * 3 * C);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < heads; h++) {
      const base = qkv + <usize>(b * T) * row3 + <usize>(h * hs) * 4;
      const obase = out + <usize>(b * T) * row3 + <usize>(h * hs) * 4;
      for (let t = 0; t < T; t++) {
        const q = base + <usize>t * row3;
        const dyt = dy + <usize>((b * T + t) * C + h * hs) * 4;
        const yt = att + <usize>((b * T + t) * C + h * hs) * 4;
        const D = dot(dyt, yt, hs);
        const lse = load<f32>(lseBase + <usize>((b * heads + h) * T + t) * 4);
        const n = t + 1;
        for (let j = 0; j < n; j++) store<f32>(ps + <usize>j * 4, dot(q, base + <usize>j * row3 + kOff, hs) * scale);
        expInto(ps, ps, n, lse);
        let j = 0;
        for (; j < n; j++) {
          const p = load<f32>(ps + <usize>j * 4);
          const vj = base + <usize>j * row3 + vOff;
          store<f32>(ds + <usize>j * 4, p * (dot(dyt, vj, hs) - D) * scale);
          axpy(p, dyt, obase + <usize>j * row3 + vOff, hs); // dv_j += p·dy_t
        }
        const dq = obase + <usize>t * row3;
        for (j = 0; j < n; j++) {
          const s = load<f32>(ds + <usize>j * 4);
          axpy(s, base + <usize>j * row3 + kOff, dq, hs); // dq_t += scale·dS·k_j
          axpy(s, q, obase + <usize>j * row3 + kOff, hs); // dk_j += scale·dS·q_t
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Embeddings, loss, optimizer.

/** x (N, C) = wte[idx[n]] + wpe[n mod T]; idx int32. */
export function embed(idx: usize, wte: usize, wpe: usize, out: usize, N: i32, T: i32, C: i32): void {
  for (let n = 0; n < N; n++) {
    const tok = load<i32>(idx + <usize>n * 4);
    const e = wte + <usize>(tok * C) * 4;
    const p = wpe + <usize>((n % T) * C) * 4;
    const o = out + <usize>(n * C) * 4;
    let c = 0;
    for (; c + 4 <= C; c += 4) {
      const q = <usize>c * 4;
      v128.store(o + q, f32x4.add(v128.load(e + q), v128.load(p + q)));
    }
    for (; c < C; c++) store<f32>(o + <usize>c * 4, load<f32>(e + <usize>c * 4) + load<f32>(p + <usize>c * 4));
  }
}

/**
 * out = [d wte (V·C), d wpe (ctx·C)]: d wte = head + Σ of dx's rows by token; d wpe[t] = Σ over
 * the batch of dx's rows at position t (zero for t ≥ T).
 */
export function embedBackward(head: usize, dx: usize, idx: usize, out: usize, N: i32, T: i32, ctx: i32, V: i32, C: i32): void {
  memory.copy(out, head, <usize>(V * C) * 4);
  const dwpe = out + <usize>(V * C) * 4;
  zero(dwpe, ctx * C);
  for (let n = 0; n < N; n++) {
    const tok = load<i32>(idx + <usize>n * 4);
    const row = dx + <usize>(n * C) * 4;
    axpy(1.0, row, out + <usize>(tok * C) * 4, C);
    axpy(1.0, row, dwpe + <usize>((n % T) * C) * 4, C);
  }
}

/**
 * Softmax cross-entropy of logits (N, V) against int32 targets: out = [d mean loss / d logits
 * (N·V), the loss of each row (N)].
 */
export function crossEntropy(logits: usize, targets: usize, out: usize, N: i32, V: i32): void {
  const invN: f32 = 1.0 / <f32>N;
  for (let n = 0; n < N; n++) {
    const z = logits + <usize>(n * V) * 4;
    const d = out + <usize>(n * V) * 4;
    let mx: f32 = -Infinity;
    for (let v = 0; v < V; v++) mx = max(mx, load<f32>(z + <usize>v * 4));
    const sum = expInto(z, d, V, mx);
    const k = f32x4.splat(invN / sum);
    let v = 0;
    for (; v + 4 <= V; v += 4) v128.store(d + <usize>v * 4, f32x4.mul(v128.load(d + <usize>v * 4), k));
    for (; v < V; v++) store<f32>(d + <usize>v * 4, load<f32>(d + <usize>v * 4) * (invN / sum));
    const tgt = load<i32>(targets + <usize>n * 4);
    store<f32>(d + <usize>tgt * 4, load<f32>(d + <usize>tgt * 4) - invN);
    store<f32>(out + <usize>(N * V + n) * 4, mx + Mathf.log(sum) - load<f32>(z + <usize>tgt * 4));
  }
}

/** Σ of `count` floats at x, or of their squares. */
export function sum(x: usize, count: i32, squares: bool): f32 {
  let acc = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= count; i += 4) {
    const v = v128.load(x + <usize>i * 4);
    acc = f32x4.add(acc, squares ? f32x4.mul(v, v) : v);
  }
  let s = hsum(acc);
  for (; i < count; i++) {
    const v = load<f32>(x + <usize>i * 4);
    s += squares ? v * v : v;
  }
  return s;
}

/**
 * One AdamW step over state [θ, m, v] (3P) into out (3P), g clipped by coef = min(1, clip/(‖g‖ +
 * 1e-6)) (1 without clipping), decay on mask = 1:
 *   m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²; θ ← θ·(1 − lr·wd·mask) − lr·(m/bc1)/(√(v/bc2) + ε).
 */
export function adamW(state: usize, g: usize, mask: usize, out: usize, P: i32, lr: f32, beta1: f32, beta2: f32, eps: f32, wd: f32, bc1: f32, bc2: f32, coef: f32): void {
  const pb = <usize>P * 4;
  const b1 = f32x4.splat(beta1), nb1 = f32x4.splat(1 - beta1);
  const b2 = f32x4.splat(beta2), nb2 = f32x4.splat(1 - beta2);
  const ib1 = f32x4.splat(1 / bc1), ib2 = f32x4.splat(1 / bc2);
  const ev = f32x4.splat(eps), lrv = f32x4.splat(lr), dec = f32x4.splat(lr * wd), cv = f32x4.splat(coef);
  const one = f32x4.splat(1);
  let i = 0;
  for (; i + 4 <= P; i += 4) {
    const o = <usize>i * 4;
    const gi = f32x4.mul(v128.load(g + o), cv);
    const m = f32x4.add(f32x4.mul(b1, v128.load(state + pb + o)), f32x4.mul(nb1, gi));
    const v = f32x4.add(f32x4.mul(b2, v128.load(state + 2 * pb + o)), f32x4.mul(nb2, f32x4.mul(gi, gi)));
    const update = f32x4.div(f32x4.mul(m, ib1), f32x4.add(f32x4.sqrt(f32x4.mul(v, ib2)), ev));
    const p = f32x4.mul(v128.load(state + o), f32x4.sub(one, f32x4.mul(dec, v128.load(mask + o))));
    v128.store(out + o, f32x4.sub(p, f32x4.mul(lrv, update)));
    v128.store(out + pb + o, m);
    v128.store(out + 2 * pb + o, v);
  }
  for (; i < P; i++) {
    const o = <usize>i * 4;
    const gi = load<f32>(g + o) * coef;
    const m = beta1 * load<f32>(state + pb + o) + (1 - beta1) * gi;
    const v = beta2 * load<f32>(state + 2 * pb + o) + (1 - beta2) * gi * gi;
    const update = (m / bc1) / (Mathf.sqrt(v / bc2) + eps);
    const p = load<f32>(state + o) * (1 - lr * wd * load<f32>(mask + o));
    store<f32>(out + o, p - lr * update);
    store<f32>(out + pb + o, m);
    store<f32>(out + 2 * pb + o, v);
  }
}
