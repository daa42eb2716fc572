import express, { type RequestHandler } from 'express';
import multer from 'multer';
import { Problem } from '../problems.ts';

/** JSON bodies are small here (ids, a URL, at most a few vectors): a tight limit keeps parsing cheap. */
export const JSON_BODY_LIMIT = 2 * 1024 * 1024;

const json = express.json({ limit: JSON_BODY_LIMIT, strict: true });

const hasBody = (req: Parameters<RequestHandler>[0]) =>
  req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;

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
  const upload = multer({
    storage: multer.memoryStorage(),
    limits: { fileSize: opts.maxBytes, files: 1, fields: 0, parts: 1, headerPairs: 100 },
  }).single(opts.field);
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
