/**
 * The demo as a user meets it: `reprise serve` (a child process) on a harvested fixture
 * collection with the tiny generated model, Debian's Chromium driven by playwright-core. One
 * server and one browser for the whole file; each test gets a fresh page. Screenshots go to
 * test-output/widget/.
 */
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { requireFixtures } from '../support/fixtures.ts';
import type { SearchFixture } from '../support/search-fixture.ts';
import { recordedEvents, recordedFetches, requireChromium, screenshot } from './support/browser.ts';
import { demoServerForSuite } from './support/demo-server.ts';
import type { ServeProcess } from '../support/serve-process.ts';
import { focused } from './support/shots.ts';

interface HitJson {
  id: string;
  canvas: { id: string; width?: number; height?: number };
  manifest: { id: string; url: string };
}

describe('viewer widget demo (reprise serve + Chromium)', function () {
  requireFixtures(this);
  requireChromium(this);
  this.timeout(120_000);

  let fixture: SearchFixture;
  let server: ServeProcess;
  let page: Page;
  let items: number;
  let first: string;

  demoServerForSuite(this, {}, { started: (demo) => ({ fixture, server } = demo), page: (p) => (page = p) });
  before(async function () {
    items = fixture.inst.manifests.reduce((n, m) => n + m.canvases.length, 0);
    first = ((await (await fetch(`${server.api}/items?limit=1`)).json()) as { hits: HitJson[] }).hits[0]!.id;
  });

  /**
   * The demo page with an item opened in OpenSeadragon (from the address, as a shared link does).
   * The tiny test model scores every text low: no relevance cut-off (minScore=none).
   */
  async function openDemo() {
    await page.goto(`${server.url}/?minScore=none&item=${first}`);
    assert.match(page.url(), /\/demo\//, 'GET / sends a browser to the demo');
    await page.waitForFunction('window.reprise && window.reprise.current && window.viewer.world.getItemCount() === 1', undefined, { timeout: 30_000 });
  }

  async function textSearch(q: string) {
    await page.locator('reprise-search input[type=search]').fill(q);
    await page.locator('reprise-search input[type=search]').press('Enter');
    await page.locator('reprise-search reprise-hit').first().waitFor();
    await page.waitForFunction(`!document.querySelector('reprise-search').shadowRoot.querySelector('ul[aria-busy=true]')`);
  }

  const hitIds = (): Promise<string[]> =>
    page.locator('reprise-search reprise-hit').evaluateAll((els) => els.map((el) => (el as unknown as { hit: HitJson }).hit.id));

  it('answers API clients at / with the JSON description, and serves the bundle', async () => {
    const res = await fetch(`${server.url}/`, { headers: { Accept: 'application/json' } });
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { api: string }).api, '/api');
    const bundle = await fetch(`${server.url}/widget/reprise-widget.js`);
    assert.equal(bundle.status, 200);
    assert.match(bundle.headers.get('content-type') ?? '', /javascript/);
    assert.match(await bundle.text(), /reprise-search/);
    assert.equal((await fetch(`${server.url}/demo`, { redirect: 'manual' })).headers.get('location'), '/demo/');
    assert.equal((await fetch(`${server.url}/demo/manifest-canvases.ts`)).status, 404, 'sources are not served');
  });

  it('types a query and shows results', async () => {
    await openDemo();
    await textSearch('a street in the rain');
    const cards = page.locator('reprise-search reprise-hit');
    assert.equal(await cards.count(), items);
    assert.match((await page.locator('reprise-search [part=status]').textContent()) ?? '', new RegExp(`Results 1–${items} of ${items}`));
    // The collection shows (browse) before anything is asked: the text search is the one of kind text.
    const events = (await recordedEvents(page)).filter((e) => e.type === 'reprise-results' && e.target === 'reprise-search' && (e.detail.query as { kind: string }).kind === 'text');
    assert.equal(events.length, 1);
    assert.deepEqual((events[0]!.detail.query as { kind: string; q: string }).q, 'a street in the rain');
    assert.equal((events[0]!.detail.hits as unknown[]).length, items);
    // Every card has a loaded thumbnail and says how well it matches, in words.
    await page.waitForFunction(`[...document.querySelector('reprise-search').shadowRoot.querySelectorAll('reprise-hit')].every((h) => { const i = h.shadowRoot.querySelector('img'); return !i || (i.complete && i.naturalWidth > 0); })`);
    assert.match((await cards.first().locator('[part=relevance]').textContent()) ?? '', /(Strong|Good|Possible) match/);
    await screenshot(page, 'text-search');
  });

  it('draws a box in OpenSeadragon and gets region results', async () => {
    await openDemo();
    const current = (await page.evaluate('window.reprise.current')) as { canvas: string; width: number; height: number };
    await page.locator('.reprise-region-button').click();
    const box = (await page.locator('#viewer').boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.3);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.55, box.y + box.height * 0.5, { steps: 5 });
    await page.mouse.up();
    await page.locator('reprise-search reprise-hit').first().waitFor();
    await page.waitForFunction(`document.querySelector('reprise-search').shadowRoot.querySelector('[part=status]').textContent.includes('box drawn')`);

    // The similar element asks about the whole canvas ("percent:…"); the search element about the box.
    const post = (await recordedFetches(page)).find((f) => f.url.includes('/api/search/image') && !f.body?.includes('percent:'));
    assert.ok(post, 'a region query was sent');
    const body = JSON.parse(post.body!) as { canvas: string; xywh: string; manifest: string };
    assert.equal(body.canvas, current.canvas);
    const [x, y, w, h] = body.xywh.split(',').map(Number) as [number, number, number, number];
    assert.ok(w > 0 && h > 0 && x >= 0 && y >= 0 && x + w <= current.width && y + h <= current.height, `box ${body.xywh} lies on the ${current.width}×${current.height} canvas`);
    assert.equal(await page.locator('.reprise-region-overlay').count(), 1, 'the box stays drawn on the image');
    // The similar element follows the box.
    assert.equal(await page.locator('reprise-similar').evaluate((el) => (el as unknown as { xywh: string }).xywh), body.xywh);
    await page.locator('reprise-similar reprise-hit').first().waitFor();
    await screenshot(page, 'region-search');
  });

  it('opens a hit in the viewer', async () => {
    await openDemo();
    await textSearch('a horse and cart');
    const target = (await page.locator('reprise-search reprise-hit').nth(3).evaluate((el) => (el as unknown as { hit: HitJson }).hit)) as HitJson;
    await page.locator('reprise-search reprise-hit').nth(3).locator('[part=open]').click();
    await page.waitForFunction(`window.reprise.current && window.reprise.current.canvas === ${JSON.stringify(target.canvas.id)} && window.viewer.world.getItemCount() === 1`);
    const select = (await recordedEvents(page)).find((e) => e.type === 'reprise-select');
    assert.equal((select?.detail.hit as HitJson).id, target.id);
    assert.match(page.url(), /\/demo\/\?/, 'the page did not navigate away');
    // The address names the opened item.
    await page.waitForFunction(`new URLSearchParams(location.search).get('item') === ${JSON.stringify(target.id)}`);
    // The similar element now shows items like the opened one.
    assert.equal(await page.locator('reprise-similar').evaluate((el) => (el as unknown as { canvas: string }).canvas), target.canvas.id);
    await page.locator('reprise-similar reprise-hit').first().waitFor();
    await page.waitForFunction('window.viewer.world.getItemAt(0).getFullyLoaded()', undefined, { timeout: 20_000 });
    await screenshot(page, 'open-hit');
  });

  it('marks results + and − and searches again', async () => {
    await openDemo();
    await textSearch('people at a market');
    const [firstHit, secondHit] = await hitIds();
    const cards = page.locator('reprise-search reprise-hit');
    await cards.nth(0).locator('[part=mark-positive]').click();
    await cards.nth(1).locator('[part=mark-negative]').click();
    assert.equal(await cards.nth(0).locator('[part=mark-positive]').getAttribute('aria-pressed'), 'true');
    const again = page.locator('reprise-search [part=feedback] button.primary');
    assert.equal((await again.textContent())?.trim(), 'Search again (1 +, 1 −)');
    await again.click();
    await page.waitForFunction(`document.querySelector('reprise-search').shadowRoot.querySelector('[part=status]').textContent.includes('liked')`);
    const post = (await recordedFetches(page)).find((f) => f.url.endsWith('/api/search/examples'));
    assert.deepEqual(JSON.parse(post!.body!), { positive: [firstHit], negative: [secondHit], limit: 24, offset: 0 });
    const ids = await hitIds();
    assert.ok(ids.length > 0);
    assert.ok(!ids.includes(firstHit!) && !ids.includes(secondHit!), 'the examples are not among the new results');
    await screenshot(page, 'feedback');
  });

  it('switches to French', async () => {
    await openDemo();
    await page.locator('#lang').selectOption('fr');
    await page.waitForFunction(`document.documentElement.lang === 'fr'`);
    assert.equal((await page.locator('reprise-search [part=search-button]').textContent())?.trim(), 'Rechercher');
    assert.match((await page.locator('.reprise-region-button').textContent()) ?? '', /Rechercher une zone/);
    await textSearch('une rue sous la pluie');
    assert.match((await page.locator('reprise-search [part=status]').textContent()) ?? '', new RegExp(`Résultats 1 à ${items} sur`));
    assert.equal(await page.locator('reprise-search reprise-hit').first().locator('[part=mark-positive]').getAttribute('aria-label'), 'Plus comme ceci');
    await page.locator('reprise-similar h3').first().waitFor();
    assert.equal((await page.locator('reprise-similar h3').first().textContent())?.trim(), 'Images similaires');
    // The reprints section speaks French too, whether the server detects reprints or says it cannot.
    const reprints = page.locator('reprise-similar #reprints-heading, reprise-similar .reprints-unavailable').first();
    await reprints.waitFor();
    assert.match((await reprints.textContent()) ?? '', /Réimpressions|pas disponible/);
    await screenshot(page, 'french');
  });

  it('can be used with the keyboard alone', async () => {
    await openDemo();
    const tabTo = async (part: string, key = 'Tab', max = 40) => {
      for (let i = 0; i < max; i++) {
        if ((await focused(page)) === part) return;
        await page.keyboard.press(key);
      }
      assert.fail(`Tab never reached ${part} (focus is on ${String(await focused(page))})`);
    };
    await tabTo('input');
    await page.keyboard.type('a quiet street');
    await page.keyboard.press('Enter');
    await page.locator('reprise-search reprise-hit').first().waitFor();
    await tabTo('open');
    const opened = (await page.locator('reprise-search reprise-hit').first().evaluate((el) => (el as unknown as { hit: HitJson }).hit)) as HitJson;
    await page.keyboard.press('Enter');
    await page.waitForFunction(`window.reprise.current && window.reprise.current.canvas === ${JSON.stringify(opened.canvas.id)}`);
    // + on the first result, from the keyboard.
    await tabTo('mark-positive');
    await page.keyboard.press('Space');
    assert.equal(await page.locator('reprise-search reprise-hit').first().locator('[part=mark-positive]').getAttribute('aria-pressed'), 'true');

    // On to the viewer's region tool (after the results in Tab order): Enter turns it on, Enter again searches the visible area.
    await tabTo('reprise-region-button', 'Tab', 400);
    await page.keyboard.press('Enter');
    await page.waitForFunction(`document.activeElement && document.activeElement.classList.contains('reprise-region-layer')`);
    await page.keyboard.press('Enter');
    await page.waitForFunction(`document.querySelector('reprise-search').shadowRoot.querySelector('[part=status]').textContent.includes('box drawn')`);
    const post = (await recordedFetches(page)).filter((f) => f.url.includes('/api/search/image') && !f.body?.includes('percent:')).at(-1);
    assert.equal((JSON.parse(post!.body!) as { canvas: string }).canvas, opened.canvas.id);
    // Escape leaves drawing mode without searching.
    await page.keyboard.press('Enter');
    await page.waitForFunction(`document.activeElement && document.activeElement.classList.contains('reprise-region-layer')`);
    await page.keyboard.press('Escape');
    assert.equal(await page.locator('.reprise-region-layer').count(), 0);
    assert.equal(await page.locator('.reprise-region-button').getAttribute('aria-pressed'), 'false');
    await screenshot(page, 'keyboard');
  });
  // Reprints, against the real reprint index: portal.test.ts.
});
