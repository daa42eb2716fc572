/**
 * The Mirador 4 plugin as a portal meets it: `reprise serve` (a child process) on a harvested
 * fixture collection, its /demo/mirador.html page (Mirador with the plugin, bundled by
 * viewer-widget/build-mirador.ts on first request) in Debian's Chromium. One server and one
 * browser for the file; each test gets a fresh page. Screenshots go to test-output/widget/.
 */
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { requireFixtures } from '../support/fixtures.ts';
import type { SearchFixture } from '../support/search-fixture.ts';
import { RECORDER, recordedEvents, requireChromium, screenshot, type RecordedEvent } from './support/browser.ts';
import { startDemoServer, type DemoServer } from './support/demo-server.ts';
import type { ServeProcess } from './support/serve-process.ts';

interface HitJson {
  id: string;
  canvas: { id: string };
  manifest: { id: string; url: string };
  region?: { x: number; y: number; w: number; h: number };
}

interface WindowJson {
  id: string;
  manifestId: string;
  canvasId?: string;
  visibleCanvases?: string[];
}

interface RegionQueryJson {
  kind: string;
  canvas?: string;
  xywh?: string;
}

/** Mirador's windows, from the store of the viewer the demo page keeps in window.repriseViewer. */
const WINDOWS = `Object.values(window.repriseViewer.store.getState().windows).map((w) => ({ id: w.id, manifestId: w.manifestId, canvasId: w.canvasId, visibleCanvases: w.visibleCanvases }))`;

