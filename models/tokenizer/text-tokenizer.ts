import { Tokenizer } from '@huggingface/tokenizers';
import { ModelFolderError, type TokenizedBatch } from '../types.ts';
import { readModelJson } from '../read-json.ts';
import { isIdentity, normaliseText, type TextNormalisation } from './text-normalisation.ts';
import { RepriseError } from '../../common/index.ts';

/**
 * Text → token ids for any text tower whose tokenizer is a Hugging Face `tokenizer.json`:
 * byte-level BPE (CLIP), Unigram/SentencePiece (XLM-R for M-CLIP, SigLIP), WordPiece (BERT).
 * Batches come out padded and masked, ready to become ONNX tensors.
 */

export interface TextTokenizerOptions {
  /** Maximum tokens per text, start and end tokens included (CLIP: 77). */
  contextLength: number;
  /** Id used for padding; defaults to tokenizer_config's pad token, else 0 (OpenAI CLIP's choice). */
  padTokenId?: number;
  /** Longest text accepted, in UTF-16 code units (default 10,000); longer input is refused, not cut. */
  maxChars?: number;
  /** Cleaning the model's reference tokenizer does before tokenizer.json's normalizer (SigLIP, OpenCLIP "clean"). */
  normalisation?: TextNormalisation;
}

export interface EncodeOptions {
  /**
   * 'max' (default): every row is `contextLength` long, which any export accepts, including
   * those traced with a fixed sequence length; 'longest': rows as long as the longest text,
   * cheaper for exports with a dynamic sequence axis.
   */
  pad?: 'longest' | 'max';
}

export interface DecodeOptions {
  skipSpecialTokens?: boolean;
}

/** The caller's text is unusable; distinct from a broken model folder so an API can answer 400. */
export class TextInputError extends RepriseError {
  override name = 'TextInputError';
}

export const DEFAULT_MAX_CHARS = 10_000;

type Json = Record<string, unknown>;

export class TextTokenizer {
  readonly contextLength: number;
  readonly padTokenId: number;
  readonly maxChars: number;
  readonly normalisation: TextNormalisation | undefined;
  /** 'BPE', 'Unigram', 'WordPiece', … as the tokenizer.json says. */
  readonly modelType: string;
  /** Ids the post-processor puts before and after the text (CLIP: [49406] and [49407]). */
  readonly prefixIds: readonly number[];
  readonly suffixIds: readonly number[];

  private constructor(
    private readonly tokenizer: Tokenizer,
    modelType: string,
    affixes: { prefix: number[]; suffix: number[] },
    padTokenId: number,
    opts: TextTokenizerOptions,
  ) {
    this.modelType = modelType;
    this.prefixIds = affixes.prefix;
    this.suffixIds = affixes.suffix;
    this.padTokenId = padTokenId;
    this.contextLength = opts.contextLength;
    this.maxChars = opts.maxChars ?? DEFAULT_MAX_CHARS;
    this.normalisation = opts.normalisation && !isIdentity(opts.normalisation) ? opts.normalisation : undefined;
  }

  static fromFiles(tokenizerJsonPath: string, tokenizerConfigPath: string | undefined, opts: TextTokenizerOptions): TextTokenizer {
    const tokenizerJson = readModelJson(tokenizerJsonPath);
    const tokenizerConfig = tokenizerConfigPath === undefined ? undefined : readModelJson(tokenizerConfigPath);
    return TextTokenizer.fromJson(tokenizerJson, tokenizerConfig, opts, tokenizerJsonPath);
  }

