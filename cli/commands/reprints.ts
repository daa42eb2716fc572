import type { Command } from 'commander';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ImageDecodeError } from '../../common/index.ts';
import { loadConfig } from '../../config/index.ts';
import type { RepriseConfig } from '../../config/index.ts';
import type { ReprintGroup, ReprintHit } from '../../reprints/index.ts';
import { withConfigOptions } from '../options.ts';
import { CliError } from '../exit.ts';

// Loaded when a reprints command runs, not at start-up: OpenCV, SQLite and the vocabulary should not slow `reprise --help`.
const load = async () => {
  const [{ createHttpClient }, reprints] = await Promise.all([import('../../common/index.ts'), import('../../reprints/index.ts')]);
  return { ...reprints, createHttpClient };
};
type Loaded = Awaited<ReturnType<typeof load>>;

/** The index a harvest wrote; opening it where none was harvested would create an empty one and answer "no reprints". */
function openHarvestedIndex(m: Loaded, config: RepriseConfig) {
  if (!m.reprintIndexExists(config.dataDir)) {
    throw new CliError(`no reprint index at ${m.reprintIndexDir(config.dataDir)}: harvest first ("reprise harvest <url>" or "reprise start"), which extracts the features of every image, then look for reprints`);
  }
  return m.openReprintIndex(config.dataDir);
}

/** Defaults repeated here so that --help needs no native code; a test checks they agree. */
export const HELP_DEFAULTS = { minInliers: 9, shortlist: 100, scanShortlist: 50, branches: 128 };

interface ReprintsFlags {
  config?: string;
  dataDir?: string;
  all?: boolean;
  json?: boolean;
  csv?: boolean;
  limit?: string;
  minInliers?: string;
  shortlist?: string;
  region?: string;
}

interface TrainFlags {
  config?: string;
  dataDir?: string;
  images?: string[];
  out?: string;
  branches?: string;
  seed?: string;
}

const IMAGE_FILE = /\.(jpe?g|png|tiff?|webp|gif|avif|jp2)$/i;

function positive(value: string | undefined, name: string, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new CliError(`--${name} must be a whole number from 1 to ${max} (got "${value}")`);
  return n;
}

/** The binding is needed by every subcommand: say how to build it rather than fail later. */
function requireLocalFeatures(m: Loaded): void {
  try {
    m.localFeatures();
  } catch (err) {
    if (err instanceof m.LocalFeaturesUnavailableError) throw new CliError(err.message);
    throw err;
  }
}

const csvCell = (v: unknown): string => {
  const s = v === undefined || v === null ? '' : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};
const xywh = (r: { x: number; y: number; w: number; h: number }) => `${r.x},${r.y},${r.w},${r.h}`;

function hitsCsv(hits: ReprintHit[]): string {
  const rows = [['rank', 'id', 'canvas_id', 'manifest_id', 'manifest_label', 'label', 'confidence', 'inliers', 'xywh', 'query_xywh', 'scale', 'rotation']];
  hits.forEach((h, i) =>
    rows.push([String(i + 1), h.id, h.item.canvasId ?? '', h.item.manifestId ?? '', h.item.manifestLabel ?? '', h.item.label ?? '', h.confidence.toFixed(3), String(h.inliers), xywh(h.region), xywh(h.queryRegion), h.transform.scale.toFixed(4), h.transform.rotation.toFixed(2)]),
  );
  return rows.map((r) => r.map(csvCell).join(',')).join('\n') + '\n';
}

function groupsCsv(groups: ReprintGroup[]): string {
  // inliers and confidence: the member's strongest verified pair in its group (where its xywh comes from).
  const rows = [['group', 'size', 'id', 'canvas_id', 'manifest_id', 'manifest_label', 'label', 'collections', 'xywh', 'inliers', 'confidence']];
  groups.forEach((g, i) => {
    for (const m of g.members)
      rows.push([String(i + 1), String(g.members.length), m.id, m.canvasId ?? '', m.manifestId ?? '', m.manifestLabel ?? '', m.label ?? '', (m.collections ?? []).join(' / '), xywh(m.region), String(m.inliers), m.confidence.toFixed(3)]);
  });
  return rows.map((r) => r.map(csvCell).join(',')).join('\n') + '\n';
}

async function queryBytes(m: Loaded, target: string, config: RepriseConfig): Promise<Buffer> {
  if (/^https?:\/\//i.test(target)) {
    const http = m.createHttpClient({ ...config.harvest.http, retries: 0 });
    try {
      const result = await http.fetchImage(target);
      if (result.status !== 'ok') throw new CliError(`${target} answered 304 Not Modified to an unconditional request`);
      return result.body;
    } catch (err) {
      if (err instanceof CliError) throw err;
      throw new CliError(`cannot fetch ${target}: ${(err as Error).message}`);
    } finally {
      await http.close();
    }
  }
  return readFileSync(target);
}

