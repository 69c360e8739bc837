/**
 * WGSL programs of the fast path, in the shape tfjs-backend-webgpu 4.22 runs them
 * (`backend.runWebGPUProgram(program, inputs, dtype, uniforms)`): tfjs declares the output buffer
 * `result` (read_write), one read-only storage buffer per name in `variableNames`, and a uniform
 * struct holding its own fields followed by ours (`uniforms`); `getUserCode` supplies `main`.
 *
 * Every program here is written for fixed shapes baked into its source (and so into `shaderKey`):
 * one model compiles a few dozen pipelines once, and a training step dispatches about a hundred of
 * them. Offsets into the flat parameter buffer travel as uniforms, so one pipeline serves every layer.
 *
 * This module imports nothing from tfjs: it only builds program descriptions.
 */

export interface UniformValue {
  type: 'int32' | 'float32';
  data: number[];
}

/** What tfjs-backend-webgpu reads from a program object. */
export interface WebGPUProgramSpec {
  variableNames: string[];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  uniforms?: string;
  size?: boolean;
  getUserCode(): string;
}

/**
 * `main` as tfjs's shader wrapper calls it for a flat dispatch layout, opened. It touches the uniform
 * block, so the pipeline's automatic layout keeps that binding even in a program with no uniforms
 * of its own (tfjs always binds it).
 */
const MAIN = 'fn main(index : i32) {\n  _ = uniforms.NAN;';
/** The workgroup's number in a dispatch of any shape (tfjs may fold a long 1-D dispatch into 2-D). */
const WID = 'i32(workgroupId.z * numWorkgroups.x * numWorkgroups.y + workgroupId.y * numWorkgroups.x + workgroupId.x)';

/** GELU (tanh form) as x·σ(k·(x + 0.044715·x³)), k = 2·√(2/π), and its derivative. */
const GELU_WGSL = `
const GELU_K : f32 = ${(2 * Math.sqrt(2 / Math.PI)).toPrecision(9)};
fn sigm(z : f32) -> f32 { return 1.0 / (1.0 + exp(-clamp(z, -80.0, 80.0))); }
fn gelu(x : f32) -> f32 { return x * sigm(GELU_K * (x + 0.044715 * x * x * x)); }
fn geluGrad(x : f32) -> f32 {
  let s = sigm(GELU_K * (x + 0.044715 * x * x * x));
  return s + x * s * (1.0 - s) * GELU_K * (1.0 + 3.0 * 0.044715 * x * x);
}`;

/** Sum-reduces `red` (64 slots, one per thread) into red[0]; every thread must call it. */
const REDUCE64 = `
var<workgroup> red : array<f32, 64>;
fn reduce64(t : i32, v : f32) -> f32 {
  red[t] = v;
  workgroupBarrier();
  for (var s = 32; s > 0; s = s >> 1u) {
    if (t < s) { red[t] = red[t] + red[t + s]; }
    workgroupBarrier();
  }
  let total = red[0];
  workgroupBarrier();
  return total;
}
fn max64(t : i32, v : f32) -> f32 {
  red[t] = v;
  workgroupBarrier();
  for (var s = 32; s > 0; s = s >> 1u) {
    if (t < s) { red[t] = max(red[t], red[t + s]); }
    workgroupBarrier();
  }
  let total = red[0];
  workgroupBarrier();
  return total;
}`;

function ceilDiv(a: number, b: number): number {
  return Math.ceil(a / b);
}

function flat(outputShape: number[]): { x: number[] } {
  return { x: outputShape.map((_, i) => i) };
}

/** A program of `threads` invocations in workgroups of 64 along x, with a flat output layout. */
function threadsProgram(p: {
  key: string;
  variableNames: string[];
  outputShape: number[];
  threads: number;
  uniforms?: string;
  code: () => string;
}): WebGPUProgramSpec {
  return {
    variableNames: p.variableNames,
    outputShape: p.outputShape,
    shaderKey: `gptlab_${p.key}`,
    dispatchLayout: flat(p.outputShape),
    dispatch: [ceilDiv(p.threads, 64), 1, 1],
    workgroupSize: [64, 1, 1],
    ...(p.uniforms != null ? { uniforms: p.uniforms } : {}),
    getUserCode: p.code,
  };
}

// ---------------------------------------------------------------------------------------------
// Matrix product with epilogues.

/** How a GEMM reads one operand: a row-major matrix stored at `offset`, maybe read transposed. */
export interface GemmFlags {
  /** A is stored [K, M] and read transposed (otherwise stored [M, K]). */
  transA: boolean;
  /** B is stored [N, K] and read transposed (otherwise stored [K, N]). */
  transB: boolean;
  /** Apply GELU to A's elements as they are read. */
  geluA: boolean;
  /** Apply GELU to B's elements as they are read. */
  geluB: boolean;
  /** B gains a last column of ones: the product's last column is A's row sums (a bias gradient). */
  onesB: boolean;
  /** Add a bias vector (from the flat parameters, at a uniform offset) to every row. */
  bias: boolean;
  /** Add a residual matrix of the output's shape. */
  residual: boolean;
  /** Multiply by GELU'(u) elementwise, u a matrix of the output's shape (backward through GELU). */
  geluGrad: boolean;
  /**
   * Store the last column apart: the output is flat, the [M, N−1] block row-major then the last
   * column's M values. With `onesB` this is a Linear layer's weight gradient followed by its bias
   * gradient, exactly as the two lie in the flat parameter buffer.
   */
  splitLast: boolean;
}

/** Output tile (TILE×TILE), depth of each staged slice (BK); TILE/4 × TILE/4 threads, each 4×4 outputs. */
const TILE = 64;
const BK = 16;

/**
 * out = op(A)·op(B) (+ bias) (+ residual) (· GELU'(u)), M×N, accumulated over K in 64×64 tiles:
 * a 16×16 workgroup stages 16-deep slices of A and B in workgroup memory, laid out so each thread
 * reads its 4 rows of A and 4 columns of B as one vec4 each; it owns 4×4 outputs in four vec4
 * accumulators. Loops are unrolled as the source is generated, so no private array is indexed
 * dynamically.
 */