  /** For callers that already hold the JSON (e.g. a tokenizer built in memory from CLIP's merge list). */
  static fromJson(tokenizerJson: object, tokenizerConfig: object | undefined, opts: TextTokenizerOptions, source?: string): TextTokenizer {
    const where = source ?? 'tokenizer.json';
    if (!Number.isInteger(opts.contextLength) || opts.contextLength < 1) {
      throw new RangeError(`contextLength must be a positive integer, got ${opts.contextLength}`);
    }
    if (opts.maxChars !== undefined && !(Number.isInteger(opts.maxChars) && opts.maxChars > 0)) {
      throw new RangeError(`maxChars must be a positive integer, got ${opts.maxChars}`);
    }
    const json = tokenizerJson as Json;
    const model = json.model as Json | undefined;
    if (!model || typeof model !== 'object') throw new ModelFolderError(`${where} has no "model" section`, source);
    const config = normaliseTokenizerConfig((tokenizerConfig ?? {}) as Json);

    let tokenizer: Tokenizer;
    try {
      // tokenizers.js insists on every section being present; the Rust library writes null for absent ones, older files omit them.
      tokenizer = new Tokenizer(
        { normalizer: null, pre_tokenizer: null, post_processor: null, decoder: null, added_tokens: [], ...json },
        config,
      );
    } catch (err) {
      throw new ModelFolderError(`${where} could not be loaded by @huggingface/tokenizers: ${(err as Error).message}`, source);
    }
    const modelType = typeof model.type === 'string' ? model.type : inferModelType(model);

    const affixes = specialAffixes(tokenizer, where, source);
    if (affixes.prefix.length + affixes.suffix.length >= opts.contextLength) {
      throw new RangeError(
        `contextLength ${opts.contextLength} leaves no room for text between ${affixes.prefix.length + affixes.suffix.length} special tokens`,
      );
    }
    const padTokenId = resolvePadId(tokenizer, config, opts, where, source);
    return new TextTokenizer(tokenizer, modelType, affixes, padTokenId, opts);
  }

  encode(texts: string[], opts: EncodeOptions = {}): TokenizedBatch {
    if (!Array.isArray(texts)) throw new TextInputError('texts must be an array of strings');
    const pad = opts.pad ?? 'max';
    if (pad !== 'max' && pad !== 'longest') throw new RangeError(`pad must be 'longest' or 'max', got ${String(pad)}`);

    const rows = texts.map((text, i) => this.encodeOne(text, i));
    const lengths = rows.map((r) => r.length);
    const seqLen = pad === 'max' ? this.contextLength : lengths.reduce((a, b) => Math.max(a, b), 0);
    const batch = rows.length;
    const ids = new Int32Array(batch * seqLen).fill(this.padTokenId);
    const attentionMask = new Int32Array(batch * seqLen);
    for (const [b, row] of rows.entries()) {
      ids.set(row, b * seqLen);
      attentionMask.fill(1, b * seqLen, b * seqLen + row.length);
    }
    return { ids, attentionMask, batch, seqLen, lengths };
  }

  /** Ids of one text, special tokens included, cut to the context length (no padding). */
  encodeOne(text: string, index = 0): number[] {
    if (typeof text !== 'string') {
      throw new TextInputError(`text ${index} is ${text === null ? 'null' : typeof text}, not a string`);
    }
    if (text.length > this.maxChars) {
      throw new TextInputError(`text ${index} is ${text.length} characters long; the limit is ${this.maxChars}`);
    }
    // The package's .d.ts files import without extensions, so under NodeNext its result types read as any: say what they are.
    const cleaned = this.normalisation ? normaliseText(text, this.normalisation) : text;
    const content: number[] = this.tokenizer.encode(cleaned, { add_special_tokens: false }).ids;
    // CLIP cuts the text and then forces the end token last, so the tower always sees one; the Hugging
    // Face tokenizers do the same by truncating the text before the post-processor adds its tokens.
    const room = this.contextLength - this.prefixIds.length - this.suffixIds.length;
    const kept = content.length > room ? content.slice(0, room) : content;
    return [...this.prefixIds, ...kept, ...this.suffixIds];
  }

  decode(ids: ArrayLike<number>, opts: DecodeOptions = {}): string {
    const list = Array.from(ids);
    // tokenizers.js throws on an empty list; an empty text is the honest answer.
    if (list.length === 0) return '';
    return this.tokenizer.decode(list, { skip_special_tokens: opts.skipSpecialTokens ?? false });
  }

