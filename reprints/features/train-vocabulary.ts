import { localFeatures } from './native.ts';
import { DESCRIPTOR_BYTES } from './types.ts';
import { Vocabulary } from './vocabulary.ts';

export interface TrainOptions {
  branches: number;
  leaves: number;
  /** Descriptors sampled for training, at most (k-means cost grows with it). */
  maxDescriptors: number;
  iterations: number;
  seed: number;
}

export const DEFAULT_TRAIN: TrainOptions = { branches: 128, leaves: 128, maxDescriptors: 200_000, iterations: 15, seed: 7 };

/** Deterministic sampling without replacement (a seeded Fisher–Yates prefix). */
function sample(total: number, count: number, seed: number): Uint32Array {
  const order = new Uint32Array(total);
  for (let i = 0; i < total; i++) order[i] = i;
  let state = seed >>> 0 || 1;
  const next = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4294967296;
  };
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(next() * (total - i));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order.subarray(0, count);
}

const toBytes = (centres: Float32Array): Uint8Array => Uint8Array.from(centres, (v) => Math.max(0, Math.min(255, Math.round(v))));

/**
 * Learns a two-level vocabulary from descriptors (RootSIFT bytes, 128 per descriptor): k-means
 * into `branches` clusters, then k-means into `leaves` words inside each. A branch with too few
 * descriptors repeats its centre, so a word id always has a centre.
 */
export function trainVocabulary(descriptorSets: Uint8Array[], options: TrainOptions = DEFAULT_TRAIN): Vocabulary {
  const binding = localFeatures();
  const total = descriptorSets.reduce((n, d) => n + d.length / DESCRIPTOR_BYTES, 0);
  if (total < options.branches * 2) {
    throw new RangeError(`too few descriptors to train a vocabulary (${total}; at least ${options.branches * 2}): index more images first`);
  }
  const all = new Uint8Array(total * DESCRIPTOR_BYTES);
  let at = 0;
  for (const d of descriptorSets) {
    all.set(d, at);
    at += d.length;
  }
  const chosen = sample(total, Math.min(total, options.maxDescriptors), options.seed);
  const data = new Float32Array(chosen.length * DESCRIPTOR_BYTES);
  chosen.forEach((row, i) => {
    for (let d = 0; d < DESCRIPTOR_BYTES; d++) data[i * DESCRIPTOR_BYTES + d] = all[row * DESCRIPTOR_BYTES + d]!;
  });
  const top = binding.kmeans(data, DESCRIPTOR_BYTES, options.branches, options.iterations, options.seed);
  const fine = new Uint8Array(options.branches * options.leaves * DESCRIPTOR_BYTES);
  for (let b = 0; b < options.branches; b++) {
    const members: number[] = [];
    top.labels.forEach((label, i) => {
      if (label === b) members.push(i);
    });
    const subset = new Float32Array(members.length * DESCRIPTOR_BYTES);
    members.forEach((row, i) => subset.set(data.subarray(row * DESCRIPTOR_BYTES, (row + 1) * DESCRIPTOR_BYTES), i * DESCRIPTOR_BYTES));
    const k = Math.min(options.leaves, members.length);
    const centres = k > 0 ? binding.kmeans(subset, DESCRIPTOR_BYTES, k, options.iterations, options.seed + b + 1).centers : top.centers.slice(b * DESCRIPTOR_BYTES, (b + 1) * DESCRIPTOR_BYTES);
    const bytes = toBytes(centres);
    const count = bytes.length / DESCRIPTOR_BYTES;
    for (let l = 0; l < options.leaves; l++) {
      const source = l < count ? l : count - 1;
      fine.set(bytes.subarray(source * DESCRIPTOR_BYTES, (source + 1) * DESCRIPTOR_BYTES), (b * options.leaves + l) * DESCRIPTOR_BYTES);
    }
  }
  return new Vocabulary(options.branches, options.leaves, toBytes(top.centers), fine);
}
