import type { HarvestConfig } from '../config/index.ts';
import { HttpError, HttpStatusError, type FetchResult, type HttpClient } from '../common/index.ts';
import type { CanvasUpsert, Journal, SourceRow } from './journal/journal.ts';
import type { IndexStage, IndexedRecord } from './stage.ts';
import type { HarvestEventListener, HarvestSummary } from './events.ts';
import type { CanvasRecord, CanvasRegion, ChangeActivity, ImageServiceRef, LanguageMap, ParsedManifest } from './iiif/types.ts';
import { boundRegions } from './iiif/annotations.ts';
import { Warnings } from './iiif/util.ts';
import { parseIiifDocument } from './iiif/document.ts';
import { parseImageService } from './iiif/image-service.ts';
import { resolveImageRequest } from './iiif/image-request.ts';
import { pageEndsWalk, parseChangeCollection, parseChangePage, selectChangedObjects } from './iiif/change-discovery.ts';
import { IiifParseError } from './iiif/errors.ts';
import { itemIdOf, sha256 } from './util/hash.ts';
import { addReferencedRegions } from './annotation-pages.ts';
import { countCanvases } from './region-items.ts';
import { Semaphore } from './util/semaphore.ts';
import { preferredManifestUrl, UrlIdentity, withoutFragment } from './util/url-identity.ts';

interface Child {
  url: string;
  label: LanguageMap;
  kind: 'manifest' | 'collection' | 'page';
}

export interface DiscoveryContext {
  config: HarvestConfig;
  journal: Journal;
  http: HttpClient;
  stage: IndexStage;
  runId: number;
  summary: HarvestSummary;
  emit: HarvestEventListener;
  dryRun: boolean;
  since?: Date;
  signal?: AbortSignal;
  /** Called once a manifest's canvases are in the journal for this run (it is not visited again), so its images may start. */
  onManifestSettled?: (manifestUrl: string) => void;
  /**
   * Bases (origin and path) of a folder this server publishes itself: items under them keep their
   * ids when the server's address or port changes, and their manifests move instead of doubling.
   */
  publishedBases?: string[];
}

type DocumentKind = 'manifest' | 'collection';

const MAX_CHANGE_PAGES = 10_000;
const MAX_FAILURES_KEPT = 1000;

export function firstLabel(label: LanguageMap | undefined): string {
  if (!label) return '';
  return label.en?.[0] ?? label.none?.[0] ?? Object.values(label)[0]?.[0] ?? '';
}

/**
 * Walks one source (manifest, collection tree, or change stream), brings the journal's
 * documents and canvases in line with what the source says now, and removes from the
 * index what the source no longer lists. Images are fetched from the journal: those of each
 * manifest as soon as it is settled (onManifestSettled), the rest afterwards.
 */
export class Discovery {
  private readonly visited = new Set<string>();
  private readonly infoCache = new Map<string, Promise<ImageServiceRef | undefined>>();
  private readonly manifestSlots: Semaphore;
  /**
   * Bounds the documents being fetched, whatever the shape of the tree: every request waiting for
   * a host slot or a retry listens to the run's signal, and a collection of many sub-collections
   * would otherwise start them all at once.
   */
  private readonly fetchSlots: Semaphore;
  private readonly identity: UrlIdentity;
  /** Manifest id and canvases (see claim) → the URL that indexes it in this run. */
  private readonly claims = new Map<string, string>();
  /** Whether every document of the current source was read: only then may absence mean removal. */
  private complete = true;
  private manifestCount = 0;

  constructor(private readonly ctx: DiscoveryContext) {
    this.manifestSlots = new Semaphore(Math.max(1, ctx.config.http.concurrency));
    this.fetchSlots = new Semaphore(Math.max(1, ctx.config.http.concurrency));
    this.identity = new UrlIdentity(ctx.publishedBases);
  }

  async harvestSource(source: SourceRow): Promise<void> {
    this.complete = true;
    const rootPath = source.collection ? [source.collection] : [];
    const known = source.kind === 'manifest' || source.kind === 'collection' ? source.kind : undefined;
    const kind = await this.visit(source, source.url, rootPath, 0, known);
    if (kind) this.ctx.journal.updateSource(source.id, { kind, lastRunId: this.ctx.runId });
    if (kind === 'collection' || kind === 'manifest') {
      if (this.complete) {
        for (const url of this.ctx.journal.unlinkUnseen(source.id, this.ctx.runId)) await this.removeManifest(url);
      } else {
        this.ctx.emit({
          type: 'warning',
          url: source.url,
          message: 'some documents of this source could not be read; nothing was removed from the index this run',
        });
      }
    }
  }

