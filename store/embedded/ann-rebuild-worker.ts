/**
 * The worker thread of a background rebuild of the HNSW index (embedded-store.ts): reads every
 * vector from one read snapshot of SQLite, builds the index on the threads it is given, saves it
 * with the snapshot's generation, and says which generation that is. The store then loads the
 * file and replays the change log from there.
 */
import { openReadOnly } from '../../common/index.ts';
import { parentPort, workerData } from 'node:worker_threads';
import { AnnIndex, type AnnSettings } from './ann-index.ts';
import { fromBlob } from './vectors.ts';

export interface AnnRebuildJob {
  dbFile: string;
  annFile: string;
  settings: AnnSettings;
  storeId: string;
  pageSize: number;
  threads: number;
}

export interface AnnRebuildResult {
  generation: number;
  count: number;
}

if (parentPort && workerData) {
  const job = workerData as AnnRebuildJob;
  // Reads only: one snapshot of the vectors, waiting up to 10 s for the server's write transactions.
  const db = openReadOnly(job.dbFile, 10_000);
  try {
    const ann = new AnnIndex(job.settings);
    const page = db.prepare(`SELECT key, vector FROM vectors WHERE key > ? ORDER BY key LIMIT ?`).raw();
    // One read transaction: the vectors and the generation of one snapshot, whatever the server commits meanwhile.
    const generation = db.transaction(() => {
      const snapshot = Number(db.prepare(`SELECT value FROM meta WHERE key = 'generation'`).pluck().get());
      let after = -1;
      for (;;) {
        const rows = page.all(after, job.pageSize) as Array<[number, Buffer]>;
        if (rows.length === 0) return snapshot;
        ann.add(
          rows.map((r) => r[0]),
          rows.map((r) => Float32Array.from(fromBlob(r[1]))),
          job.threads,
        );
        after = rows[rows.length - 1]![0];
      }
    })();
    ann.save(job.annFile, { storeId: job.storeId, generation });
    const result: AnnRebuildResult = { generation, count: ann.size };
    parentPort.postMessage(result);
  } finally {
    db.close();
  }
}
