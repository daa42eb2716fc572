import type { RepriseConfig } from '../config/schema.ts';
import type { Encoders } from '../models/index.ts';
import type { VectorStore } from '../store/types.ts';
import type { HarvestSummary } from '../harvester/events.ts';

/** Starts and reports harvests for the admin routes; `reprise serve` provides one over the journal. */
export interface HarvestController {
  /** Starts a harvest of these URLs in the background; refuses (returns a reason) when one is running. */
  start(urls: string[]): { runId?: number; started: boolean; reason?: string };
  status(): { running: boolean; current?: { urls: string[]; startedAt: string }; last?: HarvestSummary; journal?: Record<string, number> };
}

/** What a search router works on. Two routers over two stores can live in one app: nothing is global. */
export interface SearchDeps {
  store: VectorStore;
  /** Absent when no model is available: text search then answers 503 saying how to get one. */
  encoders?: Encoders;
  config: RepriseConfig;
  harvest?: HarvestController;
}
