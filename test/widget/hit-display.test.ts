/** How the widget shows a hit: pure functions, run in Node. */
import assert from 'node:assert/strict';
import { cardLabels, drawableRegion, fillHref, hitLabel, rightsLabel, wholeThumbnail, xywhOf } from '../../viewer-widget/src/api/hit-display.ts';
import type { Hit } from '../../viewer-widget/src/api/types.ts';

const hit = (extra: Partial<Hit> = {}): Hit => ({
  id: 'abc',
  score: 0.5,
  canvas: { id: 'https://example.org/c/1', label: 'Plate 1', width: 2000, height: 1500 },
  manifest: { id: 'https://example.org/m/1', url: 'https://example.org/m/1.json', label: 'Album' },
  thumbnail: 'https://example.org/thumb.jpg',
  collections: [],
  ...extra,
});

describe('widget hit display', () => {
  it('labels a hit by manifest and canvas, and says "untitled" when it has neither', () => {
    assert.equal(hitLabel(hit(), 'Untitled'), 'Album — Plate 1');
    assert.equal(hitLabel(hit({ canvas: { id: 'c' } }), 'Untitled'), 'Album');
    assert.equal(hitLabel(hit({ canvas: { id: 'c' }, manifest: { id: 'm', url: 'u' } }), 'Sans titre'), 'Sans titre');
  });

  it("names a region item's card by its annotation's words, its canvas's label under them", () => {
    assert.deepEqual(cardLabels(hit({ regionLabel: ' A farmer in a hat ' }), 'Untitled'), { label: 'A farmer in a hat', secondary: 'Plate 1', secondaryIs: 'canvas', name: 'A farmer in a hat — Album — Plate 1' });
    assert.deepEqual(cardLabels(hit(), 'Untitled'), { label: 'Plate 1', secondary: 'Album', secondaryIs: 'manifest', name: 'Album — Plate 1' });
    assert.deepEqual(cardLabels(hit({ canvas: { id: 'c' } }), 'Untitled'), { label: 'Album', name: 'Album' });
  });

  it('asks the image service for the whole image when a region hit is to be outlined', () => {
    const region = { x: 10, y: 20, w: 30, h: 40 };
    assert.equal(wholeThumbnail(hit()), 'https://example.org/thumb.jpg', 'no region: the API thumbnail');
    assert.equal(wholeThumbnail(hit({ region, imageService: { id: 'https://iiif.example.org/3/x/', version: 3, level: 2 } })), 'https://iiif.example.org/3/x/full/400,300/0/default.jpg');
    assert.equal(wholeThumbnail(hit({ region, imageService: { id: 'https://iiif.example.org/1/x', version: 1 } })), 'https://iiif.example.org/1/x/full/400,/0/native.jpg');
    // Image API 3 does not scale up: a small image at its own size ("max"; "full" before 3).
    const small = { id: 'c', width: 300, height: 200 };
    assert.equal(wholeThumbnail(hit({ region, canvas: small, imageService: { id: 'https://i/3/x', version: 3 } })), 'https://i/3/x/full/max/0/default.jpg');
    assert.equal(wholeThumbnail(hit({ region, canvas: small, imageService: { id: 'https://i/2/x', version: 2 } })), 'https://i/2/x/full/full/0/default.jpg');
    // Level 0 cannot cut regions: its thumbnail is the whole image already.
    assert.equal(wholeThumbnail(hit({ region, imageService: { id: 'https://i/x', version: 3, level: 0 } })), 'https://example.org/thumb.jpg');
  });

  it('clips a region to the canvas and refuses one it cannot draw', () => {
    assert.deepEqual(drawableRegion({ x: -10, y: 100, w: 50, h: 2000 }, 1000, 800), { x: 0, y: 100, w: 40, h: 700 });
    assert.equal(drawableRegion({ x: 1200, y: 0, w: 10, h: 10 }, 1000, 800), undefined);
    assert.equal(drawableRegion({ x: 0, y: 0, w: 10, h: 10 }, undefined, 800), undefined);
    assert.equal(drawableRegion(undefined, 1000, 800), undefined);
  });

  it('names well-known rights', () => {
    assert.equal(rightsLabel('http://creativecommons.org/licenses/by-sa/4.0/'), 'CC BY-SA 4.0');
    assert.equal(rightsLabel('https://creativecommons.org/publicdomain/zero/1.0/'), 'CC0');
    assert.equal(rightsLabel('http://creativecommons.org/publicdomain/mark/1.0/'), 'Public Domain Mark');
    assert.equal(rightsLabel('http://rightsstatements.org/vocab/InC/1.0/'), 'InC');
    assert.equal(rightsLabel('https://library.example.org/rights/open/'), 'library.example.org/rights/open');
    assert.equal(rightsLabel('not a URI'), 'not a URI');
  });

  it('fills link templates, encoding ids', () => {
    assert.equal(fillHref('/items/{id}?canvas={canvas}', hit()), '/items/abc?canvas=https%3A%2F%2Fexample.org%2Fc%2F1');
    assert.equal(fillHref('/viewer?manifest={manifest}', hit()), '/viewer?manifest=https%3A%2F%2Fexample.org%2Fm%2F1.json');
    assert.equal(fillHref('{homepage}', hit()), undefined, 'no homepage, no link');
    assert.equal(fillHref('{homepage}', hit({ homepage: 'https://portal.example.org/o/1' })), 'https://portal.example.org/o/1');
    assert.equal(fillHref(undefined, hit()), undefined);
  });

  it('writes boxes as whole canvas units', () => {
    assert.equal(xywhOf({ x: 10.4, y: 20.6, w: 100.5, h: 50.49 }), '10,21,101,50');
  });
});
