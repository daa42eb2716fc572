import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';

/** A file on disk that the institution publishes, as it is on disk (never re-encoded for /files). */
export interface SourceImage {
  path: string;
  name: string;
  ext: string;
  mime: string;
  /** Display size, EXIF orientation applied; 1000×1000 when the header cannot be read. */
  width: number;
  height: number;
  readable: boolean;
  /** Changes whenever the file does: the basis of every ETag derived from it. */
  tag: string;
}

const MIME_BY_FORMAT: Record<string, string> = {
  jpeg: 'image/jpeg', jpg: 'image/jpeg', png: 'image/png', webp: 'image/webp', gif: 'image/gif',
  tiff: 'image/tiff', tif: 'image/tiff', svg: 'image/svg+xml', jp2: 'image/jp2', heif: 'image/heif',
  avif: 'image/avif',
};

const loaded = new Map<string, Promise<SourceImage>>();

export function loadSource(file: string): Promise<SourceImage> {
  const abs = path.resolve(file);
  let pending = loaded.get(abs);
  if (!pending) {
    pending = readSource(abs);
    loaded.set(abs, pending);
    pending.catch(() => loaded.delete(abs));
  }
  return pending;
}

async function readSource(abs: string): Promise<SourceImage> {
  const st = await stat(abs);
  const ext = path.extname(abs).slice(1).toLowerCase();
  const tag = createHash('sha1').update(`${abs}\0${st.mtimeMs}\0${st.size}`).digest('hex').slice(0, 16);
  try {
    // Header only: the 65536² PNG must not be decoded, hence no pixel limit here.
    const meta = await sharp(abs, { limitInputPixels: false }).metadata();
    const dims = meta.autoOrient ?? { width: meta.width, height: meta.height };
    if (!dims.width || !dims.height) throw new Error('no dimensions');
    return {
      path: abs, name: path.basename(abs), ext,
      mime: MIME_BY_FORMAT[meta.format ?? ''] ?? MIME_BY_FORMAT[ext] ?? 'application/octet-stream',
      width: dims.width, height: dims.height, readable: true, tag,
    };
  } catch {
    return {
      path: abs, name: path.basename(abs), ext,
      mime: MIME_BY_FORMAT[ext] ?? 'application/octet-stream',
      width: 1000, height: 1000, readable: false, tag,
    };
  }
}
