/**
 * The base of every error Reprise raises on purpose. Its message is written for the person who
 * reads it (what went wrong, what to do), so the CLI shows it as it is, without a stack trace,
 * and a portal can tell Reprise's errors from its own with one `instanceof`.
 *
 * `problem` says how the search API answers it: the kind of RFC 9457 problem (one of
 * plugin/problems.ts's PROBLEM_TYPES, which gives its status), which the problem+json middleware
 * writes with `problemDetail` as its detail. Without one, the API answers an internal error.
 */
export class RepriseError extends Error {
  override name = 'RepriseError';
  /** The API's problem type for this error ('invalid-query', 'store-unavailable', …), when the client can act on it. */
  readonly problem?: string;

  /** The problem's detail: the message, unless a subclass says more. */
  problemDetail(): string {
    return this.message;
  }
}
