import type { Box, ItemFields, StoreItem, UpsertItem } from '../types.ts';
import { InvalidQueryError, StoreError } from '../errors.ts';

/** Between a metadata facet's name and its value in the document's `metaFacets` strings (search.ts filters on them). */
export const META_SEPARATOR = '\u001f';
export const metaValue = (name: string, value: string) => `${name}${META_SEPARATOR}${value}`;

/**
 * One Meilisearch document per item. The vectors travel in `_vectors` under the one embedder:
 * the whole image first, then the regions. Meilisearch keeps several vectors per document and
 * ranks the document by its best one, but cannot say which one matched, so a hit carries no region.
 */
export interface MeiliDocument extends ItemFields {
  /** `date` as a number (YYYYMMDDhhmmss), because Meilisearch compares (>=, <=) numbers only. */
  dateValue?: number;
  /** Metadata facets as `name␟value` strings (search.ts META_ATTRIBUTE), and the date's year and decade, to facet on. */
  metaFacets?: string[];
  year?: string;
  decade?: string;
  /** The region boxes, in the order of their vectors after the whole image's. */
  regions?: Box[];
  /**
   * Set on an item stored without a vector (harvested without a model), so that a partial update
   * can opt it out of the embedder again: Meilisearch refuses a document that neither gives a
   * userProvided embedder's vectors nor opts out of them with `null`.
   */
  vectorless?: true;
  _vectors?: Record<string, { embeddings: number[][]; regenerate: boolean } | null>;
}

/** Meilisearch's rule for document ids: letters, digits, - and _, at most 511 bytes. */
const DOCUMENT_ID = /^[A-Za-z0-9_-]{1,511}$/;

export function isValidDocumentId(id: string): boolean {
  return DOCUMENT_ID.test(id);
}

/** Checks an item before anything is sent, so that a bad batch changes nothing in the index. */
export function checkItem(upsert: UpsertItem, dimensions: number | undefined): void {
  const item = upsert as ItemFields & Partial<Pick<StoreItem, 'vector' | 'regions'>>;
  if (typeof item.id !== 'string' || !isValidDocumentId(item.id)) {
    throw new InvalidQueryError(`item id ${JSON.stringify(item.id)} cannot be a Meilisearch document id (letters, digits, - and _ only)`);
  }
  if (item.vector === undefined) {
    if (item.regions?.length) throw new InvalidQueryError(`item ${item.id} has region vectors but no whole-image vector`);
    return;
  }
  if (dimensions === undefined) throw new StoreError(`item ${item.id} has a vector, but the index was opened without a model: open it with the model's id and dimensions to store vectors`);
  checkVector(item.vector, dimensions, `item ${item.id}`);
  item.regions?.forEach((r, i) => checkVector(r.vector, dimensions, `item ${item.id}, region ${i}`));
}

function checkVector(v: Float32Array, dimensions: number, what: string): void {
  if (!v || v.length !== dimensions) {
    throw new InvalidQueryError(`${what}: the vector has ${v?.length ?? 0} dimensions, the index expects ${dimensions}`);
  }
  for (let i = 0; i < v.length; i++) {
    // JSON has no NaN or Infinity: they would arrive as null and fail the whole batch.
    if (!Number.isFinite(v[i]!)) throw new InvalidQueryError(`${what}: the vector has a non-finite value at ${i}`);
  }
}

/** The fields every item has, as both the full and the partial document carry them. */
function requiredFields(item: ItemFields) {
  return {
    id: item.id,
    canvasId: item.canvasId,
    manifestId: item.manifestId,
    manifestUrl: item.manifestUrl,
    collections: item.collections,
    label: item.label,
    labels: item.labels,
    text: item.text,
    record: item.record,
  };
}

/** The document for an upsert; `embedder` is undefined while the index has none (opened without a model). */
export function toDocument(upsert: UpsertItem, embedder: string | undefined): MeiliDocument {
  const item = upsert as ItemFields & Partial<Pick<StoreItem, 'vector' | 'regions'>>;
  const doc: MeiliDocument = requiredFields(item);
  if (item.source !== undefined) doc.source = item.source;
  if (item.date !== undefined) {
    doc.date = item.date;
    const value = dateValue(item.date, 'start');
    if (value !== undefined) doc.dateValue = value;
  }
  if (item.rights !== undefined) doc.rights = item.rights;
  Object.assign(doc, facetFields(item));
  if (item.vector === undefined) {
    doc.vectorless = true;
    // `null` opts the document out of the embedder and drops the vectors it had; with no embedder yet there is nothing to name.
    if (embedder !== undefined) doc._vectors = { [embedder]: null };
    return doc;
  }
  const regions = item.regions ?? [];
  if (regions.length) doc.regions = regions.map((r) => ({ x: r.box.x, y: r.box.y, w: r.box.w, h: r.box.h }));
  doc._vectors = {
    [embedder!]: {
      embeddings: [Array.from(item.vector), ...regions.map((r) => Array.from(r.vector))],
      // Without this Meilisearch would treat the vectors as its own to recompute.
      regenerate: false,
    },
  };
  return doc;
}

