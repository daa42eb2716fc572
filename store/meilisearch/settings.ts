import type { Meilisearch, Settings } from 'meilisearch';
import type { StoreSchema } from '../types.ts';
import { StoreError, StoreSchemaError, StoreTaskError, StoreUnavailableError } from '../errors.ts';
import type { TaskWaiter } from './tasks.ts';
import { apiErrorBody, START_HINT } from './errors.ts';

/** Embedders became stable (no experimental flag), with `userProvided` vectors and `/similar`, in 1.13. */
export const MIN_VERSION: readonly [number, number] = [1, 13];

/** Filterable fields: what ItemFilter and deleteWhere can name, and `id` to find which items exist. */
export const FILTERABLE = ['id', 'manifestId', 'manifestUrl', 'collections', 'dateValue', 'rights', 'labels', 'source', 'metaFacets', 'decade', 'year'] as const;
export const SORTABLE = ['dateValue', 'label'] as const;
/** In ranking order: a word in the label counts more than one in the rest of the text. */
export const SEARCHABLE = ['label', 'text'] as const;
/**
 * Meilisearch returns 100 values per facet by default; collections and labels can have more.
 * Sorting by count keeps the most frequent values when there are still more.
 */
export const FACETING = { maxValuesPerFacet: 1000, sortFacetValuesBy: { '*': 'count' as const } };

/**
 * The embedder is named after the model, so that an index built by another model is refused even
 * when the dimensions agree. Meilisearch has no other place in an index for such a note, and the name
 * must also be usable as a key of `_vectors`: characters other than letters, digits and - are written
 * as _hex_, which keeps the name readable and the model id recoverable for error messages.
 */
export function embedderName(modelId: string): string {
  let out = '';
  for (const ch of modelId) {
    out += /[A-Za-z0-9-]/.test(ch) ? ch : `_${ch.codePointAt(0)!.toString(16)}_`;
  }
  return out;
}

export function modelIdOf(name: string): string {
  return name.replace(/_([0-9a-f]+)_/g, (_, hex: string) => String.fromCodePoint(parseInt(hex, 16)));
}

/** The index's settings; without a schema (no model yet) no embedder, which the first open with a model adds. */
export function wantedSettings(schema?: StoreSchema): Settings {
  return {
    ...(schema ? { embedders: { [embedderName(schema.modelId)]: { source: 'userProvided', dimensions: schema.dimensions } } } : {}),
    filterableAttributes: [...FILTERABLE],
    sortableAttributes: [...SORTABLE],
    searchableAttributes: [...SEARCHABLE],
    faceting: FACETING,
  };
}

/** Reads `/version` and refuses servers older than 1.13 before anything is written. */
export async function checkVersion(client: Meilisearch, url: string): Promise<string> {
  const { pkgVersion } = await client.getVersion();
  const m = /^v?(\d+)\.(\d+)/.exec(pkgVersion ?? '');
  if (!m) throw new StoreUnavailableError(`Meilisearch at ${url} reports an unreadable version ${JSON.stringify(pkgVersion)}`);
  const [major, minor] = [Number(m[1]), Number(m[2])];
  const [wantMajor, wantMinor] = MIN_VERSION;
  if (major < wantMajor || (major === wantMajor && minor < wantMinor)) {
    throw new StoreUnavailableError(
      `Meilisearch at ${url} is version ${pkgVersion}; Reprise needs ${wantMajor}.${wantMinor} or newer ` +
        `(stable userProvided embedders and /similar): upgrade it, or ${START_HINT}`,
    );
  }
  return pkgVersion;
}

/**
 * Creates the index with its settings, or checks that an existing one holds vectors of the same
 * model and dimensions. Settings that only steer filtering and ranking are brought up to date, so
 * that an index made by an older Reprise gains new filterable fields. Without a schema (no model)
 * the index is made without an embedder, and an existing one is taken as it is. Returns the schema
 * of the index's embedder: the one given, the one found, or none yet.
 */
