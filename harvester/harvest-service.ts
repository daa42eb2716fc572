import { setMaxListeners } from 'node:events';
import path from 'node:path';
import type { HarvestConfig } from '../config/index.ts';
import { Journal } from './journal/journal.ts';
import { acquireLock } from './journal/lock.ts';
import type { IndexStage } from './stage.ts';
import { ImageCache } from './image-cache.ts';
import { Discovery } from './discovery.ts';
import { ImagePipeline } from './image-pipeline.ts';
import { emptySummary, type HarvestEventListener, type HarvestSummary } from './events.ts';
import { RepriseError, type HttpClient } from '../common/index.ts';

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
  /**
   * Bases (origin and path) of a folder this server publishes itself (`reprise start --images`):
   * items under them keep their ids when the address or port changes, and move instead of doubling.
   */
  publishedBases?: string[];
}

export const journalPath = (dataDir: string) => path.join(dataDir, 'harvest.db');

/**
 * The run's signal stopped it. What was under way was finished or rolled back, the run is recorded
 * as `interrupted` with this summary, and the lock is released: the next run continues.
 */
export class HarvestInterruptedError extends RepriseError {
  override name = 'HarvestInterruptedError';
  constructor(
    readonly summary: HarvestSummary,
    reason: unknown,
  ) {
    super((reason as Error)?.message ?? String(reason), { cause: reason });
  }
}

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
    let running: { runId: number; summary: HarvestSummary } | undefined;
    // Leaving at once (process.exit on a second signal): the work in flight is dropped, but the run
    // is recorded as interrupted and the lock removed on the way out, both synchronous.
    const onExit = () => {
      try {
        if (journal.db.inTransaction) journal.db.exec('ROLLBACK');
        if (running) {
          const summary = { ...running.summary, status: 'interrupted' as const, durationMs: Date.now() - started };
          journal.finishRun(running.runId, 'interrupted', { ...summary, error: 'stopped at once; the work in flight was dropped' });
        }
      } catch {
        // The next run marks a run left running as interrupted.
      }
      release?.();
    };
    process.once('exit', onExit);
    try {
      release = acquireLock(`${journalFile}.lock`);
      const runId = journal.startRun({ urls, since: opts.since?.toISOString(), dryRun: !!opts.dryRun, collection: opts.collection });
      const summary = emptySummary(runId);
      running = { runId, summary };
      emit({ type: 'run-start', runId, sources: urls, dryRun: !!opts.dryRun });
      try {
        // A dry run does all its writes inside a transaction it rolls back.
        if (opts.dryRun) journal.db.exec('BEGIN');
        // Images start while discovery goes on; a dry run fetches none.
        const pipeline = opts.dryRun ? undefined : new ImagePipeline({ config, journal, http, stage, cache: new ImageCache(path.join(dataDir, 'images')), summary, emit, signal: opts.signal });
        const onManifestSettled = pipeline && ((url: string) => pipeline.manifestSettled(url));
        const discovery = new Discovery({ config, journal, http, stage, runId, summary, emit, dryRun: !!opts.dryRun, since: opts.since, signal: opts.signal, onManifestSettled, publishedBases: opts.publishedBases });
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
          // Work over the whole index (the reprint comparison): part of the run, and stopped by its signal.
          await stage.finish?.({ signal: opts.signal, emit });
          summary.journal = journal.counts();
          summary.status = summary.failures.length ? 'completed-with-failures' : 'completed';
        }
      } catch (err) {
        if (journal.db.inTransaction) journal.db.exec('ROLLBACK');
        const interrupted = !!opts.signal?.aborted;
        summary.status = interrupted ? 'interrupted' : 'failed';
        summary.durationMs = Date.now() - started;
        if (interrupted) summary.journal = journal.counts();
        journal.finishRun(runId, summary.status, { ...summary, error: (err as Error)?.message ?? String(err) });
        if (!interrupted) throw err;
        emit({ type: 'run-end', summary });
        throw new HarvestInterruptedError(summary, err);
      }
      summary.durationMs = Date.now() - started;
      journal.finishRun(runId, summary.status, summary);
      emit({ type: 'run-end', summary });
      return summary;
    } finally {
      process.removeListener('exit', onExit);
      release?.();
      journal.close();
    }
  }
}
