/**
 * Every URL the publisher writes, from one base (…/iiif lives under it). Ids and folder paths
 * are percent-encoded whole, slashes included (`letters/1901.jpg` → `letters%2F1901.jpg`), as
 * the Image API asks for identifiers.
 */
import type { ImageApiVersion } from './image-request.ts';

export const enc = (s: string): string => encodeURIComponent(s);

export class PublisherUrls {
  /** `base`: the origin and mount path, without a trailing slash. */
  constructor(readonly base: string) {}

  service(version: ImageApiVersion, id: string): string {
    return `${this.base}/iiif/${version}/${enc(id)}`;
  }

  /** The root collection for the top folder, or a sub-folder's collection. */
  collection(folder: string): string {
    return folder === '' ? `${this.base}/iiif/collection.json` : `${this.base}/iiif/collection/${enc(folder)}.json`;
  }

  /** The manifest of the images directly inside a folder. */
  manifest(folder: string): string {
    return folder === '' ? `${this.base}/iiif/manifest.json` : `${this.base}/iiif/manifest/${enc(folder)}.json`;
  }

  /** The one-canvas manifest of an image. */
  imageManifest(id: string): string {
    return `${this.base}/iiif/image-manifest/${enc(id)}.json`;
  }

  canvas(id: string): string {
    return `${this.base}/iiif/canvas/${enc(id)}`;
  }
}
