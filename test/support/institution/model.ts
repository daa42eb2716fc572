import type { Clock } from './clock.ts';
import type { ChangeStream } from './change-stream.ts';
import { ensureLevel0Tree, type Level0Tree } from './level0-trees.ts';
import { loadSource, type SourceImage } from './sources.ts';
import type { ImageMode, ManifestChange } from './types.ts';
import type { Urls } from './urls.ts';

/** The institution's holdings and their history; documents are rendered from it on request. */

export type ImageService = 'iiif2' | 'iiif3' | 'level0-2' | 'level0-3' | 'plain';

export interface ImageRecord {
  /** Stable: a replace-image keeps the URL and changes what it serves. */
  id: string;
  service: ImageService;
  source: SourceImage;
  tree?: Level0Tree;
  /** Fixed at creation so that a plain file keeps its URL when its bytes are replaced. */
  fileExt: string;
  lastModified: Date;
}

export interface CanvasRecord {
  slug: string;
  label: string;
  image: ImageRecord;
  /** Further items of a body Choice. */
  alternatives: ImageRecord[];
}

export interface ManifestRecord {
  slug: string;
  version: 2 | 3;
  mode: ImageMode;
  /** v2: the service given as an array with an Image API 1.1 context. */
  quirk: boolean;
  label: string;
  canvases: CanvasRecord[];
  nextCanvas: number;
  revision: number;
  lastModified: Date;
  removed: boolean;
}

export interface DocState { revision: number; lastModified: Date }

interface Variant { version: 2 | 3; mode: ImageMode; choice?: boolean; quirk?: boolean }

/** Manifest i follows PLAN[i % PLAN.length]. */
export const PLAN: readonly Variant[] = [
  { version: 3, mode: 'image-api-3' },
  { version: 2, mode: 'image-api-2' },
  { version: 3, mode: 'level0' },
  { version: 2, mode: 'level0' },
  { version: 3, mode: 'plain' },
  { version: 2, mode: 'plain' },
  { version: 3, mode: 'image-api-3', choice: true },
  { version: 2, mode: 'image-api-2', quirk: true },
];

export interface ModelOptions {
  images: string[];
  imagesPerManifest: number;
  manifestCount: number;
  static: boolean;
  extraPlainImages?: { paths: string[]; manifest?: number };
  cacheDir: string;
}

export class Model {
  readonly images = new Map<string, ImageRecord>();
  readonly manifests: ManifestRecord[] = [];
  readonly root: DocState;
  readonly v2Collection: DocState;
  readonly v3Collection: DocState;
  private nextImage = 1;
  private nextPhotograph = 0;

  constructor(
    private readonly opts: ModelOptions,
    private readonly clock: Clock,
    private readonly changes: ChangeStream,
    private readonly urls: Urls,
  ) {
    const created = { revision: 0, lastModified: clock.created };
    this.root = { ...created };
    this.v2Collection = { ...created };
    this.v3Collection = { ...created };
  }

  async build(): Promise<void> {
    const { images, imagesPerManifest: k, manifestCount } = this.opts;
    if (images.length === 0) throw new Error('institution: options.images is empty');
    const sources = await Promise.all(images.map((p) => loadSource(p)));
    const unreadable = sources.filter((s) => !s.readable).map((s) => s.path);
    if (unreadable.length) throw new Error(`institution: cannot read photographs ${unreadable.join(', ')}`);
    const photo = (n: number): SourceImage => sources[n % sources.length]!;
    // Rendered up front, a few at a time, because the canvases below are built one by one.
    await eachLimited(sources, 4, (s) => ensureLevel0Tree(s, this.opts.cacheDir));

    for (let i = 0; i < manifestCount; i++) {
      const variant = PLAN[i % PLAN.length]!;
      const mode = this.effectiveMode(variant.mode);
      const m: ManifestRecord = {
        slug: `m${String(i).padStart(3, '0')}`,
        version: variant.version,
        mode,
        quirk: variant.quirk ?? false,
        label: '',
        canvases: [],
        nextCanvas: 1,
        revision: 0,
        lastModified: this.clock.created,
        removed: false,
      };
      m.label = `Reprise test manifest ${m.slug} (Presentation ${m.version}, ${mode})`;
      for (let j = 0; j < k; j++) {
        const canvas = await this.newCanvas(m, photo(i * k + j), this.serviceFor(m.version, mode));
        if (variant.choice && j === 0) {
          const altService = this.opts.static ? 'level0-2' : 'iiif2';
          canvas.alternatives.push(await this.newImage(photo(i * k + j + 1), altService));
        }
        m.canvases.push(canvas);
      }
      this.manifests.push(m);
    }
    this.nextPhotograph = manifestCount * k;

    const extra = this.opts.extraPlainImages;
    if (extra && extra.paths.length) {
      const target = this.manifests[extra.manifest ?? 0];
      if (!target) throw new Error(`institution: extraPlainImages.manifest ${extra.manifest} does not exist`);
      for (const p of extra.paths) target.canvases.push(await this.newCanvas(target, await loadSource(p), 'plain'));
    }

    const created = this.clock.created;
    this.changes.record({ type: 'Create', objectId: this.urls.rootCollection, objectType: 'Collection', endTime: created });
    this.changes.record({ type: 'Create', objectId: this.urls.v3Collection, objectType: 'Collection', endTime: created });
    this.changes.record({ type: 'Create', objectId: this.urls.v2Collection, objectType: 'Collection', endTime: created });
    for (const m of this.manifests) {
      this.changes.record({ type: 'Create', objectId: this.urls.manifest(m), objectType: 'Manifest', endTime: created });
    }
  }

