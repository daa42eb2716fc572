/**
 * The demo pages in the states a patron may find them in besides a ready collection, against real
 * servers in child processes and Debian's Chromium:
 *
 * - without a model (`reprise start --images` where no model is installed: items stored without
 *   vectors): the search box searches the descriptions (semanticRatio=0) instead of failing, Similar
 *   is not offered, and no page shows an operator's instructions;
 * - empty, then while a harvest runs (`reprise serve` with the admin API, harvesting the loopback
 *   institution, whose image server is held back): the portal says so in a patron's words, counts
 *   the images as they arrive and refreshes its grid by itself.
 *
 * Screenshots of each state at 1400 and 390 px go to test-output/widget/.
 */
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { requireFixtures } from '../support/fixtures.ts';
import { photographs, tempDataDir } from '../support/harvest-harness.ts';
import { createInstitution } from '../support/institution/index.ts';
import type { FaultHandle, Institution } from '../support/institution/types.ts';
import { tinyModel } from '../support/tiny-model.ts';
import { seriousViolations } from './support/axe.ts';
import { chromiumForSuite, pagePerTest, recordedEvents, recordedFetches, requireChromium } from './support/browser.ts';
import { startServe, type ServeProcess } from '../support/serve-process.ts';
import { shotsAtBothWidths } from './support/shots.ts';
import { photoFolder, startImages, type StartedImages } from './support/start-images.ts';

/** What only the people running the server should read. */
const OPERATOR_WORDS = /npx|reprise models|models\.path|restart the server|semanticRatio|harvest again|\bmodel\b/i;

const settled = (page: Page) =>
  page.waitForFunction(`(() => { const r = document.querySelector('reprise-search').shadowRoot; return !r.querySelector('.spinner') && !r.querySelector('ul[aria-busy=true]'); })()`);

/** Everything a reader sees on the page, shadow roots included. */
const VISIBLE_TEXT = `(() => {
  const out = [];
  const walk = (root) => {
    for (const el of root.querySelectorAll('*')) {
      if (el.shadowRoot) walk(el.shadowRoot);
    }
    out.push(root.innerText ?? [...root.children].map((c) => c.innerText ?? '').join(' '));
  };
  walk(document.body);
  return out.join(' ');
})()`;

async function axeProblems(page: Page, what: string): Promise<string[]> {
  return (await seriousViolations(page)).map((v) => `${what}: ${v.id} [${v.impact}] ${v.help}: ${v.targets.join(' ')}`);
}

