/**
 * Indexes embeddings another portal published as annotations (store/annotations/format.ts)
 * without computing them again: each canvas's manifest is fetched for its metadata (or the item
 * already in the index is kept as it is), and its vectors are taken from the annotations. Vectors
 * of a model other than the index's (or the one loaded here for queries) are refused: they live in
 * another space, and every similarity against them would be meaningless.
 */
import type { FacetsConfig } from '../config/index.ts';
import type { Box, ItemFields, StoreItem, VectorStore } from '../store/index.ts';
import { StoreError } from '../store/index.ts';
import { annotationsOfPage, EmbeddingAnnotationError, parseEmbeddingAnnotation, type ParsedEmbedding } from '../store/index.ts';
import type { HttpClient } from '../common/index.ts';
import { parseIiifDocument } from './iiif/document.ts';
import { resolveImageRequest } from './iiif/image-request.ts';
import type { ParsedManifest } from './iiif/types.ts';
import { itemFields } from './embedding-stage.ts';
import type { IndexedRecord } from './stage.ts';
import { itemIdOf } from './util/hash.ts';
import { UrlIdentity, withoutFragment } from './util/url-identity.ts';

/** Pages followed through `next` links in one import: a loop of links must end. */
export const MAX_PAGES = 10_000;
/** Annotations read from one page. */
export const MAX_ANNOTATIONS_PER_PAGE = 100_000;
/** Reasons kept in the report; the count goes on. */
const MAX_SKIPS_LISTED = 100;
const UPSERT_BATCH = 100;

export class EmbeddingModelMismatchError extends StoreError {
  override name = 'EmbeddingModelMismatchError';
  constructor(
    readonly offered: { modelId: string; dimensions: number },
    readonly expected: { modelId: string; dimensions?: number },
    where: 'index' | 'model',
  ) {
    super(
      `these embeddings were made by model "${offered.modelId}" (${offered.dimensions} dimensions), but ` +
        (where === 'index'
          ? `this index holds vectors of "${expected.modelId}" (${expected.dimensions} dimensions)`
          : `this portal searches with "${expected.modelId}"`) +
        ': vectors of different models cannot be compared, so nothing was imported. Import them into an index of that model ' +
        '(another store.index, with the same model configured or none), or harvest the images to embed them with your own model.',
    );
  }
}

export interface ImportContext {
  store: VectorStore;
  http: HttpClient;
  /** The model this portal embeds queries with, when one is loaded: imported vectors must be its. */
  modelId?: string;
  /** config.facets: which metadata become facets, as a harvest would file them. */
  facets?: FacetsConfig;
  /** harvest.imageSize: the image URL recorded for each item, as a harvest would. */
  imageSize: number;
  /** Where the annotations came from (URL or file): the items' harvest source. */
  source: string;
  /** The manifest of annotations whose target does not say (no partOf). */
  manifest?: string;
  publishedBases?: string[];
  signal?: AbortSignal;
}

export interface ImportReport {
  /** The model of the imported vectors. */
  modelId?: string;
  pages: number;
  annotations: number;
  /** Items indexed with their imported vectors. */
  items: number;
  regions: number;
  /** Manifests fetched for the metadata of items the index did not hold yet. */
  manifestsFetched: number;
  skipped: number;
  /** Why annotations were skipped (the first ones). */
  skips: Array<{ target: string; reason: string }>;
}

/** One canvas's vectors, gathered from its annotations. */
interface CanvasVectors {
  canvasId: string;
  manifest: string | undefined;
  whole?: Float32Array;
  regions: Array<{ box: Box; vector: Float32Array }>;
}

export class EmbeddingsImport {
  private readonly identity: UrlIdentity;
  private schema?: { modelId: string; dimensions: number };
  readonly report: ImportReport = { pages: 0, annotations: 0, items: 0, regions: 0, manifestsFetched: 0, skipped: 0, skips: [] };

  constructor(private readonly ctx: ImportContext) {
    this.identity = new UrlIdentity(ctx.publishedBases);
  }

