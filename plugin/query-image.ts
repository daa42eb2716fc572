/**
 * Pixels for an image query, wherever they come from: an upload, a URL, an Image API request, or
 * a box on an indexed canvas. Remote images are fetched with the harvester's HTTP client, so the same
 * SSRF guard, size limits and timeouts apply as to harvesting.
 */
import type { HttpConfig } from '../config/index.ts';
import {
  ContentTypeError,
  createHttpClient,
  HttpError,
  HttpStatusError,
  SsrfError,
  TooLargeError,
  type HttpClient,
} from '../common/index.ts';
import type { IndexedRecord } from '../harvester/index.ts';
import type { RawRgbImage } from '../models/index.ts';
import type { Region } from '../models/index.ts';
import type { Box } from '../store/index.ts';
import { readQueryImage } from './image-bytes.ts';
import { parseImageApiUrl, sizedImageApiUrl } from './iiif-requests.ts';
import { Problem, invalidParams } from './problems.ts';
import { canvasBoxToImage, serviceRequest } from './thumbnails.ts';

/** Long side of a region fetched from an image service: enough for the model, small for the server. */
export const REGION_FETCH_SIZE = 640;
/** Long side kept when a box has to be cut locally (level 0, plain images): small boxes keep some detail. */
const LOCAL_CROP_LONG_SIDE = 2048;

export interface QueryImage {
  image: RawRgbImage;
  /** Part of `image` to embed, when it was not cut by the server. */
  region?: Region;
}

export interface QueryImagesOptions {
  http: HttpConfig;
  maxBytes: number;
  maxPixels: number;
  /** Long side the whole query image is decoded to (the harvest size, so queries look like the index). */
  longSide: number;
}

export class QueryImages {
  private client?: HttpClient;

  constructor(
    private readonly opts: QueryImagesOptions,
    private readonly makeClient: (http: HttpConfig) => HttpClient = createHttpClient,
  ) {}

  /** Created on first use, one per router: its limiter and connections are this API's own. */
  private http(): HttpClient {
    this.client ??= this.makeClient({
      ...this.opts.http,
      // A URL stands in for an upload: the upload limit applies to it.
      maxImageBytes: Math.min(this.opts.http.maxImageBytes, this.opts.maxBytes),
      // Someone is waiting for the answer: no retries, no backoff; they can try again.
      retries: 0,
    });
    return this.client;
  }

  /** `what` names the image in error messages (a file given to `reprise search` is no upload). */
  async fromUpload(bytes: Buffer, what = 'the uploaded image'): Promise<QueryImage> {
    if (bytes.length > this.opts.maxBytes) throw new Problem('payload-too-large', `${what} is larger than ${this.opts.maxBytes} bytes (api.maxUploadBytes)`);
    return { image: await readQueryImage(bytes, { maxPixels: this.opts.maxPixels }, this.opts.longSide, what) };
  }

  async fromUrl(url: string): Promise<QueryImage> {
    const bytes = await this.fetch(url, 'url');
    return { image: await readQueryImage(bytes, { maxPixels: this.opts.maxPixels }, this.opts.longSide, 'the image at url') };
  }

  async fromImageApi(url: string): Promise<QueryImage> {
    const request = parseImageApiUrl(url);
    if (!request) {
      throw invalidParams([
        { name: 'iiif', in: 'body', reason: 'not an Image API request {service}/{region}/{size}/{rotation}/{quality}.{format}; give a plain image as "url"' },
      ]);
    }
    const sized = sizedImageApiUrl(request, REGION_FETCH_SIZE);
    let bytes: Buffer;
    try {
      bytes = await this.fetchRaw(sized);
    } catch (err) {
      // Image API 3 servers refuse `!w,h` larger than the region: then the request as the viewer made it.
      if (!(err instanceof HttpStatusError && err.status === 400)) throw fetchProblem(err, sized, 'iiif');
      bytes = await this.fetch(url, 'iiif');
    }
    return { image: await readQueryImage(bytes, { maxPixels: this.opts.maxPixels }, this.opts.longSide, 'the Image API region') };
  }

  /**
   * A box on an indexed canvas: cut by the image service when it can (levels 1 and 2), else cut
   * here from the image the harvester fetched.
   */
  async fromCanvasBox(record: Partial<IndexedRecord>, box: Box): Promise<QueryImage> {
    const imageBox = canvasBoxToImage(record, box);
    if (!imageBox) {
      const size = record.width && record.height ? ` (the canvas is ${record.width}×${record.height})` : '';
      throw invalidParams([{ name: 'xywh', in: 'body', reason: `the box does not overlap the image painted on this canvas${size}` }]);
    }
    const service = record.image?.service;
    const served = service ? serviceRequest(service, imageBox, REGION_FETCH_SIZE) : undefined;
    if (served) {
      const bytes = await this.fetch(served, 'canvas');
      return { image: await readQueryImage(bytes, { maxPixels: this.opts.maxPixels }, REGION_FETCH_SIZE, 'the region of the canvas') };
    }
    const source = record.imageUrl ?? record.image?.url;
    if (!source) throw new Problem('unprocessable-image', 'this canvas records no image to cut the box from');
    const image = await readQueryImage(await this.fetch(source, 'canvas'), { maxPixels: this.opts.maxPixels }, LOCAL_CROP_LONG_SIDE, 'the canvas image');
    // imageBox is in full-size image pixels; the fetched image may be a smaller rendering of it.
    const full = record.image?.service?.width ?? record.image?.width ?? record.width ?? image.width;
    const scale = image.width / full;
    const x = Math.min(image.width - 1, Math.max(0, Math.floor(imageBox.x * scale)));
    const y = Math.min(image.height - 1, Math.max(0, Math.floor(imageBox.y * scale)));
    const w = Math.max(1, Math.min(image.width - x, Math.round(imageBox.w * scale)));
    const h = Math.max(1, Math.min(image.height - y, Math.round(imageBox.h * scale)));
    return { image, region: { x, y, w, h } };
  }

  private async fetchRaw(url: string): Promise<Buffer> {
    const result = await this.http().fetchImage(url);
    if (result.status !== 'ok') throw new Problem('upstream-failed', `${url} answered 304 Not Modified to an unconditional request`);
    return result.body;
  }

  private async fetch(url: string, param: string): Promise<Buffer> {
    try {
      return await this.fetchRaw(url);
    } catch (err) {
      throw fetchProblem(err, url, param);
    }
  }

  async close(): Promise<void> {
    await this.client?.close();
    this.client = undefined;
  }
}

function fetchProblem(err: unknown, url: string, param: string): unknown {
  if (err instanceof SsrfError) {
    // The resolved address stays out of the answer: it would map the server's network for strangers.
    return new Problem('url-refused', `refusing to fetch ${url}: its host is a private, loopback, link-local or metadata address`, {
      errors: [{ name: param, in: 'body', reason: 'private and loopback addresses are refused unless the operator lists them in harvest.http.allowPrivate' }],
    });
  }
  if (err instanceof TooLargeError) return new Problem('payload-too-large', `the image at ${url} is larger than the ${err.limitBytes}-byte limit (api.maxUploadBytes)`);
  if (err instanceof ContentTypeError) return new Problem('unsupported-media-type', `${url} answered with content-type "${err.contentType}", not an image`);
  if (err instanceof HttpStatusError) return new Problem('upstream-failed', `${url} answered HTTP ${err.status}; check the URL`);
  if (err instanceof HttpError) return new Problem('upstream-failed', err.message);
  return err;
}
