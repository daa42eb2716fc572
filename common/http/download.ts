/**
 * One attempt at a download: a body of any size streamed into a file, picking up where the file
 * ends with a Range request (If-Range when the server gave a validator), starting over when the
 * server sends the whole body instead, and bounded in size while it streams.
 */
import { mkdir, open, stat, truncate } from 'node:fs/promises';
import path from 'node:path';
import { RepriseError } from '../errors.ts';
import { HttpError, NetworkError, TooLargeError } from './errors.ts';
import { abandon, callBack, discard, exchange, header, statusError, type Hop, type HopLimits, type Transport } from './transport.ts';
import type { DownloadOptions, DownloadResult } from './types.ts';

/** What one call learns for its later attempts. */
export interface DownloadMemo {
  validator?: string;
}

export async function downloadOnce(
  transport: Transport,
  url: string,
  opts: DownloadOptions,
  base: { userAgent: string; limits: HopLimits },
  memo: DownloadMemo,
): Promise<Omit<DownloadResult, 'attempts'>> {
  const have = await fileSize(opts.file);
  // A file over the bound is not the start of this body: ask for all of it.
  const offset = have <= opts.maxBytes ? have : 0;
  const headers: Record<string, string> = {
    ...opts.headers,
    'user-agent': base.userAgent,
    accept: opts.accept ?? '*/*',
    // Byte ranges count the bytes as stored: a compressed transfer could not be resumed.
    'accept-encoding': 'identity',
  };
  if (offset > 0) {
    headers.range = `bytes=${offset}-`;
    const validator = memo.validator ?? opts.ifRange;
    if (validator) headers['if-range'] = validator;
  }
  const { value, finalUrl } = await exchange(transport, url, { headers, limits: base.limits, ...(opts.signal ? { signal: opts.signal } : {}) }, (hop) =>
    receive(hop, offset, opts, memo),
  );
  return { url, finalUrl, ...value, ...(memo.validator ? { validator: memo.validator } : {}) };
}

async function receive(hop: Hop, offset: number, opts: DownloadOptions, memo: DownloadMemo): Promise<{ bytes: number; contentType: string }> {
  const { res, url } = hop;
  const status = res.statusCode;
  const contentType = header(res, 'content-type')?.trim() ?? '';

  if (status === 416 && offset > 0) {
    await discard(res);
    // The file may already hold the whole body (the last attempt ended between its last byte and its end).
    if (parseContentRange(header(res, 'content-range'))?.total === offset) {
      callBack(() => opts.onResponse?.({ offset, size: offset }));
      return { bytes: offset, contentType };
    }
    await emptyFile(opts.file);
    throw new HttpError(`${url.href} cannot be resumed at byte ${offset} (HTTP 416); starting over`, url.href, true);
  }
  if (status !== 200 && !(status === 206 && offset > 0)) {
    throw await statusError(res, url, status === 304 ? 'not modified, although this request was not conditional' : '');
  }

  let start = 0;
  let expected: number | undefined;
  let size: number | undefined;
  try {
    const encoding = header(res, 'content-encoding')?.trim().toLowerCase();
    if (encoding && encoding !== 'identity') {
      throw new HttpError(`${url.href} is sent with content-encoding "${encoding}" although the bytes as stored were asked for`, url.href, false);
    }
    if (status === 206) {
      const range = parseContentRange(header(res, 'content-range'));
      if (!range || range.start !== offset) {
        await emptyFile(opts.file);
        throw new HttpError(
          `${url.href} answered the resume at byte ${offset} with another range (${header(res, 'content-range') ?? 'none'}); starting over`,
          url.href,
          true,
        );
      }
      start = offset;
      expected = range.end + 1;
      size = range.total;
    } else {
      // A 200 to a ranged request: the server ignored Range, or If-Range found the resource changed.
      const length = Number(header(res, 'content-length'));
      if (Number.isFinite(length) && header(res, 'content-length') !== undefined) expected = size = length;
    }
    if ((size ?? expected ?? 0) > opts.maxBytes) throw new TooLargeError(url.href, opts.maxBytes, '');
  } catch (err) {
    abandon(res);
    throw err;
  }
  memo.validator = resumeValidator(header(res, 'etag'), header(res, 'last-modified')) ?? (start > 0 ? memo.validator : undefined);
  callBack(() => opts.onResponse?.({ offset: start, size }));

  const received = await writeBody(hop, opts, start);
  if (expected !== undefined && received < expected) {
    throw new NetworkError(url.href, new Error(`the body ended at byte ${received} of ${expected}`));
  }
  return { bytes: received, contentType };
}

/** Writes the body at `start`, the file cut there first; synced before it counts as written. */
async function writeBody(hop: Hop, opts: DownloadOptions, start: number): Promise<number> {
  const file = await openAt(opts.file, start);
  let received = start;
  try {
    // Leaving the loop early (throw) destroys the stream, and with it the connection.
    for await (const chunk of hop.res.body as AsyncIterable<Buffer>) {
      hop.alive();
      if (received + chunk.length > opts.maxBytes) throw new TooLargeError(hop.url.href, opts.maxBytes, '');
      await fileOp(opts.file, 'write', () => file.write(chunk, 0, chunk.length, received));
      received += chunk.length;
      callBack(() => opts.onChunk?.(chunk, received));
    }
    await fileOp(opts.file, 'sync', () => file.sync());
  } finally {
    await file.close();
  }
  return received;
}

async function openAt(file: string, start: number) {
  await fileOp(file, 'create the folder of', () => mkdir(path.dirname(file), { recursive: true }));
  const handle = await fileOp(file, 'open', () => open(file, start > 0 ? 'r+' : 'w'));
  if (start > 0) await fileOp(file, 'truncate', () => handle.truncate(start));
  return handle;
}

/** A file that cannot be written is the caller's problem, not the network's: it is not retried. */
async function fileOp<T>(file: string, what: string, op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    throw new RepriseError(`cannot ${what} ${file}: ${(err as Error).message}`, { cause: err });
  }
}

async function emptyFile(file: string): Promise<void> {
  await fileOp(file, 'truncate', () => truncate(file, 0));
}

async function fileSize(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw new RepriseError(`cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
}

/** If-Range needs a strong validator: a weak ETag may stand for other bytes. */
function resumeValidator(etag: string | undefined, lastModified: string | undefined): string | undefined {
  if (etag && !etag.startsWith('W/')) return etag;
  return lastModified;
}

function parseContentRange(value: string | undefined): { start: number; end: number; total?: number } | undefined {
  const m = /^bytes (?:(\d+)-(\d+)|\*)\/(\d+|\*)$/i.exec(value?.trim() ?? '');
  if (!m) return undefined;
  const total = m[3] !== '*' ? { total: Number(m[3]) } : {};
  // "bytes */N" (a 416's) names only the size.
  return m[1] === undefined ? { start: -1, end: -1, ...total } : { start: Number(m[1]), end: Number(m[2]), ...total };
}
