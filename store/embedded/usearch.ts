/**
 * usearch, loaded the one way that works wherever the store runs it: required, not imported. Its ES
 * module build never finishes loading in a worker thread run through tsx (the background ANN
 * rebuild's, the map layout's), where its CommonJS build loads at once.
 */
import { createRequire } from 'node:module';

export const usearch = createRequire(import.meta.url)('usearch') as typeof import('usearch');
