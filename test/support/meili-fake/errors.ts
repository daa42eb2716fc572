/**
 * Meilisearch's error body: { message, code, type, link }. Codes, types and HTTP statuses are
 * those of meilisearch-types' error table (crates/meilisearch-types/src/error.rs).
 */
export class MeiliError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly type: 'invalid_request' | 'auth' | 'internal' | 'system' = 'invalid_request',
  ) {
    super(message);
  }

  toJSON(): { message: string; code: string; type: string; link: string } {
    return { message: this.message, code: this.code, type: this.type, link: `https://docs.meilisearch.com/errors#${this.code}` };
  }
}

export const badRequest = (code: string, message: string) => new MeiliError(400, code, message);

/** For a part of the API the fake leaves out, so that a store relying on it fails loudly here rather than on a real server. */
export const notModelled = (what: string) =>
  new MeiliError(400, 'bad_request', `${what} is not modelled by the in-repo Meilisearch fake (test/support/meili-fake)`);
