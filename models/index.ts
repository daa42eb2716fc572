import path from 'node:path';
import type { ModelsConfig } from '../config/schema.ts';
import { resolveModelFiles } from './layout.ts';
import { readModelConfig } from './model-config.ts';
import { checkModelFolder } from './validate.ts';
import { loadSession, type LoadedSession } from './session.ts';
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

/** Resolves, loads and validates both towers of the configured model; a bad folder fails here, naming the file. */
export async function loadEncoders(models: ModelsConfig, dataDir: string): Promise<Encoders> {
  const files = resolveModelFiles(modelFolder(models, dataDir), { variant: models.variant });
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
    files,
    config,
    image,
    text,
    async close() {
      await Promise.all([image.close(), text.close()]);
    },
  };
}