  private fail(url: string, reason: string, itemId?: string): void {
    if (this.ctx.summary.failures.length < MAX_FAILURES_KEPT) this.ctx.summary.failures.push({ url, reason, itemId });
  }

  private async fetchDocument(url: string): Promise<FetchResult> {
    const known = this.ctx.journal.getDocument(url);
    const validators = known?.status === 'ok' ? { etag: known.etag ?? undefined, lastModified: known.last_modified ?? undefined } : undefined;
    return this.fetchSlots.run(() => this.ctx.http.fetchJson(url, { validators, signal: this.ctx.signal }));
  }

  /**
   * Returns the kind of document found at `url`, or undefined when it could not be read.
   * `expected`: what the parent listed it as, so that a member that fails is counted as what it is.
   */
  private async visit(source: SourceRow, listedUrl: string, path: string[], depth: number, expected?: DocumentKind): Promise<'manifest' | 'collection' | 'change-stream' | undefined> {
    this.ctx.signal?.throwIfAborted();
    // A fragment is not sent to the server: `m.json#p2` is `m.json`.
    const url = withoutFragment(listedUrl);
    if (this.visited.has(url)) return this.ctx.journal.getDocument(url)?.kind as 'manifest' | 'collection' | undefined;
    this.visited.add(url);
    if (depth > this.ctx.config.maxCollectionDepth) {
      this.ctx.emit({ type: 'warning', url, message: `collections nested deeper than ${this.ctx.config.maxCollectionDepth} are not followed (harvest.maxCollectionDepth)` });
      return undefined;
    }
    const known = this.ctx.journal.getDocument(url);
    let result: FetchResult;
    try {
      result = await this.fetchDocument(url);
    } catch (err) {
      return this.documentFailed(source, url, known?.kind, path, err, expected);
    }

    if (result.status === 'not-modified' && known?.content_hash) {
      return this.replayUnchanged(source, url, known.kind, known.children, path, depth);
    }
    if (result.status === 'not-modified') {
      // A 304 for a document we have no copy of: ask again without validators.
      this.ctx.journal.saveDocument({ url, kind: known?.kind ?? 'manifest', status: 'failed', error: 'stale validators', runId: this.ctx.runId });
      this.visited.delete(url);
      return this.visit(source, url, path, depth, expected);
    }

    const hash = sha256(result.body);
    let json: unknown;
    try {
      json = JSON.parse(result.body.toString('utf8'));
    } catch (err) {
      return this.documentFailed(source, url, known?.kind, path, new IiifParseError(`not JSON: ${(err as Error).message}`), expected);
    }
    if (isChangeStream(json)) {
      this.ctx.summary.collections.fetched++;
      this.ctx.emit({ type: 'document', url, kind: 'change-stream', status: known ? 'changed' : 'new' });
      await this.followChangeStream(source, url, json, path);
      return 'change-stream';
    }
    if (known?.content_hash === hash && known.status === 'ok') {
      this.saveValidators(url, known.kind, result, hash);
      return this.replayUnchanged(source, url, known.kind, known.children, path, depth);
    }

    let doc;
    try {
      const { regions } = this.ctx.config;
      doc = parseIiifDocument(json, {
        url: result.finalUrl,
        maxCanvases: this.ctx.config.maxCanvasesPerManifest,
        regions: regions.enabled ? { maxPerCanvas: regions.maxPerCanvas, minSide: regions.minSide } : false,
      });
    } catch (err) {
      return this.documentFailed(source, url, known?.kind, path, err, expected);
    }
    for (const message of 'warnings' in doc ? doc.warnings : []) this.ctx.emit({ type: 'warning', url, message });

    if (doc.kind === 'manifest') {
      await this.syncManifest(source, url, doc, path, result, hash, known ? 'changed' : 'new');
      return 'manifest';
    }
    if (doc.kind === 'collection') {
      const children: Child[] = [
        ...doc.collections.map((c) => ({ url: c.id, label: c.label, kind: 'collection' as const })),
        ...doc.manifests.map((m) => ({ url: m.id, label: m.label, kind: 'manifest' as const })),
        ...(doc.next ? [{ url: doc.next, label: {}, kind: 'page' as const }] : []),
      ];
      this.ctx.journal.saveDocument({
        url,
        kind: 'collection',
        docId: doc.id,
        label: JSON.stringify(doc.label),
        etag: result.validators.etag,
        lastModified: result.validators.lastModified,
        contentHash: hash,
        children: JSON.stringify(children),
        status: 'ok',
        runId: this.ctx.runId,
      });
      this.ctx.summary.collections.fetched++;
      this.ctx.emit({ type: 'document', url, kind: 'collection', status: known ? 'changed' : 'new' });
      await this.visitChildren(source, children, doc.label, path, depth);
      return 'collection';
    }
    return this.documentFailed(source, url, known?.kind, path, new IiifParseError('an Image API info.json is not a Presentation manifest or collection; harvest the manifest that uses it'), expected);
  }

