/**
 * The printed-page part of eval:reprints (reprints.eval.ts runs it): pages built from the shared
 * photographs (reprints-pages.ts) searched both ways.
 *
 * - Pages as queries: each page is searched among the indexed photographs; each photograph printed
 *   on it counts as found at rank 1 when it is the first accepted hit apart from the page's other
 *   photographs. A hit of any photograph not on the page, at the default threshold, is a false reprint.
 * - Pages in the index: the pages are indexed as a harvest indexes them (at the harvest's reprint
 *   size), and each printed photograph's original file is the query; found at rank 1 when the first
 *   accepted hit is its page. The photographs printed nowhere are queried too: any page they
 *   return is a false reprint.
 *
 * Regions are checked as well: the matched region (page coordinates) must overlap where the
 * photograph was printed (intersection over union ≥ 0.5).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Rect } from '../../reprints/features/index.ts';
import type { Vocabulary } from '../../reprints/features/vocabulary.ts';
import type { ReprintHit, ReprintService } from '../../reprints/index.ts';
import { ReprintIndex, type ReprintEntry } from '../../reprints/reprint-index/index.ts';
import { printPage, rng, type PrintedPage } from './reprints-pages.ts';

export interface PageEvalHooks {
  /** Searches a page (or any image) as the API does: its bytes in, hits with regions in its pixels out. */
  search(service: ReprintService, bytes: Buffer, options: { limit: number; minInliers: number; shortlist: number }): Promise<ReprintHit[]>;
  /** What a harvest stores for a page delivered as these bytes. */
  indexEntries(id: string, bytes: Buffer): Promise<ReprintEntry[]>;
}

export interface PageEvalInput {
  /** Photograph ids (folder/file) that can be printed, in a stable order. */
  photographs: string[];
  read: (id: string) => Buffer;
  /** The index of every photograph, for pages as queries. */
  photoService: ReprintService;
  vocabulary: Vocabulary;
  makeService: (index: ReprintIndex) => ReprintService;
  pages: number;
  seed: number;
  threshold: number;
  shortlist: number;
  hooks: PageEvalHooks;
  /** Photograph ids that count as correct for each other (real reprint pairs, the stereo pair). */
  sameAs: (a: string, b: string) => boolean;
  log: (line: string) => void;
}

const iou = (a: Rect, b: Rect): number => {
  const x0 = Math.max(a.x, b.x);
  const y0 = Math.max(a.y, b.y);
  const x1 = Math.min(a.x + a.w, b.x + b.w);
  const y1 = Math.min(a.y + a.h, b.y + b.h);
  const inter = Math.max(0, x1 - x0) * Math.max(0, y1 - y0);
  const union = a.w * a.h + b.w * b.h - inter;
  return union > 0 ? inter / union : 0;
};

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
};

/** A fixed mix: newspapers with 1–3 photographs, books with 1–2, and a few pages of text alone. */
export async function buildPages(input: Pick<PageEvalInput, 'photographs' | 'read' | 'pages' | 'seed'>): Promise<PrintedPage[]> {
  const random = rng(input.seed);
  const order = [...input.photographs];
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const pages: PrintedPage[] = [];
  let next = 0;
  for (let p = 0; p < input.pages; p++) {
    const pageRandom = rng(input.seed + 7919 * (p + 1));
    const kind = p % 10 < 7 ? 'newspaper' : 'book';
    const textOnly = p % 15 === 14;
    const r = pageRandom();
    const count = textOnly ? 0 : kind === 'newspaper' ? (r < 0.5 ? 1 : r < 0.85 ? 2 : 3) : r < 0.8 ? 1 : 2;
    const photos = [];
    for (let i = 0; i < count && next < order.length; i++, next++) photos.push({ id: order[next]!, bytes: input.read(order[next]!) });
    pages.push(await printPage(kind, photos, pageRandom));
  }
  return pages;
}

