import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import express from 'express';
import { request } from './supertest.ts';
import { loadConfig } from '../../config/index.ts';
import { createSearchRouter, type SearchRouter } from '../../plugin/index.ts';
import { EmbeddedStore } from '../../store/embedded/embedded-store.ts';
import { storeSchema } from '../../config/schema.ts';
import type { ItemFields, StoreItem } from '../../store/types.ts';
import { DIM, makeItem, prng, randomUnit } from '../store/store-suite.ts';

/**
 * The API over an index a harvest without a model filled: items without vectors, and no model
 * loaded. What the README promises works (items, browsing, keywords, facets, stats); what needs
 * vectors says why and what to do.
 */
describe('plugin: without a model, over items harvested without one', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'reprise-without-model-'));
  const rand = prng(3);
  const items = [0, 1, 2].map((i) => makeItem(i, randomUnit(rand), { id: `nomodel${i}`.padEnd(32, '0') }));
  items[1] = { ...items[1]!, label: 'Threshing in Kansas', text: 'Threshing in Kansas, wheat harvest' };
  const bare = (it: StoreItem): ItemFields => {
    const { vector: _v, regions: _r, ...fields } = it;
    return fields;
  };
  let store: EmbeddedStore;
  let router: SearchRouter;
  let app: express.Express;

  before(async () => {
    store = new EmbeddedStore({ dir: path.join(dataDir, 'index'), index: 'reprise', ...storeSchema.parse({}).embedded });
    await store.open();
    await store.upsert(items.map(bare));
    const config = loadConfig({ env: {}, overrides: { dataDir } });
    router = createSearchRouter({ store, config }, { onError: () => {} });
    app = express().use('/api', router);
  });
  after(async () => {
    await router?.close();
    await store?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('lists, shows, finds by keywords and counts the items', async () => {
    const browsed = await request(app).get('/api/items').query({ limit: 10 }).expect(200);
    assert.deepEqual(browsed.body.hits.map((h: { id: string }) => h.id), items.map((it) => it.id));
    await request(app).get(`/api/items/${items[2]!.id}`).expect(200);
    const keyword = await request(app).get('/api/search').query({ q: 'threshing', semanticRatio: 0 }).expect(200);
    assert.deepEqual(keyword.body.hits.map((h: { id: string }) => h.id), [items[1]!.id]);
    const facets = await request(app).get('/api/facets').query({ fields: 'collection' }).expect(200);
    assert.deepEqual(facets.body.facets.collection.values.find((v: { value: string }) => v.value === 'Library'), { value: 'Library', count: 3 });
    const stats = await request(app).get('/api/stats').expect(200);
    assert.deepEqual(stats.body, { items: 3, vectors: 0, itemsWithoutVectors: 3, model: { loaded: false } });
  });

  it('says what works without a model when text search is asked for', async () => {
    const text = await request(app).get('/api/search').query({ q: 'threshing' }).expect(503);
    assert.match(text.body.detail, /models pull/);
    assert.match(text.body.detail, /keyword search \(semanticRatio=0\)/);
    assert.doesNotMatch(text.body.detail, /Similar-item search[^.]*work without/);
  });

  it('answers similar items and examples of an item without a vector with 409, saying how to get one', async () => {
    const similar = await request(app).get(`/api/items/${items[0]!.id}/similar`).expect(409);
    assert.equal(similar.body.type, 'urn:reprise:problem:not-embedded');
    assert.match(similar.body.detail, /harvested without a model/);
    await request(app).get(`/api/items/${'f'.repeat(32)}/similar`).expect(404);
    const examples = await request(app).post('/api/search/examples').send({ positive: [items[0]!.id, items[1]!.id] }).expect(409);
    assert.match(examples.body.detail, new RegExp(items[1]!.id));
    await request(app).post('/api/search/examples').send({ positive: [items[0]!.id, 'f'.repeat(32)] }).expect(404);
  });

  it('once a harvest with a model embedded an item, finds its neighbours among the embedded ones only', async () => {
    await store.open({ modelId: 'test-model', dimensions: DIM });
    await store.upsert([items[0]!, items[2]!]);
    const similar = await request(app).get(`/api/items/${items[0]!.id}/similar`).expect(200);
    assert.deepEqual(similar.body.hits.map((h: { id: string }) => h.id), [items[2]!.id]);
    await request(app).get(`/api/items/${items[1]!.id}/similar`).expect(409);
    const stats = await request(app).get('/api/stats').expect(200);
    assert.deepEqual([stats.body.modelId, stats.body.itemsWithoutVectors], ['test-model', 1]);
  });
});
