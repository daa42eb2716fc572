import { createHash } from 'node:crypto';

export const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

/** Id of a canvas in the index: stable across runs, and safe for any store (hex, 32 chars). */
export const itemIdOf = (manifestUrl: string, canvasId: string): string => sha256(`${manifestUrl}\n${canvasId}`).slice(0, 32);
