/** The shared store behaviour, run by the embedded store in a temporary folder. */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { storeSchema } from '../../config/schema.ts';
import { EmbeddedStore } from '../../store/embedded/embedded-store.ts';
import { runStoreSuite } from './store-suite.ts';

describe('embedded store', function () {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'reprise-embedded-suite-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  runStoreSuite('embedded', {
    create: async (index) => new EmbeddedStore({ dir, index, ...storeSchema.parse({}).embedded }),
    reportsRegions: true,
  });
});
