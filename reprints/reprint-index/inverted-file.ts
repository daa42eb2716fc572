/**
 * The candidate stage: a tf-idf inverted file over visual words, in memory. Postings are typed
 * arrays per word (document number and term count packed in one uint32), so 100k images of
 * 200 words take about 80 MB. Scores are cosine similarities of tf-idf vectors; document norms
 * depend on idf, which moves as images come and go, so they are recomputed lazily, once per
 * change, not per query.
 */
const TF_BITS = 8;
const TF_MAX = (1 << TF_BITS) - 1;
export const MAX_DOC = 2 ** (32 - TF_BITS) - 1;

export interface Candidate {
  doc: number;
  score: number;
}

export class InvertedFile {
  private readonly postings: Array<Uint32Array | undefined>;
  private readonly lengths: Uint32Array;
  private readonly live = new Set<number>();
  private norms = new Float32Array(0);
  private idf: Float32Array;
  private dirty = true;
  private scores = new Float32Array(0);

  constructor(readonly vocabularySize: number) {
    this.postings = new Array<Uint32Array | undefined>(vocabularySize);
    this.lengths = new Uint32Array(vocabularySize);
    this.idf = new Float32Array(vocabularySize);
  }

  get size(): number {
    return this.live.size;
  }

  has(doc: number): boolean {
    return this.live.has(doc);
  }

  add(doc: number, words: Uint16Array): void {
    if (doc > MAX_DOC) throw new RangeError(`document number ${doc} is beyond the inverted file's ${MAX_DOC}`);
    if (this.live.has(doc)) throw new Error(`document ${doc} is already in the inverted file`);
    this.live.add(doc);
    for (const [word, tf] of termCounts(words)) {
      if (word >= this.vocabularySize) throw new RangeError(`word ${word} is outside the vocabulary (${this.vocabularySize} words)`);
      let list = this.postings[word];
      const length = this.lengths[word]!;
      if (!list || list.length === length) {
        const grown = new Uint32Array(Math.max(4, length * 2));
        if (list) grown.set(list);
        list = grown;
        this.postings[word] = list;
      }
      list[length] = (doc << TF_BITS) | Math.min(tf, TF_MAX);
      this.lengths[word] = length + 1;
    }
    this.dirty = true;
  }

  /** Removes a document given the words it was added with. */
  remove(doc: number, words: Uint16Array): void {
    if (!this.live.delete(doc)) return;
    for (const word of termCounts(words).keys()) {
      const list = this.postings[word];
      if (!list) continue;
      const length = this.lengths[word]!;
      for (let i = 0; i < length; i++) {
        if (list[i]! >>> TF_BITS === doc) {
          list[i] = list[length - 1]!;
          this.lengths[word] = length - 1;
          break;
        }
      }
    }
    this.dirty = true;
  }

  private refresh(): void {
    if (!this.dirty) return;
    const n = Math.max(1, this.live.size);
    let maxDoc = 0;
    for (const doc of this.live) if (doc > maxDoc) maxDoc = doc;
    const norms = new Float32Array(maxDoc + 1);
    for (let w = 0; w < this.vocabularySize; w++) {
      const length = this.lengths[w]!;
      // Smoothed (1 + N/df): in a collection of one image, or for a word every image has, idf stays positive.
      const idf = length ? Math.log(1 + n / length) : 0;
      this.idf[w] = idf;
      const list = this.postings[w];
      for (let i = 0; i < length; i++) {
        const p = list![i]!;
        const weight = (p & TF_MAX) * idf;
        norms[p >>> TF_BITS]! += weight * weight;
      }
    }
    for (let d = 0; d < norms.length; d++) norms[d] = Math.sqrt(norms[d]!);
    this.norms = norms;
    this.scores = new Float32Array(maxDoc + 1);
    this.dirty = false;
  }

