/** Reading what viewers hand over: Image API request URLs and Media Fragment boxes. */
import type { Box } from '../store/index.ts';
import { RepriseError } from '../common/index.ts';

const NUM = String.raw`\d+(?:\.\d+)?`;
const REGION = new RegExp(String.raw`^(?:full|square|\d+,\d+,\d+,\d+|pct:${NUM},${NUM},${NUM},${NUM})$`);
const SIZE = new RegExp(String.raw`^\^?(?:full|max|\d+,|,\d+|pct:${NUM}|!?\d+,\d+)$`);
const ROTATION = new RegExp(String.raw`^!?${NUM}$`);
const QUALITY_FORMAT = /^(default|color|colour|gray|grey|bitonal|native)\.(jpg|jpeg|png|webp|tif|tiff|gif|jp2)$/;

/** Formats the API accepts as query images; others are asked for as JPEG. */
const READABLE_FORMATS = new Set(['jpg', 'jpeg', 'png', 'webp', 'tif', 'tiff']);

export interface ImageApiRequest {
  service: string;
  region: string;
  size: string;
  rotation: string;
  quality: string;
  format: string;
}

/** `{service}/{region}/{size}/{rotation}/{quality}.{format}`, or undefined when the URL is not one. */
export function parseImageApiUrl(raw: string): ImageApiRequest | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return undefined;
  }
  const segments = url.pathname.split('/');
  if (segments.length < 6) return undefined;
  const [region, size, rotation, last] = segments.slice(-4).map((s) => decodeURIComponent(s)) as [string, string, string, string];
  const qf = QUALITY_FORMAT.exec(last);
  if (!REGION.test(region) || !SIZE.test(size) || !ROTATION.test(rotation) || !qf) return undefined;
  const servicePath = segments.slice(0, -4).join('/');
  if (!servicePath || servicePath === '/') return undefined;
  return { service: `${url.origin}${servicePath}`, region, size, rotation, quality: qf[1]!, format: qf[2]! };
}

/** The same region, rotation and quality, scaled into a `box`×`box` square, in a format the API reads. */
export function sizedImageApiUrl(req: ImageApiRequest, box: number): string {
  const format = READABLE_FORMATS.has(req.format) ? req.format : 'jpg';
  return `${req.service}/${req.region}/!${box},${box}/${req.rotation}/${req.quality}.${format}`;
}

export class XywhError extends RepriseError {
  override name = 'XywhError';
}

/**
 * A box drawn on a canvas: "x,y,w,h", or a Media Fragment "xywh=[pixel:|percent:]x,y,w,h"
 * (percentages of the canvas size, which must then be known).
 */
export function parseXywh(raw: string, canvas?: { width?: number; height?: number }): Box {
  let text = raw.trim();
  const hash = text.indexOf('#');
  if (hash >= 0) text = text.slice(hash + 1);
  if (text.startsWith('xywh=')) text = text.slice(5);
  let unit: 'pixel' | 'percent' = 'pixel';
  if (text.startsWith('pixel:')) text = text.slice(6);
  else if (text.startsWith('percent:')) {
    unit = 'percent';
    text = text.slice(8);
  }
  const parts = text.split(',');
  const values = parts.map((p) => (/^\s*\d+(\.\d+)?\s*$/.test(p) ? Number(p) : NaN));
  if (values.length !== 4 || values.some((v) => !Number.isFinite(v))) {
    throw new XywhError('expected four non-negative numbers "x,y,w,h" (optionally "xywh=pixel:" or "xywh=percent:" before them)');
  }
  let [x, y, w, h] = values as [number, number, number, number];
  if (w <= 0 || h <= 0) throw new XywhError('the box needs a width and height above 0');
  if (unit === 'percent') {
    if (!canvas?.width || !canvas.height) throw new XywhError('percent boxes need the canvas size, which this canvas does not record; give pixels');
    [x, w] = [(x / 100) * canvas.width, (w / 100) * canvas.width];
    [y, h] = [(y / 100) * canvas.height, (h / 100) * canvas.height];
  }
  return { x, y, w, h };
}
