import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import express, { type Express } from 'express';
import { loadConfig } from '../../config/index.ts';
import type { RepriseConfig } from '../../config/schema.ts';
import { emptySummary } from '../../harvester/events.ts';
import { adminRouter, bearerToken, tokenMatches } from '../../plugin/admin/index.ts';
import { JournalHarvestController } from '../../plugin/harvest-controller.ts';
import { problemJson } from '../../plugin/middleware/problem-json.ts';
import type { HarvestController, SearchDeps } from '../../plugin/types.ts';
import type { VectorStore } from '../../store/types.ts';
import { requireFixtures } from '../support/fixtures.ts';
import { photographs, tempDataDir } from '../support/harvest-harness.ts';
import { createInstitution } from '../support/institution/index.ts';
import type { Institution } from '../support/institution/types.ts';
import { request, type TestResponse } from './supertest.ts';

// @types/supertest is not a dependency: the few calls used here, typed.

const TOKEN = 'a-long-admin-token-0123456789abcdef';
const auth = `Bearer ${TOKEN}`;
// The admin routes never touch the store.
const store = {} as VectorStore;

function configWith(dataDir: string, adminToken?: string): RepriseConfig {
  return loadConfig({ env: {}, overrides: { dataDir, 'harvest.http.allowPrivate': ['127.0.0.1'], ...(adminToken ? { 'api.adminToken': adminToken } : {}) } });
}

function appFor(deps: SearchDeps): Express {
  const app = express();
  app.use('/admin', adminRouter(deps));
  app.use(problemJson());
  return app;
}

function assertProblem(res: TestResponse, status: number): void {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.match(res.headers['content-type']!, /^application\/problem\+json/);
  assert.equal(res.body.status, status);
  for (const member of ['type', 'title', 'detail']) assert.equal(typeof res.body[member], 'string', `problem.${member}`);
}

/** A controller that records what it was asked, for the router alone. */
function fakeController(): HarvestController & { started: string[][]; running: boolean } {
  const fake = {
    started: [] as string[][],
    running: false,
    start(urls: string[]) {
      if (fake.running) return { started: false, reason: 'a harvest is already running' };
      fake.started.push(urls);
      fake.running = true;
      return { started: true, runId: 7 };
    },
    status() {
      return { running: fake.running, last: emptySummary(6), journal: { pending: 0, fetched: 0, indexed: 3, failed: 0 } };
    },
  };
  return fake;
}

describe('admin routes (plugin/admin)', () => {
  const dataDir = tempDataDir('reprise-admin-');

  it('do not exist without api.adminToken: every path answers 404, credentials or not', async () => {
    const app = appFor({ store, config: configWith(dataDir), harvest: fakeController() });
    assertProblem(await request(app).get('/admin/harvests'), 404);
    assertProblem(await request(app).get('/admin/harvests').set('Authorization', auth), 404);
    assertProblem(await request(app).post('/admin/harvests').set('Authorization', auth).send({ urls: ['https://example.org/m.json'] }), 404);
    assertProblem(await request(app).get('/admin/anything'), 404);
  });

  it('answer 401 with a Bearer challenge without a token, with a wrong one, or with another scheme', async () => {
    const harvest = fakeController();
    const app = appFor({ store, config: configWith(dataDir, TOKEN), harvest });
    const none = await request(app).get('/admin/harvests');
    assertProblem(none, 401);
    assert.equal(none.headers['www-authenticate'], 'Bearer realm="reprise-admin"');

    for (const header of [`Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(0, -1)}`, 'Bearer short', `Basic ${Buffer.from(`admin:${TOKEN}`).toString('base64')}`, 'Bearer']) {
      const wrong = await request(app).post('/admin/harvests').set('Authorization', header).send({ urls: ['https://example.org/m.json'] });
      assertProblem(wrong, 401);
      assert.match(wrong.headers['www-authenticate']!, /^Bearer realm="reprise-admin", error="invalid_token"/);
    }
    assert.equal(harvest.started.length, 0, 'nothing started');
    assert.equal((await request(app).get('/admin/harvests').set('Authorization', `bearer ${TOKEN}`)).status, 200, 'the scheme is case-insensitive');
  });

  it('start a harvest (202), refuse a second while one runs (409), and report status', async () => {
    const harvest = fakeController();
    const app = appFor({ store, config: configWith(dataDir, TOKEN), harvest });
    const urls = ['https://example.org/iiif/collection.json', 'http://example.org/m/1.json', 'https://example.org/iiif/collection.json'];
    const started = await request(app).post('/admin/harvests').set('Authorization', auth).send({ urls });
    assert.equal(started.status, 202);
    assert.equal(started.headers.location, '/admin/harvests');
    assert.deepEqual(started.body, { started: true, runId: 7, urls: urls.slice(0, 2), statusUrl: '/admin/harvests' });
    assert.deepEqual(harvest.started, [urls.slice(0, 2)], 'duplicates dropped');

    const again = await request(app).post('/admin/harvests').set('Authorization', auth).send({ urls: ['https://example.org/other.json'] });
    assertProblem(again, 409);
    assert.match(again.body.detail, /already running/);

    const status = await request(app).get('/admin/harvests').set('Authorization', auth);
    assert.equal(status.status, 200);
    assert.equal(status.headers['cache-control'], 'no-store');
    assert.equal(status.body.running, true);
    assert.equal(status.body.last.runId, 6);
    assert.equal(status.body.journal.indexed, 3);
  });

  it('validate the body: http(s) URLs only, one to 100 of them, JSON', async () => {
    const harvest = fakeController();
    const app = appFor({ store, config: configWith(dataDir, TOKEN), harvest });
    const post = (body: unknown) => request(app).post('/admin/harvests').set('Authorization', auth).send(body as object);
    for (const body of [
      {},
      { urls: [] },
      { urls: 'https://example.org/m.json' },
      { urls: ['ftp://example.org/m.json'] },
      { urls: ['file:///etc/passwd'] },
      { urls: ['not a url'] },
      { urls: [42] },
      { urls: Array.from({ length: 101 }, (_, i) => `https://example.org/m/${i}.json`) },
      { urls: ['https://example.org/m.json'], extra: true },
    ]) {
      const res = await post(body);
      assertProblem(res, 400);
      assert.ok(res.body.errors?.length, `errors for ${JSON.stringify(body).slice(0, 80)}`);
    }
    assert.equal((await post({ urls: Array.from({ length: 100 }, (_, i) => `https://example.org/m/${i}.json`) })).status, 202, '100 is allowed');
    assertProblem(await request(app).post('/admin/harvests').set('Authorization', auth).set('Content-Type', 'application/json').send('{"urls": ['), 400);
    assertProblem(await request(app).post('/admin/harvests').set('Authorization', auth).set('Content-Type', 'text/plain').send('https://example.org/m.json'), 415);
    const put = await request(app).put('/admin/harvests').set('Authorization', auth);
    assertProblem(put, 405);
    assert.equal(put.headers.allow, 'GET, HEAD, POST');
  });

  it('answer 503 when mounted without a harvest controller', async () => {
    const app = appFor({ store, config: configWith(dataDir, TOKEN) });
    assertProblem(await request(app).get('/admin/harvests').set('Authorization', auth), 503);
    assertProblem(await request(app).post('/admin/harvests').set('Authorization', auth).send({ urls: ['https://example.org/m.json'] }), 503);
  });

  it('compare tokens in constant time and read Bearer headers strictly', () => {
    assert.equal(tokenMatches(TOKEN, TOKEN), true);
    assert.equal(tokenMatches(`${TOKEN} `, TOKEN), false);
    assert.equal(tokenMatches('', TOKEN), false);
    assert.equal(bearerToken(`Bearer ${TOKEN}`), TOKEN);
    assert.equal(bearerToken(`Bearer  ${TOKEN}  `), TOKEN);
    assert.equal(bearerToken(`Bearer a b`), undefined);
    assert.equal(bearerToken(`Token ${TOKEN}`), undefined);
    assert.equal(bearerToken(undefined), undefined);
  });
});

