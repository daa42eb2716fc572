/**
 * The Presentation 2.1 conformance fixtures, looked up by their labels in
 * fixtures/collection.json, with the canvases and image URLs they really hold.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolveImageRequest } from '../../../harvester/iiif/image-request.ts';
import { parseManifest } from '../../../harvester/iiif/manifest.ts';
import type { ParsedManifest } from '../../../harvester/iiif/types.ts';
import { fixture, requireFixtures } from '../../support/fixtures.ts';

const SPEC = 'http://iiif.io/api/presentation/2.1/example/fixtures';
const IMAGE_API = 'http://iiif.io/api/image/2.1/example/reference/page1-full';
const PAGE1_PNG = `${SPEC}/resources/page1-full.png`;

/** The manifest whose label in collection.json ends with `name` ("Test 24 Manifest: <name>"). */
function specCase(name: string): ParsedManifest {
  const collection = JSON.parse(readFileSync(fixture('iiif/iiif-spec-2.1/fixtures/collection.json'), 'utf8')) as {
    manifests: Array<{ '@id': string; label: unknown }>;
  };
  const entry = collection.manifests.find((m) => typeof m.label === 'string' && m.label.endsWith(`Manifest: ${name}`));
  assert.ok(entry, `no fixture labelled "${name}"`);
  const n = entry['@id'].match(/fixtures\/(\d+)\/manifest\.json$/)![1];
  const url = `${SPEC}/${n}/manifest.json`;
  return parseManifest(JSON.parse(readFileSync(fixture(`iiif/iiif-spec-2.1/fixtures/${n}/manifest.json`), 'utf8')), { url });
}

function only<T>(list: T[]): T {
  assert.equal(list.length, 1);
  return list[0]!;
}

