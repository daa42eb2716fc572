import { setMaxListeners } from 'node:events';
import path from 'node:path';
import type { HarvestConfig } from '../config/schema.ts';
import type { HttpClient } from './http/types.ts';
import { Journal } from './journal/journal.ts';
import { acquireLock } from './journal/lock.ts';
import type { IndexStage } from './stage.ts';
import { ImageCache } from './image-cache.ts';
import { Discovery } from './discovery.ts';
import { ImagePipeline } from './image-pipeline.ts';
import { emptySummary, type HarvestEventListener, type HarvestSummary } from './events.ts';

export interface HarvestServiceDeps {
  config: HarvestConfig;
  /** Folder of the journal, its lock and the image cache. */
  dataDir: string;
  http: HttpClient;
  stage: IndexStage;
  onEvent?: HarvestEventListener;
}

export interface HarvestRunOptions {
  /** Change streams: only activities after this instant (default: where the last run stopped). */
  since?: Date;
  /** Fetch manifests and collections and report what would change; fetch no image, write nothing. */
  dryRun?: boolean;
  /** A collection name recorded on every item of these sources. */
  collection?: string;
  signal?: AbortSignal;
}

export const journalPath = (dataDir: string) => path.join(dataDir, 'harvest.db');

/**
 * One harvest run over a set of sources: discovery (documents → journal) and images
 * (journal → stage), a manifest's images starting once discovery has settled it. The lock
 * makes a second, overlapping run fail at once.
 */
export class HarvestService {
  constructor(private readonly deps: HarvestServiceDeps) {}

  async run(urls: string[], opts: HarvestRunOptions = {}): Promise<HarvestSummary> {
    const started = Date.now();
    const { config, dataDir, http, stage } = this.deps;
    const emit: HarvestEventListener = this.deps.onEvent ?? (() => {});
    const journalFile = journalPath(dataDir);
    // Every request in flight listens to the run's signal (host slot, retry, exchange): manifests
    // and images together are bounded by the slots below, so Node's leak warning at 10 is noise here.
    if (opts.signal) setMaxListeners(3 * (2 * config.http.concurrency + config.decodeConcurrency) + 10, opts.signal);
    const journal = new Journal(journalFile);
    let release: (() => void) | undefined;
    try {
      release = acquireLock(`${journalFile}.lock`);
      const runId = journal.startRun({ urls, since: opts.since?.toISOString(), dryRun: !!opts.dryRun, collection: opts.collection });
      const summary = emptySummary(runId);
      emit({ type: 'run-start', runId, sources: urls, dryRun: !!opts.dryRun });
      try {
        // A dry run does all its writes inside a transaction it rolls back.
        if (opts.dryRun) journal.db.exec('BEGIN');
        // Images start while discovery goes on; a dry run fetches none.
        const pipeline = opts.dryRun ? undefined : new ImagePipeline({ config, journal, http, stage, cache: new ImageCache(path.join(dataDir, 'images')), summary, emit, signal: opts.signal });
        const onManifestSettled = pipeline && ((url: string) => pipeline.manifestSettled(url));
        const discovery = new Discovery({ config, journal, http, stage, runId, summary, emit, dryRun: !!opts.dryRun, since: opts.since, signal: opts.signal, onManifestSettled });
        pipeline?.startFeed();
        try {
          for (const url of urls) {
            await discovery.harvestSource(journal.ensureSource(url, opts.collection));
          }
        } catch (err) {
          await pipeline?.drain();
          throw err;
        }
        if (!pipeline) {
          summary.journal = journal.counts();
          journal.db.exec('ROLLBACK');
          summary.status = 'dry-run';
        } else {
          await pipeline.run();
          summary.journal = journal.counts();
          summary.status = summary.failures.length ? 'completed-with-failures' : 'completed';
        }
      } catch (err) {
        if (journal.db.inTransaction) journal.db.exec('ROLLBACK');
        summary.status = opts.signal?.aborted ? 'interrupted' : 'failed';
        summary.durationMs = Date.now() - started;
        journal.finishRun(runId, summary.status, { ...summary, error: (err as Error).message });
        throw err;
      }
      summary.durationMs = Date.now() - started;
      journal.finishRun(runId, summary.status, summary);
      emit({ type: 'run-end', summary });
      return summary;
    } finally {
      release?.();
      journal.close();
    }
  }
}
