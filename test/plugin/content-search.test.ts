import assert from 'node:assert/strict';
import express, { type Express } from 'express';
import { contentSearchRouter, contentSearchServiceFor, manifestIdFromKey, manifestKey } from '../../plugin/content-search/index.ts';
import { problemJson } from '../../plugin/middleware/problem-json.ts';
import type { SearchDeps } from '../../plugin/types.ts';
import { requireFixtures } from '../support/fixtures.ts';
import { createSearchFixture, type SearchFixture } from '../support/search-fixture.ts';
import { request, type TestResponse } from './supertest.ts';

// @types/supertest is not a dependency: the few calls used here, typed.

const PREZI2 = 'http://iiif.io/api/presentation/2/context.json';
const SEARCH1 = 'http://iiif.io/api/search/1/context.json';
const SEARCH2 = 'http://iiif.io/api/search/2/context.json';

/** As createSearchRouter mounts it: the router at /iiif/search, problems written by the router's error handler. */
function appFor(deps: SearchDeps): Express {
  const app = express();
  app.use('/iiif/search', contentSearchRouter(deps));
  app.use(problemJson());
  return app;
}

function assertProblem(res: TestResponse, status: number): void {
  assert.equal(res.status, status);
  assert.match(res.headers['content-type']!, /^application\/problem\+json/);
  assert.equal(res.body.status, status);
  for (const member of ['type', 'title', 'detail']) assert.equal(typeof res.body[member], 'string', `problem.${member}`);
}

/** Content Search 1.0 §3.3–3.4: an sc:AnnotationList, `within` an sc:Layer with `total`, `hits` referencing annotations by @id. */
function assertV1(body: any, canvases: Set<string>, serviceUrl: string): void {
  assert.deepEqual(body['@context'], [PREZI2, SEARCH1]);
  assert.equal(body['@type'], 'sc:AnnotationList');
  assert.ok(body['@id'].startsWith(`${serviceUrl}?`), body['@id']);
  assert.equal(body.within['@type'], 'sc:Layer');
  assert.equal(body.within.total, body.resources.length);
  assert.equal(body.startIndex, 0);
  assert.ok(Array.isArray(body.resources) && body.resources.length > 0);
  const ids = new Set<string>();
  for (const anno of body.resources) {
    assert.equal(typeof anno['@id'], 'string');
    assert.ok(!ids.has(anno['@id']), 'annotation ids are unique');
    ids.add(anno['@id']);
    assert.equal(anno['@type'], 'oa:Annotation');
    assert.equal(anno.motivation, 'oa:highlighting');
    assert.equal(anno.resource['@type'], 'cnt:ContentAsText');
    assert.match(anno.resource.chars, /similarity -?\d\.\d{3}/);
    assert.equal(typeof anno.on, 'string');
    const [canvas, fragment] = anno.on.split('#');
    assert.ok(canvases.has(canvas), `${canvas} is a canvas of the manifest`);
    if (fragment !== undefined) assert.match(fragment, /^xywh=\d+,\d+,\d+,\d+$/);
  }
  assert.equal(body.hits.length, body.resources.length);
  for (const hit of body.hits) {
    assert.equal(hit['@type'], 'search:Hit');
    assert.equal(hit.annotations.length, 1);
    assert.ok(ids.has(hit.annotations[0]), 'a hit references an annotation of the list');
    assert.equal(typeof hit.match, 'string');
  }
  const scores = body.resources.map((a: any) => Number(/similarity (-?[\d.]+)/.exec(a.resource.chars)![1]));
  assert.deepEqual(scores, [...scores].sort((a, b) => b - a), 'best hits first');
}

