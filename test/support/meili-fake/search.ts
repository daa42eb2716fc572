/**
 * Ranking in the fake. Vector scores follow Meilisearch exactly: its cosine distance is
 * (1 − cos) / 2 (arroy/hannoy `Cosine`), the score is 1 − distance, and a document with several
 * vectors ranks by its best one. Keyword ranking is an approximation (see README.md).
 */
import type { StoredDoc } from './state.ts';

/** Lower case, accents removed, split into letters-and-digits runs; each CJK character is a word of its own. */
export function words(text: string): string[] {
  const out: string[] = [];
  const plain = text.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase();
  for (const run of plain.match(/[\p{L}\p{N}]+/gu) ?? []) {
    let current = '';
    for (const ch of run) {
      if (/[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]/u.test(ch)) {
        if (current) out.push(current);
        current = '';
        out.push(ch);
      } else {
        current += ch;
      }
    }
    if (current) out.push(current);
  }
  return out;
}

/** The strings of a field, nested ones included, as Meilisearch flattens them for search. */
function strings(v: unknown, out: string[] = []): string[] {
  if (typeof v === 'string') out.push(v);
  else if (typeof v === 'number' || typeof v === 'boolean') out.push(String(v));
  else if (Array.isArray(v)) for (const x of v) strings(x, out);
  else if (v && typeof v === 'object') for (const x of Object.values(v)) strings(x, out);
  return out;
}

function searchableFields(doc: Record<string, unknown>, searchable: string[]): string[][] {
  const names = searchable.includes('*') ? Object.keys(doc) : searchable;
  return names.map((name) => strings(doc[name]).flatMap(words));
}

export interface Scored {
  d: StoredDoc;
  score: number;
}

/**
 * Keyword search with Meilisearch's default matching strategy, `last`: a document must contain the
 * first k query words (the last query word may match as a prefix), k as large as it can, k ≥ 1.
 * Score: k/n × (0.9 + 0.1 × a), where a is 1 when a matched word is in the first searchable
 * attribute and falls towards 0 for later ones: in 0…1, monotonic in matched words (n ≤ 10), and
 * ordering documents as Meilisearch's words-then-attribute rules would. Typos, proximity and
 * exactness are not modelled.
 */
export function keywordSearch(q: string, docs: StoredDoc[], searchable: string[]): Scored[] {
  const query = words(q).slice(0, 10);
  if (query.length === 0) return docs.map((d) => ({ d, score: 1 }));
  const n = query.length;
  const out: Scored[] = [];
  for (const d of docs) {
    const fields = searchableFields(d.doc, searchable);
    const has = (w: string, i: number) =>
      fields.findIndex((tokens) => tokens.some((t) => t === w || (i === n - 1 && t.startsWith(w))));
    let k = 0;
    let bestField = Infinity;
    for (let i = 0; i < n; i++) {
      const f = has(query[i]!, i);
      if (f < 0) break;
      k++;
      bestField = Math.min(bestField, f);
    }
    if (k === 0) continue;
    const a = fields.length > 1 ? 1 - bestField / fields.length : 1;
    out.push({ d, score: (k / n) * (0.9 + 0.1 * a) });
  }
  return out.sort((x, y) => y.score - x.score || x.d.docid - y.d.docid);
}

function cosineScore(a: number[], b: number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  const nanb = Math.sqrt(na) * Math.sqrt(nb);
  // As in arroy: a zero vector has distance 0 to everything.
  const distance = nanb > 1.1920929e-7 ? (1 - Math.max(-1, Math.min(1, dot / nanb))) / 2 : 0;
  return 1 - distance;
}

/**
 * Exact nearest neighbours over every vector of every document. Documents without vectors for the
 * embedder come last, in internal id order, with a score of 0, as milli's vector sort returns them:
 * once no candidate with a vector is left, the rest are one bucket of similarity none, scored 0.
 */
export function vectorSearch(vector: number[], docs: StoredDoc[], embedder: string): Scored[] {
  const out: Scored[] = [];
  const without: Scored[] = [];
  for (const d of docs) {
    const vs = d.vectors[embedder];
    if (!vs?.length) {
      without.push({ d, score: 0 });
      continue;
    }
    let best = -Infinity;
    for (const v of vs) best = Math.max(best, cosineScore(vector, v));
    out.push({ d, score: best });
  }
  out.sort((x, y) => y.score - x.score || x.d.docid - y.d.docid);
  return [...out, ...without.sort((x, y) => x.d.docid - y.d.docid)];
}

