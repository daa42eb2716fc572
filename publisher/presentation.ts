/**
 * Presentation API 3.0 documents for a scanned folder, the way an archive is laid out: the
 * images directly in a folder are one Manifest (one Canvas per image, in natural order), a
 * folder with sub-folders is a Collection of its own Manifest and its sub-folders, and the
 * top folder is always the root Collection. Labels come from folder and file names; each
 * image offers an Image API 3 and an Image API 2 service.
 */
import { maxSize, parseSize } from './image-request.ts';
import { PROFILE_URI } from './info-json.ts';
import type { PublisherLimits } from './limits.ts';
import type { FolderNode, ImageEntry } from './scan.ts';
import type { PublisherUrls } from './urls.ts';

export const PRESENTATION_CONTEXT = 'http://iiif.io/api/presentation/3/context.json';

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
export function folderManifest(folder: FolderNode, urls: PublisherUrls, limits: PublisherLimits): Json {
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
    partOf: [{ id: urls.collection(folder.folders.length ? folder.path : parentFolder(folder.path)), type: 'Collection' }],
    items: folder.images.map((image) => canvas(image, urls, limits)),
  };
}

/** How a sub-folder appears in its parent's Collection: a Collection when it has sub-folders, else a Manifest. */
function member(folder: FolderNode, urls: PublisherUrls): Json {
  return folder.folders.length
    ? { id: urls.collection(folder.path), type: 'Collection', label: none(folder.name) }
    : { id: urls.manifest(folder.path), type: 'Manifest', label: none(folder.name) };
}

/** The Collection of a folder: its own Manifest first (when it has images), then its sub-folders. */
export function folderCollection(folder: FolderNode, urls: PublisherUrls): Json {
  const items: Json[] = [];
  if (folder.images.length) items.push({ id: urls.manifest(folder.path), type: 'Manifest', label: none(folder.name) });
  for (const child of folder.folders) items.push(member(child, urls));
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
