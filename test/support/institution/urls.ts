import type { ImageRecord, ManifestRecord, CanvasRecord } from './model.ts';

/** Every URL the institution publishes, in one place so that routes and documents agree. */
export class Urls {
  constructor(readonly base: string) {}

  get rootCollection(): string { return `${this.base}/collections/root.json`; }
  get v3Collection(): string { return `${this.base}/collections/v3.json`; }
  get v2Collection(): string { return `${this.base}/collections/v2.json`; }
  v2Page(n: number): string { return `${this.base}/collections/v2/page-${n}.json`; }

  get changeStream(): string { return `${this.base}/activity/all-changes`; }
  changePage(n: number): string { return `${this.base}/activity/page/${n}`; }

  manifest(m: ManifestRecord): string { return `${this.base}/manifests/v${m.version}/${m.slug}.json`; }
  /** Prefix for the non-dereferenceable ids inside a manifest. */
  manifestScope(m: ManifestRecord): string { return `${this.base}/manifests/v${m.version}/${m.slug}`; }
  canvas(m: ManifestRecord, c: CanvasRecord): string { return `${this.manifestScope(m)}/canvas/${c.slug}`; }

  service(img: ImageRecord): string | undefined {
    switch (img.service) {
      case 'iiif2': return `${this.base}/iiif/2/${img.id}`;
      case 'iiif3': return `${this.base}/iiif/3/${img.id}`;
      case 'level0-2': return `${this.base}/level0/2/${img.id}`;
      case 'level0-3': return `${this.base}/level0/3/${img.id}`;
      case 'plain': return undefined;
    }
  }

  /** The painting body's id: a full-size request that exists for every kind of service. */
  image(img: ImageRecord): string {
    const service = this.service(img);
    if (!service) return `${this.base}/files/${img.id}.${img.fileExt}`;
    return img.service.endsWith('3') ? `${service}/full/max/0/default.jpg` : `${service}/full/full/0/default.jpg`;
  }
}
