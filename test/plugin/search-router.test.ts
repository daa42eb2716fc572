import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import express from 'express';
import sharp from 'sharp';
import { request, type TestResponse } from './supertest.ts';
import type { RepriseConfig } from '../../config/schema.ts';
import { createSearchRouter, type SearchRouter } from '../../plugin/index.ts';
import { manifestKey } from '../../plugin/content-search/index.ts';
import { photographs } from '../support/harvest-harness.ts';
import { requireFixtures } from '../support/fixtures.ts';
import { createSearchFixture, type SearchFixture } from '../support/search-fixture.ts';

type ApiOverrides = Partial<RepriseConfig['api']>;

describe('plugin: search router', function () {
  requireFixtures(this);
  let f: SearchFixture;
  let app: express.Express;
  const routers: SearchRouter[] = [];
  let jpeg: Buffer;

  const withConfig = (api: ApiOverrides = {}, allowPrivate?: string[]): RepriseConfig => ({
    ...f.config,
    api: { ...f.config.api, ...api },
    harvest: { ...f.config.harvest, http: { ...f.config.harvest.http, ...(allowPrivate ? { allowPrivate } : {}) } },
  });
  const appWith = (config: RepriseConfig): express.Express => {
    const router = createSearchRouter({ store: f.store, encoders: f.encoders, config }, { onError: (err) => assert.fail(`unexpected 500: ${String(err)}`) });
    routers.push(router);
    return express().use('/api', router);
  };
  const problem = (res: TestResponse, status: number, kind: string) => {
    assert.equal(res.status, status, res.text);
    assert.match(res.headers['content-type']!, /^application\/problem\+json/);
    assert.equal(res.body.type, `urn:reprise:problem:${kind}`);
    assert.equal(res.body.status, status);
    assert.ok(res.body.title && res.body.detail && res.body.instance, res.text);
    assert.doesNotMatch(res.text, /\n\s+at /, 'no stack trace');
    return res.body as { detail: string; errors?: Array<{ name: string; in: string; reason: string }> };
  };
  /** The institution shows each photograph on two canvases: a canvas is found when it is among the best equal hits. */
  const assertFound = (hits: Array<{ score: number; canvas: { id: string } }>, canvasId: string, what = '') => {
    const top = hits[0]!.score;
    assert.ok(top > 0.95, `${what} best score ${top}`);
    assert.ok(hits.filter((h) => top - h.score < 1e-3).some((h) => h.canvas.id === canvasId), `${what} finds ${canvasId}`);
  };
  const manifestOf = (mode: string) => f.inst.manifests.find((m) => m.imageMode === mode)!;

  before(async () => {
    f = await createSearchFixture();
    app = appWith(f.config);
    jpeg = readFileSync(photographs('fsa-owi', 1)[0]!);
  });
  after(async () => {
    await Promise.all(routers.map((r) => r.close()));
    await f?.close();
  });

  describe('text search', () => {
    it('answers hits with ids, scores, canvas, manifest, thumbnail and rights', async () => {
      const res = await request(app).get('/api/search').query({ q: 'a farmer in a field', limit: 16 }).expect(200);
      assert.match(res.headers['content-type']!, /^application\/json/);
      assert.equal(res.body.hits.length, 16);
      assert.equal(res.body.scoreKind, 'cosine');
      assert.equal(res.body.limit, 16);
      assert.equal(res.body.offset, 0);
      const scores = res.body.hits.map((h: { score: number }) => h.score);
      assert.deepEqual(scores, [...scores].sort((a, b) => b - a), 'best first');
      for (const hit of res.body.hits) {
        assert.match(hit.id, /^[0-9a-f]{32}$/);
        assert.ok(hit.canvas.id && hit.canvas.label && hit.manifest.id && hit.manifest.label && hit.manifest.url);
        // Normalised when harvested: the canonical https URI of the Public Domain Mark.
        assert.equal(hit.rights, 'https://creativecommons.org/publicdomain/mark/1.0/');
        assert.ok(hit.thumbnail);
      }
      const byMode = (mode: string) => res.body.hits.find((h: { manifest: { url: string } }) => h.manifest.url === manifestOf(mode).url);
      // Sizes worked out exactly (rounded down), which every level-1 server reads the same way.
      assert.match(byMode('image-api-3').thumbnail, /\/iiif\/3\/img-\d+\/full\/\d+,\d+\/0\/default\.jpg$/);
      assert.match(byMode('image-api-2').thumbnail, /\/iiif\/2\/img-\d+\/full\/\d+,\/0\/default\.jpg$/);
      assert.match(byMode('plain').thumbnail, /\/files\/img-\d+\.\w+$/);
      // m007 declares Image API 1.1 services: native.jpg.
      const v1 = res.body.hits.find((h: { imageService?: { version: number } }) => h.imageService?.version === 1);
      assert.match(v1.thumbnail, /\/full\/\d+,\/0\/native\.jpg$/);
      // Each thumbnail is one the image server gives (iiif-processor refuses !400,400 on some sizes as an upscale).
      for (const h of res.body.hits as Array<{ thumbnail: string }>) assert.equal((await fetch(h.thumbnail)).status, 200, h.thumbnail);
    });

    it('filters by manifest, collection and rights, and pages with limit and offset', async () => {
      const m = manifestOf('image-api-3');
      const inManifest = await request(app).get('/api/search').query({ q: 'street', manifest: m.url }).expect(200);
      assert.equal(inManifest.body.hits.length, 2);
      assert.ok(inManifest.body.hits.every((h: { manifest: { url: string } }) => h.manifest.url === m.url));
      const two = await request(app).get(`/api/search?q=street&manifest=${encodeURIComponent(m.url)}&manifest=${encodeURIComponent(manifestOf('plain').url)}`).expect(200);
      assert.equal(two.body.hits.length, 4);
      const v3 = await request(app).get('/api/search').query({ q: 'street', collection: 'Presentation 3 manifests', limit: 50 }).expect(200);
      assert.equal(v3.body.hits.length, 8);
      const none = await request(app).get('/api/search').query({ q: 'street', rights: 'http://rightsstatements.org/vocab/InC/1.0/' }).expect(200);
      assert.equal(none.body.hits.length, 0);
      const dated = await request(app).get('/api/search').query({ q: 'street', dateFrom: '1936', dateTo: '1940-12' }).expect(200);
      assert.equal(dated.body.hits.length, 0, 'the fixture manifests have no navDate');
      const all = await request(app).get('/api/search').query({ q: 'street', limit: 6 }).expect(200);
      const page2 = await request(app).get('/api/search').query({ q: 'street', limit: 3, offset: 3 }).expect(200);
      assert.deepEqual(page2.body.hits.map((h: { id: string }) => h.id), all.body.hits.slice(3).map((h: { id: string }) => h.id));
    });

    it('drops hits under minScore', async () => {
      const all = await request(app).get('/api/search').query({ q: 'street', limit: 16 }).expect(200);
      const cut = all.body.hits[5].score;
      const res = await request(app).get('/api/search').query({ q: 'street', limit: 16, minScore: cut }).expect(200);
      assert.equal(res.body.hits.length, 6);
      assert.ok(res.body.hits.every((h: { score: number }) => h.score >= cut));
    });

    it('mixes metadata keywords in with semanticRatio, and 0 is a keyword search', async () => {
      const hybrid = await request(app).get('/api/search').query({ q: 'level0', semanticRatio: 0.5, limit: 16 }).expect(200);
      assert.equal(hybrid.body.scoreKind, 'ranking');
      assert.ok(hybrid.body.hits.every((h: { score: number }) => h.score >= 0 && h.score <= 1));
      const keyword = await request(app).get('/api/search').query({ q: 'level0', semanticRatio: 0 }).expect(200);
      assert.equal(keyword.body.hits.length, 4, 'the two level-0 manifests say so in their labels');
      assert.ok(keyword.body.hits.every((h: { manifest: { label: string } }) => /level0/.test(h.manifest.label)));
    });

    it('refuses bad parameters with a 400 problem listing each', async () => {
      const res = await request(app).get('/api/search').query({ limit: 101, offset: -1, semanticRatio: 2, minScore: 'high', dateFrom: 'May 1936', colour: 'red' });
      const body = problem(res, 400, 'invalid-parameters');
      const names = body.errors!.map((e) => e.name).sort();
      assert.deepEqual(names, ['colour', 'dateFrom', 'limit', 'minScore', 'offset', 'q', 'semanticRatio']);
      assert.ok(body.errors!.every((e) => e.in === 'query' && e.reason.length > 5));
      assert.match(body.errors!.find((e) => e.name === 'limit')!.reason, /at most 100 \(api\.maxLimit\)/);
      problem(await request(app).get('/api/search').query({ q: '   ' }), 400, 'invalid-parameters');
      problem(await request(app).get('/api/search?q=a&q=b'), 400, 'invalid-parameters');
      problem(await request(app).get('/api/search').query({ q: 'x', offset: 990, limit: 20 }), 400, 'invalid-parameters');
      const long = problem(await request(app).get('/api/search').query({ q: 'x'.repeat(501) }), 400, 'invalid-parameters');
      assert.match(long.errors![0]!.reason, /500 characters \(api\.maxQueryLength\)/);
    });
  });

  describe('image search', () => {
    it('takes an uploaded JPEG, PNG, WebP or TIFF', async () => {
      const res = await request(app).post('/api/search/image').query({ limit: 3 }).attach('image', jpeg, 'photo.jpg').expect(200);
      assert.equal(res.body.hits.length, 3);
      assert.ok(res.body.hits[0].score > 0.99, 'the photograph itself is indexed');
      for (const format of ['png', 'webp', 'tiff'] as const) {
        const bytes = await sharp(jpeg).toFormat(format).toBuffer();
        const r = await request(app).post('/api/search/image').attach('image', bytes, { filename: 'x', contentType: 'application/octet-stream' }).expect(200);
        assert.ok(r.body.hits.length > 0, format);
      }
    });

    it('refuses what is not an accepted image by its bytes (415), too large (413), too many pixels or damaged (422)', async () => {
      const gif = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#888' } }).gif().toBuffer();
      problem(await request(app).post('/api/search/image').attach('image', gif, { filename: 'x.jpg', contentType: 'image/jpeg' }), 415, 'unsupported-media-type');
      problem(await request(app).post('/api/search/image').attach('image', Buffer.from('<svg/>'), 'x.png'), 415, 'unsupported-media-type');
      const small = appWith(withConfig({ maxUploadBytes: 10_000 }));
      problem(await request(small).post('/api/search/image').attach('image', jpeg, 'photo.jpg'), 413, 'payload-too-large');
      const fewPixels = appWith(withConfig({ maxImagePixels: 10_000 }));
      const tooMany = problem(await request(fewPixels).post('/api/search/image').attach('image', jpeg, 'photo.jpg'), 422, 'unprocessable-image');
      assert.match(tooMany.detail, /api\.maxImagePixels/);
      const broken = Buffer.concat([jpeg.subarray(0, 20), Buffer.alloc(200, 7)]);
      problem(await request(app).post('/api/search/image').attach('image', broken, 'broken.jpg'), 422, 'unprocessable-image');
    });

    it('names the upload field and the content types it takes', async () => {
      const wrongField = problem(await request(app).post('/api/search/image').attach('file', jpeg, 'photo.jpg'), 400, 'invalid-parameters');
      assert.match(wrongField.errors![0]!.reason, /"image"/);
      problem(await request(app).post('/api/search/image').attach('image', jpeg, 'a.jpg').field('limit', '3'), 400, 'invalid-parameters');
      problem(await request(app).post('/api/search/image').set('Content-Type', 'image/jpeg').send(jpeg), 415, 'unsupported-media-type');
      const none = problem(await request(app).post('/api/search/image'), 400, 'invalid-parameters');
      assert.match(none.errors![0]!.reason, /exactly one image/);
      problem(await request(app).post('/api/search/image').send({ url: 'http://a.example/x.jpg', iiif: 'http://a.example/x.jpg' }), 400, 'invalid-parameters');
      problem(await request(app).post('/api/search/image').send({ url: 'file:///etc/passwd' }), 400, 'invalid-parameters');
      problem(await request(app).post('/api/search/image').send({ canvas: 'https://c.example/1' }), 400, 'invalid-parameters');
      problem(await request(app).post('/api/search/image').query({ limit: 0 }).attach('image', jpeg, 'a.jpg'), 400, 'invalid-parameters');
    });

    it('fetches an image by URL from the institution (127.0.0.1 allowed by the fixture config)', async () => {
      const canvas = manifestOf('plain').canvases[0]!;
      const res = await request(app).post('/api/search/image').send({ url: canvas.imageUrl }).expect(200);
      assertFound(res.body.hits, canvas.id);
    });

    it('refuses a loopback URL unless harvest.http.allowPrivate lists it', async () => {
      const strict = appWith(withConfig({}, []));
      const body = problem(await request(strict).post('/api/search/image').send({ url: manifestOf('plain').canvases[0]!.imageUrl }), 400, 'url-refused');
      assert.equal(body.errors![0]!.name, 'url');
      assert.match(body.errors![0]!.reason, /harvest\.http\.allowPrivate/);
      assert.doesNotMatch(body.detail, /resolves to/, 'the resolved address is not disclosed');
      problem(await request(strict).post('/api/search/image').send({ url: 'http://localhost:9/x.jpg' }), 400, 'url-refused');
    });

    it('answers 502 when the URL fails and 415 when it is not an image', async () => {
      const missing = problem(await request(app).post('/api/search/image').send({ url: `${f.inst.baseUrl}/files/nothing.jpg` }), 502, 'upstream-failed');
      assert.match(missing.detail, /HTTP 404/);
      problem(await request(app).post('/api/search/image').send({ url: f.inst.rootCollectionUrl }), 415, 'unsupported-media-type');
    });

    it('searches by an Image API region URL, fetched at a model-sized scale', async () => {
      const m = manifestOf('image-api-3');
      const service = m.canvases[0]!.serviceUrl!;
      const res = await request(app).post('/api/search/image').send({ iiif: `${service}/full/max/0/default.jpg` }).expect(200);
      assertFound(res.body.hits, m.canvases[0]!.id);
      await request(app).post('/api/search/image').send({ iiif: `${service}/10,10,120,80/max/0/default.jpg` }).expect(200);
      const v2 = manifestOf('image-api-2').canvases[0]!.serviceUrl!;
      await request(app).post('/api/search/image').send({ iiif: `${v2}/pct:10,10,50,50/full/0/default.jpg` }).expect(200);
      const notIiif = problem(await request(app).post('/api/search/image').send({ iiif: manifestOf('plain').canvases[0]!.imageUrl }), 400, 'invalid-parameters');
      assert.equal(notIiif.errors![0]!.name, 'iiif');
    });

    it('searches by a box drawn on an indexed canvas, cut by the service or locally', async () => {
      for (const mode of ['image-api-3', 'image-api-2', 'level0', 'plain']) {
        const m = manifestOf(mode);
        const canvas = m.canvases[1]!;
        const whole = await request(app).post('/api/search/image').send({ canvas: canvas.id, manifest: m.url, xywh: '0,0,10000,10000' }).expect(200);
        assertFound(whole.body.hits, canvas.id, mode);
        // Without the manifest, the lookup finds it by the canvas id alone.
        await request(app).post('/api/search/image').send({ canvas: canvas.id, xywh: 'xywh=percent:10,10,50,50' }).expect(200);
      }
    });

    it('answers 404 for an unknown canvas and 400 for a box off the image', async () => {
      const unknown = problem(await request(app).post('/api/search/image').send({ canvas: `${f.inst.baseUrl}/manifests/v3/m999/canvas/c1`, xywh: '0,0,10,10' }), 404, 'not-found');
      assert.match(unknown.detail, /"manifest"/);
      const canvas = manifestOf('image-api-3').canvases[0]!;
      const off = problem(await request(app).post('/api/search/image').send({ canvas: canvas.id, xywh: '100000,100000,10,10' }), 400, 'invalid-parameters');
      assert.equal(off.errors![0]!.name, 'xywh');
      problem(await request(app).post('/api/search/image').send({ canvas: canvas.id, xywh: 'left half' }), 400, 'invalid-parameters');
    });
  });

  describe('items and examples', () => {
    let ids: string[];
    before(async () => {
      ids = (await request(app).get('/api/search').query({ q: 'anything', limit: 16 }).expect(200)).body.hits.map((h: { id: string }) => h.id);
    });

    it('shows an item by id, and 404 for an unknown one', async () => {
      const res = await request(app).get(`/api/items/${ids[0]}`).expect(200);
      assert.equal(res.body.id, ids[0]);
      assert.ok(res.body.summary && Array.isArray(res.body.metadata) && res.body.image.url && res.body.source);
      problem(await request(app).get('/api/items/0123456789abcdef0123456789abcdef'), 404, 'not-found');
      problem(await request(app).get('/api/items/not%20an%20id'), 400, 'invalid-parameters');
    });

    it('finds items similar to an item, leaving it out', async () => {
      const res = await request(app).get(`/api/items/${ids[0]}/similar`).query({ limit: 5 }).expect(200);
      assert.equal(res.body.hits.length, 5);
      assert.ok(!res.body.hits.some((h: { id: string }) => h.id === ids[0]));
      const filtered = await request(app).get(`/api/items/${ids[0]}/similar`).query({ collection: 'Presentation 3 manifests', limit: 50 }).expect(200);
      assert.ok(filtered.body.hits.every((h: { collections: string[] }) => h.collections.includes('Presentation 3 manifests')));
      problem(await request(app).get('/api/items/0123456789abcdef0123456789abcdef/similar'), 404, 'not-found');
      problem(await request(app).get(`/api/items/${ids[0]}/similar`).query({ limit: 'many' }), 400, 'invalid-parameters');
    });

    it('takes several positive and negative examples, ids or vectors, and leaves them out of the hits', async () => {
      const one = await request(app).post('/api/search/examples').send({ positive: [ids[0]], limit: 5 }).expect(200);
      const similar = await request(app).get(`/api/items/${ids[0]}/similar`).query({ limit: 5 }).expect(200);
      assert.deepEqual(one.body, similar.body, 'one positive id is the similar search');
      // With a negative of weight 0 the query is the item's own vector, embedded again from its image.
      const again = await request(app).post('/api/search/examples').send({ positive: [ids[0]], negative: [ids[1]], negativeWeight: 0, limit: 4 }).expect(200);
      const expected = similar.body.hits.filter((h: { id: string }) => h.id !== ids[1]).slice(0, 4);
      assert.deepEqual(again.body.hits.map((h: { id: string }) => h.id), expected.map((h: { id: string }) => h.id));
      again.body.hits.forEach((h: { score: number }, i: number) => assert.ok(Math.abs(h.score - expected[i].score) < 1e-4));
      const mixed = await request(app).post('/api/search/examples').send({ positive: [ids[0], ids[2]], negative: [ids[3]], limit: 16 }).expect(200);
      assert.equal(mixed.body.hits.length, 13);
      assert.ok(!mixed.body.hits.some((h: { id: string }) => [ids[0], ids[2], ids[3]].includes(h.id)));
      const dim = f.encoders.config.projectionDim;
      const axis = Array.from({ length: dim }, (_, i) => (i === 0 ? 1 : 0));
      const byVector = await request(app).post('/api/search/examples').send({ positive: [axis], negative: [axis.map((x, i) => (i === 1 ? 1 : 0 * x))], negativeWeight: 0.3 }).expect(200);
      assert.equal(byVector.body.hits.length, 16);
    });

    it('refuses bad examples', async () => {
      const dim = f.encoders.config.projectionDim;
      const wrong = problem(await request(app).post('/api/search/examples').send({ positive: [[1, 2, 3]] }), 400, 'invalid-parameters');
      assert.deepEqual(wrong.errors!.map((e) => e.name), ['positive[0]']);
      assert.match(wrong.errors![0]!.reason, new RegExp(`${dim} dimensions`));
      problem(await request(app).post('/api/search/examples').send({ positive: [new Array(dim).fill(0)] }), 400, 'invalid-parameters');
      problem(await request(app).post('/api/search/examples').send({ positive: [] }), 400, 'invalid-parameters');
      problem(await request(app).post('/api/search/examples').send({ positive: [ids[0]], negativeWeight: 3, filter: { decade: 1930 } }), 400, 'invalid-parameters');
      const v = Array.from({ length: dim }, (_, i) => i + 1);
      problem(await request(app).post('/api/search/examples').send({ positive: [v], negative: [v], negativeWeight: 1 }), 422, 'examples-cancel-out');
      problem(await request(app).post('/api/search/examples').send({ positive: [ids[0], '0123456789abcdef0123456789abcdef'] }), 404, 'not-found');
      problem(await request(app).post('/api/search/examples').set('Content-Type', 'text/plain').send('positive'), 415, 'unsupported-media-type');
      problem(await request(app).post('/api/search/examples').set('Content-Type', 'application/json').send('{"positive": ['), 400, 'invalid-parameters');
      problem(await request(app).post('/api/search/examples').send({ positive: ['x'.repeat(3_000_000)] }), 413, 'payload-too-large');
    });
  });

  describe('facets, stats, health, metrics', () => {
    it('counts the filterable fields under filters', async () => {
      const all = await request(app).get('/api/facets').expect(200);
      // The fixed fields, the date's decade and year, and the configuration's metadata facets.
      assert.deepEqual(Object.keys(all.body.facets).sort(), ['collection', 'decade', 'labels', 'manifest', 'meta.creator', 'meta.language', 'meta.place', 'meta.subject', 'meta.type', 'rights', 'source', 'year']);
      assert.equal(all.body.facets.manifest.values.length, 8);
      assert.deepEqual(all.body.facets.rights.values, [{ value: 'https://creativecommons.org/publicdomain/mark/1.0/', count: 16, label: 'Public Domain Mark 1.0' }]);
      const some = await request(app).get('/api/facets').query({ fields: 'collection', size: 1, collection: 'Presentation 3 manifests' }).expect(200);
      assert.deepEqual(some.body, { facets: { collection: { values: [{ value: 'Presentation 3 manifests', count: 8 }], more: true } } });
      problem(await request(app).get('/api/facets').query({ fields: 'colour' }), 400, 'invalid-parameters');
    });

    it('lists the items under the filters (browsing), page by page', async () => {
      const all = await request(app).get('/api/items').query({ limit: 100 }).expect(200);
      assert.equal(all.body.hits.length, 16);
      const some = await request(app).get('/api/items').query({ limit: 100, collection: 'Presentation 3 manifests' }).expect(200);
      assert.equal(some.body.hits.length, 8);
      const pages = [
        ...(await request(app).get('/api/items').query({ limit: 5 }).expect(200)).body.hits,
        ...(await request(app).get('/api/items').query({ limit: 5, offset: 5 }).expect(200)).body.hits,
      ].map((h: { id: string }) => h.id);
      assert.deepEqual(pages, all.body.hits.slice(0, 10).map((h: { id: string }) => h.id));
    });

    it('reports stats and health', async () => {
      const stats = await request(app).get('/api/stats').expect(200);
      assert.deepEqual(stats.body, { items: 16, vectors: 16, itemsWithoutVectors: 0, modelId: f.encoders.config.modelId, dimensions: f.encoders.config.projectionDim, model: { loaded: true, modelId: f.encoders.config.modelId } });
      const health = await request(app).get('/api/health').expect(200);
      assert.equal(health.body.status, 'ok');
      assert.deepEqual(health.body.model, { loaded: true, modelId: f.encoders.config.modelId, matchesIndex: true });
      assert.equal(health.body.store.reachable, true);
    });

    it('exposes request, encoder and store metrics in the Prometheus format', async () => {
      const res = await request(app).get('/api/metrics').expect(200);
      assert.match(res.headers['content-type']!, /^text\/plain; version=0\.0\.4/);
      assert.match(res.text, /^reprise_http_requests_total\{method="GET",route="\/search",status="200"\} \d+$/m);
      assert.match(res.text, /^reprise_http_requests_total\{method="GET",route="\/search",status="400"\} \d+$/m);
      assert.match(res.text, /^reprise_http_requests_total\{method="POST",route="\/search\/image",status="415"\} \d+$/m);
      assert.match(res.text, /^reprise_http_request_duration_seconds_bucket\{method="GET",route="\/items\/:id",status="200",le="\+Inf"\} \d+$/m);
      assert.match(res.text, /^reprise_encoder_duration_seconds_count\{tower="text",outcome="ok"\} \d+$/m);
      assert.match(res.text, /^reprise_encoder_duration_seconds_count\{tower="image",outcome="ok"\} \d+$/m);
      assert.match(res.text, /^reprise_store_duration_seconds_count\{operation="nearest",outcome="ok"\} \d+$/m);
    });
  });

  describe('mounted routers', () => {
    it('serves IIIF Content Search under /iiif/search', async () => {
      const m = manifestOf('image-api-3');
      const res = await request(app).get(`/api/iiif/search/v2/${manifestKey(m.url)}`).query({ q: 'a street' }).expect(200);
      assert.equal(res.body.type, 'AnnotationPage');
      await request(app).get(`/api/iiif/search/v1/${manifestKey(m.url)}`).query({ q: 'a street' }).expect(200);
    });

    it('mounts the admin routes under /admin, closed without an admin token', async () => {
      problem(await request(app).get('/api/admin/harvests'), 404, 'not-found');
      const admin = appWith(withConfig({ adminToken: 'a-token-of-sixteen-chars' }));
      const res = await request(admin).get('/api/admin/harvests');
      assert.equal(res.status, 401);
    });

    it('leaves paths it does not know to the portal', async () => {
      const portal = express();
      portal.use('/', createSearchRouter({ store: f.store, encoders: f.encoders, config: f.config }));
      portal.get('/about', (_req, res) => void res.send('portal page'));
      await request(portal).get('/about').expect(200, 'portal page');
    });
  });
});
