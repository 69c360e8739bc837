/**
 * The Transformers chapter on the live model, in Chromium on the WebAssembly backend with a tiny
 * model trained from scratch (`?preset=tiny&seed=1`): what the widgets show are facts about that
 * model. Attention rows and next-token distributions sum to 1; the step-by-step head holds the same
 * numbers as the forward pass's map of that head; the next-token columns follow softmax(logits / T),
 * top-k and top-p; the parameter table adds up to the engine's count; and the numbers change when
 * the model trains. No console error, no axe violation with every widget filled in.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { closeBrowsers, describeViolations, initSite, openPage, runAxe, siteURL, type Session } from './harness';
import { button, openDock, status, waitForEngine, waitForState, waitForStep } from './site';

beforeAll(initSite);
afterAll(closeBrowsers);

interface Map2D {
  rows: number;
  cols: number;
  values: number[];
  layer: number;
  head: number;
}

/** Every heatmap with this test id, as numbers. */
async function maps(page: Page, testId: string): Promise<Map2D[]> {
  return page.locator(`[data-testid="${testId}"]`).evaluateAll((els) =>
    els.map((el) => ({
      rows: Number(el.getAttribute('data-rows')),
      cols: Number(el.getAttribute('data-cols')),
      values: (el.getAttribute('data-values') ?? '').split(' ').map(Number),
      layer: Number(el.getAttribute('data-layer')),
      head: Number(el.getAttribute('data-head')),
    })),
  );
}

/** Rows sum to 1, nothing above the diagonal, something on and below it. Returns the worst row error. */
function checkCausalRows(m: Map2D, what: string): number {
  expect(m.rows, what).toBe(m.cols);
  expect(m.values, what).toHaveLength(m.rows * m.cols);
  let worst = 0;
  for (let i = 0; i < m.rows; i++) {
    let sum = 0;
    for (let j = 0; j < m.cols; j++) {
      const p = m.values[i * m.cols + j];
      if (j > i) expect(p, `${what}: row ${i}, column ${j} is above the diagonal`).toBe(0);
      else expect(p, `${what}: row ${i}, column ${j}`).toBeGreaterThan(0);
      sum += p;
    }
    worst = Math.max(worst, Math.abs(sum - 1));
  }
  expect(worst, `${what}: a row does not sum to 1`).toBeLessThan(1e-5);
  return worst;
}

function maxDiff(a: number[], b: number[]): number {
  expect(a.length).toBe(b.length);
  return Math.max(...a.map((x, i) => Math.abs(x - b[i])));
}

interface NextRow {
  id: number;
  logit: number;
  plain: number;
  tempered: number;
  topK: number;
  final: number;
}

async function nextTokenTable(page: Page): Promise<NextRow[]> {
  return page.locator('[data-testid="next-token-table"] tbody tr').evaluateAll((rows) =>
    rows.map((tr) => {
      const v = (col: string) => Number(tr.querySelector(`td[data-col="${col}"]`)!.getAttribute('data-value'));
      return {
        id: Number(tr.getAttribute('data-id')),
        logit: v('logit'),
        plain: v('plain'),
        tempered: v('tempered'),
        topK: v('topK'),
        final: v('final'),
      };
    }),
  );
}

