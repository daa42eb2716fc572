import type { HarvestConfig } from '../config/index.ts';
import type { CanvasRow, Journal } from './journal/journal.ts';
import { keepsIndexedBy, type HarvestedItem, type IndexStage, type IndexedRecord, type RegionPixels, type StageOutcome } from './stage.ts';
import { regionItemIds } from './region-items.ts';
import { regionPixels } from './region-pixels.ts';
import type { HarvestEventListener, HarvestSummary } from './events.ts';
import { decodeImage, HttpError, ImageDecodeError, type HttpClient } from '../common/index.ts';
import sharp from 'sharp';
import { resolveDetailTiles, resolveImageRequest, type DetailTile } from './iiif/image-request.ts';
import type { ImageCache } from './image-cache.ts';
import { sha256 } from './util/hash.ts';
import { Semaphore } from './util/semaphore.ts';

export interface ImagePipelineContext {
  config: HarvestConfig;
  journal: Journal;
  http: HttpClient;
  stage: IndexStage;
  cache: ImageCache;
  summary: HarvestSummary;
  emit: HarvestEventListener;
  signal?: AbortSignal;
}

const MAX_FAILURES_KEPT = 1000;

/**
 * Batches inside the stage at once. Two let one batch's store writes (and reprint feature
 * extraction, when composed) run while the next batch is being embedded, instead of leaving
 * the encoder idle between batches; stages that must not run two things at once serialise
 * that part themselves (EmbeddingStage embeds one batch at a time).
 */
const STAGE_DEPTH = 2;

/**
 * A batch that has not filled this long after its first image goes to the stage anyway: while a
 * slow or hung host holds the rest of a harvest back, the images that did arrive become
 * searchable (a portal shows them as they come) instead of waiting for the run's end.
 */
const PARTIAL_BATCH_WAIT_MS = 2000;

/**
 * Fetch → decode → index for every canvas the journal says needs work. Fetches run
 * up to the HTTP concurrency, decodes up to the decode concurrency, and the stage gets
 * batches in order, up to STAGE_DEPTH at once; each step is committed to the journal as it
 * completes (batches in the order they were handed over), so a killed run resumes where it
 * stopped.
 *
 * Images start while discovery still walks the sources: once discovery has settled a manifest
 * (it is never revisited in the same run), `manifestSettled` lets its canvases in, so the
 * encoder is not idle while a large collection's manifests are read. `run` then takes the rest
 * of the journal's work (earlier runs' leftovers, canvases another model indexed) and finishes.
 */
export class ImagePipeline {
  private readonly fetchSlots: Semaphore;
  private readonly decodeSlots: Semaphore;
  private readonly stageSlots = new Semaphore(STAGE_DEPTH);
  private batch: Array<{ item: HarvestedItem; downloaded: boolean }> = [];
  private partialBatchTimer: NodeJS.Timeout | undefined;
  private committed: Promise<void> = Promise.resolve();
  private readonly inFlight = new Set<Promise<void>>();
  /** Canvases taken this run: one fed during discovery is not taken again, even when it failed. */
  private readonly taken = new Set<string>();
  /** Manifests settled by discovery whose canvases have not been taken yet. */
  private readonly settled: string[] = [];
  private feedOpen = false;
  private feeding: Promise<void> = Promise.resolve();
  private feedError: unknown;
  private wakeFeed?: () => void;

  constructor(private readonly ctx: ImagePipelineContext) {
    // A few more tasks than connections keep the decoder busy while responses arrive.
    this.fetchSlots = new Semaphore(ctx.config.http.concurrency + ctx.config.decodeConcurrency);
    this.decodeSlots = new Semaphore(ctx.config.decodeConcurrency);
  }

  /** Starts taking the canvases of the manifests discovery settles from now on. */
  startFeed(): void {
    this.feedOpen = true;
    this.feeding = this.feed().catch((err: unknown) => {
      this.feedError = err;
    });
  }

  /** Discovery is done with this manifest for this run: its canvases that need work may start. */
  manifestSettled(manifestUrl: string): void {
    if (!this.feedOpen) return;
    this.settled.push(manifestUrl);
    this.wakeFeed?.();
  }

