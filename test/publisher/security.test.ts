import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import type { Express } from 'express';
import { request } from '../plugin/supertest.ts';
import { fixture, requireFixtures } from '../support/fixtures.ts';
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

    it('a truncated JPEG or PNG (header fine, pixels missing) is a 422 saying so, logged in one line, not a 500', async () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'reprise-publish-truncated-'));
      try {
        for (const name of ['truncated.jpg', 'truncated.png']) copyFileSync(fixture('images', 'decoder-edge-cases', name), path.join(dir, name));
        const errors: unknown[] = [];
        const warnings: string[] = [];
        const { app: damaged, server } = publisherApp({ dir, onError: (err) => errors.push(err), onWarning: (message) => warnings.push(message) });
        // The scan reads headers only: both are listed, and their info.json answers.
        assert.deepEqual([...(await server.ready()).images.keys()].sort(), ['truncated.jpg', 'truncated.png']);
        await request(damaged).get('/iiif/3/truncated.jpg/info.json').expect(200);
        for (const url of ['/iiif/3/truncated.jpg/full/max/0/default.jpg', '/iiif/2/truncated.png/full/full/0/default.png']) {
          const res = await request(damaged).get(url);
          assert.equal(res.status, 422, `${url}: ${res.status} ${res.text}`);
          assert.match(res.headers['content-type']!, /^text\/plain/);
          assert.match(res.text, /image "truncated\.(jpg|png)" cannot be rendered: its file could not be decoded \(.+\); it is probably truncated or damaged/);
          assert.equal(res.headers['cache-control'], undefined, 'an error is not cached as the image');
        }
        assert.deepEqual(errors, [], 'not reported as an internal error');
        assert.equal(warnings.length, 2);
        for (const w of warnings) assert.ok(!w.includes('\n'), `one line: ${w}`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('SVG files are left out with the reason, as the docs say, not silently', async () => {
      const { server } = publisherApp({ dir: archive.dir });
      const svg = (await server.ready()).skipped.find((s) => s.path === 'circle.svg');
      assert.match(svg?.reason ?? 'not reported', /vector images \(SVG\) are not published/);
      assert.equal((await request(app).get('/iiif/3/circle.svg/info.json')).status, 404);
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

    it('rotation: the turned image is what the limits bound (max and !w,h shrink, explicit sizes over are 400)', async () => {
      for (const url of ['/iiif/3/chelsea.png/full/max/45/default.jpg', '/iiif/3/chelsea.png/full/^!1000,1000/30/default.jpg', '/iiif/2/chelsea.png/full/max/!135/default.jpg']) {
        const [w, h] = await sizeOf(url);
        assert.ok(w! <= 300 && h! <= 300 && w! * h! <= 60_000, `${url}: ${w}×${h}`);
      }
      // 250×166 is within 300×300 and 60,000 pixels; turned 45° it is 294×294, over 60,000.
      await request(small).get('/iiif/3/chelsea.png/full/250,/0/default.jpg').expect(200);
      const res = await request(small).get('/iiif/3/chelsea.png/full/250,/45/default.jpg');
      assert.equal(res.status, 400, res.text);
      assert.match(res.text, /size "250," \(250×166; 294×294 once rotated 45°\) is over this server's limits/);
      // 90° swaps the sides: a low maxHeight bounds what was the width.
      const wide = publisherApp({ dir: archive.dir, limits: { maxWidth: 400, maxHeight: 200, maxArea: 400 * 200 } }).app;
      const turned = await request(wide).get('/iiif/3/chelsea.png/full/max/90/default.jpg').expect(200);
      const meta = await sharp(turned.body as Buffer).metadata();
      assert.ok(meta.height! <= 200 && meta.width! <= 400, `${meta.width}×${meta.height}`);
    });

    it('rotation at the default limits: ^max turned 45° stays within 4096×4096 (it was 4822×4822)', async () => {
      const res = await request(app).get('/iiif/3/chelsea.png/full/^max/45/default.jpg').expect(200);
      const meta = await sharp(res.body as Buffer).metadata();
      assert.ok(meta.width! <= 4096 && meta.height! <= 4096, `${meta.width}×${meta.height}`);
      assert.ok(meta.width! >= 4090, `as large as the limits allow: ${meta.width}`);
      // The canonical form names the size that was returned before turning, which asks for the same image.
      const canonical = /\/full\/\^(\d+),(\d+)\/45\/default\.jpg>;rel="canonical"/.exec(res.headers['link']!);
      assert.ok(canonical, res.headers['link']);
      const again = await request(app).get(`/iiif/3/chelsea.png/full/^${canonical[1]},${canonical[2]}/45/default.jpg`).expect(200);
      assert.deepEqual([(await sharp(again.body as Buffer).metadata()).width, (await sharp(again.body as Buffer).metadata()).height], [meta.width, meta.height]);
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

  describe('ids in the documents (what shared caches keep)', () => {
    /** Every URL in the documents a client is served, with `Host` sent as given. */
    async function idsSeenWith(target: Express, host: string): Promise<string[]> {
      const send = (url: string) => request(target).get(url).set('Host', host).set('X-Forwarded-Host', host);
      const info3 = await send('/iiif/3/chelsea.png/info.json').expect(200);
      const info2 = await send('/iiif/2/chelsea.png/info.json').expect(200);
      const collection = await send('/iiif/collection.json').expect(200);
      const manifest = await send('/iiif/manifest.json').expect(200);
      const redirect = await send('/iiif/3/chelsea.png').expect(303);
      const image = await send('/iiif/3/chelsea.png/full/50,/0/default.jpg').expect(200);
      return [info3.body.id, info2.body['@id'], collection.body.id, ...JSON.stringify(manifest.body).match(/https?:\/\/(?!iiif\.io\/)[^"]+/g)!, redirect.headers['location']!, image.headers['link']!];
    }

    it("without a base URL, a client's Host header never becomes the ids: they name the address the server listens on", async () => {
      const seen = await idsSeenWith(app, 'attacker.example');
      for (const url of seen) {
        assert.ok(!url.includes('attacker.example'), `the Host header leaked into ${url}`);
        assert.match(url, /(^|<)http:\/\/127\.0\.0\.1:\d+/, url);
      }
    });

    it('a Host header that allowedHosts lists names the server (with or without a port); others get its own address', async () => {
      const allowing = publisherApp({ dir: archive.dir, allowedHosts: ['images.example.org', 'Photos.Example.org:8443'] }).app;
      for (const url of await idsSeenWith(allowing, 'images.example.org:8182')) assert.match(url, /(^|<)http:\/\/images\.example\.org:8182\//, url);
      for (const url of await idsSeenWith(allowing, 'photos.example.org:8443')) assert.match(url, /(^|<)http:\/\/photos\.example\.org:8443\//, url);
      for (const host of ['photos.example.org:9000', 'attacker.example', 'images.example.org.attacker.example', 'images.example.org@attacker.example']) {
        for (const url of await idsSeenWith(allowing, host)) assert.match(url, /(^|<)http:\/\/127\.0\.0\.1:\d+\//, `${host}: ${url}`);
      }
    });

    it('a configured baseUrl wins over any Host; malformed allowedHosts entries are refused when the router is created', async () => {
      const fixed = publisherApp({ dir: archive.dir, baseUrl: 'https://images.example.org/archive', allowedHosts: ['other.example'] }).app;
      for (const url of await idsSeenWith(fixed, 'other.example')) assert.match(url, /(^|<)https:\/\/images\.example\.org\/archive\/iiif\//, url);
      for (const entry of ['https://images.example.org', 'images.example.org/path', '', 'a b', 'host:99999']) {
        assert.throws(() => publisherApp({ dir: archive.dir, allowedHosts: [entry] }), /allowedHosts entry .* is not a host name or host:port/, entry);
      }
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
