import { RepriseError } from '../common/index.ts';

/** Errors every store raises alike, so the API layer maps them to responses without knowing the store. */
export class StoreError extends RepriseError {
  override name = 'StoreError';
}

/** The index was built for another model or dimension: never mix vectors silently. */
export class StoreSchemaError extends StoreError {
  override name = 'StoreSchemaError';
  override readonly problem = 'store-unavailable';
  constructor(
    readonly index: string,
    readonly existing: { modelId: string; dimensions: number },
    readonly wanted: { modelId: string; dimensions: number },
  ) {
    super(
      `the index "${index}" holds vectors of ${existing.modelId} (${existing.dimensions} dimensions), ` +
        `but the configured model is ${wanted.modelId} (${wanted.dimensions} dimensions); ` +
        `use another index name for the new model, or delete this index and harvest again`,
    );
  }
}

/** A query the caller can fix: wrong vector length, unknown id, bad filter value, bad page. */
export class InvalidQueryError extends StoreError {
  override name = 'InvalidQueryError';
  override readonly problem = 'invalid-query';
}

/** The store cannot be reached or is too old; nothing was changed. */
export class StoreUnavailableError extends StoreError {
  override name = 'StoreUnavailableError';
  override readonly problem = 'store-unavailable';

  override problemDetail(): string {
    return `the index cannot be reached: ${this.message}`;
  }
}

/** Meilisearch accepted a task that then failed: its code and message say why. */
export class StoreTaskError extends StoreError {
  override name = 'StoreTaskError';
  constructor(readonly code: string, message: string, readonly taskUid?: number) {
    super(`Meilisearch task ${taskUid ?? ''} failed (${code}): ${message}`);
  }
}
