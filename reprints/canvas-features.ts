/**
 * What the reprint index keeps of a harvested canvas, from the images the harvest has of it: the
 * harvester's feature stage hands each canvas here and writes what comes back.
 */
import { extractViews, type ImageFeatures, type RawPixels } from './features/index.ts';
import { partId, type ReprintEntry, type ReprintItem } from './reprint-index/index.ts';

/**
 * The features' version, part of the harvest stage id recorded in the journal: a new version
 * re-processes canvases (from the image cache). v3: halftone screens blurred away, pictures
 * printed on a page indexed on their own, from the larger detail image.
 */
export const FEATURE_VERSION = 'rootsift6-v3';

/**
 * Long side of the image reprint features are extracted from (the harvest's detail image): on a
 * 2,000-px newspaper page a photograph a fifth of the page wide keeps 280 px and one a third wide
 * 470, where 640 px left it 90 and 150 (eval:reprints, printed pages). Requested separately from the
 * embedding size, within the image service's limits.
 */
export const REPRINT_IMAGE_SIDE = 2000;

/** Features of an image: the whole image first, then each picture printed on it (extractViews). */
export type ExtractViews = (image: Buffer | RawPixels) => Promise<ImageFeatures[]>;

export const extractAllViews: ExtractViews = async (image) => (await extractViews(image)).views;

/** The images a harvest has of one canvas. */
export interface CanvasImages {
  /** The larger image (REPRINT_IMAGE_SIDE) when the image service gave one. */
  detail?: Buffer;
  /** The image as fetched (empty when only its pixels were kept). */
  bytes: Buffer;
  /** The decoded pixels (at the embedding size). */
  pixels: RawPixels;
}

/** The image features are extracted from: the larger image when there is one, else the image as fetched (a plain file is whole), else the decoded pixels. */
export function featureSource(images: CanvasImages): Buffer | RawPixels {
  return images.detail ?? (images.bytes.length ? images.bytes : images.pixels);
}

/**
 * What the reprint index keeps of one canvas: its whole image, then each picture printed on it as a
 * part (searchable at the size a photograph is; hits and pairs report the canvas). One upsert of
 * these replaces the canvas's earlier entries, parts included.
 */
export function reprintEntries(id: string, item: ReprintItem, views: ImageFeatures[], imageHash?: string): ReprintEntry[] {
  const [whole, ...parts] = views;
  if (!whole) throw new Error('no features: the whole image comes first, even without usable content');
  return [
    { id, ...(imageHash ? { imageHash } : {}), item, features: whole },
    ...parts.map((features, n) => ({ id: partId(id, n), item: { ...item, partOf: id }, features })),
  ];
}

/** The reprint index's entries for one harvested canvas, its features extracted from the best image the harvest has of it. */
export async function canvasEntries(
  canvas: { id: string; item: ReprintItem; images: CanvasImages; imageHash?: string },
  extract: ExtractViews = extractAllViews,
): Promise<ReprintEntry[]> {
  return reprintEntries(canvas.id, canvas.item, await extract(featureSource(canvas.images)), canvas.imageHash);
}
