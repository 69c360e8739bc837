/**
 * The APIs chapter in Chromium: once the site's Service Worker controls the page, requests to
 * `v1/` are answered by the lab's live model — from the chapter's request editor and from a plain
 * `fetch` in the page — streamed answers arrive as server-sent events ending in `[DONE]`, a
 * malformed body gets a 400 error object; and on a host that sends no COOP/COEP headers, the
 * headers the Service Worker adds make the page cross-origin isolated after its one reload.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Page } from 'playwright-core';
import { closeBrowsers, describeViolations, initSite, launchBrowser, openPage, runAxe, serveStatic, siteURL } from './harness';
import { button, status, waitForEngine } from './site';

beforeAll(initSite);
afterAll(closeBrowsers);

const TINY = 'backend=wasm&preset=tiny&seed=1&debug=1';

/** Waits until the Service Worker controls the page (it claims the page on its first visit). */
async function waitForController(page: Page): Promise<void> {
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, { timeout: 30_000, polling: 100 });
}

interface Answer {
  status: number;
  contentType: string | null;
  body: string;
  /** How many pieces the body arrived in (a streamed answer: several). */
  reads: number;
}

/** `fetch(path)` evaluated in the page, `path` relative to the site's base (the page's own address). */
function pageFetch(page: Page, path: string, init?: { method: string; body: string }): Promise<Answer> {
  return page.evaluate(
    async ({ path, init }) => {
      const res = await fetch(path, init ? { method: init.method, headers: { 'Content-Type': 'application/json' }, body: init.body } : undefined);
      const reader = res.body!.getReader();
      const decoder = new TextDecoder();
      let body = '';
      let reads = 0;
      while (true) {
        const { done, value } = await reader.read();
        if (done) break;
        reads++;
        body += decoder.decode(value, { stream: true });
      }
      return { status: res.status, contentType: res.headers.get('content-type'), body, reads };
    },
    { path, init },
  );
}

/** The `data:` payloads of an SSE body. */
function events(body: string): string[] {
  expect(body.endsWith('\n\n')).toBe(true);
  return body
    .slice(0, -2)
    .split('\n\n')
    .map((e) => {
      expect(e.startsWith('data: ')).toBe(true);
      return e.slice('data: '.length);
    });
}

