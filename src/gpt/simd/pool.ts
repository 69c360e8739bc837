/**
 * Helper threads for our WebAssembly product kernel (the speed issue's fallback on two cores).
 *
 * tfjs's threaded wasm binary runs its own thread pool, but only its own C++ kernels use it: our
 * kernels (./assembly/fused.ts) run on the thread that calls them. When tfjs runs with N threads,
 * the pool here starts N − 1 workers of our own; each instantiates the same compiled module over
 * tfjs's shared WebAssembly.Memory (kernels-shared.wasm) and waits. A product is then cut into row
 * blocks: the calling thread posts the job through a small SharedArrayBuffer (Atomics.notify), and
 * every thread, the caller included, takes blocks by compare-and-swap until none are left; the
 * caller then waits for the blocks still running (Atomics.wait). The kernel keeps no state of its
 * own in the memory, so instances on several threads do not collide, and each block writes its own
 * rows of C.
 *
 * The calling thread must be allowed to block (a worker: the engine's and the benchmark's are);
 * where Atomics.wait is refused (a window's main thread) the wait spins instead.
 */

// The control buffer (Int32 words), one for the caller and all helpers.
/** The job number the caller posted last (−1: stop). Helpers sleep on it. */
const SEQ = 0;
/** The next block to take, tagged with its job: job · 256 + block. Taken by compare-and-swap. */
const TAKE = 1;
/** Blocks of the current job finished. The caller waits for all of them. */
const FINISHED = 2;
/** Nonzero once a block threw (on a helper or on the caller). */
const FAILED = 3;
/** The job: gemm's ten arguments (pointers as unsigned 32-bit values), then rows per block, blocks. */
const ARGS = 4;
const WORDS = ARGS + 12;
/** Blocks per thread of a product: small enough that a helper woken late still takes its share. */
const BLOCKS_PER_THREAD = 4;
/** How long the caller spins for the last blocks before it blocks (Atomics.wait). */
const SPIN_MS = 0.5;
/** How long the caller waits for a helper's block before it gives up on the pool. */
const HELPER_LIMIT_MS = 60_000;

/**
 * Takes the next block of job `job`, or returns −1 when the job has none left (or is over).
 * Jobs are numbered modulo 2²³ so that the tag fits the word.
 */
function takeBlock(ctl: Int32Array, job: number, blocks: number): number {
  for (;;) {
    const v = Atomics.load(ctl, TAKE);
    if (v >>> 8 !== job || (v & 255) >= blocks) return -1;
    if (Atomics.compareExchange(ctl, TAKE, v, v + 1) === v) return v & 255;
  }
}

/** Runs the blocks of the posted job that are left, on `gemm`; counts each one finished. */
function runBlocks(ctl: Int32Array, args: Uint32Array, job: number, gemm: GemmFn): void {
  const [a, b, c, M, K, N, aRow, aCol, ldb, ldc, per, blocks] = args.subarray(ARGS, ARGS + 12);
  for (let i = takeBlock(ctl, job, blocks); i >= 0; i = takeBlock(ctl, job, blocks)) {
    const m0 = i * per;
    try {
      gemm(a + m0 * aRow * 4, b, c + m0 * ldc * 4, Math.min(per, M - m0), K, N, aRow, aCol, ldb, ldc);
    } catch {
      Atomics.store(ctl, FAILED, 1);
    }
    Atomics.add(ctl, FINISHED, 1);
    Atomics.notify(ctl, FINISHED);
  }
}

/** What the caller posts to a helper once, to start it. */
export interface HelperStart {
  type: 'start';
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  control: SharedArrayBuffer;
}

/** What a helper answers: ready to take jobs, or why it cannot. */
export type HelperReply = { type: 'ready' } | { type: 'failed'; message: string };

/** The product kernel's signature (./assembly/fused.ts gemm). */
export type GemmFn = (a: number, b: number, c: number, M: number, K: number, N: number, aRow: number, aCol: number, ldb: number, ldc: number) => void;

/** A worker as the pool uses it (a Web Worker; anything with the same three members will do). */
export interface HelperWorker {
  postMessage(message: HelperStart): void;
  onmessage: ((e: MessageEvent<HelperReply>) => void) | null;
  terminate(): void;
}

export interface ProductPool {
  /** Threads a product runs on: the caller and its helpers. */
  readonly threads: number;
  /** C = op(A)·B as the kernel computes it, its rows shared among the threads. */
  gemm: GemmFn;
  /** Stops the helpers. */
  dispose(): void;
}

/**
 * Blocks the calling thread until ctl[i] changes from `seen` or `ms` pass. Atomics.wait where the
 * thread may block; a spin on Atomics.load where it may not.
 */
