/**
 * Annotated regions read from real IIIF documents: the Cookbook's tagging (inline v3), referenced
 * annotation page and newspaper (v3 pages of SpecificResource targets) recipes, the Presentation
 * 2.1 spec fixture with an external sc:AnnotationList, and a Stanford / IIIF annotation list with
 * SpecificResource `on` targets and an oa:Choice of selectors.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { boundRegions, pageAnnotations, readAnnotatedRegions } from '../../../harvester/iiif/annotations.ts';
import { parseManifest } from '../../../harvester/iiif/manifest.ts';
import { Warnings } from '../../../harvester/iiif/util.ts';
import { fixture, requireFixtures } from '../../support/fixtures.ts';

const json = (path: string): Record<string, unknown> => JSON.parse(readFileSync(fixture('iiif', path), 'utf8'));
const COOKBOOK = 'https://iiif.io/api/cookbook/recipe';
const SPEC = 'http://iiif.io/api/presentation/2.1/example/fixtures';

describe('annotated regions of canvases', function () {
  requireFixtures(this);

  it('reads an inline v3 tagging annotation on part of a canvas (Cookbook 0021)', () => {
    const m = parseManifest(json('cookbook/0021-tagging/manifest.json'));
    assert.deepEqual(m.canvases[0]!.regions, [
      {
        box: { x: 265, y: 661, w: 1260, h: 1239 },
        text: ['Gänseliesel-Brunnen'],
        motivations: ['tagging'],
        annotations: [`${COOKBOOK}/0021-tagging/annotation/p0002-tag`],
      },
    ]);
    assert.equal(m.annotationPages, undefined);
    // Without regions asked for, none are read.
    assert.equal(parseManifest(json('cookbook/0021-tagging/manifest.json'), { regions: false }).canvases[0]!.regions, undefined);
  });

  it('notes referenced pages to fetch, and a whole-canvas comment is no region (Cookbook 0269)', () => {
    const m = parseManifest(json('cookbook/0269-embedded-or-referenced-annotations/manifest.json'));
    const canvas = `${COOKBOOK}/0269-embedded-or-referenced-annotations/canvas-1`;
    assert.deepEqual(m.annotationPages, [{ url: `${COOKBOOK}/0269-embedded-or-referenced-annotations/annotationpage.json`, canvases: [canvas] }]);
    const page = pageAnnotations(json('cookbook/0269-embedded-or-referenced-annotations/annotationpage.json'));
    assert.ok('annotations' in page);
    assert.deepEqual(readAnnotatedRegions(page.annotations, new Map([[canvas, { width: 4032, height: 3024 }]]), 'page', new Warnings()), []);
  });

  it('reads v3 SpecificResource targets of a newspaper page and keeps the largest regions within the bound (Cookbook 0068)', () => {
    const m = parseManifest(json('cookbook/0068-newspaper/newspaper_issue_1-manifest.json'));
    const first = m.canvases[0]!;
    assert.deepEqual(m.annotationPages?.[0], { url: `${COOKBOOK}/0068-newspaper/newspaper_issue_1-anno_p1.json`, canvases: [first.canvasId] });
    const page = pageAnnotations(json('cookbook/0068-newspaper/newspaper_issue_1-anno_p1.json'));
    assert.ok('annotations' in page);
    const sizes = new Map([[first.canvasId, { width: first.width, height: first.height }]]);
    const found = readAnnotatedRegions(page.annotations, sizes, 'page', new Warnings());
    assert.ok(found.length > 100, `${found.length} lines of text`);
    assert.ok(found.every((f) => f.canvasId === first.canvasId && f.region.motivations[0] === 'supplementing'));
    assert.ok(found.some((f) => f.region.text[0] === 'I. 54. Jahrgang'));

    const warnings = new Warnings();
    const kept = boundRegions(found.map((f) => f.region), first, { maxPerCanvas: 5, minSide: 10 }, 'canvas 0', warnings);
    assert.equal(kept.length, 5);
    const area = (b: { w: number; h: number }) => b.w * b.h;
    const fifth = found.map((f) => area(f.region.box)).sort((a, b) => b - a)[4]!;
    assert.ok(kept.every((r) => area(r.box) >= fifth), 'the largest five');
    assert.ok(kept.every((r) => r.box.x + r.box.w <= first.width! && r.box.y + r.box.h <= first.height!), 'within the canvas');
    assert.match(warnings.done().join('\n'), /has \d+ annotated regions; the largest 5 are indexed \(harvest\.regions\.maxPerCanvas\)/);
  });

  it('reads a referenced v2 sc:AnnotationList painting text on a segment (spec fixture 46)', () => {
    const m = parseManifest(json('iiif-spec-2.1/fixtures/46/manifest.json'));
    const canvas = `${SPEC}/canvas/46/c1.json`;
    assert.deepEqual(m.annotationPages, [{ url: `${SPEC}/list/46/list1.json`, canvases: [canvas] }]);
    const list = pageAnnotations(json('iiif-spec-2.1/fixtures/list/46/list1.json'));
    assert.ok('annotations' in list);
    const found = readAnnotatedRegions(list.annotations, new Map([[canvas, { width: 1200, height: 1800 }]]), 'list', new Warnings());
    // The transcription is an external text file: a region without words.
    assert.deepEqual(found, [{ canvasId: canvas, region: { box: { x: 225, y: 70, w: 750, h: 150 }, text: [], motivations: ['painting'], annotations: [] } }]);

    // The same list given inline (otherContent with its resources) is read with the manifest.
    const inline = json('iiif-spec-2.1/fixtures/46/manifest.json');
    const sequence = (inline['sequences'] as Array<{ canvases: Array<Record<string, unknown>> }>)[0]!;
    sequence.canvases[0]!['otherContent'] = [json('iiif-spec-2.1/fixtures/list/46/list1.json')];
    const parsed = parseManifest(inline);
    assert.deepEqual(parsed.canvases[0]!.regions, [found[0]!.region]);
    assert.equal(parsed.annotationPages, undefined);
  });

  it('reads v2 SpecificResource targets, a Choice of selectors, tags and HTML comments (IIIF / Stanford annotation list)', () => {
    const list = pageAnnotations(json('iiif-commons-parser/presentation-2/iiif-fixture-annotation-list.json'));
    assert.ok('annotations' in list);
    const spec = 'http://iiif.io/api/presentation/2.0/example/fixtures/canvas/65/c1.json';
    const stanford = 'https://purl.stanford.edu/ch264fq0568/iiif/canvas/ch264fq0568_1';
    const found = readAnnotatedRegions(list.annotations, new Map([[spec, {}], [stanford, {}]]), 'list', new Warnings());
    const onSpec = found.find((f) => f.canvasId === spec)!;
    assert.deepEqual(onSpec.region.box, { x: 225, y: 70, w: 750, h: 150 });
    assert.deepEqual(onSpec.region.text, ['Top of First Page to Display']);
    const tagged = found.find((f) => f.canvasId === stanford)!;
    assert.equal(tagged.region.box.x, 3112);
    assert.deepEqual(tagged.region.motivations, ['tagging', 'commenting']);
    // The tag and the HTML comment as plain text, no markup.
    assert.deepEqual(tagged.region.text, ['character', '万']);
  });

  it('ignores unusable boxes with a warning, clamps to the canvas and merges annotations of one box', () => {
    const canvas = 'https://example.org/c1';
    const sizes = new Map([[canvas, { width: 1000, height: 800 }]]);
    const tag = (xywh: string, value: string) => ({ type: 'Annotation', motivation: 'tagging', body: { type: 'TextualBody', value }, target: `${canvas}#xywh=${xywh}` });
    const warnings = new Warnings();
    const found = readAnnotatedRegions(
      [
        tag('a,b,c,d', 'letters'),
        tag('10,10,0,50', 'empty'),
        tag('900,700,300,300', 'overhanging'),
        tag('percent:10,10,50,50', 'percent'),
        tag('percent:10,10,50,50', 'the same box'),
        tag('5000,5000,10,10', 'outside'),
        { type: 'Annotation', motivation: 'painting', body: { type: 'Image', id: 'https://example.org/x.jpg' }, target: `${canvas}#xywh=0,0,10,10` },
        { type: 'Annotation', motivation: 'tagging', body: { type: 'TextualBody', value: 'another canvas' }, target: 'https://example.org/c2#xywh=1,1,50,50' },
      ],
      sizes,
      'canvas 0',
      warnings,
    );
    assert.match(warnings.done().join('\n'), /xywh=.*a,b,c,d.*expected four numbers\); ignored/);
    assert.match(warnings.done().join('\n'), /10,10,0,50.*width and height must be positive/);
    const kept = boundRegions(found.map((f) => f.region), { width: 1000, height: 800 }, { maxPerCanvas: 10, minSide: 32 }, 'canvas 0', warnings);
    assert.deepEqual(
      kept.map((r) => [r.box, r.text]),
      [
        [{ x: 100, y: 80, w: 500, h: 400 }, ['percent', 'the same box']],
        [{ x: 900, y: 700, w: 100, h: 100 }, ['overhanging']],
      ],
    );
    assert.match(warnings.done().join('\n'), /1 annotated region\(s\) lie outside the canvas; ignored/);
  });
});