/**
 * `/similar` as Meilisearch runs it: the vector store keeps a document's i-th vector in its i-th
 * store, and the target's i-th vector is compared with the i-th vectors of the other documents
 * (milli `Similar` → `nns_by_item` per store); results are merged by score, each document once,
 * the target never.
 */
export function similarSearch(target: StoredDoc, docs: StoredDoc[], embedder: string): Scored[] {
  const targetVectors = target.vectors[embedder] ?? [];
  const all: Scored[] = [];
  targetVectors.forEach((tv, slot) => {
    for (const d of docs) {
      if (d.docid === target.docid) continue;
      const v = d.vectors[embedder]?.[slot];
      if (v) all.push({ d, score: cosineScore(tv, v) });
    }
  });
  all.sort((x, y) => y.score - x.score || x.d.docid - y.d.docid);
  const seen = new Set<number>();
  return all.filter((s) => !seen.has(s.d.docid) && (seen.add(s.d.docid), true));
}

/**
 * Hybrid merge as milli's `execute_hybrid`: keyword and vector results (each offset + limit long)
 * are weighted by 1 − ratio and ratio, merged by weighted score (vector first on ties), each
 * document kept once with its own unweighted score, then paged. When the keyword page is full and
 * every keyword score × (1 − ratio) ≥ 0.45, the keyword results are returned alone.
 */
export function hybridMerge(
  keyword: Scored[],
  vector: Scored[] | undefined,
  ratio: number,
  offset: number,
  limit: number,
): { results: Scored[]; semanticHitCount: number } {
  const kw = keyword.slice(0, offset + limit);
  const goodEnough = kw.length >= offset + limit && kw.every((s) => s.score * (1 - ratio) >= 0.45);
  if (goodEnough || !vector) return { results: kw.slice(offset, offset + limit), semanticHitCount: 0 };
  const vs = vector.slice(0, offset + limit);
  const merged: Array<Scored & { semantic: boolean }> = [];
  let i = 0;
  let j = 0;
  while (i < vs.length || j < kw.length) {
    const v = vs[i];
    const k = kw[j];
    const takeVector = v !== undefined && (k === undefined || v.score * ratio >= k.score * (1 - ratio) - Number.EPSILON);
    if (takeVector) merged.push({ ...v!, semantic: true }), i++;
    else merged.push({ ...k!, semantic: false }), j++;
  }
  const seen = new Set<number>();
  const unique = merged.filter((s) => !seen.has(s.d.docid) && (seen.add(s.d.docid), true));
  const page = unique.slice(offset, offset + limit);
  return { results: page, semanticHitCount: page.filter((s) => s.semantic).length };
}

/** Value counts per attribute over the candidates, most frequent first (or alphabetical), as many as maxValuesPerFacet. */
export function facetDistribution(
  docs: StoredDoc[],
  attributes: string[],
  maxValuesPerFacet: number,
  order: Record<string, 'alpha' | 'count'>,
): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const attr of attributes) {
    // Meilisearch counts values trimmed and lower-cased, and shows the first spelling it met.
    const counts = new Map<string, { shown: string; n: number }>();
    for (const { doc } of docs) {
      const raw = doc[attr];
      const values = new Set((Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).filter((v) => v !== null && typeof v !== 'object').map(String));
      const keys = new Set<string>();
      for (const v of values) {
        const key = v.trim().toLowerCase();
        if (keys.has(key)) continue;
        keys.add(key);
        const c = counts.get(key);
        if (c) c.n++;
        else counts.set(key, { shown: v, n: 1 });
      }
    }
    const byCount = (order[attr] ?? order['*'] ?? 'alpha') === 'count';
    const entries = [...counts.values()].sort((a, b) => (byCount ? b.n - a.n : 0) || (a.shown < b.shown ? -1 : a.shown > b.shown ? 1 : 0));
    out[attr] = Object.fromEntries(entries.slice(0, maxValuesPerFacet).map((e) => [e.shown, e.n]));
  }
  return out;
}
