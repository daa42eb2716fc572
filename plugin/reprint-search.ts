/**
 * Reprint search for the API: the same query inputs as image search (an upload, a URL, an Image
 * API request, a box on an indexed canvas) plus an indexed item, answered by the reprint index
 * (reprints/, store/reprints/). Query coordinates are reported in the query canvas when the query
 * is on a canvas, so a viewer can outline the match on both images.
 */
import { openReprintIndex } from '../harvester/index.ts';
import { ImageDecodeError } from '../common/index.ts';
import { extractViews, LocalFeaturesUnavailableError, type RawPixels } from '../models/index.ts';
import { ReprintService, UnknownItemError, type CoordinateSpace, type ReprintGroupMember, type ReprintHit } from '../reprints/index.ts';
import type { ReprintIndex } from '../store/index.ts';
import type { Box, ItemFields } from '../store/index.ts';
import { canvasBox, type StoreCall } from './canvas-lookup.ts';
import { shapeItem } from './hits.ts';
import { notFound, Problem } from './problems.ts';
import type { QueryImage, QueryImages } from './query-image.ts';
import type { ReprintGroupsPageBody, ReprintMemberBody, ReprintPageBody, ReprintPrintingsPageBody } from './response-schemas.ts';
import type { ImageSource } from './search-service.ts';

export type ReprintSource = ImageSource | { kind: 'item'; id: string };

export interface ReprintOptions {
  limit: number;
  minInliers: number;
}

/** The API's answer (response-schemas.ts): each hit shaped as search hits are, plus the match. */
export type ReprintPage = ReprintPageBody;

/** Members listed per group in GET /reprints/groups, and pairs: a group's printings route pages through more. */
export const MAX_GROUP_MEMBERS = 100;
export const MAX_GROUP_PAIRS = 500;

const roundBox = (b: Box): Box => ({ x: Math.round(b.x), y: Math.round(b.y), w: Math.round(b.w), h: Math.round(b.h) });

/**
 * A reprint hit as the API shows it: the item as search shows it (label, rights, the image service
 * and canvas size a viewer needs, a thumbnail of the matched region) from the store, plus the match.
 * An item the reprint index has and the store no longer does (deleted since) is shown from what the
 * reprint index kept.
 */
function shape(h: ReprintHit, stored: ItemFields | undefined): ReprintPage['hits'][number] {
  const region = roundBox(h.region);
  const item = stored
    ? shapeItem(stored, region)
    : {
        id: h.id,
        canvas: { id: h.item.canvasId ?? '', ...(h.item.label ? { label: h.item.label } : {}), ...(h.item.canvasWidth ? { width: h.item.canvasWidth, height: h.item.canvasHeight } : {}) },
        manifest: { id: h.item.manifestId ?? h.item.manifestUrl ?? '', url: h.item.manifestUrl ?? h.item.manifestId ?? '', ...(h.item.manifestLabel ? { label: h.item.manifestLabel } : {}) },
        collections: h.item.collections ?? [],
      };
  return { ...item, id: h.id, confidence: h.confidence, inliers: h.inliers, region, queryRegion: roundBox(h.queryRegion), transform: h.transform };
}

/** The part of the query image to match: the region when one was given, the whole image otherwise. */
function regionPixels(query: QueryImage): RawPixels & { width: number; height: number } {
  const { image, region } = query;
  const pixels: RawPixels = { data: image.data, width: image.width, height: image.height, channels: image.channels };
  if (!region) return pixels;
  const channels = pixels.channels;
  const out = new Uint8Array(region.w * region.h * channels);
  for (let y = 0; y < region.h; y++) {
    const from = ((region.y + y) * image.width + region.x) * channels;
    out.set(image.data.subarray(from, from + region.w * channels), y * region.w * channels);
  }
  return { data: out, width: region.w, height: region.h, channels };
}

export class ReprintSearch {
  private index?: ReprintIndex;
  private service?: ReprintService;

  constructor(
    private readonly dataDir: string,
    private readonly call: StoreCall,
    private readonly images: QueryImages,
  ) {}

  /** Opened on first use: loading the inverted file reads every image's words. */
  private reprints(): ReprintService {
    if (!this.service) {
      try {
        this.index = openReprintIndex(this.dataDir);
      } catch (err) {
        if (err instanceof LocalFeaturesUnavailableError) throw new Problem('store-unavailable', err.message);
        throw err;
      }
      this.service = new ReprintService(this.index);
    }
    return this.service;
  }

  async find(source: ReprintSource, options: ReprintOptions): Promise<ReprintPage> {
    const service = this.reprints();
    try {
      if (source.kind === 'item') {
        const image = service.index.image(source.id);
        if (!image) throw notFound(`no item with the id ${JSON.stringify(source.id)} in the reprint index (features are extracted while harvesting)`);
        return { hits: await this.shaped(service.searchItem(source.id, options)), ...(image.item.canvasId ? { queryCanvas: image.item.canvasId } : {}) };
      }
      const { query, space, exclude, canvas } = await this.queryImage(source);
      const pixels = regionPixels(query);
      // The image whole, and each picture printed in it when it is a page (a newspaper page finds the photographs on it).
      const { views } = await extractViews(pixels);
      if (views.length === 1 && views[0]!.empty) throw new Problem('unprocessable-image', `nothing in this image can be matched (${views[0]!.empty})`);
      const hits = service.searchViews(views, { ...options, ...(exclude ? { excludeId: exclude } : {}) }, space(pixels.width, pixels.height));
      return { hits: await this.shaped(hits), ...(canvas ? { queryCanvas: canvas } : {}) };
    } catch (err) {
      if (err instanceof UnknownItemError) throw notFound(err.message);
      if (err instanceof ImageDecodeError) throw new Problem('unprocessable-image', err.message);
      if (err instanceof LocalFeaturesUnavailableError) throw new Problem('store-unavailable', err.message);
      throw err;
    }
  }

