/**
 * UMAP (McInnes, Healy & Melville 2018) for two dimensions, on typed arrays, from precomputed
 * neighbours: the fuzzy simplicial set of the k-nearest-neighbour graph, then stochastic gradient
 * descent of its cross-entropy against a low-dimensional one, as umap-learn's
 * `optimize_layout_euclidean` does it (negative sampling, learning rate decaying to 0, gradients
 * clipped at 4). umap-js 1.4.0 does the same with sparse matrices keyed by strings: 1 GB and
 * minutes at 20,000 points, so it could not lay out 100,000 in a server's memory.
 */

/** a, b of the low-dimensional similarity 1 / (1 + a·d^2b), as umap-learn fits them for min_dist 0.1, spread 1. */
const A = 1.576943460405378;
const B = 0.8950608781227859;
const NEGATIVE_SAMPLE_RATE = 5;
const SIGMA_ITERATIONS = 64;
const SIGMA_TOLERANCE = 1e-5;
const MIN_K_DIST_SCALE = 1e-3;
const CLIP = 4;

export interface FuzzyGraph {
  head: Int32Array;
  tail: Int32Array;
  weight: Float32Array;
}

/**
 * The symmetric fuzzy graph of the neighbours: each point's distances to its k neighbours (rows of
 * `indices` and `distances`, n × k) become memberships exp(−(d − ρ)/σ), with ρ the distance to the
 * nearest and σ such that they sum to log2 k; an edge's weight is the fuzzy union a + b − ab of its
 * two directions. Each undirected edge appears once.
 */
export function fuzzyGraph(indices: Int32Array, distances: Float32Array, n: number, k: number): FuzzyGraph {
  const memberships = new Float32Array(n * k);
  const target = Math.log2(k);
  let meanAll = 0;
  for (let i = 0; i < n * k; i++) meanAll += distances[i]!;
  meanAll /= n * k;
  for (let i = 0; i < n; i++) {
    const row = i * k;
    let rho = 0;
    for (let j = 0; j < k; j++) {
      const d = distances[row + j]!;
      if (d > 0) {
        rho = d;
        break;
      }
    }
    let lo = 0;
    let hi = Infinity;
    let sigma = 1;
    for (let it = 0; it < SIGMA_ITERATIONS; it++) {
      let sum = 0;
      for (let j = 0; j < k; j++) {
        const d = distances[row + j]! - rho;
        sum += d > 0 ? Math.exp(-d / sigma) : 1;
      }
      if (Math.abs(sum - target) < SIGMA_TOLERANCE) break;
      if (sum > target) {
        hi = sigma;
        sigma = (lo + hi) / 2;
      } else {
        lo = sigma;
        sigma = hi === Infinity ? sigma * 2 : (lo + hi) / 2;
      }
    }
    // umap-learn's floor: a point whose neighbours are all at one distance still gets a usable σ.
    let mean = 0;
    for (let j = 0; j < k; j++) mean += distances[row + j]!;
    mean /= k;
    sigma = Math.max(sigma, MIN_K_DIST_SCALE * (rho > 0 ? mean : meanAll));
    for (let j = 0; j < k; j++) {
      const d = distances[row + j]! - rho;
      memberships[row + j] = d > 0 ? Math.exp(-d / sigma) : 1;
    }
  }
  const head: number[] = [];
  const tail: number[] = [];
  const weight: number[] = [];
  for (let i = 0; i < n; i++) {
    for (let jj = 0; jj < k; jj++) {
      const j = indices[i * k + jj]!;
      if (j === i || j < 0) continue;
      const a = memberships[i * k + jj]!;
      // The reverse direction, if j counts i among its neighbours.
      let b = 0;
      let reverse = false;
      for (let r = 0; r < k; r++) {
        if (indices[j * k + r] === i) {
          b = memberships[j * k + r]!;
          reverse = true;
          break;
        }
      }
      // A pair both ways is emitted once, from its smaller end.
      if (reverse && j < i) continue;
      const w = a + b - a * b;
      if (w <= 0) continue;
      head.push(i);
      tail.push(j);
      weight.push(w);
    }
  }
  return { head: Int32Array.from(head), tail: Int32Array.from(tail), weight: Float32Array.from(weight) };
}

export interface OptimiseOptions {
  epochs: number;
  random: () => number;
  learningRate?: number;
  onEpoch?: (epoch: number) => void;
}

/**
 * Moves `embedding` (n × 2, modified in place) to fit the graph: each edge is sampled in
 * proportion to its weight, attracting its ends; each sample also pushes its head away from a few
 * random points.
 */
