/**
 * The Mirador 4 plugin as a portal meets it: `reprise serve` (a child process) on a harvested
 * fixture collection that holds a real reprint pair, its /demo/mirador.html page (Mirador with the
 * plugin, bundled by viewer-widget/build-mirador.ts on first request) in Debian's Chromium. Every
 * API call goes to the real server. One server and one browser for the file; each test gets a
 * fresh page. Screenshots go to test-output/widget/mirador-*.png, at 1400 and 390 px.
 */
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { requireFixtures } from '../support/fixtures.ts';
import type { SearchFixture } from '../support/search-fixture.ts';
import { requireLocalFeatures } from '../reprints/support.ts';
import { seriousViolations } from './support/axe.ts';
import { recordedEvents, requireChromium, screenshot, type RecordedEvent } from './support/browser.ts';
import { demoServerForSuite, reprintPair } from './support/demo-server.ts';
import { focused, pageWidth, PHONE, shotsAtBothWidths } from './support/shots.ts';
import type { ServeProcess } from '../support/serve-process.ts';

interface HitJson {
  id: string;
  canvas: { id: string; label?: string };
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
  requireLocalFeatures(this);
  requireChromium(this);
  this.timeout(180_000);

  let fixture: SearchFixture;
  let server: ServeProcess;
  let page: Page;
  /** The two printings of one photograph, on the two canvases of one manifest. */
  let kids: HitJson;
  let walking: HitJson;

  demoServerForSuite(this, { reprints: true }, { started: (demo) => ({ fixture, server } = demo), page: (p) => (page = p) });
  before(async function () {
    const bundle = await fetch(`${server.url}/widget/reprise-mirador.js`);
    assert.equal(bundle.status, 200, `GET /widget/reprise-mirador.js: ${await bundle.text().catch(() => '')}`);
    ({ kids, walking } = await reprintPair<HitJson>(server));
  });

  const windows = () => page.evaluate(WINDOWS) as Promise<WindowJson[]>;

  /** The demo page, once Mirador shows the first canvas and has fitted it in view. The tiny test model scores everything low: no cut-off. */
  async function openMirador(query = '') {
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(err.message));
    await page.goto(`${server.url}/demo/mirador.html${query}${query ? '&' : '?'}minScore=none`);
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
    await shotsAtBothWidths(page, 'mirador-text-search');

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
    // Two windows side by side is a desktop state: on a phone a hit opens in the window it came from (the 390 px test).
    await screenshot(page, 'mirador-hit-opened-1400');
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
    await shotsAtBothWidths(page, 'mirador-hit-region', () => page.waitForTimeout(1000));
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

  /** The demo page on the first printing of the reprint pair. */
  const openOnKids = (extra = '') => openMirador(`?manifest=${encodeURIComponent(kids.manifest.url)}&canvas=${encodeURIComponent(kids.canvas.id)}${extra}`);

  const windowState = (id: string) =>
    page.evaluate(`(() => { const w = window.repriseViewer.store.getState().windows[${JSON.stringify(id)}]; return { canvasId: w.canvasId, companionAreaOpen: w.companionAreaOpen }; })()`) as Promise<{
      canvasId: string;
      companionAreaOpen: boolean;
    }>;

  /**
   * The outlined hit region of a window, once the view has stopped moving, checked to fill the
   * middle of that window's viewer: what "opening a hit fits the view to its region" means.
   */
  async function assertFitted(windowId: string, what: string) {
    const outline = page.locator(`[id="${windowId}"] .reprise-hit-region`);
    await outline.waitFor({ timeout: 20_000 });
    // The fit animates, and is applied again while the viewer settles (tiles, a folding panel).
    await page.waitForTimeout(2000);
    const box = (await outline.boundingBox())!;
    const osd = (await page.locator(`[id="${windowId}"] .mirador-osd-container`).boundingBox())!;
    const off = { x: box.x + box.width / 2 - (osd.x + osd.width / 2), y: box.y + box.height / 2 - (osd.y + osd.height / 2) };
    assert.ok(Math.abs(off.x) < osd.width * 0.06 && Math.abs(off.y) < osd.height * 0.06, `${what}: region centred (off by ${Math.round(off.x)}, ${Math.round(off.y)} px)`);
    assert.ok(box.width > osd.width * 0.5 || box.height > osd.height * 0.5, `${what}: region fills the view (${Math.round(box.width)}×${Math.round(box.height)} in ${Math.round(osd.width)}×${Math.round(osd.height)})`);
    assert.ok(box.x >= osd.x - 2 && box.y >= osd.y - 2 && box.x + box.width <= osd.x + osd.width + 2 && box.y + box.height <= osd.y + osd.height + 2, `${what}: region wholly in view`);
  }