  /**
   * The groups of reprints across every collection, largest first, paged: what the collection-wide
   * comparison after each harvest recorded (no image is compared for this request).
   */
  async groups(page: { limit: number; offset: number }): Promise<ReprintGroupsPageBody> {
    const all = this.reprints().groups();
    const groups = [];
    for (const g of all.slice(page.offset, page.offset + page.limit)) {
      groups.push({
        size: g.members.length,
        members: await this.shapedMembers(g.members.slice(0, MAX_GROUP_MEMBERS)),
        pairs: [...g.pairs].sort((x, y) => y.inliers - x.inliers || x.a.localeCompare(y.a) || x.b.localeCompare(y.b)).slice(0, MAX_GROUP_PAIRS),
      });
    }
    return { groups, total: all.length, limit: page.limit, offset: page.offset };
  }

  /**
   * The other printings of an item's photograph: the members of its group, those verified against
   * the item itself first (most inliers first), then those joined to it through others.
   */
  async printings(id: string, page: { limit: number; offset: number }): Promise<ReprintPrintingsPageBody> {
    const service = this.reprints();
    const image = service.index.image(id);
    if (!image || image.item.partOf !== undefined) throw notFound(`no item with the id ${JSON.stringify(id)} in the reprint index (features are extracted while harvesting)`);
    const group = service.groupOf(id);
    const self = group?.members.find((m) => m.id === id);
    const others = (group?.members ?? [])
      .filter((m) => m.id !== id)
      .map((member) => ({ member, direct: group!.pairs.find((p) => (p.a === id && p.b === member.id) || (p.b === id && p.a === member.id))?.inliers }))
      .sort((x, y) => (y.direct ?? 0) - (x.direct ?? 0) || y.member.inliers - x.member.inliers || x.member.id.localeCompare(y.member.id));
    const shown = others.slice(page.offset, page.offset + page.limit);
    const shaped = await this.shapedMembers(shown.map((o) => o.member));
    return {
      item: id,
      ...(self ? { region: roundBox(self.region) } : {}),
      printings: shaped.map((m, i) => (shown[i]!.direct !== undefined ? { ...m, direct: shown[i]!.direct } : m)),
      total: others.length,
      limit: page.limit,
      offset: page.offset,
    };
  }

  /** Group members as the API shows items, from the store when it still holds them (else from what the reprint index kept). */
  private async shapedMembers(members: ReprintGroupMember[]): Promise<ReprintMemberBody[]> {
    const stored = await Promise.all(members.map((m) => this.call('get', (s) => s.get(m.id))));
    return members.map((m, i) => {
      const region = roundBox(m.region);
      const item = stored[i]
        ? shapeItem(stored[i], region)
        : {
            id: m.id,
            canvas: { id: m.canvasId ?? '', ...(m.label ? { label: m.label } : {}) },
            manifest: { id: m.manifestId ?? '', url: m.manifestId ?? '', ...(m.manifestLabel ? { label: m.manifestLabel } : {}) },
            collections: m.collections ?? [],
          };
      return { ...item, id: m.id, region, inliers: m.inliers, confidence: m.confidence };
    });
  }

  /** The hits with their items from the store (at most the route's limit, read in parallel). */
  private async shaped(hits: ReprintHit[]): Promise<ReprintPage['hits']> {
    const stored = await Promise.all(hits.map((h) => this.call('get', (s) => s.get(h.id))));
    return hits.map((h, i) => shape(h, stored[i]));
  }

  private async queryImage(
    source: ImageSource,
  ): Promise<{ query: QueryImage; space: (width: number, height: number) => CoordinateSpace; exclude?: string; canvas?: string }> {
    const identity = () => ({ scaleX: 1, scaleY: 1 });
    switch (source.kind) {
      case 'upload':
        return { query: await this.images.fromUpload(source.bytes), space: identity };
      case 'url':
        return { query: await this.images.fromUrl(source.url), space: identity };
      case 'iiif':
        return { query: await this.images.fromImageApi(source.url), space: identity };
      case 'canvas': {
        const { item, record, box } = await canvasBox(this.call, source);
        const query = await this.images.fromCanvasBox(record, box);
        // The pixels matched are the box: their coordinates map back onto the canvas.
        return {
          query,
          space: (width, height) => ({ scaleX: box.w / width, scaleY: box.h / height, offsetX: box.x, offsetY: box.y }),
          exclude: item.id,
          canvas: source.canvas,
        };
      }
    }
  }

  close(): void {
    this.index?.close();
    this.index = undefined;
    this.service = undefined;
  }
}