describe('JournalHarvestController behind the admin routes', function () {
  requireFixtures(this);
  let inst: Institution;

  before(async () => {
    inst = await createInstitution({ images: photographs('fsa-owi', 4), imagesPerManifest: 2 });
  });
  after(async () => {
    await inst?.close();
  });

  it('runs one harvest at a time in the background, as `reprise harvest` would, and keeps its summary', async function () {
    this.timeout(120_000);
    const dataDir = tempDataDir('reprise-admin-harvest-');
    const config = configWith(dataDir, TOKEN);
    // The default stage is the CLI's: no model here, so items are stored without vectors.
    const controller = new JournalHarvestController({ config });
    const app = appFor({ store, config, harvest: controller });

    const started = await request(app).post('/admin/harvests').set('Authorization', auth).send({ urls: [inst.rootCollectionUrl] });
    assert.equal(started.status, 202, JSON.stringify(started.body));
    assertProblem(await request(app).post('/admin/harvests').set('Authorization', auth).send({ urls: [inst.rootCollectionUrl] }), 409);
    const running = await request(app).get('/admin/harvests').set('Authorization', auth);
    assert.equal(running.body.running, true);
    assert.deepEqual(running.body.current.urls, [inst.rootCollectionUrl]);
    assert.ok(!Number.isNaN(Date.parse(running.body.current.startedAt)));

    await controller.idle();
    const done = await request(app).get('/admin/harvests').set('Authorization', auth);
    assert.equal(done.body.running, false);
    assert.equal(done.body.current, undefined);
    assert.equal(done.body.last.status, 'completed', JSON.stringify(done.body.last.failures));
    assert.ok(done.body.last.runId >= 1);
    assert.equal(done.body.last.images.failed, 0);
    const total = Object.values(done.body.journal as Record<string, number>).reduce((a, b) => a + b, 0);
    assert.ok(total >= 4, `journal counts ${JSON.stringify(done.body.journal)}`);

    // A harvest started from the CLI holds the journal's lock: the server says so instead of failing later.
    writeFileSync(path.join(dataDir, 'harvest.db.lock'), String(process.ppid));
    const locked = await request(app).post('/admin/harvests').set('Authorization', auth).send({ urls: [inst.rootCollectionUrl] });
    assertProblem(locked, 409);
    assert.match(locked.body.detail, new RegExp(`pid ${process.ppid}`));

    await controller.close();
    assert.equal(controller.start([inst.rootCollectionUrl]).started, false, 'closed: no new harvest');
  });
});
