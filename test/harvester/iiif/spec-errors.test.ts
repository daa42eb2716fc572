/**
 * The Presentation 2.x negative fixtures (errors/N, labels in
 * errors/collection.json). For each we decide what a harvester should do:
 * - error:   IiifParseError, the document is unusable as a whole;
 * - skip:    the manifest parses, the broken canvas is skipped with a reason;
 * - lenient: the problem is worked around (maybe with a warning), and unsafe
 *            content is neutralised.
 * Many of these fixtures have canvases without images, which would hide the
 * labelled problem behind "no painting annotation"; for canvas- and
 * description-level cases the test paints an image on the canvas first.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseIiifJson } from '../../../harvester/iiif/document.ts';
import { IiifParseError } from '../../../harvester/iiif/errors.ts';
import { parseManifest } from '../../../harvester/iiif/manifest.ts';
import type { CanvasRecord, ParsedManifest } from '../../../harvester/iiif/types.ts';
import { fixture, fixturesPresent, requireFixtures } from '../../support/fixtures.ts';

type Check = (m: ParsedManifest, record: CanvasRecord | undefined) => void;
interface Case {
  outcome: 'error' | 'skip' | 'lenient';
  /** error: the message; skip: the reason; lenient: one of the warnings (when given). */
  match?: RegExp;
  /** Paint an image on the canvas so the canvas-level outcome is visible. */
  paint?: boolean;
  check?: Check;
}

const summaryIs = (expected: unknown): Check => (_m, record) => assert.deepEqual(record?.summary, expected);

