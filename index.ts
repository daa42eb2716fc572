/**
 * Reprise as a library: what a portal's server imports from `reprise`. Everything here is
 * compiled JavaScript with its types (dist/), so a plain `.mjs` file imports it with no loader:
 *
 * ```js
 * import { loadConfig, loadEncoders, openStore, createSearchRouter } from 'reprise';
 * ```
 *
 * The browser widget is `reprise/widget` (one ES module, Lit inside) and the IIIF publisher is
 * also `reprise/publisher`. Nothing else of the package is public: its folders may change between
 * releases, this module's exports may not without a new major version.
 *
 * @packageDocumentation
 */

/**
 * Every error Reprise raises on purpose extends {@link RepriseError}: its message says what went
 * wrong and what to do, and its `problem` is the RFC 9457 problem type the search API answers it with.
 */
export { RepriseError, ImageDecodeError, LockHeldError } from './common/index.ts';

/**
 * Configuration: {@link loadConfig} reads `./reprise.config.json` (or `$REPRISE_CONFIG`) and the
 * `REPRISE_*` variables exactly as the `reprise` command does, validated by {@link configSchema};
 * a bad value is a {@link ConfigError} naming the key.
 */
export {
  loadConfig,
  ConfigError,
  configSchema,
  type LoadConfigOptions,
  type RepriseConfig,
  type HarvestConfig,
  type HttpConfig,
  type ModelsConfig,
  type StoreConfig,
  type ApiConfig,
  type PublishConfig,
} from './config/index.ts';

/**
 * Encoders: {@link loadEncoders} loads the configured model (a CLIP-family model with an image and
 * a text tower, or an image-only classifier) from its folder; each tower runs on its own thread.
 * A missing or broken folder is a {@link ModelFolderError} saying what to do.
 */
export {
  loadEncoders,
  modelFolder,
  textTower,
  ImageEncoder,
  TextEncoder,
  ModelFolderError,
  NoTextTowerError,
  type Encoders,
  type ClipEncoders,
  type ClassifierEncoders,
  type EncoderConfig,
  type ModelConfig,
  type EmbeddedImage,
} from './models/index.ts';

/**
 * Stores: {@link openStore} opens the configured index (the embedded SQLite + HNSW one, or
 * Meilisearch) behind one {@link VectorStore} interface; a store that holds vectors of another
 * model or size is refused with a {@link StoreSchemaError}.
 */
export {
  openStore,
  StoreError,
  StoreSchemaError,
  StoreUnavailableError,
  InvalidQueryError,
  type VectorStore,
  type StoreSchema,
  type StoreStats,
  type StoreItem,
  type ItemFields,
  type ItemFilter,
  type SearchHit,
  type SearchResult,
  type Box,
} from './store/index.ts';

/**
 * The search API: {@link createSearchRouter} is an Express router (text, image, region and
 * similar-item search, items, facets, IIIF Content Search, admin routes, OpenAPI document) to
 * mount where the portal wants it; its errors are `application/problem+json`.
 * {@link JournalHarvestController} lets its admin routes run harvests in the same process.
 */
export {
  createSearchRouter,
  withContentSearchServices,
  contentSearchServiceFor,
  openApiDocument,
  JournalHarvestController,
  sharedStage,
  Problem,
  PROBLEM_TYPES,
  type SearchRouter,
  type SearchRouterOptions,
  type SearchDeps,
  type HarvestController,
  type JournalHarvestControllerOptions,
  type StageFactory,
} from './plugin/index.ts';

/**
 * Harvesting: {@link HarvestService} runs one harvest of IIIF collections or manifests into an
 * indexing stage ({@link EmbeddingStage} embeds into a store; {@link MetadataStage} stores items
 * without vectors), resumable from its journal, with the harvester's polite HTTP client.
 */
export {
  HarvestService,
  HarvestInterruptedError,
  EmbeddingStage,
  MetadataStage,
  withFeatureStage,
  journalPath,
  JournalLockedError,
  type HarvestServiceDeps,
  type HarvestRunOptions,
  type HarvestEvent,
  type HarvestSummary,
  type IndexStage,
} from './harvester/index.ts';

/**
 * The HTTP client the harvester and model downloads fetch through: SSRF guard, time and size
 * limits, redirects checked hop by hop, retries with backoff, resumable downloads.
 */
export {
  createHttpClient,
  HttpError,
  /** @deprecated The old name of {@link HttpError}. */
  HttpError as HarvestHttpError,
  type HttpClient,
} from './common/index.ts';

/**
 * Reprints: {@link ReprintService} finds other prints of a photograph (the same negative, cropped,
 * rotated, retouched) among the harvested images, and groups them across collections.
 * {@link openReprintService} opens it over the reprint index under dataDir; a router answers the
 * reprint routes from the one it is given (`createSearchRouter({ store, encoders, config, reprints })`).
 */
export {
  ReprintService,
  openReprintService,
  queryReprints,
  UnknownItemError,
  LocalFeaturesUnavailableError,
  type ReprintHit,
  type ReprintGroup,
  type ReprintQuery,
  type ReprintSearchOptions,
} from './reprints/index.ts';

/**
 * Publishing: {@link createImageServer} serves a folder of images as IIIF Image API 2.1/3.0 with
 * Presentation 3 manifests (what `reprise publish` runs).
 */
export { createImageServer, PublishFolderError, type ImageServer, type ImageServerOptions } from './publisher/index.ts';

/** The widget's files (`/widget/reprise-widget.js`, …) and the demo pages, as an Express router to mount at the root. */
export { widgetRouter, type WidgetRouterOptions } from './viewer-widget/serve.ts';
