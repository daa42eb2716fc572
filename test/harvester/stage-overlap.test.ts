import assert from 'node:assert/strict';
import { createInstitution } from '../support/institution/index.ts';
import type { Institution } from '../support/institution/types.ts';
import { requireFixtures } from '../support/fixtures.ts';
import { harvestOnce, photographs, tempDataDir, testHarvestConfig } from '../support/harvest-harness.ts';
import { RecordingStage } from '../../harvester/recording-stage.ts';
import { EmbeddingStage } from '../../harvester/embedding-stage.ts';
import type { HarvestedItem, IndexedRecord } from '../../harvester/stage.ts';
import type { Encoders } from '../../models/index.ts';
import type { StoreItem, VectorStore } from '../../store/types.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A recording stage whose index() can be held open, counting how many batches are inside at once. */
class GatedStage extends RecordingStage {
  inside = 0;
  maxInside = 0;
  readonly entered: string[][] = [];
  /** Called with the batch number; index() resolves when the returned promise does. */
  constructor(private readonly hold: (batch: number) => Promise<unknown>) {
    super();
  }

  override async index(items: HarvestedItem[]) {
    const batch = this.entered.push(items.map((i) => i.itemId)) - 1;
    this.inside++;
    this.maxInside = Math.max(this.maxInside, this.inside);
    try {
      await this.hold(batch);
      return await super.index(items);
    } finally {
      this.inside--;
    }
  }
}

describe('image pipeline: batches overlap in the stage', function () {
  requireFixtures(this);
  this.timeout(120_000);

  let inst: Institution;
  before(async () => {
    inst = await createInstitution({ images: [...photographs('fsa-owi', 8), ...photographs('documerica', 8)], imagesPerManifest: 2 });
  });
  after(async () => inst?.close());

  it('hands the next batch over while one is still being indexed, two at most, and commits them in order', async () => {
    let secondEntered: () => void = () => {};
    const second = new Promise<void>((resolve) => (secondEntered = resolve));
    // Batch 0 waits (up to 5 s) for batch 1 to come in; batch 1 finishes at once, before batch 0.
    const stage = new GatedStage(async (batch) => {
      if (batch === 1) secondEntered();
      if (batch === 0) await Promise.race([second, sleep(5000)]);
      else await sleep(20);
    });
    const config = testHarvestConfig({}, { batchSize: 4 });
    const { summary, events } = await harvestOnce(tempDataDir(), [inst.rootCollectionUrl], { config, stage });
    assert.equal(summary.status, 'completed', JSON.stringify(summary.failures));
    const canvases = inst.manifests.reduce((n, m) => n + m.canvases.length, 0);
    assert.equal(summary.images.indexed, canvases);
    assert.ok(stage.entered.length >= 3, `${stage.entered.length} batches`);
    assert.equal(stage.maxInside, 2, 'two batches inside the stage at once, never more');
    // Batch 1 finished first, yet batch 0's items are committed (and reported) before it.
    const indexed = events.flatMap((e) => (e.type === 'image' && e.status === 'indexed' ? [e.itemId] : []));
    assert.deepEqual(indexed, stage.entered.flat());
  });
});

describe('embedding stage: one embedding at a time', () => {
  const record = (id: string) => ({ canvasId: `https://example.org/canvas/${id}`, manifestId: 'm', manifestUrl: 'https://example.org/m', sourceUrl: 's', collectionPath: [], imageUrl: 'u', metadata: [], label: { none: [id] } }) as unknown as IndexedRecord;
  const item = (id: string): HarvestedItem => ({
    itemId: id,
    record: record(id),
    image: { data: Buffer.alloc(12), width: 2, height: 2, channels: 3, sourceWidth: 2, sourceHeight: 2 },
    bytes: Buffer.alloc(0),
    imageHash: id,
  });

  it('embeds overlapping batches one after the other, in the order they came, while the previous one is stored', async () => {
    const log: string[] = [];
    let embedding = 0;
    let releaseUpsert: () => void = () => {};
    const upsertHeld = new Promise<void>((resolve) => (releaseUpsert = resolve));
    const encoders = {
      config: { modelId: 'test-model', projectionDim: 2 },
      image: {
        async embedEach(inputs: unknown[]) {
          embedding++;
          assert.equal(embedding, 1, 'two embeddings at once');
          log.push(`embed ${inputs.length}`);
          await sleep(30);
          embedding--;
          return inputs.map(() => ({ vector: Float32Array.of(1, 0) }));
        },
      },
    } as unknown as Encoders;
    const stored: string[][] = [];
    const store = {
      async upsert(items: StoreItem[]) {
        stored.push(items.map((i) => i.id));
        log.push(`upsert ${items.map((i) => i.id).join(',')}`);
        // The first batch's write is held until the second batch has been embedded.
        if (stored.length === 1) await upsertHeld;
      },
    } as unknown as VectorStore;
    const stage = new EmbeddingStage(encoders, store);
    const first = stage.index([item('a'), item('b'), item('c')]);
    const second = stage.index([item('d'), item('e')]).then((outcomes) => {
      releaseUpsert();
      return outcomes;
    });
    const [o1, o2] = await Promise.all([first, second]);
    assert.deepEqual(log, ['embed 3', 'upsert a,b,c', 'embed 2', 'upsert d,e']);
    assert.deepEqual([...o1, ...o2].map((o) => o.ok), [true, true, true, true, true]);
  });
});
