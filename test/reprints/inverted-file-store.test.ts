/**
 * The saved inverted file (features.ivf): opening an index reads it instead of rebuilding posting
 * lists from every image's words, and a file that does not match the index (another writer
 * changed it since, a corrupt copy) is never used: the index rebuilds from SQLite and answers
 * the same. Synthetic entries (words given), so no OpenCV is needed.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadDefaultVocabulary } from '../../reprints/features/vocabulary.ts';
import { ReprintIndex, type ReprintEntry } from '../../reprints/reprint-index/index.ts';
import { rng } from '../bench/reprints-degrade.ts';
import { tempDir } from './support.ts';

describe('reprints: the saved inverted file', function () {
  this.timeout(60_000);
  const vocabulary = loadDefaultVocabulary();
  const dirs: string[] = [];
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  const random = rng(11);
  const entries: ReprintEntry[] = Array.from({ length: 300 }, (_, i) => {
    const count = 60 + (i % 40);
    const words = Uint16Array.from({ length: count }, () => Math.floor(random() * vocabulary.size));
    const frame = { sourceWidth: 640, sourceHeight: 480, scale: 1, offsetX: 0, offsetY: 0, width: 640, height: 480 };
    return { id: `item-${i}`, item: { label: `item ${i}` }, features: { frame, keypoints: new Float32Array(count * 4), descriptors: new Uint8Array(count * 128) }, words };
  });
  const queries = [3, 50, 123, 299].map((i) => entries[i]!.words!);
  const answers = (index: ReprintIndex) => queries.map((words) => index.candidates(words, 5).map((c) => `${index.imageByDoc(c.doc)!.id}:${c.score.toFixed(6)}`));

  function built(): { dir: string; before: string[][] } {
    const dir = tempDir();
    dirs.push(dir);
    const index = ReprintIndex.open(dir, vocabulary);
    index.upsert(entries);
    const before = answers(index);
    index.close();
    return { dir, before };
  }

  it('opens from the file saved at close, with the same candidates', () => {
    const { dir, before } = built();
    assert.ok(existsSync(path.join(dir, 'features.ivf')) && existsSync(path.join(dir, 'features.ivf.json')));
    const index = ReprintIndex.open(dir, vocabulary);
    assert.deepEqual(index.invertedOrigin, { source: 'file' });
    assert.deepEqual(answers(index), before);
    // Changes after opening from the file (posting lists that were views of it) still follow.
    index.delete(['item-50']);
    assert.ok(!index.candidates(queries[1]!, 5).some((c) => index.imageByDoc(c.doc)?.id === 'item-50'));
    index.close();
    const again = ReprintIndex.open(dir, vocabulary);
    assert.deepEqual(again.invertedOrigin, { source: 'file' });
    assert.ok(!again.candidates(queries[1]!, 5).some((c) => again.imageByDoc(c.doc)?.id === 'item-50'));
    again.close();
  });

  it('rebuilds from SQLite when another writer changed the index after the file was saved', () => {
    const { dir } = built();
    // A harvest's connection: it never loads the inverted file, so it saves none.
    const writer = ReprintIndex.open(dir, vocabulary, { candidates: 'lazily' });
    writer.delete(['item-123']);
    writer.close();
    const index = ReprintIndex.open(dir, vocabulary);
    assert.equal(index.invertedOrigin?.source, 'rebuilt');
    assert.match((index.invertedOrigin as { reason: string }).reason, /generation/);
    assert.ok(!index.candidates(queries[2]!, 5).some((c) => index.imageByDoc(c.doc)?.id === 'item-123'), 'a deleted item is not a candidate');
    index.close();
    // The rebuilt one was saved: the next open reads it.
    const again = ReprintIndex.open(dir, vocabulary);
    assert.deepEqual(again.invertedOrigin, { source: 'file' });
    again.close();
  });

  it('never uses a corrupt file', () => {
    const { dir, before } = built();
    const file = path.join(dir, 'features.ivf');
    const bytes = readFileSync(file);
    for (let i = 16; i < bytes.length; i += 97) bytes[i] = bytes[i]! ^ 0xff;
    writeFileSync(file, bytes);
    const index = ReprintIndex.open(dir, vocabulary);
    assert.equal(index.invertedOrigin?.source, 'rebuilt');
    assert.match((index.invertedOrigin as { reason: string }).reason, /checksum/);
    assert.deepEqual(answers(index), before);
    index.close();
  });
});
