import { embeddingOutput, l2Normalise, loadSession, releaseOnFailure, type LoadedSession, type SessionOptions, type TensorInfo } from './session.ts';
import { decodeToRgb, preprocessImages, preprocessRegions, type ImageInput } from './preprocess.ts';
import { fixedBatchOf, floatInput, floatOutput, plan } from './tower-io.ts';
import { ModelFolderError, type EncoderConfig, type Region } from './types.ts';
import { IMAGE_EMBEDDING_OUTPUTS } from './validate.ts';

export interface ImageEncoderOptions extends SessionOptions {
  /** Images per onnxruntime call. */
  batchSize: number;
  /** The output read as the embedding, where the name rules of validate.ts would not find it (a classifier's features). */
  embeddingOutput?: string;
  /** A classifier's class scores, read with every embedding. */
  logitsOutput?: string;
}

/** An image's embedding, and its class scores where the model is a classifier. */
export interface EmbeddedImage {
  /** L2-normalised. */
  vector: Float32Array;
  /** Raw scores, one per class, as the model gives them. */
  logits?: Float32Array;
}

/**
 * The image tower: pixels in, L2-normalised embeddings out. Preprocessing of the next
 * batch (sharp, on libuv's threads) overlaps with inference of the current one.
 */
export class ImageEncoder {
  /** Set when the export fixes the batch (Immich's take one image per call): every call then has exactly this many. */
  readonly fixedBatch: number | undefined;
  /** Images per onnxruntime call: the export's fixed batch, else models.batchSize. */
  readonly batchSize: number;

  private constructor(
    private readonly loaded: LoadedSession,
    private readonly input: TensorInfo,
    private readonly output: TensorInfo,
    private readonly logits: TensorInfo | undefined,
    readonly config: EncoderConfig,
    batchSize: number,
  ) {
    this.fixedBatch = fixedBatchOf(input);
    this.batchSize = this.fixedBatch ?? batchSize;
  }

  get dim(): number {
    return this.config.projectionDim;
  }

  get provider(): 'cpu' | 'cuda' {
    return this.loaded.provider;
  }

  static async load(modelFile: string, config: EncoderConfig, opts: ImageEncoderOptions): Promise<ImageEncoder> {
    return ImageEncoder.fromSession(await loadSession(modelFile, opts), config, opts);
  }

  /** The tower on a session already open (released here if the model turns out unusable). */
  static fromSession(
    loaded: LoadedSession,
    config: EncoderConfig,
    opts: Pick<ImageEncoderOptions, 'batchSize' | 'embeddingOutput' | 'logitsOutput'>,
  ): Promise<ImageEncoder> {
    return releaseOnFailure(loaded, () => ImageEncoder.build(loaded, config, opts));
  }

  private static async build(
    loaded: LoadedSession,
    config: EncoderConfig,
    opts: Pick<ImageEncoderOptions, 'batchSize' | 'embeddingOutput' | 'logitsOutput'>,
  ): Promise<ImageEncoder> {
    const modelFile = loaded.file;
    const input = loaded.inputs.find((i) => i.shape.length === 4 && i.type.startsWith('float'));
    if (!input) {
      throw new ModelFolderError(
        `${modelFile}: no image input of rank 4 (inputs: ${loaded.inputs.map((i) => `${i.name}[${i.shape.join(',')}]`).join(', ')})`,
        modelFile,
      );
    }
    const named = (name: string | undefined) => {
      if (name === undefined) return undefined;
      const found = loaded.outputs.find((o) => o.name === name);
      if (!found) throw new ModelFolderError(`${modelFile}: no output named ${name} (outputs: ${loaded.outputs.map((o) => o.name).join(', ')})`, modelFile);
      return found;
    };
    const output = named(opts.embeddingOutput) ?? embeddingOutput(loaded, IMAGE_EMBEDDING_OUTPUTS);
    const logits = named(opts.logitsOutput);
    const encoder = new ImageEncoder(loaded, input, output, logits, config, Math.max(1, opts.batchSize));
    await encoder.warmUp();
    return encoder;
  }

  /** The first run allocates and plans; doing it at load keeps it out of the first user's latency. */
  private async warmUp(): Promise<void> {
    const s = this.config.image.size;
    const [vector] = await this.run(new Float32Array(3 * s * s), 1);
    if (vector!.length !== this.dim) {
      throw new ModelFolderError(
        `${this.loaded.file}: the image embedding has ${vector!.length} dimensions, the model config says ${this.dim}`,
        this.loaded.file,
      );
    }
  }

  /** Whether embeddings come with class scores (an image classifier). */
  get hasLogits(): boolean {
    return this.logits !== undefined;
  }

  /** One embedding per image (or per image region when `regions[i]` is given), in order; one bad image fails the call. */
  async embed(images: ImageInput[], regions?: Array<Region | undefined>): Promise<Float32Array[]> {
    const chunks = plan(images.length, this.batchSize, undefined);
    const prepare = ({ from, size }: { from: number; size: number }) =>
      preprocessImages(images.slice(from, from + size), this.config.image, regions?.slice(from, from + size));
    const out: Float32Array[] = [];
    // Preprocessing of the next batch (sharp, on libuv's threads) overlaps inference of this one.
    let next = chunks.length ? prepare(chunks[0]!) : undefined;
    for (let c = 0; c < chunks.length; c++) {
      const pixels = await next!;
      next = c + 1 < chunks.length ? prepare(chunks[c + 1]!) : undefined;
      out.push(...(await this.infer(pixels, chunks[c]!.size, true)).map((e) => e.vector));
    }
    return out;
  }

