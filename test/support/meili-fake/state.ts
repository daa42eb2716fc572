import { MeiliError, badRequest, notModelled } from './errors.ts';
import { checkFilterable, matches, parseFilter } from './filter.ts';

export interface StoredDoc {
  /** Internal id: kept when a document is replaced, and used to break ties, as Meilisearch does. */
  docid: number;
  /** The document as sent, `_vectors` taken out. */
  doc: Record<string, unknown>;
  /** Vectors per embedder, in the order they were given. */
  vectors: Record<string, number[][]>;
}

export interface Embedder {
  source: 'userProvided';
  dimensions: number;
}

export interface Settings {
  filterableAttributes: string[];
  sortableAttributes: string[];
  searchableAttributes: string[];
  displayedAttributes: string[];
  embedders: Record<string, Embedder>;
  faceting: { maxValuesPerFacet: number; sortFacetValuesBy: Record<string, 'alpha' | 'count'> };
  pagination: { maxTotalHits: number };
}

export const defaultSettings = (): Settings => ({
  filterableAttributes: [],
  sortableAttributes: [],
  searchableAttributes: ['*'],
  displayedAttributes: ['*'],
  embedders: {},
  faceting: { maxValuesPerFacet: 100, sortFacetValuesBy: { '*': 'alpha' } },
  pagination: { maxTotalHits: 1000 },
});

export class FakeIndex {
  primaryKey: string | null;
  readonly createdAt = new Date().toISOString();
  updatedAt = this.createdAt;
  readonly docs = new Map<string, StoredDoc>();
  settings = defaultSettings();
  private nextDocid = 0;

  constructor(
    readonly uid: string,
    primaryKey?: string | null,
  ) {
    this.primaryKey = primaryKey ?? null;
  }

  toJSON() {
    return { uid: this.uid, primaryKey: this.primaryKey, createdAt: this.createdAt, updatedAt: this.updatedAt };
  }

  /**
   * Adds documents, all or none: a failure leaves the index as it was. `replace` (POST) swaps a
   * stored document for the new one; `update` (PUT) merges the new fields into it, and keeps its
   * vectors for the embedders the update does not mention.
   */
  addDocuments(docs: Array<Record<string, unknown>>, mode: 'replace' | 'update' = 'replace'): number {
    if (!this.primaryKey) {
      const candidates = docs[0] ? Object.keys(docs[0]).filter((k) => /id$/i.test(k)) : [];
      if (candidates.length !== 1) {
        throw badRequest(
          candidates.length ? 'index_primary_key_multiple_candidates_found' : 'index_primary_key_no_candidate_found',
          `Index \`${this.uid}\`: The primary key inference failed as the engine did not find any field ending with \`id\` in its name, or found several.`,
        );
      }
      this.primaryKey = candidates[0]!;
    }
    const pk = this.primaryKey;
    const staged = new Map<string, { doc: Record<string, unknown>; vectors: Record<string, number[][]> }>();
    const missingVectors: Array<{ id: string; embedder: string }> = [];
    for (const raw of docs) {
      const idValue = raw[pk];
      if (idValue === undefined || idValue === null) {
        throw badRequest('missing_document_id', `Index \`${this.uid}\`: Document doesn't have a \`${pk}\` attribute: \`${JSON.stringify(raw).slice(0, 200)}\`.`);
      }
      const id = String(idValue);
      if (!(typeof idValue === 'string' || Number.isInteger(idValue)) || !/^[A-Za-z0-9_-]{1,511}$/.test(id)) {
        throw badRequest(
          'invalid_document_id',
          `Index \`${this.uid}\`: Document identifier \`${JSON.stringify(idValue)}\` is invalid. A document identifier can be of type integer or string, only composed of alphanumeric characters (a-z A-Z 0-9), hyphens (-) and underscores (_), and can not be more than 511 bytes.`,
        );
      }
      const { _vectors, ...fields } = raw;
      if (_vectors !== undefined && (typeof _vectors !== 'object' || _vectors === null || Array.isArray(_vectors))) {
        throw badRequest('invalid_vectors_type', `Index \`${this.uid}\`: The \`_vectors\` field in the document with id: \`${id}\` is not an object.`);
      }
      const given = (_vectors ?? {}) as Record<string, unknown>;
      const before = mode === 'update' ? (staged.get(id) ?? this.docs.get(id)) : undefined;
      const doc = before ? { ...before.doc, ...fields } : fields;
      const vectors: Record<string, number[][]> = {};
      for (const [name, embedder] of Object.entries(this.settings.embedders)) {
        if (!(name in given)) {
          if (before) {
            if (before.vectors[name]) vectors[name] = before.vectors[name];
          } else {
            missingVectors.push({ id, embedder: name });
          }
          continue;
        }
        const value = given[name];
        if (value === null) continue; // explicit opt-out for this document
        const embeddings = parseEmbeddings(value, this.uid, id);
        embeddings.forEach((e, i) => {
          if (e.length !== embedder.dimensions) {
            throw badRequest(
              'invalid_vector_dimensions',
              `Index \`${this.uid}\`: Invalid vector dimensions in document with id \`${id}\` in \`._vectors.${name}\`.\n` +
                `  - note: embedding #${i} has dimensions ${e.length}\n  - note: embedder \`${name}\` requires ${embedder.dimensions}`,
            );
          }
        });
        vectors[name] = embeddings;
      }
      staged.set(id, { doc, vectors });
    }
    if (missingVectors.length) {
      const { id, embedder: name } = missingVectors[0]!;
      throw badRequest(
        'vector_embedding_error',
        `Index \`${this.uid}\`: While embedding documents for embedder \`${name}\`: no vectors provided for document \`${id}\`` +
          (missingVectors.length > 1 ? ` and at least ${missingVectors.length - 1} other document(s)` : '') +
          `\n- Note: \`${name}\` has \`source: userProvided\`, so documents must provide embeddings as an array in \`_vectors.${name}\`.`,
      );
    }
    for (const [id, p] of staged) {
      const docid = this.docs.get(id)?.docid ?? this.nextDocid++;
      this.docs.set(id, { docid, doc: p.doc, vectors: p.vectors });
    }
    this.touch();
    return docs.length;
  }

