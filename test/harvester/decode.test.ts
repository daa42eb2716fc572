import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { decodeImage, ImageDecodeError } from '../../common/index.ts';
import { fixture, requireFixtures } from '../support/fixtures.ts';

const opts = { longSide: 640, maxInputPixels: 100_000_000 };
const edge = (name: string) => readFileSync(fixture('images', 'decoder-edge-cases', name));

describe('image decoding', function () {
  requireFixtures(this);

  it('shrinks to the long side and returns packed RGB', async () => {
    const img = await decodeImage(edge('4.webp'), opts);
    assert.equal(Math.max(img.width, img.height), 640);
    assert.equal(img.data.length, img.width * img.height * 3);
    assert.deepEqual([img.sourceWidth, img.sourceHeight], [1024, 772]);
  });

  it('never enlarges a small image', async () => {
    const img = await decodeImage(edge('2x2_fdcce6.png'), opts);
    assert.deepEqual([img.width, img.height], [2, 2]);
    const first = [...img.data.subarray(0, 3)];
    for (let p = 1; p < 4; p++) assert.deepEqual([...img.data.subarray(p * 3, p * 3 + 3)], first, 'a uniform image stays uniform');
  });

  it('applies EXIF orientation', async () => {
    for (const name of ['Landscape_1.jpg', 'Landscape_6.jpg', 'Landscape_8.jpg']) {
      const img = await decodeImage(edge(name), opts);
      assert.ok(img.width > img.height, `${name} should come out landscape, got ${img.width}×${img.height}`);
      assert.deepEqual([img.sourceWidth, img.sourceHeight], [600, 450]);
    }
  });

  it('converts CMYK, 16-bit grey with alpha and animations to 8-bit sRGB', async () => {
    const cmyk = await decodeImage(edge('Channel_digital_image_CMYK_color_no_profile.jpg'), opts);
    assert.equal(cmyk.channels, 3);
    const grey16 = await decodeImage(edge('16-bit-grey-alpha.png'), opts);
    assert.equal(grey16.data.length, grey16.width * grey16.height * 3);
    const gif = await decodeImage(edge('animated-loop-3.gif'), opts);
    assert.equal(gif.data.length, gif.width * gif.height * 3, 'only frame 0 is decoded');
  });

  it('flattens transparency onto white', async () => {
    const img = await decodeImage(edge('grey-plus-alpha.gif'), opts);
    assert.equal(img.data.length, 6);
  });

  it('refuses a decompression bomb from its header, at once', async () => {
    const started = Date.now();
    await assert.rejects(decodeImage(edge('65536-uint32-limit.png'), opts), (err: Error) =>
      err instanceof ImageDecodeError && /65536×65536.*over the 100000000-pixel limit/.test(err.message));
    assert.ok(Date.now() - started < 2000);
  });

  it('gives a reason for truncated, corrupt and unsupported files', async () => {
    for (const [name, pattern] of [
      ['truncated.jpg', /broken image/],
      ['truncated.png', /broken image/],
      ['corrupt-header.jpg', /not a readable image/],
      ['circle.svg', /unsupported image format "svg"/],
    ] as const) {
      await assert.rejects(decodeImage(edge(name), opts), (err: Error) => err instanceof ImageDecodeError && pattern.test(err.message), name);
    }
  });
});
