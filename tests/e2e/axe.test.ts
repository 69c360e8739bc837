/**
 * axe-core finds no violations (its default rule set) on the home page, on every chapter page and
 * with the lab dock open, in both themes (colour contrast differs between them).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeBrowsers, describeViolations, initSite, openPage, runAxe, siteURL, type Session } from './harness';
import { openDock, ROUTES } from './site';

beforeAll(initSite);
afterAll(closeBrowsers);

for (const colorScheme of ['light', 'dark'] as const) {
  describe(`axe, ${colorScheme} theme`, () => {
    let s: Session;
    beforeAll(async () => {
      s = await openPage({ colorScheme });
    });
    afterAll(async () => {
      await s?.close();
    });

    for (const route of ROUTES) {
      it(`no violations on ${route.path}`, async () => {
        await s.page.goto(siteURL('', route.path));
        await s.page.locator('h1').first().waitFor({ state: 'visible', timeout: 15_000 });
        await s.page.waitForTimeout(500);
        const violations = await runAxe(s.page);
        expect(violations, describeViolations(violations)).toEqual([]);
        s.assertClean(route.path);
      });
    }

    it('no violations with the lab dock open', async () => {
      await s.page.goto(siteURL('', '#/training'));
      await s.page.locator('h1').first().waitFor({ state: 'visible', timeout: 15_000 });
      expect(await openDock(s.page), 'the lab dock (its Train button) could not be shown').toBe(true);
      await s.page.waitForTimeout(500);
      const violations = await runAxe(s.page);
      expect(violations, describeViolations(violations)).toEqual([]);
      s.assertClean('lab dock');
    });
  });
}

describe('axe, 390 px phone', () => {
  let s: Session;
  beforeAll(async () => {
    s = await openPage({ width: 390, height: 844 });
  });
  afterAll(async () => {
    await s?.close();
  });

  it('no violations with the lab sheet opened from its toggle', async () => {
    await s.page.goto(siteURL('', '#/training'));
    await s.page.locator('h1').first().waitFor({ state: 'visible', timeout: 15_000 });
    expect(await openDock(s.page), 'the lab could not be opened from its toggle').toBe(true);
    await s.page.waitForTimeout(500);
    const violations = await runAxe(s.page);
    expect(violations, describeViolations(violations)).toEqual([]);
    s.assertClean('lab sheet at 390 px');
  });
});