describe('the API in the page, through the Service Worker', () => {
  it('answers fetch and the request editor from the live model', { timeout: 180_000 }, async () => {
    // The 400s this test asks for are logged by Chromium as failed resources; nothing else may be.
    const s = await openPage({ allowConsole: [/^Failed to load resource: the server responded with a status of 400\b/] });
    const { page } = s;
    try {
      await page.goto(siteURL(TINY, '#/apis'));
      await waitForController(page);
      const st = await waitForEngine(page);
      expect(st.hp?.contextLength).toBe(32); // the tiny preset

      // GET v1/models: the one live model.
      const models = await pageFetch(page, 'v1/models');
      expect(models.status).toBe(200);
      const list = JSON.parse(models.body) as { data: { id: string; gpt_lab: { context_length: number } }[] };
      expect(list.data).toHaveLength(1);
      const model = list.data[0].id;
      expect(list.data[0].gpt_lab.context_length).toBe(32);

      // A chat completion, as the chapter tells the reader to send it from the console.
      const chatBody = { model, messages: [{ role: 'user', content: 'Call me Ishmael.' }], max_tokens: 12, seed: 7 };
      const chat = await pageFetch(page, 'v1/chat/completions', { method: 'POST', body: JSON.stringify(chatBody) });
      expect(chat.status).toBe(200);
      expect(chat.contentType).toMatch(/^application\/json/);
      const reply = JSON.parse(chat.body);
      expect(reply.model).toBe(model);
      expect(typeof reply.choices[0].message.content).toBe('string');
      expect(reply.usage.prompt_tokens).toBe(32); // "User: Call me Ishmael.\nAssistant:" (33) cropped to the context
      expect(reply.usage.completion_tokens).toBeGreaterThan(0);
      expect(reply.usage.completion_tokens).toBeLessThanOrEqual(12);
      expect(reply.usage.total_tokens).toBe(reply.usage.prompt_tokens + reply.usage.completion_tokens);
      expect(reply.gpt_lab.prompt_cropped).toBe(1);

      // Streamed: server-sent events, in several pieces, ending with [DONE]; the same text as unstreamed.
      const streamed = await pageFetch(page, 'v1/chat/completions', { method: 'POST', body: JSON.stringify({ ...chatBody, stream: true }) });
      expect(streamed.status).toBe(200);
      expect(streamed.contentType).toMatch(/^text\/event-stream/);
      const data = events(streamed.body);
      expect(data.at(-1)).toBe('[DONE]');
      expect(streamed.reads).toBeGreaterThan(1);
      const chunks = data.slice(0, -1).map((d) => JSON.parse(d));
      expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe(reply.choices[0].message.content);

      // A malformed body: 400 and an error object.
      const bad = await pageFetch(page, 'v1/chat/completions', { method: 'POST', body: '{"model": ' });
      expect(bad.status).toBe(400);
      expect(JSON.parse(bad.body).error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_json' });

      // The chapter's request editor: the chat preset, sent for real.
      await page.getByLabel('Example request').selectOption('chat');
      expect(await page.getByLabel('Path', { exact: true }).inputValue()).toBe('v1/chat/completions');
      await button(page, 'Send').click();
      const statusLine = page.getByTestId('api-status');
      await expect.poll(() => statusLine.textContent(), { timeout: 60_000 }).toMatch(/^200\b/);
      const shown = JSON.parse((await page.getByTestId('api-body').textContent()) ?? '');
      expect(shown.model).toBe(model);
      expect(typeof shown.choices[0].message.content).toBe('string');
      expect(shown.usage.total_tokens).toBe(shown.usage.prompt_tokens + shown.usage.completion_tokens);
      expect(await page.getByTestId('api-headers').textContent()).toMatch(/content-type: application\/json/);

      // The streamed chat preset: the tokens appear as they come, then [DONE].
      await page.getByLabel('Example request').selectOption('chat-stream');
      await button(page, 'Send').click();
      await expect.poll(() => page.getByTestId('api-body').textContent(), { timeout: 60_000 }).toMatch(/data: \[DONE\]\n\n$/);
      const raw = (await page.getByTestId('api-body').textContent()) ?? '';
      const text = events(raw)
        .slice(0, -1)
        .map((d) => JSON.parse(d).choices[0]?.delta?.content ?? '')
        .join('');
      expect(await page.getByTestId('api-stream-text').textContent()).toBe(text);
      // The editor with an answer shown passes axe too (the axe suite sees it empty).
      const violations = await runAxe(page);
      expect(violations, describeViolations(violations)).toEqual([]);

      // A body the editor cannot even send as JSON: the answer is the API's 400, shown as such.
      await page.getByLabel('Example request').selectOption('chat');
      await page.getByLabel('Body', { exact: true }).fill('{"model": "gpt-lab", "messages": [}');
      await button(page, 'Send').click();
      await expect.poll(() => statusLine.textContent(), { timeout: 30_000 }).toMatch(/^400\b/);
      expect(JSON.parse((await page.getByTestId('api-body').textContent()) ?? '').error.code).toBe('invalid_json');

      // The 400s were asked for; nothing else failed, and nothing left the origin.
      const expected = s.failed.filter((f) => /\/v1\/chat\/completions \(HTTP 400\)$/.test(f));
      s.failed.splice(0, s.failed.length, ...s.failed.filter((f) => !expected.includes(f)));
      s.assertClean('the APIs chapter');
      expect((await status(page))?.state).not.toBe('error');
    } finally {
      await s.close();
    }
  });
});

describe('cross-origin isolation from the Service Worker', () => {
  it('makes the page isolated after one reload on a host that sends no COOP/COEP', { timeout: 180_000 }, async () => {
    // The same build, served with no headers at all (as a plain static host would), on its own port.
    const server = await serveStatic(inject('buildDir'), {});
    const browser = await launchBrowser(false);
    const context = await browser.newContext();
    const origin = new URL(server.url).origin;
    const outside: string[] = [];
    await context.route('**/*', (route) => {
      const u = new URL(route.request().url());
      if ((u.protocol === 'http:' || u.protocol === 'https:') && u.origin !== origin) {
        outside.push(u.href);
        return route.abort('blockedbyclient');
      }
      return route.continue();
    });
    const errors: string[] = [];
    try {
      const page = await context.newPage();
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      await page.goto(`${server.url}?${TINY}#/apis`);
      // Not isolated at first; then the Service Worker takes over, the page reloads once, and is.
      await expect
        .poll(() => page.evaluate(() => crossOriginIsolated).catch(() => false), { timeout: 60_000, interval: 250 })
        .toBe(true);
      expect(await page.evaluate(() => sessionStorage.getItem('gpt-lab-isolation-reload'))).not.toBeNull();
      expect(await page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);
      // This document came from a reload, and it stays: no second reload.
      expect(await page.evaluate(() => (performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming).type)).toBe('reload');
      await page.evaluate(() => ((window as unknown as { __stay: number }).__stay = 1));
      await page.waitForTimeout(1500);
      expect(await page.evaluate(() => (window as unknown as { __stay?: number }).__stay)).toBe(1);
      // The page's headers as the Service Worker now gives them (the server sends none), seen on one more load.
      const again = await page.reload();
      const headers = again!.headers();
      expect(headers['cross-origin-opener-policy']).toBe('same-origin');
      expect(headers['cross-origin-embedder-policy']).toBe('require-corp');
      expect(headers['content-security-policy']).toMatch(/^default-src 'self'; script-src 'self' 'wasm-unsafe-eval'/);
      expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
      // The API works there too.
      await page.waitForFunction(() => (window as unknown as { gptLab?: { status(): { state: string } | null } }).gptLab?.status()?.state === 'idle', undefined, {
        timeout: 120_000,
      });
      const models = await pageFetch(page, 'v1/models');
      expect(models.status).toBe(200);
      expect(outside).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
      await server.close();
    }
  });
});
