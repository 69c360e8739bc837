/**
 * The lab's controls on the WebAssembly backend (deterministic, and fast enough on two cores): a
 * shared link reproduces a run, a bad hyperparameter is refused on its field, a bad checkpoint file
 * is refused with a message, and a reload resumes from the autosave.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineStatus } from '../../src/engine/protocol';
import { closeBrowsers, initSite, openPage, siteURL, type Session } from './harness';
import { button, currentStep, metrics, status, waitForEngine, waitForMetrics, waitForState, waitForStep } from './site';

beforeAll(initSite);
afterAll(closeBrowsers);

/** What must not change when the reader's input is refused. */
function runState(st: EngineStatus | null) {
  return { hp: st?.hp, origin: st?.origin, backend: st?.backend?.name, step: st?.step, parameters: st?.parameters };
}

describe('a shared link', () => {
  it("gives the same first 20 train losses in a fresh browser context (the lab's own 'Copy link to this run')", async () => {
    /** Opens `url` in a fresh context, trains until 20 losses, pauses; returns them and the lab's link. */
    const trainFresh = async (url: string, label: string) => {
      const s = await openPage();
      try {
        await s.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: s.origin });
        await s.page.goto(url);
        const st = await waitForEngine(s.page);
        expect(st.backend?.name).toBe('wasm');
        expect(st.origin).toBe('scratch');
        await button(s.page, 'Train').click();
        const m = await waitForMetrics(s.page, 20);
        await button(s.page, 'Pause').click();
        await waitForState(s.page, 'paused');
        await button(s.page, 'Copy link to this run').click();
        // Copied to the clipboard or, where copying is refused, shown in a field.
        await expect.poll(async () => (await s.page.locator('.run-link-status').textContent()) ?? '').toMatch(/\S/);
        const shown = s.page.locator('#run-link-url');
        const link = (await shown.count()) > 0 ? await shown.inputValue() : await s.page.evaluate(() => navigator.clipboard.readText());
        s.assertClean(label);
        return { losses: m.slice(0, 20).map(({ step, trainLoss }) => ({ step, trainLoss })), link };
      } finally {
        await s.close();
      }
    };
    const a = await trainFresh(siteURL('backend=wasm&preset=tiny&seed=3&debug=1', '#/training'), 'first context');
    const link = new URL(a.link);
    expect(link.searchParams.get('backend')).toBe('wasm');
    expect(link.searchParams.get('seed')).toBe('3');
    link.searchParams.set('debug', '1');
    const b = await trainFresh(link.href, 'second context, from the copied link');
    const worst = Math.max(...a.losses.map((x, i) => Math.abs(x.trainLoss - b.losses[i].trainLoss)));
    console.log(
      `[e2e] shared link (wasm, tiny, seed 3): ${a.link.replace(/^https?:\/\/[^/]+/, '')}; steps ${a.losses[0].step}…${a.losses[19].step}, ` +
        `loss ${a.losses[0].trainLoss.toFixed(4)} → ${a.losses[19].trainLoss.toFixed(4)}, largest difference between the contexts ${worst}`,
    );
    expect(b.losses).toEqual(a.losses);
  }, 240_000);
});