function softmax(xs: number[], t: number): number[] {
  const m = Math.max(...xs.map((x) => x / t));
  const e = xs.map((x) => Math.exp(x / t - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

describe('the Transformers chapter on a tiny model', () => {
  let s: Session;
  let page: Page;
  const before: { forward?: Map2D[]; logits?: number[] } = {};

  beforeAll(async () => {
    s = await openPage();
    page = s.page;
    await page.goto(siteURL('backend=wasm&preset=tiny&seed=1&debug=1', '#/transformers'));
    const st = await waitForEngine(page);
    expect(st.hp?.layers).toBe(2);
  }, 180_000);
  afterAll(async () => {
    await s?.close();
  });

  it('shows the text as character tokens (unknown ones counted) beside GPT-2’s fewer BPE tokens', async () => {
    const w = page.getByTestId('tokens-widget');
    const text = 'Call me Ishmael. Some years ago ☃';
    await w.getByLabel('Text to tokenise').fill(text);
    const chars = w.getByTestId('char-token-count');
    await expect.poll(() => chars.getAttribute('data-value'), { timeout: 30_000 }).toBe(String([...text].length));
    expect(await w.locator('.tf-chip-unknown').count()).toBe(1);
    const bpe = Number(await w.getByTestId('bpe-token-count').getAttribute('data-value'));
    expect(bpe).toBeGreaterThan(0);
    expect(bpe).toBeLessThan([...text].length / 2);
    s.assertClean('tokens');
  }, 60_000);

  it('attention: causal rows that sum to 1, and the step-by-step head equals the forward pass’s map of it', async () => {
    const w = page.getByTestId('attention-widget');
    await w.getByLabel('Prompt', { exact: true }).fill('Call me Ishmael. Some years');
    await w.getByLabel('Layer', { exact: true }).selectOption({ value: '1' });
    await w.getByLabel('Head', { exact: true }).selectOption({ value: '1' });
    await button(page, 'Look inside').click();
    await page.getByTestId('step-probs').waitFor({ timeout: 60_000 });
    const [step] = await maps(page, 'step-probs');
    const forward = await maps(page, 'forward-probs');
    expect(forward).toHaveLength(2 * 2);
    expect(step.rows).toBe(27);
    checkCausalRows(step, 'step by step');
    for (const f of forward) checkCausalRows(f, `forward layer ${f.layer} head ${f.head}`);
    const same = forward.find((f) => f.layer === step.layer && f.head === step.head)!;
    expect([step.layer, step.head]).toEqual([1, 1]);
    expect(maxDiff(step.values, same.values)).toBeLessThan(1e-5);
    // The other head of that layer holds other numbers: the comparison above could fail.
    const other = forward.find((f) => f.layer === 1 && f.head === 0)!;
    expect(maxDiff(step.values, other.values)).toBeGreaterThan(1e-4);
    // The table for the last query position is the map's last row, and sums to 1.
    const weights = await page
      .locator('[data-testid="query-row"] tbody tr td:last-child')
      .evaluateAll((tds) => tds.map((td) => Number(td.getAttribute('data-value'))));
    expect(weights).toHaveLength(step.rows);
    expect(maxDiff(weights, step.values.slice((step.rows - 1) * step.cols))).toBeLessThan(1e-6);
    expect(Math.abs(sum(weights) - 1)).toBeLessThan(1e-5);
    before.forward = forward;
    s.assertClean('attention');
  }, 120_000);

  it('next token: softmax(logits / T) in every column, k tokens after top-k, the fewest reaching p after top-p', async () => {
    const w = page.getByTestId('next-token-widget');
    await w.getByLabel('Prompt', { exact: true }).fill('Call me Ishmael. Some years ago, never mind how long');
    await button(page, 'Predict the next character').click();
    const out = page.getByTestId('next-token');
    await out.waitFor({ timeout: 60_000 });
    let rows = await nextTokenTable(page);
    const V = (await status(page))!.hp!.vocabSize;
    expect(rows).toHaveLength(V);
    const plain = softmax(
      rows.map((r) => r.logit),
      1,
    );
    expect(maxDiff(rows.map((r) => r.plain), plain)).toBeLessThan(1e-6);
    for (const col of ['plain', 'tempered', 'topK', 'final'] as const) expect(Math.abs(sum(rows.map((r) => r[col])) - 1)).toBeLessThan(1e-6);
    before.logits = rows.sort((a, b) => a.id - b.id).map((r) => r.logit);

    // Temperature 1 → 0.5 (ten steps of 0.05), top-k 0 → 5, top-p 1 → 0.5, with the keyboard.
    const press = async (label: string, key: string, times: number) => {
      const slider = w.getByLabel(label, { exact: true });
      await slider.focus();
      for (let i = 0; i < times; i++) await slider.press(key);
    };
    await press('Temperature', 'ArrowLeft', 10);
    await press('Top-k', 'ArrowRight', 5);
    await expect.poll(() => out.getAttribute('data-top-k'), { timeout: 30_000 }).toBe('5');
    await expect.poll(() => out.getAttribute('data-temperature')).toBe('0.5');
    rows = await nextTokenTable(page);
    const tempered = softmax(
      rows.map((r) => r.logit),
      0.5,
    );
    expect(maxDiff(rows.map((r) => r.tempered), tempered)).toBeLessThan(1e-6);
    const kept = rows.filter((r) => r.topK > 0);
    expect(kept).toHaveLength(5);
    const top5 = [...rows].sort((a, b) => b.logit - a.logit).slice(0, 5);
    expect(kept.map((r) => r.id).sort()).toEqual(top5.map((r) => r.id).sort());
    for (const col of ['tempered', 'topK', 'final'] as const) expect(Math.abs(sum(rows.map((r) => r[col])) - 1)).toBeLessThan(1e-6);

    await press('Top-p', 'ArrowLeft', 10);
    await expect.poll(() => out.getAttribute('data-top-p'), { timeout: 30_000 }).toBe('0.5');
    rows = await nextTokenTable(page);
    // Top-p keeps the likeliest characters until their probability (after the temperature) reaches p,
    // among the 5 top-k kept.
    const byT = rows.map((r) => r.tempered).sort((a, b) => b - a);
    let need = 0;
    for (let c = 0; c < 0.5 && need < 5; need++) c += byT[need];
    const final = rows.filter((r) => r.final > 0);
    expect(final).toHaveLength(need);
    for (const r of final) expect(r.topK).toBeGreaterThan(0);
    expect(Math.abs(sum(rows.map((r) => r.final)) - 1)).toBeLessThan(1e-6);

    // Sampling with those settings draws the number of characters asked for.
    await w.getByLabel('Characters', { exact: true }).selectOption({ value: '20' });
    await button(page, 'Sample with these settings').click();
    const sample = page.locator('[data-testid="sample-text"] strong');
    await sample.waitFor({ timeout: 120_000 });
    expect([...((await sample.textContent()) ?? '')]).toHaveLength(20);
    s.assertClean('next token');
  }, 240_000);

  it('the block: parameters per part add up to the engine’s count', async () => {
    await button(page, 'Measure the model').click();
    await page.getByTestId('parameter-table').waitFor({ timeout: 60_000 });
    const totals = await page
      .locator('[data-testid="parameter-table"] tbody td[data-value]')
      .evaluateAll((tds) => tds.map((td) => Number(td.getAttribute('data-value'))));
    const total = Number(await page.getByTestId('parameter-total').getAttribute('data-value'));
    expect(sum(totals)).toBe(total);
    expect(total).toBe((await status(page))!.parameters);
    // Every part of the diagram carries a measured activation size.
    const rms = await page.locator('[data-testid="block-diagram"] [data-rms]').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-rms'))));
    expect(rms.length).toBeGreaterThanOrEqual(10);
    for (const v of rms) expect(Number.isFinite(v) && v > 0).toBe(true);
    s.assertClean('block');
  }, 60_000);

  it('embeddings: neighbours by falling similarity, each position most similar to itself', async () => {
    await button(page, 'Show the embeddings').click();
    await page.getByTestId('neighbours').waitFor({ timeout: 60_000 });
    const sims = await page
      .locator('[data-testid="neighbours"] td[data-value]')
      .evaluateAll((tds) => tds.map((td) => Number(td.getAttribute('data-value'))));
    expect(sims.length).toBeGreaterThan(0);
    for (let i = 1; i < sims.length; i++) expect(sims[i]).toBeLessThanOrEqual(sims[i - 1]);
    const [pos] = await maps(page, 'position-similarity');
    for (let i = 0; i < pos.rows; i++) expect(pos.values[i * pos.cols + i]).toBeCloseTo(1, 5);
    s.assertClean('embeddings');
  }, 60_000);

  it('has no axe violations with every widget filled in', async () => {
    await page.getByTestId('step-probs').focus();
    await page.keyboard.press('ArrowUp');
    const violations = await runAxe(page);
    expect(violations, describeViolations(violations)).toEqual([]);
    s.assertClean('axe');
  }, 60_000);

  it('after training, the numbers change and still agree with the forward pass', async () => {
    expect(await openDock(page), 'the lab dock could not be shown').toBe(true);
    await button(page, 'Train').click();
    const reached = await waitForStep(page, 30);
    await button(page, 'Pause').click();
    const paused = await waitForState(page, 'paused');
    expect(paused.step).toBeGreaterThanOrEqual(reached);

    const attention = page.getByTestId('attention');
    await page.getByTestId('attention-widget').getByRole('button', { name: 'Look again', exact: true }).first().click();
    await expect.poll(() => attention.getAttribute('data-step'), { timeout: 60_000 }).toBe(String(paused.step));
    const [step] = await maps(page, 'step-probs');
    const forward = await maps(page, 'forward-probs');
    checkCausalRows(step, 'step by step, after training');
    for (const f of forward) checkCausalRows(f, `forward layer ${f.layer} head ${f.head}, after training`);
    const same = forward.find((f) => f.layer === step.layer && f.head === step.head)!;
    expect(maxDiff(step.values, same.values)).toBeLessThan(1e-5);
    const changed = Math.max(...forward.map((f, i) => maxDiff(f.values, before.forward![i].values)));
    expect(changed, 'the attention maps did not change with training').toBeGreaterThan(1e-3);

    const out = page.getByTestId('next-token');
    await page.getByTestId('next-token-widget').getByRole('button', { name: 'Predict again', exact: true }).click();
    await expect.poll(() => out.getAttribute('data-step'), { timeout: 60_000 }).toBe(String(paused.step));
    const rows = (await nextTokenTable(page)).sort((a, b) => a.id - b.id);
    for (const col of ['plain', 'tempered', 'topK', 'final'] as const) expect(Math.abs(sum(rows.map((r) => r[col])) - 1)).toBeLessThan(1e-6);
    const logitsChanged = maxDiff(
      rows.map((r) => r.logit),
      before.logits!,
    );
    console.log(
      `[e2e] transformers (wasm, tiny): after ${paused.step} steps the attention maps moved by up to ${changed.toFixed(4)} and the logits by ${logitsChanged.toFixed(3)}`,
    );
    expect(logitsChanged, 'the next-token logits did not change with training').toBeGreaterThan(1e-2);
    s.assertClean('after training');
  }, 240_000);
});
