/**
 * Which tfjs backends this machine can run, and switching to one.
 *
 * Runs unchanged in a page, in the engine worker and in Node (tests, scripts): no `node:` imports,
 * and every backend but `cpu` is imported lazily, on first use. Where the WASM binaries are found
 * differs by host, so the host says so once through `configureWasmPaths` (see
 * `wasm-paths.vite.ts` for the site, `scripts/lib/node-backends.ts` for Node).
 */
import * as tf from '@tensorflow/tfjs';
import { installConfiguredSimdKernels, productThreadsNote, simdKernelsInstalled } from '../gpt/simd/install';

export type BackendName = 'webgpu' | 'webgl' | 'wasm' | 'cpu';

/** Fastest first: the order in which the engine tries them. */
export const BACKEND_NAMES: readonly BackendName[] = ['webgpu', 'webgl', 'wasm', 'cpu'];

/** The WebGPU adapter the browser (or Dawn, in Node) would hand tfjs. */
export interface AdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** A software or otherwise limited adapter (SwiftShader, WARP): correct but slow. */
  isFallbackAdapter: boolean;
}

export interface BackendReport {
  name: BackendName;
  available: boolean;
  /** One sentence a reader understands: why it is, or is not, available. */
  reason: string;
  /** webgpu only, when an adapter was found. */
  adapter?: AdapterSummary;
  /**
   * wasm only. `simd`: WebAssembly SIMD works here. `threads`: the backend runs (or, before it
   * starts, will run) tfjs's threaded binary with more than one thread. `threadCount`: the threads
   * it runs on, once it has started (tfjs's `getThreadsCount()`); before, the count tfjs will start
   * (absent where the single-threaded binary runs: `reason` then says why).
   */
  wasm?: { simd: boolean; threads: boolean; threadCount?: number };
}

export class BackendError extends Error {
  readonly backend: BackendName;
  constructor(backend: BackendName, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BackendError';
    this.backend = backend;
  }
}

/** The three binaries tfjs-backend-wasm picks from, by file name. */
export type WasmFileMap = Record<
  'tfjs-backend-wasm.wasm' | 'tfjs-backend-wasm-simd.wasm' | 'tfjs-backend-wasm-threaded-simd.wasm',
  string
>;

let wasmPaths: string | WasmFileMap | null = null;
/** Set by a host that can start tfjs's thread workers (the site build: wasm-paths.vite.ts). */
let wasmThreadsHost: { ok: true } | { ok: false; why: string } = { ok: false, why: "this build cannot start tfjs's thread workers" };
/** The thread count asked for with `requestWasmThreads`, or null for tfjs's default. */
let requestedWasmThreads: number | null = null;
/** The tfjs-backend-wasm module, once imported (to read the thread count it started with). */
let wasmModule: typeof import('@tensorflow/tfjs-backend-wasm') | null = null;

/**
 * Where the WASM binaries live: a folder prefix ending in `/` (a URL, or a file path in Node) or a
 * URL for each file. Call before the first `useBackend('wasm')`; without it tfjs looks beside its
 * own script, which works in Node but not in a bundle.
 */
export function configureWasmPaths(prefixOrMap: string | WasmFileMap): void {
  wasmPaths = prefixOrMap;
}

/**
 * Whether this host can run tfjs-backend-wasm's threaded binary: `true`, or a sentence saying why
 * not. The site's build can (scripts/vite-plugin-tfjs-wasm-threads.ts serves the threads' scripts);
 * without this call the backend runs one thread. The page must also be cross-origin isolated.
 */
export function configureWasmThreads(support: true | string): void {
  wasmThreadsHost = support === true ? { ok: true } : { ok: false, why: support };
}

/**
 * Asks the wasm backend for `count` threads (an integer from 1 to 64), or tfjs's own choice (half
 * the logical cores) with null. tfjs reads it once, when the backend first starts: call it before
 * the first `useBackend('wasm')` (the benchmark page can, from its URL). Throws once the backend
 * has started, since the count can no longer change then. tfjs never starts more than half of the
 * logical cores the browser reports (see `wasmThreadsToStart`); where that, or the page, allows
 * only one, the single-threaded binary runs and `probeBackends` says why.
 */
export function requestWasmThreads(count: number | null): void {
  if (count != null && !(Number.isInteger(count) && count >= 1 && count <= 64)) {
    throw new RangeError(`The wasm thread count must be a whole number from 1 to 64 (got ${count}).`);
  }
  if (wasmStarted()) {
    throw new Error('The wasm backend has already started: ask for a thread count before it first starts.');
  }
  requestedWasmThreads = count;
}

