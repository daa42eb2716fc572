/**
 * The publisher as an Express router: a folder of images served as IIIF Image API 2.1 and 3.0
 * (`/iiif/2/{id}/…`, `/iiif/3/{id}/…`) with Presentation 3 manifests and collections
 * (`/iiif/collection.json` at the root). Mount it anywhere: `app.use(createImageServer({ dir }))`
 * serves `/iiif/…`, `app.use('/images', …)` serves `/images/iiif/…`; URLs in the documents
 * follow the mount path under `baseUrl`, or, without one, under the server's own address (or a
 * Host header that `allowedHosts` lists): never under whatever Host a client sends. Paths it does
 * not know go to `next()`.
 */
import { createHash } from 'node:crypto';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { ImageCatalog } from './catalog.ts';
import { answerPreflight, setCors } from './cors.ts';
import { BadRequestError, NotFoundError, PublisherError, UnreadableImageError } from './errors.ts';
import { resolveImageRequest, splitQualityFormat, type ImageApiVersion } from './image-request.ts';
import { IMAGE_CONTEXT, PROFILE_URI, infoJson } from './info-json.ts';
import { resolveLimits, type PublisherLimits } from './limits.ts';
import { findFolder, folderCollection, folderManifest, hasCollection, imageManifest, PRESENTATION_CONTEXT, type ManifestPer } from './presentation.ts';
import { renderImage } from './render.ts';
import { RenderQueue } from './render-queue.ts';
import type { ScanResult } from './scan.ts';
import { publicBase } from './public-base.ts';
import { PublisherUrls } from './urls.ts';

export interface ImageServerOptions {
  /** The folder of images to publish. */
  dir: string;
  /** The public URL the router is reached at (origin and mount path): every id in info.json and the manifests starts with it. */
  baseUrl?: string;
  /**
   * Without `baseUrl`, the Host header values (`host` or `host:port`) that may name the server in
   * ids; any other Host gets the address the request came in on, so that a client cannot plant
   * its own host in documents a shared cache keeps. Default: none.
   */
  allowedHosts?: readonly string[];
  /** Overrides of DEFAULT_LIMITS. */
  limits?: Partial<PublisherLimits>;
  /** What the collections list: a manifest per folder (default) or per image. Both kinds of manifest are served either way. */
  manifestPer?: ManifestPer;
  /** Told about unexpected errors (answered 500 without details). Default: one line on stderr. */
  onError?: (err: unknown, req: Request) => void;
  /** Told about images whose file cannot be decoded (answered 422, saying so). Default: one line on stderr. */
  onWarning?: (message: string, req: Request) => void;
  /**
   * Service blocks every manifest lists in `service`, given its id and the publisher's base URL:
   * `reprise serve --images` adds its IIIF Content Search (SearchService1 and SearchService2) so
   * that viewers offer "search within" on the published manifests. Default: none.
   */
  manifestServices?: (manifestId: string, base: string) => Array<Record<string, unknown>>;
}

export type ImageServer = Router & {
  /** The first scan of the folder (the router scans lazily otherwise): what will be served, and what was left out and why. */
  ready(): Promise<ScanResult>;
  /** Scans the folder again now. */
  rescan(): Promise<ScanResult>;
  readonly limits: PublisherLimits;
};

const defaultOnError = (err: unknown, req: Request) => {
  const e = err as Error;
  console.error(`reprise publish: ${req.method} ${req.originalUrl.split('?')[0]} failed: ${e?.name ?? 'Error'}: ${e?.message ?? String(err)}`);
};

const defaultOnWarning = (message: string, req: Request) => {
  console.error(`reprise publish: ${req.method} ${req.originalUrl.split('?')[0]}: ${message}`);
};

function etagOf(...parts: Array<string | number>): string {
  return `"${createHash('sha1').update(parts.join('\u0000')).digest('base64url').slice(0, 27)}"`;
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new BadRequestError(`"${segment}" is not valid percent-encoding`);
  }
}

