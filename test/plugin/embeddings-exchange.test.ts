/**
 * Embeddings as IIIF annotations between two portals: GET /embeddings on one, POST
 * /admin/embeddings/import (and `reprise embeddings export|import`) on the other, which indexes
 * them without computing them and then answers searches exactly as the first does; and a refusal,
 * changing nothing, when the vectors come from another model.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import express from 'express';
import { runExport, runImport } from '../../cli/commands/embeddings.ts';
import { storeSchema } from '../../config/schema.ts';
import { createSearchRouter, type SearchRouter } from '../../plugin/router.ts';
import { EmbeddedStore } from '../../store/embedded/embedded-store.ts';
import { modelIdOf, parseEmbeddingAnnotation } from '../../store/annotations/format.ts';
import type { SearchResult, VectorStore } from '../../store/types.ts';
import { requireFixtures } from '../support/fixtures.ts';
import { createSearchFixture, type SearchFixture } from '../support/search-fixture.ts';
import { request } from './supertest.ts';

const TOKEN = 'an-admin-token-0123456789abcdef';

function freshStore(dir: string, index: string): EmbeddedStore {
  return new EmbeddedStore({ dir, index, ...storeSchema.parse({}).embedded });
}

/** What a search answers, comparable across stores: ids, scores and regions in order. */
const answer = (r: SearchResult) => r.hits.map((h) => ({ id: h.id, score: Number(h.score.toFixed(6)), region: h.region, label: h.item.label, canvas: h.item.canvasId }));

