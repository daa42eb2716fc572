import { embeddingOutput, l2Normalise, loadSession, releaseOnFailure, type LoadedSession, type SessionOptions, type TensorInfo } from './session.ts';
import { preprocessImages, preprocessRegions, type ImageInput } from './preprocess.ts';
import { ModelFolderError, type ModelConfig, type Region } from './types.ts';
import { IMAGE_EMBEDDING_OUTPUTS } from './validate.ts';

export interface ImageEncoderOptions extends SessionOptions {
  /** Images per onnxruntime call. */
  batchSize: number;
}

/**
 * The image tower: pixels in, L2-normalised embeddings out. Preprocessing of the next
 * batch (sharp, on libuv's threads) overlaps with inference of the current one.
 */
export class ImageEncoder {
  private constructor(
    private readonly loaded: LoadedSession,
    private readonly input: TensorInfo,
    private readonly output: TensorInfo,
    readonly config: ModelConfig,
    private readonly batchSize: number,
  ) {}

  get dim(): number {
    return this.config.projectionDim;
  }

  get provider(): 'cpu' | 'cuda' {
    return this.loaded.provider;
  }

  static async load(modelFile: string, config: ModelConfig, opts: ImageEncoderOptions): Promise<ImageEncoder> {
    return ImageEncoder.fromSession(await loadSession(modelFile, opts), config, opts);
  }

  /** The tower on a session already open (released here if the model turns out unusable). */
  static fromSession(loaded: LoadedSession, config: ModelConfig, opts: Pick<ImageEncoderOptions, 'batchSize'>): Promise<ImageEncoder> {
    return releaseOnFailure(loaded, () => ImageEncoder.build(loaded, config, opts.batchSize));
  }

  private static async build(loaded: LoadedSession, config: ModelConfig, batchSize: number): Promise<ImageEncoder> {
    const modelFile = loaded.file;
    const input = loaded.inputs.find((i) => i.shape.length === 4 && i.type.startsWith('float'));
    if (!input) {
      throw new ModelFolderError(
        `${modelFile}: no image input of rank 4 (inputs: ${loaded.inputs.map((i) => `${i.name}[${i.shape.join(',')}]`).join(', ')})`,
        modelFile,
      );
    }
    const output = embeddingOutput(loaded, IMAGE_EMBEDDING_OUTPUTS);
    const encoder = new ImageEncoder(loaded, input, output, config, Math.max(1, batchSize));
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

  /** One embedding per image (or per image region when `regions[i]` is given), in order. */
  async embed(images: ImageInput[], regions?: Array<Region | undefined>): Promise<Float32Array[]> {
    const chunks: Array<[number, number]> = [];
    for (let start = 0; start < images.length; start += this.batchSize) chunks.push([start, Math.min(images.length, start + this.batchSize)]);
    const out: Float32Array[] = [];
    let next = chunks.length ? this.prepare(images, regions, chunks[0]!) : undefined;
    for (let c = 0; c < chunks.length; c++) {
      const pixels = await next!;
      next = c + 1 < chunks.length ? this.prepare(images, regions, chunks[c + 1]!) : undefined;
      out.push(...(await this.infer(pixels, chunks[c]![1] - chunks[c]![0], true)));
    }
    return out;
  }

  /** Several regions of one image in one batch: the image is decoded once. */
  async embedRegions(image: ImageInput, regions: Region[]): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    for (let start = 0; start < regions.length; start += this.batchSize) {
      const part = regions.slice(start, start + this.batchSize);
      out.push(...(await this.infer(await preprocessRegions(image, this.config.image, part), part.length, true)));
    }
    return out;
  }

  private prepare(images: ImageInput[], regions: Array<Region | undefined> | undefined, [from, to]: [number, number]): Promise<Float32Array> {
    return preprocessImages(images.slice(from, to), this.config.image, regions?.slice(from, to));
  }

  /** Runs preprocessed [batch, 3, S, S] pixels through the tower; the pixels stay the caller's. */
  run(pixels: Float32Array, batch: number): Promise<Float32Array[]> {
    return this.infer(pixels, batch, false);
  }

  /** `handOver`: the pixels are this encoder's own, so they move to the session's thread instead of being copied. */
  private async infer(pixels: Float32Array, batch: number, handOver: boolean): Promise<Float32Array[]> {
    const s = this.config.image.size;
    const result = await this.loaded.run({ [this.input.name]: { type: 'float32', data: pixels, dims: [batch, 3, s, s] } }, [this.output.name], { transfer: handOver });
    const embeddings = result[this.output.name]!;
    const dim = embeddings.dims[embeddings.dims.length - 1]!;
    return l2Normalise(embeddings.data as Float32Array, dim);
  }

  async close(): Promise<void> {
    await this.loaded.release();
  }
}
