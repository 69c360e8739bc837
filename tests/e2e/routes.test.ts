/**
 * Every route renders — a top-level heading, no console error, no request outside the origin — at
 * desktop width and at a 390-pixel phone width with no horizontal scrolling, in both themes. Each
 * route is opened as a fresh document (a deep link), not only by navigation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeBrowsers, initSite, openPage, siteURL, type Session } from './harness';
import { horizontalOverflow, ROUTES } from './site';

const LAYOUTS = [
  { width: 1280, height: 800, colorScheme: 'light' },
  { width: 390, height: 844, colorScheme: 'light' },
  { width: 1280, height: 800, colorScheme: 'dark' },
  { width: 390, height: 844, colorScheme: 'dark' },
] as const;

/** The page's background colour per theme, to check that the two themes differ. */
const backgrounds: Record<string, string> = {};
/**
 * The first context's storage once its engine has started: its backend calibration (IndexedDB) is
 * handed to the later contexts, so that only the first spends half a minute calibrating.
 */
let calibrated: Awaited<ReturnType<Session['context']['storageState']>> | undefined;

beforeAll(initSite);
afterAll(closeBrowsers);

for (const layout of LAYOUTS) {
  describe(`${layout.width} px, ${layout.colorScheme} theme`, () => {
    let s: Session;
    beforeAll(async () => {
      s = await openPage({ ...layout, storageState: calibrated });
    });
    afterAll(async () => {
      await s?.close();
    });

    for (const route of ROUTES) {
      it(`renders ${route.path}`, { timeout: 200_000 }, async () => {
        const { page } = s;
        await page.goto('about:blank');
        await page.goto(siteURL('', route.path), { waitUntil: 'load' });
        const h1 = page.locator('h1').first();
        await h1.waitFor({ state: 'visible', timeout: 15_000 });
        if (route.path !== '#/') {
          // The chapter's own page, not the home page: its heading names it.
          await expect.poll(() => h1.textContent(), { timeout: 5_000 }).toMatch(new RegExp(route.name, 'i'));
        }
        if (route.path === '#/') {
          // The first page of each context waits for the engine to start (and, in the first context,
          // to calibrate), so that its errors, if any, are seen here.
          await page.locator('[data-testid="backend-badge"] code').waitFor({ state: 'attached', timeout: 170_000 });
          calibrated ??= await s.context.storageState({ indexedDB: true });
        }
        // Let late work (fonts, charts, the lazily loaded chapter) report its errors here.
        await page.waitForTimeout(750);
        const engineErrors = await page.getByTestId('engine-error').allTextContents();
        expect(engineErrors, 'the lab shows an engine error').toEqual([]);
        const overflow = await horizontalOverflow(page);
        expect(
          overflow.scrollWidth,
          `horizontal scrolling at ${layout.width} px: scrollWidth ${overflow.scrollWidth} > clientWidth ${overflow.clientWidth}; wider than the viewport: ${overflow.culprits.join(', ')}`,
        ).toBeLessThanOrEqual(overflow.clientWidth);
        if (route.path === '#/') {
          backgrounds[layout.colorScheme] = await page.evaluate(() => {
            const body = getComputedStyle(document.body).backgroundColor;
            return body === 'rgba(0, 0, 0, 0)' ? getComputedStyle(document.documentElement).backgroundColor : body;
          });
        }
        s.assertClean(`${route.path} at ${layout.width} px, ${layout.colorScheme}`);
      });
    }
  });
}

describe('themes', () => {
  it('light and dark differ (the page follows prefers-color-scheme)', () => {
    expect(backgrounds.light, 'no light background recorded').toBeTruthy();
    expect(backgrounds.dark, 'no dark background recorded').toBeTruthy();
    expect(backgrounds.dark).not.toBe(backgrounds.light);
  });

  it('the theme toggle switches the theme, and the choice survives a reload', async () => {
    const s = await openPage({ colorScheme: 'light', storageState: calibrated });
    try {
      const { page } = s;
      await page.goto(siteURL('', '#/transformers'));
      const toggle = page.getByRole('button', { name: 'Dark theme', exact: true });
      await toggle.click();
      const bg = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      await expect.poll(bg).toBe(backgrounds.dark);
      expect(await toggle.getAttribute('aria-pressed')).toBe('true');
      await page.reload();
      await page.locator('h1').first().waitFor({ state: 'visible' });
      expect(await bg()).toBe(backgrounds.dark);
      expect(await page.locator('h1').first().textContent()).toMatch(/Transformers/i); // the deep link survived too
      s.assertClean('theme toggle');
    } finally {
      await s.close();
    }
  });
});
