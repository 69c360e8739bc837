/**
 * The Training chapter on the fallback backend (WebAssembly, no WebGPU adapter) with the `tiny`
 * preset from the address (context 32): bad fine-tuning pairs are refused on their field, fine-tuning
 * and a preference step run and change the model's output (answers sampled with the same seeds before
 * and after), a comparison run can be stopped, and two comparison runs are overlaid with labels.
 */
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { formatPair, SFT_PAIRS } from '../../src/corpus/sft';
import { describeViolations, runAxe } from './harness';
import { button, status, tableCells, tinyWasmPage } from './site';

const lab = tinyWasmPage('#/training');

async function addPair(page: Page, question: string, answer: string) {
  await page.locator('#sft-question').fill(question);
  await page.locator('#sft-answer').fill(answer);
  await button(page, 'Add pair').click();
}

describe('fine-tuning', () => {
  it('refuses a bad pair on its field with a clear message, and keeps nothing of it', async () => {
    const { page } = lab();
    const before = await status(page);

    await addPair(page, '', 'Ahoy.');
    await expect.poll(() => page.locator('#sft-question-error').textContent()).toMatch(/The question is empty/);
    expect(await page.locator('#sft-question').getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('#sft-question').getAttribute('aria-describedby')).toBe('sft-question-error');

    const long = { question: 'Why?', answer: 'Because the sea is so wide.' };
    const length = formatPair(long).length;
    await addPair(page, long.question, long.answer);
    await expect
      .poll(() => page.locator('#sft-answer-error').textContent())
      .toContain(`is ${length} characters, ${length - 32} more than the model’s context of 32`);
    expect(await page.locator('#sft-question-error').count()).toBe(0);

    // A character outside the vocabulary: only the engine knows the vocabulary, and it says which.
    await addPair(page, 'Hi?', '2+2');
    await expect.poll(() => page.locator('#sft-answer-error').textContent()).toContain('“+”');

    console.log(`[e2e] refused pairs: "${await page.locator('#sft-answer-error').textContent()}"`);
    expect(await page.locator('[data-testid="reader-pairs"]').count()).toBe(0);
    const after = await status(page);
    expect(after?.step).toBe(before?.step);
    expect(after?.lastSavedStep).toBe(before?.lastSavedStep);
    lab().assertClean('bad pairs');
  }, 60_000);

  it('runs on the pairs that fit and the reader’s, and changes the answers sampled with the same seed', async () => {
    const { page } = lab();
    await addPair(page, 'Hi?', 'Ahoy.');
    await expect.poll(() => page.locator('[data-testid="reader-pairs"] li').count()).toBe(1);
    expect(await page.locator('.field-error').count()).toBe(0);
    await page.locator('#sft-steps').fill('30');
    // A model trained from scratch a moment ago (the address's run) needs a bolder rate than the shipped one.
    await page.locator('#sft-lr').fill('0.003');
    const started = Date.now();
    await button(page, 'Fine-tune the model').click();
    await page.locator('[data-testid="sft-result"]').waitFor({ timeout: 150_000 });
    const seconds = (Date.now() - started) / 1000;

    const fit = SFT_PAIRS.filter((p) => formatPair(p).length <= 32).length;
    const summary = (await page.locator('[data-testid="sft-summary"]').textContent()) ?? '';
    expect(summary).toContain(`30 steps on ${fit} built-in pairs (${SFT_PAIRS.length - fit} left out`);
    expect(summary).toContain('and 1 of yours');
    const result = page.locator('[data-testid="sft-result"]');
    const lossBefore = Number(await result.getAttribute('data-loss-before'));
    const lossAfter = Number(await result.getAttribute('data-loss-after'));
    expect(lossAfter).toBeLessThan(lossBefore);

    const rows = await tableCells(page, 'sft-answers');
    expect(rows.length).toBeGreaterThan(1);
    expect(rows[0][0]).toBe('Hi?');
    const changed = rows.filter(([, before, after]) => before !== after);
    console.log(
      `[e2e] fine-tuning (wasm, tiny, 30 steps): ${seconds.toFixed(1)} s in the page; masked loss ${lossBefore.toFixed(3)} → ${lossAfter.toFixed(3)}; ` +
        rows.map(([q, b, a]) => `${JSON.stringify(q)}: ${JSON.stringify(b)} → ${JSON.stringify(a)}`).join(' | '),
    );
    expect(changed.length).toBeGreaterThan(0);
    expect((await status(page))?.state).not.toBe('error');
    lab().assertClean('fine-tuning');
  }, 180_000);
});

