import type { RepriseConfig } from '../config/index.ts';
import type { Encoders } from '../models/index.ts';
import type { VectorStore } from '../store/index.ts';
import type { HarvestSummary } from '../harvester/index.ts';
import type { ReprintService } from '../reprints/index.ts';

/** Starts and reports harvests for the admin routes; `reprise serve` provides one over the journal. */
export interface HarvestController {
  /**
   * Starts a harvest of these URLs in the background; refuses (returns a reason) when one is running.
   * A promise where the harvest runs in another process (`reprise serve --workers`: the writer's).
   */
  start(urls: string[]): HarvestStart | Promise<HarvestStart>;
  status(): HarvestStatus | Promise<HarvestStatus>;
}

export interface HarvestStart {
  runId?: number;
  started: boolean;
  reason?: string;
}

export interface HarvestStatus {
  running: boolean;
  current?: { urls: string[]; startedAt: string };
  last?: HarvestSummary;
  journal?: Record<string, number>;
}

/** What a search router works on. Two routers over two stores can live in one app: nothing is global. */
export interface SearchDeps {
  store: VectorStore;
  /** Absent when no model is available: text search then answers 503 saying how to get one. */
  encoders?: Encoders;
  config: RepriseConfig;
  harvest?: HarvestController;
  /**
   * The reprint index the reprint routes answer from (openReprintService(config.dataDir)); its
   * opener closes it, as the store's. Absent: those routes answer 503 saying why.
   */
  reprints?: ReprintService;
}