  /** After discovery: the rest of the journal's work, then every batch committed. */
  async run(): Promise<void> {
    await this.closeFeed();
    try {
      if (this.feedError) throw this.feedError;
      this.ctx.journal.requeueOtherStages((indexedBy) => keepsIndexedBy(this.ctx.stage, indexedBy));
      await this.updateMetadata();
      this.ctx.emit({ type: 'images-queued', total: this.taken.size + this.ctx.journal.countWork(this.ctx.config.maxAttempts, this.taken) });
      for (const row of this.ctx.journal.workQueue(this.ctx.config.maxAttempts)) await this.take(row);
    } catch (err) {
      await this.settle();
      throw err;
    }
    const interrupted = await this.settle();
    if (interrupted) throw interrupted;
  }

  /** Discovery failed or was interrupted: take nothing more, and commit what is under way. */
  async drain(): Promise<void> {
    this.settled.length = 0;
    await this.closeFeed();
    await this.settle();
  }

  private async feed(): Promise<void> {
    for (;;) {
      const url = this.settled.shift();
      if (url !== undefined) {
        for (const row of this.ctx.journal.manifestWork(url, this.ctx.config.maxAttempts)) await this.take(row);
      } else if (this.feedOpen) {
        await new Promise<void>((resolve) => (this.wakeFeed = resolve));
        this.wakeFeed = undefined;
      } else {
        return;
      }
    }
  }

  private async closeFeed(): Promise<void> {
    this.feedOpen = false;
    this.wakeFeed?.();
    await this.feeding;
  }

  private async take(row: CanvasRow): Promise<void> {
    if (this.taken.has(row.item_id)) return;
    this.ctx.signal?.throwIfAborted();
    this.taken.add(row.item_id);
    const release = await this.fetchSlots.acquire();
    const task = this.process(row).finally(() => {
      release();
      this.inFlight.delete(task);
    });
    // An interrupted task rejects; settle() collects why. Handled now, since the caller may be waiting for a slot meanwhile.
    task.catch(() => {});
    this.inFlight.add(task);
  }

  /**
   * Waits for every task under way, whatever becomes of it (the journal must not close under
   * one), and commits the batches. Returns why a task stopped when the run was interrupted.
   */
  private async settle(): Promise<unknown> {
    const outcomes = await Promise.allSettled([...this.inFlight]);
    await this.flush();
    return outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected')?.reason;
  }

  /** Canvases whose metadata changed while their image did not: the stage updates them without embedding. */
  private async updateMetadata(): Promise<void> {
    const dirty = this.ctx.journal.metadataDirty();
    for (let i = 0; i < dirty.length; i += this.ctx.config.batchSize) {
      const chunk = dirty.slice(i, i + this.ctx.config.batchSize);
      await this.ctx.stage.updateMetadata(chunk.map((row) => ({ itemId: row.item_id, record: JSON.parse(row.record) as IndexedRecord })));
      this.ctx.journal.clearMetadataDirty(chunk.map((row) => row.item_id));
    }
  }

  private async process(row: CanvasRow): Promise<void> {
    try {
      const bytes = await this.obtain(row);
      if (!bytes) return;
      const image = await this.decodeSlots.run(() =>
        decodeImage(bytes.data, { longSide: this.ctx.config.imageSize, maxInputPixels: this.ctx.config.maxInputPixels, limitSetting: 'harvest.maxInputPixels' }),
      );
      const record = JSON.parse(row.record) as IndexedRecord;
      const detail = await this.detail(record, image);
      const regions = await this.regions(row.item_id, record, image);
      await this.enqueue({
        itemId: row.item_id,
        record,
        image,
        bytes: bytes.data,
        imageHash: bytes.hash,
        ...(detail ? { detail } : {}),
        ...(regions ? { regions } : {}),
      }, bytes.downloaded);
    } catch (err) {
      if (this.ctx.signal?.aborted) throw err;
      this.failed(row, err);
    }
  }