/** The threads the wasm backend runs on (1 without threads), or null before it has started. */
export function wasmThreadCount(): number | null {
  if (!wasmStarted() || wasmModule == null) return null;
  try {
    return wasmModule.getThreadsCount();
  } catch {
    return null; // tfjs: "WASM backend not initialized"
  }
}

function wasmStarted(): boolean {
  return tf.engine().registry.wasm != null;
}

/**
 * Why the wasm backend runs one thread here, or null if it runs several: threads need shared
 * memory (SharedArrayBuffer), which browsers grant only to cross-origin-isolated pages; tfjs ships
 * them only in its SIMD binary; the host must be able to start the thread workers; and tfjs must
 * be willing to start more than one (see `wasmThreadsToStart`). Where it would start just one, the
 * single-threaded binary is the better choice: same speed, and its memory is not shared, so GPT
 * Lab's own SIMD kernels (src/gpt/simd), which import it, can run on it.
 */
function wasmThreadsUnavailable(simd: boolean): string | null {
  if (isNode) return 'tfjs runs its wasm backend on one thread in Node.js';
  if (globalThis.crossOriginIsolated !== true || typeof SharedArrayBuffer === 'undefined') {
    return 'the page is not cross-origin isolated (no COOP/COEP headers), so it has no shared memory for threads';
  }
  if (!simd) return 'tfjs has threads only in its SIMD binary, and this browser lacks WebAssembly SIMD';
  if (!wasmThreadsHost.ok) return wasmThreadsHost.why;
  const cores = logicalCores();
  if (wasmThreadsToStart() < 2) {
    if (requestedWasmThreads === 1) return 'one thread was asked for, so the single-threaded binary runs';
    const asked = requestedWasmThreads != null ? `${requestedWasmThreads} were asked for, but ` : '';
    return `${asked}this browser reports ${cores} logical core${cores === 1 ? '' : 's'} and tfjs uses at most half of them`;
  }
  return null;
}

/**
 * The threads tfjs 4.22 starts in its threaded binary: the count asked for (its own default:
 * half the logical cores), kept within 1 to 8 (the workers it creates up front) and never above
 * half of `navigator.hardwareConcurrency` (its C++ `init_with_threads_count` caps it there, counting
 * two logical cores per physical one). So a 2-core machine gets one thread, whatever is asked.
 */
function wasmThreadsToStart(): number {
  const half = Math.floor(logicalCores() / 2);
  return Math.min(Math.max(requestedWasmThreads ?? half, 1), 8, half);
}

function logicalCores(): number {
  return typeof navigator !== 'undefined' ? navigator.hardwareConcurrency || 1 : 1;
}

const isNode = typeof process !== 'undefined' && process.versions?.node != null;

/** Reports on every backend, fastest first. Creates no tfjs backend and allocates no tensor. */
export async function probeBackends(): Promise<BackendReport[]> {
  return Promise.all(BACKEND_NAMES.map(probeBackend));
}

/** One backend's report (as `probeBackends` gives it): after a backend starts, what it really runs. */
export async function probeBackend(name: BackendName): Promise<BackendReport> {
  switch (name) {
    case 'webgpu':
      return probeWebGPU();
    case 'webgl':
      return probeWebGL();
    case 'wasm':
      return probeWasm();
    case 'cpu':
      return { name, available: true, reason: 'plain JavaScript: always there, and the slowest' };
  }
}

