/**
 * The shared store behaviour, run by the Meilisearch store on the in-repo fake, and on a live
 * Meilisearch when MEILI_URL (and MEILI_MASTER_KEY, when it has one) is set.
 */
import { MeilisearchStore } from '../../store/meilisearch/index.ts';
import { startMeiliFake, type MeiliFake } from '../support/meili-fake/index.ts';
import { runStoreSuite } from './store-suite.ts';
import { liveTarget } from '../support/meili-fake/live.ts';

const options = (url: string, apiKey?: string) => ({
  url,
  ...(apiKey ? { apiKey } : {}),
  timeoutMs: 10_000,
  batchSize: 500,
  taskTimeoutMs: 60_000,
});

describe('Meilisearch store on the in-repo fake', function () {
  let fake: MeiliFake;
  before(async () => {
    fake = await startMeiliFake({ masterKey: 'fake-master-key' });
  });
  after(async () => fake?.close());

  runStoreSuite('meilisearch (fake)', {
    create: async (index) => new MeilisearchStore(options(fake.url, 'fake-master-key'), index),
    reportsRegions: false,
  });
});

const live = liveTarget();
if (live) {
  describe('Meilisearch store on a live server (MEILI_URL)', function () {
    const created: string[] = [];
    after(async () => live.dropIndexes(created));
    runStoreSuite(`meilisearch (live ${live.url})`, {
      create: async (index) => {
        created.push(index);
        return new MeilisearchStore(options(live.url, live.apiKey), index);
      },
      reportsRegions: false,
    });
  });
} else {
  describe('Meilisearch store on a live server', function () {
    it('is skipped: set MEILI_URL (and MEILI_MASTER_KEY) to run the suite against a real Meilisearch 1.13+', function () {
      this.skip();
    });
  });
}
