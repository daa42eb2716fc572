import { readFile } from 'node:fs/promises';

/**
 * Files stay in memory after their first read: the static mode exists so that a benchmark
 * measures the client, not this server's disk. Keys carry the source's tag when the file
 * behind a path may change.
 */
const cache = new Map<string, Buffer>();
let cachedBytes = 0;
const LIMIT = 256 * 1024 * 1024;

export async function readCachedFile(file: string, key = file): Promise<Buffer | undefined> {
  const hit = cache.get(key);
  if (hit) return hit;
  let body: Buffer;
  try {
    body = await readFile(file);
  } catch {
    return undefined;
  }
  if (cachedBytes + body.length <= LIMIT) {
    cache.set(key, body);
    cachedBytes += body.length;
  }
  return body;
}
