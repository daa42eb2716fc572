import { mkdirSync } from 'node:fs';
import { createHttpClient, type HttpClient } from '../common/index.ts';
import type { RepriseConfig } from '../config/index.ts';
import {
  acquireLock,
  createStage,
  EmbeddingStage,
  emptySummary,
  HarvestInterruptedError,
  HarvestService,
  Journal,
  JournalLockedError,
  journalPath,
  MetadataStage,
  withFeatureStage,
  type HarvestEvent,
  type HarvestSummary,
  type IndexStage,
} from '../harvester/index.ts';
import type { Encoders } from '../models/index.ts';
import type { VectorStore } from '../store/index.ts';
import type { HarvestController, HarvestStatus } from './types.ts';

/** Builds the indexing stage of one run, and closes what it opened once the run is over. */
export type StageFactory = (config: RepriseConfig, warn: (message: string) => void) => Promise<{ stage: IndexStage; close: () => Promise<void> }>;

/** What the controller logs to (a pino logger fits). */
export interface HarvestLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface JournalHarvestControllerOptions {
  config: RepriseConfig;
  /**
   * The stage of each run. Default: createStage(), what `reprise harvest` builds (encoders and the
   * configured store, or items stored without vectors when there is no model). A server that already holds the
   * store and encoders passes sharedStage() instead, so that what a harvest indexes is searchable
   * at once and the model is not loaded twice.
   */
  createStage?: StageFactory;
  /** Default: createHttpClient(config.harvest.http), one per run. */
  createHttpClient?: () => HttpClient;
  logger?: HarvestLogger;
}

/**
 * An EmbeddingStage over a store and encoders that stay open (without encoders, a MetadataStage:
 * items stored without vectors), with reprint features beside: the stage createStage() builds,
 * minus opening them again.
 */
export function sharedStage(encoders: Encoders | undefined, store: VectorStore): StageFactory {
  return async (config, warn) =>
    withFeatureStage({ stage: encoders ? new EmbeddingStage(encoders, store, config.facets) : new MetadataStage(store, config.facets), close: async () => {} }, config.dataDir, warn, {
      maxRegionsPerCanvas: config.harvest.regions.maxPerCanvas,
    });
}

interface CurrentRun {
  urls: string[];
  startedAt: string;
  runId?: number;
  abort: AbortController;
  done: Promise<void>;
  /** Told every event of this run, besides the log (`reprise start` draws its progress bar from them). */
  onEvent?: (event: HarvestEvent) => void;
  /** HarvestRunOptions.publishedBases: the server's own published folder. */
  publishedBases?: string[];
}

const silent: HarvestLogger = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * The HarvestController of `reprise serve`: one harvest at a time, run in the background by
 * HarvestService on the configured journal, exactly as `reprise harvest` would run it. A harvest
 * started from the CLI on the same journal holds its lock, and start() refuses while it does.
 */
export class JournalHarvestController implements HarvestController {
  private current?: CurrentRun;
  private last?: HarvestSummary;
  private readonly config: RepriseConfig;
  private readonly stageFactory: StageFactory;
  private readonly httpFactory: () => HttpClient;
  private readonly log: HarvestLogger;
  private closed = false;

  constructor(options: JournalHarvestControllerOptions) {
    this.config = options.config;
    this.stageFactory = options.createStage ?? createStage;
    this.httpFactory = options.createHttpClient ?? (() => createHttpClient(options.config.harvest.http));
    this.log = options.logger ?? silent;
  }

  start(urls: string[], options: { onEvent?: (event: HarvestEvent) => void; publishedBases?: string[] } = {}): { runId?: number; started: boolean; reason?: string } {
    if (this.closed) return { started: false, reason: 'the server is shutting down' };
    if (this.current) {
      return { started: false, reason: `a harvest is already running (started ${this.current.startedAt}, ${this.current.urls.length} URL(s)); wait for it to finish` };
    }
    if (!urls.length) return { started: false, reason: 'nothing to harvest: no URLs given' };
    const held = this.lockHolder();
    if (held) return { started: false, reason: held };

    const abort = new AbortController();
    const run: CurrentRun = { urls: [...urls], startedAt: new Date().toISOString(), abort, done: Promise.resolve(), onEvent: options.onEvent, publishedBases: options.publishedBases };
    this.current = run;
    run.done = this.run(run).finally(() => {
      if (this.current === run) this.current = undefined;
    });
    return { started: true };
  }

