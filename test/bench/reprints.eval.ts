/**
 * npm run eval:reprints — reprint detection on the shared photographs (../shared/fixtures/images:
 * fsa-owi, documerica, met, oldpics, skimage, genthe-loc). Every photograph is indexed; from each,
 * a degraded query is built per intensity (0.1 / 0.5 / 0.9, fixed seed) mixing crop, contrast and
 * gamma, blur, noise, JPEG, rotation, greyscale, halftone and borders, and searched among all.
 * Reported: Recall@1 and @10 per intensity and per degradation (hits at the default threshold,
 * what a user gets), the candidate stage's recall, the false reprint rate at the default threshold
 * (queries with any other photograph accepted), the wrong-pair inlier distribution that calibrates
 * that threshold, negatives (textures, blank pages, tiny images) that must give nothing, the two
 * real Genthe reprint pairs, query p50/p95 and index bytes per image. Writes bench-output/reprints.json.
 *
 * Then printed pages (reprints-pages.eval.ts): newspaper and book pages built from the same
 * photographs, halftoned, searched both ways (the page as the query; the pages indexed and the
 * photographs as queries).
 *
 * EVAL_LIMIT=N queries N photographs per intensity, taken evenly (quick runs); EVAL_SHORTLIST=N
 * verifies N candidates (default: the service's); EVAL_SETS=photos or =pages runs one part;
 * EVAL_PAGES=N builds N pages (default 150); EVAL_BASELINE=1 measures the engine as it was before
 * pages were looked into (no descreening, the whole image only, pages indexed at 640 px).
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp, { type Create } from 'sharp';
import { DEFAULT_EXTRACT, DEFAULT_MIN_INLIERS, extractFeatures } from '../../reprints/features/index.ts';
import { loadDefaultVocabulary } from '../../reprints/features/vocabulary.ts';
import { extractViews } from '../../reprints/features/views.ts';
import { DEFAULT_SHORTLIST, reprintEntries, ReprintService } from '../../reprints/index.ts';
import { ReprintIndex } from '../../reprints/reprint-index/index.ts';
import { decodeImage } from '../../common/index.ts';
import { fixture, fixturesPresent, FIXTURES } from '../support/fixtures.ts';
import { DEGRADATIONS, degrade, rng, type Degradation } from './reprints-degrade.ts';
import { buildPages, evalPages, printPageReport, type PageEvalHooks, type PageEvalReport } from './reprints-pages.eval.ts';

const FOLDERS = ['fsa-owi', 'documerica', 'met', 'oldpics', 'skimage', 'genthe-loc'];
/** EVAL_INTENSITIES=0.9 runs one intensity only (experiments); the report keys stay the three. */
const INTENSITIES = (process.env.EVAL_INTENSITIES ? process.env.EVAL_INTENSITIES.split(',').map(Number) : [0.1, 0.5, 0.9]) as number[];
const TEXTURES = new Set(['skimage/brick.png', 'skimage/grass.png', 'skimage/gravel.png']);
/** Real reprints among the photographs: each is a correct answer for the other. */
const REAL_PAIRS: Array<[string, string]> = [
  ['genthe-loc/kids.jpg', 'genthe-loc/01-children-walking.jpg'],
  ['genthe-loc/fish-market-crop.jpg', 'genthe-loc/01-fishmonger.jpg'],
];
/**
 * Two exposures of one scene from viewpoints a few centimetres apart (a stereo pair): not reprints,
 * but no image matching can tell them from one. Neither correct nor false; counted apart.
 */
const NEAR_DUPLICATES: Array<[string, string]> = [['skimage/motorcycle_left.png', 'skimage/motorcycle_right.png']];
const SEED = 20261121;
const LIMIT = Number(process.env.EVAL_LIMIT ?? Infinity);
const SHORTLIST = Number(process.env.EVAL_SHORTLIST ?? DEFAULT_SHORTLIST);
const THRESHOLD = DEFAULT_MIN_INLIERS;
// Experiments: EVAL_QUERY_KEYPOINTS (query-side keypoint budget; 400 changed nothing on a 180-query run).
const BASELINE = process.env.EVAL_BASELINE === '1';
const INDEX_EXTRACT = BASELINE ? { ...DEFAULT_EXTRACT, descreen: false } : DEFAULT_EXTRACT;
const SETS = new Set((process.env.EVAL_SETS ?? 'photos,pages').split(','));
const PAGES = Number(process.env.EVAL_PAGES ?? 150);
const QUERY_EXTRACT = { ...INDEX_EXTRACT, ...(process.env.EVAL_QUERY_KEYPOINTS ? { maxKeypoints: Number(process.env.EVAL_QUERY_KEYPOINTS) } : {}) };

