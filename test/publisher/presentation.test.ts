import assert from 'node:assert/strict';
import { copyFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { Express } from 'express';
import { request } from '../plugin/supertest.ts';
import { fixture, requireFixtures } from '../support/fixtures.ts';
import { makeArchive, publisherApp, type Archive } from './archive.ts';
import { parseIiifDocument } from '../../harvester/iiif/document.ts';
import type { ParsedCollection, ParsedManifest } from '../../harvester/iiif/types.ts';

const BASE = 'https://archive.example.org';
const CONTEXT = 'http://iiif.io/api/presentation/3/context.json';

type Json = Record<string, any>;

/** The Presentation 3 rules a Manifest's structure must follow (§2–3: ids, types, labels, canvases, painting annotations). */
function assertManifest3(m: Json): void {
  assert.equal(m['@context'], CONTEXT);
  assert.equal(m.type, 'Manifest');
  assert.match(m.id, /^https?:\/\//);
  assert.ok(m.label && Object.values(m.label).every((v) => Array.isArray(v)), 'label is a language map');
  assert.ok(Array.isArray(m.items) && m.items.length > 0, 'a manifest has canvases');
  const ids = new Set<string>();
  for (const canvas of m.items as Json[]) {
    assert.equal(canvas.type, 'Canvas');
    assert.ok(!ids.has(canvas.id), 'canvas ids are unique');
    ids.add(canvas.id);
    assert.ok(Number.isInteger(canvas.width) && Number.isInteger(canvas.height), 'a canvas with an image has width and height');
    const [page] = canvas.items as Json[];
    assert.equal(page!.type, 'AnnotationPage');
    const [annotation] = page!.items as Json[];
    assert.equal(annotation!.type, 'Annotation');
    assert.equal(annotation!.motivation, 'painting');
    assert.equal(annotation!.target, canvas.id);
    assert.equal(annotation!.body.type, 'Image');
    assert.equal(annotation!.body.format, 'image/jpeg');
    const services = annotation!.body.service as Json[];
    assert.deepEqual(services.map((s) => s.type ?? s['@type']), ['ImageService3', 'ImageService2']);
    assert.equal(services[0]!.profile, 'level2');
    assert.equal(services[1]!.profile, 'http://iiif.io/api/image/2/level2.json');
  }
}

function assertCollection3(c: Json): void {
  assert.equal(c['@context'], CONTEXT);
  assert.equal(c.type, 'Collection');
  assert.ok(Array.isArray(c.items));
  for (const item of c.items as Json[]) {
    assert.ok(item.type === 'Manifest' || item.type === 'Collection');
    assert.match(item.id, /^https?:\/\//);
    assert.ok(item.label, 'members have labels');
  }
}

describe('publisher: Presentation 3 manifests and collections', function () {
  requireFixtures(this);
  this.timeout(60_000);
  let archive: Archive;
  let app: Express;
  /** GET a document by its id (the base is fixed, so ids map back to paths). */
  const fetchDoc = async (id: string) => (await request(app).get(id.slice(BASE.length)).expect(200)).body as Json;

  before(() => {
    archive = makeArchive();
    ({ app } = publisherApp({ dir: archive.dir, baseUrl: BASE }));
  });
  after(() => archive?.remove());

  it('the root collection lists the top folder\'s manifest, then sub-folders (collections where they nest), empty folders left out', async () => {
    const root = await fetchDoc(`${BASE}/iiif/collection.json`);
    assertCollection3(root);
    assert.equal(root.id, `${BASE}/iiif/collection.json`);
    assert.deepEqual(root.label, { none: ['archive'] });
    assert.deepEqual(
      root.items.map((i: Json) => [i.type, i.id, i.label.none[0]]),
      [
        ['Manifest', `${BASE}/iiif/manifest.json`, 'archive'],
        ['Collection', `${BASE}/iiif/collection/letters.json`, 'letters'],
        ['Manifest', `${BASE}/iiif/manifest/photos.json`, 'photos'],
      ],
    );
    const parsed = parseIiifDocument(root, { url: root.id }) as ParsedCollection;
    assert.equal(parsed.kind, 'collection');
    assert.equal(parsed.manifests.length, 2);
    assert.equal(parsed.collections.length, 1);

    const letters = await fetchDoc(`${BASE}/iiif/collection/letters.json`);
    assertCollection3(letters);
    assert.deepEqual(letters.partOf, [{ id: root.id, type: 'Collection' }]);
    assert.deepEqual(letters.items.map((i: Json) => i.id), [`${BASE}/iiif/manifest/letters.json`, `${BASE}/iiif/manifest/letters%2F1901.json`]);
  });

  it('a folder is one manifest: a canvas per image in natural order, labels from file names, sizes from the images', async () => {
    const manifest = await fetchDoc(`${BASE}/iiif/manifest/letters.json`);
    assertManifest3(manifest);
    assert.deepEqual(manifest.items.map((c: Json) => c.label.none[0]), ['page 1', 'page 2', 'page 10']);
    assert.deepEqual(manifest.partOf, [{ id: `${BASE}/iiif/collection/letters.json`, type: 'Collection' }]);
    for (const canvas of manifest.items as Json[]) {
      const file = `${archive.dir}/letters/${canvas.label.none[0]}.jpg`;
      const meta = await sharp(file).metadata();
      assert.deepEqual([canvas.width, canvas.height], [meta.width, meta.height]);
    }
    const root = await fetchDoc(`${BASE}/iiif/manifest.json`);
    assertManifest3(root);
    assert.deepEqual(root.items.map((c: Json) => c.label.none[0]), ['chelsea', 'Landscape_6', 'link-in']);
    assert.deepEqual([root.items[1].width, root.items[1].height], [600, 450], 'EXIF orientation applied');
    const nested = await fetchDoc(`${BASE}/iiif/manifest/letters%2F1901.json`);
    assert.deepEqual(nested.partOf, [{ id: `${BASE}/iiif/collection/letters.json`, type: 'Collection' }]);
    assert.equal(nested.items[0].items[0].items[0].body.service[0].id, `${BASE}/iiif/3/letters%2F1901%2Fkids.jpg`);
  });

  it('the harvester\'s own parser reads every manifest: canvases, labels, Image API 3 services with sizes', async () => {
    for (const id of [`${BASE}/iiif/manifest.json`, `${BASE}/iiif/manifest/letters.json`, `${BASE}/iiif/manifest/letters%2F1901.json`, `${BASE}/iiif/manifest/photos.json`]) {
      const json = await fetchDoc(id);
      const parsed = parseIiifDocument(json, { url: id }) as ParsedManifest;
      assert.equal(parsed.kind, 'manifest');
      assert.equal(parsed.version, 3);
      assert.equal(parsed.skipped.length, 0, JSON.stringify(parsed.skipped));
      assert.equal(parsed.canvases.length, json.items.length);
      for (const canvas of parsed.canvases) {
        assert.equal(canvas.image.service?.version, 3);
        assert.equal(canvas.image.service?.level, 2);
        assert.ok(canvas.width && canvas.height);
        assert.match(canvas.image.url, /\/full\/max\/0\/default\.jpg$/);
      }
    }
  });

  it('every image, thumbnail and service URL in a manifest answers, at the size it declares', async () => {
    const manifest = await fetchDoc(`${BASE}/iiif/manifest.json`);
    for (const canvas of manifest.items as Json[]) {
      const body = canvas.items[0].items[0].body;
      for (const image of [body, canvas.thumbnail[0]]) {
        const res = await request(app).get(image.id.slice(BASE.length)).expect(200);
        const meta = await sharp(res.body as Buffer).metadata();
        assert.deepEqual([meta.width, meta.height], [image.width, image.height], image.id);
      }
      const v3 = await fetchDoc(`${body.service[0].id}/info.json`);
      assert.deepEqual([v3.width, v3.height], [canvas.width, canvas.height]);
      const v2 = await fetchDoc(`${body.service[1]['@id']}/info.json`);
      assert.equal(v2['@id'], body.service[1]['@id']);
    }
  });

  it('with a manifest per image, every folder is a collection of one-canvas manifests and its sub-folders', async () => {
    const perImage = publisherApp({ dir: archive.dir, baseUrl: BASE, manifestPer: 'image' }).app;
    const get = async (id: string) => (await request(perImage).get(id.slice(BASE.length)).expect(200)).body as Json;
    const root = await get(`${BASE}/iiif/collection.json`);
    assertCollection3(root);
    assert.deepEqual(
      root.items.map((i: Json) => [i.type, i.id]),
      [
        ['Manifest', `${BASE}/iiif/image-manifest/chelsea.png.json`],
        ['Manifest', `${BASE}/iiif/image-manifest/Landscape_6.jpg.json`],
        ['Manifest', `${BASE}/iiif/image-manifest/link-in.png.json`],
        ['Collection', `${BASE}/iiif/collection/letters.json`],
        ['Collection', `${BASE}/iiif/collection/photos.json`],
      ],
    );
    const letters = await get(`${BASE}/iiif/collection/letters.json`);
    assert.deepEqual(letters.items.map((i: Json) => i.label.none[0]), ['page 1', 'page 2', 'page 10', '1901']);
    const page = await get(`${BASE}/iiif/image-manifest/letters%2Fpage%2010.jpg.json`);
    assertManifest3(page);
    assert.equal(page.items.length, 1);
    assert.deepEqual(page.label, { none: ['page 10'] });
    assert.deepEqual(page.partOf, [{ id: `${BASE}/iiif/collection/letters.json`, type: 'Collection' }]);
    const parsed = parseIiifDocument(page, { url: page.id }) as ParsedManifest;
    assert.equal(parsed.canvases.length, 1);
    assert.equal(parsed.canvases[0]!.image.service?.id, `${BASE}/iiif/3/letters%2Fpage%2010.jpg`);
    // The per-folder manifests are still served, and per-image ones exist in folder mode too.
    await request(perImage).get('/iiif/manifest/letters.json').expect(200);
    await request(app).get('/iiif/image-manifest/chelsea.png.json').expect(200);
    assert.equal((await request(perImage).get('/iiif/image-manifest/nothing.jpg.json')).status, 404);
    assert.throws(() => publisherApp({ dir: archive.dir, manifestPer: 'page' as never }), /manifestPer must be "folder" or "image"/);
  });

  it('404 for folders that have no manifest or collection, with where to look', async () => {
    for (const url of ['/iiif/manifest/empty.json', '/iiif/collection/photos.json', '/iiif/manifest/nothing.json', '/iiif/collection/letters%2F1901.json']) {
      const res = await request(app).get(url);
      assert.equal(res.status, 404, url);
      assert.match(res.text, /collection\.json lists what is published/);
    }
  });

  it('an empty folder still has a root collection (with no items)', async () => {
    const empty = publisherApp({ dir: `${archive.dir}/empty` }).app;
    const res = await request(empty).get('/iiif/collection.json').expect(200);
    assert.deepEqual(res.body.items, []);
    assert.equal((await request(empty).get('/iiif/manifest.json')).status, 404);
  });

  it('images added to or removed from the folder show up at the next scan (rescanAfterMs)', async () => {
    const live = publisherApp({ dir: archive.dir, baseUrl: BASE, limits: { rescanAfterMs: 0 } }).app;
    const beforeRes = await request(live).get('/iiif/manifest/photos.json').expect(200);
    const before = beforeRes.body;
    assert.equal(before.items.length, 1);
    const added = path.join(archive.dir, 'photos', 'astronaut 2.png');
    copyFileSync(fixture('images', 'skimage', 'astronaut.png'), added);
    try {
      const afterRes = await request(live).get('/iiif/manifest/photos.json').set('If-None-Match', beforeRes.headers['etag']!).expect(200);
      assert.deepEqual(afterRes.body.items.map((c: Json) => c.label.none[0]), ['astronaut 2', 'coffee']);
      await request(live).get('/iiif/3/photos%2Fastronaut%202.png/info.json').expect(200);
    } finally {
      rmSync(added);
    }
    const restored = await request(live).get('/iiif/manifest/photos.json').expect(200);
    assert.equal(restored.body.items.length, 1);
    assert.equal(restored.headers['etag'], beforeRes.headers['etag'], 'same content, same ETag');
    assert.equal((await request(live).get('/iiif/3/photos%2Fastronaut%202.png/info.json')).status, 404);
  });

  it('manifests are cacheable (ETag, 304) and readable cross-origin', async () => {
    const first = await request(app).get('/iiif/manifest/letters.json').expect(200);
    assert.equal(first.headers['access-control-allow-origin'], '*');
    assert.ok(first.headers['etag']);
    assert.equal(first.headers['last-modified'], undefined, 'no Last-Modified: removing an image changes no modification time');
    await request(app).get('/iiif/manifest/letters.json').set('If-None-Match', first.headers['etag']!).expect(304);
    const ld = await request(app).get('/iiif/collection.json').set('Accept', 'application/ld+json').expect(200);
    assert.match(ld.headers['content-type']!, /^application\/ld\+json; profile="http:\/\/iiif\.io\/api\/presentation\/3\/context\.json"/);
  });
});