describe('embeddings as IIIF annotations: export, import, identical search results', function () {
  requireFixtures(this);
  this.timeout(180_000);
  let f: SearchFixture;
  let router: SearchRouter;
  let server: Server;
  let base: string;
  let dir: string;
  const opened: VectorStore[] = [];
  const routers: SearchRouter[] = [];

  before(async () => {
    f = await createSearchFixture();
    // Regions too: two items get a region vector (another item's image, so that it matches differently).
    const page = await f.store.scan({ limit: 100 });
    const [a, b, c] = page.items;
    await f.store.upsert([
      { ...a!.item, vector: a!.vector!, regions: [{ box: { x: 10, y: 20, w: 200, h: 150 }, vector: c!.vector! }] },
      { ...b!.item, vector: b!.vector!, regions: [{ box: { x: 0, y: 0, w: 100, h: 100 }, vector: a!.vector! }, { box: { x: 50, y: 60, w: 70, h: 80 }, vector: c!.vector! }] },
    ]);
    router = createSearchRouter({ store: f.store, encoders: f.encoders, config: f.config });
    const app = express().use('/api', router);
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}/api`;
    dir = mkdtempSync(path.join(os.tmpdir(), 'reprise-embeddings-'));
  });
  after(async () => {
    for (const s of opened) await s.close().catch(() => {});
    for (const r of routers) await r.close();
    await new Promise((resolve) => server?.close(resolve));
    await router?.close();
    await f?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const importer = (store: VectorStore, encoders: SearchFixture['encoders'] | undefined = f.encoders) => {
    const r = createSearchRouter({ store, ...(encoders ? { encoders } : {}), config: { ...f.config, api: { ...f.config.api, adminToken: TOKEN } } });
    routers.push(r);
    return express().use('/api', r);
  };

  it('publishes a manifest\'s vectors as embedding annotations: model name and version, base64 float32 little-endian, canvas and xywh targets', async () => {
    const { items } = await f.store.scan({ limit: 100 });
    const manifest = items[1]!.item.manifestUrl;
    const res = await request(express().use('/api', router)).get('/api/embeddings').query({ manifest }).expect(200);
    assert.match(res.headers['content-type']!, /^application\/ld\+json/);
    const page = JSON.parse(res.text);
    assert.equal(page.type, 'AnnotationPage');
    assert.deepEqual(page['@context'], ['http://iiif.io/api/extension/embeddings/1/context.json', 'http://iiif.io/api/presentation/3/context.json']);
    const inManifest = items.filter((s) => s.item.manifestUrl === manifest);
    const regions = inManifest.reduce((n, s) => n + s.regions.length, 0);
    assert.equal(page.items.length, inManifest.length + regions);
    const stats = await f.store.stats();
    for (const annotation of page.items) {
      assert.equal(annotation.motivation, 'embedding');
      assert.equal(annotation.body.type, 'EmbeddingVector');
      assert.equal(annotation.body.vectorEncoding, 'base64');
      assert.equal(annotation.body.model.dataType, 'float32');
      assert.equal(annotation.body.model.endianness, 'little');
      assert.equal(modelIdOf(annotation.body.model), stats.modelId);
      assert.equal(Buffer.from(annotation.body.vector, 'base64').length, stats.dimensions! * 4);
    }
    const region = page.items.find((a: { target: { type: string } }) => a.target.type === 'SpecificResource');
    assert.equal(region.target.selector.type, 'FragmentSelector');
    assert.match(region.target.selector.value, /^xywh=\d+,\d+,\d+,\d+$/);
    assert.deepEqual(region.target.source.partOf, [{ id: manifest, type: 'Manifest' }]);
    // Read back: the very vector the store holds.
    const whole = page.items.find((a: { target: { type: string } }) => a.target.type === 'Canvas');
    const parsed = parseEmbeddingAnnotation(whole, 'the first annotation')!;
    const stored = inManifest.find((s) => s.item.canvasId === parsed.canvas.id)!;
    assert.deepEqual(Array.from(parsed.vector), Array.from(stored.vector!));
  });

  it('pages with next links that keep the filters', async () => {
    const app = express().use('/api', router);
    const first = JSON.parse((await request(app).get('/api/embeddings').query({ limit: 5 }).expect(200)).text);
    assert.ok(first.next?.id, 'a next page');
    const next = new URL(first.next.id);
    assert.equal(next.searchParams.get('limit'), '5');
    const second = JSON.parse((await request(app).get(`/api/embeddings${next.search}`).expect(200)).text);
    const ids = (p: { items: Array<{ target: { id?: string; source?: { id: string } } }> }) => p.items.map((a) => a.target.id ?? a.target.source!.id);
    assert.equal(ids(first).filter((id) => ids(second).includes(id)).length, 0, 'no canvas on both pages');
    await request(app).get('/api/embeddings').query({ after: 'x' }).expect(400);
  });

  it('imports them into a fresh index without computing them, which then answers searches identically', async () => {
    const fresh = freshStore(dir, 'imported');
    opened.push(fresh);
    await fresh.open();
    const res = await request(importer(fresh)).post('/api/admin/embeddings/import').set('Authorization', `Bearer ${TOKEN}`).send({ url: `${base}/embeddings?limit=5` }).expect(200);
    const original = await f.store.stats();
    assert.equal(res.body.items, original.items);
    assert.equal(res.body.skipped, 0, JSON.stringify(res.body.skips));
    assert.ok(res.body.pages > 1 && res.body.manifestsFetched > 0);
    assert.deepEqual(await fresh.stats(), original);

    const [text] = await f.encoders.text!.embed(['a photograph of people in a street']);
    for (const query of [text!, ...(await f.store.scan({ limit: 3 })).items.map((s) => s.vector!)]) {
      assert.deepEqual(answer(await fresh.nearest(query, { limit: 10 })), answer(await f.store.nearest(query, { limit: 10 })));
    }
    const some = (await f.store.scan({ limit: 100 })).items;
    for (const s of some.slice(0, 4)) {
      assert.deepEqual(answer(await fresh.similar(s.item.id, { limit: 10 })), answer(await f.store.similar(s.item.id, { limit: 10 })));
    }
    // The API too: the same text search, the same page.
    const q = { q: 'a photograph of people in a street', limit: 12 };
    const mine = (await request(express().use('/api', router)).get('/api/search').query(q).expect(200)).body;
    const theirs = (await request(importer(fresh)).get('/api/search').query(q).expect(200)).body;
    assert.deepEqual(
      theirs.hits.map((h: { id: string; score: number; region?: unknown }) => [h.id, h.score.toFixed(6), h.region]),
      mine.hits.map((h: { id: string; score: number; region?: unknown }) => [h.id, h.score.toFixed(6), h.region]),
    );
  });

  it('refuses vectors of another model with a clear error, importing nothing', async () => {
    const other = freshStore(dir, 'other-model');
    opened.push(other);
    const stats = await f.store.stats();
    await other.open({ modelId: 'someone/another-model@0123456789ab', dimensions: stats.dimensions! });
    const res = await request(importer(other, undefined)).post('/api/admin/embeddings/import').set('Authorization', `Bearer ${TOKEN}`).send({ url: `${base}/embeddings` }).expect(409);
    assert.match(res.body.detail, new RegExp(`made by model "${stats.modelId}".*this index holds vectors of "someone/another-model@0123456789ab".*cannot be compared`));
    assert.equal((await other.stats()).items, 0);

    // An index without a model yet, on a portal that searches with another model: refused too.
    const empty = freshStore(dir, 'empty');
    opened.push(empty);
    await empty.open();
    const page = JSON.parse((await request(express().use('/api', router)).get('/api/embeddings').query({ limit: 2 }).expect(200)).text);
    for (const a of page.items) a.body.model.version = 'ffffffffffff';
    delete page.next;
    const refused = await request(importer(empty)).post('/api/admin/embeddings/import').set('Authorization', `Bearer ${TOKEN}`).send({ annotations: page }).expect(409);
    assert.match(refused.body.detail, /this portal searches with/);
    assert.equal((await empty.stats()).items, 0);
    assert.equal((await empty.stats()).modelId, undefined, 'the index did not take the refused model');
  });

  it('exports to a file and imports from it on the command line', async () => {
    const file = path.join(dir, 'embeddings.json');
    const configFile = path.join(dir, 'config.json');
    writeFileSync(configFile, JSON.stringify({ harvest: { http: { allowPrivate: ['127.0.0.1'] } } }));
    const stderr = process.stderr.write;
    process.stderr.write = (() => true) as typeof process.stderr.write;
    const stdout = process.stdout.write;
    let printed = '';
    try {
      assert.equal(await runExport({ config: configFile, dataDir: f.dataDir, out: file }), 0);
      process.stdout.write = ((chunk: string) => ((printed += chunk), true)) as typeof process.stdout.write;
      const target = path.join(dir, 'cli-data');
      assert.equal(await runImport(file, { config: configFile, dataDir: target, json: true }), 0);
      process.stdout.write = stdout;
      const report = JSON.parse(printed);
      assert.equal(report.items, (await f.store.stats()).items);
      const imported = freshStore(path.join(target, 'index'), f.config.store.index);
      opened.push(imported);
      await imported.open();
      const [text] = await f.encoders.text!.embed(['a car on a road']);
      assert.deepEqual(answer(await imported.nearest(text!, { limit: 8 })), answer(await f.store.nearest(text!, { limit: 8 })));
    } finally {
      process.stderr.write = stderr;
      process.stdout.write = stdout;
    }
    assert.equal(JSON.parse(readFileSync(file, 'utf8')).type, 'AnnotationPage');
  });
});
