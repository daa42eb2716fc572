import type { Rect, Similarity } from './features/index.ts';
import type { ReprintItem } from './reprint-index/index.ts';

/** One image found to contain the same photograph as the query. */
export interface ReprintHit {
  id: string;
  item: ReprintItem;
  /** 0–1: how sure the match is (from the inlier count, calibrated by eval:reprints). */
  confidence: number;
  /** Geometrically consistent keypoint matches. */
  inliers: number;
  /** The matched part of the hit, in its canvas coordinates (source pixels when the canvas size is unknown). */
  region: Rect;
  /** The matched part of the query, in the query's coordinates (its canvas when the query is an indexed item or a region of one). */
  queryRegion: Rect;
  /** Similarity mapping query coordinates (as queryRegion) to hit coordinates (as region). */
  transform: Similarity;
}

export interface ReprintSearchOptions {
  /** Hits returned at most. */
  limit?: number;
  /** Inliers a hit needs; the default is calibrated so that different photographs stay below it. */
  minInliers?: number;
  /** Candidates from the inverted file that are verified geometrically. */
  shortlist?: number;
  /** An item never returned (the query item itself). */
  excludeId?: string;
}

export interface ReprintGroupMember {
  id: string;
  canvasId?: string;
  manifestId?: string;
  manifestLabel?: string;
  label?: string;
  collections?: string[];
  /** Where the shared photograph is on this canvas (from its strongest pair). */
  region: Rect;
  /** Inliers of its strongest pair in the group, and the confidence they give. */
  inliers: number;
  confidence: number;
}

export interface ReprintGroup {
  members: ReprintGroupMember[];
  pairs: Array<{ a: string; b: string; inliers: number; confidence: number }>;
}

/** Source pixels → canvas coordinates of an item (identity when its canvas size is unknown). */
export interface CoordinateSpace {
  scaleX: number;
  scaleY: number;
  offsetX?: number;
  offsetY?: number;
}