/** --region x,y,w,h: whole pixels of the image, a box at least 1 px wide and high. */
export function parseRegion(value: string): { x: number; y: number; w: number; h: number } {
  const parts = value.split(',').map((p) => p.trim());
  const [x, y, w, h] = parts.map(Number);
  if (parts.length !== 4 || !parts.every((p) => /^\d+$/.test(p)) || !(w! >= 1 && h! >= 1)) {
    throw new CliError(`--region must be x,y,w,h in whole pixels of the image, with w and h at least 1 (got "${value}")`);
  }
  return { x: x!, y: y!, w: w!, h: h! };
}

async function findReprints(m: Loaded, target: string, flags: ReprintsFlags, config: RepriseConfig): Promise<void> {
  const options = {
    limit: positive(flags.limit, 'limit', 20, 1000),
    minInliers: positive(flags.minInliers, 'min-inliers', m.DEFAULT_MIN_INLIERS, 10_000),
    shortlist: positive(flags.shortlist, 'shortlist', m.DEFAULT_SHORTLIST, 1000),
  };
  const region = flags.region === undefined ? undefined : parseRegion(flags.region);
  const index = openHarvestedIndex(m, config);
  try {
    const service = new m.ReprintService(index);
    let hits: ReprintHit[];
    if (index.has(target)) {
      if (region) throw new CliError(`--region needs an image file or URL: "${target}" is an indexed item, searched whole`);
      hits = await m.queryReprints(service, { item: target }, options);
    } else if (/^https?:\/\//i.test(target) || existsSync(target)) {
      const image = await queryBytes(m, target, config);
      try {
        hits = await m.queryReprints(service, { image, ...(region ? { region } : {}) }, options);
      } catch (err) {
        if (err instanceof m.NothingToMatchError) throw new CliError(`${target}: nothing to match (${err.reason})`);
        if (err instanceof ImageDecodeError) throw new CliError(`${target}: ${err.message}`);
        throw err;
      }
    } else {
      throw new CliError(`"${target}" is neither an item in the reprint index (${index.size} items under ${m.reprintIndexDir(config.dataDir)}) nor an image file or http(s) URL`);
    }
    if (flags.csv) process.stdout.write(hitsCsv(hits));
    else if (flags.json) process.stdout.write(JSON.stringify({ query: target, ...(region ? { region } : {}), hits }, null, 2) + '\n');
    else {
      if (!hits.length) process.stdout.write(`no reprints of ${target}${region ? ` (region ${xywh(region)})` : ''} among ${index.searchable} images\n`);
      for (const [i, h] of hits.entries()) {
        process.stdout.write(
          `${i + 1}. ${h.item.label ?? h.id} (${h.item.manifestLabel ?? h.item.manifestId ?? ''})  confidence ${h.confidence.toFixed(2)}, ${h.inliers} inliers\n` +
            `   ${h.item.canvasId ?? h.id}#xywh=${xywh(h.region)}  query #xywh=${xywh(h.queryRegion)}  scale ${h.transform.scale.toFixed(3)}, rotation ${h.transform.rotation.toFixed(1)}°\n`,
        );
      }
    }
  } catch (err) {
    if (err instanceof m.UnknownItemError) throw new CliError(err.message);
    throw err;
  } finally {
    index.close();
  }
}

function allGroups(m: Loaded, flags: ReprintsFlags, config: RepriseConfig): void {
  const index = openHarvestedIndex(m, config);
  try {
    const service = new m.ReprintService(index);
    const minInliers = positive(flags.minInliers, 'min-inliers', m.DEFAULT_MIN_INLIERS, 10_000);
    const scanned = service.scan({ minInliers, shortlist: positive(flags.shortlist, 'shortlist', m.DEFAULT_SCAN_SHORTLIST, 1000) });
    const groups = service.groups().map((g) => ({ ...g, pairs: g.pairs.filter((p) => p.inliers >= minInliers) }));
    if (flags.csv) process.stdout.write(groupsCsv(groups));
    else if (flags.json) process.stdout.write(JSON.stringify({ images: index.size, scanned, groups }, null, 2) + '\n');
    else {
      process.stdout.write(`${groups.length} reprint groups among ${index.size} images (${scanned} compared just now)\n`);
      for (const [i, g] of groups.entries()) {
        process.stdout.write(`group ${i + 1}: ${g.members.length} images\n`);
        for (const m of g.members) process.stdout.write(`  ${m.label ?? m.id} (${m.manifestLabel ?? m.manifestId ?? ''})  ${m.canvasId ?? m.id}#xywh=${xywh(m.region)}\n`);
      }
    }
  } finally {
    index.close();
  }
}

