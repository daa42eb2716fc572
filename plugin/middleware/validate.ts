import type { RequestHandler, Response } from 'express';
import type { z } from 'zod';
import { invalidParams, type InvalidParam } from '../problems.ts';

type Part = 'query' | 'params' | 'body';
type Schemas = Partial<Record<Part, z.ZodType>>;
type Parsed<S extends Schemas> = { [K in keyof S]: S[K] extends z.ZodType ? z.output<S[K]> : never };

const WHERE: Record<Part, InvalidParam['in']> = { query: 'query', params: 'path', body: 'body' };

export type Validator<S extends Schemas> = RequestHandler & {
  /** What the middleware parsed for this request, typed by the schemas. */
  input(res: Response): Parsed<S>;
  readonly schemas: S;
};

/** Zod issues as the problem's `errors`: one entry per bad parameter, named as the client wrote it. */
export function issuesToParams(issues: z.core.$ZodIssue[], where: InvalidParam['in']): InvalidParam[] {
  const out: InvalidParam[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) out.push({ name: [...issue.path.map(String), key].join('.'), in: where, reason: 'unknown parameter' });
      continue;
    }
    const name = issue.path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)), '');
    out.push({ name: name || (where === 'body' ? 'body' : where), in: where, reason: issue.message });
  }
  return out;
}

/**
 * Parses the request parts with zod before the handler runs; a failure is a 400 problem listing
 * every bad parameter at once, so a client fixes them in one go.
 */
export function validate<S extends Schemas>(schemas: S): Validator<S> {
  // One key per validator: a route may validate its query and its body in separate steps.
  const KEY = Symbol('reprise.validated');
  const middleware: RequestHandler = (req, res, next) => {
    const parsed: Record<string, unknown> = {};
    const errors: InvalidParam[] = [];
    for (const part of ['params', 'query', 'body'] as const) {
      const schema = schemas[part];
      if (!schema) continue;
      const result = schema.safeParse(part === 'body' ? (req.body ?? {}) : req[part]);
      if (result.success) parsed[part] = result.data;
      else errors.push(...issuesToParams(result.error.issues, WHERE[part]));
    }
    if (errors.length) return next(invalidParams(errors));
    (res.locals as Record<symbol, unknown>)[KEY] = parsed;
    next();
  };
  return Object.assign(middleware, {
    schemas,
    input: (res: Response) => (res.locals as Record<symbol, unknown>)[KEY] as Parsed<S>,
  });
}
