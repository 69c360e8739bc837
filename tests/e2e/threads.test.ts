/**
 * The wasm backend's threads in the built site (scripts/vite-plugin-tfjs-wasm-threads.ts,
 * src/engine/backends.ts): in a cross-origin-isolated page tfjs's threaded binary starts and trains,
 * with more than one thread where the browser reports enough cores; without isolation the backend
 * runs one thread and its report says why.
 *
 * tfjs 4.22 caps its thread pool at half of `navigator.hardwareConcurrency` (its C++
 * `init_with_threads_count`: at most logical cores / 2, whatever `setThreadsCount` asks), so on a
 * 2-core test machine it can only start one. The isolated tests therefore emulate a 4-core browser
 * through the DevTools protocol (`Emulation.setHardwareConcurrencyOverride`, applied to the page and
 * to each of its workers as it starts): the test plays a larger machine; the site itself never
 * changes what the browser reports.
 */
import type { CDPSession, Page } from 'playwright-core';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { closeBrowsers, launchBrowser, openPage, serveStatic, siteURL } from './harness';
import { button, status, waitForEngine, waitForMetrics, waitForStep } from './site';
import type { AgreementRow, BenchRow, TrainStepRow } from '../../src/bench/rows';

const EMULATED_CORES = 4;
const TINY_WASM = 'backend=wasm&preset=tiny&seed=1&debug=1';

afterAll(async () => {
  await closeBrowsers();
});

/**
 * Makes the page and every dedicated worker it starts report `cores` logical processors. Each new
 * worker is held at its first line (waitForDebuggerOnStart) until the override is in, so the engine
 * worker's tfjs reads the emulated count when the backend starts.
 */
async function emulateCores(page: Page, cores: number): Promise<CDPSession> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Emulation.setHardwareConcurrencyOverride', { hardwareConcurrency: cores });
  let id = 1;
  cdp.on('Target.attachedToTarget', (e: { sessionId: string; targetInfo: { type: string } }) => {
    const send = (method: string, params: object) =>
      cdp.send('Target.sendMessageToTarget', { sessionId: e.sessionId, message: JSON.stringify({ id: id++, method, params }) });
    void (async () => {
      if (e.targetInfo.type === 'worker') await send('Emulation.setHardwareConcurrencyOverride', { hardwareConcurrency: cores });
      await send('Runtime.runIfWaitingForDebugger', {});
    })().catch(() => {});
  });
  await cdp.send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: true, flatten: false });
  return cdp;
}

/** The wasm entry of the engine's backend report (the rates the lab's backend menu shows). */
async function wasmReport(page: Page) {
  const st = await status(page);
  const wasm = st?.backend?.rates.find((r) => r.name === 'wasm');
  if (wasm == null) throw new Error(`no wasm entry in the backend report: ${JSON.stringify(st?.backend)}`);
  return { chosen: st?.backend?.name, wasm };
}

/**
 * Opens the lab (tiny, wasm) in the harness's cross-origin-isolated page on a browser that reports
 * `cores` logical cores, waits for the engine, and gives the wasm entry of its backend report.
 */
async function isolatedLab(page: Page, cores: number) {
  await emulateCores(page, cores);
  await page.goto(siteURL(TINY_WASM, '#/training'));
  await waitForEngine(page, 170_000);
  expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
  return wasmReport(page);
}

/** Collects the page's uncaught errors and console errors into `problems`. */
function collectProblems(page: Page, problems: string[]): void {
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => m.type() === 'error' && problems.push(`console.error: ${m.text()}`));
}

/** Trains in the lab until step `steps`, pauses, and checks every loss reported is a positive number. */
async function trainBriefly(page: Page, steps: number): Promise<void> {
  await button(page, 'Train').click();
  await waitForStep(page, steps);
  await button(page, 'Pause').click();
  const m = await waitForMetrics(page, 1);
  expect(m[m.length - 1].step).toBeGreaterThanOrEqual(steps);
  expect(m.every((x) => Number.isFinite(x.trainLoss) && x.trainLoss > 0)).toBe(true);
}