const CASES: Record<string, Case> = {
  'Non-JSON': { outcome: 'error', match: /^not JSON/ },
  'Empty JSON': { outcome: 'error', match: /no @context and no @type\/type/ },
  'JSON without @context': { outcome: 'error', match: /no @context and no @type\/type/ },
  'JSON with empty @context': { outcome: 'error', match: /no @context and no @type\/type/ },
  'JSON with unknown @context': { outcome: 'error', match: /unknown @context "http:\/\/example\.com\/context\.json"/ },
  'JSON without a @type': { outcome: 'error', match: /not a IIIF Presentation document: missing @type\/type/ },
  'JSON with a nonsense @type': { outcome: 'error', match: /unknown type "fish"/ },
  'Manifest without an @id': { outcome: 'error', match: /the manifest has no @id\/id/ },
  'Manifest with a nonsense @id': { outcome: 'error', match: /manifest id "fish" is not an absolute URI/ },
  'Manifest without a label': {
    outcome: 'lenient', match: /the manifest has no label/,
    check: (m) => assert.deepEqual(m.label, {}),
  },
  'Manifest with a non-string label': { outcome: 'lenient', check: (m) => assert.deepEqual(m.label, { none: ['1'] }) },
  'Manifest without any Sequences (not present)': { outcome: 'error', match: /the manifest has no sequences/ },
  'Manifest without any Sequences (empty)': { outcome: 'lenient', match: /the manifest has no canvases/ },
  'Manifest with broken Sequence': { outcome: 'error', match: /sequence 0 is not an object \(found 1\)/ },
  'Manifest with non Sequence': { outcome: 'error', match: /sequences is not a list of sequences/ },
  'Manifest with non Sequence in list': { outcome: 'error', match: /sequence 0 has type "fish", not sc:Sequence/ },
  'Manifest with Sequence not in list': { outcome: 'lenient', match: /sequences is a single object/ },
  'Manifest with empty Sequence': { outcome: 'lenient', match: /the manifest has no canvases/ },
  'Sequence with non Canvas / non list': { outcome: 'error', match: /sequence 0 canvases is not a list \(found "asdf"\)/ },
  'Sequence with non Canvas in a list': { outcome: 'skip', match: /canvas 0 is not an embedded canvas object \(found "asdf"\)/ },
  'Sequence with Canvas not in a list': { outcome: 'lenient', paint: true, match: /canvases is a single object/ },
  'Canvas without id': { outcome: 'skip', match: /canvas 0 has no @id\/id/ },
  'Canvas without real URI': { outcome: 'skip', match: /canvas 0 id "asdf" is not an absolute URI/ },
  'Canvas without label': { outcome: 'lenient', paint: true, check: (_m, r) => assert.deepEqual(r?.label, {}) },
  'Canvas with nonstring label': { outcome: 'lenient', paint: true, check: (_m, r) => assert.deepEqual(r?.label, { none: ['1'] }) },
  'Canvas without height': { outcome: 'lenient', paint: true, check: (_m, r) => assert.equal(r?.height, undefined) },
  'Canvas with non integer height': {
    outcome: 'lenient', paint: true, match: /canvas 0 has a non-integer height "two"/,
    check: (_m, r) => assert.equal(r?.height, undefined),
  },
  'Canvas without width': { outcome: 'lenient', paint: true, check: (_m, r) => assert.equal(r?.width, undefined) },
  'Canvas with non integer width': {
    outcome: 'lenient', paint: true, match: /canvas 0 has a non-integer width "two"/,
    check: (_m, r) => assert.equal(r?.width, undefined),
  },
  'Canvas with non list images': { outcome: 'skip', match: /images property that is not a list \(found "asdfasdf"\)/ },
  'Canvas with list of non annotations in images': { outcome: 'skip', match: /annotation 0 is not an object \(found "asdfasdf"\)/ },
  'Canvas with annotation directly in images': {
    outcome: 'lenient', match: /images is a single annotation/,
    check: (_m, r) => assert.equal(r?.image.url, 'http://example.net/image.jpg'),
  },
  'Annotation without a motivation': { outcome: 'lenient', match: /without a motivation; treated as painting/ },
  'Annotation with a nonsense motivation': { outcome: 'skip', match: /motivation "somethingElse", not painting/ },
  'Annotation without a target/on': { outcome: 'lenient', match: /no target \(on\); assumed to paint the whole canvas/ },
  'Annotation with a nonsense target/on': { outcome: 'lenient', match: /unusable target \(on: 1\)/ },
  'Annotation without a body/resource': { outcome: 'skip', match: /annotation 0 has no usable resource \(found nothing\)/ },
  'Annotation with a nonsense body/resource': { outcome: 'skip', match: /annotation 0 has no usable resource \(found 1\)/ },
  // The id ends in .jpg, which is how the upgrade (and we) recognise an untyped image.
  'Annotation resource without a type': { outcome: 'lenient', check: (_m, r) => assert.equal(r?.image.url, 'http://example.net/image.jpg') },
  "Annotation resource in images that isn't an Image": { outcome: 'skip', match: /paints Audio, not an image/ },
  'Image without an id': { outcome: 'skip', match: /image has no @id\/id/ },
  'Image without a real id': { outcome: 'skip', match: /image id "asdf" is not an absolute URI/ },
  'Image with broken height': {
    outcome: 'lenient', match: /image has a non-integer height "six"/,
    check: (_m, r) => assert.equal(r?.image.height, undefined),
  },
  'Image with broken width': {
    outcome: 'lenient', match: /image has a non-integer width "six"/,
    check: (_m, r) => assert.equal(r?.image.width, undefined),
  },
  // Not HTML at all: the angle brackets are text and survive.
  'Non HTML with < and > in description': { outcome: 'lenient', paint: true, check: summaryIs({ none: ['<x> <y> <plain text>'] }) },
  'No Value in description': { outcome: 'lenient', paint: true, check: summaryIs(undefined) },
  'Vulnerable HTML attribute in description': { outcome: 'lenient', paint: true, check: summaryIs({ none: ['Naughty'] }) },
  'Vulnerable HTML tag in description': { outcome: 'lenient', paint: true, check: summaryIs({ none: ['Naughty'] }) },
  'Vulnerable HTML comment in description': { outcome: 'lenient', paint: true, check: summaryIs({ none: ['Naughty'] }) },
  // The harvester does not use viewingDirection or startCanvas: nothing to reject.
  'Invalid viewingDirection value': { outcome: 'lenient', paint: true },
  'Invalid startCanvas value': { outcome: 'lenient', paint: true },
};

