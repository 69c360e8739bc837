/**
 * Security: the built site is served with its Content-Security-Policy (the one vite.config.ts gives
 * `vite preview` and public/_headers gives static hosts), every page loads and trains under it on
 * wasm and on webgl with no violation, and text from the corpus, the model or the reader is shown as
 * text, never parsed as HTML.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CONTENT_SECURITY_POLICY } from '../../vite.config';
import { closeBrowsers, initSite, openPage, ROOT, siteURL, type Session } from './harness';
import { button, ROUTES, status, waitForEngine, waitForState, waitForStep } from './site';

beforeAll(initSite);
afterAll(closeBrowsers);

/**
 * Injected before any script of every document: keeps every `securitypolicyviolation` the document
 * sees (a worker's own violations reach the console as 'Refused to …', which the harness records).
 */
function violationRecorder() {
  const w = window as unknown as { __cspViolations: string[] };
  w.__cspViolations = [];
  document.addEventListener('securitypolicyviolation', (e) => {
    w.__cspViolations.push(`${e.effectiveDirective} blocked ${e.blockedURI || '(inline)'} at ${e.sourceFile}:${e.lineNumber}`);
  });
}

/** A page that records CSP violations and every console message saying something was refused. */
async function openGuarded(webgpu = false): Promise<Session & { refused: string[]; violations(): Promise<string[]> }> {
  const s = await openPage({ webgpu });
  await s.context.addInitScript(violationRecorder);
  const refused: string[] = [];
  s.page.on('console', (m) => {
    if (/Refused to|Content Security Policy/i.test(m.text())) refused.push(`${m.type()}: ${m.text()}`);
  });
  return Object.assign(s, {
    refused,
    violations: () => s.page.evaluate(() => (window as unknown as { __cspViolations?: string[] }).__cspViolations ?? []),
  });
}

async function expectNoViolations(s: Awaited<ReturnType<typeof openGuarded>>, what: string) {
  expect(await s.violations(), `${what}: CSP violations`).toEqual([]);
  expect(s.refused, `${what}: console messages about refusals`).toEqual([]);
  s.assertClean(what);
}