describe('a preference step', () => {
  it('learns from the reader’s picks: the margin of the chosen answers grows and the samples change', async () => {
    const { page } = lab();
    const prompt = page.locator('#pref-prompt');
    await prompt.fill('');
    await button(page, 'Draw two answers').click();
    await expect.poll(() => page.locator('#pref-prompt-error').textContent()).toMatch(/prompt is empty/);

    await prompt.fill('Hi!');
    for (const choice of ['A is better', 'B is better', 'A is better']) {
      await button(page, 'Draw two answers').click();
      await page.locator('[data-testid="pref-pair"]').waitFor({ timeout: 60_000 });
      await button(page, choice).click();
      await page.locator('[data-testid="pref-pair"]').waitFor({ state: 'detached' });
    }
    await expect.poll(() => page.locator('[data-testid="pref-picks"]').textContent()).toMatch(/^3 picks/);
    await page.locator('#pref-lr').fill('0.003');
    await button(page, 'Run a DPO step').click();
    const result = page.locator('[data-testid="pref-result"]');
    await result.waitFor({ timeout: 120_000 });
    const before = Number(await result.getAttribute('data-margin-before'));
    const after = Number(await result.getAttribute('data-margin-after'));
    const rows = await tableCells(page, 'pref-samples');
    console.log(
      `[e2e] DPO step (wasm, tiny, 3 picks): margin ${before.toFixed(3)} → ${after.toFixed(3)} nats; ` +
        rows.map(([p, b, a]) => `${p}: ${JSON.stringify(b)} → ${JSON.stringify(a)}`).join(' | '),
    );
    expect(after).toBeGreaterThan(before);
    expect(rows).toHaveLength(2); // one prompt, two seeds
    expect(rows.some(([, b, a]) => b !== a)).toBe(true);
    expect(await page.locator('[data-testid="pref-picks"]').textContent()).toMatch(/^No picks yet/);
    lab().assertClean('preference step');
  }, 180_000);
});

describe('hyperparameters in action', () => {
  async function setRun(page: Page, values: Record<string, string>) {
    for (const [key, v] of Object.entries(values)) await page.locator(`#cmp-${key}`).fill(v);
  }

  it('stops a comparison run on Stop and keeps nothing of it', async () => {
    const { page } = lab();
    await setRun(page, { learningRate: '0.001', batchSize: '2', width: '16', layers: '1', contextLength: '16', steps: '2000' });
    await button(page, 'Train a comparison run').click();
    await page.locator('.job-progress progress').first().waitFor({ timeout: 30_000 });
    await expect.poll(async () => Number(await page.locator('.runs-panel progress').getAttribute('value')), { timeout: 60_000 }).toBeGreaterThan(0);
    await button(page, 'Stop').click();
    await expect.poll(() => page.locator('.runs-panel .widget-note').first().textContent(), { timeout: 60_000 }).toMatch(/Stopped/);
    expect(await page.locator('[data-testid="runs-table"]').count()).toBe(0);
  }, 120_000);

  it('overlays two runs with different learning rates, each labelled by its settings', async () => {
    const { page } = lab();
    for (const [i, lr] of ['0.001', '0.01'].entries()) {
      await setRun(page, { learningRate: lr, steps: '20' });
      await button(page, 'Train a comparison run').click();
      await expect.poll(() => page.locator('[data-testid="runs-table"] tbody tr').count(), { timeout: 120_000 }).toBe(i + 1);
    }
    const chart = page.locator('.runs-panel .compare-chart');
    expect(await chart.locator('.compare-chart-canvas').getAttribute('data-series')).toBe('2');
    expect(await chart.locator('canvas').count()).toBeGreaterThan(0);
    const labels = await chart.locator('.compare-legend li').allTextContents();
    expect(labels).toHaveLength(2);
    expect(labels[0]).toMatch(/^Run 1: lr 1e-3 · batch 2 · width 16 · layers 1 · context 16$/);
    expect(labels[1]).toMatch(/^Run 2: lr 1e-2 · batch 2 · width 16 · layers 1 · context 16$/);
    // The chart's description names both runs and their last losses.
    const described = (await chart.locator('.compare-chart-canvas').getAttribute('aria-label')) ?? '';
    expect(described).toContain('2 comparison runs');
    // The samples of the newest run, early, middle and late.
    const sampleSteps = await page.locator('[data-testid="run-samples"] .side-title').allTextContents();
    expect(sampleSteps).toEqual(['After step 2', 'After step 10', 'After step 20']);
    lab().assertClean('comparison runs');
  }, 240_000);

  it('shows a real batch, and the page with every widget filled has no axe violation', async () => {
    const { page } = lab();
    await button(page, 'Show a batch').click();
    await page.locator('[data-testid="batch-rows"]').waitFor({ timeout: 60_000 });
    const rows = await page.locator('[data-testid="batch-rows"] code').allTextContents();
    expect(rows).toHaveLength(8); // 4 windows (the tiny preset's batch), input and target each
    for (let i = 0; i < rows.length; i += 2) expect([...rows[i]].slice(1).join('')).toBe([...rows[i + 1]].slice(0, -1).join(''));
    const losses = await page.locator('[data-testid="batch-losses"] dd').allTextContents();
    expect(Number(losses[0])).toBeCloseTo(Math.log((await status(page))!.hp!.vocabSize), 3);
    const violations = await runAxe(page);
    expect(violations, describeViolations(violations)).toEqual([]);
    lab().assertClean('batch and axe');
  }, 120_000);
});