/** EVAL_PAGE_SIDES=query or =index runs one direction (experiments). */
const SIDES = new Set((process.env.EVAL_PAGE_SIDES ?? 'query,index').split(','));

export async function evalPages(input: PageEvalInput, pages: PrintedPage[]) {
  const { threshold, shortlist, hooks } = input;
  const options = { limit: 50, minInliers: 3, shortlist };
  const printed = new Set(pages.flatMap((p) => p.photos.map((ph) => ph.id)));

  // Pages as queries, among the indexed photographs.
  input.log(`pages as queries: ${pages.length} pages, ${printed.size} printed photographs…`);
  const asQuery: Array<{ page: number; id: string; rank1: boolean; rawRank1: boolean; inliers: number; iou: number; widthFraction: number; params: object }> = [];
  const pageFalse: Array<{ page: number; wrong: string; inliers: number }> = [];
  const pageMs: number[] = [];
  const pageCpuMs: number[] = [];
  let maxWrongPageQuery = 0;
  for (const [n, page] of SIDES.has('query') ? pages.entries() : []) {
    const started = performance.now();
    const cpu = process.cpuUsage();
    const hits = await hooks.search(input.photoService, page.bytes, options);
    pageMs.push(performance.now() - started);
    const used = process.cpuUsage(cpu);
    // CPU of the whole process (the extraction threads included): what a query costs whatever else the machine runs.
    pageCpuMs.push((used.user + used.system) / 1000);
    const onPage = (id: string) => page.photos.some((ph) => ph.id === id || input.sameAs(ph.id, id));
    const accepted = hits.filter((h) => h.inliers >= threshold);
    for (const h of hits.filter((h) => !onPage(h.id))) {
      maxWrongPageQuery = Math.max(maxWrongPageQuery, h.inliers);
      if (h.inliers >= threshold) pageFalse.push({ page: n, wrong: h.id, inliers: h.inliers });
    }
    for (const photo of page.photos) {
      const others = (h: ReprintHit) => h.id !== photo.id && onPage(h.id);
      const first = accepted.find((h) => !others(h));
      const raw = hits.find((h) => !others(h));
      const mine = hits.find((h) => h.id === photo.id);
      asQuery.push({
        page: n,
        id: photo.id,
        rank1: first?.id === photo.id,
        rawRank1: raw?.id === photo.id,
        inliers: mine?.inliers ?? 0,
        iou: mine ? iou(mine.queryRegion, photo.box) : 0,
        widthFraction: photo.widthFraction,
        params: photo.params,
      });
    }
  }

  // Pages in the index, the photographs as queries.
  input.log('pages in the index…');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'reprise-eval-pages-'));
  const index = ReprintIndex.open(dir, input.vocabulary);
  const service = input.makeService(index);
  const indexCpuMs: number[] = [];
  const indexWallMs: number[] = [];
  const pageIds = pages.map((_, n) => `page-${String(n).padStart(4, '0')}`);
  let entries = 0;
  for (const [n, page] of SIDES.has('index') ? pages.entries() : []) {
    const cpu = process.cpuUsage();
    const started = performance.now();
    const built = await hooks.indexEntries(pageIds[n]!, page.bytes);
    indexWallMs.push(performance.now() - started);
    const used = process.cpuUsage(cpu);
    indexCpuMs.push((used.user + used.system) / 1000);
    entries += built.length;
    index.upsert(built);
  }
  const bytesPerPage = index.diskBytes() / pages.length;
  const queries = SIDES.has('index') ? input.photographs : [];
  const inIndex: Array<{ id: string; page: number; rank1: boolean; rawRank1: boolean; inliers: number; iou: number; widthFraction: number; params: object }> = [];
  const photoFalse: Array<{ query: string; wrong: string; inliers: number }> = [];
  const photoMs: number[] = [];
  let maxWrongPhotoQuery = 0;
  for (const id of queries) {
    const started = performance.now();
    const hits = await hooks.search(service, input.read(id), options);
    photoMs.push(performance.now() - started);
    const homes = new Set(pages.flatMap((p, n) => (p.photos.some((ph) => ph.id === id || input.sameAs(ph.id, id)) ? [pageIds[n]!] : [])));
    for (const h of hits.filter((h) => !homes.has(h.id))) {
      maxWrongPhotoQuery = Math.max(maxWrongPhotoQuery, h.inliers);
      if (h.inliers >= threshold) photoFalse.push({ query: id, wrong: h.id, inliers: h.inliers });
    }
    pages.forEach((page, n) => {
      const photo = page.photos.find((ph) => ph.id === id);
      if (!photo) return;
      const accepted = hits.filter((h) => h.inliers >= threshold);
      const mine = hits.find((h) => h.id === pageIds[n]);
      inIndex.push({
        id,
        page: n,
        rank1: accepted[0]?.id === pageIds[n],
        rawRank1: hits[0]?.id === pageIds[n],
        inliers: mine?.inliers ?? 0,
        iou: mine ? iou(mine.region, photo.box) : 0,
        widthFraction: photo.widthFraction,
        params: photo.params,
      });
    });
  }
  index.close();
  rmSync(dir, { recursive: true, force: true });

  const rate = (xs: Array<{ rank1: boolean }>) => (xs.length ? xs.filter((x) => x.rank1).length / xs.length : NaN);
  const rawRate = (xs: Array<{ rawRank1: boolean }>) => (xs.length ? xs.filter((x) => x.rawRank1).length / xs.length : NaN);
  const regionRate = (xs: Array<{ rank1: boolean; iou: number }>) => (xs.length ? xs.filter((x) => x.rank1 && x.iou >= 0.5).length / xs.length : NaN);
  const byWidth = (xs: Array<{ rank1: boolean; widthFraction: number }>) =>
    Object.fromEntries(
      [
        [0.2, 0.3],
        [0.3, 0.45],
        [0.45, 0.61],
      ].map(([lo, hi]) => [`${lo}-${hi}`, rate(xs.filter((x) => x.widthFraction >= lo! && x.widthFraction < hi!))]),
    );
  const byCell = (xs: Array<{ rank1: boolean; params: object }>) =>
    Object.fromEntries([3, 4, 5, 6, 8].map((c) => [String(c), rate(xs.filter((x) => (x.params as { screenCell: number }).screenCell === c))]));
  return {
    pages: pages.length,
    printedPhotographs: asQuery.length,
    pageAsQuery: {
      recallAt1: rate(asQuery),
      recallAt1Unthresholded: rawRate(asQuery),
      recallAt1WithRegion: regionRate(asQuery),
      byWidth: byWidth(asQuery),
      byScreenCell: byCell(asQuery),
      falseReprints: pageFalse.length,
      pagesWithFalseReprint: new Set(pageFalse.map((f) => f.page)).size,
      maxWrongInliers: maxWrongPageQuery,
      queryP50Ms: percentile(pageMs, 50),
      queryP95Ms: percentile(pageMs, 95),
      queryCpuP50Ms: percentile(pageCpuMs, 50),
      queryCpuP95Ms: percentile(pageCpuMs, 95),
      loadAverage: os.loadavg(),
      misses: asQuery.filter((x) => !x.rank1),
      falses: pageFalse,
    },
    pageInIndex: {
      recallAt1: rate(inIndex),
      recallAt1Unthresholded: rawRate(inIndex),
      recallAt1WithRegion: regionRate(inIndex),
      byWidth: byWidth(inIndex),
      byScreenCell: byCell(inIndex),
      queries: input.photographs.length,
      falseReprints: photoFalse.length,
      queriesWithFalseReprint: new Set(photoFalse.map((f) => f.query)).size,
      maxWrongInliers: maxWrongPhotoQuery,
      queryP50Ms: percentile(photoMs, 50),
      queryP95Ms: percentile(photoMs, 95),
      entriesPerPage: entries / pages.length,
      indexBytesPerPage: bytesPerPage,
      extractionCpuMsPerPageP50: percentile(indexCpuMs, 50),
      extractionCpuMsPerPageMean: indexCpuMs.reduce((s, x) => s + x, 0) / indexCpuMs.length,
      extractionWallMsPerPageP50: percentile(indexWallMs, 50),
      misses: inIndex.filter((x) => !x.rank1),
      falses: photoFalse,
    },
  };
}