if (!fixturesPresent) {
  console.error(`eval:reprints needs the shared photographs at ${FIXTURES} (set REPRISE_FIXTURES)`);
  process.exit(1);
}

const partner = new Map<string, string>();
for (const [a, b] of REAL_PAIRS) {
  partner.set(a, b);
  partner.set(b, a);
}
const correct = (query: string, hit: string) => hit === query || partner.get(query) === hit;
const nearDuplicate = new Map(NEAR_DUPLICATES.flatMap(([a, b]) => [[a, b], [b, a]] as Array<[string, string]>));

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
};
const pct = (x: number) => (100 * x).toFixed(1);

const images = FOLDERS.flatMap((folder) =>
  readdirSync(fixture('images', folder))
    .filter((f) => /\.(jpe?g|png|tiff?|webp)$/i.test(f))
    .sort()
    .map((f) => `${folder}/${f}`),
);

const dir = mkdtempSync(path.join(os.tmpdir(), 'reprise-eval-reprints-'));
const index = ReprintIndex.open(dir, loadDefaultVocabulary());
const service = new ReprintService(index);

console.log(`indexing ${images.length} photographs…`);
const extractMs: number[] = [];
let emptyOriginals: string[] = [];
for (const id of images) {
  const bytes = readFileSync(fixture('images', id));
  const started = performance.now();
  const features = await extractFeatures(bytes, INDEX_EXTRACT);
  extractMs.push(performance.now() - started);
  if (features.empty) emptyOriginals.push(`${id}: ${features.empty}`);
  index.upsert([{ id, item: { label: id }, features }]);
}
const indexBytes = index.diskBytes();
const indexBytesPerImage = indexBytes / images.length;

interface QueryResult {
  id: string;
  intensity: number;
  applied: Degradation[];
  rank1: boolean;
  rank10: boolean;
  rawRank1: boolean;
  inShortlist: boolean;
  trueInliers: number;
  wrongAccepted: boolean;
  nearDuplicateAccepted: boolean;
  maxWrongInliers: number;
  extractMs: number;
  searchMs: number;
  params: Record<string, number | string>;
}

const results: QueryResult[] = [];

