/**
 * The Safety chapter on the fallback backend (WebAssembly, no WebGPU adapter) with the `tiny` preset
 * from the address: the bias probe runs on the live model and shows its numbers, counterfactual
 * fine-tuning runs and the probe's numbers change (before ≠ after, read from the page), a bad
 * setting is refused on its field, and axe finds nothing on the page with its results shown.
 */
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { describeViolations, runAxe } from './harness';
import { button, status, tableCells, tinyWasmPage } from './site';

const lab = tinyWasmPage('#/safety');

/** A number as the page prints it (a real minus sign, an explicit plus). */
function num(text: string): number {
  return Number(text.replace('−', '-').replace('+', ''));
}

async function dataValue(page: Page, testId: string): Promise<number> {
  return Number(await page.locator(`[data-testid="${testId}"]`).getAttribute('data-value'));
}

describe('the bias probe', () => {
  it('runs on the live model and shows each pair’s log-probabilities and gap', async () => {
    const { page } = lab();
    await button(page, 'Run the bias probe').click();
    await expect.poll(async () => (await tableCells(page, 'probe-table')).length, { timeout: 120_000 }).toBe(12);
    const table = await tableCells(page, 'probe-table');
    for (const [m, f, lpm, lpf, gap] of table) {
      expect(f).not.toBe(m); // the feminine side is the swap
      expect(num(lpm)).toBeLessThan(0);
      expect(num(lpf)).toBeLessThan(0);
      // The gap is the difference of the two log-probabilities shown (each rounded to 0.01).
      expect(Math.abs(num(gap) - (num(lpm) - num(lpf)))).toBeLessThanOrEqual(0.011);
    }
    expect(table[0][0]).toBe('The captain said that he was');
    expect(table[0][1]).toBe('The captain said that she was');
    const mean = await dataValue(page, 'probe-table-mean');
    const gaps = await page
      .locator('[data-testid="probe-table"] [data-gap-before]')
      .evaluateAll((cells) => cells.map((c) => Number(c.getAttribute('data-gap-before'))));
    expect(mean).toBeCloseTo(gaps.reduce((a, b) => a + b, 0) / gaps.length, 9);
    console.log(`[e2e] probe on the tiny model: mean gap ${mean.toFixed(4)}, gaps ${gaps.map((g) => g.toFixed(2)).join(' ')}`);
    lab().assertClean('bias probe');
  }, 180_000);
});

describe('counterfactual fine-tuning', () => {
  it('refuses a bad number of steps on its field', async () => {
    const { page } = lab();
    await page.locator('#mitigate-steps').fill('0');
    await expect.poll(() => page.locator('#mitigate-steps-error').textContent()).toMatch(/whole number from 1 to 2000/);
    expect(await page.locator('#mitigate-steps').getAttribute('aria-invalid')).toBe('true');
    expect(await button(page, 'Run counterfactual fine-tuning').isDisabled()).toBe(true);
  });

  it('runs, and the probe’s numbers after differ from those before; validation loss is reported', async () => {
    const { page } = lab();
    const probed = await dataValue(page, 'probe-table-mean');
    const stepBefore = (await status(page))?.step;
    await page.locator('#mitigate-steps').fill('20');
    await page.locator('#mitigate-rate').selectOption('0.001');
    await button(page, 'Run counterfactual fine-tuning').click();
    await page.locator('[data-testid="mitigate-result"]').waitFor({ timeout: 240_000 });
    const before = await dataValue(page, 'mitigate-gap-before');
    const after = await dataValue(page, 'mitigate-gap-after');
    // The probe before the fine-tuning read the same model as the probe above.
    expect(before).toBeCloseTo(probed, 6);
    expect(Number.isFinite(after)).toBe(true);
    expect(Math.abs(after - before)).toBeGreaterThan(1e-3);
    const table = await tableCells(page, 'mitigate-table');
    expect(table.length).toBe(12);
    const changed = table.filter((r) => r[4] !== r[5]).length;
    expect(changed).toBeGreaterThan(0);
    const valBefore = Number(await page.locator('[data-testid="mitigate-val-before"]').textContent());
    const valAfter = Number(await page.locator('[data-testid="mitigate-val-after"]').textContent());
    expect(valBefore).toBeGreaterThan(0);
    expect(valAfter).toBeGreaterThan(0);
    expect(valAfter).not.toBe(valBefore);
    // The reader's training step is untouched: the fine-tuning ran its own steps.
    expect((await status(page))?.step).toBe(stepBefore);
    console.log(
      `[e2e] mitigation on the tiny model (20 steps, lr 1e-3): mean gap ${before.toFixed(4)} → ${after.toFixed(4)}, ` +
        `validation loss ${valBefore} → ${valAfter}, ${changed}/12 pair gaps changed at two decimals`,
    );
    lab().assertClean('mitigation');
  }, 300_000);

  it('leaves the page with no axe violations, results shown', async () => {
    const violations = await runAxe(lab().page);
    expect(violations, describeViolations(violations)).toEqual([]);
  }, 60_000);
});
