import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseCollection } from '../../../harvester/iiif/collection.ts';
import { parseIiifDocument, parseIiifJson } from '../../../harvester/iiif/document.ts';
import { IiifParseError } from '../../../harvester/iiif/errors.ts';
import { fixture, requireFixtures } from '../../support/fixtures.ts';

const json = (path: string): unknown => JSON.parse(readFileSync(fixture('iiif', path), 'utf8'));
const BSB = 'https://api.digitale-sammlungen.de/iiif/presentation/v2/collection/top';

describe('parseCollection', function () {
  describe('real collections', function () {
    requireFixtures(this);

    it('paged v2 collection (BSB): the top document points at its first page and gives the total', function () {
      const c = parseCollection(json('iiif-commons-parser/presentation-2/paginated-collection.json'));
      assert.equal(c.id, BSB);
      assert.deepEqual([c.manifests, c.collections], [[], []]);
      assert.equal(c.next, `${BSB}?cursor=initial`);
      assert.equal(c.total, 3074231);
    });

    it('a page of a paged v2 collection: its manifests plus the next page', function () {
      const c = parseCollection(json('iiif-commons-parser/presentation-2/paginated-collection-page.json'));
      assert.equal(c.manifests.length, 250);
      assert.equal(c.manifests[0]!.id, 'https://api.digitale-sammlungen.de/iiif/presentation/v2/bsb12040721/manifest');
      assert.deepEqual(c.manifests[0]!.label, { none: ['Krankenvorstellungen aus der psychiatrischen Klinik in Breslau. 2'] });
      assert.equal(c.next, `${BSB}?cursor=AoIIP4AAACtic2IxMjAxODY5NA==`);
    });

    it('v2 collections and members listing the same entry: listed once, with a warning', function () {
      const c = parseCollection(json('iiif-commons-parser/presentation-2/duplicate-member-collection.json'));
      assert.deepEqual(c.collections.map((e) => e.id), ['https://iiif.harvardartmuseums.org/collections/object']);
      assert.ok(c.warnings.some((w) => /1 entries repeat an id/.test(w)));
    });

    it('v2 sub-collections only (SCTA)', function () {
      const c = parseCollection(json('iiif-commons-parser/presentation-2/collection-scta.json'));
      assert.equal(c.collections.length, 205);
      assert.equal(c.manifests.length, 0);
    });

    it('v3 items mixing Manifests and a Collection (Northwestern)', function () {
      const c = parseCollection(json('allmaps/input/collection.3.northwestern-267bed1b-f808-4c51-acb1-0288378819d2.json'));
      assert.equal(c.version, 3);
      assert.equal(c.manifests.length, 10);
      assert.equal(c.collections.length, 1);
    });

    it('the 2.1 fixtures collection lists its 55 manifests with labels', function () {
      const c = parseCollection(json('iiif-spec-2.1/fixtures/collection.json'));
      assert.equal(c.manifests.length, 55);
      assert.deepEqual(c.manifests[0]!.label, { none: ['Test 1 Manifest: Minimum Required Fields'] });
    });
  });

  describe('inline', function () {
    const v2 = (extra: Record<string, unknown>) => ({
      '@context': 'http://iiif.io/api/presentation/2/context.json', '@id': 'https://example.org/top', '@type': 'sc:Collection', label: 'Top', ...extra,
    });

    it('v2 manifests given as bare URIs, relative ones resolved', function () {
      const c = parseCollection(v2({ manifests: ['https://example.org/m1', 'm2'] }), { url: 'https://example.org/iiif/top' });
      assert.deepEqual(c.manifests.map((m) => m.id), ['https://example.org/m1', 'https://example.org/iiif/m2']);
      assert.deepEqual(c.manifests[0]!.label, {});
    });

    it('v2 members are sorted into manifests and collections by type; others ignored with a warning', function () {
      const c = parseCollection(v2({ members: [
        { '@id': 'https://example.org/m', '@type': 'sc:Manifest', label: 'M' },
        { '@id': 'https://example.org/c', '@type': 'sc:Collection' },
        { '@id': 'https://example.org/x', '@type': 'sc:Canvas' },
      ] }));
      assert.deepEqual([c.manifests.length, c.collections.length], [1, 1]);
      assert.ok(c.warnings.some((w) => /1 entries are neither Manifest nor Collection \(Canvas\)/.test(w)));
    });

    it('entries are bounded by maxEntries', function () {
      const manifests = Array.from({ length: 50 }, (_, i) => `https://example.org/m${i}`);
      const c = parseCollection(v2({ manifests }), { maxEntries: 10 });
      assert.equal(c.manifests.length, 10);
      assert.ok(c.warnings.some((w) => /40 entries beyond the first 10/.test(w)));
    });

    it('a collection without an id, or that is not a collection, throws IiifParseError', function () {
      assert.throws(() => parseCollection({ '@context': 'http://iiif.io/api/presentation/2/context.json', '@type': 'sc:Collection' }), /has no @id\/id/);
      assert.throws(() => parseCollection({ type: 'Manifest', id: 'https://example.org/m' }), IiifParseError);
    });
  });
});

