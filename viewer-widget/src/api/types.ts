/**
 * The shapes of the Reprise search API as the widget reads them: inferred from the server's own
 * response schemas (plugin/response-schemas.ts), so the widget cannot read a field the server does
 * not send. `import type` only: nothing of the server reaches the browser bundle.
 */
import type { z } from 'zod';
import type {
  boxSchema,
  facetsSchema,
  hitSchema,
  imageServiceSchema,
  itemDetailsSchema,
  itemSchema,
  problemShape,
  reprintHitSchema,
  reprintPageSchema,
  reprintPrintingsPageSchema,
  searchPageSchema,
} from '../../../plugin/response-schemas.ts';

/** A box in canvas coordinates. */
export type Box = z.infer<typeof boxSchema>;
export type ImageServiceRef = z.infer<typeof imageServiceSchema>;
/** An item as every answer shows it (what a viewer needs to open it). */
export type Item = z.infer<typeof itemSchema>;
/** A search hit (GET /search, POST /search/image, /search/examples, GET /items/{id}/similar, GET /items). */
export type Hit = z.infer<typeof hitSchema>;
export type SearchPage = z.infer<typeof searchPageSchema>;
export type ItemDetails = z.infer<typeof itemDetailsSchema>;
/** A reprint hit (POST /reprints): the item as search shows it, a confidence instead of a score, the match on both sides. */
export type ReprintHit = z.infer<typeof reprintHitSchema>;
export type ReprintsPage = z.infer<typeof reprintPageSchema>;
/** A page of the other printings of an item (GET /items/{id}/reprints): its reprint group, found after a harvest. */
export type PrintingsPage = z.infer<typeof reprintPrintingsPageSchema>;
/** Another printing of an item's photograph: the item as search shows it, where the photograph is on it, how sure. */
export type Printing = PrintingsPage['printings'][number];
/** What a card shows: a search hit, a reprint, or another printing. */
export type AnyHit = Hit | ReprintHit | Printing;
/** A reprint found by a search, or another printing: a confidence instead of a score (only a search's reprint has `queryRegion`). */
export const isReprint = (hit: AnyHit): hit is ReprintHit | Printing => 'confidence' in hit;

/** An RFC 9457 problem, as the API answers errors (and as the widget reports its own). */
export type Problem = Pick<{ [K in keyof typeof problemShape]: z.infer<(typeof problemShape)[K]> }, 'type' | 'title' | 'status' | 'detail'> & {
  errors?: z.infer<(typeof problemShape)['errors']>;
};

export type FacetField = keyof z.infer<typeof facetsSchema>['facets'];
export type Facets = z.infer<typeof facetsSchema>['facets'];
/** Display names of metadata facets per language (meta.creator → { en: 'Creator', fr: 'Auteur' }), as configured on the server. */
export type FacetNames = NonNullable<z.infer<typeof facetsSchema>['names']>;

/** Filters the API accepts on every search (values of one field are ORed, fields ANDed). */
export interface Filters {
  manifest?: string[];
  collection?: string[];
  rights?: string[];
  labels?: string[];
  source?: string[];
  dateFrom?: string;
  dateTo?: string;
  /** Decades (1930s) and years chosen in the date facets. */
  decade?: string[];
  year?: string[];
  /** Metadata facets: meta.creator → values. */
  [meta: `meta.${string}`]: string[] | undefined;
}


/** A box drawn on an indexed canvas: what image and reprint search take. */
export interface RegionQuery {
  canvas: string;
  manifest?: string;
  /** "x,y,w,h" in canvas coordinates (or the Media Fragment "percent:" form). */
  xywh: string;
}

/** An image of the person's own: a file (picked, dropped, pasted) or an address the server fetches. */
export type OwnImage = { kind: 'file'; file: Blob; name?: string } | { kind: 'url'; url: string };

interface Paged {
  filters: Filters;
  offset: number;
  limit: number;
}

/** What a search element last ran: the `query` of `reprise-results`. */
export type SearchQuery =
  | ({ kind: 'text'; q: string; semanticRatio?: number } & Paged)
  | ({ kind: 'browse' } & Paged)
  | ({ kind: 'region' } & Paged & RegionQuery)
  | ({ kind: 'feedback'; positive: string[]; negative: string[] } & Paged)
  | ({ kind: 'similar'; itemId: string; label?: string } & Paged)
  | ({ kind: 'reprints'; itemId: string; label?: string } & Paged)
  | ({ kind: 'image'; image: OwnImage; preview?: string } & Paged)
  | ({ kind: 'image-reprints'; image: OwnImage; preview?: string } & Paged);
