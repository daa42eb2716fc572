import { Problem } from '../problems.ts';

/**
 * Bounds a call's wait. The work itself cannot be cancelled (an onnxruntime run, a SQLite query)
 * and finishes in the background; the client gets its answer on time.
 */
export function withTimeout<T>(work: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  // A late rejection of the abandoned work must not become an unhandled rejection.
  work.catch(() => {});
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

export const encoderTimeout = (ms: number, what: string): Problem =>
  new Problem('encoder-timeout', `the model took longer than ${ms} ms to embed the ${what} (api.encoderTimeoutMs); the server is busy, try again shortly`, {
    headers: { 'Retry-After': '5' },
  });

export const storeTimeout = (ms: number, operation: string): Problem =>
  new Problem('store-timeout', `the index took longer than ${ms} ms to answer (${operation}, api.storeTimeoutMs); try again shortly or narrow the query`);
