import { RepriseError } from '../../common/index.ts';

/**
 * The one error the IIIF parsing module throws. Anything else escaping from
 * harvester/iiif is a bug: callers may catch IiifParseError, log its message
 * next to the document URL and move on to the next document.
 */
export class IiifParseError extends RepriseError {
  override name = 'IiifParseError';

  constructor(
    message: string,
    /** The URL of the document that could not be used, when the caller told us. */
    readonly documentUrl?: string,
    options?: { cause?: unknown },
  ) {
    super(documentUrl ? `${message} (${documentUrl})` : message, options);
  }
}

/** A short, quoted, length-bounded rendering of an unexpected value for error messages. */
export function describeValue(value: unknown, max = 60): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (typeof value === 'object') return 'an object';
  const text = typeof value === 'string' ? value : String(value);
  const shown = text.length > max ? `${text.slice(0, max)}…` : text;
  return typeof value === 'string' ? JSON.stringify(shown) : shown;
}