/** The JSON media type, or JSON-LD with its context as profile when the client asks for it. */
function jsonType(req: Request, context: string): string {
  return /application\/ld\+json/i.test(req.get('Accept') ?? '') ? `application/ld+json;profile="${context}"` : 'application/json';
}

export function createImageServer(options: ImageServerOptions): ImageServer {
  const limits = resolveLimits(options.limits);
  const baseOf = publicBase(options);
  const catalog = new ImageCatalog(options.dir, limits);
  const queue = new RenderQueue(limits.maxConcurrentRenders, limits.maxQueuedRenders);
  const onError = options.onError ?? defaultOnError;
  const onWarning = options.onWarning ?? defaultOnWarning;
  const manifestPer = options.manifestPer ?? 'folder';
  if (manifestPer !== 'folder' && manifestPer !== 'image') throw new RangeError(`manifestPer must be "folder" or "image", got "${String(manifestPer)}"`);
  const cacheControl = `public, max-age=${limits.cacheMaxAgeSeconds}`;
  const router = express.Router() as ImageServer;

  const urlsFor = (req: Request) => new PublisherUrls(baseOf(req));
  const servicesOf = (manifestId: string, urls: PublisherUrls) => options.manifestServices?.(manifestId, urls.base) ?? [];

  /** Sets the validators and answers 304 when the client's copy is current; returns whether it did. */
  function notModified(req: Request, res: Response, etag: string, mtimeMs?: number): boolean {
    res.setHeader('ETag', etag);
    if (mtimeMs) res.setHeader('Last-Modified', new Date(mtimeMs).toUTCString());
    res.setHeader('Cache-Control', cacheControl);
    if (req.fresh) {
      res.status(304).end();
      return true;
    }
    return false;
  }

  function sendJson(req: Request, res: Response, doc: unknown, context: string, mtimeMs?: number): void {
    const body = JSON.stringify(doc);
    res.setHeader('Vary', 'Accept');
    if (notModified(req, res, etagOf(body, jsonType(req, context)), mtimeMs)) return;
    res.type(jsonType(req, context)).send(body);
  }

  async function info(req: Request, res: Response, version: ImageApiVersion, id: string): Promise<void> {
    const image = await catalog.image(id);
    const urls = urlsFor(req);
    res.setHeader('Link', `<${PROFILE_URI[version]}>;rel="profile"`);
    sendJson(req, res, infoJson(version, urls.service(version, id), image, limits), IMAGE_CONTEXT[version], image.mtimeMs);
  }

  async function image(req: Request, res: Response, version: ImageApiVersion, id: string, params: string[]): Promise<void> {
    const entry = await catalog.image(id);
    const [region, size, rotation, last] = params as [string, string, string, string];
    const request = resolveImageRequest(version, { region, size, rotation, ...splitQualityFormat(last) }, entry, limits);
    const urls = urlsFor(req);
    res.setHeader('Link', `<${urls.service(version, id)}/${request.canonical}>;rel="canonical",<${PROFILE_URI[version]}>;rel="profile"`);
    if (notModified(req, res, etagOf(version, id, entry.mtimeMs, entry.bytes, request.explicit), entry.mtimeMs)) return;
    const bytes = await queue.run(() => renderImage(entry, request, limits));
    res.setHeader('Content-Type', request.contentType);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.send(bytes);
  }

  /** `/iiif/{2|3}/…`, parsed from the right so that ids sent with unencoded slashes work too. */
  async function imageApi(req: Request, res: Response, next: NextFunction, version: ImageApiVersion, rest: string[]): Promise<void> {
    if (rest.length && rest[rest.length - 1] === '') rest = rest.slice(0, -1);
    if (!rest.length) return next();
    const scan = await catalog.current();
    const idOf = (parts: string[]) => parts.map(decodeSegment).join('/');
    if (rest.length >= 2 && rest[rest.length - 1] === 'info.json') return info(req, res, version, idOf(rest.slice(0, -1)));
    const whole = idOf(rest);
    if (rest.length >= 5) {
      const id = idOf(rest.slice(0, -4));
      if (scan.images.has(id) || !scan.images.has(whole)) return image(req, res, version, id, rest.slice(-4).map(decodeSegment));
    }
    if (!scan.images.has(whole)) {
      throw new NotFoundError(
        `nothing at ${req.path}: Image API requests are {id}/info.json or {id}/{region}/{size}/{rotation}/{quality}.{format}, and "${whole}" is not an image id here`,
      );
    }
    // Base URI redirect (baseUriRedirect): the id alone leads to its info.json.
    res.redirect(303, `${urlsFor(req).service(version, whole)}/info.json`);
  }

  async function presentation(req: Request, res: Response, next: NextFunction, rest: string[]): Promise<void> {
    const [kind, file] = rest as [string, string | undefined];
    let folderPath: string | undefined;
    let want: 'collection' | 'manifest' | 'image-manifest';
    if (rest.length === 1 && (kind === 'collection.json' || kind === 'manifest.json')) {
      folderPath = '';
      want = kind === 'collection.json' ? 'collection' : 'manifest';
    } else if (rest.length === 2 && (kind === 'collection' || kind === 'manifest' || kind === 'image-manifest') && file) {
      folderPath = file.endsWith('.json') ? decodeSegment(file.slice(0, -'.json'.length)) : undefined;
      want = kind;
    } else {
      return next();
    }
    const scan = await catalog.current();
    const urls = urlsFor(req);
    if (want === 'image-manifest') {
      const image = folderPath === undefined ? undefined : scan.images.get(folderPath);
      if (image) return sendJson(req, res, imageManifest(image, urls, limits, manifestPer, servicesOf(urls.imageManifest(image.id), urls)), PRESENTATION_CONTEXT);
      throw new NotFoundError(`no image "${folderPath ?? file}" here: ${urls.collection('')} lists what is published`);
    }
    // Manifests and collections go without Last-Modified: an image removed leaves every remaining
    // modification time as it was, so only the ETag (a hash of the document) tells that they changed.
    const folder = folderPath === undefined ? undefined : findFolder(scan.tree, folderPath);
    if (folder && want === 'manifest' && folder.images.length) {
      return sendJson(req, res, folderManifest(folder, urls, limits, manifestPer, servicesOf(urls.manifest(folder.path), urls)), PRESENTATION_CONTEXT);
    }
    // The root collection exists even for an empty folder, so a harvest says "no manifests" rather than 404.
    if (folder && want === 'collection' && hasCollection(folder, manifestPer)) {
      return sendJson(req, res, folderCollection(folder, urls, manifestPer), PRESENTATION_CONTEXT);
    }
    throw new NotFoundError(`no ${want} for the folder "${folderPath ?? file}": ${urls.collection('')} lists what is published`);
  }

  router.use((req: Request, res: Response, next: NextFunction) => {
    const segments = req.path.split('/').slice(1);
    if (segments[0] !== 'iiif' || segments.length < 2) return next();
    if (answerPreflight(req, res)) return;
    setCors(res);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD, OPTIONS');
      res.status(405).type('text/plain').send(`${req.method} is not allowed here: the IIIF APIs are read with GET`);
      return;
    }
    const [, area, ...rest] = segments as [string, string, ...string[]];
    const handled =
      area === '2' || area === '3' ? imageApi(req, res, next, Number(area) as ImageApiVersion, rest) : presentation(req, res, next, [area, ...rest]);
    handled.catch((err: unknown) => {
      if (res.headersSent) return void res.destroy();
      if (err instanceof PublisherError) {
        if (err instanceof UnreadableImageError) onWarning(err.message, req);
        for (const [name, value] of Object.entries(err.headers)) res.setHeader(name, value);
        res.removeHeader('ETag');
        res.removeHeader('Cache-Control');
        res.removeHeader('Link');
        res.status(err.status).type('text/plain').send(`${err.message}\n`);
        return;
      }
      onError(err, req);
      res.status(500).type('text/plain').send('internal error: the server could not answer this request\n');
    });
  });

  router.ready = () => catalog.current();
  router.rescan = () => catalog.rescan();
  Object.defineProperty(router, 'limits', { value: limits });
  return router;
}
