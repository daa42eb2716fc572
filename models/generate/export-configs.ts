/**
 * The JSON files that sit beside the ONNX towers in real exports, filled in for a
 * generated architecture. Key names and shapes follow the real files (Hugging Face's
 * openai/clip-vit-base-patch32 as Xenova re-exports it, Immich's ViT-B-32__openai), so
 * code that reads them is exercised as it will be on downloaded models.
 */
import type { ClipArchitecture } from './architecture.ts';

/** OpenAI's normalisation, used by every CLIP export. */
export const CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073] as const;
export const CLIP_STD = [0.26862954, 0.26130258, 0.27577711] as const;

export const START_TOKEN = '<|startoftext|>';
export const END_TOKEN = '<|endoftext|>';

export interface GeneratedMark {
  size: string;
  seed: number;
}

/**
 * Not in real exports: a key that readers ignore and that tells a person looking at the
 * folder that these are random weights, whatever the file names suggest.
 */
function mark(m: GeneratedMark): Record<string, unknown> {
  return { reprise_generated: { size: m.size, seed: m.seed, weights: 'random; not a trained model' } };
}

/** config.json, a transformers CLIPConfig. */
export function huggingFaceConfig(arch: ClipArchitecture, m: GeneratedMark): object {
  const { vision, text, embedDim } = arch;
  return {
    _name_or_path: `reprise-generated/clip-${m.size}`,
    architectures: ['CLIPModel'],
    initializer_factor: 1.0,
    logit_scale_init_value: 2.6592,
    model_type: 'clip',
    projection_dim: embedDim,
    text_config: {
      attention_dropout: 0.0,
      // transformers' legacy CLIP values, kept as the real config has them: they are not
      // the tokenizer's ids (49406, 49407), which only tokenizer.json tells.
      bos_token_id: 0,
      eos_token_id: 2,
      pad_token_id: 1,
      hidden_act: 'quick_gelu',
      hidden_size: text.width,
      initializer_factor: 1.0,
      initializer_range: 0.02,
      intermediate_size: 4 * text.width,
      layer_norm_eps: 1e-5,
      max_position_embeddings: text.contextLength,
      model_type: 'clip_text_model',
      num_attention_heads: text.heads,
      num_hidden_layers: text.layers,
      projection_dim: embedDim,
      vocab_size: text.vocabSize,
    },
    vision_config: {
      attention_dropout: 0.0,
      hidden_act: 'quick_gelu',
      hidden_size: vision.width,
      image_size: vision.imageSize,
      initializer_factor: 1.0,
      initializer_range: 0.02,
      intermediate_size: 4 * vision.width,
      layer_norm_eps: 1e-5,
      model_type: 'clip_vision_model',
      num_attention_heads: vision.heads,
      num_channels: 3,
      num_hidden_layers: vision.layers,
      patch_size: vision.patchSize,
      projection_dim: embedDim,
    },
    torch_dtype: 'float32',
    transformers_version: '4.40.0',
    ...mark(m),
  };
}

/** preprocessor_config.json, a CLIPImageProcessor (resample 3 is PIL's bicubic). */
export function huggingFacePreprocessorConfig(arch: ClipArchitecture): object {
  const s = arch.vision.imageSize;
  return {
    crop_size: { height: s, width: s },
    do_center_crop: true,
    do_convert_rgb: true,
    do_normalize: true,
    do_rescale: true,
    do_resize: true,
    feature_extractor_type: 'CLIPFeatureExtractor',
    image_mean: [...CLIP_MEAN],
    image_processor_type: 'CLIPImageProcessor',
    image_std: [...CLIP_STD],
    resample: 3,
    rescale_factor: 1 / 255,
    size: { shortest_edge: s },
  };
}

/** tokenizer_config.json of a CLIPTokenizer; Immich ships the same beside textual/tokenizer.json. */
export function tokenizerConfig(arch: ClipArchitecture): object {
  return {
    add_prefix_space: false,
    bos_token: START_TOKEN,
    clean_up_tokenization_spaces: true,
    do_lower_case: true,
    eos_token: END_TOKEN,
    errors: 'replace',
    model_max_length: arch.text.contextLength,
    pad_token: END_TOKEN,
    tokenizer_class: 'CLIPTokenizer',
    unk_token: END_TOKEN,
  };
}

/** config.json of an OpenCLIP export (open_clip's model config, as Immich writes it). */
export function openClipConfig(arch: ClipArchitecture, m: GeneratedMark): object {
  const { vision, text, embedDim } = arch;
  return {
    embed_dim: embedDim,
    vision_cfg: { image_size: vision.imageSize, layers: vision.layers, width: vision.width, patch_size: vision.patchSize },
    text_cfg: { context_length: text.contextLength, vocab_size: text.vocabSize, width: text.width, heads: text.heads, layers: text.layers },
    ...mark(m),
  };
}

/**
 * visual/preprocess_cfg.json (open_clip's PreprocessCfg). Current exports write size as
 * [h, w]; older ones as a bare number, so readers should take both.
 */
export function openClipPreprocessConfig(arch: ClipArchitecture): object {
  const s = arch.vision.imageSize;
  return {
    size: [s, s],
    mode: 'RGB',
    mean: [...CLIP_MEAN],
    std: [...CLIP_STD],
    interpolation: 'bicubic',
    resize_mode: 'shortest',
    fill_color: 0,
  };
}
