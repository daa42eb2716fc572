import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { openReprintIndex } from '../../reprints/index.ts';
import { createInstitution } from '../support/institution/index.ts';
import type { Institution } from '../support/institution/types.ts';
import { openJournal, photographs, tempDataDir } from '../support/harvest-harness.ts';
import { addSyntheticEntries, requireLocalFeatures } from '../reprints/support.ts';

const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/reprise.js');

type Line = Record<string, unknown>;

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  lines: Line[];
  stderr: string;
  /** Milliseconds from the first signal to the exit. */
  stopMs: number;
}

/**
 * `reprise harvest` in a child process; `when` is asked with every JSON line (and `onStderr` with
 * what it writes there), and the child gets the signals they return, so that the signals land at a
 * known point of the run.
 */
function harvest(
  args: string[],
  env: Record<string, string>,
  when: (line: Line) => NodeJS.Signals[] = () => [],
  options: { onStderr?: (text: string) => NodeJS.Signals[] } = {},
): Promise<Run> {
  const child = spawn(process.execPath, [CLI, 'harvest', ...args, '--json'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Line[] = [];
  let stderr = '';
  let signalledAt: number | undefined;
  const send = (signals: NodeJS.Signals[]) => {
    for (const signal of signals) {
      signalledAt ??= Date.now();
      child.kill(signal);
    }
  };
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
    send(options.onStderr?.(c.toString()) ?? []);
  });
  createInterface({ input: child.stdout }).on('line', (text) => {
    const line = JSON.parse(text) as Line;
    lines.push(line);
    send(when(line));
  });
  return new Promise((resolve) =>
    child.once('exit', (code, signal) => {
      // The last lines may still be in the pipe.
      setTimeout(() => resolve({ code, signal, lines, stderr, stopMs: signalledAt ? Date.now() - signalledAt : NaN }), 100);
    }),
  );
}

const runsOf = (dataDir: string) => {
  const journal = openJournal(dataDir);
  try {
    return journal.lastRuns().map((r) => ({ status: r.status, summary: r.summary ? (JSON.parse(r.summary) as Line) : undefined }));
  } finally {
    journal.close();
  }
};

const countsOf = (dataDir: string) => {
  const journal = openJournal(dataDir);
  try {
    return journal.counts();
  } finally {
    journal.close();
  }
};