  private saveValidators(url: string, kind: string, result: FetchResult, hash: string): void {
    if (result.status !== 'ok') return;
    this.ctx.journal.saveDocument({ url, kind, etag: result.validators.etag, lastModified: result.validators.lastModified, contentHash: hash, status: 'ok', runId: this.ctx.runId });
  }

  private async replayUnchanged(source: SourceRow, url: string, kind: string, children: string | null, path: string[], depth: number) {
    if (kind === 'manifest') {
      const known = this.ctx.journal.getDocument(url);
      const claim = known?.doc_id ? this.claim(url, known.doc_id, this.canvasesKeyOf(url), []) : { owner: url, removed: [] };
      if (claim.owner !== url) {
        await this.duplicateManifest(source, url, { id: known!.doc_id!, label: known!.label ?? '{}' }, claim.owner, path, 'unchanged');
        return 'manifest' as const;
      }
      await this.removeFromIndex(claim.removed);
      this.ctx.summary.canvases.removed += countCanvases(claim.removed);
      this.ctx.journal.linkManifest(source.id, url, path, this.ctx.runId);
      this.ctx.summary.manifests.unchanged++;
      this.ctx.emit({ type: 'document', url, kind: 'manifest', status: 'unchanged' });
      this.ctx.onManifestSettled?.(url);
      return 'manifest' as const;
    }
    this.ctx.summary.collections.unchanged++;
    this.ctx.emit({ type: 'document', url, kind: 'collection', status: 'unchanged' });
    const label = JSON.parse(this.ctx.journal.getDocument(url)?.label ?? '{}') as LanguageMap;
    await this.visitChildren(source, JSON.parse(children ?? '[]') as Child[], label, path, depth);
    return 'collection' as const;
  }

