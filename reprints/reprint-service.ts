// The scan's worker thread (scan-worker.ts) loads this file, and with the features' index sharp: sharp
// may load on a worker thread once the main thread has loaded it, which importing this file there
// (reprints/index.ts) has done before any scan thread starts.
import type { ImageFeatures, Rect } from './features/index.ts';
import { confidence, DEFAULT_MIN_INLIERS, DEFAULT_VERIFY, verifyPair, type PairMatch, type Similarity, type VerifyOptions } from './features/index.ts';
import type { IndexedImage, ReprintIndex, ReprintItem, StoredPair } from './reprint-index/index.ts';
import { groupPairs } from './grouping.ts';
import { samePrinting } from './same-printing.ts';
import type { CoordinateSpace, ReprintGroup, ReprintHit, ReprintSearchOptions } from './types.ts';
import { RepriseError } from '../common/index.ts';

/** Candidates verified per query: 100 found the original of 99.1 % of the 0.5-intensity queries, 50 of 98.9 %. */
export const DEFAULT_SHORTLIST = 100;
/**
 * Candidates verified per image by the collection-wide scan: fewer, because a pair has two
 * chances there (each image queries for the other) and the scan runs after every harvest.
 */
export const DEFAULT_SCAN_SHORTLIST = 50;
export const MAX_SHORTLIST = 1000;
export const MAX_LIMIT = 1000;

const IDENTITY: CoordinateSpace = { scaleX: 1, scaleY: 1 };

function itemSpace(item: ReprintItem, sourceWidth: number, sourceHeight: number): CoordinateSpace {
  // A region item's pixels show a part of its canvas: they map onto that part.
  const shown = item.region?.shown;
  if (shown && sourceWidth && sourceHeight) return { scaleX: shown.w / sourceWidth, scaleY: shown.h / sourceHeight, offsetX: shown.x, offsetY: shown.y };
  if (!item.canvasWidth || !item.canvasHeight || !sourceWidth || !sourceHeight) return IDENTITY;
  return { scaleX: item.canvasWidth / sourceWidth, scaleY: item.canvasHeight / sourceHeight };
}

function toSpace(r: Rect, s: CoordinateSpace): Rect {
  return { x: Math.round(r.x * s.scaleX + (s.offsetX ?? 0)), y: Math.round(r.y * s.scaleY + (s.offsetY ?? 0)), w: Math.round(r.w * s.scaleX), h: Math.round(r.h * s.scaleY) };
}

/** The similarity re-expressed between the two coordinate spaces: hit = T(query). */
function transformBetween(t: Similarity, query: CoordinateSpace, hit: CoordinateSpace): Similarity {
  // Canvas spaces scale both axes alike (IIIF images keep the canvas aspect), so the mean scale is exact enough.
  const qs = (query.scaleX + query.scaleY) / 2;
  const hs = (hit.scaleX + hit.scaleY) / 2;
  const [a, b, tx, c, d, ty] = t.matrix;
  const qx = query.offsetX ?? 0;
  const qy = query.offsetY ?? 0;
  const k = hs / qs;
  const m: Similarity['matrix'] = [a * k, b * k, 0, c * k, d * k, 0];
  m[2] = hs * (tx - (a * qx + b * qy) / qs) + (hit.offsetX ?? 0);
  m[5] = hs * (ty - (c * qx + d * qy) / qs) + (hit.offsetY ?? 0);
  return { scale: t.scale * k, rotation: t.rotation, tx: m[2], ty: m[5], matrix: m };
}

/**
 * Finds reprints: candidates from the inverted file, each verified by local features and a
 * similarity RANSAC, kept when the inliers reach the calibrated threshold. Also the
 * collection-wide scan behind `reprise reprints --all`, incremental: each image is compared
 * with the index once, when it is new or changed.
 */
export class ReprintService {
  constructor(
    readonly index: ReprintIndex,
    private readonly verify: VerifyOptions = DEFAULT_VERIFY,
  ) {}

  /** Closes the index: whoever opened the service (openReprintService) closes it, as a store's opener closes the store. */
  close(): void {
    this.index.close();
  }

