import assert from 'node:assert/strict';
import { FeatureInputError, type ImageFeatures, type RawPixels } from '../../reprints/features/index.ts';
import { regionEntries } from '../../reprints/region-features.ts';

describe('reprint entries of region items', () => {
  const pixels: RawPixels = { data: new Uint8Array(200 * 100), width: 200, height: 100, channels: 1 };
  const canvas = {
    id: 'canvas-item',
    item: { canvasId: 'https://example.org/canvas/1', canvasWidth: 2000, canvasHeight: 1000 },
    images: { bytes: Buffer.alloc(0), pixels },
    regions: [
      { id: 'canvas-item-xywh-0-0-1000-500', box: { x: 0, y: 0, w: 1000, h: 500 }, part: { x: 0, y: 0, w: 0.5, h: 0.5 } },
      // A sliver: one pixel wide in the image features are cut from.
      { id: 'canvas-item-xywh-1990-0-10-1000', box: { x: 1990, y: 0, w: 10, h: 1000 }, part: { x: 0.995, y: 0, w: 0.005, h: 1 } },
      { id: 'canvas-item-xywh-1000-500-1000-500', box: { x: 1000, y: 500, w: 1000, h: 500 }, part: { x: 0.5, y: 0.5, w: 0.5, h: 0.5 } },
    ],
  };
  // Extraction refuses what is too small to match, as the native binding does.
  const extract = async (image: Buffer | RawPixels): Promise<ImageFeatures[]> => {
    const { width } = image as RawPixels;
    if (width < 8) throw new FeatureInputError(`image too small to match (${width} px wide)`);
    return [{ width } as unknown as ImageFeatures];
  };

  it('indexes every region it can match under its own id, in canvas coordinates, and skips one it cannot instead of failing the canvas', async () => {
    const entries = await regionEntries(canvas, { maxRegions: 64, extract });
    assert.deepEqual(entries.map((e) => e.id), ['canvas-item-xywh-0-0-1000-500', 'canvas-item-xywh-1000-500-1000-500']);
    assert.deepEqual(entries[1]!.item.region, { canvasItemId: 'canvas-item', box: { x: 1000, y: 500, w: 1000, h: 500 }, shown: { x: 1000, y: 500, w: 1000, h: 500 } });
  });

  it('keeps to the bound on regions a canvas, and lets other errors through', async () => {
    assert.equal((await regionEntries(canvas, { maxRegions: 1, extract })).length, 1);
    const broken = async (): Promise<ImageFeatures[]> => {
      throw new Error('the binding crashed');
    };
    await assert.rejects(regionEntries(canvas, { maxRegions: 64, extract: broken }), /binding crashed/);
  });
});
