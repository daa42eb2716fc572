/**
 * The publisher's current view of its folder: the last scan, redone when it is older than
 * `rescanAfterMs` (one scan at a time), and the one place an id becomes a file. A file is
 * checked again when it is asked for, so one replaced, removed or turned into a link out of
 * the folder since the scan is not served from stale facts.
 */
import { realpath, stat } from 'node:fs/promises';
import { NotFoundError } from './errors.ts';
import type { PublisherLimits } from './limits.ts';
import { isInside, probeImage, scanFolder, type ImageEntry, type ScanResult } from './scan.ts';

export class ImageCatalog {
  private scan?: ScanResult;
  private scanning?: Promise<ScanResult>;

  constructor(readonly dir: string, private readonly limits: PublisherLimits) {}

  /** The current scan, scanning first when there is none or it is stale. */
  async current(): Promise<ScanResult> {
    const fresh = this.scan && Date.now() - this.scan.scannedAt < this.limits.rescanAfterMs;
    if (fresh) return this.scan!;
    return this.rescan();
  }

  /** Scans now (joining a scan already running). */
  rescan(): Promise<ScanResult> {
    this.scanning ??= scanFolder(this.dir, this.limits, this.scan)
      .then((result) => (this.scan = result))
      .finally(() => (this.scanning = undefined));
    return this.scanning;
  }

  /** The image with this id, checked on disk now; NotFoundError when there is none to serve. */
  async image(id: string): Promise<ImageEntry> {
    const scan = await this.current();
    const entry = scan.images.get(id);
    const unknown = () => new NotFoundError(`no image with id "${id}" here: the collection (…/iiif/collection.json) lists every image`);
    if (!entry) throw unknown();
    let real: string;
    let info;
    try {
      real = await realpath(entry.path);
      info = await stat(real);
    } catch {
      scan.images.delete(id);
      throw unknown();
    }
    if (!isInside(scan.rootReal, real) || !info.isFile()) {
      scan.images.delete(id);
      throw unknown();
    }
    if (real !== entry.realPath || info.mtimeMs !== entry.mtimeMs || info.size !== entry.bytes) {
      // Replaced since the scan: its size may have changed, and info.json must say the new one.
      const probed = await probeImage(real, this.limits);
      if ('reason' in probed) {
        scan.images.delete(id);
        throw new NotFoundError(`image "${id}" cannot be served any more: ${probed.reason}`);
      }
      Object.assign(entry, probed, { realPath: real, mtimeMs: info.mtimeMs, bytes: info.size });
    }
    return entry;
  }
}