  /**
   * Reprints of the photograph(s) in a query image. `querySpace` maps the query's source pixels
   * to the coordinates hits should report queryRegion in (a canvas, a region's offset).
   */
  search(query: ImageFeatures, options: ReprintSearchOptions = {}, querySpace: CoordinateSpace = IDENTITY): ReprintHit[] {
    if (query.empty) return [];
    const limit = Math.min(options.limit ?? 20, MAX_LIMIT);
    const minInliers = options.minInliers ?? DEFAULT_MIN_INLIERS;
    const shortlist = Math.min(options.shortlist ?? DEFAULT_SHORTLIST, MAX_SHORTLIST);
    const excluded = options.excludeId !== undefined ? this.index.image(options.excludeId) : undefined;
    const exclude = options.excludeId !== undefined ? (excluded ? this.samePrintingDocs(excluded) : new Set(this.index.docsOf(options.excludeId))) : undefined;
    // Three words per query descriptor (soft assignment): +0.4 point Recall@1 at intensity 0.9 in eval:reprints, for a few ms.
    const words = this.index.vocabulary.assignSoft(query.descriptors);
    const verified = this.verifyCandidates(query, words, shortlist, exclude, minInliers);
    const hits: ReprintHit[] = [];
    const seen = new Set<string>();
    for (const { doc, match } of verified) {
      if (hits.length >= limit) break;
      const image = this.index.imageByDoc(doc);
      const frame = this.index.frame(doc);
      if (!image || !frame) continue;
      // A picture found on a page is reported as the page (its frame is in the page's pixels already), once.
      const { partOf, ...item } = image.item;
      const id = partOf ?? image.id;
      // (samePrintingDocs finds region items by their ids: one named otherwise is caught here.)
      if (seen.has(id) || (excluded && samePrinting(excluded, { id, item }))) continue;
      seen.add(id);
      const hitSpace = itemSpace(item, frame.sourceWidth, frame.sourceHeight);
      hits.push({
        id,
        item,
        confidence: confidence(match.inliers),
        inliers: match.inliers,
        region: toSpace(match.region, hitSpace),
        queryRegion: toSpace(match.queryRegion, querySpace),
        transform: transformBetween(match.transform, querySpace, hitSpace),
      });
    }
    return hits;
  }

  /**
   * Reprints of any of several views of one query (an image whole and each picture printed in it:
   * extractViews), each item once, with its best match. All views' coordinates are the query's.
   */
  searchViews(views: ImageFeatures[], options: ReprintSearchOptions = {}, querySpace: CoordinateSpace = IDENTITY): ReprintHit[] {
    const limit = Math.min(options.limit ?? 20, MAX_LIMIT);
    const best = new Map<string, ReprintHit>();
    // An item in the merged top `limit` is in the top `limit` of the view it came from.
    for (const view of views) {
      for (const hit of this.search(view, { ...options, limit }, querySpace)) {
        const current = best.get(hit.id);
        if (!current || hit.inliers > current.inliers) best.set(hit.id, hit);
      }
    }
    return [...best.values()].sort((a, b) => b.inliers - a.inliers || a.id.localeCompare(b.id)).slice(0, limit);
  }

  /** Verified candidates, most inliers first (ties: higher tf-idf score). */
  verifyCandidates(query: ImageFeatures, words: Uint16Array, shortlist: number, exclude: number | ReadonlySet<number> | undefined, minInliers: number): Array<{ doc: number; match: PairMatch }> {
    const out: Array<{ doc: number; match: PairMatch; score: number }> = [];
    for (const candidate of this.index.candidates(words, shortlist, exclude)) {
      const features = this.index.features(candidate.doc);
      if (!features) continue;
      const match = verifyPair(query, features, this.verify, minInliers);
      if (match && match.inliers >= minInliers) out.push({ doc: candidate.doc, match, score: candidate.score });
    }
    return out.sort((x, y) => y.match.inliers - x.match.inliers || y.score - x.score);
  }

  /** Reprints of an indexed item (the whole of it and each of its parts), its canvas coordinates on both sides. */
  searchItem(id: string, options: ReprintSearchOptions = {}): ReprintHit[] {
    const image = this.index.image(id);
    if (!image) throw new UnknownItemError(id);
    const views = this.index.docsOf(id).flatMap((doc) => {
      const features = this.index.features(doc);
      return features ? [{ ...features }] : [];
    });
    if (!views.length) return [];
    const frame = views[0]!.frame;
    const space = itemSpace(image.item, frame.sourceWidth, frame.sourceHeight);
    return this.searchViews(views, { ...options, excludeId: id }, space);
  }

  /** The first document of the item a document stands for (its own, or the item it is part of): the pair's side. */
  private family(doc: number): { root: number } | undefined {
    const image = this.index.imageByDoc(doc);
    if (!image) return undefined;
    const docs = this.index.docsOf(image.item.partOf ?? image.id);
    return docs.length ? { root: docs[0]! } : undefined;
  }

  /**
   * The documents of an item (not a part) and of every item that is the same printing as it
   * (same-printing.ts): a canvas's own region items, a region item's canvas and the regions of that
   * canvas over the same place, parts included. Left out of its candidates: they would crowd out
   * the reprints (a page may have dozens of regions, each matching it).
   */
  private samePrintingDocs(image: IndexedImage): Set<number> {
    const docs = new Set(this.index.docsOf(image.id));
    const canvas = image.item.region?.canvasItemId ?? image.id;
    if (canvas !== image.id) for (const doc of this.index.docsOf(canvas)) docs.add(doc);
    for (const other of this.index.regionsOf(canvas)) {
      const { partOf, ...item } = other.item;
      if (samePrinting(image, { id: partOf ?? other.id, item })) docs.add(other.doc);
    }
    return docs;
  }

