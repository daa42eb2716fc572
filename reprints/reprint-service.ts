// From the modules themselves, not the package index: the scan's worker thread (scan-worker.js) loads
// this file and must not load sharp, which extraction needs and verification does not.
import type { ImageFeatures, Rect } from '../models/local-features/types.ts';
import { confidence, DEFAULT_MIN_INLIERS, DEFAULT_VERIFY, verifyPair, type PairMatch, type Similarity, type VerifyOptions } from '../models/local-features/verify.ts';
import type { ReprintIndex, ReprintItem, StoredPair } from '../store/reprints/index.ts';
import { groupPairs } from './grouping.ts';
import type { ReprintGroup, ReprintHit, ReprintSearchOptions } from './types.ts';

/** Candidates verified per query: 100 found the original of 99.1 % of the 0.5-intensity queries, 50 of 98.9 %. */
export const DEFAULT_SHORTLIST = 100;
/**
 * Candidates verified per image by the collection-wide scan: fewer, because a pair has two
 * chances there (each image queries for the other) and the scan runs after every harvest.
 */
export const DEFAULT_SCAN_SHORTLIST = 50;
export const MAX_SHORTLIST = 1000;
export const MAX_LIMIT = 1000;

/** Source pixels → canvas coordinates of an item (identity when its canvas size is unknown). */
export interface CoordinateSpace {
  scaleX: number;
  scaleY: number;
  offsetX?: number;
  offsetY?: number;
}

const IDENTITY: CoordinateSpace = { scaleX: 1, scaleY: 1 };

function itemSpace(item: ReprintItem, sourceWidth: number, sourceHeight: number): CoordinateSpace {
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

  /**
   * Reprints of the photograph(s) in a query image. `querySpace` maps the query's source pixels
   * to the coordinates hits should report queryRegion in (a canvas, a region's offset).
   */
  search(query: ImageFeatures, options: ReprintSearchOptions = {}, querySpace: CoordinateSpace = IDENTITY): ReprintHit[] {
    if (query.empty) return [];
    const limit = Math.min(options.limit ?? 20, MAX_LIMIT);
    const minInliers = options.minInliers ?? DEFAULT_MIN_INLIERS;
    const shortlist = Math.min(options.shortlist ?? DEFAULT_SHORTLIST, MAX_SHORTLIST);
    const exclude = options.excludeId !== undefined ? this.index.image(options.excludeId)?.doc : undefined;
    // Three words per query descriptor (soft assignment): +0.4 point Recall@1 at intensity 0.9 in eval:reprints, for a few ms.
    const words = this.index.vocabulary.assignSoft(query.descriptors);
    const verified = this.verifyCandidates(query, words, shortlist, exclude, minInliers);
    const hits: ReprintHit[] = [];
    for (const { doc, match } of verified.slice(0, limit)) {
      const image = this.index.imageByDoc(doc);
      const frame = this.index.frame(doc);
      if (!image || !frame) continue;
      const hitSpace = itemSpace(image.item, frame.sourceWidth, frame.sourceHeight);
      hits.push({
        id: image.id,
        item: image.item,
        confidence: confidence(match.inliers),
        inliers: match.inliers,
        region: toSpace(match.region, hitSpace),
        queryRegion: toSpace(match.queryRegion, querySpace),
        transform: transformBetween(match.transform, querySpace, hitSpace),
      });
    }
    return hits;
  }

  /** Verified candidates, most inliers first (ties: higher tf-idf score). */
  verifyCandidates(query: ImageFeatures, words: Uint16Array, shortlist: number, exclude: number | undefined, minInliers: number): Array<{ doc: number; match: PairMatch }> {
    const out: Array<{ doc: number; match: PairMatch; score: number }> = [];
    for (const candidate of this.index.candidates(words, shortlist, exclude)) {
      const features = this.index.features(candidate.doc);
      if (!features) continue;
      const match = verifyPair(query, features, this.verify, minInliers);
      if (match && match.inliers >= minInliers) out.push({ doc: candidate.doc, match, score: candidate.score });
    }
    return out.sort((x, y) => y.match.inliers - x.match.inliers || y.score - x.score);
  }

  /** Reprints of an indexed item, its canvas coordinates on both sides. */
  searchItem(id: string, options: ReprintSearchOptions = {}): ReprintHit[] {
    const image = this.index.image(id);
    if (!image) throw new UnknownItemError(id);
    if (image.empty) return [];
    const features = this.index.features(image.doc);
    if (!features) return [];
    const space = itemSpace(image.item, features.frame.sourceWidth, features.frame.sourceHeight);
    return this.search({ ...features }, { ...options, excludeId: id }, space);
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
        const pairs: StoredPair[] = [];
        if (features) {
          const query: ImageFeatures = { ...features };
          for (const { doc: other, match } of this.verifyCandidates(query, this.index.vocabulary.assignSoft(features.descriptors), shortlist, doc, minInliers)) {
            pairs.push({ a: doc, b: other, inliers: match.inliers, regionA: match.queryRegion, regionB: match.region });
          }
        }
        this.index.recordScan(doc, pairs);
        done++;
        options.onProgress?.(done);
      }
    }
    return done;
  }

  /** Groups of reprints across every collection, from the pairs the scans recorded (connected components). */
  groups(): ReprintGroup[] {
    return groupPairs(this.index.pairs(), (doc) => {
      const image = this.index.imageByDoc(doc);
      const frame = this.index.frame(doc);
      if (!image || !frame) return undefined;
      return { id: image.id, item: image.item, space: itemSpace(image.item, frame.sourceWidth, frame.sourceHeight) };
    }).map((g) => ({
      members: g.members.map((m) => ({
        id: m.id,
        canvasId: m.item.canvasId,
        manifestId: m.item.manifestId,
        manifestLabel: m.item.manifestLabel,
        label: m.item.label,
        collections: m.item.collections,
        region: toSpace(m.region, m.space),
      })),
      pairs: g.pairs.map((p) => ({ ...p, confidence: confidence(p.inliers) })),
    }));
  }
}

export class UnknownItemError extends Error {
  override readonly name = 'UnknownItemError';
  constructor(readonly id: string) {
    super(`no item "${id}" in the reprint index: harvest it first (features are extracted while harvesting), or give an image file or URL`);
  }
}
