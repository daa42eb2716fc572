/**
 * Turns a checked request into image bytes with iiif-processor (sharp underneath). The
 * request handed over is the explicit form worked out in image-request.ts (pixel region,
 * exact output size), so the processor does the pixel work and nothing else decides sizes;
 * the file it reads is the catalogued one, never a path made from the request.
 */
import { createReadStream } from 'node:fs';
import { Processor } from 'iiif-processor';
import { PublisherError } from './errors.ts';
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
  const result = await processor.execute();
  if (result.type === 'content' && Buffer.isBuffer(result.body)) return result.body;
  if (result.type === 'error') throw new PublisherError(`cannot render this image: ${result.message}`, result.statusCode >= 400 && result.statusCode < 600 ? result.statusCode : 500);
  throw new PublisherError(`cannot render this image: the processor answered ${result.type}`, 500);
}