async function probeWebGPU(): Promise<BackendReport> {
  const name = 'webgpu';
  const gpu = typeof navigator !== 'undefined' ? navigator.gpu : undefined;
  if (gpu == null) {
    const reason = isNode
      ? 'no navigator.gpu in Node.js until installNodeWebGPU() provides one'
      : 'this browser has no WebGPU (navigator.gpu is missing)';
    return { name, available: false, reason };
  }
  let adapter: GPUAdapter | null;
  try {
    // The same request tfjs makes, so the report describes the adapter it will get.
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (err) {
    return { name, available: false, reason: `asking for a GPU adapter failed: ${messageOf(err)}` };
  }
  if (adapter == null) {
    return { name, available: false, reason: 'WebGPU is present but offered no GPU adapter' };
  }
  const summary = summarizeAdapter(adapter);
  const label = summary.description || [summary.vendor, summary.architecture].filter(Boolean).join(' ');
  const reason = summary.isFallbackAdapter
    ? `software fallback adapter (${label || 'unnamed'}): correct but slow`
    : `GPU adapter ${label || '(unnamed)'}`;
  return { name, available: true, reason, adapter: summary };
}

function summarizeAdapter(adapter: GPUAdapter): AdapterSummary {
  // `info` is where the spec keeps it now; older Chrome had `isFallbackAdapter` on the adapter.
  const info: Partial<GPUAdapterInfo> = adapter.info ?? {};
  const legacy = adapter as GPUAdapter & { isFallbackAdapter?: boolean };
  return {
    vendor: info.vendor ?? '',
    architecture: info.architecture ?? '',
    device: info.device ?? '',
    description: info.description ?? '',
    isFallbackAdapter: info.isFallbackAdapter ?? legacy.isFallbackAdapter ?? false,
  };
}

function probeWebGL(): BackendReport {
  const name = 'webgl';
  if (isNode) return { name, available: false, reason: 'no WebGL outside a browser' };
  let canvas: OffscreenCanvas | HTMLCanvasElement;
  if (typeof OffscreenCanvas !== 'undefined') canvas = new OffscreenCanvas(1, 1);
  else if (typeof document !== 'undefined') canvas = document.createElement('canvas');
  else return { name, available: false, reason: 'no canvas to draw with here (no OffscreenCanvas)' };
  let gl: WebGL2RenderingContext | null;
  try {
    gl = canvas.getContext('webgl2') as WebGL2RenderingContext | null;
  } catch (err) {
    return { name, available: false, reason: `creating a WebGL2 context failed: ${messageOf(err)}` };
  }
  if (gl == null) return { name, available: false, reason: 'this browser gave no WebGL2 context' };
  let renderer = String(gl.getParameter(gl.RENDERER) ?? '');
  if (renderer === 'WebKit WebGL') {
    // Chrome masks the renderer unless asked through this extension; Firefox unmasks it already.
    const debug = gl.getExtension('WEBGL_debug_renderer_info');
    if (debug) renderer = String(gl.getParameter(debug.UNMASKED_RENDERER_WEBGL) ?? renderer);
  }
  gl.getExtension('WEBGL_lose_context')?.loseContext(); // browsers cap live contexts: free this one
  const software = /swiftshader|llvmpipe|softpipe|software|basic render/i.test(renderer);
  const reason =
    `WebGL2 on ${renderer || 'an unnamed renderer'}` + (software ? ' (software: correct but slow)' : '');
  return { name, available: true, reason };
}

/** A one-function module that needs SIMD: `(func (result v128) i32.const 0 i8x16.splat i8x16.popcnt)`. */
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253,
  98, 11,
]);

function probeWasm(): BackendReport {
  const name = 'wasm';
  if (typeof WebAssembly !== 'object') {
    return { name, available: false, reason: 'this environment has no WebAssembly' };
  }
  const simd = WebAssembly.validate(SIMD_PROBE);
  const base = `WebAssembly ${simd ? 'with' : 'without'} SIMD`;
  const why = wasmThreadsUnavailable(simd);
  if (why != null) {
    return { name, available: true, reason: `${base}, one thread: ${why}`, wasm: { simd, threads: false } };
  }
  // Once it runs, say what tfjs actually started; before, what it will start.
  const running = wasmThreadCount();
  const count = running ?? wasmThreadsToStart();
  let how: string;
  if (running != null) how = `${count} threads running`;
  else if (requestedWasmThreads != null) how = `${count} threads (${requestedWasmThreads} asked for)`;
  else how = `${count} threads (tfjs's choice: half the ${logicalCores()} logical cores)`;
  let reason = `${base}, threaded binary (cross-origin isolated), ${how}`;
  if (running != null && simdKernelsInstalled()) {
    // Our SIMD products take as many threads as tfjs's kernels (src/gpt/simd/pool.ts), or say why not.
    const p = productThreadsNote();
    reason += `; GPT Lab's products on ${p.threads} thread${p.threads === 1 ? '' : 's'}${p.why ? ` (${p.why})` : ''}`;
  }
  return { name, available: true, reason, wasm: { simd, threads: count > 1, threadCount: count } };
}

export interface UseBackendOptions {
  /**
   * Give up when the backend has not started within this many milliseconds (a GPU driver that
   * never answers, a binary that never arrives). It is then reported as a `BackendError`, the
   * backend that was active before stays active, and `name` is not tried again in this session.
   */
  timeoutMs?: number;
  /** Runs first, inside the time limit (Node sets up WebGPU or finds the wasm binaries here). */
  prepare?: (name: BackendName) => Promise<void>;
}

/** Backends that once failed to start in time, with the message given then: they are not tried again. */
const abandoned = new Map<BackendName, string>();

/**
 * Makes `name` the backend every later tfjs call runs on. Imports its package on first use, and
 * throws a `BackendError` saying why if the backend cannot start (or, with `timeoutMs`, does not
 * start in time); the backend that was active before is then left active.
 */
