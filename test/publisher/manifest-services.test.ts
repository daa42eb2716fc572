import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express from 'express';
import { startPublisher } from '../../cli/commands/publish.ts';
import { contentSearchServiceFor } from '../../plugin/content-search/index.ts';
import { createImageServer } from '../../publisher/index.ts';
import { request } from '../plugin/supertest.ts';
import { requireFixtures } from '../support/fixtures.ts';
import { makeArchive, type Archive } from './archive.ts';

const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/reprise.js');

/** The service blocks a manifest lists: what viewers look at to offer "search within". */
describe('publisher: manifests list the IIIF Content Search services they are given', function () {
  requireFixtures(this);
  this.timeout(60_000);
  let archive: Archive;

  before(() => {
    archive = makeArchive();
  });
  after(() => archive?.remove());

  it('adds manifestServices(manifest id, base) to folder and image manifests, and nothing to collections', async () => {
    const calls: Array<[string, string]> = [];
    const app = express().use(
      createImageServer({
        dir: archive.dir,
        baseUrl: 'https://images.example.org',
        manifestServices: (id, base) => {
          calls.push([id, base]);
          return Object.values(contentSearchServiceFor(id, 'https://search.example.org/api'));
        },
      }),
    );
    const manifest = (await request(app).get('/iiif/manifest/letters.json').expect(200)).body;
    assert.deepEqual(manifest.service, Object.values(contentSearchServiceFor('https://images.example.org/iiif/manifest/letters.json', 'https://search.example.org/api')));
    assert.deepEqual(calls[0], ['https://images.example.org/iiif/manifest/letters.json', 'https://images.example.org']);
    const one = (await request(app).get(`/iiif/image-manifest/${encodeURIComponent('photos/coffee.png')}.json`).expect(200)).body;
    assert.equal(one.service[0]['@id'], contentSearchServiceFor(one.id, 'https://search.example.org/api').v1['@id']);
    const collection = (await request(app).get('/iiif/collection.json').expect(200)).body;
    assert.equal(collection.service, undefined);

    // Without the option, manifests list no service.
    const plain = express().use(createImageServer({ dir: archive.dir }));
    assert.equal((await request(plain).get('/iiif/manifest/letters.json').expect(200)).body.service, undefined);
  });

  it('reprise publish --search-api URL: every manifest advertises that API’s Content Search, in 1.0 and 2.0', async () => {
    const running = await startPublisher(archive.dir, { host: '127.0.0.1', port: 0, searchApi: 'https://search.example.org/api' });
    try {
      const manifest = (await (await fetch(`${running.url}/iiif/manifest.json`)).json()) as { id: string; service: Array<Record<string, unknown>> };
      assert.deepEqual(
        manifest.service.map((s) => [s['@type'] ?? s.type, s.profile]),
        [
          ['SearchService1', 'http://iiif.io/api/search/1/search'],
          ['SearchService2', 'http://iiif.io/api/search/2/search'],
        ],
      );
      assert.equal(manifest.service[0]!['@id'], contentSearchServiceFor(manifest.id, 'https://search.example.org/api').v1['@id']);
    } finally {
      await running.close();
    }
    const bad = spawnSync(process.execPath, [CLI, 'publish', archive.dir, '--port', '0', '--search-api', 'search.example.org'], { encoding: 'utf8', timeout: 60_000 });
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /--search-api "search.example.org" is not an http\(s\) URL/);
  });
});
