/**
 * "Other printings" in <reprise-similar>, in Chromium against the real `reprise serve` (a child
 * process): a collection harvested with reprint detection holds three printings of one photograph
 * (the real Genthe pair, and a third made from one of them: cropped, turned, re-toned, printed
 * smaller), so an item's reprint group (GET /items/{id}/reprints) has two other printings. The
 * element lists them a page at a time, with thumbnail, where they are, how sure in words, "show
 * more" that the keyboard reaches, and an event when one is opened.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { fixture as fixturePath } from '../support/fixtures.ts';
import { photographs, tempDataDir } from '../support/harvest-harness.ts';
import { createSearchFixture, type SearchFixture } from '../support/search-fixture.ts';
import { requireLocalFeatures } from '../reprints/support.ts';
import { launchChromium, RECORDER, recordedEvents, recordedFetches, requireChromium, screenshot } from './support/browser.ts';
import { startServe, type ServeProcess } from '../support/serve-process.ts';
import { focused } from './support/shots.ts';

interface Member {
  id: string;
  canvas: { id: string; label?: string; width: number; height: number };
  manifest: { id: string; url: string; label?: string };
  region: { x: number; y: number; w: number; h: number };
  confidence: number;
}

/** Three printings of one photograph, at 640 px as the test institution serves them. */
async function threePrintings(): Promise<string[]> {
  const dir = path.join(tempDataDir('reprise-printings-photos-'), 'photos');
  mkdirSync(dir, { recursive: true });
  const copy = async (name: string) => {
    const out = path.join(dir, name);
    await sharp(fixturePath('images', 'genthe-loc', name)).resize(640, 640, { fit: 'inside', withoutEnlargement: true }).jpeg({ quality: 92 }).toFile(out);
    return out;
  };
  const kids = await copy('kids.jpg');
  const walking = await copy('01-children-walking.jpg');
  // A third printing: part of the picture, slightly turned, lighter, smaller and coarser.
  const third = path.join(dir, 'kids-third-printing.jpg');
  const { width, height } = await sharp(kids).metadata();
  await sharp(await sharp(kids).extract({ left: Math.round(width! * 0.08), top: Math.round(height! * 0.06), width: Math.round(width! * 0.84), height: Math.round(height! * 0.86) }).toBuffer())
    .rotate(3, { background: '#ffffff' })
    .modulate({ brightness: 1.08 })
    .resize(560)
    .jpeg({ quality: 72 })
    .toFile(third);
  return [...photographs('fsa-owi', 4), kids, walking, third];
}

/** Events of the printings list, recorded before the page's scripts; `__cancelPrinting` cancels the open. */
const PRINTING_RECORDER = `
  window.__printingEvents = [];
  document.addEventListener('reprise-open-printing', (e) => {
    window.__printingEvents.push(JSON.parse(JSON.stringify(e.detail)));
    if (window.__cancelPrinting) e.preventDefault();
  });
`;

