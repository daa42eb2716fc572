import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireFixtures } from '../support/fixtures.ts';
import { tempDataDir } from '../support/harvest-harness.ts';
import { createSearchFixture, type SearchFixture } from '../support/search-fixture.ts';
import { tinyModel } from '../support/tiny-model.ts';

const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/reprise.js');

function reprise(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

interface Hit {
  id: string;
  score: number;
  canvas: { id: string; label?: string };
  manifest: { id: string; url: string; label?: string };
}
interface Page {
  query: Record<string, string>;
  hits: Hit[];
  scoreKind: string;
  limit: number;
}

describe('reprise search (command line)', function () {
  this.timeout(120_000);

  it('without a model says how to get one and exits 1', async () => {
    const dataDir = tempDataDir('reprise-search-nomodel-');
    const run = await reprise(['search', 'a', 'horse'], { REPRISE_DATA_DIR: dataDir });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^reprise: text search needs a model, and there is none at .*clip-vit-base-patch32: run "reprise models pull clip-vit-base-patch32"/m);
    assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
    assert.equal(run.stdout, '');
  });

  it('with a model but no index says to harvest first, and creates no empty index', async () => {
    const dataDir = tempDataDir('reprise-search-noindex-');
    const run = await reprise(['search', 'a', 'horse'], { REPRISE_DATA_DIR: dataDir, REPRISE_MODELS__PATH: await tinyModel('huggingface'), REPRISE_MODELS__THREADS: '1' });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /no index at .*index.*: harvest first/);
    assert.equal(existsSync(path.join(dataDir, 'index')), false);
  });

  it('a file name that does not exist is not searched as words; bad options name the flag', async () => {
    const dataDir = tempDataDir('reprise-search-args-');
    const missing = await reprise(['search', 'no-such-photo.jpg'], { REPRISE_DATA_DIR: dataDir });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no-such-photo\.jpg: no such file; .* --text to search for these words/);
    const limit = await reprise(['search', 'horse', '--limit', '0'], { REPRISE_DATA_DIR: dataDir });
    assert.equal(limit.code, 1);
    assert.match(limit.stderr, /--limit: must be at least 1/);
    const date = await reprise(['search', 'horse', '--date-from', 'May 1936'], { REPRISE_DATA_DIR: dataDir });
    assert.equal(date.code, 1);
    assert.match(date.stderr, /--date-from: expected an ISO 8601 date/);
  });

  describe('over a harvested index', function () {
    requireFixtures(this);
    let fixture: SearchFixture;
    let env: Record<string, string>;

    before(async () => {
      fixture = await createSearchFixture();
      // The child opens the same embedded store: release this process's handle first.
      await fixture.store.close();
      env = { REPRISE_DATA_DIR: fixture.dataDir, REPRISE_MODELS__PATH: fixture.config.models.path!, REPRISE_MODELS__THREADS: '1' };
    });
    after(async () => {
      await fixture?.encoders.close();
      await fixture?.inst.close();
    });

    /** The query image is one of the indexed photographs: a canvas painted with it is among the best hits. */
    const assertFound = (hits: Hit[], canvasIds: string[]) => {
      const top = hits[0]!.score;
      assert.ok(top > 0.95, `best score ${top}`);
      assert.ok(hits.filter((h) => top - h.score < 1e-3).some((h) => canvasIds.includes(h.canvas.id)), `finds one of ${canvasIds.join(', ')}`);
    };

    it('prints text search hits as a table: rank, score, label, manifest, canvas id', async () => {
      const run = await reprise(['search', 'a', 'street', 'in', 'the', 'rain', '--limit', '3'], env);
      assert.equal(run.code, 0, run.stderr);
      const lines = run.stdout.trimEnd().split('\n');
      assert.match(lines[0]!, /^#\s+score\s+label\s+manifest\s+canvas$/);
      const rows = lines.slice(1, 4);
      assert.equal(rows.length, 3);
      rows.forEach((row, i) => {
        assert.match(row, new RegExp(`^${i + 1}\\s+-?\\d\\.\\d\\d\\s+.+\\s+${fixture.inst.baseUrl.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\S+$`), row);
      });
      assert.match(lines[4]!, /^3 hits for "a street in the rain" \(score: cosine similarity/);
    });

    it('--json gives the API page; --manifest and --collection filter as the API does', async () => {
      const all = await reprise(['search', 'street', '--json', '--limit', '16'], env);
      assert.equal(all.code, 0, all.stderr);
      const page = JSON.parse(all.stdout) as Page;
      assert.deepEqual(page.query, { text: 'street' });
      assert.equal(page.scoreKind, 'cosine');
      assert.equal(page.hits.length, Math.min(16, fixture.inst.manifests.reduce((n, x) => n + x.canvases.length, 0)));
      assert.ok(page.hits.every((h, i) => i === 0 || page.hits[i - 1]!.score >= h.score), 'best first');

      const m = fixture.inst.manifests[1]!;
      const one = JSON.parse((await reprise(['search', 'street', '--json', '--manifest', m.url], env)).stdout) as Page;
      assert.equal(one.hits.length, m.canvases.length);
      assert.ok(one.hits.every((h) => h.manifest.url === m.url));
      const two = JSON.parse((await reprise(['search', 'street', '--json', '--manifest', m.url, '--manifest', fixture.inst.manifests[2]!.url], env)).stdout) as Page;
      assert.equal(two.hits.length, m.canvases.length + fixture.inst.manifests[2]!.canvases.length);

      const none = await reprise(['search', 'street', '--collection', 'No such collection'], env);
      assert.equal(none.code, 0, none.stderr);
      const items = fixture.inst.manifests.reduce((n, x) => n + x.canvases.length, 0);
      assert.match(none.stdout, new RegExp(`^no hits for "street" among ${items} items with these filters$`, 'm'));
    });

    it('searches by an image file', async () => {
      const canvas = fixture.inst.manifests[0]!.canvases[0]!;
      const same = fixture.inst.manifests.flatMap((m) => m.canvases).filter((c) => c.imageName === canvas.imageName).map((c) => c.id);
      const run = await reprise(['search', canvas.imagePath, '--json', '--limit', '5'], env);
      assert.equal(run.code, 0, run.stderr);
      const page = JSON.parse(run.stdout) as Page;
      assert.deepEqual(page.query, { file: canvas.imagePath });
      assertFound(page.hits, same);
      // --text: the same path, as words.
      const words = JSON.parse((await reprise(['search', '--text', canvas.imagePath, '--json'], env)).stdout) as Page;
      assert.deepEqual(words.query, { text: canvas.imagePath });
    });

    it('fetches an image URL through the SSRF guard: loopback refused unless harvest.http.allowPrivate lists it', async () => {
      const canvas = fixture.inst.manifests.find((m) => m.imageMode === 'plain')!.canvases[0]!;
      const refused = await reprise(['search', canvas.imageUrl], env);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /refusing to fetch .*private.*harvest\.http\.allowPrivate/);
      assert.equal(refused.stdout, '');
      const allowed = await reprise(['search', canvas.imageUrl, '--json'], { ...env, REPRISE_HARVEST__HTTP__ALLOW_PRIVATE: '127.0.0.1' });
      assert.equal(allowed.code, 0, allowed.stderr);
      const page = JSON.parse(allowed.stdout) as Page;
      assert.deepEqual(page.query, { url: canvas.imageUrl });
      assertFound(page.hits, [canvas.id]);
    });
  });
});