export function gemmProgram(M: number, N: number, K: number, f: GemmFlags, direct = false, splits = 1): WebGPUProgramSpec {
  if (direct) return gemmDirectProgram(M, N, K, f);
  const c = gemmCommon(M, N, K, f, splits);
  const chunk = splitKChunk(K, splits);
  const wg = TILE / 4;
  const threads = wg * wg;
  const q = TILE / 4; // vec4s per row of a staged slice
  // Load order: the index that walks memory contiguously varies fastest across threads.
  const aKFast = !f.transA;
  const bKFast = f.transB;
  const per = (TILE * BK) / threads;
  const loads: string[] = [];
  for (let i = 0; i < per; i++) {
    const e = `(lid + ${i * threads})`;
    const [am, ak] = aKFast ? [`${e} / ${BK}`, `${e} % ${BK}`] : [`${e} % ${TILE}`, `${e} / ${TILE}`];
    loads.push(`{ let mm = ${am}; let kk = ${ak}; As[kk * ${q} + mm / 4][mm % 4] = loadA(tileM + mm, k0 + kk); }`);
    const [bn, bk] = bKFast ? [`${e} / ${BK}`, `${e} % ${BK}`] : [`${e} % ${TILE}`, `${e} / ${TILE}`];
    loads.push(`{ let nn = ${bn}; let kk = ${bk}; Bs[kk * ${q} + nn / 4][nn % 4] = loadB(k0 + kk, tileN + nn); }`);
  }
  const stores: string[] = [];
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) stores.push(`store(kz, tileM + ty * 4 + ${i}, tileN + tx * 4 + ${j}, acc${i}.${'xyzw'[j]});`);
  return {
    variableNames: c.names,
    outputShape: c.outputShape,
    shaderKey: `gptlab_gemm_${M}_${N}_${K}_${splits}_${c.key}`,
    dispatchLayout: flat(c.outputShape),
    dispatch: [ceilDiv(N, TILE), ceilDiv(M, TILE), splits],
    workgroupSize: [wg, wg, 1],
    uniforms: 'aOff : i32, lda : i32, bOff : i32, ldb : i32, biasOff : i32,',
    getUserCode: () => `
${GELU_WGSL}
${c.loaders}
var<workgroup> As : array<vec4<f32>, ${(BK * TILE) / 4}>;
var<workgroup> Bs : array<vec4<f32>, ${(BK * TILE) / 4}>;
${MAIN}
  let tileN = i32(workgroupId.x) * ${TILE};
  let tileM = i32(workgroupId.y) * ${TILE};
  let tx = i32(localId.x);
  let ty = i32(localId.y);
  let lid = ty * ${wg} + tx;
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  // A constant trip count keeps the barriers in uniform control flow; slices past K load zeros.
  let kz = i32(workgroupId.z);
  for (var it = 0; it < ${chunk / BK}; it = it + 1) {
    let k0 = kz * ${chunk} + it * ${BK};
    ${loads.join('\n    ')}
    workgroupBarrier();
    for (var kk = 0; kk < ${BK}; kk = kk + 1) {
      let av = As[kk * ${q} + ty];
      let bv = Bs[kk * ${q} + tx];
      acc0 = acc0 + av.x * bv;
      acc1 = acc1 + av.y * bv;
      acc2 = acc2 + av.z * bv;
      acc3 = acc3 + av.w * bv;
    }
    workgroupBarrier();
  }
  ${stores.join('\n  ')}
}`,
  };
}

/** GELU of `count` values of x from a uniform offset: once per element, for a barrier-free product. */
export function geluProgram(count: number): WebGPUProgramSpec {
  return threadsProgram({
    key: `gelu_${count}`,
    variableNames: ['x'],
    outputShape: [count],
    threads: count,
    uniforms: 'off : i32,',
    code: () => `
${GELU_WGSL}
${MAIN}
  if (index >= ${count}) { return; }
  result[index] = gelu(x[uniforms.off + index]);
}`,
  });
}

/**
 * Split-K: a product with few output tiles and a long inner dimension (a weight gradient sums over
 * every row of the batch: K = B·T) leaves most of a large GPU idle, so its K range is cut into
 * `splits` chunks, each summed by its own workgroups into a partial result, and `splitKSumProgram`
 * adds the partials. Chunks are whole BK-deep slices.
 */
export function splitKChunk(K: number, splits: number): number {
  return Math.ceil(K / splits / BK) * BK;
}

/** How many K chunks `gemm` uses for a tiled product of this size: 1 unless the split pays. */
export function gemmSplits(M: number, N: number, K: number): number {
  const tiles = ceilDiv(M, TILE) * ceilDiv(N, TILE);
  if (K < 4096 || tiles >= 256) return 1;
  const wanted = Math.min(16, Math.floor(K / 1024), ceilDiv(512, tiles));
  return wanted < 2 ? 1 : ceilDiv(K, splitKChunk(K, wanted));
}

/** Sums `splits` partial results of `size` values each (laid out one after another). */
export function splitKSumProgram(size: number, splits: number): WebGPUProgramSpec {
  const outputShape = [size];
  return threadsProgram({
    key: `splitk_${size}_${splits}`,
    variableNames: ['parts'],
    outputShape,
    threads: size,
    code: () => `
${MAIN}
  let i = ${WID} * 64 + i32(localId.x);
  if (i >= ${size}) { return; }
  var s = 0.0;
  for (var z = 0; z < ${splits}; z = z + 1) { s = s + parts[z * ${size} + i]; }
  result[i] = s;
}`,
  });
}

/**
 * The parts of a GEMM shader both variants share: operand loaders and the epilogue of one output.
 * With `splits` > 1 (split-K), `store` writes chunk z's partial sums at z·M·N, without epilogues.
 */