describe('other printings in <reprise-similar> (reprise serve + Chromium)', function () {
  requireLocalFeatures(this);
  requireChromium(this);
  this.timeout(180_000);
  let fx: SearchFixture;
  let server: ServeProcess;
  let browser: Browser;
  let page: Page;
  let kids: { id: string; canvas: { id: string }; manifest: { id: string; url: string } };
  let others: Member[];

  const text = async (selector: string) => ((await page.locator(selector).first().textContent()) ?? '').replace(/\s+/g, ' ').trim();
  const cards = () => page.locator('reprise-similar .printings reprise-hit');
  const printingCalls = async () => (await recordedFetches(page)).map((f) => new URL(f.url)).filter((u) => /\/api\/items\/[^/]+\/reprints$/.test(u.pathname));

  async function openPage(lang: string) {
    // The page is answered by the test (below), so Chromium cannot place it on the loopback: it may still load the institution's thumbnails there.
    const context = await browser.newContext({ viewport: { width: 1000, height: 800 }, permissions: ['local-network-access'] });
    page = await context.newPage();
    page.once('close', () => void context.close());
    await page.addInitScript(RECORDER);
    await page.addInitScript(PRINTING_RECORDER);
    await page.route(`${server.url}/printings-test`, (route) =>
      route.fulfill({ contentType: 'text/html', body: `<!doctype html><html lang="${lang}"><head><script type="module" src="/widget/reprise-widget.js"></script></head><body></body></html>` }),
    );
    await page.goto(`${server.url}/printings-test`);
    await page.waitForFunction(`customElements.get('reprise-similar')`);
  }
  const mount = (html: string) => page.evaluate(`document.body.innerHTML = ${JSON.stringify(html)}`);
  /** Before a screenshot: the thumbnails drawn (the institution serves them). */
  const thumbnailsLoaded = () => page.waitForLoadState('networkidle');

  before(async () => {
    fx = await createSearchFixture({ images: await threePrintings(), reprints: true });
    // The server opens the same embedded store: release this process's handle first.
    await fx.store.close();
    server = await startServe({
      REPRISE_DATA_DIR: fx.dataDir,
      REPRISE_MODELS__PATH: fx.config.models.path!,
      REPRISE_MODELS__THREADS: '1',
      REPRISE_HARVEST__HTTP__ALLOW_PRIVATE: '127.0.0.1',
    });
    browser = await launchChromium();
    const items = ((await (await fetch(`${server.api}/items?limit=100`)).json()) as { hits: Array<typeof kids & { canvas: { label?: string } }> }).hits;
    kids = items.find((h) => h.canvas.label === 'kids.jpg' || h.canvas.label?.includes('kids.jpg'))!;
    assert.ok(kids, 'kids.jpg was harvested');
    const group = (await (await fetch(`${server.api}/items/${kids.id}/reprints`)).json()) as { printings: Member[]; total: number };
    // The institution shows each photograph twice (a Presentation 2 and a Presentation 3 manifest): its twin and both other printings, twice.
    const labels = group.printings.map((p) => p.canvas.label ?? '');
    assert.ok(labels.some((l) => l.includes('01-children-walking.jpg')) && labels.some((l) => l.includes('kids-third-printing.jpg')), `the harvest found both other printings of kids.jpg: ${labels.join(', ')}`);
    assert.ok(group.total >= 3 && group.total === group.printings.length);
    others = group.printings;
  });
  after(async () => {
    await page?.close();
    await browser?.close();
    const code = await server?.stop();
    await fx?.encoders.close();
    await fx?.inst.close();
    assert.equal(code ?? 0, 0, server?.stderr());
  });
  afterEach(async () => page?.close());

  it('lists the other printings a page at a time, with where and how sure, and "show more" from the keyboard', async () => {
    await openPage('en');
    await mount(`<reprise-similar item-id="${kids.id}" sections="printings" limit="1"></reprise-similar>`);
    await cards().first().waitFor();
    assert.equal(await text('reprise-similar .printings h3'), 'Other printings');
    assert.equal(await cards().count(), 1);
    const first = (await cards().first().evaluate((el) => (el as unknown as { hit: Member }).hit)) as Member;
    assert.equal(first.id, others[0]!.id, 'most certain first, as the API lists them');
    // The card: the thumbnail with the photograph outlined, its canvas and manifest, the certainty in words.
    const card = cards().first();
    assert.deepEqual(await card.locator('rect[part=region]').evaluate((el) => ['x', 'y', 'width', 'height'].map((a) => Number(el.getAttribute(a)))), [first.region.x, first.region.y, first.region.w, first.region.h]);
    assert.equal(await card.locator('[part=label]').textContent(), first.canvas.label);
    assert.match((await card.locator('[part=relevance]').textContent())!, /^(Same photograph|Very likely the same photograph|Possibly the same photograph)$/);
    assert.match(await text('reprise-similar [part=printing-place]'), /^(Fills the image|(At the|In the) .* of the image)$/);
    const more = page.locator('reprise-similar [part=more]');
    assert.equal(await more.textContent().then((t) => t!.trim()), `Show more printings (${others.length - 1} more)`);
    await thumbnailsLoaded();
    await screenshot(page, 'other-printings-en');

    // Keyboard only: Tab reaches "show more", Enter loads the next page and puts the focus on the first new printing.
    await more.focus();
    assert.equal(await focused(page), 'more');
    await page.keyboard.press('Enter');
    await cards().nth(1).waitFor();
    assert.equal(await cards().count(), 2);
    assert.equal(await more.textContent().then((t) => t!.trim()), `Show more printings (${others.length - 2} more)`);
    assert.deepEqual(
      (await printingCalls()).map((u) => [u.searchParams.get('limit'), u.searchParams.get('offset')]),
      [['1', null], ['1', '1']],
    );
    assert.deepEqual(await cards().evaluateAll((els) => els.map((el) => (el as unknown as { hit: Member }).hit.id)), others.slice(0, 2).map((o) => o.id));
    await page.waitForFunction(`(() => { let a = document.activeElement; while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement; return a && a.getAttribute('part') === 'open'; })()`);
    assert.equal(await cards().nth(1).evaluate((el) => el.shadowRoot!.activeElement?.getAttribute('part')), 'open', 'the focus is on the first new printing');
    assert.match(await text('reprise-similar .printings [role=status]'), new RegExp(`^2 of ${others.length} other printings shown$`));
    const results = (await recordedEvents(page)).filter((e) => e.type === 'reprise-results');
    assert.deepEqual(results.map((e) => [(e.detail.query as { kind: string; offset: number }).kind, (e.detail.query as { offset: number }).offset, e.detail.total]), [['printings', 0, others.length], ['printings', 1, others.length]]);

    // Enter on the focused printing opens it: reprise-open-printing (whose printing it is), then reprise-select.
    await page.keyboard.press('Enter');
    const opened = (await page.evaluate('window.__printingEvents')) as Array<{ hit: { id: string }; itemId: string }>;
    assert.deepEqual(opened.map((e) => [e.hit.id, e.itemId]), [[others[1]!.id, kids.id]]);
    const select = (await recordedEvents(page)).filter((e) => e.type === 'reprise-select');
    assert.equal((select.at(-1)!.detail.hit as { id: string }).id, others[1]!.id);
  });

  it('a host that cancels reprise-open-printing keeps its page; a canvas is looked up among its manifest\'s items', async () => {
    await openPage('en');
    await page.evaluate('window.__cancelPrinting = true');
    await mount(`<reprise-similar canvas="${kids.canvas.id}" manifest="${kids.manifest.url}" sections="printings" hit-href="/elsewhere/{id}"></reprise-similar>`);
    await cards().nth(others.length - 1).waitFor();
    assert.equal(await page.locator('reprise-similar [part=more]').count(), 0, 'all in one page: nothing more to show');
    await thumbnailsLoaded();
    await screenshot(page, 'other-printings-all');
    const lookups = (await recordedFetches(page)).map((f) => new URL(f.url)).filter((u) => u.pathname === '/api/items');
    assert.deepEqual(lookups.map((u) => u.searchParams.get('manifest')), [kids.manifest.url]);
    assert.equal((await printingCalls())[0]!.pathname, `/api/items/${kids.id}/reprints`);
    await cards().first().locator('a[part=open]').click();
    assert.equal(new URL(page.url()).pathname, '/printings-test', 'the link was not followed');
    assert.equal(((await page.evaluate('window.__printingEvents')) as unknown[]).length, 1);
  });

  it('shows nothing, and no error, for an item the reprint comparison does not know (404)', async () => {
    await openPage('en');
    const unknown = '0123456789abcdef0123456789abcdef';
    assert.equal((await fetch(`${server.api}/items/${unknown}/reprints`)).status, 404);
    await mount(`<reprise-similar item-id="${unknown}" sections="printings"></reprise-similar>`);
    await page.waitForFunction(`window.__fetches.some((f) => f.url.includes('/reprints'))`);
    await page.waitForTimeout(500);
    assert.equal(await page.locator('reprise-similar .printings').count(), 0);
    assert.equal(await page.locator('reprise-similar [part=error]').count(), 0);
    assert.deepEqual((await recordedEvents(page)).filter((e) => e.type === 'reprise-error'), []);
  });

  it('speaks French on a French page', async () => {
    await openPage('fr');
    await mount(`<reprise-similar item-id="${kids.id}" sections="similar printings" limit="1"></reprise-similar>`);
    await cards().first().waitFor();
    await page.locator('reprise-similar .similar reprise-hit').first().waitFor();
    assert.equal(await text('reprise-similar .printings h3'), 'Autres impressions');
    assert.equal(await text('reprise-similar [part=more]'), `Afficher d’autres impressions (encore ${others.length - 1})`);
    assert.match(await text('reprise-similar [part=printing-place]'), /^(Occupe toute l’image|.* de l’image)$/);
    assert.match((await cards().first().locator('[part=relevance]').textContent())!, /même photographie/i);
    await page.locator('reprise-similar .printings').evaluate((el) => el.scrollIntoView({ block: 'start' }));
    await thumbnailsLoaded();
    await screenshot(page, 'other-printings-fr');
  });
});
