import type { ModelLayout } from './types.ts';

/** Weights a model folder may offer for each tower. */
export type ModelVariant = 'fp32' | 'fp16' | 'quantized';
export const MODEL_VARIANTS: readonly ModelVariant[] = ['fp32', 'fp16', 'quantized'];

/** A model `reprise models pull` knows how to fetch. */
export interface RegistryEntry {
  /** What `models.name` and `reprise models pull <name>` take. */
  name: string;
  /** Hugging Face Hub repository, "owner/name". */
  repo: string;
  /**
   * The commit pulled: files and checksums are those of this commit, whatever the repository's
   * main branch becomes (these repositories have been re-uploaded with other outputs and
   * tokenizers). A branch only where no full commit id could be checked when the entry was
   * written; a pull then resolves the branch to its commit first, fetches everything at that
   * commit and records it in the pull manifest and the model id (or refuses, if the hub does not say).
   */
  revision: string;
  layout: ModelLayout;
  /** Files every variant needs, relative to the repository root. */
  commonFiles: string[];
  /** The two ONNX towers of each variant the repository offers. */
  variantFiles: Partial<Record<ModelVariant, string[]>>;
  /**
   * Folders whose every file is fetched as well. Immich's exports keep large towers'
   * weights as ONNX external data beside model.onnx, under names that differ from one
   * upload to the next, so they cannot be listed here.
   */
  weightFolders?: string[];
  /** Dimension of the joint embedding space. */
  embeddingDim: number;
  /** Side of the square image the vision tower takes. */
  imageSize: number;
  /** Languages the text tower was trained for, as ISO 639-1 codes or a short phrase. */
  languages: string[];
  /** Approximate download per variant in MB (both towers and tokenizer), from the hub listing when this entry was written. */
  approxDownloadMB: Partial<Record<ModelVariant, number>>;
  licence: string;
  /** The model's page, for its card and licence. */
  sourceUrl: string;
  /** One line: why someone would pick this one. */
  whenToChoose: string;
}

const HF_COMMON = ['config.json', 'preprocessor_config.json', 'tokenizer.json', 'tokenizer_config.json'];

function hfTowers(): Record<ModelVariant, string[]> {
  return {
    fp32: ['onnx/vision_model.onnx', 'onnx/text_model.onnx'],
    quantized: ['onnx/vision_model_quantized.onnx', 'onnx/text_model_quantized.onnx'],
    fp16: ['onnx/vision_model_fp16.onnx', 'onnx/text_model_fp16.onnx'],
  };
}

export const MODEL_REGISTRY: readonly RegistryEntry[] = [
  {
    name: 'clip-vit-base-patch32',
    repo: 'Xenova/clip-vit-base-patch32',
    // "Upload fp16 ONNX weights": the first commit with fp32, quantized and fp16 towers.
    revision: '4c1807b705b1d015fb032789cc4d221b23025a6f',
    layout: 'huggingface',
    commonFiles: HF_COMMON,
    variantFiles: hfTowers(),
    embeddingDim: 512,
    imageSize: 224,
    languages: ['en'],
    approxDownloadMB: { fp32: 610, quantized: 156, fp16: 306 },
    licence: 'MIT (OpenAI CLIP weights)',
    sourceUrl: 'https://huggingface.co/Xenova/clip-vit-base-patch32',
    whenToChoose: 'The default: smallest and fastest, good English search; start here.',
  },
  {
    name: 'clip-vit-base-patch16',
    repo: 'Xenova/clip-vit-base-patch16',
    // "Upload fp16 ONNX weights" for the text tower: the newest commit whose full id could be checked
    // offline. The next one (9a1940e, known here only by its short id) added vision_model_fp16.onnx,
    // so this entry offers fp32 and quantized; a half-precision B/16 is an export away (docs/models.md).
    revision: '0c07da51292e02b474ac0db347e3bbb06fa70acb',
    layout: 'huggingface',
    commonFiles: HF_COMMON,
    variantFiles: { fp32: hfTowers().fp32, quantized: hfTowers().quantized },
    embeddingDim: 512,
    imageSize: 224,
    languages: ['en'],
    approxDownloadMB: { fp32: 600, quantized: 153 },
    licence: 'MIT (OpenAI CLIP weights)',
    sourceUrl: 'https://huggingface.co/Xenova/clip-vit-base-patch16',
    whenToChoose: 'Finer detail than patch32 (small objects, region search) for roughly 4x the image-encoding compute.',
  },
  {
    name: 'siglip-base-patch16-224',
    repo: 'Xenova/siglip-base-patch16-224',
    // "Upload fp16 ONNX weights" (the vision tower's): the first commit with every variant of both towers.
    revision: '294847d6b5fe86c91330269da98ce112d6c75e7e',
    layout: 'huggingface',
    commonFiles: HF_COMMON,
    variantFiles: hfTowers(),
    embeddingDim: 768,
    imageSize: 224,
    languages: ['en'],
    approxDownloadMB: { fp32: 816, quantized: 213, fp16: 410 },
    licence: 'Apache-2.0 (Google SigLIP)',
    sourceUrl: 'https://huggingface.co/Xenova/siglip-base-patch16-224',
    whenToChoose: 'Better English retrieval than CLIP at the same image size; larger vectors (768) and download.',
  },
  {
    name: 'xlm-roberta-large-vit-b-32',
    repo: 'immich-app/XLM-Roberta-Large-Vit-B-32',
    // "Delete textual/7e068af8-…" (July 2024): the last upload with the earlier external-data files
    // deleted. Its parents (cbc8cdf, a2296cc…, b84fd07…) still hold them, which a pull of every file
    // in textual/ would fetch too (gigabytes).
    revision: 'ffb654c8551665771aee2dc00057651576fdea2c',
    layout: 'openclip',
    commonFiles: ['config.json', 'visual/preprocess_cfg.json', 'textual/tokenizer.json', 'textual/tokenizer_config.json'],
    variantFiles: { fp32: ['visual/model.onnx', 'textual/model.onnx'] },
    weightFolders: ['visual', 'textual'],
    embeddingDim: 512,
    imageSize: 224,
    languages: ['multilingual: 48 trained, ~100 through XLM-R'],
    approxDownloadMB: { fp32: 2600 },
    licence: 'MIT (M-CLIP text tower, OpenAI CLIP image tower)',
    sourceUrl: 'https://huggingface.co/immich-app/XLM-Roberta-Large-Vit-B-32',
    whenToChoose: 'Queries in languages other than English; image vectors match OpenAI ViT-B/32, text tower is large (~2.2 GB).',
  },
];

/** A full commit id, as opposed to a branch or tag that may move. */
export function isPinned(entry: RegistryEntry): boolean {
  return /^[0-9a-f]{40}$/.test(entry.revision);
}

export function findModel(name: string): RegistryEntry | undefined {
  const wanted = name.trim().toLowerCase();
  return MODEL_REGISTRY.find((m) => m.name === wanted || m.repo.toLowerCase() === wanted);
}

/** Variants an entry offers, in the order people usually want them. */
export function variantsOf(entry: RegistryEntry): ModelVariant[] {
  return MODEL_VARIANTS.filter((v) => entry.variantFiles[v]?.length);
}
