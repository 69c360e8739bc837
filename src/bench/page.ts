/**
 * The benchmark page (bench.html, part of the built site, not linked from the guide): runs the
 * training-step benchmark of `npm run bench` in this browser, in a worker of its own, and shows the
 * rows it prints. scripts/lib/browser-bench.ts drives it in Chromium and reads `window.__bench`.
 * The main thread imports no tfjs: it parses the address, starts the worker and writes text.
 */
import './bench.css';
import { parseBenchQuery, type BenchPageState, type BenchRequest, type StartMessage, type WorkerMessage } from './request';

declare global {
  interface Window {
    __bench: BenchPageState;
  }
}

const state: BenchPageState = { request: null, rows: [], log: [], skipped: [], failed: [], done: false, error: null };
window.__bench = state;

const status = document.getElementById('status')!;
const rowsOut = document.getElementById('rows')!;
const logOut = document.getElementById('log')!;
const runButton = document.getElementById('run') as HTMLButtonElement;

function finish(error: string | null): void {
  state.error = error;
  state.done = true;
  status.textContent = error
    ? `Stopped: ${error}`
    : `Done: ${state.rows.length} row(s)` +
      (state.skipped.length ? `; skipped ${state.skipped.map((s) => `${s.backend} (${s.reason})`).join('; ')}` : '') +
      (state.failed.length ? `; failed ${state.failed.map((f) => `${f.backend} ${f.config} ${f.path} (${f.reason})`).join('; ')}` : '') +
      '.';
}

function start(request: BenchRequest): void {
  state.request = request;
  runButton.disabled = true;
  status.textContent = `Measuring ${request.backends.join(', ')} × ${request.configs.join(', ')} × ${request.paths.join(', ')}, ${request.steps} step(s) each…`;
  const worker = new Worker(new URL('./bench.worker.ts', import.meta.url), { type: 'module', name: 'gpt-lab-bench' });
  worker.onmessage = (e: MessageEvent<WorkerMessage>) => {
    const m = e.data;
    switch (m.type) {
      case 'row':
        state.rows.push(m.row);
        rowsOut.textContent += JSON.stringify(m.row) + '\n';
        break;
      case 'log':
        state.log.push(m.text);
        logOut.textContent += m.text + '\n';
        break;
      case 'skip':
        state.skipped.push({ backend: m.backend, reason: m.reason });
        logOut.textContent += `${m.backend}: skipped (${m.reason})\n`;
        break;
      case 'failed':
        state.failed.push({ backend: m.backend, config: m.config, path: m.path, reason: m.reason });
        logOut.textContent += `${m.backend} ${m.config} ${m.path} path: failed (${m.reason})\n`;
        break;
      case 'done':
        finish(null);
        worker.terminate();
        break;
      case 'error':
        finish(m.message);
        worker.terminate();
        break;
    }
  };
  worker.onerror = (e) => {
    e.preventDefault();
    finish(`the worker failed: ${e.message || 'no message (did its script load?)'}`);
    worker.terminate();
  };
  worker.postMessage({ type: 'start', request } satisfies StartMessage);
}

let request: BenchRequest | null = null;
try {
  request = parseBenchQuery(location.search);
} catch (err) {
  finish(`bad address: ${err instanceof Error ? err.message : String(err)}`);
}
if (request != null) {
  if (location.search.length > 1) {
    start(request); // the address says what to measure: the driver's way in
  } else {
    // Opened by hand with no parameters: heavy work waits for the reader's click.
    const chosen = request;
    status.textContent = 'Press Run to measure with the defaults (wasm, tiny), or name what to measure in the address.';
    runButton.hidden = false;
    runButton.addEventListener('click', () => start(chosen));
  }
}
