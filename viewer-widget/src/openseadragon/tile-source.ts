import { RepriseClient } from '../api/client.ts';
import type { Item } from '../api/types.ts';

/** A canvas as a viewer shows it: what to open, and what a box drawn on it is measured against. */
export interface ViewerCanvas {
  canvas: string;
  manifest?: string;
  label?: string;
  /** Canvas size: boxes are sent to the API in canvas coordinates. When unknown, image pixels are taken as canvas units. */
  width?: number;
  height?: number;
  /** An OpenSeadragon tile source: an info.json URL, or `{type: 'image', url}` for a plain image. */
  tileSource: string | { type: 'image'; url: string };
}

/**
 * A hit as something to open in OpenSeadragon: its image service's info.json for deep zoom, else
 * the plain image (asked of the API's item details), else its thumbnail.
 */
export async function viewerCanvasOf(hit: Item, api: string, signal?: AbortSignal): Promise<ViewerCanvas> {
  const base = {
    canvas: hit.canvas.id,
    manifest: hit.manifest.id || hit.manifest.url,
    ...(hit.canvas.label ? { label: hit.canvas.label } : {}),
    ...(hit.canvas.width ? { width: hit.canvas.width } : {}),
    ...(hit.canvas.height ? { height: hit.canvas.height } : {}),
  };
  if (hit.imageService) return { ...base, tileSource: `${hit.imageService.id.replace(/\/+$/, '')}/info.json` };
  try {
    const item = await new RepriseClient(api).item(hit.id, signal);
    if (item.image?.url) return { ...base, tileSource: { type: 'image', url: item.image.url } };
  } catch (err) {
    if ((err as Error)?.name === 'AbortError') throw err;
  }
  if (hit.thumbnail) return { ...base, tileSource: { type: 'image', url: hit.thumbnail } };
  throw new Error(`the hit ${hit.id} has no image to open`);
}
