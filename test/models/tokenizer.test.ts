import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  buildClipTokenizerJson,
  CLIP_END_ID,
  CLIP_START_ID,
  CLIP_VOCAB_SIZE,
} from '../../models/tokenizer/build-clip-tokenizer-json.ts';
import { TextInputError, TextTokenizer } from '../../models/tokenizer/text-tokenizer.ts';
import { ModelFolderError } from '../../models/types.ts';
import { fixture, requireFixtures } from '../support/fixtures.ts';

let dir: string;
before(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'reprise-tokenizer-'));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

function writeJson(name: string, value: unknown): string {
  const file = path.join(dir, name);
  writeFileSync(file, JSON.stringify(value));
  return file;
}

/** Row b of a batch, as a plain array. */
function row(ids: Int32Array, seqLen: number, b: number): number[] {
  return Array.from(ids.subarray(b * seqLen, (b + 1) * seqLen));
}

describe('CLIP tokenizer built from OpenAI\'s merge list', function () {
  requireFixtures(this);

  let clipJsonPath: string;
  let clip: TextTokenizer;
  let reference: { cases: string[]; tokenizer: number[][][] };

  before(function () {
    const json = buildClipTokenizerJson(fixture('clip', 'bpe_simple_vocab_16e6.txt'));
    clipJsonPath = writeJson('clip-tokenizer.json', json);
    clip = TextTokenizer.fromFiles(clipJsonPath, undefined, { contextLength: 77 });
    reference = JSON.parse(readFileSync(fixture('clip', 'clip_data.json'), 'utf8'));
  });

  it('has OpenAI\'s 49,408 ids with the special tokens last', function () {
    const json = JSON.parse(readFileSync(clipJsonPath, 'utf8'));
    const vocab = json.model.vocab as Record<string, number>;
    assert.equal(Object.keys(vocab).length, CLIP_VOCAB_SIZE);
    assert.equal(json.model.merges.length, 48894);
    assert.equal(vocab['<|startoftext|>'], CLIP_START_ID);
    assert.equal(vocab['<|endoftext|>'], CLIP_END_ID);
    assert.equal(vocab['!'], 0);
    assert.equal(vocab['!</w>'], 256);
    assert.deepEqual(clip.prefixIds, [CLIP_START_ID]);
    assert.deepEqual(clip.suffixIds, [CLIP_END_ID]);
    assert.equal(clip.modelType, 'BPE');
  });

  it('gives the ids of OpenAI\'s clip.tokenize for the reference cases (context 77, zero padding)', function () {
    assert.equal(reference.cases.length, 3);
    const batch = clip.encode(reference.cases, { pad: 'max' });
    assert.equal(batch.batch, 3);
    assert.equal(batch.seqLen, 77);
    for (const [b, expected] of reference.tokenizer.entries()) {
      assert.deepEqual(row(batch.ids, 77, b), expected[0], `case ${JSON.stringify(reference.cases[b])}`);
    }
  });

  it('tokenizes French with accents and decodes it back (lowercased, as CLIP sees it)', function () {
    const text = 'Une Cathédrale gothique à Reims : façade ouest, vitraux, Noël, œuvre.';
    const batch = clip.encode([text]);
    const n = batch.lengths[0]!;
    const ids = row(batch.ids, batch.seqLen, 0).slice(0, n);
    assert.equal(ids[0], CLIP_START_ID);
    assert.equal(ids[n - 1], CLIP_END_ID);
    assert.ok(!ids.slice(1, -1).includes(CLIP_END_ID), 'an accent must not turn into the unknown token');
    assert.equal(clip.decode(ids, { skipSpecialTokens: true }), 'une cathédrale gothique à reims : façade ouest, vitraux, noël, œuvre.');
    assert.deepEqual(clip.decodeBatch(batch), ['une cathédrale gothique à reims : façade ouest, vitraux, noël, œuvre.']);
    // Composed and decomposed accents are one query: the NFC normalizer sees to it.
    const decomposed = clip.encode(['cathe\u0301drale']);
    const composed = clip.encode(['cath\u00e9drale']);
    assert.deepEqual(decomposed.ids, composed.ids);
  });

  it('truncates a long text to 77 tokens with the end token at position 76', function () {
    const long = Array.from({ length: 200 }, (_, i) => `mot${i}`).join(' ');
    const batch = clip.encode([long, 'short'], { pad: 'longest' });
    assert.equal(batch.seqLen, 77);
    assert.equal(batch.lengths[0], 77);
    const ids = row(batch.ids, 77, 0);
    assert.equal(ids[0], CLIP_START_ID);
    assert.equal(ids[76], CLIP_END_ID);
    assert.ok(!ids.slice(1, 76).includes(CLIP_END_ID));
    // OpenAI keeps the first 75 text tokens: the untruncated encoding starts the same way.
    const untruncated = TextTokenizer.fromFiles(clipJsonPath, undefined, { contextLength: 1000 }).encodeOne(long);
    assert.ok(untruncated.length > 77);
    assert.deepEqual(ids.slice(0, 76), untruncated.slice(0, 76));
    assert.ok(batch.attentionMask.subarray(0, 77).every((m) => m === 1));
  });

  it('pads to the longest text or to the context length, with a mask and real lengths', function () {
    const texts = ['a cat', 'a photograph of a cathedral in the rain', ''];
    const longest = clip.encode(texts, { pad: 'longest' });
    const max = clip.encode(texts, { pad: 'max' });
    assert.deepEqual(longest.lengths, [4, 10, 2]);
    assert.deepEqual(max.lengths, longest.lengths);
    assert.equal(longest.seqLen, 10);
    assert.equal(max.seqLen, 77);
    assert.equal(longest.ids.length, 3 * 10);
    assert.equal(max.ids.length, 3 * 77);
    assert.deepEqual(row(longest.attentionMask, 10, 0), [1, 1, 1, 1, 0, 0, 0, 0, 0, 0]);
    assert.deepEqual(row(longest.ids, 10, 2), [CLIP_START_ID, CLIP_END_ID, 0, 0, 0, 0, 0, 0, 0, 0]);
    for (let b = 0; b < 3; b++) {
      assert.deepEqual(row(max.ids, 77, b).slice(0, 10), row(longest.ids, 10, b));
      assert.ok(row(max.ids, 77, b).slice(10).every((id) => id === 0));
      assert.equal(row(max.attentionMask, 77, b).reduce((a, m) => a + m, 0), longest.lengths[b]);
    }
    assert.equal(max.ids.length, 77 * 3);
    const empty = clip.encode([], { pad: 'longest' });
    assert.equal(empty.batch, 0);
    assert.equal(empty.ids.length, 0);
  });

  it('pads with the id it is given, else tokenizer_config\'s pad token', function () {
    const eotPadded = TextTokenizer.fromFiles(clipJsonPath, undefined, { contextLength: 77, padTokenId: CLIP_END_ID });
    assert.deepEqual(row(eotPadded.encode(['a cat'], { pad: 'longest' }).ids, 4, 0), [CLIP_START_ID, 320, 2368, CLIP_END_ID]);
    assert.equal(row(eotPadded.encode(['a cat']).ids, 77, 0)[10], CLIP_END_ID);
    const configPath = writeJson('clip-tokenizer_config.json', { pad_token: { __type: 'AddedToken', content: '<|endoftext|>' } });
    assert.equal(TextTokenizer.fromFiles(clipJsonPath, configPath, { contextLength: 77 }).padTokenId, CLIP_END_ID);
  });

  it('refuses non-strings and over-long texts with a clear error', function () {
    assert.throws(() => clip.encode([42 as unknown as string]), (err: Error) => err instanceof TextInputError && /text 0 is number/.test(err.message));
    assert.throws(() => clip.encode(['ok', null as unknown as string]), /text 1 is null/);
    assert.throws(() => clip.encode('a cat' as unknown as string[]), TextInputError);
    assert.throws(() => clip.encode(['x'.repeat(10_001)]), (err: Error) => err instanceof TextInputError && /10001 characters.*10000/.test(err.message));
    assert.doesNotThrow(() => clip.encode(['x'.repeat(10_000)]));
  });

  it('refuses a folder file that is not a tokenizer', function () {
    const bad = writeJson('not-a-tokenizer.json', { hello: 'world' });
    assert.throws(() => TextTokenizer.fromFiles(bad, undefined, { contextLength: 77 }), ModelFolderError);
    assert.throws(() => TextTokenizer.fromFiles(path.join(dir, 'missing.json'), undefined, { contextLength: 77 }), ModelFolderError);
    assert.throws(() => TextTokenizer.fromFiles(clipJsonPath, undefined, { contextLength: 2 }), RangeError);
  });
});

