import { embeddingOutput, l2Normalise, loadSession, releaseOnFailure, type LoadedSession, type PlainTensor, type SessionOptions, type TensorInfo } from './session.ts';
import { TextTokenizer } from './tokenizer/text-tokenizer.ts';
import { LruCache } from '../common/index.ts';
import { ModelFolderError, type ModelConfig, type TokenizedBatch } from './types.ts';
import { TEXT_EMBEDDING_OUTPUTS } from './validate.ts';
import { fixedBatchOf, floatOutput, plan } from './tower-io.ts';

/** Texts per onnxruntime call where the export leaves the batch free: bounds a call's memory (label prompts come by the hundred). */
export const TEXTS_PER_CALL = 64;

export interface TextEncoderOptions extends SessionOptions {
  /** Query embeddings kept in memory. */
  cacheSize: number;
}

/**
 * The text tower. CLIP's text transformer is causal and pools at the end token, so
 * padding after it changes nothing: when the export's sequence axis is dynamic, a query
 * runs at its real length instead of 77 tokens (same embedding, far less work).
 */
export class TextEncoder {
  private readonly cache: LruCache<string, Float32Array>;
  /** Whether queries run at their real length: the sequence axis is dynamic and the tower pools at the end token. */
  readonly dynamicLength: boolean;
  /** Set when the export fixes the batch (Immich's take one text per call). */
  readonly fixedBatch: number | undefined;

  private constructor(
    private readonly loaded: LoadedSession,
    private readonly ids: TensorInfo,
    private readonly mask: TensorInfo | undefined,
    private readonly output: TensorInfo,
    private readonly tokenizer: TextTokenizer,
    readonly config: ModelConfig,
    cacheSize: number,
  ) {
    this.cache = new LruCache(cacheSize);
    const seq = ids.shape[1];
    this.dynamicLength = (typeof seq !== 'number' || seq < 0) && !config.text.padToContextLength;
    this.fixedBatch = fixedBatchOf(ids);
  }

  get dim(): number {
    return this.config.projectionDim;
  }

  static async load(
    modelFile: string,
    tokenizerFile: string,
    tokenizerConfigFile: string | undefined,
    config: ModelConfig,
    opts: TextEncoderOptions,
  ): Promise<TextEncoder> {
    return TextEncoder.fromSession(await loadSession(modelFile, opts), tokenizerFile, tokenizerConfigFile, config, opts);
  }

  /** The tower on a session already open (released here if the model turns out unusable). */
  static fromSession(
    loaded: LoadedSession,
    tokenizerFile: string,
    tokenizerConfigFile: string | undefined,
    config: ModelConfig,
    opts: Pick<TextEncoderOptions, 'cacheSize'>,
  ): Promise<TextEncoder> {
    return releaseOnFailure(loaded, () => TextEncoder.build(loaded, tokenizerFile, tokenizerConfigFile, config, opts.cacheSize));
  }

  private static async build(loaded: LoadedSession, tokenizerFile: string, tokenizerConfigFile: string | undefined, config: ModelConfig, cacheSize: number): Promise<TextEncoder> {
    const modelFile = loaded.file;
    const ints = loaded.inputs.filter((i) => i.shape.length === 2 && /^u?int(32|64)$/.test(i.type));
    const ids = ints.find((i) => /input_ids|text|tokens/.test(i.name)) ?? ints.find((i) => !/mask/.test(i.name));
    if (!ids) {
      throw new ModelFolderError(
        `${modelFile}: no token-id input of rank 2 (inputs: ${loaded.inputs.map((i) => `${i.name}:${i.type}[${i.shape.join(',')}]`).join(', ')})`,
        modelFile,
      );
    }
    const mask = ints.find((i) => i !== ids && /mask/.test(i.name));
    const output = embeddingOutput(loaded, TEXT_EMBEDDING_OUTPUTS);
    const tokenizer = await TextTokenizer.fromFiles(tokenizerFile, tokenizerConfigFile, {
      contextLength: config.text.contextLength,
      padTokenId: config.text.padTokenId,
      normalisation: config.text.normalisation,
    });
    const encoder = new TextEncoder(loaded, ids, mask, output, tokenizer, config, cacheSize);
    const [vector] = await encoder.embed(['warm up']);
    if (vector!.length !== config.projectionDim) {
      throw new ModelFolderError(`${modelFile}: the text embedding has ${vector!.length} dimensions, the model config says ${config.projectionDim}`, modelFile);
    }
    return encoder;
  }

  tokenize(texts: string[], pad: 'longest' | 'max' = this.dynamicLength ? 'longest' : 'max'): TokenizedBatch {
    return this.tokenizer.encode(texts, { pad });
  }

  /** L2-normalised embeddings, one per text; repeated texts come from the cache. */
  async embed(texts: string[]): Promise<Float32Array[]> {
    const out = new Array<Float32Array | undefined>(texts.length);
    const missing: number[] = [];
    texts.forEach((text, i) => {
      const hit = this.cache.get(text);
      if (hit) out[i] = hit;
      else missing.push(i);
    });
    // Tokenized a call at a time, so a call padded to its longest text is not padded to the longest of all.
    for (const { from, size } of plan(missing.length, TEXTS_PER_CALL, this.fixedBatch)) {
      const part = missing.slice(from, from + size);
      const vectors = await this.run(this.tokenize(part.map((i) => texts[i]!)));
      part.forEach((i, k) => {
        out[i] = vectors[k]!;
        this.cache.set(texts[i]!, vectors[k]!);
      });
    }
    return out as Float32Array[];
  }

  /**
   * Runs token ids through the tower, as given (no cache): for tests and benchmarks of padding.
   * A fixed-batch export gets its batch exactly: rows are split, and a short call is filled
   * with copies of its first row whose outputs are dropped.
   */
  async run(batch: TokenizedBatch): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    const { seqLen } = batch;
    for (const { from, size, padded } of plan(batch.batch, batch.batch, this.fixedBatch)) {
      const rows = (values: Int32Array) => {
        const part = new Int32Array(padded * seqLen);
        part.set(values.subarray(from * seqLen, (from + size) * seqLen));
        for (let r = size; r < padded; r++) part.copyWithin(r * seqLen, 0, seqLen);
        return part;
      };
      const whole = from === 0 && padded === batch.batch;
      const feeds: Record<string, PlainTensor> = {
        [this.ids.name]: toTensor(whole ? batch.ids : rows(batch.ids), this.ids.type, padded, seqLen),
      };
      if (this.mask) feeds[this.mask.name] = toTensor(whole ? batch.attentionMask : rows(batch.attentionMask), this.mask.type, padded, seqLen);
      const result = await this.loaded.run(feeds, [this.output.name]);
      const embeddings = result[this.output.name]!;
      out.push(...l2Normalise(floatOutput(embeddings, this.output.name), embeddings.dims[embeddings.dims.length - 1]!).slice(0, size));
    }
    return out;
  }

  get cacheSize(): number {
    return this.cache.size;
  }

  async close(): Promise<void> {
    await this.loaded.release();
  }
}

function toTensor(values: Int32Array, type: string, batch: number, seqLen: number): PlainTensor {
  if (type === 'int64') return { type: 'int64', data: BigInt64Array.from(values, (v) => BigInt(v)), dims: [batch, seqLen] };
  return { type: 'int32', data: values, dims: [batch, seqLen] };
}
