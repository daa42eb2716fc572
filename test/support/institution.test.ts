import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { fixture, fixturesPresent, requireFixtures } from './fixtures.ts';
import { createInstitution, type Institution, type ManifestInfo } from './institution/index.ts';

/** Checks the test institution itself, so that harvester failures can be trusted to be the harvester's. */

function photographs(folder: string, n: number): string[] {
  if (!fixturesPresent) return [];
  return readdirSync(fixture('images', folder)).filter((f) => f.endsWith('.jpg')).sort().slice(0, n)
    .map((f) => fixture('images', folder, f));
}

async function get(url: string, headers: Record<string, string> = {}): Promise<{ res: Response; body: Buffer }> {
  const res = await fetch(url, { headers });
  return { res, body: Buffer.from(await res.arrayBuffer()) };
}

async function getJson(url: string): Promise<Record<string, any>> {
  const { res, body } = await get(url);
  assert.equal(res.status, 200, url);
  assert.match(res.headers.get('content-type') ?? '', /^application\/(ld\+)?json/);
  return JSON.parse(body.toString('utf8'));
}

function canvasCount(doc: Record<string, any>): number {
  return doc.type === 'Manifest' ? doc.items.length : doc.sequences[0].canvases.length;
}

function byMode(inst: Institution, version: 2 | 3, mode: ManifestInfo['imageMode']): ManifestInfo {
  const m = inst.manifests.find((x) => x.version === version && x.imageMode === mode);
  assert.ok(m, `no v${version} ${mode} manifest`);
  return m;
}

