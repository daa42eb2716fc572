/**
 * Facet names in the reader's language, in Chromium: the configuration names metadata facets per
 * language (facets.names), GET /facets gives those names with the counts, and <reprise-search>
 * titles each filter in the page's language: the configured name, else the widget's own word for
 * the fixed facets and the usual metadata facets, else the configured English name, else the
 * facet's own name. The index holds real manifests (shared fixtures) filed as the harvester files
 * them; the page is the stub page (the built widget bundle), its API calls answered by the real
 * search router over that index.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import express from 'express';
import type { Browser } from 'playwright-core';
import { ConfigError, facetsConfigSchema, loadConfig } from '../../config/index.ts';
import type { RepriseConfig } from '../../config/schema.ts';
import { itemFields } from '../../harvester/embedding-stage.ts';
import { parseIiifDocument } from '../../harvester/iiif/document.ts';
import { itemIdOf } from '../../harvester/util/hash.ts';
import { loadEncoders, type Encoders } from '../../models/index.ts';
import { createSearchRouter, type SearchRouter } from '../../plugin/router.ts';
import { EmbeddedStore } from '../../store/embedded/embedded-store.ts';
import type { ItemFields } from '../../store/types.ts';
import { fixture, requireFixtures } from '../support/fixtures.ts';
import { tinyModel } from '../support/tiny-model.ts';
import { request } from '../plugin/supertest.ts';
import { launchChromium, requireChromium, screenshot } from './support/browser.ts';
import { openStubPage, type StubPage } from './support/stub-page.ts';

const FILES = ['presentation-2/nga-manifest.json', 'presentation-2/bl-manifest.json', 'presentation-2/villanova-manifest.json', 'presentation-2/codex.json', 'presentation-2/loc.json'];
/** Every fixed facet, three usual metadata facets and two of this configuration's own. */
const FIELDS = 'manifest collection rights decade year labels source meta.creator meta.language meta.place meta.dated meta.blurb';
const NAMES = {
  creator: { en: 'Creator or maker', fr: 'Créateur ou fabricant' },
  language: { en: 'Language of the text' },
  dated: { en: 'Dated' },
};

