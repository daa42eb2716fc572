/**
 * The Mirador plugin's logic that needs no browser: coordinates between the viewer, Mirador's
 * world and canvases; reading hits; the plugin's store slice; settings; the bundle build cache.
 * (The plugin in Mirador itself: mirador.test.ts.)
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { buildMiradorBundle, MIRADOR_BUNDLE } from '../../viewer-widget/build-mirador.ts';
import { placements, regionOnCanvases, type CanvasWorldLike } from '../../viewer-widget/src/mirador/canvas-world.ts';
import {
  boxFromCorners,
  canvasToWorld,
  elementToWorld,
  formatXywh,
  pad,
  parseXywh,
  worldToCanvas,
  worldToElement,
  type CanvasPlacement,
} from '../../viewer-widget/src/mirador/geometry.ts';
import { hitTarget } from '../../viewer-widget/src/mirador/hit-target.ts';
import { checkSettings, RepriseMiradorConfigError } from '../../viewer-widget/src/mirador/settings.ts';
import {
  clearQueryOutline,
  regionDrawn,
  repriseReducer,
  setDrawing,
  setHighlight,
  windowSearchState,
  type RepriseState,
} from '../../viewer-widget/src/mirador/state.ts';
import { widgetLanguage } from '../../viewer-widget/src/mirador/translations.ts';

/** A Mirador-like world: canvases side by side at a common height, as CanvasWorld lays them out. */
function world(canvases: Array<{ id: string; width: number; height: number }>): CanvasWorldLike {
  const height = Math.min(...canvases.map((c) => c.height));
  let x = 0;
  const laid = canvases.map((c) => {
    const w = Math.floor((height * c.width) / c.height);
    const at: [number, number, number, number] = [x, 0, w, height];
    x += w;
    return { id: c.id, at };
  });
  return {
    canvases: canvases.map((c) => ({ id: c.id, getWidth: () => c.width, getHeight: () => c.height })),
    canvasToWorldCoordinates: (id) => laid.find((l) => l.id === id)!.at,
  };
}

describe('Mirador plugin: geometry', () => {
  const single: CanvasPlacement = { world: { x: 0, y: 0, w: 640, h: 422 }, width: 640, height: 422 };
  // The right page of a book view, scaled down to the left page's height.
  const right: CanvasPlacement = { world: { x: 500, y: 0, w: 500, h: 750 }, width: 2000, height: 3000 };

  it('reads and writes xywh in the forms the API takes', () => {
    assert.deepEqual(parseXywh('10,20,30,40'), { x: 10, y: 20, w: 30, h: 40 });
    assert.deepEqual(parseXywh('xywh=pixel:10, 20,30.5,40'), { x: 10, y: 20, w: 30.5, h: 40 });
    assert.equal(parseXywh('10,20,0,40'), undefined, 'an empty box is no box');
    assert.equal(parseXywh('percent:10,20,30,40'), undefined, 'percentages need the canvas size');
    assert.equal(parseXywh('a,b,c,d'), undefined);
    assert.equal(formatXywh({ x: 10.4, y: 19.6, w: 30, h: 40.5 }), '10,20,30,41');
  });

  it('maps world boxes to canvas regions, clipped to the canvas', () => {
    assert.deepEqual(worldToCanvas({ x: 100, y: 50, w: 200, h: 100 }, single), { x: 100, y: 50, w: 200, h: 100 });
    assert.deepEqual(worldToCanvas({ x: -50, y: -50, w: 800, h: 600 }, single), { x: 0, y: 0, w: 640, h: 422 }, 'a view wider than the canvas is the whole canvas');
    assert.deepEqual(worldToCanvas({ x: 600, y: 0, w: 100, h: 150 }, right), { x: 400, y: 0, w: 400, h: 600 }, 'scaled back to the canvas size');
    assert.equal(worldToCanvas({ x: 700, y: 0, w: 50, h: 50 }, single), undefined, 'a box beside the canvas misses it');
  });

  it('maps canvas regions back to the world, and pixels of the viewer to the world', () => {
    const region = { x: 400, y: 0, w: 400, h: 600 };
    assert.deepEqual(worldToCanvas(canvasToWorld(region, right), right), region);
    const bounds = { x: 100, y: 50, w: 400, h: 300 };
    const element = { width: 800, height: 600 };
    const px = { x: 80, y: 60, w: 200, h: 100 };
    assert.deepEqual(elementToWorld(px, bounds, element), { x: 140, y: 80, w: 100, h: 50 });
    assert.deepEqual(worldToElement(elementToWorld(px, bounds, element), bounds, element), px);
  });

  it('makes boxes from corners dragged in any direction, and pads them for context', () => {
    assert.deepEqual(boxFromCorners(50, 80, 10, 20), { x: 10, y: 20, w: 40, h: 60 });
    assert.deepEqual(pad({ x: 100, y: 100, w: 40, h: 20 }, 0.25), { x: 90, y: 95, w: 60, h: 30 });
  });

  it('picks the canvas a box covers most in a book view', () => {
    const book = world([
      { id: 'left', width: 1000, height: 1500 },
      { id: 'right', width: 2000, height: 3000 },
    ]);
    assert.deepEqual(
      placements(book).map((p) => [p.canvasId, p.placement.world]),
      [
        ['left', { x: 0, y: 0, w: 1000, h: 1500 }],
        ['right', { x: 1000, y: 0, w: 1000, h: 1500 }],
      ],
    );
    // Mostly on the right page: that page's region, in its own (doubled) coordinates.
    assert.deepEqual(regionOnCanvases({ x: 900, y: 100, w: 400, h: 200 }, book), { canvasId: 'right', box: { x: 0, y: 200, w: 600, h: 400 } });
    assert.deepEqual(regionOnCanvases({ x: 700, y: 100, w: 400, h: 200 }, book)?.canvasId, 'left');
    assert.equal(regionOnCanvases({ x: 100, y: 100, w: 5, h: 200 }, book), undefined, 'a sliver is too small to search with');
    assert.equal(regionOnCanvases({ x: 0, y: 1600, w: 100, h: 100 }, book), undefined, 'below the pages');
  });
});

