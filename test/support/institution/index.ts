import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ChangeStream } from './change-stream.ts';
import { Clock } from './clock.ts';
import { FaultRules } from './faults.ts';
import { ImageModes } from './image-modes.ts';
import { Model, PLAN } from './model.ts';
import { route } from './routes.ts';
import { InstitutionServer } from './server.ts';
import { StatsCounter } from './stats.ts';
import type { CanvasInfo, Institution, InstitutionOptions, ManifestInfo } from './types.ts';
import { Urls } from './urls.ts';

export type * from './types.ts';

/**
 * Starts a small IIIF institution on http://127.0.0.1:<ephemeral port> for end-to-end tests and
 * benchmarks of the harvester.
 *
 * URL layout (all under `baseUrl`):
 *
 * | path | what |
 * |---|---|
 * | `/collections/root.json` | v3 Collection → the two below |
 * | `/collections/v3.json` | v3 Collection of the v3 manifests |
 * | `/collections/v2.json` | v2 sc:Collection of the v2 manifests: `total` + `first`/`last` (paged), or `members` |
 * | `/collections/v2/page-{n}.json` | v2 page n (0-based) with `next`/`prev`/`startIndex`; lists `manifests`, the last page `members` |
 * | `/manifests/v3/m{NNN}.json` | Presentation 3 manifest (`application/ld+json;profile=…`) |
 * | `/manifests/v2/m{NNN}.json` | Presentation 2.1 manifest (`application/json`) |
 * | `/iiif/2/{imageId}[/info.json | /{region}/{size}/{rotation}/{quality}.{fmt}]` | Image API 2.1, level 2 (iiif-processor); the bare id 303s to info.json; `native` = `default` |
 * | `/iiif/3/{imageId}/…` | Image API 3.0, level 2 (iiif-processor); both versions cap sizes at maxWidth 10000 |
 * | `/level0/2/{imageId}/…`, `/level0/3/{imageId}/…` | static level-0 trees (sharp tile layout `iiif` / `iiif3`): info.json with `sizes`, tiles, and `full/{size}/0/default.jpg` for every listed size plus `full/max` (and `full/full` in v2) |
 * | `/files/{imageId}.{ext}` | the file as it is on disk, no service |
 * | `/activity/all-changes`, `/activity/page/{n}` | Change Discovery 1.0 OrderedCollection and its pages (oldest first) |
 * | `/documents/{path}` | JSON documents a test put there (`putDocument`): manifests of its own, annotation pages, … |
 *
 * Manifest i (`m000`, `m001`, …) follows variant i % 8 of this plan:
 * 0 v3 + Image API 3 · 1 v2 + Image API 2 · 2 v3 + level-0 · 3 v2 + level-0 · 4 v3 + plain files ·
 * 5 v2 + plain files · 6 v3 + Image API 3 whose first canvas has a body Choice (second item an
 * ImageService2) · 7 v2 + Image API 2 whose services are arrays with an Image API 1.1 context.
 * In `mode: 'static'`, the Image API variants use level-0 trees instead.
 *
 * Canvas j of manifest i shows photograph (i × imagesPerManifest + j) mod images.length. Image
 * ids (`img-0001`, …) are per canvas: a replace-image keeps the id and URL and changes the bytes.
 *
 * Every JSON document and image carries ETag and Last-Modified, answers If-None-Match and
 * If-Modified-Since with 304, and sends `Access-Control-Allow-Origin: *`. JSON is gzipped for
 * clients that accept it (the gzipped representation's ETag ends in `-gzip"`; either form
 * validates). Each mutation stamps Last-Modified and the activity's endTime at least one second
 * after the previous stamp (HTTP dates have one-second resolution), so a burst of mutations runs
 * a few seconds ahead of the wall clock; the initial state is dated a day back.
 *
 * Requests are counted in `stats`; faults added with `faults.add` apply before routing (500, 429,
 * 503, hang, reset) or to the body (truncate: full Content-Length, half the bytes, then the
 * socket is destroyed).
 */
