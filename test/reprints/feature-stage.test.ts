import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { FeatureStage, FEATURE_STAGE_ID, reprintItem } from '../../harvester/feature-stage.ts';
import { openReprintIndex } from '../../reprints/index.ts';
import type { HarvestedItem, IndexedRecord, IndexStage, StageOutcome } from '../../harvester/stage.ts';
import { extractFeatures, type ImageFeatures, type RawPixels } from '../../reprints/features/index.ts';
import { bytesOf, requireLocalFeatures, tempDir } from './support.ts';

/** An inner stage that accepts every item except those named, and records what reached it. */
class FakeInner implements IndexStage {
  readonly id = 'model-x';
  removed: string[] = [];
  updated: string[] = [];
  constructor(private readonly refuse = new Set<string>()) {}
  async index(items: HarvestedItem[]): Promise<StageOutcome[]> {
    return items.map((i) => (this.refuse.has(i.itemId) ? { itemId: i.itemId, ok: false, reason: 'embedding failed' } : { itemId: i.itemId, ok: true }));
  }
  async updateMetadata(records: Array<{ itemId: string; record: IndexedRecord }>): Promise<void> {
    this.updated.push(...records.map((r) => r.itemId));
  }
  async remove(itemIds: string[]): Promise<void> {
    this.removed.push(...itemIds);
  }
  async close(): Promise<void> {}
}

const record = (label: string, width?: number): IndexedRecord =>
  ({
    canvasId: `https://example.org/canvas/${label}`,
    index: 0,
    ...(width ? { width, height: width } : {}),
    manifestId: 'https://example.org/manifest',
    manifestLabel: { en: ['A manifest'] },
    label: { en: [label] },
    metadata: [],
    image: { url: 'https://example.org/image.jpg' },
    alternatives: [],
    manifestUrl: 'https://example.org/manifest',
    sourceUrl: 'https://example.org/collection',
    collectionPath: ['Root', 'Photographs'],
    imageUrl: 'https://example.org/image.jpg',
  }) as unknown as IndexedRecord;

const item = (itemId: string, width?: number): HarvestedItem => ({
  itemId,
  record: record(itemId, width),
  image: { data: Buffer.alloc(64 * 64 * 3, 128), width: 64, height: 64, channels: 3, sourceWidth: 1280, sourceHeight: 1280 },
  bytes: Buffer.alloc(0),
  imageHash: `hash-${itemId}`,
});

describe('reprints: the harvest feature stage', function () {
  requireLocalFeatures(this);
  let features: ImageFeatures;
  let dir: string;
  before(async () => {
    features = await extractFeatures(bytesOf('fsa-owi', 'LC-USF33-003470.jpg'));
  });
  beforeEach(() => (dir = tempDir()));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('stores features of the canvases the inner stage accepted, and fails a canvas whose extraction fails', async () => {
    const index = openReprintIndex(dir);
    const seen: Array<Buffer | RawPixels> = [];
    const stage = new FeatureStage(new FakeInner(new Set(['refused'])), index, {
      extract: async (image) => {
        seen.push(image);
        if (seen.length === 2) throw new Error('bad pixels');
        return [features];
      },
    });
    assert.equal(stage.id, `model-x+${FEATURE_STAGE_ID}`);
    const outcomes = await stage.index([item('a', 4000), item('refused'), item('broken'), item('c')]);
    assert.deepEqual(outcomes, [
      { itemId: 'a', ok: true },
      { itemId: 'refused', ok: false, reason: 'embedding failed' },
      { itemId: 'broken', ok: false, reason: 'feature extraction failed: bad pixels' },
      { itemId: 'c', ok: true },
    ]);
    assert.equal(seen.length, 3);
    assert.deepEqual([index.has('a'), index.has('refused'), index.has('broken'), index.has('c')], [true, false, false, true]);
    // Canvas size from the record; without one, the delivered image's size.
    assert.deepEqual([index.image('a')!.item.canvasWidth, index.image('c')!.item.canvasWidth], [4000, 1280]);
    assert.deepEqual(index.image('a')!.item, reprintItem(record('a', 4000), { width: 1280, height: 1280 }));
    index.close();
  });

  it('passes removals and metadata updates to both, keeping the canvas size', async () => {
    const index = openReprintIndex(dir);
    const inner = new FakeInner();
    const stage = new FeatureStage(inner, index, { extract: async () => [features] });
    await stage.index([item('a', 4000), item('b')]);
    const relabelled = record('a renamed');
    await stage.updateMetadata([{ itemId: 'a', record: relabelled }, { itemId: 'unknown', record: relabelled }]);
    assert.deepEqual(inner.updated, ['a', 'unknown']);
    assert.equal(index.image('a')!.item.label, 'a renamed');
    assert.equal(index.image('a')!.item.canvasWidth, 4000);
    assert.equal(index.has('unknown'), false);
    await stage.remove(['b']);
    assert.deepEqual(inner.removed, ['b']);
    assert.equal(index.has('b'), false);
    assert.equal(index.searchable, 1);
    index.close();
  });
});