let mayBlock = true;
function waitChange(ctl: Int32Array, i: number, seen: number, ms: number): void {
  if (mayBlock) {
    try {
      Atomics.wait(ctl, i, seen, ms);
      return;
    } catch {
      mayBlock = false;
    }
  }
  const end = performance.now() + ms;
  while (Atomics.load(ctl, i) === seen && performance.now() < end);
}

/**
 * Starts `helpers` workers from `spawn` on `module` (compiled kernels-shared.wasm) over `memory`,
 * and resolves once each has instantiated it. `local` is the caller's own instance's gemm.
 * Rejects (and stops any started) if one fails or none answers within `startMs`.
 */
export async function startProductPool(
  module: WebAssembly.Module,
  memory: WebAssembly.Memory,
  local: GemmFn,
  helpers: number,
  spawn: () => HelperWorker,
  startMs = 20_000,
): Promise<ProductPool> {
  if (helpers < 1) throw new Error('startProductPool: at least one helper');
  const control = new SharedArrayBuffer(WORDS * 4);
  const ctl = new Int32Array(control);
  const args = new Uint32Array(control);
  const workers: HelperWorker[] = [];
  const stop = () => {
    Atomics.store(ctl, SEQ, -1);
    Atomics.notify(ctl, SEQ);
    for (const w of workers) w.terminate();
  };
  try {
    await Promise.all(
      Array.from({ length: helpers }, (_, n) => {
        const w = spawn();
        workers.push(w);
        return new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`product helper ${n + 1} did not start within ${startMs / 1000} s`)), startMs);
          w.onmessage = (e) => {
            clearTimeout(timer);
            if (e.data.type === 'ready') resolve();
            else reject(new Error(`product helper ${n + 1}: ${e.data.message}`));
          };
          w.postMessage({ type: 'start', module, memory, control });
        });
      }),
    );
  } catch (err) {
    stop();
    throw err;
  }

  let job = 0;
  let broken: string | null = null;
  const threads = helpers + 1;
  const gemm: GemmFn = (a, b, c, M, K, N, aRow, aCol, ldb, ldc) => {
    if (broken != null) throw new Error(broken);
    // Blocks of whole 4-row tiles (the kernel's register tile), taken by whichever thread is free.
    const per = Math.max(4, Math.ceil(M / (threads * BLOCKS_PER_THREAD) / 4) * 4);
    const blocks = Math.ceil(M / per);
    if (blocks < 2) return local(a, b, c, M, K, N, aRow, aCol, ldb, ldc);
    job = (job + 1) & 0x7fffff;
    args.set([a, b, c, M, K, N, aRow, aCol, ldb, ldc, per, blocks], ARGS);
    Atomics.store(ctl, FINISHED, 0);
    Atomics.store(ctl, TAKE, job << 8);
    Atomics.store(ctl, SEQ, job);
    Atomics.notify(ctl, SEQ);
    runBlocks(ctl, args, job, local);
    // The blocks a helper took may still be running: spin a moment, then block.
    const start = performance.now();
    for (let f = Atomics.load(ctl, FINISHED); f < blocks; f = Atomics.load(ctl, FINISHED)) {
      const waited = performance.now() - start;
      if (waited > HELPER_LIMIT_MS) {
        broken = `a product helper stopped answering (no result in ${HELPER_LIMIT_MS / 1000} s)`;
        throw new Error(broken);
      }
      if (waited > SPIN_MS) waitChange(ctl, FINISHED, f, 1000);
    }
    if (Atomics.load(ctl, FAILED) !== 0) {
      broken = `a block of a product of ${M}×${K}·${K}×${N} failed`;
      throw new Error(broken);
    }
  };
  return { threads, gemm, dispose: stop };
}

/**
 * The helper's side: instantiates the module over the shared memory, says it is ready, then takes
 * blocks of each job posted until told to stop. Blocks its thread between jobs (Atomics.wait).
 */
export async function serveProducts(start: HelperStart, reply: (r: HelperReply) => void): Promise<void> {
  let gemm: GemmFn;
  try {
    const instance = await WebAssembly.instantiate(start.module, { env: { memory: start.memory } });
    gemm = (instance.exports as unknown as { gemm: GemmFn }).gemm;
  } catch (err) {
    reply({ type: 'failed', message: err instanceof Error ? err.message : String(err) });
    return;
  }
  const ctl = new Int32Array(start.control);
  const args = new Uint32Array(start.control);
  reply({ type: 'ready' });
  let last = 0;
  for (;;) {
    Atomics.wait(ctl, SEQ, last);
    const job = Atomics.load(ctl, SEQ);
    if (job < 0) return;
    if (job === last) continue;
    last = job;
    runBlocks(ctl, args, job, gemm);
  }
}
