import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseIiifDocument } from '../../../harvester/iiif/document.ts';
import { resolveDetailTiles, resolveImageRequest } from '../../../harvester/iiif/image-request.ts';
import type { ImageResource, ImageServiceRef } from '../../../harvester/iiif/types.ts';
import { fixture, requireFixtures } from '../../support/fixtures.ts';

const ID = 'https://example.org/iiif/img';

function withService(service: Omit<ImageServiceRef, 'id'>, image: Partial<ImageResource> = {}): ImageResource {
  return { url: `${ID}/full/full/0/default.jpg`, ...image, service: { id: ID, ...service } };
}

/** The info.json from the Allmaps fixtures, as the image's service. */
function fromInfo(name: string): ImageResource {
  const doc = parseIiifDocument(JSON.parse(readFileSync(fixture('iiif/allmaps/input', name), 'utf8')));
  assert.equal(doc.kind, 'image-info');
  return { url: `${doc.service.id}/full/full/0/default.jpg`, service: doc.service };
}

describe('resolveImageRequest', function () {
  it('no service: the resource URL as it is', function () {
    assert.deepEqual(
      resolveImageRequest({ url: 'https://example.org/a.jpg', width: 3000, height: 2000 }, 1024),
      { url: 'https://example.org/a.jpg', strategy: 'plain', width: 3000, height: 2000 },
    );
  });

  it('rejects a nonsensical longSide', function () {
    assert.throws(() => resolveImageRequest({ url: 'https://example.org/a.jpg' }, 0), RangeError);
    assert.throws(() => resolveImageRequest({ url: 'https://example.org/a.jpg' }, 10.5), RangeError);
  });

  describe('level 1/2 services', function () {
    it('v2: !w,h/0/default.jpg with the expected size', function () {
      assert.deepEqual(resolveImageRequest(withService({ version: 2, level: 1, width: 4000, height: 3000 }), 1024), {
        url: `${ID}/full/!1024,1024/0/default.jpg`, strategy: 'service-sized', width: 1024, height: 768,
      });
    });

    it('v3 with unknown level and unknown size: sized, size unknown', function () {
      assert.deepEqual(resolveImageRequest(withService({ version: 3 }), 800), {
        url: `${ID}/full/!800,800/0/default.jpg`, strategy: 'service-sized',
      });
    });

    it('v1: native.jpg', function () {
      assert.equal(resolveImageRequest(withService({ version: 1, level: 2, width: 7900, height: 11060 }), 1024).url, `${ID}/full/!1024,1024/0/native.jpg`);
      assert.deepEqual(resolveImageRequest(withService({ version: 1, width: 500, height: 400 }), 1024), {
        url: `${ID}/full/full/0/native.jpg`, strategy: 'full', width: 500, height: 400,
      });
    });

    it('never upscales: a small image is fetched whole (full/full on v2, full/max on v3)', function () {
      assert.deepEqual(resolveImageRequest(withService({ version: 2, level: 2, width: 800, height: 600 }), 1024), {
        url: `${ID}/full/full/0/default.jpg`, strategy: 'full', width: 800, height: 600,
      });
      assert.deepEqual(resolveImageRequest(withService({ version: 3, level: 1, width: 1024, height: 600 }), 1024), {
        url: `${ID}/full/max/0/default.jpg`, strategy: 'full', width: 1024, height: 600,
      });
    });

    it('body dimensions count when the body is the full image', function () {
      const image = withService({ version: 2, level: 1 }, { url: `${ID}/full/full/0/default.jpg`, width: 600, height: 800 });
      assert.equal(resolveImageRequest(image, 1024).strategy, 'full');
    });

    it('body dimensions of a derivative do not (it would make a 7000-px image look small)', function () {
      const image = withService({ version: 2, level: 2 }, { url: `${ID}/full/1170,/0/default.jpg`, width: 1170, height: 593 });
      assert.deepEqual(resolveImageRequest(image, 2000), { url: `${ID}/full/!2000,2000/0/default.jpg`, strategy: 'service-sized' });
    });

    it('maxWidth/maxHeight: the box shrinks so the response fits', function () {
      const request = resolveImageRequest(withService({ version: 2, level: 2, width: 6510, height: 7707, maxWidth: 5000, maxHeight: 5000 }), 6000);
      assert.deepEqual(request, { url: `${ID}/full/!5000,5000/0/default.jpg`, strategy: 'service-sized', width: 4223, height: 5000 });
    });

    it('maxArea: the response stays within the area, rounding included', function () {
      const service = { version: 2 as const, level: 2 as const, width: 4864, height: 8918, maxArea: 262144 };
      const request = resolveImageRequest(withService(service), 1024);
      assert.equal(request.url, `${ID}/full/!693,693/0/default.jpg`);
      assert.ok(request.width! * request.height! <= service.maxArea);
      // An image already below longSide but above maxArea is not fetched whole.
      assert.equal(resolveImageRequest(withService({ ...service, width: 900, height: 900 }), 1024).url, `${ID}/full/!512,512/0/default.jpg`);
    });

    it('limits without a known size bound the box itself', function () {
      assert.equal(resolveImageRequest(withService({ version: 3, level: 2, maxArea: 250_000 }), 1024).url, `${ID}/full/!500,500/0/default.jpg`);
      assert.equal(resolveImageRequest(withService({ version: 3, level: 2, maxWidth: 700 }), 1024).url, `${ID}/full/!700,700/0/default.jpg`);
    });
  });

  describe('level 0 services', function () {
    const sizes = [{ width: 250, height: 186 }, { width: 1000, height: 743 }, { width: 500, height: 372 }];

    it('the smallest listed size that reaches longSide (v3 uses w,h)', function () {
      assert.deepEqual(resolveImageRequest(withService({ version: 3, level: 0, width: 1999, height: 1485, sizes }), 640), {
        url: `${ID}/full/1000,743/0/default.jpg`, strategy: 'level0-size', width: 1000, height: 743,
      });
    });

    it('else the largest listed size (v2 uses w,h too)', function () {
      assert.deepEqual(resolveImageRequest(withService({ version: 2, level: 0, width: 8000, height: 6000, sizes }), 1600), {
        url: `${ID}/full/1000,743/0/default.jpg`, strategy: 'level0-size', width: 1000, height: 743,
      });
    });

    it('the full image when it is already small enough', function () {
      assert.equal(resolveImageRequest(withService({ version: 3, level: 0, width: 1999, height: 1485, sizes }), 2000).url, `${ID}/full/max/0/default.jpg`);
    });

    it('no sizes but tiles: a size where one tile covers the whole image', function () {
      // 1698×1099 with 256-px tiles: at scale factor 8 the image is 213×138, one tile.
      const tiles = [{ width: 256, height: 256, scaleFactors: [1, 2, 4, 8] }];
      assert.deepEqual(resolveImageRequest(withService({ version: 2, level: 0, width: 1698, height: 1099, tiles }), 640), {
        url: `${ID}/full/213,/0/default.jpg`, strategy: 'level0-size', width: 213, height: 138,
      });
      assert.equal(resolveImageRequest(withService({ version: 3, level: 0, width: 1698, height: 1099, tiles }), 640).url, `${ID}/full/213,138/0/default.jpg`);
      // Of several tile-free sizes, the smallest that reaches longSide.
      const bigTiles = [{ width: 1024, scaleFactors: [1, 2, 4, 8, 16] }];
      assert.equal(resolveImageRequest(withService({ version: 2, level: 0, width: 6000, height: 4000, tiles: bigTiles }), 700).url, `${ID}/full/750,/0/default.jpg`);
    });

    it('no sizes and no single-tile size: the full image', function () {
      assert.deepEqual(resolveImageRequest(withService({ version: 2, level: 0, width: 6426, height: 4810, tiles: [{ width: 512, height: 512, scaleFactors: [1, 2, 4, 8] }] }), 640), {
        url: `${ID}/full/full/0/default.jpg`, strategy: 'full', width: 6426, height: 4810,
      });
      assert.deepEqual(resolveImageRequest(withService({ version: 3, level: 0 }), 640), { url: `${ID}/full/max/0/default.jpg`, strategy: 'full' });
    });
  });

  describe('with real info.json documents', function () {
    requireFixtures(this);

    it('Gallica (Image API 1.1, level 2)', function () {
      assert.deepEqual(resolveImageRequest(fromInfo('image.1.gallica.bnf.12148.btv1b53243704g.f1.json'), 1024), {
        url: 'https://gallica.bnf.fr/iiif/ark:/12148/btv1b53243704g/f1/full/!1024,1024/0/native.jpg',
        strategy: 'service-sized', width: 731, height: 1024,
      });
    });

    it('uvacreate (v3 level 0 with sizes)', function () {
      assert.equal(
        resolveImageRequest(fromInfo('image.3.uvacreate-mmph-wae681.json'), 640).url,
        'https://uvacreate.gitlab.io/freedom-of-the-streets/iiif-level0-maps/iiif/mmph_wae681/full/1000,743/0/default.jpg',
      );
    });

    it('Rotterdam (v2 level 0, tiles only, too large for one tile)', function () {
      assert.equal(resolveImageRequest(fromInfo('image.2.rp-A136B927DA744CD2BEA9F1A3FF2271BA.json'), 640).strategy, 'full');
    });

    it('dighimapper (maxArea in the profile object)', function () {
      const request = resolveImageRequest(fromInfo('image.2.dighimapper-510_0713_000_00003_000_0_0001.json'), 1024);
      assert.equal(request.url, 'https://images.dighimapper.eu/iiif/2/510_0713_000_00496_000_0_0001.tif/full/!693,693/0/default.jpg');
    });
  });
});

