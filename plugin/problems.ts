/**
 * Every error the API answers is an RFC 9457 problem. The catalogue below is the one list of
 * problem types: handlers raise them, the error middleware writes them, the OpenAPI document
 * lists them, so a client can switch on `type` without parsing `detail`.
 */
import { RepriseError } from '../common/index.ts';

export interface InvalidParam {
  /** The parameter as the client named it: `limit`, `filter.dateFrom`, `positive[2]`, `image`. */
  name: string;
  in: 'query' | 'path' | 'body' | 'header';
  reason: string;
}

export const PROBLEM_TYPES = {
  'invalid-parameters': { status: 400, title: 'Some parameters are not valid' },
  'malformed-request': { status: 400, title: 'The request is not valid HTTP' },
  'invalid-query': { status: 400, title: 'The query cannot be run as given' },
  'url-refused': { status: 400, title: 'The image URL may not be fetched' },
  'not-found': { status: 404, title: 'Not found' },
  'not-embedded': { status: 409, title: 'The item has no image vector yet' },
  'request-timeout': { status: 408, title: 'The request took too long to arrive' },
  'payload-too-large': { status: 413, title: 'The request body is too large' },
  'unsupported-media-type': { status: 415, title: 'Unsupported media type' },
  'unprocessable-image': { status: 422, title: 'The image cannot be used' },
  'examples-cancel-out': { status: 422, title: 'The examples cancel each other out' },
  'no-text-tower': { status: 422, title: 'The loaded model cannot search by text' },
  'rate-limited': { status: 429, title: 'Too many requests' },
  'headers-too-large': { status: 431, title: 'The request headers are too large' },
  'internal-error': { status: 500, title: 'Internal error' },
  'upstream-failed': { status: 502, title: 'The image could not be fetched' },
  'model-unavailable': { status: 503, title: 'No model is loaded' },
  'store-unavailable': { status: 503, title: 'The index is unavailable' },
  'encoder-timeout': { status: 503, title: 'The model took too long' },
  'store-timeout': { status: 504, title: 'The index took too long' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ProblemKind = keyof typeof PROBLEM_TYPES;

/** Not dereferenceable by design (RFC 9457 §3.1.1 allows it): stable names, documented in the OpenAPI document. */
export const problemTypeUri = (kind: ProblemKind): string => `urn:reprise:problem:${kind}`;

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  errors?: InvalidParam[];
  [extension: string]: unknown;
}

/** A problem raised on purpose: its detail is written for the person reading it and is safe to show. */
export class Problem extends RepriseError {
  override name = 'Problem';
  readonly status: number;

  constructor(
    readonly kind: ProblemKind,
    readonly detail: string,
    readonly extra: { errors?: InvalidParam[]; headers?: Record<string, string>; fields?: Record<string, unknown> } = {},
  ) {
    super(detail);
    this.status = PROBLEM_TYPES[kind].status;
  }

  body(instance?: string): ProblemBody {
    return {
      type: problemTypeUri(this.kind),
      title: PROBLEM_TYPES[this.kind].title,
      status: this.status,
      detail: this.detail,
      ...(instance ? { instance } : {}),
      ...(this.extra.errors?.length ? { errors: this.extra.errors } : {}),
      ...this.extra.fields,
    };
  }
}

export const invalidParams = (errors: InvalidParam[]): Problem =>
  new Problem(
    'invalid-parameters',
    errors.length === 1 ? `${errors[0]!.name}: ${errors[0]!.reason}` : `${errors.length} parameters are not valid; see errors`,
    { errors },
  );

export const notFound = (detail: string): Problem => new Problem('not-found', detail);

/** What an operator does to get text and image search: said the same way everywhere. */
export const MODEL_HINT =
  'run `npx reprise models pull clip-vit-base-patch32` (or set models.path to a model folder placed by hand) and restart the server';

/** What works without a model, said the same way everywhere. */
export const WITHOUT_A_MODEL =
  'Items, browsing (GET /items), keyword search (semanticRatio=0), facets, stats and reprints work without one; similar items work for items a harvest with a model embedded';

export const modelUnavailable = (what: string): Problem =>
  new Problem('model-unavailable', `${what} needs a model, and none is loaded: ${MODEL_HINT}. ${WITHOUT_A_MODEL}.`);

/** An image-only model (a classifier) is loaded: text search is not something it can do, whenever asked. */
export const noTextTower = (modelId: string): Problem =>
  new Problem(
    'no-text-tower',
    `Text search needs a CLIP-family model; the loaded model ${modelId} is an image classifier without a text tower. ` +
      'Image search, similar items, region search and keyword search (semanticRatio=0) work with it.',
  );

/** Items stored by a harvest without a model: they have metadata but no image vector to compare. */
export const notEmbedded = (ids: string[], what: string): Problem =>
  new Problem(
    'not-embedded',
    `${what} needs image vectors, and ${ids.length === 1 ? `the item ${JSON.stringify(ids[0])} has none` : `the items ${ids.map((id) => JSON.stringify(id)).join(', ')} have none`} yet: ` +
      'it was harvested without a model. Get one (`npx reprise models pull clip-vit-base-patch32`) and harvest again: ' +
      'the images are embedded from the image cache, without downloading them again.',
  );
