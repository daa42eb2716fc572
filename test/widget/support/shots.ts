/**
 * What every demo page's browser test checks the same way: screenshots at the two widths the
 * issue names (1400 px, and a 390 px phone) with nothing wider than the phone's screen, and the
 * element that has focus, looked for inside shadow roots.
 */
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { DESKTOP, PHONE, screenshot } from './browser.ts';

export { DESKTOP, PHONE };

/** The page's width in CSS pixels: more than the viewport means the reader has to scroll sideways. */
export const pageWidth = (page: Page): Promise<number> => page.evaluate('document.scrollingElement.scrollWidth') as Promise<number>;

/**
 * `${name}-1400.png`, then the page reflowed to 390 px: `${name}-390.png`, checked for sideways
 * overflow; then back to 1400 px. `settle` runs after each resize (a viewer re-fitting itself);
 * `show` is scrolled into view before each screenshot (what the state is about, on a long page).
 */
export async function shotsAtBothWidths(page: Page, name: string, settle: () => Promise<unknown> = () => page.waitForTimeout(300), show?: string): Promise<void> {
  const reveal = async () => {
    if (show) await page.locator(show).first().evaluate((el) => el.scrollIntoView({ block: 'nearest' }));
  };
  await page.setViewportSize(DESKTOP);
  await settle();
  await reveal();
  await screenshot(page, `${name}-1400`);
  await page.setViewportSize(PHONE);
  await settle();
  await reveal();
  await screenshot(page, `${name}-390`);
  const width = await pageWidth(page);
  assert.ok(width <= PHONE.width + 2, `${name}: the page is ${width} px wide at ${PHONE.width} px`);
  await page.setViewportSize(DESKTOP);
  await settle();
}

/** The element that has focus, looking inside shadow roots: its part, else its id, class or tag. */
export const FOCUSED = `(() => {
  let a = document.activeElement;
  while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement;
  return a ? (a.getAttribute('part') || a.id || String(a.className) || a.localName) : null;
})()`;

export const focused = (page: Page): Promise<string | null> => page.evaluate(FOCUSED) as Promise<string | null>;

/** Presses Tab until `isTarget(focused)` or `max` presses; the number of presses, or undefined. */
export async function tabsTo(page: Page, isTarget: (focused: string | null) => boolean, max: number): Promise<number | undefined> {
  for (let n = 1; n <= max; n++) {
    await page.keyboard.press('Tab');
    if (isTarget(await focused(page))) return n;
  }
  return undefined;
}