function gemmCommon(M: number, N: number, K: number, f: GemmFlags, splits = 1) {
  const partial = splits > 1;
  const names = ['a', 'b'];
  if (f.bias) names.push('bias');
  if (f.residual) names.push('res');
  if (f.geluGrad) names.push('gu');
  const bCols = f.onesB ? N - 1 : N;
  const aAt = f.transA ? '(k * uniforms.lda + m)' : '(m * uniforms.lda + k)';
  const bAt = f.transB ? '(n * uniforms.ldb + k)' : '(k * uniforms.ldb + n)';
  const key = Object.entries(f)
    .map(([k, v]) => (v ? k : ''))
    .join('');
  const loaders = `
fn loadA(m : i32, k : i32) -> f32 {
  if (m < ${M} && k < ${K}) {
    let v = a[uniforms.aOff + ${aAt}];
    return ${f.geluA ? 'gelu(v)' : 'v'};
  }
  return 0.0;
}
fn loadB(k : i32, n : i32) -> f32 {
  if (k < ${K}) {
    if (n < ${bCols}) {
      let v = b[uniforms.bOff + ${bAt}];
      return ${f.geluB ? 'gelu(v)' : 'v'};
    }
    ${f.onesB ? `if (n == ${bCols}) { return 1.0; }` : ''}
  }
  return 0.0;
}
fn store(z : i32, m : i32, n : i32, value : f32) {
  if (m < ${M} && n < ${N}) {
    var v = value;
    let zo = ${partial ? `z * ${M * N}` : '0'};
    ${f.bias ? 'v = v + bias[uniforms.biasOff + n];' : ''}
    ${f.residual ? `v = v + res[m * ${N} + n];` : ''}
    ${f.geluGrad ? `v = v * geluGrad(gu[m * ${N} + n]);` : ''}
    ${
      f.splitLast
        ? `if (n == ${N - 1}) { result[zo + ${M * (N - 1)} + m] = v; } else { result[zo + m * ${N - 1} + n] = v; }`
        : `result[zo + m * ${N} + n] = v;`
    }
  }
}`;
  if (partial && (f.bias || f.residual || f.geluGrad)) throw new Error('gemm: split-K partial sums take no epilogue');
  return { names, key, loaders, outputShape: partial ? [splits * M * N] : f.splitLast ? [M * N] : [M, N] };
}

/** The barrier-free GEMM's register tile (rows × columns per thread) and its unrolled K step. */
const DIRECT_TM = 8;
const DIRECT_TN = 8;
const DIRECT_KU = 4;

/**
 * The GEMM without workgroup memory or barriers, for software Vulkan (SwiftShader). There every
 * thread is a lane of a 4-wide vector; each load with a computed address is a gather with a bounds
 * check, a branch around a load masks every lane, and a loop stores its live values back under
 * a mask on each turn. So each thread owns an 8×8 block of outputs (64 multiply-adds per 16 loads),
 * K is unrolled by 4 (one masked turn per 4·64 multiply-adds), and no load sits behind a branch:
 * rows and columns past the edge are clamped to the last one and their results never stored. The
 * ones column (`onesB`) is A's row sums, added up beside the products.
 */
function gemmDirectProgram(M: number, N: number, K: number, f: GemmFlags): WebGPUProgramSpec {
  const c = gemmCommon(M, N, K, f);
  const bCols = f.onesB ? N - 1 : N;
  const nb = ceilDiv(N, DIRECT_TN);
  const blocks = ceilDiv(M, DIRECT_TM) * nb;
  const rows = Array.from({ length: DIRECT_TM }, (_, i) => i);
  const cols = Array.from({ length: DIRECT_TN }, (_, j) => j);
  const lines: string[] = [];
  for (const i of rows) {
    const m = `min(m0 + ${i}, ${M - 1})`;
    lines.push(`let ra${i} = uniforms.aOff + ${f.transA ? m : `${m} * uniforms.lda`};`);
  }
  for (const j of cols) {
    const n = `min(n0 + ${j}, ${Math.max(bCols - 1, 0)})`;
    lines.push(`let cb${j} = uniforms.bOff + ${f.transB ? `${n} * uniforms.ldb` : n};`);
  }
  for (const i of rows) {
    lines.push(cols.map((j) => `var c${i}_${j} = 0.0;`).join(' ') + (f.onesB ? ` var s${i} = 0.0;` : ''));
  }
  const step = (k: string): string => {
    const out: string[] = [];
    for (const j of cols) {
      const v = `b[cb${j} + ${f.transB ? k : `(${k}) * uniforms.ldb`}]`;
      out.push(`let b${j} = ${f.geluB ? `gelu(${v})` : v};`);
    }
    for (const i of rows) {
      const v = `a[ra${i} + ${f.transA ? `(${k}) * uniforms.lda` : k}]`;
      const fmas = cols.map((j) => `c${i}_${j} = c${i}_${j} + a${i} * b${j};`).join(' ');
      out.push(`{ let a${i} = ${f.geluA ? `gelu(${v})` : v}; ${fmas}${f.onesB ? ` s${i} = s${i} + a${i};` : ''} }`);
    }
    return `{\n    ${out.join('\n    ')}\n  }`;
  };
  const kMain = K - (K % DIRECT_KU);
  const unrolled = Array.from({ length: DIRECT_KU }, (_, u) => step(`k + ${u}`)).join('\n  ');
  const tail = Array.from({ length: K - kMain }, (_, u) => step(`${kMain + u}`)).join('\n  ');
  const stores: string[] = [];
  for (const i of rows) {
    for (const j of cols) {
      const v = f.onesB ? `select(c${i}_${j}, s${i}, n0 + ${j} == ${bCols})` : `c${i}_${j}`;
      stores.push(`store(0, m0 + ${i}, n0 + ${j}, ${v});`);
    }
  }
  return {
    variableNames: c.names,
    outputShape: c.outputShape,
    shaderKey: `gptlab_gemmd_${M}_${N}_${K}_${c.key}`,
    dispatchLayout: flat(c.outputShape),
    dispatch: [ceilDiv(blocks, 64), 1, 1],
    workgroupSize: [64, 1, 1],
    uniforms: 'aOff : i32, lda : i32, bOff : i32, ldb : i32, biasOff : i32,',
    getUserCode: () => `
${GELU_WGSL}
${c.loaders}
${MAIN}
  let g = ${WID} * 64 + i32(localId.x);
  if (g >= ${blocks}) { return; }
  let m0 = (g / ${nb}) * ${DIRECT_TM};
  let n0 = (g % ${nb}) * ${DIRECT_TN};
  ${lines.join('\n  ')}
  for (var k = 0; k < ${kMain}; k = k + ${DIRECT_KU}) {
  ${unrolled}
  }
  ${tail}
  ${stores.join('\n  ')}
}`,
  };
}

// ---------------------------------------------------------------------------------------------
// LayerNorm.

/**
 * LayerNorm of each row of x (R, C) with ε = 1e-5 and the scale and shift at uniform offsets into the
 * flat parameters. Output: R·C normalised values, then R means, then R reciprocal deviations (the
 * backward pass reads them). One 64-thread workgroup per row.
 */
