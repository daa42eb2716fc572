import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PACKAGE_ROOT } from '../../common/index.ts';
import { localFeatures, localFeaturesAvailable } from './native.ts';
import { DESCRIPTOR_BYTES } from './types.ts';
import { RepriseError } from '../../common/index.ts';

const MAGIC = 'RPRVOC01';
const HEADER_BYTES = 8 + 4 * 3;

/** The default vocabulary shipped with Reprise (trained by `reprise reprints train` on public-domain photographs). */
export const DEFAULT_VOCABULARY_PATH = path.join(PACKAGE_ROOT, 'reprints', 'features', 'vocabulary', 'default.rpvoc');

export class VocabularyFormatError extends RepriseError {
  override readonly name = 'VocabularyFormatError';
}

/**
 * A two-level visual vocabulary (hierarchical k-means): `branches` coarse centres, each with
 * `leaves` fine centres, so a descriptor's word costs branches + leaves distances instead of
 * branches × leaves. Centres are RootSIFT ×512 bytes, like the descriptors.
 *
 * File: "RPRVOC01", u32 branches, u32 leaves, u32 dims (128), then the coarse centres, then the
 * fine centres branch by branch, one byte per component.
 */
export class Vocabulary {
  readonly size: number;
  /** sha256 of the file's bytes, first 16 hex digits: words from another vocabulary are not comparable. */
  readonly id: string;

  constructor(
    readonly branches: number,
    readonly leaves: number,
    private readonly coarse: Uint8Array,
    private readonly fine: Uint8Array,
  ) {
    if (coarse.length !== branches * DESCRIPTOR_BYTES || fine.length !== branches * leaves * DESCRIPTOR_BYTES) {
      throw new VocabularyFormatError('vocabulary centres do not match its declared size');
    }
    this.size = branches * leaves;
    this.id = createHash('sha256').update(this.toBytes()).digest('hex').slice(0, 16);
  }

  static fromBytes(bytes: Uint8Array, name = 'the vocabulary file'): Vocabulary {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (bytes.length < HEADER_BYTES || Buffer.from(bytes.subarray(0, 8)).toString('latin1') !== MAGIC) {
      throw new VocabularyFormatError(`${name} is not a Reprise vocabulary (expected the ${MAGIC} header); retrain it with "reprise reprints train"`);
    }
    const branches = view.getUint32(8, true);
    const leaves = view.getUint32(12, true);
    const dims = view.getUint32(16, true);
    const expected = HEADER_BYTES + (branches + branches * leaves) * dims;
    if (dims !== DESCRIPTOR_BYTES || branches < 1 || leaves < 1 || branches * leaves > 65536 || bytes.length !== expected) {
      throw new VocabularyFormatError(`${name} is truncated or corrupt (${bytes.length} bytes, expected ${expected}); retrain it with "reprise reprints train"`);
    }
    const coarse = bytes.slice(HEADER_BYTES, HEADER_BYTES + branches * dims);
    const fine = bytes.slice(HEADER_BYTES + branches * dims);
    return new Vocabulary(branches, leaves, coarse, fine);
  }

  static load(file: string = DEFAULT_VOCABULARY_PATH): Vocabulary {
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch (err) {
      throw new VocabularyFormatError(`cannot read the vocabulary ${file} (${(err as Error).message})`, { cause: err });
    }
    return Vocabulary.fromBytes(bytes, file);
  }

  toBytes(): Uint8Array {
    const out = new Uint8Array(HEADER_BYTES + this.coarse.length + this.fine.length);
    out.set(Buffer.from(MAGIC, 'latin1'), 0);
    const view = new DataView(out.buffer);
    view.setUint32(8, this.branches, true);
    view.setUint32(12, this.leaves, true);
    view.setUint32(16, DESCRIPTOR_BYTES, true);
    out.set(this.coarse, HEADER_BYTES);
    out.set(this.fine, HEADER_BYTES + this.coarse.length);
    return out;
  }

  /** The word of each descriptor (128 bytes each): natively when the binding is built, the same result in JavaScript otherwise. */
  assign(descriptors: Uint8Array): Uint16Array {
    if (localFeaturesAvailable()) return localFeatures().assign(descriptors, this.coarse, this.fine, this.branches, this.leaves);
    return this.assignInJavaScript(descriptors);
  }

  /** Three words per descriptor (see native assignSoft), for queries: more candidates survive heavy degradation. */
  assignSoft(descriptors: Uint8Array): Uint16Array {
    if (this.branches < 2 || this.leaves < 2) return this.assign(descriptors);
    return localFeatures().assignSoft(descriptors, this.coarse, this.fine, this.branches, this.leaves);
  }

  assignInJavaScript(descriptors: Uint8Array): Uint16Array {
    const n = descriptors.length / DESCRIPTOR_BYTES;
    const words = new Uint16Array(n);
    for (let i = 0; i < n; i++) {
      const offset = i * DESCRIPTOR_BYTES;
      const branch = nearest(descriptors, offset, this.coarse, 0, this.branches);
      const leaf = nearest(descriptors, offset, this.fine, branch * this.leaves * DESCRIPTOR_BYTES, this.leaves);
      words[i] = branch * this.leaves + leaf;
    }
    return words;
  }
}

function nearest(descriptors: Uint8Array, offset: number, centres: Uint8Array, base: number, count: number): number {
  let best = 0;
  let bestDistance = Infinity;
  for (let c = 0; c < count; c++) {
    const start = base + c * DESCRIPTOR_BYTES;
    let distance = 0;
    for (let d = 0; d < DESCRIPTOR_BYTES; d++) {
      const diff = descriptors[offset + d]! - centres[start + d]!;
      distance += diff * diff;
      if (distance >= bestDistance) break;
    }
    if (distance < bestDistance) {
      bestDistance = distance;
      best = c;
    }
  }
  return best;
}

let defaultVocabulary: Vocabulary | undefined;
/** The shipped vocabulary, read once. */
export function loadDefaultVocabulary(): Vocabulary {
  defaultVocabulary ??= Vocabulary.load(DEFAULT_VOCABULARY_PATH);
  return defaultVocabulary;
}