describe('demo pages in other states (Chromium)', function () {
  requireFixtures(this);
  requireChromium(this);
  this.timeout(240_000);

  let browser: Browser;
  let page: Page;
  chromiumForSuite(this, (b) => (browser = b));
  pagePerTest(this, () => browser, (p) => (page = p));

  describe('without a model (reprise start --images, no model installed)', () => {
    let server: StartedImages;
    let labels: string[];

    before(async () => {
      server = await startImages(photoFolder([...photographs('fsa-owi', 3), ...photographs('documerica', 3)]), {});
      const stats = (await (await fetch(`${server.url}/api/stats`)).json()) as { items: number; vectors: number; model: { loaded: boolean } };
      assert.equal(stats.model.loaded, false, 'no model on this server');
      assert.equal(stats.items, 6);
      assert.equal(stats.vectors, 0);
      const items = (await (await fetch(`${server.url}/api/items?limit=10`)).json()) as { hits: Array<{ canvas: { label?: string } }> };
      labels = items.hits.map((h) => h.canvas.label ?? '');
    });
    after(async () => {
      if (server) assert.equal(await server.stop(), 0, server.stderr());
    });

    /** A word of one label, which keyword search finds. */
    const wordOfALabel = () => labels.map((l) => /[A-Za-z]{3,}/.exec(l.replace(/\.(jpe?g|png)$/i, ''))?.[0]).find(Boolean)!;

    it('portal: the search box searches the descriptions, no Similar, no operator instructions', async () => {
      await page.goto(`${server.url}/demo/`);
      await page.locator('reprise-search reprise-hit').first().waitFor({ timeout: 30_000 });
      await settled(page);
      await shotsAtBothWidths(page, 'portal-no-model-gallery');
      const word = wordOfALabel();
      await page.locator('reprise-search input[type=search]').fill(word);
      await page.locator('reprise-search input[type=search]').press('Enter');
      await page.waitForFunction(`location.search.includes('q=')`);
      await settled(page);
      const searches = (await recordedFetches(page)).filter((f) => new URL(f.url).pathname === '/api/search');
      assert.ok(searches.length > 0 && searches.every((f) => new URL(f.url).searchParams.get('semanticRatio') === '0'), `keyword search: ${searches.map((f) => f.url).join(', ')}`);
      assert.equal(await page.locator('reprise-search [part=error]').count(), 0, 'no error');
      assert.ok((await page.locator('reprise-search reprise-hit').count()) > 0, `"${word}" is found in the descriptions`);
      assert.match((await page.locator('reprise-search .keyword-only').textContent()) ?? '', /Searching the descriptions/);
      assert.equal(await page.locator('reprise-search [part=find-similar]').count(), 0, 'Similar is not offered');
      assert.equal((await recordedEvents(page)).filter((e) => e.type === 'reprise-error').length, 0);
      await shotsAtBothWidths(page, 'portal-no-model-search');

      // An opened item: no "similar items" beside it.
      await page.locator('reprise-search reprise-hit').first().locator('[part=open]').click();
      await page.waitForFunction(`!document.querySelector('#viewer-section').hidden`);
      assert.equal(await page.locator('reprise-similar').isVisible(), false);
      await shotsAtBothWidths(page, 'portal-no-model-item', () => page.waitForTimeout(600));
      assert.doesNotMatch((await page.evaluate(VISIBLE_TEXT)) as string, OPERATOR_WORDS);
    });

    it('Mirador and Universal Viewer pages: text search looks in the descriptions; what needs a model is not offered', async () => {
      // Mirador: the panel's search box.
      await page.goto(`${server.url}/demo/mirador.html`);
      const input = page.locator('reprise-search input[type=search]');
      await input.waitFor({ timeout: 40_000 });
      await input.fill(wordOfALabel());
      await input.press('Enter');
      await page.locator('reprise-search reprise-hit').first().waitFor({ timeout: 20_000 });
      assert.equal(await page.locator('reprise-search [part=error]').count(), 0, 'no error: the 503 for want of a model turns into a keyword search');
      const mirador = (await recordedFetches(page)).filter((f) => new URL(f.url).pathname === '/api/search').map((f) => new URL(f.url).searchParams.get('semanticRatio'));
      assert.equal(mirador.at(-1), '0');
      // Asked of /stats: no Similar tab, no searching the view or a drawn box; Reprints stays.
      assert.deepEqual((await page.locator('.reprise-tabs [role=tab]').allTextContents()).map((t) => t.trim()), ['Search', 'Reprints']);
      assert.equal(await page.locator('.reprise-search-view, .reprise-draw-region').count(), 0);
      await shotsAtBothWidths(page, 'mirador-no-model');
      assert.doesNotMatch((await page.evaluate(VISIBLE_TEXT)) as string, OPERATOR_WORDS);

      // Universal Viewer: the search beside it.
      await page.goto(`${server.url}/demo/uv.html`);
      await page.locator('reprise-search reprise-hit').first().waitFor({ timeout: 40_000 });
      await page.locator('reprise-search input[type=search]').fill(wordOfALabel());
      await page.locator('reprise-search input[type=search]').press('Enter');
      await page.waitForFunction(`[...window.__fetches].some((f) => f.url.includes('/api/search?') && f.url.includes('semanticRatio=0'))`, undefined, { timeout: 20_000 });
      await settled(page);
      assert.equal(await page.locator('reprise-search [part=error]').count(), 0);
      // Beside the viewer: reprints only, no "find images like this view", and no error.
      await page.locator('reprise-similar section.reprints').waitFor({ timeout: 20_000 });
      assert.equal(await page.locator('reprise-similar section.similar').count(), 0);
      assert.equal(await page.locator('reprise-similar [part=error]').count(), 0);
      assert.equal(await page.locator('#search-view').isVisible(), false);
      await page.waitForFunction(`(window.uv?.assignedContentHandler?.extension?.centerPanel?.viewer?.world?.getItemCount() ?? 0) > 0`, undefined, { timeout: 30_000 });
      await shotsAtBothWidths(page, 'uv-no-model', () => page.waitForTimeout(600));
      assert.doesNotMatch((await page.evaluate(VISIBLE_TEXT)) as string, OPERATOR_WORDS);
    });

    it('has no serious or critical accessibility violation without a model, in English and French (axe-core)', async () => {
      const problems: string[] = [];
      for (const lang of ['en', 'fr']) {
        await page.goto(`${server.url}/demo/?lang=${lang}&q=${encodeURIComponent(wordOfALabel())}`);
        await page.locator('reprise-search reprise-hit').first().waitFor({ timeout: 30_000 });
        await settled(page);
        problems.push(...(await axeProblems(page, `portal (${lang})`)));
      }
      assert.deepEqual(problems, []);
    });
  });

  describe('empty, then while a harvest runs (reprise serve with the admin API)', () => {
    const TOKEN = 'portal-states-admin-token';
    let inst: Institution;
    let server: ServeProcess;
    let photos: string[];

    before(async () => {
      photos = [...photographs('fsa-owi', 4), ...photographs('documerica', 4)];
      inst = await createInstitution({ images: photos, imagesPerManifest: 2 });
      server = await startServe({
        REPRISE_DATA_DIR: tempDataDir('reprise-portal-states-'),
        REPRISE_MODELS__PATH: await tinyModel('huggingface'),
        REPRISE_MODELS__THREADS: '1',
        REPRISE_API__ADMIN_TOKEN: TOKEN,
        REPRISE_HARVEST__HTTP__ALLOW_PRIVATE: '127.0.0.1',
        // A held-back request gives up after 4 s and is asked for again: held images come soon after
        // they are let go, and the manifest held for good keeps the harvest running (11 attempts and
        // their back-off: 45 s at least) while the test watches the page.
        REPRISE_HARVEST__HTTP__TOTAL_TIMEOUT_MS: '4000',
        REPRISE_HARVEST__HTTP__RETRIES: '10',
      });
    });
    after(async () => {
      // The institution first: it ends the requests it holds, so the harvest can finish and the server stop.
      await inst?.close();
      if (server) assert.equal(await server.stop(), 0, server.stderr());
    });

    const status = async () => ((await page.locator('#collection-status').textContent()) ?? '').trim();

    it('says the collection is empty, then that it is being prepared, then counts the images as they arrive and refreshes the grid', async () => {
      await page.goto(`${server.url}/demo/`);
      await page.waitForFunction(`document.getElementById('collection-status').textContent.trim() !== ''`, undefined, { timeout: 20_000 });
      assert.equal(await status(), 'There are no images in this collection yet. Please come back later.');
      await shotsAtBothWidths(page, 'portal-empty');
      const problems = await axeProblems(page, 'empty');

      // Every image held back, and one manifest's for good: nothing is indexed for a while, and the harvest runs on.
      // Image API, level-0 and plain files alike: the institution serves images all three ways.
      const allImages: FaultHandle = inst.faults.add({ match: /^\/(iiif|level0|files)\//, kind: 'hang', times: Infinity });
      const last = inst.manifests.at(-1)!;
      inst.faults.add({ match: new URL(last.url).pathname, kind: 'hang', times: Infinity });
      const started = await fetch(`${server.api}/admin/harvests`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ urls: [inst.rootCollectionUrl] }),
      });
      assert.equal(started.status, 202, await started.text());
      await page.waitForFunction(`document.getElementById('collection-status').textContent.includes('being prepared')`, undefined, { timeout: 20_000 });
      assert.equal(await status(), 'The collection is being prepared: images will appear here in a moment.');
      assert.equal(await page.locator('reprise-search reprise-hit').count(), 0);
      await shotsAtBothWidths(page, 'portal-harvesting-start');
      problems.push(...(await axeProblems(page, 'harvest starting')));

      // The images come: the count goes up and the grid fills without a reload.
      allImages.remove();
      // The image requests already held keep their slots (4 a host) until their 4-s timeout ends
      // them; the waiting images then go through (a bound of 90 s for a loaded machine).
      await page.waitForFunction(`/: [1-9]\\d* so far/.test(document.getElementById('collection-status').textContent)`, undefined, { timeout: 90_000 });
      assert.match(await status(), /^Images are being added to the collection: \d+ so far\. The list updates by itself\.$/);
      await page.locator('reprise-search reprise-hit').first().waitFor({ timeout: 20_000 });
      const stats = (await (await fetch(`${server.api}/stats`)).json()) as { items: number; harvest?: { running: boolean } };
      assert.equal(stats.harvest?.running, true, 'the harvest still runs (one manifest held back)');
      await settled(page);
      await shotsAtBothWidths(page, 'portal-harvesting');
      problems.push(...(await axeProblems(page, 'harvesting')));
      assert.doesNotMatch((await page.evaluate(VISIBLE_TEXT)) as string, OPERATOR_WORDS);

      // In French too.
      await page.locator('#lang').selectOption('fr');
      await page.waitForFunction(`document.getElementById('collection-status').textContent.includes('pour l’instant')`);
      assert.match(await status(), /^Des images sont en cours d’ajout : \d+ pour l’instant\. La liste se met à jour d’elle-même\.$/);
      await shotsAtBothWidths(page, 'portal-harvesting-french');
      problems.push(...(await axeProblems(page, 'harvesting (fr)')));
      assert.deepEqual(problems, []);
    });
  });
});
