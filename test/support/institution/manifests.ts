import type { CanvasRecord, ImageRecord, ManifestRecord, Model } from './model.ts';
import type { Urls } from './urls.ts';

/** Presentation API 2.1 and 3.0 documents (manifests and collections) rendered from the model. */

const P2 = 'http://iiif.io/api/presentation/2/context.json';
const P3 = 'http://iiif.io/api/presentation/3/context.json';
const IMAGE1_CONTEXT = 'http://library.stanford.edu/iiif/image-api/1.1/context.json';
const IMAGE1_LEVEL2 = 'http://library.stanford.edu/iiif/image-api/1.1/compliance.html#level2';

export function manifestJson(m: ManifestRecord, urls: Urls, v2CollectionUrl: string, v3CollectionUrl: string): object {
  return m.version === 3 ? manifest3(m, urls, v3CollectionUrl) : manifest2(m, urls, v2CollectionUrl);
}

function manifest3(m: ManifestRecord, urls: Urls, collectionUrl: string): object {
  const scope = urls.manifestScope(m);
  return {
    '@context': P3,
    id: urls.manifest(m),
    type: 'Manifest',
    label: { en: [m.label] },
    summary: { en: [`${m.canvases.length} photographs served as ${m.mode}.`] },
    rights: 'http://creativecommons.org/publicdomain/mark/1.0/',
    partOf: [{ id: collectionUrl, type: 'Collection' }],
    items: m.canvases.map((c) => {
      const canvasId = urls.canvas(m, c);
      const body = c.alternatives.length
        ? { type: 'Choice', items: [c.image, ...c.alternatives].map((img) => body3(img, urls)) }
        : body3(c.image, urls);
      return {
        id: canvasId,
        type: 'Canvas',
        label: { none: [c.label] },
        width: c.image.source.width,
        height: c.image.source.height,
        items: [{
          id: `${scope}/page/${c.slug}`,
          type: 'AnnotationPage',
          items: [{ id: `${scope}/annotation/${c.slug}-image`, type: 'Annotation', motivation: 'painting', body, target: canvasId }],
        }],
      };
    }),
  };
}

function body3(img: ImageRecord, urls: Urls): object {
  const service = urls.service(img);
  const body: Record<string, unknown> = {
    id: urls.image(img),
    type: 'Image',
    format: service ? 'image/jpeg' : img.source.mime,
    width: img.source.width,
    height: img.source.height,
  };
  if (service) {
    const level = img.service.startsWith('level0') ? 'level0' : 'level2';
    body.service = img.service.endsWith('3')
      ? [{ id: service, type: 'ImageService3', profile: level }]
      : [{ '@id': service, '@type': 'ImageService2', profile: `http://iiif.io/api/image/2/${level}.json` }];
  }
  return body;
}

function manifest2(m: ManifestRecord, urls: Urls, collectionUrl: string): object {
  const scope = urls.manifestScope(m);
  return {
    '@context': P2,
    '@id': urls.manifest(m),
    '@type': 'sc:Manifest',
    label: m.label,
    description: `${m.canvases.length} photographs served as ${m.mode}.`,
    license: 'http://creativecommons.org/publicdomain/mark/1.0/',
    within: collectionUrl,
    sequences: [{
      '@id': `${scope}/sequence/normal`,
      '@type': 'sc:Sequence',
      canvases: m.canvases.map((c) => canvas2(m, c, urls, scope)),
    }],
  };
}

function canvas2(m: ManifestRecord, c: CanvasRecord, urls: Urls, scope: string): object {
  const canvasId = urls.canvas(m, c);
  const img = c.image;
  const service = urls.service(img);
  const resource: Record<string, unknown> = {
    '@id': urls.image(img),
    '@type': 'dctypes:Image',
    format: service ? 'image/jpeg' : img.source.mime,
    width: img.source.width,
    height: img.source.height,
  };
  if (service) {
    const level = img.service.startsWith('level0') ? 'level0' : 'level2';
    const plain = { '@context': 'http://iiif.io/api/image/2/context.json', '@id': service, profile: `http://iiif.io/api/image/2/${level}.json` };
    // Real v2 manifests disagree on the service shape: an object is the norm, an array of one
    // with an Image API 1.1 context (still served by the 2.1 endpoint, which accepts `native`)
    // is what older institutions publish. The static mode keeps only the array.
    resource.service = !m.quirk
      ? plain
      : img.service === 'iiif2'
        ? [{ '@context': IMAGE1_CONTEXT, '@id': service, profile: IMAGE1_LEVEL2 }]
        : [plain];
  }
  return {
    '@id': canvasId,
    '@type': 'sc:Canvas',
    label: c.label,
    width: img.source.width,
    height: img.source.height,
    images: [{ '@id': `${scope}/annotation/${c.slug}-image`, '@type': 'oa:Annotation', motivation: 'sc:painting', resource, on: canvasId }],
  };
}

export function rootCollectionJson(urls: Urls): object {
  return {
    '@context': P3,
    id: urls.rootCollection,
    type: 'Collection',
    label: { en: ['Reprise test institution'] },
    items: [
      { id: urls.v3Collection, type: 'Collection', label: { en: ['Presentation 3 manifests'] } },
      { id: urls.v2Collection, type: 'Collection', label: { en: ['Presentation 2 manifests'] } },
    ],
  };
}

export function v3CollectionJson(model: Model, urls: Urls): object {
  return {
    '@context': P3,
    id: urls.v3Collection,
    type: 'Collection',
    label: { en: ['Presentation 3 manifests'] },
    partOf: [{ id: urls.rootCollection, type: 'Collection' }],
    items: model.live(3).map((m) => ({ id: urls.manifest(m), type: 'Manifest', label: { en: [m.label] } })),
  };
}

function ref2(m: ManifestRecord, urls: Urls): object {
  return { '@id': urls.manifest(m), '@type': 'sc:Manifest', label: m.label };
}

export function v2PageCount(model: Model, pageSize: number): number {
  return Math.ceil(model.live(2).length / pageSize);
}

export function v2CollectionJson(model: Model, urls: Urls, listing: 'paged' | 'members', pageSize: number): object {
  const live = model.live(2);
  const top = {
    '@context': P2,
    '@id': urls.v2Collection,
    '@type': 'sc:Collection',
    label: 'Presentation 2 manifests',
    within: urls.rootCollection,
  };
  if (listing === 'members' || live.length === 0) return { ...top, members: live.map((m) => ref2(m, urls)) };
  const pages = v2PageCount(model, pageSize);
  return { ...top, total: live.length, first: urls.v2Page(0), last: urls.v2Page(pages - 1) };
}

/** Pages list `manifests`, except the last, which uses `members`: harvesters meet both. */
export function v2PageJson(model: Model, urls: Urls, pageSize: number, n: number): object | undefined {
  const pages = v2PageCount(model, pageSize);
  if (!Number.isInteger(n) || n < 0 || n >= pages) return undefined;
  const refs = model.live(2).slice(n * pageSize, (n + 1) * pageSize).map((m) => ref2(m, urls));
  return {
    '@context': P2,
    '@id': urls.v2Page(n),
    '@type': 'sc:Collection',
    label: `Presentation 2 manifests, page ${n + 1} of ${pages}`,
    within: urls.v2Collection,
    startIndex: n * pageSize,
    ...(n > 0 ? { prev: urls.v2Page(n - 1) } : {}),
    ...(n < pages - 1 ? { next: urls.v2Page(n + 1) } : {}),
    ...(n === pages - 1 ? { members: refs } : { manifests: refs }),
  };
}
