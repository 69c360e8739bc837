/**
 * The Infrastructure chapter in Chromium without WebGPU (the fallback): the hardware panel names the
 * backend, the 6·N·D calculator computes what it says, and the data-parallel simulation in the
 * engine shows the single-batch update and the ring's bytes.
 * SCREENSHOT_DIR=/path saves a picture of each widget there.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parameterCount } from '../../src/gpt/config';
import { closeBrowsers, openPage, runAxe, siteURL, type Session } from './harness';
import { waitForEngine } from './site';

let s: Session;
beforeAll(async () => {
  s = await openPage({ webgpu: false, height: 1000 });
  await s.page.goto(siteURL('backend=wasm&preset=tiny&seed=2&debug=1', '#/infrastructure'));
  await waitForEngine(s.page);
});
afterAll(async () => {
  await s?.close();
  await closeBrowsers();
});

async function shot(name: string, selector: string): Promise<void> {
  const dir = process.env.SCREENSHOT_DIR;
  if (!dir) return;
  await s.page.locator(selector).first().screenshot({ path: path.join(dir, `infrastructure-${name}.png`) });
}

/** "1.2 × 10⁻⁷ (largest …)" → 1.2e-7. */
function fromScientific(text: string): number {
  const head = text.split(' (')[0];
  const sup = (t: string) => t.replace(/[⁻⁰¹²³⁴⁵⁶⁷⁸⁹]/g, (c) => (c === '⁻' ? '-' : String('⁰¹²³⁴⁵⁶⁷⁸⁹'.indexOf(c))));
  return Number(sup(head).replace(' × 10', 'e'));
}

/** "1,234,567 bytes" → 1234567. */
const number = (text: string | null) => Number((text ?? '').replace(/[^\d.]/g, ''));

describe('the Infrastructure chapter (no WebGPU)', () => {
  it('shows the backend the engine runs on, and no adapter', async () => {
    const { page } = s;
    await page.getByRole('button', { name: 'Look at this machine' }).click();
    await expect.poll(() => page.getByTestId('hw-adapter').textContent(), { timeout: 30_000 }).not.toBe('—');
    expect(await page.getByTestId('hw-backend').textContent()).toBe('wasm');
    expect(await page.getByTestId('hw-adapter').textContent()).toMatch(/no WebGPU|no adapter|offered no adapter|failed/);
    await page.getByRole('button', { name: 'Measure the matmul ceiling' }).click();
    await expect.poll(() => page.getByTestId('hw-ceiling').textContent(), { timeout: 60_000 }).toMatch(/FLOP\/s \((512|1024|2048)×/);
    await shot('hardware', '.infra-widget:has(#hw-title)');
    s.assertClean('hardware panel');
  }, 90_000);

  it('exports a tar with the checkpoint, config, text, script and README', async () => {
    const { page } = s;
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), page.getByRole('button', { name: 'Export for PyTorch' }).click()]);
    expect(download.suggestedFilename()).toMatch(/^gpt-lab-step\d+\.tar$/);
    const bytes = new Uint8Array(readFileSync((await download.path())!));
    const names: string[] = [];
    for (let at = 0; at + 512 <= bytes.length; ) {
      const header = bytes.subarray(at, at + 512);
      if (header.every((b) => b === 0)) break;
      expect(new TextDecoder().decode(header.subarray(257, 262))).toBe('ustar');
      names.push(new TextDecoder().decode(header.subarray(0, 100)).replace(/\0.*$/s, ''));
      const size = parseInt(new TextDecoder().decode(header.subarray(124, 135)), 8);
      at += 512 + Math.ceil(size / 512) * 512;
    }
    expect(names.filter((n) => !n.endsWith('/')).map((n) => n.replace(/^gpt-lab-export\//, '')).sort()).toEqual([
      'README.txt',
      'config.json',
      'model.safetensors',
      'train.txt',
      'train_gpt_lab.py',
    ]);
    await expect.poll(() => page.getByTestId('export-done').textContent()).toMatch(/validation loss \d\.\d{4}/);
    s.assertClean('export');
  }, 90_000);

  it('computes 6·N·D and the device-days for the inputs, and refuses a bad number on its field', async () => {
    const { page } = s;
    await page.getByLabel('Parameters N').fill('2e9');
    await page.getByLabel('Training tokens D').fill('5e10');
    await page.getByLabel('Utilisation (% of peak)').fill('50');
    await page.getByLabel('Accelerators').fill('8');
    const flops = 6 * 2e9 * 5e10; // 6 × 10²⁰
    await expect.poll(() => page.getByTestId('calc-flops').textContent()).toBe('6 × 10²⁰ FLOPs');
    // A100: 312 TFLOP/s at 50 %: 6e20 / 1.56e14 / 86,400 = 44.5 days.
    const days = number(await page.getByTestId('calc-days-a100').textContent());
    expect(days).toBeCloseTo(flops / (312e12 * 0.5) / 86400, 1);
    const h100 = number(await page.getByTestId('calc-days-h100').textContent());
    expect(h100).toBeCloseTo(flops / (989e12 * 0.5) / 86400, 1);
    await shot('calculator', '.infra-widget:has([data-testid="calc-flops"])');

    const field = page.getByLabel('Parameters N');
    await field.fill('lots');
    await expect.poll(() => field.getAttribute('aria-invalid')).toBe('true');
    await expect.poll(() => page.getByTestId('calc-flops').textContent()).toBe('—');
    const message = await page.locator(`#${await field.getAttribute('aria-describedby')}`).textContent();
    expect(message).toMatch(/must be a number/);
    await field.fill('2e9');
    await expect.poll(() => page.getByTestId('calc-flops').textContent()).toBe('6 × 10²⁰ FLOPs');
    s.assertClean('calculator');
  }, 60_000);

  it('runs a data-parallel step in the engine: the same update as one batch, and the ring’s bytes', async () => {
    const { page } = s;
    const st = await waitForEngine(page);
    await page.getByLabel(/Workers:/).fill('3');
    await page.getByLabel(/a tiny one/).check();
    await page.getByRole('button', { name: 'Run one data-parallel step' }).click();
    await expect.poll(() => page.getByTestId('dp-verdict').textContent(), { timeout: 120_000 }).toMatch(/^Equal: 3 workers/);
    expect(fromScientific((await page.getByTestId('dp-gradient').textContent()) ?? '')).toBeLessThan(1e-4);

    // The tiny simulation model: 2 layers, width 32, context 32, the run's vocabulary.
    const P = parameterCount({ layers: 2, heads: 2, width: 32, contextLength: 32, dropout: 0, vocabSize: st.hp!.vocabSize });
    const total = (await page.getByTestId('dp-total').textContent()) ?? '';
    expect(number(total.split(' bytes')[0])).toBe(2 * 2 * P * 4);
    expect(number(await page.getByTestId('dp-expected').textContent())).toBe(Math.round(((2 * 2) / 3) * P * 4));
    expect(number(await page.getByTestId('dp-bytes').textContent())).toBe(Math.round(((2 * 2) / 3) * P * 4));
    await shot('data-parallel', '.infra-widget:has([data-testid="dp-verdict"])');
    if (process.env.SCREENSHOT_DIR) await page.screenshot({ path: path.join(process.env.SCREENSHOT_DIR, 'infrastructure-page.png'), fullPage: true });

    const violations = await runAxe(page);
    expect(violations.map((v) => `${v.id}: ${v.nodes.length}`)).toEqual([]);
    s.assertClean('data-parallel simulation');
  }, 180_000);
});
