import assert from 'node:assert/strict';
import express, { type Express } from 'express';
import type { RepriseConfig } from '../../config/schema.ts';
import {
  contentSearchRouter,
  contentSearchServiceFor,
  manifestIdFromKey,
  manifestKey,
  withContentSearchServices,
} from '../../plugin/content-search/index.ts';
import { problemJson } from '../../plugin/middleware/problem-json.ts';
import { createSearchRouter, type SearchRouter } from '../../plugin/router.ts';
import type { SearchDeps } from '../../plugin/types.ts';
import { requireFixtures } from '../support/fixtures.ts';
import { createSearchFixture, type SearchFixture } from '../support/search-fixture.ts';
import { request, type TestResponse } from './supertest.ts';

const PREZI2 = 'http://iiif.io/api/presentation/2/context.json';
const SEARCH1 = 'http://iiif.io/api/search/1/context.json';
const SEARCH2 = 'http://iiif.io/api/search/2/context.json';
const XYWH = /^xywh=\d+,\d+,\d+,\d+$/;

/** As createSearchRouter mounts it: the router at /iiif/search, problems written by the router's error handler. */
function appFor(deps: SearchDeps): Express {
  const app = express();
  app.use('/iiif/search', contentSearchRouter(deps));
  app.use(problemJson());
  return app;
}

function assertProblem(res: TestResponse, status: number): void {
  assert.equal(res.status, status, res.text);
  assert.match(res.headers['content-type']!, /^application\/problem\+json/);
  assert.equal(res.body.status, status);
  for (const member of ['type', 'title', 'detail']) assert.equal(typeof res.body[member], 'string', `problem.${member}`);
}

interface Canvas {
  id: string;
  width: number;
  height: number;
  index: number;
}

/** A canvas target of a hit: the canvas id and its xywh region, which lies within the canvas. */
function assertTarget(target: string, canvases: Map<string, Canvas>): { canvas: Canvas; box: number[] } {
  assert.equal(typeof target, 'string');
  const [id, fragment] = target.split('#') as [string, string | undefined];
  const canvas = canvases.get(id);
  assert.ok(canvas, `${id} is a canvas of the manifest`);
  assert.ok(fragment !== undefined, `${target} has an xywh fragment (Universal Viewer needs one on every hit)`);
  assert.match(fragment, XYWH);
  const box = fragment.slice(5).split(',').map(Number);
  assert.ok(box[0]! + box[2]! <= canvas.width && box[1]! + box[3]! <= canvas.height, `${fragment} lies within the ${canvas.width}×${canvas.height} canvas`);
  return { canvas, box };
}

/**
 * Content Search 1.0 §3.3–3.4, every field: an sc:AnnotationList (context array, Presentation
 * first), `within` an sc:Layer with total/first/last, next/prev, startIndex, oa:Annotation
 * resources on canvas#xywh=…, search:Hit hits referencing them, the query as `match`.
 */
function assertV1(body: any, canvases: Map<string, Canvas>, query: string | undefined): void {
  assert.deepEqual(body['@context'], [PREZI2, SEARCH1]);
  assert.equal(body['@type'], 'sc:AnnotationList');
  assert.equal(typeof body['@id'], 'string');
  assert.equal(body.within['@type'], 'sc:Layer');
  assert.ok(Number.isInteger(body.within.total) && body.within.total >= body.resources.length);
  assert.match(body.within.first, /[?&]page=1$/);
  assert.match(body.within.last, /[?&]page=\d+$/);
  assert.ok(Number.isInteger(body.startIndex) && body.startIndex >= 0);
  assert.ok(Array.isArray(body.resources));
  const ids = new Set<string>();
  for (const anno of body.resources) {
    assert.equal(typeof anno['@id'], 'string');
    assert.ok(!ids.has(anno['@id']), 'annotation ids are unique');
    ids.add(anno['@id']);
    assert.equal(anno['@type'], 'oa:Annotation');
    assert.equal(anno.motivation, 'oa:describing');
    assert.equal(anno.resource['@type'], 'cnt:ContentAsText');
    assert.equal(typeof anno.resource.chars, 'string');
    // Patrons read it in the viewer: relevance in words, never a raw cosine.
    if (query !== undefined) assert.match(anno.resource.chars, /: (strong|good|possible) match for /);
    assert.doesNotMatch(anno.resource.chars, /-?\d\.\d{3}|similarity/);
    assertTarget(anno.on, canvases);
  }
  assert.equal(body.hits.length, body.resources.length);
  body.hits.forEach((hit: any, i: number) => {
    assert.equal(hit['@type'], 'search:Hit');
    assert.deepEqual(hit.annotations, [body.resources[i]['@id']], 'a hit references its annotation');
    if (query === undefined) {
      assert.equal(hit.match, undefined, 'without a query nothing matched any words');
    } else {
      assert.equal(hit.match, query);
      assert.equal(hit.before + hit.match + hit.after, body.resources[i].resource.chars, 'before + match + after is the annotation text');
    }
  });
  if (query !== undefined) {
    const rank = { strong: 0, good: 1, possible: 2 } as Record<string, number>;
    const bands = body.resources.map((a: any) => rank[/: (strong|good|possible) match for /.exec(a.resource.chars)![1]!]!);
    assert.deepEqual(bands, [...bands].sort((a, b) => a - b), 'best hits first');
  }
}

