import assert from 'node:assert/strict';
import express from 'express';
import { request } from './supertest.ts';
import type { RepriseConfig } from '../../config/schema.ts';
import type { Encoders } from '../../models/index.ts';
import { createSearchRouter, type SearchRouter } from '../../plugin/index.ts';
import type { SearchDeps } from '../../plugin/types.ts';
import { InvalidQueryError, StoreUnavailableError } from '../../store/errors.ts';
import type { VectorStore } from '../../store/types.ts';
import { photographs } from '../support/harvest-harness.ts';
import { requireFixtures } from '../support/fixtures.ts';
import { createSearchFixture, type SearchFixture } from '../support/search-fixture.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A store whose chosen methods are replaced, the rest delegated. */
function storeWith(store: VectorStore, overrides: Partial<VectorStore>): VectorStore {
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop in overrides) return overrides[prop as keyof VectorStore];
      const value = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

describe('plugin: routers side by side, CORS, rate limit, no model, timeouts', function () {
  requireFixtures(this);
  let a: SearchFixture;
  let b: SearchFixture;
  const routers: SearchRouter[] = [];
  const api = (f: SearchFixture, over: Partial<RepriseConfig['api']>): RepriseConfig => ({ ...f.config, api: { ...f.config.api, ...over } });
  const router = (deps: SearchDeps) => {
    const r = createSearchRouter(deps, { onError: () => {} });
    routers.push(r);
    return r;
  };

  before(async () => {
    a = await createSearchFixture();
    b = await createSearchFixture({ images: photographs('documerica', 6) });
  });
  after(async () => {
    await Promise.all(routers.map((r) => r.close()));
    await a?.close();
    await b?.close();
  });

  it('keeps two routers over two stores in one app apart: items, metrics and rate limits', async () => {
    const app = express();
    app.use('/a', router({ store: a.store, encoders: a.encoders, config: api(a, { rateLimitPerMinute: 2 }) }));
    app.use('/b', router({ store: b.store, encoders: b.encoders, config: b.config }));
    const statsA = await request(app).get('/a/stats').expect(200);
    const statsB = await request(app).get('/b/stats').expect(200);
    assert.equal(statsA.body.items, 16);
    assert.equal(statsB.body.items, 16);
    assert.notEqual((await request(app).get('/a/facets').expect(200)).text, (await request(app).get('/b/facets').expect(200)).text);
    const hitA = (await request(app).get('/a/search').query({ q: 'x', limit: 1 }).expect(429)).body;
    assert.equal(hitA.type, 'urn:reprise:problem:rate-limited', 'a allows 2 requests a minute');
    const idB = (await request(app).get('/b/search').query({ q: 'x', limit: 1 }).expect(200)).body.hits[0].id;
    await request(app).get(`/b/items/${idB}`).expect(200);
    for (let i = 0; i < 5; i++) await request(app).get('/b/stats').expect(200);
    const aIds = new Set((await a.store.keyword('', { limit: 100 })).hits.map((h) => h.id));
    assert.ok(!aIds.has(idB), 'the stores hold different items');
    const metricsA = (await request(app).get('/a/metrics').expect(200)).text;
    const metricsB = (await request(app).get('/b/metrics').expect(200)).text;
    assert.match(metricsA, /route="\/search",status="429"\} 1$/m);
    assert.doesNotMatch(metricsA, /route="\/items\/:id"/);
    assert.match(metricsB, /route="\/items\/:id",status="200"\} 1$/m);
    assert.match(metricsB, /route="\/stats",status="200"\} 6$/m);
    assert.match(metricsB, /route="\/facets",status="200"\} 1$/m);
    assert.doesNotMatch(metricsB, /status="429"/);
  });

  it('sends Retry-After with 429, and leaves health and metrics unlimited', async () => {
    const app = express().use(router({ store: a.store, encoders: a.encoders, config: api(a, { rateLimitPerMinute: 1 }) }));
    await request(app).get('/stats').expect(200);
    const res = await request(app).get('/facets').expect(429);
    assert.match(res.headers['retry-after']!, /^\d+$/);
    assert.ok(Number(res.headers['retry-after']) >= 1 && Number(res.headers['retry-after']) <= 60);
    assert.match(res.headers['content-type']!, /^application\/problem\+json/);
    assert.match(res.body.detail, /wait \d+ s/);
    await request(app).get('/health').expect(200);
    await request(app).get('/metrics').expect(200);
    await request(app).get('/openapi.json').expect(200);
  });

  it('allows only the configured CORS origins', async () => {
    const portal = 'https://portal.example.org';
    const app = express().use('/api', router({ store: a.store, encoders: a.encoders, config: api(a, { corsOrigins: [portal] }) }));
    const ok = await request(app).get('/api/stats').set('Origin', portal).expect(200);
    assert.equal(ok.headers['access-control-allow-origin'], portal);
    assert.match(ok.headers['access-control-expose-headers']!, /Retry-After/);
    const other = await request(app).get('/api/stats').set('Origin', 'https://elsewhere.example').expect(200);
    assert.equal(other.headers['access-control-allow-origin'], undefined);
    const preflight = await request(app)
      .options('/api/search/image')
      .set('Origin', portal)
      .set('Access-Control-Request-Method', 'POST')
      .set('Access-Control-Request-Headers', 'content-type');
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers['access-control-allow-origin'], portal);
    assert.match(preflight.headers['access-control-allow-methods']!, /POST/);
    const refused = await request(app).options('/api/search').set('Origin', 'https://elsewhere.example').set('Access-Control-Request-Method', 'GET');
    assert.equal(refused.headers['access-control-allow-origin'], undefined);

    const none = express().use(router({ store: a.store, encoders: a.encoders, config: api(a, { corsOrigins: [] }) }));
    assert.equal((await request(none).get('/stats').set('Origin', portal)).headers['access-control-allow-origin'], undefined);
    const any = express().use(router({ store: a.store, encoders: a.encoders, config: api(a, { corsOrigins: ['*'] }) }));
    assert.ok((await request(any).get('/stats').set('Origin', 'https://anyone.example')).headers['access-control-allow-origin']);
  });

  it('without a model: 503 for text and image search saying how to get one, the rest works', async () => {
    const app = express().use(router({ store: a.store, config: a.config }));
    const text = await request(app).get('/search').query({ q: 'a horse' }).expect(503);
    assert.equal(text.body.type, 'urn:reprise:problem:model-unavailable');
    assert.match(text.body.detail, /reprise models pull clip-vit-base-patch32/);
    assert.match(text.body.detail, /models\.path/);
    const image = await request(app).post('/search/image').send({ url: `${a.inst.baseUrl}/files/x.jpg` }).expect(503);
    assert.equal(image.body.type, 'urn:reprise:problem:model-unavailable');
    const id = (await a.store.keyword('', { limit: 2 })).hits[0]!.id;
    const similar = await request(app).get(`/items/${id}/similar`).expect(200);
    assert.ok(similar.body.hits.length > 0);
    await request(app).post('/search/examples').send({ positive: [id] }).expect(200);
    // The store hands out the examples' vectors: relevance feedback by id needs no model.
    const twoIds = await request(app).post('/search/examples').send({ positive: [id], negative: [similar.body.hits[0].id] }).expect(200);
    assert.ok(twoIds.body.hits.length > 0);
    await request(app).get(`/items/${id}`).expect(200);
    await request(app).get('/facets').expect(200);
    const stats = await request(app).get('/stats').expect(200);
    assert.deepEqual(stats.body.model, { loaded: false });
    await request(app).get('/search').query({ q: 'level0', semanticRatio: 0 }).expect(200);
    const health = await request(app).get('/health').expect(503);
    assert.equal(health.body.status, 'unavailable');
    assert.equal(health.body.store.reachable, true);
    assert.equal(health.body.model.loaded, false);
    assert.match(health.body.model.hint, /reprise models pull/);
  });

  it('bounds store and encoder calls: 504 and 503 problems', async () => {
    const slowStore = storeWith(a.store, {
      nearest: async (...args) => {
        await sleep(300);
        return a.store.nearest(...args);
      },
    });
    const slowStoreApp = express().use(router({ store: slowStore, encoders: a.encoders, config: api(a, { storeTimeoutMs: 50 }) }));
    const storeLate = await request(slowStoreApp).get('/search').query({ q: 'x' }).expect(504);
    assert.equal(storeLate.body.type, 'urn:reprise:problem:store-timeout');
    assert.match(storeLate.body.detail, /api\.storeTimeoutMs/);

    const slowText = { ...a.encoders, text: { embed: async () => (await sleep(300), a.encoders.text!.embed(['x'])) } } as unknown as Encoders;
    const slowModelApp = express().use(router({ store: a.store, encoders: slowText, config: api(a, { encoderTimeoutMs: 50 }) }));
    const modelLate = await request(slowModelApp).get('/search').query({ q: 'x' }).expect(503);
    assert.equal(modelLate.body.type, 'urn:reprise:problem:encoder-timeout');
    assert.match(modelLate.body.detail, /api\.encoderTimeoutMs/);
    const metrics = (await request(slowModelApp).get('/metrics')).text;
    assert.match(metrics, /reprise_encoder_duration_seconds_count\{tower="text",outcome="timeout"\} 1/);
    const storeMetrics = (await request(slowStoreApp).get('/metrics')).text;
    assert.match(storeMetrics, /reprise_store_duration_seconds_count\{operation="nearest",outcome="timeout"\} 1/);
  });

  it('maps store failures: unavailable 503, invalid query 400', async () => {
    const down = storeWith(a.store, {
      stats: async () => {
        throw new StoreUnavailableError('Meilisearch at http://127.0.0.1:7700 is not reachable');
      },
      keyword: async () => {
        throw new InvalidQueryError('the keyword query is too long for Meilisearch');
      },
    });
    const app = express().use(router({ store: down, encoders: a.encoders, config: a.config }));
    const stats = await request(app).get('/stats').expect(503);
    assert.equal(stats.body.type, 'urn:reprise:problem:store-unavailable');
    const health = await request(app).get('/health').expect(503);
    assert.equal(health.body.store.reachable, false);
    assert.match(health.body.store.error, /not reachable/);
    const invalid = await request(app).get('/search').query({ q: 'x', semanticRatio: 0 }).expect(400);
    assert.equal(invalid.body.type, 'urn:reprise:problem:invalid-query');
  });
});