  deleteIds(ids: unknown[]): number {
    let n = 0;
    for (const id of ids) if (this.docs.delete(String(id))) n++;
    this.touch();
    return n;
  }

  deleteWhere(filterInput: unknown): number {
    const filter = parseFilter(filterInput, 'invalid_document_filter');
    if (!filter) return 0;
    checkFilterable(filter, this.settings.filterableAttributes, 'invalid_document_filter');
    let n = 0;
    for (const [id, d] of this.docs) {
      if (matches(filter, d.doc)) {
        this.docs.delete(id);
        n++;
      }
    }
    this.touch();
    return n;
  }

  /** Applies a settings patch: `null` resets a setting, and an embedder set to `null` is removed. */
  updateSettings(patch: Record<string, unknown>): void {
    const next: Settings = structuredClone(this.settings);
    const defaults = defaultSettings();
    for (const [key, value] of Object.entries(patch)) {
      switch (key) {
        case 'filterableAttributes':
        case 'sortableAttributes':
        case 'searchableAttributes':
        case 'displayedAttributes':
          if (value === null) next[key] = defaults[key];
          else if (Array.isArray(value) && value.every((v) => typeof v === 'string')) next[key] = [...value];
          else throw notModelled(`\`${key}\` other than a list of attribute names`);
          break;
        case 'faceting': {
          if (value === null) next.faceting = defaults.faceting;
          else {
            const f = value as { maxValuesPerFacet?: number | null; sortFacetValuesBy?: Record<string, 'alpha' | 'count'> | null };
            if (f.maxValuesPerFacet !== undefined) next.faceting.maxValuesPerFacet = f.maxValuesPerFacet ?? 100;
            if (f.sortFacetValuesBy !== undefined) next.faceting.sortFacetValuesBy = { '*': 'alpha', ...(f.sortFacetValuesBy ?? {}) };
          }
          break;
        }
        case 'pagination':
          next.pagination.maxTotalHits = (value as { maxTotalHits?: number } | null)?.maxTotalHits ?? 1000;
          break;
        case 'embedders': {
          if (value === null) {
            next.embedders = {};
            break;
          }
          for (const [name, conf] of Object.entries(value as Record<string, unknown>)) {
            if (conf === null) {
              delete next.embedders[name];
              continue;
            }
            const c = conf as { source?: unknown; dimensions?: unknown };
            if (c.source !== 'userProvided') throw notModelled(`an embedder with \`source: ${JSON.stringify(c.source)}\``);
            const unknown = Object.keys(c).filter((k) => k !== 'source' && k !== 'dimensions');
            if (unknown.length) throw notModelled(`embedder field \`${unknown[0]}\``);
            if (!Number.isInteger(c.dimensions) || (c.dimensions as number) < 1) {
              throw badRequest('invalid_settings_embedders', `\`.embedders.${name}\`: Missing field \`dimensions\` (note: this field is mandatory for source \`userProvided\`)`);
            }
            const before = this.settings.embedders[name];
            if (before && before.dimensions !== c.dimensions && [...this.docs.values()].some((d) => d.vectors[name]?.length)) {
              throw notModelled('changing the dimensions of an embedder that holds vectors');
            }
            next.embedders[name] = { source: 'userProvided', dimensions: c.dimensions as number };
          }
          break;
        }
        default:
          throw notModelled(`the \`${key}\` setting`);
      }
    }
    for (const name of Object.keys(this.settings.embedders)) {
      if (!(name in next.embedders)) for (const d of this.docs.values()) delete d.vectors[name];
    }
    this.settings = next;
    this.touch();
  }

