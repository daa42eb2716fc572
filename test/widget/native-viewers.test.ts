/**
 * IIIF Content Search in viewers as they ship, with no Reprise plugin: `reprise start --images` (a
 * child process) publishes and harvests a folder of photographs; its manifest advertises the search
 * service; Mirador 4 (its own bundle and search panel) and Universal Viewer 4.4 (its own build) load
 * that manifest from a page on another origin, search through the service, list the hits, move to a
 * hit's canvas and highlight its region. Screenshots go to test-output/widget/native-*.png.
 *
 * Neither viewer reads Content Search 2.0 answers (Mirador 4 looks for the 1.0 profile only; UV 4.4
 * reads `resources`, a 1.0 member), so both are checked on 1.0; 2.0 is checked field by field in
 * test/plugin/content-search.test.ts.
 */
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { loadConfig } from '../../config/index.ts';
import { loadEncoders } from '../../models/index.ts';
import { manifestKey } from '../../plugin/content-search/index.ts';
import { openStore } from '../../store/index.ts';
import { requireFixtures } from '../support/fixtures.ts';
import { photographs } from '../support/harvest-harness.ts';
import { tinyModel } from '../support/tiny-model.ts';
import { seriousViolations } from './support/axe.ts';
import { chromiumForSuite, pagePerTest, requireChromium, screenshot } from './support/browser.ts';
import { shotsAtBothWidths } from './support/shots.ts';
import { photoFolder, startImages, type StartedImages } from './support/start-images.ts';

/** What the tests search for; one canvas gets a region that matches it exactly (see before()). */
const QUERY = 'a horse and cart';
/** Hits per page: fewer than the canvases, so that both viewers have to follow `next`. */
const PAGE_SIZE = 4;
/** The region given to REGION_CANVAS, as fractions of the canvas. */
const REGION = { x: 0.25, y: 0.3, w: 0.4, h: 0.35 };
const REGION_CANVAS = 2;

interface Canvas {
  id: string;
  width: number;
  height: number;
}

interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

