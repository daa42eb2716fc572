import { createInstitution } from './institution/index.ts';
import type { Institution } from './institution/types.ts';
import { harvestOnce, photographs, tempDataDir } from './harvest-harness.ts';
import { tinyModel } from './tiny-model.ts';
import { loadConfig } from '../../config/index.ts';
import type { RepriseConfig } from '../../config/schema.ts';
import { loadEncoders, type Encoders } from '../../models/index.ts';
import { openStore, type VectorStore } from '../../store/index.ts';
import { EmbeddingStage } from '../../harvester/embedding-stage.ts';
import { FeatureStage } from '../../harvester/feature-stage.ts';
import { openReprintIndex } from '../../reprints/index.ts';

export interface SearchFixture {
  inst: Institution;
  config: RepriseConfig;
  encoders: Encoders;
  store: VectorStore;
  dataDir: string;
  close(): Promise<void>;
}

/**
 * An index built the real way: real photographs from ../shared/fixtures served by the loopback
 * institution, harvested through the tiny generated model into the embedded store.
 */
export async function createSearchFixture(opts: { images?: string[]; config?: Record<string, unknown>; reprints?: boolean } = {}): Promise<SearchFixture> {
  const inst = await createInstitution({
    images: opts.images ?? [...photographs('fsa-owi', 6), ...photographs('documerica', 6)],
    imagesPerManifest: 2,
  });
  const dataDir = tempDataDir('reprise-search-');
  const config = loadConfig({
    env: {},
    overrides: { dataDir, 'models.path': await tinyModel('huggingface'), 'models.threads': 1, 'harvest.http.allowPrivate': ['127.0.0.1'], ...opts.config },
  });
  const encoders = await loadEncoders(config.models, dataDir);
  const store = await openStore(config.store, dataDir, { modelId: encoders.config.modelId, dimensions: encoders.config.projectionDim });
  // With reprints, local features too (the reprint index beside the store), as `reprise harvest` does.
  const reprintIndex = opts.reprints ? openReprintIndex(dataDir) : undefined;
  const embedding = new EmbeddingStage(encoders, store);
  const stage = reprintIndex ? new FeatureStage(embedding, reprintIndex) : embedding;
  try {
    const { summary } = await harvestOnce(dataDir, [inst.rootCollectionUrl], { stage });
    if (summary.status !== 'completed') throw new Error(`fixture harvest failed: ${JSON.stringify(summary.failures)}`);
  } finally {
    reprintIndex?.close();
  }
  return {
    inst,
    config,
    encoders,
    store,
    dataDir,
    async close() {
      await store.close();
      await encoders.close();
      await inst.close();
    },
  };
}
