import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInstitution } from '../support/institution/index.ts';
import type { Institution } from '../support/institution/types.ts';
import { requireFixtures } from '../support/fixtures.ts';
import { openJournal, photographs, tempDataDir } from '../support/harvest-harness.ts';
import { storeSchema } from '../../config/schema.ts';
import { openStore } from '../../store/index.ts';

const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/reprise.js');

function runCli(args: string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

describe('kill -9 in the middle of a harvest, then the same command again', function () {
  requireFixtures(this);
  this.timeout(180_000);

  let inst: Institution;
  after(async () => inst?.close());

  it('continues: nothing finished is fetched again, nothing is lost or duplicated', async () => {
    inst = await createInstitution({ images: photographs('fsa-owi', 30), imagesPerManifest: 2, mode: 'static' });
    const total = inst.manifests.reduce((n, m) => n + m.canvases.length, 0);
    const dataDir = tempDataDir('reprise-kill-');
    const env = {
      REPRISE_DATA_DIR: dataDir,
      REPRISE_HARVEST__HTTP__ALLOW_PRIVATE: '127.0.0.1',
      // Slow enough that the kill lands in the middle of the image phase.
      REPRISE_HARVEST__HTTP__PER_HOST_RATE_PER_SECOND: '12',
      REPRISE_HARVEST__BATCH_SIZE: '2',
    };
    const args = ['harvest', inst.rootCollectionUrl, '--json'];

    const first = runCli(args, env);
    const exited = exitOf(first);
    let indexedSeen = 0;
    let buffer = '';
    await new Promise<void>((resolve, reject) => {
      first.stdout!.on('data', (chunk: Buffer) => {
        buffer += chunk.toString();
        let nl;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, nl);
          buffer = buffer.slice(nl + 1);
          if (/"status":"indexed"/.test(line) && ++indexedSeen === 8) {
            first.kill('SIGKILL');
            resolve();
          }
        }
      });
      exited.then(({ code }) => reject(new Error(`the first run ended by itself (exit ${code}) before it could be killed`)));
    });
    const { signal } = await exited;
    assert.equal(signal, 'SIGKILL');

    let journal = openJournal(dataDir);
    const indexedBefore = journal.db.prepare(`SELECT image_url FROM canvases WHERE status = 'indexed'`).pluck().all() as string[];
    journal.close();
    assert.ok(indexedBefore.length >= 8 && indexedBefore.length < total, `killed mid-way: ${indexedBefore.length} of ${total} indexed`);
    assert.ok(existsSync(path.join(dataDir, 'harvest.db.lock')), 'the killed run left its lock behind');

    inst.resetStats();
    const second = runCli(args, env);
    let stderr = '';
    second.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    second.stdout!.resume();
    const { code } = await exitOf(second);
    assert.equal(code, 0, stderr);

    journal = openJournal(dataDir);
    assert.deepEqual(journal.counts(), { pending: 0, fetched: 0, indexed: total, failed: 0 });
    const rows = journal.db.prepare(`SELECT COUNT(*) FROM canvases`).pluck().get();
    assert.equal(rows, total, 'no duplicate canvases in the journal');
    assert.deepEqual(journal.lastRuns().map((r) => r.status), ['completed', 'interrupted']);
    journal.close();

    const refetched = indexedBefore.filter((url) => (inst.stats.byPath[new URL(url).pathname] ?? 0) > 0);
    assert.deepEqual(refetched, [], 'images indexed before the kill were not fetched again');
    assert.ok(inst.stats.imageRequests <= total - indexedBefore.length, 'at most the unfinished images were downloaded');

    // No model here: every canvas is in the index once, without a vector (upserts are idempotent).
    const store = await openStore(storeSchema.parse({}), dataDir);
    try {
      assert.deepEqual(await store.stats(), { items: total, vectors: 0, itemsWithoutVectors: total });
    } finally {
      await store.close();
    }
  });
});
