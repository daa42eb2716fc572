/**
 * Allmaps publishes, for each real IIIF input, what its parser makes of it.
 * Our reading of image sizes, tile grids, service ids and canvases must agree
 * wherever both parsers look at the same facts. (Allmaps invents a default
 * 768-px tile grid for Image API 1 services without tiles; we do not, so tile
 * grids are compared only where the input declares tiles.)
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { parseIiifDocument } from '../../../harvester/iiif/document.ts';
import type { ParsedDocument } from '../../../harvester/iiif/types.ts';
import { fixture, fixturesPresent, requireFixtures } from '../../support/fixtures.ts';

interface AllmapsImage {
  uri: string;
  majorVersion: number;
  width: number;
  height: number;
  supportsAnyRegionAndSize: boolean;
  sizes?: Array<{ width: number; height: number }>;
  tileZoomLevels?: Array<{ scaleFactor: number; width: number; height: number }>;
  supportedFormats?: string[];
  maxWidth?: number;
  maxHeight?: number;
  maxArea?: number;
}

interface AllmapsManifest {
  uri: string;
  canvases: Array<{ uri: string; width: number; height: number; image: AllmapsImage }>;
}

const read = (path: string): unknown => JSON.parse(readFileSync(fixture('iiif/allmaps', path), 'utf8'));
const inputs = (prefix: string): string[] =>
  fixturesPresent ? readdirSync(fixture('iiif/allmaps/input')).filter((f) => f.startsWith(prefix)).sort() : [];
const expected = <T>(input: string): T => read(`output/${input.replace(/\.json$/, '.parsed.json')}`) as T;

function parse(input: string): ParsedDocument {
  return parseIiifDocument(read(`input/${input}`));
}

/** Allmaps keeps a trailing slash on some ids; we strip it (so do image requests). */
const bare = (id: string): string => id.replace(/\/+$/, '');

describe('Allmaps expectations: Image API info.json', function () {
  requireFixtures(this);
  const files = inputs('image.');

  it('covers the info.json inputs of versions 1, 2 and 3 (17; the fixtures README says 16)', function () {
    assert.equal(files.length, 17);
    assert.deepEqual(new Set(files.map((f) => f.split('.')[1])), new Set(['1', '2', '3']));
  });

  for (const file of files) {
    it(file, function () {
      const doc = parse(file);
      assert.equal(doc.kind, 'image-info');
      const service = doc.service;
      const want = expected<AllmapsImage>(file);
      assert.equal(service.id, bare(want.uri));
      assert.equal(service.version, want.majorVersion);
      assert.deepEqual([service.width, service.height], [want.width, want.height]);
      assert.deepEqual(service.sizes ?? [], want.sizes ?? []);
      if (!want.supportsAnyRegionAndSize) assert.equal(service.level, 0);
      assert.deepEqual(new Set([...(service.formats ?? []), 'jpg']), new Set(want.supportedFormats ?? ['jpg']));
      for (const key of ['maxWidth', 'maxHeight', 'maxArea'] as const) {
        if (want[key] !== undefined) assert.equal(service[key], want[key], key);
      }
      const input = read(`input/${file}`) as { tiles?: unknown };
      if (input.tiles) {
        const levels = want.tileZoomLevels ?? [];
        assert.deepEqual(
          service.tiles?.map((t) => ({ width: t.width, height: t.height, scaleFactors: t.scaleFactors })),
          [{
            width: levels[0]!.width,
            height: levels[0]!.height,
            scaleFactors: levels.map((l) => l.scaleFactor).sort((a, b) => a - b),
          }],
        );
      }
    });
  }
});

describe('Allmaps expectations: manifests', function () {
  requireFixtures(this);
  const files = inputs('manifest.');

  for (const file of files) {
    it(file, function () {
      const doc = parse(file);
      assert.equal(doc.kind, 'manifest');
      const want = expected<AllmapsManifest>(file);
      assert.equal(doc.id, want.uri);
      assert.equal(doc.canvases.length, want.canvases.length);
      assert.deepEqual(doc.skipped, []);
      doc.canvases.forEach((canvas, i) => {
        const theirs = want.canvases[i]!;
        assert.equal(canvas.canvasId, theirs.uri);
        assert.equal(canvas.image.service?.id, bare(theirs.image.uri), `canvas ${i} service`);
        assert.equal(canvas.image.service?.version, theirs.image.majorVersion, `canvas ${i} version`);
        // Embedded services rarely give a size; Allmaps then uses the canvas size, as the
        // painting fills the canvas. Same facts, different place.
        assert.equal(canvas.image.service?.width ?? canvas.width, theirs.image.width, `canvas ${i} width`);
        assert.equal(canvas.image.service?.height ?? canvas.height, theirs.image.height, `canvas ${i} height`);
        if (theirs.image.sizes) assert.deepEqual(canvas.image.service?.sizes, theirs.image.sizes);
      });
    });
  }
});

describe('Allmaps expectations: collections and the empty object', function () {
  requireFixtures(this);

  for (const file of inputs('collection.')) {
    it(file, function () {
      const doc = parse(file);
      assert.equal(doc.kind, 'collection');
      const want = expected<{ uri: string; items: Array<{ uri: string; type: string }> }>(file);
      assert.equal(doc.id, want.uri);
      assert.deepEqual(doc.manifests.map((m) => m.id), want.items.filter((i) => i.type === 'manifest').map((i) => i.uri));
      assert.deepEqual(doc.collections.map((c) => c.id), want.items.filter((i) => i.type === 'collection').map((i) => i.uri));
    });
  }

  it('empty-object.json is rejected (Allmaps: "Invalid IIIF data")', function () {
    assert.throws(() => parse('empty-object.json'), /not a IIIF document/);
  });
});
