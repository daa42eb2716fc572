import { createReadStream } from 'node:fs';
import { IIIFError, Processor } from 'iiif-processor';
import { readCachedFile } from './file-cache.ts';
import { readTreeFile } from './level0-trees.ts';
import type { ImageRecord, Model } from './model.ts';
import { etagOf, redirect, textReply, type RouteResult } from './reply.ts';

/**
 * The three ways an image leaves this server: a live Image API (iiif-processor, 2.1 or 3.0), a
 * pre-rendered level-0 tree, or the file as it is on disk.
 */
const MAX_SIDE = 10_000;

export class ImageModes {
  constructor(
    private readonly model: Model,
    private readonly baseUrl: string,
    /** The Image API servers' size cap (maxWidth in info.json); 10,000 unless a test wants a small one. */
    private readonly maxSide = MAX_SIDE,
  ) {}

  /** `rest` is the path after /iiif/{version}/{id}, still percent-encoded. */
  iiif(version: 2 | 3, img: ImageRecord, rest: string): RouteResult {
    const serviceUrl = `${this.baseUrl}/iiif/${version}/${img.id}`;
    if (rest === '' || rest === '/') return redirect(`${serviceUrl}/info.json`);
    // Clients that read the Image API 1.1 context of the quirky v2 manifest ask for `native`,
    // which Loris-era servers accepted as `default`.
    if (version === 2) rest = rest.replace(/\/native\.(\w+)$/, '/default.$1');
    const source = img.source;
    let processor: Processor;
    try {
      processor = new Processor(`${serviceUrl}${rest}`, async () => createReadStream(source.path), {
        dimensionFunction: async () => ({ width: source.width, height: source.height }),
        // Without a cap, an absurd size is a sharp failure (500, which clients retry) instead of
        // being scaled down; the cap also shows up in info.json as maxWidth, as on real servers.
        max: { width: this.maxSide },
      });
    } catch (err) {
      return textReply((err as IIIFError).statusCode ?? 400, (err as Error).message);
    }
    return {
      etag: etagOf(source.tag, 'iiif', version, rest, this.baseUrl),
      lastModified: img.lastModified,
      compressible: /\/info\.json$/.test(rest),
      render: async () => {
        try {
          const result = await processor.execute();
          if (result.type === 'redirect') return redirect(result.location);
          if (result.type === 'error') return textReply(result.statusCode, result.message);
          const headers: Record<string, string> = { 'content-type': result.contentType };
          const links = [
            result.canonicalLink && `<${result.canonicalLink}>;rel="canonical"`,
            result.profileLink && `<${result.profileLink}>;rel="profile"`,
          ].filter(Boolean);
          if (links.length) headers.link = links.join(', ');
          const body = typeof result.body === 'string' ? Buffer.from(result.body) : result.body;
          return { status: 200, headers, body };
        } catch (err) {
          const status = err instanceof IIIFError ? err.statusCode ?? 500 : 500;
          return textReply(status, `image processing failed: ${(err as Error).message}`);
        }
      },
    };
  }

  /** `segments` are the decoded path segments after /level0/{version}/{id}. */
  async level0(version: 2 | 3, img: ImageRecord, segments: string[]): Promise<RouteResult> {
    const tree = img.tree;
    if (!tree) return textReply(404, 'no level-0 tree for this image');
    const serviceUrl = `${this.baseUrl}/level0/${version}/${img.id}`;
    if (segments.length === 0) return redirect(`${serviceUrl}/info.json`);
    if (segments.length === 1 && segments[0] === 'info.json') {
      const info = version === 3 ? { ...tree.info3, id: serviceUrl } : { ...tree.info2, '@id': serviceUrl };
      const body = Buffer.from(JSON.stringify(info, null, 1));
      return {
        etag: etagOf(tree.key, 'info', version, serviceUrl),
        lastModified: img.lastModified,
        compressible: true,
        // A static file server knows no JSON-LD.
        render: async () => ({ status: 200, headers: { 'content-type': 'application/json' }, body }),
      };
    }
    const body = await readTreeFile(tree, version, segments);
    if (!body) return textReply(404, 'not in the level-0 tree');
    return {
      etag: etagOf(tree.key, version, segments.join('/')),
      lastModified: img.lastModified,
      render: async () => ({ status: 200, headers: { 'content-type': 'image/jpeg' }, body }),
    };
  }

  async file(img: ImageRecord): Promise<RouteResult> {
    const source = img.source;
    const body = await readCachedFile(source.path, `${source.path}\0${source.tag}`);
    if (!body) return textReply(404, 'file gone');
    return {
      etag: etagOf(source.tag, 'file'),
      lastModified: img.lastModified,
      render: async () => ({ status: 200, headers: { 'content-type': source.mime }, body }),
    };
  }

  image(id: string): ImageRecord | undefined {
    return this.model.images.get(id);
  }
}