/** Content Search 2.0 §4.2: an AnnotationPage of `highlighting` annotations, `partOf` an AnnotationCollection with `total` and `first`. */
function assertV2(body: any, canvases: Set<string>, serviceUrl: string): void {
  assert.equal(body['@context'], SEARCH2);
  assert.equal(body.type, 'AnnotationPage');
  assert.ok(body.id.startsWith(`${serviceUrl}?`), body.id);
  assert.equal(body.partOf.type, 'AnnotationCollection');
  assert.ok(body.partOf.id.startsWith(`${serviceUrl}?`));
  assert.notEqual(body.partOf.id, body.id);
  assert.equal(body.partOf.total, body.items.length);
  assert.deepEqual(body.partOf.first, { id: body.id, type: 'AnnotationPage' });
  assert.equal(body.startIndex, 0);
  assert.ok(Array.isArray(body.items) && body.items.length > 0);
  const ids = new Set<string>();
  for (const anno of body.items) {
    assert.equal(typeof anno.id, 'string');
    assert.ok(!ids.has(anno.id));
    ids.add(anno.id);
    assert.equal(anno.type, 'Annotation');
    assert.equal(anno.motivation, 'highlighting');
    assert.equal(anno.body.type, 'TextualBody');
    assert.equal(anno.body.format, 'text/plain');
    assert.match(anno.body.value, /similarity -?\d\.\d{3}/);
    if (typeof anno.target === 'string') assert.ok(canvases.has(anno.target), `${anno.target} is a canvas of the manifest`);
    else {
      assert.equal(anno.target.type, 'SpecificResource');
      assert.equal(anno.target.source.type, 'Canvas');
      assert.ok(canvases.has(anno.target.source.id));
      assert.equal(anno.target.selector.type, 'FragmentSelector');
      assert.equal(anno.target.selector.conformsTo, 'http://www.w3.org/TR/media-frags/');
      assert.match(anno.target.selector.value, /^xywh=\d+,\d+,\d+,\d+$/);
    }
  }
}