export function optimiseLayout(embedding: Float32Array, n: number, graph: FuzzyGraph, opts: OptimiseOptions): void {
  const { head, tail, weight } = graph;
  const edges = head.length;
  let max = 0;
  for (let e = 0; e < edges; e++) max = Math.max(max, weight[e]!);
  const epochsPerSample = new Float32Array(edges);
  for (let e = 0; e < edges; e++) {
    // Edges too weak to be sampled even once in the run are left out, as umap-learn does.
    epochsPerSample[e] = weight[e]! < max / opts.epochs ? -1 : max / weight[e]!;
  }
  const epochsPerNegative = epochsPerSample.map((x) => x / NEGATIVE_SAMPLE_RATE);
  const nextSample = Float32Array.from(epochsPerSample);
  const nextNegative = Float32Array.from(epochsPerNegative);
  const rate = opts.learningRate ?? 1;
  const random = opts.random;
  for (let epoch = 0; epoch < opts.epochs; epoch++) {
    const alpha = rate * (1 - epoch / opts.epochs);
    for (let e = 0; e < edges; e++) {
      if (epochsPerSample[e]! < 0 || nextSample[e]! > epoch) continue;
      const i = head[e]! * 2;
      const j = tail[e]! * 2;
      let dx = embedding[i]! - embedding[j]!;
      let dy = embedding[i + 1]! - embedding[j + 1]!;
      let d2 = dx * dx + dy * dy;
      if (d2 > 0) {
        const coeff = (-2 * A * B * Math.pow(d2, B - 1)) / (1 + A * Math.pow(d2, B));
        const gx = clip(coeff * dx) * alpha;
        const gy = clip(coeff * dy) * alpha;
        embedding[i] = embedding[i]! + gx;
        embedding[i + 1] = embedding[i + 1]! + gy;
        embedding[j] = embedding[j]! - gx;
        embedding[j + 1] = embedding[j + 1]! - gy;
      }
      nextSample[e] = nextSample[e]! + epochsPerSample[e]!;
      const negatives = Math.floor((epoch - nextNegative[e]!) / epochsPerNegative[e]!);
      for (let p = 0; p < negatives; p++) {
        const r = Math.floor(random() * n) * 2;
        if (r === j || r === i) continue;
        dx = embedding[i]! - embedding[r]!;
        dy = embedding[i + 1]! - embedding[r + 1]!;
        d2 = dx * dx + dy * dy;
        if (d2 > 0) {
          const coeff = (2 * B) / ((0.001 + d2) * (1 + A * Math.pow(d2, B)));
          embedding[i] = embedding[i]! + clip(coeff * dx) * alpha;
          embedding[i + 1] = embedding[i + 1]! + clip(coeff * dy) * alpha;
        } else {
          embedding[i] = embedding[i]! + CLIP * alpha;
          embedding[i + 1] = embedding[i + 1]! + CLIP * alpha;
        }
      }
      nextNegative[e] = nextNegative[e]! + negatives * epochsPerNegative[e]!;
    }
    opts.onEpoch?.(epoch);
  }
}

function clip(x: number): number {
  return x > CLIP ? CLIP : x < -CLIP ? -CLIP : x;
}

/**
 * A starting layout from the vectors' first two principal components (power iteration on the
 * centred data, never forming the covariance matrix), scaled to ±10 as UMAP's own starts are:
 * the global arrangement of clusters then carries meaning a random start would not give.
 */
export function principalStart(vectors: Float32Array, n: number, dimensions: number, random: () => number): Float32Array {
  const mean = new Float64Array(dimensions);
  for (let i = 0; i < n; i++) for (let d = 0; d < dimensions; d++) mean[d] = mean[d]! + vectors[i * dimensions + d]!;
  for (let d = 0; d < dimensions; d++) mean[d] = mean[d]! / n;
  const components: Float64Array[] = [];
  const projections = new Float64Array(n);
  for (let c = 0; c < 2; c++) {
    let v = new Float64Array(dimensions).map(() => random() - 0.5);
    for (let it = 0; it < 25; it++) {
      // v ← Cᵀ C v for the centred data C, less the components already found.
      for (let i = 0; i < n; i++) {
        let s = 0;
        const row = i * dimensions;
        for (let d = 0; d < dimensions; d++) s += (vectors[row + d]! - mean[d]!) * v[d]!;
        projections[i] = s;
      }
      const next = new Float64Array(dimensions);
      for (let i = 0; i < n; i++) {
        const p = projections[i]!;
        const row = i * dimensions;
        for (let d = 0; d < dimensions; d++) next[d] = next[d]! + p * (vectors[row + d]! - mean[d]!);
      }
      for (const u of components) {
        let dot = 0;
        for (let d = 0; d < dimensions; d++) dot += next[d]! * u[d]!;
        for (let d = 0; d < dimensions; d++) next[d] = next[d]! - dot * u[d]!;
      }
      const norm = Math.hypot(...next) || 1;
      v = next.map((x) => x / norm);
    }
    components.push(v);
  }
  const out = new Float32Array(n * 2);
  const extent = [0, 0];
  for (let c = 0; c < 2; c++) {
    const u = components[c]!;
    for (let i = 0; i < n; i++) {
      let s = 0;
      const row = i * dimensions;
      for (let d = 0; d < dimensions; d++) s += (vectors[row + d]! - mean[d]!) * u[d]!;
      out[i * 2 + c] = s;
      extent[c] = Math.max(extent[c]!, Math.abs(s));
    }
  }
  for (let i = 0; i < n * 2; i++) {
    // A little noise: points with identical vectors must not start (and stay) on one spot.
    out[i] = (out[i]! / (extent[i % 2] || 1)) * 10 + (random() - 0.5) * 1e-3;
  }
  return out;
}
