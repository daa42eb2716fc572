/**
 * A document's or an image's response, read into memory: its status and media type checked, its
 * size bounded while it streams and again while it is decoded (a few kilobytes of gzip can expand
 * to gigabytes).
 */
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { Dispatcher } from 'undici';
import { ContentTypeError, HttpError, HttpStatusError, TooLargeError } from './errors.ts';
import { abandon, discard, header, responseHeaders, statusError, type Hop } from './transport.ts';
import type { ResponseHeaders, Validators } from './types.ts';

export type Kind = 'json' | 'image';

/** IIIF servers that negotiate content give Presentation 3 when asked for it by profile. */
export const ACCEPT: Record<Kind, string> = {
  json: 'application/ld+json;profile="http://iiif.io/api/presentation/3/context.json", application/json',
  image: 'image/jpeg, image/png, image/webp, image/*;q=0.8, application/octet-stream;q=0.5',
};

export const ACCEPT_ENCODING = 'gzip, deflate, br';

/** Content-Encoding layers accepted on one response; more is never legitimate and costs CPU per layer. */
const MAX_ENCODINGS = 2;

export type BodyOutcome =
  | { type: 'not-modified'; validators: Validators }
  | { type: 'ok'; body: Buffer; contentType: string; validators: Validators; headers: ResponseHeaders };

export async function readBody(hop: Hop, kind: Kind, sent: Validators | undefined, limit: number): Promise<BodyOutcome> {
  const { res, url } = hop;
  const status = res.statusCode;
  if (status === 304) {
    await discard(res);
    if (!sent?.etag && !sent?.lastModified) {
      throw new HttpStatusError(url.href, status, 'not modified, although this request was not conditional');
    }
    return { type: 'not-modified', validators: responseValidators(res, sent) };
  }
  // 206 and friends would hand back part of a body as if it were whole.
  if (status !== 200 && status !== 203) throw await statusError(res, url);

  const contentType = header(res, 'content-type')?.trim() ?? '';
  try {
    checkContentType(kind, contentType, url.href);
    const length = Number(header(res, 'content-length'));
    if (Number.isFinite(length) && length > limit) throw new TooLargeError(url.href, limit);
  } catch (err) {
    abandon(res);
    throw err;
  }
  const encodings = contentEncodings(header(res, 'content-encoding'), url.href);
  const raw = await readLimited(res.body, limit, url.href);
  const body = await decode(raw, encodings, limit, url.href);
  return { type: 'ok', body, contentType, validators: responseValidators(res), headers: responseHeaders(res) };
}

function responseValidators(res: Dispatcher.ResponseData, fallback: Validators = {}): Validators {
  const etag = header(res, 'etag') ?? fallback.etag;
  const lastModified = header(res, 'last-modified') ?? fallback.lastModified;
  return { ...(etag ? { etag } : {}), ...(lastModified ? { lastModified } : {}) };
}

function checkContentType(kind: Kind, contentType: string, url: string): void {
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  if (kind === 'json') {
    // Many IIIF servers send manifests as text/plain or without a type; HTML is a login or error page.
    const ok = type === '' || type === 'application/json' || type === 'application/ld+json' || type === 'text/plain' ||
      /^application\/[\w.-]+\+json$/.test(type);
    if (!ok) throw new ContentTypeError(url, contentType, 'JSON (application/json, application/ld+json or text/plain)');
  } else {
    // A missing type is left to the image decoder, which looks at the bytes anyway.
    const ok = type === '' || type.startsWith('image/') || type === 'application/octet-stream';
    if (!ok) throw new ContentTypeError(url, contentType, 'an image (image/* or application/octet-stream)');
  }
}

type Encoding = 'gzip' | 'deflate' | 'br';

function contentEncodings(value: string | undefined, url: string): Encoding[] {
  if (!value) return [];
  const codings = value.split(',').map((c) => c.trim().toLowerCase()).filter((c) => c && c !== 'identity');
  if (codings.length > MAX_ENCODINGS) {
    throw new HttpError(`${url} is sent with ${codings.length} content encodings (${value}); at most ${MAX_ENCODINGS} are accepted`, url, false);
  }
  return codings.map((c) => {
    if (c === 'gzip' || c === 'x-gzip') return 'gzip';
    if (c === 'deflate' || c === 'br') return c;
    throw new HttpError(`${url} is sent with content-encoding "${c}", which this client did not ask for and cannot decode`, url, false);
  });
}

/** Counts while streaming, so an unannounced or lying length is stopped at the limit, not after. */
async function readLimited(body: AsyncIterable<Buffer>, limit: number, url: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  // Leaving the loop early (throw) destroys the stream, and with it the connection.
  for await (const chunk of body) {
    size += chunk.length;
    if (size > limit) throw new TooLargeError(url, limit);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

const gunzip = promisify(zlib.gunzip);
const inflate = promisify(zlib.inflate);
const inflateRaw = promisify(zlib.inflateRaw);
const brotliDecompress = promisify(zlib.brotliDecompress);

/**
 * Decodes in the thread pool with maxOutputLength, which stops zlib as soon as the output passes the
 * limit.
 */
async function decode(raw: Buffer, encodings: Encoding[], limit: number, url: string): Promise<Buffer> {
  let data = raw;
  for (const encoding of [...encodings].reverse()) {
    try {
      if (encoding === 'gzip') data = await gunzip(data, { maxOutputLength: limit });
      else if (encoding === 'br') data = await brotliDecompress(data, { maxOutputLength: limit });
      // "deflate" means zlib-wrapped, but some servers send raw deflate; the zlib header tells them apart.
      else data = await (hasZlibHeader(data) ? inflate : inflateRaw)(data, { maxOutputLength: limit });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw new TooLargeError(url, limit);
      throw new HttpError(`${url} has a corrupt ${encoding} body: ${(err as Error).message}`, url, false, { cause: err });
    }
  }
  return data;
}

function hasZlibHeader(data: Buffer): boolean {
  if (data.length < 2) return false;
  const cmf = data[0]!;
  const flg = data[1]!;
  return (cmf & 0x0f) === 8 && ((cmf << 8) | flg) % 31 === 0;
}
