/**
 * The behaviour every VectorStore must have: run by the embedded store, by the Meilisearch
 * store on the in-repo fake, and by the Meilisearch store on a live server when MEILI_URL is set.
 */
import assert from 'node:assert/strict';
import type { ItemFields, StoreItem, VectorStore } from '../../store/types.ts';
import { InvalidQueryError, StoreError, StoreSchemaError } from '../../store/errors.ts';
import { readFileSync } from 'node:fs';
import { parseIiifDocument } from '../../harvester/iiif/document.ts';
import { itemFields } from '../../harvester/embedding-stage.ts';
import { rightsName } from '../../harvester/metadata/rights.ts';
import { fixture, fixturesPresent } from '../support/fixtures.ts';

export interface StoreFactory {
  /** A new, empty store under a fresh index name, not yet opened. */
  create(index: string): Promise<VectorStore>;
  /** Whether hits say which region matched (Meilisearch cannot tell). */
  reportsRegions: boolean;
}

export const DIM = 32;
const MODEL = 'test-model';

/** Deterministic pseudo-random numbers (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function unit(values: number[]): Float32Array {
  const v = Float32Array.from(values);
  const n = Math.hypot(...v) || 1;
  return v.map((x) => x / n);
}

export function randomUnit(rand: () => number, dim = DIM): Float32Array {
  return unit(Array.from({ length: dim }, () => rand() * 2 - 1));
}

export const cosine = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i]!, 0);

let counter = 0;
export function makeItem(i: number, vector: Float32Array, over: Partial<StoreItem> = {}): StoreItem {
  const manifest = `https://example.org/iiif/m${i % 5}/manifest.json`;
  return {
    id: (over.id ?? `item${String(i).padStart(4, '0')}${'0'.repeat(24)}`).slice(0, 32),
    canvasId: `https://example.org/iiif/m${i % 5}/canvas/${i}`,
    manifestId: manifest,
    manifestUrl: manifest,
    source: i % 2 ? 'https://example.org/iiif/collection-a.json' : 'https://example.org/iiif/collection-b.json',
    collections: ['Library', i % 3 ? 'Photographs' : 'Maps'],
    label: `Canvas ${i}`,
    labels: i % 4 === 0 ? ['portrait', 'studio'] : ['street'],
    date: `${1900 + (i % 50)}-06-01`,
    rights: i % 2 ? 'http://creativecommons.org/publicdomain/zero/1.0/' : 'http://rightsstatements.org/vocab/NoC-US/1.0/',
    text: `Canvas ${i} photograph`,
    record: { index: i, note: `record ${i}` },
    vector,
    ...over,
  };
}

export function runStoreSuite(name: string, factory: StoreFactory): void {
  describe(`store behaviour: ${name}`, function () {
    this.timeout(120_000);
    let store: VectorStore;
    const rand = prng(42);
    const vectors = Array.from({ length: 60 }, () => randomUnit(rand));
    const items = vectors.map((v, i) => makeItem(i, v));
    /** Everything upserted so far, by id: what the store should hold. */
    const held = new Map<string, StoreItem>();
    const put = async (batch: StoreItem[]) => {
      await store.upsert(batch);
      for (const it of batch) held.set(it.id, it);
    };

    before(async () => {
      store = await factory.create(`suite_${process.pid}_${++counter}_${Date.now().toString(36)}`);
      await store.open({ modelId: MODEL, dimensions: DIM });
    });
    after(async () => store?.close());

    it('starts empty and answers searches on an empty index with no hits', async () => {
      assert.deepEqual(await store.stats(), { modelId: MODEL, dimensions: DIM, items: 0, vectors: 0, itemsWithoutVectors: 0 });
      assert.deepEqual((await store.nearest(vectors[0]!, { limit: 5 })).hits, []);
      assert.deepEqual((await store.keyword('photograph', { limit: 5 })).hits, []);
    });

    it('upserts in batches and gets items back with their fields and record', async () => {
      await put(items);
      const stats = await store.stats();
      assert.equal(stats.items, items.length);
      const got = await store.get(items[7]!.id);
      assert.ok(got);
      assert.equal(got.canvasId, items[7]!.canvasId);
      assert.deepEqual(got.collections, items[7]!.collections);
      assert.deepEqual(got.labels, items[7]!.labels);
      assert.deepEqual(got.record, items[7]!.record);
      assert.equal(got.date, items[7]!.date);
      assert.equal(await store.get('f'.repeat(32)), undefined);
    });

    it('returns the whole-image vectors of indexed items, in order', async () => {
      const [a, missing, b] = await store.vectors([items[4]!.id, 'f'.repeat(32), items[8]!.id]);
      assert.equal(missing, undefined);
      assert.ok(a && cosine(a, vectors[4]!) > 0.9999);
      assert.ok(b && cosine(b, vectors[8]!) > 0.9999);
    });

    it('finds the nearest item first, with cosine scores in descending order', async () => {
      const { hits } = await store.nearest(vectors[11]!, { limit: 10 });
      assert.equal(hits.length, 10);
      assert.equal(hits[0]!.id, items[11]!.id);
      assert.ok(Math.abs(hits[0]!.score - 1) < 1e-3, `self-similarity ${hits[0]!.score}`);
      for (const hit of hits) {
        const v = vectors[items.findIndex((it) => it.id === hit.id)]!;
        assert.ok(Math.abs(hit.score - cosine(vectors[11]!, v)) < 1e-3, 'the score is the cosine, whatever the store');
      }
      for (let k = 1; k < hits.length; k++) assert.ok(hits[k - 1]!.score >= hits[k]!.score - 1e-6);
    });

    it('finds similar items, excluding the item itself', async () => {
      const { hits } = await store.similar(items[3]!.id, { limit: 5 });
      assert.equal(hits.length, 5);
      assert.ok(!hits.some((h) => h.id === items[3]!.id));
      const exact = items.filter((_, i) => i !== 3).map((it, _) => ({ id: it.id, s: cosine(vectors[3]!, it.vector) })).sort((a, b) => b.s - a.s);
      assert.equal(hits[0]!.id, exact[0]!.id);
      await assert.rejects(store.similar('0'.repeat(32), { limit: 5 }), InvalidQueryError);
    });

    it('pages with limit and offset without overlap', async () => {
      const all = (await store.nearest(vectors[20]!, { limit: 12 })).hits.map((h) => h.id);
      const first = (await store.nearest(vectors[20]!, { limit: 6, offset: 0 })).hits.map((h) => h.id);
      const second = (await store.nearest(vectors[20]!, { limit: 6, offset: 6 })).hits.map((h) => h.id);
      assert.deepEqual([...first, ...second], all);
    });

    it('filters on manifest, collection, date range, rights, labels and source', async () => {
      const q = vectors[0]!;
      const check = async (filter: Parameters<VectorStore['nearest']>[1]['filter'], pred: (it: StoreItem) => boolean) => {
        const expected = items.filter(pred).map((it) => it.id).sort();
        const { hits } = await store.nearest(q, { limit: 100, filter });
        assert.deepEqual(hits.map((h) => h.id).sort(), expected, JSON.stringify(filter));
      };
      await check({ manifest: items[2]!.manifestId }, (it) => it.manifestId === items[2]!.manifestId);
      await check({ collection: 'Maps' }, (it) => it.collections.includes('Maps'));
      await check({ collection: 'Library' }, () => true);
      await check({ dateFrom: '1910-01-01', dateTo: '1919-12-31' }, (it) => it.date! >= '1910' && it.date! <= '1919-12-31');
      await check({ rights: 'http://creativecommons.org/publicdomain/zero/1.0/' }, (it) => it.rights === 'http://creativecommons.org/publicdomain/zero/1.0/');
      await check({ labels: 'portrait' }, (it) => it.labels.includes('portrait'));
      await check({ source: 'https://example.org/iiif/collection-a.json', collection: 'Maps' }, (it) => it.source === 'https://example.org/iiif/collection-a.json' && it.collections.includes('Maps'));
      await check({ manifest: [items[0]!.manifestId, items[1]!.manifestId] }, (it) => it.manifestId === items[0]!.manifestId || it.manifestId === items[1]!.manifestId);
    });

    it('searches keywords in labels and text, unicode included', async () => {
      await put([
        makeItem(100, randomUnit(rand), { id: 'cafe'.padEnd(32, '0'), label: 'Café de la Paix, Paris', text: 'Café de la Paix, boulevard des Capucines' }),
        makeItem(101, randomUnit(rand), { id: 'kyoto'.padEnd(32, '0'), label: '京都の寺', text: '京都の寺 temple à Kyōto' }),
      ]);
      const cafe = await store.keyword('capucines', { limit: 5 });
      assert.equal(cafe.hits[0]?.id, 'cafe'.padEnd(32, '0'));
      assert.ok(cafe.hits[0]!.score > 0 && cafe.hits[0]!.score <= 1, 'a ranking score in 0…1');
      const kyoto = await store.get('kyoto'.padEnd(32, '0'));
      assert.equal(kyoto?.label, '京都の寺');
      assert.equal((await store.keyword('temple', { limit: 5 })).hits[0]?.id, 'kyoto'.padEnd(32, '0'));
      assert.deepEqual((await store.keyword('zzzznotaword', { limit: 5 })).hits, []);
    });

    it('merges keyword and vector results in hybrid search by the ratio', async () => {
      const query = vectors[30]!;
      const keywordOnly = await store.hybrid('capucines', query, { limit: 5, semanticRatio: 0 });
      assert.equal(keywordOnly.hits[0]?.id, 'cafe'.padEnd(32, '0'));
      const vectorOnly = await store.hybrid('capucines', query, { limit: 5, semanticRatio: 1 });
      assert.equal(vectorOnly.hits[0]?.id, items[30]!.id);
      const both = await store.hybrid('capucines', query, { limit: 10, semanticRatio: 0.5 });
      const ids = both.hits.map((h) => h.id);
      assert.ok(ids.includes('cafe'.padEnd(32, '0')) && ids.includes(items[30]!.id), 'both the keyword and the vector match');
      for (const h of both.hits) assert.ok(h.score >= 0 && h.score <= 1);
    });

    it('matches an item through a region vector and returns the item once', async () => {
      const regionVector = randomUnit(rand);
      const box = { x: 10, y: 20, w: 300, h: 200 };
      await put([makeItem(200, randomUnit(rand), { id: 'region'.padEnd(32, '0'), regions: [{ box, vector: regionVector }] })]);
      const { hits } = await store.nearest(regionVector, { limit: 10 });
      assert.equal(hits[0]!.id, 'region'.padEnd(32, '0'));
      assert.equal(hits.filter((h) => h.id === 'region'.padEnd(32, '0')).length, 1);
      assert.ok(hits[0]!.score > 0.999);
      if (factory.reportsRegions) assert.deepEqual(hits[0]!.region, box);
      assert.equal((await store.stats()).vectors, (await store.stats()).items + 1);
    });

    it('replaces an item on a second upsert instead of duplicating it', async () => {
      const before = await store.stats();
      const moved = randomUnit(rand);
      await put([{ ...items[5]!, label: 'Relabelled', vector: moved }]);
      assert.equal((await store.stats()).items, before.items);
      assert.equal((await store.get(items[5]!.id))?.label, 'Relabelled');
      assert.equal((await store.nearest(moved, { limit: 1 })).hits[0]!.id, items[5]!.id);
      const old = (await store.nearest(vectors[5]!, { limit: 60 })).hits.find((h) => h.id === items[5]!.id);
      assert.ok(!old || old.score < 0.999, 'the old vector is gone');
    });

    it('updates fields without touching vectors, ignoring unknown ids', async () => {
      const { vector: _vector, regions: _regions, ...fields } = items[9]!;
      await store.updateFields([{ ...fields, label: 'Updated label', text: 'Updated label zanzibar' }, { ...fields, id: 'e'.repeat(32) }]);
      held.set(items[9]!.id, { ...items[9]!, label: 'Updated label', text: 'Updated label zanzibar' });
      assert.equal((await store.get(items[9]!.id))?.label, 'Updated label');
      assert.equal(await store.get('e'.repeat(32)), undefined);
      assert.equal((await store.nearest(vectors[9]!, { limit: 1 })).hits[0]!.id, items[9]!.id, 'the vector is still there');
      assert.equal((await store.keyword('zanzibar', { limit: 3 })).hits[0]?.id, items[9]!.id, 'the new text is searchable');
    });

    it('counts facets under a filter', async () => {
      const facets = await store.facets(['collection', 'labels', 'rights'], { source: 'https://example.org/iiif/collection-a.json' });
      const inSource = [...held.values()].filter((it) => it.source === 'https://example.org/iiif/collection-a.json');
      assert.equal(facets.collection.Maps, inSource.filter((it) => it.collections.includes('Maps')).length);
      assert.equal(facets.labels.portrait ?? 0, inSource.filter((it) => it.labels.includes('portrait')).length);
      assert.equal(facets.rights['http://creativecommons.org/publicdomain/zero/1.0/'], inSource.length);
    });

    it('refuses vectors of the wrong length, storing nothing', async () => {
      const before = await store.stats();
      await assert.rejects(store.nearest(new Float32Array(DIM + 1), { limit: 5 }), (err: Error) => err instanceof InvalidQueryError && new RegExp(`${DIM}`).test(err.message));
      await assert.rejects(store.upsert([makeItem(300, new Float32Array(DIM - 1).fill(0.1), { id: 'wrongdim'.padEnd(32, '0') })]), StoreError);
      assert.equal(await store.get('wrongdim'.padEnd(32, '0')), undefined);
      assert.deepEqual(await store.stats(), before);
      await assert.rejects(store.nearest(vectors[0]!, { limit: 0 }), InvalidQueryError);
    });

    it('refuses to reopen the index for another model or dimension', async () => {
      await assert.rejects(store.open({ modelId: MODEL, dimensions: DIM * 2 }), StoreSchemaError);
      await assert.rejects(store.open({ modelId: 'another-model', dimensions: DIM }), StoreSchemaError);
      await store.open({ modelId: MODEL, dimensions: DIM });
    });

    it('deletes by id, by manifest and by source', async () => {
      await store.delete([items[0]!.id, items[1]!.id]);
      assert.equal(await store.get(items[0]!.id), undefined);
      assert.ok(!(await store.nearest(vectors[1]!, { limit: 3 })).hits.some((h) => h.id === items[1]!.id));
      const manifest = items[2]!.manifestId;
      const inManifest = (await Promise.all(items.map((it) => store.get(it.id)))).filter((it) => it?.manifestId === manifest).length;
      assert.equal(await store.deleteWhere({ manifest: [manifest] }), inManifest);
      assert.equal((await store.nearest(vectors[2]!, { limit: 100, filter: { manifest } })).hits.length, 0);
      const before = (await store.stats()).items;
      const removed = await store.deleteWhere({ source: ['https://example.org/iiif/collection-b.json'] });
      assert.ok(removed > 0);
      assert.equal((await store.stats()).items, before - removed);
    });

    it('takes a large batch in one call', async () => {
      const big = Array.from({ length: 1500 }, (_, i) => makeItem(1000 + i, randomUnit(rand), { id: `big${String(i).padStart(5, '0')}`.padEnd(32, '0') }));
      const before = (await store.stats()).items;
      await put(big);
      assert.equal((await store.stats()).items, before + big.length);
      // The vector index is approximate (HNSW): its own vector finds an item among the first few, not always first.
      assert.ok((await store.nearest(big[777]!.vector, { limit: 5 })).hits.some((h) => h.id === big[777]!.id), 'the stored vector is found');
    });
  });

  describe(`store behaviour without a model: ${name}`, function () {
    this.timeout(120_000);
    const index = `suite_nomodel_${process.pid}_${++counter}_${Date.now().toString(36)}`;
    let store: VectorStore;
    const rand = prng(7);
    const vectors = Array.from({ length: 8 }, () => randomUnit(rand));
    const items = vectors.map((v, i) => makeItem(i, v, { id: `bare${String(i).padStart(4, '0')}`.padEnd(32, '0') }));
    items[3] = { ...items[3]!, label: 'Threshing in Kansas', text: 'Threshing in Kansas, wheat harvest' };
    /** The item as a harvest without a model stores it: its fields, no vector. */
    const bare = (it: StoreItem): ItemFields => {
      const { vector: _v, regions: _r, ...fields } = it;
      return fields;
    };
    const ids = (hits: Array<{ id: string }>) => hits.map((h) => h.id).sort();

    before(async () => {
      store = await factory.create(index);
      await store.open();
    });
    after(async () => store?.close());

    it('opens without a schema and holds items without vectors: get, keywords, browsing and facets find them', async () => {
      assert.deepEqual(await store.stats(), { items: 0, vectors: 0, itemsWithoutVectors: 0 });
      await store.upsert(items.map(bare));
      assert.deepEqual(await store.stats(), { items: items.length, vectors: 0, itemsWithoutVectors: items.length });
      assert.deepEqual(await store.get(items[2]!.id), bare(items[2]!));
      assert.equal((await store.keyword('threshing', { limit: 5 })).hits[0]?.id, items[3]!.id);
      assert.deepEqual(ids((await store.keyword('', { limit: 100 })).hits), ids(items), 'a keyword search without words lists them');
      const facets = await store.facets(['collection']);
      assert.equal(facets.collection.Library, items.length);
      assert.deepEqual((await store.vectors([items[1]!.id])), [undefined]);
    });

    it('leaves them out of vector search and similar items, and finds them by keywords in hybrid search', async () => {
      assert.deepEqual((await store.nearest(vectors[0]!, { limit: 5 })).hits, []);
      assert.deepEqual((await store.similar(items[0]!.id, { limit: 5 })).hits, []);
      await assert.rejects(store.similar('0'.repeat(32), { limit: 5 }), InvalidQueryError);
      assert.deepEqual(ids((await store.hybrid('threshing', vectors[0]!, { limit: 5, semanticRatio: 0.5 })).hits), [items[3]!.id]);
      await assert.rejects(store.upsert([items[0]!]), StoreError, 'a vector needs a schema');
      await store.updateFields([{ ...bare(items[4]!), label: 'Relabelled bare item', text: 'Relabelled bare item zanzibar' }]);
      assert.equal((await store.keyword('zanzibar', { limit: 3 })).hits[0]?.id, items[4]!.id);
    });

    it('takes the schema of the first open with a model, and keeps its items; vector searches leave out those not embedded yet', async () => {
      await store.open({ modelId: MODEL, dimensions: DIM });
      const stats = await store.stats();
      assert.deepEqual(stats, { modelId: MODEL, dimensions: DIM, items: items.length, vectors: 0, itemsWithoutVectors: items.length });
      // A harvest with the model embeds some of them (and a metadata update reaches one still bare).
      await store.upsert([items[0]!, items[1]!, items[2]!]);
      await store.updateFields([{ ...bare(items[5]!), label: 'Still bare' }]);
      assert.equal((await store.get(items[5]!.id))?.label, 'Still bare');
      assert.deepEqual(await store.stats(), { modelId: MODEL, dimensions: DIM, items: items.length, vectors: 3, itemsWithoutVectors: items.length - 3 });
      const embedded = [items[0]!.id, items[1]!.id, items[2]!.id].sort();
      const near = await store.nearest(vectors[1]!, { limit: 10 });
      assert.equal(near.hits[0]?.id, items[1]!.id);
      assert.deepEqual(ids(near.hits), embedded, 'only embedded items, however many are asked for');
      assert.deepEqual(ids((await store.similar(items[0]!.id, { limit: 10 })).hits), [items[1]!.id, items[2]!.id].sort());
      assert.deepEqual((await store.similar(items[6]!.id, { limit: 10 })).hits, [], 'an item without a vector has no neighbours');
      const hybrid = ids((await store.hybrid('threshing', vectors[2]!, { limit: 10, semanticRatio: 0.5 })).hits);
      assert.deepEqual(hybrid, [...embedded, items[3]!.id].sort(), 'the keyword match without a vector, and the vector matches');
      // A changed image stored again without a model loses the vector it had.
      await store.upsert([bare(items[2]!)]);
      assert.ok(!(await store.nearest(vectors[2]!, { limit: 10 })).hits.some((h) => h.id === items[2]!.id));
      assert.equal((await store.stats()).itemsWithoutVectors, items.length - 2);
    });

    it('reopened without a model, keeps the schema and the vectors: similar items still work', async () => {
      const again = await factory.create(index);
      try {
        await again.open();
        const stats = await again.stats();
        assert.equal(stats.modelId, MODEL);
        assert.equal(stats.dimensions, DIM);
        assert.deepEqual(ids((await again.similar(items[0]!.id, { limit: 10 })).hits), [items[1]!.id]);
        // Items stored without a vector beside an embedder keep their place, and updates reach them.
        await again.upsert([bare({ ...items[7]!, label: 'Stored without a model, after one' })]);
        await again.updateFields([{ ...bare(items[7]!), label: 'Updated again' }]);
        assert.equal((await again.get(items[7]!.id))?.label, 'Updated again');
        await assert.rejects(again.open({ modelId: 'another-model', dimensions: DIM }), StoreSchemaError);
      } finally {
        await again.close();
      }
    });
  });

  describe(`store scans: ${name}`, function () {
    this.timeout(120_000);
    let store: VectorStore;
    const rand = prng(11);
    const box = { x: 10, y: 20, w: 300, h: 200 };
    const scanned = Array.from({ length: 25 }, (_, i) =>
      makeItem(i, randomUnit(rand), { id: `scan${String(i).padStart(4, '0')}`.padEnd(32, '0'), ...(i % 3 === 0 ? { regions: [{ box, vector: randomUnit(rand) }] } : {}) }),
    );

    before(async () => {
      store = await factory.create(`suite_scan_${process.pid}_${++counter}_${Date.now().toString(36)}`);
      await store.open({ modelId: MODEL, dimensions: DIM });
      await store.upsert(scanned);
      const { vector: _v, regions: _r, ...bare } = makeItem(99, randomUnit(rand), { id: 'scanbare'.padEnd(32, '0') });
      await store.upsert([bare]);
    });
    after(async () => store?.close());

    it('pages through every item once with its whole-image and region vectors, under a filter too', async () => {
      const seen = new Map<string, { vector?: Float32Array; regions: Array<{ box: { x: number; y: number; w: number; h: number }; vector: Float32Array }> }>();
      let after: string | undefined;
      let pages = 0;
      do {
        const page = await store.scan({ limit: 7, ...(after ? { after } : {}) });
        for (const s of page.items) {
          assert.ok(!seen.has(s.item.id), `${s.item.id} seen twice`);
          seen.set(s.item.id, s);
        }
        after = page.next;
        assert.ok(++pages < 20, 'the scan ends');
      } while (after);
      assert.equal(seen.size, scanned.length + 1);
      for (const it of scanned) {
        const s = seen.get(it.id)!;
        assert.ok(cosine(s.vector!, it.vector) > 0.9999, `the whole-image vector of ${it.id}`);
        assert.equal(s.regions.length, it.regions?.length ?? 0);
        if (it.regions?.length) {
          assert.deepEqual(s.regions[0]!.box, box);
          assert.ok(cosine(s.regions[0]!.vector, it.regions[0]!.vector) > 0.9999);
        }
      }
      assert.equal(seen.get('scanbare'.padEnd(32, '0'))!.vector, undefined, 'an item stored without a vector is listed without one');
      const manifest = scanned[0]!.manifestId;
      const filtered = await store.scan({ limit: 100, filter: { manifest } });
      assert.deepEqual(
        filtered.items.map((s) => s.item.id).sort(),
        scanned.filter((it) => it.manifestId === manifest).map((it) => it.id).sort(),
      );
      assert.equal(filtered.next, undefined);
      await assert.rejects(store.scan({ limit: 5, after: 'not a cursor' }), InvalidQueryError);
    });
  });

  describe(`store facets from real manifests: ${name}`, function () {
    this.timeout(120_000);
    let store: VectorStore;
    const rand = prng(5);
    /** Real manifests (shared fixtures) and what their first canvas should be filed under. */
    const FILES = [
      'presentation-2/bl-manifest.json',
      'presentation-2/nlw-manifest.json',
      'presentation-2/villanova-manifest.json',
      'presentation-2/ghent.json',
      'presentation-2/codex.json',
      'presentation-3/wellcome-p3.json',
      'presentation-3/ldmax.json',
      'presentation-2/loc.json',
      'presentation-2/uni-goettingen.json',
    ];

    before(async function () {
      if (!fixturesPresent) return this.skip();
      store = await factory.create(`suite_facets_${process.pid}_${++counter}_${Date.now().toString(36)}`);
      await store.open({ modelId: MODEL, dimensions: DIM });
      const items = FILES.map((file, i) => {
        const url = `https://fixtures.example/${file}`;
        const doc = parseIiifDocument(JSON.parse(readFileSync(fixture('iiif', 'iiif-commons-parser', file), 'utf8')), { url });
        if (doc.kind !== 'manifest') throw new Error(`${file} is not a manifest`);
        const canvas = doc.canvases[0]!;
        const fields = itemFields(`facet${String(i).padStart(3, '0')}`.padEnd(32, '0'), { ...canvas, manifestUrl: url, sourceUrl: url, collectionPath: ['Fixtures'], imageUrl: canvas.image.url });
        // Every other one without a vector: facets do not depend on the model.
        return i % 2 ? fields : { ...fields, vector: randomUnit(rand) };
      });
      await store.upsert(items);
    });
    after(async () => store?.close());

    it('merges rights written as HTML links and http/https variants into one canonical URI each, with names', async () => {
      const { rights } = await store.facets(['rights']);
      assert.deepEqual(rights, {
        'https://creativecommons.org/publicdomain/mark/1.0/': 2, // bl: https URI; nlw: an <a href> link
        'https://creativecommons.org/licenses/by-sa/4.0/': 2, // ghent: https; villanova: http
        'https://creativecommons.org/licenses/by/4.0/': 2, // wellcome: https; ldmax: http without the slash
      });
      assert.equal(rightsName('https://creativecommons.org/licenses/by-sa/4.0/'), 'CC BY-SA 4.0');
      assert.equal(rightsName('https://creativecommons.org/publicdomain/mark/1.0/'), 'Public Domain Mark 1.0');
      assert.deepEqual(Object.keys((await store.facets(['rights'], { rights: 'https://creativecommons.org/licenses/by-sa/4.0/' })).rights), ['https://creativecommons.org/licenses/by-sa/4.0/']);
    });

    it('counts metadata facets filed by label, in the preferred language, and filters on them', async () => {
      const f = await store.facets(['meta.creator', 'meta.subject', 'meta.language', 'meta.place']);
      assert.equal(f['meta.creator']!['Sahagún, Bernardino de, 1499-1590'], 1, 'codex: Creator');
      assert.equal(f['meta.creator']!['Thackara, A. M. (Alexander Montgomery)'], 1, 'villanova: Author');
      assert.equal(f['meta.creator']!['United States. Army Map Service'], 1, 'loc: Contributors');
      assert.equal(f['meta.subject']!['Public Health'], 1, 'wellcome: Subjects, split at ";"');
      assert.equal(f['meta.language']!.English, 2, 'bl and villanova');
      assert.equal(f['meta.place']!.London, 1);
      const english = await store.keyword('', { limit: 20, filter: { meta: { language: ['English'] } } });
      assert.deepEqual(english.hits.map((h) => h.item.manifestUrl).sort(), ['https://fixtures.example/presentation-2/bl-manifest.json', 'https://fixtures.example/presentation-2/villanova-manifest.json']);
      const both = await store.keyword('', { limit: 20, filter: { meta: { language: ['English'], place: ['London'] } } });
      assert.deepEqual(both.hits.map((h) => h.item.manifestUrl), ['https://fixtures.example/presentation-2/bl-manifest.json'], 'names are ANDed');
      const item = await store.get('facet004'.padEnd(32, '0'));
      assert.deepEqual(item?.facets?.language, ['Coatepec Nahuatl', 'Spanish'], 'facets read back as given, in order');
    });

    it('dates items by navDate, else by the metadata, and counts decades and years', async () => {
      const { decade, year } = await store.facets(['decade', 'year']);
      // bl 1917 (Date), nlw 1864 (navDate), villanova 1882 (Publish Date), codex 1577 (Date Created), wellcome 1960,
      // ldmax 2025 (Datum gemaakt), loc 1943 (navDate), göttingen 1902 (navDate +01:00, not 1901 in UTC).
      assert.deepEqual(year, { '1577': 1, '1864': 1, '1882': 1, '1902': 1, '1917': 1, '1943': 1, '1960': 1, '2025': 1 });
      assert.deepEqual(decade, { '1570s': 1, '1860s': 1, '1880s': 1, '1900s': 1, '1910s': 1, '1940s': 1, '1960s': 1, '2020s': 1 });
      const nineteenth = await store.keyword('', { limit: 20, filter: { dateFrom: '1800', dateTo: '1899' } });
      assert.equal(nineteenth.hits.length, 2, 'nlw 1864 and villanova 1882');
      assert.deepEqual((await store.facets(['decade'], { meta: { language: ['English'] } })).decade, { '1880s': 1, '1910s': 1 });
    });
  });
}
