import { createHash } from 'node:crypto';

/** What a route hands to the HTTP layer, which adds CORS, validators, 304s, gzip and faults. */

export interface Reply {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * A representation with validators known before it is rendered, so that a conditional request
 * is answered 304 without touching any image.
 */
export interface Resource {
  etag: string;
  lastModified: Date;
  /** Served gzipped to clients that accept it. */
  compressible?: boolean;
  render(): Promise<Reply>;
}

export type RouteResult = Reply | Resource;

export function isResource(r: RouteResult): r is Resource {
  return 'render' in r;
}

export function etagOf(...parts: Array<string | number>): string {
  return `"${createHash('sha1').update(parts.join('\0')).digest('hex').slice(0, 20)}"`;
}

export function textReply(status: number, text: string, headers: Record<string, string> = {}): Reply {
  return { status, headers: { 'content-type': 'text/plain; charset=utf-8', ...headers }, body: Buffer.from(`${text}\n`) };
}

export function redirect(location: string): Reply {
  return { status: 303, headers: { location }, body: Buffer.alloc(0) };
}

export const JSON_LD_P3 = 'application/ld+json;profile="http://iiif.io/api/presentation/3/context.json"';
export const JSON_LD_DISCOVERY = 'application/ld+json;profile="http://iiif.io/api/discovery/1/context.json"';

/** A JSON document: ETag from its content and revision, so a change that leaves the text alike still shows. */
export function jsonResource(doc: object, revision: number, lastModified: Date, contentType: string): Resource {
  const text = JSON.stringify(doc, null, 1);
  const body = Buffer.from(text);
  return {
    etag: etagOf(text, revision),
    lastModified,
    compressible: true,
    render: async () => ({ status: 200, headers: { 'content-type': contentType }, body }),
  };
}
