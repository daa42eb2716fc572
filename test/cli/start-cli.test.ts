import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { requireFixtures } from '../support/fixtures.ts';
import { openJournal, photographs, tempDataDir } from '../support/harvest-harness.ts';
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

/** A port free right now (the kernel's choice, released at once). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** The journal's canvases after a run: id, manifest URL and what the record points viewers at. */
function journalItems(dataDir: string): Array<{ id: string; manifestUrl: string; urls: string[] }> {
  const journal = openJournal(dataDir);
  try {
    const rows = journal.db.prepare(`SELECT item_id, manifest_url, record FROM canvases ORDER BY item_id`).all() as Array<{ item_id: string; manifest_url: string; record: string }>;
    return rows.map((r) => {
      const record = JSON.parse(r.record) as { manifestUrl: string; canvasId: string; imageUrl: string; image: { url: string; service?: { id: string } } };
      return { id: r.item_id, manifestUrl: r.manifest_url, urls: [record.manifestUrl, record.canvasId, record.imageUrl, record.image.url, record.image.service?.id ?? ''] };
    });
  } finally {
    journal.close();
  }
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

  it('a restart on another port keeps the published folder\'s items: same ids, updated URLs, nothing indexed again', async () => {
    const photos = photoFolder(4);
    const dataDir = tempDataDir('reprise-start-port-');
    const env = { REPRISE_MODELS__PATH: await tinyModel('huggingface'), REPRISE_MODELS__THREADS: '1' };
    const [firstPort, secondPort] = [await freePort(), await freePort()];
    const first = await start(['--images', photos, '-d', dataDir, '--port', String(firstPort)], env);
    assert.equal(await first.stop(), 0);
    assert.equal((first.ready.images as { indexed: number }).indexed, 4);
    const before = journalItems(dataDir);
    assert.equal(before.length, 4);

    const second = await start(['--images', photos, '-d', dataDir, '--port', String(secondPort)], env);
    try {
      assert.notEqual(second.url, first.url);
      assert.equal(second.ready.status, 'completed');
      const images = second.ready.images as { indexed: number; downloaded: number };
      assert.equal(images.indexed, 0, 'nothing embedded again');
      assert.equal(images.downloaded, 0, 'nothing downloaded again');
      // Four items, not eight: the same ids, now pointing at the new address.
      const stats = (await (await fetch(`${second.url}/api/stats`)).json()) as { items: number };
      assert.equal(stats.items, 4);
      const after = journalItems(dataDir);
      assert.deepEqual(after.map((i) => i.id), before.map((i) => i.id));
      for (const item of after) {
        assert.ok(item.manifestUrl.startsWith(`${second.url}/`), item.manifestUrl);
        for (const url of item.urls) assert.ok(url.startsWith(`${second.url}/`), `${url} points at the running server`);
      }
      // What the index serves viewers points there too.
      const search = (await (await fetch(`${second.url}/api/search?q=${encodeURIComponent('a farmer')}&limit=4`)).json()) as { hits: Array<{ thumbnail?: string; manifest?: { id: string } }> };
      assert.equal(search.hits.length, 4);
      for (const hit of search.hits) {
        assert.ok(hit.thumbnail?.startsWith(`${second.url}/`), hit.thumbnail);
        assert.equal((await fetch(hit.thumbnail!)).status, 200);
      }
      assert.ok(second.lines.some((l) => l.type === 'summary' && (l.manifests as { moved: number }).moved === 1), 'the summary tells the manifest moved');
    } finally {
      assert.equal(await second.stop(), 0);
    }
  });

  it('starts without a model (--no-pull): items, browsing, keywords, facets and reprints work; a start with a model embeds them from the cache', async () => {
    const photos = photoFolder(2);
    const dataDir = tempDataDir('reprise-start-nomodel-');
    const s = await start(['--images', photos, '-d', dataDir, '--no-pull'], {});
    const json = async (url: string) => {
      const res = await fetch(url);
      assert.equal(res.status, 200, `${url}: ${await res.clone().text()}`);
      return (await res.json()) as Record<string, any>;
    };
    let itemId: string;
    try {
      assert.ok(s.lines.some((l) => l.type === 'no-model'), 'a no-model warning is logged');
      assert.equal(s.ready.status, 'completed');
      const search = await fetch(`${s.url}/api/search?q=horse`);
      assert.equal(search.status, 503);
      const problem = (await search.json()) as { detail: string };
      assert.match(problem.detail, /reprise models pull/);
      const health = (await (await fetch(`${s.url}/api/health`)).json()) as { model: { loaded: boolean } };
      assert.equal(health.model.loaded, false);
      // The harvest stored every item with its metadata, without vectors: the portal has them at once.
      const stats = await json(`${s.url}/api/stats`);
      assert.deepEqual([stats.items, stats.vectors, stats.itemsWithoutVectors], [2, 0, 2]);
      const browsed = await json(`${s.url}/api/items?limit=10`);
      assert.equal(browsed.hits.length, 2);
      itemId = browsed.hits[0].id;
      assert.equal((await json(`${s.url}/api/items/${itemId}`)).id, itemId);
      const keyword = await json(`${s.url}/api/search?q=photos&semanticRatio=0`);
      assert.equal(keyword.hits.length, 2, 'the folder name is in every item\'s metadata');
      const facets = await json(`${s.url}/api/facets?fields=manifest`);
      assert.equal(facets.facets.manifest.values.reduce((n: number, v: { count: number }) => n + v.count, 0), 2);
      // Similar items need a vector: the answer says so, and how to get one.
      const similar = await fetch(`${s.url}/api/items/${itemId}/similar`);
      assert.equal(similar.status, 409);
      assert.match(((await similar.json()) as { detail: string }).detail, /harvested without a model.*models pull.*image cache/s);
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

    // The next start with a model embeds the stored items from the image cache: no image is downloaded again.
    const withModel = await start(['--images', photos, '-d', dataDir], { REPRISE_MODELS__PATH: await tinyModel('huggingface'), REPRISE_MODELS__THREADS: '1' });
    try {
      assert.equal(withModel.ready.status, 'completed');
      const images = withModel.ready.images as { indexed: number; downloaded: number };
      assert.deepEqual([images.indexed, images.downloaded], [2, 0]);
      const stats = await json(`${withModel.url}/api/stats`);
      assert.deepEqual([stats.items, stats.vectors, stats.itemsWithoutVectors], [2, 2, 0]);
      const similar = await json(`${withModel.url}/api/items/${itemId}/similar`);
      assert.equal(similar.hits.length, 1);
    } finally {
      assert.equal(await withModel.stop(), 0);
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
