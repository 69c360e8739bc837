/**
 * The browser benchmark page (bench.html, which `npm run bench` drives in Chromium): on the tiny
 * model, one timed step, it reports both paths on wasm in the bench's row format, labelled with
 * the page's real isolation, consistent with itself, and asks nothing off its origin. Speed itself
 * is never asserted (it belongs in `npm run bench`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flopsPerToken, resolveHyperparameters } from '../../src/gpt/config';
import type { BenchPageState } from '../../src/bench/request';
import type { RatioRow, TrainStepRow } from '../../src/bench/rows';
import { closeBrowsers, describeViolations, initSite, openPage, runAxe, type Session } from './harness';

/** DESIGN.md's train_step row, key for key and in order, as Node prints it. */
const TRAIN_STEP_KEYS = [
  'name', 'path', 'backend', 'env', 'threads', 'config', 'batch_size', 'tokens_per_s', 'gflops',
  'ceiling_gflops', 'ceiling_fraction', 'kernels_per_step', 'sync_kernels', 'device',
];

let s: Session;
let base: string;
beforeAll(async () => {
  base = await initSite();
  s = await openPage();
});
afterAll(async () => {
  await s?.close();
  await closeBrowsers();
});

async function runPage(query: string): Promise<BenchPageState> {
  await s.page.goto(`${base}bench.html?${query}`);
  await s.page.waitForFunction(() => window.__bench?.done === true, undefined, { timeout: 170_000, polling: 500 });
  return s.page.evaluate(() => window.__bench);
}

describe('bench.html', () => {
  it('measures the tiny model on wasm, both paths, in the bench row format', async () => {
    const state = await runPage('backends=wasm&configs=tiny&steps=1&warmup=1');
    expect(state.error).toBeNull();
    expect(state.skipped).toEqual([]);
    expect(state.failed).toEqual([]);
    const isolated = await s.page.evaluate(() => crossOriginIsolated);
    const env = isolated ? 'chromium-isolated' : 'chromium';

    const steps = state.rows.filter((r): r is TrainStepRow => r.name === 'train_step');
    expect(steps.map((r) => r.path)).toEqual(['reference', 'fast']);
    const hp = resolveHyperparameters('tiny', { vocabSize: 89 });
    for (const r of steps) {
      expect(Object.keys(r)).toEqual(TRAIN_STEP_KEYS);
      expect(r).toMatchObject({ backend: 'wasm', env, config: 'tiny', batch_size: hp.batchSize });
      expect(Number.isInteger(r.threads) && r.threads >= 1, `threads ${r.threads}`).toBe(true);
      expect(Number.isFinite(r.tokens_per_s) && r.tokens_per_s > 0, `tokens/s ${r.tokens_per_s}`).toBe(true);
      expect(Number.isInteger(r.kernels_per_step) && r.kernels_per_step > 0, `kernels ${r.kernels_per_step}`).toBe(true);
      expect(r.ceiling_gflops).toBeGreaterThan(0);
      // GFLOP/s is tokens/s times the model's FLOPs per token; the fraction is GFLOP/s over the ceiling.
      expect(Math.abs(r.gflops - (r.tokens_per_s * flopsPerToken(hp)) / 1e9)).toBeLessThanOrEqual(0.01 + 1e-3 * r.gflops);
      expect(Math.abs(r.ceiling_fraction - r.gflops / r.ceiling_gflops)).toBeLessThanOrEqual(0.01 + 0.01 * r.ceiling_fraction);
      expect(r.device).toMatch(/^wasm: /);
      expect(r.device).toContain(`${r.threads} thread`);
    }
    const [reference, fast] = steps;
    expect(reference.sync_kernels).toBe(0);
    expect(fast.sync_kernels).toBeGreaterThan(0);
    // The fast path on wasm runs on GPT Lab's SIMD kernels, installed from the site as the engine does.
    expect(fast.device).toContain("GPT Lab's SIMD kernels installed");

    const ratios = state.rows.filter((r): r is RatioRow => r.name === 'train_step_ratio');
    expect(ratios).toHaveLength(1);
    expect(ratios[0]).toMatchObject({ backend: 'wasm', env, threads: fast.threads, config: 'tiny' });
    expect(Math.abs(ratios[0].fast_over_reference - fast.tokens_per_s / reference.tokens_per_s)).toBeLessThanOrEqual(0.01 + 0.01 * ratios[0].fast_over_reference);

    // The page shows the same rows as text, one JSON object per line.
    const text = (await s.page.locator('#rows').textContent()) ?? '';
    expect(text.trim().split('\n').map((line) => JSON.parse(line))).toEqual(state.rows);

    // Nothing left the origin: every request the page and its worker made was to the site.
    expect(s.requests.length).toBeGreaterThan(0);
    expect(s.requests.filter((u) => /^https?:/.test(u) && new URL(u).origin !== s.origin)).toEqual([]);
    const violations = await runAxe(s.page);
    expect(violations, describeViolations(violations)).toEqual([]);
    s.assertClean('bench.html on wasm');
  }, 180_000);

  it('names a bad parameter on the page and measures nothing', async () => {
    const state = await runPage('backends=wasm&configs=huge');
    expect(state.rows).toEqual([]);
    expect(state.error).toMatch(/configs: "huge" is not one of tiny/);
    await expect.poll(() => s.page.locator('#status').textContent()).toContain('configs: "huge"');
    s.assertClean('bench.html with a bad address');
  });
});