export async function createInstitution(options: InstitutionOptions): Promise<Institution> {
  const imagesPerManifest = options.imagesPerManifest ?? 3;
  if (!(imagesPerManifest >= 1)) throw new RangeError('imagesPerManifest must be ≥ 1');
  const manifestCount = options.manifestCount
    ?? Math.max(PLAN.length, Math.ceil(options.images.length / imagesPerManifest));
  const v2PageSize = options.v2PageSize ?? 3;
  const cacheDir = options.cacheDir ?? path.join(os.tmpdir(), 'reprise-institution-cache');

  const stats = new StatsCounter();
  const faults = new FaultRules();
  const clock = new Clock();
  const changes = new ChangeStream(options.changePageSize ?? 20);
  let ctx: Parameters<typeof route>[0] | undefined;
  const documents = new Map<string, { doc: object; revision: number; lastModified: Date }>();

  const server = new InstitutionServer({
    route: async (pathname) => route(ctx!, pathname),
    faults,
    stats,
    gzip: options.gzip ?? true,
  });
  // The port has to be known before the documents, which contain absolute URLs, can exist.
  const port = await server.listen();
  const baseUrl = `http://127.0.0.1:${port}`;
  const urls = new Urls(baseUrl);
  const model = new Model(
    {
      images: options.images,
      imagesPerManifest,
      manifestCount,
      static: options.mode === 'static',
      extraPlainImages: options.extraPlainImages,
      cacheDir,
    },
    clock,
    changes,
    urls,
  );
  try {
    await model.build();
  } catch (err) {
    await server.close();
    throw err;
  }
  ctx = { model, urls, changes, images: new ImageModes(model, baseUrl, options.imageApiMaxWidth), v2Listing: options.v2Listing ?? 'paged', v2PageSize, documents };

  const describe = (): ManifestInfo[] => model.live().map((m) => ({
    url: urls.manifest(m),
    version: m.version,
    imageMode: m.mode,
    label: m.label,
    collectionUrl: m.version === 3 ? urls.v3Collection : urls.v2Collection,
    canvases: m.canvases.map((c): CanvasInfo => {
      const serviceUrl = urls.service(c.image);
      return {
        id: urls.canvas(m, c),
        imageName: c.image.source.name,
        imagePath: c.image.source.path,
        imageId: c.image.id,
        imageUrl: urls.image(c.image),
        ...(serviceUrl ? { serviceUrl } : {}),
        ...(c.alternatives.length ? { alternativeImageNames: c.alternatives.map((a) => a.source.name) } : {}),
      };
    }),
  }));

  return {
    baseUrl,
    rootCollectionUrl: urls.rootCollection,
    v2CollectionUrl: urls.v2Collection,
    v3CollectionUrl: urls.v3Collection,
    changeStreamUrl: urls.changeStream,
    get manifests() { return describe(); },
    get stats() { return stats.snapshot(); },
    resetStats: () => stats.reset(),
    faults,
    changeManifest: (url, change) => model.change(url, change),
    removeManifest: (url) => model.remove(url),
    putDocument(docPath, doc) {
      if (!/^[\w.-]+(\/[\w.-]+)*$/.test(docPath)) throw new RangeError(`document paths are segments of letters, digits, _ . and -, got ${JSON.stringify(docPath)}`);
      documents.set(docPath, { doc: structuredClone(doc), revision: (documents.get(docPath)?.revision ?? 0) + 1, lastModified: clock.tick() });
      return `${baseUrl}/documents/${docPath}`;
    },
    deleteDocument: (docPath) => void documents.delete(docPath),
    async writeManifestList(filePath, filter) {
      const target = filePath ?? path.join(await mkdtemp(path.join(os.tmpdir(), 'reprise-institution-')), 'manifests.txt');
      const lines = describe().filter(filter ?? (() => true)).map((m) => m.url);
      await writeFile(target, lines.map((l) => `${l}\n`).join(''));
      return target;
    },
    close: () => server.close(),
  };
}
