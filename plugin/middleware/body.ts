import express, { type Request, type RequestHandler } from 'express';
import multer from 'multer';
import { Problem, invalidParams } from '../problems.ts';

/** JSON bodies are small here (ids, a URL, at most a few vectors): a tight limit keeps parsing cheap. */
export const JSON_BODY_LIMIT = 2 * 1024 * 1024;

const parseJson = express.json({ limit: JSON_BODY_LIMIT, strict: true });

const hasBody = (req: Request) => req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;

const contentEncoding = (req: Request) => (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();

/**
 * express.json, except that a body which does not decompress as its Content-Encoding says is the
 * client's error: body-parser passes the bare zlib error on (no `type` to tell it by), which would be a 500.
 */
const json: RequestHandler = (req, res, next) =>
  parseJson(req, res, (err?: unknown) => {
    const bodyError = err as { type?: unknown; status?: unknown; message?: unknown } | undefined;
    const encoding = contentEncoding(req);
    if (!bodyError || bodyError.type !== undefined || bodyError.status !== 400 || encoding === 'identity') return next(err);
    next(
      invalidParams([
        {
          name: 'body',
          in: 'body',
          reason: `the body is declared Content-Encoding: ${encoding} but does not decompress as ${encoding} (${String(bodyError.message)}); send it uncompressed, or compressed as declared`,
        },
      ]),
    );
  });

/**
 * multer, except that a form it cannot parse (no boundary, cut short, a malformed part) is the
 * client's error: busboy reports those as plain errors, which would be a 500. A compressed form is
 * refused before reading, as busboy would read the compressed bytes as the form.
 */
function readForm(upload: RequestHandler): RequestHandler {
  return (req, res, next) => {
    const encoding = contentEncoding(req);
    if (encoding !== 'identity') {
      return next(new Problem('unsupported-media-type', `send the multipart form without Content-Encoding (it says "${encoding.slice(0, 40)}"); compress the image itself instead`));
    }
    upload(req, res, (err?: unknown) => {
      if (!err || err instanceof multer.MulterError || err instanceof Problem) return next(err);
      const message = err instanceof Error ? err.message : String(err);
      next(
        invalidParams([
          {
            name: 'body',
            in: 'body',
            reason: `the multipart form cannot be read (${message}); send a complete multipart/form-data body, with its boundary in the Content-Type header`,
          },
        ]),
      );
    });
  };
}

/** A JSON body, or none; anything else is a 415 naming what to send. */
export function jsonBody(what: string): RequestHandler {
  return (req, res, next) => {
    if (req.is('application/json')) return json(req, res, next);
    if (!hasBody(req)) return next();
    next(new Problem('unsupported-media-type', `send ${what} as application/json`));
  };
}

export interface ImageBodyOptions {
  field: string;
  maxBytes: number;
}

/**
 * The image search body: a multipart upload in `field` (kept in memory, at most maxBytes) or a
 * JSON body naming the image. Search options travel in the query string either way, so the form
 * holds the file alone.
 */
export function imageOrJsonBody(opts: ImageBodyOptions): RequestHandler {
  const upload = readForm(
    multer({
      storage: multer.memoryStorage(),
      limits: { fileSize: opts.maxBytes, files: 1, fields: 0, parts: 1, headerPairs: 100 },
    }).single(opts.field),
  );
  return (req, res, next) => {
    if (req.is('multipart/form-data')) return upload(req, res, next);
    if (req.is('application/json')) return json(req, res, next);
    if (!hasBody(req)) return next();
    next(
      new Problem(
        'unsupported-media-type',
        `send the image as multipart/form-data in the field "${opts.field}", or a JSON body with "url", "iiif" or "canvas" and "xywh"`,
      ),
    );
  };
}
