import type { StoreCall } from './canvas-lookup.ts';
import { Problem } from './problems.ts';

/** Whole-image vectors of indexed items, for relevance feedback by id; unknown ids are a 404 naming them. */
export async function itemVectors(call: StoreCall, ids: string[]): Promise<Float32Array[]> {
  const vectors = await call('vectors', (s) => s.vectors(ids));
  const missing = ids.filter((_, i) => !vectors[i]);
  if (missing.length) throw new Problem('not-found', `no item with the id ${missing.map((id) => JSON.stringify(id)).join(', ')} in the index`);
  return vectors as Float32Array[];
}
