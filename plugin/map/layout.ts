/**
 * A 2-D layout of a collection's vectors, for the map: neighbours found with the store's HNSW
 * index (usearch, on every core), then laid out by UMAP from them (umap.ts), seeded (the graph build on
 * several threads varies a little from run to run). CPU-bound: run it on a worker thread
 * (layout-worker.ts).
 */
import { nearestNeighbours } from '../../store/index.ts';
import { fuzzyGraph, optimiseLayout, principalStart } from './umap.ts';

export interface LayoutOptions {
  /** Neighbours per point: UMAP's balance of local against global structure. */
  neighbours?: number;
  /** Optimisation epochs; default as umap-learn's (500 up to 10,000 points, 200 above).  */
  epochs?: number;
  seed?: number;
  /** Threads for the neighbour search (0: all cores). */
  threads?: number;
  /** Told how far the work is, 0…1. */
  onProgress?: (fraction: number, phase: 'neighbours' | 'layout') => void;
}

/** Deterministic pseudo-random numbers (mulberry32): the same collection gives the same map. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Scales a layout into the unit square, keeping its aspect, centred. */
function normalise(xy: Float32Array): Float32Array {
  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  for (let i = 0; i < xy.length; i += 2) {
    minX = Math.min(minX, xy[i]!);
    maxX = Math.max(maxX, xy[i]!);
    minY = Math.min(minY, xy[i + 1]!);
    maxY = Math.max(maxY, xy[i + 1]!);
  }
  const extent = Math.max(maxX - minX, maxY - minY) || 1;
  const offX = (1 - (maxX - minX) / extent) / 2;
  const offY = (1 - (maxY - minY) / extent) / 2;
  const out = new Float32Array(xy.length);
  for (let i = 0; i < xy.length; i += 2) {
    out[i] = offX + (xy[i]! - minX) / extent;
    out[i + 1] = offY + (xy[i + 1]! - minY) / extent;
  }
  return out;
}

/**
 * Positions in the unit square for n vectors of `dimensions` values each (row after row in
 * `vectors`), as x, y pairs. Sets too small for UMAP are laid out on a circle in their order.
 */
export function computeLayout(vectors: Float32Array, n: number, dimensions: number, opts: LayoutOptions = {}): Float32Array {
  if (vectors.length !== n * dimensions) throw new Error(`expected ${n} × ${dimensions} values, got ${vectors.length}`);
  const wanted = opts.neighbours ?? 15;
  if (n < 4) {
    const xy = new Float32Array(n * 2);
    for (let i = 0; i < n; i++) {
      const a = (2 * Math.PI * i) / Math.max(1, n);
      xy[2 * i] = n === 1 ? 0.5 : 0.5 + 0.4 * Math.cos(a);
      xy[2 * i + 1] = n === 1 ? 0.5 : 0.5 + 0.4 * Math.sin(a);
    }
    return xy;
  }
  const k = Math.max(2, Math.min(wanted, n - 2));
  opts.onProgress?.(0, 'neighbours');
  const { indices, distances } = nearestNeighbours(vectors, n, dimensions, k, opts.threads ?? 0);
  opts.onProgress?.(0, 'layout');
  const random = seeded(opts.seed ?? 42);
  const graph = fuzzyGraph(indices, distances, n, k);
  const embedding = principalStart(vectors, n, dimensions, random);
  // umap-learn's defaults: fewer epochs for large sets, where each covers more samples.
  const epochs = opts.epochs ?? (n > 10_000 ? 200 : 500);
  const every = Math.max(1, Math.floor(epochs / 20));
  optimiseLayout(embedding, n, graph, { epochs, random, onEpoch: (e) => e % every === 0 && opts.onProgress?.(e / epochs, 'layout') });
  const xy = embedding;
  opts.onProgress?.(1, 'layout');
  return normalise(xy);
}
