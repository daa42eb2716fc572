import type { Browser } from 'playwright-core';
import { createSearchFixture, type SearchFixture } from '../../support/search-fixture.ts';
import { launchChromium } from './browser.ts';
import { startServe, type ServeProcess } from './serve-process.ts';

export interface DemoServer {
  fixture: SearchFixture;
  server: ServeProcess;
  browser: Browser;
  /** Closes the browser, the server and the fixture; the server's exit code (0 when it stopped cleanly). */
  close(): Promise<number | null>;
}

/**
 * What the browser tests of the demo pages share: a harvested fixture collection, `reprise serve`
 * on it in a child process (tiny generated model) and one Chromium.
 */
export async function startDemoServer(): Promise<DemoServer> {
  const fixture = await createSearchFixture();
  // The child opens the same embedded store: release this process's handle first.
  await fixture.store.close();
  const server = await startServe({
    REPRISE_DATA_DIR: fixture.dataDir,
    REPRISE_MODELS__PATH: fixture.config.models.path!,
    REPRISE_MODELS__THREADS: '1',
    // Region queries fetch the box from the loopback institution's image server.
    REPRISE_HARVEST__HTTP__ALLOW_PRIVATE: '127.0.0.1',
  });
  const browser = await launchChromium();
  return {
    fixture,
    server,
    browser,
    async close() {
      await browser.close();
      const code = await server.stop();
      await fixture.encoders.close();
      await fixture.inst.close();
      return code;
    },
  };
}
