/**
 * The harness catches what the other tests rely on it to catch: planted on a real page of the site,
 * an axe violation, a request outside the origin, a console error, a long main-thread task and a
 * horizontal overflow are each reported.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeBrowsers, openPage, runAxe, siteURL, type Session } from './harness';
import { horizontalOverflow } from './site';

let s: Session;
beforeAll(async () => {
  s = await openPage({ width: 390, height: 844 });
  await s.page.goto(siteURL('', '#/'));
  await s.page.locator('h1').first().waitFor({ state: 'visible', timeout: 15_000 });
});
afterAll(async () => {
  await s?.close();
  await closeBrowsers();
});

describe('the harness', () => {
  it('is served cross-origin isolated, under a base path', async () => {
    expect(new URL(s.page.url()).pathname).toMatch(/^\/gpt-lab\//);
    if (process.env.E2E_NO_ISOLATION !== '1') expect(await s.page.evaluate(() => crossOriginIsolated)).toBe(true);
  });

  it('reports a planted axe violation', async () => {
    await s.page.evaluate(() => {
      const img = document.createElement('img');
      img.id = 'planted';
      img.src = 'data:image/gif;base64,R0lGODlhAQABAAAAACw=';
      img.width = 10;
      img.height = 10;
      document.querySelector('main')!.append(img);
    });
    const violations = await runAxe(s.page);
    await s.page.evaluate(() => document.getElementById('planted')?.remove());
    expect(violations.map((v) => v.id)).toContain('image-alt');
  });

  it('refuses and reports a request outside the origin, and reports a console error', async () => {
    await s.page.evaluate(() => fetch('https://example.com/').catch(() => undefined));
    await s.page.evaluate(() => console.error('planted error'));
    await s.page.waitForTimeout(300);
    expect(() => s.assertClean('planted')).toThrow(/example\.com[\s\S]*planted error|planted error[\s\S]*example\.com/);
    expect(() => s.assertClean('after')).not.toThrow(); // each check reports what is new
  });

  it('measures a planted long task', async () => {
    const since = await s.page.evaluate(() => performance.now());
    // In a task of the page's own (a CDP evaluation is not one the long-task API sees).
    await s.page.evaluate(
      () =>
        new Promise<void>((resolve) =>
          setTimeout(() => {
            const end = performance.now() + 200;
            while (performance.now() < end) {
              // busy
            }
            resolve();
          }, 0),
        ),
    );
    await s.page.waitForTimeout(300);
    const longest = await s.longestTask(since);
    expect(longest.duration).toBeGreaterThanOrEqual(190);
  });

  it('finds a planted horizontal overflow', async () => {
    await s.page.evaluate(() => {
      const wide = document.createElement('div');
      wide.id = 'planted-wide';
      wide.style.width = '600px';
      wide.style.height = '1px';
      document.querySelector('main')!.append(wide);
    });
    const overflow = await horizontalOverflow(s.page);
    await s.page.evaluate(() => document.getElementById('planted-wide')?.remove());
    expect(overflow.scrollWidth).toBeGreaterThan(overflow.clientWidth);
    expect(overflow.culprits.join(' ')).toContain('planted-wide');
  });
});
