/**
 * `reprise serve --workers 2`: two processes answer on one port; the reader maps the writer's
 * saved HNSW file instead of loading a copy, follows writes made beside it, and hands admin
 * harvests to the writer; SIGTERM stops them all. No model: the index is built here with
 * vectors, and similar-by-id needs none.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { storeSchema } from '../../config/schema.ts';
import { EmbeddedStore } from '../../store/embedded/embedded-store.ts';
import type { StoreItem } from '../../store/types.ts';
import { prng } from '../store/store-suite.ts';
import { spawnReprise } from '../support/serve-process.ts';

const TOKEN = 'workers-test-admin-token';
const DIM = 16;

function itemAt(i: number): StoreItem {
  const r = prng(i + 1);
  const v = Float32Array.from({ length: DIM }, () => r() - 0.5);
  return { id: i.toString(16).padStart(32, '0'), canvasId: `https://w.test/c/${i}`, manifestId: 'https://w.test/m', manifestUrl: 'https://w.test/m', collections: [], label: `Canvas ${i}`, labels: [], text: '', record: {}, vector: v };
}

const openIndex = async (dataDir: string) => {
  const store = new EmbeddedStore({ dir: path.join(dataDir, 'index'), index: 'reprise', ...storeSchema.parse({}).embedded });
  await store.open({ modelId: 'workers-test', dimensions: DIM });
  return store;
};

/** The child processes of a process (Linux). */
const childrenOf = (pid: number): number[] =>
  readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);

describe('reprise serve --workers 2', function () {
  this.timeout(120_000);
  let dataDir: string;
  before(async function () {
    if (!existsSync('/proc/self/maps')) this.skip();
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'reprise-workers-'));
    const store = await openIndex(dataDir);
    await store.upsert(Array.from({ length: 300 }, (_, i) => itemAt(i)));
    await store.close();
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('answers from two processes, the reader mapping the writer\'s index file, relays admin harvests, follows writes and stops on SIGTERM', async () => {
    const server = await spawnReprise(
      ['serve', '--workers', '2', '--port', '0'],
      { REPRISE_DATA_DIR: dataDir, REPRISE_API__ADMIN_TOKEN: TOKEN, REPRISE_HARVEST__HTTP__RETRIES: '0', REPRISE_MODELS__THREADS: '1' },
      'before listening',
      (event) => (event?.type === 'listening' && event.api ? event.api : undefined),
    );
    const api = server.started;

    const workers = childrenOf(server.pid);
    assert.equal(workers.length, 2, `two worker processes under the primary: ${workers}`);
    const mapping = workers.filter((pid) => readFileSync(`/proc/${pid}/maps`, 'utf8').includes(path.join(dataDir, 'index', 'reprise.hnsw')));
    assert.equal(mapping.length, 1, 'the reader maps the index file; the writer holds it in memory');

    const similar = async (i: number) => {
      const res = await fetch(`${api}/items/${itemAt(i).id}/similar?limit=3`);
      assert.equal(res.status, 200);
      return ((await res.json()) as { hits: Array<{ id: string }> }).hits.map((h) => h.id);
    };
    // Connections rotate over the workers: every answer the same.
    const answers = new Set<string>();
    for (let k = 0; k < 12; k++) answers.add(JSON.stringify(await similar(5)));
    assert.equal(answers.size, 1);

    // A harvest beside the server (another process writing the store): both workers follow it.
    const store = await openIndex(dataDir);
    const late = { ...itemAt(1000), vector: itemAt(5).vector.map((x) => x * 1.0001) };
    await store.upsert([late]);
    await store.close();
    for (let k = 0; k < 8; k++) assert.ok((await similar(5)).includes(late.id), `request ${k} finds the item written beside the server`);

    // Admin harvests run in the writer whichever worker takes the request, and every worker reports the writer's.
    const auth = { authorization: `Bearer ${TOKEN}` };
    const started = await fetch(`${api}/admin/harvests`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ urls: ['http://127.0.0.1:9/nothing.json'] }) });
    assert.equal(started.status, 202, await started.clone().text());
    let statuses: Array<{ running: boolean; last?: { status?: string } }> = [];
    for (let tries = 0; tries < 100; tries++) {
      statuses = await Promise.all(Array.from({ length: 6 }, async () => (await (await fetch(`${api}/admin/harvests`, { headers: auth })).json()) as { running: boolean; last?: { status?: string } }));
      if (statuses.every((s) => !s.running && s.last)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(statuses.every((s) => !s.running && s.last), `every worker reports the writer's finished harvest: ${JSON.stringify(statuses)}`);

    assert.equal(await server.stop(), 0, server.stderr());
    for (const pid of workers) assert.ok(!existsSync(`/proc/${pid}`) || /State:\s+Z/.test(readFileSync(`/proc/${pid}/status`, 'utf8')), `worker ${pid} stopped`);
  });
});
