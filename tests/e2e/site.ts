/**
 * What the e2e tests know about the site: its routes, and the names and test ids the UI promises
 * (buttons named 'Train', 'Pause', …; `data-testid="step"`; `?debug=1` exposing `window.gptLab`).
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect } from 'vitest';
import { closeBrowsers, initSite, openPage, siteURL, type Session } from './harness';
import type { EngineStatus, Metrics } from '../../src/engine/protocol';

export const ROUTES = [
  { path: '#/', name: 'Home' },
  { path: '#/languages', name: 'Languages' },
  { path: '#/frameworks', name: 'Frameworks' },
  { path: '#/transformers', name: 'Transformers' },
  { path: '#/training', name: 'Training' },
  { path: '#/infrastructure', name: 'Infrastructure' },
  { path: '#/apis', name: 'APIs' },
  { path: '#/safety', name: 'Safety' },
] as const;

export const CHAPTERS = ROUTES.slice(1);

/** Elements wider than the viewport, for a failed no-horizontal-scroll check. */
export async function horizontalOverflow(page: Page): Promise<{ scrollWidth: number; clientWidth: number; culprits: string[] }> {
  return page.evaluate(() => {
    const root = document.scrollingElement ?? document.documentElement;
    const clientWidth = root.clientWidth;
    const culprits: string[] = [];
    for (const el of Array.from(document.body.querySelectorAll('*'))) {
      const r = el.getBoundingClientRect();
      if (r.width > 0 && r.right > clientWidth + 1) {
        const id = el.id ? `#${el.id}` : '';
        const cls = typeof el.className === 'string' && el.className ? `.${el.className.trim().split(/\s+/).join('.')}` : '';
        culprits.push(`${el.tagName.toLowerCase()}${id}${cls} (right ${Math.round(r.right)})`);
        if (culprits.length >= 8) break;
      }
    }
    return { scrollWidth: root.scrollWidth, clientWidth, culprits };
  });
}

/** The engine as `?debug=1` exposes it: `window.gptLab`. */
export interface DebugApi {
  metrics(): Metrics[];
  status(): EngineStatus | null;
}

export async function status(page: Page): Promise<EngineStatus | null> {
  return page.evaluate(() => {
    const lab = (window as unknown as { gptLab?: DebugApi }).gptLab;
    if (lab == null) throw new Error('window.gptLab is missing: is ?debug=1 in the URL, and does the app expose it?');
    return lab.status();
  });
}

export async function metrics(page: Page): Promise<Metrics[]> {
  return page.evaluate(() => {
    const lab = (window as unknown as { gptLab?: DebugApi }).gptLab;
    if (lab == null) throw new Error('window.gptLab is missing: is ?debug=1 in the URL, and does the app expose it?');
    return lab.metrics();
  });
}

/** Waits for `window.gptLab` and an engine status that is past 'starting'. */
export async function waitForEngine(page: Page, timeout = 120_000): Promise<EngineStatus> {
  await page.waitForFunction(
    () => {
      const lab = (window as unknown as { gptLab?: DebugApi }).gptLab;
      const s = lab?.status();
      return s != null && s.state !== 'starting';
    },
    undefined,
    { timeout, polling: 250 },
  );
  const s = await status(page);
  if (s == null) throw new Error('engine status vanished');
  if (s.state === 'error') throw new Error(`the engine stopped with an error: ${s.error}`);
  return s;
}

/** Waits until at least `count` metrics have arrived (or the engine reports an error). */
export async function waitForMetrics(page: Page, count: number, timeout = 120_000): Promise<Metrics[]> {
  await page.waitForFunction(
    (n) => {
      const lab = (window as unknown as { gptLab?: DebugApi }).gptLab;
      if (lab == null) return false;
      if (lab.status()?.state === 'error') return true;
      return lab.metrics().length >= n;
    },
    count,
    { timeout, polling: 250 },
  );
  const s = await status(page);
  if (s?.state === 'error') throw new Error(`the engine stopped with an error: ${s.error}`);
  return metrics(page);
}

