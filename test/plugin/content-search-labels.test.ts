/**
 * Tags in IIIF Content Search: the `labels` parameter narrows a manifest's hits to canvases with
 * those values of the `labels` facet (the model's zero-shot label sets, curators' tags), it shapes
 * the result set (ids and paging links keep it), and each hit's text names its canvas's tags. The
 * index is harvested the real way with label sets configured; the tiny model's weights are random,
 * so which genre a canvas gets means nothing: the filter is checked against the store's own counts.
 */
import assert from 'node:assert/strict';
import express, { type Express } from 'express';
import { contentSearchRouter, manifestKey } from '../../plugin/content-search/index.ts';
import { problemJson } from '../../plugin/middleware/problem-json.ts';
import type { SearchDeps } from '../../plugin/types.ts';
import type { ItemFields } from '../../store/types.ts';
import { requireFixtures } from '../support/fixtures.ts';
import { createSearchFixture, type SearchFixture } from '../support/search-fixture.ts';
import { request } from './supertest.ts';

const GENRE = ['photograph', 'drawing', 'engraving', 'map', 'painting', 'poster'];
const HOST = 'search.example.org';

describe('IIIF Content Search: tags (labels facet) as a filter and in the hit text', function () {
  requireFixtures(this);
  this.timeout(180_000);
  let fx: SearchFixture;
  let app: Express;
  let manifestId: string;
  let v1: string;
  let v2: string;
  /** The manifest's canvases by canvas id, as stored. */
  let canvases: Map<string, ItemFields>;
  /** How many of the manifest's canvases carry each tag, as the store counts them. */
  let counts: Record<string, number>;

  const get = (url: string) => request(app).get(url).set('Host', HOST);
  const canvasOf = (target: string) => canvases.get(target.split('#')[0]!)!;

  before(async () => {
    fx = await createSearchFixture({ config: { 'models.labels': { sets: { genre: GENRE }, minScore: 0 } } });
    const config = { ...fx.config, api: { ...fx.config.api, contentSearch: { ...fx.config.api.contentSearch, minScore: -1 } } };
    const deps: SearchDeps = { store: fx.store, encoders: fx.encoders, config };
    app = express().use('/iiif/search', contentSearchRouter(deps)).use(problemJson());
    manifestId = Object.keys((await fx.store.facets(['manifest'])).manifest).sort()[0]!;
    const items = (await fx.store.keyword('', { filter: { manifest: manifestId }, limit: 100 })).hits.map((h) => h.item);
    // A curator's tag on one canvas: the facet holds more than the model's labels.
    await fx.store.updateFields([{ ...items[0]!, labels: [...items[0]!.labels, 'curated:favourite'] }]);
    items[0] = (await fx.store.get(items[0]!.id))!;
    canvases = new Map(items.map((it) => [it.canvasId, it]));
    assert.ok(canvases.size >= 2);
    assert.ok(items.every((it) => it.labels.some((l) => l.startsWith('genre:'))), 'every canvas got a genre at harvest');
    counts = (await fx.store.facets(['labels'], { manifest: manifestId })).labels;
    v1 = `/iiif/search/v1/${manifestKey(manifestId)}`;
    v2 = `/iiif/search/v2/${manifestKey(manifestId)}`;
  });
  after(async () => {
    await fx?.close();
  });

  it('labels= keeps only the canvases with that tag, with or without q, in both versions', async () => {
    for (const [tag, count] of Object.entries(counts)) {
      for (const q of ['', '&q=a%20street']) {
        const two = await get(`${v2}?labels=${encodeURIComponent(tag)}${q}`);
        assert.equal(two.status, 200, two.text);
        assert.equal(two.body.partOf.total, count, `${tag}${q}`);
        for (const anno of two.body.items) assert.ok(canvasOf(anno.target.id).labels.includes(tag), `${anno.target.id} has ${tag}`);
        const one = await get(`${v1}?labels=${encodeURIComponent(tag)}${q}`);
        assert.equal(one.body.within.total, count);
        for (const anno of one.body.resources) assert.ok(canvasOf(anno.on).labels.includes(tag));
      }
    }
    const curated = await get(`${v2}?labels=curated%3Afavourite`);
    assert.deepEqual(curated.body.items.map((a: { target: { id: string } }) => canvasOf(a.target.id).id), [[...canvases.values()][0]!.id]);
    const none = await get(`${v2}?q=farm&labels=genre%3Aunicorn`);
    assert.equal(none.status, 200);
    assert.equal(none.body.partOf.total, 0);
  });

  it('several labels are ORed, as in the search API', async () => {
    const [a, b] = Object.keys(counts).filter((t) => t.startsWith('genre:'));
    const tags = b ? [a!, b] : [a!, 'curated:favourite'];
    const res = await get(`${v2}?${tags.map((t) => `labels=${encodeURIComponent(t)}`).join('&')}`);
    const expected = [...canvases.values()].filter((it) => tags.some((t) => it.labels.includes(t))).length;
    assert.equal(res.body.partOf.total, expected);
  });

  it('the tags shape the result set: its id, the page ids and the paging links keep them', async () => {
    const tag = Object.entries(counts).sort((x, y) => y[1] - x[1])[0]![0];
    const res = await get(`${v2}?q=farm&labels=${encodeURIComponent(tag)}&limit=1`);
    const param = `labels=${encodeURIComponent(tag)}`;
    assert.ok(res.body.partOf.id.includes(param), res.body.partOf.id);
    assert.ok(res.body.id.includes(param) && res.body.partOf.last.id.includes(param));
    if (counts[tag]! > 1) {
      assert.ok(res.body.next.id.includes(param));
      const next = await get(new URL(res.body.next.id).pathname + new URL(res.body.next.id).search);
      assert.equal(next.body.partOf.total, counts[tag]);
      assert.ok(canvasOf(next.body.items[0].target.id).labels.includes(tag));
    }
    const one = await get(`${v1}?q=farm&labels=${encodeURIComponent(tag)}`);
    assert.ok(one.body['@id'].includes(param) && one.body.within.first.includes(param));
  });

  it("each hit's text names its canvas's tags, as values labels= takes", async () => {
    const two = await get(`${v2}?q=a%20street`);
    for (const anno of two.body.items) {
      const tags = canvasOf(anno.target.id).labels;
      assert.ok(anno.body.value.includes(` [tags: ${tags.join(', ')}]`), anno.body.value);
    }
    const one = await get(v1);
    for (const anno of one.body.resources) assert.ok(anno.resource.chars.includes(`[tags: ${canvasOf(anno.on).labels.join(', ')}]`), anno.resource.chars);
    const favourite = one.body.resources.find((a: { on: string }) => canvasOf(a.on).labels.includes('curated:favourite'));
    assert.match(favourite.resource.chars, /curated:favourite/);
  });

  it('answers 400 for an empty or an oversized labels parameter', async () => {
    for (const url of [`${v2}?labels=`, `${v2}?labels=${'x'.repeat(2001)}`, `${v2}?${Array.from({ length: 101 }, (_, i) => `labels=t${i}`).join('&')}`]) {
      const res = await get(url);
      assert.equal(res.status, 400, url.slice(0, 80));
      assert.match(res.headers['content-type']!, /^application\/problem\+json/);
    }
  });
});
