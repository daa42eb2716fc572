import { InvalidQueryError } from '../errors.ts';

/**
 * Checks a vector's length and values and returns an L2-normalised copy: the index compares
 * by inner product, which is the cosine only on unit vectors, and encoders round.
 */
export function normalised(vector: Float32Array, dimensions: number, what: string): Float32Array {
  if (!(vector instanceof Float32Array)) throw new InvalidQueryError(`${what}: expected a Float32Array`);
  if (vector.length !== dimensions) {
    throw new InvalidQueryError(`${what} has ${vector.length} dimensions; this index expects ${dimensions}`);
  }
  let sum = 0;
  for (let i = 0; i < vector.length; i++) {
    const x = vector[i]!;
    if (!Number.isFinite(x)) throw new InvalidQueryError(`${what} holds a value that is not a finite number at ${i}`);
    sum += x * x;
  }
  if (sum === 0) throw new InvalidQueryError(`${what} is all zeros: it has no direction to compare`);
  const norm = Math.sqrt(sum);
  const out = new Float32Array(vector.length);
  for (let i = 0; i < vector.length; i++) out[i] = vector[i]! / norm;
  return out;
}

/** Vectors are stored as the platform's float32 bytes: little-endian on every platform Node runs on. */
export function toBlob(vector: Float32Array): Buffer {
  return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);
}

export function fromBlob(blob: Buffer | Uint8Array): Float32Array {
  // A Float32Array view needs 4-byte alignment, which SQLite's buffers do not promise.
  if (blob.byteOffset % 4 === 0) return new Float32Array(blob.buffer, blob.byteOffset, blob.byteLength / 4);
  return new Float32Array(new Uint8Array(blob).buffer);
}

export function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  const n = a.length;
  let i = 0;
  // Four independent sums, so that each addition need not wait for the one before.
  let s1 = 0, s2 = 0, s3 = 0;
  for (; i + 3 < n; i += 4) {
    s += a[i]! * b[i]!;
    s1 += a[i + 1]! * b[i + 1]!;
    s2 += a[i + 2]! * b[i + 2]!;
    s3 += a[i + 3]! * b[i + 3]!;
  }
  for (; i < n; i++) s += a[i]! * b[i]!;
  return s + s1 + s2 + s3;
}
