/**
 * Every JSON document in the shared IIIF corpus goes through the front door
 * (parseIiifDocument) and either parses or fails with IiifParseError: nothing
 * real publishers produce may crash the harvester.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseIiifDocument, parseIiifJson } from '../../../harvester/iiif/document.ts';
import { IiifParseError } from '../../../harvester/iiif/errors.ts';
import { fixture, fixturesPresent, requireFixtures } from '../../support/fixtures.ts';

const ROOT = fixture('iiif');

function* jsonFiles(dir: string): Generator<string> {
  for (const name of readdirSync(dir).sort()) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) yield* jsonFiles(full);
    else if (name.endsWith('.json')) yield full;
  }
}

describe('IIIF corpus: every .json fixture', function () {
  requireFixtures(this);
  const files = fixturesPresent ? [...jsonFiles(ROOT)] : [];
  const counts = { manifest: 0, collection: 0, 'image-info': 0, rejected: 0, notJson: 0 };

  after(function () {
    if (files.length) console.log(`      corpus: ${files.length} .json files →`, JSON.stringify(counts));
  });

  for (const file of files) {
    const rel = path.relative(ROOT, file);
    it(`${rel} parses or throws IiifParseError`, function () {
      const text = readFileSync(file, 'utf8');
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        counts.notJson++;
        // The same bytes through parseIiifJson must still be a clean IiifParseError.
        assert.throws(() => parseIiifJson(text, { url: `file:///${rel}` }), IiifParseError);
        return;
      }
      try {
        const doc = parseIiifDocument(json, { url: `https://example.org/fixtures/${rel}` });
        counts[doc.kind]++;
        if (doc.kind === 'manifest') {
          for (const canvas of doc.canvases) {
            assert.ok(canvas.image.url.length > 0, `${rel}: canvas ${canvas.index} has an image URL`);
            assert.doesNotThrow(() => new URL(canvas.image.url), `${rel}: image URL is absolute`);
          }
        }
      } catch (error) {
        if (!(error instanceof IiifParseError)) throw error;
        assert.ok(error.message.length > 10, 'the error says something');
        counts.rejected++;
      }
    });
  }

  it('found the corpus', function () {
    assert.ok(files.length > 400, `expected the shared corpus, found ${files.length} files`);
  });
});