describe('Presentation 2.1 fixtures, by label', function () {
  requireFixtures(this);

  it('"Minimum Required Fields": one canvas painted with a plain PNG', function () {
    const m = specCase('Minimum Required Fields');
    assert.equal(m.version, 2);
    assert.deepEqual(m.label, { none: ['Test 1 Manifest: Minimum Required Fields'] });
    const c = only(m.canvases);
    assert.equal(c.canvasId, `${SPEC}/canvas/1/c1.json`);
    assert.deepEqual([c.width, c.height], [1200, 1800]);
    assert.equal(c.image.url, PAGE1_PNG);
    assert.equal(c.image.service, undefined);
    assert.deepEqual(resolveImageRequest(c.image, 640), { url: PAGE1_PNG, strategy: 'plain', width: 1200, height: 1800 });
  });

  it('"Metadata Pairs with Languages": language-tagged values stay apart', function () {
    const c = only(specCase('Metadata Pairs with Languages').canvases);
    assert.deepEqual(c.metadata, [{ label: { none: ['date'] }, value: { fr: ['quelquetemps'], en: ['some data'] } }]);
  });

  it('"Multiple Languages for Metadata Labels"', function () {
    const c = only(specCase('Multiple Languages for Metadata Labels').canvases);
    assert.deepEqual(c.metadata, [{ label: { fr: ['date'], en: ['date'] }, value: { none: ['2000'] } }]);
  });

  it('"Rights Metadata": license → rights, attribution → requiredStatement', function () {
    const c = only(specCase('Rights Metadata').canvases);
    assert.equal(c.rights, 'http://creativecommons.org/licenses/by-nc/3.0/');
    assert.deepEqual(c.requiredStatement, { label: { none: ['Attribution'] }, value: { none: ['Owning Institution'] } });
  });

  it('"Description in Multiple Languages" and "Description in HTML" become plain-text summaries', function () {
    assert.deepEqual(only(specCase('Description in Multiple Languages').canvases).summary, {
      fr: ['on le decrit ici'],
      en: ['description here'],
    });
    assert.deepEqual(only(specCase('Description in HTML').canvases).summary, { en: ['Some HTML'] });
  });

  it('fixture 62 (a label in two languages) keeps both', function () {
    const m = parseManifest(JSON.parse(readFileSync(fixture('iiif/iiif-spec-2.1/fixtures/62/manifest.json'), 'utf8')));
    assert.deepEqual(m.label, { fr: ['62: quelque titre'], en: ['62: some title'] });
  });

  it('"Multiple Canvases": two canvases in order, page1 then page2', function () {
    const m = specCase('Multiple Canvases');
    assert.deepEqual(m.canvases.map((c) => [c.index, c.canvasId, c.image.url]), [
      [0, `${SPEC}/canvas/19/c1.json`, PAGE1_PNG],
      [1, `${SPEC}/canvas/19/c2.json`, `${SPEC}/resources/page2-full.png`],
    ]);
    assert.deepEqual(m.skipped, []);
  });

  it('"Multiple Sequences": only the first (default) sequence is read', function () {
    const m = specCase('Multiple Sequences');
    assert.equal(m.canvases.length, 1);
  });

  it('"Image with IIIF Service": level 1 v2 service, sized request !640,640', function () {
    const c = only(specCase('Image with IIIF Service').canvases);
    assert.equal(c.image.url, `${IMAGE_API}/full/full/0/default.jpg`);
    assert.deepEqual(c.image.service, { id: IMAGE_API, version: 2, level: 1 });
    assert.deepEqual(resolveImageRequest(c.image, 640), {
      url: `${IMAGE_API}/full/!640,640/0/default.jpg`,
      strategy: 'service-sized',
      width: 427,
      height: 640,
    });
  });

  it('"Image with IIIF Service, embedded info": level 2 profile object, tiles and formats are read', function () {
    const c = only(specCase('Image with IIIF Service, embedded info').canvases);
    assert.deepEqual(c.image.service, {
      id: IMAGE_API,
      version: 2,
      level: 2,
      width: 1200,
      height: 1800,
      tiles: [{ width: 512, height: 512, scaleFactors: [1, 2, 4, 8, 16] }],
      formats: ['gif', 'tif', 'pdf'],
    });
    // Already small enough: ask for the full image rather than a resize.
    assert.deepEqual(resolveImageRequest(c.image, 2000), {
      url: `${IMAGE_API}/full/full/0/default.jpg`,
      strategy: 'full',
      width: 1200,
      height: 1800,
    });
  });

  it('"Image different size to Canvas": canvas 600×900, image 1200×1800', function () {
    const c = only(specCase('Image different size to Canvas').canvases);
    assert.deepEqual([c.width, c.height], [600, 900]);
    assert.deepEqual([c.image.width, c.image.height], [1200, 1800]);
    assert.equal(c.image.url, PAGE1_PNG);
  });

  it('"No Image": the canvas is skipped with a reason, not an error', function () {
    const m = specCase('No Image');
    assert.deepEqual(m.canvases, []);
    assert.deepEqual(m.skipped, [{ canvasId: `${SPEC}/canvas/27/c1.json`, index: 0, reason: 'canvas 0 has no painting annotation' }]);
  });

  it('"Choice of Image": default image plus the greyscale alternative', function () {
    const c = only(specCase('Choice of Image').canvases);
    assert.equal(c.image.url, PAGE1_PNG);
    assert.deepEqual(c.image.label, { none: ['Color'] });
    assert.deepEqual(c.alternatives.map((a) => [a.url, a.label]), [
      [`${IMAGE_API}/full/full/0/gray.jpg`, { none: ['Greyscale'] }],
    ]);
  });

  it('"Choice of Image with IIIF Service": the default keeps its service', function () {
    const c = only(specCase('Choice of Image with IIIF Service').canvases);
    assert.equal(c.image.url, `${IMAGE_API}/full/full/0/default.jpg`);
    assert.deepEqual(c.image.service, { id: IMAGE_API, version: 2, level: 1 });
    assert.equal(c.alternatives.length, 1);
    assert.equal(c.alternatives[0]!.url, `${IMAGE_API}/full/full/0/gray.jpg`);
    assert.equal(resolveImageRequest(c.image, 640).url, `${IMAGE_API}/full/!640,640/0/default.jpg`);
  });

  for (const name of ['Main + Detail Image', 'Multiple Detail Images', 'Detail Image with Choice', "Detail Image with Choice, and 'no image' as option"]) {
    it(`"${name}": the main image (covering the canvas) is harvested, not the detail`, function () {
      const c = only(specCase(name).canvases);
      assert.equal(c.image.url, PAGE1_PNG);
      assert.equal(c.image.target, undefined);
      assert.deepEqual(c.alternatives, []);
    });
  }

  it('"Detail with IIIF Service": the main image and its service', function () {
    const c = only(specCase('Detail with IIIF Service').canvases);
    assert.equal(c.image.service?.id, IMAGE_API);
  });

  it('"Partial Image as Main Image": the file is fetched whole (fragments are not sent over HTTP)', function () {
    const c = only(specCase('Partial Image as Main Image').canvases);
    assert.equal(c.image.url, `${PAGE1_PNG}#xywh=100,100,1000,1600`);
    assert.deepEqual(resolveImageRequest(c.image, 640), { url: PAGE1_PNG, strategy: 'plain' });
  });

  it('"Partial Image as Main Image with IIIF Service": the SpecificResource source and its service', function () {
    const c = only(specCase('Partial Image as Main Image with IIIF Service').canvases);
    assert.equal(c.image.url, `${IMAGE_API}/full/full/0/default.jpg`);
    assert.equal(c.image.service?.id, IMAGE_API);
    assert.deepEqual([c.width, c.height], [1000, 1600]);
  });

  it('"Main Image with Server side Rotation": the source image, unrotated', function () {
    const c = only(specCase('Main Image with Server side Rotation').canvases);
    assert.equal(c.image.url, `${IMAGE_API}/full/full/0/default.jpg`);
    assert.equal(resolveImageRequest(c.image, 640).url, `${IMAGE_API}/full/!640,640/0/default.jpg`);
  });

  it('every positive fixture parses with at least one canvas or a recorded skip', function () {
    const collection = JSON.parse(readFileSync(fixture('iiif/iiif-spec-2.1/fixtures/collection.json'), 'utf8')) as {
      manifests: Array<{ '@id': string }>;
    };
    assert.equal(collection.manifests.length, 55);
    for (const entry of collection.manifests) {
      const n = entry['@id'].match(/fixtures\/(\d+)\//)![1];
      const m = parseManifest(JSON.parse(readFileSync(fixture(`iiif/iiif-spec-2.1/fixtures/${n}/manifest.json`), 'utf8')));
      assert.ok(m.canvases.length + m.skipped.length > 0, `fixture ${n}`);
      assert.equal(m.id, entry['@id']);
    }
  });
});
