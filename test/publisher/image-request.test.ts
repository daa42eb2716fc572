import assert from 'node:assert/strict';
import { BadRequestError, NotImplementedError } from '../../publisher/errors.ts';
import { maxSize, parseRegion, parseRotation, parseSize, resolveImageRequest, rotatedSize } from '../../publisher/image-request.ts';
import { listedSizes, tileInfo } from '../../publisher/info-json.ts';
import { resolveLimits } from '../../publisher/limits.ts';

const limits = resolveLimits();
const image = { width: 6000, height: 4000 };
const params = (region: string, size: string, rotation = '0', quality = 'default', format = 'jpg') => ({ region, size, rotation, quality, format });

describe('publisher: Image API request arithmetic', () => {
  it('max is the region within maxWidth/maxHeight/maxArea, aspect kept, never over any limit', () => {
    assert.deepEqual(maxSize(image, limits, false), { width: 4096, height: 2730 });
    const area = resolveLimits({ maxWidth: 10_000, maxHeight: 10_000, maxArea: 1_000_000 });
    const size = maxSize(image, area, false);
    assert.ok(size.width * size.height <= 1_000_000);
    assert.ok(Math.abs(size.width / size.height - 1.5) < 0.01);
    assert.deepEqual(maxSize({ width: 100, height: 50 }, limits, false), { width: 100, height: 50 });
  });

  it('the limits bound the returned image, rotation included: max and !w,h shrink to fit, explicit sizes over are refused', () => {
    const fits = (size: { width: number; height: number }, l = limits) => size.width <= l.maxWidth && size.height <= l.maxHeight && size.width * size.height <= l.maxArea;
    // The case: ^max of a square image turned 45° was 4096×4096, returned as 5793×5793.
    const square = { width: 5000, height: 5000 };
    const turned = resolveImageRequest(3, params('full', '^max', '45'), square, limits);
    const returned = rotatedSize(turned.size, 45);
    assert.ok(fits(returned), `${returned.width}×${returned.height}`);
    assert.ok(returned.width >= 4090, 'as large as the limits allow, not smaller');
    assert.equal(turned.canonical, 'full/max/45/default.jpg', 'still the max size for this rotation');
    assert.ok(fits(rotatedSize(resolveImageRequest(3, params('full', '!4096,4096', '30'), image, limits).size, 30)));
    assert.ok(fits(rotatedSize(resolveImageRequest(2, params('full', 'max', '!135'), image, limits).size, 135)));
    assert.throws(
      () => resolveImageRequest(3, params('full', '4096,', '45'), image, limits),
      (e: unknown) => e instanceof BadRequestError && /size "4096,".*once rotated 45°.*over this server's limits/.test(e.message),
    );
    // 90° swaps the sides: a wide max under a low maxHeight must be turned within it.
    const wide = resolveLimits({ maxWidth: 400, maxHeight: 200, maxArea: 400 * 200 });
    const upright = resolveImageRequest(3, params('full', 'max', '90'), { width: 451, height: 300 }, wide);
    assert.ok(fits(rotatedSize(upright.size, 90), wide), JSON.stringify(upright.size));
    assert.deepEqual(rotatedSize({ width: 300, height: 200 }, 90), { width: 200, height: 300 });
    assert.deepEqual(rotatedSize({ width: 300, height: 200 }, 180), { width: 300, height: 200 });
    // A one-pixel sliver turned 45° still fits: the loop shaves its length.
    const sliver = maxSize({ width: 100_000, height: 1 }, limits, true, 45);
    assert.ok(fits(rotatedSize(sliver, 45)), JSON.stringify(sliver));
  });

  it('pct regions round to whole pixels and keep slivers of at least one pixel', () => {
    assert.deepEqual(parseRegion('pct:50,50,50,50', image), { x: 3000, y: 2000, width: 3000, height: 2000, full: false });
    assert.deepEqual(parseRegion('pct:0,0,0.001,0.001', image), { x: 0, y: 0, width: 1, height: 1, full: false });
    assert.equal(parseRegion('pct:0,0,100,100', image).full, true);
    assert.equal(parseRegion('0,0,6000,4000', image).full, true);
  });

  it('tile requests as OpenSeadragon makes them are served as asked (partial edge tiles included)', () => {
    // Scale factor 4, tile 512: the region is 2048 wide, the last column is narrower.
    const edge = resolveImageRequest(3, params('4096,2048,1904,1952', '476,488'), image, limits);
    assert.deepEqual(edge.size, { width: 476, height: 488 });
    assert.equal(edge.upscaled, false);
    const v2 = resolveImageRequest(2, params('0,0,2048,2048', '512,'), image, limits);
    assert.deepEqual(v2.size, { width: 512, height: 512 });
    assert.equal(v2.canonical, '0,0,2048,2048/512,/0/default.jpg');
  });

  it('canonical forms: v2 keeps "w," for kept aspect and "w,h" when distorted; v3 writes w,h, ^ when upscaled', () => {
    assert.equal(resolveImageRequest(2, params('full', '300,300'), image, limits).canonical, 'full/300,300/0/default.jpg');
    assert.equal(resolveImageRequest(2, params('full', '!300,300'), image, limits).canonical, 'full/300,/0/default.jpg');
    assert.equal(resolveImageRequest(3, params('full', '!300,300'), image, limits).canonical, 'full/300,200/0/default.jpg');
    assert.equal(resolveImageRequest(3, params('0,0,10,10', '^20,20', '!90.50'), image, limits).canonical, '0,0,10,10/^20,20/!90.5/default.jpg');
    assert.equal(resolveImageRequest(3, params('full', 'max', '360'), { width: 10, height: 10 }, limits).canonical, 'full/max/360/default.jpg');
  });

  it('each refusal is the right error with the parameter named', () => {
    assert.throws(() => parseSize('0,', 3, image, limits), (e: unknown) => e instanceof BadRequestError && /size "0,"/.test(e.message));
    assert.throws(() => parseRotation('400'), (e: unknown) => e instanceof BadRequestError && /more than 360/.test(e.message));
    assert.throws(() => parseSize('^pct:200', 3, { width: 10, height: 10 }, resolveLimits({ allowUpscaling: false })), NotImplementedError);
    assert.throws(() => parseRegion('6000,0,1,1', image), /lies outside the image, which is 6000×4000/);
    assert.throws(() => resolveImageRequest(3, params('full', 'max', '0', 'default', 'JPG'), image, limits), /format "JPG" is not served/);
  });

  it('info.json sizes halve down to 64 px or less, all within the limits; tiles go down to one tile', () => {
    const sizes = listedSizes(image, limits);
    assert.deepEqual(sizes.at(-1), { width: 3000, height: 2000 }, 'the full size (6000) is over maxWidth, so the largest listed is half');
    assert.deepEqual(sizes[0], { width: 47, height: 32 }, 'the first halving whose long side is 64 or less ends the list');
    assert.deepEqual(tileInfo(image, limits), { width: 512, height: 512, scaleFactors: [1, 2, 4, 8, 16] });
    assert.deepEqual(listedSizes({ width: 30, height: 20 }, limits), [{ width: 30, height: 20 }]);
  });
});