  /**
   * Compares every image not yet scanned with the index and records the verified pairs; returns
   * how many images were scanned. Bounded by `maxImages` per call; call again to continue.
   * `stop` is asked before each image: once it says so, the scan ends there, every image it
   * recorded complete and the others left for the next scan.
   */
  scan(options: { minInliers?: number; shortlist?: number; maxImages?: number; onProgress?: (done: number) => void; stop?: () => boolean } = {}): number {
    const minInliers = options.minInliers ?? DEFAULT_MIN_INLIERS;
    const shortlist = Math.min(options.shortlist ?? DEFAULT_SCAN_SHORTLIST, MAX_SHORTLIST);
    let done = 0;
    const max = options.maxImages ?? Infinity;
    while (done < max) {
      const batch = this.index.unscanned(Math.min(256, max - done));
      if (!batch.length) break;
      for (const doc of batch) {
        if (options.stop?.()) return done;
        const features = this.index.features(doc);
        const family = this.family(doc);
        const owner = family && this.index.imageByDoc(family.root);
        // Pairs join items: a part's match is its page's (its regions are in the page's pixels already), the best match per other item.
        const found = new Map<number, StoredPair>();
        if (features && family && owner) {
          const query: ImageFeatures = { ...features };
          // A canvas and its own region items are one printing: never a pair.
          const same = this.samePrintingDocs(owner);
          for (const { doc: other, match } of this.verifyCandidates(query, this.index.vocabulary.assignSoft(features.descriptors), shortlist, same, minInliers)) {
            const b = this.family(other)?.root;
            if (b === undefined || b === family.root || same.has(b)) continue;
            const current = found.get(b);
            if (!current || match.inliers > current.inliers) found.set(b, { a: family.root, b, inliers: match.inliers, regionA: match.queryRegion, regionB: match.region });
          }
        }
        const pairs = [...found.values()];
        this.index.recordScan(doc, pairs);
        done++;
        options.onProgress?.(done);
      }
    }
    return done;
  }

  /** Groups of reprints across every collection, from the pairs the scans recorded (connected components). */
  groups(): ReprintGroup[] {
    return this.shapeGroups(this.index.pairs());
  }

  /**
   * The group of an indexed item (the other printings of its photograph, through any chain of
   * verified pairs), undefined when the scans paired it with nothing. Walks the pairs from the
   * item, so a large collection is not grouped for one item; at most `maxMembers` are reached.
   */
  groupOf(id: string, maxMembers = 10_000): ReprintGroup | undefined {
    const start = this.index.image(id);
    if (!start) throw new UnknownItemError(id);
    const pairs = new Map<string, StoredPair>();
    const seen = new Set([start.doc]);
    const queue = [start.doc];
    while (queue.length && seen.size < maxMembers) {
      for (const p of this.index.pairsOf(queue.shift()!)) {
        pairs.set(`${p.a}:${p.b}`, p);
        for (const doc of [p.a, p.b]) {
          if (seen.has(doc)) continue;
          seen.add(doc);
          queue.push(doc);
        }
      }
    }
    return this.shapeGroups([...pairs.values()], id)[0];
  }

  /** The groups of these pairs; `keep`: the item whose group is asked for, which stays a member under its own id (groupPairs). */
  private shapeGroups(pairs: StoredPair[], keep?: string): ReprintGroup[] {
    return groupPairs(pairs, (doc) => {
      const image = this.index.imageByDoc(doc);
      const frame = this.index.frame(doc);
      if (!image || !frame) return undefined;
      return { id: image.id, item: image.item, space: itemSpace(image.item, frame.sourceWidth, frame.sourceHeight) };
    }, keep).map((g) => ({
      members: g.members.map((m) => ({
        id: m.id,
        canvasId: m.item.canvasId,
        manifestId: m.item.manifestId,
        manifestLabel: m.item.manifestLabel,
        label: m.item.label,
        collections: m.item.collections,
        region: toSpace(m.region, m.space),
        inliers: m.inliers,
        confidence: confidence(m.inliers),
      })),
      pairs: g.pairs.map((p) => ({ ...p, confidence: confidence(p.inliers) })),
    }));
  }
}

export class UnknownItemError extends RepriseError {
  override readonly name = 'UnknownItemError';
  constructor(readonly id: string) {
    super(`no item "${id}" in the reprint index: harvest it first (features are extracted while harvesting), or give an image file or URL`);
  }
}
