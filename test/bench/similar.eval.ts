/**
 * npm run eval:similar — similar-item search with real weights: the ONNX Model Zoo's ImageNet
 * MobileNetV2 int8 (../shared/fixtures/models/mobilenetv2-12-int8), loaded as Reprise loads an
 * image classifier (pooled features as the vector), against two model-free baselines computed in
 * the same run on the same decoded pixels: a 64-bit DCT perceptual hash (pHash, Hamming distance)
 * and an RGB colour histogram (8 levels a channel, histogram intersection).
 *
 * The photographs of four sets (../shared/fixtures/images): met (paintings), documerica (colour
 * documentary photographs), fsa-owi (black-and-white documentary photographs), oldpics (halftone
 * portraits). Every photograph queries all the others; precision@10 is the share of its 10
 * nearest that come from its own set (chance: the set's share of the rest). Ties (pHash distances
 * are integers) are broken in a shuffled order, so the sets' file order cannot help.
 * Also: the top-5 ImageNet categories of the named skimage photographs (astronaut, coffee, cat, …).
 *
 * Prints a table; writes bench-output/similar.json. EVAL_PER_SET=N takes N photographs a set (quick runs).
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { modelsSchema } from '../../config/schema.ts';
import { loadEncoders } from '../../models/index.ts';
import { decodeToRgb, type RawRgbImage } from '../../models/preprocess.ts';
import { fixture, fixturesPresent, FIXTURES } from '../support/fixtures.ts';

const SETS = { met: 'paintings', documerica: 'colour documentary', 'fsa-owi': 'b/w documentary', oldpics: 'halftone portraits' } as const;
type SetName = keyof typeof SETS;
const K = 10;
const PER_SET = Number(process.env.EVAL_PER_SET ?? Infinity);
const SEED = 20261207;
/**
 * skimage photographs whose subject is an ImageNet category, with the categories that name it
 * (the astronaut, the cameraman and the coins have none; horse.png is a silhouette).
 */
const EXPECTED: Record<string, string[]> = {
  'coffee.png': ['espresso', 'cup', 'coffee mug'],
  'chelsea.png': ['tabby', 'tiger cat', 'Egyptian cat'],
  'rocket.jpg': ['missile', 'projectile', 'space shuttle'],
  'motorcycle_left.png': ['moped', 'motor scooter'],
  'motorcycle_right.png': ['moped', 'motor scooter'],
  'horse.png': ['sorrel'],
};
const NOT_PHOTOGRAPHS = new Set(['brick.png', 'grass.png', 'gravel.png', 'text.png', 'cell.png', 'retina.jpg', 'clock_motion.png', 'hubble_deep_field.jpg']);

if (!fixturesPresent) {
  console.error(`eval:similar needs the shared photographs and models at ${FIXTURES} (set REPRISE_FIXTURES)`);
  process.exit(1);
}

interface Photo {
  set: SetName;
  file: string;
  rgb: RawRgbImage;
}

const images = (folder: string) => readdirSync(fixture('images', folder)).filter((f) => /\.(jpe?g|png|tiff?)$/i.test(f)).sort();

console.log('decoding photographs…');
const photos: Photo[] = [];
for (const set of Object.keys(SETS) as SetName[]) {
  for (const file of images(set).slice(0, PER_SET)) photos.push({ set, file, rgb: await decodeToRgb(readFileSync(fixture('images', set, file))) });
}
shuffle(photos, SEED);

const enc = await loadEncoders(modelsSchema.parse({ path: fixture('models', 'mobilenetv2-12-int8'), batchSize: 16 }), os.tmpdir());
if (enc.kind !== 'classifier') throw new Error('expected the MobileNetV2 folder to load as an image classifier');
console.log(`embedding ${photos.length} photographs with ${enc.config.modelId} (${enc.classifier.vectorsFrom}, ${enc.config.projectionDim} dimensions)…`);
const t0 = performance.now();
const embedded = await enc.image.embedEach(photos.map((p) => p.rgb));
const embedMs = (performance.now() - t0) / photos.length;
const vectors = embedded.map((e, i) => {
  if (e instanceof Error) throw new Error(`${photos[i]!.set}/${photos[i]!.file}: ${e.message}`);
  return e.vector;
});

