import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { IiifParseError } from '../../../harvester/iiif/errors.ts';
import { parseManifest } from '../../../harvester/iiif/manifest.ts';
import { fixture, fixturesPresent, requireFixtures } from '../../support/fixtures.ts';

const json = (path: string): unknown => JSON.parse(readFileSync(fixture('iiif', path), 'utf8'));
const COOKBOOK = 'https://iiif.io/api/cookbook/recipe';

/** A v3 manifest with `n` image canvases, optionally with repeated ids. */
function v3Manifest(n: number, canvasId = (i: number) => `https://example.org/c${i}`): Record<string, unknown> {
  return {
    '@context': 'http://iiif.io/api/presentation/3/context.json',
    id: 'https://example.org/manifest',
    type: 'Manifest',
    label: { en: ['Many'] },
    items: Array.from({ length: n }, (_, i) => ({
      id: canvasId(i),
      type: 'Canvas',
      width: 100,
      height: 100,
      items: [{ type: 'AnnotationPage', items: [{ type: 'Annotation', motivation: 'painting', body: { id: `https://example.org/${i}.jpg`, type: 'Image' }, target: canvasId(i) }] }],
    })),
  };
}

describe('parseManifest', function () {
  describe('cookbook recipes', function () {
    requireFixtures(this);

    it('0033-choice: the first Choice item is the image, the other an alternative, each with its service', function () {
      const m = parseManifest(json('cookbook/0033-choice/manifest.json'));
      const c = m.canvases[0]!;
      const base = 'https://iiif.io/api/image/3.0/example/reference/421e65be2ce95439b3ad6ef1f2ab87a9';
      assert.equal(c.image.url, `${base}-dee-natural/full/max/0/default.jpg`);
      assert.deepEqual(c.image.label, { en: ['Natural Light'] });
      assert.deepEqual(c.image.service, { id: `${base}-dee-natural`, version: 3, level: 1 });
      assert.deepEqual(c.alternatives.map((a) => [a.url, a.label, a.service?.id]), [
        [`${base}-dee-xray/full/max/0/default.jpg`, { en: ['X-Ray'] }, `${base}-dee-xray`],
      ]);
    });

    it('0283-missing-image: the canvas without an image is skipped, the others kept in place', function () {
      const m = parseManifest(json('cookbook/0283-missing-image/manifest.json'));
      assert.deepEqual(m.canvases.map((c) => [c.index, c.canvasId]), [
        [0, `${COOKBOOK}/0283-missing-image/canvas/p1`],
        [2, `${COOKBOOK}/0283-missing-image/canvas/p3`],
        [3, `${COOKBOOK}/0283-missing-image/canvas/p4`],
      ]);
      assert.deepEqual(m.skipped, [{ canvasId: `${COOKBOOK}/0283-missing-image/canvas/p2`, index: 1, reason: 'canvas 1 has no painting annotation' }]);
    });

    it('0229-behavior-ranges: the manifest id with a trailing space is trimmed, with a warning', function () {
      const m = parseManifest(json('cookbook/0229-behavior-ranges/manifest.json'));
      assert.equal(m.id, `${COOKBOOK}/0229-behavior-ranges/manifest.json`);
      assert.ok(m.warnings.some((w) => /manifest id .*manifest\.json " has stray whitespace; trimmed/.test(w)), JSON.stringify(m.warnings));
      // The recipe paints a video: nothing to harvest, said so.
      assert.match(m.skipped[0]!.reason, /paints Video, not an image/);
    });

    it('0008-rights: v3 rights, requiredStatement and HTML summary', function () {
      const c = parseManifest(json('cookbook/0008-rights/manifest.json')).canvases[0]!;
      assert.equal(c.rights, 'http://creativecommons.org/licenses/by-sa/3.0/');
      assert.ok(c.requiredStatement);
      assert.ok(!/[<>]/.test(JSON.stringify(c.summary)));
    });
  });

  describe('real v2 manifests', function () {
    requireFixtures(this);

    it('relative manifest id (Wellcome thumbnails.json): resolved against the URL with a warning, rejected without one', function () {
      const doc = json('iiif-commons-parser/presentation-2/thumbnails.json');
      const m = parseManifest(doc, { url: 'https://example.org/iiif/b123/manifest.json' });
      assert.equal(m.id, 'https://example.org/iiif/b123/manifest.json');
      assert.ok(m.warnings.some((w) => /"manifest\.json" is relative; resolved to/.test(w)));
      assert.throws(() => parseManifest(doc), (e: unknown) => e instanceof IiifParseError && /not an absolute URI/.test(e.message));
    });

    it('body Choice in a v2 manifest: default plus alternatives', function () {
      const c = parseManifest(json('iiif-commons-parser/presentation-2/body-choice.json')).canvases[0]!;
      assert.equal(c.image.url, 'https://dlc.services/iiif-img/22/2/X.010r_VIS/full/!2000,2000/0/default.jpg');
      assert.equal(c.alternatives.length, 3);
    });

    it('an annotation typed dctypes:Image instead of oa:Annotation still paints', function () {
      const m = parseManifest(json('iiif-commons-parser/presentation-2/malformed-image-annotation.json'));
      assert.equal(m.canvases[0]!.image.url, 'https://example.org/image/1/full/full/0/default.jpg');
    });

    it('"sc:Painting" with a capital P (Toronto) counts as painting', function () {
      assert.equal(parseManifest(json('allmaps/input/manifest.2.utoronto-2159.json')).canvases.length, 1);
    });

    it('percent-encoded image ids survive the v2 upgrade unchanged (it would double-encode them)', function () {
      const c = parseManifest(json('allmaps/input/manifest.2.princeton-fa4fb452-5f1d-42ab-a471-53afc176c948.json')).canvases[0]!;
      assert.equal(c.image.url, 'https://iiif-cloud.princeton.edu/iiif/2/f7%2Fd6%2F70%2Ff7d670bee780421db09afe918b920978%2Fintermediate_file/full/1000,/0/default.jpg');
      assert.equal(c.image.service?.id, 'https://iiif-cloud.princeton.edu/iiif/2/f7%2Fd6%2F70%2Ff7d670bee780421db09afe918b920978%2Fintermediate_file');
    });

    it('Mirador emptyCanvas: image-less canvases are skipped, the rest kept', function () {
      const m = parseManifest(json('mirador/version-2/emptyCanvas.json'));
      assert.equal(m.canvases.length + m.skipped.length, 322);
      assert.ok(m.canvases.length > 0 && m.skipped.length > 0);
      assert.ok(m.skipped.every((s) => s.reason.endsWith('has no painting annotation')));
    });

    it('Mirador zeroWidthCanvas: a zero canvas size is dropped with a warning, the image kept', function () {
      const m = parseManifest(json('mirador/version-2/zeroWidthCanvas.json'));
      assert.equal(m.canvases.length, 1);
      assert.equal(m.canvases[0]!.width, undefined);
      assert.ok(m.warnings.includes('canvas 0 has width 0; ignored'));
    });

    it('records descriptive properties, canvas values over manifest ones', function () {
      const c = parseManifest(json('presentation-validator/fixtures/3/full_example.json')).canvases[0]!;
      assert.deepEqual(c.manifestLabel, { en: ['Book 1'] });
      assert.equal(c.navDate, '1856-01-01T00:00:00Z');
      assert.equal(c.homepage, 'https://example.org/info/book1/');
      assert.equal(c.thumbnail, 'https://example.org/iiif/book1/page1/full/80,100/0/default.jpg');
      assert.equal(c.metadata.length, 4);
    });
  });

  describe('leniency and bounds', function () {
    it('duplicate canvas ids: the first is kept, the repeat skipped with a warning', function () {
      const m = parseManifest(v3Manifest(3, (i) => `https://example.org/c${Math.min(i, 1)}`));
      assert.deepEqual(m.canvases.map((c) => c.index), [0, 1]);
      assert.deepEqual(m.skipped, [{ canvasId: 'https://example.org/c1', index: 2, reason: 'canvas 2 repeats the id of canvas 1' }]);
      assert.ok(m.warnings.some((w) => w.startsWith('canvas 2 repeats the id of canvas 1')));
    });

    it('relative canvas and image ids resolve against the document URL', function () {
      const doc = v3Manifest(1, () => 'canvas/1');
      const m = parseManifest(doc, { url: 'https://example.org/iiif/m.json' });
      assert.equal(m.canvases[0]!.canvasId, 'https://example.org/iiif/canvas/1');
      const noUrl = parseManifest(doc);
      assert.match(noUrl.skipped[0]!.reason, /canvas 0 id "canvas\/1" is not an absolute URI/);
    });

    it('canvas ids with stray spaces are trimmed with a warning', function () {
      const m = parseManifest(v3Manifest(1, () => ' https://example.org/c '));
      assert.equal(m.canvases[0]!.canvasId, 'https://example.org/c');
      assert.ok(m.warnings.some((w) => /stray whitespace/.test(w)));
    });

    it('maxCanvases caps the canvases read, with a warning (default 10000)', function () {
      const capped = parseManifest(v3Manifest(5), { maxCanvases: 2 });
      assert.equal(capped.canvases.length, 2);
      assert.ok(capped.warnings.includes('the manifest has 5 canvases; only the first 2 are read (maxCanvases)'));
      const big = parseManifest(v3Manifest(10_050));
      assert.equal(big.canvases.length, 10_000);
    });

    it('warnings are bounded', function () {
      const doc = v3Manifest(1000, (i) => ` https://example.org/c${i}`);
      const m = parseManifest(doc);
      assert.equal(m.warnings.length, 201);
      assert.equal(m.warnings.at(-1), '800 more warnings not shown');
    });

    it('a v3 image without an id but with a service is fetched through the service', function () {
      const doc = v3Manifest(1);
      const body = ((doc['items'] as any[])[0].items[0].items[0].body) as Record<string, unknown>;
      delete body['id'];
      body['service'] = [{ id: 'https://example.org/svc', type: 'ImageService3', profile: 'level1' }];
      const m = parseManifest(doc);
      assert.equal(m.canvases[0]!.image.url, 'https://example.org/svc/full/max/0/default.jpg');
      assert.ok(m.warnings.some((w) => /no usable id; using its Image API service/.test(w)));
    });

    it('a #xywh target is recorded on the image', function () {
      const doc = v3Manifest(1);
      (doc['items'] as any[])[0].items[0].items[0].target = 'https://example.org/c0#xywh=10,20,30,40';
      assert.deepEqual(parseManifest(doc).canvases[0]!.image.target, { x: 10, y: 20, w: 30, h: 40 });
    });

    it('never crashes on odd input: non-objects and wrong types throw IiifParseError', function () {
      for (const input of [null, 42, 'manifest', [], {}, { type: 'Manifest' }, { type: 'Collection', id: 'https://x/' }, { '@type': 'sc:Manifest', '@id': 'https://x/m', sequences: 'no' }]) {
        assert.throws(() => parseManifest(input), IiifParseError, JSON.stringify(input));
      }
    });
  });

  describe('real-world quirks', function () {
    /** A v2 canvas painted with one JPEG, typed as given (a publisher's export wrote sc:Sequence on every canvas). */
    const v2Canvas = (i: number, type: string) => ({
      '@id': `https://example.org/iiif/book/canvas/c${i}`,
      '@type': type,
      label: `p. ${i + 1}`,
      width: 1000,
      height: 1500,
      images: [{
        '@type': 'oa:Annotation',
        motivation: 'sc:painting',
        on: `https://example.org/iiif/book/canvas/c${i}`,
        resource: { '@id': `https://example.org/images/p${i}.jpg`, '@type': 'dctypes:Image', format: 'image/jpeg', width: 1000, height: 1500 },
      }],
    });

    it('v2 canvases typed sc:Sequence that carry images are read as canvases, with one warning', function () {
      const m = parseManifest({
        '@context': 'http://iiif.io/api/presentation/2/context.json',
        '@id': 'https://example.org/iiif/book/manifest',
        '@type': 'sc:Manifest',
        label: 'Book',
        sequences: [{ '@type': 'sc:Sequence', canvases: [0, 1, 2].map((i) => v2Canvas(i, 'sc:Sequence')) }],
      });
      assert.deepEqual(m.canvases.map((c) => c.image.url), [0, 1, 2].map((i) => `https://example.org/images/p${i}.jpg`));
      assert.deepEqual(m.skipped, []);
      assert.deepEqual(m.warnings.filter((w) => /typed sc:Sequence/.test(w)), ['3 canvases are typed sc:Sequence but carry images; read as canvases, as viewers do']);
      // Typed wrong and painting nothing: still not a canvas.
      const empty = parseManifest({
        '@context': 'http://iiif.io/api/presentation/2/context.json',
        '@id': 'https://example.org/iiif/book/manifest',
        '@type': 'sc:Manifest',
        label: 'Book',
        sequences: [{ '@type': 'sc:Sequence', canvases: [{ '@id': 'https://example.org/s', '@type': 'sc:Sequence' }] }],
      });
      assert.match(empty.skipped[0]!.reason, /has type "Sequence", not Canvas/);
    });

    /** A pre-3.0 draft manifest (Universal Viewer's AV, 3D and PDF examples): canvases list their annotation pages under `content`. */
    const draftManifest = (body: Record<string, unknown>) => ({
      '@context': ['http://www.w3.org/ns/anno.jsonld', 'http://iiif.io/api/presentation/3/context.json'],
      id: 'https://example.org/iiif/draft/manifest',
      type: 'Manifest',
      label: { en: ['Draft'] },
      items: [{
        id: 'https://example.org/iiif/draft/canvas/0',
        type: 'Canvas',
        duration: 1985.024,
        content: [{
          id: 'https://example.org/iiif/draft/canvas/0/page',
          type: 'AnnotationPage',
          items: [{ id: 'https://example.org/iiif/draft/canvas/0/page/a', type: 'Annotation', motivation: 'painting', body, target: 'https://example.org/iiif/draft/canvas/0' }],
        }],
      }],
    });

    it('draft Presentation 3 AV, 3D and PDF manifests (content instead of items) are "not an image manifest"', function () {
      const cases = [
        { type: 'Audio', format: 'audio/mp4', id: 'https://example.org/av/128Kbps.mp4' },
        { type: 'Video', format: 'video/mp4', id: 'https://example.org/av/film.mp4' },
        { type: 'PhysicalObject', format: 'model/gltf+json', id: 'https://example.org/3d/object.gltf' },
        { type: 'Text', format: 'application/pdf', id: 'https://example.org/pdf/book.pdf' },
      ];
      for (const body of cases) {
        const m = parseManifest(draftManifest(body));
        assert.equal(m.canvases.length, 0, body.type);
        assert.deepEqual(m.skipped.map((s) => s.reason), [`canvas 0 paints ${body.type}, not an image`]);
        assert.ok(m.warnings.includes(`not an image manifest: its canvases paint ${body.type}; nothing of it is indexed`), JSON.stringify(m.warnings));
      }
      // The same draft shape painting an image is read like any manifest.
      const image = parseManifest(draftManifest({ type: 'Image', format: 'image/jpeg', id: 'https://example.org/images/p0.jpg' }));
      assert.equal(image.canvases[0]!.image.url, 'https://example.org/images/p0.jpg');
      assert.ok(image.warnings.some((w) => /content/.test(w) && /pre-3\.0 draft/.test(w)));
    });

    it('a final Presentation 3 audio manifest (cookbook 0002-mvm-audio) is "not an image manifest" too', function () {
      if (!fixturesPresent) this.skip();
      const m = parseManifest(json('cookbook/0002-mvm-audio/manifest.json'));
      assert.equal(m.canvases.length, 0);
      assert.ok(m.warnings.includes('not an image manifest: its canvases paint Sound; nothing of it is indexed'), JSON.stringify(m.warnings));
    });

    it("a v2 audio manifest's placeholder image (IxIF mediaSequences) is not indexed, and the manifest says why", function () {
      // The shape Wellcome Library served for audio, video and PDF: the content in mediaSequences, and a
      // sequence with a placeholder image for viewers that do not read them.
      const m = parseManifest({
        '@context': ['http://iiif.io/api/presentation/2/context.json', 'http://wellcomelibrary.org/ld/ixif/0/context.json'],
        '@id': 'https://example.org/iiif/b1234/manifest',
        '@type': 'sc:Manifest',
        label: 'Interview',
        mediaSequences: [{
          '@id': 'https://example.org/iiif/b1234/xsequence/s0',
          '@type': 'ixif:MediaSequence',
          elements: [{ '@id': 'https://example.org/file/b1234.mp3', '@type': 'dctypes:Sound', format: 'audio/mpeg' }],
        }],
        sequences: [{
          '@id': 'https://example.org/iiif/ixif-message/sequence/seq',
          '@type': 'sc:Sequence',
          label: 'Unsupported extension. This manifest is being used as a wrapper for non-IIIF content (e.g., audio, video) and is unfortunately incompatible with IIIF viewers.',
          compatibilityHint: 'displayIfContentUnsupported',
          canvases: [{
            '@id': 'https://example.org/iiif/ixif-message/canvas/c1',
            '@type': 'sc:Canvas',
            label: 'Placeholder image',
            height: 600,
            width: 600,
            images: [{
              '@type': 'oa:Annotation',
              motivation: 'sc:painting',
              resource: { '@id': 'https://example.org/iiif/ixif-message-0/res/placeholder', '@type': 'dctypes:Image', height: 600, width: 600 },
              on: 'https://example.org/iiif/ixif-message/canvas/c1',
            }],
          }],
        }],
      });
      assert.deepEqual(m.canvases, []);
      assert.deepEqual(m.skipped, [{
        canvasId: 'https://example.org/iiif/ixif-message/canvas/c1',
        index: 0,
        reason: 'canvas 0 is a placeholder for the Sound in mediaSequences, not an image of the object',
      }]);
      assert.ok(m.warnings.includes('not an image manifest: its content is Sound (IxIF mediaSequences); the image of its sequence is a placeholder and is not indexed'), JSON.stringify(m.warnings));
    });
  });
});