export function layerNormProgram(R: number, C: number, direct = false): WebGPUProgramSpec {
  const outputShape = [R * C + 2 * R];
  if (direct) {
    return {
      variableNames: ['x', 'theta'],
      outputShape,
      shaderKey: `gptlab_lnd_${R}_${C}`,
      dispatchLayout: flat(outputShape),
      dispatch: [ceilDiv(R, 64), 1, 1],
      workgroupSize: [64, 1, 1],
      uniforms: 'gOff : i32, bOff : i32,',
      getUserCode: () => `
${MAIN}
  let row = ${WID} * 64 + i32(localId.x);
  if (row >= ${R}) { return; }
  var s = 0.0;
  for (var c = 0; c < ${C}; c = c + 1) { s = s + x[row * ${C} + c]; }
  let mean = s / ${C}.0;
  var s2 = 0.0;
  for (var c = 0; c < ${C}; c = c + 1) { let d = x[row * ${C} + c] - mean; s2 = s2 + d * d; }
  let rstd = inverseSqrt(s2 / ${C}.0 + 1e-5);
  for (var c = 0; c < ${C}; c = c + 1) {
    result[row * ${C} + c] = (x[row * ${C} + c] - mean) * rstd * theta[uniforms.gOff + c] + theta[uniforms.bOff + c];
  }
  result[${R * C} + row] = mean;
  result[${R * C + R} + row] = rstd;
}`,
    };
  }
  return {
    variableNames: ['x', 'theta'],
    outputShape,
    shaderKey: `gptlab_ln_${R}_${C}`,
    dispatchLayout: flat(outputShape),
    dispatch: [R, 1, 1],
    workgroupSize: [64, 1, 1],
    uniforms: 'gOff : i32, bOff : i32,',
    getUserCode: () => `
${REDUCE64}
${MAIN}
  let row = ${WID};
  let t = i32(localId.x);
  var s = 0.0;
  for (var c = t; c < ${C}; c = c + 64) { s = s + x[row * ${C} + c]; }
  let mean = reduce64(t, s) / ${C}.0;
  var s2 = 0.0;
  for (var c = t; c < ${C}; c = c + 64) { let d = x[row * ${C} + c] - mean; s2 = s2 + d * d; }
  let rstd = inverseSqrt(reduce64(t, s2) / ${C}.0 + 1e-5);
  for (var c = t; c < ${C}; c = c + 64) {
    result[row * ${C} + c] = (x[row * ${C} + c] - mean) * rstd * theta[uniforms.gOff + c] + theta[uniforms.bOff + c];
  }
  if (t == 0) {
    result[${R * C} + row] = mean;
    result[${R * C + R} + row] = rstd;
  }
}`,
  };
}

/**
 * LayerNorm's input gradient, plus an optional residual gradient `dres`:
 *   x̂ = (x − μ)·r,  g = dy·γ,  dx = r·(g − mean(g) − x̂·mean(g·x̂)) (+ dres)
 */
export function layerNormBackwardProgram(R: number, C: number, withResidual: boolean, direct = false): WebGPUProgramSpec {
  const outputShape = [R, C];
  const names = ['dy', 'x', 'ln', 'theta'];
  if (withResidual) names.push('dres');
  if (direct) {
    return {
      variableNames: names,
      outputShape,
      shaderKey: `gptlab_lnbd_${R}_${C}_${withResidual}`,
      dispatchLayout: flat(outputShape),
      dispatch: [ceilDiv(R, 64), 1, 1],
      workgroupSize: [64, 1, 1],
      uniforms: 'gOff : i32,',
      getUserCode: () => `
${MAIN}
  let row = ${WID} * 64 + i32(localId.x);
  if (row >= ${R}) { return; }
  let mean = ln[${R * C} + row];
  let rstd = ln[${R * C + R} + row];
  var s1 = 0.0;
  var s2 = 0.0;
  for (var c = 0; c < ${C}; c = c + 1) {
    let i = row * ${C} + c;
    let g = dy[i] * theta[uniforms.gOff + c];
    s1 = s1 + g;
    s2 = s2 + g * (x[i] - mean) * rstd;
  }
  let m1 = s1 / ${C}.0;
  let m2 = s2 / ${C}.0;
  for (var c = 0; c < ${C}; c = c + 1) {
    let i = row * ${C} + c;
    let g = dy[i] * theta[uniforms.gOff + c];
    let xh = (x[i] - mean) * rstd;
    result[i] = rstd * (g - m1 - xh * m2)${withResidual ? ' + dres[i]' : ''};
  }
}`,
    };
  }
  return {
    variableNames: names,
    outputShape,
    shaderKey: `gptlab_lnb_${R}_${C}_${withResidual}`,
    dispatchLayout: flat(outputShape),
    dispatch: [R, 1, 1],
    workgroupSize: [64, 1, 1],
    uniforms: 'gOff : i32,',
    getUserCode: () => `
${REDUCE64}
${MAIN}
  let row = ${WID};
  let t = i32(localId.x);
  let mean = ln[${R * C} + row];
  let rstd = ln[${R * C + R} + row];
  var s1 = 0.0;
  var s2 = 0.0;
  for (var c = t; c < ${C}; c = c + 64) {
    let i = row * ${C} + c;
    let g = dy[i] * theta[uniforms.gOff + c];
    s1 = s1 + g;
    s2 = s2 + g * (x[i] - mean) * rstd;
  }
  let m1 = reduce64(t, s1) / ${C}.0;
  let m2 = reduce64(t, s2) / ${C}.0;
  for (var c = t; c < ${C}; c = c + 64) {
    let i = row * ${C} + c;
    let g = dy[i] * theta[uniforms.gOff + c];
    let xh = (x[i] - mean) * rstd;
    result[i] = rstd * (g - m1 - xh * m2)${withResidual ? ' + dres[i]' : ''};
  }
}`,
  };
}

/**
 * LayerNorm's parameter gradients, [dγ (C), dβ (C)] as they lie in the flat buffer:
 * dγ = Σ_rows dy·x̂, dβ = Σ_rows dy. A workgroup covers 16 columns with 16 lanes of rows.
 */
