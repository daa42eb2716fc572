/**
 * An in-repo HTTP fake of the part of Meilisearch's API that the Meilisearch store uses, written
 * from Meilisearch's documented behaviour and its sources, for tests that cannot run the real
 * server. What it approximates is listed in README.md beside this file. Loopback only.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MeiliError, badRequest, notModelled } from './errors.ts';
import { checkFilterable, matches, parseFilter, type Filter } from './filter.ts';
import { facetDistribution, hybridMerge, keywordSearch, similarSearch, vectorSearch, type Scored } from './search.ts';
import { FakeIndex, TaskQueue, type FakeTask, type StoredDoc } from './state.ts';

export interface MeiliFakeOptions {
  /** What `/version` reports (default 1.13.0). */
  version?: string;
  /** When set, every route but /health wants `Authorization: Bearer <masterKey>`. */
  masterKey?: string;
  /** How long a task waits before it is processed, and how long processing takes (default 2 ms). */
  taskDelayMs?: number;
}

export interface MeiliFake {
  url: string;
  /** Every task so far, live: its status, details, error and the statuses it went through. */
  tasks: readonly FakeTask[];
  indexes: ReadonlyMap<string, FakeIndex>;
  close(): Promise<void>;
}

const MAX_BODY = 100 * 1024 * 1024;
const INDEX_UID = /^[A-Za-z0-9_-]{1,400}$/;

