/** The IIIF publisher: a folder of images as Image API 2.1/3.0 with Presentation 3 manifests. */
export { createImageServer, type ImageServer, type ImageServerOptions } from './router.ts';
export { DEFAULT_LIMITS, resolveLimits, type PublisherLimits } from './limits.ts';
export { PublishFolderError } from './errors.ts';
export type { ScanResult, SkippedFile } from './scan.ts';
export type { ManifestPer } from './presentation.ts';