describe('Mirador plugin: hits', () => {
  it('reads hits as the API sends them', () => {
    const hit = {
      id: 'a',
      canvas: { id: 'https://x.org/c1', index: 0 },
      manifest: { id: 'https://x.org/m', url: 'https://x.org/m.json' },
      region: { x: 1, y: 2, w: 3, h: 4 },
    };
    assert.deepEqual(hitTarget(hit), {
      canvasId: 'https://x.org/c1',
      manifestUrl: 'https://x.org/m.json',
      manifestAliases: ['https://x.org/m.json', 'https://x.org/m'],
      region: { x: 1, y: 2, w: 3, h: 4 },
    });
  });

  it('reads flattened hits, xywh strings, and refuses hits with nothing to open', () => {
    assert.deepEqual(hitTarget({ canvasId: 'c', manifestId: 'm', xywh: '5,6,7,8' }), { canvasId: 'c', manifestUrl: 'm', manifestAliases: ['m'], region: { x: 5, y: 6, w: 7, h: 8 } });
    assert.equal(hitTarget({ canvas: { id: 'c' } }), undefined, 'no manifest');
    assert.equal(hitTarget({ manifest: { id: 'm' } }), undefined, 'no canvas');
    assert.equal(hitTarget(null), undefined);
    assert.equal(hitTarget({ canvasId: 'c', manifestId: 'm', region: { x: 0, y: 0, w: 0, h: 5 } })?.region, undefined, 'an empty region is none');
  });
});

