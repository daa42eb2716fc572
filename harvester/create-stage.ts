import type { RepriseConfig } from '../config/index.ts';
import { withFeatureStage } from './feature-stage.ts';
import type { IndexStage } from './stage.ts';
import type { Encoders } from '../models/index.ts';

/**
 * Encoders and store when a model is available. Without one, each canvas is still fetched (and
 * cached under dataDir/images) and stored in the index with its metadata but no vector, so items,
 * keyword search, facets and reprints work at once; the first run with a model embeds them from
 * the cache without downloading again.
 */
export async function createStage(config: RepriseConfig, warn: (message: string) => void): Promise<{ stage: IndexStage; close: () => Promise<void> }> {
  // Loaded here, not at start-up: onnxruntime is heavy and --help or a config error should not wait for it.
  const { loadEncoders, modelFolder, ModelFolderError } = await import('../models/index.ts');
  const { openStore } = await import('../store/index.ts');
  const { EmbeddingStage } = await import('./embedding-stage.ts');
  let encoders: Encoders;
  try {
    encoders = await loadEncoders(config.models, config.dataDir);
  } catch (err) {
    if (!(err instanceof ModelFolderError) || config.models.path) throw err;
    warn(
      `no model at ${modelFolder(config.models, config.dataDir)}: items are stored with their metadata but without image vectors ` +
        `(items, keyword search, facets and reprints work; text, image and similar-item search do not). ` +
        `Run "reprise models pull ${config.models.name}" (or set models.path), then harvest again: the images are embedded from the cache, not downloaded again.`,
    );
    const { MetadataStage } = await import('./metadata-stage.ts');
    const store = await openStore(config.store, config.dataDir);
    try {
      return withFeatureStage({ stage: new MetadataStage(store, config.facets), close: () => store.close() }, config.dataDir, warn, { maxRegionsPerCanvas: config.harvest.regions.maxPerCanvas });
    } catch (err) {
      await store.close();
      throw err;
    }
  }
  try {
    const store = await openStore(config.store, config.dataDir, { modelId: encoders.config.modelId, dimensions: encoders.config.projectionDim });
    const stage = new EmbeddingStage(encoders, store, config.facets);
    return withFeatureStage(
      {
        stage,
        close: async () => {
          await store.close();
          await encoders.close();
        },
      },
      config.dataDir,
      warn,
      { maxRegionsPerCanvas: config.harvest.regions.maxPerCanvas },
    );
  } catch (err) {
    await encoders.close();
    throw err;
  }
}
