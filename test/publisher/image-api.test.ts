import assert from 'node:assert/strict';
import { copyFileSync, utimesSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { Express } from 'express';
import { request, type TestRequest, type TestResponse } from '../plugin/supertest.ts';
import { fixture, requireFixtures } from '../support/fixtures.ts';
import { makeArchive, publisherApp, type Archive } from './archive.ts';
import { assertInfoJson2, assertInfoJson3 } from './spec-shapes.ts';

const CHELSEA = { width: 451, height: 300 };

async function pixels(buf: Buffer): Promise<{ data: Buffer; width: number; height: number; channels: number }> {
  const { data, info } = await sharp(buf).raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

async function dims(res: TestResponse): Promise<[number, number]> {
  assert.equal(res.status, 200, res.text);
  const meta = await sharp(res.body as Buffer).metadata();
  return [meta.width!, meta.height!];
}

/** Largest per-channel difference between two raw images of the same size. */
function maxDiff(a: { data: Buffer }, b: { data: Buffer }): number {
  assert.equal(a.data.length, b.data.length, 'same size and channels');
  let max = 0;
  for (let i = 0; i < a.data.length; i++) max = Math.max(max, Math.abs(a.data[i]! - b.data[i]!));
  return max;
}

describe('publisher: IIIF Image API 2.1 and 3.0', function () {
  requireFixtures(this);
  this.timeout(60_000);
  let archive: Archive;
  let app: Express;
  let chelseaFile: string;
  const get = (url: string) => request(app).get(url);

  before(async () => {
    archive = makeArchive();
    ({ app } = publisherApp({ dir: archive.dir }));
    chelseaFile = path.join(archive.dir, 'chelsea.png');
  });
  after(() => archive?.remove());

  describe('info.json', () => {
    it('v3: has every required key with the spec values, the limits, sizes and tiles', async () => {
      const res = await get('/iiif/3/chelsea.png/info.json').expect(200);
      const id = `${new URL(res.body.id).origin}/iiif/3/chelsea.png`;
      assertInfoJson3(res.body, id);
      assert.equal(res.body.profile, 'level2');
      assert.deepEqual([res.body.width, res.body.height], [CHELSEA.width, CHELSEA.height]);
      assert.deepEqual([res.body.maxWidth, res.body.maxHeight, res.body.maxArea], [4096, 4096, 4096 * 4096]);
      assert.deepEqual(res.body.sizes.at(-1), CHELSEA, 'the full size is listed last (sizes ascending)');
      assert.deepEqual(res.body.tiles, [{ width: 512, height: 512, scaleFactors: [1] }], 'one 512 tile covers 451×300');
      assert.ok(res.body.extraFormats.includes('webp'));
      assert.deepEqual(new Set(res.body.extraQualities), new Set(['color', 'gray', 'bitonal']));
      assert.ok(res.body.extraFeatures.includes('mirroring') && res.body.extraFeatures.includes('sizeUpscaling'));
      assert.match(res.headers['content-type']!, /^application\/json/);
      assert.equal(res.headers['link'], '<http://iiif.io/api/image/3/level2.json>;rel="profile"');
    });

    it('v2: has every required key, a level 2 profile with formats, qualities, supports and limits', async () => {
      const res = await get('/iiif/2/chelsea.png/info.json').expect(200);
      assertInfoJson2(res.body, `${new URL(res.body['@id']).origin}/iiif/2/chelsea.png`);
      const [level, description] = res.body.profile;
      assert.equal(level, 'http://iiif.io/api/image/2/level2.json');
      for (const feature of ['regionByPx', 'regionByPct', 'sizeByW', 'sizeByH', 'sizeByPct', 'sizeByConfinedWh', 'sizeByDistortedWh', 'rotationBy90s', 'mirroring', 'cors', 'baseUriRedirect', 'jsonldMediaType']) {
        assert.ok(description.supports.includes(feature), `supports ${feature}`);
      }
      assert.deepEqual(description.qualities, ['default', 'color', 'gray', 'bitonal']);
      assert.ok(['jpg', 'png', 'webp'].every((f) => description.formats.includes(f)));
      assert.equal(description.maxWidth, 4096);
      assert.equal(res.headers['link'], '<http://iiif.io/api/image/2/level2.json>;rel="profile"');
    });

    it('answers JSON-LD with the context as profile when the client asks for it', async () => {
      const v3 = await get('/iiif/3/chelsea.png/info.json').set('Accept', 'application/ld+json').expect(200);
      assert.equal(v3.headers['content-type'], 'application/ld+json; profile="http://iiif.io/api/image/3/context.json"; charset=utf-8');
      const v2 = await get('/iiif/2/chelsea.png/info.json').set('Accept', 'application/ld+json').expect(200);
      assert.match(v2.headers['content-type']!, /^application\/ld\+json; profile="http:\/\/iiif\.io\/api\/image\/2\/context\.json"/);
      assert.match(v2.headers['vary']!, /Accept/);
    });

    it('gives the displayed size of an EXIF-rotated photograph, and serves it that way', async () => {
      // Landscape_6.jpg is stored 450×600 with orientation 6: shown 600×450.
      const info = await get('/iiif/3/Landscape_6.jpg/info.json').expect(200);
      assert.deepEqual([info.body.width, info.body.height], [600, 450]);
      assert.deepEqual(await dims(await get('/iiif/3/Landscape_6.jpg/full/max/0/default.jpg')), [600, 450]);
      assert.deepEqual(await dims(await get('/iiif/3/Landscape_6.jpg/0,0,300,100/max/0/default.png')), [300, 100]);
    });

    it('redirects the bare image URI to its info.json (303)', async () => {
      for (const version of [2, 3]) {
        const res = await get(`/iiif/${version}/chelsea.png`).expect(303);
        assert.match(res.headers['location']!, new RegExp(`/iiif/${version}/chelsea\\.png/info\\.json$`));
      }
      const nested = await get('/iiif/3/letters%2Fpage%2010.jpg').expect(303);
      assert.match(nested.headers['location']!, /\/iiif\/3\/letters%2Fpage%2010\.jpg\/info\.json$/);
    });

    it('serves ids with encoded and unencoded slashes alike', async () => {
      const encoded = await get('/iiif/3/letters%2F1901%2Fkids.jpg/info.json').expect(200);
      const plain = await get('/iiif/3/letters/1901/kids.jpg/info.json').expect(200);
      assert.equal(new URL(encoded.body.id).pathname, new URL(plain.body.id).pathname);
      assert.match(encoded.body.id, /\/iiif\/3\/letters%2F1901%2Fkids\.jpg$/);
      assert.deepEqual(await dims(await get('/iiif/3/letters/1901/kids.jpg/full/100,/0/default.jpg')), [100, Math.round((100 * plain.body.height) / plain.body.width)]);
    });
  });

  describe('region', () => {
    it('full, square (centred), x,y,w,h and pct:x,y,w,h', async () => {
      assert.deepEqual(await dims(await get('/iiif/3/chelsea.png/full/max/0/default.png')), [451, 300]);
      assert.deepEqual(await dims(await get('/iiif/3/chelsea.png/square/max/0/default.png')), [300, 300]);
      assert.deepEqual(await dims(await get('/iiif/3/chelsea.png/10,20,100,50/max/0/default.png')), [100, 50]);
      assert.deepEqual(await dims(await get('/iiif/3/chelsea.png/pct:10,10,50,50/max/0/default.png')), [226, 150]);
      assert.deepEqual(await dims(await get('/iiif/2/chelsea.png/pct:0,0,25.5,100/full/0/default.png')), [115, 300]);
    });

    it('returns exactly the pixels of the region asked for (square and x,y,w,h against sharp)', async () => {
      const px = await pixels((await get('/iiif/3/chelsea.png/10,20,100,50/max/0/default.png').expect(200)).body);
      const expected = await pixels(await sharp(chelseaFile).extract({ left: 10, top: 20, width: 100, height: 50 }).png().toBuffer());
      assert.equal(maxDiff(px, expected), 0);
      const square = await pixels((await get('/iiif/2/chelsea.png/square/full/0/default.png').expect(200)).body);
      const centred = await pixels(await sharp(chelseaFile).extract({ left: 75, top: 0, width: 300, height: 300 }).png().toBuffer());
      assert.equal(maxDiff(square, centred), 0);
    });

    it('clips a region that runs past the edge, and canonicalises it in the Link header', async () => {
      const res = await get('/iiif/3/chelsea.png/400,250,100,100/max/0/default.jpg');
      assert.deepEqual(await dims(res), [51, 50]);
      assert.match(res.headers['link']!, /\/iiif\/3\/chelsea\.png\/400,250,51,50\/max\/0\/default\.jpg>;rel="canonical"/);
      const pct = await get('/iiif/3/chelsea.png/pct:0,0,100,100/max/0/default.jpg').expect(200);
      assert.match(pct.headers['link']!, /\/full\/max\/0\/default\.jpg>;rel="canonical"/);
    });

    it('refuses regions outside the image, empty or malformed (400, naming the region)', async () => {
      for (const region of ['451,0,10,10', '0,300,10,10', '0,0,0,10', 'pct:0,0,0,50', '1,2,3', 'pct:a,0,1,1', '-1,0,10,10', 'centre', 'pct:1,1,1,1,1']) {
        const res = await get(`/iiif/3/chelsea.png/${region}/max/0/default.jpg`);
        assert.equal(res.status, 400, `region ${region}: ${res.text}`);
        assert.match(res.headers['content-type']!, /^text\/plain/);
        assert.match(res.text, /region/);
      }
    });
  });

  describe('size', () => {
    const sizeOf = async (version: number, size: string) => dims(await get(`/iiif/${version}/chelsea.png/full/${size}/0/default.jpg`));

    it('v3: max, w,, ,h, pct:n, w,h and !w,h', async () => {
      assert.deepEqual(await sizeOf(3, 'max'), [451, 300]);
      assert.deepEqual(await sizeOf(3, '200,'), [200, 133]);
      assert.deepEqual(await sizeOf(3, ',100'), [150, 100]);
      assert.deepEqual(await sizeOf(3, 'pct:50'), [226, 150]);
      assert.deepEqual(await sizeOf(3, '100,100'), [100, 100]);
      assert.deepEqual(await sizeOf(3, '!100,100'), [100, 67]);
    });

    it('v3: upscaling only behind ^ (and !w,h larger than the image returns the image, not an error)', async () => {
      assert.deepEqual(await sizeOf(3, '!1000,1000'), [451, 300]);
      assert.deepEqual(await sizeOf(3, '^!1000,1000'), [1000, 665]);
      assert.deepEqual(await sizeOf(3, '^500,'), [500, 333]);
      assert.deepEqual(await sizeOf(3, '^pct:150'), [677, 450]);
      // ^max: as large as the limits allow (maxWidth 4096 binds first).
      assert.deepEqual(await sizeOf(3, '^max'), [4096, 2724]);
      for (const size of ['500,', ',301', '452,300', 'pct:150']) {
        const res = await get(`/iiif/3/chelsea.png/full/${size}/0/default.jpg`);
        assert.equal(res.status, 400, `${size}: ${res.text}`);
        assert.match(res.text, /\^/, 'the message says to use ^');
      }
    });

    it('v2: full and max, sizes above full without a prefix (sizeAboveFull), no ^', async () => {
      assert.deepEqual(await sizeOf(2, 'full'), [451, 300]);
      assert.deepEqual(await sizeOf(2, 'max'), [451, 300]);
      assert.deepEqual(await sizeOf(2, '200,'), [200, 133]);
      assert.deepEqual(await sizeOf(2, '!1000,1000'), [1000, 665]);
      assert.deepEqual(await sizeOf(2, 'pct:200'), [902, 600]);
      const caret = await get('/iiif/2/chelsea.png/full/^200,/0/default.jpg');
      assert.equal(caret.status, 400);
      assert.match(caret.text, /Image API 3/);
    });

    it('refuses full in v3, zero and malformed sizes (400, naming the size)', async () => {
      for (const [version, size] of [[3, 'full'], [3, '0,'], [3, ',0'], [3, 'pct:0'], [3, '!0,10'], [3, ','], [3, '10'], [3, 'abc'], [3, '1.5,'], [2, '10,10,10'], [3, 'pct:0.01']] as const) {
        const res = await get(`/iiif/${version}/chelsea.png/full/${size}/0/default.jpg`);
        assert.equal(res.status, 400, `v${version} size ${size}: ${res.text}`);
        assert.match(res.text, /size/);
      }
    });

    it('gives canonical sizes in the Link header (v3 w,h or max; v2 w, or full)', async () => {
      const v3 = await get('/iiif/3/chelsea.png/full/pct:50/0/default.jpg').expect(200);
      assert.match(v3.headers['link']!, /\/full\/226,150\/0\/default\.jpg>;rel="canonical"/);
      const v2 = await get('/iiif/2/chelsea.png/full/,150/0/default.jpg').expect(200);
      assert.match(v2.headers['link']!, /\/full\/226,\/0\/default\.jpg>;rel="canonical"/);
      const v2full = await get('/iiif/2/chelsea.png/full/max/0/default.jpg').expect(200);
      assert.match(v2full.headers['link']!, /\/full\/full\/0\/default\.jpg>;rel="canonical"/);
    });
  });

  describe('rotation', () => {
    const png = async (url: string) => pixels((await get(url).expect(200)).body);
    const region = { left: 10, top: 20, width: 100, height: 50 };

    it('90, 180 and 270 turn the image clockwise', async () => {
      for (const degrees of [90, 180, 270]) {
        const got = await png(`/iiif/3/chelsea.png/10,20,100,50/max/${degrees}/default.png`);
        const expected = await pixels(await sharp(await sharp(chelseaFile).extract(region).png().toBuffer()).rotate(degrees).png().toBuffer());
        assert.deepEqual([got.width, got.height], degrees === 180 ? [100, 50] : [50, 100]);
        assert.equal(maxDiff(got, expected), 0, `rotation ${degrees}`);
      }
    });

    it('! mirrors before rotating', async () => {
      const extracted = await sharp(chelseaFile).extract(region).png().toBuffer();
      const mirrored = await png('/iiif/3/chelsea.png/10,20,100,50/max/!0/default.png');
      assert.equal(maxDiff(mirrored, await pixels(await sharp(extracted).flop().png().toBuffer())), 0);
      const mirroredTurned = await png('/iiif/2/chelsea.png/10,20,100,50/full/!90/default.png');
      const flopped = await sharp(extracted).flop().png().toBuffer();
      assert.equal(maxDiff(mirroredTurned, await pixels(await sharp(flopped).rotate(90).png().toBuffer())), 0);
    });

    it('arbitrary angles give the bounding box of the turned image', async () => {
      const [w, h] = await dims(await get('/iiif/3/chelsea.png/0,0,100,100/max/45/default.png'));
      assert.ok(Math.abs(w - 141) <= 2 && Math.abs(h - 141) <= 2, `${w}×${h}`);
    });

    it('refuses angles outside 0–360 and anything that is not a number (400)', async () => {
      for (const rotation of ['361', '-90', 'abc', '!!90', '90deg', '!']) {
        const res = await get(`/iiif/3/chelsea.png/full/max/${rotation}/default.jpg`);
        assert.equal(res.status, 400, `rotation ${rotation}: ${res.text}`);
        assert.match(res.text, /rotation/);
      }
    });
  });

  describe('quality', () => {
    it('default and color keep colour, gray is grey, bitonal is black and white', async () => {
      const url = (q: string) => `/iiif/3/chelsea.png/0,0,120,80/max/0/${q}.png`;
      const colour = await pixels((await get(url('default')).expect(200)).body);
      let coloured = 0;
      for (let i = 0; i < colour.data.length; i += colour.channels) if (colour.data[i] !== colour.data[i + 1]) coloured++;
      assert.ok(coloured > 100, 'the cat photograph has colour');
      assert.equal(maxDiff(colour, await pixels((await get(url('color')).expect(200)).body)), 0);
      const gray = await pixels((await get(url('gray')).expect(200)).body);
      for (let i = 0; i < gray.data.length; i += gray.channels) {
        if (gray.channels >= 3) assert.ok(gray.data[i] === gray.data[i + 1] && gray.data[i] === gray.data[i + 2], 'grey pixels');
      }
      const bitonal = await pixels((await get(url('bitonal')).expect(200)).body);
      const values = new Set(bitonal.data);
      assert.deepEqual([...values].sort((a, b) => a - b), [0, 255]);
    });

    it('refuses unknown qualities, with a hint for the usual mistakes (400)', async () => {
      const grey = await get('/iiif/3/chelsea.png/full/max/0/grey.jpg');
      assert.equal(grey.status, 400);
      assert.match(grey.text, /quality.*"grey".*gray/);
      const native = await get('/iiif/2/chelsea.png/full/full/0/native.jpg');
      assert.equal(native.status, 400);
      assert.match(native.text, /Image API 1/);
    });
  });

  describe('format', () => {
    it('jpg, png, webp, gif and tif, with their media types and bytes', async () => {
      const expected = { jpg: ['image/jpeg', 'jpeg'], png: ['image/png', 'png'], webp: ['image/webp', 'webp'], gif: ['image/gif', 'gif'], tif: ['image/tiff', 'tiff'] };
      for (const [format, [type, sharpFormat]] of Object.entries(expected)) {
        const res = await get(`/iiif/3/chelsea.png/full/100,/0/default.${format}`).expect(200);
        assert.equal(res.headers['content-type'], type);
        assert.equal(res.headers['x-content-type-options'], 'nosniff');
        assert.equal((await sharp(res.body as Buffer).metadata()).format, sharpFormat);
      }
    });

    it('refuses formats it does not serve (400), naming the ones it does', async () => {
      for (const format of ['jp2', 'pdf', 'jpeg', 'bmp']) {
        const res = await get(`/iiif/3/chelsea.png/full/max/0/default.${format}`);
        assert.equal(res.status, 400, format);
        assert.match(res.text, /format.*jpg, png, webp/);
      }
      assert.equal((await get('/iiif/3/chelsea.png/full/max/0/default')).status, 400);
    });
  });

  describe('HTTP', () => {
    it('404 for an unknown id, as plain text saying where the list is', async () => {
      for (const url of ['/iiif/3/nothing.jpg/info.json', '/iiif/2/nothing.jpg/full/max/0/default.jpg', '/iiif/3/nothing.jpg']) {
        const res = await get(url);
        assert.equal(res.status, 404, url);
        assert.match(res.headers['content-type']!, /^text\/plain/);
        assert.match(res.text, /nothing\.jpg/);
      }
    });

    it('CORS: Access-Control-Allow-Origin * on every answer, errors included, and preflights answered', async () => {
      for (const url of ['/iiif/3/chelsea.png/info.json', '/iiif/3/chelsea.png/full/50,/0/default.jpg', '/iiif/3/chelsea.png/full/full/0/default.jpg', '/iiif/3/nothing.jpg/info.json', '/iiif/collection.json']) {
        const res = await get(url).set('Origin', 'https://viewer.example.org');
        assert.equal(res.headers['access-control-allow-origin'], '*', url);
        assert.match(res.headers['access-control-expose-headers']!, /Link/);
      }
      const preflight = await request(app)
        .options('/iiif/3/chelsea.png/info.json')
        .set('Origin', 'https://viewer.example.org')
        .set('Access-Control-Request-Method', 'GET')
        .set('Access-Control-Request-Headers', 'If-None-Match')
        .expect(204);
      assert.equal(preflight.headers['access-control-allow-origin'], '*');
      assert.match(preflight.headers['access-control-allow-methods']!, /GET/);
      assert.equal(preflight.headers['access-control-allow-headers'], 'If-None-Match');
    });

    it('only GET and HEAD (405 otherwise); HEAD has the headers and no body', async () => {
      const post = await request(app).post('/iiif/3/chelsea.png/info.json').expect(405);
      assert.match(post.headers['allow']!, /GET/);
      const agent = request(app) as unknown as { head(url: string): TestRequest };
      const head = await agent.head('/iiif/3/chelsea.png/full/50,/0/default.jpg').expect(200);
      assert.ok(Number(head.headers['content-length']) > 0);
      assert.equal(head.headers['content-type'], 'image/jpeg');
      assert.ok(!head.text);
    });

    it('ETag and Last-Modified from the file: 304 when unchanged, new ones when the file changes', async () => {
      // A fixed base URL: info.json names its own address, so its ETag depends on it.
      const fixed = publisherApp({ dir: archive.dir, baseUrl: 'http://images.test' }).app;
      const get = (u: string) => request(fixed).get(u);
      const url = '/iiif/3/chelsea.png/full/120,/0/default.jpg';
      const first = await get(url).expect(200);
      const etag = first.headers['etag']!;
      assert.ok(etag && first.headers['last-modified']);
      assert.match(first.headers['cache-control']!, /public, max-age=\d+/);
      await get(url).set('If-None-Match', etag).expect(304);
      await get(url).set('If-Modified-Since', first.headers['last-modified']!).expect(304);
      const info = await get('/iiif/3/chelsea.png/info.json').expect(200);
      await get('/iiif/3/chelsea.png/info.json').set('If-None-Match', info.headers['etag']!).expect(304);
      // Another picture under the same name: new validators, and info.json tells its new size.
      copyFileSync(fixture('images', 'skimage', 'coffee.png'), chelseaFile);
      utimesSync(chelseaFile, new Date(), new Date(Date.now() + 5000));
      try {
        const changed = await get(url).set('If-None-Match', etag).expect(200);
        assert.notEqual(changed.headers['etag'], etag);
        const newInfo = await get('/iiif/3/chelsea.png/info.json').expect(200);
        assert.deepEqual([newInfo.body.width, newInfo.body.height], [600, 400]);
      } finally {
        copyFileSync(fixture('images', 'skimage', 'chelsea.png'), chelseaFile);
        utimesSync(chelseaFile, new Date(), new Date(Date.now() + 10_000));
      }
    });

    it('mounted under a path, ids follow the mount; a fixed baseUrl overrides what requests say', async () => {
      const mounted = publisherApp({ dir: archive.dir }, '/images').app;
      const info = await request(mounted).get('/images/iiif/3/chelsea.png/info.json').expect(200);
      assert.match(info.body.id, /^http:\/\/127\.0\.0\.1:\d+\/images\/iiif\/3\/chelsea\.png$/);
      const fixed = publisherApp({ dir: archive.dir, baseUrl: 'https://images.example.org/archive/' }).app;
      const v2 = await request(fixed).get('/iiif/2/chelsea.png/info.json').expect(200);
      assert.equal(v2.body['@id'], 'https://images.example.org/archive/iiif/2/chelsea.png');
      // Paths that are not the publisher's go on to the app.
      assert.equal((await request(mounted).get('/images/other')).status, 404);
    });
  });
});
