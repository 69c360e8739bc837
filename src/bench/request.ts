/**
 * What the benchmark page (bench.html) measures, read from its address, and the messages between
 * the page and its worker. Pure: no tfjs (the page's main thread imports this), no DOM.
 *
 *   bench.html?backends=wasm,webgpu&configs=tiny,baby&paths=reference,fast&steps=5&batch-size=12&threads=2
 *
 * `threads` asks the wasm backend for that many threads; the rows report how many it really started.
 * `check=1` first compares the fast path with the reference on each backend (a `fast_agreement` row).
 */
import { isPresetName, PRESETS, type PresetName } from '../gpt/config';
import type { BackendName } from '../engine/backends';
import type { BenchPathName, BenchRow } from './rows';

export interface BenchRequest {
  backends: BackendName[];
  configs: PresetName[];
  paths: BenchPathName[];
  /** Timed steps per (backend, config, path). */
  steps: number;
  /** Untimed steps first (shader compiles, buffer pools), as in Node. */
  warmup: number;
  /** Overrides the preset's batch size. */
  batchSize?: number;
  /** wasm only: threads to ask tfjs for (setThreadsCount) before the backend starts. */
  threads?: number;
  /** Moby-Dick's vocabulary, the size every real run has (as in scripts/bench.ts). */
  vocabSize: number;
  /** Compare the fast path with the reference on each backend first (`check=1`). */
  check?: boolean;
}

/** Kept here rather than imported from src/engine/backends, which imports tfjs. */
const BACKENDS: readonly BackendName[] = ['webgpu', 'webgl', 'wasm', 'cpu'];
const PATHS: readonly BenchPathName[] = ['reference', 'fast'];
const KNOWN = new Set(['backends', 'configs', 'paths', 'steps', 'warmup', 'batch-size', 'threads', 'vocab-size', 'check']);

export const BENCH_DEFAULTS = { backends: ['wasm'], configs: ['tiny'], steps: 3, warmup: 2, vocabSize: 89 } as const;

/** Reads a request from a query string (`?backends=wasm&…`); throws an Error naming the bad parameter. */
export function parseBenchQuery(search: string): BenchRequest {
  const q = new URLSearchParams(search);
  for (const key of q.keys()) {
    if (!KNOWN.has(key)) throw new Error(`unknown parameter ${JSON.stringify(key)} (known: ${[...KNOWN].join(', ')})`);
  }
  const list = (key: string, fallback: readonly string[]): string[] => {
    const raw = q.get(key);
    if (raw == null) return [...fallback];
    const items = raw.split(',').map((s) => s.trim()).filter(Boolean);
    if (items.length === 0) throw new Error(`${key}: give at least one value`);
    return items;
  };
  const backends = list('backends', BENCH_DEFAULTS.backends);
  for (const b of backends) if (!BACKENDS.includes(b as BackendName)) throw new Error(`backends: ${JSON.stringify(b)} is not one of ${BACKENDS.join(', ')}`);
  const configs = list('configs', BENCH_DEFAULTS.configs);
  for (const c of configs) if (!isPresetName(c)) throw new Error(`configs: ${JSON.stringify(c)} is not one of ${Object.keys(PRESETS).join(', ')}`);
  const paths = list('paths', PATHS);
  for (const p of paths) if (!PATHS.includes(p as BenchPathName)) throw new Error(`paths: ${JSON.stringify(p)} is not one of ${PATHS.join(', ')}`);
  const request: BenchRequest = {
    backends: backends as BackendName[],
    configs: configs as PresetName[],
    paths: paths as BenchPathName[],
    steps: wholeNumber(q, 'steps', 1) ?? BENCH_DEFAULTS.steps,
    warmup: wholeNumber(q, 'warmup', 0) ?? BENCH_DEFAULTS.warmup,
    vocabSize: wholeNumber(q, 'vocab-size', 2) ?? BENCH_DEFAULTS.vocabSize,
  };
  const batchSize = wholeNumber(q, 'batch-size', 1);
  if (batchSize != null) request.batchSize = batchSize;
  const threads = wholeNumber(q, 'threads', 1);
  if (threads != null) request.threads = threads;
  const check = q.get('check');
  if (check != null) {
    if (check !== '1' && check !== '0') throw new Error(`check must be 1 or 0, not ${JSON.stringify(check)}`);
    request.check = check === '1';
  }
  return request;
}

function wholeNumber(q: URLSearchParams, key: string, min: number): number | undefined {
  const raw = q.get(key);
  if (raw == null) return undefined;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isInteger(value) || value < min) {
    throw new Error(`${key} must be a whole number of at least ${min}, not ${JSON.stringify(raw)}`);
  }
  return value;
}

/** The page asks its worker to run a request. */
export interface StartMessage {
  type: 'start';
  request: BenchRequest;
}

/** What the worker tells the page, in order; `done` or `error` comes last. */
export type WorkerMessage =
  | { type: 'row'; row: BenchRow }
  /** A line for people: the device, the matmul ceiling, each row described. */
  | { type: 'log'; text: string }
  /** A backend that could not start here (no WebGPU adapter, say), and why. */
  | { type: 'skip'; backend: BackendName; reason: string }
  /** A path that failed on a backend that did start; the others still run. */
  | { type: 'failed'; backend: BackendName; config: PresetName; path: BenchPathName; reason: string }
  | { type: 'done' }
  | { type: 'error'; message: string };

/** What the page exposes as `window.__bench` for the driver (scripts/lib/browser-bench.ts) and tests. */
export interface BenchPageState {
  request: BenchRequest | null;
  rows: BenchRow[];
  log: string[];
  skipped: { backend: BackendName; reason: string }[];
  failed: { backend: BackendName; config: PresetName; path: BenchPathName; reason: string }[];
  done: boolean;
  error: string | null;
}
