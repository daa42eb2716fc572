import assert from 'node:assert/strict';
import express from 'express';
import { request } from './supertest.ts';
import type { IndexedRecord } from '../../harvester/stage.ts';
import { InvalidQueryError, StoreUnavailableError } from '../../store/errors.ts';
import type { ItemFields } from '../../store/types.ts';
import { feedbackQuery, CancelledOutError } from '../../plugin/feedback.ts';
import { shapeHit, shapeItemDetails } from '../../plugin/hits.ts';
import { parseImageApiUrl, parseXywh, sizedImageApiUrl } from '../../plugin/iiif-requests.ts';
import { sniffImageType } from '../../plugin/image-bytes.ts';
import { Metrics } from '../../plugin/metrics.ts';
import { problemJson } from '../../plugin/middleware/problem-json.ts';
import { rateLimit } from '../../plugin/middleware/rate-limit.ts';
import { canvasBoxToImage, thumbnailUrl } from '../../plugin/thumbnails.ts';

type Rec = Partial<IndexedRecord>;

const v3: Rec = {
  width: 1000,
  height: 800,
  image: { url: 'https://img.example/iiif/3/a/full/max/0/default.jpg', width: 2000, height: 1600, service: { id: 'https://img.example/iiif/3/a', version: 3, level: 2 } },
  imageUrl: 'https://img.example/iiif/3/a/full/!640,640/0/default.jpg',
};

describe('plugin: thumbnails', () => {
  it('asks an Image API 3 service for the whole image in a 400 px box', () => {
    assert.equal(thumbnailUrl(v3), 'https://img.example/iiif/3/a/full/400,320/0/default.jpg');
  });

  it('maps a region from canvas to image pixels (image at twice the canvas resolution)', () => {
    assert.equal(thumbnailUrl(v3, { x: 100, y: 50, w: 300, h: 200 }), 'https://img.example/iiif/3/a/200,100,600,400/400,266/0/default.jpg');
  });

  it('asks for a small region at its own size (Image API 3 refuses to enlarge with !w,h)', () => {
    assert.equal(thumbnailUrl(v3, { x: 0, y: 0, w: 50, h: 50 }), 'https://img.example/iiif/3/a/0,0,100,100/max/0/default.jpg');
  });

  it('offsets by the annotation target when the image covers part of the canvas', () => {
    const rec: Rec = { ...v3, image: { ...v3.image!, target: { x: 500, y: 400, w: 500, h: 400 } } };
    assert.deepEqual(canvasBoxToImage(rec, { x: 600, y: 500, w: 100, h: 100 }), { x: 400, y: 400, w: 400, h: 400 });
    assert.equal(canvasBoxToImage(rec, { x: 0, y: 0, w: 100, h: 100 }), undefined);
  });

  it('Image API 2 uses default.jpg and full, Image API 1 native.jpg', () => {
    const v2: Rec = { ...v3, image: { ...v3.image!, service: { id: 'https://img.example/iiif/2/a', version: 2, level: 1 } } };
    assert.equal(thumbnailUrl(v2), 'https://img.example/iiif/2/a/full/400,/0/default.jpg');
    const v1: Rec = { ...v3, image: { ...v3.image!, service: { id: 'https://img.example/iiif/1/a', version: 1 } } };
    assert.equal(thumbnailUrl(v1), 'https://img.example/iiif/1/a/full/400,/0/native.jpg');
    assert.equal(thumbnailUrl(v1, { x: 10, y: 10, w: 400, h: 400 }), 'https://img.example/iiif/1/a/20,20,800,800/400,/0/native.jpg');
  });

  it('picks a listed size for level 0 (w,h in version 3, w, before)', () => {
    const sizes = [{ width: 250, height: 200 }, { width: 500, height: 400 }, { width: 2000, height: 1600 }];
    const l3: Rec = { ...v3, image: { ...v3.image!, service: { id: 'https://img.example/l0/3/a', version: 3, level: 0, sizes } } };
    assert.equal(thumbnailUrl(l3), 'https://img.example/l0/3/a/full/500,400/0/default.jpg');
    const l2: Rec = { ...v3, image: { ...v3.image!, service: { id: 'https://img.example/l0/2/a', version: 2, level: 0, sizes } } };
    assert.equal(thumbnailUrl(l2, { x: 0, y: 0, w: 10, h: 10 }), 'https://img.example/l0/2/a/full/500,/0/default.jpg', 'level 0 cannot cut: the whole image');
  });

  it('without a usable service: the recorded thumbnail, else the image', () => {
    const l0: Rec = { ...v3, thumbnail: 'https://img.example/thumb.jpg', image: { ...v3.image!, service: { id: 'https://img.example/l0/a', version: 3, level: 0 } } };
    assert.equal(thumbnailUrl(l0), 'https://img.example/thumb.jpg');
    assert.equal(thumbnailUrl({ image: { url: 'https://img.example/file.jpg' } }), 'https://img.example/file.jpg');
    assert.equal(thumbnailUrl({}), undefined);
  });

  it('keeps within a service maxWidth', () => {
    const rec: Rec = { ...v3, image: { ...v3.image!, service: { id: 'https://img.example/s', version: 3, maxWidth: 300 } } };
    assert.equal(thumbnailUrl(rec), 'https://img.example/s/full/300,240/0/default.jpg');
  });
});