console.log('computing pHash and colour histograms…');
const hashes = await Promise.all(photos.map((p) => pHash(p.rgb)));
const histograms = await Promise.all(photos.map((p) => colourHistogram(p.rgb)));

const methods = {
  'MobileNetV2 int8 (pooled features, cosine)': (q: number, c: number) => dot(vectors[q]!, vectors[c]!),
  'pHash 64-bit (Hamming)': (q: number, c: number) => -hamming(hashes[q]!, hashes[c]!),
  'colour histogram 8×8×8 (intersection)': (q: number, c: number) => intersection(histograms[q]!, histograms[c]!),
};

type Row = Record<SetName | 'all', number>;
const results: Record<string, Row> = {};
for (const [name, similarity] of Object.entries(methods)) results[name] = precisionAtK(similarity);
const chance = Object.fromEntries(
  [...(Object.keys(SETS) as SetName[]).map((s) => [s, (photos.filter((p) => p.set === s).length - 1) / (photos.length - 1)]), ['all', mean(photos.map((p) => (photos.filter((o) => o.set === p.set).length - 1) / (photos.length - 1)))]],
) as Row;

console.log('classifying the named photographs…');
const named = images('skimage').filter((f) => !NOT_PHOTOGRAPHS.has(f));
const classified = await enc.image.embedEach(await Promise.all(named.map((f) => decodeToRgb(readFileSync(fixture('images', 'skimage', f))))));
const categories = named.map((file, i) => {
  const r = classified[i]!;
  if (r instanceof Error) return { file, error: r.message };
  const probs = softmax(r.logits!);
  const top5 = [...probs.keys()].sort((a, b) => probs[b]! - probs[a]!).slice(0, 5).map((k) => ({ class: k, name: enc.classifier.classes[k]!, p: round(probs[k]!, 3) }));
  const expected = EXPECTED[file];
  return { file, top5, ...(expected ? { expected, expectedInTop5: top5.some((t) => expected.includes(t.name)) } : {}) };
});
await enc.close();

const pct = (v: number) => (100 * v).toFixed(1);
const sets = Object.keys(SETS) as SetName[];
console.log(`\nsimilar items — precision@${K} (share of the ${K} nearest from the query's own set), ${photos.length} photographs, ${photos.length} queries`);
console.log(`| method | ${sets.map((s) => `${s} (${SETS[s]}, ${photos.filter((p) => p.set === s).length})`).join(' | ')} | all |`);
console.log(`|---|${sets.map(() => '---').join('|')}|---|`);
for (const [name, row] of Object.entries(results)) console.log(`| ${name} | ${sets.map((s) => pct(row[s])).join(' | ')} | ${pct(row.all)} |`);
console.log(`| chance | ${sets.map((s) => pct(chance[s])).join(' | ')} | ${pct(chance.all)} |`);
console.log(`\nembedding: ${embedMs.toFixed(1)} ms per photograph (decoded pixels in, batches of 16, ${os.availableParallelism()} cores)`);
console.log('\ntop-5 ImageNet categories of the named photographs (skimage):');
for (const c of categories) {
  if ('error' in c) console.log(`  ${c.file}: ${c.error}`);
  else console.log(`  ${c.file.padEnd(22)} ${c.top5!.map((t) => `${t.name} ${t.p}`).join(' | ')}${c.expected ? (c.expectedInTop5 ? '  [expected category in top 5]' : '  [NO expected category in top 5]') : ''}`);
}

const report = {
  model: { id: enc.config.modelId, vectorsFrom: enc.classifier.vectorsFrom, dimensions: enc.config.projectionDim },
  photographs: Object.fromEntries(sets.map((s) => [s, photos.filter((p) => p.set === s).length])),
  k: K,
  precisionAtK: Object.fromEntries(Object.entries(results).map(([m, row]) => [m, Object.fromEntries(Object.entries(row).map(([k, v]) => [k, round(v, 4)]))])),
  chance: Object.fromEntries(Object.entries(chance).map(([k, v]) => [k, round(v, 4)])),
  embedMsPerPhotograph: round(embedMs, 2),
  cores: os.availableParallelism(),
  categories,
};
mkdirSync('bench-output', { recursive: true });
writeFileSync(path.join('bench-output', process.env.EVAL_OUT ?? 'similar.json'), JSON.stringify(report, null, 2));