export function layerNormParamGradProgram(R: number, C: number): WebGPUProgramSpec {
  const outputShape = [2 * C];
  return {
    variableNames: ['dy', 'x', 'ln'],
    outputShape,
    shaderKey: `gptlab_lnp_${R}_${C}`,
    dispatchLayout: flat(outputShape),
    dispatch: [ceilDiv(C, 16), 1, 1],
    workgroupSize: [16, 16, 1],
    getUserCode: () => `
var<workgroup> sg : array<f32, 256>;
var<workgroup> sb : array<f32, 256>;
${MAIN}
  let c = i32(workgroupId.x) * 16 + i32(localId.x);
  let lane = i32(localId.y);
  var ag = 0.0;
  var ab = 0.0;
  if (c < ${C}) {
    for (var r = lane; r < ${R}; r = r + 16) {
      let d = dy[r * ${C} + c];
      ag = ag + d * (x[r * ${C} + c] - ln[${R * C} + r]) * ln[${R * C + R} + r];
      ab = ab + d;
    }
  }
  let slot = lane * 16 + i32(localId.x);
  sg[slot] = ag;
  sb[slot] = ab;
  workgroupBarrier();
  if (lane == 0 && c < ${C}) {
    var tg = 0.0;
    var tb = 0.0;
    for (var l = 0; l < 16; l = l + 1) {
      tg = tg + sg[l * 16 + i32(localId.x)];
      tb = tb + sb[l * 16 + i32(localId.x)];
    }
    result[c] = tg;
    result[${C} + c] = tb;
  }
}`,
  };
}

// ---------------------------------------------------------------------------------------------
// Attention.

export interface AttentionShape {
  B: number;
  T: number;
  heads: number;
  C: number;
}

/** The opening of an attention program with one thread per (batch b, head h, position t). */
function perPositionThread(rows: number, T: number, heads: number): string {
  return `
  let g = ${WID} * 64 + i32(localId.x);
  if (g >= ${rows}) { return; }
  let t = g % ${T};
  let bh = g / ${T};
  let h = bh % ${heads};
  let b = bh / ${heads};`;
}

/**
 * Causal self-attention from the fused projection qkv (B·T, 3C): for each (batch, head, query)
 * one thread walks the keys it may see with an online softmax (running max and sum), so the T×T
 * scores are never stored. Output: y (B·T, C) with heads side by side, then the log-sum-exp of
 * each score row (B·nh·T), which the backward pass uses to rebuild the probabilities.
 */
export function attentionProgram(s: AttentionShape, direct = false): WebGPUProgramSpec {
  const { B, T, heads, C } = s;
  const hs = C / heads;
  const rows = B * heads * T;
  const outputShape = [B * T * C + rows];
  const scale = 1 / Math.sqrt(hs);
  if (direct && hs % 4 === 0) return attentionUnrolledProgram(s, outputShape);
  return threadsProgram({
    key: `attn_${B}_${T}_${heads}_${C}`,
    variableNames: ['qkv'],
    outputShape,
    threads: rows,
    code: () => `
${MAIN}${perPositionThread(rows, T, heads)}
  let qBase = (b * ${T} + t) * ${3 * C} + h * ${hs};
  var q : array<f32, ${hs}>;
  var acc : array<f32, ${hs}>;
  for (var d = 0; d < ${hs}; d = d + 1) { q[d] = qkv[qBase + d] * ${scale}; acc[d] = 0.0; }
  var mx = -1e30;
  var l = 0.0;
  for (var j = 0; j <= t; j = j + 1) {
    let kBase = (b * ${T} + j) * ${3 * C} + ${C} + h * ${hs};
    var sc = 0.0;
    for (var d = 0; d < ${hs}; d = d + 1) { sc = sc + q[d] * qkv[kBase + d]; }
    let mNew = max(mx, sc);
    let corr = exp(mx - mNew);
    let p = exp(sc - mNew);
    l = l * corr + p;
    for (var d = 0; d < ${hs}; d = d + 1) { acc[d] = acc[d] * corr + p * qkv[kBase + ${C} + d]; }
    mx = mNew;
  }
  let yBase = (b * ${T} + t) * ${C} + h * ${hs};
  for (var d = 0; d < ${hs}; d = d + 1) { result[yBase + d] = acc[d] / l; }
  result[${B * T * C} + g] = mx + log(l);
}`,
  });
}

/**
 * The same attention with the head held in vec4 variables and every loop over the head unrolled as
 * the source is generated, for SwiftShader: there a private array indexed in a loop is a gather and
 * a masked scatter on every access, and the loop's bookkeeping costs as much as its arithmetic.
 */
function attentionUnrolledProgram(s: AttentionShape, outputShape: number[]): WebGPUProgramSpec {
  const { B, T, heads, C } = s;
  const hs = C / heads;
  const rows = B * heads * T;
  const scale = 1 / Math.sqrt(hs);
  const lanes = Array.from({ length: hs / 4 }, (_, i) => i);
  const ld = (base: string) => `vec4<f32>(qkv[${base}], qkv[${base} + 1], qkv[${base} + 2], qkv[${base} + 3])`;
  return threadsProgram({
    key: `attnu_${B}_${T}_${heads}_${C}`,
    variableNames: ['qkv'],
    outputShape,
    threads: rows,
    code: () => `
${MAIN}${perPositionThread(rows, T, heads)}
  let qb = (b * ${T} + t) * ${3 * C} + h * ${hs};
  ${lanes.map((i) => `let q${i} = ${ld(`qb + ${4 * i}`)} * ${scale};`).join('\n  ')}
  ${lanes.map((i) => `var acc${i} = vec4<f32>(0.0);`).join('\n  ')}
  var mx = -1e30;
  var l = 0.0;
  for (var j = 0; j <= t; j = j + 1) {
    let kb = (b * ${T} + j) * ${3 * C} + ${C} + h * ${hs};
    let sc = ${lanes.map((i) => `dot(q${i}, ${ld(`kb + ${4 * i}`)})`).join(' + ')};
    let mNew = max(mx, sc);
    let corr = exp(mx - mNew);
    let p = exp(sc - mNew);
    l = l * corr + p;
    ${lanes.map((i) => `acc${i} = acc${i} * corr + p * ${ld(`kb + ${C + 4 * i}`)};`).join('\n    ')}
    mx = mNew;
  }
  let yb = (b * ${T} + t) * ${C} + h * ${hs};
  ${lanes.map((i) => [0, 1, 2, 3].map((c) => `result[yb + ${4 * i + c}] = acc${i}.${'xyzw'[c]} / l;`).join(' ')).join('\n  ')}
  result[${B * T * C} + g] = mx + log(l);
}`,
  });
}

/**
 * Attention's backward pass into the fused projection's gradient dqkv (B·T, 3C). With
 * P = exp(S − lse), Dᵢ = dyᵢ·yᵢ and dSᵢⱼ = Pᵢⱼ·(dyᵢ·vⱼ − Dᵢ), one thread per (batch, head, position t)
 * writes dq_t = scale·Σ_{j≤t} dS_tj·k_j, dk_t = scale·Σ_{i≥t} dS_it·q_i and dv_t = Σ_{i≥t} P_it·dy_i.
 */
