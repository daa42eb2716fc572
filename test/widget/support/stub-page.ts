/**
 * A page on a made-up origin whose every request is answered from this process: the widget
 * bundle from viewer-widget/dist, thumbnails as a tiny PNG, and the API from a handler each test
 * sets. Element tests need no server and see every API call the elements make.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, Page, Route } from 'playwright-core';
import { buildWidget, WIDGET_BUNDLE, WIDGET_DIST } from '../../../viewer-widget/build.ts';
import { RECORDER } from './browser.ts';

export const ORIGIN = 'http://reprise.test';

/** A 1×1 grey PNG. */
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mN8/5+hHgAHggJ/PchI7wAAAABJRU5ErkJggg==', 'base64');

export interface ApiRequest {
  method: string;
  /** Path under /api/, e.g. "search" or "items/x/similar". */
  path: string;
  params: URLSearchParams;
  body: unknown;
}

export type ApiAnswer = { status?: number; body: unknown; delayMs?: number };
export type ApiHandler = (req: ApiRequest) => ApiAnswer | Promise<ApiAnswer>;

export interface StubPage {
  page: Page;
  /** Every API request, in order. */
  requests: ApiRequest[];
  setApi(handler: ApiHandler): void;
  close(): Promise<void>;
}

let bundle: Promise<Buffer> | undefined;
/** The bundle as `reprise serve` would serve it (built if missing or stale). */
export function widgetBundle(): Promise<Buffer> {
  bundle ??= buildWidget().then(() => readFile(path.join(WIDGET_DIST, WIDGET_BUNDLE)));
  return bundle;
}

export async function openStubPage(browser: Browser, opts: { lang?: string } = {}): Promise<StubPage> {
  const code = await widgetBundle();
  const page = await browser.newPage({ viewport: { width: 1000, height: 800 } });
  await page.addInitScript(RECORDER);
  const requests: ApiRequest[] = [];
  let handler: ApiHandler = () => ({ status: 404, body: { type: 'urn:reprise:problem:not-found', title: 'Not found', status: 404, detail: 'no handler' } });
  await page.route(`${ORIGIN}/**`, async (route: Route) => {
    const request = route.request();
    const url = new URL(request.url());
    if (url.pathname === '/') {
      return route.fulfill({
        contentType: 'text/html',
        body: `<!doctype html><html lang="${opts.lang ?? 'en'}"><head><script type="module" src="/widget/${WIDGET_BUNDLE}"></script></head><body></body></html>`,
      });
    }
    if (url.pathname === `/widget/${WIDGET_BUNDLE}`) return route.fulfill({ contentType: 'text/javascript', body: code });
    if (url.pathname.startsWith('/img/')) return route.fulfill({ contentType: 'image/png', body: PNG });
    if (url.pathname.startsWith('/api/')) {
      const raw = request.postData();
      const req: ApiRequest = { method: request.method(), path: url.pathname.slice('/api/'.length), params: url.searchParams, body: raw ? (JSON.parse(raw) as unknown) : undefined };
      requests.push(req);
      const answer = await handler(req);
      if (answer.delayMs) await new Promise((r) => setTimeout(r, answer.delayMs));
      const status = answer.status ?? 200;
      // The page may have given up on it (a cancelled search): nothing to answer then.
      return route
        .fulfill({ status, contentType: status >= 400 ? 'application/problem+json' : 'application/json', body: JSON.stringify(answer.body) })
        .catch(() => undefined);
    }
    return route.fulfill({ status: 404, body: 'not found' });
  });
  await page.goto(`${ORIGIN}/`);
  await page.waitForFunction(`customElements.get('reprise-search') && customElements.get('reprise-similar') && customElements.get('reprise-hit')`);
  return {
    page,
    requests,
    setApi: (h) => (handler = h),
    close: () => page.close(),
  };
}

/** A hit as the API answers it. */
export function fakeHit(n: number, extra: Record<string, unknown> = {}) {
  return {
    id: `item-${n}`,
    score: 0.9 - n / 100,
    canvas: { id: `https://example.org/canvas/${n}`, label: `Canvas ${n}`, width: 1000, height: 800 },
    manifest: { id: `https://example.org/manifest/${Math.floor(n / 2)}`, url: `https://example.org/manifest/${Math.floor(n / 2)}.json`, label: `Manifest ${Math.floor(n / 2)}` },
    thumbnail: `${ORIGIN}/img/${n}.png`,
    rights: 'http://creativecommons.org/publicdomain/mark/1.0/',
    requiredStatement: { label: 'Attribution', value: `Library ${n}` },
    collections: ['Photographs'],
    ...extra,
  };
}

export const page = (hits: unknown[], extra: Record<string, unknown> = {}) => ({ body: { hits, total: hits.length, limit: 24, offset: 0, scoreKind: 'cosine', ...extra } });