export async function ensureIndex(client: Meilisearch, tasks: TaskWaiter, uid: string, schema?: StoreSchema): Promise<StoreSchema | undefined> {
  const wanted = wantedSettings(schema);

  let exists = true;
  try {
    await client.getRawIndex(uid);
  } catch (err) {
    if (apiErrorBody(err)?.code !== 'index_not_found') throw err;
    exists = false;
  }
  if (!exists) {
    try {
      await tasks.wait(client.createIndex(uid, { primaryKey: 'id' }));
    } catch (err) {
      // Another process may have created it meanwhile: then it is checked like any existing index.
      if (!(err instanceof StoreTaskError && err.code === 'index_already_exists')) throw err;
    }
  }

  const index = client.index(uid);
  const current = await index.getSettings();
  const embedders = Object.entries(current.embedders ?? {}).filter(([, e]) => e !== null);
  if (embedders.length === 0) {
    // A fresh index, one whose first open stopped before its settings were applied, or one Reprise
    // filled without a model (its filterable fields are Reprise's): the first schema is added to it.
    const stats = await index.getStats();
    if (stats.numberOfDocuments > 0 && !sameSet(current.filterableAttributes, FILTERABLE)) {
      throw new StoreError(
        `the index "${uid}" at Meilisearch holds ${stats.numberOfDocuments} documents but no embedder: ` +
          `it was not made by Reprise; use another store.index`,
      );
    }
    if (schema) await tasks.wait(index.updateSettings(wanted));
    else await updateRanking(index, tasks, current);
    return schema;
  }

  const [existingName, existing] = embedders[0]!;
  const dims = existing && 'dimensions' in existing ? (existing.dimensions ?? 0) : 0;
  const found = { modelId: modelIdOf(existingName), dimensions: dims };
  if (!schema && (embedders.length > 1 || existing?.source !== 'userProvided')) {
    throw new StoreError(`the index "${uid}" at Meilisearch has ${embedders.length > 1 ? 'several embedders' : 'an embedder that is not userProvided'}: it was not made by Reprise; use another store.index`);
  }
  if (schema && (embedders.length > 1 || existingName !== embedderName(schema.modelId) || dims !== schema.dimensions || existing?.source !== 'userProvided')) {
    throw new StoreSchemaError(uid, found, schema);
  }
  await updateRanking(index, tasks, current);
  return found;
}

/** Brings the settings that only steer filtering and ranking up to date. */
async function updateRanking(index: ReturnType<Meilisearch['index']>, tasks: TaskWaiter, current: Settings): Promise<void> {
  const wanted = wantedSettings();

  const update: Settings = {};
  if (!sameSet(current.filterableAttributes, FILTERABLE)) update.filterableAttributes = wanted.filterableAttributes!;
  if (!sameSet(current.sortableAttributes, SORTABLE)) update.sortableAttributes = wanted.sortableAttributes!;
  if (JSON.stringify(current.searchableAttributes) !== JSON.stringify(SEARCHABLE)) update.searchableAttributes = wanted.searchableAttributes!;
  if (current.faceting?.maxValuesPerFacet !== FACETING.maxValuesPerFacet || current.faceting?.sortFacetValuesBy?.['*'] !== 'count') {
    update.faceting = FACETING;
  }
  if (Object.keys(update).length) await tasks.wait(index.updateSettings(update));
}

/** The schema an index's one userProvided embedder stands for, read without writing anything; undefined when it has none. */
export async function indexSchema(client: Meilisearch, uid: string): Promise<StoreSchema | undefined> {
  const embedders = Object.entries((await client.index(uid).getSettings()).embedders ?? {}).flatMap(([name, e]) => {
    const dimensions = (e as { dimensions?: unknown } | null)?.dimensions;
    return typeof dimensions === 'number' ? [{ name, dimensions }] : [];
  });
  return embedders.length === 1 ? { modelId: modelIdOf(embedders[0]!.name), dimensions: embedders[0]!.dimensions } : undefined;
}

function sameSet(have: unknown, want: readonly string[]): boolean {
  if (!Array.isArray(have)) return false;
  const names = have.map((a) => (typeof a === 'string' ? a : JSON.stringify(a)));
  return names.length === want.length && want.every((w) => names.includes(w));
}
