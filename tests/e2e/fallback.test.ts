/**
 * Chromium without --enable-unsafe-webgpu: no WebGPU adapter. The calibration reports WebGPU absent,
 * with its reason, and the backend it picked instead trains — with the main thread free while it does.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeBrowsers, openPage, siteURL, type Session } from './harness';
import { button, waitForEngine, waitForMetrics, waitForStep } from './site';

let s: Session;
beforeAll(async () => {
  s = await openPage({ webgpu: false });
});
afterAll(async () => {
  await s?.close();
  await closeBrowsers();
});

describe('without a WebGPU adapter', () => {
  it('reports WebGPU absent, with its reason, and trains on the calibrated fallback', async () => {
    const { page } = s;
    // A long run: the fast path trains tiny's default 2000 steps in seconds, before the 8 s watch ends.
    await page.goto(siteURL('preset=tiny&seed=1&steps=100000&debug=1', '#/training'));
    const st = await waitForEngine(page, 170_000);
    const rates = st.backend?.rates ?? [];
    console.log(
      `[e2e] calibration without WebGPU (tiny): chose ${st.backend?.name} (${st.backend?.reason}); ` +
        rates.map((r) => `${r.name} ${r.available ? (r.tokensPerSecond?.toFixed(0) ?? '–') + ' tokens/s' : 'absent'} (${r.reason})`).join('; '),
    );
    const webgpu = rates.find((r) => r.name === 'webgpu');
    expect(webgpu, 'no webgpu entry in the calibration').toBeDefined();
    expect(webgpu!.available).toBe(false);
    expect(webgpu!.reason.length, 'WebGPU is absent without a reason').toBeGreaterThan(0);
    const item = page.locator('[data-backend="webgpu"]');
    await expect.poll(() => item.textContent()).toContain(webgpu!.reason);

    // The fastest measured backend runs, and says so.
    const measured = rates.filter((r) => r.available && r.tokensPerSecond != null);
    expect(measured.length, 'no backend was measured').toBeGreaterThan(0);
    const fastest = measured.reduce((a, b) => (b.tokensPerSecond! > a.tokensPerSecond! ? b : a));
    expect(st.backend?.name).toBe(fastest.name);
    await expect.poll(() => page.getByTestId('backend-badge').textContent()).toContain(fastest.name);

    await button(page, 'Train').click();
    await waitForStep(page, 10);
    const since = await page.evaluate(() => performance.now());
    await page.waitForTimeout(8_000);
    const longest = await s.longestTask(since);
    const m = await waitForMetrics(page, 5);
    await button(page, 'Pause').click();
    const last = m[m.length - 1];
    console.log(
      `[e2e] ${st.backend?.name} (fallback): ${last.step} steps, ${last.tokensPerSecond.toFixed(0)} tokens/s; ` +
        `longest main-thread task after step 10: ${longest.duration.toFixed(0)} ms (${longest.count} long tasks)${longest.attribution.map((a) => `\n  ${a}`).join('')}`,
    );
    expect(last.step).toBeGreaterThanOrEqual(20);
    expect(m.every((x) => Number.isFinite(x.trainLoss))).toBe(true);
    expect(longest.duration, 'a main-thread task longer than 150 ms while training').toBeLessThan(150);
    s.assertClean('fallback training');
  }, 300_000);
});
