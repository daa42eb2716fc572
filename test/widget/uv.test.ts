/**
 * The Universal Viewer demo page (/demo/uv.html) as a patron meets it: `reprise serve` (a child
 * process) on a harvested collection that holds a real reprint pair, Universal Viewer 4.4 from its
 * npm package beside the widget, Debian's Chromium. Every API call goes to the real server.
 * Screenshots go to test-output/widget/uv-*.png, at 1400 and 390 px.
 */
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { requireLocalFeatures } from '../reprints/support.ts';
import { seriousViolations } from './support/axe.ts';
import { recordedEvents, requireChromium, screenshot } from './support/browser.ts';
import { demoServerForSuite, reprintPair } from './support/demo-server.ts';
import type { ServeProcess } from '../support/serve-process.ts';
import { focused, pageWidth, PHONE, shotsAtBothWidths, tabsTo } from './support/shots.ts';

interface HitJson {
  id: string;
  canvas: { id: string; label?: string; index?: number; width: number; height: number };
  manifest: { id: string; url: string };
  region?: { x: number; y: number; w: number; h: number };
}

interface UvView {
  canvas: string;
  manifest: string;
  /** OpenSeadragon's viewport, in image pixels (UV lays one image at its own size). */
  bounds: { x: number; y: number; w: number; h: number };
  loaded: boolean;
  /** Zoomed in as far as UV lets OpenSeadragon go (a small image cannot fill the viewer with a small region of it). */
  atMaxZoom: boolean;
}

/** What UV shows, read from its extension (UV publishes no getter for these). */
const UV_VIEW = `(() => {
  const e = window.uv && window.uv.assignedContentHandler && window.uv.assignedContentHandler.extension;
  const v = e && e.centerPanel && e.centerPanel.viewer;
  if (!v || !v.world.getItemCount()) return null;
  const b = v.viewport.getBounds(true);
  const item = v.world.getItemAt(0);
  return { canvas: e.helper.getCurrentCanvas().id, manifest: e.data.iiifManifestId, bounds: { x: b.x, y: b.y, w: b.width, h: b.height }, loaded: item.getFullyLoaded(),
    atMaxZoom: v.viewport.getZoom(true) >= v.viewport.getMaxZoom() * 0.98 };
})()`;

