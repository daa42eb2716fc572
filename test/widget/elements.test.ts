/**
 * The elements on their own, in Chromium: rendering, events, attribute changes, states and
 * cancellation, against the real `reprise serve` (a child process) on a harvested collection that
 * holds a real reprint pair. The page that holds the elements is an empty one at the server's
 * origin; every API call the elements make goes to the server and is read back from the page's
 * fetches (support/browser.ts RECORDER). One server and one browser for the file, a fresh page
 * per test.
 */
import assert from 'node:assert/strict';
import type { Locator, Page } from 'playwright-core';
import { relevanceOf, RELEVANCE_EN } from '../../common/relevance.ts';
import { requireLocalFeatures } from '../reprints/support.ts';
import { recordedEvents, recordedFetches, requireChromium, screenshot, type RecordedFetch } from './support/browser.ts';
import { demoServerForSuite, reprintPair } from './support/demo-server.ts';
import type { ServeProcess } from '../support/serve-process.ts';

interface HitJson {
  id: string;
  score: number;
  canvas: { id: string; label?: string; width: number; height: number };
  manifest: { id: string; url: string; label?: string };
  rights?: string;
  collections?: string[];
  region?: { x: number; y: number; w: number; h: number };
  imageService?: { id: string; version: number };
}

const mount = (page: Page, html: string) => page.evaluate(`document.body.innerHTML = ${JSON.stringify(html)}`);
const text = async (l: Locator) => ((await l.textContent()) ?? '').replace(/\s+/g, ' ').trim();
const settle = (page: Page) => page.waitForFunction(`!document.querySelector('reprise-search')?.shadowRoot.querySelector('.spinner')`);
/** The page's calls to one API route (path under /api/), with their query parameters. */
const calls = async (page: Page, route: string): Promise<Array<RecordedFetch & { params: URLSearchParams }>> =>
  (await recordedFetches(page))
    .filter((f) => new URL(f.url).pathname === `/api/${route}`)
    .map((f) => ({ ...f, params: new URL(f.url).searchParams }));
/** Polls the page's calls until `cond` holds. */
async function until(page: Page, what: string, cond: (fetches: RecordedFetch[]) => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond(await recordedFetches(page))) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
const idsIn = (l: Locator) => l.evaluateAll((els) => els.map((el) => (el as unknown as { hit: { id: string } }).hit.id));