describe('the Content-Security-Policy', () => {
  it('is sent with the page, its scripts and the engine worker, and matches public/_headers', async () => {
    const base = inject('baseURL');
    const dir = inject('buildDir');
    const page = await fetch(base);
    expect(page.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    const html = await page.text();
    // No inline script in the built page: every <script> has a src.
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attrs, body] of scripts) {
      expect(attrs).toMatch(/\bsrc=/);
      expect(body.trim()).toBe('');
    }
    expect(html).not.toMatch(/<style\b/);
    // The worker takes its policy from its own response: it must carry the header too.
    const assets = (await import('node:fs')).readdirSync(path.join(dir, 'assets'));
    const worker = assets.find((f) => /^engine\.worker-.*\.js$/.test(f));
    expect(worker, 'no engine worker in the build').toBeDefined();
    const w = await fetch(new URL(`assets/${worker}`, base));
    expect(w.status).toBe(200);
    expect(w.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    // The policy itself: no inline script, no eval, and the same lines for static hosts.
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-inline|'unsafe-eval'|\*|https?:/);
    const headers = readFileSync(path.join(ROOT, 'public/_headers'), 'utf8');
    expect(headers).toContain(`Content-Security-Policy: ${CONTENT_SECURITY_POLICY}\n`);
    expect(headers).toContain('Cross-Origin-Opener-Policy: same-origin');
    expect(headers).toContain('Cross-Origin-Embedder-Policy: require-corp');
    // The Service Worker adds the same policy where a host sends none (src/sw/sw.ts, put in by the build),
    // and is itself served with it.
    expect(readFileSync(path.join(dir, 'sw.js'), 'utf8')).toContain(CONTENT_SECURITY_POLICY);
    const sw = await fetch(new URL('sw.js', base));
    expect(sw.status).toBe(200);
    expect(sw.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
  });

  it('blocks an inline script and eval in the page (the recorder sees violations)', { timeout: 60_000 }, async () => {
    const s = await openGuarded();
    try {
      // A same-origin script that tries eval (code run through DevTools would bypass the policy).
      const probe = new URL('__csp-probe.js', await initSite()).href;
      await s.page.route(probe, (route) =>
        route.fulfill({
          contentType: 'text/javascript',
          body: 'try { window.__evalRan = String((0, eval)("1 + 1")); } catch (e) { window.__evalRan = "refused: " + e.name; }',
        }),
      );
      await s.page.goto(siteURL('backend=wasm&preset=tiny&seed=1&debug=1', '#/languages'));
      await s.page.locator('h1').first().waitFor({ state: 'visible', timeout: 15_000 });
      await s.page.addScriptTag({ url: probe });
      const result = await s.page.evaluate(() => {
        const w = window as unknown as { __inline?: number; __evalRan?: string };
        const el = document.createElement('script');
        el.textContent = 'window.__inline = 1';
        document.head.append(el);
        return { inline: w.__inline, evalRan: w.__evalRan };
      });
      expect(result.inline).toBeUndefined();
      expect(result.evalRan).toMatch(/^refused: EvalError/);
      await expect.poll(() => s.violations()).toEqual(
        expect.arrayContaining([expect.stringMatching(/^script-src-elem blocked inline/), expect.stringMatching(/^script-src blocked eval/)]),
      );
      // What this test provoked on purpose is not a problem of the site.
      s.errors.splice(0);
    } finally {
      await s.close();
    }
  });

  it('every route loads, and the lab trains on wasm, with no violation', { timeout: 120_000 }, async () => {
    const s = await openGuarded();
    try {
      for (const route of ROUTES) {
        await s.page.goto('about:blank');
        await s.page.goto(siteURL('backend=wasm&preset=tiny&seed=1&debug=1', route.path), { waitUntil: 'load' });
        await s.page.locator('h1').first().waitFor({ state: 'visible', timeout: 15_000 });
        await expectNoViolations(s, route.path);
      }
      await s.page.goto(siteURL('backend=wasm&preset=tiny&seed=1&debug=1', '#/training'));
      const st = await waitForEngine(s.page);
      expect(st.backend?.name).toBe('wasm');
      // COOP/COEP still hold alongside the policy.
      expect(await s.page.evaluate(() => crossOriginIsolated)).toBe(true);
      await button(s.page, 'Train').click();
      expect(await waitForStep(s.page, 3, 60_000)).toBeGreaterThanOrEqual(3);
      await expectNoViolations(s, 'training on wasm');
    } finally {
      await s.close();
    }
  });

  it('the lab trains on webgl with no violation', { timeout: 120_000 }, async () => {
    const s = await openGuarded(true);
    try {
      await s.page.goto(siteURL('backend=webgl&preset=tiny&seed=1&debug=1', '#/training'));
      const st = await waitForEngine(s.page, 90_000);
      expect(st.backend?.name).toBe('webgl');
      await button(s.page, 'Train').click();
      expect(await waitForStep(s.page, 3, 90_000)).toBeGreaterThanOrEqual(3);
      await expectNoViolations(s, 'training on webgl');
    } finally {
      await s.close();
    }
  });
});

/** Markup that would run script if anything put it into the page as HTML. */
const PAYLOADS = [
  '<script>window.__pwned=1</script>',
  '<img src=x onerror="window.__pwned=1">',
  '<a href="javascript:window.__pwned=1">click me</a>',
  '<svg onload="window.__pwned=1"></svg>',
  '<iframe srcdoc="<script>parent.__pwned=1</script>"></iframe>',
  '<details open ontoggle="window.__pwned=1">',
  '&lt;b&gt; &amp; "quotes" \'apostrophes\' `backticks` ${window.__pwned=1}',
];

