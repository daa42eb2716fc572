import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseImageService } from '../../../harvester/iiif/image-service.ts';
import { parseManifest } from '../../../harvester/iiif/manifest.ts';
import { fixture, requireFixtures } from '../../support/fixtures.ts';

const ID = 'https://example.org/iiif/image1';
const json = (path: string): unknown => JSON.parse(readFileSync(fixture(path), 'utf8'));

describe('parseImageService', function () {
  describe('version and level', function () {
    const cases: Array<[string, Record<string, unknown>, { version: number; level?: number }]> = [
      ['v3 type and bare profile', { id: ID, type: 'ImageService3', profile: 'level2' }, { version: 3, level: 2 }],
      ['v3 "level0"', { id: ID, type: 'ImageService3', profile: 'level0' }, { version: 3, level: 0 }],
      ['v3 bogus "level3"', { id: ID, type: 'ImageService3', profile: 'level3' }, { version: 3 }],
      ['bare "level1" profile without type', { id: ID, profile: 'level1' }, { version: 3, level: 1 }],
      ['v2 context and profile', { '@context': 'http://iiif.io/api/image/2/context.json', '@id': ID, profile: 'http://iiif.io/api/image/2/level1.json' }, { version: 2, level: 1 }],
      ['v2 profile without context', { '@id': ID, profile: 'http://iiif.io/api/image/2/level2.json' }, { version: 2, level: 2 }],
      ['v2 profiles/ URI over https', { '@id': ID, profile: 'https://iiif.io/api/image/2/profiles/level2.json' }, { version: 2, level: 2 }],
      ['v2 profile list with an object', { '@id': ID, profile: ['http://iiif.io/api/image/2/level0.json', { formats: ['jpg'] }] }, { version: 2, level: 0 }],
      ['ImageService2 type with a v3-style profile', { '@id': ID, '@type': 'ImageService2', profile: 'level1' }, { version: 2, level: 1 }],
      ['Image API 1.1 Stanford context', { '@context': 'http://library.stanford.edu/iiif/image-api/1.1/context.json', '@id': ID, profile: 'http://library.stanford.edu/iiif/image-api/1.1/compliance.html#level2' }, { version: 1, level: 2 }],
      ['Image API 1 iiif.io context', { '@context': 'http://iiif.io/api/image/1/context.json', '@id': ID, profile: 'http://library.stanford.edu/iiif/image-api/1.1/conformance.html#level1' }, { version: 1, level: 1 }],
      ['ImageService1 type with a Stanford profile', { id: ID, type: 'ImageService1', profile: 'http://library.stanford.edu/iiif/image-api/1.1/conformance.html#level1' }, { version: 1, level: 1 }],
      // The context is the more explicit marker: an Image API 1 profile inside a v2 service is v2.
      ['v2 context with an Image API 1 profile', { '@context': 'http://iiif.io/api/image/2/context.json', '@id': ID, profile: 'http://iiif.io/api/image/1/level2.json' }, { version: 2, level: 2 }],
      ['ImageService2 type with a Stanford profile', { id: ID, type: 'ImageService2', profile: 'http://library.stanford.edu/iiif/image-api/compliance.html#level1' }, { version: 2, level: 1 }],
    ];
    for (const [what, service, expected] of cases) {
      it(what, function () {
        const parsed = parseImageService(service);
        assert.ok(parsed);
        assert.equal(parsed.version, expected.version);
        assert.equal(parsed.level, expected.level);
        assert.equal(parsed.id, ID);
      });
    }
  });

  it('services as an object or as a one-element list read the same', function () {
    const service = { '@id': ID, profile: 'http://iiif.io/api/image/2/level1.json', width: 10, height: 20 };
    assert.deepEqual(parseImageService([service]), parseImageService(service));
  });

  it('ImageService2 and ImageService3 side by side: v3 wins, whichever comes first', function () {
    const v2 = { '@id': `${ID}/v2`, '@type': 'ImageService2', profile: 'http://iiif.io/api/image/2/level2.json' };
    const v3 = { id: `${ID}/v3`, type: 'ImageService3', profile: 'level1' };
    assert.equal(parseImageService([v2, v3])?.id, `${ID}/v3`);
    assert.equal(parseImageService([v3, v2])?.id, `${ID}/v3`);
  });

  it('non-image services (auth, search, physdim) are ignored; an image service among them is found', function () {
    const auth = { '@id': 'https://example.org/auth', profile: 'http://iiif.io/api/auth/1/login' };
    const search = { '@context': 'http://iiif.io/api/search/0/context.json', '@id': 'https://example.org/s', profile: 'http://iiif.io/api/search/0/search' };
    assert.equal(parseImageService([auth, search]), undefined);
    assert.equal(parseImageService('https://example.org/just-a-string'), undefined);
    assert.equal(parseImageService([auth, { id: ID, type: 'ImageService3', profile: 'level1' }])?.id, ID);
  });

  it('trims stray spaces and strips /info.json and trailing slashes from ids', function () {
    const spaced = { '@context': ' http://iiif.io/api/image/2/context.json', profile: ' http://iiif.io/api/image/2/level1.json', id: ' https://example.org/logo ', type: 'Service' };
    assert.deepEqual(parseImageService(spaced), { id: 'https://example.org/logo', version: 2, level: 1 });
    assert.equal(parseImageService({ id: `${ID}/info.json`, type: 'ImageService3' })?.id, ID);
    assert.equal(parseImageService({ id: `${ID}//`, type: 'ImageService3' })?.id, ID);
  });

  it('resolves relative ids against the document URL, and uses the info.json URL when there is no id', function () {
    assert.equal(parseImageService({ id: 'img/1', type: 'ImageService3' }, 'https://example.org/iiif/manifest.json')?.id, 'https://example.org/iiif/img/1');
    assert.equal(parseImageService({ id: 'img/1', type: 'ImageService3' }), undefined);
    // Image API 1.0 info.json has "identifier", not an id.
    const v1 = { '@context': 'http://library.stanford.edu/iiif/image-api/1.1/context.json', identifier: 'x', width: 100, height: 50 };
    assert.equal(parseImageService(v1, `${ID}/info.json`)?.id, ID);
  });

  it('reads sizes, tiles (square when no height), limits and formats from a v2 profile object', function () {
    const service = parseImageService({
      '@context': 'http://iiif.io/api/image/2/context.json',
      '@id': ID,
      width: 6000,
      height: 4000,
      sizes: [{ width: 150, height: 100 }, { width: 'x', height: 1 }],
      tiles: [{ width: 512, scaleFactors: [4, 1, 2, 2] }],
      profile: ['http://iiif.io/api/image/2/level2.json', { formats: ['jpg', 'png', 'tif'], maxWidth: 2000, maxArea: 4_000_000 }],
    });
    assert.deepEqual(service, {
      id: ID,
      version: 2,
      level: 2,
      width: 6000,
      height: 4000,
      sizes: [{ width: 150, height: 100 }],
      tiles: [{ width: 512, height: 512, scaleFactors: [1, 2, 4] }],
      maxWidth: 2000,
      maxHeight: 2000, // the Image API: maxHeight defaults to maxWidth
      maxArea: 4_000_000,
      formats: ['png', 'tif'],
    });
  });

  it('reads v3 extraFormats and top-level limits', function () {
    const service = parseImageService({ id: ID, type: 'ImageService3', profile: 'level1', maxWidth: 1000, maxHeight: 800, extraFormats: ['webp', 'png'] });
    assert.deepEqual([service?.maxWidth, service?.maxHeight, service?.formats], [1000, 800, ['webp', 'png']]);
  });

  it('reads Image API 1 tile_width/tile_height/scale_factors', function () {
    const service = parseImageService({
      '@context': 'http://library.stanford.edu/iiif/image-api/1.1/context.json',
      '@id': ID, width: 4000, height: 3000, tile_width: 256, tile_height: 256, scale_factors: [1, 2, 4, 8],
      formats: ['jpg', 'png'],
    });
    assert.deepEqual(service?.tiles, [{ width: 256, height: 256, scaleFactors: [1, 2, 4, 8] }]);
    assert.deepEqual(service?.formats, ['png']);
  });

  it('bounds hostile lists', function () {
    const service = parseImageService({
      id: ID, type: 'ImageService3',
      sizes: Array.from({ length: 10_000 }, (_, i) => ({ width: i + 1, height: i + 1 })),
      tiles: Array.from({ length: 1000 }, () => ({ width: 256, scaleFactors: Array.from({ length: 1000 }, (_, i) => i + 1) })),
    });
    assert.equal(service?.sizes?.length, 100);
    assert.equal(service?.tiles?.length, 20);
    assert.equal(service?.tiles?.[0]?.scaleFactors.length, 32);
  });

  describe('in real manifests', function () {
    requireFixtures(this);

    it('Bodleian v3 manifest with ImageService2 listed before ImageService3: the v3 service is used', function () {
      const m = parseManifest(json('iiif/iiif-commons-parser/presentation-3/bodleian.json'));
      assert.deepEqual(m.canvases[0]!.image.service, {
        id: 'https://iiif.bodleian.ox.ac.uk/iiif/image/012b1e0f-8c9e-48e7-83d6-5e51a70253b4',
        version: 3,
        level: 1,
      });
    });

    it('Riksarkivet: different ids for the v2 and v3 services, the v3 one is used', function () {
      const m = parseManifest(json('iiif/allmaps/input/manifest.3.riksarkivet-arkis-40008772.json'));
      assert.equal(m.canvases[0]!.image.service?.id, 'https://lbiiif.riksarkivet.se/v3/arkis!40008772_00001');
    });

    it('Image API 1 contexts inside a v2 manifest (Gallica) give version 1 services', function () {
      const m = parseManifest(json('iiif/allmaps/input/manifest.2.gallica.bnf.12148.btv1b53243704g.f1.json'));
      assert.ok(m.canvases.length > 0);
      for (const canvas of m.canvases) assert.equal(canvas.image.service?.version, 1);
    });

    it('a v2 service without a context but with profile objects keeps its limits through the upgrade', function () {
      const info = json('iiif/allmaps/input/image.2.spk-berlin-630107580-00000001.json') as Record<string, unknown>;
      const manifest = {
        '@context': 'http://iiif.io/api/presentation/2/context.json', '@id': 'https://example.org/m', '@type': 'sc:Manifest',
        sequences: [{ canvases: [{ '@id': 'https://example.org/c', '@type': 'sc:Canvas', width: 1, height: 1, images: [{
          motivation: 'sc:painting', on: 'https://example.org/c',
          resource: { '@id': 'https://example.org/i.jpg', '@type': 'dctypes:Image', service: info },
        }] }] }],
      };
      const service = parseManifest(manifest).canvases[0]!.image.service;
      assert.deepEqual([service?.maxWidth, service?.maxHeight, service?.level], [10000, 10000, 2]);
    });
  });
});
