/**
 * Turns a checked request into image bytes with iiif-processor (sharp underneath). The
 * request handed over is the explicit form worked out in image-request.ts (pixel region,
 * exact output size), so the processor does the pixel work and nothing else decides sizes;
 * the file it reads is the catalogued one, never a path made from the request.
 */
import { createReadStream } from 'node:fs';
import { Processor } from 'iiif-processor';
import { NotFoundError, PublisherError, UnreadableImageError } from './errors.ts';
import type { ResolvedImageRequest } from './image-request.ts';
import type { PublisherLimits } from './limits.ts';
import type { ImageEntry } from './scan.ts';

/** The processor wants a URL; the host is never contacted and the id is a placeholder. */
const INTERNAL_BASE = 'http://publisher.invalid/iiif';

export async function renderImage(entry: ImageEntry, request: ResolvedImageRequest, limits: PublisherLimits): Promise<Buffer> {
  const url = `${INTERNAL_BASE}/${request.version}/image/${request.explicit}`;
  const processor = new Processor(url, async () => createReadStream(entry.realPath), {
    dimensionFunction: async () => ({ width: entry.width, height: entry.height }),
    // Header sizes were checked when the folder was scanned; this holds if the file changed since.
    sharpOptions: { limitInputPixels: limits.maxInputPixels },
  });
  let result;
  try {
    result = await processor.execute();
  } catch (err) {
    throw fileError(entry, err);
  }
  if (result.type === 'content' && Buffer.isBuffer(result.body)) return result.body;
  if (result.type === 'error') throw new PublisherError(`cannot render this image: ${result.message}`, result.statusCode >= 400 && result.statusCode < 600 ? result.statusCode : 500);
  throw new PublisherError(`cannot render this image: the processor answered ${result.type}`, 500);
}

/**
 * What a failure while reading or decoding the file means for the client. The scan read only
 * the header, so a truncated or damaged file shows up here, as libvips' message; it is answered
 * as the file's problem (422, or 404 when the file went away), never as an internal error.
 */
function fileError(entry: ImageEntry, err: unknown): PublisherError {
  if (err instanceof PublisherError) return err;
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT') return new NotFoundError(`image "${entry.id}" is no longer in the folder: the collection (…/iiif/collection.json) lists every image`);
  if (typeof code === 'string') return new UnreadableImageError(`image "${entry.id}" cannot be rendered: its file cannot be read (${code})`);
  const reason = String((err as Error)?.message ?? err).split('\n')[0]!.trim();
  return new UnreadableImageError(
    `image "${entry.id}" cannot be rendered: its file could not be decoded (${reason}); it is probably truncated or damaged, and stays so until it is replaced`,
  );
}