describe('reprise harvest stopped by a signal', function () {
  requireLocalFeatures(this);
  this.timeout(180_000);

  let inst: Institution;
  let total: number;
  before(async () => {
    inst = await createInstitution({ images: photographs('fsa-owi', 24), imagesPerManifest: 2, mode: 'static' });
    total = inst.manifests.reduce((n, m) => n + m.canvases.length, 0);
  });
  after(async () => inst?.close());

  const envFor = (dataDir: string) => ({
    REPRISE_DATA_DIR: dataDir,
    REPRISE_HARVEST__HTTP__ALLOW_PRIVATE: '127.0.0.1',
    // Slow enough that the signal lands in the middle of the image phase.
    REPRISE_HARVEST__HTTP__PER_HOST_RATE_PER_SECOND: '12',
    REPRISE_HARVEST__BATCH_SIZE: '2',
  });

  it('SIGTERM: finishes the work in flight, logs the summary, records the run interrupted, releases the lock, exits 143; the same command continues', async () => {
    const dataDir = tempDataDir('reprise-sigterm-');
    let indexed = 0;
    const first = await harvest([inst.rootCollectionUrl], envFor(dataDir), (line) => (line.type === 'image' && line.status === 'indexed' && ++indexed === 4 ? ['SIGTERM'] : []));

    assert.equal(first.code, 143, first.stderr);
    assert.equal(first.signal, null, 'exited by itself, not killed by the signal');
    assert.doesNotMatch(first.stderr, /\n\s+at |Uncaught|Error:/, 'no stack trace');
    assert.match(first.stderr, /reprise: harvest interrupted by SIGTERM; what was finished is kept, run the same command again to continue/);
    const summary = first.lines.at(-1)!;
    assert.equal(summary.type, 'summary');
    assert.equal(summary.status, 'interrupted');
    const reportedIndexed = first.lines.filter((l) => l.type === 'image' && l.status === 'indexed').length;
    assert.equal((summary.images as { indexed: number }).indexed, reportedIndexed);
    assert.ok(reportedIndexed >= 4 && reportedIndexed < total, `${reportedIndexed} of ${total} indexed before stopping`);

    assert.ok(!existsSync(path.join(dataDir, 'harvest.db.lock')), 'the lock is released');
    const [run] = runsOf(dataDir);
    assert.equal(run!.status, 'interrupted');
    assert.equal(run!.summary!.status, 'interrupted');
    assert.deepEqual(run!.summary!.journal, countsOf(dataDir), 'the recorded summary has the journal as it was left');
    assert.equal(countsOf(dataDir).indexed, reportedIndexed, 'what was reported indexed is committed, nothing more');

    const second = await harvest([inst.rootCollectionUrl], envFor(dataDir));
    assert.equal(second.code, 0, second.stderr);
    assert.equal((second.lines.at(-1)!.images as { indexed: number }).indexed, total - reportedIndexed, 'the second run does only the rest');
    assert.deepEqual(countsOf(dataDir), { pending: 0, fetched: 0, indexed: total, failed: 0 });
    assert.deepEqual(runsOf(dataDir).map((r) => r.status), ['completed', 'interrupted']);
  });

  it('a second SIGINT stops at once (exit 130), and still records the run interrupted and removes the lock', async () => {
    const dataDir = tempDataDir('reprise-sigint-');
    // Comparisons of seconds an image: the first SIGINT waits for the one in hand, the second does not.
    const index = openReprintIndex(dataDir);
    try {
      await addSyntheticEntries(index, 60, { keypoints: 2000 });
    } finally {
      index.close();
    }
    const small = inst.manifests[0]!.url;
    const env = { REPRISE_DATA_DIR: dataDir, REPRISE_HARVEST__HTTP__ALLOW_PRIVATE: '127.0.0.1' };
    const run = await harvest([small], env, (line) => (line.type === 'reprint-scan' && line.status === 'started' ? ['SIGINT'] : []), {
      // The second once the first is being handled (two signals sent together may arrive as one).
      onStderr: (text) => (/SIGINT: finishing the work in flight/.test(text) ? ['SIGINT'] : []),
    });

    assert.equal(run.code, 130, run.stderr);
    assert.match(run.stderr, /SIGINT again: stopping at once/);
    assert.doesNotMatch(run.stderr, /reprise: harvest interrupted/, 'it did not wait for the work in flight');
    assert.ok(!existsSync(path.join(dataDir, 'harvest.db.lock')), 'the lock is removed on the way out');
    const [last] = runsOf(dataDir);
    assert.equal(last!.status, 'interrupted', 'not left "running"');
    assert.match(String(last!.summary!.error), /stopped at once/);

    // The comparison thread died with the process: the index opens, consistent, and the next run goes on.
    const reopened = openReprintIndex(dataDir);
    const waiting = reopened.unscannedCount();
    reopened.close();
    assert.ok(waiting > 0, `${waiting} images still to compare`);
    const second = await harvest([small], env, (line) => (line.type === 'reprint-scan' && line.status === 'started' ? ['SIGTERM'] : []));
    assert.equal(second.code, 143, second.stderr);
    assert.equal(second.lines.find((l) => l.type === 'reprint-scan' && l.status === 'started')!.images, waiting);
  });

  it('SIGTERM during the end-of-run reprint comparison stops it after the image in hand; the next run compares the rest', async () => {
    const dataDir = tempDataDir('reprise-sigterm-scan-');
    // A collection of 2000 images whose last 60 were never compared: a comparison of tens of seconds at 2 cores.
    const index = openReprintIndex(dataDir);
    try {
      await addSyntheticEntries(index, 2000);
      for (let doc = 1; doc <= 1940; doc++) index.recordScan(doc, []);
    } finally {
      index.close();
    }
    const small = inst.manifests[0]!.url;
    const env = { REPRISE_DATA_DIR: dataDir, REPRISE_HARVEST__HTTP__ALLOW_PRIVATE: '127.0.0.1' };
    const first = await harvest([small], env, (line) => (line.type === 'reprint-scan' && line.status === 'started' ? ['SIGTERM'] : []));

    assert.equal(first.code, 143, first.stderr);
    assert.ok(first.stopMs < 3000, `stopped ${first.stopMs} ms after SIGTERM`);
    const started = first.lines.find((l) => l.type === 'reprint-scan' && l.status === 'started')!;
    assert.equal(started.images, 60 + 2, 'the 60 waiting and the 2 harvested');
    const stopped = first.lines.find((l) => l.type === 'reprint-scan' && l.status === 'stopped');
    assert.ok(stopped, 'the comparison says it stopped');
    assert.equal(first.lines.at(-1)!.status, 'interrupted');
    assert.ok(!existsSync(path.join(dataDir, 'harvest.db.lock')));
    assert.equal(runsOf(dataDir)[0]!.status, 'interrupted');

    let reopened = openReprintIndex(dataDir);
    const waiting = reopened.unscannedCount();
    reopened.close();
    assert.equal(waiting, 62 - (stopped.images as number), 'what was compared is recorded, the rest waits');
    assert.ok(waiting > 0);

    const second = await harvest([small], env);
    assert.equal(second.code, 0, second.stderr);
    const finished = second.lines.find((l) => l.type === 'reprint-scan' && l.status === 'finished');
    assert.equal(finished?.images, waiting, 'the next run compares exactly the rest');
    reopened = openReprintIndex(dataDir);
    try {
      assert.equal(reopened.unscannedCount(), 0);
    } finally {
      reopened.close();
    }
  });
});
