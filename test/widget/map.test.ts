/**
 * <reprise-map> against the real server (`reprise serve` on a harvested fixture collection, in a
 * child process) in Chromium: the map is computed in the background and drawn with thumbnails,
 * search results light up on it, filters dim what they leave out, and a click opens the item.
 * Screenshots go to test-output/widget/.
 */
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import sharp from 'sharp';
import { requireFixtures } from '../support/fixtures.ts';
import { recordedEvents, recordedFetches, requireChromium, screenshot } from './support/browser.ts';
import { demoServerForSuite, type DemoServer } from './support/demo-server.ts';
import type { ServeProcess } from '../support/serve-process.ts';

const ACCENT = [11, 87, 208];

/**
 * Pixels of the map in the accent colour (highlighted items), read from a screenshot: the canvas
 * itself cannot be read back once it has drawn thumbnails from the image servers' origins.
 */
async function accentPixels(page: Page): Promise<number> {
  const png = await page.locator('reprise-map canvas').screenshot();
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  let n = 0;
  for (let i = 0; i < data.length; i += info.channels) {
    if (Math.abs(data[i]! - ACCENT[0]!) < 10 && Math.abs(data[i + 1]! - ACCENT[1]!) < 10 && Math.abs(data[i + 2]! - ACCENT[2]!) < 10) n++;
  }
  return n;
}

describe('viewer widget: <reprise-map> (reprise serve + Chromium)', function () {
  requireFixtures(this);
  requireChromium(this);
  this.timeout(180_000);

  let demo: DemoServer;
  let server: ServeProcess;
  let page: Page;

  demoServerForSuite(this, { viewport: { width: 1200, height: 900 } }, {
    started: (d) => {
      demo = d;
      server = d.server;
    },
    page: (p) => (page = p),
  });
  beforeEach(async () => {
    // Told when the map is drawn, from before the page's scripts run.
    await page.addInitScript(`window.__mapReady = false; document.addEventListener('reprise-map-ready', () => (window.__mapReady = true));`);
  });

  async function openPortal(): Promise<void> {
    // The demo page: <reprise-search> beside <reprise-map>, served by `reprise serve` itself.
    await page.goto(`${server.url}/demo/map.html`);
    // The first visit starts the computation (202 with its progress); the element asks again until it is drawn.
    await page.waitForFunction('window.__mapReady === true', undefined, { timeout: 120_000 });
    // Thumbnails: every point's image loaded and drawn.
    await page.waitForFunction(
      `(() => { const m = document.querySelector('reprise-map'); return m._map && m._map.ids.every((id) => { const t = m.thumbs.get(id); return t && (!t.image || (t.image.complete && t.image.naturalWidth > 0)); }); })()`,
      undefined,
      { timeout: 30_000 },
    );
  }

  it('computes the map in the background, then draws every image of the collection', async () => {
    const first = await fetch(`${server.api}/map`);
    assert.ok(first.status === 202 || first.status === 200, `GET /map answered ${first.status}`);
    await openPortal();
    const items = demo.fixture.inst.manifests.reduce((n, m) => n + m.canvases.length, 0);
    const map = (await (await fetch(`${server.api}/map`)).json()) as { status: string; ids: string[]; xy: number[]; scale: number };
    assert.equal(map.status, 'ready');
    assert.equal(map.ids.length, items);
    assert.equal(map.xy.length, items * 2);
    assert.ok(map.xy.every((v) => Number.isInteger(v) && v >= 0 && v <= map.scale));
    assert.ok((await recordedFetches(page)).some((f) => f.url.includes('/api/map/items?')), 'thumbnails asked for');
    assert.equal(await accentPixels(page), 0, 'nothing highlighted before a search');
    await screenshot(page, 'map-overview');
  });

  it('highlights the results of a search, dims what a filter leaves out, and opens an item on click', async () => {
    await openPortal();
    await page.evaluate(`document.querySelector('reprise-search').limit = 3`);
    await page.locator('reprise-search input[type=search]').fill('a street');
    await page.locator('reprise-search input[type=search]').press('Enter');
    await page.locator('reprise-search reprise-hit').first().waitFor();
    const hits = (await page.locator('reprise-search reprise-hit').evaluateAll((els) => els.map((el) => (el as unknown as { hit: { id: string } }).hit.id))) as string[];
    assert.equal(hits.length, 3);
    await page.waitForFunction(`document.querySelector('reprise-map').highlight.length === 3`);
    // Drawn on the next frame: outlines in the accent colour around the three hits.
    await page.waitForTimeout(300);
    assert.ok((await accentPixels(page)) > 50, 'the hits are outlined on the map');
    await screenshot(page, 'map-highlight');

    // A filter: the items of one manifest stay, the others are dimmed.
    const manifest = demo.fixture.inst.manifests[0]!;
    await page.evaluate(`document.querySelector('reprise-map').filters = { manifest: [${JSON.stringify(manifest.url)}] }`);
    await page.waitForFunction(`(() => { const m = document.querySelector('reprise-map'); return m.passing && m.passing.reduce((a, b) => a + b, 0) === ${manifest.canvases.length}; })()`);
    await screenshot(page, 'map-filtered');

    // Click the first hit where the map draws it.
    const target = hits[0]!;
    const point = (await page.evaluate(`(() => {
      const m = document.querySelector('reprise-map');
      const canvas = m.shadowRoot.querySelector('canvas');
      const i = m.index.get(${JSON.stringify(target)});
      const t = m.transform(canvas.clientWidth, canvas.clientHeight);
      const r = canvas.getBoundingClientRect();
      return { x: r.left + (m.positions[2 * i] - t.x0) * t.scale, y: r.top + (m.positions[2 * i + 1] - t.y0) * t.scale };
    })()`)) as { x: number; y: number };
    await Promise.all([page.waitForURL(/\/demo\/\?item=/), page.mouse.click(point.x, point.y)]);
    assert.equal(new URL(page.url()).searchParams.get('item'), target, 'the OpenSeadragon demo opens the item clicked');
  });

  it('lets a host keep the page where it is by cancelling reprise-select', async () => {
    await openPortal();
    await page.evaluate('window.__preventSelect = true');
    const point = (await page.evaluate(`(() => {
      const m = document.querySelector('reprise-map');
      const canvas = m.shadowRoot.querySelector('canvas');
      const t = m.transform(canvas.clientWidth, canvas.clientHeight);
      const r = canvas.getBoundingClientRect();
      return { x: r.left + (m.positions[0] - t.x0) * t.scale, y: r.top + (m.positions[1] - t.y0) * t.scale, id: m._map.ids[0] };
    })()`)) as { x: number; y: number; id: string };
    await page.mouse.click(point.x, point.y);
    await page.waitForFunction(`window.__events.some((e) => e.type === 'reprise-select')`);
    const select = (await recordedEvents(page)).find((e) => e.type === 'reprise-select')!;
    assert.equal((select.detail.hit as { id: string }).id, point.id);
    assert.equal(select.target, 'reprise-map');
    assert.match(page.url(), /\/demo\/map\.html$/);
    // Zoomed in with the keyboard, the map still draws (and a wheel zoom keeps the point under the pointer).
    await page.locator('reprise-map canvas').focus();
    await page.keyboard.press('+');
    await page.keyboard.press('+');
    assert.ok(((await page.evaluate(`document.querySelector('reprise-map').view.zoom`)) as number) > 2);
    await screenshot(page, 'map-zoomed');
  });
});
