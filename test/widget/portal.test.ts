/**
 * The demo portal as a patron and a portal team meet it: `reprise serve` (a child process) on a
 * harvested collection that holds a real reprint pair (the reprint index built by the harvest),
 * Debian's Chromium. Every API call goes to the real server. Screenshots of each page and state at
 * 1400 and 390 px go to test-output/widget/portal-*.png.
 */
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { fixture as fixturePath, requireFixtures } from '../support/fixtures.ts';
import { requireLocalFeatures } from '../reprints/support.ts';
import { seriousViolations } from './support/axe.ts';
import { recordedFetches, requireChromium, screenshot } from './support/browser.ts';
import { demoServerForSuite, REPRINT_PAIR, reprintPair } from './support/demo-server.ts';
import type { ServeProcess } from '../support/serve-process.ts';
import { focused, shotsAtBothWidths } from './support/shots.ts';

interface HitJson {
  id: string;
  canvas: { id: string; label?: string };
  manifest: { id: string; url: string; label?: string };
}

const cards = (page: Page) => page.locator('reprise-search reprise-hit');
const status = async (page: Page) => ((await page.locator('reprise-search [part=status]').textContent()) ?? '').replace(/\s+/g, ' ').trim();
const settled = (page: Page) =>
  page.waitForFunction(`(() => { const r = document.querySelector('reprise-search').shadowRoot; return !r.querySelector('.spinner') && !r.querySelector('ul[aria-busy=true]'); })()`);

