import { closeSync, fsyncSync, openSync, readFileSync, readSync, rmSync } from 'node:fs';
import path from 'node:path';
import { crc32 } from 'node:zlib';

/** CRC-32 of a file read in chunks: index files pass the 2 GiB a Buffer may hold. */
export function fileCrc32(file: string): number {
  const fd = openSync(file, 'r');
  try {
    const chunk = Buffer.allocUnsafe(8 << 20);
    let crc = 0;
    for (;;) {
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) return crc;
      crc = crc32(chunk.subarray(0, n), crc);
    }
  } finally {
    closeSync(fd);
  }
}

/** Writes `${file}.tmp` with `write` and makes it durable; the caller renames it into place. */
export function writeDurably(file: string, write: (tmp: string) => void): string {
  const tmp = `${file}.tmp`;
  rmSync(tmp, { force: true });
  write(tmp);
  const fd = openSync(tmp, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return tmp;
}

/** Makes renames in a folder durable, where the platform can fsync a directory. */
export function syncFolder(file: string): void {
  try {
    const dir = openSync(path.dirname(file), 'r');
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
  } catch {
    // Some platforms cannot fsync a directory; the renames are then as durable as the OS makes them.
  }
}

/**
 * The JSON sidecar that vouches for a derived file (an index, a copy of the vectors), or why it
 * cannot: its caller checks what it says and rebuilds the file when it does not vouch for it.
 */
export function readSidecar<T>(sidecarFile: string): { sidecar: T } | { reason: string } {
  try {
    return { sidecar: JSON.parse(readFileSync(sidecarFile, 'utf8')) as T };
  } catch (err) {
    return { reason: `its sidecar is missing or unreadable (${(err as Error).message})` };
  }
}
