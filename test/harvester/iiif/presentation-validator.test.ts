/**
 * The official presentation-validator fixtures, with expectations.json saying
 * which ones the validator accepts. Good documents must parse (manifests with
 * at least one canvas or a recorded skip). Bad ones: the harvester checks only
 * what it needs (ids, structure, images), so for each we state what it does
 * and whether that is a deliberate leniency.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseIiifDocument } from '../../../harvester/iiif/document.ts';
import { IiifParseError } from '../../../harvester/iiif/errors.ts';
import type { ParsedDocument, ParsedManifest } from '../../../harvester/iiif/types.ts';
import { fixture, fixturesPresent, requireFixtures } from '../../support/fixtures.ts';

const base = 'iiif/presentation-validator';
const parse = (path: string): ParsedDocument => parseIiifDocument(JSON.parse(readFileSync(fixture(base, path), 'utf8')));

function manifest(path: string): ParsedManifest {
  const doc = parse(path);
  assert.equal(doc.kind, 'manifest');
  return doc;
}

/** Valid IIIF, but annotations and content-state are not documents a harvest starts from. */
const NOT_HARVESTABLE = new Set([
  'fixtures/3/annoPage.json', 'fixtures/3/annoPageMultipleMotivations.json', 'fixtures/3/anno_pointselector.json',
  'fixtures/3/annotation_full.json', 'fixtures/3/content_state.json',
]);

describe('presentation-validator fixtures', function () {
  requireFixtures(this);
  const expectations = fixturesPresent
    ? JSON.parse(readFileSync(fixture(base, 'expectations.json'), 'utf8')) as Record<string, unknown>
    : {};
  const good = [
    ...((expectations['v2_good (check_manifest version 2.1)'] as string[] | undefined) ?? []),
    ...((expectations['v3_good (schema/iiif_3_0.json)'] as string[] | undefined) ?? []),
  ];

  describe('good documents parse', function () {
    for (const path of good) {
      it(path, function () {
        if (NOT_HARVESTABLE.has(path)) {
          assert.throws(() => parse(path), (e: unknown) => e instanceof IiifParseError && /not something to harvest from/.test(e.message));
          return;
        }
        const doc = parse(path);
        if (doc.kind === 'manifest') assert.ok(doc.canvases.length + doc.skipped.length > 0);
        else assert.equal(doc.kind, 'collection');
      });
    }
  });

  describe('bad documents: what the harvester does', function () {
    it('the expectations list the bad fixtures we assert on', function () {
      assert.deepEqual(expectations['v3_bad'], [
        'fixtures/3/broken_simple_image.json', 'fixtures/3/broken_choice.json', 'fixtures/3/broken_collection.json',
        'fixtures/3/broken_embedded_annos.json', 'fixtures/3/non_cc_license.json', 'fixtures/3/collection_of_canvases.json',
      ]);
    });

    it('collection_of_canvases: IiifParseError, a collection must list manifests or collections', function () {
      assert.throws(
        () => parse('fixtures/3/collection_of_canvases.json'),
        (e: unknown) => e instanceof IiifParseError && /lists no Manifests or Collections, only Canvas, Range/.test(e.message),
      );
    });

    it('broken_simple_image: the canvas without an id is skipped (provider logo/seeAlso problems are ignored)', function () {
      const m = manifest('fixtures/3/broken_simple_image.json');
      assert.deepEqual(m.canvases, []);
      assert.deepEqual(m.skipped, [{ canvasId: '', index: 0, reason: 'canvas 0 has no @id/id' }]);
    });

    it('old_format_label: IiifParseError pointing at the v2-style sequences', function () {
      assert.throws(() => parse('fixtures/3/old_format_label.json'), /has no items \(it has a v2-style 'sequences'/);
    });

    it('broken_choice, broken_embedded_annos: skipped as time-based media (their schema errors do not matter to us)', function () {
      assert.match(manifest('fixtures/3/broken_choice.json').skipped[0]!.reason, /paints Video, not an image/);
      assert.match(manifest('fixtures/3/broken_embedded_annos.json').skipped[0]!.reason, /paints Sound, not an image/);
    });

    it('broken_collection (no label): lenient, its two manifests are listed', function () {
      const doc = parse('fixtures/3/broken_collection.json');
      assert.equal(doc.kind, 'collection');
      assert.deepEqual(doc.label, {});
      assert.deepEqual(doc.manifests.map((m) => m.id), ['https://example.org/iiif/1/manifest', 'https://example.org/iiif/2/manifest']);
    });

    it('non_cc_license: lenient, rights recorded as given; HTML in summary/attribution becomes text', function () {
      const c = manifest('fixtures/3/non_cc_license.json').canvases[0]!;
      assert.equal(c.rights, 'https://en.wikipedia.org/wiki/License');
      assert.deepEqual(c.summary, { en: ['Picture taken by the IIIF Technical Coordinator'] });
      assert.deepEqual(c.requiredStatement?.value, { en: ['Glen Robson, IIIF Technical Coordinator. CC BY-SA 3.0'] });
    });

    it('broken_service (service as an object, not a list): lenient, the service is read', function () {
      const c = manifest('fixtures/3/broken_service.json').canvases[0]!;
      assert.deepEqual(c.image.service, { id: 'https://example.org/iiif/book1/page1', version: 3, level: 2 });
      assert.equal(c.thumbnail, 'https://example.org/iiif/book1/page1/full/80,100/0/default.jpg');
    });

    it('rights_lang_issues ("@none" language keys): lenient, keys become "none"', function () {
      const m = manifest('fixtures/3/rights_lang_issues.json');
      assert.deepEqual(m.label, { none: ['Map of Brighthelmston'] });
      const c = m.canvases[0]!;
      assert.deepEqual(c.metadata[0], { label: { none: ['Title'] }, value: { none: ['Map of Brighthelmston'] } });
      assert.deepEqual(c.image.label, { none: ['Map of Brighthelmston'] });
    });

    it('v4 dup_id (page id = canvas id): lenient, we never look pages up by id', function () {
      assert.equal(manifest('fixtures/4/bad/dup_id.json').canvases.length, 1);
    });
  });
});