describe('plugin: hits', () => {
  const item: ItemFields = {
    id: 'abc',
    canvasId: 'https://iiif.example/m/canvas/1',
    manifestId: 'https://iiif.example/m',
    manifestUrl: 'https://iiif.example/m.json',
    collections: ['Root', 'Photographs'],
    label: 'A street',
    labels: ['street'],
    date: '1936-05-01T00:00:00.000Z',
    rights: 'http://rightsstatements.org/vocab/NoC-US/1.0/',
    text: '',
    record: {
      ...v3,
      canvasId: 'https://iiif.example/m/canvas/1',
      index: 0,
      label: { en: ['A street'] },
      manifestLabel: { none: ['Main Street, 1936'] },
      summary: { fr: ['Une rue'] },
      metadata: [{ label: { en: ['Photographer'] }, value: { none: ['Dorothea Lange'] } }],
      requiredStatement: { label: { en: ['Attribution'] }, value: { en: ['Library of Congress'] } },
      homepage: 'https://portal.example/items/1',
    } as unknown as Record<string, unknown>,
  };

  it('shows what a portal needs to draw, credit and link a hit', () => {
    const hit = shapeHit({ id: 'abc', score: 0.5, item, region: { x: 100.4, y: 50.6, w: 300, h: 200 } });
    assert.deepEqual(hit, {
      id: 'abc',
      score: 0.5,
      region: { x: 100, y: 51, w: 300, h: 200 },
      target: 'https://iiif.example/m/canvas/1#xywh=100,51,300,200',
      canvas: { id: 'https://iiif.example/m/canvas/1', label: 'A street', index: 0, width: 1000, height: 800 },
      manifest: { id: 'https://iiif.example/m', url: 'https://iiif.example/m.json', label: 'Main Street, 1936' },
      thumbnail: 'https://img.example/iiif/3/a/200,102,600,400/400,266/0/default.jpg',
      rights: 'http://rightsstatements.org/vocab/NoC-US/1.0/',
      requiredStatement: { label: 'Attribution', value: 'Library of Congress' },
      homepage: 'https://portal.example/items/1',
      date: '1936-05-01T00:00:00.000Z',
      collections: ['Root', 'Photographs'],
      imageService: { id: 'https://img.example/iiif/3/a', version: 3, level: 2 },
    });
  });

  it('leaves out what the record lacks, and details add metadata', () => {
    const bare = shapeHit({ id: 'x', score: 0.1, item: { ...item, rights: undefined, date: undefined, record: { image: { url: 'https://a/b.jpg' } } } });
    assert.deepEqual(Object.keys(bare).sort(), ['canvas', 'collections', 'id', 'manifest', 'score', 'thumbnail']);
    const details = shapeItemDetails(item);
    assert.equal(details.summary, 'Une rue');
    assert.deepEqual(details.metadata, [{ label: 'Photographer', value: 'Dorothea Lange' }]);
    assert.deepEqual(details.labels, ['street']);
  });
});