export function attentionBackwardProgram(s: AttentionShape): WebGPUProgramSpec {
  const { B, T, heads, C } = s;
  const hs = C / heads;
  const rows = B * heads * T;
  const outputShape = [B * T, 3 * C];
  const scale = 1 / Math.sqrt(hs);
  return threadsProgram({
    key: `attnb_${B}_${T}_${heads}_${C}`,
    variableNames: ['qkv', 'att', 'dy'],
    outputShape,
    threads: rows,
    code: () => `
fn rowBase(b : i32, i : i32) -> i32 { return (b * ${T} + i) * ${3 * C}; }
${MAIN}${perPositionThread(rows, T, heads)}
  let ho = h * ${hs};
  var qt : array<f32, ${hs}>;
  var kt : array<f32, ${hs}>;
  var vt : array<f32, ${hs}>;
  var dyt : array<f32, ${hs}>;
  var dq : array<f32, ${hs}>;
  var dk : array<f32, ${hs}>;
  var dv : array<f32, ${hs}>;
  var Dt = 0.0;
  for (var d = 0; d < ${hs}; d = d + 1) {
    qt[d] = qkv[rowBase(b, t) + ho + d];
    kt[d] = qkv[rowBase(b, t) + ${C} + ho + d];
    vt[d] = qkv[rowBase(b, t) + ${2 * C} + ho + d];
    dyt[d] = dy[(b * ${T} + t) * ${C} + ho + d];
    Dt = Dt + dyt[d] * att[(b * ${T} + t) * ${C} + ho + d];
    dq[d] = 0.0; dk[d] = 0.0; dv[d] = 0.0;
  }
  let lseT = att[${B * T * C} + g];
  for (var j = 0; j <= t; j = j + 1) {
    let kb = rowBase(b, j) + ${C} + ho;
    var sc = 0.0;
    var dp = 0.0;
    for (var d = 0; d < ${hs}; d = d + 1) {
      sc = sc + qt[d] * qkv[kb + d];
      dp = dp + dyt[d] * qkv[kb + ${C} + d];
    }
    let p = exp(sc * ${scale} - lseT);
    let ds = p * (dp - Dt);
    for (var d = 0; d < ${hs}; d = d + 1) { dq[d] = dq[d] + ds * qkv[kb + d]; }
  }
  for (var i = ${T - 1}; i >= t; i = i - 1) {
    let qb = rowBase(b, i) + ho;
    let yb = (b * ${T} + i) * ${C} + ho;
    var sc = 0.0;
    var dp = 0.0;
    var Di = 0.0;
    for (var d = 0; d < ${hs}; d = d + 1) {
      let dyi = dy[yb + d];
      sc = sc + qkv[qb + d] * kt[d];
      dp = dp + dyi * vt[d];
      Di = Di + dyi * att[yb + d];
    }
    let p = exp(sc * ${scale} - att[${B * T * C} + g - t + i]);
    let ds = p * (dp - Di);
    for (var d = 0; d < ${hs}; d = d + 1) {
      dk[d] = dk[d] + ds * qkv[qb + d];
      dv[d] = dv[d] + p * dy[yb + d];
    }
  }
  let ob = (b * ${T} + t) * ${3 * C} + ho;
  for (var d = 0; d < ${hs}; d = d + 1) {
    result[ob + d] = dq[d] * ${scale};
    result[ob + ${C} + d] = dk[d] * ${scale};
    result[ob + ${2 * C} + d] = dv[d];
  }
}`,
  });
}

/**
 * Attention's backward pass in three programs, for head sizes that are a multiple of 4 (the one above
 * serves the rest). One thread per (batch, head, position) as above, but each program keeps only
 * three rows of the head in registers (vec4 variables, the loops over the head unrolled as the source
 * is generated), where the single program keeps seven and spills them to memory on a real GPU.
 * Loops over the other positions run so that, at each iteration, every thread of a workgroup reads
 * the same row (j upwards from 0, i downwards from T − 1): one broadcast load instead of 64 rows.
 *
 *  1. dq_t = scale·Σ_{j≤t} dS_tj·k_j, with D_t = dy_t·y_t stored after dq for the next program;
 *  2. dk_t = scale·Σ_{i≥t} dS_it·q_i;
 *  3. dv_t = Σ_{i≥t} P_it·dy_i, written with dq and dk into dqkv (B·T, 3C).
 */