describe('IIIF Content Search (plugin/content-search)', function () {
  requireFixtures(this);
  let fx: SearchFixture;
  let deps: SearchDeps;
  let app: Express;
  let manifestId: string;
  let otherManifest: string;
  let canvases: Set<string>;
  let v1: string;
  let v2: string;

  before(async function () {
    this.timeout(180_000);
    fx = await createSearchFixture();
    deps = { store: fx.store, encoders: fx.encoders, config: fx.config };
    app = appFor(deps);
    const manifests = Object.keys((await fx.store.facets(['manifest'])).manifest).sort();
    assert.ok(manifests.length >= 2, 'the fixture indexes several manifests');
    manifestId = manifests[0]!;
    otherManifest = manifests[1]!;
    const [probe] = await fx.encoders.text.embed(['anything']);
    const all = await fx.store.nearest(probe!, { filter: { manifest: manifestId }, limit: 100 });
    canvases = new Set(all.hits.map((h) => h.item.canvasId));
    assert.ok(canvases.size >= 2);
    v1 = `/iiif/search/v1/${manifestKey(manifestId)}`;
    v2 = `/iiif/search/v2/${manifestKey(manifestId)}`;
  });

  after(async () => {
    await fx?.close();
  });

  it('answers 1.0 as an sc:AnnotationList with within/total and hits, only canvases of that manifest', async () => {
    const res = await request(app).get(`${v1}?q=${encodeURIComponent('a street with people')}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.match(res.headers['content-type']!, /^application\/json/);
    assertV1(res.body, canvases, res.body['@id'].split('?')[0]);
    assert.ok(res.body['@id'].endsWith(`${v1}?q=a+street+with+people`), res.body['@id']);
    assert.equal(res.body.resources.length, canvases.size, 'every canvas of the manifest, best first');
  });

  it('answers 2.0 as an AnnotationPage partOf an AnnotationCollection', async () => {
    const res = await request(app).get(`${v2}?q=farm`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assertV2(res.body, canvases, res.body.partOf.id.split('?')[0]);
    assert.ok(res.body.partOf.id.endsWith(`${v2}?q=farm`));
    assert.equal(res.body.id, `${res.body.partOf.id}&page=1`);
    // The page it names answers too.
    const again = await request(app).get(new URL(res.body.id).pathname + new URL(res.body.id).search);
    assert.equal(again.status, 200);
    assert.deepEqual(again.body.items.map((i: any) => i.target), res.body.items.map((i: any) => i.target));
  });

  it('targets the region, as xywh in canvas coordinates, when a region matched better than the whole image', async () => {
    const query = 'a bicycle leaning on a fence';
    const [q] = await fx.encoders.text.embed([query]);
    const opposite = Float32Array.from(q!, (v) => -v);
    const any = (await fx.store.nearest(q!, { filter: { manifest: manifestId }, limit: 1 })).hits[0]!.item;
    await fx.store.upsert([{ ...any, id: 'f'.repeat(32), vector: opposite, regions: [{ box: { x: 10.4, y: 20, w: 300, h: 150.6 }, vector: q! }] }]);

    const one = await request(app).get(`${v1}?q=${encodeURIComponent(query)}`);
    assertV1(one.body, canvases, one.body['@id'].split('?')[0]);
    assert.equal(one.body.resources[0].on, `${any.canvasId}#xywh=10,20,300,151`);
    assert.match(one.body.resources[0].resource.chars, /region 10,20,300,151 .*similarity 1\.000/);

    const two = await request(app).get(`${v2}?q=${encodeURIComponent(query)}`);
    assertV2(two.body, canvases, two.body.partOf.id.split('?')[0]);
    assert.deepEqual(two.body.items[0].target, {
      type: 'SpecificResource',
      source: { id: any.canvasId, type: 'Canvas', partOf: [{ id: manifestId, type: 'Manifest' }] },
      selector: { type: 'FragmentSelector', conformsTo: 'http://www.w3.org/TR/media-frags/', value: 'xywh=10,20,300,151' },
    });
    await fx.store.delete(['f'.repeat(32)]);
  });

  it('keeps to limit, lists unimplemented parameters in ignored, and selects nothing for other motivations', async () => {
    const limited = await request(app).get(`${v1}?q=farm&limit=1&user=${encodeURIComponent('https://example.org/me')}`);
    assert.equal(limited.body.resources.length, 1);
    assert.equal(limited.body.within.total, 1);
    assert.deepEqual(limited.body.within.ignored, ['user']);
    assert.ok(limited.body['@id'].endsWith('?q=farm&limit=1'), 'ignored parameters are dropped from the id');

    const two = await request(app).get(`${v2}?q=farm&date=${encodeURIComponent('2020-01-01T00:00:00Z/2021-01-01T00:00:00Z')}`);
    assert.deepEqual(two.body.ignored, ['date']);

    const painting = await request(app).get(`${v2}?q=farm&motivation=painting`);
    assert.equal(painting.status, 200);
    assert.deepEqual(painting.body.items, []);
    assert.equal(painting.body.partOf.total, 0);
    const highlighting = await request(app).get(`${v1}?q=farm&motivation=${encodeURIComponent('commenting highlighting')}`);
    assert.ok(highlighting.body.resources.length > 0);
  });

  it('answers JSON-LD with its profile when asked for it', async () => {
    const res = await request(app).get(`${v1}?q=farm`).set('Accept', 'application/ld+json');
    assert.equal(res.headers['content-type'], `application/ld+json; profile="${PREZI2}"; charset=utf-8`);
    const two = await request(app).get(`${v2}?q=farm`).set('Accept', 'application/ld+json');
    assert.match(two.headers['content-type']!, new RegExp(`^application/ld\\+json; profile="${SEARCH2}"`));
  });

  it('answers 404 problems for an unknown manifest or a key that is not one', async () => {
    assertProblem(await request(app).get(`/iiif/search/v1/${manifestKey('https://example.org/no/such/manifest')}?q=farm`), 404);
    assertProblem(await request(app).get(`/iiif/search/v2/${manifestKey('https://example.org/no/such/manifest')}?q=farm`), 404);
    assertProblem(await request(app).get(`/iiif/search/v1/not%20a%20key?q=farm`), 404);
    // Padding makes another spelling of a key: refused, one manifest has one URL.
    assertProblem(await request(app).get(`${v1}=?q=farm`), 404);
  });

  it('answers 400 problems for a missing, empty, repeated or too long q and a bad limit', async () => {
    const missing = await request(app).get(v1);
    assertProblem(missing, 400);
    assert.equal(missing.body.errors[0].name, 'q');
    assertProblem(await request(app).get(`${v2}?q=%20%20`), 400);
    assertProblem(await request(app).get(`${v1}?q=a&q=b`), 400);
    assertProblem(await request(app).get(`${v1}?q=${'x'.repeat(fx.config.api.maxQueryLength + 1)}`), 400);
    assertProblem(await request(app).get(`${v1}?q=farm&limit=0`), 400);
    assertProblem(await request(app).get(`${v1}?q=farm&limit=${fx.config.api.maxLimit + 1}`), 400);
    assertProblem(await request(app).get(`${v2}?q=farm&page=2`), 400);
  });

  it('answers 503 saying how to get a model when none is loaded', async () => {
    const res = await request(appFor({ store: fx.store, config: fx.config })).get(`${v1}?q=farm`);
    assertProblem(res, 503);
    assert.match(res.body.detail, /models pull/);
  });

  it('gives the service blocks a manifest advertises, and they lead to these routes', async () => {
    const base = 'https://library.example.org/api/';
    const blocks = contentSearchServiceFor(manifestId, base);
    assert.deepEqual(blocks.v1, {
      '@context': SEARCH1,
      '@id': `https://library.example.org/api/iiif/search/v1/${manifestKey(manifestId)}`,
      '@type': 'SearchService1',
      profile: 'http://iiif.io/api/search/1/search',
      label: blocks.v1.label,
    });
    assert.deepEqual(blocks.v2, { id: `https://library.example.org/api/iiif/search/v2/${manifestKey(manifestId)}`, type: 'SearchService2', label: blocks.v2.label });

    // With api.publicUrl set, responses name the same URLs as the blocks.
    const config = { ...fx.config, api: { ...fx.config.api, publicUrl: base } };
    const publicApp = appFor({ ...deps, config });
    const res = await request(publicApp).get(`${new URL(blocks.v1['@id']).pathname.replace('/api', '')}?q=farm`);
    assert.equal(res.status, 200);
    assert.equal(res.body['@id'], `${blocks.v1['@id']}?q=farm`);
    const two = await request(publicApp).get(`${new URL(blocks.v2.id).pathname.replace('/api', '')}?q=farm`);
    assert.equal(two.body.partOf.id, `${blocks.v2.id}?q=farm`);

    // Another manifest's service finds only its own canvases.
    const other = await request(app).get(`/iiif/search/v2/${manifestKey(otherManifest)}?q=farm`);
    for (const anno of other.body.items) assert.ok(!canvases.has(anno.target), 'no canvas of the first manifest');
  });

  it('keys any manifest id into one URL-safe path segment and back', () => {
    for (const id of ['https://example.org/iiif/book1/manifest', 'https://example.org/m?id=1&v=2#x', 'https://bibliothèque.example/manifeste/été']) {
      const key = manifestKey(id);
      assert.match(key, /^[A-Za-z0-9_-]+$/);
      assert.equal(manifestIdFromKey(key), id);
    }
    assert.equal(manifestIdFromKey(''), undefined);
    assert.equal(manifestIdFromKey('a/b'), undefined);
    assert.equal(manifestIdFromKey(`${manifestKey('https://example.org/m')}=`), undefined);
    assert.equal(manifestIdFromKey(manifestKey('bad\u0000id')), undefined);
  });
});