function imageFiles(dirs: string[]): string[] {
  return dirs.flatMap((d) => {
    if (!existsSync(d) || !statSync(d).isDirectory()) throw new CliError(`--images ${d}: not a folder`);
    return readdirSync(d)
      .filter((f) => IMAGE_FILE.test(f))
      .sort()
      .map((f) => path.join(d, f));
  });
}

async function train(m: Loaded, flags: TrainFlags, config: RepriseConfig): Promise<void> {
  requireLocalFeatures(m);
  const branches = positive(flags.branches, 'branches', m.DEFAULT_TRAIN.branches, 256);
  const options = { ...m.DEFAULT_TRAIN, branches, leaves: branches, seed: positive(flags.seed, 'seed', m.DEFAULT_TRAIN.seed, 2 ** 31) };
  const sets: Uint8Array[] = [];
  const started = performance.now();
  if (flags.images?.length) {
    // More keypoints per image than indexing keeps: training wants many descriptors.
    for (const file of imageFiles(flags.images)) {
      const f = await m.extractFeatures(readFileSync(file), { ...m.DEFAULT_EXTRACT, maxKeypoints: 500 }).catch(() => undefined);
      if (f && !f.empty) sets.push(f.descriptors);
    }
  } else {
    const index = openHarvestedIndex(m, config);
    try {
      for (const d of index.allDescriptors()) sets.push(d);
    } finally {
      index.close();
    }
  }
  let vocabulary;
  try {
    vocabulary = m.trainVocabulary(sets, options);
  } catch (err) {
    if (err instanceof RangeError) throw new CliError(err.message);
    throw err;
  }
  const out = flags.out ?? path.join(m.reprintIndexDir(config.dataDir), 'vocabulary.rpvoc');
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, vocabulary.toBytes());
  process.stdout.write(
    `trained ${vocabulary.size} words on ${sets.length} images in ${((performance.now() - started) / 1000).toFixed(1)} s: ${out} (${vocabulary.toBytes().length} bytes, id ${vocabulary.id})\n` +
      (flags.out ? '' : 'The reprint index re-assigns its words from the stored descriptors the next time it opens.\n'),
  );
}

export function registerReprints(program: Command): void {
  const reprints = withConfigOptions(program.command('reprints'))
    .description('find reprints of a photograph (an indexed item, an image file or URL), or every group of reprints with --all')
    .argument('[target]', 'an item id, an image file, or an http(s) image URL')
    .option('--all', 'list groups of reprints across every harvested collection (compares images added since the last run)')
    .option('--json', 'print JSON')
    .option('--csv', 'print CSV')
    .option('--limit <n>', 'hits at most (default 20)')
    .option('--min-inliers <n>', `geometrically consistent matches a reprint needs (default ${HELP_DEFAULTS.minInliers}, calibrated)`)
    .option('--shortlist <n>', `candidates verified per query (default ${HELP_DEFAULTS.shortlist}; ${HELP_DEFAULTS.scanShortlist} per image with --all)`)
    .option('--region <x,y,w,h>', 'look for the photograph in this part of the image file or URL only (its pixels); hits report query_xywh in the whole image')
    .addHelpText('after', `
Examples:
  reprise reprints photo.jpg
  reprise reprints page.jpg --region 120,340,800,600   (a photograph printed on a page)
  reprise reprints https://example.org/iiif/img1/full/!640,640/0/default.jpg --json
  reprise reprints 3f2a…            (an item id from search results)
  reprise reprints --all --csv > reprints.csv
  reprise reprints train            (a vocabulary learned from this collection)`)
    .action(async (target: string | undefined, flags: ReprintsFlags) => {
      const config = loadConfig({ file: flags.config, overrides: { dataDir: flags.dataDir } });
      const m = await load();
      requireLocalFeatures(m);
      if (flags.json && flags.csv) throw new CliError('choose one of --json and --csv');
      if (flags.all) {
        if (target) throw new CliError('--all takes no target');
        if (flags.region !== undefined) throw new CliError('--region applies to an image file or URL, not to --all');
        return allGroups(m, flags, config);
      }
      if (!target) throw new CliError('give an item id, an image file or an image URL, or --all');
      return findReprints(m, target, flags, config);
    });
  withConfigOptions(reprints.command('train'))
    .description('learn the visual vocabulary from this collection (or from folders of images) instead of the shipped default')
    .option('--images <dir...>', 'learn from the images in these folders instead of the indexed collection')
    .option('--out <file>', 'write the vocabulary here (default: dataDir/reprints/vocabulary.rpvoc, which the index then uses)')
    .option('--branches <n>', `coarse clusters; the vocabulary has branches² words (default ${HELP_DEFAULTS.branches})`)
    .option('--seed <n>', 'k-means seed')
    .action(async (flags: TrainFlags) => {
      const config = loadConfig({ file: flags.config, overrides: { dataDir: flags.dataDir } });
      await train(await load(), flags, config);
    });
}
