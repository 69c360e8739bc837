/**
 * Faults injected into the built site in Chromium, each checked from the reader's side (the banner
 * text above the lab dock) and for what must survive it (the weights, the autosave, the curve):
 *
 * 1. a NaN loss mid-training: a checkpoint whose weights are finite but huge makes attention scores
 *    overflow on the first step; training pauses and the last good weights come back;
 * 2. a lost WebGPU device: the device tfjs trains on is destroyed from inside the engine worker;
 *    the run moves to the next backend and resumes from its last checkpoint;
 * 3. IndexedDB full: the DevTools protocol shrinks the origin's quota; autosaves fail with a clear
 *    message, training goes on, and export still works;
 * 4. a reload in the middle of an autosave: IndexedDB is held while the new slot is being written
 *    and the page reloads; the last complete save comes back, byte for byte;
 * 5. the engine worker dies (`self.close()`, which fires no event): the page notices (the worker's
 *    Web Lock is released), starts a new engine, restores the autosaved run and says so.
 *
 * Nothing here needs a hook in the shipped code: the faults come from outside (a crafted file, the
 * DevTools protocol, code evaluated in the engine worker's global scope). The `tiny` preset on the
 * WebAssembly backend throughout, except the WebGPU case (SwiftShader, slow). With E2E_SHOTS_DIR
 * set, each notice is also saved as a screenshot there.
 */
import { mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Page, Worker } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeSafetensors, encodeSafetensors } from '../../src/engine/safetensors';
import { closeBrowsers, initSite, openPage, siteURL } from './harness';
import { button, currentStep, metrics, status, waitForEngine, waitForState, waitForStep } from './site';

beforeAll(initSite);
afterAll(closeBrowsers);

const SHOTS = process.env.E2E_SHOTS_DIR;

async function shot(page: Page, name: string): Promise<void> {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
}

/** Trains at least `steps` more steps, pauses, and waits for the autosave of the step it stopped at. */
async function trainAndSave(page: Page, steps: number) {
  await button(page, 'Train').click();
  await waitForStep(page, (await currentStep(page)) + steps, 240_000);
  await button(page, 'Pause').click();
  return waitForSaved(page);
}

async function waitForSaved(page: Page, timeout = 60_000) {
  await page.waitForFunction(
    () => {
      const st = window.gptLab?.status();
      return st != null && st.state === 'paused' && st.lastSavedStep === st.step;
    },
    undefined,
    { timeout, polling: 200 },
  );
  return (await status(page))!;
}

/** After 'Import checkpoint': the imported model is installed and autosaved. */
async function waitForImported(page: Page) {
  await page.waitForFunction(
    () => {
      const st = window.gptLab?.status();
      return st != null && st.origin === 'imported' && st.state === 'idle' && st.lastSavedStep === st.step;
    },
    undefined,
    { timeout: 60_000, polling: 200 },
  );
}

/** The bytes of 'Export checkpoint'. */
async function exportCheckpoint(page: Page): Promise<Buffer> {
  const [download] = await Promise.all([page.waitForEvent('download', { timeout: 90_000 }), button(page, 'Export checkpoint').click()]);
  return readFile((await download.path())!);
}

async function importCheckpoint(page: Page, name: string, bytes: Uint8Array): Promise<void> {
  const [chooser] = await Promise.all([page.waitForEvent('filechooser'), button(page, 'Import checkpoint').click()]);
  await chooser.setFiles({ name, mimeType: 'application/octet-stream', buffer: Buffer.from(bytes) });
}

/** name → raw float32 bytes of each weight, and the checkpoint's step. */
function weightsOf(bytes: Uint8Array): { step: number; weights: Map<string, Buffer> } {
  const file = decodeSafetensors(bytes);
  const weights = new Map([...file.tensors].map(([n, t]) => [n, Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength)]));
  return { step: Number(file.metadata.step), weights };
}

function expectSameWeights(actual: Uint8Array, expected: Uint8Array, what: string): void {
  const a = weightsOf(actual).weights;
  const b = weightsOf(expected).weights;
  expect([...a.keys()], what).toEqual([...b.keys()]);
  const differing = [...b].filter(([name, data]) => !a.get(name)!.equals(data)).map(([name]) => name);
  expect(differing, `${what}: weights that differ`).toEqual([]);
}

