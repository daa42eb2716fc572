/**
 * What the harvester keeps of a IIIF document, whatever its version.
 * Presentation 2 documents are upgraded to 3 with @iiif/parser first, so these
 * shapes follow Presentation 3 naming.
 */

import type { ImageSize as Iiif3ImageSize, InternationalString, MetadataItem } from '@iiif/presentation-3';

/**
 * A IIIF language map (@iiif/presentation-3's InternationalString), normalised: every key
 * present has a list, and bogus language keys became "none".
 */
export type LanguageMap = { [K in keyof InternationalString]-?: NonNullable<InternationalString[K]> };

export interface LabelValue extends MetadataItem {
  label: LanguageMap;
  value: LanguageMap;
}

export type ImageSize = Pick<Iiif3ImageSize, 'width' | 'height'>;

export interface TileSpec {
  width: number;
  height?: number;
  scaleFactors: number[];
}

/** An Image API service as found in a manifest or read from its info.json. */
export interface ImageServiceRef {
  /** Base URI of the service, without a trailing slash or /info.json. */
  id: string;
  /** Image API major version: 1, 2 or 3 (from @context, type or profile). */
  version: 1 | 2 | 3;
  /** Compliance level when the profile says it (0, 1, 2). */
  level?: 0 | 1 | 2;
  width?: number;
  height?: number;
  sizes?: ImageSize[];
  tiles?: TileSpec[];
  maxWidth?: number;
  maxHeight?: number;
  maxArea?: number;
  /** Formats the service says it supports beyond the required jpg. */
  formats?: string[];
}

/** One image painted on a canvas. */
export interface ImageResource {
  /** The image URL as given in the manifest (may be a full-size Image API URL or a plain file). */
  url: string;
  format?: string;
  width?: number;
  height?: number;
  service?: ImageServiceRef;
  /** When the annotation targets part of the canvas (#xywh=). */
  target?: { x: number; y: number; w: number; h: number };
  label?: LanguageMap;
}

/** Descriptive properties, read from either Presentation version. */
export interface Descriptive {
  label: LanguageMap;
  /** v3 summary, or v2 description. */
  summary?: LanguageMap;
  metadata: LabelValue[];
  /** v3 rights URI, or v2 license. */
  rights?: string;
  /** v3 requiredStatement, or v2 attribution. */
  requiredStatement?: LabelValue;
  navDate?: string;
  /** Link back to the portal page: homepage (v3) or related (v2). */
  homepage?: string;
  thumbnail?: string;
}

/** A box in canvas coordinates (integers): x, y from the top left, width, height. */
export interface CanvasBox {
  x: number;
  y: number;
  w: number;
  h: number;
}

/**
 * A part of a canvas that the institution annotated (commenting, tagging, supplementing or
 * describing annotations whose target is `canvas#xywh=…`): harvested as an item of its own.
 * Annotations on the same box make one region.
 */
export interface CanvasRegion {
  /** Clamped to the canvas when its size is known. */
  box: CanvasBox;
  /** What the annotations say of it (TextualBody values, v2 chars, labels), as plain text; may be empty. */
  text: string[];
  /** Their motivations, without prefixes (commenting, tagging, …). */
  motivations: string[];
  /** Their ids, where they have one. */
  annotations: string[];
}

/** Everything the harvester records about one canvas: its own label and place, the manifest's description. */
export interface CanvasRecord extends Descriptive {
  canvasId: string;
  /** 0-based position of the canvas in the manifest. */
  index: number;
  width?: number;
  height?: number;
  manifestId: string;
  manifestLabel: LanguageMap;
  /** The image to fetch: for a body Choice, its default (first) item. */
  image: ImageResource;
  /** The other items of a Choice. */
  alternatives: ImageResource[];
  /** Annotated regions (harvest.regions), largest first up to the bound; absent when there are none. */
  regions?: CanvasRegion[];
}

export interface SkippedCanvas {
  canvasId: string;
  index: number;
  reason: string;
}

export interface ParsedManifest {
  kind: 'manifest';
  id: string;
  /** Presentation version of the source document (2 or 3). */
  version: 2 | 3;
  label: LanguageMap;
  canvases: CanvasRecord[];
  skipped: SkippedCanvas[];
  /**
   * Annotation pages (v3 `annotations`) and lists (v2 `otherContent`) that canvases only reference:
   * to fetch for their regions, each once, with the canvases that reference it.
   */
  annotationPages?: Array<{ url: string; canvases: string[] }>;
  /** Non-fatal oddities worth a log line (relative ids fixed, ids trimmed, …). */
  warnings: string[];
}

export interface CollectionEntry {
  id: string;
  label: LanguageMap;
}

export interface ParsedCollection {
  kind: 'collection';
  id: string;
  version: 2 | 3;
  label: LanguageMap;
  manifests: CollectionEntry[];
  collections: CollectionEntry[];
  /** Paged v2 collections: the first/next page to fetch. */
  next?: string;
  /** Paged v2 collections: how many entries the whole collection says it has (for progress). */
  total?: number;
  warnings: string[];
}

/** An Image API info.json, when a user points the harvester at one directly. */
export interface ParsedImageInfo {
  kind: 'image-info';
  service: ImageServiceRef;
}

export type ParsedDocument = ParsedManifest | ParsedCollection | ParsedImageInfo;

/** How to get pixels for one image at the configured size. */
export interface ImageRequest {
  url: string;
  /**
   * service-sized: `full/!w,h/0/default.jpg` (or v1 native.jpg) on a level 1/2 service;
   * level0-size: one of the service's `sizes`;
   * full: `full/full` or `full/max` (image already small enough, or nothing smaller offered);
   * plain: the resource URL itself.
   */
  strategy: 'service-sized' | 'level0-size' | 'full' | 'plain';
  /** Expected size of the response when known. */
  width?: number;
  height?: number;
}

/** IIIF Change Discovery 1.0: what changed, oldest first. */
export interface ChangeActivity {
  type: 'Create' | 'Update' | 'Delete' | 'Move' | 'Add' | 'Remove' | 'Refresh';
  objectId: string;
  objectType: string;
  /** Move only: where the object now lives. */
  targetId?: string;
  /** When it finished; for Refresh (which has only startTime) its startTime. */
  endTime?: string;
}

export interface ParsedChangePage {
  activities: ChangeActivity[];
  /** In an OrderedCollection: its last page; in a page: the previous (older) one. */
  prev?: string;
  next?: string;
  last?: string;
  first?: string;
  /** The OrderedCollection a page belongs to. */
  partOf?: string;
}
