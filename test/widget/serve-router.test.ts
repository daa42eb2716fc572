/**
 * viewer-widget/serve.ts in-process: bundles built on first request into an empty folder (a
 * clean clone), the demo pages and their redirects, sources kept private.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import express from 'express';
import { request } from '../plugin/supertest.ts';
import { widgetRouter } from '../../viewer-widget/serve.ts';

describe('widget router (viewer-widget/serve.ts)', function () {
  this.timeout(60_000);
  let dist: string;
  let app: express.Express;
  const built: Array<Record<string, unknown>> = [];

  before(() => {
    dist = mkdtempSync(path.join(os.tmpdir(), 'reprise-widget-dist-'));
    app = express();
    app.use(widgetRouter({ distDir: dist, logger: { info: (o) => built.push(o as Record<string, unknown>), error: () => {} } }));
  });
  after(() => rmSync(dist, { recursive: true, force: true }));

  it('builds a missing bundle on its first request and serves it as an ES module', async () => {
    assert.equal(existsSync(path.join(dist, 'reprise-widget.js')), false);
    const res = await request(app).get('/widget/reprise-widget.js');
    assert.equal(res.status, 200);
    assert.match(res.headers['content-type'] ?? '', /javascript/);
    assert.equal(res.headers['cache-control'], 'no-cache');
    assert.equal(res.headers['access-control-allow-origin'], '*', 'portals on other origins load it as a module script');
    assert.match(res.text, /customElements/);
    assert.match(res.text, /reprise-search/);
    assert.ok(existsSync(path.join(dist, 'demo-openseadragon.js')));
    assert.equal(built.filter((e) => e.type === 'widget-build').length, 1);
    // Built once per process.
    await request(app).get('/widget/demo-openseadragon.js').expect(200);
    assert.equal(built.filter((e) => e.type === 'widget-build').length, 1);
  });

  it('serves the demo page at /demo/ and redirects /demo', async () => {
    const page = await request(app).get('/demo/');
    assert.equal(page.status, 200);
    assert.match(page.headers['content-type'] ?? '', /html/);
    assert.match(page.text, /<reprise-search/);
    assert.match(page.text, /\/widget\/demo-openseadragon\.js/);
    await request(app).get('/demo/openseadragon.html').expect(200);
    const redirect = await request(app).get('/demo');
    assert.equal(redirect.status, 301);
    assert.equal(redirect.headers.location, '/demo/');
  });

  it('serves OpenSeadragon and its button images, and not the TypeScript sources', async () => {
    const osd = await request(app).get('/widget/openseadragon/openseadragon.js');
    assert.equal(osd.status, 200);
    assert.match(osd.text, /OpenSeadragon/);
    await request(app).get('/widget/openseadragon/images/zoomin_rest.png').expect(200);
    assert.equal((await request(app).get('/demo/openseadragon.ts')).status, 404);
    assert.equal((await request(app).get('/widget/missing.js')).status, 404);
  });
});