/** How pages are searched and indexed: as the API searches an upload, and as a harvest indexes a canvas. */
const PAGE_HOOKS: PageEvalHooks = {
  async search(pageService, bytes, options) {
    if (BASELINE) return pageService.search(await extractFeatures(bytes, QUERY_EXTRACT), options);
    // As the API and the CLI search an upload: the image whole and each picture printed in it.
    return pageService.searchViews((await extractViews(bytes)).views, options);
  },
  async indexEntries(id, bytes) {
    const meta = await sharp(bytes).metadata();
    // As a harvest indexes a canvas: the page at REPRINT_IMAGE_SIDE (2,000 px here), whole and each picture printed on it.
    if (!BASELINE) return reprintEntries(id, { label: id, canvasWidth: meta.width, canvasHeight: meta.height }, (await extractViews(bytes)).views);
    // As harvested before: the page delivered at harvest.imageSize (640) on its long side, decoded, analysed.
    const image = await decodeImage(await sharp(bytes).resize(640, 640, { fit: 'inside' }).jpeg({ quality: 85 }).toBuffer(), { longSide: 640, maxInputPixels: 100_000_000 });
    const features = await extractFeatures({ data: image.data, width: image.width, height: image.height, channels: image.channels }, INDEX_EXTRACT);
    return [{ id, item: { label: id, canvasWidth: meta.width, canvasHeight: meta.height }, features }];
  },
};
const photographs = images.filter((id) => !TEXTURES.has(id));
// A quick run takes photographs evenly across the folders, not the first folder only.
const stride = Number.isFinite(LIMIT) ? Math.max(1, Math.floor(photographs.length / LIMIT)) : 1;
// Seeds follow a photograph's place among all photographs, so a quick run repeats the full run's queries.
const position = new Map(photographs.map((id, i) => [id, i]));
const queryIds = SETS.has('photos') ? photographs.filter((_, i) => i % stride === 0).slice(0, LIMIT) : [];
for (const intensity of queryIds.length ? INTENSITIES : []) {
  console.log(`queries at intensity ${intensity}…`);
  for (const id of queryIds) {
    const i = position.get(id)!;
    const random = rng(SEED + Math.round(intensity * 1000) * 100_003 + i * 7919);
    const kinds = DEGRADATIONS.filter((k, j) => j === i % DEGRADATIONS.length || random() < 0.3);
    const query = await degrade(readFileSync(fixture('images', id)), intensity, kinds, random);
    const t0 = performance.now();
    const features = await extractFeatures(query.bytes, QUERY_EXTRACT);
    const t1 = performance.now();
    const hits = service.search(features, { limit: 50, minInliers: 3, shortlist: SHORTLIST });
    const t2 = performance.now();
    const words = index.vocabulary.assignSoft(features.descriptors);
    const shortlist = index.candidates(words, SHORTLIST).map((c) => index.imageByDoc(c.doc)?.id);
    const accepted = hits.filter((h) => h.inliers >= THRESHOLD);
    const wrong = hits.filter((h) => !correct(id, h.id) && nearDuplicate.get(id) !== h.id);
    const nearDuplicateAccepted = hits.some((h) => nearDuplicate.get(id) === h.id && h.inliers >= THRESHOLD);
    results.push({
      id,
      intensity,
      applied: query.applied,
      rank1: !!accepted[0] && correct(id, accepted[0].id),
      rank10: accepted.slice(0, 10).some((h) => correct(id, h.id)),
      rawRank1: !!hits[0] && correct(id, hits[0].id),
      inShortlist: shortlist.some((s) => s !== undefined && correct(id, s)),
      trueInliers: hits.find((h) => correct(id, h.id))?.inliers ?? 0,
      wrongAccepted: wrong.some((h) => h.inliers >= THRESHOLD),
      nearDuplicateAccepted,
      maxWrongInliers: Math.max(0, ...wrong.map((h) => h.inliers)),
      extractMs: t1 - t0,
      searchMs: t2 - t1,
      params: query.params,
    });
  }
}

// Negatives: nothing may be reported for textures, blank pages or tiny images.
const negatives: Array<{ name: string; hits: number; maxInliers: number; empty?: string }> = [];
async function negative(name: string, bytes: Buffer) {
  const features = await extractFeatures(bytes, QUERY_EXTRACT);
  const hits = service.search(features, { limit: 10, minInliers: 3, shortlist: SHORTLIST }).filter((h) => !(TEXTURES.has(name.split('@')[0]!) && h.id === name.split('@')[0]));
  negatives.push({ name, hits: hits.filter((h) => h.inliers >= THRESHOLD).length, maxInliers: Math.max(0, ...hits.map((h) => h.inliers)), ...(features.empty ? { empty: features.empty } : {}) });
}
for (const texture of TEXTURES) {
  for (const intensity of INTENSITIES) {
    const random = rng(SEED + 17 + Math.round(intensity * 1000));
    await negative(`${texture}@${intensity}`, (await degrade(readFileSync(fixture('images', texture)), intensity, ['crop', 'jpeg'], random)).bytes);
  }
}
for (const [i, background] of ['#ffffff', '#f4efe1', '#e8e0c8', '#202020', '#9a9a9a'].entries()) {
  const page = await sharp({ create: { width: 900, height: 1200, channels: 3, background, noise: i % 2 ? { type: 'gaussian', mean: 0, sigma: 6 } : undefined } as Create })
    .jpeg({ quality: 70 })
    .toBuffer();
  await negative(`blank page ${background}${i % 2 ? ' + grain' : ''}`, page);
}
for (const id of queryIds.filter((_, i) => i % 100 === 0)) {
  await negative(`tiny ${id} (40 px)`, await sharp(readFileSync(fixture('images', id))).resize(40, 40, { fit: 'inside' }).jpeg().toBuffer());
}

