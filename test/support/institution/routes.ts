import type { ChangeStream } from './change-stream.ts';
import type { ImageModes } from './image-modes.ts';
import { manifestJson, rootCollectionJson, v2CollectionJson, v2PageJson, v3CollectionJson } from './manifests.ts';
import type { Model } from './model.ts';
import { JSON_LD_DISCOVERY, JSON_LD_P3, jsonResource, textReply, type RouteResult } from './reply.ts';
import type { Urls } from './urls.ts';

/** URL path → resource. The layout itself is documented on createInstitution. */

export interface RouteContext {
  model: Model;
  urls: Urls;
  changes: ChangeStream;
  images: ImageModes;
  v2Listing: 'paged' | 'members';
  v2PageSize: number;
  /** Documents a test put (Institution.putDocument), by path under /documents/. */
  documents: ReadonlyMap<string, { doc: object; revision: number; lastModified: Date }>;
}

// Presentation 2 servers mostly answer plain JSON; v3 ones the profiled JSON-LD type.
const JSON_P2 = 'application/json';

export async function route(ctx: RouteContext, pathname: string): Promise<RouteResult> {
  const { model, urls, changes } = ctx;
  let m: RegExpExecArray | null;

  if (pathname === '/collections/root.json') {
    return jsonResource(rootCollectionJson(urls), model.root.revision, model.root.lastModified, JSON_LD_P3);
  }
  if (pathname === '/collections/v3.json') {
    const s = model.v3Collection;
    return jsonResource(v3CollectionJson(model, urls), s.revision, s.lastModified, JSON_LD_P3);
  }
  if (pathname === '/collections/v2.json') {
    const s = model.v2Collection;
    return jsonResource(v2CollectionJson(model, urls, ctx.v2Listing, ctx.v2PageSize), s.revision, s.lastModified, JSON_P2);
  }
  if ((m = /^\/collections\/v2\/page-(\d+)\.json$/.exec(pathname)) && ctx.v2Listing === 'paged') {
    const doc = v2PageJson(model, urls, ctx.v2PageSize, Number(m[1]));
    const s = model.v2Collection;
    return doc ? jsonResource(doc, s.revision, s.lastModified, JSON_P2) : notFound();
  }
  if ((m = /^\/manifests\/v([23])\/([\w-]+)\.json$/.exec(pathname))) {
    const manifest = model.findManifest(Number(m[1]), m[2]!);
    if (!manifest) return notFound();
    const doc = manifestJson(manifest, urls, urls.v2Collection, urls.v3Collection);
    return jsonResource(doc, manifest.revision, manifest.lastModified, manifest.version === 3 ? JSON_LD_P3 : JSON_P2);
  }
  if (pathname.startsWith('/documents/')) {
    const put = ctx.documents.get(pathname.slice('/documents/'.length));
    return put ? jsonResource(put.doc, put.revision, put.lastModified, JSON_LD_P3) : notFound();
  }
  if (pathname === '/activity/all-changes') {
    return jsonResource(changes.collection(urls), changes.revision(), changes.lastModified(), JSON_LD_DISCOVERY);
  }
  if ((m = /^\/activity\/page\/(\d+)$/.exec(pathname))) {
    const n = Number(m[1]);
    const doc = changes.page(urls, n);
    return doc ? jsonResource(doc, changes.revision(n), changes.lastModified(n), JSON_LD_DISCOVERY) : notFound();
  }
  if ((m = /^\/iiif\/([23])\/([\w-]+)(\/.*)?$/.exec(pathname))) {
    const img = ctx.images.image(m[2]!);
    return img ? ctx.images.iiif(Number(m[1]) as 2 | 3, img, m[3] ?? '') : notFound();
  }
  if ((m = /^\/level0\/([23])\/([\w-]+)(\/.*)?$/.exec(pathname))) {
    const img = ctx.images.image(m[2]!);
    if (!img) return notFound();
    let segments: string[];
    try {
      segments = (m[3] ?? '').split('/').filter(Boolean).map(decodeURIComponent);
    } catch {
      return textReply(400, 'malformed path');
    }
    return ctx.images.level0(Number(m[1]) as 2 | 3, img, segments);
  }
  if ((m = /^\/files\/([\w-]+)(\.[\w]+)?$/.exec(pathname))) {
    const img = ctx.images.image(m[1]!);
    return img ? ctx.images.file(img) : notFound();
  }
  if (pathname === '/') {
    return textReply(200, [urls.rootCollection, urls.v3Collection, urls.v2Collection, urls.changeStream].join('\n'));
  }
  return notFound();
}

function notFound(): RouteResult {
  return textReply(404, 'not found');
}