  live(version?: 2 | 3): ManifestRecord[] {
    return this.manifests.filter((m) => !m.removed && (version === undefined || m.version === version));
  }

  findManifest(version: number, slug: string): ManifestRecord | undefined {
    return this.manifests.find((m) => m.version === version && m.slug === slug && !m.removed);
  }

  collectionOf(m: ManifestRecord): DocState {
    return m.version === 3 ? this.v3Collection : this.v2Collection;
  }

  async change(url: string, change: ManifestChange): Promise<void> {
    const m = this.byUrl(url);
    // Everything asynchronous happens before the first edit, so a failed change leaves no trace.
    switch (change.kind) {
      case 'relabel': {
        const t = this.clock.tick();
        m.label = change.label;
        // The collections embed manifest labels.
        this.touch(this.collectionOf(m), t);
        this.touchManifest(m, t);
        return;
      }
      case 'replace-image': {
        const canvas = this.canvasAt(m, change.canvas);
        const source = await loadSource(change.imagePath);
        const tree = await this.treeFor(canvas.image.service, source);
        const t = this.clock.tick();
        canvas.image.source = source;
        canvas.image.tree = tree;
        canvas.image.lastModified = t;
        this.touchManifest(m, t);
        return;
      }
      case 'remove-canvas': {
        this.canvasAt(m, change.canvas);
        const t = this.clock.tick();
        const [gone] = m.canvases.splice(change.canvas, 1);
        for (const img of [gone!.image, ...gone!.alternatives]) this.images.delete(img.id);
        this.touchManifest(m, t);
        return;
      }
      case 'add-canvas': {
        const source = await loadSource(change.imagePath ?? this.opts.images[this.nextPhotograph++ % this.opts.images.length]!);
        const canvas = await this.newCanvas(m, source, this.serviceFor(m.version, m.mode));
        const t = this.clock.tick();
        canvas.image.lastModified = t;
        m.canvases.push(canvas);
        this.touchManifest(m, t);
        return;
      }
    }
  }

  async remove(url: string): Promise<void> {
    const m = this.byUrl(url);
    const t = this.clock.tick();
    m.removed = true;
    m.revision++;
    m.lastModified = t;
    for (const c of m.canvases) for (const img of [c.image, ...c.alternatives]) this.images.delete(img.id);
    this.changes.record({ type: 'Delete', objectId: url, objectType: 'Manifest', endTime: t });
    const collection = this.collectionOf(m);
    this.touch(collection, t);
    this.changes.record({
      type: 'Update',
      objectId: m.version === 3 ? this.urls.v3Collection : this.urls.v2Collection,
      objectType: 'Collection',
      endTime: t,
    });
  }

  private byUrl(url: string): ManifestRecord {
    const m = this.manifests.find((x) => this.urls.manifest(x) === url);
    if (!m || m.removed) throw new Error(`institution: no manifest ${url}`);
    return m;
  }

  private canvasAt(m: ManifestRecord, index: number): CanvasRecord {
    const canvas = m.canvases[index];
    if (!canvas) throw new RangeError(`institution: ${m.slug} has no canvas ${index} (it has ${m.canvases.length})`);
    return canvas;
  }

  private touch(doc: DocState, t: Date): void {
    doc.revision++;
    doc.lastModified = t;
  }

  private touchManifest(m: ManifestRecord, t: Date): void {
    this.touch(m, t);
    this.changes.record({ type: 'Update', objectId: this.urls.manifest(m), objectType: 'Manifest', endTime: t });
  }

  private effectiveMode(mode: ImageMode): ImageMode {
    return this.opts.static && mode.startsWith('image-api') ? 'level0' : mode;
  }

  private serviceFor(version: 2 | 3, mode: ImageMode): ImageService {
    switch (mode) {
      case 'image-api-2': return 'iiif2';
      case 'image-api-3': return 'iiif3';
      case 'level0': return version === 3 ? 'level0-3' : 'level0-2';
      case 'plain': return 'plain';
    }
  }

  private async newCanvas(m: ManifestRecord, source: SourceImage, service: ImageService): Promise<CanvasRecord> {
    const n = m.nextCanvas++;
    return { slug: `c${n}`, label: `${n}. ${source.name}`, image: await this.newImage(source, service), alternatives: [] };
  }

  private async newImage(source: SourceImage, service: ImageService): Promise<ImageRecord> {
    const img: ImageRecord = {
      id: `img-${String(this.nextImage++).padStart(4, '0')}`,
      service,
      source,
      tree: await this.treeFor(service, source),
      fileExt: source.ext || 'bin',
      lastModified: this.clock.created,
    };
    this.images.set(img.id, img);
    return img;
  }

  private async treeFor(service: ImageService, source: SourceImage): Promise<Level0Tree | undefined> {
    return service.startsWith('level0') ? ensureLevel0Tree(source, this.opts.cacheDir) : undefined;
  }
}

async function eachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
