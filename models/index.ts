import path from 'node:path';
import type { ModelsConfig } from '../config/index.ts';
import { resolveModelFiles } from './layout.ts';
import { readModelConfig } from './model-config.ts';
import { checkModelFolder } from './validate.ts';
import { loadSession, type LoadedSession } from './session.ts';
import { ImageEncoder } from './image-encoder.ts';
import { TextEncoder } from './text-encoder.ts';
import type { Encoders } from './encoders.ts';
import { isClassifierFolder } from './classifier/classifier-folder.ts';
import { loadClassifier } from './classifier/load-classifier.ts';
import { RepriseError } from '../common/index.ts';

export { ImageEncoder, type EmbeddedImage } from './image-encoder.ts';
export { TextEncoder } from './text-encoder.ts';
export { ModelFolderError, type EncoderConfig, type ModelConfig, type ModelFiles, type Region } from './types.ts';
export type { ClassifierInfo } from './classifier/load-classifier.ts';

export type { ClipEncoders, ClassifierEncoders, Encoders } from './encoders.ts';

/** Text search asked of a model without a text tower: the caller's request cannot be served by this model. */
export class NoTextTowerError extends RepriseError {
  override name = 'NoTextTowerError';
  constructor(readonly modelId: string) {
    super(
      `the model ${modelId} is an image classifier and has no text tower: text search needs a CLIP-family model ` +
        '(image search, similar items, region search and keyword search work with this one)',
    );
  }
}

/** The text tower, or a NoTextTowerError naming the model. */
export function textTower(encoders: Encoders): TextEncoder {
  if (!encoders.text) throw new NoTextTowerError(encoders.config.modelId);
  return encoders.text;
}

/** Where the configured model lives: a folder placed by hand, else the pull cache. */
export function modelFolder(models: ModelsConfig, dataDir: string): string {
  return path.resolve(models.path ?? path.join(models.cacheDir ?? path.join(dataDir, 'models'), models.name));
}

/** Resolves, loads and validates both towers of the configured model; a bad folder fails here, naming the file. */
export async function loadEncoders(models: ModelsConfig, dataDir: string): Promise<Encoders> {
  const folder = modelFolder(models, dataDir);
  if (isClassifierFolder(folder)) {
    const loaded = await loadClassifier(folder, models);
    return { kind: 'classifier', ...loaded, labels: models.labels, close: () => loaded.image.close() };
  }
  const files = resolveModelFiles(folder, { variant: models.variant });
  const config = readModelConfig(files);
  const session = { threads: models.threads, executionProvider: models.executionProvider };
  // Each tower is loaded once and checked on the loaded session: a second load just to check
  // would double start-up time.
  const visionSession = await loadSession(files.visionModel, session);
  let textSession: LoadedSession | undefined;
  let image: ImageEncoder;
  let text: TextEncoder;
  try {
    textSession = await loadSession(files.textModel, session);
    checkModelFolder(files, config, visionSession, textSession);
    image = await ImageEncoder.fromSession(visionSession, config, { batchSize: models.batchSize });
    text = await TextEncoder.fromSession(textSession, files.tokenizer, files.tokenizerConfig, config, { cacheSize: models.textCacheSize });
  } catch (err) {
    // Releasing is idempotent: whatever was opened is closed once.
    await Promise.all([visionSession.release(), textSession?.release()]);
    throw err;
  }
  return {
    kind: 'clip',
    files,
    config,
    image,
    text,
    labels: models.labels,
    async close() {
      await Promise.all([image.close(), text.close()]);
    },
  };
}
export { isClassifierFolder } from './classifier/classifier-folder.ts';
export { loadClassifier } from './classifier/load-classifier.ts';
export { type ItemLabels, Labeller } from './labels/labeller.ts';
export { resolveModelFiles } from './layout.ts';
export { readModelConfig } from './model-config.ts';
export type { RawRgbImage } from './preprocess.ts';
export { ModelPullError, modelsCacheDir, pulledModelDir, type PullEvent, pullModel } from './pull.ts';
export { findModel, MODEL_REGISTRY, MODEL_VARIANTS, type ModelVariant, type RegistryEntry, variantsOf } from './registry.ts';
export { inspectModelFolder, type ModelFolderReport } from './validate.ts';