/** A SentencePiece-style Unigram tokenizer in XLM-R's layout (<s> A </s>, pad 1), small enough to read. */
function unigramTokenizerJson() {
  const pieces: Array<[string, number]> = [
    ['<s>', 0], ['<pad>', 0], ['</s>', 0], ['<unk>', 0],
    ['▁', -3], ['▁la', -2], ['▁cathédrale', -2.5], ['▁de', -2], ['▁reims', -4], ['▁re', -3], ['ims', -3],
    ['▁é', -4], ['glise', -4], ['▁église', -3.5], ['s', -3], ['a', -5], ['e', -5], ['i', -5], ['m', -5], ['r', -5],
  ];
  return {
    version: '1.0',
    added_tokens: [
      { id: 0, content: '<s>', special: true, normalized: false, lstrip: false, rstrip: false, single_word: false },
      { id: 1, content: '<pad>', special: true, normalized: false, lstrip: false, rstrip: false, single_word: false },
      { id: 2, content: '</s>', special: true, normalized: false, lstrip: false, rstrip: false, single_word: false },
      { id: 3, content: '<unk>', special: true, normalized: false, lstrip: false, rstrip: false, single_word: false },
    ],
    normalizer: { type: 'Sequence', normalizers: [{ type: 'NFKC' }, { type: 'Lowercase' }] },
    pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
    post_processor: { type: 'RobertaProcessing', sep: ['</s>', 2], cls: ['<s>', 0], trim_offsets: true, add_prefix_space: true },
    decoder: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
    model: { type: 'Unigram', unk_id: 3, vocab: pieces },
  };
}