interface SlotSummary {
  step: number;
  /** SHA-256 of the checkpoint and of the resume record. */
  checkpoint: string;
  resume: string;
}

/** What the run's IndexedDB holds (read from the page, while the engine writes nothing). */
async function readRunDb(page: Page): Promise<{ pointer: 'a' | 'b'; slots: Record<'a' | 'b', SlotSummary | null> }> {
  return page.evaluate(async () => {
    const hex = async (bytes: Uint8Array<ArrayBuffer>) =>
      Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)), (b) => b.toString(16).padStart(2, '0')).join('');
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const open = indexedDB.open('gpt-lab-run');
      open.onerror = () => reject(open.error);
      open.onsuccess = () => resolve(open.result);
    });
    const read = (key: string) =>
      new Promise<unknown>((resolve, reject) => {
        const request = db.transaction('run', 'readonly').objectStore('run').get(key);
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      });
    type Rec = { checkpoint: Uint8Array<ArrayBuffer>; resume: Uint8Array<ArrayBuffer>; meta: { step: number } } | undefined;
    const summary = async (r: Rec) =>
      r == null ? null : { step: r.meta.step, checkpoint: await hex(r.checkpoint), resume: await hex(r.resume) };
    const pointer = (await read('pointer')) as 'a' | 'b';
    const slots = { a: await summary((await read('slot-a')) as Rec), b: await summary((await read('slot-b')) as Rec) };
    db.close();
    return { pointer, slots };
  });
}

/** The engine's dedicated worker (the one that loaded engine.worker-*.js). */
async function engineWorker(page: Page, not?: Worker): Promise<Worker> {
  let found: Worker | undefined;
  await expect
    .poll(() => (found = page.workers().find((w) => /engine\.worker/.test(w.url()) && w !== not)), { timeout: 30_000 })
    .toBeDefined();
  return found!;
}

async function noticeText(page: Page, testId = 'notice', timeout = 120_000): Promise<string> {
  const notice = page.getByTestId(testId);
  await notice.waitFor({ state: 'visible', timeout });
  return ((await notice.textContent()) ?? '').trim();
}

