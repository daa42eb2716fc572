import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { readSidecar, syncFolder, writeDurably } from '../../common/index.ts';
import { InvertedFile } from './inverted-file.ts';

/**
 * The reprint index's inverted file saved beside its SQLite file (`features.ivf`), so that
 * opening an index of 100k images reads one file instead of rebuilding posting lists from every
 * image's words. Like the vector store's HNSW file it is derived: its sidecar names the database
 * (a random id kept in its meta table), the generation it reflects (bumped by triggers on every
 * change to the images' words) and the vocabulary, with a CRC; anything that does not match
 * means the index is rebuilt from SQLite and saved again.
 */

const FORMAT = 'reprise-ivf/1';

export interface InvertedFileStamp {
  indexId: string;
  generation: number;
  vocabularyId: string;
}

interface Sidecar extends InvertedFileStamp {
  format: typeof FORMAT;
  bytes: number;
  crc32: number;
}

export const invertedFilePath = (dbFile: string) => dbFile.replace(/\.db$/, '') + '.ivf';
const sidecarOf = (file: string) => `${file}.json`;

export function saveInvertedFile(file: string, inverted: InvertedFile, stamp: InvertedFileStamp): void {
  const bytes = inverted.toBytes();
  const sidecar: Sidecar = { format: FORMAT, ...stamp, bytes: bytes.byteLength, crc32: crc32(bytes) };
  const tmp = writeDurably(file, (path) => writeFileSync(path, bytes));
  const tmpSidecar = writeDurably(sidecarOf(file), (path) => writeFileSync(path, JSON.stringify(sidecar)));
  renameSync(tmp, file);
  renameSync(tmpSidecar, sidecarOf(file));
  syncFolder(file);
}

/** The saved inverted file, when its sidecar vouches for it and it reflects exactly this stamp; otherwise why not. */
export function loadInvertedFile(file: string, expected: InvertedFileStamp): { inverted: InvertedFile } | { reason: string } {
  if (!existsSync(file)) return { reason: 'no saved inverted file' };
  const read = readSidecar<Sidecar>(sidecarOf(file));
  if ('reason' in read) return read;
  const { sidecar } = read;
  if (sidecar.format !== FORMAT) return { reason: `unknown format ${String(sidecar.format)}` };
  if (sidecar.indexId !== expected.indexId) return { reason: 'it belongs to another index' };
  if (sidecar.vocabularyId !== expected.vocabularyId) return { reason: 'it was made with another vocabulary' };
  if (sidecar.generation !== expected.generation) return { reason: `it is at generation ${sidecar.generation}, the index at ${expected.generation}` };
  const bytes = readFileSync(file);
  if (bytes.byteLength !== sidecar.bytes) return { reason: `it is ${bytes.byteLength} bytes, ${sidecar.bytes} were written (torn write)` };
  if (crc32(bytes) !== sidecar.crc32) return { reason: 'its checksum does not match (corrupt)' };
  try {
    return { inverted: InvertedFile.fromBytes(bytes) };
  } catch (err) {
    return { reason: (err as Error).message };
  }
}

export function removeInvertedFile(file: string): void {
  rmSync(file, { force: true });
  rmSync(sidecarOf(file), { force: true });
}