/** For each query, the share of its K most similar others (ties in shuffled order) from its own set; averaged per set. */
function precisionAtK(similarity: (q: number, c: number) => number): Row {
  const per: number[] = [];
  for (let q = 0; q < photos.length; q++) {
    const scored: Array<[number, number]> = [];
    for (let c = 0; c < photos.length; c++) if (c !== q) scored.push([c, similarity(q, c)]);
    // Stable sort over the shuffled order: equal scores keep an order unrelated to the sets.
    scored.sort((a, b) => b[1] - a[1]);
    per.push(scored.slice(0, K).filter(([c]) => photos[c]!.set === photos[q]!.set).length / K);
  }
  const row = { all: mean(per) } as Row;
  for (const s of Object.keys(SETS) as SetName[]) row[s] = mean(per.filter((_, q) => photos[q]!.set === s));
  return row;
}

/** pHash as the imagehash library computes it: 32×32 grey, 2-D DCT-II, the 8×8 lowest frequencies against their median. */
async function pHash(rgb: RawRgbImage): Promise<Uint8Array> {
  const N = 32;
  const { data } = await sharp(rgb.data, { raw: { width: rgb.width, height: rgb.height, channels: 3 } })
    .greyscale()
    .resize(N, N, { fit: 'fill', kernel: 'lanczos3' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const rows = new Float64Array(N * N);
  const cos = (k: number, n: number) => Math.cos((Math.PI * (2 * n + 1) * k) / (2 * N));
  for (let y = 0; y < N; y++) for (let k = 0; k < 8; k++) {
    let s = 0;
    for (let x = 0; x < N; x++) s += data[y * N + x]! * cos(k, x);
    rows[y * N + k] = s;
  }
  const low: number[] = [];
  for (let k = 0; k < 8; k++) for (let j = 0; j < 8; j++) {
    let s = 0;
    for (let y = 0; y < N; y++) s += rows[y * N + j]! * cos(k, y);
    low.push(s);
  }
  const sorted = [...low].sort((a, b) => a - b);
  const median = (sorted[31]! + sorted[32]!) / 2;
  return Uint8Array.from(low, (v) => (v > median ? 1 : 0));
}

/** RGB quantised to 8 levels a channel (512 bins) on a 128-pixel thumbnail, normalised to sum 1. */
async function colourHistogram(rgb: RawRgbImage): Promise<Float64Array> {
  const { data } = await sharp(rgb.data, { raw: { width: rgb.width, height: rgb.height, channels: 3 } })
    .resize(128, 128, { fit: 'inside' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const h = new Float64Array(512);
  for (let i = 0; i < data.length; i += 3) h[((data[i]! >> 5) << 6) | ((data[i + 1]! >> 5) << 3) | (data[i + 2]! >> 5)]! += 1;
  const total = data.length / 3;
  for (let i = 0; i < h.length; i++) h[i]! /= total;
  return h;
}

function hamming(a: Uint8Array, b: Uint8Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d += a[i]! ^ b[i]!;
  return d;
}

function intersection(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.min(a[i]!, b[i]!);
  return s;
}

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function softmax(logits: Float32Array): Float64Array {
  const max = logits.reduce((m, v) => Math.max(m, v), -Infinity);
  const e = Float64Array.from(logits, (v) => Math.exp(v - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

function mean(values: number[]): number {
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : NaN;
}

function round(v: number, digits: number): number {
  return Number(v.toFixed(digits));
}

/** Fisher–Yates with a fixed-seed LCG: the same order every run. */
function shuffle<T>(list: T[], seed: number): void {
  let x = seed >>> 0;
  for (let i = list.length - 1; i > 0; i--) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    const j = x % (i + 1);
    [list[i], list[j]] = [list[j]!, list[i]!];
  }
}
