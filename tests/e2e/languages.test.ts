/**
 * The Languages chapter's four-way matmul benchmark in Chromium: without WebGPU the webgpu row says
 * it is unavailable and why, and the other ways show positive GFLOP/s with results that agree; with
 * --enable-unsafe-webgpu (SwiftShader) webgpu runs too, and the WGSL it ran is shown.
 * The reader's model stays on wasm (`?backend=wasm`): the benchmark borrows the other backends.
 */
import type { Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { closeBrowsers, describeViolations, openPage, runAxe, siteURL } from './harness';
import { button, waitForEngine } from './site';

afterAll(closeBrowsers);

interface Row {
  way: string;
  available: boolean;
  gflopsText: string;
  diff: string;
  reason: string;
}

/** Sets n, runs the benchmark with every way and reads the result table. */
async function runBenchmark(page: Page, n: number): Promise<Row[]> {
  await page.getByLabel('Matrix size n (A and B are n × n)').fill(String(n));
  await button(page, 'Run the benchmark').click();
  const result = page.getByTestId('matmul-result');
  await result.waitFor({ timeout: 240_000 });
  expect(await result.getAttribute('data-n')).toBe(String(n));
  return page.locator('.matmul-table tbody tr').evaluateAll((rows) =>
    rows.map((r) => {
      const way = r.getAttribute('data-way') ?? '';
      return {
        way,
        available: r.getAttribute('data-available') === 'true',
        gflopsText: r.querySelectorAll('td')[0]?.textContent ?? '',
        diff: r.querySelectorAll('td')[3]?.textContent ?? '',
        reason: document.querySelector(`.way-notes li[data-way="${way}"] .reason`)?.textContent ?? '',
      };
    }),
  );
}

function log(label: string, n: number, rows: Row[]) {
  console.log(`[e2e] matmul ${label}, n = ${n}: ` + rows.map((r) => `${r.way} ${r.available ? `${r.gflopsText} GFLOP/s (Δ ${r.diff})` : `unavailable (${r.reason})`}`).join('; '));
}

describe('the four-way matmul', () => {
  it('runs on the fallback: loop, cpu and wasm measured and agreeing; webgpu unavailable with a reason', async () => {
    const s = await openPage({ webgpu: false });
    try {
      const { page } = s;
      await page.goto(siteURL('backend=wasm&preset=tiny&seed=1&debug=1', '#/languages'));
      await waitForEngine(page);
      // A bad size is refused on its field, and nothing runs.
      await page.getByLabel('Matrix size n (A and B are n × n)').fill('5');
      await button(page, 'Run the benchmark').click();
      await expect.poll(() => page.locator('.matmul-bench .field-error').textContent()).toBe('the size must lie between 16 and 2048');
      expect(await page.getByTestId('matmul-result').count()).toBe(0);

      const n = 128;
      const rows = await runBenchmark(page, n);
      log('without WebGPU', n, rows);
      expect(rows.map((r) => r.way)).toEqual(['typescript', 'cpu', 'wasm', 'webgpu']);
      for (const r of rows.filter((x) => x.way !== 'webgpu')) {
        expect(r.available, `${r.way}: ${r.reason}`).toBe(true);
        const gflops = Number(r.gflopsText.replace(/,/g, ''));
        expect(Number.isFinite(gflops) && gflops > 0, `${r.way} GFLOP/s “${r.gflopsText}”`).toBe(true);
      }
      // Results agree with the cpu reference to float32 rounding.
      const byWay = Object.fromEntries(rows.map((r) => [r.way, r]));
      expect(byWay.cpu.diff).toBe('reference');
      for (const way of ['typescript', 'wasm']) expect(Number(byWay[way].diff), way).toBeLessThan(1e-3);
      const webgpu = byWay.webgpu;
      expect(webgpu.available).toBe(false);
      expect(webgpu.gflopsText).toBe('unavailable');
      expect(webgpu.reason).toMatch(/^unavailable: \S/);
      expect(await page.getByTestId('wgsl-missing').textContent()).toMatch(/WebGPU did not run/);
      const violations = await runAxe(page);
      expect(violations, describeViolations(violations)).toEqual([]);
      s.assertClean('matmul on the fallback');
    } finally {
      await s.close();
    }
  }, 300_000);

  it('runs on WebGPU (SwiftShader) too, and shows the WGSL it ran', async () => {
    const s = await openPage({ webgpu: true });
    try {
      const { page } = s;
      await page.goto(siteURL('backend=wasm&preset=tiny&seed=1&debug=1', '#/languages'));
      await waitForEngine(page);
      const n = 128;
      const rows = await runBenchmark(page, n);
      log('with WebGPU (SwiftShader)', n, rows);
      for (const r of rows) {
        expect(r.available, `${r.way}: ${r.reason}`).toBe(true);
        const gflops = Number(r.gflopsText.replace(/,/g, ''));
        expect(Number.isFinite(gflops) && gflops > 0, `${r.way} GFLOP/s “${r.gflopsText}”`).toBe(true);
      }
      const webgpu = rows.find((r) => r.way === 'webgpu')!;
      expect(Number(webgpu.diff)).toBeLessThan(1e-3);
      const kernel = (await page.getByTestId('wgsl-kernel').textContent()) ?? '';
      const wgsl = (await page.getByTestId('wgsl-source').textContent()) ?? '';
      console.log(`[e2e] WGSL of the webgpu matmul: ${wgsl.length} characters; ${(await page.locator('.wgsl p').first().textContent())?.slice(0, 200)}`);
      // A WGSL compute shader: an entry point with a workgroup size, reading storage buffers.
      expect(wgsl).toMatch(/@compute\s+@workgroup_size/);
      expect(wgsl).toMatch(/var<storage/);
      expect(wgsl).toMatch(/fn\s+\w+/);
      // The body shown first is part of the module that was compiled.
      const firstLine = kernel.split('\n').map((l) => l.trim()).find((l) => l.length > 0) ?? '';
      expect(firstLine.length).toBeGreaterThan(0);
      expect(wgsl).toContain(firstLine);
      const violations = await runAxe(page);
      expect(violations, describeViolations(violations)).toEqual([]);
      s.assertClean('matmul with WebGPU');
    } finally {
      await s.close();
    }
  }, 300_000);
});