  status(): HarvestStatus {
    const out: HarvestStatus = { running: !!this.current };
    if (this.current) out.current = { urls: this.current.urls, startedAt: this.current.startedAt };
    if (this.last) out.last = this.last;
    const journal = this.journalCounts();
    if (journal) out.journal = journal;
    return out;
  }

  /** Resolves once no harvest is running. */
  async idle(): Promise<void> {
    while (this.current) await this.current.done;
  }

  /** Stops a running harvest after the work in flight (it resumes on the next start) and refuses new ones. */
  async close(): Promise<void> {
    this.closed = true;
    this.current?.abort.abort(new Error('the server is shutting down'));
    await this.idle();
  }

  private async run(run: CurrentRun): Promise<void> {
    const { config } = this;
    const started = Date.now();
    const signal = run.abort.signal;
    let http: HttpClient | undefined;
    let stage: Awaited<ReturnType<StageFactory>> | undefined;
    this.log.info({ type: 'harvest-start', urls: run.urls }, 'harvest started');
    try {
      http = this.httpFactory();
      stage = await this.stageFactory(config, (message) => this.log.warn({ type: 'warning' }, message));
      const service = new HarvestService({
        config: config.harvest,
        dataDir: config.dataDir,
        http,
        stage: stage.stage,
        onEvent: (event) => {
          this.onEvent(run, event);
          run.onEvent?.(event);
        },
      });
      this.last = await service.run(run.urls, { signal, publishedBases: run.publishedBases });
      this.log.info({ type: 'summary', ...this.last }, 'harvest finished');
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      if (err instanceof HarvestInterruptedError) {
        // Stopped (the server closing): the run recorded what it finished; its summary says so.
        this.last = err.summary;
        this.log.warn({ type: 'summary', ...err.summary, reason }, 'harvest interrupted; what was finished is kept and the next harvest continues');
        return;
      }
      const summary = emptySummary(run.runId ?? 0);
      summary.status = signal.aborted ? 'interrupted' : 'failed';
      summary.durationMs = Date.now() - started;
      summary.failures = [{ url: run.urls.join(' '), reason }];
      const journal = this.journalCounts();
      if (journal) summary.journal = { ...summary.journal, ...journal };
      this.last = summary;
      if (signal.aborted) this.log.warn({ type: 'harvest-interrupted', reason }, 'harvest interrupted; what was finished is kept and the next harvest continues');
      else this.log.error({ type: 'harvest-failed', reason, err }, 'harvest failed');
    } finally {
      await stage?.close().catch((err: unknown) => this.log.warn({ err }, 'closing the harvest stage failed'));
      await http?.close().catch(() => {});
    }
  }

  private onEvent(run: CurrentRun, event: HarvestEvent): void {
    switch (event.type) {
      case 'run-start':
        run.runId = event.runId;
        this.log.debug(event, 'run-start');
        break;
      case 'run-end':
        break; // logged with the summary
      case 'warning':
        this.log.warn(event, event.message);
        break;
      case 'image':
      case 'document':
        if (event.status === 'failed') this.log.warn(event, `${event.type} failed`);
        else this.log.debug(event, `${event.type} ${event.status}`);
        break;
      default:
        this.log.debug(event, event.type);
    }
  }

  /** Why a harvest cannot start now when another process (a `reprise harvest`) holds the journal's lock. */
  private lockHolder(): string | undefined {
    const file = journalPath(this.config.dataDir);
    try {
      mkdirSync(this.config.dataDir, { recursive: true });
      acquireLock(`${file}.lock`)();
      return undefined;
    } catch (err) {
      if (err instanceof JournalLockedError) return err.message;
      return undefined; // anything else surfaces in the run itself, with its reason
    }
  }

  /**
   * Canvases per status in the journal (as `reprise harvest-status` shows them). Read on a read-only
   * connection: under WAL it never waits for the harvest writing beside it, so a status request
   * cannot stall the server.
   */
  private journalCounts(): Record<string, number> | undefined {
    return Journal.readCounts(journalPath(this.config.dataDir));
  }
}
