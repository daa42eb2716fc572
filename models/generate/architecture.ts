/** The shapes of the CLIP towers the generator builds, and the named sizes it knows. */

export interface VisionTowerConfig {
  /** Side of the square input in pixels. */
  imageSize: number;
  patchSize: number;
  width: number;
  layers: number;
  heads: number;
  /** Columns of `proj`, i.e. the joint embedding dimension. */
  outputDim: number;
}

export interface TextTowerConfig {
  /** Rows of positional_embedding: the longest token sequence the tower takes. */
  contextLength: number;
  vocabSize: number;
  width: number;
  layers: number;
  heads: number;
  /** Columns of `text_projection`. */
  outputDim: number;
}

/** Both towers; their output dimensions are the shared embedding dimension. */
export interface ClipArchitecture {
  embedDim: number;
  vision: Omit<VisionTowerConfig, 'outputDim'>;
  text: Omit<TextTowerConfig, 'outputDim'>;
}

export type CustomSize = ClipArchitecture;

/**
 * How a tower's inputs and outputs are declared, as exports differ: Immich's fix the batch at 1;
 * fp16 exports converted without keep_io_types take and return float16 tensors.
 */
export interface TowerIo {
  /** A fixed batch size on the first axis; dynamic ('batch') when absent. */
  batch?: number;
  /** float16 pixels in and embeddings out (token ids stay integers); the graph computes in float32 between two Casts. */
  float16?: boolean;
}
export type NamedSize = 'tiny' | 'vit-b-32';

/** OpenAI's BPE vocabulary: 512 byte tokens (bare and end-of-word), 48,894 merges, start and end: 49,408 ids. */
export const CLIP_VOCAB_SIZE = 49408;
export const CLIP_CONTEXT_LENGTH = 77;

export const CLIP_SIZES: Record<NamedSize, ClipArchitecture> = {
  // The real vocabulary and context are kept so real token ids run through it; the
  // token embedding (49,408 × width) is therefore most of its bytes.
  tiny: {
    embedDim: 32,
    vision: { imageSize: 64, patchSize: 8, width: 32, layers: 2, heads: 2 },
    text: { contextLength: CLIP_CONTEXT_LENGTH, vocabSize: CLIP_VOCAB_SIZE, width: 32, layers: 2, heads: 2 },
  },
  // OpenAI ViT-B/32, as in clip.model.build_model for "ViT-B/32".
  'vit-b-32': {
    embedDim: 512,
    vision: { imageSize: 224, patchSize: 32, width: 768, layers: 12, heads: 12 },
    text: { contextLength: CLIP_CONTEXT_LENGTH, vocabSize: CLIP_VOCAB_SIZE, width: 512, layers: 12, heads: 8 },
  },
};

export function resolveSize(size: NamedSize | CustomSize): ClipArchitecture {
  const arch = typeof size === 'string' ? CLIP_SIZES[size] : size;
  if (!arch) throw new Error(`unknown model size ${String(size)} (known: ${Object.keys(CLIP_SIZES).join(', ')})`);
  validateArchitecture(arch);
  return arch;
}

export function visionTower(arch: ClipArchitecture): VisionTowerConfig {
  return { ...arch.vision, outputDim: arch.embedDim };
}

export function textTower(arch: ClipArchitecture): TextTowerConfig {
  return { ...arch.text, outputDim: arch.embedDim };
}

function positiveInteger(value: number, what: string): void {
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${what} must be a positive integer, got ${value}`);
}

export function validateArchitecture(arch: ClipArchitecture): void {
  positiveInteger(arch.embedDim, 'embedDim');
  const { vision, text } = arch;
  for (const [k, v] of Object.entries(vision)) positiveInteger(v, `vision.${k}`);
  for (const [k, v] of Object.entries(text)) positiveInteger(v, `text.${k}`);
  if (vision.imageSize % vision.patchSize !== 0) {
    throw new Error(`vision.imageSize ${vision.imageSize} is not a multiple of vision.patchSize ${vision.patchSize}`);
  }
  if (vision.width % vision.heads !== 0) throw new Error(`vision.width ${vision.width} is not a multiple of vision.heads ${vision.heads}`);
  if (text.width % text.heads !== 0) throw new Error(`text.width ${text.width} is not a multiple of text.heads ${text.heads}`);
}
