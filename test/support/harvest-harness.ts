import { mkdtempSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { harvestSchema, type HarvestConfig } from '../../config/schema.ts';
import { createHttpClient } from '../../common/index.ts';
import { HarvestService, journalPath, type HarvestRunOptions } from '../../harvester/harvest-service.ts';
import { RecordingStage } from '../../harvester/recording-stage.ts';
import type { IndexStage } from '../../harvester/stage.ts';
import { Journal } from '../../harvester/journal/journal.ts';
import type { HarvestEvent, HarvestSummary } from '../../harvester/events.ts';
import { fixture } from './fixtures.ts';

/** Photographs from the shared fixtures, in a stable order. */
export function photographs(folder: string, count: number): string[] {
  const dir = fixture('images', folder);
  return readdirSync(dir)
    .filter((f) => /\.(jpe?g|png)$/i.test(f))
    .sort()
    .slice(0, count)
    .map((f) => path.join(dir, f));
}

export function tempDataDir(prefix = 'reprise-harvest-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Test configuration: loopback allowed explicitly, short timeouts and backoff so faults resolve quickly. */
export function testHarvestConfig(overrides: Partial<HarvestConfig['http']> = {}, top: Partial<HarvestConfig> = {}): HarvestConfig {
  return harvestSchema.parse({
    ...top,
    http: {
      allowPrivate: ['127.0.0.1'],
      connectTimeoutMs: 2000,
      totalTimeoutMs: 3000,
      retries: 4,
      retryBaseDelayMs: 50,
      retryMaxDelayMs: 5000,
      perHostRatePerSecond: 1000,
      perHostConcurrency: 8,
      ...overrides,
    },
  });
}

export interface HarnessRun {
  summary: HarvestSummary;
  events: HarvestEvent[];
}

/** One harvest run in-process, the way the CLI wires it, with a recording stage that persists across runs. */
export async function harvestOnce<S extends IndexStage = RecordingStage>(
  dataDir: string,
  urls: string[],
  opts: HarvestRunOptions & { config?: HarvestConfig; stage?: S; onEvent?: (event: HarvestEvent) => void } = {},
): Promise<HarnessRun & { stage: S }> {
  const config = opts.config ?? testHarvestConfig();
  const http = createHttpClient(config.http);
  const stage = opts.stage ?? (new RecordingStage(path.join(dataDir, 'recorded-items.jsonl')) as unknown as S);
  const events: HarvestEvent[] = [];
  try {
    const summary = await new HarvestService({ config, dataDir, http, stage, onEvent: (e) => {
      events.push(e);
      opts.onEvent?.(e);
    } }).run(urls, opts);
    return { summary, events, stage };
  } finally {
    await http.close();
  }
}

export function openJournal(dataDir: string): Journal {
  return new Journal(journalPath(dataDir));
}