export async function useBackend(name: BackendName, options: UseBackendOptions = {}): Promise<void> {
  const earlier = abandoned.get(name);
  if (earlier != null) throw new BackendError(name, earlier);
  const { timeoutMs, prepare } = options;
  if (timeoutMs == null || !Number.isFinite(timeoutMs)) {
    await prepare?.(name);
    return startBackend(name, () => false);
  }
  const previous = currentBackend();
  let timedOut = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      timedOut = true;
      const message = `The ${name} backend did not start within ${formatSeconds(timeoutMs)}, so it is not used.`;
      abandoned.set(name, message);
      abandonStart(name, previous);
      reject(new BackendError(name, message));
    }, timeoutMs);
  });
  try {
    await Promise.race([
      (async () => {
        await prepare?.(name);
        if (!timedOut) await startBackend(name, () => timedOut);
      })(),
      limit,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Forgets a start that did not finish: tfjs waits on a pending backend initialization before any
 * other call (every op would throw "has not yet been initialized"), and `removeBackend` is its way
 * of making such a promise obsolete. The factory goes with it, which is what we want: the backend
 * that hung is not used again. Then the backend active before takes over again.
 */
function abandonStart(name: BackendName, previous: BackendName | null): void {
  try {
    if (tf.findBackendFactory(name) != null) tf.removeBackend(name);
  } catch {
    // nothing registered under that name: nothing to forget
  }
  if (previous != null && previous !== name && tf.engine().registry[previous] != null) void tf.setBackend(previous);
}

function formatSeconds(ms: number): string {
  const s = ms / 1000;
  return `${s >= 10 ? Math.round(s) : Number(s.toPrecision(2))} s`;
}

/** The body of `useBackend`; `gaveUp()` turns true when the caller stopped waiting. */
async function startBackend(name: BackendName, gaveUp: () => boolean): Promise<void> {
  const previous = currentBackend();
  try {
    await importBackend(name);
  } catch (err) {
    if (err instanceof BackendError) throw err;
    throw new BackendError(name, `Could not load the ${name} backend: ${messageOf(err)}`, { cause: err });
  }
  if (gaveUp()) return; // the package arrived too late: leave tfjs as the caller left it
  if (tf.findBackendFactory(name) == null) {
    const report = await probeBackend(name);
    let why = report.reason;
    // tfjs-backend-webgpu registers itself only if navigator.gpu exists when it is first imported.
    if (report.available) {
      why = 'navigator.gpu appeared only after its package was first imported; provide it earlier';
    }
    throw new BackendError(name, `The ${name} backend is not available: ${why}.`);
  }
  let ok: boolean;
  let failure: unknown;
  try {
    ok = await tf.setBackend(name);
    if (ok) await tf.ready();
  } catch (err) {
    ok = false;
    failure = err;
  }
  // Our WebAssembly SIMD kernels (src/gpt/simd), where the host configured them; without them the
  // stock kernels run.
  if (ok && name === 'wasm' && !gaveUp()) await installConfiguredSimdKernels();
  if (ok || gaveUp()) return;

  if (previous != null && previous !== name) await tf.setBackend(previous);
  const report = await probeBackend(name);
  let why = report.available ? 'its initialization failed' : report.reason;
  if (failure != null) why = messageOf(failure);
  const hint = name === 'wasm' ? ' (are the .wasm files where configureWasmPaths says?)' : '';
  throw new BackendError(name, `Could not start the ${name} backend: ${why}${hint}.`, { cause: failure });
}

async function importBackend(name: BackendName): Promise<void> {
  switch (name) {
    case 'webgpu':
      await import('@tensorflow/tfjs-backend-webgpu');
      return;
    case 'webgl':
      await import('@tensorflow/tfjs-backend-webgl');
      return;
    case 'wasm': {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      wasmModule = wasm;
      // tfjs reads the paths, the binary and the thread count when the backend first starts; once
      // it runs they cannot change.
      if (wasmStarted()) return;
      // Under cross-origin isolation tfjs picks its threaded binary by itself. Where this host
      // cannot start its thread workers (Node, `vite dev`, a build without the plugin of
      // scripts/vite-plugin-tfjs-wasm-threads.ts, which says why a plain bundle fails), the
      // single-threaded SIMD binary runs, and probeWasm says why.
      const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
      if (wasmThreadsUnavailable(simd === true) != null) tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
      else if (requestedWasmThreads != null) wasm.setThreadsCount(requestedWasmThreads);
      if (wasmPaths != null) wasm.setWasmPaths(wasmPaths);
      return;
    }
    case 'cpu':
      return; // @tensorflow/tfjs registers it
  }
}

/** The backend tfjs runs on now, or null before one has started. Starts none itself. */
export function currentBackend(): BackendName | null {
  const name = tf.getBackend() as BackendName | undefined;
  return name != null && BACKEND_NAMES.includes(name) && tf.engine().registry[name] != null ? name : null;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
