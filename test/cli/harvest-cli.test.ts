import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createInstitution } from '../support/institution/index.ts';
import type { Institution } from '../support/institution/types.ts';
import { fixture, requireFixtures } from '../support/fixtures.ts';
import { photographs, tempDataDir } from '../support/harvest-harness.ts';

const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/reprise.js');

function reprise(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

const jsonLines = (out: string) => out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);

describe('reprise harvest (command line)', function () {
  this.timeout(120_000);

  it('--help lists the subcommands and each gives examples', async () => {
    const top = await reprise(['--help']);
    assert.equal(top.code, 0);
    assert.match(top.stdout, /harvest \[options\] <url\.\.\.>/);
    assert.match(top.stdout, /harvest-status/);
    assert.match(top.stdout, /models/);
    for (const sub of [['harvest'], ['harvest-status'], ['models'], ['models', 'list'], ['models', 'pull'], ['models', 'check']]) {
      const help = await reprise([...sub, '--help']);
      assert.equal(help.code, 0);
      assert.match(help.stdout, /Examples:\n\s+reprise /, `${sub.join(' ')} --help has examples`);
    }
  });

  it('fatal errors exit 1 with a message a person can act on', async () => {
    const dataDir = tempDataDir();
    const notAUrl = await reprise(['harvest', 'no-such-file.txt'], { REPRISE_DATA_DIR: dataDir });
    assert.equal(notAUrl.code, 1);
    assert.match(notAUrl.stderr, /"no-such-file.txt" is neither an http\(s\) URL nor a readable file of URLs/);
    assert.doesNotMatch(notAUrl.stderr, /\n\s+at /, 'no stack trace');

    const badConfig = await reprise(['harvest', 'https://example.org/m.json'], { REPRISE_HARVEST__HTTP__CONCURRENCY: 'lots' });
    assert.equal(badConfig.code, 1);
    assert.match(badConfig.stderr, /harvest\.http\.concurrency \(from REPRISE_HARVEST__HTTP__CONCURRENCY\)/);

    const badSince = await reprise(['harvest', 'https://example.org/m.json', '--since', 'yesterday-ish'], { REPRISE_DATA_DIR: dataDir });
    assert.equal(badSince.code, 1);
    assert.match(badSince.stderr, /--since "yesterday-ish" is not a date/);

    const noJournal = await reprise(['harvest-status'], { REPRISE_DATA_DIR: dataDir });
    assert.equal(noJournal.code, 1);
    assert.match(noJournal.stderr, /no harvest journal .* run "reprise harvest <url>" first/);
  });

  it('refuses loopback unless configured: the manifest fails with the reason, exit 2', async () => {
    const inst = await createInstitution({ images: photographs('fsa-owi', 2), imagesPerManifest: 2, manifestCount: 1 }).catch(() => undefined);
    if (!inst) return;
    try {
      const res = await reprise(['harvest', inst.manifests[0]!.url, '--json'], { REPRISE_DATA_DIR: tempDataDir() });
      assert.equal(res.code, 2);
      const failed = jsonLines(res.stdout).find((l) => l.status === 'failed');
      assert.match(String(failed?.reason), /refusing to fetch .* loopback/);
      assert.equal(inst.stats.requests, 0, 'no request reached the server');
    } finally {
      await inst.close();
    }
  });

  describe('against the loopback institution', function () {
    requireFixtures(this);
    let inst: Institution;
    before(async () => {
      inst = await createInstitution({
        images: photographs('fsa-owi', 4),
        imagesPerManifest: 2,
        manifestCount: 2,
        extraPlainImages: { paths: [fixture('images', 'decoder-edge-cases', 'truncated.png')], manifest: 1 },
      });
    });
    after(async () => inst?.close());

    it('logs one JSON line per event off a terminal, ends with a summary, exits 2 when an item failed', async () => {
      const dataDir = tempDataDir();
      const list = path.join(dataDir, 'urls.txt');
      writeFileSync(list, `# two manifests\n${inst.manifests.map((m) => m.url).join('\n')}\n`);
      const env = { REPRISE_DATA_DIR: dataDir, REPRISE_HARVEST__HTTP__ALLOW_PRIVATE: '127.0.0.1' };
      const res = await reprise(['harvest', list], env);
      assert.equal(res.code, 2, res.stderr);
      const lines = jsonLines(res.stdout);
      assert.ok(lines.every((l) => typeof l.level === 'number' && typeof l.time === 'number' && l.type), 'pino lines with a type');
      assert.equal(lines.filter((l) => l.type === 'image' && l.status === 'indexed').length, 4);
      const summary = lines.at(-1)!;
      assert.equal(summary.type, 'summary');
      assert.equal(summary.status, 'completed-with-failures');
      assert.match(JSON.stringify(summary.failures), /files\/img-\d+\.png.*broken image: vipspng/);

      const status = await reprise(['harvest-status', '--failures', '--json'], env);
      assert.equal(status.code, 0);
      const parsed = JSON.parse(status.stdout) as { canvases: Record<string, number>; withoutVectors: number; failures: Array<{ reason: string }> };
      assert.deepEqual(parsed.canvases, { pending: 0, fetched: 0, indexed: 4, failed: 1 });
      assert.equal(parsed.withoutVectors, 4, 'no model here: indexed without image vectors');
      const text = await reprise(['harvest-status'], env);
      assert.match(text.stdout, /4 indexed \(4 without image vectors: harvested without a model/);
      assert.match(parsed.failures[0]!.reason, /broken image/);
    });

    it('--dry-run reports the plan and exits 0; the next real run of unchanged sources exits 0', async () => {
      const dataDir = tempDataDir();
      const env = { REPRISE_DATA_DIR: dataDir, REPRISE_HARVEST__HTTP__ALLOW_PRIVATE: '127.0.0.1' };
      const url = inst.manifests[0]!.url;
      const dry = await reprise(['harvest', url, '--dry-run', '--json'], env);
      assert.equal(dry.code, 0, dry.stderr);
      const summary = jsonLines(dry.stdout).at(-1)!;
      assert.equal(summary.status, 'dry-run');
      assert.deepEqual(summary.journal, { pending: 2, fetched: 0, indexed: 0, failed: 0 });
      assert.equal((await reprise(['harvest', url, '--json'], env)).code, 0);
      const again = await reprise(['harvest', url, '--json', '--concurrency', '2'], env);
      assert.equal(again.code, 0);
      assert.equal((jsonLines(again.stdout).at(-1)!.images as { downloaded: number }).downloaded, 0);
    });
  });
});
