/**
 * GPT Lab's own WebAssembly SIMD kernels for the tfjs `wasm` backend (the speed issue's fast path
 * on CPUs). Source: ./assembly/kernels.ts (AssemblyScript), built into ./kernels.wasm by
 * `npm run build:simd` (scripts/build-simd.ts); tests/unit/simd.test.ts rebuilds it and checks the
 * committed binary is what the source gives.
 *
 * Why: the stock wasm backend sends only a plain 2-D matmul (no transpose flag, no batch dimension)
 * to its fast XNNPACK path; a transposed or batched product — every product of attention, and the
 * gradient of every Linear — falls to a scalar loop near 2.5 GFLOP/s. Our `BatchMatMul` takes those
 * cases (4×8 register tiles of f32x4 lanes) and hands the plain case back to XNNPACK. `Sum` over the
 * rows of a matrix (a bias gradient) gets a SIMD column sum. The same module carries the fast path's
 * fused operations (./fused.ts), registered here too as the wasm versions of the `GptLab*` kernels.
 *
 * The module imports the backend's own WebAssembly.Memory, so kernels read and write tensors where
 * tfjs keeps them: no copies. It keeps no data of its own, so sharing the memory is safe.
 */
import * as tf from '@tensorflow/tfjs';
import { registerFusedWasmKernels, wasmMemoryOf, type FusedExports, type WasmBackendLike } from './fused';
import { startProductPool, type HelperWorker, type ProductPool } from './pool';

interface SimdExports {
  matmul(
    a: number, b: number, c: number, scratch: number,
    batch: number, M: number, K: number, N: number,
    transA: number, transB: number, aStride: number, bStride: number,
  ): void;
  columnSums(x: number, out: number, rows: number, cols: number): void;
}

interface KernelArgs {
  inputs: Record<string, tf.TensorInfo>;
  backend: unknown;
  attrs?: Record<string, unknown>;
}

const REPLACED = ['BatchMatMul', 'Sum'] as const;

let installed: { restore: () => void; productThreads: number } | null = null;

/** True while our kernels are registered on the wasm backend. */
export function simdKernelsInstalled(): boolean {
  return installed != null;
}

/**
 * Compiles `wasmBytes` (kernels.wasm) against the current wasm backend's memory and registers the
 * kernels. Call with tfjs on the `wasm` backend. Returns a function that puts the stock kernels back.
 */
export async function installSimdKernels(wasmBytes: BufferSource): Promise<() => void> {
  if (installed) return installed.restore;
  if (tf.getBackend() !== 'wasm') throw new Error('The SIMD kernels are for the wasm backend; switch to it first.');
  const backend = tf.backend() as unknown as WasmBackendLike;
  const memory = wasmMemoryOf(backend);
  if (memory == null) throw new Error('The wasm backend does not expose its memory.');
  const { module, instance } = await WebAssembly.instantiate(wasmBytes, { env: { memory } });
  const k = instance.exports as unknown as SimdExports;
  const pool = await startPool(module, memory, instance.exports as unknown as FusedExports, backend);

  const stock = new Map(REPLACED.map((name) => [name, tf.getKernel(name, 'wasm')!]));
  for (const [name, config] of stock) if (config == null) throw new Error(`tfjs wasm has no ${name} kernel`);
  const offset = (t: tf.TensorInfo) => backend.dataIdMap.get(t.dataId)!.memoryOffset;

  const batchMatMul = (args: KernelArgs): tf.TensorInfo => {
    const { a, b } = args.inputs;
    const transA = Boolean(args.attrs?.transposeA);
    const transB = Boolean(args.attrs?.transposeB);
    const aBatch = a.shape.slice(0, -2);
    const bBatch = b.shape.slice(0, -2);
    const aItems = aBatch.reduce((x, y) => x * y, 1);
    const bItems = bBatch.reduce((x, y) => x * y, 1);
    const plain2d = aItems === 1 && bItems === 1 && !transA && !transB;
    const sameBatch = aBatch.length === bBatch.length && aBatch.every((d, i) => d === bBatch[i]);
    const broadcastOne = aItems === 1 || bItems === 1;
    if (plain2d || a.dtype !== 'float32' || b.dtype !== 'float32' || !(sameBatch || broadcastOne)) {
      return stock.get('BatchMatMul')!.kernelFunc(args as never) as tf.TensorInfo;
    }
    const ar = a.shape.length;
    const br = b.shape.length;
    const M = transA ? a.shape[ar - 1] : a.shape[ar - 2];
    const K = transA ? a.shape[ar - 2] : a.shape[ar - 1];
    const Kb = transB ? b.shape[br - 1] : b.shape[br - 2];
    const N = transB ? b.shape[br - 2] : b.shape[br - 1];
    if (K !== Kb) throw new Error(`matMul: inner sizes ${K} and ${Kb} of shapes [${a.shape}] and [${b.shape}] differ`);
    const items = Math.max(aItems, bItems);
    const batchShape = aItems >= bItems ? aBatch : bBatch;
    const out = backend.makeOutput([...batchShape, M, N], 'float32');
    const scratch = transB ? backend.wasm._malloc(K * N * 4) : 0;
    try {
      k.matmul(
        offset(a), offset(b), offset(out), scratch,
        items, M, K, N, transA ? 1 : 0, transB ? 1 : 0,
        aItems === 1 ? 0 : M * K, bItems === 1 ? 0 : K * N,
      );
    } finally {
      if (scratch) backend.wasm._free(scratch);
    }
    return out;
  };

  const sum = (args: KernelArgs): tf.TensorInfo => {
    const { x } = args.inputs;
    const axis = args.attrs?.axis as number | number[];
    const axes = (Array.isArray(axis) ? axis : [axis]).map((d) => (d < 0 ? d + x.shape.length : d));
    if (x.dtype !== 'float32' || x.shape.length !== 2 || axes.length !== 1 || axes[0] !== 0) {
      return stock.get('Sum')!.kernelFunc(args as never) as tf.TensorInfo;
    }
    const [rows, cols] = x.shape;
    const out = backend.makeOutput(args.attrs?.keepDims ? [1, cols] : [cols], 'float32');
    k.columnSums(offset(x), offset(out), rows, cols);
    return out;
  };

  const ours = { BatchMatMul: batchMatMul, Sum: sum };
  for (const name of REPLACED) {
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({ ...stock.get(name)!, kernelFunc: ours[name] as never });
  }
  const unregisterFused = registerFusedWasmKernels(instance.exports as unknown as FusedExports, backend, pool);
  const restore = () => {
    if (installed == null) return;
    unregisterFused();
    pool?.dispose();
    for (const [name, config] of stock) {
      tf.unregisterKernel(name, 'wasm');
      tf.registerKernel(config);
    }
    installed = null;
  };
  installed = { restore, productThreads: pool?.threads ?? 1 };
  return restore;
}