describe('the lab on a running model', () => {
  let s: Session;
  beforeAll(async () => {
    s = await openPage();
    await s.page.goto(siteURL('backend=wasm&preset=tiny&seed=4&debug=1', '#/training'));
    await waitForEngine(s.page);
  });
  afterAll(async () => {
    await s?.close();
  });

  it('shows a bad hyperparameter on its field, keeps Apply disabled and leaves the engine as it was', async () => {
    const { page } = s;
    await button(page, 'Train').click();
    await waitForStep(page, 10);
    await button(page, 'Pause').click();
    const before = runState(await waitForState(page, 'paused'));

    // Width 32 does not divide among 3 heads: the error may sit on either field of the pair.
    const heads = page.locator('input[name="heads"]');
    await heads.fill('3');
    const pairError = page.locator('#heads-error, #width-error');
    await expect.poll(() => pairError.first().textContent()).toMatch(/\S/);
    const pairField = (await pairError.first().getAttribute('id'))!.replace('-error', '');
    expect(await page.locator(`input[name="${pairField}"]`).getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator(`input[name="${pairField}"]`).getAttribute('aria-describedby')).toContain(`${pairField}-error`);
    await expect.poll(() => button(page, 'Apply').isDisabled()).toBe(true);
    await heads.press('Enter'); // submitting the form must not get round the disabled button
    const pairMessage = await pairError.first().textContent();
    await heads.fill(String(before.hp!.heads));
    await expect.poll(() => page.locator('.field-error').count()).toBe(0);

    const lr = page.locator('input[name="learningRate"]');
    await lr.fill('-1');
    await expect.poll(() => page.locator('#learningRate-error').textContent()).toMatch(/\S/);
    expect(await lr.getAttribute('aria-invalid')).toBe('true');
    expect(await button(page, 'Apply').isDisabled()).toBe(true);
    await lr.press('Enter');
    console.log(
      `[e2e] field errors: heads 3 → #${pairField}-error "${pairMessage}" | learning rate -1 → "${await page.locator('#learningRate-error').textContent()}"`,
    );

    await page.waitForTimeout(500);
    const after = await status(page);
    expect(runState(after)).toEqual(before);
    expect(after?.state).toBe('paused');
    // Put the form back for the next test.
    await page.getByRole('button', { name: 'Revert', exact: true }).click();
    await expect.poll(() => page.locator('.field-error').count()).toBe(0);
    s.assertClean('bad hyperparameters');
  }, 120_000);

  it('refuses a bad checkpoint file with a message, and the model trains on from where it was', async () => {
    const { page } = s;
    // A real checkpoint of this model, to truncate.
    const [download] = await Promise.all([page.waitForEvent('download'), button(page, 'Export checkpoint').click()]);
    const real = await readFile(await download.path());
    expect(real.length).toBeGreaterThan(1000);

    const importFile = async (name: string, bytes: Buffer) => {
      const [chooser] = await Promise.all([page.waitForEvent('filechooser'), button(page, 'Import checkpoint').click()]);
      await chooser.setFiles({ name, mimeType: 'application/octet-stream', buffer: bytes });
      const alert = page.getByRole('alert').filter({ hasText: /\S/ }).first();
      await alert.waitFor({ state: 'visible', timeout: 30_000 });
      return (await alert.textContent()) ?? '';
    };

    // 1. Random bytes, while training.
    await button(page, 'Train').click();
    const stepBefore = await waitForStep(page, (await currentStep(page)) + 4);
    const before = runState(await status(page));
    const message1 = await importFile('random.safetensors', randomBytes(4096));
    const mid = await status(page);
    expect(mid?.origin).toBe(before.origin);
    expect(mid?.hp).toEqual(before.hp);
    const stepMid = await currentStep(page);
    expect(stepMid).toBeGreaterThanOrEqual(stepBefore);
    // Training goes on, from where it was.
    await waitForStep(page, stepMid + 4);
    await button(page, 'Pause').click();
    const paused = await waitForState(page, 'paused');

    // 2. A real checkpoint cut in half, while paused.
    const message2 = await importFile('truncated.safetensors', real.subarray(0, Math.floor(real.length / 2)));
    console.log(`[e2e] bad checkpoint messages: random bytes — "${message1}" | truncated — "${message2}"`);
    const after = await status(page);
    expect(runState(after)).toEqual(runState(paused));

    // The curve was kept, and the next steps continue it.
    const history = await metrics(page);
    expect(history[0].step).toBeLessThanOrEqual(stepBefore);
    await button(page, 'Train').click();
    await waitForStep(page, paused.step + 4);
    await button(page, 'Pause').click();
    const steps = (await metrics(page)).map((m) => m.step);
    expect(steps.filter((x) => x > paused.step).length).toBeGreaterThan(0);
    expect([...steps].sort((x, y) => x - y)).toEqual(steps); // no restart from step 0
    s.assertClean('bad checkpoints');
  }, 180_000);

  it('resumes from the saved step after a reload without the run in the address', async () => {
    const { page } = s;
    await waitForState(page, 'paused');
    await button(page, 'Train').click();
    await waitForStep(page, (await currentStep(page)) + 10);
    await button(page, 'Pause').click();
    // Pause autosaves: wait until the saved step is the step training stopped at.
    await page.waitForFunction(
      () => {
        const st = window.gptLab?.status();
        return st != null && st.state === 'paused' && st.lastSavedStep === st.step;
      },
      undefined,
      { timeout: 60_000 },
    );
    const saved = (await status(page))!;
    await page.goto(siteURL('debug=1', '#/training'));
    const restored = await waitForEngine(page, 170_000);
    const shown = Number(await page.getByTestId('step').textContent());
    console.log(`[e2e] reload: saved at step ${saved.step}, restored at step ${restored.step} (origin ${restored.origin}, ${restored.backend?.name}), the page shows step ${shown}`);
    expect(restored.origin).toBe('restored');
    expect(restored.step).toBeGreaterThanOrEqual(saved.lastSavedStep!);
    expect(shown).toBeGreaterThanOrEqual(saved.lastSavedStep!);
    expect(restored.hp).toEqual(saved.hp);
    s.assertClean('reload');
  }, 240_000);
});
