import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { deflateSync, gzipSync } from 'node:zlib';
import express from 'express';
import { request, type TestResponse } from './supertest.ts';
import { loadConfig } from '../../config/index.ts';
import { createSearchRouter, type SearchRouter } from '../../plugin/index.ts';
import { EmptyStore } from '../../store/empty-store.ts';
import { localFeaturesAvailable, openReprintService, type ReprintService } from '../../reprints/index.ts';

/**
 * Requests a client got wrong in their framing rather than their parameters: each is a 4xx
 * problem+json naming what to fix, never a 500. The router runs over an empty store and without a
 * model, as the framing is refused before either is asked.
 */
describe('plugin: malformed requests', () => {
  const TOKEN = 'a-test-admin-token-of-enough-length';
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'reprise-malformed-'));
  let router: SearchRouter;
  let reprints: ReprintService | undefined;
  let app: express.Express;
  let server: Server;
  let base: string;

  before(async () => {
    const config = loadConfig({ env: {}, overrides: { dataDir, 'api.adminToken': TOKEN } });
    // An empty reprint index where the binding is built: a reprint query then gets as far as its item.
    reprints = localFeaturesAvailable() ? openReprintService(dataDir) : undefined;
    router = createSearchRouter({ store: new EmptyStore(), config, reprints }, { onError: () => {} });
    app = express().use('/api', router);
    server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server?.close();
    await router?.close();
    reprints?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const problem = (res: TestResponse, status: number, kind: string, what: string) => {
    assert.equal(res.status, status, `${what}: ${res.text}`);
    assert.match(res.headers['content-type']!, /^application\/problem\+json/, what);
    assert.equal(res.body.type, `urn:reprise:problem:${kind}`, what);
    assert.equal(res.body.status, status, what);
    assert.ok(res.body.detail, what);
    return res.body as { detail: string; errors?: Array<{ name: string; in: string; reason: string }> };
  };

  it('answers 400 for a path parameter that is not valid percent-encoding, on every route with one', async () => {
    const paths = [
      '/api/items/%',
      '/api/items/%/similar',
      '/api/items/abc%ZZ',
      '/api/items/%E0%A4%A/similar',
      '/api/iiif/search/v1/%',
      '/api/iiif/search/v2/ab%2',
    ];
    for (const p of paths) {
      const body = problem(await request(app).get(p), 400, 'invalid-parameters', p);
      assert.equal(body.errors?.[0]?.in, 'path', p);
      assert.match(body.detail, /not valid percent-encoding.*%25/, p);
    }
    // An item named in a body is not decoded by the router: it is just an id no item has.
    const reprint = await request(app).post('/api/reprints').set('Content-Type', 'application/json').send('{"item":"%"}');
    if (reprints) assert.ok(reprint.status >= 400 && reprint.status < 500, reprint.text);
    else assert.equal(reprint.status, 503, reprint.text);
  });

  const form = (boundary: string) =>
    `--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="a.jpg"\r\nContent-Type: image/jpeg\r\n\r\n\xff\xd8\xff\xe0 not all of a JPEG`;

  it('answers 400 for a multipart body without its boundary or cut short, and 415 for a compressed one', async () => {
    const noBoundary = await request(app).post('/api/reprints').set('Content-Type', 'multipart/form-data').send(form('XYZ'));
    assert.match(problem(noBoundary, 400, 'invalid-parameters', 'no boundary').detail, /multipart form cannot be read.*boundary/i);

    const cutShort = await request(app).post('/api/reprints').set('Content-Type', 'multipart/form-data; boundary=XYZ').send(form('XYZ'));
    assert.match(problem(cutShort, 400, 'invalid-parameters', 'cut short').detail, /multipart form cannot be read.*end of form/i);

    const gzipped = await request(app)
      .post('/api/reprints')
      .set('Content-Type', 'multipart/form-data; boundary=XYZ')
      .set('Content-Encoding', 'gzip')
      .send(gzipSync(`${form('XYZ')}\r\n--XYZ--\r\n`));
    assert.match(problem(gzipped, 415, 'unsupported-media-type', 'gzip multipart').detail, /without Content-Encoding/);
  });

  it('answers 400 for a JSON body that is not the compression it declares, and 415 for an unknown compression', async () => {
    const routes: Array<[string, Record<string, string>]> = [
      ['/api/reprints', {}],
      ['/api/search/examples', {}],
      ['/api/admin/harvests', { Authorization: `Bearer ${TOKEN}` }],
    ];
    const json = '{"item":"0123456789abcdef0123456789abcdef"}';
    for (const [route, headers] of routes) {
      // Through fetch: supertest would serialise a Buffer sent as application/json into JSON.
      const post = async (encoding: string, body: string | Uint8Array) => {
        const res = await fetch(`${base}${route}`, { method: 'POST', headers: { ...headers, 'Content-Type': 'application/json', 'Content-Encoding': encoding }, body: typeof body === 'string' ? body : new Uint8Array(body) });
        const text = await res.text();
        return { status: res.status, headers: { 'content-type': res.headers.get('content-type') ?? undefined }, text, body: JSON.parse(text) } as TestResponse;
      };
      for (const encoding of ['gzip', 'deflate', 'br']) {
        const what = `${route} ${encoding}`;
        const body = problem(await post(encoding, json), 400, 'invalid-parameters', what);
        assert.equal(body.errors?.[0]?.name, 'body', what);
        assert.match(body.detail, new RegExp(`Content-Encoding: ${encoding}.*send it uncompressed`), what);
      }
      // Cut short after a valid start: still the declared compression's fault, not the server's.
      problem(await post('gzip', gzipSync(json).subarray(0, 20)), 400, 'invalid-parameters', `${route} truncated gzip`);
      problem(await post('x-unknown', json), 415, 'unsupported-media-type', `${route} unknown encoding`);
      // A body that is what its encoding says reads as if it were sent plain.
      const plain = await post('identity', json);
      for (const [encoding, bytes] of [['gzip', gzipSync(json)], ['deflate', deflateSync(json)]] as const) {
        const res = await post(encoding, bytes);
        assert.deepEqual([res.status, res.body.detail], [plain.status, plain.body.detail], `${route} ${encoding}`);
      }
    }
  });
});