/**
 * Content Search 2.0 §4.2, every field: an AnnotationPage partOf an embedded AnnotationCollection
 * (total, first, last), next/prev, startIndex, `describing` annotations with TextualBody bodies
 * whose target is canvas#xywh=… partOf the manifest (id, type, label).
 */
function assertV2(body: any, canvases: Map<string, Canvas>, manifestId: string, query: string | undefined): void {
  assert.equal(body['@context'], SEARCH2);
  assert.equal(body.type, 'AnnotationPage');
  assert.match(body.id, /[?&]page=\d+$/);
  assert.equal(body.partOf.type, 'AnnotationCollection');
  assert.equal(typeof body.partOf.id, 'string');
  assert.doesNotMatch(body.partOf.id, /[?&]page=/);
  assert.notEqual(body.partOf.id, body.id);
  assert.ok(Number.isInteger(body.partOf.total) && body.partOf.total >= body.items.length);
  assert.equal(body.partOf.first.type, 'AnnotationPage');
  assert.match(body.partOf.first.id, /[?&]page=1$/);
  assert.equal(body.partOf.last.type, 'AnnotationPage');
  assert.ok(body.partOf.first.id.startsWith(body.partOf.id) && body.partOf.last.id.startsWith(body.partOf.id));
  for (const link of ['next', 'prev']) if (body[link]) assert.deepEqual(Object.keys(body[link]).sort(), ['id', 'type']);
  assert.ok(Number.isInteger(body.startIndex) && body.startIndex >= 0);
  const ids = new Set<string>();
  for (const anno of body.items) {
    assert.equal(typeof anno.id, 'string');
    assert.ok(!ids.has(anno.id));
    ids.add(anno.id);
    assert.equal(anno.type, 'Annotation');
    assert.equal(anno.motivation, 'describing', 'not highlighting: 2.0 keeps it for annotations on annotations');
    assert.equal(anno.body.type, 'TextualBody');
    assert.equal(anno.body.format, 'text/plain');
    assert.equal(anno.body.language, 'en');
    if (query !== undefined) assert.match(anno.body.value, /: (strong|good|possible) match for /);
    assert.doesNotMatch(anno.body.value, /-?\d\.\d{3}|similarity/);
    assert.deepEqual(Object.keys(anno.target).sort(), ['id', 'partOf']);
    assertTarget(anno.target.id, canvases);
    assert.equal(anno.target.partOf.id, manifestId);
    assert.equal(anno.target.partOf.type, 'Manifest');
    assert.ok(anno.target.partOf.label && Object.values(anno.target.partOf.label).every((v) => Array.isArray(v)), 'the manifest has its label (a language map)');
  }
}

const pathOf = (url: string) => new URL(url).pathname + new URL(url).search;

/** supertest listens on a new port per request: one Host header keeps the URLs in answers comparable. */
const HOST = 'search.example.org';
const get = (app: Express, url: string) => request(app).get(url).set('Host', HOST);