/**
 * The step the run is at: the engine reports its status on changes of state only, so while it
 * trains the newest metrics carry the step (as the lab bar shows it).
 */
export async function currentStep(page: Page): Promise<number> {
  return page.evaluate(() => {
    const lab = (window as unknown as { gptLab?: DebugApi }).gptLab;
    const m = lab?.metrics() ?? [];
    return Math.max(lab?.status()?.step ?? 0, m.length > 0 ? m[m.length - 1].step : 0);
  });
}

/** Waits until the run reaches `step` (see currentStep); returns the step reached. */
export async function waitForStep(page: Page, step: number, timeout = 120_000): Promise<number> {
  await page.waitForFunction(
    (n) => {
      const lab = (window as unknown as { gptLab?: DebugApi }).gptLab;
      const s = lab?.status();
      if (s == null) return false;
      if (s.state === 'error') return true;
      const m = lab!.metrics();
      return Math.max(s.step, m.length > 0 ? m[m.length - 1].step : 0) >= n;
    },
    step,
    { timeout, polling: 250 },
  );
  const s = await status(page);
  if (s == null || s.state === 'error') throw new Error(`the engine stopped with an error: ${s?.error}`);
  return currentStep(page);
}

export async function waitForState(page: Page, state: EngineStatus['state'], timeout = 60_000): Promise<EngineStatus> {
  await page.waitForFunction(
    (want) => {
      const s = (window as unknown as { gptLab?: DebugApi }).gptLab?.status();
      return s != null && (s.state === want || s.state === 'error');
    },
    state,
    { timeout, polling: 200 },
  );
  const s = await status(page);
  if (s == null || (s.state === 'error' && state !== 'error')) throw new Error(`the engine stopped with an error: ${s?.error}`);
  return s;
}

export function button(page: Page, name: string) {
  return page.getByRole('button', { name, exact: true });
}

export function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/**
 * Opens the lab dock if it is collapsed: clicks a collapsed (aria-expanded="false") control whose
 * name mentions the lab. Returns whether the Train button is visible afterwards.
 */
export async function openDock(page: Page): Promise<boolean> {
  const train = button(page, 'Train');
  if (await train.isVisible().catch(() => false)) return true;
  const toggles = page.locator('button[aria-expanded="false"], summary');
  const n = await toggles.count();
  for (let i = 0; i < n; i++) {
    const t = toggles.nth(i);
    const label = `${(await t.getAttribute('aria-label')) ?? ''} ${(await t.textContent()) ?? ''}`;
    if (/lab/i.test(label) && (await t.isVisible())) {
      await t.click();
      await train.waitFor({ state: 'visible', timeout: 5_000 }).catch(() => {});
      return train.isVisible();
    }
  }
  return false;
}

/**
 * One page of the built site for a whole test file, on the fallback (wasm, no WebGPU adapter) with
 * the tiny preset (context 32) and seed 1, at route `hash`: opened before the file's tests, once the
 * engine has started, and closed after them. Returns the session's getter.
 */
export function tinyWasmPage(hash: string): () => Session {
  let s: Session | undefined;
  beforeAll(async () => {
    await initSite();
    s = await openPage({ webgpu: false });
    await s.page.goto(siteURL('backend=wasm&preset=tiny&seed=1&debug=1', hash));
    const st = await waitForEngine(s.page);
    expect(st.backend?.name).toBe('wasm');
    expect(st.hp?.contextLength).toBe(32);
  });
  afterAll(async () => {
    await s?.close();
    await closeBrowsers();
  });
  return () => {
    if (s == null) throw new Error('tinyWasmPage: the page is opened in beforeAll');
    return s;
  };
}

/** The cells (th and td) of each body row of the table with `data-testid`, as text. */
export async function tableCells(page: Page, testId: string): Promise<string[][]> {
  return page
    .locator(`[data-testid="${testId}"] tbody tr`)
    .evaluateAll((trs) => trs.map((r) => Array.from(r.querySelectorAll('th, td')).map((c) => c.textContent ?? '')));
}