describe('Universal Viewer demo page (reprise serve + Chromium)', function () {
  requireLocalFeatures(this);
  requireChromium(this);
  this.timeout(180_000);

  let server: ServeProcess;
  let page: Page;
  let kids: HitJson;
  let walking: HitJson;
  let pageErrors: string[];

  demoServerForSuite(this, { reprints: true }, {
    started: (demo) => ({ server } = demo),
    page: (p) => {
      page = p;
      pageErrors = [];
      page.on('pageerror', (err) => pageErrors.push(err.message));
    },
  });
  before(async () => {
    const uvScript = await fetch(`${server.url}/widget/uv/umd/UV.js`);
    assert.equal(uvScript.status, 200, 'reprise serve serves Universal Viewer from its npm package');
    ({ kids, walking } = await reprintPair<HitJson>(server));
  });

  const view = () => page.evaluate(UV_VIEW) as Promise<UvView | null>;

  /** The page, once UV shows an image and the collection grid is there. The tiny test model scores everything low: no cut-off. */
  async function openUv(query = '') {
    await page.goto(`${server.url}/demo/uv.html?minScore=none${query}`);
    await page.waitForFunction(`(${UV_VIEW}) && (${UV_VIEW}).loaded`, undefined, { timeout: 60_000 });
    await page.locator('reprise-search reprise-hit').first().waitFor({ timeout: 30_000 });
  }
  const onKids = (extra = '') => openUv(`&manifest=${encodeURIComponent(kids.manifest.url)}&canvas=${encodeURIComponent(kids.canvas.id)}${extra}`);

  /** UV on `canvas`, its view fitted to `region` (UV fits it exactly, no margin), the region outlined. */
  async function assertShowsRegion(canvas: string, region: { x: number; y: number; w: number; h: number }) {
    await page.waitForFunction(`(() => { const v = ${UV_VIEW}; return v && v.canvas === ${JSON.stringify(canvas)}; })()`, undefined, { timeout: 20_000 });
    // The fit animates: wait until the view holds still.
    let last = '';
    for (let i = 0; i < 40; i++) {
      await page.waitForTimeout(150);
      const now = JSON.stringify((await view())!.bounds);
      if (now === last) break;
      last = now;
    }
    const { bounds, atMaxZoom } = (await view())!;
    // The region fills the view in one direction and is centred in the other, or, where UV will not
    // zoom that far into a small image, the view is as close as it goes and holds the whole region.
    const fitsWidth = Math.abs(bounds.w - region.w) / region.w < 0.05 && Math.abs(bounds.x - region.x) < region.w * 0.05;
    const fitsHeight = Math.abs(bounds.h - region.h) / region.h < 0.05 && Math.abs(bounds.y - region.y) < region.h * 0.05;
    const holds = bounds.x <= region.x + 1 && bounds.y <= region.y + 1 && bounds.x + bounds.w >= region.x + region.w - 1 && bounds.y + bounds.h >= region.y + region.h - 1;
    assert.ok(fitsWidth || fitsHeight || (atMaxZoom && holds), `view ${JSON.stringify(bounds)} fitted to region ${JSON.stringify(region)} (at max zoom: ${atMaxZoom})`);
    const centre = { x: bounds.x + bounds.w / 2 - (region.x + region.w / 2), y: bounds.y + bounds.h / 2 - (region.y + region.h / 2) };
    assert.ok(Math.abs(centre.x) < region.w * 0.05 && Math.abs(centre.y) < region.h * 0.05, `centred on the region (off by ${JSON.stringify(centre)})`);
    const rect = page.locator('#uv .annotationRect');
    await rect.first().waitFor({ timeout: 10_000 });
    assert.equal(await rect.count(), 1, 'the region is outlined');
    const box = (await rect.boundingBox())!;
    assert.ok(Math.abs(box.width / box.height - region.w / region.h) < 0.05 * (region.w / region.h), `outline ${box.width}×${box.height} has the region's shape`);
  }

  it('shows Universal Viewer from npm with the widget beside it: the collection, and similar images and reprints of the canvas shown', async () => {
    await onKids();
    const shown = (await view())!;
    assert.equal(shown.canvas, kids.canvas.id);
    assert.equal(shown.manifest, kids.manifest.url);
    // Beside it, following the canvas UV shows.
    const similar = page.locator('reprise-similar');
    assert.equal(await similar.evaluate((el) => (el as unknown as { canvas: string }).canvas), kids.canvas.id);
    await page.locator('reprise-similar section.reprints reprise-hit').first().waitFor({ timeout: 30_000 });
    assert.deepEqual(await page.locator('reprise-similar section.reprints reprise-hit').evaluateAll((els) => els.map((el) => (el as unknown as { hit: { id: string } }).hit.id)), [walking.id]);
    assert.equal(await page.locator('reprise-similar [part=compare]').count(), 0, 'no side-by-side comparison UV could not show');
    await shotsAtBothWidths(page, 'uv-page');
    assert.deepEqual(pageErrors, []);
  });

  it('opens hits in Universal Viewer: on their canvas, zoomed to the region that matched, another manifest loaded first', async () => {
    await onKids();
    // A reprint: the other canvas of the same manifest, zoomed to the matched part.
    const reprint = page.locator('reprise-similar section.reprints reprise-hit').first();
    await reprint.waitFor({ timeout: 30_000 });
    const region = await reprint.evaluate((el) => (el as unknown as { hit: HitJson }).hit.region!);
    assert.ok(region && region.w > 0, 'the reprint says where it matched');
    await reprint.locator('[part=open]').click();
    await assertShowsRegion(walking.canvas.id, region);
    // At 1400 px: UV keeps its desktop layout when made narrower, which no phone sees (the 390 px test loads it narrow).
    await page.locator('#uv').evaluate((el) => el.scrollIntoView({ block: 'nearest' }));
    await screenshot(page, 'uv-reprint-opened-1400');

    // A hit of another manifest: UV loads that manifest, on the hit's canvas, whole.
    const hits = (await recordedEvents(page)).find((e) => e.type === 'reprise-results' && e.target === 'reprise-search')!.detail.hits as HitJson[];
    const index = hits.findIndex((h) => h.manifest.url !== kids.manifest.url && (h.canvas.index ?? 0) > 0);
    assert.ok(index >= 0, 'the grid shows a later canvas of another manifest');
    const other = hits[index]!;
    await page.locator('reprise-search reprise-hit').nth(index).locator('[part=open]').click();
    await page.waitForFunction(`(() => { const v = ${UV_VIEW}; return v && v.canvas === ${JSON.stringify(other.canvas.id)} && v.loaded; })()`, undefined, { timeout: 30_000 });
    assert.equal((await view())!.manifest, other.manifest.url);
    assert.equal(await page.locator('#uv .annotationRect').count(), 0, 'a whole-canvas hit outlines nothing');
    assert.equal(await page.locator('reprise-similar').evaluate((el) => (el as unknown as { canvas: string }).canvas), other.canvas.id, 'similar images follow');
    await page.locator('#uv').evaluate((el) => el.scrollIntoView({ block: 'nearest' }));
    await screenshot(page, 'uv-other-manifest-1400');
    assert.deepEqual(pageErrors, []);
  });

  it('searches with the part of the canvas in view, and opens on a region given in the address', async () => {
    const size = { w: kids.canvas.width, h: kids.canvas.height };
    const region = { x: Math.round(size.w * 0.4), y: Math.round(size.h * 0.3), w: Math.round(size.w * 0.4), h: Math.round(size.h * 0.4) };
    await onKids(`&xywh=${[region.x, region.y, region.w, region.h].join(',')}`);
    await assertShowsRegion(kids.canvas.id, region);
    const button = page.locator('#search-view');
    await page.waitForFunction(`!document.getElementById('search-view').disabled`);
    await button.click();
    await page.waitForFunction(`window.__events.some((e) => e.type === 'reprise-results' && e.detail.query.kind === 'region')`, undefined, { timeout: 30_000 });
    const query = (await recordedEvents(page)).find((e) => e.type === 'reprise-results' && (e.detail.query as { kind: string }).kind === 'region')!.detail.query as { canvas: string; xywh: string };
    assert.equal(query.canvas, kids.canvas.id);
    const [x, y, w, h] = query.xywh.split(',').map(Number) as [number, number, number, number];
    // The part in view: around the region, not the whole canvas (UV pads it to the viewer's shape).
    assert.ok(x <= region.x + 1 && y <= region.y + 1 && x + w >= region.x + region.w - 1 && y + h >= region.y + region.h - 1, `view ${query.xywh} holds region ${JSON.stringify(region)}`);
    assert.ok(w * h < size.w * size.h * 0.75, `view ${query.xywh} is a part of the ${size.w}×${size.h} canvas`);
    assert.ok(x + w <= size.w + 1 && y + h <= size.h + 1 && x >= 0 && y >= 0, `view ${query.xywh} within the ${size.w}×${size.h} canvas`);
    await page.locator('reprise-search [part=status]', { hasText: 'box drawn' }).waitFor();
  });

  it('speaks French with lang=fr: the page, the widget and Universal Viewer', async () => {
    await openUv('&lang=fr');
    assert.equal(await page.evaluate('document.documentElement.lang'), 'fr');
    assert.equal(await page.locator('#title').textContent(), 'Recherche visuelle dans Universal Viewer');
    assert.equal(await page.locator('#search-view').textContent(), 'Trouver des images comme cette vue');
    assert.equal((await page.locator('reprise-search [part=search-button]').textContent())?.trim(), 'Rechercher');
    assert.match((await page.locator('reprise-search [part=status]').textContent()) ?? '', /Résultats 1 à/);
    // UV's own interface, from its fr-FR locale.
    await page.locator('#uv', { hasText: 'Affichage en plein écran' }).waitFor({ timeout: 20_000 });
    await shotsAtBothWidths(page, 'uv-french');
  });

  it('has the search box within 3 Tab presses and nothing wider than a 390 px screen', async () => {
    await page.setViewportSize(PHONE);
    await openUv();
    // UV opening an image does not take the keyboard away from the page's start.
    await page.waitForTimeout(1000);
    const presses = await tabsTo(page, (f) => f === 'input', 3);
    assert.ok(presses !== undefined, `the search box is not within 3 Tab presses (focus on ${await focused(page)})`);
    assert.ok((await pageWidth(page)) <= PHONE.width + 2, 'nothing wider than the screen');
    const uvBox = (await page.locator('#uv').boundingBox())!;
    assert.ok(uvBox.x >= 0 && uvBox.x + uvBox.width <= PHONE.width, `the viewer (${uvBox.x}…${uvBox.x + uvBox.width}) is on screen`);
    await screenshot(page, 'uv-phone-390');
    // Opening a hit brings the viewer (below the results on a phone) into view.
    await page.locator('reprise-search reprise-hit').nth(3).locator('[part=open]').click();
    await page.waitForTimeout(1500);
    const shown = (await page.locator('#uv').boundingBox())!;
    assert.ok(shown.y >= -1 && shown.y + shown.height <= PHONE.height + 1, `the viewer is scrolled into view (top ${shown.y})`);
    await screenshot(page, 'uv-phone-opened-390');
    // A reprint from beside the viewer: zoomed to the part that matched, on the phone too.
    await page.goto(`${server.url}/demo/uv.html?minScore=none&manifest=${encodeURIComponent(kids.manifest.url)}&canvas=${encodeURIComponent(kids.canvas.id)}`);
    const reprint = page.locator('reprise-similar section.reprints reprise-hit').first();
    await reprint.waitFor({ timeout: 40_000 });
    const region = await reprint.evaluate((el) => (el as unknown as { hit: HitJson }).hit.region!);
    await reprint.locator('[part=open]').click();
    await assertShowsRegion(walking.canvas.id, region);
    assert.ok((await pageWidth(page)) <= PHONE.width + 2);
    await screenshot(page, 'uv-phone-reprint-390');
  });

  it('has no serious or critical accessibility violation, in English and French (axe-core)', async () => {
    const problems: string[] = [];
    for (const lang of ['en', 'fr']) {
      await onKids(`&lang=${lang}`);
      await page.locator('reprise-similar section.reprints reprise-hit').first().waitFor({ timeout: 30_000 });
      for (const v of await seriousViolations(page)) problems.push(`${lang}: ${v.id} [${v.impact}] ${v.help}: ${v.targets.join(' ')}`);
    }
    assert.deepEqual(problems, []);
  });
});
