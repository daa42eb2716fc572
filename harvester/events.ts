/** What a harvest reports while it runs; the CLI turns these into a progress bar or JSON log lines. */
export type HarvestEvent =
  | { type: 'run-start'; runId: number; sources: string[]; dryRun: boolean }
  | { type: 'document'; url: string; kind: 'manifest' | 'collection' | 'change-stream'; status: 'new' | 'changed' | 'unchanged' | 'failed'; reason?: string; canvases?: number }
  | { type: 'canvas-skipped'; manifestUrl: string; canvasId: string; reason: string }
  | { type: 'manifest-removed'; url: string; canvases: number }
  /** The same items at a new address (a published folder served on another port): updated in place, not indexed again. */
  | { type: 'manifest-moved'; from: string; to: string; canvases: number }
  /** Once discovery has ended: the images of this run, those already started while it walked included. */
  | { type: 'images-queued'; total: number }
  | { type: 'image'; itemId: string; url: string; status: 'indexed' | 'unchanged' | 'failed'; reason?: string; downloaded: boolean }
  | { type: 'warning'; url: string; message: string }
  /**
   * The end-of-run reprint comparison of the images not compared yet (on its own thread): `started`
   * with how many wait, `progress` every few seconds, then `finished`, or `stopped` by a signal
   * (the rest waits for the next run), with how many were compared.
   */
  | { type: 'reprint-scan'; status: 'started' | 'progress' | 'finished' | 'stopped'; images: number; durationMs?: number }
  | { type: 'run-end'; summary: HarvestSummary };

export interface HarvestSummary {
  runId: number;
  status: 'completed' | 'completed-with-failures' | 'failed' | 'interrupted' | 'dry-run';
  durationMs: number;
  /** `moved`: found at a new address with the same items; `duplicates`: URLs giving a manifest another URL indexes. */
  manifests: { new: number; changed: number; unchanged: number; failed: number; removed: number; moved: number; duplicates: number };
  collections: { fetched: number; unchanged: number; failed: number };
  canvases: { added: number; imageChanged: number; metadataChanged: number; removed: number; skipped: number };
  images: { downloaded: number; notModified: number; indexed: number; unchanged: number; failed: number; bytes: number };
  /** Items and documents that failed in this run, with their reasons (capped). */
  failures: Array<{ url: string; itemId?: string; reason: string }>;
  /** Totals in the journal after the run. */
  journal: { pending: number; fetched: number; indexed: number; failed: number };
}

export type HarvestEventListener = (event: HarvestEvent) => void;

export function emptySummary(runId: number): HarvestSummary {
  return {
    runId,
    status: 'completed',
    durationMs: 0,
    manifests: { new: 0, changed: 0, unchanged: 0, failed: 0, removed: 0, moved: 0, duplicates: 0 },
    collections: { fetched: 0, unchanged: 0, failed: 0 },
    canvases: { added: 0, imageChanged: 0, metadataChanged: 0, removed: 0, skipped: 0 },
    images: { downloaded: 0, notModified: 0, indexed: 0, unchanged: 0, failed: 0, bytes: 0 },
    failures: [],
    journal: { pending: 0, fetched: 0, indexed: 0, failed: 0 },
  };
}