// The two real reprint pairs, each way, the query itself excluded.
const realPairs: Array<{ query: string; expected: string; rank1: boolean; inliers: number; top?: string }> = [];
for (const [query, expected] of [...REAL_PAIRS, ...REAL_PAIRS.map(([a, b]) => [b, a] as [string, string])]) {
  const hits = service.search(await extractFeatures(readFileSync(fixture('images', query)), QUERY_EXTRACT), { excludeId: query, shortlist: SHORTLIST });
  realPairs.push({ query, expected, rank1: hits[0]?.id === expected, inliers: hits.find((h) => h.id === expected)?.inliers ?? 0, top: hits[0]?.id });
}

const rate = (rs: QueryResult[], key: 'rank1' | 'rank10' | 'rawRank1' | 'inShortlist' | 'wrongAccepted') => (rs.length ? rs.filter((r) => r[key]).length / rs.length : NaN);
const byIntensity = Object.fromEntries(INTENSITIES.map((i) => [String(i), results.filter((r) => r.intensity === i)]));
const byDegradation = Object.fromEntries(DEGRADATIONS.map((d) => [d, results.filter((r) => r.applied.includes(d))]));
const totalMs = results.map((r) => r.extractMs + r.searchMs);
const searchMs = results.map((r) => r.searchMs);
const wrongInliers = results.map((r) => r.maxWrongInliers);
const falseAt = (t: number) => results.filter((r) => r.maxWrongInliers >= t).length / results.length;

const report = {
  photographs: images.length,
  queries: results.length,
  threshold: THRESHOLD,
  shortlist: SHORTLIST,
  recallAt1: Object.fromEntries(Object.entries(byIntensity).map(([k, rs]) => [k, rate(rs, 'rank1')])),
  recallAt10: Object.fromEntries(Object.entries(byIntensity).map(([k, rs]) => [k, rate(rs, 'rank10')])),
  recallAt1Unthresholded: Object.fromEntries(Object.entries(byIntensity).map(([k, rs]) => [k, rate(rs, 'rawRank1')])),
  shortlistRecall: Object.fromEntries(Object.entries(byIntensity).map(([k, rs]) => [k, rate(rs, 'inShortlist')])),
  perDegradation: Object.fromEntries(
    Object.entries(byDegradation).map(([d, rs]) => [
      d,
      Object.fromEntries(INTENSITIES.map((i) => [String(i), { queries: rs.filter((r) => r.intensity === i).length, recallAt1: rate(rs.filter((r) => r.intensity === i), 'rank1'), recallAt10: rate(rs.filter((r) => r.intensity === i), 'rank10') }])),
    ]),
  ),
  falseReprintRate: rate(results, 'wrongAccepted'),
  falseReprintRateCountingStereoPair: results.filter((r) => r.wrongAccepted || r.nearDuplicateAccepted).length / results.length,
  falseReprintRateAtInliers: Object.fromEntries([6, 8, 9, 10, 12, 15].map((t) => [String(t), falseAt(t)])),
  maxWrongInliers: Math.max(...wrongInliers),
  negatives,
  negativesReported: negatives.filter((n) => n.hits > 0).length,
  realPairs,
  queryP50Ms: percentile(totalMs, 50),
  queryP95Ms: percentile(totalMs, 95),
  searchP50Ms: percentile(searchMs, 50),
  searchP95Ms: percentile(searchMs, 95),
  extractP50Ms: percentile(extractMs, 50),
  indexBytesPerImage,
  emptyOriginals,
  misses: results
    .filter((r) => !r.rank1)
    .map((r) => ({ id: r.id, intensity: r.intensity, applied: r.applied, params: r.params, trueInliers: r.trueInliers, inShortlist: r.inShortlist, maxWrongInliers: r.maxWrongInliers })),
  falseReprints: results.filter((r) => r.wrongAccepted).map((r) => ({ id: r.id, intensity: r.intensity, maxWrongInliers: r.maxWrongInliers })),
};

