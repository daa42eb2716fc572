/**
 * Labels as facets: the mechanics (prompt ensembling, per-set choice, storage with scores, the
 * facet, relabelling from stored vectors, labels kept across metadata updates), on the tiny
 * random-weight CLIP model and on the real MobileNetV2. What the zero-shot labels are worth needs
 * trained CLIP weights, which this repository does not have: nothing here measures it.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import express from 'express';
import sharp from 'sharp';
import { labelsSchema, modelsSchema } from '../../config/schema.ts';
import { EmbeddingStage } from '../../harvester/embedding-stage.ts';
import { keepModelLabels, LABEL_SCORES_KEY, relabelItems } from '../../harvester/item-labels.ts';
import type { HarvestedItem } from '../../harvester/stage.ts';
import { loadEncoders, type ClassifierEncoders, type ClipEncoders } from '../../models/index.ts';
import { Labeller } from '../../models/labels/labeller.ts';
import { createSearchRouter } from '../../plugin/index.ts';
import { openStore, type VectorStore } from '../../store/index.ts';
import { storeSchema } from '../../config/schema.ts';
import { fixture, requireFixtures } from '../support/fixtures.ts';
import { tempDataDir } from '../support/harvest-harness.ts';
import { tinyModel } from '../support/tiny-model.ts';
import { request } from '../plugin/supertest.ts';
import { loadConfig } from '../../config/index.ts';

const GENRE = ['photograph', 'drawing', 'engraving', 'map', 'painting', 'poster', 'manuscript page', 'printed text'];
const PHOTOS = ['coffee.png', 'chelsea.png', 'astronaut.png', 'rocket.jpg', 'camera.png', 'coins.png'];

async function decoded(file: string) {
  const { data, info } = await sharp(readFileSync(file)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: 3 as const };
}

function item(itemId: string, image: Awaited<ReturnType<typeof decoded>>, metadata: unknown[] = []): HarvestedItem {
  return {
    itemId,
    record: {
      canvasId: `https://example.org/c/${itemId}`,
      manifestId: 'https://example.org/m',
      manifestUrl: 'https://example.org/m',
      sourceUrl: 'https://example.org/m',
      collectionPath: [],
      label: { none: [itemId] },
      metadata,
      imageUrl: `https://example.org/i/${itemId}.jpg`,
    },
    image,
    bytes: Buffer.alloc(0),
    imageHash: itemId,
  } as unknown as HarvestedItem;
}

describe('labels as facets (zero-shot with the CLIP text tower, categories of image classifiers)', function () {
  requireFixtures(this);
  this.timeout(120_000);

  describe('zero-shot on a CLIP-family model (tiny, random weights: mechanics only)', () => {
    let enc: ClipEncoders;
    let store: VectorStore;
    let dataDir: string;
    const sets = { genre: GENRE, era: ['nineteenth-century', 'twentieth-century'] };

    before(async () => {
      dataDir = tempDataDir('reprise-labels-');
      const loaded = await loadEncoders(
        modelsSchema.parse({ path: await tinyModel('huggingface'), threads: 1, labels: { sets, minScore: 0 } }),
        os.tmpdir(),
      );
      if (loaded.kind !== 'clip') throw new Error('expected a CLIP model');
      enc = loaded;
      store = await openStore(storeSchema.parse({}), dataDir, { modelId: enc.config.modelId, dimensions: enc.config.projectionDim });
      const images = await Promise.all(PHOTOS.map((p) => decoded(fixture('images', 'skimage', p))));
      const outcomes = await new EmbeddingStage(enc, store).index(images.map((img, i) => item(`item${i}`, img)));
      assert.ok(outcomes.every((o) => o.ok));
    });
    after(async () => {
      await store?.close();
      await enc?.close();
    });

    it('gives each label the mean direction of its prompts, and an image a prompt points at gets that label', async () => {
      const labeller = await Labeller.create(enc, labelsSchema.parse({ sets: { genre: GENRE }, templates: ['a {}.'], minScore: 0 }));
      for (const label of ['drawing', 'map', 'manuscript page']) {
        const [prompt] = await enc.text.embed([`a ${label}.`]);
        assert.deepEqual(labeller.fromVector(prompt!).labels, [`genre:${label}`]);
      }
      // With several templates a label's direction is their normalised mean, not any one of them.
      const ensemble = await Labeller.create(enc, labelsSchema.parse({ sets: { genre: GENRE }, templates: ['a {}.', 'an old {}.'], minScore: 0 }));
      const [a, b] = await enc.text.embed(['a map.', 'an old map.']);
      const mean = a!.map((x, i) => x + b![i]!);
      const norm = Math.hypot(...mean);
      assert.deepEqual(ensemble.fromVector(mean.map((x) => x / norm)).labels, ['genre:map']);
    });

    it('stores one label per set with its probability, and /facets counts them', async () => {
      const items = await Promise.all(PHOTOS.map((_, i) => store.get(`item${i}`)));
      for (const it of items) {
        const scores = it!.record[LABEL_SCORES_KEY] as Record<string, number>;
        assert.equal(it!.labels.length, 2, 'one genre and one era');
        assert.ok(it!.labels[0]!.startsWith('genre:') && it!.labels[1]!.startsWith('era:'));
        for (const l of it!.labels) assert.ok(scores[l]! > 0 && scores[l]! <= 1, `${l}: ${scores[l]}`);
        assert.ok(scores[it!.labels[0]!]! >= 1 / GENRE.length, 'the chosen label has at least its share of the softmax');
      }
      const config = loadConfig({ env: {}, overrides: { dataDir } });
      const app = express().use('/api', createSearchRouter({ store, encoders: enc, config }));
      const res = await request(app).get('/api/facets').expect(200);
      const values = res.body.facets.labels.values as Array<{ value: string; count: number }>;
      assert.equal(values.filter((v) => v.value.startsWith('genre:')).reduce((s, v) => s + v.count, 0), PHOTOS.length);
      assert.equal(values.filter((v) => v.value.startsWith('era:')).reduce((s, v) => s + v.count, 0), PHOTOS.length);
      // And the facet filters.
      const first = values[0]!;
      const filtered = await request(app).get('/api/items').query({ labels: first.value, limit: 50 }).expect(200);
      assert.equal(filtered.body.hits.length, first.count);
      const details = await request(app).get(`/api/items/item0`).expect(200);
      assert.deepEqual(details.body.labels, items[0]!.labels);
      assert.deepEqual(details.body.labelScores, items[0]!.record[LABEL_SCORES_KEY]);
    });

    it('relabels from the stored vectors after the sets change, without embedding any image', async () => {
      const ids = PHOTOS.map((_, i) => `item${i}`);
      // A label the model did not give (e.g. a curator's) must survive relabelling.
      const before = (await store.get('item0'))!;
      await store.updateFields([{ ...before, labels: [...before.labels, 'curated:favourite'] }]);
      const labeller = await Labeller.create(enc, labelsSchema.parse({ sets: { medium: ['glass plate negative', 'colour slide', 'halftone print'] }, minScore: 0 }));
      // Only the store and the labeller (whose prompts the text tower embedded): no image tower is involved.
      await enc.image.close();
      assert.equal(await relabelItems(store, labeller, ids), PHOTOS.length);
      for (const [i, id] of ids.entries()) {
        const it = (await store.get(id))!;
        const model = it.labels.filter((l) => l !== 'curated:favourite');
        assert.equal(model.length, 1);
        assert.ok(model[0]!.startsWith('medium:'), model[0]);
        assert.deepEqual(Object.keys(it.record[LABEL_SCORES_KEY] as object), model);
        const [vector] = await store.vectors([id]);
        assert.deepEqual(model, labeller.fromVector(vector!).labels, `item ${i}: labels follow the stored vector`);
      }
      assert.ok((await store.get('item0'))!.labels.includes('curated:favourite'));
      const facets = await store.facets(['labels']);
      assert.ok(!Object.keys(facets.labels).some((l) => l.startsWith('genre:')), 'the old set is gone from the facet');
    });

    it('keeps the model labels when only the metadata of an item changes', async () => {
      const stage = new EmbeddingStage(enc, store);
      const before = (await store.get('item1'))!;
      const record = { ...before.record, label: { none: ['renamed'] } } as never;
      await stage.updateMetadata([{ itemId: 'item1', record }]);
      const after = (await store.get('item1'))!;
      assert.equal(after.label, 'renamed');
      assert.deepEqual(after.labels, before.labels);
      assert.deepEqual(after.record[LABEL_SCORES_KEY], before.record[LABEL_SCORES_KEY]);
      assert.deepEqual(await keepModelLabels(store, [{ ...after, labels: [], record: {} }]).then((f) => f[0]!.labels), before.labels);
    });
  });

  describe('an image classifier files its top-5 ImageNet categories (MobileNetV2 int8, real weights)', () => {
    it('labels the finch "imagenet:house finch" first, with its probability, and five categories in all', async () => {
      const enc = (await loadEncoders(modelsSchema.parse({ path: fixture('models', 'mobilenetv2-12-int8'), threads: 1 }), os.tmpdir())) as ClassifierEncoders;
      const dataDir = tempDataDir('reprise-labels-cnn-');
      const store = await openStore(storeSchema.parse({}), dataDir, { modelId: enc.config.modelId, dimensions: enc.config.projectionDim });
      try {
        const finch = await decoded(path.join(fixture('models', 'mobilenetv2-12-int8'), 'imagenet_finch.jpeg'));
        const coffee = await decoded(fixture('images', 'skimage', 'coffee.png'));
        await new EmbeddingStage(enc, store).index([item('finch', finch), item('coffee', coffee)]);
        const stored = (await store.get('finch'))!;
        assert.equal(stored.labels.length, 5);
        assert.equal(stored.labels[0], 'imagenet:house finch');
        const scores = stored.record[LABEL_SCORES_KEY] as Record<string, number>;
        assert.ok(scores['imagenet:house finch']! > scores[stored.labels[1]!]!);
        assert.equal((await store.get('coffee'))!.labels[0], 'imagenet:espresso');
        const facets = await store.facets(['labels']);
        assert.equal(facets.labels['imagenet:house finch'], 1);
        const labeller = await Labeller.create(enc, labelsSchema.parse({}));
        await assert.rejects(relabelItems(store, labeller, ['finch']), /embedded again/);
      } finally {
        await store.close();
        await enc.close();
      }
    });
  });
});