  /** Texts back from a batch, padding dropped by each row's real length. */
  decodeBatch(batch: TokenizedBatch, opts: DecodeOptions = { skipSpecialTokens: true }): string[] {
    const out: string[] = [];
    for (let b = 0; b < batch.batch; b++) {
      const start = b * batch.seqLen;
      out.push(this.decode(batch.ids.subarray(start, start + (batch.lengths[b] ?? 0)), opts));
    }
    return out;
  }

  tokenToId(token: string): number | undefined {
    return this.tokenizer.token_to_id(token);
  }
}


/**
 * Older transformers write special tokens in tokenizer_config.json as
 * `{"__type": "AddedToken", "content": "<pad>", …}`; tokenizers.js expects plain strings
 * (its Unigram model looks up `eos_token` by string).
 */
function normaliseTokenizerConfig(config: Json): Json {
  const out: Json = { ...config };
  for (const [key, value] of Object.entries(config)) {
    if (key.endsWith('_token')) {
      const content = tokenContent(value);
      if (content === undefined) delete out[key];
      else out[key] = content;
    }
  }
  if (Array.isArray(config.additional_special_tokens)) {
    out.additional_special_tokens = config.additional_special_tokens
      .map(tokenContent)
      .filter((t): t is string => t !== undefined);
  }
  return out;
}

function tokenContent(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && typeof (value as Json).content === 'string') return (value as Json).content as string;
  return undefined;
}

/** Files written before `model.type` existed: tell the kinds apart the way the Rust library does. */
function inferModelType(model: Json): string {
  if (Array.isArray(model.vocab)) return 'Unigram';
  if ('merges' in model) return 'BPE';
  if ('continuing_subword_prefix' in model) return 'WordPiece';
  return 'unknown';
}

/**
 * Asks the post-processor which tokens it wraps a text in, once, so truncation can keep
 * them (the end token above all: CLIP reads its text embedding there). A sentinel stands
 * for the text; the result is checked against the library's own encoding of a probe.
 */
function specialAffixes(tokenizer: Tokenizer, where: string, source?: string): { prefix: number[]; suffix: number[] } {
  const pp = tokenizer.post_processor;
  if (!pp) return { prefix: [], suffix: [] };
  const SENTINEL = '\u0000reprise:text\u0000';
  const tokens: string[] = pp.post_process([SENTINEL], null, true).tokens;
  const at = tokens.indexOf(SENTINEL);
  if (at < 0 || tokens.indexOf(SENTINEL, at + 1) >= 0) {
    throw new ModelFolderError(`${where}: the post-processor does not wrap the text once; cannot tell its special tokens apart`, source);
  }
  const toId = (token: string): number => {
    const id = tokenizer.token_to_id(token);
    if (id === undefined) throw new ModelFolderError(`${where}: the post-processor adds "${token}", which is not in the vocabulary`, source);
    return id;
  };
  const prefix = tokens.slice(0, at).map(toId);
  const suffix = tokens.slice(at + 1).map(toId);

  const probe = 'a photo of a cathédrale 1';
  const full: number[] = tokenizer.encode(probe).ids;
  const bare: number[] = tokenizer.encode(probe, { add_special_tokens: false }).ids;
  const expected = [...prefix, ...bare, ...suffix];
  if (full.length !== expected.length || full.some((id, i) => id !== expected[i])) {
    throw new ModelFolderError(
      `${where}: the post-processor's special tokens could not be worked out (got ${JSON.stringify(full)}, expected ${JSON.stringify(expected)})`,
      source,
    );
  }
  return { prefix, suffix };
}

function resolvePadId(tokenizer: Tokenizer, config: Json, opts: TextTokenizerOptions, where: string, source?: string): number {
  if (opts.padTokenId !== undefined) {
    if (!Number.isInteger(opts.padTokenId) || opts.padTokenId < 0) {
      throw new RangeError(`padTokenId must be a non-negative integer, got ${opts.padTokenId}`);
    }
    return opts.padTokenId;
  }
  const padToken = config.pad_token;
  if (typeof padToken === 'string') {
    const id = tokenizer.token_to_id(padToken);
    if (id === undefined) throw new ModelFolderError(`${where}: tokenizer_config's pad token "${padToken}" is not in the vocabulary`, source);
    return id;
  }
  return 0;
}
