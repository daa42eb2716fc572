import { MeilisearchApiError, MeilisearchRequestError, MeilisearchRequestTimeOutError } from 'meilisearch';
import { InvalidQueryError, StoreError, StoreUnavailableError } from '../errors.ts';

/** Where a failure happened, so that the message tells an operator what to look at. */
export interface ErrorContext {
  url: string;
  index: string;
}

export const START_HINT =
  'start Meilisearch 1.13 or newer (`meilisearch --master-key "$MEILI_MASTER_KEY"`, or ' +
  '`docker run -p 7700:7700 -e MEILI_MASTER_KEY getmeili/meilisearch:v1.13`) ' +
  'or point store.meilisearch.url (REPRISE_STORE__MEILISEARCH__URL) at a running one';

/**
 * Error codes of requests the caller can fix by changing the query. Meilisearch answers a
 * query vector of the wrong length with `invalid_vector_dimensions` (the search route checks it
 * against the embedder's dimensions); `invalid_search_vector` is kept for a malformed vector.
 */
const QUERY_CODES = new Set([
  'invalid_vector_dimensions',
  'invalid_search_vector',
  'invalid_search_filter',
  'invalid_similar_filter',
  'invalid_document_filter',
  'invalid_search_facets',
  'invalid_search_limit',
  'invalid_search_offset',
  'invalid_similar_limit',
  'invalid_similar_offset',
  'invalid_search_semantic_ratio',
  'invalid_search_q',
  'invalid_similar_id',
  'not_found_similar_id',
  'invalid_document_id',
]);

const AUTH_CODES = new Set(['invalid_api_key', 'missing_authorization_header']);

/** The Meilisearch error body of an API error, when the server sent one. */
export function apiErrorBody(err: unknown): { code: string; message: string } | undefined {
  if (!(err instanceof MeilisearchApiError)) return undefined;
  const body = err.cause;
  if (body && typeof body.code === 'string') return { code: body.code, message: body.message };
  return undefined;
}

/**
 * Turns whatever the client threw into one of the store errors, so the API layer can answer
 * without knowing which store it talks to. Store errors pass through unchanged.
 */
export function toStoreError(err: unknown, ctx: ErrorContext): StoreError {
  if (err instanceof StoreError) return err;

  if (err instanceof MeilisearchRequestError) {
    if (err.cause instanceof MeilisearchRequestTimeOutError) {
      return withCause(
        new StoreUnavailableError(
          `Meilisearch at ${ctx.url} did not answer within ${err.cause.cause.timeout} ms ` +
            `(store.meilisearch.timeoutMs); is it overloaded or unreachable?`,
        ),
        err,
      );
    }
    return withCause(new StoreUnavailableError(`cannot reach Meilisearch at ${ctx.url} (${networkReason(err)}): ${START_HINT}`), err);
  }

  if (err instanceof MeilisearchApiError) {
    const status = err.response.status;
    const body = apiErrorBody(err);
    const code = body?.code ?? `http_${status}`;
    const message = body?.message ?? err.message;
    if (AUTH_CODES.has(code) || status === 401 || status === 403) {
      const what =
        code === 'missing_authorization_header'
          ? 'requires an API key and none is configured'
          : 'refused the configured API key';
      return withCause(
        new StoreUnavailableError(
          `Meilisearch at ${ctx.url} ${what} (${code}): set store.meilisearch.apiKey ` +
            `(REPRISE_STORE__MEILISEARCH__API_KEY) to its master key or to a key allowed search, documents.*, ` +
            `indexes.*, settings.*, tasks.get, stats.get and version`,
        ),
        err,
      );
    }
    if (QUERY_CODES.has(code)) return withCause(new InvalidQueryError(`${message} (${code})`), err);
    if (status === 503 || status === 502 || status === 504) {
      return withCause(new StoreUnavailableError(`Meilisearch at ${ctx.url} is unavailable (${code}): ${message}`), err);
    }
    return withCause(new StoreError(`Meilisearch at ${ctx.url}, index "${ctx.index}", answered ${status} (${code}): ${message}`), err);
  }

  if (err instanceof SyntaxError) {
    // The client parses every body as JSON: anything else is not a Meilisearch server.
    return withCause(new StoreUnavailableError(`the server at ${ctx.url} did not answer like Meilisearch (${err.message}): ${START_HINT}`), err);
  }

  const message = err instanceof Error ? err.message : String(err);
  return withCause(new StoreError(`Meilisearch store (${ctx.url}, index "${ctx.index}"): ${message}`), err);
}

function withCause<E extends Error>(error: E, cause: unknown): E {
  Object.defineProperty(error, 'cause', { value: cause, enumerable: false, configurable: true, writable: true });
  return error;
}

/** The innermost reason fetch gave (ECONNREFUSED, ENOTFOUND…), which says more than "fetch failed". */
function networkReason(err: unknown): string {
  let e: unknown = err;
  let reason = 'network error';
  for (let depth = 0; depth < 5 && e && typeof e === 'object'; depth++) {
    const o = e as { code?: unknown; message?: unknown; cause?: unknown };
    if (typeof o.code === 'string') return o.code;
    if (typeof o.message === 'string' && o.message) reason = o.message;
    e = o.cause;
  }
  return reason;
}
