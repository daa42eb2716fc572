import assert from 'node:assert/strict';
import { loadConfig } from '../../config/index.ts';
import { startServer, type RunningServer } from '../../cli/commands/serve.ts';
import { requireFixtures } from '../support/fixtures.ts';
import { createSearchFixture, type SearchFixture } from '../support/search-fixture.ts';

/** `reprise serve` behind a reverse proxy: api.trustProxy decides whose address the rate limit counts. */
describe('reprise serve behind a proxy (api.trustProxy)', function () {
  requireFixtures(this);
  this.timeout(120_000);
  let fixture: SearchFixture;

  before(async () => {
    fixture = await createSearchFixture();
    await fixture.store.close();
  });
  after(async () => {
    await fixture?.encoders.close();
    await fixture?.inst.close();
  });

  async function statusesFromThreeClients(trustProxy: number | undefined): Promise<number[]> {
    const config = loadConfig({
      env: {},
      overrides: {
        dataDir: fixture.dataDir,
        'models.path': fixture.config.models.path,
        'models.threads': 1,
        'api.port': 0,
        'api.rateLimitPerMinute': 2,
        'log.level': 'silent',
        ...(trustProxy === undefined ? {} : { 'api.trustProxy': trustProxy }),
      },
    });
    let running: RunningServer | undefined;
    try {
      running = await startServer(config);
      const statuses = [];
      for (const client of ['203.0.113.1', '203.0.113.2', '203.0.113.3']) {
        statuses.push((await fetch(`${running.url}/api/stats`, { headers: { 'x-forwarded-for': client } })).status);
      }
      return statuses;
    } finally {
      await running?.close();
    }
  }

  it('counts each forwarded client on its own when one proxy hop is trusted', async () => {
    assert.deepEqual(await statusesFromThreeClients(1), [200, 200, 200]);
  });

  it('ignores X-Forwarded-For by default (all requests come from the proxy)', async () => {
    assert.deepEqual(await statusesFromThreeClients(undefined), [200, 200, 429]);
  });
});
