/**
 * The benchmark page's worker: the same measurements as `npm run bench` in Node (bench/trainStep.ts
 * and bench/matmul.ts), on a backend started the way the engine worker starts it (useBackend, the
 * wasm binaries and GPT Lab's SIMD kernels from the site), posted to the page as the same rows.
 */
import '../engine/wasm-paths.vite';
import * as tf from '@tensorflow/tfjs';
import * as backends from '../engine/backends';
import { probeBackends, useBackend, type BackendName } from '../engine/backends';
import { resolveHyperparameters } from '../gpt/config';
import { productThreadsNote, simdKernelsFailure, simdKernelsInstalled } from '../gpt/simd/install';
import { matmulCeiling } from '../../bench/matmul';
import { benchConfig } from '../../bench/configRun';
import type { BenchRequest, StartMessage, WorkerMessage } from './request';
import { agreementRow, describeAgreementRow, type BenchEnv, type BenchPathName } from './rows';
import { agreementHyperparameters, fastAgreement } from '../gpt/fast/agreement';

/** A backend that has not started in this long is reported as skipped. */
const START_LIMIT_MS = 120_000;

const post = (m: WorkerMessage) => self.postMessage(m);
const log = (text: string) => post({ type: 'log', text });

self.onmessage = (e: MessageEvent<StartMessage>) => {
  if (e.data?.type !== 'start') return;
  run(e.data.request).then(
    () => post({ type: 'done' }),
    (err: unknown) => post({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
  );
};

async function run(request: BenchRequest): Promise<void> {
  const env: BenchEnv = self.crossOriginIsolated ? 'chromium-isolated' : 'chromium';
  for (const backend of request.backends) {
    let threads = 1;
    let coresNote: string | null = null;
    try {
      if (backend === 'wasm' && request.threads != null) {
        coresNote = raiseReportedCores(request.threads);
        await askWasmThreads(request.threads);
      }
      await useBackend(backend, { timeoutMs: START_LIMIT_MS });
      if (backend === 'wasm') threads = await wasmThreads();
    } catch (err) {
      post({ type: 'skip', backend, reason: err instanceof Error ? err.message : String(err) });
      continue;
    }
    let device = await describeDevice(backend, threads, request.threads);
    if (coresNote != null) device += `, ${coresNote}`;
    log(`\n${device}`);
    if (request.check) {
      const row = agreementRow({ backend, env, threads, config: 'tiny' }, await fastAgreement(agreementHyperparameters()));
      post({ type: 'row', row });
      log(describeAgreementRow(row));
    }
    const ceiling = await matmulCeiling();
    log(`  plain matmul: ${ceiling.tried.map((t) => `${t.size}² ${t.gflops.toFixed(1)} GFLOP/s in ${t.seconds.toFixed(2)} s`).join(', ')}`);
    for (const config of request.configs) {
      const failed = (path: BenchPathName, reason: string) => post({ type: 'failed', backend, config, path, reason });
      await benchConfig({
        config,
        hp: resolveHyperparameters(config, { vocabSize: request.vocabSize, ...(request.batchSize ? { batchSize: request.batchSize } : {}) }),
        paths: request.paths,
        steps: request.steps,
        warmup: request.warmup,
        rowBase: { backend, env, threads, ceilingGflops: ceiling.gflops, device },
        emit: (row, line) => {
          post({ type: 'row', row });
          log(line);
        },
        skipped: (reason) => request.paths.forEach((path) => failed(path, reason)),
        // One path that cannot run here (the SIMD kernels did not install, say) is reported, and the rest go on.
        failed: (path, err) => failed(path, err instanceof Error ? err.message : String(err)),
      });
    }
    tf.disposeVariables();
  }
}

/**
 * tfjs starts at most half of `navigator.hardwareConcurrency` wasm threads (its pool of thread
 * workers is sized from it), so on a 2-core machine two threads need the value raised. The speed
 * issue allows this page (never the product) to do so, labelled: returns the note for the rows,
 * or null where the real value already allows `threads`.
 */
function raiseReportedCores(threads: number): string | null {
  const real = self.navigator.hardwareConcurrency || 1;
  const needed = 2 * threads;
  if (real >= needed) return null;
  Object.defineProperty(self.navigator, 'hardwareConcurrency', { get: () => needed, configurable: true });
  return `hardwareConcurrency raised from ${real} to ${needed} for this benchmark`;
}

/**
 * Asks for `n` wasm threads before the backend starts: through the engine's own
 * `requestWasmThreads` where src/engine/backends.ts has it, else tfjs-backend-wasm's `setThreadsCount`.
 * Whether they start is up to the browser (isolation) and the build; the rows say what did.
 */
async function askWasmThreads(n: number): Promise<void> {
  const engine = backends as { requestWasmThreads?: (count: number) => void };
  if (typeof engine.requestWasmThreads === 'function') {
    engine.requestWasmThreads(n);
    return;
  }
  const wasm: { setThreadsCount?: (n: number) => void } = await import('@tensorflow/tfjs-backend-wasm');
  if (typeof wasm.setThreadsCount === 'function') wasm.setThreadsCount(n);
  else log(`  this tfjs-backend-wasm has no setThreadsCount: threads=${n} ignored`);
}

/** The threads the wasm backend really runs (its own report), 1 where it cannot say. */
async function wasmThreads(): Promise<number> {
  const wasm: { getThreadsCount?: () => number } = await import('@tensorflow/tfjs-backend-wasm');
  try {
    const n = wasm.getThreadsCount?.();
    return typeof n === 'number' && n >= 1 ? n : 1;
  } catch {
    return 1;
  }
}

/** One line naming what ran: the backend's detail and the browser (as Node's rows name theirs). */
async function describeDevice(backend: BackendName, threads: number, asked: number | undefined): Promise<string> {
  const browser = /(?:Headless)?Chrome\/[\d.]+/.exec(self.navigator.userAgent)?.[0] ?? self.navigator.userAgent;
  let detail = '';
  if (backend === 'wasm') {
    const askedNote = asked != null && asked !== threads ? ` (asked for ${asked})` : '';
    // The fast path runs on our kernels, the reference path on tfjs's stock ones (bench/trainStep.ts).
    const products = productThreadsNote();
    const onThreads = `, their products on ${products.threads} thread${products.threads === 1 ? '' : 's'}${products.why ? ` (${products.why})` : ''}`;
    const kernels = simdKernelsInstalled()
      ? `GPT Lab's SIMD kernels installed${onThreads}`
      : `GPT Lab's SIMD kernels not installed (${simdKernelsFailure() ?? 'not configured'})`;
    const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
    detail = `${simd ? 'SIMD' : 'no SIMD'}, ${threads} thread${threads === 1 ? '' : 's'}${askedNote}, ${kernels}`;
  }
  if (backend === 'webgpu') {
    const a = (await probeBackends()).find((r) => r.name === 'webgpu')?.adapter;
    if (a) {
      const maker = [a.vendor, a.architecture].filter(Boolean).join('/');
      detail = `${a.description || a.device || 'unnamed adapter'}${maker ? ` (${maker})` : ''}${a.isFallbackAdapter ? ', software fallback' : ''}`;
    }
  }
  return `${backend}: ${detail ? `${detail}, ` : ''}${browser}`;
}