  private async visitChildren(source: SourceRow, children: Child[], label: LanguageMap, path: string[], depth: number): Promise<void> {
    const here = firstLabel(label);
    const childPath = here ? [...path, here] : path;
    const pending: Promise<unknown>[] = [];
    // Settled all together below; handled from the start, since the loop may wait for a slot when one fails.
    const track = (visit: Promise<unknown>) => {
      visit.catch(() => {});
      pending.push(visit);
    };
    for (const child of children) {
      if (child.kind === 'page') {
        // A page of a paged collection belongs to the same collection level.
        track(this.visit(source, child.url, path, depth, 'collection'));
      } else if (child.kind === 'collection') {
        track(this.visit(source, child.url, childPath, depth + 1, 'collection'));
      } else {
        if (++this.manifestCount > this.ctx.config.maxManifestsPerRun) {
          this.complete = false;
          this.ctx.emit({ type: 'warning', url: child.url, message: `more than ${this.ctx.config.maxManifestsPerRun} manifests in one run (harvest.maxManifestsPerRun); the rest waits for the next run` });
          break;
        }
        const release = await this.manifestSlots.acquire();
        // Stop reading more once the run is stopped; the children under way still settle below.
        if (this.ctx.signal?.aborted) {
          release();
          break;
        }
        track(this.visit(source, child.url, childPath, depth + 1, 'manifest').finally(release));
      }
    }
    // Every child settles before this returns: one that fails early (an interruption) must not leave
    // its siblings writing to a journal being closed.
    const outcomes = await Promise.allSettled(pending);
    const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** `kind`: what the journal knows the document as; `expected`: what it was listed as, for one never read. */
  private documentFailed(source: SourceRow, url: string, kind: string | undefined, path: string[], err: unknown, expected?: DocumentKind) {
    // Interrupted, not failed: nothing is recorded, and the next run reads the document again.
    if (this.ctx.signal?.aborted) throw err;
    const reason = (err as Error)?.message ?? String(err);
    const gone = err instanceof HttpStatusError && err.status === 410;
    const counted = kind ?? expected ?? 'manifest';
    this.ctx.journal.saveDocument({ url, kind: counted, status: 'failed', error: reason, runId: this.ctx.runId });
    if (kind === 'manifest' && !gone) {
      // Keep what was indexed: a manifest that fails today may answer tomorrow.
      this.ctx.journal.linkManifest(source.id, url, path, this.ctx.runId);
    }
    if (!gone) this.complete = false;
    if (counted === 'collection') this.ctx.summary.collections.failed++;
    else this.ctx.summary.manifests.failed++;
    this.fail(url, reason);
    this.ctx.emit({ type: 'document', url, kind: counted === 'collection' ? 'collection' : 'manifest', status: 'failed', reason });
    if (!(err instanceof HttpError) && !(err instanceof IiifParseError)) throw err;
    return undefined;
  }

  private async syncManifest(source: SourceRow, url: string, doc: ParsedManifest, path: string[], result: FetchResult & { status: 'ok' }, hash: string, status: 'new' | 'changed') {
    await this.readAnnotationPages(url, doc);
    const upserts: CanvasUpsert[] = [];
    for (const canvas of doc.canvases) {
      const imageUrl = await this.imageUrlFor(canvas);
      const record: IndexedRecord = { ...canvas, manifestUrl: url, sourceUrl: source.url, collectionPath: path, imageUrl };
      const recordJson = JSON.stringify(record);
      upserts.push({
        // Under a published folder's base, identified without it: the items keep their ids when the address changes.
        itemId: itemIdOf(this.identity.of(url), this.identity.of(canvas.canvasId)),
        manifestUrl: url,
        canvasId: canvas.canvasId,
        index: canvas.index,
        record: recordJson,
        recordHash: sha256(recordJson),
        imageUrl,
      });
    }
    // Nothing is awaited from here until the journal holds the outcome, so claims are decided in one go.
    const movedFrom = this.ctx.journal.manifestsHolding(upserts.map((u) => u.itemId), url);
    const claim = this.claim(url, doc.id, canvasesKey(upserts), movedFrom);
    if (claim.owner !== url) return this.duplicateManifest(source, url, { id: doc.id, label: JSON.stringify(doc.label) }, claim.owner, path, status);
    for (const skip of doc.skipped) {
      this.ctx.summary.canvases.skipped++;
      this.ctx.emit({ type: 'canvas-skipped', manifestUrl: url, canvasId: skip.canvasId, reason: skip.reason });
    }
    const changes = this.ctx.journal.transaction(() => {
      const c = this.ctx.journal.syncManifestCanvases(url, upserts, { recheckImages: status === 'changed' });
      this.ctx.journal.saveDocument({
        url,
        kind: 'manifest',
        docId: doc.id,
        label: JSON.stringify(doc.label),
        etag: result.validators.etag,
        lastModified: result.validators.lastModified,
        contentHash: hash,
        status: 'ok',
        runId: this.ctx.runId,
      });
      this.ctx.journal.linkManifest(source.id, url, path, this.ctx.runId);
      return c;
    });
    await this.removeFromIndex([...claim.removed, ...changes.removed]);
    const s = this.ctx.summary;
    // A manifest that moved (same items at a new address) is not new: its items were updated in place.
    const moved = changes.movedFrom.length > 0;
    if (moved) s.manifests.moved++;
    else s.manifests[status]++;
    s.canvases.added += changes.added;
    s.canvases.imageChanged += changes.imageChanged;
    s.canvases.metadataChanged += changes.metadataChanged;
    // Removed ids include region items (region-items.ts); the summary counts canvases.
    s.canvases.removed += countCanvases(changes.removed) + countCanvases(claim.removed);
    for (const from of changes.movedFrom) this.ctx.emit({ type: 'manifest-moved', from, to: url, canvases: doc.canvases.length });
    this.ctx.emit({ type: 'document', url, kind: 'manifest', status: moved ? 'changed' : status, canvases: doc.canvases.length });
    this.ctx.onManifestSettled?.(url);
  }

  /**
   * Which URL indexes the manifest that calls itself `docId`, when several reach it (`url` now,
   * others earlier in this run or in the journal): preferredManifestUrl decides, whatever the
   * order they are read in. When `url` wins, the others' canvases leave the journal, and their
   * item ids are returned for the index. One manifest means the same id and the same canvases
   * (`key`): publishers that give every manifest one copied id keep them all. `movedFrom`: URLs
   * this manifest moved from (same items), not rivals.
   */
  private claim(url: string, docId: string, key: string, movedFrom: string[]): { owner: string; removed: string[] } {
    const rivals = new Set(
      this.ctx.journal.manifestsWithDocId(docId, url).filter((u) => !movedFrom.includes(u) && this.canvasesKeyOf(u) === key),
    );
    const claimKey = `${docId}\n${key}`;
    const claimed = this.claims.get(claimKey);
    if (claimed !== undefined && claimed !== url) rivals.add(claimed);
    const owner = [url, ...rivals].sort((a, b) => preferredManifestUrl(a, b, docId))[0]!;
    if (owner !== url) return { owner, removed: [] };
    this.claims.set(claimKey, url);
    const removed: string[] = [];
    for (const rival of rivals) {
      removed.push(...this.ctx.journal.deleteManifestCanvases(rival));
      this.duplicateFound(rival, docId, url);
    }
    return { owner: url, removed };
  }

  /**
   * The regions of the annotation pages the canvases reference. A canvas whose pages could not all
   * be read also keeps the regions the journal has for it on other boxes, so that a page failing
   * today does not remove its regions (what was read now wins on a box both have).
   */
  private async readAnnotationPages(url: string, doc: ParsedManifest): Promise<void> {
    const unread = await addReferencedRegions(doc, url, {
      http: this.ctx.http,
      config: this.ctx.config,
      emit: this.ctx.emit,
      signal: this.ctx.signal,
      slot: (fetch) => this.fetchSlots.run(fetch),
    });
    if (!unread.size) return;
    const known = new Map(this.ctx.journal.canvasesOfManifest(url).map((row) => [row.canvas_id, row.record]));
    const { regions: settings } = this.ctx.config;
    const warnings = new Warnings(20);
    for (const canvas of doc.canvases) {
      const before = unread.has(canvas.canvasId) ? known.get(canvas.canvasId) : undefined;
      const earlier = before ? ((JSON.parse(before) as Partial<CanvasRecord>).regions ?? []) : [];
      if (!earlier.length) continue;
      const boxKey = (r: CanvasRegion) => `${r.box.x},${r.box.y},${r.box.w},${r.box.h}`;
      const now = new Set((canvas.regions ?? []).map(boxKey));
      const regions = [...(canvas.regions ?? []), ...earlier.filter((r) => !now.has(boxKey(r)))];
      canvas.regions = boundRegions(regions, { width: canvas.width, height: canvas.height }, settings, `canvas ${canvas.index}`, warnings);
    }
    for (const message of warnings.done()) this.ctx.emit({ type: 'warning', url, message });
  }

  /** `url` gives the manifest `owner` indexes: nothing of it is indexed (what was, is removed). It is read again next run. */
  private async duplicateManifest(source: SourceRow, url: string, doc: { id: string; label: string }, owner: string, path: string[], status: 'new' | 'changed' | 'unchanged') {
    const removed = this.ctx.journal.transaction(() => {
      const ids = this.ctx.journal.deleteManifestCanvases(url);
      // Without validators or hash: the next run reads it in full and decides again.
      this.ctx.journal.saveDocument({ url, kind: 'manifest', docId: doc.id, label: doc.label, status: 'ok', runId: this.ctx.runId });
      this.ctx.journal.linkManifest(source.id, url, path, this.ctx.runId);
      return ids;
    });
    await this.removeFromIndex(removed);
    this.ctx.summary.canvases.removed += countCanvases(removed);
    this.duplicateFound(url, doc.id, owner);
    this.ctx.emit({ type: 'document', url, kind: 'manifest', status, canvases: 0 });
  }

  private duplicateFound(url: string, docId: string, owner: string): void {
    this.ctx.summary.manifests.duplicates++;
    this.ctx.emit({ type: 'warning', url, message: `the manifest ${docId} is also reached at ${owner}: indexed once, under ${owner}` });
  }

  private canvasesKeyOf(manifestUrl: string): string {
    return canvasesKey(this.ctx.journal.canvasesOfManifest(manifestUrl).map((row) => ({ canvasId: row.canvas_id, imageUrl: row.image_url })));
  }

  private async removeFromIndex(itemIds: string[]): Promise<void> {
    if (itemIds.length && !this.ctx.dryRun) await this.ctx.stage.remove(itemIds);
  }

  /** The URL to fetch for a canvas; level-0 services that list no sizes need their info.json first. */
  private async imageUrlFor(canvas: CanvasRecord): Promise<string> {
    let image = canvas.image;
    const service = image.service;
    if (service && service.level === 0 && !service.sizes?.length && !service.tiles?.length) {
      const info = await this.serviceInfo(service.id);
      if (info) image = { ...image, service: { ...service, ...info } };
    }
    return resolveImageRequest(image, this.ctx.config.imageSize).url;
  }

  private serviceInfo(id: string): Promise<ImageServiceRef | undefined> {
    let pending = this.infoCache.get(id);
    if (!pending) {
      pending = this.ctx.http
        .fetchJson(`${id}/info.json`, { signal: this.ctx.signal })
        .then((r) => (r.status === 'ok' ? parseImageService(JSON.parse(r.body.toString('utf8')), `${id}/info.json`) : undefined))
        .catch((err: unknown) => {
          if (this.ctx.signal?.aborted) throw err;
          this.ctx.emit({ type: 'warning', url: `${id}/info.json`, message: `could not read info.json (${(err as Error).message}); asking for the full image` });
          return undefined;
        });
      this.infoCache.set(id, pending);
    }
    return pending;
  }

  private async removeManifest(url: string): Promise<void> {
    const ids = this.ctx.journal.deleteManifestCanvases(url);
    if (ids.length && !this.ctx.dryRun) await this.ctx.stage.remove(ids);
    this.ctx.summary.manifests.removed++;
    this.ctx.summary.canvases.removed += countCanvases(ids);
    this.ctx.emit({ type: 'manifest-removed', url, canvases: countCanvases(ids) });
  }

  /**
   * IIIF Change Discovery: read pages from the newest backwards until activities are
   * older than the watermark (or --since), then harvest what was created or updated
   * and remove what was deleted.
   */
  private async followChangeStream(source: SourceRow, url: string, json: unknown, path: string[]): Promise<void> {
    const stream = parseChangeCollection(json, { url });
    const watermark = this.ctx.since ?? (source.change_watermark ? new Date(source.change_watermark) : undefined);
    let activities: ChangeActivity[] = [];
    let pageUrl = stream.last;
    for (let pages = 0; pageUrl && pages < MAX_CHANGE_PAGES; pages++) {
      const res = await this.ctx.http.fetchJson(pageUrl, { signal: this.ctx.signal });
      if (res.status !== 'ok') break;
      const page = parseChangePage(JSON.parse(res.body.toString('utf8')), { url: pageUrl });
      // Pages are walked newest first; the selection wants the activities oldest first.
      activities = [...page.activities, ...activities];
      if (pageEndsWalk(page, watermark)) break;
      pageUrl = page.prev;
    }
    // Collections in a stream are listed for their own sake; their manifests have activities of their own.
    const changed = selectChangedObjects(activities, watermark, { types: ['Manifest'] });
    for (const target of changed.harvest) {
      await this.visit(source, target.id, path, 1, 'manifest');
    }
    for (const target of changed.deleted) {
      const url = withoutFragment(target.id);
      this.ctx.journal.unlinkManifest(source.id, url);
      if (!this.ctx.journal.isLinked(url)) await this.removeManifest(url);
    }
    const newest = activities.reduce<string | undefined>((max, a) => (a.endTime && (!max || a.endTime > max) ? a.endTime : max), undefined);
    if (newest && this.complete && !this.ctx.dryRun) this.ctx.journal.updateSource(source.id, { changeWatermark: newest });
  }
}

/** What a manifest paints, in order: two URLs giving the same id and this are one manifest. */
function canvasesKey(canvases: Array<{ canvasId: string; imageUrl: string }>): string {
  return sha256(canvases.map((c) => `${c.canvasId}\t${c.imageUrl}`).join('\n'));
}

function isChangeStream(json: unknown): boolean {
  const type = (json as { type?: unknown } | null)?.type;
  return type === 'OrderedCollection' || type === 'OrderedCollectionPage';
}