/** Whether a memory is shared (its buffer a SharedArrayBuffer), i.e. needs kernels-shared.wasm. */
export function isSharedMemory(memory: WebAssembly.Memory): boolean {
  return typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
}

let loader: ((shared: boolean) => Promise<BufferSource>) | null = null;
let spawnHelper: (() => HelperWorker) | null = null;
let lastFailure: string | null = null;
let poolFailure: string | null = null;

/**
 * Where tfjs runs its threaded binary with N > 1 threads, starts N − 1 helper workers (./pool.ts)
 * so that our products use as many threads as tfjs's own kernels. Null where there is one thread,
 * no host to start workers (Node), or the helpers failed to start (`productThreadsNote` says why:
 * the products then run on the calling thread).
 */
async function startPool(module: WebAssembly.Module, memory: WebAssembly.Memory, k: FusedExports, backend: WasmBackendLike): Promise<ProductPool | null> {
  poolFailure = null;
  const threads = backend.wasm.tfjs?.getThreadsCount?.() ?? 1;
  if (threads < 2 || !isSharedMemory(memory)) return null;
  if (spawnHelper == null) {
    poolFailure = 'this host starts no helper workers';
    return null;
  }
  try {
    return await startProductPool(module, memory, k.gemm.bind(k), threads - 1, spawnHelper);
  } catch (err) {
    poolFailure = err instanceof Error ? err.message : String(err);
    return null;
  }
}

/**
 * The threads GPT Lab's products run on while its kernels are installed, and why only one where
 * tfjs runs several: for the backend report.
 */
export function productThreadsNote(): { threads: number; why: string | null } {
  return { threads: installed?.productThreads ?? 1, why: poolFailure };
}

/**
 * Says where the host finds the kernels (the worker: URLs Vite gives; Node: the files):
 * `load(false)` gives kernels.wasm, `load(true)` kernels-shared.wasm (for tfjs's threaded binary,
 * whose memory is shared). Until a host says so, the wasm backend runs its stock kernels. `spawn`
 * starts a worker running ./pool.worker.ts: with it, products use tfjs's thread count (./pool.ts).
 */
export function configureSimdKernels(load: (shared: boolean) => Promise<BufferSource>, spawn?: () => HelperWorker): void {
  loader = load;
  spawnHelper = spawn ?? null;
}

/** Puts tfjs's stock kernels back (the benchmark's reference path); `installConfiguredSimdKernels` brings ours again. */
export function uninstallSimdKernels(): void {
  installed?.restore();
}

/** Why the kernels are not in use after the last attempt, or null. */
export function simdKernelsFailure(): string | null {
  return lastFailure;
}

/**
 * Installs the kernels if a host configured them and tfjs is on wasm; never throws: without them
 * the backend simply runs its stock kernels (a browser without WebAssembly SIMD, say).
 */
export async function installConfiguredSimdKernels(): Promise<boolean> {
  if (installed) return true;
  if (loader == null || tf.getBackend() !== 'wasm') return false;
  try {
    const memory = wasmMemoryOf(tf.backend() as unknown as WasmBackendLike);
    await installSimdKernels(await loader(memory != null && isSharedMemory(memory)));
    lastFailure = null;
    return true;
  } catch (err) {
    lastFailure = err instanceof Error ? err.message : String(err);
    return false;
  }
}