describe('plugin: IIIF requests and boxes', () => {
  it('parses an Image API request and asks for it at 640 px', () => {
    const req = parseImageApiUrl('https://img.example/iiif/3/ab%2Fc/10,20,300,400/pct:50/!90/gray.jp2');
    assert.deepEqual(req, { service: 'https://img.example/iiif/3/ab%2Fc', region: '10,20,300,400', size: 'pct:50', rotation: '!90', quality: 'gray', format: 'jp2' });
    assert.equal(sizedImageApiUrl(req!, 640), 'https://img.example/iiif/3/ab%2Fc/10,20,300,400/!640,640/!90/gray.jpg');
    assert.equal(parseImageApiUrl('https://img.example/photo.jpg'), undefined);
    assert.equal(parseImageApiUrl('https://img.example/iiif/a/everything/max/0/default.jpg'), undefined);
    assert.ok(parseImageApiUrl('https://img.example/iiif/a/pct:10,10,50.5,50/^max/0/default.png'));
  });

  it('reads boxes as viewers write them', () => {
    assert.deepEqual(parseXywh('10,20,30,40'), { x: 10, y: 20, w: 30, h: 40 });
    assert.deepEqual(parseXywh('https://c.example/canvas/1#xywh=pixel:1.5,2,3,4'), { x: 1.5, y: 2, w: 3, h: 4 });
    assert.deepEqual(parseXywh('xywh=percent:10,50,50,25', { width: 1000, height: 800 }), { x: 100, y: 400, w: 500, h: 200 });
    assert.throws(() => parseXywh('1,2,3'), /four non-negative numbers/);
    assert.throws(() => parseXywh('-1,2,3,4'), /four non-negative numbers/);
    assert.throws(() => parseXywh('1,2,0,4'), /above 0/);
    assert.throws(() => parseXywh('percent:1,2,3,4'), /canvas size/);
  });

  it('sniffs image types from their bytes', () => {
    assert.equal(sniffImageType(Buffer.from([0xff, 0xd8, 0xff, 0xe0])), 'jpeg');
    assert.equal(sniffImageType(Buffer.from('89504e470d0a1a0a0000', 'hex')), 'png');
    assert.equal(sniffImageType(Buffer.from('RIFF\0\0\0\0WEBPVP8 ', 'latin1')), 'webp');
    assert.equal(sniffImageType(Buffer.from('II*\0\x08\0', 'latin1')), 'tiff');
    assert.equal(sniffImageType(Buffer.from('GIF89a', 'latin1')), undefined);
    assert.equal(sniffImageType(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>')), undefined);
  });
});

describe('plugin: relevance feedback', () => {
  const close = (a: Float32Array, b: number[]) => a.forEach((x, i) => assert.ok(Math.abs(x - b[i]!) < 1e-6, `${[...a]} ≠ ${b}`));

  it('is the normalised mean of the positives without negatives', () => {
    close(feedbackQuery([Float32Array.of(1, 0), Float32Array.of(0, 2)], [], 0.5), [Math.SQRT1_2, Math.SQRT1_2]);
  });

  it('subtracts the weighted mean of the negatives and renormalises', () => {
    // pos = (1, 0); neg mean = (0, 1); pos − 0.5·neg = (1, −0.5) → /√1.25
    const n = Math.sqrt(1.25);
    close(feedbackQuery([Float32Array.of(3, 0)], [Float32Array.of(0, 1), Float32Array.of(0, 5)], 0.5), [1 / n, -0.5 / n]);
  });

  it('refuses examples that cancel out', () => {
    assert.throws(() => feedbackQuery([Float32Array.of(1, 0)], [Float32Array.of(1, 0)], 1), CancelledOutError);
    assert.throws(() => feedbackQuery([Float32Array.of(1, 0), Float32Array.of(-1, 0)], [], 0.5), CancelledOutError);
  });
});

describe('plugin: metrics', () => {
  it('renders counters and histograms in the Prometheus text format', () => {
    const m = new Metrics({ api: 'main' });
    m.observeRequest('GET', '/search', 200, 0.02);
    m.observeRequest('GET', '/search', 200, 3);
    m.observeStore('nearest', 'timeout', 0.001);
    m.observeEncoder('text', 'ok', 0.2);
    const text = m.render();
    assert.match(text, /^# HELP reprise_http_requests_total /m);
    assert.match(text, /^# TYPE reprise_http_requests_total counter$/m);
    assert.match(text, /^reprise_http_requests_total\{api="main",method="GET",route="\/search",status="200"\} 2$/m);
    assert.match(text, /^reprise_http_request_duration_seconds_bucket\{api="main",method="GET",route="\/search",status="200",le="0.025"\} 1$/m);
    assert.match(text, /^reprise_http_request_duration_seconds_bucket\{api="main",method="GET",route="\/search",status="200",le="\+Inf"\} 2$/m);
    assert.match(text, /^reprise_http_request_duration_seconds_sum\{api="main",method="GET",route="\/search",status="200"\} 3.02$/m);
    assert.match(text, /^reprise_store_duration_seconds_count\{api="main",operation="nearest",outcome="timeout"\} 1$/m);
    assert.match(text, /^reprise_encoder_duration_seconds_count\{api="main",tower="text",outcome="ok"\} 1$/m);
    assert.ok(text.endsWith('\n'));
  });

  it('escapes label values', () => {
    const m = new Metrics();
    m.observeRequest('GET', 'a"b\\c\nd', 200, 0);
    assert.match(m.render(), /route="a\\"b\\\\c\\nd"/);
  });
});

describe('plugin: rate limit and problem middleware', () => {
  it('refuses a client past its budget with 429 and Retry-After, and refills over time', async () => {
    let now = 0;
    const app = express();
    app.use(rateLimit({ perMinute: 2, now: () => now }));
    app.get('/', (_req, res) => void res.send('ok'));
    app.use(problemJson());
    await request(app).get('/').expect(200);
    await request(app).get('/').expect(200);
    const refused = await request(app).get('/').expect(429);
    assert.equal(refused.headers['retry-after'], '30');
    assert.match(refused.headers['content-type']!, /^application\/problem\+json/);
    assert.equal(refused.body.type, 'urn:reprise:problem:rate-limited');
    now += 30_000;
    await request(app).get('/').expect(200);
    await request(app).get('/').expect(429);
  });

  it('keeps clients apart and forgets idle ones', async () => {
    let now = 0;
    let client = 'a';
    const app = express();
    app.use(rateLimit({ perMinute: 1, now: () => now, key: () => client, maxClients: 2 }));
    app.get('/', (_req, res) => void res.send('ok'));
    app.use(problemJson());
    await request(app).get('/').expect(200);
    await request(app).get('/').expect(429);
    client = 'b';
    await request(app).get('/').expect(200);
    client = 'c';
    now += 120_000;
    await request(app).get('/').expect(200);
    client = 'a';
    await request(app).get('/').expect(200, 'ok');
  });

  it('maps store errors and never shows a stack', async () => {
    const app = express();
    const seen: unknown[] = [];
    app.get('/invalid', () => {
      throw new InvalidQueryError('filter dateFrom: expected an ISO 8601 date');
    });
    app.get('/down', () => {
      throw new StoreUnavailableError('connect ECONNREFUSED');
    });
    app.get('/bug', () => {
      throw new TypeError('x is undefined');
    });
    app.post('/json', express.json({ limit: 10 }), (_req, res) => void res.send('ok'));
    app.use(problemJson({ onError: (err) => seen.push(err) }));
    const invalid = await request(app).get('/invalid').expect(400);
    assert.equal(invalid.body.type, 'urn:reprise:problem:invalid-query');
    assert.match(invalid.body.detail, /ISO 8601/);
    assert.equal((await request(app).get('/down').expect(503)).body.type, 'urn:reprise:problem:store-unavailable');
    const bug = await request(app).get('/bug').expect(500);
    assert.equal(bug.body.type, 'urn:reprise:problem:internal-error');
    assert.doesNotMatch(bug.text, /TypeError|x is undefined|\bat \w/);
    assert.equal(seen.length, 1);
    await request(app).post('/json').set('Content-Type', 'application/json').send('{"a": "long enough"}').expect(413);
    const bad = await request(app).post('/json').set('Content-Type', 'application/json').send('{').expect(400);
    assert.deepEqual(bad.body.errors, [{ name: 'body', in: 'body', reason: 'not valid JSON' }]);
  });
});
