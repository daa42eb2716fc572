import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { fixture as fixturePath } from '../../support/fixtures.ts';
import { photographs, tempDataDir } from '../../support/harvest-harness.ts';
import { createSearchFixture, type SearchFixture } from '../../support/search-fixture.ts';
import { launchChromium, pagePerTest, type PageOptions } from './browser.ts';
import { startServe, type ServeProcess } from '../../support/serve-process.ts';

export interface DemoServer {
  fixture: SearchFixture;
  server: ServeProcess;
  browser: Browser;
  /** Closes the browser, the server and the fixture; the server's exit code (0 when it stopped cleanly). */
  close(): Promise<number | null>;
}

/** Two printings of one photograph (fixtures/images/genthe-loc), found by reprint detection. */
export const REPRINT_PAIR = ['kids.jpg', '01-children-walking.jpg'] as const;

/**
 * The fixture photographs plus a real reprint pair, copied at 640 px (the test institution's
 * image server refuses the full-size Genthe scans), for a collection whose reprints can be found.
 */
async function withReprintPair(): Promise<string[]> {
  const dir = path.join(tempDataDir('reprise-demo-photos-'), 'photos');
  mkdirSync(dir, { recursive: true });
  const pair = await Promise.all(
    REPRINT_PAIR.map(async (name) => {
      const out = path.join(dir, name);
      await sharp(fixturePath('images', 'genthe-loc', name)).resize(640, 640, { fit: 'inside', withoutEnlargement: true }).jpeg({ quality: 92 }).toFile(out);
      return out;
    }),
  );
  return [...photographs('fsa-owi', 6), ...photographs('documerica', 6), ...pair];
}

/**
 * What the browser tests of the demo pages share: a harvested fixture collection, `reprise serve`
 * on it in a child process (tiny generated model) and one Chromium. With `reprints`, the
 * collection holds a real reprint pair (REPRINT_PAIR) and its local features, so POST /reprints
 * answers from the real reprint index.
 */
export async function startDemoServer(opts: { reprints?: boolean } = {}): Promise<DemoServer> {
  const fixture = await createSearchFixture(opts.reprints ? { images: await withReprintPair(), reprints: true } : {});
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

export interface DemoSuiteBinding {
  /** The server, its fixture and the browser, once started: before the suite's own before() hooks. */
  started(demo: DemoServer): void;
  /** Each test's fresh page: before the suite's own beforeEach() hooks. */
  page(page: Page): void;
}

/**
 * Registers on a describe() the hooks every browser test of the demo repeats: startDemoServer()
 * before its tests (after the hooks registered before this call: call it after requireChromium and
 * this.timeout()), closed after them, the server having to stop cleanly; and a page per test
 * (pagePerTest, `viewport` and `record` as there).
 */
export function demoServerForSuite(suite: Mocha.Suite, options: { reprints?: boolean } & PageOptions, bind: DemoSuiteBinding): void {
  let demo: DemoServer | undefined;
  suite.beforeAll(async () => {
    demo = await startDemoServer({ reprints: options.reprints });
    bind.started(demo);
  });
  suite.afterAll(async () => {
    const code = await demo?.close();
    assert.equal(code ?? 0, 0, demo?.server.stderr());
  });
  pagePerTest(suite, () => demo!.browser, bind.page, options);
}

/** The collection's items (GET /items), and the two printings of REPRINT_PAIR among them, which the harvest must have found. */
export async function reprintPair<T extends { canvas: { label?: string } }>(server: ServeProcess): Promise<{ items: T[]; kids: T; walking: T }> {
  const items = ((await (await fetch(`${server.api}/items?limit=100`)).json()) as { hits: T[] }).hits;
  const kids = items.find((h) => h.canvas.label?.includes(REPRINT_PAIR[0]));
  const walking = items.find((h) => h.canvas.label?.includes(REPRINT_PAIR[1]));
  assert.ok(kids && walking, 'the reprint pair was harvested');
  return { items, kids, walking };
}