describe('TextTokenizer on a Unigram (SentencePiece) tokenizer', function () {
  it('loads, encodes French and pads with tokenizer_config\'s pad token', function () {
    const jsonPath = writeJson('unigram-tokenizer.json', unigramTokenizerJson());
    const configPath = writeJson('unigram-tokenizer_config.json', { pad_token: '<pad>', eos_token: '</s>', bos_token: '<s>' });
    const tok = TextTokenizer.fromFiles(jsonPath, configPath, { contextLength: 8 });
    assert.equal(tok.modelType, 'Unigram');
    assert.equal(tok.padTokenId, 1);
    assert.deepEqual(tok.prefixIds, [0]);
    assert.deepEqual(tok.suffixIds, [2]);

    const batch = tok.encode(['La cathédrale de Reims', 'église'], { pad: 'longest' });
    // ▁la ▁cathédrale ▁de ▁reims
    assert.deepEqual(row(batch.ids, batch.seqLen, 0), [0, 5, 6, 7, 8, 2]);
    assert.deepEqual(row(batch.ids, batch.seqLen, 1), [0, 13, 2, 1, 1, 1]);
    assert.deepEqual(batch.lengths, [6, 3]);
    assert.deepEqual(row(batch.attentionMask, batch.seqLen, 1), [1, 1, 1, 0, 0, 0]);
    assert.equal(tok.decode(row(batch.ids, batch.seqLen, 0), { skipSpecialTokens: true }), 'la cathédrale de reims');

    // Truncation keeps </s> last here too.
    const long = tok.encode(['la la la la la la la la la la'], { pad: 'max' });
    assert.deepEqual(row(long.ids, 8, 0), [0, 5, 5, 5, 5, 5, 5, 2]);
  });
});

describe('TextTokenizer on a WordPiece tokenizer', function () {
  it('loads and encodes through the same class', function () {
    const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', 'la', 'cathedrale', 'de', 'reims', 'eglise', '##s', 'vitr', '##aux'];
    const json = {
      version: '1.0',
      added_tokens: ['[PAD]', '[UNK]', '[CLS]', '[SEP]'].map((content, id) => ({ id, content, special: true, normalized: false, lstrip: false, rstrip: false, single_word: false })),
      normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
      pre_tokenizer: { type: 'BertPreTokenizer' },
      post_processor: {
        type: 'TemplateProcessing',
        single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
        pair: [],
        special_tokens: { '[CLS]': { id: '[CLS]', ids: [2], tokens: ['[CLS]'] }, '[SEP]': { id: '[SEP]', ids: [3], tokens: ['[SEP]'] } },
      },
      decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
      model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab: Object.fromEntries(vocab.map((t, i) => [t, i])) },
    };
    const tok = TextTokenizer.fromFiles(writeJson('wordpiece-tokenizer.json', json), undefined, { contextLength: 16 });
    assert.equal(tok.modelType, 'WordPiece');
    const batch = tok.encode(['Vitraux de la cathédrale', 'Églises'], { pad: 'longest' });
    // BertNormalizer with strip_accents unset follows lowercase, so accents go.
    assert.deepEqual(row(batch.ids, batch.seqLen, 0), [2, 10, 11, 6, 4, 5, 3]);
    assert.deepEqual(row(batch.ids, batch.seqLen, 1), [2, 8, 9, 3, 0, 0, 0]);
    assert.equal(tok.decode(row(batch.ids, batch.seqLen, 0).slice(0, 7), { skipSpecialTokens: true }), 'vitraux de la cathedrale');
  });
});