describe('test institution', function () {
  requireFixtures(this);
  this.timeout(20_000);

  const images = [...photographs('fsa-owi', 6), ...photographs('documerica', 6)];
  const truncated = fixture('images', 'decoder-edge-cases', 'truncated.jpg');
  const bomb = fixture('images', 'decoder-edge-cases', '65536-uint32-limit.png');
  let inst: Institution;

  before(async function () {
    inst = await createInstitution({ images, imagesPerManifest: 3, extraPlainImages: { paths: [truncated, bomb], manifest: 0 } });
  });
  after(async () => inst?.close());
  beforeEach(() => {
    inst.faults.clear();
    inst.resetStats();
  });

  it('listens on 127.0.0.1 and publishes the eight planned manifests', () => {
    assert.match(inst.baseUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
    const plan = inst.manifests.map((m) => `${m.version}:${m.imageMode}`);
    assert.deepEqual(plan, [
      '3:image-api-3', '2:image-api-2', '3:level0', '2:level0', '3:plain', '2:plain', '3:image-api-3', '2:image-api-2',
    ]);
  });

  it('serves a well-formed Image API 2.1 info.json', async () => {
    const canvas = byMode(inst, 2, 'image-api-2').canvases[0]!;
    const info = await getJson(`${canvas.serviceUrl}/info.json`);
    assert.equal(info['@context'], 'http://iiif.io/api/image/2/context.json');
    assert.equal(info['@id'], canvas.serviceUrl);
    assert.equal(info.protocol, 'http://iiif.io/api/image');
    assert.equal(info.profile[0], 'http://iiif.io/api/image/2/level2.json');
    const meta = await sharp(canvas.imagePath).metadata();
    assert.deepEqual([info.width, info.height], [meta.width, meta.height]);
  });

  it('serves a well-formed Image API 3.0 info.json', async () => {
    const canvas = byMode(inst, 3, 'image-api-3').canvases[0]!;
    const info = await getJson(`${canvas.serviceUrl}/info.json`);
    assert.equal(info['@context'], 'http://iiif.io/api/image/3/context.json');
    assert.equal(info.id, canvas.serviceUrl);
    assert.equal(info.type, 'ImageService3');
    assert.equal(info.profile, 'level2');
    assert.ok(info.width > 0 && info.height > 0);
  });

  it('answers a sized request with a JPEG of that size, in both API versions', async () => {
    const v3 = byMode(inst, 3, 'image-api-3').canvases[1]!;
    const a = await get(`${v3.serviceUrl}/full/200,/0/default.jpg`);
    assert.equal(a.res.status, 200);
    assert.equal(a.res.headers.get('content-type'), 'image/jpeg');
    const ma = await sharp(a.body).metadata();
    assert.equal(ma.format, 'jpeg');
    assert.equal(ma.width, 200);

    const v2 = byMode(inst, 2, 'image-api-2').canvases[1]!;
    const b = await get(`${v2.serviceUrl}/full/!150,150/0/default.jpg`);
    const mb = await sharp(b.body).metadata();
    assert.equal(mb.format, 'jpeg');
    assert.equal(Math.max(mb.width, mb.height), 150);
    assert.equal(inst.stats.imageRequests, 2);
  });

  it('lists in each level-0 info.json only sizes that exist as files', async () => {
    for (const version of [2, 3] as const) {
      const canvas = byMode(inst, version, 'level0').canvases[0]!;
      const info = await getJson(`${canvas.serviceUrl}/info.json`);
      assert.match(JSON.stringify(info.profile), /level0/);
      assert.ok(info.sizes.length >= 2, 'sizes');
      for (const size of info.sizes as Array<{ width: number; height: number }>) {
        const { res, body } = await get(`${canvas.serviceUrl}/full/${size.width},${size.height}/0/default.jpg`);
        assert.equal(res.status, 200, `v${version} ${size.width},${size.height}`);
        const meta = await sharp(body).metadata();
        assert.deepEqual([meta.width, meta.height], [size.width, size.height]);
      }
      const full = version === 3 ? 'max' : 'full';
      assert.equal((await get(`${canvas.serviceUrl}/full/${full}/0/default.jpg`)).res.status, 200);
      const tile = info.tiles[0].width;
      const region = `0,0,${tile},${tile}`;
      const tileSize = version === 3 ? `${tile},${tile}` : `${tile},`;
      assert.equal((await get(`${canvas.serviceUrl}/${region}/${tileSize}/0/default.jpg`)).res.status, 200);
    }
  });

  it('publishes manifests with the expected canvases, reachable through the nested collections', async () => {
    for (const m of inst.manifests) {
      const doc = await getJson(m.url);
      assert.equal(canvasCount(doc), m.canvases.length, m.url);
      assert.equal(doc.id ?? doc['@id'], m.url);
    }
    assert.equal(inst.manifests[0]!.canvases.length, 5);
    assert.deepEqual(inst.manifests[0]!.canvases.slice(3).map((c) => c.imageName), ['truncated.jpg', '65536-uint32-limit.png']);

    const root = await getJson(inst.rootCollectionUrl);
    assert.deepEqual(root.items.map((i: { id: string }) => i.id), [inst.v3CollectionUrl, inst.v2CollectionUrl]);
    const v3 = await getJson(inst.v3CollectionUrl);
    assert.deepEqual(v3.items.map((i: { id: string }) => i.id), inst.manifests.filter((m) => m.version === 3).map((m) => m.url));

    const listed: string[] = [];
    const keys = new Set<string>();
    let page = (await getJson(inst.v2CollectionUrl)).first as string | undefined;
    while (page) {
      const doc = await getJson(page);
      const refs = doc.manifests ?? doc.members;
      keys.add(doc.manifests ? 'manifests' : 'members');
      listed.push(...refs.map((r: Record<string, string>) => r['@id']));
      page = doc.next;
    }
    assert.deepEqual(listed, inst.manifests.filter((m) => m.version === 2).map((m) => m.url));
    assert.deepEqual([...keys].sort(), ['manifests', 'members']);
  });

  it('serves plain files as they are on disk, broken ones included', async () => {
    const canvas = inst.manifests[0]!.canvases[3]!;
    const { res, body } = await get(canvas.imageUrl);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'image/jpeg');
    assert.equal(body.length, statSync(truncated).size);
  });

  it('answers conditional requests with 304 and sends CORS and validators', async () => {
    const m = inst.manifests[1]!;
    const service = byMode(inst, 3, 'level0').canvases[0]!.serviceUrl!;
    for (const url of [m.url, inst.v2CollectionUrl, `${service}/info.json`, `${service}/full/max/0/default.jpg`]) {
      const first = await get(url);
      assert.equal(first.res.headers.get('access-control-allow-origin'), '*');
      const etag = first.res.headers.get('etag');
      const lastModified = first.res.headers.get('last-modified');
      assert.ok(etag && lastModified, url);
      assert.equal((await get(url, { 'if-none-match': etag })).res.status, 304, url);
      assert.equal((await get(url, { 'if-modified-since': lastModified })).res.status, 304, url);
    }
    assert.equal(inst.stats.notModified, 8);
  });

  it('gzips JSON for clients that accept it', async () => {
    const gz = await fetch(inst.manifests[0]!.url, { headers: { 'accept-encoding': 'gzip' } });
    assert.equal(gz.headers.get('content-encoding'), 'gzip');
    JSON.parse(await gz.text());
    const plain = await fetch(inst.manifests[0]!.url, { headers: { 'accept-encoding': 'identity' } });
    assert.equal(plain.headers.get('content-encoding'), null);
    await plain.arrayBuffer();
  });

  it('fails the first N matching requests of a fault, then serves normally', async () => {
    const url = inst.manifests[2]!.url;
    const fault = inst.faults.add({ match: new URL(url).pathname, kind: '503', times: 2, retryAfterSeconds: 1 });
    const first = await get(url);
    assert.equal(first.res.status, 503);
    assert.equal(first.res.headers.get('retry-after'), '1');
    assert.equal((await get(url)).res.status, 503);
    assert.equal((await get(url)).res.status, 200);
    assert.equal(fault.remaining, 0);
    assert.equal(inst.stats.faultsInjected, 2);
    assert.equal(inst.stats.byPath[new URL(url).pathname], 3);
  });

  it('truncates bodies and resets connections on demand', async () => {
    const image = byMode(inst, 3, 'plain').canvases[0]!.imageUrl;
    inst.faults.add({ match: /\/files\//, kind: 'truncate', times: 1 });
    await assert.rejects(get(image));
    inst.faults.add({ match: /\/files\//, kind: 'reset', times: 1 });
    await assert.rejects(get(image));
    assert.equal((await get(image)).res.status, 200);
  });

  it('records mutations in ETags, documents and the change stream', async () => {
    const m3 = byMode(inst, 3, 'image-api-3');
    const m2 = byMode(inst, 2, 'plain');
    const gone = byMode(inst, 2, 'level0');
    const serviceUrl = m3.canvases[0]!.serviceUrl!;
    const etag = async (url: string) => (await get(url)).res.headers.get('etag');
    const before = {
      m3: await etag(m3.url), m2: await etag(m2.url), info: await etag(`${serviceUrl}/info.json`),
      image: await etag(`${serviceUrl}/full/100,/0/default.jpg`), v2: await etag(inst.v2CollectionUrl),
    };
    const replacement = images.at(-1)!;

    await inst.changeManifest(m3.url, { kind: 'relabel', label: 'Relabelled' });
    await inst.changeManifest(m3.url, { kind: 'replace-image', canvas: 0, imagePath: replacement });
    await inst.changeManifest(m2.url, { kind: 'remove-canvas', canvas: 1 });
    await inst.changeManifest(m2.url, { kind: 'add-canvas' });
    await inst.changeManifest(m2.url, { kind: 'add-canvas', imagePath: replacement });
    await inst.removeManifest(gone.url);

    assert.notEqual(await etag(m3.url), before.m3);
    assert.notEqual(await etag(m2.url), before.m2);
    assert.notEqual(await etag(`${serviceUrl}/info.json`), before.info);
    assert.notEqual(await etag(`${serviceUrl}/full/100,/0/default.jpg`), before.image);
    assert.notEqual(await etag(inst.v2CollectionUrl), before.v2);

    assert.equal(inst.manifests.find((m) => m.url === m3.url)!.canvases[0]!.imageUrl, m3.canvases[0]!.imageUrl);
    const doc3 = await getJson(m3.url);
    assert.deepEqual(doc3.label, { en: ['Relabelled'] });
    const info = await getJson(`${serviceUrl}/info.json`);
    const meta = await sharp(replacement).metadata();
    assert.deepEqual([info.width, info.height], [meta.width, meta.height]);
    assert.equal(canvasCount(await getJson(m2.url)), 4);
    const now = inst.manifests.find((m) => m.url === m2.url)!;
    assert.equal(now.canvases.at(-1)!.imageName, replacement.split('/').at(-1));
    assert.equal((await get(gone.url)).res.status, 404);
    assert.ok(!inst.manifests.some((m) => m.url === gone.url));

    const stream = await getJson(inst.changeStreamUrl);
    assert.equal(stream.type, 'OrderedCollection');
    const items: Array<{ type: string; object: { id: string; type: string }; endTime: string }> = [];
    for (let page: string | undefined = stream.first.id; page; ) {
      const doc = await getJson(page);
      items.push(...doc.orderedItems);
      page = doc.next?.id;
    }
    assert.equal(items.length, stream.totalItems);
    const times = items.map((i) => Date.parse(i.endTime));
    assert.deepEqual(times, [...times].sort((a, b) => a - b));
    assert.deepEqual(items.slice(-7).map((i) => `${i.type} ${i.object.id}`), [
      `Update ${m3.url}`, `Update ${m3.url}`, `Update ${m2.url}`, `Update ${m2.url}`, `Update ${m2.url}`,
      `Delete ${gone.url}`, `Update ${inst.v2CollectionUrl}`,
    ]);
    assert.ok(items.filter((i) => i.type === 'Create').length >= 11);
  });

  it('writes a list of manifest URLs', async () => {
    const file = await inst.writeManifestList(undefined, (m) => m.version === 3);
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    assert.deepEqual(lines, inst.manifests.filter((m) => m.version === 3).map((m) => m.url));
    await rm(path.dirname(file), { recursive: true, force: true });
  });

  it('serves every image from pre-rendered files in static mode', async () => {
    const fixed = await createInstitution({ images: images.slice(0, 4), mode: 'static', imagesPerManifest: 2 });
    try {
      assert.ok(fixed.manifests.every((m) => m.imageMode === 'level0' || m.imageMode === 'plain'));
      for (const m of fixed.manifests) {
        for (const c of m.canvases) assert.equal((await get(c.imageUrl)).res.status, 200, c.imageUrl);
      }
      assert.equal(fixed.stats.imageRequests, fixed.manifests.reduce((n, m) => n + m.canvases.length, 0));
      assert.ok(!Object.keys(fixed.stats.byPath).some((p) => p.startsWith('/iiif/')));
    } finally {
      await fixed.close();
    }
  });

  it('lets close() end requests that a hang fault holds', async () => {
    const small = await createInstitution({ images: images.slice(0, 2), manifestCount: 1 });
    small.faults.add({ match: '/manifests/', kind: 'hang', times: Infinity });
    let settled = false;
    const pending = fetch(small.manifests[0]!.url).finally(() => { settled = true; });
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(settled, false);
    const started = Date.now();
    await small.close();
    assert.ok(Date.now() - started < 2000);
    await assert.rejects(pending);
  });
});