describe('text from the corpus, the model and the reader', () => {
  it('is rendered as text, never as HTML', { timeout: 120_000 }, async () => {
    const s = await openGuarded();
    const { page } = s;
    try {
      await page.goto(siteURL('backend=wasm&preset=tiny&seed=1&debug=1', '#/training'));
      await waitForEngine(page);
      // Tiny's context is 32: the text is well over 10 × 33 characters.
      let corpus = '';
      while (corpus.length < 4000) corpus += PAYLOADS.join('\n') + '\n';
      await page.locator('#corpus-text').fill(corpus);
      await button(page, 'Train on this text').click();
      await expect
        .poll(async () => (await status(page))?.corpus?.name, { timeout: 30_000 })
        .toBe('pasted text');
      await button(page, 'Train').click();
      await waitForStep(page, 5, 60_000);
      await button(page, 'Pause').click();
      await waitForState(page, 'paused');

      // The payload as the prompt: every character of it is in the corpus's vocabulary.
      const prompt = PAYLOADS[1];
      await page.locator('#sample-prompt').fill(prompt);
      await button(page, 'Sample now').click();
      const sample = page.locator('.sample-list li', { has: page.locator('.sample-prompt-text', { hasText: 'onerror' }) }).first();
      await sample.waitFor({ state: 'visible', timeout: 30_000 });

      const seen = await page.evaluate(() => {
        const doc = document;
        const handlers: string[] = [];
        for (const el of Array.from(doc.querySelectorAll('*'))) {
          for (const a of Array.from(el.attributes)) if (/^on/i.test(a.name)) handlers.push(`${el.tagName} ${a.name}`);
        }
        const li = doc.querySelector('.sample-list li');
        return {
          pwned: (window as unknown as { __pwned?: unknown }).__pwned,
          handlers,
          inlineScripts: doc.querySelectorAll('script:not([src])').length,
          images: doc.querySelectorAll('img').length,
          iframes: doc.querySelectorAll('iframe').length,
          svgOnload: doc.querySelectorAll('svg[onload]').length,
          javascriptLinks: doc.querySelectorAll('a[href^="javascript:" i]').length,
          details: doc.querySelectorAll('details[ontoggle]').length,
          promptText: li?.querySelector('.sample-prompt-text')?.textContent ?? null,
          sampleText: li?.querySelector('.sample-text')?.textContent ?? null,
          sampleHtml: li?.querySelector('.sample-text')?.innerHTML ?? null,
          sampleChildren: Array.from(li?.querySelector('.sample-text')?.children ?? []).map((c) => c.tagName),
        };
      });
      // Give any onerror/onload a moment to fire, then look again.
      await page.waitForTimeout(500);
      const pwnedLater = await page.evaluate(() => (window as unknown as { __pwned?: unknown }).__pwned);

      expect(seen.pwned).toBeUndefined();
      expect(pwnedLater).toBeUndefined();
      expect(seen.handlers).toEqual([]);
      expect(seen.inlineScripts).toBe(0);
      expect(seen.images).toBe(0);
      expect(seen.iframes).toBe(0);
      expect(seen.svgOnload).toBe(0);
      expect(seen.javascriptLinks).toBe(0);
      expect(seen.details).toBe(0);
      // The prompt is shown character for character, escaped in the markup.
      expect(seen.promptText).toBe(prompt);
      expect(seen.sampleText?.startsWith(prompt)).toBe(true);
      expect(seen.sampleHtml).toContain('&lt;img src=x onerror="window.__pwned=1"&gt;');
      // The only element inside the sample is the prompt's span: the model's text made no markup.
      expect(seen.sampleChildren).toEqual(['SPAN']);
      // The model's continuation uses the corpus's characters only, and is shown as those characters.
      const continuation = seen.sampleText!.slice(prompt.length);
      expect(continuation.length).toBeGreaterThan(0);
      const vocabulary = new Set(corpus);
      for (const ch of continuation) expect(vocabulary.has(ch), `unexpected character ${JSON.stringify(ch)}`).toBe(true);
      console.log(`[e2e] hostile corpus: sample ${JSON.stringify(seen.sampleText!.slice(0, 120))}`);
      await expectNoViolations(s, 'hostile corpus and prompt');
    } finally {
      await s.close();
    }
  });
});
