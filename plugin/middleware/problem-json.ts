import type { ErrorRequestHandler, Request, Response } from 'express';
import multer from 'multer';
import { RepriseError } from '../../common/index.ts';
import { Problem, PROBLEM_TYPES, invalidParams, type ProblemBody, type ProblemKind } from '../problems.ts';

export interface ProblemJsonOptions {
  /** Told about unexpected errors (the 500s), which the response describes only in general terms. */
  onError?: (err: unknown, req: Request) => void;
  /** Field name of the multipart upload, to name it in errors. */
  uploadField?: string;
}

/** Body-parser errors carry a `type`; these are the client's doing. */
const BODY_ERRORS: Record<string, (err: { limit?: number }) => Problem> = {
  'entity.too.large': (err) => new Problem('payload-too-large', `the JSON body is larger than ${err.limit ?? 'the'} bytes; send fewer or shorter values`),
  'entity.parse.failed': () => invalidParams([{ name: 'body', in: 'body', reason: 'not valid JSON' }]),
  'encoding.unsupported': () => new Problem('unsupported-media-type', 'the body uses a content encoding this API does not read; send it uncompressed, or as gzip, deflate or br'),
  'charset.unsupported': () => new Problem('unsupported-media-type', 'the body must be UTF-8 JSON'),
  'request.aborted': () => invalidParams([{ name: 'body', in: 'body', reason: 'the request was aborted before its body was read' }]),
  'request.size.invalid': () => invalidParams([{ name: 'body', in: 'body', reason: 'the body is shorter than its Content-Length' }]),
};

/** Whatever went wrong, as a problem the client can act on; never a stack trace. */
export function toProblem(err: unknown, opts: ProblemJsonOptions = {}): Problem | undefined {
  if (err instanceof Problem) return err;
  // Reprise's own errors say which problem they are (the store's: an invalid query, an unreachable index).
  if (err instanceof RepriseError && err.problem && Object.hasOwn(PROBLEM_TYPES, err.problem)) return new Problem(err.problem as ProblemKind, err.problemDetail());
  if (err instanceof multer.MulterError) return multerProblem(err, opts.uploadField ?? 'image');
  if (err instanceof URIError && (err as { status?: unknown }).status === 400) return pathDecodingProblem(err);
  const bodyError = err as { type?: unknown; status?: unknown; limit?: number };
  if (typeof bodyError?.type === 'string' && BODY_ERRORS[bodyError.type]) return BODY_ERRORS[bodyError.type]!(bodyError);
  return undefined;
}

/** Express's router fails to decode a path parameter such as `/items/%` before any route runs; its message quotes the raw value. */
function pathDecodingProblem(err: URIError): Problem {
  const raw = /'(.*)'$/s.exec(err.message)?.[1];
  const value = raw === undefined ? 'a path segment' : JSON.stringify(raw.length > 80 ? `${raw.slice(0, 80)}…` : raw);
  return invalidParams([{ name: 'path', in: 'path', reason: `${value} is not valid percent-encoding; write a literal "%" as %25` }]);
}

function multerProblem(err: multer.MulterError, field: string): Problem {
  switch (err.code) {
    case 'LIMIT_FILE_SIZE':
      return new Problem('payload-too-large', `the uploaded image is larger than the upload limit (api.maxUploadBytes); send a smaller or more compressed image`);
    case 'LIMIT_UNEXPECTED_FILE':
      return invalidParams([{ name: err.field ?? 'file', in: 'body', reason: `unexpected file field; upload one image in the field "${field}"` }]);
    case 'LIMIT_FILE_COUNT':
      return invalidParams([{ name: field, in: 'body', reason: 'upload exactly one image' }]);
    case 'LIMIT_PART_COUNT':
    case 'LIMIT_FIELD_COUNT':
    case 'LIMIT_FIELD_KEY':
    case 'LIMIT_FIELD_VALUE':
      return invalidParams([
        { name: err.field ?? 'body', in: 'body', reason: `the form may hold only the image, in the field "${field}"; give search options in the query string` },
      ]);
    default:
      return invalidParams([{ name: 'body', in: 'body', reason: `the multipart form cannot be read (${err.message})` }]);
  }
}

export function sendProblem(res: Response, problem: Problem, instance?: string): void {
  for (const [name, value] of Object.entries(problem.extra.headers ?? {})) res.setHeader(name, value);
  sendProblemBody(res, problem.body(instance));
}

export function sendProblemBody(res: Response, body: ProblemBody): void {
  res.status(body.status).type('application/problem+json').send(JSON.stringify(body));
}

/** The router's error handler: known errors become their problem, anything else a 500 that says nothing about internals. */
export function problemJson(opts: ProblemJsonOptions = {}): ErrorRequestHandler {
  return (err, req, res, next) => {
    if (res.headersSent) return next(err);
    const instance = req.originalUrl.split('?')[0];
    const problem = toProblem(err, opts);
    if (problem) return sendProblem(res, problem, instance);
    opts.onError?.(err, req);
    sendProblem(res, new Problem('internal-error', 'the server failed to answer this request; the error has been logged, and trying again later may help'), instance);
  };
}