export type PageEvalReport = Awaited<ReturnType<typeof evalPages>>;

export function printPageReport(r: PageEvalReport, threshold: number, log: (line: string) => void): void {
  const pct = (x: number) => (Number.isNaN(x) ? '–' : (100 * x).toFixed(1));
  const a = r.pageAsQuery;
  const b = r.pageInIndex;
  log(`\nprinted pages — ${r.pages} pages, ${r.printedPhotographs} printed photographs, threshold ${threshold} inliers`);
  log('| direction | Recall@1 | with region (IoU ≥ 0.5) | no threshold | false reprints | max wrong inliers | query p50 | query p95 |');
  log('|---|---|---|---|---|---|---|---|');
  log(`| page as query | ${pct(a.recallAt1)} % | ${pct(a.recallAt1WithRegion)} % | ${pct(a.recallAt1Unthresholded)} % | ${a.falseReprints} (${a.pagesWithFalseReprint} of ${r.pages} pages) | ${a.maxWrongInliers} | ${a.queryP50Ms.toFixed(0)} ms | ${a.queryP95Ms.toFixed(0)} ms |`);
  log(`| photograph as query, pages indexed | ${pct(b.recallAt1)} % | ${pct(b.recallAt1WithRegion)} % | ${pct(b.recallAt1Unthresholded)} % | ${b.falseReprints} (${b.queriesWithFalseReprint} of ${b.queries} queries) | ${b.maxWrongInliers} | ${b.queryP50Ms.toFixed(0)} ms | ${b.queryP95Ms.toFixed(0)} ms |`);
  log(`by printed width (page as query / indexed): ${Object.keys(a.byWidth).map((k) => `${k}: ${pct(a.byWidth[k]!)} / ${pct(b.byWidth[k]!)} %`).join(', ')}`);
  log(`by screen cell px (page as query / indexed): ${Object.keys(a.byScreenCell).map((k) => `${k}: ${pct(a.byScreenCell[k]!)} / ${pct(b.byScreenCell[k]!)} %`).join(', ')}`);
  log(`page query CPU p50 ${a.queryCpuP50Ms.toFixed(0)} ms, p95 ${a.queryCpuP95Ms.toFixed(0)} ms (extraction threads included); load average at the end ${a.loadAverage.map((l) => l.toFixed(1)).join(' / ')} on ${os.cpus().length} cores`);
  log(`index: ${(b.indexBytesPerPage / 1024).toFixed(1)} KB per page on disk (${b.entriesPerPage.toFixed(2)} entries a page), extraction CPU per page p50 ${b.extractionCpuMsPerPageP50.toFixed(0)} ms (mean ${b.extractionCpuMsPerPageMean.toFixed(0)} ms, wall p50 ${b.extractionWallMsPerPageP50.toFixed(0)} ms)`);
  log(`page-as-query misses: ${a.misses.length}`);
  for (const m of a.misses) log(`  page ${m.page} ${m.id} width ${m.widthFraction} inliers ${m.inliers} ${JSON.stringify(m.params)}`);
  for (const f of a.falses) log(`  FALSE page ${f.page} → ${f.wrong} (${f.inliers} inliers)`);
  log(`indexed-page misses: ${b.misses.length}`);
  for (const m of b.misses) log(`  ${m.id} on page ${m.page} width ${m.widthFraction} inliers ${m.inliers} ${JSON.stringify(m.params)}`);
  for (const f of b.falses) log(`  FALSE ${f.query} → ${f.wrong} (${f.inliers} inliers)`);
}