// (Under E2E_NO_ISOLATION=1 the harness's server sends no COOP/COEP: these need it. The two groups
// below serve the build themselves, so they run either way.)
describe.skipIf(process.env.E2E_NO_ISOLATION === '1')('the wasm backend in a cross-origin-isolated page', () => {
  it('runs the threaded binary: the lab trains on it and reports its threads', async () => {
    const s = await openPage();
    try {
      const { chosen, wasm } = await isolatedLab(s.page, EMULATED_CORES);
      console.log(`[e2e] isolated, ${EMULATED_CORES} cores emulated: ${wasm.reason}`);
      expect(chosen).toBe('wasm');
      // tfjs's own choice on 4 logical cores: half of them.
      expect(wasm.reason).toContain(`threaded binary (cross-origin isolated), ${EMULATED_CORES / 2} threads`);
      expect(wasm.reason).toContain(`GPT Lab's products on ${EMULATED_CORES / 2} threads`);

      await trainBriefly(s.page, 6);
      s.assertClean('training on wasm threads');
    } finally {
      await s.close();
    }
  }, 300_000);

  it('keeps the single-threaded binary where tfjs would start only one thread, and says why', async () => {
    // 2 logical cores: tfjs would start 1 thread; its threaded binary would only cost GPT Lab's own
    // SIMD kernels (they cannot import its shared memory).
    const s = await openPage();
    try {
      const { wasm } = await isolatedLab(s.page, 2);
      console.log(`[e2e] isolated, 2 cores emulated: ${wasm.reason}`);
      expect(wasm.reason).toContain('one thread: this browser reports 2 logical cores and tfjs uses at most half of them');
      s.assertClean('wasm on 2 cores');
    } finally {
      await s.close();
    }
  }, 300_000);

  it("starts the thread count the benchmark page asks for, and GPT Lab's products run on those threads and agree with the reference", async () => {
    const s = await openPage();
    try {
      await emulateCores(s.page, EMULATED_CORES);
      const base = siteURL('', '');
      await s.page.goto(`${base}bench.html?backends=wasm&configs=tiny&paths=fast&steps=2&warmup=1&threads=2&check=1`);
      await s.page.waitForFunction(() => (window as unknown as { __bench?: { done: boolean } }).__bench?.done === true, undefined, {
        timeout: 170_000,
        polling: 500,
      });
      const bench = await s.page.evaluate(
        () =>
          (window as unknown as { __bench: { rows: BenchRow[]; skipped: unknown[]; error: string | null } }).__bench,
      );
      expect(bench.error).toBeNull();
      expect(bench.skipped).toEqual([]);
      const row = bench.rows.find((r): r is TrainStepRow => r.name === 'train_step');
      expect(row, 'no train_step row').toBeDefined();
      console.log(`[e2e] bench.html, threads=2 asked: ${JSON.stringify(row)}`);
      expect(row!.env).toBe('chromium-isolated');
      // The count tfjs's getThreadsCount() gives once the backend runs, not the count asked for.
      expect(row!.threads).toBe(2);
      expect(Number.isFinite(row!.tokens_per_s) && row!.tokens_per_s > 0).toBe(true);
      // Our SIMD products run on both threads (src/gpt/simd/pool.ts: a helper worker of our own
      // takes row blocks), and the fast path on them computes what the reference computes.
      expect(row!.device).toContain('their products on 2 threads');
      const agreement = bench.rows.find((r): r is AgreementRow => r.name === 'fast_agreement');
      expect(agreement, 'no fast_agreement row').toBeDefined();
      console.log(`[e2e] fast path against the reference on 2 threads: ${JSON.stringify(agreement)}`);
      expect(agreement!.threads).toBe(2);
      expect(agreement!.loss_rel).toBeLessThan(1e-4);
      expect(agreement!.grads_rel).toBeLessThan(1e-4);
      expect(agreement!.weights_after_step_abs).toBeLessThan(1e-5);
      s.assertClean('benchmark on wasm threads');
    } finally {
      await s.close();
    }
  }, 300_000);
});

describe('on a static host that sends no COOP/COEP', () => {
  it('gets threads once the Service Worker has made the page isolated', async () => {
    // The site's Service Worker adds the headers to the site's own responses (the thread workers'
    // scripts included) and the page reloads itself once; then the threaded binary runs.
    const server = await serveStatic(inject('buildDir'), {});
    const browser = await launchBrowser(false);
    const context = await browser.newContext();
    const problems: string[] = [];
    try {
      const page = await context.newPage();
      collectProblems(page, problems);
      await emulateCores(page, EMULATED_CORES);
      await page.goto(`${server.url}?${TINY_WASM}#/training`);
      await expect
        .poll(() => page.evaluate(() => crossOriginIsolated).catch(() => false), { timeout: 60_000, interval: 250 })
        .toBe(true);
      await waitForEngine(page, 170_000);
      const { chosen, wasm } = await wasmReport(page);
      console.log(`[e2e] static host + Service Worker: ${wasm.reason}`);
      expect(chosen).toBe('wasm');
      expect(wasm.reason).toContain(`threaded binary (cross-origin isolated), ${EMULATED_CORES / 2} threads`);
      await trainBriefly(page, 4);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
      await server.close();
    }
  }, 300_000);
});

describe('the wasm backend without cross-origin isolation', () => {
  it('runs one thread, says why, and trains', async () => {
    // The same build from a host that sends no COOP/COEP, with Service Workers blocked (the site's
    // own would otherwise add the headers and reload): the page stays unisolated.
    const server = await serveStatic(inject('buildDir'), {});
    const browser = await launchBrowser(false);
    const context = await browser.newContext({ serviceWorkers: 'block' });
    const origin = new URL(server.url).origin;
    const problems: string[] = [];
    await context.route('**/*', (route) => {
      const u = new URL(route.request().url());
      if ((u.protocol === 'http:' || u.protocol === 'https:') && u.origin !== origin) {
        problems.push(`request outside the origin: ${u.href}`);
        return route.abort('blockedbyclient');
      }
      return route.continue();
    });
    try {
      const page = await context.newPage();
      collectProblems(page, problems);
      await emulateCores(page, EMULATED_CORES);
      await page.goto(`${server.url}?${TINY_WASM}#/training`);
      await waitForEngine(page, 170_000);
      expect(await page.evaluate(() => crossOriginIsolated)).toBe(false);
      const { chosen, wasm } = await wasmReport(page);
      console.log(`[e2e] not isolated: ${wasm.reason}`);
      expect(chosen).toBe('wasm');
      expect(wasm.reason).toContain('one thread: the page is not cross-origin isolated');

      await trainBriefly(page, 4);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
      await server.close();
    }
  }, 300_000);
});