describe('parseIiifDocument dispatch', function () {
  it('Manifest, Collection and info.json go to their parsers', function () {
    const manifest = { '@context': 'http://iiif.io/api/presentation/3/context.json', id: 'https://example.org/m', type: 'Manifest', items: [] };
    assert.equal(parseIiifDocument(manifest).kind, 'manifest');
    assert.equal(parseIiifDocument({ id: 'https://example.org/c', type: 'Collection', items: [] }).kind, 'collection');
    const info = parseIiifDocument({ '@context': 'http://iiif.io/api/image/2/context.json', '@id': 'https://example.org/i', protocol: 'http://iiif.io/api/image', width: 10, height: 10, profile: ['http://iiif.io/api/image/2/level2.json'] });
    assert.deepEqual(info, { kind: 'image-info', service: { id: 'https://example.org/i', version: 2, level: 2, width: 10, height: 10 } });
  });

  it('everything else is an IiifParseError with a message saying what was found', function () {
    const cases: Array<[unknown, RegExp]> = [
      [null, /expected a JSON object, found null/],
      [[1, 2], /expected a JSON object, found a list of 2/],
      ['a string', /expected a JSON object, found "a string"/],
      [{ '@context': 'http://iiif.io/api/presentation/2/context.json' }, /not a IIIF Presentation document: missing @type\/type/],
      [{ '@type': 'sc:Canvas', '@id': 'https://example.org/c' }, /a Canvas is not something to harvest from/],
      [{ type: 'OrderedCollection' }, /a OrderedCollection is not something to harvest from/],
      [{ type: 'Fish' }, /unknown type "Fish"/],
    ];
    for (const [input, message] of cases) {
      assert.throws(() => parseIiifDocument(input, { url: 'https://example.org/doc' }), (e: unknown) => {
        assert.ok(e instanceof IiifParseError);
        assert.match(e.message, message);
        assert.equal(e.documentUrl, 'https://example.org/doc');
        return true;
      });
    }
  });

  it('an info.json without an id takes the URL it was fetched from, and fails without one', function () {
    const info = { '@context': 'http://iiif.io/api/image/3/context.json', type: 'ImageService3', width: 5, height: 5 };
    const parsed = parseIiifDocument(info, { url: 'https://example.org/iiif/i/info.json' });
    assert.equal(parsed.kind === 'image-info' && parsed.service.id, 'https://example.org/iiif/i');
    assert.throws(() => parseIiifDocument(info), /info\.json: it has no @id\/id/);
  });

  it('parseIiifJson: text that is not JSON is an IiifParseError too', function () {
    assert.throws(() => parseIiifJson('asdf', { url: 'https://example.org/x' }), (e: unknown) => e instanceof IiifParseError && /^not JSON/.test(e.message));
  });
});
