import assert from 'node:assert/strict';
import { requireFixtures } from '../support/fixtures.ts';
import { createSearchFixture, type SearchFixture } from '../support/search-fixture.ts';
import { startServe } from '../support/serve-process.ts';

describe('reprise serve (command line)', function () {
  requireFixtures(this);
  this.timeout(120_000);
  let fixture: SearchFixture;

  before(async () => {
    fixture = await createSearchFixture();
    // The child opens the same embedded store: release this process's handle first.
    await fixture.store.close();
  });
  after(async () => {
    await fixture?.encoders.close();
    await fixture?.inst.close();
  });

  it('serves the harvested index over HTTP and stops cleanly on SIGTERM', async () => {
    const server = await startServe({
      REPRISE_DATA_DIR: fixture.dataDir,
      REPRISE_MODELS__PATH: fixture.config.models.path!,
      REPRISE_MODELS__THREADS: '1',
    });
    const { api } = server;

    const stats = (await (await fetch(`${api}/stats`)).json()) as { items: number };
    assert.equal(stats.items, fixture.inst.manifests.reduce((n, m) => n + m.canvases.length, 0));
    const search = await fetch(`${api}/search?q=${encodeURIComponent('a street in the rain')}&limit=3`);
    assert.equal(search.status, 200);
    assert.equal(((await search.json()) as { hits: unknown[] }).hits.length, 3);
    const health = await fetch(`${api}/health`);
    assert.equal(health.status, 200);

    assert.equal(await server.stop(), 0, server.stderr());
  });
});