interface Labelled {
  n: string;
  name: string;
}

function labelledCases(): Labelled[] {
  const collection = JSON.parse(readFileSync(fixture('iiif/iiif-spec-2.1/errors/collection.json'), 'utf8')) as {
    manifests: Array<{ '@id': string; label: string }>;
  };
  return collection.manifests.map((m) => {
    const [, n, name] = m.label.match(/^(\d+): (.*)$/)!;
    return { n: n!, name: name! };
  });
}

/** Gives canvas 0 an image when it has none, so canvas-level handling can be observed. */
function paintCanvas(json: unknown): unknown {
  const doc = structuredClone(json) as { sequences: Array<{ canvases: unknown }> };
  const canvases = doc.sequences[0]!.canvases;
  const canvas = (Array.isArray(canvases) ? canvases[0] : canvases) as Record<string, unknown>;
  canvas['images'] ??= [{
    '@type': 'oa:Annotation',
    motivation: 'sc:painting',
    on: canvas['@id'],
    resource: { '@id': 'http://example.net/painted.jpg', '@type': 'dctypes:Image' },
  }];
  return doc;
}

describe('Presentation 2 error fixtures, by label', function () {
  requireFixtures(this);
  const cases = fixturesPresent ? labelledCases() : [];

  it('the table covers every labelled case', function () {
    assert.equal(cases.length, 52);
    assert.deepEqual(cases.map((c) => c.name).filter((name) => !(name in CASES)), []);
  });

  for (const { n, name } of cases) {
    const expected = CASES[name];
    if (!expected) continue;
    it(`${n}: ${name} → ${expected.outcome}`, function () {
      const text = readFileSync(fixture(`iiif/iiif-spec-2.1/errors/${n}/manifest.json`), 'utf8');
      if (expected.outcome === 'error') {
        // Through the front door, so that "not JSON at all" is covered too.
        assert.throws(() => parseIiifJson(text), (error: unknown) => {
          assert.ok(error instanceof IiifParseError, `expected IiifParseError, got ${String(error)}`);
          assert.match(error.message, expected.match!);
          return true;
        });
        return;
      }
      const json = expected.paint ? paintCanvas(JSON.parse(text)) : JSON.parse(text);
      const m = parseManifest(json);
      if (expected.outcome === 'skip') {
        assert.equal(m.canvases.length, 0);
        assert.equal(m.skipped.length, 1);
        assert.match(m.skipped[0]!.reason, expected.match!);
      } else {
        if (expected.match) assert.ok(m.warnings.some((w) => expected.match!.test(w)), `warnings: ${JSON.stringify(m.warnings)}`);
        if (expected.paint) assert.equal(m.canvases.length, 1, `skipped: ${JSON.stringify(m.skipped)}`);
      }
      expected.check?.(m, m.canvases[0]);
    });
  }

  it('with the document URL, relative ids are resolved (with a warning) instead of rejected', function () {
    const url = 'http://iiif.io/api/presentation/2.0/example/errors/8/manifest.json';
    const m = parseManifest(JSON.parse(readFileSync(fixture('iiif/iiif-spec-2.1/errors/8/manifest.json'), 'utf8')), { url });
    assert.equal(m.id, 'http://iiif.io/api/presentation/2.0/example/errors/8/fish');
    assert.ok(m.warnings.some((w) => /"fish" is relative; resolved to/.test(w)));
  });

  it('errors name the document when given its URL', function () {
    const url = 'http://iiif.io/api/presentation/2.0/example/errors/7/manifest.json';
    assert.throws(
      () => parseManifest(JSON.parse(readFileSync(fixture('iiif/iiif-spec-2.1/errors/7/manifest.json'), 'utf8')), { url }),
      (error: unknown) => error instanceof IiifParseError && error.documentUrl === url && error.message.includes(url),
    );
  });
});
