import type { StoreCall } from './canvas-lookup.ts';
import { notEmbedded, Problem } from './problems.ts';

/**
 * Whole-image vectors of indexed items, for relevance feedback by id; unknown ids are a 404 naming
 * them, items harvested without a model a 409 naming them.
 */
export async function itemVectors(call: StoreCall, ids: string[]): Promise<Float32Array[]> {
  const vectors = await call('vectors', (s) => s.vectors(ids));
  const missing = [...new Set(ids.filter((_, i) => !vectors[i]))];
  if (missing.length) {
    const stored = await Promise.all(missing.map((id) => call('get', (s) => s.get(id))));
    const unknown = missing.filter((_, i) => !stored[i]);
    if (unknown.length) throw new Problem('not-found', `no item with the id ${unknown.map((id) => JSON.stringify(id)).join(', ')} in the index`);
    throw notEmbedded(missing, 'Search by example');
  }
  return vectors as Float32Array[];
}
