import { Meilisearch } from 'meilisearch';

/** A real Meilisearch named by MEILI_URL (and MEILI_MASTER_KEY), for the tests that also run against one. */
export interface LiveTarget {
  url: string;
  apiKey?: string;
  client: Meilisearch;
  /** Deletes the test indexes, waiting for each deletion so that a rerun starts clean. */
  dropIndexes(uids: string[]): Promise<void>;
}

export function liveTarget(env: NodeJS.ProcessEnv = process.env): LiveTarget | undefined {
  const url = env.MEILI_URL;
  if (!url) return undefined;
  const apiKey = env.MEILI_MASTER_KEY || undefined;
  const client = new Meilisearch({ host: url, ...(apiKey ? { apiKey } : {}) });
  return {
    url,
    ...(apiKey ? { apiKey } : {}),
    client,
    async dropIndexes(uids) {
      for (const uid of uids) {
        await client.deleteIndex(uid).waitTask({ timeout: 60_000 }).catch(() => undefined);
      }
    },
  };
}