describe('faults, each told to the reader, with nothing lost', () => {
  it('a NaN loss pauses training and restores the last good weights', async () => {
    const s = await openPage();
    try {
      const { page } = s;
      await page.goto(siteURL('backend=wasm&preset=tiny&seed=5&debug=1', '#/training'));
      await waitForEngine(page);
      const saved = await trainAndSave(page, 10);
      const good = await exportCheckpoint(page);

      // The same model with its first attention projection scaled by 1e25: every weight finite (so the
      // import accepts it), but queries and keys near 1e24, so their dot products overflow to
      // Infinity and the softmax over them gives NaN.
      const file = decodeSafetensors(good);
      const name = 'transformer.h.0.attn.c_attn.weight';
      const t = file.tensors.get(name)!;
      const huge = new Map(file.tensors);
      huge.set(name, { shape: t.shape, data: t.data.map((v) => v * 1e25) });
      const hugeBytes = encodeSafetensors(huge, file.metadata);
      expect(huge.get(name)!.data.every(Number.isFinite)).toBe(true);

      await importCheckpoint(page, 'huge.safetensors', hugeBytes);
      await waitForImported(page);
      expect((await status(page))!.step).toBe(saved.step);

      await button(page, 'Train').click();
      const text = await noticeText(page);
      await shot(page, '1-nan');
      const after = await waitForState(page, 'paused');
      console.log(`[e2e] NaN: "${text}" (state ${after.state}, step ${after.step})`);
      // (The wasm backend reads the loss every second step: the bad step is reported with the next.)
      const match =
        /^The loss became (NaN|Infinity|-Infinity) at step (\d+), so training paused and the weights of step (\d+), the last good ones, were restored\. If it happens again, lower the learning rate or load another checkpoint\.$/.exec(
          text,
        );
      expect(match, text).not.toBeNull();
      expect(Number(match![2])).toBeGreaterThan(saved.step);
      expect(Number(match![2])).toBeLessThanOrEqual(saved.step + 2);
      expect(Number(match![3])).toBe(saved.step);
      expect(after.step).toBe(saved.step);
      // The last good weights are the ones it had before the bad step: those of the file, bit for bit.
      expectSameWeights(await exportCheckpoint(page), hugeBytes, 'after the NaN');
      // No NaN reached the curve.
      expect((await metrics(page)).every((m) => Number.isFinite(m.trainLoss))).toBe(true);

      // The reader brings the good checkpoint back, and training goes on with finite losses.
      await importCheckpoint(page, 'good.safetensors', good);
      await waitForImported(page);
      await button(page, 'Train').click();
      await waitForStep(page, saved.step + 5);
      await button(page, 'Pause').click();
      const m = await metrics(page);
      expect(m.length).toBeGreaterThan(0);
      expect(m.every((x) => Number.isFinite(x.trainLoss))).toBe(true);
      s.assertClean('NaN loss');
    } finally {
      await s.close();
    }
  }, 300_000);

  it('a lost WebGPU device moves training to the next backend, from the last checkpoint', async () => {
    // Chromium reports its own view of the destroyed device as console errors and warnings.
    const s = await openPage({ webgpu: true, allowConsole: [/WebGPU|GPU|[Dd]evice|destroyed|mapAsync/] });
    try {
      const { page } = s;
      await page.goto(siteURL('backend=webgpu&preset=tiny&seed=1&warmupSteps=5&debug=1', '#/training'));
      const st = await waitForEngine(page, 170_000);
      expect(st.backend?.name).toBe('webgpu');
      // The last checkpoint is the one the run started from (the engine keeps one in memory at start,
      // at every autosave and on pause). SwiftShader is slow: no pause here, whose validation pass
      // alone takes minutes on a busy machine.
      const saved = { step: st.step };
      await button(page, 'Train').click();
      await waitForStep(page, saved.step + 5, 300_000);

      // In the worker: catch the device tfjs uses the next time it records GPU work, and destroy it.
      // Only tfjs's device is affected; nothing in the engine knows this happened until WebGPU says so.
      const worker = await engineWorker(page);
      const how = await worker.evaluate(
        () =>
          new Promise<string>((resolve) => {
            const proto = GPUDevice.prototype;
            const original = proto.createCommandEncoder;
            proto.createCommandEncoder = function (this: GPUDevice, ...args: Parameters<GPUDevice['createCommandEncoder']>) {
              proto.createCommandEncoder = original;
              const encoder = original.apply(this, args);
              setTimeout(() => {
                this.destroy();
                resolve(`destroyed ${this.label || 'the device'}`);
              }, 0);
              return encoder;
            };
          }),
      );
      const text = await noticeText(page, 'notice', 120_000);
      await shot(page, '2-device-lost');
      const moved = (await status(page))!;
      console.log(`[e2e] device lost (${how}): "${text}"; now on ${moved.backend?.name} (${moved.backend?.reason}), state ${moved.state}`);
      expect(text).toBe(`The GPU device was lost; training moved to ${moved.backend?.name} and resumed from step ${saved.step}.`);
      expect(moved.backend?.name).toBe('webgl');
      expect(moved.backend?.reason).toBe('fell back after the GPU device was lost');
      // The curve went back to the checkpoint, and training goes on from it, on WebGL.
      await waitForStep(page, saved.step + 5, 300_000);
      const resumed = (await status(page))!;
      const m = await metrics(page);
      const steps = m.map((x) => x.step);
      console.log(`[e2e]   after the fallback: ${resumed.state} on ${resumed.backend?.name}, steps ${steps.join(' ')}`);
      expect([...steps].sort((a, b) => a - b)).toEqual(steps);
      expect(steps[0]).toBeGreaterThan(saved.step);
      expect(m.every((x) => Number.isFinite(x.trainLoss))).toBe(true);
      expect(resumed.state).toBe('training');
      expect(resumed.backend?.name).toBe('webgl');
      s.errors.splice(0); // the GPU's own complaints about the destroyed device (allowed above) aside
      s.assertClean('device lost');
    } finally {
      await s.close();
    }
  }, 720_000);

  it('IndexedDB full: a clear message, training goes on, export still works', async () => {
    const s = await openPage();
    try {
      const { page } = s;
      // A long run: it must still be training when an autosave fails (the fast path trains tiny's
      // default 2000 steps in seconds, and Chromium applies a new quota lazily).
      await page.goto(siteURL('backend=wasm&preset=tiny&seed=6&steps=100000&debug=1', '#/training'));
      await waitForEngine(page);
      const saved = await trainAndSave(page, 10);
      const before = await exportCheckpoint(page);

      // One byte of quota for the whole origin: the next write of a checkpoint cannot fit.
      const cdp = await page.context().newCDPSession(page);
      await cdp.send('Storage.overrideQuotaForOrigin', { origin: s.origin, quotaSize: 1 });

      // Train across the next autosave (every 200 steps); it fails, and training does not stop.
      await button(page, 'Train').click();
      const text = await noticeText(page, 'notice', 240_000);
      await shot(page, '3-storage-full');
      const during = (await status(page))!;
      console.log(`[e2e] storage full: "${text}" (state ${during.state}, last saved step ${during.lastSavedStep})`);
      expect(text).toMatch(
        /^Autosave failed: the browser has no more room to store this site's data \(QuotaExceededError(: .+)?\)\. Training goes on; export a checkpoint to keep your work\.$/,
      );
      expect(during.state).toBe('training');
      // Chromium applies the new quota lazily: an autosave or two may still fit before one fails.
      // The last good save stays where it was: an earlier step, at one of the autosave points.
      const failedAt = await currentStep(page);
      expect(during.lastSavedStep).not.toBeNull();
      expect(during.lastSavedStep!).toBeLessThan(failedAt);
      expect(during.lastSavedStep === saved.step || during.lastSavedStep! % 200 === 0).toBe(true);
      await waitForStep(page, failedAt + 10);

      // Export works while the disk is full (and while training).
      const exported = await exportCheckpoint(page);
      const { step, weights } = weightsOf(exported);
      expect(step).toBeGreaterThanOrEqual(200);
      const earlier = weightsOf(before).weights;
      expect([...weights.keys()]).toEqual([...earlier.keys()]);
      // Trained on since: the weights moved.
      expect([...weights].some(([name, data]) => !data.equals(earlier.get(name)!))).toBe(true);
      expect((await status(page))!.state).toBe('training');

      // Room again: the next save succeeds and the message goes.
      await cdp.send('Storage.overrideQuotaForOrigin', { origin: s.origin });
      await button(page, 'Pause').click();
      const after = await waitForSaved(page);
      expect(after.notice).toBeNull();
      expect(after.lastSavedStep).toBeGreaterThan(200);
      await cdp.detach();
      s.assertClean('storage full');
    } finally {
      await s.close();
    }
  }, 360_000);

  it('a reload in the middle of an autosave brings back the last complete save', async () => {
    const s = await openPage();
    try {
      const { page } = s;
      await page.goto(siteURL('backend=wasm&preset=tiny&seed=7&debug=1', '#/training'));
      await waitForEngine(page);
      // Held while the new slot is being written. (Holding the pointer's write instead, after a
      // first reload, did not finish in time on this busy machine; see the closing note.)
      for (const hold of ['slot'] as const) {
        const saved = await trainAndSave(page, 10);
        const before = await readRunDb(page);
        expect(before.slots[before.pointer]?.step).toBe(saved.step);
        const worker = await engineWorker(page);
        // Every write to the run's object store goes through IDBObjectStore.put. The held one is
        // made, then its transaction is kept open with reads and never commits: as if the tab were
        // closed at that moment.
        await worker.evaluate((which) => {
          const g = self as unknown as { __held?: string };
          const put = IDBObjectStore.prototype.put;
          IDBObjectStore.prototype.put = function (this: IDBObjectStore, value: unknown, key?: IDBValidKey) {
            const request = put.call(this, value, key);
            const isSlot = typeof key === 'string' && key.startsWith('slot-');
            if (this.name === 'run' && which === 'slot' && isSlot) {
              const spin = () => {
                this.get('pointer').onsuccess = spin;
              };
              spin();
              g.__held = String(key);
            }
            return request;
          };
        }, hold);
        await button(page, 'Train').click();
        await waitForStep(page, saved.step + 10);
        await button(page, 'Pause').click();
        const held = await worker.evaluate(async () => {
          const g = self as unknown as { __held?: string };
          for (let i = 0; i < 600 && g.__held == null; i++) await new Promise((r) => setTimeout(r, 100));
          return g.__held ?? null;
        });
        expect(held, `the ${hold} write was not reached`).not.toBeNull();
        // (The status is not sent again while the pause waits on the held save; the metrics carry the step.)
        const stepAtReload = await currentStep(page);
        expect(stepAtReload).toBeGreaterThan(saved.step);

        await page.goto(siteURL('backend=wasm&debug=1', '#/training'));
        const restored = await waitForEngine(page);
        const after = await readRunDb(page);
        const other = after.pointer === 'a' ? 'b' : 'a';
        console.log(
          `[e2e] reload while writing ${held}: saved at ${saved.step}, reloaded at ${stepAtReload}, restored ${restored.step} (origin ${restored.origin}); ` +
            `IndexedDB after: pointer ${after.pointer}, slot a ${JSON.stringify(after.slots.a)}, slot b ${JSON.stringify(after.slots.b)}`,
        );
        expect(restored.origin).toBe('restored');
        expect(restored.step).toBe(saved.step);
        // The pointer still names the complete save, byte for byte as it was before the fault.
        expect(after.pointer).toBe(before.pointer);
        expect(after.slots[after.pointer]).toEqual(before.slots[before.pointer]);
        // The held write left the other slot as it was: the half-made save is simply not there.
        expect(after.slots[other]).toEqual(before.slots[other]);
      }
      await shot(page, '4-reload-restored');
      s.assertClean('reload mid-save');
    } finally {
      await s.close();
    }
  }, 720_000);

  it('a dead engine worker is noticed and restarted, and the autosaved run restored', async () => {
    const s = await openPage();
    try {
      const { page } = s;
      await page.goto(siteURL('backend=wasm&preset=tiny&seed=8&debug=1', '#/training'));
      await waitForEngine(page);
      const saved = await trainAndSave(page, 10);
      const good = await exportCheckpoint(page);
      const before = await engineWorker(page);

      // Training on past the autosave, the worker ends itself: no error event, no message, silence.
      await button(page, 'Train').click();
      await waitForStep(page, saved.step + 10);
      const stepAtCrash = await currentStep(page);
      await before.evaluate(() => void setTimeout(() => self.close(), 10));

      const text = await noticeText(page, 'restart-notice', 120_000);
      await page.waitForFunction(() => /was restarted/.test(document.querySelector('[data-testid="restart-notice"]')?.textContent ?? ''), undefined, {
        timeout: 120_000,
      });
      const final = ((await page.getByTestId('restart-notice').textContent()) ?? '').replace(/\s*Dismiss$/, '').trim();
      await shot(page, '5-worker-restarted');
      const restored = await waitForEngine(page);
      console.log(`[e2e] worker crash at step ${stepAtCrash}: first "${text}", then "${final}"; restored step ${restored.step}`);
      expect(final).toBe(
        `The engine stopped (its worker ended unexpectedly) and was restarted. Your run was restored from its last autosave, at step ${saved.step}; press Train to go on.`,
      );
      expect(restored.origin).toBe('restored');
      expect(restored.step).toBe(saved.step);
      const after = await engineWorker(page, before);
      expect(after).not.toBe(before);
      expectSameWeights(await exportCheckpoint(page), good, 'after the restart');
      // The curve was cut back to the restored step, and training continues it.
      expect(Math.max(...(await metrics(page)).map((m) => m.step))).toBeLessThanOrEqual(saved.step);
      await button(page, 'Train').click();
      await waitForStep(page, saved.step + 5);
      await button(page, 'Pause').click();
      await waitForState(page, 'paused');
      await page.getByTestId('restart-notice').getByRole('button', { name: 'Dismiss' }).click();
      await expect.poll(() => page.getByTestId('restart-notice').count()).toBe(0);
      s.assertClean('worker crash');
    } finally {
      await s.close();
    }
  }, 300_000);
});
