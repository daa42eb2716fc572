/**
 * What is particular to the Meilisearch store: tasks, versions, keys, score conversion, filter
 * quoting and model checks. Runs on the in-repo fake, and the server-independent part also on a
 * live Meilisearch when MEILI_URL (and MEILI_MASTER_KEY) is set.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Meilisearch } from 'meilisearch';
import { MeilisearchStore, TaskWaiter, embedderName, modelIdOf, quote } from '../../store/meilisearch/index.ts';
import { InvalidQueryError, StoreError, StoreSchemaError, StoreTaskError, StoreUnavailableError } from '../../store/errors.ts';
import type { StoreItem } from '../../store/types.ts';
import { startMeiliFake, type MeiliFake } from '../support/meili-fake/index.ts';
import { liveTarget } from '../support/meili-fake/live.ts';
import { cosine, makeItem, prng, randomUnit } from './store-suite.ts';

const DIM = 8;
const MODEL = 'test-model';
let counter = 0;
const indexName = () => `meili_${process.pid}_${++counter}_${Date.now().toString(36)}`;

const options = (url: string, apiKey?: string, over: Partial<{ taskTimeoutMs: number; timeoutMs: number }> = {}) => ({
  url,
  ...(apiKey ? { apiKey } : {}),
  timeoutMs: 10_000,
  batchSize: 500,
  taskTimeoutMs: 30_000,
  ...over,
});

interface Target {
  name: string;
  url: () => string;
  apiKey?: string;
  created: string[];
}

const fakeKey = 'fake-master-key';
let fake: MeiliFake;

describe('Meilisearch store (store/meilisearch)', function () {
  before(async () => {
    fake = await startMeiliFake({ masterKey: fakeKey });
  });
  after(async () => fake?.close());

  const targets: Target[] = [{ name: 'fake', url: () => fake.url, apiKey: fakeKey, created: [] }];
  const live = liveTarget();
  if (live) targets.push({ name: `live ${live.url}`, url: () => live.url, ...(live.apiKey ? { apiKey: live.apiKey } : {}), created: [] });
  else {
    describe('Meilisearch store specifics (live)', function () {
      it('is skipped: set MEILI_URL (and MEILI_MASTER_KEY) to run these tests against a real Meilisearch 1.13+', function () {
        this.skip();
      });
    });
  }

  for (const target of targets) {
    describe(`Meilisearch store specifics (${target.name})`, function () {
      this.timeout(60_000);
      const rand = prng(7);
      const open: MeilisearchStore[] = [];
      const client = () => new Meilisearch({ host: target.url(), ...(target.apiKey ? { apiKey: target.apiKey } : {}) });

      async function newStore(model = MODEL, dims = DIM): Promise<MeilisearchStore> {
        const name = indexName();
        target.created.push(name);
        const store = new MeilisearchStore(options(target.url(), target.apiKey), name);
        await store.open({ modelId: model, dimensions: dims });
        open.push(store);
        return store;
      }

      after(async () => {
        for (const s of open) await s.close();
        const c = client();
        for (const uid of target.created) await c.deleteIndex(uid).waitTask({ timeout: 30_000 }).catch(() => undefined);
      });

      it('surfaces a failed indexing task as StoreTaskError with Meilisearch’s code', async () => {
        const store = await newStore();
        // Someone changes the embedder behind the store's back: the store's own checks still pass,
        // the server's task fails, and the failure must not pass for success.
        await client()
          .index(store.indexName)
          .updateSettings({ embedders: { [embedderName(MODEL)]: { source: 'userProvided', dimensions: DIM / 2 } } })
          .waitTask({ timeout: 30_000 });
        const err = await store.upsert([makeItem(1, randomUnit(rand, DIM))]).then(
          () => assert.fail('the upsert should have failed'),
          (e: unknown) => e,
        );
        assert.ok(err instanceof StoreTaskError, String(err));
        assert.equal(err.code, 'invalid_vector_dimensions');
        assert.equal(typeof err.taskUid, 'number');
        assert.match(err.message, /invalid_vector_dimensions/);
      });

      it('waits for any task and reports its failure code (a document without its vectors)', async () => {
        const store = await newStore();
        const waiter = new TaskWaiter(client(), 30_000);
        await assert.rejects(
          waiter.wait(client().index(store.indexName).addDocuments([{ id: 'novectors', label: 'no vectors' }])),
          (e: unknown) => e instanceof StoreTaskError && e.code === 'vector_embedding_error',
        );
        assert.equal(await store.get('novectors'), undefined);
      });

      it('converts vector ranking scores to cosines and leaves keyword and hybrid scores as they are', async () => {
        const store = await newStore();
        const items: StoreItem[] = Array.from({ length: 12 }, (_, i) =>
          makeItem(i, randomUnit(rand, DIM), { text: i % 3 ? `plate ${i} harbour` : `plate ${i} lighthouse harbour` }),
        );
        await store.upsert(items);
        const q = randomUnit(rand, DIM);
        const raw = await client()
          .index(store.indexName)
          .search(null, { vector: Array.from(q), hybrid: { embedder: embedderName(MODEL), semanticRatio: 1 }, limit: 12, showRankingScore: true });
        for (const hit of raw.hits) {
          const item = items.find((it) => it.id === hit.id)!;
          assert.ok(Math.abs(hit._rankingScore! - (1 + cosine(q, item.vector)) / 2) < 1e-4, 'Meilisearch scores vector hits (1 + cos) / 2');
        }
        const nearest = await store.nearest(q, { limit: 12 });
        for (const hit of nearest.hits) {
          const item = items.find((it) => it.id === hit.id)!;
          assert.ok(Math.abs(hit.score - cosine(q, item.vector)) < 1e-4, 'nearest reports the cosine');
        }
        assert.ok(nearest.hits.some((h) => h.score < 0.5), 'cosines below 0.5 show the conversion is not the identity');

        const similar = await store.similar(items[0]!.id, { limit: 5 });
        for (const hit of similar.hits) {
          const item = items.find((it) => it.id === hit.id)!;
          assert.ok(Math.abs(hit.score - cosine(items[0]!.vector, item.vector)) < 1e-4, 'similar reports the cosine');
        }

        const rawKeyword = await client().index(store.indexName).search('lighthouse', { showRankingScore: true, limit: 12 });
        const keyword = await store.keyword('lighthouse', { limit: 12 });
        assert.equal(keyword.hits.length, rawKeyword.hits.length);
        keyword.hits.forEach((h, i) => assert.equal(h.score, rawKeyword.hits[i]!._rankingScore));

        const rawHybrid = await client()
          .index(store.indexName)
          .search('lighthouse', { vector: Array.from(q), hybrid: { embedder: embedderName(MODEL), semanticRatio: 0.5 }, showRankingScore: true, limit: 6 });
        const hybrid = await store.hybrid('lighthouse', q, { limit: 6, semanticRatio: 0.5 });
        assert.deepEqual(
          hybrid.hits.map((h) => [h.id, h.score]),
          rawHybrid.hits.map((h) => [h.id, h._rankingScore]),
        );
      });

      it('refuses a query vector of the wrong length with InvalidQueryError naming the dimensions', async () => {
        const store = await newStore();
        await store.upsert([makeItem(1, randomUnit(rand, DIM))]);
        const err = await store.nearest(new Float32Array(DIM + 3).fill(0.1), { limit: 3 }).catch((e: unknown) => e);
        assert.ok(err instanceof InvalidQueryError, String(err));
        assert.match(err.message, new RegExp(`${DIM + 3} dimensions.*${DIM}`));
        await assert.rejects(store.hybrid('x', new Float32Array(DIM - 1), { limit: 3, semanticRatio: 0.5 }), InvalidQueryError);
      });

      it('quotes filter values: quotes, backslashes, keywords, brackets and accents match exactly', async () => {
        const store = await newStore();
        const odd = ['O"Brien', "it's", 'back\\slash', 'AND OR NOT', '[bracket], (paren)', 'Ærøskøbing', 'trailing\\', '"'];
        const items = odd.map((label, i) =>
          makeItem(i, randomUnit(rand, DIM), {
            labels: [label],
            manifestId: `https://example.org/${encodeURIComponent(label)}/manifest`,
            manifestUrl: `https://example.org/m/${i}?q="${label}"`,
          }),
        );
        await store.upsert(items);
        for (const [i, label] of odd.entries()) {
          const { hits } = await store.nearest(items[i]!.vector, { limit: 20, filter: { labels: label } });
          assert.deepEqual(hits.map((h) => h.id), [items[i]!.id], `labels = ${label}`);
        }
        assert.equal(await store.deleteWhere({ manifest: [items[0]!.manifestUrl, items[7]!.manifestId] }), 2);
        assert.equal((await store.stats()).items, odd.length - 2);
      });

      it('keeps the model id in the embedder name and refuses another model with the same dimensions', async () => {
        const model = 'Xenova/clip-vit-base-patch32';
        assert.equal(embedderName(model), 'Xenova_2f_clip-vit-base-patch32');
        assert.equal(modelIdOf(embedderName(model)), model);
        assert.equal(modelIdOf(embedderName('a_b c')), 'a_b c');
        const store = await newStore(model, DIM);
        const settings = await client().index(store.indexName).getSettings();
        assert.deepEqual(settings.embedders, { [embedderName(model)]: { source: 'userProvided', dimensions: DIM } });
        const other = new MeilisearchStore(options(target.url(), target.apiKey), store.indexName);
        const err = await other.open({ modelId: 'Xenova/clip-vit-base-patch16', dimensions: DIM }).catch((e: unknown) => e);
        assert.ok(err instanceof StoreSchemaError, String(err));
        assert.match(err.message, /clip-vit-base-patch32.*clip-vit-base-patch16/s);
        await other.open({ modelId: model, dimensions: DIM });
      });

      it('answers a wrong API key with an error that says which setting to fix', async function () {
        if (!target.apiKey) return this.skip();
        const store = new MeilisearchStore(options(target.url(), 'not-the-key'), indexName());
        const err = await store.open({ modelId: MODEL, dimensions: DIM }).catch((e: unknown) => e);
        assert.ok(err instanceof StoreUnavailableError, String(err));
        assert.match(err.message, /invalid_api_key/);
        assert.match(err.message, /store\.meilisearch\.apiKey/);
        assert.match(err.message, /REPRISE_STORE__MEILISEARCH__API_KEY/);
        const keyless = new MeilisearchStore(options(target.url()), indexName());
        const missing = await keyless.open({ modelId: MODEL, dimensions: DIM }).catch((e: unknown) => e);
        assert.ok(missing instanceof StoreUnavailableError, String(missing));
        assert.match(missing.message, /requires an API key.*missing_authorization_header/);
      });
    });
  }

  describe('Meilisearch store against servers it cannot use', function () {
    this.timeout(20_000);

    it('refuses a Meilisearch older than 1.13, saying so', async () => {
      const old = await startMeiliFake({ version: '1.12.8' });
      try {
        const store = new MeilisearchStore(options(old.url), indexName());
        const err = await store.open({ modelId: MODEL, dimensions: DIM }).catch((e: unknown) => e);
        assert.ok(err instanceof StoreUnavailableError, String(err));
        assert.match(err.message, /version 1\.12\.8.*1\.13 or newer/);
        assert.equal(old.indexes.size, 0, 'nothing was created on the old server');
      } finally {
        await old.close();
      }
    });

    it('names the URL and how to start Meilisearch when nothing listens there', async () => {
      const probe = createServer();
      await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
      const { port } = probe.address() as AddressInfo;
      await new Promise<void>((resolve) => probe.close(() => resolve()));
      const url = `http://127.0.0.1:${port}`;
      const store = new MeilisearchStore(options(url), indexName());
      const err = await store.open({ modelId: MODEL, dimensions: DIM }).catch((e: unknown) => e);
      assert.ok(err instanceof StoreUnavailableError, String(err));
      assert.ok(err.message.includes(url), err.message);
      assert.match(err.message, /ECONNREFUSED/);
      assert.match(err.message, /meilisearch --master-key|docker run/);
    });

    it('says when the server at the URL is not Meilisearch', async () => {
      const other = createServer((_, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>a portal</html>'));
      await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
      try {
        const url = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
        const err = await new MeilisearchStore(options(url), indexName()).open({ modelId: MODEL, dimensions: DIM }).catch((e: unknown) => e);
        assert.ok(err instanceof StoreUnavailableError, String(err));
        assert.match(err.message, /did not answer like Meilisearch/);
      } finally {
        await new Promise<void>((resolve) => other.close(() => resolve()));
      }
    });

    it('bounds the wait for a task and says the outcome is unknown', async () => {
      const slow = await startMeiliFake({ taskDelayMs: 400 });
      try {
        const store = new MeilisearchStore(options(slow.url, undefined, { taskTimeoutMs: 100 }), indexName());
        const err = await store.open({ modelId: MODEL, dimensions: DIM }).catch((e: unknown) => e);
        assert.ok(err instanceof StoreError && !(err instanceof StoreTaskError), String(err));
        assert.match(err.message, /still (enqueued|processing) after 100 ms.*taskTimeoutMs/);
      } finally {
        await slow.close();
      }
    });

    it('is not usable before open() or after close()', async () => {
      const store = new MeilisearchStore(options(fake.url, fakeKey), indexName());
      await assert.rejects(store.get('x'), /open\(\)/);
      await store.open({ modelId: MODEL, dimensions: DIM });
      await store.close();
      await assert.rejects(store.stats(), /closed/);
    });
  });

  describe('the in-repo Meilisearch fake', function () {
    const key = { Authorization: `Bearer ${fakeKey}`, 'content-type': 'application/json' };
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(fake.url + path, { method, headers: key, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const waitTask = async (uid: number) => {
      for (;;) {
        const { body } = await call('GET', `/tasks/${uid}`);
        if (body.status === 'succeeded' || body.status === 'failed') return body;
        await new Promise((r) => setTimeout(r, 2));
      }
    };

    it('runs tasks later, in order, through enqueued → processing → succeeded or failed', async () => {
      const uid = indexName();
      const created = await call('POST', '/indexes', { uid, primaryKey: 'id' });
      assert.equal(created.status, 202);
      assert.equal(created.body.status, 'enqueued');
      const again = await call('POST', '/indexes', { uid });
      const first = await waitTask(created.body.taskUid as number);
      const second = await waitTask(again.body.taskUid as number);
      assert.equal(first.status, 'succeeded');
      assert.equal(second.status, 'failed');
      assert.equal((second.error as { code: string }).code, 'index_already_exists');
      assert.deepEqual(fake.tasks[created.body.taskUid as number]!.history, ['enqueued', 'processing', 'succeeded']);
      assert.ok(Date.parse(first.finishedAt as string) <= Date.parse(second.startedAt as string));
    });

    it('answers Meilisearch’s errors for bad queries and keys', async () => {
      const uid = indexName();
      await waitTask((await call('PATCH', `/indexes/${uid}/settings`, { embedders: { e: { source: 'userProvided', dimensions: 2 } }, filterableAttributes: ['tag'] })).body.taskUid as number);
      await waitTask((await call('POST', `/indexes/${uid}/documents`, [{ id: 'a', tag: 'x', _vectors: { e: [[1, 0], [0, 1]] } }])).body.taskUid as number);
      const wrongLength = await call('POST', `/indexes/${uid}/search`, { vector: [1, 0, 0], hybrid: { embedder: 'e', semanticRatio: 1 } });
      assert.equal(wrongLength.status, 400);
      assert.equal(wrongLength.body.code, 'invalid_vector_dimensions');
      const badVector = await call('POST', `/indexes/${uid}/search`, { vector: ['a'], hybrid: { embedder: 'e', semanticRatio: 1 } });
      assert.equal(badVector.body.code, 'invalid_search_vector');
      const notFilterable = await call('POST', `/indexes/${uid}/search`, { filter: 'other = 1' });
      assert.equal(notFilterable.body.code, 'invalid_search_filter');
      assert.match(notFilterable.body.message as string, /`other` is not filterable/);
      const syntax = await call('POST', `/indexes/${uid}/search`, { filter: 'tag = "unclosed' });
      assert.equal(syntax.body.code, 'invalid_search_filter');
      const best = await call('POST', `/indexes/${uid}/search`, { vector: [0, 1], hybrid: { embedder: 'e', semanticRatio: 1 }, showRankingScore: true });
      assert.equal((best.body.hits as Array<{ _rankingScore: number }>)[0]!._rankingScore, 1, 'the best of the document’s vectors counts');
      const wrongDims = await waitTask((await call('POST', `/indexes/${uid}/documents`, [{ id: 'b', _vectors: { e: [1, 2, 3] } }])).body.taskUid as number);
      assert.equal((wrongDims.error as { code: string }).code, 'invalid_vector_dimensions');
      const noKey = await fetch(`${fake.url}/indexes/${uid}`);
      assert.equal(noKey.status, 401);
      const health = await fetch(`${fake.url}/health`);
      assert.equal(health.status, 200, '/health needs no key');
    });

    it('quotes filter values the way the parser reads them back', () => {
      assert.equal(quote('a"b\\c'), '"a\\"b\\\\c"');
    });
  });
});
