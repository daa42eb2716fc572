import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { openReprintIndex } from '../../reprints/index.ts';
import { createInstitution } from '../support/institution/index.ts';
import type { Institution } from '../support/institution/types.ts';
import { openJournal, photographs, tempDataDir } from '../support/harvest-harness.ts';
import { tinyModel } from '../support/tiny-model.ts';
import { addSyntheticEntries, requireLocalFeatures } from '../reprints/support.ts';

const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/reprise.js');
const TOKEN = 'a-long-admin-token-0123456789abcdef';
const auth = { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' };

type Line = Record<string, unknown>;

interface Server {
  child: ChildProcess;
  api: string;
  lines: Line[];
  stderr: () => string;
  exited: Promise<number | null>;
  /** Resolves with the first log line that `match` accepts (those already logged included). */
  waitFor(match: (line: Line) => boolean): Promise<Line>;
}

/** `reprise serve` in a child process, with the admin routes and harvest events logged (debug). */
async function serve(env: Record<string, string>): Promise<Server> {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0'], {
    env: { ...process.env, REPRISE_API__ADMIN_TOKEN: TOKEN, REPRISE_LOG__LEVEL: 'debug', REPRISE_MODELS__THREADS: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const lines: Line[] = [];
  const waiters: Array<{ match: (line: Line) => boolean; resolve: (line: Line) => void }> = [];
  createInterface({ input: child.stdout! }).on('line', (text) => {
    const line = JSON.parse(text) as Line;
    lines.push(line);
    for (const w of [...waiters]) if (w.match(line)) waiters.splice(waiters.indexOf(w), 1) && w.resolve(line);
  });
  const waitFor = (match: (line: Line) => boolean) =>
    new Promise<Line>((resolve, reject) => {
      const seen = lines.find(match);
      if (seen) return resolve(seen);
      waiters.push({ match, resolve });
      void exited.then((code) => reject(new Error(`serve exited (${code}): ${stderr}`)));
    });
  const listening = await waitFor((l) => l.type === 'listening');
  return { child, api: String(listening.api), lines, stderr: () => stderr, exited, waitFor };
}

/** GET /health one after another until `until` resolves; the slowest answer, in milliseconds. */
async function slowestHealth(api: string, until: Promise<unknown>): Promise<{ slowestMs: number; requests: number }> {
  let done = false;
  void until.finally(() => (done = true));
  let slowestMs = 0;
  let requests = 0;
  while (!done) {
    const started = performance.now();
    const res = await fetch(`${api}/health`);
    await res.arrayBuffer();
    slowestMs = Math.max(slowestMs, performance.now() - started);
    requests++;
    await new Promise((r) => setTimeout(r, 20));
  }
  return { slowestMs, requests };
}

async function harvestDone(api: string): Promise<Line> {
  for (;;) {
    const status = (await (await fetch(`${api}/admin/harvests`, { headers: auth })).json()) as { running: boolean; last?: Line };
    if (!status.running && status.last) return status.last;
    await new Promise((r) => setTimeout(r, 200));
  }
}

const unscanned = (dataDir: string): number => {
  const index = openReprintIndex(dataDir);
  try {
    return index.unscannedCount();
  } finally {
    index.close();
  }
};

describe('reprise serve: a harvest through the admin routes', function () {
  requireLocalFeatures(this);
  this.timeout(240_000);

  let inst: Institution;
  let dataDir: string;
  let env: Record<string, string>;
  before(async () => {
    inst = await createInstitution({ images: photographs('fsa-owi', 2), imagesPerManifest: 2, manifestCount: 1, mode: 'static' });
    dataDir = tempDataDir('reprise-serve-harvest-');
    env = { REPRISE_DATA_DIR: dataDir, REPRISE_MODELS__PATH: await tinyModel(), REPRISE_HARVEST__HTTP__ALLOW_PRIVATE: '127.0.0.1' };
    // A collection of 3000 images, 40 of them never compared with it: the end-of-run comparison
    // takes seconds, which on the server's event loop were seconds without an answer.
    const index = openReprintIndex(dataDir);
    try {
      await addSyntheticEntries(index, 3000);
      for (let doc = 41; doc <= 3000; doc++) index.recordScan(doc, []);
    } finally {
      index.close();
    }
  });
  after(async () => inst?.close());

  it('keeps answering /health within 200 ms through the end-of-run reprint comparison', async () => {
    const server = await serve(env);
    try {
      const started = await fetch(`${server.api}/admin/harvests`, { method: 'POST', headers: auth, body: JSON.stringify({ urls: [inst.manifests[0]!.url] }) });
      assert.equal(started.status, 202, await started.text());
      const done = harvestDone(server.api);
      const health = await slowestHealth(server.api, done);
      const last = await done;

      assert.equal(last.status, 'completed', JSON.stringify(last.failures));
      const scan = await server.waitFor((l) => l.type === 'reprint-scan' && l.status === 'finished');
      assert.equal(scan.images, 40 + 2, 'the 40 waiting and the 2 harvested were compared');
      assert.ok((scan.durationMs as number) > 1000, `the comparison took ${scan.durationMs} ms, long enough to matter`);
      assert.ok(health.requests > 20, `${health.requests} health checks`);
      assert.ok(health.slowestMs < 200, `/health took ${health.slowestMs.toFixed(0)} ms at worst`);
      assert.equal(unscanned(dataDir), 0);
    } finally {
      server.child.kill('SIGTERM');
      assert.equal(await server.exited, 0, server.stderr());
    }
  });

  it('SIGTERM during that comparison stops it at once: the run is recorded interrupted with its summary, the lock released, and the next harvest compares the rest', async () => {
    const index = openReprintIndex(dataDir);
    try {
      await addSyntheticEntries(index, 60, { idPrefix: 'added', seed: 7 });
    } finally {
      index.close();
    }
    const server = await serve(env);
    const started = await fetch(`${server.api}/admin/harvests`, { method: 'POST', headers: auth, body: JSON.stringify({ urls: [inst.manifests[0]!.url] }) });
    assert.equal(started.status, 202);
    await server.waitFor((l) => l.type === 'reprint-scan' && l.status === 'started');
    const signalled = Date.now();
    server.child.kill('SIGTERM');
    assert.equal(await server.exited, 0, server.stderr());
    const stopMs = Date.now() - signalled;
    assert.ok(stopMs < 3000, `stopped ${stopMs} ms after SIGTERM`);
    assert.doesNotMatch(server.stderr(), /\n\s+at |Error:/, 'no crash');
    const summary = server.lines.find((l) => l.type === 'summary');
    assert.equal(summary?.status, 'interrupted', 'the summary is logged');
    assert.ok(!existsSync(path.join(dataDir, 'harvest.db.lock')), 'the lock is released');
    const journal = openJournal(dataDir);
    try {
      const [run] = journal.lastRuns();
      assert.equal(run!.status, 'interrupted', 'not left "running"');
      assert.equal((JSON.parse(run!.summary!) as Line).status, 'interrupted', 'with its summary');
    } finally {
      journal.close();
    }
    const waiting = unscanned(dataDir);
    assert.ok(waiting > 0 && waiting <= 60, `${waiting} of 60 still to compare`);

    // The next harvest (from the command line, on the same data) compares exactly the rest.
    const next = spawn(process.execPath, [CLI, 'harvest', inst.manifests[0]!.url, '--json'], { env: { ...process.env, ...env, REPRISE_MODELS__THREADS: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    next.stdout.on('data', (c: Buffer) => (out += c.toString()));
    next.stderr.on('data', (c: Buffer) => (err += c.toString()));
    assert.equal(await new Promise((resolve) => next.once('exit', resolve)), 0, err);
    const finished = out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Line).find((l) => l.type === 'reprint-scan' && l.status === 'finished');
    assert.equal(finished?.images, waiting);
    assert.equal(unscanned(dataDir), 0);
  });
});