  /**
   * The larger image the stage asks for (IndexStage.detailSide), as a separate Image API request:
   * only when the service can deliver one larger than the image already fetched. A failure costs
   * the stage its detail, not the canvas: the stage works from the smaller image then.
   */
  private async detail(record: IndexedRecord, image: { sourceWidth: number; sourceHeight: number }): Promise<Buffer | undefined> {
    const side = this.ctx.stage.detailSide;
    if (!side || Math.max(image.sourceWidth, image.sourceHeight) >= side) return undefined;
    let request;
    let tiled;
    try {
      request = resolveImageRequest(record.image, side);
      tiled = resolveDetailTiles(record.image, side);
    } catch {
      return undefined;
    }
    if (tiled) return this.detailFromTiles(tiled).catch((err: unknown) => this.detailFailed(record.image.service?.id ?? record.imageUrl, err));
    // A plain file was fetched whole already; a request the same as the first, or no larger, brings nothing.
    if (request.strategy === 'plain' || request.url === record.imageUrl) return undefined;
    if (request.width && request.height && Math.max(request.width, request.height) <= Math.max(image.sourceWidth, image.sourceHeight)) return undefined;
    try {
      const body = await this.fetchDetail(request.url);
      // A server may cap responses without saying so in the manifest (maxWidth in its info.json only):
      // then the cap it applied is the limit, and the image comes as regions within it.
      const got = await sharp(body).metadata();
      const wanted = Math.min(side, request.width && request.height ? Math.max(request.width, request.height) : side);
      const service = record.image.service;
      if (service && got.width && got.height && Math.max(got.width, got.height) < 0.9 * wanted) {
        const tiles = resolveDetailTiles({ ...record.image, service: { ...service, maxWidth: got.width, maxHeight: got.height } }, side);
        if (tiles) return await this.detailFromTiles(tiles);
      }
      return body;
    } catch (err) {
      return this.detailFailed(request.url, err);
    }
  }

  /**
   * The pixels of the canvas's region items, for a stage that embeds them (one without a model stores
   * them without vectors): cut from the fetched image, or asked from the image service when small on it.
   */
  private async regions(itemId: string, record: IndexedRecord, image: HarvestedItem['image']): Promise<RegionPixels[] | undefined> {
    if (!record.regions?.length || this.ctx.stage.metadataOnly) return undefined;
    return regionPixels(itemId, record, image, this.ctx.config.regions, (url) => this.fetchDetail(url), (url, err) => {
      if (this.ctx.signal?.aborted) throw err;
      this.ctx.emit({ type: 'warning', url, message: `an annotated region could not be fetched on its own (${(err as Error).message}); it is cut from the canvas image` });
    });
  }

  private async fetchDetail(url: string): Promise<Buffer> {
    const res = await this.ctx.http.fetchImage(url, { signal: this.ctx.signal });
    if (res.status !== 'ok') throw new Error(`${url} answered 304 Not Modified to an unconditional request`);
    this.ctx.summary.images.bytes += res.body.length;
    return res.body;
  }

  /** A server whose limits keep one response small: its regions, one after the other, assembled (at most 16). */
  private async detailFromTiles(plan: { width: number; height: number; tiles: DetailTile[] }): Promise<Buffer> {
    const parts = [];
    for (const tile of plan.tiles) {
      // Servers round region sizes their own way: each tile is made to fill its place exactly.
      const input = await sharp(await this.fetchDetail(tile.url)).resize(tile.width, tile.height, { fit: 'fill' }).toBuffer();
      parts.push({ input, left: tile.x, top: tile.y });
    }
    return sharp({ create: { width: plan.width, height: plan.height, channels: 3, background: '#ffffff' } }).composite(parts).jpeg({ quality: 92 }).toBuffer();
  }

  private detailFailed(url: string, err: unknown): undefined {
    if (this.ctx.signal?.aborted) throw err;
    this.ctx.emit({ type: 'warning', url, message: `the larger image for reprint detection could not be fetched (${(err as Error).message}); features come from the smaller one` });
    return undefined;
  }

  /** The image bytes: from the cache after a resume, else fetched (conditionally when it was indexed before). */
  private async obtain(row: CanvasRow): Promise<{ data: Buffer; hash: string; downloaded: boolean } | undefined> {
    const indexedBefore = keepsIndexedBy(this.ctx.stage, row.model_id) && !!row.image_hash;
    if (row.image_hash && !indexedBefore) {
      const cached = this.ctx.cache.get(row.image_hash);
      if (cached) return { data: cached, hash: row.image_hash, downloaded: false };
    }
    const validators = indexedBefore ? { etag: row.image_etag ?? undefined, lastModified: row.image_last_modified ?? undefined } : undefined;
    const res = await this.ctx.http.fetchImage(row.image_url, { validators, signal: this.ctx.signal });
    if (res.status === 'not-modified') {
      this.unchanged(row, false);
      return undefined;
    }
    this.ctx.summary.images.downloaded++;
    this.ctx.summary.images.bytes += res.body.length;
    const hash = sha256(res.body);
    if (indexedBefore && hash === row.image_hash) {
      this.unchanged(row, true);
      return undefined;
    }
    this.ctx.cache.put(hash, res.body);
    this.ctx.journal.markFetched(row.item_id, { etag: res.validators.etag, lastModified: res.validators.lastModified, hash });
    return { data: res.body, hash, downloaded: true };
  }