  /** Imports a page (or collection, or list) given as JSON, and the pages its `next` links lead to. */
  async run(first: { json: unknown; url?: string }): Promise<ImportReport> {
    let current: { json: unknown; url?: string } | undefined = first;
    const seen = new Set<string>();
    while (current) {
      this.ctx.signal?.throwIfAborted();
      const what = current.url ?? 'the annotations';
      const { annotations, next, first: firstPage } = annotationsOfPage(current.json, what);
      // A collection without its first page inline only leads to it.
      if (!firstPage) {
        if (++this.report.pages > MAX_PAGES) throw new EmbeddingAnnotationError(`more than ${MAX_PAGES} pages of annotations: import them in parts`);
        if (annotations.length > MAX_ANNOTATIONS_PER_PAGE) throw new EmbeddingAnnotationError(`${what}: more than ${MAX_ANNOTATIONS_PER_PAGE} annotations in one page`);
        await this.importPage(annotations, what);
      }
      const link = next ?? firstPage;
      if (!link || seen.has(link)) break;
      seen.add(link);
      current = { json: await this.fetchJson(link), url: link };
    }
    return this.report;
  }

  private skip(target: string, reason: string): void {
    this.report.skipped++;
    if (this.report.skips.length < MAX_SKIPS_LISTED) this.report.skips.push({ target, reason });
  }

  private async importPage(annotations: unknown[], what: string): Promise<void> {
    const canvases = new Map<string, CanvasVectors>();
    for (const [i, json] of annotations.entries()) {
      const name = `${what}, annotation ${i}`;
      let parsed: ParsedEmbedding | undefined;
      try {
        parsed = parseEmbeddingAnnotation(json, name);
      } catch (err) {
        if (!(err instanceof EmbeddingAnnotationError)) throw err;
        this.skip(name, err.message);
        continue;
      }
      if (!parsed) continue;
      this.report.annotations++;
      await this.checkModel(parsed);
      if (parsed.modelId !== this.schema!.modelId || parsed.dimensions !== this.schema!.dimensions) {
        this.skip(parsed.canvas.id, `made by model "${parsed.modelId}" (${parsed.dimensions} dimensions), not "${this.schema!.modelId}" like the rest`);
        continue;
      }
      const manifest = parsed.canvas.manifest ?? this.ctx.manifest;
      const key = `${manifest ?? ''}\n${parsed.canvas.id}`;
      let entry = canvases.get(key);
      if (!entry) canvases.set(key, (entry = { canvasId: parsed.canvas.id, manifest, regions: [] }));
      if (parsed.box) entry.regions.push({ box: parsed.box, vector: parsed.vector });
      else entry.whole = parsed.vector;
    }
    const ready: StoreItem[] = [];
    const byManifest = new Map<string | undefined, CanvasVectors[]>();
    for (const entry of canvases.values()) {
      const list = byManifest.get(entry.manifest) ?? [];
      list.push(entry);
      byManifest.set(entry.manifest, list);
    }
    for (const [manifest, entries] of byManifest) {
      for (const item of await this.itemsOf(manifest, entries)) {
        ready.push(item);
        if (ready.length >= UPSERT_BATCH) await this.flush(ready);
      }
    }
    await this.flush(ready);
  }

  private async flush(ready: StoreItem[]): Promise<void> {
    if (!ready.length) return;
    await this.ctx.store.upsert(ready.splice(0));
  }