describe('resolveDetailTiles', function () {
  it('nothing when one request reaches the size, the service cannot cut regions, or its size is unknown', function () {
    assert.equal(resolveDetailTiles(withService({ version: 2, level: 2, width: 5000, height: 7000 }), 2000), undefined);
    assert.equal(resolveDetailTiles(withService({ version: 2, level: 0, width: 5000, height: 7000, maxWidth: 1000 }), 2000), undefined);
    assert.equal(resolveDetailTiles(withService({ version: 3, level: 2, maxWidth: 1000 }), 2000), undefined);
    assert.equal(resolveDetailTiles({ url: 'https://example.org/a.jpg', width: 5000, height: 7000 }, 2000), undefined);
  });

  it('a grid of regions within maxWidth (maxHeight defaults to it), placed edge to edge at the wanted size', function () {
    const plan = resolveDetailTiles(withService({ version: 2, level: 2, width: 5000, height: 7000, maxWidth: 1000 }), 2000)!;
    assert.deepEqual([plan.width, plan.height], [1429, 2000]);
    assert.equal(plan.tiles.length, 4);
    assert.deepEqual(plan.tiles[0], { url: `${ID}/0,0,2500,3500/714,/0/default.jpg`, x: 0, y: 0, width: 714, height: 1000 });
    assert.deepEqual(plan.tiles[3], { url: `${ID}/2500,3500,2500,3500/715,/0/default.jpg`, x: 714, y: 1000, width: 715, height: 1000 });
    for (const t of plan.tiles) assert.ok(t.width <= 1000 && t.height <= 1000);
    assert.equal(plan.tiles.reduce((s, t) => s + t.width * t.height, 0), plan.width * plan.height);
  });

  it('v3 sizes are w,h; maxArea bounds each region; too many regions is nothing', function () {
    const plan = resolveDetailTiles(withService({ version: 3, level: 1, width: 4000, height: 4000, maxArea: 250_000 }), 2000)!;
    assert.equal(plan.tiles.length, 16);
    assert.match(plan.tiles[0]!.url, /\/0,0,1000,1000\/500,500\/0\/default\.jpg$/);
    for (const t of plan.tiles) assert.ok(t.width * t.height <= 250_000);
    assert.equal(resolveDetailTiles(withService({ version: 3, level: 1, width: 4000, height: 4000, maxArea: 100_000 }), 2000), undefined);
  });
});
