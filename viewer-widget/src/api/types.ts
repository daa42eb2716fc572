/**
 * The shapes of the Reprise search API as the widget reads them (plugin/hits.ts and
 * plugin/search-service.ts on the server). Declared here, not imported, so the browser bundle
 * depends on nothing of the server.
 */

/** A box in canvas coordinates. */
export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface ImageServiceRef {
  id: string;
  version: number;
  level?: number;
}

export interface Hit {
  id: string;
  score: number;
  canvas: { id: string; label?: string; index?: number; width?: number; height?: number };
  manifest: { id: string; url: string; label?: string };
  thumbnail?: string;
  rights?: string;
  requiredStatement?: { label: string; value: string };
  homepage?: string;
  date?: string;
  collections?: string[];
  imageService?: ImageServiceRef;
  /** The part of the hit's canvas that matched, in its canvas coordinates. */
  region?: Box;
  /** Reprints only: the matching part of the query canvas. */
  queryRegion?: Box;
  /** Reprints only: how many keypoint matches agree with the geometric transform. */
  inliers?: number;
}

export interface SearchPage {
  hits: Hit[];
  total?: number;
  limit: number;
  offset: number;
  scoreKind?: 'cosine' | 'ranking';
}

export interface ItemDetails extends Omit<Hit, 'score' | 'region'> {
  summary?: string;
  metadata?: Array<{ label: string; value: string }>;
  image?: { url: string; width?: number; height?: number };
}

/** An RFC 9457 problem, as the API answers errors (and as the widget reports its own). */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: Array<{ name: string; in: string; reason: string }>;
}

/** Filters the API accepts on every search (values of one field are ORed, fields ANDed). */
export interface Filters {
  manifest?: string[];
  collection?: string[];
  rights?: string[];
  labels?: string[];
  source?: string[];
  dateFrom?: string;
  dateTo?: string;
}

export type FacetField = 'manifest' | 'collection' | 'rights' | 'labels' | 'source';
export type Facets = Partial<Record<FacetField, { values: Array<{ value: string; count: number }>; more: boolean }>>;

/** A box drawn on an indexed canvas: what image and reprint search take. */
export interface RegionQuery {
  canvas: string;
  manifest?: string;
  /** "x,y,w,h" in canvas coordinates (or the Media Fragment "percent:" form). */
  xywh: string;
}

/** What a search element last ran: the `query` of `reprise-results`. */
export type SearchQuery =
  | { kind: 'text'; q: string; filters: Filters; offset: number; limit: number }
  | ({ kind: 'region'; filters: Filters; offset: number; limit: number } & RegionQuery)
  | { kind: 'feedback'; positive: string[]; negative: string[]; filters: Filters; offset: number; limit: number };
