import { readFileSync } from 'node:fs';

/**
 * Builds the Hugging Face `tokenizer.json` of OpenAI CLIP from OpenAI's merge list
 * (`bpe_simple_vocab_16e6.txt`), so that an exported model folder without a tokenizer
 * (OpenCLIP, a bare ONNX export) can still be read by @huggingface/tokenizers.
 *
 * The ids are OpenAI's: they follow the construction in OpenAI's `simple_tokenizer.py`,
 * which is what the text tower's embedding table was trained with.
 */

export const CLIP_START_TOKEN = '<|startoftext|>';
export const CLIP_END_TOKEN = '<|endoftext|>';
export const CLIP_VOCAB_SIZE = 49408;
export const CLIP_START_ID = 49406;
export const CLIP_END_ID = 49407;

/** OpenAI keeps vocab size 49,152 for words: 256 bytes, 256 bytes + `</w>`, and the merges. */
const MERGE_COUNT = 49152 - 256 - 2;
const END_OF_WORD = '</w>';

/**
 * CLIP's word pattern (from `simple_tokenizer.py`, without the two special tokens, which
 * the tokenizer matches as added tokens before this runs). Unlike GPT-2 it keeps no
 * leading space and splits digits one by one.
 */
const CLIP_SPLIT_REGEX = "'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+";

/**
 * GPT-2's reversible byte→unicode table, in OpenAI's order: the order is part of the
 * vocabulary (ids 0..255 are these characters in this order).
 */
export function bytesToUnicode(): string[] {
  const bs: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const cs = bs.slice();
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n);
      n++;
    }
  }
  return cs.map((c) => String.fromCharCode(c));
}

/** Reads the merge list; split out so a caller holding the text already need not touch disk. */
export function buildClipTokenizerJsonFromText(bpeText: string): object {
  // The file may carry Windows line ends if someone re-saved it; a stray \r would end up in tokens.
  const lines = bpeText.split(/\r?\n/);
  // Copies in the wild prefix the header (modelzoo's reads `"bpe_simple_vocab_16e6.txt#version: 0.2`);
  // what matters is that line 1 is a header, or every id would shift by one merge.
  if (!lines[0]?.includes('#version')) {
    throw new Error('not an OpenAI CLIP merge list: the first line should be the "#version" header');
  }
  const mergeLines = lines.slice(1, 1 + MERGE_COUNT);
  if (mergeLines.length < MERGE_COUNT) {
    throw new Error(`CLIP merge list too short: ${mergeLines.length} merges, expected ${MERGE_COUNT}`);
  }

  const byteChars = bytesToUnicode();
  const vocabList: string[] = [...byteChars, ...byteChars.map((c) => c + END_OF_WORD)];
  const merges: string[] = [];
  for (const [i, line] of mergeLines.entries()) {
    const parts = line.split(' ');
    if (parts.length !== 2 || !parts[0] || !parts[1]) {
      throw new Error(`CLIP merge list line ${i + 2} is not "left right": ${JSON.stringify(line)}`);
    }
    merges.push(`${parts[0]} ${parts[1]}`);
    vocabList.push(parts[0] + parts[1]);
  }
  vocabList.push(CLIP_START_TOKEN, CLIP_END_TOKEN);
  if (vocabList.length !== CLIP_VOCAB_SIZE) {
    throw new Error(`built a CLIP vocabulary of ${vocabList.length} tokens, expected ${CLIP_VOCAB_SIZE}`);
  }
  const vocab: Record<string, number> = {};
  for (const [id, token] of vocabList.entries()) {
    if (token in vocab) throw new Error(`CLIP vocabulary has a duplicate token ${JSON.stringify(token)}`);
    vocab[token] = id;
  }

  const special = (id: number, content: string) => ({
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    // OpenAI lowercases before it looks for the special strings, so matching after normalization is the faithful choice.
    normalized: true,
    special: true,
  });

  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [special(CLIP_START_ID, CLIP_START_TOKEN), special(CLIP_END_ID, CLIP_END_TOKEN)],
    normalizer: {
      type: 'Sequence',
      normalizers: [
        { type: 'NFC' },
        { type: 'Replace', pattern: { Regex: '\\s+' }, content: ' ' },
        { type: 'Lowercase' },
      ],
    },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: CLIP_SPLIT_REGEX }, behavior: 'Removed', invert: true },
        // use_regex false: the Split above already made CLIP's words; GPT-2's regex would only re-split them the same way.
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
    // Hugging Face's own CLIP export uses RobertaProcessing to get <start> A <end> on byte-level tokens.
    post_processor: {
      type: 'RobertaProcessing',
      sep: [CLIP_END_TOKEN, CLIP_END_ID],
      cls: [CLIP_START_TOKEN, CLIP_START_ID],
      trim_offsets: false,
      add_prefix_space: false,
    },
    // Hugging Face ships a bare ByteLevel decoder and strips `</w>` in Python; a decoder chain that
    // does it itself gives the same text in the Rust library and in tokenizers.js.
    decoder: {
      type: 'Sequence',
      decoders: [
        { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
        { type: 'Replace', pattern: { String: END_OF_WORD }, content: ' ' },
        { type: 'Strip', content: ' ', start: 0, stop: 1 },
      ],
    },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: CLIP_END_TOKEN,
      continuing_subword_prefix: '',
      end_of_word_suffix: END_OF_WORD,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges,
    },
  };
}

export function buildClipTokenizerJson(bpeVocabPath: string): object {
  return buildClipTokenizerJsonFromText(readFileSync(bpeVocabPath, 'utf8'));
}