if (results.length) {
console.log(`\nreprints — ${images.length} photographs, ${results.length} degraded queries, threshold ${THRESHOLD} inliers, shortlist ${SHORTLIST}`);
console.log('| intensity | Recall@1 | Recall@10 | Recall@1 (no threshold) | in shortlist |');
console.log('|---|---|---|---|---|');
for (const i of INTENSITIES) {
  const k = String(i);
  console.log(`| ${k} | ${pct(report.recallAt1[k]!)} % | ${pct(report.recallAt10[k]!)} % | ${pct(report.recallAt1Unthresholded[k]!)} % | ${pct(report.shortlistRecall[k]!)} % |`);
}
console.log('\n| degradation | R@1 0.1 | R@1 0.5 | R@1 0.9 | R@10 0.9 | queries |');
console.log('|---|---|---|---|---|---|');
for (const d of DEGRADATIONS) {
  const row = report.perDegradation[d]!;
  console.log(`| ${d} | ${pct(row['0.1']?.recallAt1 ?? NaN)} | ${pct(row['0.5']?.recallAt1 ?? NaN)} | ${pct(row['0.9']?.recallAt1 ?? NaN)} | ${pct(row['0.9']?.recallAt10 ?? NaN)} | ${byDegradation[d]!.length} |`);
}
console.log(`\nfalse reprint rate at ${THRESHOLD} inliers: ${pct(report.falseReprintRate)} % of queries (max wrong-pair inliers ${report.maxWrongInliers}; at ≥8: ${pct(falseAt(8))} %, ≥6: ${pct(falseAt(6))} %)`);
console.log(`counting the motorcycle stereo pair as false: ${pct(report.falseReprintRateCountingStereoPair)} % (${results.filter((r) => r.nearDuplicateAccepted).length} queries)`);
console.log(`negatives reported: ${report.negativesReported} of ${negatives.length} (textures, blank pages, tiny images)`);
for (const p of realPairs) console.log(`real pair ${p.query} → ${p.expected}: ${p.rank1 ? 'rank 1' : `MISSED (top ${p.top ?? 'none'})`}, ${p.inliers} inliers`);
console.log(`query p50 ${report.queryP50Ms.toFixed(0)} ms, p95 ${report.queryP95Ms.toFixed(0)} ms (search alone p50 ${report.searchP50Ms.toFixed(1)} ms, p95 ${report.searchP95Ms.toFixed(1)} ms; extraction of an original p50 ${report.extractP50Ms.toFixed(0)} ms)`);
console.log(`index ${(indexBytesPerImage / 1024).toFixed(1)} KB per image on disk`);
if (emptyOriginals.length) console.log(`photographs without features: ${emptyOriginals.join('; ')}`);
console.log(`misses: ${report.misses.length}`);
for (const m of report.misses) console.log(`  ${m.intensity} ${m.id} [${m.applied.join(',')}] true inliers ${m.trueInliers}, shortlisted ${m.inShortlist}, max wrong ${m.maxWrongInliers} ${JSON.stringify(m.params)}`);
}

// Printed pages, both directions (reprints-pages.eval.ts).
let pagesReport: PageEvalReport | undefined;
if (SETS.has('pages')) {
  const noFeatures = new Set(emptyOriginals.map((e) => e.split(':')[0]!));
  const printable = photographs.filter((id) => !noFeatures.has(id));
  console.log(`\nprinting ${PAGES} pages…`);
  const pages = await buildPages({ photographs: printable, read: (id) => readFileSync(fixture('images', id)), pages: PAGES, seed: SEED });
  pagesReport = await evalPages(
    {
      photographs: printable,
      read: (id) => readFileSync(fixture('images', id)),
      photoService: service,
      vocabulary: index.vocabulary,
      makeService: (pageIndex) => new ReprintService(pageIndex),
      pages: PAGES,
      seed: SEED,
      threshold: THRESHOLD,
      shortlist: SHORTLIST,
      hooks: PAGE_HOOKS,
      sameAs: (a, b) => correct(a, b) || nearDuplicate.get(a) === b,
      log: (line) => console.log(line),
    },
    pages,
  );
  printPageReport(pagesReport, THRESHOLD, (line) => console.log(line));
}

mkdirSync('bench-output', { recursive: true });
writeFileSync(path.join('bench-output', process.env.EVAL_OUT ?? 'reprints.json'), JSON.stringify({ ...(results.length ? report : {}), ...(pagesReport ? { pages: pagesReport } : {}) }, null, 2));
index.close();
rmSync(dir, { recursive: true, force: true });
