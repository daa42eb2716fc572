/**
 * The errors the publisher answers with. The Image API asks for a status code and a
 * human-readable body; each class here is one status, so handlers say what went wrong
 * and the router writes it the same way everywhere.
 */
import { RepriseError } from '../common/index.ts';

export class PublisherError extends RepriseError {
  override name = 'PublisherError';
  constructor(message: string, readonly status: number, readonly headers: Record<string, string> = {}) {
    super(message);
  }
}

/** 400: the request is not valid Image API syntax, or asks for something this image cannot give. */
export class BadRequestError extends PublisherError {
  override name = 'BadRequestError';
  constructor(message: string) {
    super(message, 400);
  }
}

/** 404: no image, manifest or collection by that id. */
export class NotFoundError extends PublisherError {
  override name = 'NotFoundError';
  constructor(message: string) {
    super(message, 404);
  }
}

/**
 * 422: a valid request for an image whose file cannot be decoded (truncated or damaged since
 * its header was read at the scan). Not a 500: the server works, the file is what is wrong, and
 * asking again will not help until it is replaced.
 */
export class UnreadableImageError extends PublisherError {
  override name = 'UnreadableImageError';
  constructor(message: string) {
    super(message, 422);
  }
}

/** 501: a valid Image API request for a feature this server is configured not to offer. */
export class NotImplementedError extends PublisherError {
  override name = 'NotImplementedError';
  constructor(message: string) {
    super(message, 501);
  }
}

/** 503: too many images being rendered at once; the client may try again shortly. */
export class BusyError extends PublisherError {
  override name = 'BusyError';
  constructor(message: string, retryAfterSeconds: number) {
    super(message, 503, { 'Retry-After': String(retryAfterSeconds) });
  }
}

/** The folder given to the publisher cannot be served (missing, not a folder, unreadable). */
export class PublishFolderError extends RepriseError {
  override name = 'PublishFolderError';
}