describe('demo portal (reprise serve + Chromium)', function () {
  requireFixtures(this);
  requireLocalFeatures(this);
  requireChromium(this);
  this.timeout(180_000);

  let server: ServeProcess;
  let browser: Browser;
  let page: Page;
  let items: HitJson[];
  let kids: HitJson;
  let walking: HitJson;

  demoServerForSuite(this, { reprints: true }, { started: (demo) => ({ server, browser } = demo), page: (p) => (page = p) });
  before(async function () {
    ({ items, kids, walking } = await reprintPair<HitJson>(server));
  });

  /** The portal, once the collection grid shows. The tiny test model scores everything low: no cut-off unless asked. */
  async function openPortal(query = '?minScore=none') {
    await page.goto(`${server.url}/demo/${query}`);
    await cards(page).first().waitFor({ timeout: 30_000 });
    await settled(page);
  }

  async function textSearch(q: string) {
    await page.locator('reprise-search input[type=search]').fill(q);
    await page.locator('reprise-search input[type=search]').press('Enter');
    await page.waitForFunction(`location.search.includes('q=')`);
    await settled(page);
  }

  it('is a gallery: search first, the collection as a thumbnail grid, manifests by label, a favicon', async () => {
    await openPortal();
    assert.equal(await cards(page).count(), items.length);
    assert.match(await status(page), new RegExp(`Results 1–${items.length} of ${items.length}`));
    // Every thumbnail loads (the server's sizes are ones the image server gives).
    await page.waitForFunction(
      `[...document.querySelector('reprise-search').shadowRoot.querySelectorAll('reprise-hit')].every((h) => { const i = h.shadowRoot.querySelector('img, svg image'); return i && (i.localName === 'image' || (i.complete && i.naturalWidth > 0)); })`,
      undefined,
      { timeout: 20_000 },
    );
    // Browsing ranks nothing: no relevance words, no raw scores.
    assert.equal(await cards(page).first().locator('[part=score]').count(), 0);
    const options = await page.locator('#manifest option').allTextContents();
    assert.equal(options[0], 'The whole collection');
    assert.ok(options.slice(1).every((o) => o.startsWith('Reprise test manifest')), `manifests by label: ${options.join(' | ')}`);
    const icon = await page.locator('link[rel=icon]').getAttribute('href');
    assert.equal((await fetch(new URL(icon!, server.url))).status, 200);
    // The search box is the second Tab stop, after the skip link.
    await page.keyboard.press('Tab');
    assert.equal(await focused(page), 'skip');
    await page.keyboard.press('Tab');
    assert.equal(await focused(page), 'input');
    // One manifest, by its label.
    await page.locator('#manifest').selectOption({ index: 1 });
    await page.waitForFunction(`location.search.includes('manifest=')`);
    await settled(page);
    assert.equal(await cards(page).count(), 2);
    await shotsAtBothWidths(page, 'portal-gallery');
  });

  it('words relevance for patrons, keeps raw scores behind show-scores, and counts only the hits above the cut-off', async () => {
    await openPortal();
    await textSearch('a street in the rain');
    const relevance = await cards(page).first().locator('[part=relevance]').textContent();
    assert.match(relevance ?? '', /^(Strong|Good|Possible) match$/);
    assert.equal(await cards(page).first().locator('[part=score]').count(), 0, 'no raw score for patrons');
    await page.evaluate(`document.querySelector('reprise-search').showScores = true`);
    await page.waitForFunction(`document.querySelector('reprise-search').shadowRoot.querySelector('reprise-hit').shadowRoot.querySelector('[part=score]')`);
    assert.match((await cards(page).first().locator('[part=score]').textContent()) ?? '', /Score -?\d\.\d{3}/);
    await shotsAtBothWidths(page, 'portal-text-search');

    // The API's total agrees with minScore, whatever the page size.
    const all = (await (await fetch(`${server.api}/search?q=street&limit=100`)).json()) as { hits: Array<{ score: number }> };
    const cut = all.hits[Math.floor(all.hits.length / 2)]!.score;
    const above = all.hits.filter((h) => h.score >= cut).length;
    for (const limit of [2, 5, 100]) {
      const body = (await (await fetch(`${server.api}/search?q=street&limit=${limit}&minScore=${cut}`)).json()) as { total: number; hits: unknown[] };
      assert.equal(body.total, above, `limit ${limit}`);
    }
    const second = (await (await fetch(`${server.api}/search?q=street&limit=3&offset=3&minScore=${cut}`)).json()) as { total: number };
    assert.equal(second.total, above, 'from a later page too');
    // Hybrid: the total does not move with the page size.
    const hybrid = await Promise.all(
      [2, 10].map(async (limit) => ((await (await fetch(`${server.api}/search?q=street&semanticRatio=0.5&limit=${limit}`)).json()) as { total: number }).total),
    );
    assert.equal(hybrid[0], hybrid[1]);

    // The default cut-off leaves out what the (tiny, random) model scores as unrelated, and says so.
    await page.goto(`${server.url}/demo/`);
    await cards(page).first().waitFor();
    await textSearch('a street in the rain');
    assert.equal(await cards(page).count(), 0);
    assert.match((await page.locator('reprise-search .empty').textContent()) ?? '', /No results/);
    await shotsAtBothWidths(page, 'portal-no-results');
  });

  it('finds reprints of a result: thumbnail, outlined region, confidence in words, and a side-by-side view that fits both', async () => {
    await openPortal();
    await cards(page).filter({ hasText: REPRINT_PAIR[0] }).locator('[part=find-reprints]').click();
    await page.waitForFunction(`location.search.includes('reprints=')`);
    await settled(page);
    assert.match(await status(page), /Reprints of “.*kids\.jpg”\. 1 reprint found/);
    const card = cards(page).first();
    assert.equal(await card.evaluate((el) => (el as unknown as { hit: HitJson }).hit.id), walking.id);
    assert.equal((await card.locator('[part=relevance]').textContent())?.trim(), 'Same photograph');
    // The whole canvas as thumbnail, the matched region outlined on it; the image loads.
    const href = await card.locator('svg image').getAttribute('href');
    assert.equal((await fetch(href!)).status, 200, href!);
    const rect = await card.locator('rect[part=region]').evaluate((el) => ['x', 'y', 'width', 'height'].map((a) => Number(el.getAttribute(a))));
    assert.ok(rect[2]! > 100 && rect[3]! > 100, `region ${rect.join(',')}`);
    await shotsAtBothWidths(page, 'portal-reprints');

    await card.locator('[part=compare]').click();
    await page.waitForFunction('window.viewer.world.getItemCount() === 2 && document.querySelectorAll(".reprise-match-overlay").length === 2', undefined, { timeout: 20_000 });
    await page.waitForFunction('window.viewer.world.getItemAt(1).getFullyLoaded() && window.viewer.world.getItemAt(0).getFullyLoaded()', undefined, { timeout: 20_000 });
    await page.waitForTimeout(1200);
    // Both images in view, neither cut off, the overview map out of the way.
    const fitted = (await page.evaluate(`(() => { const v = window.viewer.viewport.getBounds(true); const w = window.viewer.world.getHomeBounds();
      return v.x <= w.x + 1e-3 && v.y <= w.y + 1e-3 && v.x + v.width >= w.x + w.width - 1e-3 && v.y + v.height >= w.y + w.height - 1e-3; })()`)) as boolean;
    assert.ok(fitted, 'the viewport holds both images');
    assert.equal(await page.evaluate(`getComputedStyle(window.viewer.navigator.element).visibility`), 'hidden');
    // The close control stays when the viewer's own controls fade (pointer away, a few seconds).
    await page.mouse.move(5, 5);
    await page.waitForTimeout(4000);
    const close = page.locator('.reprise-close-compare');
    const opacity = (await close.evaluate((el) => {
      let o = 1;
      for (let e: Element | null = el; e; e = e.parentElement) o *= Number(getComputedStyle(e).opacity);
      return o;
    })) as number;
    assert.ok(opacity > 0.9, `close control opacity ${opacity}`);
    await shotsAtBothWidths(page, 'portal-compare');
    await close.click();
    await page.waitForFunction('window.viewer.world.getItemCount() === 1');
  });

  it('compares on a phone too, from a shared link to the reprints: the pair one above the other, both in view, the close control clear', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${server.url}/demo/?minScore=none&reprints=${kids.id}`);
    await cards(page).first().waitFor({ timeout: 30_000 });
    await cards(page).first().locator('[part=compare]').click();
    await page.waitForFunction('window.viewer.world.getItemCount() === 2 && document.querySelectorAll(".reprise-match-overlay").length === 2', undefined, { timeout: 20_000 });
    await page.waitForTimeout(1200);
    const layout = (await page.evaluate(`(() => { const [a, b] = [0, 1].map((i) => window.viewer.world.getItemAt(i).getBounds()); const v = window.viewer.viewport.getBounds(true); const w = window.viewer.world.getHomeBounds();
      return { stacked: b.y >= a.y + a.height, inView: v.x <= w.x + 1e-3 && v.y <= w.y + 1e-3 && v.x + v.width >= w.x + w.width - 1e-3 && v.y + v.height >= w.y + w.height - 1e-3 }; })()`)) as { stacked: boolean; inView: boolean };
    assert.deepEqual(layout, { stacked: true, inView: true });
    // The region tool steps aside for the close control, which would otherwise overlap it.
    assert.equal(await page.locator('.reprise-region-button').evaluate((el) => getComputedStyle(el).visibility), 'hidden');
    assert.ok((await page.evaluate('document.scrollingElement.scrollWidth')) as number <= 392);
    await screenshot(page, 'portal-phone-compare-390');
    await page.locator('.reprise-close-compare').click();
    await page.waitForFunction('window.viewer.world.getItemCount() === 1');
    assert.equal(await page.locator('.reprise-region-button').evaluate((el) => getComputedStyle(el).visibility), 'visible');
  });

  it('searches with an image of your own: upload, paste and address; similar images and reprints; a region drawn on the preview', async () => {
    await openPortal();
    const photo = await sharp(fixturePath('images', 'genthe-loc', REPRINT_PAIR[0])).resize(640, 640, { fit: 'inside' }).jpeg().toBuffer();
    await page.locator('reprise-search [part=image-button]').click();
    await page.locator('reprise-image-query input[type=file]').setInputFiles({ name: 'my-photo.jpg', mimeType: 'image/jpeg', buffer: photo });
    await page.locator('reprise-image-query [part=preview] img').waitFor();
    await shotsAtBothWidths(page, 'portal-image-query');
    // Reprints of the uploaded photograph: both printings in the collection.
    await page.locator('reprise-image-query [part=search-reprints]').click();
    await page.waitForFunction(`document.querySelector('reprise-search').shadowRoot.querySelector('[part=status]').textContent.includes('Reprints of your photograph') && !document.querySelector('reprise-search').shadowRoot.querySelector('.spinner')`);
    const ids = await cards(page).evaluateAll((els) => els.map((el) => (el as unknown as { hit: { id: string } }).hit.id));
    assert.deepEqual(new Set(ids), new Set([kids.id, walking.id]));
    const upload = (await recordedFetches(page)).find((f) => f.url.includes('/api/reprints') && f.method === 'POST');
    assert.ok(upload && upload.body === undefined, 'sent as a multipart upload');
    await shotsAtBothWidths(page, 'portal-image-reprints');

    // A region drawn on the preview: only that part is searched, for similar images.
    const preview = (await page.locator('reprise-image-query [part=preview] img').boundingBox())!;
    await page.mouse.move(preview.x + preview.width * 0.2, preview.y + preview.height * 0.2);
    await page.mouse.down();
    await page.mouse.move(preview.x + preview.width * 0.7, preview.y + preview.height * 0.8, { steps: 5 });
    await page.mouse.up();
    await page.locator('reprise-image-query [part=region]').waitFor();
    const similarResponse = page.waitForResponse((r) => r.url().includes('/api/search/image') && r.request().method() === 'POST');
    await page.locator('reprise-image-query [part=search-similar]').click();
    const res = await similarResponse;
    assert.equal(res.status(), 200);
    // Chromium does not hand a multipart body made of Blobs to playwright: the page's fetch says what it sent.
    const sent = (await recordedFetches(page)).filter((f) => f.url.includes('/api/search/image') && f.method === 'POST').at(-1)!.uploadBytes ?? 0;
    // The part drawn (about half by 60 % of 640×468) was cut out in the browser: a JPEG smaller than the photo.
    assert.ok(sent > 0 && sent < photo.length, `sent ${sent} bytes of a ${photo.length}-byte photo`);
    await settled(page);
    assert.match(await status(page), /Images like yours/);
    assert.ok((await cards(page).count()) > 0);

    // Paste an image (Ctrl+V): it becomes the query image.
    await page.locator('reprise-search input[type=search]').focus();
    await page.evaluate(`(() => {
      const bytes = Uint8Array.from(atob(${JSON.stringify(photo.toString('base64'))}), (c) => c.charCodeAt(0));
      const data = new DataTransfer();
      data.items.add(new File([bytes], 'pasted.jpg', { type: 'image/jpeg' }));
      const input = document.querySelector('reprise-search').shadowRoot.querySelector('input[type=search]');
      input.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, composed: true, cancelable: true }));
    })()`);
    await page.waitForFunction(`document.querySelector('reprise-search').shadowRoot.querySelector('reprise-image-query').shadowRoot.querySelector('[part=preview] img')?.getAttribute('src')?.startsWith('blob:')`);

    // An image address, fetched by the server.
    const thumbnail = (await (await fetch(`${server.api}/items/${walking.id}`)).json()) as { thumbnail: string };
    await page.locator('reprise-image-query [part=url]').fill(thumbnail.thumbnail);
    await page.locator('reprise-image-query [part=url]').press('Enter');
    await page.waitForFunction(`document.querySelector('reprise-search').shadowRoot.querySelector('reprise-image-query').shadowRoot.querySelector('[part=preview] img')?.getAttribute('src')?.startsWith('http')`);
    await page.locator('reprise-image-query [part=search-reprints]').click();
    await page.waitForFunction(`location.search.includes('image=')`);
    await settled(page);
    const found = await cards(page).evaluateAll((els) => els.map((el) => (el as unknown as { hit: { id: string } }).hit.id));
    assert.ok(found.includes(walking.id) && found.includes(kids.id), `found ${found.join(', ')}`);
    const byUrl = (await recordedFetches(page)).filter((f) => f.url.includes('/api/reprints')).at(-1)!;
    assert.deepEqual(JSON.parse(byUrl.body!), { url: thumbnail.thumbnail });
  });

  it('keeps the view in the address: back and forward work, and a link reproduces it', async () => {
    await openPortal();
    await textSearch('people at a market');
    await cards(page).nth(2).locator('[part=open]').click();
    await page.waitForFunction(`new URLSearchParams(location.search).get('item') && window.reprise.current && !document.querySelector('#viewer-section').hidden`);
    const opened = new URLSearchParams(new URL(page.url()).search).get('item');
    const link = page.url();
    assert.match(link, /q=people\+at\+a\+market/);
    await shotsAtBothWidths(page, 'portal-item-open');

    await page.goBack();
    await page.waitForFunction(`document.querySelector('#viewer-section').hidden`);
    await page.goBack();
    await page.waitForFunction(`!location.search.includes('q=')`);
    await settled(page);
    assert.match(await status(page), new RegExp(`of ${items.length}$`), 'back to the collection');
    await page.goForward();
    await page.waitForFunction(`location.search.includes('q=')`);
    await settled(page);
    assert.equal(await page.locator('reprise-search input[type=search]').inputValue(), 'people at a market');
    await page.goForward();
    await page.waitForFunction(`!document.querySelector('#viewer-section').hidden`);

    // The link, opened afresh: the same query, the same item in the viewer.
    const other = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    try {
      await other.goto(link);
      await other.waitForFunction(`window.reprise && window.reprise.current && !document.querySelector('#viewer-section').hidden`, undefined, { timeout: 30_000 });
      assert.equal(await other.locator('reprise-search input[type=search]').inputValue(), 'people at a market');
      const current = (await other.evaluate('window.reprise.current.canvas')) as string;
      assert.equal(current, items.find((h) => h.id === opened)!.canvas.id);
    } finally {
      await other.close();
    }
  });

  it('speaks French with lang=fr, the page around the widget included', async () => {
    await openPortal('?minScore=none&lang=fr');
    assert.equal(await page.evaluate('document.documentElement.lang'), 'fr');
    assert.equal(await page.locator('#title').textContent(), 'Rechercher dans la collection');
    assert.equal((await page.locator('#manifest option').first().textContent())?.trim(), 'Toute la collection');
    assert.equal((await page.locator('reprise-search [part=search-button]').textContent())?.trim(), 'Rechercher');
    await textSearch('une rue sous la pluie');
    assert.match((await cards(page).first().locator('[part=relevance]').textContent()) ?? '', /pertinent/i);
    assert.match(await status(page), /Résultats 1 à/);
    assert.equal((await cards(page).first().locator('[part=find-similar]').textContent())?.trim(), 'Similaires');
    await shotsAtBothWidths(page, 'portal-french');
  });

  it('has no serious or critical accessibility violation on the demo pages, in English and French (axe-core)', async () => {
    const pages = [`/demo/?minScore=none`, `/demo/?minScore=none&item=${kids.id}`, `/demo/?minScore=none&reprints=${kids.id}`];
    const problems: string[] = [];
    for (const lang of ['en', 'fr']) {
      for (const path of pages) {
        await page.goto(`${server.url}${path}&lang=${lang}`);
        await cards(page).first().waitFor({ timeout: 30_000 });
        await settled(page);
        await page.waitForTimeout(500);
        for (const v of await seriousViolations(page)) problems.push(`${path} (${lang}): ${v.id} [${v.impact}] ${v.help}: ${v.targets.join(' ')}`);
      }
    }
    assert.deepEqual(problems, []);
  });
});
