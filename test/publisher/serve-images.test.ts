import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../config/index.ts';
import { startServer, type RunningServer } from '../../cli/commands/serve.ts';
import { requireFixtures } from '../support/fixtures.ts';
import { makeArchive, type Archive } from './archive.ts';

/** The `id` of an info.json fetched with the Host header given (fetch cannot set Host). */
function infoIdWithHost(url: string, host: string): Promise<string> {
  return new Promise((resolve, reject) => {
    httpGet(url, { headers: { Host: host } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => {
        try {
          resolve((JSON.parse(body) as { id: string }).id);
        } catch {
          reject(new Error(`${res.statusCode}: ${body}`));
        }
      });
    }).on('error', reject);
  });
}

/** `reprise serve --images` / `reprise start --images`: the publisher inside the search server takes its base from publish.*. */
describe('publisher mounted by startServer (serve/start --images): publish.baseUrl and publish.allowedHosts', function () {
  requireFixtures(this);
  this.timeout(120_000);
  let archive: Archive;
  let dataDir: string;

  before(() => {
    archive = makeArchive();
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'reprise-serve-images-'));
  });
  after(() => {
    archive?.remove();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  async function serving(publish: Record<string, unknown>, check: (running: RunningServer) => Promise<void>): Promise<void> {
    const overrides: Record<string, unknown> = { dataDir, 'api.port': 0, 'log.level': 'silent' };
    for (const [key, value] of Object.entries(publish)) overrides[`publish.${key}`] = value;
    const running = await startServer(loadConfig({ env: {}, overrides }), { images: archive.dir, allowEmptyIndex: true });
    try {
      await check(running);
    } finally {
      await running.close();
    }
  }

  it("without publish.baseUrl, ids name the server's own address whatever Host a client sends, or a Host that publish.allowedHosts lists", async () => {
    await serving({ allowedHosts: ['search.example.org'] }, async (running) => {
      const info = `${running.url}/iiif/3/chelsea.png/info.json`;
      assert.equal(await infoIdWithHost(info, 'attacker.example'), `${running.url}/iiif/3/chelsea.png`);
      assert.equal(await infoIdWithHost(info, 'search.example.org'), 'http://search.example.org/iiif/3/chelsea.png');
    });
  });

  it('publish.baseUrl starts every id', async () => {
    await serving({ baseUrl: 'https://images.example.org/archive' }, async (running) => {
      assert.equal(await infoIdWithHost(`${running.url}/iiif/3/chelsea.png/info.json`, 'attacker.example'), 'https://images.example.org/archive/iiif/3/chelsea.png');
    });
  });

  it('publish.allowedHosts entries that are not host or host:port are a configuration error, before anything starts', () => {
    assert.throws(() => loadConfig({ env: { REPRISE_PUBLISH__ALLOWED_HOSTS: 'images.example.org,https://x.example' } }), /publish\.allowedHosts\.1.*a host name or host:port/);
    assert.deepEqual(loadConfig({ env: { REPRISE_PUBLISH__ALLOWED_HOSTS: 'images.example.org, 10.0.0.5:8182' } }).publish.allowedHosts, ['images.example.org', '10.0.0.5:8182']);
  });
});
