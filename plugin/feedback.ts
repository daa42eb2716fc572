/**
 * Relevance feedback (Rocchio without the original query): the query is the normalised mean of the
 * positive examples minus a weighted mean of the negative ones, renormalised. Vectors are unit
 * length first, so that no example outweighs another by its norm.
 */
import { RepriseError } from '../common/index.ts';

export class CancelledOutError extends RepriseError {
  override name = 'CancelledOutError';
}

function unit(v: Float32Array): Float32Array {
  let norm = 0;
  for (const x of v) norm += x * x;
  norm = Math.sqrt(norm);
  if (!(norm > 1e-12)) throw new CancelledOutError('a vector of length 0 has no direction');
  return v.map((x) => x / norm);
}

function mean(vectors: Float32Array[], dim: number): Float32Array {
  const out = new Float32Array(dim);
  for (const v of vectors) for (let i = 0; i < dim; i++) out[i]! += v[i]! / vectors.length;
  return out;
}

export function feedbackQuery(positive: Float32Array[], negative: Float32Array[], negativeWeight: number): Float32Array {
  if (positive.length === 0) throw new RangeError('at least one positive example is needed');
  const dim = positive[0]!.length;
  const pos = unit(mean(positive.map(unit), dim));
  if (negative.length === 0 || negativeWeight === 0) return pos;
  const neg = mean(negative.map(unit), dim);
  return unit(pos.map((x, i) => x - negativeWeight * neg[i]!));
}
