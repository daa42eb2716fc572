/**
 * The model's labels as filters in <reprise-search facets="labels">, in Chromium: the widget's
 * "Tags" filters list the values /facets gives for an index harvested with a label set, and
 * checking one narrows the search to the items with that label. The page is the stub page (the
 * built widget bundle), its API calls answered by the real search router over the real index.
 */
import assert from 'node:assert/strict';
import express from 'express';
import type { Browser, Page } from 'playwright-core';
import { createSearchRouter, type SearchRouter } from '../../plugin/router.ts';
import { requireFixtures } from '../support/fixtures.ts';
import { createSearchFixture, type SearchFixture } from '../support/search-fixture.ts';
import { request } from '../plugin/supertest.ts';
import { chromiumForSuite, requireChromium } from './support/browser.ts';
import { openStubPage, type StubPage } from './support/stub-page.ts';

const GENRE = ['photograph', 'drawing', 'engraving', 'map', 'painting', 'poster'];

describe('labels facet as widget filters (Chromium, real API)', function () {
  requireFixtures(this);
  requireChromium(this);
  this.timeout(180_000);
  let fx: SearchFixture;
  let router: SearchRouter;
  let browser: Browser;
  let stub: StubPage;
  let page: Page;

  chromiumForSuite(this, (b) => (browser = b));
  before(async () => {
    fx = await createSearchFixture({ config: { 'models.labels': { sets: { genre: GENRE }, minScore: 0 } } });
    router = createSearchRouter({ store: fx.store, encoders: fx.encoders, config: fx.config });
    const app = express().use('/api', router);
    stub = await openStubPage(browser);
    page = stub.page;
    stub.setApi(async (req) => {
      const res = await request(app).get(`/api/${req.path}?${req.params}`);
      return { status: res.status, body: res.body };
    });
  });
  after(async () => {
    await stub?.close();
    await router?.close();
    await fx?.close();
  });

  it('lists the label values /facets gives under Tags, and a checked one filters the search', async () => {
    const facets = (await fx.store.facets(['labels'])).labels;
    const values = Object.keys(facets);
    assert.ok(values.length && values.every((v) => v.startsWith('genre:')), 'the harvest labelled every item');

    // The tiny model's random weights score everything near 0: no relevance cut-off.
    await page.evaluate(`document.body.innerHTML = '<reprise-search facets="labels" min-score="none"></reprise-search>'`);
    await page.locator('reprise-search summary').click();
    const fieldset = page.locator('reprise-search fieldset', { hasText: 'Tags' });
    await fieldset.waitFor();
    const listed = await fieldset.locator('label.facet-value span[title]').evaluateAll((els) => els.map((el) => el.getAttribute('title')));
    assert.deepEqual([...listed].sort(), [...values].sort());

    const chosen = values.sort((a, b) => facets[b]! - facets[a]!)[0]!;
    await fieldset.locator('label', { hasText: chosen }).locator('input').check();
    await page.locator('reprise-search [part=input]').fill('a street');
    await page.locator('reprise-search [part=input]').press('Enter');
    await page.locator('reprise-search reprise-hit').first().waitFor();
    const search = stub.requests.filter((r) => r.path === 'search').at(-1)!;
    assert.deepEqual(search.params.getAll('labels'), [chosen]);
    const shown = await page.locator('reprise-search reprise-hit').evaluateAll((els) => els.map((el) => (el as unknown as { hit: { id: string } }).hit.id));
    assert.equal(shown.length, Math.min(facets[chosen]!, 24));
    for (const id of shown) assert.ok((await fx.store.get(id))!.labels.includes(chosen), `${id} has ${chosen}`);
  });
});
