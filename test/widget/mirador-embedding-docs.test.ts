/**
 * docs/widget-embedding.md promises that its pages work as written once two URLs are replaced:
 * each ```html block is served, so replaced, from a "portal" on another origin than
 * `reprise serve` (listed in api.corsOrigins), and driven in Chromium. The Universal Viewer
 * example loads UV's dist folder from the portal in place of the CDN: the devDependency's
 * (node_modules/universalviewer/dist), or UNIVERSALVIEWER_DIST; without either that example is
 * skipped, saying so.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { requireFixtures } from '../support/fixtures.ts';
import { createSearchFixture, type SearchFixture } from '../support/search-fixture.ts';
import { chromiumForSuite, pagePerTest, recordedEvents, requireChromium, screenshot } from './support/browser.ts';
import { startServe, type ServeProcess } from '../support/serve-process.ts';

const DOC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../docs/widget-embedding.md');
const DOC_SERVER = 'https://reprise.example.org';
const DOC_MANIFEST = 'https://iiif.example.org/manifests/book1.json';
const UV_CDN = 'https://cdn.jsdelivr.net/npm/universalviewer@4.4.0/dist/';
const INSTALLED_UV = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../node_modules/universalviewer/dist');
const UV_DIST = process.env.UNIVERSALVIEWER_DIST ?? (existsSync(INSTALLED_UV) ? INSTALLED_UV : undefined);

interface Example {
  section: string;
  html: string;
}

/** The ```html blocks of the document, with the heading of the section each is in. */
function htmlExamples(markdown: string): Example[] {
  const examples: Example[] = [];
  let section = '';
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const heading = /^##\s+(.*)$/.exec(lines[i]!);
    if (heading) section = heading[1]!.trim();
    if (lines[i] !== '```html') continue;
    const end = lines.indexOf('```', i + 1);
    assert.ok(end > i, `unclosed html block after line ${i + 1}`);
    examples.push({ section, html: lines.slice(i + 1, end).join('\n') });
    i = end;
  }
  return examples;
}

const CONTENT_TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.json': 'application/json', '.svg': 'image/svg+xml', '.woff2': 'font/woff2', '.woff': 'font/woff' };

