/**
 * Chromium for the widget's browser tests: Debian's `chromium` (apt-get install chromium), driven
 * by playwright-core. Suites that need it call requireChromium(this) and skip, saying why, when
 * it is missing; chromiumForSuite() and pagePerTest() register the hooks every such suite repeats
 * (one browser for the file, a fresh page per test). Screenshots go to test-output/widget/
 * (git-ignored).
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const SCREENSHOT_DIR = path.join(ROOT, 'test-output', 'widget');

/** REPRISE_CHROMIUM when set (and then only it), else Debian's binary. */
const CANDIDATES = process.env.REPRISE_CHROMIUM ? [process.env.REPRISE_CHROMIUM] : ['/usr/bin/chromium', '/usr/bin/chromium-browser'];
export const chromiumPath: string | undefined = CANDIDATES.find((p) => existsSync(p));

/** The flags CI runs Chromium with: no sandbox (containers), no GPU, nothing that phones home. */
const ARGS = ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export function requireChromium(suite: Mocha.Suite): void {
  suite.beforeAll(function () {
    if (!chromiumPath) {
      console.warn(`skipping: Chromium not found at ${CANDIDATES.join(' or ')} (install Debian's "chromium" package, or set REPRISE_CHROMIUM to its path)`);
      this.skip();
    }
  });
}

export function launchChromium(): Promise<Browser> {
  // headless: playwright passes --headless itself.
  return chromium.launch({ executablePath: chromiumPath!, headless: true, args: ARGS, timeout: 60_000 });
}

/** The two widths the demo pages are checked at: a desktop, and a 390 px phone. */
export const DESKTOP = { width: 1400, height: 900 };
export const PHONE = { width: 390, height: 844 };

/**
 * One Chromium for the suite: launched before its tests (after the hooks registered before this
 * call, requireChromium's among them), handed to `bind`, closed after them.
 */
export function chromiumForSuite(suite: Mocha.Suite, bind: (browser: Browser) => void): void {
  let browser: Browser | undefined;
  suite.beforeAll(async () => {
    browser = await launchChromium();
    bind(browser);
  });
  suite.afterAll(async () => {
    await browser?.close();
  });
}

export interface PageOptions {
  /** The page's viewport (default DESKTOP). */
  viewport?: { width: number; height: number };
  /** Record the widget's events and the page's fetches (RECORDER; default true). */
  record?: boolean;
  /** Where a test fails, a screenshot of its page first: `${failureShots}-${test title}-failed.png`. */
  failureShots?: string;
}

/**
 * A fresh page for each test of the suite, opened in `browser()`, handed to `bind` before the
 * suite's own beforeEach hooks registered after this call run, and closed after the test.
 */
export function pagePerTest(suite: Mocha.Suite, browser: () => Browser, bind: (page: Page) => void, options: PageOptions = {}): void {
  let page: Page | undefined;
  suite.beforeEach(async () => {
    page = await browser().newPage({ viewport: options.viewport ?? DESKTOP });
    if (options.record ?? true) await page.addInitScript(RECORDER);
    bind(page);
  });
  suite.afterEach(async function () {
    const test = this.currentTest;
    if (options.failureShots && test?.state === 'failed' && page) await screenshot(page, `${options.failureShots}-${test.title.replace(/\W+/g, '-')}-failed`);
    await page?.close();
  });
}

export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: false });
  return file;
}

/**
 * Records the widget's events on the page (window.__events) and every fetch with whether it was
 * aborted (window.__fetches). Run before the page's scripts (addInitScript).
 */
export const RECORDER = `
  window.__events = [];
  for (const type of ['reprise-results', 'reprise-select', 'reprise-error', 'reprise-mark', 'reprise-compare']) {
    document.addEventListener(type, (e) => {
      let detail;
      try { detail = JSON.parse(JSON.stringify(e.detail)); } catch { detail = String(e.detail); }
      window.__events.push({ type, detail, target: e.target && e.target.localName });
      if (type === 'reprise-select' && window.__preventSelect) e.preventDefault();
    });
  }
  window.__fetches = [];
  const realFetch = window.fetch.bind(window);
  window.fetch = (input, init) => {
    const form = init && init.body instanceof FormData ? [...init.body.values()] : undefined;
    const record = { url: String(input instanceof Request ? input.url : input), method: (init && init.method) || 'GET', body: init && typeof init.body === 'string' ? init.body : undefined,
      // Uploads: the bytes of the files sent (the browser's request observers do not see a multipart body made of Blobs).
      uploadBytes: form ? form.reduce((n, v) => n + (v instanceof Blob ? v.size : 0), 0) : undefined, aborted: false };
    window.__fetches.push(record);
    if (init && init.signal) init.signal.addEventListener('abort', () => { record.aborted = true; });
    return realFetch(input, init);
  };
`;

export interface RecordedEvent {
  type: string;
  detail: Record<string, unknown>;
  target?: string;
}

export interface RecordedFetch {
  url: string;
  method: string;
  body?: string;
  /** For a multipart upload: the bytes of its files. */
  uploadBytes?: number;
  aborted: boolean;
}

export const recordedEvents = (page: Page): Promise<RecordedEvent[]> => page.evaluate('window.__events') as Promise<RecordedEvent[]>;
export const recordedFetches = (page: Page): Promise<RecordedFetch[]> => page.evaluate('window.__fetches') as Promise<RecordedFetch[]>;
