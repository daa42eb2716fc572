import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createInstitution } from '../support/institution/index.ts';
import type { Institution } from '../support/institution/types.ts';
import { requireFixtures } from '../support/fixtures.ts';
import { harvestOnce, photographs, tempDataDir, testHarvestConfig } from '../support/harvest-harness.ts';
import { tinyModel } from '../support/tiny-model.ts';
import { modelsSchema, storeSchema } from '../../config/schema.ts';
import { loadEncoders, type Encoders } from '../../models/index.ts';
import { openStore, type VectorStore } from '../../store/index.ts';
import { EmbeddingStage } from '../../harvester/embedding-stage.ts';
import { MetadataStage } from '../../harvester/metadata-stage.ts';
import { itemIdOf } from '../../harvester/util/hash.ts';

describe('harvest into encoders and the embedded store', function () {
  requireFixtures(this);
  this.timeout(180_000);

  let inst: Institution;
  let encoders: Encoders;
  let store: VectorStore;
  let dataDir: string;
  const canvasCount = () => inst.manifests.reduce((n, m) => n + m.canvases.length, 0);

  before(async () => {
    inst = await createInstitution({ images: photographs('fsa-owi', 8), imagesPerManifest: 2, manifestCount: 8 });
    dataDir = tempDataDir();
    encoders = await loadEncoders(modelsSchema.parse({ path: await tinyModel('huggingface'), threads: 1 }), dataDir);
  });
  after(async () => {
    await store?.close();
    await encoders?.close();
    await inst?.close();
  });

  it('without a model stores every item without a vector, then embeds them from the image cache, downloading nothing again', async () => {
    // No model: the items are in the index at once, with their metadata (even with keepImages off, the images wait in the cache).
    const bare = await openStore(storeSchema.parse({}), dataDir);
    const withoutModel = await harvestOnce(dataDir, [inst.rootCollectionUrl], { stage: new MetadataStage(bare), config: testHarvestConfig({}, { keepImages: false }) });
    assert.equal(withoutModel.summary.images.indexed, canvasCount());
    assert.deepEqual(await bare.stats(), { items: canvasCount(), vectors: 0, itemsWithoutVectors: canvasCount() });
    const manifest = inst.manifests[0]!;
    const item = await bare.get(itemIdOf(manifest.url, manifest.canvases[0]!.id));
    assert.equal(item?.canvasId, manifest.canvases[0]!.id);
    assert.ok((await bare.keyword(manifest.label, { limit: 5 })).hits.some((h) => h.id === item!.id), 'found by keywords');
    await bare.close();

    inst.resetStats();
    store = await openStore(storeSchema.parse({}), dataDir, { modelId: encoders.config.modelId, dimensions: encoders.config.projectionDim });
    const { summary } = await harvestOnce(dataDir, [inst.rootCollectionUrl], { stage: new EmbeddingStage(encoders, store) });
    assert.equal(summary.status, 'completed', JSON.stringify(summary.failures));
    assert.equal(summary.images.indexed, canvasCount());
    assert.equal(inst.stats.imageRequests, 0, 'embedded from the cache');
    assert.deepEqual(await store.stats(), { modelId: encoders.config.modelId, dimensions: encoders.config.projectionDim, items: canvasCount(), vectors: canvasCount(), itemsWithoutVectors: 0 });

    // A later run without a model leaves what the model embedded as it is.
    const again = await openStore(storeSchema.parse({}), dataDir);
    const rerun = await harvestOnce(dataDir, [inst.rootCollectionUrl], { stage: new MetadataStage(again) });
    await again.close();
    assert.equal(rerun.summary.images.indexed, 0, 'nothing stored again');
    assert.equal((await store.stats()).itemsWithoutVectors, 0, 'no vector dropped');
  });

  it('stores the fields portals search on, and the embedding of the fetched image', async () => {
    const manifest = inst.manifests.find((m) => m.imageMode === 'plain')!;
    const canvas = manifest.canvases[0]!;
    const id = itemIdOf(manifest.url, canvas.id);
    const item = await store.get(id);
    assert.ok(item);
    assert.equal(item.canvasId, canvas.id);
    assert.equal(item.manifestUrl, manifest.url);
    assert.equal(item.source, inst.rootCollectionUrl);
    assert.ok(item.collections.length >= 1);
    assert.match(item.text, new RegExp(manifest.label.replace(/[()]/g, '.')));
    // A plain image is fetched as the file itself: the same pixels give the same embedding.
    const [vector] = await encoders.image.embed([readFileSync(canvas.imagePath)]);
    const { hits } = await store.nearest(vector!, { limit: 3 });
    assert.equal(hits[0]!.id, id);
    assert.ok(hits[0]!.score > 0.999);
  });

  it('updates metadata without embedding again, and removes what disappeared', async () => {
    const [relabelled, gone] = [inst.manifests[1]!, inst.manifests[2]!];
    await inst.changeManifest(relabelled.url, { kind: 'relabel', label: 'Nouveau titre' });
    await inst.removeManifest(gone.url);
    const stage = new EmbeddingStage(encoders, store);
    const { summary } = await harvestOnce(dataDir, [inst.rootCollectionUrl], { stage: stage });
    assert.equal(summary.images.indexed, 0, 'no image embedded again');
    const item = await store.get(itemIdOf(relabelled.url, relabelled.canvases[0]!.id));
    assert.match(item!.text, /Nouveau titre/);
    for (const canvas of gone.canvases) assert.equal(await store.get(itemIdOf(gone.url, canvas.id)), undefined);
    assert.equal((await store.stats()).items, canvasCount());
  });
});