describe('docs/widget-embedding.md examples (another origin, Chromium)', function () {
  requireFixtures(this);
  requireChromium(this);
  this.timeout(180_000);

  const examples = htmlExamples(readFileSync(DOC, 'utf8'));
  let fixture: SearchFixture;
  let server: ServeProcess;
  let portal: http.Server;
  let portalUrl: string;
  let manifest: string;
  let browser: Browser;
  let page: Page;
  let errors: string[];

  chromiumForSuite(this, (b) => (browser = b));
  pagePerTest(this, () => browser, (p) => (page = p), { failureShots: 'docs' });
  before(async function () {
    fixture = await createSearchFixture();
    await fixture.store.close();
    manifest = fixture.inst.manifests[0]!.url;
    // The portal: the examples, rewritten, and UV's files when given.
    const pages = new Map<string, string>();
    portal = http.createServer(async (req, res) => {
      const url = new URL(req.url ?? '/', 'http://portal');
      const page = pages.get(url.pathname);
      if (page) {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page);
        return;
      }
      const file = UV_DIST && url.pathname.startsWith('/uv/') ? path.join(UV_DIST, path.normalize(url.pathname.slice(4))) : undefined;
      if (file && file.startsWith(path.resolve(UV_DIST!)) && existsSync(file)) {
        res.writeHead(200, { 'content-type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream' }).end(await readFile(file));
        return;
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => portal.listen(0, '127.0.0.1', resolve));
    portalUrl = `http://127.0.0.1:${(portal.address() as AddressInfo).port}`;
    server = await startServe({
      REPRISE_DATA_DIR: fixture.dataDir,
      REPRISE_MODELS__PATH: fixture.config.models.path!,
      REPRISE_MODELS__THREADS: '1',
      REPRISE_HARVEST__HTTP__ALLOW_PRIVATE: '127.0.0.1',
      REPRISE_API__CORS_ORIGINS: portalUrl,
    });
    examples.forEach((example, i) => {
      const html = example.html.replaceAll(DOC_SERVER, server.url).replaceAll(DOC_MANIFEST, manifest).replaceAll(UV_CDN, `${portalUrl}/uv/`);
      pages.set(`/example-${i}.html`, html);
    });
  });

  after(async () => {
    const code = await server?.stop();
    await new Promise((resolve) => portal?.close(resolve));
    await fixture?.encoders.close();
    await fixture?.inst.close();
    assert.equal(code ?? 0, 0, server?.stderr());
  });

  beforeEach(() => {
    errors = [];
    page.on('pageerror', (err) => errors.push(err.message));
    page.on('console', (m) => {
      if (m.type() === 'error') console.error(`  [page] ${m.text()}`);
    });
  });

  function example(section: string, nth = 0): string {
    const found = examples.map((e, i) => ({ ...e, i })).filter((e) => e.section === section);
    assert.ok(found[nth], `docs/widget-embedding.md has html example ${nth + 1} under "## ${section}"`);
    return `${portalUrl}/example-${found[nth].i}.html`;
  }

  async function textSearch(q: string) {
    // The tiny test model scores every text far below the default cut-off a CLIP model needs: none here.
    await page.waitForFunction(`customElements.get('reprise-search')`);
    await page.evaluate(`for (const el of document.querySelectorAll('reprise-search')) el.minScore = 'none'`);
    const input = page.locator('reprise-search input[type=search]');
    await input.fill(q);
    await input.press('Enter');
    await page.waitForFunction(`window.__events.some((e) => e.type === 'reprise-results' && e.detail.query.kind === 'text')`);
    const results = (await recordedEvents(page)).filter((e) => e.type === 'reprise-results');
    return results[results.length - 1]!.detail as { hits: Array<{ canvas: { id: string }; manifest: { url: string } }> };
  }

  it('has the examples the tests below run', () => {
    assert.deepEqual(
      examples.map((e) => e.section),
      ['On any page', 'OpenSeadragon', 'Mirador 4', 'Mirador 4', 'Universal Viewer'],
    );
    for (const e of examples) {
      assert.ok(e.html.includes(DOC_SERVER), `the "${e.section}" example names the server as ${DOC_SERVER}`);
      assert.match(e.html, /^<!doctype html>/, `the "${e.section}" example is a whole page`);
    }
  });

  it('lets another origin load the modules under /widget/ (module scripts are fetched with CORS)', async () => {
    for (const bundle of ['reprise-widget.js', 'reprise-mirador.js']) {
      const res = await fetch(`${server.url}/widget/${bundle}`, { headers: { Origin: portalUrl } });
      assert.equal(res.status, 200, bundle);
      const allowed = res.headers.get('access-control-allow-origin');
      assert.ok(
        allowed === '*' || allowed === portalUrl,
        `GET /widget/${bundle} from ${portalUrl} needs Access-Control-Allow-Origin (got ${allowed}), else <script type="module"> and import() refuse it`,
      );
      await res.arrayBuffer();
    }
  });

  it('on any page: searches, and a hit links to the Mirador demo on its canvas', async () => {
    await page.goto(example('On any page'));
    const { hits } = await textSearch('a street in the rain');
    assert.ok(hits.length > 0);
    const first = page.locator('reprise-search reprise-hit').first();
    const href = await first.locator('a.open').getAttribute('href');
    assert.equal(href, `${server.url}/demo/mirador.html?manifest=${encodeURIComponent(hits[0]!.manifest.url)}&canvas=${encodeURIComponent(hits[0]!.canvas.id)}`);
    await first.locator('a.open').click();
    await page.waitForURL(/\/demo\/mirador\.html/);
    await page.waitForFunction(
      `window.repriseViewer && Object.values(window.repriseViewer.store.getState().windows).some((w) => w.canvasId === ${JSON.stringify(hits[0]!.canvas.id)})`,
      undefined,
      { timeout: 30_000 },
    );
    assert.deepEqual(errors, []);
  });

  it('OpenSeadragon: opens a canvas of the manifest and keeps "similar" on it', async () => {
    await page.goto(example('OpenSeadragon'));
    await page.locator('.reprise-region-button').waitFor();
    await page.waitForFunction(`window.__events.some((e) => e.type === 'reprise-results' && e.target === 'reprise-similar')`, undefined, { timeout: 30_000 });
    const similar = (await recordedEvents(page)).find((e) => e.target === 'reprise-similar')!;
    const query = similar.detail.query as { canvas?: string; manifest?: string };
    assert.ok(fixture.inst.manifests[0]!.canvases.some((c) => c.id === query.canvas), `similar runs on a canvas of the manifest: ${JSON.stringify(query)}`);
    await screenshot(page, 'docs-openseadragon');
    assert.deepEqual(errors, []);
  });

  it('Mirador 4: mirador() opens the manifest with the panel, which loads the elements and searches', async () => {
    await page.goto(example('Mirador 4'));
    await page.waitForFunction(`window.miradorViewer && Object.values(window.miradorViewer.store.getState().windows)[0]?.manifestId === ${JSON.stringify(manifest)}`, undefined, { timeout: 30_000 });
    await page.locator('.reprise-search-view').waitFor();
    const { hits } = await textSearch('children on a beach');
    assert.ok(hits.length > 0);
    await screenshot(page, 'docs-mirador');
    assert.deepEqual(errors, []);
  });

  it('Mirador 4: its own configuration with repriseMiradorPlugin()', async () => {
    await page.goto(example('Mirador 4', 1));
    await page.locator('.reprise-search-view').waitFor({ timeout: 30_000 });
    const { hits } = await textSearch('a church');
    assert.ok(hits.length > 0 && hits.length <= 12, `limit 12 from the config's reprise key: ${hits.length} hits`);
    assert.deepEqual(errors, []);
  });

  it('Universal Viewer: search the view, open a hit of another manifest', async function () {
    if (!UV_DIST) {
      console.warn('skipping: Universal Viewer is not installed (npm install --save-dev universalviewer@4.4.0) and UNIVERSALVIEWER_DIST names no dist folder: the UV example cannot run');
      this.skip();
    }
    await page.goto(example('Universal Viewer'));
    // UV's load (similar follows the canvas) and targetChange (the button) come in either order.
    await page.waitForFunction(`typeof uv !== 'undefined' && !document.getElementById('search-view').disabled && document.querySelector('reprise-similar').canvas !== undefined`, undefined, { timeout: 30_000 });
    assert.equal(await page.evaluate(`document.querySelector('reprise-similar').canvas`), fixture.inst.manifests[0]!.canvases[0]!.id, 'similar follows the canvas UV shows');
    await page.locator('#search-view').click();
    await page.waitForFunction(`window.__events.some((e) => e.type === 'reprise-results' && e.detail.query.kind === 'region')`, undefined, { timeout: 30_000 });
    const region = (await recordedEvents(page)).find((e) => e.type === 'reprise-results' && (e.detail.query as { kind: string }).kind === 'region')!;
    const query = region.detail.query as { canvas: string; xywh: string; manifest: string };
    assert.equal(query.canvas, fixture.inst.manifests[0]!.canvases[0]!.id);
    assert.equal(query.manifest, manifest);
    assert.ok((region.detail.hits as unknown[]).length > 0);
    const hits = region.detail.hits as Array<{ canvas: { id: string; index: number }; manifest: { url: string } }>;
    const other = hits.findIndex((h) => h.manifest.url !== manifest);
    await page.locator('reprise-search reprise-hit').nth(other).locator('.open').click();
    // UV loaded the hit's canvas: the example's 'load' listener moved "similar" onto it.
    await page.waitForFunction(
      `document.querySelector('reprise-similar').canvas === ${JSON.stringify(hits[other]!.canvas.id)} && document.querySelector('reprise-similar').manifest === ${JSON.stringify(hits[other]!.manifest.url)}`,
      undefined,
      { timeout: 30_000 },
    );
    await screenshot(page, 'docs-universal-viewer');
    assert.deepEqual(errors, []);
  });
});