export function attentionBackwardSplitPrograms(s: AttentionShape): [WebGPUProgramSpec, WebGPUProgramSpec, WebGPUProgramSpec] {
  const { B, T, heads, C } = s;
  const hs = C / heads;
  if (hs % 4 !== 0) throw new Error(`attentionBackwardSplitPrograms: head size ${hs} is not a multiple of 4`);
  const H4 = hs / 4;
  const rows = B * heads * T;
  const scale = 1 / Math.sqrt(hs);
  const lanes = Array.from({ length: H4 }, (_, i) => i);
  const key = `${B}_${T}_${heads}_${C}`;
  /** Declares name0…name(H4−1) as vec4 variables, each set from `init(i)`. */
  const declare = (name: string, init: (i: number) => string) => lanes.map((i) => `var ${name}${i} = ${init(i)};`).join('\n  ');
  /** Σ over the head of dot(name_i, load(base + 4i)). */
  const dotWith = (name: string, load: string, base: string) => lanes.map((i) => `dot(${name}${i}, ${load}(${base} + ${4 * i}))`).join(' + ');
  /** name_i += f · load(base + 4i). */
  const axpy = (name: string, f: string, load: string, base: string) => lanes.map((i) => `${name}${i} = ${name}${i} + ${f} * ${load}(${base} + ${4 * i});`).join('\n    ');
  /** Writes name_i · f to buffer positions base + 4i … */
  const store = (name: string, f: string, base: string) =>
    lanes.map((i) => [0, 1, 2, 3].map((c) => `result[${base} + ${4 * i + c}] = ${name}${i}.${'xyzw'[c]}${f};`).join(' ')).join('\n  ');
  const head = `${perPositionThread(rows, T, heads)}
  let ho = h * ${hs};`;
  const loaders = (names: string[]) =>
    names.map((n) => `fn ld_${n}(i : i32) -> vec4<f32> { return vec4<f32>(${n}[i], ${n}[i + 1], ${n}[i + 2], ${n}[i + 3]); }`).join('\n');
  const spec = (name: string, variableNames: string[], outputShape: number[], body: string): WebGPUProgramSpec => ({
    variableNames,
    outputShape,
    shaderKey: `gptlab_attnb_${name}_${key}`,
    dispatchLayout: flat(outputShape),
    dispatch: [ceilDiv(rows, 64), 1, 1],
    workgroupSize: [64, 1, 1],
    getUserCode: () => `
${loaders(variableNames)}
fn rowBase(b : i32, i : i32) -> i32 { return (b * ${T} + i) * ${3 * C}; }
${MAIN}${head}
${body}
}`,
  });
  // 1. dq (and D): this thread's q_t and dy_t stay in registers; k_j and v_j are read as the loop walks.
  const dq = spec(
    'dq',
    ['qkv', 'att', 'dy'],
    [B * T * C + rows],
    `
  let qb = rowBase(b, t) + ho;
  let yb = (b * ${T} + t) * ${C} + ho;
  ${declare('q', (i) => `ld_qkv(qb + ${4 * i})`)}
  ${declare('dyv', (i) => `ld_dy(yb + ${4 * i})`)}
  ${declare('acc', () => 'vec4<f32>(0.0)')}
  let Dt = ${dotWith('dyv', 'ld_att', 'yb')};
  let lseT = att[${B * T * C} + g];
  for (var j = 0; j <= t; j = j + 1) {
    let kb = rowBase(b, j) + ${C} + ho;
    let p = exp((${dotWith('q', 'ld_qkv', 'kb')}) * ${scale} - lseT);
    let ds = p * ((${dotWith('dyv', 'ld_qkv', `kb + ${C}`)}) - Dt);
    ${axpy('acc', 'ds', 'ld_qkv', 'kb')}
  }
  ${store('acc', ` * ${scale}`, 'yb')}
  result[${B * T * C} + g] = Dt;`,
  );
  // 2. dk: this thread's k_t and v_t stay in registers; q_i, dy_i, lse_i and D_i are read.
  const dk = spec(
    'dk',
    ['qkv', 'att', 'dy', 'dqd'],
    [B * T * C],
    `
  let kb = rowBase(b, t) + ${C} + ho;
  ${declare('k', (i) => `ld_qkv(kb + ${4 * i})`)}
  ${declare('v', (i) => `ld_qkv(kb + ${C + 4 * i})`)}
  ${declare('acc', () => 'vec4<f32>(0.0)')}
  let rowT = g - t;
  for (var i = ${T - 1}; i >= t; i = i - 1) {
    let qb = rowBase(b, i) + ho;
    let yb = (b * ${T} + i) * ${C} + ho;
    let p = exp((${dotWith('k', 'ld_qkv', 'qb')}) * ${scale} - att[${B * T * C} + rowT + i]);
    let ds = p * ((${dotWith('v', 'ld_dy', 'yb')}) - dqd[${B * T * C} + rowT + i]);
    ${axpy('acc', 'ds', 'ld_qkv', 'qb')}
  }
  ${store('acc', ` * ${scale}`, `(b * ${T} + t) * ${C} + ho`)}`,
  );
  // 3. dv, then dq, dk and dv together into dqkv.
  const dv = spec(
    'dv',
    ['qkv', 'att', 'dy', 'dqd', 'dkb'],
    [B * T, 3 * C],
    `
  let kb = rowBase(b, t) + ${C} + ho;
  ${declare('k', (i) => `ld_qkv(kb + ${4 * i})`)}
  ${declare('acc', () => 'vec4<f32>(0.0)')}
  let rowT = g - t;
  for (var i = ${T - 1}; i >= t; i = i - 1) {
    let qb = rowBase(b, i) + ho;
    let p = exp((${dotWith('k', 'ld_qkv', 'qb')}) * ${scale} - att[${B * T * C} + rowT + i]);
    ${axpy('acc', 'p', 'ld_dy', `(b * ${T} + i) * ${C} + ho`)}
  }
  let own = (b * ${T} + t) * ${C} + ho;
  let ob = rowBase(b, t) + ho;
  for (var d = 0; d < ${hs}; d = d + 1) {
    result[ob + d] = dqd[own + d];
    result[ob + ${C} + d] = dkb[own + d];
  }
  ${store('acc', '', `ob + ${2 * C}`)}`,
  );
  return [dq, dk, dv];
}

// ---------------------------------------------------------------------------------------------
// Embeddings, cross-entropy, reductions, AdamW.

/** x (N, C) = wte[idx] + wpe[position], both read from the flat parameters. */
export function embedProgram(N: number, T: number, C: number): WebGPUProgramSpec {
  const outputShape = [N, C];
  return threadsProgram({
    key: `embed_${N}_${T}_${C}`,
    variableNames: ['idx', 'theta'],
    outputShape,
    threads: N * C,
    uniforms: 'wteOff : i32, wpeOff : i32,',
    code: () => `
${MAIN}
  if (index >= ${N * C}) { return; }
  let n = index / ${C};
  let c = index % ${C};
  result[index] = theta[uniforms.wteOff + idx[n] * ${C} + c] + theta[uniforms.wpeOff + (n % ${T}) * ${C} + c];
}`,
  });
}

/**
 * The gradient of wte and wpe as one block [V·C + ctx·C]: wte's is the tied head's (given) plus the
 * embedding's scatter Σ_{n: idx[n]=v} dx[n]; wpe's row t is Σ_b dx[b·T + t] (rows t ≥ T stay zero).
 */
export function embedBackwardProgram(N: number, T: number, ctx: number, V: number, C: number): WebGPUProgramSpec {
  const total = V * C + ctx * C;
  const outputShape = [total];
  return threadsProgram({
    key: `embedb_${N}_${T}_${ctx}_${V}_${C}`,
    variableNames: ['head', 'dx', 'idx'],
    outputShape,
    threads: total,
    code: () => `
${MAIN}
  if (index >= ${total}) { return; }
  if (index < ${V * C}) {
    let v = index / ${C};
    let c = index % ${C};
    var acc = head[index];
    for (var n = 0; n < ${N}; n = n + 1) {
      if (idx[n] == v) { acc = acc + dx[n * ${C} + c]; }
    }
    result[index] = acc;
  } else {
    let e = index - ${V * C};
    let t = e / ${C};
    let c = e % ${C};
    var acc = 0.0;
    if (t < ${T}) {
      for (var b = 0; b < ${N / T}; b = b + 1) { acc = acc + dx[(b * ${T} + t) * ${C} + c]; }
    }
    result[index] = acc;
  }
}`,
  });
}