export async function startMeiliFake(opts: MeiliFakeOptions = {}): Promise<MeiliFake> {
  const version = opts.version ?? '1.13.0';
  const queue = new TaskQueue(opts.taskDelayMs ?? 2);
  const indexes = new Map<string, FakeIndex>();

  const getIndex = (uid: string): FakeIndex => {
    const index = indexes.get(uid);
    if (!index) throw new MeiliError(404, 'index_not_found', `Index \`${uid}\` not found.`);
    return index;
  };
  /** Document and settings writes create their index when it does not exist, as Meilisearch's do. */
  const getOrCreate = (uid: string, primaryKey?: string | null): FakeIndex => {
    let index = indexes.get(uid);
    if (!index) {
      index = new FakeIndex(uid, primaryKey);
      indexes.set(uid, index);
    }
    return index;
  };

  const addDocuments = (uid: string, body: unknown, url: URL, mode: 'replace' | 'update'): [number, unknown] => {
    checkUid(uid);
    const docs = Array.isArray(body) ? body : body && typeof body === 'object' ? [body] : undefined;
    if (!docs || docs.some((d) => !d || typeof d !== 'object' || Array.isArray(d))) {
      throw badRequest('malformed_payload', "The `json` payload provided is malformed. `Couldn't serialize document value: expected objects`.");
    }
    const primaryKey = url.searchParams.get('primaryKey');
    return [
      202,
      queue.enqueue('documentAdditionOrUpdate', uid, { receivedDocuments: docs.length, indexedDocuments: null }, () => {
        const index = getOrCreate(uid, primaryKey);
        if (primaryKey && index.primaryKey && index.primaryKey !== primaryKey) {
          throw badRequest('index_primary_key_already_exists', `Index \`${uid}\`: Index already has a primary key: \`${index.primaryKey}\`.`);
        }
        return { indexedDocuments: index.addDocuments(docs as Array<Record<string, unknown>>, mode) };
      }),
    ];
  };

  const routes: Array<[string, RegExp, (m: string[], body: unknown, url: URL) => [number, unknown]]> = [
    ['GET', /^\/health$/, () => [200, { status: 'available' }]],
    ['GET', /^\/version$/, () => [200, { commitSha: 'meili-fake', commitDate: '2025-01-01T00:00:00Z', pkgVersion: version }]],
    [
      'GET',
      /^\/tasks\/(\d+)$/,
      ([uid]) => {
        const task = queue.tasks[Number(uid)];
        if (!task) throw new MeiliError(404, 'task_not_found', `Task \`${uid}\` not found.`);
        const { history: _history, ...shown } = task;
        return [200, shown];
      },
    ],
    [
      'POST',
      /^\/indexes$/,
      (_, body) => {
        const { uid, primaryKey, ...rest } = (body ?? {}) as { uid?: unknown; primaryKey?: unknown };
        if (Object.keys(rest).length) throw badRequest('bad_request', `Unknown field \`${Object.keys(rest)[0]}\`: expected one of \`uid\`, \`primaryKey\``);
        if (typeof uid !== 'string') throw badRequest('missing_index_uid', 'Missing field `uid`');
        checkUid(uid);
        return [
          202,
          queue.enqueue('indexCreation', uid, { primaryKey: primaryKey ?? null }, () => {
            if (indexes.has(uid)) throw badRequest('index_already_exists', `Index \`${uid}\` already exists.`);
            indexes.set(uid, new FakeIndex(uid, typeof primaryKey === 'string' ? primaryKey : null));
          }),
        ];
      },
    ],
    ['GET', /^\/indexes\/([^/]+)$/, ([uid]) => [200, getIndex(uid!).toJSON()]],
    [
      'DELETE',
      /^\/indexes\/([^/]+)$/,
      ([uid]) => [
        202,
        queue.enqueue('indexDeletion', uid!, { deletedDocuments: null }, () => {
          const n = getIndex(uid!).docs.size;
          indexes.delete(uid!);
          return { deletedDocuments: n };
        }),
      ],
    ],
    ['GET', /^\/indexes\/([^/]+)\/stats$/, ([uid]) => [200, getIndex(uid!).stats()]],
    ['GET', /^\/indexes\/([^/]+)\/settings$/, ([uid]) => [200, getIndex(uid!).settingsJSON()]],
    [
      'PATCH',
      /^\/indexes\/([^/]+)\/settings$/,
      ([uid], body) => {
        checkUid(uid!);
        if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest('bad_request', 'The settings must be an object.');
        const patch = body as Record<string, unknown>;
        // Shape errors are answered at once, as Meilisearch's deserialisation does; the rest when the task runs.
        new FakeIndex('check').updateSettings(structuredClone(patch));
        return [202, queue.enqueue('settingsUpdate', uid!, { ...patch }, () => getOrCreate(uid!).updateSettings(patch))];
      },
    ],
    ['POST', /^\/indexes\/([^/]+)\/documents$/, ([uid], body, url) => addDocuments(uid!, body, url, 'replace')],
    ['PUT', /^\/indexes\/([^/]+)\/documents$/, ([uid], body, url) => addDocuments(uid!, body, url, 'update')],
    [
      'POST',
      /^\/indexes\/([^/]+)\/documents\/fetch$/,
      ([uid], body) => {
        const index = getIndex(uid!);
        const b = (body ?? {}) as Record<string, unknown>;
        only(b, ['filter', 'fields', 'limit', 'offset', 'retrieveVectors']);
        const offset = intParam(b, 'offset', 0, 'invalid_document_offset');
        const limit = intParam(b, 'limit', 20, 'invalid_document_limit');
        const docs = universe(index, b.filter, 'invalid_document_filter');
        const fields = Array.isArray(b.fields) ? (b.fields as string[]) : undefined;
        const results = docs.slice(offset, offset + limit).map((d) => {
          const doc = shown(d, b.retrieveVectors === true);
          return fields ? Object.fromEntries(Object.entries(doc).filter(([k]) => fields.includes(k))) : doc;
        });
        return [200, { results, offset, limit, total: docs.length }];
      },
    ],
    [
      'GET',
      /^\/indexes\/([^/]+)\/documents\/([^/]+)$/,
      ([uid, id], _, url) => {
        const index = getIndex(uid!);
        const stored = index.docs.get(decodeURIComponent(id!));
        if (!stored) throw new MeiliError(404, 'document_not_found', `Document \`${decodeURIComponent(id!)}\` not found.`);
        return [200, shown(stored, url.searchParams.get('retrieveVectors') === 'true')];
      },
    ],
    [
      'POST',
      /^\/indexes\/([^/]+)\/documents\/delete-batch$/,
      ([uid], body) => {
        if (!Array.isArray(body)) throw badRequest('bad_request', 'Expected an array of document ids.');
        return [202, queue.enqueue('documentDeletion', uid!, { providedIds: body.length, deletedDocuments: null }, () => ({ deletedDocuments: getIndex(uid!).deleteIds(body) }))];
      },
    ],
    [
      'POST',
      /^\/indexes\/([^/]+)\/documents\/delete$/,
      ([uid], body) => {
        const filter = (body as { filter?: unknown } | null)?.filter;
        if (filter === undefined) throw badRequest('missing_document_filter', 'Missing field `filter`');
        parseFilter(filter, 'invalid_document_filter'); // syntax is checked at once; filterability when the task runs
        return [
          202,
          queue.enqueue('documentDeletion', uid!, { providedIds: 0, deletedDocuments: null, originalFilter: JSON.stringify(filter) }, () => ({
            deletedDocuments: getIndex(uid!).deleteWhere(filter),
          })),
        ];
      },
    ],
    ['POST', /^\/indexes\/([^/]+)\/search$/, ([uid], body) => [200, search(getIndex(uid!), (body ?? {}) as Record<string, unknown>)]],
    ['POST', /^\/indexes\/([^/]+)\/similar$/, ([uid], body) => [200, similar(getIndex(uid!), (body ?? {}) as Record<string, unknown>)]],
  ];

  const server = createServer((req, res) => {
    handle(req, res).catch((err) => send(res, 500, new MeiliError(500, 'internal', String(err), 'internal')));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    try {
      if (opts.masterKey !== undefined && url.pathname !== '/health') {
        const auth = req.headers.authorization;
        if (!auth) throw new MeiliError(401, 'missing_authorization_header', 'The Authorization header is missing. It must use the bearer authorization method.', 'auth');
        if (auth !== `Bearer ${opts.masterKey}`) throw new MeiliError(403, 'invalid_api_key', 'The provided API key is invalid.', 'auth');
      }
      const body = await readBody(req);
      for (const [method, re, fn] of routes) {
        const m = re.exec(url.pathname);
        if (m && req.method === method) {
          const [status, payload] = fn(m.slice(1), body, url);
          return send(res, status, payload);
        }
      }
      throw new MeiliError(404, 'not_found', `${req.method} ${url.pathname} is not a route of the in-repo Meilisearch fake`);
    } catch (err) {
      if (err instanceof MeiliError) return send(res, err.status, err);
      throw err;
    }
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    tasks: queue.tasks,
    indexes,
    close: () =>
      new Promise<void>((resolve, reject) => {
        queue.close();
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

function checkUid(uid: string): void {
  if (!INDEX_UID.test(uid)) {
    throw badRequest('invalid_index_uid', `\`${uid}\` is not a valid index uid. Index uid can be an integer or a string containing only alphanumeric characters, hyphens (-) and underscores (_), and can not be more than 400 bytes.`);
  }
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new MeiliError(413, 'payload_too_large', 'The provided payload reached the size limit. The maximum accepted payload size is 100 MiB.');
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw badRequest('malformed_payload', `The json payload provided is malformed. \`${(err as Error).message}\`.`);
  }
}

function send(res: ServerResponse, status: number, payload: unknown): void {
  const text = payload === undefined ? '' : JSON.stringify(payload);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function shown(stored: StoredDoc, retrieveVectors: boolean): Record<string, unknown> {
  if (!retrieveVectors) return { ...stored.doc };
  const vectors = Object.fromEntries(Object.entries(stored.vectors).map(([name, embeddings]) => [name, { embeddings, regenerate: false }]));
  return { ...stored.doc, _vectors: vectors };
}

function intParam(body: Record<string, unknown>, key: string, fallback: number, code: string): number {
  const v = body[key];
  if (v === undefined) return fallback;
  if (!Number.isInteger(v) || (v as number) < 0) throw badRequest(code, `Invalid value type at \`.${key}\`: expected a positive integer, but found ${JSON.stringify(v)}`);
  return v as number;
}

function only(body: Record<string, unknown>, allowed: string[]): void {
  for (const key of Object.keys(body)) {
    if (!allowed.includes(key)) {
      throw notModelled(`the search parameter \`${key}\``);
    }
  }
}

function universe(index: FakeIndex, filterInput: unknown, code: string): StoredDoc[] {
  const filter: Filter | undefined = parseFilter(filterInput, code);
  const docs = [...index.docs.values()].sort((a, b) => a.docid - b.docid);
  if (!filter) return docs;
  checkFilterable(filter, index.settings.filterableAttributes, code);
  return docs.filter((d) => matches(filter, d.doc));
}

function queryVector(index: FakeIndex, embedder: string, v: unknown): number[] {
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'number' || !Number.isFinite(x))) {
    throw badRequest('invalid_search_vector', `Invalid value type at \`.vector\`: expected an array of numbers, but found ${JSON.stringify(v)?.slice(0, 80)}`);
  }
  const dims = index.settings.embedders[embedder]!.dimensions;
  // The search route checks the length against the embedder (meilisearch SearchKind::embedder).
  if (v.length !== dims) throw badRequest('invalid_vector_dimensions', `Invalid vector dimensions: expected: \`${dims}\`, found: \`${v.length}\`.`);
  return v as number[];
}

function page(index: FakeIndex, body: Record<string, unknown>, prefix: 'search' | 'similar') {
  const offset = intParam(body, 'offset', 0, `invalid_${prefix}_offset`);
  const limit = intParam(body, 'limit', 20, `invalid_${prefix}_limit`);
  // Hits past pagination.maxTotalHits are never returned.
  const max = index.settings.pagination.maxTotalHits;
  return { offset, limit, reachable: Math.max(0, Math.min(limit, max - offset)) };
}

function hitsOf(results: Scored[], showScore: boolean, retrieveVectors: boolean): Array<Record<string, unknown>> {
  return results.map((s) => ({ ...shown(s.d, retrieveVectors), ...(showScore ? { _rankingScore: s.score } : {}) }));
}

function search(index: FakeIndex, body: Record<string, unknown>): Record<string, unknown> {
  const started = Date.now();
  only(body, ['q', 'vector', 'hybrid', 'filter', 'facets', 'limit', 'offset', 'showRankingScore', 'retrieveVectors', 'matchingStrategy']);
  if (body.matchingStrategy !== undefined && body.matchingStrategy !== 'last') throw notModelled('a matchingStrategy other than `last`');
  const q = body.q === undefined || body.q === null ? '' : body.q;
  if (typeof q !== 'string') throw badRequest('invalid_search_q', 'Invalid value type at `.q`: expected a string');
  const { offset, limit, reachable } = page(index, body, 'search');
  const candidates = universe(index, body.filter, 'invalid_search_filter');

  let facets: string[] | undefined;
  if (body.facets !== undefined && body.facets !== null) {
    if (!Array.isArray(body.facets)) throw badRequest('invalid_search_facets', 'Invalid value type at `.facets`: expected an array');
    facets = body.facets as string[];
    for (const f of facets) {
      if (!index.settings.filterableAttributes.includes(f)) {
        throw badRequest('invalid_search_facets', `Invalid facet distribution: Attribute \`${f}\` is not filterable. Available filterable attributes patterns are: ${index.settings.filterableAttributes.map((a) => `\`${a}\``).join(', ')}.`);
      }
    }
  }

  // Which search runs, in the order of Meilisearch's `search_kind`.
  const hybrid = body.hybrid as { embedder?: unknown; semanticRatio?: unknown } | undefined | null;
  if (body.vector !== undefined && body.vector !== null && !hybrid) {
    throw badRequest('missing_search_hybrid', 'Passing `vector` as a parameter requires `hybrid` to be set.');
  }
  let ratio = 0;
  let embedder = '';
  if (hybrid) {
    if (typeof hybrid !== 'object') throw badRequest('invalid_search_hybrid_query', 'Invalid value type at `.hybrid`: expected an object');
    embedder = String(hybrid.embedder ?? '');
    if (!(embedder in index.settings.embedders)) {
      throw badRequest('invalid_search_embedder', `Cannot find embedder with name \`${embedder}\`.`);
    }
    ratio = hybrid.semanticRatio === undefined ? 0.5 : Number(hybrid.semanticRatio);
    if (typeof hybrid.semanticRatio !== 'undefined' && (typeof hybrid.semanticRatio !== 'number' || ratio < 0 || ratio > 1)) {
      throw badRequest('invalid_search_semantic_ratio', 'The semantic ratio must be a number between 0.0 and 1.0.');
    }
  }
  const hasVector = body.vector !== undefined && body.vector !== null;
  const vector = () => (hasVector ? queryVector(index, embedder, body.vector) : undefined);
  const placeholder = q.trim() === '';

  let results: Scored[];
  let matched: Scored[];
  let semanticHitCount: number | undefined;
  if (!hybrid || ratio === 0 || (placeholder && !hasVector)) {
    matched = keywordSearch(q, candidates, index.settings.searchableAttributes);
    results = matched.slice(offset, offset + reachable);
  } else if (ratio === 1 || placeholder) {
    const v = vector();
    if (!v) throw badRequest('vector_embedding_error', `Error while generating embeddings: the embedder \`${embedder}\` is \`userProvided\`: a search needs a \`vector\`.`);
    matched = vectorSearch(v, candidates, embedder);
    results = matched.slice(offset, offset + reachable);
    semanticHitCount = results.length;
  } else {
    const keyword = keywordSearch(q, candidates, index.settings.searchableAttributes);
    // Without a vector a userProvided embedder cannot embed `q`: Meilisearch then falls back to keyword results.
    const v = vector();
    const semantic = v ? vectorSearch(v, candidates, embedder) : undefined;
    const merged = hybridMerge(keyword, semantic, ratio, offset, reachable);
    results = merged.results;
    semanticHitCount = merged.semanticHitCount;
    matched = semantic ?? keyword;
  }

  const response: Record<string, unknown> = {
    hits: hitsOf(results, body.showRankingScore === true, body.retrieveVectors === true),
    query: q,
    processingTimeMs: Date.now() - started,
    limit,
    offset,
    estimatedTotalHits: matched.length,
  };
  if (facets) {
    const { maxValuesPerFacet, sortFacetValuesBy } = index.settings.faceting;
    response.facetDistribution = facetDistribution(matched.map((s) => s.d), facets, maxValuesPerFacet, sortFacetValuesBy);
    response.facetStats = {};
  }
  if (semanticHitCount !== undefined) response.semanticHitCount = semanticHitCount;
  return response;
}

function similar(index: FakeIndex, body: Record<string, unknown>): Record<string, unknown> {
  const started = Date.now();
  only(body, ['id', 'embedder', 'filter', 'limit', 'offset', 'showRankingScore', 'retrieveVectors']);
  const id = body.id;
  if ((typeof id !== 'string' && !Number.isInteger(id)) || !/^[A-Za-z0-9_-]{1,511}$/.test(String(id))) {
    throw badRequest('invalid_similar_id', `Invalid value at \`.id\`: the value \`${JSON.stringify(id)}\` is not a valid document id.`);
  }
  const embedder = body.embedder;
  if (typeof embedder !== 'string' || !(embedder in index.settings.embedders)) {
    throw badRequest('invalid_similar_embedder', `Cannot find embedder with name \`${String(embedder)}\`.`);
  }
  const { offset, limit, reachable } = page(index, body, 'similar');
  const candidates = universe(index, body.filter, 'invalid_similar_filter');
  const target = index.docs.get(String(id));
  if (!target) throw badRequest('not_found_similar_id', `Document \`${String(id)}\` not found.`);
  const matched = similarSearch(target, candidates, embedder);
  return {
    hits: hitsOf(matched.slice(offset, offset + reachable), body.showRankingScore === true, body.retrieveVectors === true),
    id: String(id),
    processingTimeMs: Date.now() - started,
    limit,
    offset,
    estimatedTotalHits: candidates.filter((d) => d.docid !== target.docid).length,
  };
}
