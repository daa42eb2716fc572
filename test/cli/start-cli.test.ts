import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { requireFixtures } from '../support/fixtures.ts';
import { photographs, tempDataDir } from '../support/harvest-harness.ts';
import { tinyModel } from '../support/tiny-model.ts';

const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/reprise.js');

interface Started {
  url: string;
  ready: Record<string, unknown>;
  lines: Array<Record<string, unknown>>;
  stop(): Promise<number | null>;
}

/** `reprise start` in a child process, until its harvest has finished (the "ready" line). */
async function start(args: string[], env: Record<string, string>): Promise<Started> {
  const child = spawn(process.execPath, [CLI, 'start', '--port', '0', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const lines: Array<Record<string, unknown>> = [];
  let url = '';
  const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const event = JSON.parse(line) as Record<string, unknown>;
      lines.push(event);
      if (event.type === 'listening') url = String(event.url);
      if (event.type === 'ready') resolve(event);
    });
    void exited.then((code) => reject(new Error(`start exited (${code}) before its harvest finished: ${stderr}`)));
  });
  return {
    url,
    ready,
    lines,
    stop() {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

function photoFolder(count: number): string {
  const dir = path.join(tempDataDir('reprise-start-photos-'), 'photos');
  mkdirSync(dir, { recursive: true });
  for (const file of photographs('fsa-owi', count)) copyFileSync(file, path.join(dir, path.basename(file)));
  return dir;
}

describe('reprise start (command line)', function () {
  requireFixtures(this);
  this.timeout(120_000);

  it('publishes a folder, harvests it with the model into the index and serves search and the demo', async () => {
    const photos = photoFolder(4);
    const dataDir = tempDataDir('reprise-start-');
    const s = await start(['--images', photos, '-d', dataDir], { REPRISE_MODELS__PATH: await tinyModel('huggingface'), REPRISE_MODELS__THREADS: '1' });
    try {
      assert.equal(s.ready.status, 'completed');
      assert.equal((s.ready.images as { indexed: number }).indexed, 4);
      const stats = (await (await fetch(`${s.url}/api/stats`)).json()) as { items: number };
      assert.equal(stats.items, 4);
      const search = (await (await fetch(`${s.url}/api/search?q=${encodeURIComponent('a farmer in a field')}&limit=2`)).json()) as { hits: Array<{ thumbnail?: string; canvas: { id: string } }> };
      assert.equal(search.hits.length, 2);
      // The hits point at this server's own Image API, so the demo can show them.
      assert.ok(search.hits[0]!.thumbnail?.startsWith(s.url), search.hits[0]!.thumbnail);
      const thumb = await fetch(search.hits[0]!.thumbnail!);
      assert.equal(thumb.status, 200);
      assert.match(thumb.headers.get('content-type') ?? '', /^image\//);
      const home = await fetch(`${s.url}/`, { headers: { accept: 'text/html' }, redirect: 'manual' });
      assert.equal(home.status, 303);
      assert.match(home.headers.get('location') ?? '', /\/demo\/$/);
    } finally {
      assert.equal(await s.stop(), 0);
    }
  });

  it('starts without a model (--no-pull): reprints work, text search says how to get a model', async () => {
    const photos = photoFolder(2);
    const dataDir = tempDataDir('reprise-start-nomodel-');
    const s = await start(['--images', photos, '-d', dataDir, '--no-pull'], {});
    try {
      assert.ok(s.lines.some((l) => l.type === 'no-model'), 'a no-model warning is logged');
      assert.equal(s.ready.status, 'completed');
      const search = await fetch(`${s.url}/api/search?q=horse`);
      assert.equal(search.status, 503);
      const problem = (await search.json()) as { detail: string };
      assert.match(problem.detail, /reprise models pull/);
      const health = (await (await fetch(`${s.url}/api/health`)).json()) as { model: { loaded: boolean } };
      assert.equal(health.model.loaded, false);
      // Reprint detection needs no model: a photograph of the folder, uploaded, finds its canvas.
      const form = new FormData();
      const photo = readdirSync(photos)[0]!;
      form.append('image', new Blob([readFileSync(path.join(photos, photo))], { type: 'image/jpeg' }), photo);
      const reprints = await fetch(`${s.url}/api/reprints`, { method: 'POST', body: form });
      assert.equal(reprints.status, 200, await reprints.clone().text());
      const found = (await reprints.json()) as { hits: Array<{ canvas: { label?: string }; inliers: number }> };
      assert.ok(found.hits.length >= 1, 'the uploaded photograph is found');
      assert.ok(found.hits[0]!.inliers >= 10);
    } finally {
      assert.equal(await s.stop(), 0);
    }
  });

  it('tries to pull the default model on first run and, when the hub cannot be reached, starts without one', async () => {
    const photos = photoFolder(1);
    const dataDir = tempDataDir('reprise-start-offline-');
    // A closed loopback port stands in for a machine without internet.
    const s = await start(['--images', photos, '-d', dataDir], { REPRISE_MODELS__HUB_URL: 'http://127.0.0.1:9' });
    try {
      assert.ok(s.lines.some((l) => l.type === 'model-pull'), 'a pull is attempted');
      const warning = s.lines.find((l) => l.type === 'no-model');
      assert.ok(warning, 'the failed pull is reported');
      assert.match(String(warning.msg), /could not pull clip-vit-base-patch32; starting without a model/);
      assert.equal(s.ready.status, 'completed');
      assert.equal((await fetch(`${s.url}/api/search?q=horse`)).status, 503);
    } finally {
      assert.equal(await s.stop(), 0);
    }
  });

  it('refuses a --images that is not a folder, and URLs given with --images', () => {
    const notFolder = spawnSync(process.execPath, [CLI, 'start', '--images', '/nonexistent/photos', '--no-pull'], { encoding: 'utf8' });
    assert.equal(notFolder.status, 1);
    assert.match(notFolder.stderr, /--images \/nonexistent\/photos: not a folder/);
    const both = spawnSync(process.execPath, [CLI, 'start', 'https://example.org/c.json', '--images', '/tmp', '--no-pull'], { encoding: 'utf8' });
    assert.equal(both.status, 1);
    assert.match(both.stderr, /either URLs to harvest or --images/);
  });
});
