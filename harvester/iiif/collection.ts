/**
 * Reads a Presentation 2 or 3 Collection into the manifests and
 * sub-collections it lists. v2 spreads members over `manifests`,
 * `collections` and `members`, and large v2 collections are paged
 * (`first`/`next`/`total`); v3 lists everything in `items`.
 */
import type { CollectionEntry, ParsedCollection } from './types.ts';
import { describeValue, IiifParseError } from './errors.ts';
import { normaliseLanguageMap } from './language.ts';
import {
  asList, bareType, isRecord, positiveInt, presentationVersion, readId, readUriLike, typeOf, Warnings,
  type IdContext, type JsonObject,
} from './util.ts';

export interface ParseCollectionOptions {
  url?: string;
  /** Entries beyond this many are ignored, with a warning (default 100000). */
  maxEntries?: number;
}

export const DEFAULT_MAX_ENTRIES = 100_000;

type Kind = 'manifest' | 'collection';

export function parseCollection(json: unknown, opts: ParseCollectionOptions = {}): ParsedCollection {
  const fail = (message: string): never => {
    throw new IiifParseError(message, opts.url);
  };
  if (!isRecord(json)) return fail(`not a IIIF Presentation document: expected a JSON object, found ${describeValue(json)}`);
  const version = presentationVersion(json);
  const type = bareType(typeOf(json));
  if (version === undefined || type !== 'Collection') {
    return fail(`not a IIIF Collection: ${type === undefined ? 'missing @type/type' : `type is ${JSON.stringify(typeOf(json))}`}`);
  }
  const warnings = new Warnings();
  const ctx: IdContext = { baseUrl: opts.url, warnings };
  const id = readId(json, 'the collection', ctx);
  if (!id.ok) return fail(`not a usable IIIF Collection: ${id.problem}`);

  const lister = new EntryLister(ctx, opts.maxEntries ?? DEFAULT_MAX_ENTRIES);
  if (version === 3) lister.addAll(json['items'], undefined, 'items');
  else {
    lister.addAll(json['manifests'], 'manifest', 'manifests');
    lister.addAll(json['collections'], 'collection', 'collections');
    lister.addAll(json['members'], undefined, 'members');
  }
  if (lister.total === 0 && lister.ignoredTypes.size > 0) {
    return fail(`the collection lists no Manifests or Collections, only ${[...lister.ignoredTypes].join(', ')}`);
  }
  lister.report();

  const result: ParsedCollection = {
    kind: 'collection',
    id: id.id,
    version,
    label: normaliseLanguageMap(json['label']),
    manifests: lister.manifests,
    collections: lister.collections,
    warnings: [],
  };
  const next = nextPage(json, id.id, ctx);
  if (next) result.next = next;
  const total = positiveInt(json['total']);
  if (total !== undefined) result.total = total;
  if (result.manifests.length === 0 && result.collections.length === 0 && !next) {
    warnings.add('the collection lists nothing');
  }
  result.warnings = warnings.done();
  return result;
}

/**
 * The page to fetch after this one: `next` on a page; `first` on the top of a
 * paged collection (unless `first` is this very document).
 */
function nextPage(json: JsonObject, selfId: string, ctx: IdContext): string | undefined {
  const next = readUriLike(json['next'], 'the collection next page', ctx);
  if (next && next !== selfId) return next;
  const first = readUriLike(json['first'], 'the collection first page', ctx);
  return first && first !== selfId ? first : undefined;
}

/** Collects entries of both kinds, deduplicated and bounded. */
class EntryLister {
  readonly manifests: CollectionEntry[] = [];
  readonly collections: CollectionEntry[] = [];
  readonly ignoredTypes = new Set<string>();
  private readonly seen = new Set<string>();
  private duplicates = 0;
  private ignored = 0;
  private overflow = 0;

  constructor(private readonly ctx: IdContext, private readonly max: number) {}

  get total(): number {
    return this.manifests.length + this.collections.length;
  }

  /** `kind` is implied by the v2 property name; undefined means read it from each entry's type. */
  addAll(list: unknown, kind: Kind | undefined, property: string): void {
    if (list === undefined || list === null) return;
    if (!Array.isArray(list) && !isRecord(list)) {
      this.ctx.warnings.add(`the collection's ${property} is not a list (found ${describeValue(list)}); ignored`);
      return;
    }
    for (const entry of asList(list)) this.add(entry, kind, property);
  }

  private add(entry: unknown, impliedKind: Kind | undefined, property: string): void {
    const node: JsonObject | undefined = typeof entry === 'string' ? { id: entry } : isRecord(entry) ? entry : undefined;
    if (!node) return this.ignore(`a ${typeof entry}`);
    const type = bareType(typeOf(node));
    const kind = type === 'Manifest' ? 'manifest' : type === 'Collection' ? 'collection' : type === undefined ? impliedKind : undefined;
    if (kind === undefined) return this.ignore(type ?? 'an entry without a type');
    const id = readId(node, `an entry in ${property}`, this.ctx);
    if (!id.ok) {
      this.ctx.warnings.add(`${id.problem}; ignored`);
      return;
    }
    if (this.seen.has(id.id)) {
      this.duplicates++;
      return;
    }
    if (this.total >= this.max) {
      this.overflow++;
      return;
    }
    this.seen.add(id.id);
    const list = kind === 'manifest' ? this.manifests : this.collections;
    list.push({ id: id.id, label: normaliseLanguageMap(node['label']) });
  }

  private ignore(what: string): void {
    this.ignored++;
    if (this.ignoredTypes.size < 10) this.ignoredTypes.add(what);
  }

  /** One warning per kind of problem rather than one per entry. */
  report(): void {
    const w = this.ctx.warnings;
    if (this.duplicates) w.add(`${this.duplicates} entries repeat an id already listed; only the first of each is kept`);
    if (this.ignored) w.add(`${this.ignored} entries are neither Manifest nor Collection (${[...this.ignoredTypes].join(', ')}); ignored`);
    if (this.overflow) w.add(`${this.overflow} entries beyond the first ${this.max} are ignored (maxEntries)`);
  }
}
