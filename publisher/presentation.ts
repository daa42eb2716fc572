/**
 * Presentation API 3.0 documents for a scanned folder, the way an archive is laid out. With
 * one manifest per folder (the default, for folders of pages or of one object's views): the
 * images directly in a folder are one Manifest (one Canvas per image, in natural order), a
 * folder with sub-folders is a Collection of its own Manifest and its sub-folders. With one
 * manifest per image (for folders of unrelated photographs): every folder is a Collection of
 * one-canvas Manifests and of its sub-folders. The top folder is always the root Collection.
 * Labels come from folder and file names; each image offers Image API 3 and 2 services.
 */
import { maxSize, parseSize } from './image-request.ts';
import { PROFILE_URI } from './info-json.ts';
import type { PublisherLimits } from './limits.ts';
import type { FolderNode, ImageEntry } from './scan.ts';
import type { PublisherUrls } from './urls.ts';

export const PRESENTATION_CONTEXT = 'http://iiif.io/api/presentation/3/context.json';

/** What a manifest stands for: a folder of images (one canvas each), or one image. */
export type ManifestPer = 'folder' | 'image';

/** Long side of the thumbnails listed on canvases and manifests. */
const THUMBNAIL_SIZE = 200;

type Json = Record<string, unknown>;

const none = (text: string) => ({ none: [text] });
const en = (text: string) => ({ en: [text] });

/** The file name without its extension: `page-01.jpg` → `page-01`. */
export function imageLabel(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(0, dot) : name;
}

function services(image: ImageEntry, urls: PublisherUrls): Json[] {
  const { width, height } = image;
  return [
    { id: urls.service(3, image.id), type: 'ImageService3', profile: 'level2', width, height },
    { '@id': urls.service(2, image.id), '@type': 'ImageService2', profile: PROFILE_URI[2], width, height },
  ];
}

function thumbnail(image: ImageEntry, urls: PublisherUrls, limits: PublisherLimits): Json {
  const box = `!${THUMBNAIL_SIZE},${THUMBNAIL_SIZE}`;
  const size = parseSize(box, 3, image, limits);
  return {
    id: `${urls.service(3, image.id)}/full/${box}/0/default.jpg`,
    type: 'Image',
    format: 'image/jpeg',
    width: size.width,
    height: size.height,
    service: services(image, urls),
  };
}

export function canvas(image: ImageEntry, urls: PublisherUrls, limits: PublisherLimits): Json {
  const id = urls.canvas(image.id);
  const body = maxSize(image, limits, false);
  return {
    id,
    type: 'Canvas',
    label: none(imageLabel(image.name)),
    width: image.width,
    height: image.height,
    metadata: [{ label: en('File'), value: none(image.id) }],
    thumbnail: [thumbnail(image, urls, limits)],
    items: [
      {
        id: `${id}/page`,
        type: 'AnnotationPage',
        items: [
          {
            id: `${id}/page/image`,
            type: 'Annotation',
            motivation: 'painting',
            target: id,
            body: {
              id: `${urls.service(3, image.id)}/full/max/0/default.jpg`,
              type: 'Image',
              format: 'image/jpeg',
              width: body.width,
              height: body.height,
              service: services(image, urls),
            },
          },
        ],
      },
    ],
  };
}

function parentFolder(folder: string): string {
  return folder.includes('/') ? folder.slice(0, folder.lastIndexOf('/')) : '';
}

/** The Manifest of the images directly inside `folder`. */
export function folderManifest(folder: FolderNode, urls: PublisherUrls, limits: PublisherLimits, manifestPer: ManifestPer = 'folder', service: Json[] = []): Json {
  const first = folder.images[0];
  return {
    '@context': PRESENTATION_CONTEXT,
    id: urls.manifest(folder.path),
    type: 'Manifest',
    label: none(folder.name),
    summary: en(`${folder.images.length} image${folder.images.length === 1 ? '' : 's'} from the folder ${folder.path || folder.name}`),
    metadata: [{ label: en('Folder'), value: none(folder.path || '.') }],
    ...(first ? { thumbnail: [thumbnail(first, urls, limits)] } : {}),
    // A folder with sub-folders has a collection of its own; a leaf folder belongs to its parent's.
    // With a manifest per image no collection lists this one.
    ...(manifestPer === 'folder'
      ? { partOf: [{ id: urls.collection(folder.folders.length ? folder.path : parentFolder(folder.path)), type: 'Collection' }] }
      : {}),
    // Services of the manifest as a whole, e.g. IIIF Content Search (ImageServerOptions.manifestServices).
    ...(service.length ? { service } : {}),
    items: folder.images.map((image) => canvas(image, urls, limits)),
  };
}

/** The Manifest of one image: one canvas, labelled like it. */
export function imageManifest(image: ImageEntry, urls: PublisherUrls, limits: PublisherLimits, manifestPer: ManifestPer, service: Json[] = []): Json {
  return {
    '@context': PRESENTATION_CONTEXT,
    id: urls.imageManifest(image.id),
    type: 'Manifest',
    label: none(imageLabel(image.name)),
    metadata: [{ label: en('Folder'), value: none(image.folder || '.') }],
    thumbnail: [thumbnail(image, urls, limits)],
    // Only when collections list image manifests does one belong to its folder's collection.
    ...(manifestPer === 'image' ? { partOf: [{ id: urls.collection(image.folder), type: 'Collection' }] } : {}),
    ...(service.length ? { service } : {}),
    items: [canvas(image, urls, limits)],
  };
}

/** Whether a folder has a Collection of its own: the top one always; others with sub-folders, or all of them with a manifest per image. */
export function hasCollection(folder: FolderNode, manifestPer: ManifestPer): boolean {
  return folder.path === '' || folder.folders.length > 0 || (manifestPer === 'image' && folder.images.length > 0);
}

/** How a sub-folder appears in its parent's Collection: its Collection when it has one, else its Manifest. */
function member(folder: FolderNode, urls: PublisherUrls, manifestPer: ManifestPer): Json {
  return hasCollection(folder, manifestPer)
    ? { id: urls.collection(folder.path), type: 'Collection', label: none(folder.name) }
    : { id: urls.manifest(folder.path), type: 'Manifest', label: none(folder.name) };
}

/** The Collection of a folder: its own images first (one Manifest, or one per image), then its sub-folders. */
export function folderCollection(folder: FolderNode, urls: PublisherUrls, manifestPer: ManifestPer = 'folder'): Json {
  const items: Json[] = [];
  if (manifestPer === 'image') {
    for (const image of folder.images) items.push({ id: urls.imageManifest(image.id), type: 'Manifest', label: none(imageLabel(image.name)) });
  } else if (folder.images.length) {
    items.push({ id: urls.manifest(folder.path), type: 'Manifest', label: none(folder.name) });
  }
  for (const child of folder.folders) items.push(member(child, urls, manifestPer));
  return {
    '@context': PRESENTATION_CONTEXT,
    id: urls.collection(folder.path),
    type: 'Collection',
    label: none(folder.name),
    ...(folder.path ? { partOf: [{ id: urls.collection(parentFolder(folder.path)), type: 'Collection' }] } : {}),
    items,
  };
}

/** The folder node at a relative path, if the scan found one with images. */
export function findFolder(tree: FolderNode, folderPath: string): FolderNode | undefined {
  if (folderPath === '') return tree;
  let node: FolderNode | undefined = tree;
  let prefix = '';
  for (const part of folderPath.split('/')) {
    prefix = prefix ? `${prefix}/${part}` : part;
    node = node.folders.find((f) => f.path === prefix);
    if (!node) return undefined;
  }
  return node;
}