  private unchanged(row: CanvasRow, downloaded: boolean): void {
    this.ctx.journal.markUnchanged(row.item_id);
    if (!downloaded) this.ctx.summary.images.notModified++;
    this.ctx.summary.images.unchanged++;
    this.ctx.emit({ type: 'image', itemId: row.item_id, url: row.image_url, status: 'unchanged', downloaded });
  }

  private failed(row: Pick<CanvasRow, 'item_id' | 'image_url'>, err: unknown): void {
    const reason = (err as Error)?.message ?? String(err);
    // Broken pixels and refused requests stay broken until the manifest changes; network trouble may pass.
    const retryable = err instanceof ImageDecodeError ? false : err instanceof HttpError ? err.retryable : true;
    this.ctx.journal.markFailed(row.item_id, reason, retryable);
    this.ctx.summary.images.failed++;
    if (this.ctx.summary.failures.length < MAX_FAILURES_KEPT) this.ctx.summary.failures.push({ url: row.image_url, itemId: row.item_id, reason });
    this.ctx.emit({ type: 'image', itemId: row.item_id, url: row.image_url, status: 'failed', reason, downloaded: false });
  }

  private async enqueue(item: HarvestedItem, downloaded: boolean): Promise<void> {
    this.batch.push({ item, downloaded });
    if (this.batch.length >= this.ctx.config.batchSize) {
      await this.flush();
      return;
    }
    if (this.partialBatchTimer) return;
    this.partialBatchTimer = setTimeout(() => {
      this.partialBatchTimer = undefined;
      // A failure still reaches the run: the next flush (settle's at the latest) waits on the same chain.
      this.flush().catch(() => {});
    }, PARTIAL_BATCH_WAIT_MS);
    this.partialBatchTimer.unref();
  }

  /**
   * Hands the current batch to the stage as soon as a stage slot is free; resolves once the
   * batch is committed. Results are committed in the order batches were handed over.
   */
  private flush(): Promise<void> {
    clearTimeout(this.partialBatchTimer);
    this.partialBatchTimer = undefined;
    const entries = this.batch;
    this.batch = [];
    if (!entries.length) return this.committed;
    const outcomes = this.stageSlots.run(() => this.indexBatch(entries.map((e) => e.item)));
    this.committed = this.committed.then(() => outcomes).then((o) => this.commit(entries, o));
    return this.committed;
  }

  private async indexBatch(items: HarvestedItem[]): Promise<StageOutcome[]> {
    try {
      return await this.ctx.stage.index(items);
    } catch (err) {
      return items.map((item) => ({ itemId: item.itemId, ok: false as const, reason: `indexing failed: ${(err as Error).message}` }));
    }
  }

  private commit(entries: Array<{ item: HarvestedItem; downloaded: boolean }>, outcomes: StageOutcome[]): Promise<void> | undefined {
    const items = entries.map((e) => e.item);
    const byId = new Map(entries.map((e) => [e.item.itemId, e]));
    const done = [];
    for (const outcome of outcomes) {
      const { item, downloaded } = byId.get(outcome.itemId)!;
      if (outcome.ok) {
        done.push({ itemId: item.itemId, width: item.image.width, height: item.image.height });
        this.ctx.emit({ type: 'image', itemId: item.itemId, url: item.record.imageUrl, status: 'indexed', downloaded });
      } else {
        this.failed({ item_id: item.itemId, image_url: item.record.imageUrl }, new Error(outcome.reason));
      }
    }
    // Items whose manifest left the journal while they were indexed (it proved a duplicate) leave the index too, with their regions.
    const gone = this.ctx.journal.markIndexed(done, this.ctx.stage.id).flatMap((id) => [id, ...regionItemIds(id, byId.get(id)?.item.record)]);
    this.ctx.summary.images.indexed += done.length;
    // Without a model the images wait in the cache for the first harvest with one.
    if (!this.ctx.config.keepImages && !this.ctx.stage.metadataOnly) {
      for (const item of items) this.ctx.cache.delete(item.imageHash);
    }
    if (!gone.length) return undefined;
    return this.ctx.stage.remove(gone).catch((err: unknown) => {
      this.ctx.emit({ type: 'warning', url: this.ctx.stage.id, message: `could not remove ${gone.length} item(s) of a manifest indexed under another URL: ${(err as Error).message}` });
    });
  }
}