describe('IIIF Content Search (plugin/content-search)', function () {
  requireFixtures(this);
  let fx: SearchFixture;
  let deps: SearchDeps;
  let app: Express;
  let manifestId: string;
  let otherManifest: string;
  let canvases: Map<string, Canvas>;
  let v1: string;
  let v2: string;
  const routers: SearchRouter[] = [];

  /** The configuration with overrides of api.contentSearch. */
  const withSettings = (over: Partial<RepriseConfig['api']['contentSearch']>, api: Partial<RepriseConfig['api']> = {}): RepriseConfig => ({
    ...fx.config,
    // The tiny generated model scores anything near 0: no threshold, unless a test sets one.
    api: { ...fx.config.api, ...api, contentSearch: { ...fx.config.api.contentSearch, minScore: -1, ...over } },
  });

  before(async function () {
    this.timeout(180_000);
    fx = await createSearchFixture();
    deps = { store: fx.store, encoders: fx.encoders, config: withSettings({}) };
    app = appFor(deps);
    const manifests = Object.keys((await fx.store.facets(['manifest'])).manifest).sort();
    assert.ok(manifests.length >= 2, 'the fixture indexes several manifests');
    manifestId = manifests[0]!;
    otherManifest = manifests[1]!;
    // The canvases and their sizes, as the manifest itself gives them.
    const anyItem = (await fx.store.keyword('', { filter: { manifest: manifestId }, limit: 1 })).hits[0]!.item;
    const doc = (await (await fetch(anyItem.manifestUrl)).json()) as any;
    const list: Canvas[] = doc.items
      ? doc.items.map((c: any, index: number) => ({ id: c.id, width: c.width, height: c.height, index }))
      : doc.sequences[0].canvases.map((c: any, index: number) => ({ id: c['@id'], width: c.width, height: c.height, index }));
    canvases = new Map(list.map((c) => [c.id, c]));
    assert.ok(canvases.size >= 2);
    v1 = `/iiif/search/v1/${manifestKey(manifestId)}`;
    v2 = `/iiif/search/v2/${manifestKey(manifestId)}`;
  });

  after(async () => {
    await Promise.all(routers.map((r) => r.close()));
    await fx?.close();
  });

  describe('1.0 and 2.0 answers, field by field', () => {
    it('answers 1.0 as an sc:AnnotationList whose @id is the request URI, with every canvas as a hit', async () => {
      const res = await get(app, `${v1}?q=${encodeURIComponent('a street with people')}`).set('Host', 'search.example.org');
      assert.equal(res.status, 200, res.text);
      assert.match(res.headers['content-type']!, /^application\/json/);
      assertV1(res.body, canvases, 'a street with people');
      assert.equal(res.body['@id'], `http://search.example.org${v1}?q=a%20street%20with%20people`, 'the URI the client asked for, as it asked');
      assert.equal(res.body.within.total, canvases.size);
      assert.equal(res.body.resources.length, canvases.size, 'one page holds them all');
      assert.equal(res.body.within.first, `http://search.example.org${v1}?q=a+street+with+people&page=1`);
      assert.equal(res.body.within.last, res.body.within.first);
      assert.equal(res.body.next, undefined);
      assert.equal(res.body.prev, undefined);
      assert.equal(res.body.startIndex, 0);
      assert.deepEqual(new Set(res.body.resources.map((a: any) => a.on.split('#')[0])), new Set(canvases.keys()));
    });

    it('answers 2.0 as an AnnotationPage partOf an AnnotationCollection, the targets partOf the manifest with its label', async () => {
      const res = await get(app, `${v2}?q=farm`);
      assert.equal(res.status, 200, res.text);
      assertV2(res.body, canvases, manifestId, 'farm');
      assert.ok(res.body.partOf.id.endsWith(`${v2}?q=farm`));
      assert.equal(res.body.id, `${res.body.partOf.id}&page=1`);
      assert.equal(res.body.partOf.total, canvases.size);
      assert.equal(res.body.items.length, canvases.size);
      // The page it names answers the same.
      const again = await get(app, pathOf(res.body.id));
      assert.equal(again.status, 200);
      assert.deepEqual(again.body.items, res.body.items);
    });

    it('targets the whole canvas (xywh=0,0,width,height) when no region matched better', async () => {
      const one = await get(app, `${v1}?q=farm`);
      for (const anno of one.body.resources) {
        const { canvas, box } = assertTarget(anno.on, canvases);
        assert.deepEqual(box, [0, 0, canvas.width, canvas.height]);
        assert.match(anno.resource.chars, /^Whole image of canvas/);
      }
      const two = await get(app, `${v2}?q=farm`);
      for (const anno of two.body.items) {
        const { canvas, box } = assertTarget(anno.target.id, canvases);
        assert.deepEqual(box, [0, 0, canvas.width, canvas.height]);
      }
    });

    it('targets the region, as xywh in canvas coordinates, when a region matched better than the whole image', async () => {
      const query = 'a bicycle leaning on a fence';
      const [q] = await fx.encoders.text!.embed([query]);
      const opposite = Float32Array.from(q!, (v) => -v);
      const any = (await fx.store.nearest(q!, { filter: { manifest: manifestId }, limit: 1 })).hits[0]!.item;
      await fx.store.upsert([{ ...any, id: 'f'.repeat(32), vector: opposite, regions: [{ box: { x: 10.4, y: 20, w: 300, h: 150.6 }, vector: q! }] }]);
      try {
        const one = await get(app, `${v1}?q=${encodeURIComponent(query)}`);
        assertV1(one.body, canvases, query);
        assert.equal(one.body.resources[0].on, `${any.canvasId}#xywh=10,20,300,151`);
        assert.match(one.body.resources[0].resource.chars, new RegExp(`^Region 10,20,300,151 of canvas .*: strong match for ${query}$`));

        const two = await get(app, `${v2}?q=${encodeURIComponent(query)}`);
        assertV2(two.body, canvases, manifestId, query);
        assert.equal(two.body.items[0].target.id, `${any.canvasId}#xywh=10,20,300,151`);
        assert.equal(two.body.items[0].target.partOf.id, manifestId);
      } finally {
        await fx.store.delete(['f'.repeat(32)]);
      }
    });

    it('answers JSON-LD with its profile when asked for it, and says the answer varies with Accept', async () => {
      const res = await get(app, `${v1}?q=farm`).set('Accept', 'application/ld+json');
      assert.equal(res.headers['content-type'], `application/ld+json; profile="${PREZI2}"; charset=utf-8`);
      assert.match(res.headers.vary!, /Accept/);
      const two = await get(app, `${v2}?q=farm`).set('Accept', 'application/ld+json');
      assert.match(two.headers['content-type']!, new RegExp(`^application/ld\\+json; profile="${SEARCH2}"`));
    });
  });

  describe('paging and the relevance threshold', () => {
    it('pages 1.0 with next/prev/first/last and startIndex: following next visits every hit once, and total counts them all', async () => {
      const first = await get(app, `${v1}?q=farm&limit=1`);
      assert.equal(first.status, 200, first.text);
      assertV1(first.body, canvases, 'farm');
      const total = first.body.within.total;
      assert.equal(total, canvases.size, 'total counts every hit, not only this page');
      assert.equal(first.body.resources.length, 1);
      assert.ok(first.body.next, 'a next page');
      assert.equal(first.body.within.last, first.body.within.first.replace('page=1', `page=${total}`));
      const seen: string[] = [];
      let page: any = first.body;
      for (let n = 1; ; n++) {
        assertV1(page, canvases, 'farm');
        assert.equal(page.startIndex, n - 1);
        assert.equal(page.within.total, total);
        seen.push(...page.resources.map((a: any) => a['@id']));
        if (n > 1) assert.equal(page.prev, page.within.first.replace('page=1', `page=${n - 1}`));
        if (!page.next) {
          assert.equal(page['@id'], page.within.last, 'the last page is the one `last` names');
          break;
        }
        const res = await get(app, pathOf(page.next));
        assert.equal(res.status, 200, res.text);
        assert.equal(res.body['@id'], page.next, 'a page asked for by its link has that URI as @id');
        page = res.body;
      }
      assert.equal(seen.length, total);
      assert.equal(new Set(seen).size, total, 'no hit twice');
    });

    it('pages 2.0 with next/prev objects and partOf on every page', async () => {
      let res = await get(app, `${v2}?q=farm&limit=1`);
      const total = res.body.partOf.total;
      let pages = 1;
      while (res.body.next) {
        assert.equal(res.body.next.type, 'AnnotationPage');
        const next = await get(app, pathOf(res.body.next.id));
        assertV2(next.body, canvases, manifestId, 'farm');
        assert.deepEqual(next.body.prev, { id: res.body.id, type: 'AnnotationPage' });
        assert.deepEqual(next.body.partOf, res.body.partOf, 'every page is part of the same collection');
        res = next;
        pages++;
      }
      assert.equal(pages, total);
      assert.equal(res.body.id, res.body.partOf.last.id);
    });

    it('counts and lists only the hits at or above api.contentSearch.minScore', async () => {
      const query = 'people in a field';
      const [q] = await fx.encoders.text!.embed([query]);
      const scores = (await fx.store.nearest(q!, { filter: { manifest: manifestId }, limit: 100 })).hits.map((h) => h.score);
      // A threshold between the best and the worst score: some canvases are hits, some are not.
      const threshold = (Math.max(...scores) + Math.min(...scores)) / 2;
      const expected = scores.filter((s) => s >= threshold).length;
      assert.ok(expected >= 1 && expected < scores.length, `scores ${scores.join(', ')} straddle ${threshold}`);
      const strict = appFor({ ...deps, config: withSettings({ minScore: threshold }) });
      const one = await get(strict, `${v1}?q=${encodeURIComponent(query)}`);
      assert.equal(one.body.within.total, expected);
      assert.equal(one.body.resources.length, expected);
      const two = await get(strict, `${v2}?q=${encodeURIComponent(query)}&limit=1`);
      assert.equal(two.body.partOf.total, expected, 'total counts every page');
      // Nothing reaches a threshold of 1 (but an identical vector): no hits, one empty page.
      const none = await request(appFor({ ...deps, config: withSettings({ minScore: 1 }) })).get(`${v2}?q=${encodeURIComponent(query)}`);
      assert.equal(none.status, 200);
      assert.deepEqual(none.body.items, []);
      assert.equal(none.body.partOf.total, 0);
      assert.equal(none.body.partOf.first.id, none.body.partOf.last.id);
    });

    it('stops at api.contentSearch.maxHits and pages by api.contentSearch.pageSize by default', async () => {
      const small = appFor({ ...deps, config: withSettings({ maxHits: 1, pageSize: 1 }) });
      const res = await get(small, `${v1}?q=farm`);
      assert.equal(res.body.within.total, 1);
      const paged = appFor({ ...deps, config: withSettings({ pageSize: 1 }) });
      const first = await get(paged, `${v1}?q=farm`);
      assert.equal(first.body.resources.length, 1);
      assert.equal(first.body.within.total, canvases.size);
    });

    it('answers 400 for a page past the last, naming how many there are', async () => {
      const res = await get(app, `${v1}?q=farm&limit=1&page=${canvases.size + 1}`);
      assertProblem(res, 400);
      assert.equal(res.body.errors[0].name, 'page');
      assert.match(res.body.errors[0].reason, new RegExp(`are ${canvases.size} pages`));
      assertProblem(await get(app, `${v2}?q=farm&page=0`), 400);
      assertProblem(await get(app, `${v2}?q=farm&page=x`), 400);
    });
  });

  describe('parameters', () => {
    it('without q (absent or empty) lists every canvas in canvas order, needing no model', async () => {
      const noModel = appFor({ store: fx.store, config: deps.config });
      for (const url of [v1, `${v1}?q=`, `${v1}?q=%20`]) {
        const res = await get(noModel, url);
        assert.equal(res.status, 200, `${url}: ${res.text}`);
        assertV1(res.body, canvases, undefined);
        const order = res.body.resources.map((a: any) => canvases.get(a.on.split('#')[0])!.index);
        assert.deepEqual(order, [...canvases.values()].map((c) => c.index), 'canvas order');
      }
      const two = await get(noModel, v2);
      assertV2(two.body, canvases, manifestId, undefined);
      assert.equal(two.body.partOf.total, canvases.size);
      assert.ok(two.body.partOf.id.endsWith(v2), 'no parameters: the collection is the service URL itself');
    });

    it('lists unimplemented parameters in ignored and drops them from the ids', async () => {
      const user = encodeURIComponent('https://example.org/me');
      const limited = await get(app, `${v1}?q=farm&user=${user}&limit=1`).set('Host', 'h.example');
      assert.deepEqual(limited.body.within.ignored, ['user']);
      assert.equal(limited.body['@id'], `http://h.example${v1}?q=farm&limit=1`);
      assert.ok(limited.body.within.first.endsWith('?q=farm&limit=1&page=1'));

      const two = await get(app, `${v2}?q=farm&date=${encodeURIComponent('2020-01-01T00:00:00Z/2021-01-01T00:00:00Z')}`);
      assert.deepEqual(two.body.ignored, ['date']);
      assert.doesNotMatch(two.body.id, /date=/);
      const none = await get(app, `${v2}?q=farm`);
      assert.equal(none.body.ignored, undefined);
    });

    it('selects its describing annotations by motivation, and nothing for other motivations', async () => {
      for (const motivation of ['describing', 'non-painting', 'commenting describing', 'oa:describing']) {
        const res = await get(app, `${v2}?q=farm&motivation=${encodeURIComponent(motivation)}`);
        assert.equal(res.body.items.length, canvases.size, motivation);
        assert.ok(res.body.partOf.id.includes('motivation='), 'the motivation shapes the result set');
      }
      for (const motivation of ['painting', 'highlighting', 'commenting']) {
        const res = await get(app, `${v1}?q=farm&motivation=${motivation}`);
        assert.equal(res.status, 200);
        assert.deepEqual(res.body.resources, [], motivation);
        assert.equal(res.body.within.total, 0);
      }
    });

    it('answers 400 problems for a repeated or too long q and a bad limit', async () => {
      assertProblem(await get(app, `${v1}?q=a&q=b`), 400);
      assertProblem(await get(app, `${v1}?q=${'x'.repeat(fx.config.api.maxQueryLength + 1)}`), 400);
      assertProblem(await get(app, `${v1}?q=farm&limit=0`), 400);
      assertProblem(await get(app, `${v1}?q=farm&limit=${fx.config.api.maxLimit + 1}`), 400);
    });

    it('answers 404 problems for an unknown manifest or a key that is not one', async () => {
      assertProblem(await get(app, `/iiif/search/v1/${manifestKey('https://example.org/no/such/manifest')}?q=farm`), 404);
      assertProblem(await get(app, `/iiif/search/v2/${manifestKey('https://example.org/no/such/manifest')}?q=farm`), 404);
      assertProblem(await get(app, `/iiif/search/v1/not%20a%20key?q=farm`), 404);
      // Padding makes another spelling of a key: refused, one manifest has one URL.
      assertProblem(await get(app, `${v1}=?q=farm`), 404);
    });

    it('answers 503 saying how to get a model when a query needs one and none is loaded', async () => {
      const res = await request(appFor({ store: fx.store, config: deps.config })).get(`${v1}?q=farm`);
      assertProblem(res, 503);
      assert.match(res.body.detail, /models pull/);
    });
  });

  describe('service blocks', () => {
    it('gives the SearchService1 and SearchService2 blocks with the profiles viewers look for, leading to these routes', async () => {
      const base = 'https://library.example.org/api/';
      const blocks = contentSearchServiceFor(manifestId, base);
      assert.deepEqual(blocks.v1, {
        '@context': SEARCH1,
        '@id': `https://library.example.org/api/iiif/search/v1/${manifestKey(manifestId)}`,
        '@type': 'SearchService1',
        profile: 'http://iiif.io/api/search/1/search',
        label: blocks.v1.label,
      });
      assert.deepEqual(blocks.v2, {
        id: `https://library.example.org/api/iiif/search/v2/${manifestKey(manifestId)}`,
        type: 'SearchService2',
        profile: 'http://iiif.io/api/search/2/search',
        label: blocks.v2.label,
      });

      // With api.publicUrl set, responses name the same URLs as the blocks.
      const publicApp = appFor({ ...deps, config: withSettings({}, { publicUrl: base }) });
      const res = await get(publicApp, `${new URL(blocks.v1['@id']).pathname.replace('/api', '')}?q=farm`);
      assert.equal(res.status, 200);
      assert.equal(res.body['@id'], `${blocks.v1['@id']}?q=farm`);
      const two = await get(publicApp, `${new URL(blocks.v2.id).pathname.replace('/api', '')}?q=farm`);
      assert.equal(two.body.partOf.id, `${blocks.v2.id}?q=farm`);

      // Another manifest's service finds only its own canvases.
      const other = await get(app, `/iiif/search/v2/${manifestKey(otherManifest)}?q=farm`);
      assert.ok(other.body.items.length > 0);
      for (const anno of other.body.items) assert.ok(!canvases.has(anno.target.id.split('#')[0]), 'no canvas of the first manifest');
    });

    it('GET /iiif/search/services?manifest= answers the blocks for an indexed manifest (by id or harvested URL), 404 for others', async () => {
      const res = await get(app, `/iiif/search/services?manifest=${encodeURIComponent(manifestId)}`).set('Host', 'search.example.org');
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.manifest, manifestId);
      assert.equal(res.body.service.length, 2);
      const [one, two] = res.body.service;
      assert.equal(one['@id'], `http://search.example.org${v1}`);
      assert.equal(one.profile, 'http://iiif.io/api/search/1/search');
      assert.equal(two.id, `http://search.example.org${v2}`);
      assert.equal(two.type, 'SearchService2');
      // The blocks lead to answering services.
      assert.equal((await get(app, `${pathOf(one['@id'])}?q=farm`)).status, 200);
      assert.equal((await get(app, `${pathOf(two.id)}?q=farm`)).status, 200);

      const anyItem = (await fx.store.keyword('', { filter: { manifest: manifestId }, limit: 1 })).hits[0]!.item;
      const byUrl = await get(app, `/iiif/search/services?manifest=${encodeURIComponent(anyItem.manifestUrl)}`);
      assert.equal(byUrl.body.manifest, manifestId, 'a manifest named by its URL gets the blocks of its id');

      assertProblem(await get(app, `/iiif/search/services?manifest=${encodeURIComponent('https://example.org/not/indexed')}`), 404);
      assertProblem(await get(app, '/iiif/search/services'), 400);
    });

    it('withContentSearchServices adds both blocks to a Presentation 2 or 3 manifest, keeping its services, once', () => {
      const base = 'https://search.example.org/api';
      const imageService = { '@id': 'https://images.example.org/iiif/1', profile: 'http://iiif.io/api/image/2/level1.json' };
      const p2: Record<string, any> = withContentSearchServices({ '@id': 'https://example.org/m2', '@type': 'sc:Manifest', service: imageService }, base);
      assert.equal(p2.service.length, 3);
      assert.deepEqual(p2.service[0], imageService);
      assert.equal(p2.service[1]['@id'], contentSearchServiceFor('https://example.org/m2', base).v1['@id']);
      const p3: Record<string, unknown> = withContentSearchServices({ id: 'https://example.org/m3', type: 'Manifest' }, base);
      assert.deepEqual(p3.service, Object.values(contentSearchServiceFor('https://example.org/m3', base)));
      assert.deepEqual(withContentSearchServices(p3, base).service, p3.service, 'not added twice');
      assert.throws(() => withContentSearchServices({ type: 'Manifest' }, base), /has no "id"/);
    });
  });

  describe('in createSearchRouter', () => {
    const mount = (config: RepriseConfig) => {
      const router = createSearchRouter({ store: fx.store, encoders: fx.encoders, config });
      routers.push(router);
      return express().use('/api', router);
    };

    it('is readable from any origin by default (public and read-only), while the rest of the API follows api.corsOrigins', async () => {
      const api = mount(withSettings({}));
      const origin = 'https://portal.example.org';
      const res = await get(api, `/api${v1}?q=farm`).set('Origin', origin);
      assert.equal(res.status, 200);
      assert.ok([origin, '*'].includes(res.headers['access-control-allow-origin']!), `Access-Control-Allow-Origin: ${res.headers['access-control-allow-origin']}`);
      const blocks = await get(api, `/api/iiif/search/services?manifest=${encodeURIComponent(manifestId)}`).set('Origin', origin);
      assert.ok(blocks.headers['access-control-allow-origin']);
      const preflight = await request(api).options(`/api${v2}?q=farm`).set('Origin', origin).set('Access-Control-Request-Method', 'GET');
      assert.equal(preflight.status, 204);
      assert.ok(preflight.headers['access-control-allow-origin']);
      // api.corsOrigins is [] by default: the search API itself is not readable from that page.
      const search = await get(api, '/api/search?q=farm').set('Origin', origin);
      assert.equal(search.headers['access-control-allow-origin'], undefined);
    });

    it('follows api.contentSearch.corsOrigins when it is set', async () => {
      const api = mount(withSettings({ corsOrigins: ['https://allowed.example.org'] }));
      const denied = await get(api, `/api${v1}?q=farm`).set('Origin', 'https://other.example.org');
      assert.equal(denied.headers['access-control-allow-origin'], undefined);
      const allowed = await get(api, `/api${v1}?q=farm`).set('Origin', 'https://allowed.example.org');
      assert.equal(allowed.headers['access-control-allow-origin'], 'https://allowed.example.org');
    });
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