describe('Mirador plugin: store slice', () => {
  const apply = (...actions: Array<{ type: string }>): RepriseState => actions.reduce<RepriseState>((s, a) => repriseReducer(s, a), {});

  it('turns drawing on and off, and a drawn box ends drawing with a new serial and its outline', () => {
    const box = { canvasId: 'c', box: { x: 1, y: 2, w: 30, h: 40 } };
    const s = apply(setDrawing('w', true), regionDrawn('w', box), setDrawing('w', true), regionDrawn('w', box));
    const w = windowSearchState({ reprise: s }, 'w');
    assert.equal(w.drawing, false);
    assert.deepEqual(w.drawn, { ...box, serial: 2 }, 'the same box drawn twice runs twice');
    assert.deepEqual(w.queryOutline, box);
    assert.equal(windowSearchState({ reprise: repriseReducer(s, clearQueryOutline('w')) }, 'w').queryOutline, undefined);
  });

  it('numbers each highlighted hit, and forgets a window when Mirador closes it', () => {
    const hl = { canvasId: 'c', box: { x: 0, y: 0, w: 10, h: 10 } };
    const s = apply(setHighlight('w', hl), setHighlight('w', hl), setHighlight('v', undefined));
    assert.deepEqual(s.w?.highlight, { ...hl, serial: 2 }, 'opening the same hit again fits the view again');
    assert.equal(s.v?.highlight, undefined);
    const closed = repriseReducer(s, { type: 'mirador/REMOVE_WINDOW', windowId: 'w' } as { type: string });
    assert.deepEqual(Object.keys(closed), ['v']);
    assert.deepEqual(windowSearchState({}, 'nowhere'), { drawing: false });
  });
});

describe('Mirador plugin: settings', () => {
  it('accepts what a page author gives', () => {
    assert.deepEqual(checkSettings({ api: ' /api ', lang: 'fr', limit: 12, otherManifest: 'same-window' }), { api: '/api', lang: 'fr', limit: 12, otherManifest: 'same-window' });
    assert.deepEqual(checkSettings({ api: '/api', minScore: 'none' }), { api: '/api', minScore: 'none' });
    assert.deepEqual(checkSettings({ api: '/api', minScore: 0.25 }), { api: '/api', minScore: 0.25 });
    assert.equal(widgetLanguage('fr-CA'), 'fr');
    assert.equal(widgetLanguage('de'), 'en');
  });

  it('names the setting and what to give when it is wrong', () => {
    const cases: Array<[unknown, RegExp]> = [
      [undefined, /give the settings as an object/],
      [{}, /"api" is required: the base URL of the Reprise API/],
      [{ api: '/api', lang: 'de' }, /"lang" must be "en" or "fr" \(got "de"\)/],
      [{ api: '/api', limit: 0 }, /"limit" must be a whole number from 1 to 100 \(got 0\)/],
      [{ api: '/api', otherManifest: 'tab' }, /"otherManifest" must be "new-window" or "same-window"/],
      [{ api: '/api', minScore: 'high' }, /"minScore" must be "auto", "none" or a number \(got "high"\)/],
    ];
    for (const [settings, message] of cases) {
      assert.throws(() => checkSettings(settings), (err: unknown) => err instanceof RepriseMiradorConfigError && message.test(err.message));
    }
  });
});

describe('Mirador plugin: bundle build', function () {
  this.timeout(120_000);
  let outdir: string;
  before(async () => {
    outdir = await mkdtemp(path.join(os.tmpdir(), 'reprise-mirador-build-'));
  });
  after(async () => {
    await rm(outdir, { recursive: true, force: true });
  });

  it('builds Mirador with the plugin once, then only when an input changed', async () => {
    const first = await buildMiradorBundle({ outdir });
    assert.equal(first.built, true);
    assert.equal(first.file, path.join(outdir, MIRADOR_BUNDLE));
    const code = await readFile(first.file, 'utf8');
    assert.ok(code.includes('openCompanionWindow_reprise') && code.includes('reprise/REGION_DRAWN'), 'the plugin is in the bundle');
    assert.ok(first.bytes > 1_000_000, 'with Mirador, React and MUI');

    const again = await buildMiradorBundle({ outdir });
    assert.equal(again.built, false, 'nothing changed');
    assert.ok(again.ms < first.ms);

    // An input that changed since (here: its recorded size no longer matches) means a new build.
    const stampFile = path.join(outdir, 'reprise-mirador.inputs.json');
    const stamp = JSON.parse(await readFile(stampFile, 'utf8')) as { inputs: Record<string, [number, number]> };
    const input = Object.keys(stamp.inputs).find((f) => f.endsWith('src/mirador/plugin.ts'))!;
    stamp.inputs[input]![0] += 1;
    await writeFile(stampFile, JSON.stringify(stamp));
    assert.equal((await buildMiradorBundle({ outdir })).built, true);
    assert.equal((await buildMiradorBundle({ outdir, force: true })).built, true, '--force');
  });
});