describe('viewer widget elements (reprise serve + Chromium)', function () {
  requireLocalFeatures(this);
  requireChromium(this);
  this.timeout(120_000);

  let server: ServeProcess;
  let page: Page;
  let items: HitJson[];
  let kids: HitJson;
  let walking: HitJson;
  let collections: string[];

  demoServerForSuite(this, { reprints: true, viewport: { width: 1000, height: 800 } }, { started: (demo) => ({ server } = demo), page: (p) => (page = p) });
  before(async () => {
    ({ items, kids, walking } = await reprintPair<HitJson>(server));
    collections = [...new Set(items.flatMap((h) => h.collections ?? []))];
  });
  beforeEach(async () => {
    // An empty page at the server's origin that loads the widget from the server: the elements are mounted into it.
    await page.route(`${server.url}/element-test`, (route) =>
      route.fulfill({ contentType: 'text/html', body: `<!doctype html><html lang="en"><head><script type="module" src="/widget/reprise-widget.js"></script></head><body></body></html>` }),
    );
    await page.goto(`${server.url}/element-test`);
    await page.waitForFunction(`customElements.get('reprise-search') && customElements.get('reprise-similar') && customElements.get('reprise-hit')`);
  });

  /** Hits as the API answers a text search (the tiny model scores everything low: no cut-off). */
  const textHits = async (q: string, limit = 3): Promise<HitJson[]> => ((await (await fetch(`${server.api}/search?q=${encodeURIComponent(q)}&limit=${limit}`)).json()) as { hits: HitJson[] }).hits;

  describe('<reprise-hit>', () => {
    it('renders label, manifest, relevance in words, rights, and opens through a cancelable reprise-select', async () => {
      const [hit] = await textHits('a street');
      await mount(page, '<reprise-hit query-kind="text"></reprise-hit>');
      await page.evaluate(`document.querySelector('reprise-hit').hit = ${JSON.stringify(hit)}`);
      const card = page.locator('reprise-hit');
      assert.equal(await text(card.locator('[part=label]')), hit!.canvas.label);
      assert.equal(await text(card.locator('[part=manifest-label]')), hit!.manifest.label);
      // Patrons read words (the server's Content Search says the same); the raw score only with show-scores.
      assert.equal(await text(card.locator('[part=relevance]')), RELEVANCE_EN[relevanceOf(hit!.score, 'cosine', 'text')]);
      assert.equal(await card.locator('[part=score]').count(), 0);
      await page.evaluate(`document.querySelector('reprise-hit').showScores = true`);
      await card.locator('[part=score]').waitFor();
      assert.equal(await text(card.locator('[part=score]')), `Score ${hit!.score.toFixed(3)}`);
      assert.equal(await text(card.locator('[part=rights]')), 'Public Domain Mark');
      assert.equal(await card.locator('[part=open]').evaluate((el) => el.localName), 'button', 'without href, a button');

      await card.locator('[part=open]').click();
      const [select] = (await recordedEvents(page)).filter((e) => e.type === 'reprise-select');
      assert.equal((select!.detail.hit as { id: string }).id, hit!.id);

      // With href, a link; a host that cancels reprise-select keeps the page where it is.
      await page.evaluate(`window.__preventSelect = true; document.querySelector('reprise-hit').href = '/elsewhere'`);
      await card.locator('a[part=open]').click();
      assert.equal(new URL(page.url()).pathname, '/element-test');
    });

    it('draws the matched region of a reprint on the whole image, from its image service', async () => {
      const found = (await (await fetch(`${server.api}/reprints`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ item: kids.id }) })).json()) as { hits: HitJson[] };
      const hit = found.hits.find((h) => h.id === walking.id)!;
      assert.ok(hit?.region && hit.imageService, 'the reprint says where it matched, on an image service');
      await mount(page, '<reprise-hit></reprise-hit>');
      await page.evaluate(`document.querySelector('reprise-hit').hit = ${JSON.stringify(hit)}`);
      const rect = page.locator('reprise-hit rect[part=region]');
      assert.deepEqual(await rect.evaluate((el) => ['x', 'y', 'width', 'height'].map((a) => Number(el.getAttribute(a)))), [hit.region!.x, hit.region!.y, hit.region!.w, hit.region!.h]);
      assert.equal(await page.locator('reprise-hit svg').getAttribute('viewBox'), `0 0 ${hit.canvas.width} ${hit.canvas.height}`);
      const href = (await page.locator('reprise-hit svg image').getAttribute('href'))!;
      assert.ok(href.startsWith(`${hit.imageService!.id}/full/`), `the whole image from the service: ${href}`);
      assert.equal((await fetch(href)).status, 200, 'a size the image server gives');
      assert.equal(await text(page.locator('reprise-hit [part=relevance]')), 'Same photograph');
    });

    it('toggles + and − with aria-pressed and reprise-mark, and follows lang', async () => {
      const [hit] = await textHits('a street');
      await mount(page, '<reprise-hit markable show-scores></reprise-hit>');
      await page.evaluate(`document.querySelector('reprise-hit').hit = ${JSON.stringify(hit)}`);
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
      const french = new Intl.NumberFormat('fr', { minimumFractionDigits: 3, maximumFractionDigits: 3 }).format(hit!.score);
      assert.equal(await text(page.locator('reprise-hit [part=score]')), `Score ${french}`, "scores in the reader's notation");
    });
  });

  describe('<reprise-search>', () => {
    it('runs the query attribute with its limit, renders the hits and fires reprise-results', async () => {
      await mount(page, '<reprise-search api="/api" limit="3" facets="" min-score="none" query="a horse" hit-href="/items/{id}?canvas={canvas}"></reprise-search>');
      await page.locator('reprise-search reprise-hit').nth(2).waitFor();
      await settle(page);
      const [search] = await calls(page, 'search');
      assert.equal(search!.params.get('q'), 'a horse');
      assert.equal(search!.params.get('limit'), '3');
      assert.equal(await text(page.locator('reprise-search [part=status]')), `Results 1–3 of ${items.length}`);
      const first = (await idsIn(page.locator('reprise-search reprise-hit')))[0]!;
      const firstHit = items.find((h) => h.id === first)!;
      assert.equal(await page.locator('reprise-search reprise-hit').first().locator('a[part=open]').getAttribute('href'), `/items/${first}?canvas=${encodeURIComponent(firstHit.canvas.id)}`);
      assert.equal(await page.locator('reprise-search [part=results]').getAttribute('role'), 'list');
      assert.equal(await page.locator('reprise-search').getAttribute('lang'), null, "no empty lang attribute hides the page's language");
      const results = (await recordedEvents(page)).filter((e) => e.type === 'reprise-results');
      assert.equal(results.length, 1);
      assert.equal((results[0]!.detail.query as { q: string }).q, 'a horse');
      assert.equal(results[0]!.detail.total, items.length);
      await screenshot(page, 'element-search');
      // A page styles the cards' parts through the list: the parts every card has, and this list's own controls.
      await page.addStyleTag({ content: 'reprise-search::part(copy-link), reprise-search::part(find-similar) { outline: 3px solid rgb(1, 2, 3); }' });
      const card = page.locator('reprise-search reprise-hit').first();
      for (const part of ['copy-link', 'find-similar']) {
        assert.equal(await card.locator(`[part~=${part}]`).first().evaluate((el) => getComputedStyle(el).outlineColor), 'rgb(1, 2, 3)', `::part(${part}) reaches the card`);
      }
    });

    it('searches again when limit, filters or lang change', async () => {
      await mount(page, '<reprise-search facets="" min-score="none" query="boats"></reprise-search>');
      await page.locator('reprise-search reprise-hit').first().waitFor();
      const searches = () => calls(page, 'search');
      await page.evaluate(`document.querySelector('reprise-search').setAttribute('limit', '7')`);
      await until(page, 'the search with limit 7', (f) => f.filter((x) => x.url.includes('/api/search?')).length === 2);
      await settle(page);
      await page.evaluate(`document.querySelector('reprise-search').filters = { collection: [${JSON.stringify(collections[0])}] }`);
      await until(page, 'the search with a filter', (f) => f.filter((x) => x.url.includes('/api/search?')).length === 3);
      await settle(page);
      const [, second, third] = await searches();
      assert.equal(second!.params.get('limit'), '7');
      assert.equal(second!.params.get('q'), 'boats');
      assert.deepEqual(third!.params.getAll('collection'), [collections[0]]);
      assert.equal(await page.locator('reprise-search [part=search-button]').textContent(), 'Search');
      await page.evaluate(`document.querySelector('reprise-search').setAttribute('lang', 'fr')`);
      await page.waitForFunction(`document.querySelector('reprise-search').shadowRoot.querySelector('[part=search-button]').textContent === 'Rechercher'`);
      assert.equal(await page.locator('reprise-search [part=input]').getAttribute('placeholder'), 'Décrivez ce que vous cherchez');
      assert.equal((await searches()).length, 3, 'a language change does not search again');
    });

    it('reads filters from a JSON attribute, and warns about one that is not JSON', async () => {
      const warnings: string[] = [];
      page.on('console', (m) => m.type() === 'warning' && warnings.push(m.text()));
      const [a, b] = collections;
      await mount(page, `<reprise-search facets="" min-score="none" filters='${JSON.stringify({ collection: [a, b], dateFrom: '1936' })}' query="bridges"></reprise-search>`);
      await settle(page);
      await until(page, 'the search', (f) => f.some((x) => x.url.includes('/api/search?')));
      const [search] = await calls(page, 'search');
      assert.deepEqual(search!.params.getAll('collection'), [a, b]);
      assert.equal(search!.params.get('dateFrom'), '1936');
      await page.evaluate(`document.querySelector('reprise-search').setAttribute('filters', '{collection: Maps}')`);
      const end = Date.now() + 5000;
      while (!warnings.length && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
      assert.match(warnings[0] ?? '', /filters attribute must be a JSON object/);
    });

    it('cancels a search when a newer one starts', async () => {
      // The server's answer to "slow" is held back (not replaced): the newer search starts meanwhile.
      await page.route(/\/api\/search\?.*q=slow/, async (route) => {
        await new Promise((r) => setTimeout(r, 800));
        await route.continue().catch(() => undefined);
      });
      await mount(page, '<reprise-search facets="" min-score="none" limit="2"></reprise-search>');
      await page.evaluate(`document.querySelector('reprise-search').search('slow'); setTimeout(() => document.querySelector('reprise-search').search('fast'), 100)`);
      await page.waitForTimeout(1500);
      const fetches = (await recordedFetches(page)).filter((f) => f.url.includes('/api/search'));
      assert.equal(fetches.length, 2);
      assert.ok(fetches[0]!.url.includes('q=slow') && fetches[0]!.aborted, 'the older request was aborted');
      assert.ok(!fetches[1]!.aborted);
      const results = (await recordedEvents(page)).filter((e) => e.type === 'reprise-results');
      assert.deepEqual(results.map((e) => (e.detail.query as { q: string }).q), ['fast']);
      assert.deepEqual(await idsIn(page.locator('reprise-search reprise-hit')), (await textHits('fast', 2)).map((h) => h.id));
    });

    it('offers facets as filters and sends the chosen ones', async () => {
      const facets = ((await (await fetch(`${server.api}/facets?fields=collection`)).json()) as { facets: { collection: { values: Array<{ value: string; count: number }> } } }).facets.collection.values;
      const narrow = facets.reduce((a, b) => (b.count < a.count ? b : a));
      await mount(page, '<reprise-search min-score="none"></reprise-search>');
      await until(page, 'the facets', (f) => f.some((x) => x.url.includes('/api/facets')));
      const [asked] = await calls(page, 'facets');
      assert.deepEqual(asked!.params.getAll('fields'), ['collection', 'rights']);
      await page.locator('reprise-search summary').click();
      const option = page.locator('reprise-search fieldset label', { hasText: narrow.value });
      assert.match(await text(option), new RegExp(`\\(${narrow.count}\\)$`), 'the count the server gives');
      await option.locator('input').check();
      await page.locator('reprise-search [part=input]').fill('street');
      await page.locator('reprise-search [part=input]').press('Enter');
      await page.locator('reprise-search reprise-hit').first().waitFor();
      await settle(page);
      const [search] = await calls(page, 'search');
      assert.deepEqual(search!.params.getAll('collection'), [narrow.value]);
      assert.equal(await text(page.locator('reprise-search summary')), 'Filters (1)');
      assert.match(await text(page.locator('reprise-search [part=status]')), new RegExp(`of ${narrow.count}$`), 'only that collection');
    });

    it('shows the server’s errors (reprise-error) and empty results', async () => {
      await mount(page, '<reprise-search facets=""></reprise-search>');
      // A region of a canvas the index does not hold, in no manifest: the server says so.
      await page.evaluate(`document.querySelector('reprise-search').searchRegion({ canvas: 'https://example.org/not-indexed/canvas/1', xywh: '0,0,10,10' })`);
      const error = page.locator('reprise-search [part=error]');
      await error.waitFor();
      assert.equal(await error.getAttribute('role'), 'alert');
      const [event] = (await recordedEvents(page)).filter((e) => e.type === 'reprise-error');
      const problem = event!.detail.problem as { status: number; title: string; detail: string };
      assert.ok(problem.status >= 400 && problem.status < 500, `a client error: ${JSON.stringify(problem)}`);
      assert.ok((await text(error)).includes(problem.title), 'the server’s own words');

      // Nothing above the cut-off: the empty message, and the error is gone.
      await page.evaluate(`document.querySelector('reprise-search').minScore = '0.99'; document.querySelector('reprise-search').search('a street')`);
      await page.locator('reprise-search .empty').waitFor();
      assert.equal(await text(page.locator('reprise-search .empty')), 'No results. Try other words or fewer filters.');
      assert.equal(await error.count(), 0);
      const [search] = await calls(page, 'search');
      assert.equal(search!.params.get('minScore'), '0.99');
    });

    it('pages forward and back', async () => {
      await mount(page, '<reprise-search facets="" limit="5" min-score="none" query="x"></reprise-search>');
      await page.locator('reprise-search reprise-hit').first().waitFor();
      const [prev, next] = [page.locator('reprise-search [part=pagination] button').nth(0), page.locator('reprise-search [part=pagination] button').nth(1)];
      const status = (part: string) => page.waitForFunction(`document.querySelector('reprise-search').shadowRoot.querySelector('[part=status]').textContent.includes(${JSON.stringify(part)})`);
      assert.equal(await prev.isDisabled(), true);
      await next.click();
      await status('6–10');
      assert.equal((await calls(page, 'search')).at(-1)!.params.get('offset'), '5');
      const last = Math.floor((items.length - 1) / 5) * 5;
      for (let offset = 10; offset <= last; offset += 5) {
        await next.click();
        await status(`${offset + 1}–${Math.min(offset + 5, items.length)}`);
      }
      assert.equal(await next.isDisabled(), true, 'no page after the total');
      await prev.click();
      await status(`${last - 4}–${last}`);
    });

    it('runs a region query with searchRegion()', async () => {
      await mount(page, '<reprise-search facets="" min-score="none"></reprise-search>');
      const query = { canvas: kids.canvas.id, manifest: kids.manifest.url, xywh: '100,100,300,200' };
      const hits = (await page.evaluate(`document.querySelector('reprise-search').searchRegion(${JSON.stringify(query)}).then((p) => p.hits.length)`)) as number;
      assert.ok(hits > 0);
      const [req] = await calls(page, 'search/image');
      assert.equal(req!.method, 'POST');
      assert.deepEqual(JSON.parse(req!.body!), query);
      assert.match(await text(page.locator('reprise-search [part=status]')), /box drawn on the image/);
    });

    it('searches again with results marked + and −', async () => {
      await mount(page, '<reprise-search facets="" min-score="none" query="x" limit="5"></reprise-search>');
      await page.locator('reprise-search reprise-hit').nth(2).waitFor();
      const cards = page.locator('reprise-search reprise-hit');
      const ids = await idsIn(cards);
      await cards.nth(1).locator('[part=mark-negative]').click();
      await page.locator('reprise-search [part=feedback] button.primary').click();
      assert.equal(await text(page.locator('reprise-search [part=feedback] .notice')), 'Mark at least one result with + to search again.');
      assert.equal((await calls(page, 'search/examples')).length, 0);
      await cards.nth(0).locator('[part=mark-positive]').click();
      await cards.nth(2).locator('[part=mark-positive]').click();
      await page.locator('reprise-search [part=feedback] button.primary').click();
      await until(page, 'the examples search', (f) => f.some((x) => x.url.includes('/api/search/examples')));
      await settle(page);
      const [req] = await calls(page, 'search/examples');
      assert.deepEqual(JSON.parse(req!.body!), { positive: [ids[0], ids[2]], negative: [ids[1]], limit: 5, offset: 0 });
      assert.match(await text(page.locator('reprise-search [part=status]')), /2 liked and 1 disliked/);
    });
  });

  describe('<reprise-similar>', () => {
    it('shows similar items and reprints of an indexed item (item-id)', async () => {
      await mount(page, `<reprise-similar limit="4" item-id="${kids.id}"></reprise-similar>`);
      await page.locator('reprise-similar section.reprints reprise-hit').first().waitFor({ timeout: 30_000 });
      await page.locator('reprise-similar section.similar reprise-hit').first().waitFor();
      const [similar] = await calls(page, `items/${kids.id}/similar`);
      assert.equal(similar!.params.get('limit'), '4');
      const [reprints] = await calls(page, 'reprints');
      assert.deepEqual(JSON.parse(reprints!.body!), { canvas: kids.canvas.id, manifest: kids.manifest.url, xywh: 'percent:0,0,100,100' });
      assert.deepEqual(await idsIn(page.locator('reprise-similar section.reprints reprise-hit')), [walking.id]);
      assert.equal(await text(page.locator('reprise-similar section.reprints [part=relevance]')), 'Same photograph');
      assert.ok(!(await idsIn(page.locator('reprise-similar section.similar reprise-hit'))).includes(kids.id), 'not similar to itself');
      assert.equal((await recordedEvents(page)).filter((e) => e.type === 'reprise-error').length, 0);
      await screenshot(page, 'element-similar');
      await page.addStyleTag({ content: 'reprise-similar::part(item-link) { outline: 3px solid rgb(1, 2, 3); }' });
      const link = page.locator('reprise-similar section.similar reprise-hit').first().locator('[part~=item-link]').first();
      assert.equal(await link.evaluate((el) => getComputedStyle(el).outlineColor), 'rgb(1, 2, 3)', '::part(item-link) reaches the card');
    });

    it('searches by canvas and leaves the canvas itself out; a box asks again; sections shows one section only', async () => {
      await mount(page, `<reprise-similar limit="2" canvas="${kids.canvas.id}" manifest="${kids.manifest.url}" sections="similar"></reprise-similar>`);
      await page.locator('reprise-similar section.similar reprise-hit').first().waitFor();
      const [image] = await calls(page, 'search/image');
      assert.deepEqual(JSON.parse(image!.body!), { canvas: kids.canvas.id, xywh: 'percent:0,0,100,100', manifest: kids.manifest.url });
      assert.equal(image!.params.get('limit'), '3', 'one more, for the canvas itself');
      const similarIds = await idsIn(page.locator('reprise-similar section.similar reprise-hit'));
      assert.equal(similarIds.length, 2);
      assert.ok(!similarIds.includes(kids.id));
      assert.equal(await page.locator('reprise-similar section.reprints').count(), 0);
      assert.equal((await calls(page, 'reprints')).length, 0, 'a section not shown asks nothing');

      // A box on the canvas: the similar section asks again about the box.
      await page.evaluate(`document.querySelector('reprise-similar').xywh = '1,2,300,400'`);
      await until(page, 'the box query', (f) => f.some((x) => x.url.includes('/api/search/image') && x.body?.includes('"1,2,300,400"')));
    });

    it('asks for a canvas when it has none', async () => {
      await mount(page, '<reprise-similar lang="fr"></reprise-similar>');
      assert.equal(await text(page.locator('reprise-similar [part=notice]')), 'Choisissez une image pour voir les images similaires et les réimpressions.');
      assert.equal((await recordedFetches(page)).filter((f) => f.url.includes('/api/')).length, 0);
    });
  });
});