  /**
   * The inverted file as bytes, saved beside SQLite (inverted-file-store.ts) and opened in a
   * fraction of the time rebuilding it from every image's words takes: little-endian uint32s,
   * the vocabulary size, the live document count, each word's posting count, the live
   * documents, then every posting list one after the other.
   */
  toBytes(): Buffer {
    let postings = 0;
    for (let w = 0; w < this.vocabularySize; w++) postings += this.lengths[w]!;
    const out = new Uint32Array(2 + this.vocabularySize + this.live.size + postings);
    out[0] = this.vocabularySize;
    out[1] = this.live.size;
    out.set(this.lengths, 2);
    let at = 2 + this.vocabularySize;
    for (const doc of this.live) out[at++] = doc;
    for (let w = 0; w < this.vocabularySize; w++) {
      const length = this.lengths[w]!;
      if (length) out.set(this.postings[w]!.subarray(0, length), at);
      at += length;
    }
    return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
  }

  /** An inverted file from toBytes(): posting lists are views into the bytes until they grow. */
  static fromBytes(bytes: Uint8Array): InvertedFile {
    // A Uint32Array view needs 4-byte alignment, which a Buffer's offset does not promise.
    const words = bytes.byteOffset % 4 === 0 ? new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 2) : new Uint32Array(Uint8Array.from(bytes).buffer);
    const vocabularySize = words[0]!;
    const docs = words[1]!;
    if (words.length < 2 + vocabularySize + docs) throw new Error('the inverted file is shorter than its header says');
    const file = new InvertedFile(vocabularySize);
    file.lengths.set(words.subarray(2, 2 + vocabularySize));
    let at = 2 + vocabularySize;
    for (let i = 0; i < docs; i++) file.live.add(words[at++]!);
    for (let w = 0; w < vocabularySize; w++) {
      const length = file.lengths[w]!;
      if (length) file.postings[w] = words.subarray(at, at + length);
      at += length;
    }
    if (at !== words.length) throw new Error(`the inverted file holds ${words.length} numbers, its counts say ${at}`);
    return file;
  }

  /** The `limit` documents most similar to these words, best first. */
  query(words: Uint16Array, limit: number, exclude?: number | ReadonlySet<number>): Candidate[] {
    this.refresh();
    const scores = this.scores;
    const touched: number[] = [];
    let queryNorm = 0;
    for (const [word, tf] of termCounts(words)) {
      if (word >= this.vocabularySize) continue;
      const idf = this.idf[word]!;
      if (idf <= 0) continue;
      const weight = tf * idf;
      queryNorm += weight * weight;
      const list = this.postings[word];
      const length = this.lengths[word]!;
      for (let i = 0; i < length; i++) {
        const p = list![i]!;
        const doc = p >>> TF_BITS;
        if (scores[doc] === 0) touched.push(doc);
        scores[doc]! += weight * (p & TF_MAX) * idf;
      }
    }
    const found: Candidate[] = [];
    const norm = Math.sqrt(queryNorm) || 1;
    for (const doc of touched) {
      const score = scores[doc]! / (norm * (this.norms[doc]! || 1));
      scores[doc] = 0;
      if (typeof exclude === 'number' ? doc !== exclude : !exclude?.has(doc)) found.push({ doc, score });
    }
    return topK(found, limit);
  }
}

function termCounts(words: Uint16Array): Map<number, number> {
  const counts = new Map<number, number>();
  for (const w of words) counts.set(w, (counts.get(w) ?? 0) + 1);
  return counts;
}

function topK(items: Candidate[], k: number): Candidate[] {
  if (items.length <= k) return items.sort((a, b) => b.score - a.score || a.doc - b.doc);
  // Threshold by a partial sort: sorting 100k touched documents for 50 would dominate the query.
  const scores = Float64Array.from(items, (c) => c.score).sort();
  const cut = scores[scores.length - k]!;
  return items
    .filter((c) => c.score >= cut)
    .sort((a, b) => b.score - a.score || a.doc - b.doc)
    .slice(0, k);
}