/**
 * Softmax cross-entropy against integer targets, without a one-hot: per row n, lse = log Σ exp(z),
 * loss_n = lse − z[target]. Output: the gradient of the mean loss, (softmax − onehot)/N (N·V values),
 * then the N row losses.
 */
export function crossEntropyProgram(N: number, V: number, direct = false): WebGPUProgramSpec {
  const outputShape = [N * V + N];
  if (direct) {
    return {
      variableNames: ['logits', 'targets'],
      outputShape,
      shaderKey: `gptlab_ced_${N}_${V}`,
      dispatchLayout: flat(outputShape),
      dispatch: [ceilDiv(N, 64), 1, 1],
      workgroupSize: [64, 1, 1],
      getUserCode: () => `
${MAIN}
  let row = ${WID} * 64 + i32(localId.x);
  if (row >= ${N}) { return; }
  var mx = -1e30;
  for (var v = 0; v < ${V}; v = v + 1) { mx = max(mx, logits[row * ${V} + v]); }
  var s = 0.0;
  for (var v = 0; v < ${V}; v = v + 1) { s = s + exp(logits[row * ${V} + v] - mx); }
  let lse = mx + log(s);
  let tgt = targets[row];
  for (var v = 0; v < ${V}; v = v + 1) {
    let p = exp(logits[row * ${V} + v] - lse);
    result[row * ${V} + v] = (p - select(0.0, 1.0, v == tgt)) * ${1 / N};
  }
  result[${N * V} + row] = lse - logits[row * ${V} + tgt];
}`,
    };
  }
  return {
    variableNames: ['logits', 'targets'],
    outputShape,
    shaderKey: `gptlab_ce_${N}_${V}`,
    dispatchLayout: flat(outputShape),
    dispatch: [N, 1, 1],
    workgroupSize: [64, 1, 1],
    getUserCode: () => `
${REDUCE64}
${MAIN}
  let row = ${WID};
  let t = i32(localId.x);
  var m = -1e30;
  for (var v = t; v < ${V}; v = v + 64) { m = max(m, logits[row * ${V} + v]); }
  let mx = max64(t, m);
  var s = 0.0;
  for (var v = t; v < ${V}; v = v + 64) { s = s + exp(logits[row * ${V} + v] - mx); }
  let lse = mx + log(reduce64(t, s));
  let tgt = targets[row];
  for (var v = t; v < ${V}; v = v + 64) {
    let p = exp(logits[row * ${V} + v] - lse);
    result[row * ${V} + v] = (p - select(0.0, 1.0, v == tgt)) * ${1 / N};
  }
  if (t == 0) { result[${N * V} + row] = lse - logits[row * ${V} + tgt]; }
}`,
  };
}

/** The mean of `count` values of x starting at `offset`, as a 1-element tensor (one workgroup). */
export function meanProgram(offset: number, count: number, sqrtOfSum = false): WebGPUProgramSpec {
  const outputShape = [1];
  return {
    variableNames: ['x'],
    outputShape,
    shaderKey: `gptlab_mean_${offset}_${count}_${sqrtOfSum}`,
    dispatchLayout: flat(outputShape),
    dispatch: [1, 1, 1],
    workgroupSize: [64, 1, 1],
    getUserCode: () => `
${REDUCE64}
${MAIN}
  let t = i32(localId.x);
  var s = 0.0;
  for (var i = t; i < ${count}; i = i + 64) { s = s + x[${offset} + i]; }
  let total = reduce64(t, s);
  if (t == 0) { result[0] = ${sqrtOfSum ? 'sqrt(total)' : `total / ${count}.0`}; }
}`,
  };
}

/** Partial sums of squares of g (P values): PARTS workgroups each write one sum. */
export const PARTS = 256;
export function sumSquaresProgram(P: number): WebGPUProgramSpec {
  const outputShape = [PARTS];
  return {
    variableNames: ['g'],
    outputShape,
    shaderKey: `gptlab_sumsq_${P}`,
    dispatchLayout: flat(outputShape),
    dispatch: [PARTS, 1, 1],
    workgroupSize: [64, 1, 1],
    getUserCode: () => `
${REDUCE64}
${MAIN}
  let w = ${WID};
  let t = i32(localId.x);
  var s = 0.0;
  for (var i = w * 64 + t; i < ${P}; i = i + ${PARTS * 64}) { let v = g[i]; s = s + v * v; }
  let total = reduce64(t, s);
  if (t == 0) { result[w] = total; }
}`,
  };
}

/**
 * One AdamW step over every parameter at once. `state` is [θ (P), m (P), v (P)]; the output is the
 * next state. `norm` holds ‖g‖ (computed on the device: no readback), so clipping is a factor here:
 *   g ← g·min(1, clip/(‖g‖ + 1e-6)); m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²;
 *   θ ← θ·(1 − lr·wd·mask) − lr·(m/bc1)/(√(v/bc2) + ε)    (mask = 1 on 2-D weights, 0 elsewhere)
 */
export function adamWProgram(P: number): WebGPUProgramSpec {
  const outputShape = [3 * P];
  return threadsProgram({
    key: `adamw_${P}`,
    variableNames: ['state', 'g', 'norm', 'mask'],
    outputShape,
    threads: P,
    uniforms: 'lr : f32, beta1 : f32, beta2 : f32, eps : f32, wd : f32, bc1 : f32, bc2 : f32, clip : f32,',
    code: () => `
${MAIN}
  let i = index;
  if (i >= ${P}) { return; }
  var coef = 1.0;
  if (uniforms.clip > 0.0) { coef = min(uniforms.clip / (norm[0] + 1e-6), 1.0); }
  let gi = g[i] * coef;
  let m = uniforms.beta1 * state[${P} + i] + (1.0 - uniforms.beta1) * gi;
  let v = uniforms.beta2 * state[${2 * P} + i] + (1.0 - uniforms.beta2) * gi * gi;
  let update = (m / uniforms.bc1) / (sqrt(v / uniforms.bc2) + uniforms.eps);
  let p = state[i] * (1.0 - uniforms.lr * uniforms.wd * mask[i]);
  result[i] = p - uniforms.lr * update;
  result[${P} + i] = m;
  result[${2 * P} + i] = v;
}`,
  });
}