describe('IIIF Content Search in unmodified Mirador 4 and Universal Viewer 4.4 (reprise start --images + Chromium)', function () {
  requireFixtures(this);
  requireChromium(this);
  this.timeout(240_000);

  let server: StartedImages;
  let browser: Browser;
  let page: Page;
  let manifestUrl: string;
  let manifest: { id: string; service: Array<Record<string, unknown>>; items: Canvas[] };
  let regionBox: Box;
  /** The viewer pages' origin: the same server by another name, so every IIIF request is cross-origin. */
  let portal: string;
  let foreign: string[];
  let pageErrors: string[];
  let searches: string[];

  chromiumForSuite(this, (b) => (browser = b));
  pagePerTest(this, () => browser, (p) => (page = p), { record: false });
  before(async () => {
    const photos = photoFolder([...photographs('fsa-owi', 3), ...photographs('documerica', 3)]);
    const modelPath = await tinyModel('huggingface');
    server = await startImages(photos, {
      REPRISE_MODELS__PATH: modelPath,
      REPRISE_MODELS__THREADS: '1',
      // The tiny generated model scores everything near 0: every canvas is a hit.
      REPRISE_API__CONTENT_SEARCH__MIN_SCORE: '-1',
      REPRISE_API__CONTENT_SEARCH__PAGE_SIZE: String(PAGE_SIZE),
    });
    manifestUrl = `${server.url}/iiif/manifest.json`;
    portal = server.url.replace('//127.0.0.1:', '//localhost:');
    manifest = (await (await fetch(manifestUrl)).json()) as typeof manifest;
    assert.equal(manifest.items.length, 6);

    // No harvest indexes regions of its own yet: give one canvas a region that matches QUERY
    // exactly, as a region-indexing stage would, through the same store (the server follows
    // writes made by other processes), so that the viewers have a region, not a whole canvas, to show.
    const config = loadConfig({ env: {}, overrides: { dataDir: server.dataDir, 'models.path': modelPath, 'models.threads': 1 } });
    const encoders = await loadEncoders(config.models, server.dataDir);
    const store = await openStore(config.store, server.dataDir, { modelId: encoders.config.modelId, dimensions: encoders.config.projectionDim });
    try {
      const canvas = manifest.items[REGION_CANVAS]!;
      regionBox = { x: Math.round(canvas.width * REGION.x), y: Math.round(canvas.height * REGION.y), w: Math.round(canvas.width * REGION.w), h: Math.round(canvas.height * REGION.h) };
      const items = (await store.keyword('', { filter: { manifest: manifest.id }, limit: 100 })).hits.map((h) => h.item);
      const item = items.find((i) => i.canvasId === canvas.id);
      assert.ok(item, `${canvas.id} is indexed`);
      const [whole] = await store.vectors([item.id]);
      const [query] = await encoders.text!.embed([QUERY]);
      await store.upsert([{ ...item, vector: whole!, regions: [{ box: regionBox, vector: query! }] }]);
    } finally {
      await store.close();
      await encoders.close();
    }
  });

  after(async () => {
    if (server) assert.equal(await server.stop(), 0, server.stderr());
  });

  beforeEach(async () => {
    foreign = [];
    pageErrors = [];
    searches = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));
    // Everything comes from this server: a request elsewhere (a CDN) is recorded and refused.
    const local = new Set([new URL(server.url).host, new URL(portal).host]);
    await page.route('**/*', (route) => {
      const url = new URL(route.request().url());
      if (url.protocol === 'data:' || url.protocol === 'blob:' || local.has(url.host)) return route.continue();
      foreign.push(url.href);
      return route.abort();
    });
    page.on('request', (req) => {
      if (req.url().includes('/api/iiif/search/')) searches.push(req.url());
    });
  });

  const serviceOf = (version: 1 | 2) => `${server.url}/api/iiif/search/v${version}/${manifestKey(manifest.id)}`;

  it('publishes manifests that advertise SearchService1 and SearchService2, readable from any origin', async () => {
    const [one, two] = manifest.service;
    assert.deepEqual(
      { context: one!['@context'], id: one!['@id'], type: one!['@type'], profile: one!.profile },
      { context: 'http://iiif.io/api/search/1/context.json', id: serviceOf(1), type: 'SearchService1', profile: 'http://iiif.io/api/search/1/search' },
    );
    assert.deepEqual({ id: two!.id, type: two!.type, profile: two!.profile }, { id: serviceOf(2), type: 'SearchService2', profile: 'http://iiif.io/api/search/2/search' });
    const res = await fetch(`${serviceOf(1)}?q=${encodeURIComponent(QUERY)}`, { headers: { Origin: portal } });
    assert.equal(res.status, 200);
    assert.ok(res.headers.get('access-control-allow-origin'), 'readable cross-origin with the default configuration');
    const body = (await res.json()) as { within: { total: number }; resources: Array<{ on: string }>; next?: string };
    assert.equal(body.within.total, 6);
    assert.equal(body.resources.length, PAGE_SIZE);
    assert.ok(body.next);
    assert.equal(body.resources[0]!.on, `${manifest.items[REGION_CANVAS]!.id}#xywh=${regionBox.x},${regionBox.y},${regionBox.w},${regionBox.h}`, 'the region matches best');
  });

  describe('Mirador 4, its own search panel', () => {
    const STATE = `(() => { const st = window.miradorInstance.store.getState(); const s = st.mirador ?? st;
      const [wid, w] = Object.entries(s.windows)[0];
      const search = Object.values(s.searches?.[wid] ?? {})[0];
      return { canvasId: w.canvasId, selected: search?.selectedContentSearchAnnotationIds ?? [],
        responses: Object.entries(search?.data ?? {}).map(([url, r]) => ({ url, total: r.json?.within?.total, resources: r.json?.resources?.length, error: r.error ? String(r.error) : undefined })) }; })()`;
    interface MiradorState {
      canvasId: string;
      selected: string[];
      responses: Array<{ url: string; total?: number; resources?: number; error?: string }>;
    }
    const state = () => page.evaluate(STATE) as Promise<MiradorState>;

    /** Painted pixels of the annotation overlays (the 2D canvases OpenSeadragon does not draw images on), as a box in page pixels. */
    const highlightBox = () =>
      page.evaluate(() => {
        let box: { x0: number; y0: number; x1: number; y1: number } | undefined;
        for (const canvas of document.querySelectorAll<HTMLCanvasElement>('.openseadragon-canvas canvas')) {
          let data: ImageData;
          try {
            const ctx = canvas.getContext('2d', { willReadFrequently: true });
            if (!ctx || !canvas.width || !canvas.height) continue;
            data = ctx.getImageData(0, 0, canvas.width, canvas.height);
          } catch {
            continue; // the image drawer's canvas: tainted by cross-origin tiles
          }
          const rect = canvas.getBoundingClientRect();
          const sx = rect.width / canvas.width;
          const sy = rect.height / canvas.height;
          for (let y = 0; y < canvas.height; y++) {
            for (let x = 0; x < canvas.width; x++) {
              if (data.data[(y * canvas.width + x) * 4 + 3]! === 0) continue;
              const px = rect.left + x * sx;
              const py = rect.top + y * sy;
              box = box ? { x0: Math.min(box.x0, px), y0: Math.min(box.y0, py), x1: Math.max(box.x1, px), y1: Math.max(box.y1, py) } : { x0: px, y0: py, x1: px, y1: py };
            }
          }
        }
        return box && { w: box.x1 - box.x0 + 1, h: box.y1 - box.y0 + 1 };
      });

    it('finds the hits through the manifest, pages with next, moves to a hit’s canvas and highlights its region (1.0)', async () => {
      await page.goto(`${portal}/demo/mirador-native.html?manifest=${encodeURIComponent(manifestUrl)}`);
      await page.getByRole('button', { name: 'Toggle sidebar' }).first().click();
      await page.locator('[role=tab][aria-label="Search"]').click({ timeout: 30_000 });
      const input = page.locator('input[id^="search-"]');
      await input.fill(QUERY);
      await input.press('Enter');
      // Each hit says how well it matches in words (as the widget's cards), never a raw score.
      const hits = page.locator('li, [role=button]').filter({ hasText: / match for / });
      await hits.first().waitFor({ timeout: 30_000 });
      await page.waitForFunction(`${STATE}.responses.every((r) => r.total !== undefined || r.error)`);
      let s = await state();
      assert.deepEqual(s.responses.map((r) => r.error), [undefined], 'the search answered (no CORS failure)');
      assert.equal(s.responses[0]!.total, 6);
      assert.equal(await hits.count(), PAGE_SIZE, 'the first page');
      assert.equal(await page.getByRole('button', { name: 'more...' }).count(), 0, 'each hit text is shown whole');
      assert.doesNotMatch((await hits.allTextContents()).join(' '), /similarity|-?\d\.\d{3}/, 'no raw score shown to patrons');
      assert.ok(searches.every((u) => u.startsWith(`${serviceOf(1)}?`)), `Mirador uses the 1.0 service: ${searches.join(', ')}`);
      await screenshot(page, 'native-mirador-results');

      // The rest through `next`: Mirador's "More results" button, with what remains counted from within.total.
      const more = page.getByRole('button', { name: /More results/ });
      assert.match((await more.textContent()) ?? '', /2 remaining/);
      await more.click();
      await page.waitForFunction(`${STATE}.responses.length === 2 && ${STATE}.responses.every((r) => r.resources !== undefined)`);
      assert.equal(await hits.count(), 6, 'every hit, over two pages');
      assert.equal(searches.length, 2);
      assert.match(searches[1]!, /[?&]page=2$/);

      // Mirador lists hits in canvas order; the region hit is on the third canvas.
      const regionCanvas = manifest.items[REGION_CANVAS]!;
      await hits.nth(REGION_CANVAS).click();
      await page.waitForFunction(`${STATE}.canvasId === ${JSON.stringify(regionCanvas.id)}`, undefined, { timeout: 20_000 });
      s = await state();
      assert.equal(s.selected.length, 1, 'the hit is selected');
      // The highlight Mirador draws has the region's shape, not the canvas's.
      await page.waitForFunction(() => document.querySelectorAll('.openseadragon-canvas canvas').length > 0);
      await page.waitForTimeout(1000);
      const box = await highlightBox();
      assert.ok(box, 'a highlight is drawn');
      const expected = regionBox.w / regionBox.h;
      assert.ok(Math.abs(box.w / box.h - expected) / expected < 0.1, `highlight ${box.w}×${box.h} has the region's proportions (${regionBox.w}×${regionBox.h})`);
      assert.ok(Math.abs(box.w / box.h - regionCanvas.width / regionCanvas.height) > 0.1, 'not the whole canvas');
      await screenshot(page, 'native-mirador-region');

      // A whole-canvas hit is highlighted too (the canvas with an xywh of all of it).
      const wholeCanvas = manifest.items[0]!;
      await hits.nth(0).click();
      await page.waitForFunction(`${STATE}.canvasId === ${JSON.stringify(wholeCanvas.id)}`, undefined, { timeout: 20_000 });
      await page.waitForTimeout(1000);
      const whole = await highlightBox();
      assert.ok(whole, 'a whole-canvas hit draws a highlight');
      const ratio = wholeCanvas.width / wholeCanvas.height;
      assert.ok(Math.abs(whole.w / whole.h - ratio) / ratio < 0.1, `highlight ${whole.w}×${whole.h} covers the ${wholeCanvas.width}×${wholeCanvas.height} canvas`);
      await screenshot(page, 'native-mirador-whole-canvas');

      assert.deepEqual(foreign, [], 'no request leaves this server');
      assert.deepEqual(pageErrors, []);
    });
  });

  describe('Universal Viewer 4.4, its own build', () => {
    /** UV's current image, 1-based, from its header ("Image N of 6"). */
    const IMAGE_NUMBER = '.headerPanel .centerOptions input.autocompleteText';
    const currentImage = async () => Number(await page.locator(IMAGE_NUMBER).inputValue());

    it('finds every hit through the manifest (following next), places markers, highlights the region and steps to the next result (1.0)', async () => {
      await page.goto(`${portal}/demo/uv-native.html?manifest=${encodeURIComponent(manifestUrl)}`);
      const input = page.locator('#searchWithinInput');
      await input.waitFor({ timeout: 60_000 });
      await input.click();
      await input.fill(QUERY);
      await input.press('Enter');
      // The pager appears once every page has been read (UV follows `next` until there is none).
      const pager = page.locator('.searchPager');
      await pager.waitFor({ state: 'visible', timeout: 30_000 });
      assert.equal(await pager.locator('.number').textContent(), '6', 'the results count covers both pages');
      assert.ok(QUERY.startsWith(((await pager.locator('.terms').textContent()) ?? '').replace(/…$/, '')), 'the terms searched for (UV shortens them)');
      assert.equal(searches.length, 2, `both pages: ${searches.join(', ')}`);
      assert.ok(searches.every((u) => u.startsWith(`${serviceOf(1)}?`)), 'UV uses the 1.0 service');
      assert.equal(await page.locator('.searchResultPlacemarker').count(), 6, 'one marker per canvas with a hit');

      // The first result is shown and highlighted: a whole-canvas hit, so the highlight has the canvas's proportions.
      const rect = page.locator('.annotationRect.current');
      await rect.waitFor({ state: 'visible', timeout: 20_000 });
      assert.equal(await currentImage(), 1);
      let box = (await rect.boundingBox())!;
      const first = manifest.items[0]!;
      assert.ok(Math.abs(box.width / box.height - first.width / first.height) < 0.05, `whole canvas highlighted: ${box.width}×${box.height}`);
      await screenshot(page, 'native-uv-results');

      // Next result, twice: the third canvas, its region highlighted.
      for (let n = 2; n <= REGION_CANVAS + 1; n++) {
        await page.locator('.nextResult').click();
        await page.waitForFunction(([selector, want]) => (document.querySelector(selector) as HTMLInputElement | null)?.value === want, [IMAGE_NUMBER, String(n)] as const, { timeout: 20_000 });
      }
      await page.waitForTimeout(1000);
      box = (await rect.boundingBox())!;
      const expected = regionBox.w / regionBox.h;
      assert.ok(Math.abs(box.width / box.height - expected) / expected < 0.05, `highlight ${box.width}×${box.height} has the region's proportions (${regionBox.w}×${regionBox.h})`);
      await screenshot(page, 'native-uv-region');

      assert.ok(await page.locator('.searchPager .previousResult').isEnabled());
      assert.deepEqual(foreign, [], 'no request leaves this server');
      assert.deepEqual(pageErrors, [], 'no script error (a bare canvas id made UV throw)');
    });
  });

  it('shows both pages in English and French, at 1400 and 390 px, with no serious or critical accessibility violation (axe-core)', async () => {
    const problems: string[] = [];
    const pages = [
      { name: 'mirador', path: 'mirador-native.html', ready: `window.miradorInstance && Object.values(window.miradorInstance.store.getState().viewers || {}).some((v) => v.zoom > 0)`, title: { en: 'Mirador 4, unmodified', fr: 'Mirador 4, tel quel' } },
      { name: 'uv', path: 'uv-native.html', ready: `document.querySelector('#uv .openseadragon-canvas canvas') !== null`, title: { en: 'Universal Viewer 4, unmodified', fr: 'Universal Viewer 4, tel quel' } },
    ];
    for (const { name, path, ready, title } of pages) {
      for (const lang of ['en', 'fr'] as const) {
        await page.goto(`${portal}/demo/${path}?manifest=${encodeURIComponent(manifestUrl)}&lang=${lang}`);
        await page.waitForFunction(ready, undefined, { timeout: 60_000 });
        assert.equal(await page.evaluate('document.documentElement.lang'), lang);
        assert.equal(await page.locator('#title').textContent(), title[lang]);
        if (name === 'mirador') {
          // The side bar (Mirador's own tabs) open, in the page's language.
          await page.getByRole('button', { name: lang === 'fr' ? 'Afficher le menu latéral' : 'Toggle sidebar' }).first().click();
          await page.locator('[role=tablist]').first().waitFor();
          // The pointer off the button: its tooltip (Mirador's, fading in) is not part of the page axe should judge.
          await page.mouse.move(0, 0);
          await page.locator('.MuiTooltip-popper').waitFor({ state: 'detached', timeout: 5_000 }).catch(() => {});
        } else {
          await page.locator('#uv', { hasText: lang === 'fr' ? 'Affichage en plein écran' : 'Full Screen' }).waitFor({ timeout: 20_000 });
        }
        for (const v of await seriousViolations(page)) problems.push(`${path} (${lang}): ${v.id} [${v.impact}] ${v.help}: ${v.targets.join(' ')}`);
        await shotsAtBothWidths(page, `native-${name}-page-${lang}`, () => page.waitForTimeout(800));
      }
    }
    assert.deepEqual(problems, []);
    assert.deepEqual(foreign, [], 'no request leaves this server');
  });
});
