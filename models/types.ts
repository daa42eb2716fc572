/** Shapes shared by the parts of models/: folder layouts, configuration, preprocessing, tokenization. */
import type { TextNormalisation } from './tokenizer/text-normalisation.ts';
import { RepriseError } from '../common/index.ts';

/** Which export a model folder comes from. */
export type ModelLayout = 'huggingface' | 'openclip';

/** The files of one model folder, resolved to absolute paths. */
export interface ModelFiles {
  dir: string;
  layout: ModelLayout;
  /** The ONNX file of the image tower chosen for this run (fp32, quantized or fp16 variant). */
  visionModel: string;
  textModel: string;
  /** Variants found beside the chosen ones, e.g. { quantized: '/…/vision_model_quantized.onnx' }. */
  visionVariants: Record<string, string>;
  textVariants: Record<string, string>;
  /** config.json (projection dim, text context length, …). */
  config: string;
  /** preprocessor_config.json (Hugging Face) or visual/preprocess_cfg.json (OpenCLIP). */
  preprocessConfig: string;
  tokenizer: string;
  /** tokenizer_config.json, when present (Hugging Face). */
  tokenizerConfig?: string;
}

/** How images are turned into model input, as the model's own config says. */
export interface ImagePreprocessConfig {
  /** Side of the square model input (CLIP ViT-B/32: 224). */
  size: number;
  /**
   * 'shortest-edge-crop': resize the short side to `size`, then centre-crop (CLIP);
   * 'squash': resize both sides to `size` (SigLIP).
   */
  resizeMode: 'shortest-edge-crop' | 'squash';
  /**
   * 'shortest-edge-crop' only: the short side is resized to this, then the centre `size`×`size`
   * is cut (ImageNet classifiers: 256 then 224). Default: `size` (CLIP crops what it resized).
   */
  resizeShortSide?: number;
  resample: 'bicubic' | 'bilinear' | 'nearest';
  /** Per-channel mean and std in RGB order, on values scaled to 0..1. */
  mean: [number, number, number];
  std: [number, number, number];
}

export interface TextConfig {
  /** Maximum tokens, start and end included (CLIP: 77). */
  contextLength: number;
  /** Token used to pad (CLIP: 0 in OpenAI's ids, 49407 in some exports). */
  padTokenId: number;
  /**
   * Run every text padded to contextLength. CLIP's causal tower pools at the end token, so
   * padding changes nothing and queries can run at their real length; SigLIP pools at the
   * last position and must see the full, padded sequence.
   */
  padToContextLength: boolean;
  /** Cleaning the model's own tokenizer does before tokenizing (SigLIP, OpenCLIP's tokenizer_kwargs.clean). */
  normalisation: TextNormalisation;
}

/** What every image tower needs to know: the vector size, how images are prepared, the id recorded with the vectors. */
export interface EncoderConfig {
  /** Dimension of the embedding space (CLIP's joint space, or a classifier's pooled features). */
  projectionDim: number;
  image: ImagePreprocessConfig;
  /** A name for the index and the journal, e.g. "openai/clip-vit-base-patch32". */
  modelId: string;
}

/** A CLIP-family model: both towers. */
export interface ModelConfig extends EncoderConfig {
  text: TextConfig;
}

/** A box in source-image pixels: x, y from the top left, width, height. */
export interface Region {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** Token ids of a batch, padded to the longest text in the batch (or to the context length). */
export interface TokenizedBatch {
  /** Row-major [batch, seqLen]. */
  ids: Int32Array;
  /** 1 for real tokens, 0 for padding, same shape as ids. */
  attentionMask: Int32Array;
  batch: number;
  seqLen: number;
  /** Real length of each text, start and end tokens included. */
  lengths: number[];
}

export class ModelFolderError extends RepriseError {
  override name = 'ModelFolderError';
  constructor(message: string, readonly file?: string) {
    super(message);
  }
}
