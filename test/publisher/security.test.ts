import assert from 'node:assert/strict';
import { rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { Express } from 'express';
import { request } from '../plugin/supertest.ts';
import { requireFixtures } from '../support/fixtures.ts';
import { enc, makeArchive, publisherApp, type Archive } from './archive.ts';
import { resolveLimits } from '../../publisher/index.ts';

describe('publisher: what it refuses', function () {
  requireFixtures(this);
  this.timeout(60_000);
  let archive: Archive;
  let app: Express;

  before(() => {
    archive = makeArchive();
    ({ app } = publisherApp({ dir: archive.dir }));
  });
  after(() => archive?.remove());

  describe('paths out of the folder', () => {
    it('ids are looked up, never joined onto the filesystem: ../, encoded, double-encoded and absolute paths are 404', async () => {
      const secret = path.join(archive.outside, 'secret.png');
      const attempts = [
        `/iiif/3/..%2Fsecret%2Fsecret.png/info.json`,
        `/iiif/3/%2E%2E%2Fsecret%2Fsecret.png/info.json`,
        `/iiif/3/..%252Fsecret%252Fsecret.png/info.json`,
        `/iiif/3/../secret/secret.png/info.json`,
        `/iiif/2/..%2F..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd/full/full/0/default.jpg`,
        `/iiif/3/${enc(secret)}/info.json`,
        `/iiif/3/${enc(secret)}/full/max/0/default.png`,
        `/iiif/3/%2Fetc%2Fpasswd/info.json`,
        `/iiif/3/letters%2F..%2F..%2Fsecret%2Fsecret.png/info.json`,
        `/iiif/3/chelsea.png%00.jpg/info.json`,
        `/iiif/manifest/..%2Fsecret.json`,
        `/iiif/collection/..%2F..%2Fetc.json`,
      ];
      for (const url of attempts) {
        const res = await request(app).get(url);
        assert.equal(res.status, 404, `${url}: ${res.status} ${res.text}`);
        assert.ok(!Buffer.isBuffer(res.body), `${url} returned no image`);
      }
    });

    it('malformed percent-encoding is a 400, not a crash', async () => {
      const res = await request(app).get('/iiif/3/chelsea%E0%A4%A.png/info.json');
      assert.equal(res.status, 400);
      assert.match(res.text, /percent-encoding/);
    });

    it('symbolic links out of the folder are left out of the scan and never served; links inside are served', async () => {
      const { server } = publisherApp({ dir: archive.dir });
      const scan = await server.ready();
      const reasons = new Map(scan.skipped.map((s) => [s.path, s.reason]));
      assert.match(reasons.get('link-out.png')!, /outside the published folder/);
      assert.match(reasons.get('folder-out')!, /outside the published folder/);
      for (const url of ['/iiif/3/link-out.png/info.json', '/iiif/3/folder-out%2Fsecret.png/info.json', '/iiif/3/folder-out/secret.png/full/max/0/default.jpg']) {
        assert.equal((await request(app).get(url)).status, 404, url);
      }
      const inside = await request(app).get('/iiif/3/link-in.png/info.json').expect(200);
      assert.deepEqual([inside.body.width, inside.body.height], [451, 300]);
    });

    it('a link swapped to point outside after the scan is refused when asked for', async () => {
      const { app: own, server } = publisherApp({ dir: archive.dir });
      await server.ready();
      await request(own).get('/iiif/3/link-in.png/info.json').expect(200);
      const link = path.join(archive.dir, 'link-in.png');
      rmSync(link);
      symlinkSync(path.join(archive.outside, 'secret.png'), link);
      try {
        assert.equal((await request(own).get('/iiif/3/link-in.png/full/max/0/default.png')).status, 404);
        assert.equal((await request(own).get('/iiif/3/link-in.png/info.json')).status, 404);
      } finally {
        rmSync(link);
        symlinkSync('chelsea.png', link);
      }
    });

    it('hidden files are not published', async () => {
      assert.equal((await request(app).get('/iiif/3/.hidden.jpg/info.json')).status, 404);
    });
  });

  describe('images it will not decode', () => {
    it('a decompression bomb (65536×65536 PNG) is refused from its header, with the reason', async () => {
      const { server } = publisherApp({ dir: archive.dir });
      const scan = await server.ready();
      const bomb = scan.skipped.find((s) => s.path === 'bomb.png');
      assert.match(bomb!.reason, /65536×65536 pixels is over the limit of 100000000 \(maxInputPixels\)/);
      assert.equal((await request(app).get('/iiif/3/bomb.png/full/max/0/default.jpg')).status, 404);
      const corrupt = scan.skipped.find((s) => s.path === 'corrupt.jpg');
      assert.match(corrupt!.reason, /not a readable image/);
    });

    it('maxInputPixels is configurable: a lower one leaves out images above it', async () => {
      const { app: strict, server } = publisherApp({ dir: archive.dir, limits: { maxInputPixels: 200_000 } });
      const scan = await server.ready();
      // chelsea is 451×300 = 135,300 pixels; coffee is 600×400 = 240,000.
      assert.ok(scan.images.has('chelsea.png'));
      assert.ok(!scan.images.has('photos/coffee.png'));
      assert.equal((await request(strict).get('/iiif/3/photos%2Fcoffee.png/info.json')).status, 404);
    });
  });

  describe('oversized requests', () => {
    const limits = { maxWidth: 300, maxHeight: 300, maxArea: 300 * 200 };
    let small: Express;
    before(() => {
      small = publisherApp({ dir: archive.dir, limits }).app;
    });
    const sizeOf = async (url: string) => {
      const res = await request(small).get(url);
      assert.equal(res.status, 200, `${url}: ${res.text}`);
      const meta = await sharp(res.body as Buffer).metadata();
      return [meta.width, meta.height];
    };

    it('advertises the limits in info.json (v3 top level, v2 profile) and lists only sizes within them', async () => {
      const v3 = await request(small).get('/iiif/3/chelsea.png/info.json').expect(200);
      assert.deepEqual([v3.body.maxWidth, v3.body.maxHeight, v3.body.maxArea], [300, 300, 60_000]);
      for (const s of v3.body.sizes) assert.ok(s.width <= 300 && s.height <= 300 && s.width * s.height <= 60_000, JSON.stringify(s));
      assert.ok(v3.body.tiles[0].width <= 300);
      const v2 = await request(small).get('/iiif/2/chelsea.png/info.json').expect(200);
      assert.deepEqual([v2.body.profile[1].maxWidth, v2.body.profile[1].maxHeight, v2.body.profile[1].maxArea], [300, 300, 60_000]);
    });

    it('max and !w,h are brought within the limits; the manifest body says the size max gives', async () => {
      const [w, h] = await sizeOf('/iiif/3/chelsea.png/full/max/0/default.jpg');
      assert.ok(w! <= 300 && h! <= 300 && w! * h! <= 60_000, `${w}×${h}`);
      assert.deepEqual([w, h], [300, 199]);
      assert.deepEqual(await sizeOf('/iiif/3/chelsea.png/full/!1000,1000/0/default.jpg'), [300, 199]);
      assert.deepEqual(await sizeOf('/iiif/2/chelsea.png/full/max/0/default.jpg'), [300, 199]);
      const manifest = await request(small).get('/iiif/manifest.json').expect(200);
      const body = manifest.body.items[0].items[0].items[0].body;
      assert.deepEqual([body.width, body.height], [300, 199]);
    });

    it('explicit sizes over the limits are refused (400) with the limits in the message', async () => {
      for (const url of ['/iiif/3/chelsea.png/full/400,/0/default.jpg', '/iiif/3/chelsea.png/full/^1000,1000/0/default.jpg', '/iiif/2/chelsea.png/full/full/0/default.jpg', '/iiif/2/chelsea.png/full/pct:90/0/default.jpg', '/iiif/3/chelsea.png/full/250,250/0/default.jpg']) {
        const res = await request(small).get(url);
        assert.equal(res.status, 400, `${url}: ${res.text}`);
        assert.match(res.text, /over this server's limits \(maxWidth 300, maxHeight 300, maxArea 60000/);
      }
    });

    it('with upscaling switched off, upscaling requests are 501 and the feature is not advertised', async () => {
      const noUp = publisherApp({ dir: archive.dir, limits: { allowUpscaling: false } }).app;
      for (const url of ['/iiif/3/chelsea.png/full/^pct:150/0/default.jpg', '/iiif/2/chelsea.png/full/600,/0/default.jpg']) {
        const res = await request(noUp).get(url);
        assert.equal(res.status, 501, `${url}: ${res.text}`);
        assert.match(res.text, /does not upscale/);
      }
      const [w] = await (async () => {
        const res = await request(noUp).get('/iiif/2/chelsea.png/full/!1000,1000/0/default.jpg').expect(200);
        const meta = await sharp(res.body as Buffer).metadata();
        return [meta.width];
      })();
      assert.equal(w, 451, 'v2 !w,h stays at full size without upscaling');
      const v3 = await request(noUp).get('/iiif/3/chelsea.png/info.json').expect(200);
      assert.ok(!v3.body.extraFeatures.includes('sizeUpscaling'));
      const v2 = await request(noUp).get('/iiif/2/chelsea.png/info.json').expect(200);
      assert.ok(!v2.body.profile[1].supports.includes('sizeAboveFull'));
    });

    it('renders beyond the queue are turned away with 503 and Retry-After', async () => {
      const busy = publisherApp({ dir: archive.dir, limits: { maxConcurrentRenders: 1, maxQueuedRenders: 1 } });
      await busy.server.ready();
      const urls = Array.from({ length: 8 }, (_, i) => `/iiif/3/photos%2Fcoffee.png/full/^${2000 + i},/0/${i % 2 ? 'gray' : 'default'}.png`);
      const results = await Promise.all(urls.map((u) => request(busy.app).get(u)));
      const statuses = results.map((r) => r.status);
      assert.ok(statuses.includes(200), statuses.join());
      const refused = results.filter((r) => r.status === 503);
      assert.ok(refused.length >= 1, statuses.join());
      assert.equal(refused[0]!.headers['retry-after'], '1');
      assert.match(refused[0]!.text, /try again shortly/);
    });

    it('limits that cannot work are refused when the router is created', () => {
      assert.throws(() => resolveLimits({ maxWidth: 0 }), /maxWidth must be a positive integer/);
      assert.throws(() => resolveLimits({ maxWidth: 10 }), /at least 64/);
      assert.throws(() => resolveLimits({ maxDepth: -1 }), /maxDepth/);
    });
  });

  describe('bounded scans', () => {
    it('stops at maxImages and maxDepth, saying so', async () => {
      const capped = publisherApp({ dir: archive.dir, limits: { maxImages: 2 } });
      const scan = await capped.server.ready();
      assert.equal(scan.images.size, 2);
      assert.match(scan.truncated!, /maxImages/);
      const shallow = publisherApp({ dir: archive.dir, limits: { maxDepth: 1 } });
      const s2 = await shallow.server.ready();
      assert.ok(!s2.images.has('letters/1901/kids.jpg'));
      assert.match(s2.skipped.find((s) => s.path === 'letters/1901')!.reason, /maxDepth/);
      const few = publisherApp({ dir: archive.dir, limits: { maxEntries: 3 } });
      assert.match((await few.server.ready()).truncated!, /maxEntries/);
    });

    it('a folder that does not exist is a clear error', async () => {
      const missing = publisherApp({ dir: path.join(archive.outside, 'nope') });
      await assert.rejects(missing.server.ready(), /does not exist: give the folder of images to publish/);
      const file = publisherApp({ dir: path.join(archive.outside, 'secret.png') });
      await assert.rejects(file.server.ready(), /is not a folder/);
    });
  });
});