  const settledSimilar = (tab: 'similar' | 'reprints') =>
    page.waitForFunction(`(() => { const el = document.querySelector('.reprise-panel-${tab} reprise-similar'); return el && el.shadowRoot.querySelector('reprise-hit, [part=notice]') && !el.shadowRoot.querySelector('.spinner'); })()`, undefined, {
      timeout: 30_000,
    });
  const similarIds = (tab: 'similar' | 'reprints') =>
    page.locator(`.reprise-panel-${tab} reprise-similar reprise-hit`).evaluateAll((els) => els.map((el) => (el as unknown as { hit: { id: string } }).hit.id));

  it('shows Similar and Reprints of the canvas on view; a reprint opens fitted to the matched region, and compares side by side', async () => {
    await openOnKids();
    const [win] = await windows();
    assert.equal(win!.canvasId, kids.canvas.id);
    // Nothing is asked of the server for a tab not yet opened.
    assert.equal((await recordedEvents(page)).filter((e) => e.target === 'reprise-similar').length, 0);

    await page.locator('.reprise-tab-similar').click();
    await settledSimilar('similar');
    const similar = (await recordedEvents(page)).find((e) => e.type === 'reprise-results' && e.target === 'reprise-similar')!;
    assert.equal((similar.detail.query as { kind: string; canvas: string }).canvas, kids.canvas.id, 'similar to the canvas on view');
    const similarHits = await similarIds('similar');
    assert.ok(similarHits.length > 0 && !similarHits.includes(kids.id), `similar items, the canvas itself left out: ${similarHits.join(', ')}`);
    assert.equal(await page.locator('.reprise-panel-similar reprise-similar .reprints').count(), 0, 'the Similar tab shows similar items only');
    await shotsAtBothWidths(page, 'mirador-similar');

    await page.locator('.reprise-tab-reprints').click();
    await settledSimilar('reprints');
    assert.deepEqual(await similarIds('reprints'), [walking.id]);
    const card = page.locator('.reprise-panel-reprints reprise-hit').first();
    assert.equal((await card.locator('[part=relevance]').textContent())?.trim(), 'Same photograph');
    await shotsAtBothWidths(page, 'mirador-reprints');

    // Open: the other printing, on its canvas of the same manifest, fitted to the part that matched.
    await card.locator('[part=open]').click();
    await page.waitForFunction(`(${WINDOWS})[0].canvasId === ${JSON.stringify(walking.canvas.id)}`);
    assert.equal((await windows()).length, 1, 'same manifest: the same window');
    await assertFitted(win!.id, 'opened reprint');
    await shotsAtBothWidths(page, 'mirador-reprint-opened', () => page.waitForTimeout(1500));

    // The tabs follow the canvas: the reprints of this one are the first printing.
    await page.waitForFunction(`(() => { const h = document.querySelector('.reprise-panel-reprints reprise-similar')?.shadowRoot.querySelector('reprise-hit'); return h && h.hit.id === ${JSON.stringify(kids.id)}; })()`, undefined, { timeout: 30_000 });
    await page.locator('.reprise-panel-reprints reprise-hit').first().locator('[part=compare]').click();
    await page.waitForFunction(`(${WINDOWS}).length === 2`);
    const other = (await windows()).find((w) => w.id !== win!.id)!;
    await page.waitForFunction(`(${WINDOWS}).some((w) => w.id === ${JSON.stringify(other.id)} && (w.visibleCanvases || []).includes(${JSON.stringify(kids.canvas.id)}))`, undefined, { timeout: 20_000 });
    assert.equal((await windowState(win!.id)).companionAreaOpen, false, 'the panel folds away: both images get the room');
    await assertFitted(other.id, 'the reprint beside');
    await assertFitted(win!.id, 'the canvas it was found for');
    await screenshot(page, 'mirador-compare-1400');
  });