describe('Mirador 4 plugin (reprise serve + Chromium)', function () {
  requireFixtures(this);
  requireChromium(this);
  this.timeout(180_000);

  let fixture: SearchFixture;
  let server: ServeProcess;
  let demo: DemoServer;
  let browser: Browser;
  let page: Page;

  before(async function () {
    demo = await startDemoServer();
    ({ fixture, server, browser } = demo);
    const bundle = await fetch(`${server.url}/widget/reprise-mirador.js`);
    assert.equal(bundle.status, 200, `GET /widget/reprise-mirador.js: ${await bundle.text().catch(() => '')}`);
  });

  after(async () => {
    const code = await demo?.close();
    assert.equal(code ?? 0, 0, server?.stderr());
  });

  beforeEach(async () => {
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.addInitScript(RECORDER);
  });
  afterEach(async () => {
    await page?.close();
  });

  const windows = () => page.evaluate(WINDOWS) as Promise<WindowJson[]>;

  /** The demo page, once Mirador shows the first canvas and has fitted it in view. */
  async function openMirador(query = '') {
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(err.message));
    await page.goto(`${server.url}/demo/mirador.html${query}`);
    await page
      .waitForFunction(
        `window.repriseViewer && (() => { const s = window.repriseViewer.store.getState(); const w = Object.values(s.windows)[0];
          return w && w.canvasId && s.viewers[w.id] && s.viewers[w.id].zoom > 0; })()`,
        undefined,
        { timeout: 40_000 },
      )
      .catch((err: Error) => {
        throw new Error(`Mirador did not show a canvas: ${err.message}; page errors: ${problems.join('; ') || 'none'}`);
      });
  }

  const regionResults = async (): Promise<RecordedEvent[]> =>
    (await recordedEvents(page)).filter((e) => e.type === 'reprise-results' && (e.detail.query as RegionQueryJson).kind === 'region');

  async function canvasSize(manifestUrl: string, canvasId: string): Promise<{ width: number; height: number }> {
    const json = (await (await fetch(manifestUrl)).json()) as {
      items?: Array<{ id: string; width: number; height: number }>;
      sequences?: Array<{ canvases: Array<{ '@id': string; width: number; height: number }> }>;
    };
    const canvases = json.items?.map((c) => ({ id: c.id, width: c.width, height: c.height }))
      ?? json.sequences![0]!.canvases.map((c) => ({ id: c['@id'], width: c.width, height: c.height }));
    const canvas = canvases.find((c) => c.id === canvasId);
    assert.ok(canvas, `canvas ${canvasId} is in ${manifestUrl}`);
    return canvas;
  }

  /** Opens the window's side bar (closed with ?panel=closed) and its Reprise tab. */
  async function openPanel(label: string) {
    assert.equal(await page.locator('reprise-search').count(), 0, 'the panel starts closed');
    await page.locator('button[aria-label="Toggle sidebar"], button[aria-label="Afficher le menu latéral"]').first().click();
    await page.locator(`[role=tab][aria-label="${label}"]`).click();
    await page.locator('reprise-search').waitFor();
  }

  it('opens the panel from the side-bar tab, searches by text and opens hits on their canvas', async () => {
    await openMirador('?panel=closed');
    await openPanel('Visual search');
    const input = page.locator('reprise-search input[type=search]');
    await input.fill('a street in the rain');
    await input.press('Enter');
    await page.locator('reprise-search reprise-hit').first().waitFor();
    const results = (await recordedEvents(page)).filter((e) => e.type === 'reprise-results');
    assert.equal(results.length, 1);
    const hits = results[0]!.detail.hits as HitJson[];
    assert.ok(hits.length > 2, `hits: ${hits.length}`);
    await screenshot(page, 'mirador-text-search');

    const [first] = await windows();
    // A hit of the manifest on show, on its other canvas: the same window moves to it.
    const sameManifest = hits.findIndex((h) => h.manifest.url === first!.manifestId && h.canvas.id !== first!.canvasId);
    assert.ok(sameManifest >= 0, 'the results include the other canvas of the manifest on show');
    await page.locator('reprise-search reprise-hit').nth(sameManifest).locator('.open').click();
    await page.waitForFunction(`(${WINDOWS}).some((w) => w.canvasId === ${JSON.stringify(hits[sameManifest]!.canvas.id)})`);
    let now = await windows();
    assert.equal(now.length, 1, 'no new window for a canvas of the manifest on show');
    assert.deepEqual(now[0]!.visibleCanvases, [hits[sameManifest]!.canvas.id]);

    // A hit of another manifest opens in a window of its own, on the hit's canvas.
    const other = hits.findIndex((h) => h.manifest.url !== first!.manifestId);
    await page.locator('reprise-search reprise-hit').nth(other).locator('.open').click();
    await page.waitForFunction(`(${WINDOWS}).length === 2`);
    now = await windows();
    const opened = now.find((w) => w.id !== first!.id)!;
    assert.equal(opened.manifestId, hits[other]!.manifest.url);
    await page.waitForFunction(
      `(${WINDOWS}).some((w) => (w.visibleCanvases || []).includes(${JSON.stringify(hits[other]!.canvas.id)}))`,
      undefined,
      { timeout: 20_000 },
    );
    // The new window's image is on screen: its OpenSeadragon canvas has been drawn.
    await page.locator('.mirador-osd-container').nth(1).waitFor();
    await page.waitForTimeout(500);
    await screenshot(page, 'mirador-hit-opened');
  });

  it('searches with a box drawn over the image, outlined while its results show', async () => {
    await openMirador();
    const [win] = await windows();
    const size = await canvasSize(win!.manifestId, win!.canvasId!);
    await page.locator('.reprise-draw-region').click();
    const surface = page.locator('.reprise-draw-surface');
    await surface.waitFor();
    const osd = (await page.locator('.mirador-osd-container').first().boundingBox())!;
    const from = { x: osd.x + osd.width * 0.4, y: osd.y + osd.height * 0.35 };
    const to = { x: osd.x + osd.width * 0.6, y: osd.y + osd.height * 0.55 };
    await page.mouse.move(from.x, from.y);
    await page.mouse.down();
    await page.mouse.move(to.x, to.y, { steps: 6 });
    await page.mouse.up();
    await page.locator('reprise-search reprise-hit').first().waitFor();
    await page.waitForFunction(`document.querySelector('reprise-search').shadowRoot.querySelector('ul[aria-busy=false]')`);

    const [drawn] = await regionResults();
    assert.ok(drawn, 'a region search ran');
    const query = drawn.detail.query as RegionQueryJson;
    assert.equal(query.canvas, win!.canvasId);
    const [x, y, w, h] = query.xywh!.split(',').map(Number) as [number, number, number, number];
    assert.ok(x >= 0 && y >= 0 && w >= 8 && h >= 8 && x + w <= size.width && y + h <= size.height, `box ${query.xywh} on a ${size.width}×${size.height} canvas`);
    assert.ok((drawn.detail.hits as HitJson[]).length > 0);
    assert.equal(await surface.count(), 0, 'the drawing tool turns off once a box is drawn');

    // The outline is where the box was drawn: pixels → canvas → pixels round trip.
    const outline = (await page.locator('.reprise-query-region').boundingBox())!;
    for (const [got, want] of [
      [outline.x, from.x],
      [outline.y, from.y],
      [outline.x + outline.width, to.x],
      [outline.y + outline.height, to.y],
    ] as const) {
      assert.ok(Math.abs(got - want) < 4, `outline edge at ${got.toFixed(1)}, drawn at ${want.toFixed(1)}`);
    }
    await screenshot(page, 'mirador-region-search');

    // "Search this view": the whole canvas is in view at Mirador's home zoom.
    await page.locator('.reprise-search-view').click();
    await page.waitForFunction(`window.__events.filter((e) => e.type === 'reprise-results' && e.detail.query.kind === 'region').length === 2`);
    const view = (await regionResults())[1]!.detail.query as RegionQueryJson;
    assert.equal(view.canvas, win!.canvasId);
    assert.equal(view.xywh, `0,0,${size.width},${size.height}`);
    await page.waitForFunction(`document.querySelectorAll('.reprise-query-region').length === 0`);
  });

  it('fits the view to the region of a hit and outlines it', async () => {
    await openMirador();
    const [win] = await windows();
    const manifest = fixture.inst.manifests.find((m) => m.url === win!.manifestId)!;
    const canvasId = manifest.canvases[1]!.id;
    const size = await canvasSize(manifest.url, canvasId);
    const region = { x: Math.round(size.width * 0.5), y: Math.round(size.height * 0.5), w: Math.round(size.width * 0.25), h: Math.round(size.height * 0.25) };
    // What <reprise-search> sends when a hit is opened (an API hit with the region that matched).
    const hit: HitJson = { id: 'x', canvas: { id: canvasId }, manifest: { id: manifest.url, url: manifest.url }, region };
    await page.locator('reprise-search').evaluate((el, detail) => {
      el.dispatchEvent(new CustomEvent('reprise-select', { detail, bubbles: true, composed: true, cancelable: true }));
    }, { hit });
    await page.waitForFunction(`(${WINDOWS})[0].canvasId === ${JSON.stringify(canvasId)}`);
    const outline = page.locator('.reprise-hit-region');
    await outline.waitFor();
    // Let the zoom animation settle, then the region should fill the middle of the viewer.
    await page.waitForTimeout(1500);
    const box = (await outline.boundingBox())!;
    const osd = (await page.locator('.mirador-osd-container').first().boundingBox())!;
    const centre = { x: box.x + box.width / 2 - (osd.x + osd.width / 2), y: box.y + box.height / 2 - (osd.y + osd.height / 2) };
    assert.ok(Math.abs(centre.x) < osd.width * 0.05 && Math.abs(centre.y) < osd.height * 0.05, `region centred: off by ${JSON.stringify(centre)}`);
    assert.ok(box.width > osd.width * 0.4 || box.height > osd.height * 0.4, `region zoomed in: ${box.width}×${box.height} in ${osd.width}×${osd.height}`);
    await screenshot(page, 'mirador-hit-region');
  });

  it('draws from the keyboard: the tool takes focus, Enter searches the part in view, Escape cancels', async () => {
    await openMirador();
    const [win] = await windows();
    const size = await canvasSize(win!.manifestId, win!.canvasId!);
    const tool = page.locator('.reprise-draw-region');
    await tool.focus();
    await page.keyboard.press('Enter');
    await page.waitForFunction(`document.activeElement && document.activeElement.classList.contains('reprise-draw-surface')`);
    await page.keyboard.press('Escape');
    await page.waitForFunction(`document.querySelectorAll('.reprise-draw-surface').length === 0`);
    assert.equal(await tool.getAttribute('aria-pressed'), 'false');
    await page.waitForFunction(`document.activeElement && document.activeElement.classList.contains('reprise-draw-region')`);
    await page.keyboard.press('Enter');
    await page.waitForFunction(`document.activeElement && document.activeElement.classList.contains('reprise-draw-surface')`);
    await page.keyboard.press('Enter');
    await page.waitForFunction(`window.__events.some((e) => e.type === 'reprise-results' && e.detail.query.kind === 'region')`);
    const query = (await regionResults())[0]!.detail.query as RegionQueryJson;
    assert.equal(query.xywh, `0,0,${size.width},${size.height}`, 'the whole canvas is in view at home zoom');
  });

  it('speaks French with lang=fr', async () => {
    await openMirador('?lang=fr&panel=closed');
    await openPanel('Recherche visuelle');
    await page.locator('.reprise-draw-region', { hasText: 'Tracer une zone' }).waitFor();
    assert.equal(await page.locator('reprise-search').getAttribute('lang'), 'fr');
  });
});
