import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createInstitution } from '../support/institution/index.ts';
import type { Institution } from '../support/institution/types.ts';
import { requireFixtures } from '../support/fixtures.ts';
import { harvestOnce, photographs, tempDataDir } from '../support/harvest-harness.ts';
import { tinyModel } from '../support/tiny-model.ts';
import { modelsSchema, storeSchema } from '../../config/schema.ts';
import { loadEncoders, type Encoders } from '../../models/index.ts';
import { openStore, type VectorStore } from '../../store/index.ts';
import { EmbeddingStage } from '../../harvester/embedding-stage.ts';
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
    store = await openStore(storeSchema.parse({}), dataDir, { modelId: encoders.config.modelId, dimensions: encoders.config.projectionDim });
  });
  after(async () => {
    await store?.close();
    await encoders?.close();
    await inst?.close();
  });

  it('embeds from the image cache what a harvest without a model recorded, downloading nothing again', async () => {
    const recorded = await harvestOnce(dataDir, [inst.rootCollectionUrl]);
    assert.equal(recorded.summary.images.indexed, canvasCount());
    inst.resetStats();
    const { summary } = await harvestOnce(dataDir, [inst.rootCollectionUrl], { stage: new EmbeddingStage(encoders, store) });
    assert.equal(summary.status, 'completed', JSON.stringify(summary.failures));
    assert.equal(summary.images.indexed, canvasCount());
    assert.equal(inst.stats.imageRequests, 0, 'embedded from the cache');
    const stats = await store.stats();
    assert.equal(stats.items, canvasCount());
    assert.equal(stats.modelId, encoders.config.modelId);
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
