/**
 * Chromium with --enable-unsafe-webgpu (an adapter on SwiftShader, a software fallback adapter): the
 * calibration lists WebGPU with a measured rate, `?backend=webgpu` trains on it with a falling loss,
 * and `?backend=webgl` trains on WebGL. The `tiny` preset throughout: SwiftShader is ~100x slower
 * than a GPU.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeBrowsers, openPage, siteURL, type Session } from './harness';
import { button, mean, metrics, status, waitForEngine, waitForMetrics, waitForStep } from './site';

let s: Session;
beforeAll(async () => {
  s = await openPage({ webgpu: true });
});
afterAll(async () => {
  await s?.close();
  await closeBrowsers();
});

describe('with a WebGPU adapter (SwiftShader)', () => {
  it('the calibration lists WebGPU as available, with its measured rate', async () => {
    const { page } = s;
    await page.goto(siteURL('preset=tiny&seed=1&debug=1', '#/training'));
    const st = await waitForEngine(page, 170_000);
    const rates = st.backend?.rates ?? [];
    console.log(
      `[e2e] calibration with WebGPU (tiny): chose ${st.backend?.name} (${st.backend?.reason}); ` +
        rates.map((r) => `${r.name} ${r.available ? (r.tokensPerSecond?.toFixed(0) ?? '–') + ' tokens/s' : 'absent'} (${r.reason})`).join('; '),
    );
    const webgpu = rates.find((r) => r.name === 'webgpu');
    expect(webgpu, 'no webgpu entry in the calibration').toBeDefined();
    expect(webgpu!.available, `webgpu unavailable: ${webgpu!.reason}`).toBe(true);
    expect(webgpu!.tokensPerSecond).toBeGreaterThan(0);
    // The page lists it too, with its rate.
    const item = page.locator('[data-backend="webgpu"]');
    await expect.poll(() => item.textContent()).toMatch(/tokens\/s/);
    s.assertClean('calibration');
  }, 180_000);

  it('?backend=webgpu trains at least 20 steps with a falling loss; the main thread stays free', async () => {
    const { page } = s;
    await page.goto(siteURL('backend=webgpu&preset=tiny&seed=1&warmupSteps=10&debug=1', '#/training'));
    const st = await waitForEngine(page, 120_000);
    expect(st.backend?.name).toBe('webgpu');
    await expect.poll(() => page.getByTestId('backend-badge').textContent()).toMatch(/webgpu/i);
    await button(page, 'Train').click();
    const started = Date.now();
    // A GPU backend reads the loss back every 5 steps: 5 reports are 25 steps.
    await waitForStep(page, 10, 170_000);
    const since = await page.evaluate(() => performance.now());
    const m = await waitForMetrics(page, 5, 240_000);
    const wall = (Date.now() - started) / 1000;
    const longest = await s.longestTask(since);
    await button(page, 'Pause').click();
    const last = m[m.length - 1];
    const losses = m.map((x) => x.trainLoss);
    console.log(
      `[e2e] webgpu: ${last.step} steps in ${wall.toFixed(0)} s (${last.elapsedSeconds.toFixed(0)} s of it training), ${last.tokensPerSecond.toFixed(0)} tokens/s; ` +
        `losses ${m.map((x) => `${x.step}:${x.trainLoss.toFixed(3)}`).join(' ')}; ` +
        `longest main-thread task after step 10: ${longest.duration.toFixed(0)} ms (${longest.count} long tasks)${longest.attribution.map((a) => `\n  ${a}`).join('')}`,
    );
    expect(last.step).toBeGreaterThanOrEqual(20);
    expect(losses.every(Number.isFinite)).toBe(true);
    // Falling: the last two reports (steps 20-25) below the first two (steps 5-10).
    expect(mean(losses.slice(-2))).toBeLessThan(mean(losses.slice(0, 2)));
    expect((await status(page))?.backend?.name).toBe('webgpu');
    expect(longest.duration, 'a main-thread task longer than 150 ms while training').toBeLessThan(150);
    s.assertClean('webgpu training');
  }, 300_000);

  it('?backend=webgl trains on WebGL', async () => {
    const { page } = s;
    await page.goto(siteURL('backend=webgl&preset=tiny&seed=1&warmupSteps=10&debug=1', '#/training'));
    const st = await waitForEngine(page, 120_000);
    expect(st.backend?.name).toBe('webgl');
    await expect.poll(() => page.getByTestId('backend-badge').textContent()).toMatch(/webgl/i);
    await button(page, 'Train').click();
    const started = Date.now();
    const m = await waitForMetrics(page, 4, 240_000);
    const wall = (Date.now() - started) / 1000;
    await button(page, 'Pause').click();
    const last = m[m.length - 1];
    console.log(
      `[e2e] webgl: ${last.step} steps in ${wall.toFixed(0)} s (${last.elapsedSeconds.toFixed(0)} s of it training), ${last.tokensPerSecond.toFixed(0)} tokens/s, ` +
        `loss ${m[0].trainLoss.toFixed(3)} → ${last.trainLoss.toFixed(3)}`,
    );
    expect(last.step).toBeGreaterThanOrEqual(20);
    expect(m.every((x) => Number.isFinite(x.trainLoss))).toBe(true);
    expect((await status(page))?.backend?.name).toBe('webgl');
    expect((await metrics(page)).length).toBeGreaterThanOrEqual(4);
    s.assertClean('webgl training');
  }, 300_000);
});
