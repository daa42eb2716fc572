/**
 * Reprint search for the API: the same query inputs as image search (an upload, a URL, an Image
 * API request, a box on an indexed canvas) plus an indexed item, resolved to pixels here and
 * answered by the reprint service the router was given (reprints/: queryReprints). Query
 * coordinates are reported in the query canvas when the query is on a canvas, so a viewer can
 * outline the match on both images.
 */
import { ImageDecodeError } from '../common/index.ts';
import {
  localFeatures,
  LocalFeaturesUnavailableError,
  queryReprints,
  UnknownItemError,
  type ReprintGroupMember,
  type ImageQuery,
  type ReprintHit,
  type ReprintItem,
  type ReprintService,
} from '../reprints/index.ts';
import type { ItemFields } from '../store/index.ts';
import { canvasBox, type StoreCall } from './canvas-lookup.ts';
import { regionFields, regionTarget, roundBox, shapeItem } from './hits.ts';
import { notFound, Problem } from './problems.ts';
import type { QueryImages } from './query-image.ts';
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

/**
 * What a region item (an annotated part of a canvas) adds to a reprint hit or printing: the target
 * a viewer opens, `canvas#xywh=` of its box, and its annotation's words; from the store, else from
 * what the reprint index kept. Nothing for a canvas: its `region` says where the photograph is.
 */
function regionItemFields(stored: ItemFields | undefined, kept?: ReprintItem): { target?: string; regionLabel?: string } {
  if (stored) {
    const { target, regionLabel } = regionFields(stored);
    return { ...(target ? { target } : {}), ...(regionLabel ? { regionLabel } : {}) };
  }
  const box = kept?.region && roundBox(kept.region.box);
  return box && kept.canvasId ? { target: regionTarget(kept.canvasId, box) } : {};
}

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
  return { ...item, id: h.id, confidence: h.confidence, inliers: h.inliers, region, ...regionItemFields(stored, h.item), queryRegion: roundBox(h.queryRegion), transform: h.transform };
}

/** Why the reprint routes cannot answer on a router created without a reprint service. */
function missingReprints(): string {
  try {
    localFeatures();
  } catch (err) {
    if (err instanceof LocalFeaturesUnavailableError) return err.message;
    throw err;
  }
  return 'reprint search is not set up on this API: its router was created without a reprint index (pass reprints: openReprintService(config.dataDir) to createSearchRouter)';
}

export class ReprintSearch {
  constructor(
    private readonly service: ReprintService | undefined,
    private readonly call: StoreCall,
    private readonly images: QueryImages,
  ) {}

  /** The injected service; a 503 saying why when there is none. */
  private reprints(): ReprintService {
    if (!this.service) throw new Problem('store-unavailable', missingReprints());
    return this.service;
  }

  async find(source: ReprintSource, options: ReprintOptions): Promise<ReprintPage> {
    const service = this.reprints();
    try {
      if (source.kind === 'item') {
        const image = service.index.image(source.id);
        if (!image) throw notFound(`no item with the id ${JSON.stringify(source.id)} in the reprint index (features are extracted while harvesting)`);
        const hits = await queryReprints(service, { item: source.id }, options);
        return { hits: await this.shaped(hits), ...(image.item.canvasId ? { queryCanvas: image.item.canvasId } : {}) };
      }
      const { query, canvas } = await this.queryImage(source);
      return { hits: await this.shaped(await queryReprints(service, query, options)), ...(canvas ? { queryCanvas: canvas } : {}) };
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
      return { ...item, id: m.id, region, ...regionItemFields(stored[i]), inliers: m.inliers, confidence: m.confidence };
    });
  }

  /** The hits with their items from the store (at most the route's limit, read in parallel). */
  private async shaped(hits: ReprintHit[]): Promise<ReprintPage['hits']> {
    const stored = await Promise.all(hits.map((h) => this.call('get', (s) => s.get(h.id))));
    return hits.map((h, i) => shape(h, stored[i]));
  }

  /** The query's pixels (and the region of them to match), and where its coordinates map to: the canvas when it is a box on one. */
  private async queryImage(source: ImageSource): Promise<{ query: ImageQuery; canvas?: string }> {
    switch (source.kind) {
      case 'upload':
        return { query: await this.pixels(this.images.fromUpload(source.bytes)) };
      case 'url':
        return { query: await this.pixels(this.images.fromUrl(source.url)) };
      case 'iiif':
        return { query: await this.pixels(this.images.fromImageApi(source.url)) };
      case 'canvas': {
        const { item, record, box } = await canvasBox(this.call, source);
        const query = await this.pixels(this.images.fromCanvasBox(record, box));
        // The pixels matched are the box: their coordinates map back onto the canvas.
        return {
          query: { ...query, space: (width, height) => ({ scaleX: box.w / width, scaleY: box.h / height, offsetX: box.x, offsetY: box.y }), excludeId: item.id },
          canvas: source.canvas,
        };
      }
    }
  }

  /** Decoded query pixels, and the part of them to match when a box was cut here rather than by an image service. */
  private async pixels(image: ReturnType<QueryImages['fromUpload']>): Promise<ImageQuery> {
    const { image: decoded, region } = await image;
    const pixels = { data: decoded.data, width: decoded.width, height: decoded.height, channels: decoded.channels };
    return region ? { image: pixels, region } : { image: pixels };
  }
}
