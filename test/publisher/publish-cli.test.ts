import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { fixture, requireFixtures } from '../support/fixtures.ts';
import { ARCHIVE_IMAGES, makeArchive, type Archive } from './archive.ts';
import { harvestHint, isPrivateHost } from '../../cli/commands/publish.ts';

const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/reprise.js');

describe('reprise publish (command line)', function () {
  requireFixtures(this);
  this.timeout(120_000);
  let archive: Archive;

  before(() => {
    archive = makeArchive();
  });
  after(() => archive?.remove());

  it('prints what it publishes, the collection URL and how to harvest it; serves it; stops on SIGTERM', async () => {
    const child = spawn(process.execPath, [CLI, 'publish', archive.dir, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const lines: string[] = [];
    const reader = createInterface({ input: child.stdout });
    await new Promise<void>((resolve, reject) => {
      reader.on('line', (line) => {
        lines.push(line);
        if (line.startsWith('harvest it:')) resolve();
      });
      exited.then((code) => reject(new Error(`publish exited (${code}) before listening: ${stderr}`)));
    });
    const output = lines.join('\n');
    assert.match(lines[0]!, new RegExp(`^publishing ${ARCHIVE_IMAGES.length} images from .*archive as IIIF Image API 2\\.1 and 3\\.0 \\(4 manifests, 2 collections\\)$`));
    assert.match(output, /bomb\.png: 65536×65536 pixels is over the limit/);
    assert.match(output, /link-out\.png: a symbolic link that leads outside the published folder/);
    assert.match(output, /circle\.svg: vector images \(SVG\) are not published/);
    const collectionUrl = /^collection: (\S+)$/m.exec(output)![1]!;
    assert.match(collectionUrl, /^http:\/\/127\.0\.0\.1:\d+\/iiif\/collection\.json$/);
    assert.match(output, new RegExp(`^harvest it: REPRISE_HARVEST__HTTP__ALLOW_PRIVATE=127\\.0\\.0\\.1 npx reprise harvest ${collectionUrl.replace(/\./g, '\\.')}$`, 'm'));

    const collection = (await (await fetch(collectionUrl)).json()) as { items: Array<{ id: string }> };
    assert.equal(collection.items.length, 3);
    const info = await fetch(new URL('/iiif/3/chelsea.png/info.json', collectionUrl));
    assert.equal(info.status, 200);
    assert.equal(info.headers.get('access-control-allow-origin'), '*');
    const root = await fetch(new URL('/', collectionUrl), { redirect: 'manual' });
    assert.equal(root.status, 303);
    const missing = await fetch(new URL('/nothing', collectionUrl));
    assert.equal(missing.status, 404);
    assert.match(await missing.text(), /listed at \/iiif\/collection\.json/);

    child.kill('SIGTERM');
    assert.equal(await exited, 0, stderr);
  });

  it('a truncated image answers 422 with one line on stderr (no stack trace); ids never take a Host the configuration does not allow', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'reprise-publish-cli-'));
    copyFileSync(fixture('images', 'decoder-edge-cases', 'truncated.jpg'), path.join(dir, 'truncated.jpg'));
    copyFileSync(fixture('images', 'skimage', 'chelsea.png'), path.join(dir, 'chelsea.png'));
    // publish.allowedHosts from the configuration (here its variable).
    const env = { ...process.env, REPRISE_PUBLISH__ALLOWED_HOSTS: 'images.example.org' };
    const child = spawn(process.execPath, [CLI, 'publish', dir, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'], env });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      const listening = await new Promise<string>((resolve, reject) => {
        createInterface({ input: child.stdout }).on('line', (line) => line.startsWith('listening on ') && resolve(line.slice('listening on '.length)));
        exited.then((code) => reject(new Error(`publish exited (${code}) before listening: ${stderr}`)));
      });
      const damaged = await fetch(`${listening}/iiif/3/truncated.jpg/full/max/0/default.jpg`);
      assert.equal(damaged.status, 422);
      assert.match(await damaged.text(), /truncated\.jpg" cannot be rendered: its file could not be decoded/);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const lines = stderr.trim().split('\n');
      assert.equal(lines.length, 1, stderr);
      assert.match(lines[0]!, /^reprise publish: GET \/iiif\/3\/truncated\.jpg\/full\/max\/0\/default\.jpg: image "truncated\.jpg" cannot be rendered/);

      const idWithHost = (host: string) =>
        new Promise<string>((resolve, reject) => {
          httpGet(`${listening}/iiif/3/chelsea.png/info.json`, { headers: { Host: host } }, (res) => {
            let body = '';
            res.on('data', (c: Buffer) => (body += c.toString()));
            res.on('end', () => resolve((JSON.parse(body) as { id: string }).id));
          }).on('error', reject);
        });
      assert.equal(await idWithHost('attacker.example'), `${listening}/iiif/3/chelsea.png`);
      assert.equal(await idWithHost('images.example.org'), 'http://images.example.org/iiif/3/chelsea.png');
    } finally {
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a folder that does not exist: exit 1 and a message saying so', () => {
    const result = spawnSync(process.execPath, [CLI, 'publish', path.join(archive.outside, 'nope'), '--port', '0'], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /reprise: .*nope does not exist: give the folder of images to publish/);
  });

  it('bad flags are refused before anything is scanned', () => {
    const port = spawnSync(process.execPath, [CLI, 'publish', archive.dir, '--port', 'eighty'], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(port.status, 1);
    assert.match(port.stderr, /--port must be a whole number/);
    const base = spawnSync(process.execPath, [CLI, 'publish', archive.dir, '--port', '0', '--base-url', 'not a url'], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(base.status, 1);
    assert.match(base.stderr, /--base-url: baseUrl "not a url" is not a URL/);
    const host = spawnSync(process.execPath, [CLI, 'publish', archive.dir, '--port', '0', '--allowed-host', 'https://images.example.org'], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(host.status, 1);
    assert.match(host.stderr, /--allowed-host: allowedHosts entry "https:\/\/images\.example\.org" is not a host name or host:port/);
    const per = spawnSync(process.execPath, [CLI, 'publish', archive.dir, '--manifest-per', 'page'], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(per.status, 1);
    assert.match(per.stderr, /--manifest-per must be "folder" or "image", got "page"/);
  });

  it('the harvest hint allows the host only when the harvester would refuse it', () => {
    assert.equal(harvestHint('http://127.0.0.1:8182/iiif/collection.json'), 'REPRISE_HARVEST__HTTP__ALLOW_PRIVATE=127.0.0.1 npx reprise harvest http://127.0.0.1:8182/iiif/collection.json');
    assert.equal(harvestHint('https://images.example.org/iiif/collection.json'), 'npx reprise harvest https://images.example.org/iiif/collection.json');
    assert.ok(isPrivateHost('192.168.1.20') && isPrivateHost('[::1]') && isPrivateHost('localhost') && isPrivateHost('172.20.0.1'));
    assert.ok(!isPrivateHost('8.8.8.8') && !isPrivateHost('172.32.0.1') && !isPrivateHost('images.example.org'));
  });
});
