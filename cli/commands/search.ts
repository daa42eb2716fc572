import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { withConfigOptions } from '../options.ts';
import { loadConfig, type RepriseConfig } from '../../config/index.ts';
import type { SearchPage } from '../../plugin/index.ts';
import type { ShapedHit } from '../../plugin/index.ts';
import { CliError, EXIT } from '../exit.ts';

interface SearchFlags {
  config?: string;
  dataDir?: string;
  text?: boolean;
  limit?: string;
  minScore?: string;
  manifest?: string[];
  collection?: string[];
  rights?: string[];
  label?: string[];
  source?: string[];
  dateFrom?: string;
  dateTo?: string;
  json?: boolean;
}

/** What the query is: words for the text tower, or an image (a file here, or a URL) for the image tower. */
export type SearchQuery = { kind: 'text'; text: string } | { kind: 'file'; file: string } | { kind: 'url'; url: string };

const IMAGE_FILE = /\.(jpe?g|png|tiff?|webp)$/i;

/** Columns of the table are cut to this many characters; --json has everything. */
const MAX_COLUMN = 48;

/** A URL is fetched, an existing file is read, anything else is words; `--text` makes it words whatever it looks like. */
export function classifyQuery(words: string[], forceText = false): SearchQuery {
  const joined = words.join(' ').trim();
  if (!joined) throw new CliError('give the words to search for, an image file or an image URL', EXIT.FATAL);
  if (forceText) return { kind: 'text', text: joined };
  if (words.length === 1 && /^https?:\/\//i.test(joined)) return { kind: 'url', url: joined };
  if (existsSync(joined) && statSync(joined).isFile()) return { kind: 'file', file: joined };
  // A mistyped file name searched as words would answer with unrelated images and no hint.
  if (words.length === 1 && IMAGE_FILE.test(joined)) {
    throw new CliError(`${joined}: no such file; give the path of a JPEG, PNG, WebP or TIFF image, or --text to search for these words`, EXIT.FATAL);
  }
  return { kind: 'text', text: joined };
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** The flags as the API's query parameters, so that the API's schema checks them (same limits, same messages). */
function apiParameters(query: SearchQuery, flags: SearchFlags): Record<string, unknown> {
  const params: Record<string, unknown> = {
    ...(query.kind === 'text' ? { q: query.text } : {}),
    ...(flags.limit !== undefined ? { limit: flags.limit } : {}),
    ...(flags.minScore !== undefined ? { minScore: flags.minScore } : {}),
    manifest: flags.manifest,
    collection: flags.collection,
    rights: flags.rights,
    labels: flags.label,
    source: flags.source,
    dateFrom: flags.dateFrom,
    dateTo: flags.dateTo,
  };
  for (const key of Object.keys(params)) if (params[key] === undefined) delete params[key];
  return params;
}

/** The API parameter a problem names, as the flag a person typed. */
const FLAG_OF: Record<string, string> = { q: 'the query', labels: '--label', minScore: '--min-score', dateFrom: '--date-from', dateTo: '--date-to' };
const flagName = (param: string) => FLAG_OF[param] ?? `--${param}`;

/**
 * The embedded index's file (store/embedded: dataDir/index/<index>.db): searching must not create
 * an empty index where none was harvested. Meilisearch answers for itself.
 */
function missingIndex(config: RepriseConfig): string | undefined {
  if (config.store.kind !== 'embedded') return undefined;
  const file = path.join(config.dataDir, 'index', `${config.store.index}.db`);
  return existsSync(file) ? undefined : file;
}

function cut(text: string, max = MAX_COLUMN): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > max ? `${oneLine.slice(0, max - 1)}…` : oneLine;
}

/** Rank, score, label, manifest label and canvas id, in aligned columns. */
export function formatHits(hits: ShapedHit[]): string {
  const rows = [
    ['#', 'score', 'label', 'manifest', 'canvas'],
    ...hits.map((h, i) => [String(i + 1), h.score.toFixed(2), cut(h.canvas.label ?? '—'), cut(h.manifest.label ?? h.manifest.id ?? '—'), h.canvas.id]),
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows
    .map((r) =>
      r
        .map((cell, c) => (c === r.length - 1 ? cell : c < 2 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

const describeQuery = (query: SearchQuery) => (query.kind === 'text' ? JSON.stringify(query.text) : query.kind === 'file' ? query.file : query.url);

export async function runSearch(words: string[], flags: SearchFlags): Promise<number> {
  const config = loadConfig({ file: flags.config, overrides: flags.dataDir ? { dataDir: flags.dataDir } : {} });
  const query = classifyQuery(words, flags.text);

  // Loaded here, not at start-up: onnxruntime and the store should not slow `reprise --help`.
  const { loadEncoders, modelFolder } = await import('../../models/index.ts');
  const { openStore } = await import('../../store/index.ts');
  const { SearchService } = await import('../../plugin/index.ts');
  const { Metrics } = await import('../../plugin/index.ts');
  const { QueryImages } = await import('../../plugin/index.ts');
  const { Problem } = await import('../../plugin/index.ts');
  const { createSchemas, toItemFilter } = await import('../../plugin/index.ts');

  const schemas = createSchemas(config.api);
  const parsed = (query.kind === 'text' ? schemas.textSearch : schemas.searchOptions).safeParse(apiParameters(query, flags));
  if (!parsed.success) {
    throw new CliError(parsed.error.issues.map((i) => `${flagName(String(i.path[0] ?? 'q'))}: ${i.message}`).join('; '), EXIT.FATAL);
  }
  const { limit, offset, minScore } = parsed.data;

  const folder = modelFolder(config.models, config.dataDir);
  if (!config.models.path && !existsSync(folder)) {
    throw new CliError(
      `${query.kind === 'text' ? 'text' : 'image'} search needs a model, and there is none at ${folder}: ` +
        `run "reprise models pull ${config.models.name}" (or set models.path to a model folder placed by hand; see docs/models.md)`,
      EXIT.FATAL,
    );
  }
  const noIndex = missingIndex(config);
  if (noIndex) throw new CliError(`no index at ${noIndex}: harvest first ("reprise harvest <url>" or "reprise start"), then search`, EXIT.FATAL);

  let bytes: Buffer | undefined;
  if (query.kind === 'file') {
    const size = statSync(query.file).size;
    if (size > config.api.maxUploadBytes) throw new CliError(`${query.file} is larger than ${config.api.maxUploadBytes} bytes (api.maxUploadBytes); give a smaller version`, EXIT.FATAL);
    bytes = readFileSync(query.file);
  }

  const encoders = await loadEncoders(config.models, config.dataDir);
  const images = new QueryImages({ http: config.harvest.http, maxBytes: config.api.maxUploadBytes, maxPixels: config.api.maxImagePixels, longSide: config.harvest.imageSize });
  let store: Awaited<ReturnType<typeof openStore>> | undefined;
  try {
    store = await openStore(config.store, config.dataDir, { modelId: encoders.config.modelId, dimensions: encoders.config.projectionDim });
    const service = new SearchService({ store, encoders, config }, new Metrics(), images);
    const options = { filter: toItemFilter(parsed.data), limit, offset, minScore };
    let page: SearchPage;
    try {
      page =
        query.kind === 'text'
          ? await service.text(query.text, options)
          : query.kind === 'file'
            ? await service.image({ kind: 'upload', bytes: bytes!, name: query.file }, options)
            : await service.image({ kind: 'url', url: query.url }, options);
    } catch (err) {
      // The API's problems are written for the person reading them: here they are that person's error message.
      if (err instanceof Problem) {
        const reasons = (err.extra.errors ?? []).map((e) => e.reason).filter((r) => !err.detail.includes(r));
        throw new CliError([err.detail, ...reasons].join('; '), EXIT.FATAL);
      }
      throw err;
    }

    const shown = query.kind === 'text' ? { text: query.text } : query.kind === 'file' ? { file: query.file } : { url: query.url };
    if (flags.json) {
      process.stdout.write(JSON.stringify({ query: shown, ...page }, null, 2) + '\n');
    } else if (!page.hits.length) {
      const { items } = await store.stats();
      process.stdout.write(
        items ? `no hits for ${describeQuery(query)} among ${items} items${options.filter || minScore !== undefined ? ' with these filters' : ''}\n` : `the index is empty: harvest first ("reprise harvest <url>")\n`,
      );
    } else {
      const scores = page.scoreKind === 'cosine' ? 'cosine similarity, −1 to 1' : 'ranking score, 0 to 1';
      process.stdout.write(`${formatHits(page.hits)}\n${page.hits.length} hits for ${describeQuery(query)} (score: ${scores}; --json for every field)\n`);
    }
    return EXIT.OK;
  } finally {
    await images.close();
    await store?.close();
    await encoders.close();
  }
}

export function registerSearch(program: Command): void {
  withConfigOptions(program.command('search'))
    .description('search the index by text, or by an image file or URL, as the API does; a table, or JSON')
    .argument('<query...>', 'words to search for, or an image file (JPEG, PNG, WebP, TIFF), or an http(s) image URL')
    .option('--text', 'search for these words even if they name a file')
    .option('--limit <n>', 'hits at most (default 20; at most api.maxLimit)')
    .option('--min-score <score>', 'leave out hits scoring below this (cosine similarity, -1 to 1)')
    .option('--manifest <id>', 'only items of this manifest (id or URL); repeat for several', collect)
    .option('--collection <name>', 'only items below this collection (its label); repeat for several', collect)
    .option('--rights <uri>', 'only items with this rights URI; repeat for several', collect)
    .option('--label <tag>', 'only items with this tag; repeat for several', collect)
    .option('--source <url>', 'only items harvested from this source URL; repeat for several', collect)
    .option('--date-from <date>', 'earliest navDate, inclusive (ISO 8601 or a prefix: 1936)')
    .option('--date-to <date>', 'latest navDate, inclusive (1936 includes all of 1936)')
    .option('--json', 'print the hits as JSON, every field the API gives')
    .addHelpText(
      'after',
      `
Text search and image search need a model (reprise models pull clip-vit-base-patch32) and a
harvested index. Image URLs are fetched with the harvester's client: private and loopback
addresses are refused unless listed in harvest.http.allowPrivate.

Examples:
  reprise search a horse and cart
  reprise search "a woman at a sewing machine" --limit 5 --collection "Glass negatives"
  reprise search photo.jpg --json
  reprise search https://example.org/iiif/img1/full/!640,640/0/default.jpg
  reprise search --text portrait.jpg     (the words, not the file)

Exit codes: 0 the search ran (with or without hits), 1 fatal error (no model, no index, a bad option).`,
    )
    .action(async (words: string[], flags: SearchFlags) => {
      process.exitCode = await runSearch(words, flags);
    });
}
