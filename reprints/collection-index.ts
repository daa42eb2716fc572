import path from 'node:path';
import { existsSync } from 'node:fs';
import { loadDefaultVocabulary, Vocabulary } from './features/index.ts';
import { ReprintIndex } from './reprint-index/index.ts';
import { ReprintService } from './reprint-service.ts';

/** Where a collection's reprint index lives: beside the store, under dataDir. */
export const reprintIndexDir = (dataDir: string): string => path.join(dataDir, 'reprints');

/** Whether a harvest has made the reprint index under dataDir (looked up without creating it). */
export const reprintIndexExists = (dataDir: string): boolean => existsSync(ReprintIndex.fileIn(reprintIndexDir(dataDir)));

/** The vocabulary a collection uses: its own when `reprise reprints train` wrote one, else the shipped default. */
export function collectionVocabulary(dataDir: string): Vocabulary {
  const own = path.join(reprintIndexDir(dataDir), 'vocabulary.rpvoc');
  try {
    return Vocabulary.load(own);
  } catch (err) {
    if ((err as { cause?: NodeJS.ErrnoException }).cause?.code === 'ENOENT') return loadDefaultVocabulary();
    throw err;
  }
}

/**
 * Opens (or creates) the reprint index under dataDir with the collection's vocabulary. `candidates:
 * 'lazily'` defers loading the inverted file until a search needs it (ReprintIndex.open).
 * A LocalFeaturesUnavailableError when the native binding is missing.
 */
export function openReprintIndex(dataDir: string, options: { candidates?: 'at-once' | 'lazily' } = {}): ReprintIndex {
  return ReprintIndex.open(reprintIndexDir(dataDir), collectionVocabulary(dataDir), options);
}

/**
 * The reprint service over the index under dataDir, as a server hands it to createSearchRouter
 * (SearchDeps.reprints) beside its store; close() closes the index. Opened with the inverted file
 * deferred to the first search, so that starting a server does not wait for it.
 */
export function openReprintService(dataDir: string): ReprintService {
  return new ReprintService(openReprintIndex(dataDir, { candidates: 'lazily' }));
}
