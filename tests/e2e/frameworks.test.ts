/**
 * The Frameworks chapter in Chromium: the autograd widget's tf.grad gradients (computed in the
 * engine worker) match the finite differences the page computes, read from the page at every node
 * and for the attention head; a bad input is refused on its field; the kernel profile of a live
 * training step lists kernels whose calls add up to the total.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeBrowsers, describeViolations, openPage, runAxe, siteURL, type Session } from './harness';
import { button, waitForEngine } from './site';

let s: Session;
beforeAll(async () => {
  s = await openPage();
  await s.page.goto(siteURL('backend=wasm&preset=tiny&seed=2&debug=1', '#/frameworks'));
  await waitForEngine(s.page);
});
afterAll(async () => {
  await s?.close();
  await closeBrowsers();
});

const relErr = (p: number, q: number) => Math.abs(p - q) / Math.max(Math.abs(p), Math.abs(q), 1e-6);

describe('the Frameworks chapter', () => {
  it('autograd: tf.grad matches the page’s finite differences at every node, for inputs the reader sets', async () => {
    const { page } = s;
    const widget = page.locator('.autograd');
    // A bad input is refused on its field and the button stays disabled.
    await widget.getByLabel('a', { exact: true }).fill('99');
    await expect.poll(() => widget.locator('.field-error').textContent()).toBe('a must lie between −10 and 10');
    expect(await button(page, 'Compute gradients with tf.grad').isDisabled()).toBe(true);

    for (const [a, b, c] of [
      [1.3, -0.7, 0.25],
      [-2, 0.4, 1.5],
    ]) {
      await widget.getByLabel('a', { exact: true }).fill(String(a));
      await widget.getByLabel('b', { exact: true }).fill(String(b));
      await widget.getByLabel('c', { exact: true }).fill(String(c));
      await button(page, 'Compute gradients with tf.grad').click();
      const f = page.locator('[data-testid="grad-table"] tr[data-node="f"] [data-col="tf"]');
      await expect.poll(() => f.textContent(), { timeout: 30_000 }).not.toBe('—');
      const rows = await page.locator('[data-testid="grad-table"] tbody tr').evaluateAll((trs) =>
        trs.map((tr) => ({
          node: tr.getAttribute('data-node'),
          tf: tr.querySelector('[data-col="tf"]')?.textContent ?? '',
          fd: tr.querySelector('[data-col="fd"]')?.textContent ?? '',
          shown: tr.querySelector('[data-col="rel"]')?.textContent ?? '',
        })),
      );
      console.log(`[e2e] autograd at a=${a}, b=${b}, c=${c}: ` + rows.map((r) => `${r.node} tf ${r.tf} fd ${r.fd} (${r.shown})`).join('; '));
      expect(rows.map((r) => r.node)).toEqual(['a', 'b', 'c', 'u', 'v', 'w', 'f']);
      for (const r of rows) {
        const tf = Number(r.tf);
        const fd = Number(r.fd);
        expect(Number.isFinite(tf) && Number.isFinite(fd), `${r.node}: “${r.tf}” / “${r.fd}”`).toBe(true);
        expect(relErr(tf, fd), `${r.node}: tf ${tf} vs fd ${fd}`).toBeLessThan(1e-3);
        expect(Number(r.shown)).toBeLessThan(1e-3);
      }
      // The chain rule by hand for the input read twice: ∂f/∂a = b·(1 − w²)·a + w.
      const w = Math.tanh(a * b + c);
      expect(Number(rows[0].tf)).toBeCloseTo(b * (1 - w * w) * a + w, 4);
    }
    s.assertClean('autograd');
  }, 120_000);

  it('attention head: ∂L/∂Q, ∂L/∂K, ∂L/∂V from tf.grads match finite differences entry by entry', async () => {
    const { page } = s;
    const widget = page.locator('.head-grad');
    await widget.getByLabel('Seed for Q, K, V and R').fill('5');
    await button(page, 'Compute ∂L/∂Q, ∂L/∂K, ∂L/∂V').click();
    await page.getByTestId('head-result').waitFor({ timeout: 30_000 });
    for (const name of ['q', 'k', 'v']) {
      const pairs = await page.getByTestId(`head-grad-${name}`).locator('td.pair').evaluateAll((tds) =>
        tds.map((td) => [td.querySelector('.g-tf')?.textContent ?? '', td.querySelector('.g-fd')?.textContent ?? '']),
      );
      expect(pairs.length).toBe(12);
      let largest = 0;
      for (const [tfText, fdText] of pairs) {
        const tf = Number(tfText);
        const fd = Number(fdText);
        expect(Number.isFinite(tf) && Number.isFinite(fd)).toBe(true);
        expect(Math.abs(tf - fd), `${name}: ${tfText} vs ${fdText}`).toBeLessThanOrEqual(1e-4 + 1e-3 * Math.abs(fd));
        largest = Math.max(largest, Math.abs(fd));
      }
      expect(largest, `∂L/∂${name} is all zeros`).toBeGreaterThan(1e-3);
    }
    const summary = await page.locator('[data-testid="head-summary"] [data-col="rel"]').allTextContents();
    console.log(`[e2e] attention head (seed 5, causal): relative errors Q, K, V = ${summary.join(', ')}`);
    expect(summary.map(Number).every((x) => x < 1e-3)).toBe(true);
    s.assertClean('attention head');
  }, 60_000);

  it('profiles one training step: kernels sorted by time, with calls that add up to the total', async () => {
    const { page } = s;
    await button(page, 'Profile one training step').click();
    const table = page.getByTestId('profile-table');
    await table.waitFor({ timeout: 120_000 });
    const rows = await table.locator('tbody tr').evaluateAll((trs) =>
      trs.map((tr) => ({
        name: tr.getAttribute('data-kernel') ?? '',
        composite: tr.getAttribute('data-composite') === 'true',
        calls: Number(tr.querySelector('[data-col="calls"]')?.textContent),
        time: Number(tr.querySelector('[data-col="time"]')?.textContent),
      })),
    );
    const totalCalls = Number(await page.locator('[data-testid="profile-total"] [data-col="calls"]').textContent());
    const totalTime = Number(await page.locator('[data-testid="profile-total"] [data-col="time"]').textContent());
    console.log(
      `[e2e] profile (wasm, tiny): ${rows.length} kernels, ${totalCalls} calls, ${totalTime} ms; top: ` +
        rows.slice(0, 6).map((r) => `${r.name} ×${r.calls} ${r.time} ms`).join(', '),
    );
    // Composite rows (custom-gradient ops, whose kernels have rows of their own) come last and are not counted.
    const kernels = rows.filter((r) => !r.composite);
    expect(rows.slice(0, kernels.length)).toEqual(kernels);
    expect(kernels.length).toBeGreaterThan(5);
    expect(kernels.map((r) => r.name)).toContain('BatchMatMul');
    expect(kernels.reduce((sum, r) => sum + r.calls, 0)).toBe(totalCalls);
    expect(totalTime).toBeGreaterThan(0);
    for (let i = 1; i < kernels.length; i++) expect(kernels[i - 1].time).toBeGreaterThanOrEqual(kernels[i].time);
    const violations = await runAxe(page);
    expect(violations, describeViolations(violations)).toEqual([]);
    s.assertClean('profile');
  }, 180_000);
});
