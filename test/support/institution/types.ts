/** Public shapes of the test institution; see createInstitution in ./index.ts for the URL layout. */

export type ImageMode = 'image-api-2' | 'image-api-3' | 'level0' | 'plain';

export interface InstitutionOptions {
  /** Photographs (absolute paths) assigned round-robin to the canvases. At least one. */
  images: string[];
  /** Canvases per manifest (default 3). */
  imagesPerManifest?: number;
  /**
   * How many manifests (default: max(8, ceil(images / imagesPerManifest))). Manifest i follows
   * variant i % 8 of the plan documented on createInstitution.
   */
  manifestCount?: number;
  /**
   * 'dynamic' (default): Image API manifests point at iiif-processor, which resizes on every request.
   * 'static': no image work per request. Image API manifests point at pre-rendered level-0
   * trees instead, so every manifest's imageMode is 'level0' or 'plain'.
   */
  mode?: 'dynamic' | 'static';
  /**
   * Files served as plain images (no service), appended as canvases to manifests[manifest]
   * (default 0). Meant for broken or hostile files: they are never decoded by the server,
   * and a file whose header cannot be read gets a 1000×1000 canvas.
   */
  extraPlainImages?: { paths: string[]; manifest?: number };
  /** Manifests per page of the paged v2 collection (default 3). */
  v2PageSize?: number;
  /**
   * 'paged' (default): /collections/v2.json has first/last and its pages list manifests
   * under `manifests`, except the last page, which uses `members`.
   * 'members': one document listing every v2 manifest under `members`.
   */
  v2Listing?: 'paged' | 'members';
  /** Activities per change-discovery page (default 20). */
  changePageSize?: number;
  /** gzip JSON documents when the client accepts it (default true). */
  gzip?: boolean;
  /** The Image API services' maxWidth (default 10,000): larger responses are scaled down, as on real servers. */
  imageApiMaxWidth?: number;
  /** Where level-0 trees are rendered once per source file (default: $TMPDIR/reprise-institution-cache). */
  cacheDir?: string;
}

export interface CanvasInfo {
  /** Canvas id (a URL that is not dereferenceable). */
  id: string;
  /** File name of the photograph painted on it (basename of its source path). */
  imageName: string;
  imagePath: string;
  /** Identifier of the image resource on this server (stable across replace-image). */
  imageId: string;
  /** The image URL the manifest gives as the painting body's id. */
  imageUrl: string;
  /** Base URI of the image service, when there is one. */
  serviceUrl?: string;
  /** For a body Choice: the photographs of the other choices. */
  alternativeImageNames?: string[];
}

export interface ManifestInfo {
  url: string;
  version: 2 | 3;
  imageMode: ImageMode;
  label: string;
  /** Collection document that lists it (v3 sub-collection or paged v2 collection). */
  collectionUrl: string;
  canvases: CanvasInfo[];
}

export type ManifestChange =
  | { kind: 'relabel'; label: string }
  /** Same image URL, new bytes: the image's ETag and Last-Modified change. */
  | { kind: 'replace-image'; canvas: number; imagePath: string }
  | { kind: 'remove-canvas'; canvas: number }
  /** imagePath defaults to the next photograph of options.images. */
  | { kind: 'add-canvas'; imagePath?: string };

export type FaultKind = '500' | '429' | '503' | 'hang' | 'truncate' | 'reset';

export interface FaultSpec {
  /** A string matches when the request path (no query) contains it; a RegExp is tested on the path. */
  match: string | RegExp;
  kind: FaultKind;
  /** Applies to the first N matching requests (Infinity allowed), then requests are served normally. */
  times: number;
  /** Sent as Retry-After with 429 and 503. */
  retryAfterSeconds?: number;
}

export interface FaultHandle {
  readonly spec: Readonly<FaultSpec>;
  /** Requests this fault has been applied to. */
  readonly applied: number;
  readonly remaining: number;
  remove(): void;
}

export interface Faults {
  add(spec: FaultSpec): FaultHandle;
  clear(): void;
}

export interface InstitutionStats {
  /** Every request received, faulted ones included. */
  requests: number;
  /** GET responses with status 200 and an image/* body (a truncated one included). */
  imageRequests: number;
  notModified: number;
  faultsInjected: number;
  /** Requests per path (no query). */
  byPath: Record<string, number>;
  byStatus: Record<string, number>;
}

export interface Institution {
  /** http://127.0.0.1:PORT, no trailing slash. */
  readonly baseUrl: string;
  readonly rootCollectionUrl: string;
  readonly v2CollectionUrl: string;
  readonly v3CollectionUrl: string;
  readonly changeStreamUrl: string;
  /** Current manifests (removed ones left out), recomputed on each read. */
  readonly manifests: ManifestInfo[];
  /** A snapshot of the counters. */
  readonly stats: InstitutionStats;
  resetStats(): void;
  readonly faults: Faults;
  changeManifest(url: string, change: ManifestChange): Promise<void>;
  /** Takes it out of its collection; its URL then answers 404. */
  removeManifest(url: string): Promise<void>;
  /**
   * Serves `doc` as JSON at /documents/{path} (a manifest of the test's own, an annotation page, …),
   * with validators like every document; putting it again changes them. Returns its URL.
   */
  putDocument(path: string, doc: object): string;
  /** Its URL then answers 404. */
  deleteDocument(path: string): void;
  /** Writes one manifest URL per line; returns the path written (default: a new temp file). */
  writeManifestList(filePath?: string, filter?: (m: ManifestInfo) => boolean): Promise<string>;
  /** Closes the server and destroys every socket, hanging ones included. */
  close(): Promise<void>;
}