  /**
   * The first embedding fixes the import's model: it must be the index's (or the index has none
   * yet, and takes it), and the one loaded here for queries, if any.
   */
  private async checkModel(parsed: ParsedEmbedding): Promise<void> {
    if (this.schema) return;
    const offered = { modelId: parsed.modelId, dimensions: parsed.dimensions };
    if (this.ctx.modelId !== undefined && this.ctx.modelId !== offered.modelId) throw new EmbeddingModelMismatchError(offered, { modelId: this.ctx.modelId }, 'model');
    const stats = await this.ctx.store.stats();
    if (stats.modelId !== undefined && (stats.modelId !== offered.modelId || stats.dimensions !== offered.dimensions)) {
      throw new EmbeddingModelMismatchError(offered, { modelId: stats.modelId, ...(stats.dimensions !== undefined ? { dimensions: stats.dimensions } : {}) }, 'index');
    }
    // An index no model has opened records this one now, as a harvest with it would.
    if (stats.modelId === undefined) await this.ctx.store.open(offered);
    this.schema = offered;
    this.report.modelId = offered.modelId;
  }

  /** Store items for one manifest's canvases: those already indexed keep their fields; the others are read from the manifest. */
  private async itemsOf(manifest: string | undefined, entries: CanvasVectors[]): Promise<StoreItem[]> {
    const usable = entries.filter((e) => {
      if (!e.whole) this.skip(e.canvasId, 'regions without a vector of the whole image: the index needs the whole image first');
      return e.whole !== undefined;
    });
    if (!manifest) {
      for (const e of usable) this.skip(e.canvasId, 'the target names no manifest (partOf): give the manifest URL to import it');
      return [];
    }
    const url = withoutFragment(manifest);
    const ids = usable.map((e) => itemIdOf(this.identity.of(url), this.identity.of(e.canvasId)));
    const known = await Promise.all(ids.map((id) => this.ctx.store.get(id)));
    let parsed: ParsedManifest | Error | undefined;
    if (known.some((k) => k === undefined)) parsed = await this.manifest(url);
    const items: StoreItem[] = [];
    usable.forEach((entry, i) => {
      let fields: ItemFields | undefined = known[i];
      if (!fields) {
        if (parsed instanceof Error) return this.skip(entry.canvasId, `its manifest ${url} could not be read: ${parsed.message}`);
        const canvas = parsed!.canvases.find((c) => c.canvasId === entry.canvasId);
        if (!canvas) return this.skip(entry.canvasId, `the manifest ${url} has no such canvas (or one without an image)`);
        const record: IndexedRecord = {
          ...canvas,
          manifestUrl: url,
          sourceUrl: this.ctx.source,
          collectionPath: [],
          imageUrl: resolveImageRequest(canvas.image, this.ctx.imageSize).url,
        };
        fields = itemFields(ids[i]!, record, this.ctx.facets);
      }
      items.push({ ...fields, vector: entry.whole!, regions: entry.regions });
      this.report.items++;
      this.report.regions += entry.regions.length;
    });
    return items;
  }

  private async manifest(url: string): Promise<ParsedManifest | Error> {
    try {
      const doc = parseIiifDocument(await this.fetchJson(url), { url });
      this.report.manifestsFetched++;
      if (doc.kind !== 'manifest') return new Error(`it is a ${doc.kind}, not a manifest`);
      return doc;
    } catch (err) {
      if (this.ctx.signal?.aborted) throw err;
      return err as Error;
    }
  }

  /** A JSON document through the harvester's client: politeness, timeouts, size limits and the SSRF guard. */
  async fetchJson(url: string): Promise<unknown> {
    const res = await this.ctx.http.fetchJson(url, { ...(this.ctx.signal ? { signal: this.ctx.signal } : {}) });
    if (res.status !== 'ok') throw new Error(`${url} answered without a body (${res.status})`);
    return JSON.parse(res.body.toString('utf8'));
  }
}

/** Imports embedding annotations (a page as JSON, or the URL of one) into the store. */
export async function importEmbeddings(input: { json?: unknown; url?: string }, ctx: ImportContext): Promise<ImportReport> {
  const run = new EmbeddingsImport(ctx);
  if (input.json !== undefined) return run.run({ json: input.json, ...(input.url ? { url: input.url } : {}) });
  if (!input.url) throw new EmbeddingAnnotationError('give the annotations, or the URL of an AnnotationPage of them');
  const json = await run.fetchJson(input.url);
  return run.run({ json, url: input.url });
}