  /**
   * One embedding (with class scores, for a classifier) or one error per image, in order: an image that cannot be decoded or
   * preprocessed gets its error and the others are embedded, each preprocessed once. An
   * inference failure is the model's, not an image's, and rejects the whole call.
   */
  async embedEach(images: ImageInput[]): Promise<Array<EmbeddedImage | Error>> {
    const chunks = plan(images.length, this.batchSize, undefined);
    const prepare = ({ from, size }: { from: number; size: number }) =>
      Promise.all(
        images.slice(from, from + size).map((image) =>
          preprocessImages([image], this.config.image).catch((err: unknown) => (err instanceof Error ? err : new Error(String(err)))),
        ),
      );
    const per = 3 * this.config.image.size * this.config.image.size;
    const out = new Array<EmbeddedImage | Error>(images.length);
    let next = chunks.length ? prepare(chunks[0]!) : undefined;
    for (let c = 0; c < chunks.length; c++) {
      const prepared = await next!;
      next = c + 1 < chunks.length ? prepare(chunks[c + 1]!) : undefined;
      const ok: number[] = [];
      prepared.forEach((p, i) => (p instanceof Error ? (out[chunks[c]!.from + i] = p) : ok.push(i)));
      if (!ok.length) continue;
      const pixels = new Float32Array(ok.length * per);
      ok.forEach((i, k) => pixels.set(prepared[i] as Float32Array, k * per));
      const vectors = await this.infer(pixels, ok.length, true);
      ok.forEach((i, k) => (out[chunks[c]!.from + i] = vectors[k]!));
    }
    return out;
  }

  /** Several regions of one image, decoding it once; as many per call as the export takes. */
  async embedRegions(image: ImageInput, regions: Region[]): Promise<Float32Array[]> {
    const chunks = plan(regions.length, this.batchSize, undefined);
    // Decoded once here when the regions take several calls (a fixed batch of 1 takes one call per region).
    const source = chunks.length > 1 && Buffer.isBuffer(image) ? await decodeToRgb(image) : image;
    const out: Float32Array[] = [];
    for (const { from, size } of chunks) {
      const part = regions.slice(from, from + size);
      out.push(...(await this.infer(await preprocessRegions(source, this.config.image, part), part.length, true)).map((e) => e.vector));
    }
    return out;
  }

  /** Runs preprocessed [batch, 3, S, S] pixels through the tower; the pixels stay the caller's. */
  async run(pixels: Float32Array, batch: number): Promise<Float32Array[]> {
    return (await this.infer(pixels, batch, false)).map((e) => e.vector);
  }

  /**
   * `handOver`: the pixels are this encoder's own, so they move to the session's thread instead
   * of being copied. A fixed-batch export gets its batch exactly: larger inputs are split,
   * smaller ones padded with zeros whose outputs are dropped.
   */
  private async infer(pixels: Float32Array, batch: number, handOver: boolean): Promise<EmbeddedImage[]> {
    const s = this.config.image.size;
    const per = 3 * s * s;
    // Splitting or padding a wrong-sized buffer would feed shifted images; onnxruntime names the mismatch otherwise.
    if (this.fixedBatch !== undefined && pixels.length !== batch * per) {
      throw new RangeError(`got ${pixels.length} pixel values for ${batch} images of 3×${s}×${s}`);
    }
    const out: EmbeddedImage[] = [];
    // A classifier whose vectors are its logits reads the one output twice: normalised, and raw.
    const outputs = this.logits && this.logits.name !== this.output.name ? [this.output.name, this.logits.name] : [this.output.name];
    for (const { from, size, padded } of plan(batch, batch, this.fixedBatch)) {
      let part = pixels;
      if (from !== 0 || padded !== batch) {
        part = new Float32Array(padded * per);
        part.set(pixels.subarray(from * per, (from + size) * per));
      }
      // A copy made here is ours to move; a float16 input is a new array in any case.
      const transfer = handOver || part !== pixels || this.input.type === 'float16';
      const feed = floatInput(part, this.input, [padded, 3, s, s]);
      const result = await this.loaded.run({ [this.input.name]: feed }, outputs, { transfer });
      const embeddings = result[this.output.name]!;
      const dim = embeddings.dims[embeddings.dims.length - 1]!;
      const vectors = l2Normalise(floatOutput(embeddings, this.output.name), dim).slice(0, size);
      if (!this.logits) {
        out.push(...vectors.map((vector) => ({ vector })));
        continue;
      }
      const scores = floatOutput(result[this.logits.name]!, this.logits.name);
      const classes = scores.length / padded;
      vectors.forEach((vector, i) => out.push({ vector, logits: scores.slice(i * classes, (i + 1) * classes) }));
    }
    return out;
  }

  async close(): Promise<void> {
    await this.loaded.release();
  }
}