  /** Settings as GET /settings shows them: the modelled ones, with Meilisearch's defaults. */
  settingsJSON(): Record<string, unknown> {
    const s = this.settings;
    return {
      displayedAttributes: s.displayedAttributes,
      searchableAttributes: s.searchableAttributes,
      filterableAttributes: s.filterableAttributes,
      sortableAttributes: s.sortableAttributes,
      rankingRules: ['words', 'typo', 'proximity', 'attribute', 'sort', 'exactness'],
      faceting: s.faceting,
      pagination: s.pagination,
      embedders: s.embedders,
    };
  }

  stats(): Record<string, unknown> {
    const fieldDistribution: Record<string, number> = {};
    let embedded = 0;
    let embeddings = 0;
    for (const d of this.docs.values()) {
      for (const k of Object.keys(d.doc)) fieldDistribution[k] = (fieldDistribution[k] ?? 0) + 1;
      const n = Object.values(d.vectors).reduce((s, v) => s + v.length, 0);
      if (n) embedded++;
      embeddings += n;
    }
    return {
      numberOfDocuments: this.docs.size,
      isIndexing: false,
      fieldDistribution,
      numberOfEmbeddedDocuments: embedded,
      numberOfEmbeddings: embeddings,
    };
  }

  private touch(): void {
    this.updatedAt = new Date().toISOString();
  }
}

/** `_vectors.<embedder>`: one vector, a list of vectors, or { embeddings, regenerate }. */
function parseEmbeddings(value: unknown, uid: string, id: string): number[][] {
  let v = value;
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const o = v as { embeddings?: unknown; regenerate?: unknown };
    if (o.regenerate !== false) throw notModelled('`regenerate: true` (vectors that Meilisearch would compute itself)');
    v = o.embeddings ?? [];
  }
  if (!Array.isArray(v)) throw badRequest('invalid_vectors_type', `Index \`${uid}\`: Bad embedder configuration in the document with id: \`${id}\`.`);
  if (v.length === 0) return [];
  const list = Array.isArray(v[0]) ? (v as unknown[]) : [v];
  return list.map((e) => {
    if (!Array.isArray(e) || e.some((x) => typeof x !== 'number' || !Number.isFinite(x))) {
      throw badRequest('invalid_vectors_type', `Index \`${uid}\`: Bad embedder configuration in the document with id: \`${id}\`: expected numbers.`);
    }
    return e as number[];
  });
}

export type TaskStatus = 'enqueued' | 'processing' | 'succeeded' | 'failed';

export interface FakeTask {
  uid: number;
  batchUid: number | null;
  indexUid: string | null;
  status: TaskStatus;
  type: string;
  canceledBy: null;
  details: Record<string, unknown>;
  error: ReturnType<MeiliError['toJSON']> | null;
  duration: string | null;
  enqueuedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  /** Not in Meilisearch's task object: every status the task went through, for tests of the lifecycle. */
  history: TaskStatus[];
}

/**
 * Tasks run one at a time in the order they came, each a little after the previous one, so that
 * a client that does not wait for its tasks sees them enqueued or processing.
 */
export class TaskQueue {
  readonly tasks: FakeTask[] = [];
  private readonly jobs = new Map<number, () => Record<string, unknown> | void>();
  private running = false;
  private closed = false;

  constructor(private readonly delayMs: number) {}

  enqueue(type: string, indexUid: string | null, details: Record<string, unknown>, job: () => Record<string, unknown> | void) {
    const task: FakeTask = {
      uid: this.tasks.length,
      batchUid: null,
      indexUid,
      status: 'enqueued',
      type,
      canceledBy: null,
      details,
      error: null,
      duration: null,
      enqueuedAt: new Date().toISOString(),
      startedAt: null,
      finishedAt: null,
      history: ['enqueued'],
    };
    this.tasks.push(task);
    this.jobs.set(task.uid, job);
    setTimeout(() => this.pump(), this.delayMs);
    return { taskUid: task.uid, indexUid, status: task.status, type, enqueuedAt: task.enqueuedAt };
  }

  close(): void {
    this.closed = true;
  }

  private pump(): void {
    if (this.running || this.closed) return;
    const task = this.tasks.find((t) => t.status === 'enqueued');
    if (!task) return;
    this.running = true;
    task.status = 'processing';
    task.history.push('processing');
    task.batchUid = task.uid;
    task.startedAt = new Date().toISOString();
    const started = Date.now();
    setTimeout(() => {
      try {
        const more = this.jobs.get(task.uid)!();
        if (more) Object.assign(task.details, more);
        task.status = 'succeeded';
      } catch (err) {
        const e = err instanceof MeiliError ? err : new MeiliError(500, 'internal', String(err), 'internal');
        task.status = 'failed';
        task.error = e.toJSON();
        // A failed task changed nothing, and its details say so.
        for (const key of ['indexedDocuments', 'deletedDocuments']) if (key in task.details) task.details[key] = 0;
      }
      task.history.push(task.status);
      this.jobs.delete(task.uid);
      task.finishedAt = new Date().toISOString();
      task.duration = `PT${((Date.now() - started) / 1000).toFixed(3)}S`;
      this.running = false;
      this.pump();
    }, this.delayMs);
  }
}
