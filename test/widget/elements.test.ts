/**
 * The elements on their own, in Chromium: rendering, events, attribute changes, states and
 * cancellation, against an API answered from this process (support/stub-page.ts). One browser
 * for the file, a fresh page per test.
 */
import assert from 'node:assert/strict';
import type { Browser, Locator, Page } from 'playwright-core';
import { launchChromium, recordedEvents, recordedFetches, requireChromium, screenshot } from './support/browser.ts';
import { fakeHit, openStubPage, page as answer, type StubPage } from './support/stub-page.ts';

const mount = (page: Page, html: string) => page.evaluate(`document.body.innerHTML = ${JSON.stringify(html)}`);
const text = async (l: Locator) => ((await l.textContent()) ?? '').replace(/\s+/g, ' ').trim();
/** Polls a condition of this process (the requests the stub saw) until it holds. */
async function until(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
const settle = (page: Page) => page.waitForFunction(`!document.querySelector('reprise-search')?.shadowRoot.querySelector('.spinner')`);

describe('viewer widget elements (Chromium)', function () {
  requireChromium(this);
  this.timeout(60_000);
  let browser: Browser;
  let stub: StubPage;
  let page: Page;

  before(async () => {
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
  });
  beforeEach(async () => {
    stub = await openStubPage(browser);
    page = stub.page;
  });
  afterEach(async () => {
    await stub?.close();
  });

  describe('<reprise-hit>', () => {
    it('renders label, manifest, score, rights and attribution, and opens through a cancelable reprise-select', async () => {
      await mount(page, '<reprise-hit query-kind="image"></reprise-hit>');
      await page.evaluate(`document.querySelector('reprise-hit').hit = ${JSON.stringify(fakeHit(3))}`);
      const hit = page.locator('reprise-hit');
      assert.equal(await text(hit.locator('[part=label]')), 'Canvas 3');
      assert.equal(await text(hit.locator('[part=manifest-label]')), 'Manifest 1');
      // Patrons read words; the raw score only with show-scores.
      assert.equal(await text(hit.locator('[part=relevance]')), 'Strong match');
      assert.equal(await hit.locator('[part=score]').count(), 0);
      await page.evaluate(`document.querySelector('reprise-hit').showScores = true`);
      await hit.locator('[part=score]').waitFor();
      assert.equal(await text(hit.locator('[part=score]')), 'Score 0.870');
      assert.equal(await text(hit.locator('[part=rights]')), 'Public Domain Mark');
      assert.equal(await text(hit.locator('[part=attribution]')), 'Library 3');
      assert.equal(await hit.locator('[part=open]').evaluate((el) => el.localName), 'button', 'without href, a button');

      await hit.locator('[part=open]').click();
      const [select] = (await recordedEvents(page)).filter((e) => e.type === 'reprise-select');
      assert.equal((select!.detail.hit as { id: string }).id, 'item-3');

      // With href, a link; a host that cancels reprise-select keeps the page where it is.
      await page.evaluate(`window.__preventSelect = true; document.querySelector('reprise-hit').href = '/elsewhere'`);
      await hit.locator('a[part=open]').click();
      assert.equal(new URL(page.url()).pathname, '/');
    });

    it('draws the matched region on a whole-image thumbnail from the image service', async () => {
      await mount(page, '<reprise-hit></reprise-hit>');
      const hit = fakeHit(1, { region: { x: 100, y: 200, w: 300, h: 150 }, imageService: { id: 'https://iiif.example.org/iiif/3/img-1', version: 3, level: 2 }, thumbnail: 'https://iiif.example.org/iiif/3/img-1/100,200,300,150/max/0/default.jpg' });
      await page.evaluate(`document.querySelector('reprise-hit').hit = ${JSON.stringify(hit)}`);
      const rect = page.locator('reprise-hit rect[part=region]');
      assert.deepEqual(await rect.evaluate((el) => ['x', 'y', 'width', 'height'].map((a) => el.getAttribute(a))), ['100', '200', '300', '150']);
      assert.equal(await page.locator('reprise-hit svg').getAttribute('viewBox'), '0 0 1000 800');
      assert.equal(await page.locator('reprise-hit svg image').getAttribute('href'), 'https://iiif.example.org/iiif/3/img-1/full/400,320/0/default.jpg');
    });

    it('toggles + and − with aria-pressed and reprise-mark, and follows lang', async () => {
      await mount(page, '<reprise-hit markable show-scores></reprise-hit>');
      await page.evaluate(`document.querySelector('reprise-hit').hit = ${JSON.stringify(fakeHit(2))}`);
      const plus = page.locator('reprise-hit [part=mark-positive]');
      const minus = page.locator('reprise-hit [part=mark-negative]');
      await plus.click();
      assert.equal(await plus.getAttribute('aria-pressed'), 'true');
      assert.equal(await page.locator('reprise-hit').getAttribute('mark'), '+');
      await minus.click();
      assert.equal(await plus.getAttribute('aria-pressed'), 'false');
      assert.equal(await minus.getAttribute('aria-pressed'), 'true');
      await minus.click();
      assert.equal(await page.locator('reprise-hit').getAttribute('mark'), '');
      const marks = (await recordedEvents(page)).filter((e) => e.type === 'reprise-mark').map((e) => e.detail.mark);
      assert.deepEqual(marks, ['+', '-', '']);
      assert.equal(await plus.getAttribute('aria-label'), 'More like this');
      await page.evaluate(`document.querySelector('reprise-hit').setAttribute('lang', 'fr')`);
      await page.waitForFunction(`document.querySelector('reprise-hit').shadowRoot.querySelector('[part=mark-positive]').getAttribute('aria-label') === 'Plus comme ceci'`);
      assert.equal(await text(page.locator('reprise-hit [part=score]')), 'Score 0,880', 'scores in the reader\'s notation');
    });
  });

  describe('<reprise-search>', () => {
    it('runs the query attribute with its limit, renders the hits and fires reprise-results', async () => {
      stub.setApi((req) => (req.path === 'search' ? answer([1, 2, 3].map((n) => fakeHit(n)), { total: 3 }) : answer([])));
      await mount(page, '<reprise-search api="/api" limit="3" facets="" query="a horse" hit-href="/items/{id}?canvas={canvas}"></reprise-search>');
      await page.locator('reprise-search reprise-hit').nth(2).waitFor();
      await settle(page);
      const search = stub.requests.find((r) => r.path === 'search')!;
      assert.equal(search.params.get('q'), 'a horse');
      assert.equal(search.params.get('limit'), '3');
      assert.equal(await text(page.locator('reprise-search [part=status]')), 'Results 1–3 of 3');
      assert.equal(await page.locator('reprise-search reprise-hit').first().locator('a[part=open]').getAttribute('href'), '/items/item-1?canvas=https%3A%2F%2Fexample.org%2Fcanvas%2F1');
      assert.equal(await page.locator('reprise-search [part=results]').getAttribute('role'), 'list');
      assert.equal(await page.locator('reprise-search').getAttribute('lang'), null, 'no empty lang attribute hides the page\'s language');
      const results = (await recordedEvents(page)).filter((e) => e.type === 'reprise-results');
      assert.equal(results.length, 1);
      assert.equal((results[0]!.detail.query as { q: string }).q, 'a horse');
      assert.equal(results[0]!.detail.total, 3);
      await screenshot(page, 'element-search');
    });

    it('searches again when limit, filters or lang change', async () => {
      stub.setApi((req) => (req.path === 'search' ? answer([fakeHit(1)]) : answer([])));
      await mount(page, '<reprise-search facets="" query="boats"></reprise-search>');
      await page.locator('reprise-search reprise-hit').waitFor();
      const searches = () => stub.requests.filter((r) => r.path === 'search');
      await page.evaluate(`document.querySelector('reprise-search').setAttribute('limit', '7')`);
      await until('the search with limit 7', () => searches().length === 2);
      await settle(page);
      await page.evaluate(`document.querySelector('reprise-search').filters = { collection: ['Maps'] }`);
      await until('the search with a filter', () => searches().length === 3);
      await settle(page);
      assert.equal(searches()[1]!.params.get('limit'), '7');
      assert.equal(searches()[1]!.params.get('q'), 'boats');
      assert.deepEqual(searches()[2]!.params.getAll('collection'), ['Maps']);
      assert.equal(await page.locator('reprise-search [part=search-button]').textContent(), 'Search');
      await page.evaluate(`document.querySelector('reprise-search').setAttribute('lang', 'fr')`);
      await page.waitForFunction(`document.querySelector('reprise-search').shadowRoot.querySelector('[part=search-button]').textContent === 'Rechercher'`);
      assert.equal(await page.locator('reprise-search [part=input]').getAttribute('placeholder'), 'Décrivez ce que vous cherchez');
      assert.equal(searches().length, 3, 'a language change does not search again');
    });

    it('reads filters from a JSON attribute, and warns about one that is not JSON', async () => {
      stub.setApi(() => answer([fakeHit(1)]));
      const warnings: string[] = [];
      page.on('console', (m) => m.type() === 'warning' && warnings.push(m.text()));
      await mount(page, `<reprise-search facets="" filters='{"collection": ["Maps", "Plans"], "dateFrom": "1936"}' query="bridges"></reprise-search>`);
      await page.locator('reprise-search reprise-hit').waitFor();
      const search = stub.requests.find((r) => r.path === 'search')!;
      assert.deepEqual(search.params.getAll('collection'), ['Maps', 'Plans']);
      assert.equal(search.params.get('dateFrom'), '1936');
      await page.evaluate(`document.querySelector('reprise-search').setAttribute('filters', '{collection: Maps}')`);
      await until('the warning', () => warnings.length > 0);
      assert.match(warnings[0]!, /filters attribute must be a JSON object/);
    });

    it('cancels a search when a newer one starts', async () => {
      stub.setApi((req) =>
        req.params.get('q') === 'slow' ? { ...answer([fakeHit(1)]), delayMs: 800 } : answer([fakeHit(2), fakeHit(3)]),
      );
      await mount(page, '<reprise-search facets=""></reprise-search>');
      await page.evaluate(`document.querySelector('reprise-search').search('slow'); setTimeout(() => document.querySelector('reprise-search').search('fast'), 100)`);
      await page.waitForTimeout(1200);
      const fetches = (await recordedFetches(page)).filter((f) => f.url.includes('/api/search'));
      assert.equal(fetches.length, 2);
      assert.ok(fetches[0]!.url.includes('q=slow') && fetches[0]!.aborted, 'the older request was aborted');
      assert.ok(!fetches[1]!.aborted);
      const results = (await recordedEvents(page)).filter((e) => e.type === 'reprise-results');
      assert.deepEqual(results.map((e) => (e.detail.query as { q: string }).q), ['fast']);
      assert.deepEqual(await page.locator('reprise-search reprise-hit').evaluateAll((els) => els.map((el) => (el as unknown as { hit: { id: string } }).hit.id)), ['item-2', 'item-3']);
    });

    it('offers facets as filters and sends the chosen ones', async () => {
      stub.setApi((req) =>
        req.path === 'facets'
          ? { body: { facets: { collection: { values: [{ value: 'Maps', count: 4 }, { value: 'Photographs', count: 9 }], more: false }, rights: { values: [], more: false } } } }
          : answer([fakeHit(1)]),
      );
      await mount(page, '<reprise-search></reprise-search>');
      const facets = stub.requests.find((r) => r.path === 'facets')!;
      assert.deepEqual(facets.params.getAll('fields'), ['collection', 'rights']);
      await page.locator('reprise-search summary').click();
      await page.locator('reprise-search fieldset label', { hasText: 'Photographs' }).locator('input').check();
      await page.locator('reprise-search [part=input]').fill('street');
      await page.locator('reprise-search [part=input]').press('Enter');
      await page.locator('reprise-search reprise-hit').waitFor();
      const search = stub.requests.find((r) => r.path === 'search')!;
      assert.deepEqual(search.params.getAll('collection'), ['Photographs']);
      assert.equal(await text(page.locator('reprise-search summary')), 'Filters (1)');
    });

    it('shows errors (reprise-error) and empty results', async () => {
      stub.setApi(() => ({ status: 503, body: { type: 'urn:reprise:problem:model-unavailable', title: 'No model is loaded', status: 503, detail: 'Text search needs a model' } }));
      await mount(page, '<reprise-search facets=""></reprise-search>');
      await page.evaluate(`document.querySelector('reprise-search').search('anything')`);
      const error = page.locator('reprise-search [part=error]');
      await error.waitFor();
      assert.equal(await error.getAttribute('role'), 'alert');
      assert.match(await text(error), /No model is loaded.*Text search needs a model/);
      const [event] = (await recordedEvents(page)).filter((e) => e.type === 'reprise-error');
      assert.equal((event!.detail.problem as { status: number }).status, 503);

      stub.setApi(() => answer([], { total: 0 }));
      await error.locator('button').click();
      await page.locator('reprise-search .empty').waitFor();
      assert.equal(await text(page.locator('reprise-search .empty')), 'No results. Try other words or fewer filters.');
      assert.equal(await error.count(), 0);
    });

    it('pages forward and back', async () => {
      stub.setApi((req) => {
        const offset = Number(req.params.get('offset') ?? 0);
        return answer([0, 1].map((i) => fakeHit(offset + i)), { total: 5, offset, limit: 2 });
      });
      await mount(page, '<reprise-search facets="" limit="2" query="x"></reprise-search>');
      await page.locator('reprise-search reprise-hit').first().waitFor();
      const [prev, next] = [page.locator('reprise-search [part=pagination] button').nth(0), page.locator('reprise-search [part=pagination] button').nth(1)];
      assert.equal(await prev.isDisabled(), true);
      await next.click();
      await page.waitForFunction(`document.querySelector('reprise-search').shadowRoot.querySelector('[part=status]').textContent.includes('3–4')`);
      assert.equal(stub.requests.at(-1)!.params.get('offset'), '2');
      await next.click();
      await page.waitForFunction(`document.querySelector('reprise-search').shadowRoot.querySelector('[part=status]').textContent.includes('5–6')`);
      assert.equal(await next.isDisabled(), true, 'no page after the total');
      await prev.click();
      await page.waitForFunction(`document.querySelector('reprise-search').shadowRoot.querySelector('[part=status]').textContent.includes('3–4')`);
    });

    it('runs a region query with searchRegion()', async () => {
      stub.setApi(() => answer([fakeHit(4, { region: { x: 10, y: 10, w: 100, h: 100 } })]));
      await mount(page, '<reprise-search facets=""></reprise-search>');
      const hits = (await page.evaluate(`document.querySelector('reprise-search').searchRegion({ canvas: 'https://example.org/canvas/1', manifest: 'https://example.org/m.json', xywh: '10,20,300,200' }).then((p) => p.hits.length)`)) as number;
      assert.equal(hits, 1);
      const req = stub.requests.find((r) => r.path === 'search/image')!;
      assert.equal(req.method, 'POST');
      assert.deepEqual(req.body, { canvas: 'https://example.org/canvas/1', xywh: '10,20,300,200', manifest: 'https://example.org/m.json' });
      assert.match(await text(page.locator('reprise-search [part=status]')), /box drawn on the image/);
      assert.equal(await page.locator('reprise-search reprise-hit rect[part=region]').count(), 1);
    });

    it('searches again with results marked + and −', async () => {
      stub.setApi((req) => (req.path === 'search' ? answer([1, 2, 3].map((n) => fakeHit(n))) : answer([fakeHit(7)])));
      await mount(page, '<reprise-search facets="" query="x"></reprise-search>');
      await page.locator('reprise-search reprise-hit').nth(2).waitFor();
      const cards = page.locator('reprise-search reprise-hit');
      await cards.nth(1).locator('[part=mark-negative]').click();
      await page.locator('reprise-search [part=feedback] button.primary').click();
      assert.equal(await text(page.locator('reprise-search [part=feedback] .notice')), 'Mark at least one result with + to search again.');
      assert.equal(stub.requests.filter((r) => r.path === 'search/examples').length, 0);
      await cards.nth(0).locator('[part=mark-positive]').click();
      await cards.nth(2).locator('[part=mark-positive]').click();
      await page.locator('reprise-search [part=feedback] button.primary').click();
      await page.waitForFunction(`document.querySelector('reprise-search').shadowRoot.querySelectorAll('reprise-hit').length === 1`);
      const req = stub.requests.find((r) => r.path === 'search/examples')!;
      // The default cut-off of image-like queries goes with it (relevance.ts).
      assert.deepEqual(req.body, { positive: ['item-1', 'item-3'], negative: ['item-2'], limit: 24, offset: 0, minScore: 0.5 });
      assert.match(await text(page.locator('reprise-search [part=status]')), /2 liked and 1 disliked/);
    });
  });

  describe('<reprise-similar>', () => {
    it('shows similar items for item-id and notes that reprints are unavailable when /reprints is 404', async () => {
      stub.setApi((req) => {
        if (req.path === 'items/item-1/similar') return answer([fakeHit(5), fakeHit(6)]);
        if (req.path === 'items/item-1') return { body: fakeHit(1) };
        return { status: 404, body: { type: 'urn:reprise:problem:not-found', title: 'Not found', status: 404, detail: 'nothing at /api/reprints' } };
      });
      await mount(page, '<reprise-similar limit="4" item-id="item-1"></reprise-similar>');
      await page.locator('reprise-similar .reprints-unavailable').waitFor();
      await page.locator('reprise-similar reprise-hit').nth(1).waitFor();
      assert.equal(stub.requests.find((r) => r.path === 'items/item-1/similar')!.params.get('limit'), '4');
      const reprints = stub.requests.find((r) => r.path === 'reprints')!;
      assert.deepEqual(reprints.body, { canvas: 'https://example.org/canvas/1', xywh: 'percent:0,0,100,100', manifest: 'https://example.org/manifest/0.json' });
      assert.equal(await text(page.locator('reprise-similar .reprints-unavailable')), 'Reprint detection is not available on this server.');
      assert.equal(await page.locator('reprise-similar section.reprints').count(), 0);
      assert.equal((await recordedEvents(page)).filter((e) => e.type === 'reprise-error').length, 0, 'a missing reprints route is not an error');
    });

    it('searches by canvas and leaves the canvas itself out (reprints: portal.test.ts, against the real reprint index)', async () => {
      const canvas = 'https://example.org/canvas/1';
      stub.setApi((req) => {
        if (req.path === 'search/image') return answer([fakeHit(1), fakeHit(8), fakeHit(9)]);
        return answer([]);
      });
      await mount(page, `<reprise-similar limit="2" canvas="${canvas}" manifest="https://example.org/m.json"></reprise-similar>`);
      await page.locator('reprise-similar section.similar reprise-hit').first().waitFor();
      const image = stub.requests.find((r) => r.path === 'search/image')!;
      assert.deepEqual(image.body, { canvas, xywh: 'percent:0,0,100,100', manifest: 'https://example.org/m.json' });
      assert.equal(image.params.get('limit'), '3', 'one more, for the canvas itself');
      const similarIds = await page.locator('reprise-similar section.similar reprise-hit').evaluateAll((els) => els.map((el) => (el as unknown as { hit: { id: string } }).hit.id));
      assert.deepEqual(similarIds, ['item-8', 'item-9']);
      await screenshot(page, 'element-similar');

      // A box on the canvas: the similar section asks again about the box.
      await page.evaluate(`document.querySelector('reprise-similar').xywh = '1,2,30,40'`);
      await until('the box query', () => stub.requests.filter((r) => r.path === 'search/image').some((r) => (r.body as { xywh: string }).xywh === '1,2,30,40'));
    });

    it('asks for a canvas when it has none', async () => {
      await mount(page, '<reprise-similar lang="fr"></reprise-similar>');
      assert.equal(await text(page.locator('reprise-similar [part=notice]')), 'Choisissez une image pour voir les images similaires et les réimpressions.');
      assert.equal(stub.requests.length, 0);
    });
  });
});
