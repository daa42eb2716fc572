import type { Urls } from './urls.ts';

/** IIIF Change Discovery API 1.0: an OrderedCollection of Activities, oldest first, in pages. */

export interface Activity {
  type: 'Create' | 'Update' | 'Delete';
  objectId: string;
  objectType: 'Manifest' | 'Collection';
  endTime: Date;
}

const CONTEXT = 'http://iiif.io/api/discovery/1/context.json';

export class ChangeStream {
  private readonly items: Activity[] = [];

  constructor(private readonly pageSize: number) {}

  record(activity: Activity): void {
    this.items.push(activity);
  }

  get activities(): readonly Activity[] {
    return this.items;
  }

  get pageCount(): number {
    return Math.max(1, Math.ceil(this.items.length / this.pageSize));
  }

  /** Last-Modified of the collection, or of page n. */
  lastModified(page?: number): Date {
    const slice = page === undefined ? this.items : this.pageItems(page);
    return slice.at(-1)?.endTime ?? new Date(0);
  }

  /** The revision of a page is the number of activities on it: pages only ever grow. */
  revision(page?: number): number {
    return page === undefined ? this.items.length : this.pageItems(page).length;
  }

  collection(urls: Urls): object {
    const last = this.pageCount - 1;
    return {
      '@context': CONTEXT,
      id: urls.changeStream,
      type: 'OrderedCollection',
      totalItems: this.items.length,
      first: { id: urls.changePage(0), type: 'OrderedCollectionPage' },
      last: { id: urls.changePage(last), type: 'OrderedCollectionPage' },
    };
  }

  page(urls: Urls, n: number): object | undefined {
    if (!Number.isInteger(n) || n < 0 || n >= this.pageCount) return undefined;
    return {
      '@context': CONTEXT,
      id: urls.changePage(n),
      type: 'OrderedCollectionPage',
      startIndex: n * this.pageSize,
      partOf: { id: urls.changeStream, type: 'OrderedCollection' },
      ...(n > 0 ? { prev: { id: urls.changePage(n - 1), type: 'OrderedCollectionPage' } } : {}),
      ...(n < this.pageCount - 1 ? { next: { id: urls.changePage(n + 1), type: 'OrderedCollectionPage' } } : {}),
      orderedItems: this.pageItems(n).map((a) => ({
        type: a.type,
        object: { id: a.objectId, type: a.objectType },
        endTime: a.endTime.toISOString(),
      })),
    };
  }

  private pageItems(n: number): Activity[] {
    return this.items.slice(n * this.pageSize, (n + 1) * this.pageSize);
  }
}