  it('is usable at 390 px: the panel fits the screen, and an opened hit folds it away and shows the region', async () => {
    await page.setViewportSize(PHONE);
    await openOnKids();
    assert.ok((await pageWidth(page)) <= PHONE.width + 2, 'nothing wider than the screen');
    const panel = (await page.locator('.reprise-mirador-panel').boundingBox())!;
    assert.ok(panel.x >= 0 && panel.x + panel.width <= PHONE.width, `the panel (${Math.round(panel.x)}…${Math.round(panel.x + panel.width)}) is on screen`);
    for (const control of ['reprise-search input[type=search]', 'reprise-search [part=search-button]', '.reprise-tab-reprints']) {
      const box = (await page.locator(control).first().boundingBox())!;
      assert.ok(box.x >= 0 && box.x + box.width <= panel.x + panel.width + 1, `${control} within the panel`);
    }
    const input = page.locator('reprise-search input[type=search]');
    await input.fill('people in a street');
    await input.press('Enter');
    await page.locator('reprise-search reprise-hit').first().waitFor();
    const card = (await page.locator('reprise-search reprise-hit').first().boundingBox())!;
    assert.ok(card.x + card.width <= panel.x + panel.width + 1, 'result cards within the panel');
    await screenshot(page, 'mirador-phone-search-390');

    await page.locator('.reprise-tab-reprints').click();
    await settledSimilar('reprints');
    await screenshot(page, 'mirador-phone-reprints-390');
    await page.locator('.reprise-panel-reprints reprise-hit').first().locator('[part=open]').click();
    const [win] = await windows();
    await page.waitForFunction(`(${WINDOWS})[0].canvasId === ${JSON.stringify(walking.canvas.id)}`);
    assert.equal((await windows()).length, 1, 'no second window on a phone');
    assert.equal((await windowState(win!.id)).companionAreaOpen, false, 'the panel folds away so that the image shows');
    await assertFitted(win!.id, 'opened on a phone');
    await screenshot(page, 'mirador-phone-opened-390');
    // The panel comes back, results and all, from Mirador's fold button beside the side bar.
    await page.locator('button[aria-label="Expand sidebar"]').click();
    await page.waitForFunction(`window.repriseViewer.store.getState().windows[${JSON.stringify(win!.id)}].companionAreaOpen`);
    assert.ok((await page.locator('reprise-search reprise-hit').count()) > 0, 'the results are still there');
  });

  it('opens on a region given in the address (?canvas=…&xywh=…), fitted and outlined', async () => {
    const size = await canvasSize(kids.manifest.url, kids.canvas.id);
    const box = [0.5, 0.4, 0.3, 0.3].map((f, i) => Math.round(f * (i % 2 ? size.height : size.width))).join(',');
    await openOnKids(`&xywh=${box}`);
    const [win] = await windows();
    await assertFitted(win!.id, '?xywh');
  });

  it('speaks French with lang=fr, the page around Mirador included', async () => {
    await openMirador('?lang=fr&panel=closed');
    assert.equal(await page.evaluate('document.documentElement.lang'), 'fr');
    assert.equal(await page.locator('#title').textContent(), 'Recherche visuelle dans Mirador');
    assert.equal(await page.locator('#portal-link').textContent(), 'Rechercher dans la collection');
    assert.equal(await page.locator('#skip').textContent(), 'Aller à la recherche');
    await openPanel('Recherche visuelle');
    await page.locator('.reprise-draw-region', { hasText: 'Tracer une zone' }).waitFor();
    assert.equal(await page.locator('reprise-search').getAttribute('lang'), 'fr');
    assert.deepEqual((await page.locator('.reprise-tabs [role=tab]').allTextContents()).map((t) => t.trim()), ['Rechercher', 'Similaires', 'Réimpressions']);
    assert.equal((await page.locator('reprise-search [part=search-button]').textContent())?.trim(), 'Rechercher');
    // Mirador's own controls too.
    assert.ok((await page.locator(`button[aria-label="Fermer cette fenêtre"]`).count()) >= 1);
    await page.locator('reprise-search input[type=search]').fill('une rue');
    await page.locator('reprise-search input[type=search]').press('Enter');
    await page.locator('reprise-search reprise-hit').first().waitFor();
    assert.match((await page.locator('reprise-search [part=status]').textContent()) ?? '', /Résultats 1 à/);
    await shotsAtBothWidths(page, 'mirador-french');
  });

  it('takes the keyboard to the search box in two presses: Tab to the skip link, Enter', async () => {
    await openMirador('?panel=closed');
    await page.keyboard.press('Tab');
    assert.equal(await focused(page), 'skip');
    await page.keyboard.press('Enter');
    // The panel opens (it was closed) and the box has the keyboard.
    await page.waitForFunction(`(${JSON.stringify('input')}) === (() => { let a = document.activeElement; while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement; return a && a.getAttribute('part'); })()`, undefined, { timeout: 10_000 });
    await page.keyboard.type('a street');
    await page.keyboard.press('Enter');
    await page.locator('reprise-search reprise-hit').first().waitFor();
  });

  it('has no serious or critical accessibility violation, in English and French (axe-core)', async () => {
    const problems: string[] = [];
    for (const lang of ['en', 'fr']) {
      await openOnKids(`&lang=${lang}`);
      await page.locator('reprise-search input[type=search]').waitFor();
      for (const state of ['search', 'reprints'] as const) {
        if (state === 'reprints') {
          await page.locator('.reprise-tab-reprints').click();
          await settledSimilar('reprints');
        }
        for (const v of await seriousViolations(page)) problems.push(`${state} (${lang}): ${v.id} [${v.impact}] ${v.help}: ${v.targets.join(' ')}`);
      }
    }
    assert.deepEqual(problems, []);
  });
});