describe('facet names in the reader\'s language (Chromium, real API)', function () {
  requireFixtures(this);
  requireChromium(this);
  this.timeout(120_000);
  let dataDir: string;
  let config: RepriseConfig;
  let encoders: Encoders;
  let store: EmbeddedStore;
  let router: SearchRouter;
  let app: express.Express;
  let browser: Browser;
  const pages: StubPage[] = [];

  before(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'reprise-facet-names-'));
    // The usual facets, the NGA's per-canvas "Date" as a facet, and "Description" as one no name is configured for.
    const metadata = { ...facetsConfigSchema.parse({}).metadata, date: 'dated', description: 'blurb' };
    config = loadConfig({ env: {}, overrides: { dataDir, 'models.path': await tinyModel('huggingface'), 'models.threads': 1, 'facets.metadata': metadata, 'facets.names': NAMES } });
    encoders = await loadEncoders(config.models, dataDir);
    store = new EmbeddedStore({ dir: dataDir, index: 'names', ...config.store.embedded });
    await store.open({ modelId: encoders.config.modelId, dimensions: encoders.config.projectionDim });
    const items: ItemFields[] = [];
    for (const file of FILES) {
      const url = `https://fixtures.example/${file}`;
      const doc = parseIiifDocument(JSON.parse(readFileSync(fixture('iiif', 'iiif-commons-parser', file), 'utf8')), { url });
      if (doc.kind !== 'manifest') throw new Error(`${file} is not a manifest`);
      for (const canvas of doc.canvases.slice(0, 10)) {
        const fields = itemFields(itemIdOf(url, canvas.canvasId), { ...canvas, manifestUrl: url, sourceUrl: url, collectionPath: ['Fixtures'], imageUrl: canvas.image.url }, config.facets);
        // A curator's tag on some, so that the Tags filter has values.
        items.push(items.length % 3 ? fields : { ...fields, labels: ['curated:favourite'] });
      }
    }
    await store.upsert(items);
    router = createSearchRouter({ store, encoders, config });
    app = express().use('/api', router);
    browser = await launchChromium();
  });
  after(async () => {
    for (const p of pages) await p.close();
    await browser?.close();
    await router?.close();
    await store?.close();
    await encoders?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('GET /facets gives the configured names of the metadata facets it counts, and only those', async () => {
    const all = await request(app).get('/api/facets').query({ fields: FIELDS.split(' ') }).expect(200);
    assert.deepEqual(all.body.names, { 'meta.creator': NAMES.creator, 'meta.language': NAMES.language, 'meta.dated': NAMES.dated });
    assert.ok(Object.keys(all.body.facets['meta.dated'].values).length > 1 && all.body.facets['meta.blurb'].values.length, 'the configured facets have values');
    const some = await request(app).get('/api/facets').query({ fields: ['collection', 'meta.place'] }).expect(200);
    assert.deepEqual(Object.keys(some.body), ['facets'], 'no names where none of the facets answered has one');
  });

  it('refuses a configured name for a facet nothing is filed under, or under a bad language tag, saying which', () => {
    assert.throws(() => loadConfig({ env: {}, overrides: { 'facets.names': { painter: { en: 'Painter' } } } }), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(String(err), /facets\.names\.painter: no label of facets\.metadata files values under "painter"/);
      return true;
    });
    assert.throws(() => loadConfig({ env: {}, overrides: { 'facets.names': { creator: { French: 'Auteur' } } } }), /facets\.names\.creator\.French: "French" is not a language tag/);
    // Without facets.names, as before: nothing to give.
    assert.deepEqual(loadConfig({ env: {} }).facets.names, {});
  });

  /** The filters' titles as a reader sees them, on a stub page in `lang`. */
  async function legends(lang: string, shot?: string): Promise<string[]> {
    const stub = await openStubPage(browser, { lang });
    pages.push(stub);
    stub.setApi(async (req) => {
      const res = await request(app).get(`/api/${req.path}?${req.params}`);
      return { status: res.status, body: res.body };
    });
    await stub.page.evaluate(`document.body.innerHTML = '<reprise-search facets="${FIELDS}"></reprise-search>'`);
    await stub.page.locator('reprise-search summary').click();
    await stub.page.locator('reprise-search fieldset legend').first().waitFor();
    if (shot) {
      // The metadata facets come after the fixed ones: show those.
      await stub.page.locator('reprise-search fieldset legend').nth(6).evaluate((el) => el.scrollIntoView({ block: 'start' }));
      await screenshot(stub.page, shot);
    }
    return stub.page.locator('reprise-search fieldset legend').evaluateAll((els) => els.map((el) => el.textContent!.trim()));
  }

  it('titles the filters in French on a French page: configured French, else the widget\'s French, else configured English, else the name', async () => {
    assert.deepEqual(await legends('fr', 'facet-names-fr'), [
      'Manifeste',
      'Collection',
      'Droits',
      'Décennie',
      'Année',
      'Étiquettes',
      'Source',
      'Créateur ou fabricant', // configured in French
      'Langue', // configured in English only: the widget's French word
      'Lieu', // not configured: the widget's French word
      'Dated', // configured in English only, and the widget has no word for it
      'blurb', // nothing: the facet's own name
    ]);
    // Decades as French writes them; the value filtered by stays the API's.
    const eighties = pages.at(-1)!.page.locator('reprise-search fieldset', { hasText: 'Décennie' }).locator('span[title="1880s"]');
    assert.equal(await eighties.textContent(), 'années 1880');
  });

  it('titles them in English on an English page, and a regional French page reads French', async () => {
    assert.deepEqual(await legends('en', 'facet-names-en'), ['Manifest', 'Collection', 'Rights', 'Decade', 'Year', 'Tags', 'Source', 'Creator or maker', 'Language of the text', 'Place', 'Dated', 'blurb']);
    const canadian = await legends('fr-CA');
    assert.equal(canadian[7], 'Créateur ou fabricant');
    assert.equal(canadian[3], 'Décennie');
  });
});
