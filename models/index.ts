import path from 'node:path';
import type { ModelsConfig } from '../config/schema.ts';
import { resolveModelFiles } from './layout.ts';
import { readModelConfig } from './model-config.ts';
import { validateModelFolder } from './validate.ts';
import { ImageEncoder } from './image-encoder.ts';
import { TextEncoder } from './text-encoder.ts';
import type { ModelConfig, ModelFiles } from './types.ts';

export { ImageEncoder } from './image-encoder.ts';
export { TextEncoder } from './text-encoder.ts';
export { ModelFolderError, type ModelConfig, type ModelFiles, type Region } from './types.ts';

export interface Encoders {
  files: ModelFiles;
  config: ModelConfig;
  image: ImageEncoder;
  text: TextEncoder;
  close(): Promise<void>;
}

/** Where the configured model lives: a folder placed by hand, else the pull cache. */
export function modelFolder(models: ModelsConfig, dataDir: string): string {
  return path.resolve(models.path ?? path.join(models.cacheDir ?? path.join(dataDir, 'models'), models.name));
}

/** Resolves, validates and loads both towers of the configured model; a bad folder fails here, naming the file. */
export async function loadEncoders(models: ModelsConfig, dataDir: string): Promise<Encoders> {
  const files = resolveModelFiles(modelFolder(models, dataDir), { variant: models.variant });
  const config = readModelConfig(files);
  await validateModelFolder(files, config);
  const session = { threads: models.threads, executionProvider: models.executionProvider };
  const image = await ImageEncoder.load(files.visionModel, config, { ...session, batchSize: models.batchSize });
  const text = await TextEncoder.load(files.textModel, files.tokenizer, files.tokenizerConfig, config, { ...session, cacheSize: models.textCacheSize });
  return {
    files,
    config,
    image,
    text,
    async close() {
      await Promise.all([image.close(), text.close()]);
    },
  };
}