/**
 * The fields of an item for a partial update (PUT), which Meilisearch merges into the stored
 * document: `_vectors` and the region boxes are left out so that the vectors stay as they are, and
 * optional fields the item no longer has are sent as null so that their old values go.
 */
export function toFieldsDocument(item: ItemFields): Omit<MeiliDocument, 'source' | 'date' | 'dateValue' | 'rights' | 'metaFacets' | 'year' | 'decade'> & Record<string, unknown> {
  return {
    ...requiredFields(item),
    source: item.source ?? null,
    date: item.date ?? null,
    dateValue: item.date !== undefined ? (dateValue(item.date, 'start') ?? null) : null,
    rights: item.rights ?? null,
    metaFacets: null,
    year: null,
    decade: null,
    ...facetFields(item),
  };
}

/** The fields facets count: metadata facets (kept in order, so that they read back as given), and the date's year and decade. */
function facetFields(item: ItemFields): Pick<MeiliDocument, 'metaFacets' | 'year' | 'decade'> {
  const out: Pick<MeiliDocument, 'metaFacets' | 'year' | 'decade'> = {};
  const meta = Object.entries(item.facets ?? {}).flatMap(([name, values]) => values.map((v) => metaValue(name, v)));
  if (meta.length) out.metaFacets = meta;
  const year = /^(\d{4})/.exec(item.date ?? '')?.[1];
  if (year) {
    out.year = year;
    out.decade = `${year.slice(0, 3)}0s`;
  }
  return out;
}

/** The item as the store interface returns it: internal fields (dateValue, regions, _vectors) left out. */
export function fromDocument(doc: Record<string, unknown>): ItemFields {
  const d = doc as unknown as MeiliDocument;
  const item: ItemFields = {
    id: String(d.id),
    canvasId: d.canvasId,
    manifestId: d.manifestId,
    manifestUrl: d.manifestUrl,
    collections: d.collections ?? [],
    label: d.label,
    labels: d.labels ?? [],
    text: d.text,
    record: d.record ?? {},
  };
  if (d.source !== undefined && d.source !== null) item.source = d.source;
  if (d.date !== undefined && d.date !== null) item.date = d.date;
  if (d.rights !== undefined && d.rights !== null) item.rights = d.rights;
  if (Array.isArray(d.metaFacets) && d.metaFacets.length) {
    const facets: Record<string, string[]> = {};
    for (const entry of d.metaFacets) {
      const at = entry.indexOf(META_SEPARATOR);
      if (at > 0) (facets[entry.slice(0, at)] ??= []).push(entry.slice(at + 1));
    }
    item.facets = facets;
  }
  return item;
}

const DATE = /^(-?\d{4})(?:-(\d{2})(?:-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?)?)?(?:Z|[+-]\d{2}:?\d{2})?$/;

/**
 * An ISO 8601 date (or year, or year-month) as a sortable number YYYYMMDDhhmmss, taking the
 * first or the last instant of what it names, so "1936" as an upper bound includes all of 1936.
 * The offset is ignored: navDates are compared as written.
 */
export function dateValue(iso: string, bound: 'start' | 'end'): number | undefined {
  const m = DATE.exec(iso.trim());
  if (!m) return undefined;
  const end = bound === 'end';
  const year = Number(m[1]);
  const month = m[2] !== undefined ? Number(m[2]) : end ? 12 : 1;
  const day = m[3] !== undefined ? Number(m[3]) : end ? 31 : 1;
  const hour = m[4] !== undefined ? Number(m[4]) : end ? 23 : 0;
  const minute = m[5] !== undefined ? Number(m[5]) : end ? 59 : 0;
  const second = m[6] !== undefined ? Number(m[6]) : end ? 59 : 0;
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 24 || minute > 59 || second > 60) return undefined;
  return year * 1e10 + month * 1e8 + day * 1e6 + hour * 1e4 + minute * 1e2 + second;
}
