import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateClipModel } from '../../models/generate/model-folder.ts';
import { fixture } from './fixtures.ts';

const generated = new Map<string, Promise<string>>();

/**
 * The tiny CLIP-architecture model (random weights, real layout), generated once per
 * test process and layout. Its outputs mean nothing; its shapes and plumbing are real.
 */
export function tinyModel(
  layout: 'huggingface' | 'openclip' = 'huggingface',
  opts: { fp16?: boolean; fp16Io?: boolean; fixedBatch?: number } = {},
): Promise<string> {
  const key = `${layout}:${!!opts.fp16}:${!!opts.fp16Io}:${opts.fixedBatch ?? ''}`;
  let dir = generated.get(key);
  if (!dir) {
    const target = mkdtempSync(path.join(os.tmpdir(), `reprise-tiny-${layout}-`));
    dir = generateClipModel({
      dir: target,
      layout,
      size: 'tiny',
      seed: 7,
      fp16: opts.fp16,
      fp16Io: opts.fp16Io,
      fixedBatch: opts.fixedBatch,
      bpeVocabPath: fixture('clip', 'bpe_simple_vocab_16e6.txt'),
    }).then((m) => m.dir);
    generated.set(key, dir);
  }
  return dir;
}
