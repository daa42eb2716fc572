import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { requireFixtures } from '../support/fixtures.ts';
import { createSearchFixture, type SearchFixture } from '../support/search-fixture.ts';

const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/reprise.js');

describe('reprise serve (command line)', function () {
  requireFixtures(this);
  this.timeout(120_000);
  let fixture: SearchFixture;

  before(async () => {
    fixture = await createSearchFixture();
    // The child opens the same embedded store: release this process's handle first.
    await fixture.store.close();
  });
  after(async () => {
    await fixture?.encoders.close();
    await fixture?.inst.close();
  });

  it('serves the harvested index over HTTP and stops cleanly on SIGTERM', async () => {
    const child = spawn(process.execPath, [CLI, 'serve', '--port', '0'], {
      env: {
        ...process.env,
        REPRISE_DATA_DIR: fixture.dataDir,
        REPRISE_MODELS__PATH: fixture.config.models.path!,
        REPRISE_MODELS__THREADS: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const lines = createInterface({ input: child.stdout });
    const api = await new Promise<string>((resolve, reject) => {
      lines.on('line', (line) => {
        const event = JSON.parse(line) as { type?: string; api?: string };
        if (event.type === 'listening' && event.api) resolve(event.api);
      });
      exited.then((code) => reject(new Error(`serve exited (${code}) before listening: ${stderr}`)));
    });

    const stats = (await (await fetch(`${api}/stats`)).json()) as { items: number };
    assert.equal(stats.items, fixture.inst.manifests.reduce((n, m) => n + m.canvases.length, 0));
    const search = await fetch(`${api}/search?q=${encodeURIComponent('a street in the rain')}&limit=3`);
    assert.equal(search.status, 200);
    assert.equal(((await search.json()) as { hits: unknown[] }).hits.length, 3);
    const health = await fetch(`${api}/health`);
    assert.equal(health.status, 200);

    child.kill('SIGTERM');
    assert.equal(await exited, 0, stderr);
  });
});
