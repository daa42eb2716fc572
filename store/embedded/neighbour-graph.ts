import { usearch } from './usearch.ts';

const { Index, MetricKind, ScalarKind } = usearch;

/**
 * Each point's k nearest neighbours (itself left out) and their cosine distances, as n × k rows:
 * the k-nearest-neighbour graph of a set of vectors (the map's layout is built on it), with the
 * HNSW index the store searches with.
 */
export function nearestNeighbours(vectors: Float32Array, n: number, dimensions: number, k: number, threads = 0): { indices: Int32Array; distances: Float32Array } {
  // A graph of neighbours that are near, not provably the nearest: 8-bit vectors and a light graph build several times faster.
  const index = new Index({ dimensions, metric: MetricKind.Cos, quantization: ScalarKind.I8, connectivity: 12, expansion_add: 48, expansion_search: Math.max(48, 2 * k), multi: false });
  const keys = new BigUint64Array(n);
  for (let i = 0; i < n; i++) keys[i] = BigInt(i);
  index.add(keys, vectors, threads);
  const indices = new Int32Array(n * k);
  const distances = new Float32Array(n * k);
  // In slices: one batch of 100k queries would hold every result at once.
  const SLICE = 4096;
  for (let start = 0; start < n; start += SLICE) {
    const end = Math.min(n, start + SLICE);
    const queries: Float32Array[] = [];
    for (let i = start; i < end; i++) queries.push(vectors.subarray(i * dimensions, (i + 1) * dimensions));
    const batch = index.search(queries, k + 1, threads);
    for (let q = 0; q < end - start; q++) {
      const self = start + q;
      const found = batch.get(q);
      let filled = 0;
      for (let j = 0; j < found.keys.length && filled < k; j++) {
        const id = Number(found.keys[j]);
        if (id === self) continue;
        indices[self * k + filled] = id;
        distances[self * k + filled] = Math.max(0, found.distances[j]!);
        filled++;
      }
      // HNSW may return fewer than asked in a tiny or degenerate set: the rest repeat the last found.
      for (; filled < k; filled++) {
        indices[self * k + filled] = filled ? indices[self * k + filled - 1]! : (self + 1) % n;
        distances[self * k + filled] = filled ? distances[self * k + filled - 1]! : 1;
      }
    }
  }
  return { indices, distances };
}
