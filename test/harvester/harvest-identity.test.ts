/**
 * Which documents are one: URLs that differ only by a #fragment, one manifest reached through
 * several URLs, and how failures of collection members are counted (and listened for).
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { requireFixtures } from '../support/fixtures.ts';
import { harvestOnce, openJournal, photographs, tempDataDir, testHarvestConfig } from '../support/harvest-harness.ts';
import type { HarvestEvent } from '../../harvester/events.ts';

type Handler = { status?: number; json?: unknown; delayMs?: number };

/** A loopback server answering the documents it is given (by path, query included), and images under /img/. */
async function documentServer(): Promise<{ base: string; docs: Map<string, Handler | (() => Handler)>; requests: Map<string, number>; close(): Promise<void> }> {
  const docs = new Map<string, Handler | (() => Handler)>();
  const requests = new Map<string, number>();
  const photos = photographs('fsa-owi', 4).map((file) => readFileSync(file));
  const server: Server = createServer((req, res) => {
    const path = req.url ?? '/';
    requests.set(path, (requests.get(path) ?? 0) + 1);
    const image = /^\/img\/(\d+)\.jpg$/.exec(path);
    if (image) {
      res.writeHead(200, { 'content-type': 'image/jpeg' }).end(photos[Number(image[1]) % photos.length]);
      return;
    }
    const entry = docs.get(path);
    const h = typeof entry === 'function' ? entry() : entry;
    const answer = () => {
      if (!h) return res.writeHead(404, { 'content-type': 'text/plain' }).end('not here');
      res.writeHead(h.status ?? 200, { 'content-type': 'application/json' }).end(JSON.stringify(h.json ?? {}));
    };
    if (h?.delayMs) setTimeout(answer, h.delayMs);
    else answer();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    docs,
    requests,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

const manifest = (id: string, base: string, images: number[]) => ({
  '@context': 'http://iiif.io/api/presentation/3/context.json',
  id,
  type: 'Manifest',
  label: { en: [id] },
  items: images.map((n, i) => ({
    id: `${id}/canvas/${i}`,
    type: 'Canvas',
    width: 640,
    height: 480,
    items: [{ id: `${id}/canvas/${i}/page`, type: 'AnnotationPage', items: [{ id: `${id}/canvas/${i}/a`, type: 'Annotation', motivation: 'painting', target: `${id}/canvas/${i}`, body: { id: `${base}/img/${n}.jpg`, type: 'Image', format: 'image/jpeg' } }] }],
  })),
});

const collection = (id: string, members: Array<{ id: string; type: 'Manifest' | 'Collection' }>) => ({
  '@context': 'http://iiif.io/api/presentation/3/context.json',
  id,
  type: 'Collection',
  label: { en: ['Collection'] },
  items: members.map((m) => ({ ...m, label: { en: [m.id] } })),
});

function journalRows(dataDir: string): Array<{ item_id: string; manifest_url: string; status: string }> {
  const journal = openJournal(dataDir);
  try {
    return journal.db.prepare(`SELECT item_id, manifest_url, status FROM canvases ORDER BY item_id`).all() as never;
  } finally {
    journal.close();
  }
}

describe('harvest: document identity', function () {
  requireFixtures(this);
  this.timeout(60_000);

  let srv: Awaited<ReturnType<typeof documentServer>>;
  beforeEach(async () => {
    srv = await documentServer();
  });
  afterEach(async () => srv?.close());

  it('URLs that differ only by #fragment are one document: fetched once, indexed once', async () => {
    const m = `${srv.base}/m1.json`;
    srv.docs.set('/m1.json', { json: manifest(m, srv.base, [0, 1]) });
    srv.docs.set('/c.json', { json: collection(`${srv.base}/c.json`, [{ id: m, type: 'Manifest' }, { id: `${m}#top`, type: 'Manifest' }, { id: `${m}#page=2`, type: 'Manifest' }]) });
    const dataDir = tempDataDir();
    const { summary, stage } = await harvestOnce(dataDir, [`${srv.base}/c.json#members`]);
    assert.equal(summary.status, 'completed', JSON.stringify(summary.failures));
    assert.equal(summary.manifests.new, 1);
    assert.equal(srv.requests.get('/m1.json'), 1, 'the manifest is fetched once');
    const rows = journalRows(dataDir);
    assert.equal(rows.length, 2, 'its two canvases, once each');
    assert.ok(rows.every((r) => r.manifest_url === m && r.status === 'indexed'));
    assert.equal(stage.items.size, 2);
  });

  it('one manifest id reached through several URLs is indexed once, under the URL equal to its id, whichever answers first', async () => {
    const id = `${srv.base}/m.json`;
    const doc = manifest(id, srv.base, [0, 1, 2]);
    // The URL equal to the id answers last: the others have been read (and their images started) by then.
    srv.docs.set('/m.json', { json: doc, delayMs: 400 });
    srv.docs.set('/m.json?via=listing', { json: doc });
    srv.docs.set('/alias/m.json', { json: doc, delayMs: 100 });
    const members = [`${srv.base}/m.json?via=listing`, `${srv.base}/alias/m.json`, id].map((u) => ({ id: u, type: 'Manifest' as const }));
    srv.docs.set('/c.json', { json: collection(`${srv.base}/c.json`, members) });
    const dataDir = tempDataDir();
    const events: HarvestEvent[] = [];
    const first = await harvestOnce(dataDir, [`${srv.base}/c.json`], { onEvent: (e) => events.push(e) });
    assert.equal(first.summary.status, 'completed', JSON.stringify(first.summary.failures));
    const rows = journalRows(dataDir);
    assert.equal(rows.length, 3, 'three canvases, not nine');
    assert.ok(rows.every((r) => r.manifest_url === id), JSON.stringify(rows));
    assert.deepEqual([...first.stage.items.keys()].sort(), rows.map((r) => r.item_id), 'the index holds the kept URL\'s items only');
    assert.equal(first.summary.manifests.duplicates, 2);
    const told = events.filter((e) => e.type === 'warning' && /also reached at/.test(e.message));
    assert.equal(told.length, 2, JSON.stringify(told));

    // The next run keeps the same choice, and nothing is indexed again.
    srv.docs.set('/m.json', { json: doc });
    const second = await harvestOnce(dataDir, [`${srv.base}/c.json`], { stage: first.stage });
    assert.deepEqual(journalRows(dataDir), rows);
    assert.equal(second.summary.images.indexed, 0);
    assert.equal(second.summary.manifests.duplicates, 2);
    assert.deepEqual([...second.stage.items.keys()].sort(), rows.map((r) => r.item_id));
  });

  it('manifests that share a copied id but paint different canvases are not duplicates: each is indexed', async () => {
    const copied = 'https://example.org/iiif/book1/manifest';
    srv.docs.set('/a.json', { json: manifest(copied, srv.base, [0]) });
    srv.docs.set('/b.json', { json: { ...manifest(copied, srv.base, [1]), items: manifest(`${srv.base}/b`, srv.base, [1]).items } });
    srv.docs.set('/c.json', { json: collection(`${srv.base}/c.json`, [{ id: `${srv.base}/a.json`, type: 'Manifest' }, { id: `${srv.base}/b.json`, type: 'Manifest' }]) });
    const dataDir = tempDataDir();
    const { summary } = await harvestOnce(dataDir, [`${srv.base}/c.json`]);
    assert.equal(summary.manifests.duplicates, 0);
    assert.deepEqual(journalRows(dataDir).map((r) => new URL(r.manifest_url).pathname).sort(), ['/a.json', '/b.json']);
  });

  it('members that fail are counted by their kind: a sub-collection as a collection, not a manifest', async () => {
    const m = `${srv.base}/m1.json`;
    srv.docs.set('/m1.json', { json: manifest(m, srv.base, [0]) });
    srv.docs.set('/broken.json', { status: 500, json: {} });
    srv.docs.set('/c.json', {
      json: collection(`${srv.base}/c.json`, [
        { id: `${srv.base}/missing.json`, type: 'Collection' },
        { id: `${srv.base}/broken.json`, type: 'Collection' },
        { id: `${srv.base}/gone-manifest.json`, type: 'Manifest' },
        { id: m, type: 'Manifest' },
      ]),
    });
    const events: HarvestEvent[] = [];
    const { summary } = await harvestOnce(tempDataDir(), [`${srv.base}/c.json`], { config: testHarvestConfig({ retries: 0 }), onEvent: (e) => events.push(e) });
    assert.deepEqual(summary.collections, { fetched: 1, unchanged: 0, failed: 2 });
    assert.equal(summary.manifests.failed, 1);
    assert.equal(summary.manifests.new, 1);
    const failed = events.flatMap((e) => (e.type === 'document' && e.status === 'failed' ? [[new URL(e.url).pathname, e.kind]] : []));
    assert.deepEqual(failed.sort(), [['/broken.json', 'collection'], ['/gone-manifest.json', 'manifest'], ['/missing.json', 'collection']]);
  });

  it('many failing members leave no listener behind on the run signal (no MaxListenersExceededWarning)', async () => {
    const members: Array<{ id: string; type: 'Manifest' | 'Collection' }> = [];
    for (let i = 0; i < 120; i++) {
      members.push({ id: `${srv.base}/sub/${i}.json`, type: 'Collection' });
      members.push({ id: `${srv.base}/man/${i}.json`, type: 'Manifest' });
      srv.docs.set(`/sub/${i}.json`, { status: 503, json: {} });
      srv.docs.set(`/man/${i}.json`, { status: 503, json: {} });
    }
    srv.docs.set('/c.json', { json: collection(`${srv.base}/c.json`, members) });
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      const abort = new AbortController();
      const config = testHarvestConfig({ retries: 2, retryBaseDelayMs: 20, retryMaxDelayMs: 50 });
      const { summary } = await harvestOnce(tempDataDir(), [`${srv.base}/c.json`], { config, signal: abort.signal });
      assert.equal(summary.collections.failed, 120);
      assert.equal(summary.manifests.failed, 120);
      // Warnings are emitted on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', onWarning);
    }
    assert.deepEqual(warnings.filter((w) => w.name === 'MaxListenersExceededWarning').map((w) => w.message), []);
  });
});
