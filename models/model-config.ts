import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ModelFolderError, type ImagePreprocessConfig, type ModelConfig, type ModelFiles } from './types.ts';
import { MANIFEST_FILE } from './layout.ts';
import { readModelJson } from './read-json.ts';
import { NO_NORMALISATION, OPENCLIP_CLEAN, siglipNormalisation, type TextNormalisation } from './tokenizer/text-normalisation.ts';

type Json = Record<string, unknown>;

// transformers' and open_clip's own defaults, used only where a config leaves a key out,
// so that a folder reads the way the library it was exported from would read it.
const OPENAI_CLIP_MEAN: [number, number, number] = [0.48145466, 0.4578275, 0.40821073];
const OPENAI_CLIP_STD: [number, number, number] = [0.26862954, 0.26130258, 0.27577711];
const SIGLIP_MEAN_STD: [number, number, number] = [0.5, 0.5, 0.5];
const CLIP_CONTEXT_LENGTH = 77;
const SIGLIP_CONTEXT_LENGTH = 64;
const CLIP_PROJECTION_DIM = 512;
const SIGLIP_HIDDEN_SIZE = 768;
/** PIL resampling codes as transformers' preprocessor_config.json stores them. */
const PIL_RESAMPLE: Record<number, ImagePreprocessConfig['resample']> = { 0: 'nearest', 2: 'bilinear', 3: 'bicubic' };
const RESAMPLE_NAMES = new Set<ImagePreprocessConfig['resample']>(['nearest', 'bilinear', 'bicubic']);

/**
 * Reads what the encoders must know from a model folder's own configuration: the embedding
 * dimension, how images are resized and normalised, the text context length and pad token.
 * A value that is missing where no library default exists, or out of range, fails here
 * naming the file and the key, rather than as wrong embeddings later.
 */
export function readModelConfig(files: ModelFiles): ModelConfig {
  const config = readModelJson(files.config);
  const preprocess = readModelJson(files.preprocessConfig);
  const parsed = files.layout === 'huggingface' ? fromHuggingFace(files, config, preprocess) : fromOpenClip(files, config, preprocess);
  return {
    projectionDim: parsed.projectionDim,
    image: parsed.image,
    text: {
      contextLength: parsed.contextLength,
      padTokenId: readPadTokenId(files),
      padToContextLength: parsed.padToContextLength ?? false,
      normalisation: parsed.normalisation ?? NO_NORMALISATION,
    },
    modelId: modelIdOf(files, config),
  };
}

interface Parsed {
  projectionDim: number;
  contextLength: number;
  /** SigLIP pools at the last position, so its text must always be padded to the full length. */
  padToContextLength?: boolean;
  normalisation?: TextNormalisation;
  image: ImagePreprocessConfig;
}

function fromHuggingFace(files: ModelFiles, config: Json, pre: Json): Parsed {
  const modelType = typeof config.model_type === 'string' ? config.model_type : '';
  const processorType = String(pre.image_processor_type ?? pre.feature_extractor_type ?? '');
  const siglip = /siglip/i.test(modelType) || /siglip/i.test(processorType);
  const textCfg = objectAt(files.config, config, 'text_config');
  const visionCfg = objectAt(files.config, config, 'vision_config');

  // SigLIP has no projection layer: the pooled output is the embedding, so its width is the hidden size.
  let projectionDim: number;
  if (config.projection_dim !== undefined) projectionDim = positiveInt(files.config, 'projection_dim', config.projection_dim);
  else if (siglip) {
    const key = textCfg.hidden_size !== undefined ? 'text_config.hidden_size' : 'vision_config.hidden_size';
    projectionDim = positiveInt(files.config, key, textCfg.hidden_size ?? visionCfg.hidden_size ?? SIGLIP_HIDDEN_SIZE);
  } else if (modelType === 'clip') projectionDim = CLIP_PROJECTION_DIM;
  else throw bad(files.config, 'projection_dim', `is missing and model_type "${modelType}" has no known default`);

  let contextLength: number;
  if (textCfg.max_position_embeddings !== undefined) {
    contextLength = positiveInt(files.config, 'text_config.max_position_embeddings', textCfg.max_position_embeddings);
  } else if (siglip) contextLength = SIGLIP_CONTEXT_LENGTH;
  else if (modelType === 'clip') contextLength = CLIP_CONTEXT_LENGTH;
  else throw bad(files.config, 'text_config.max_position_embeddings', `is missing and model_type "${modelType}" has no known default`);

  const image = hfImage(files.preprocessConfig, pre, siglip);
  if (visionCfg.image_size !== undefined) {
    const declared = positiveInt(files.config, 'vision_config.image_size', visionCfg.image_size);
    if (declared !== image.size) {
      throw new ModelFolderError(
        `${files.config}: vision_config.image_size is ${declared} but ${files.preprocessConfig} prepares ${image.size}x${image.size} images; the two files come from different models`,
        files.config,
      );
    }
  }
  return { projectionDim, contextLength, image, padToContextLength: siglip, normalisation: siglip ? hfSiglipNormalisation(files) : undefined };
}

/** SiglipTokenizer canonicalizes every text and lowercases unless tokenizer_config says do_lower_case: false. */
function hfSiglipNormalisation(files: ModelFiles): TextNormalisation {
  const tc = files.tokenizerConfig ? readModelJson(files.tokenizerConfig) : {};
  const lower = tc.do_lower_case === undefined ? true : bool(files.tokenizerConfig!, 'do_lower_case', tc.do_lower_case);
  return siglipNormalisation(lower);
}

type SizeSpec = { kind: 'shortest'; side: number } | { kind: 'exact'; side: number };

function hfImage(file: string, pre: Json, siglip: boolean): ImagePreprocessConfig {
  if (pre.do_resize === false) throw bad(file, 'do_resize', 'is false: Reprise needs the model to say what size it takes');
  const size = hfSize(file, pre.size);
  // CLIP processors crop by default after a shortest-edge resize; SigLIP's resize to an exact size and never crop.
  const doCrop =
    pre.do_center_crop === undefined ? size.kind === 'shortest' || pre.crop_size !== undefined : bool(file, 'do_center_crop', pre.do_center_crop);
  const crop = doCrop && pre.crop_size !== undefined ? squareSide(file, 'crop_size', pre.crop_size) : undefined;

  let side: number;
  let resizeMode: ImagePreprocessConfig['resizeMode'];
  if (size.kind === 'exact') {
    if (crop !== undefined && crop !== size.side) {
      throw bad(file, 'crop_size', `is ${crop} but size is ${size.side}x${size.side}; resizing to one size and cropping to another is not supported`);
    }
    side = size.side;
    resizeMode = 'squash';
  } else {
    if (!doCrop) {
      throw bad(file, 'do_center_crop', `is false with size.shortest_edge ${size.side}: that gives non-square inputs, and Reprise feeds square ones`);
    }
    const cropSide = crop ?? size.side;
    if (cropSide !== size.side) {
      throw bad(
        file,
        'crop_size',
        `is ${cropSide} but the short side is resized to ${size.side}; Reprise resizes the short side to the model's input size and crops the centre, so both must be equal`,
      );
    }
    side = size.side;
    resizeMode = 'shortest-edge-crop';
  }

  const resample = resampleOf(file, 'resample', pre.resample ?? 3);
  const doNormalize = pre.do_normalize === undefined ? true : bool(file, 'do_normalize', pre.do_normalize);
  const defaults = siglip ? SIGLIP_MEAN_STD : undefined;
  let mean = doNormalize ? triple(file, 'image_mean', pre.image_mean ?? defaults ?? OPENAI_CLIP_MEAN) : ([0, 0, 0] as [number, number, number]);
  let std = doNormalize ? triple(file, 'image_std', pre.image_std ?? defaults ?? OPENAI_CLIP_STD, true) : ([1, 1, 1] as [number, number, number]);

  // ImagePreprocessConfig's mean/std apply to values scaled to 0..1; an export that rescales by
  // something other than 1/255 (or not at all) is folded into them so the arithmetic stays the same.
  const doRescale = pre.do_rescale === undefined ? true : bool(file, 'do_rescale', pre.do_rescale);
  const factor = doRescale ? positiveNumber(file, 'rescale_factor', pre.rescale_factor ?? 1 / 255) : 1;
  const k = factor * 255;
  if (Math.abs(k - 1) > 1e-6) {
    mean = mean.map((m) => m / k) as [number, number, number];
    std = std.map((s) => s / k) as [number, number, number];
  }
  return { size: side, resizeMode, resample, mean, std };
}

/** transformers has written `size` as an int (shortest edge), {shortest_edge}, or {height, width} over the years. */
function hfSize(file: string, size: unknown): SizeSpec {
  if (size === undefined) throw bad(file, 'size', 'is missing');
  if (typeof size === 'number') return { kind: 'shortest', side: positiveInt(file, 'size', size) };
  if (size && typeof size === 'object' && !Array.isArray(size)) {
    const s = size as Json;
    if (s.shortest_edge !== undefined) return { kind: 'shortest', side: positiveInt(file, 'size.shortest_edge', s.shortest_edge) };
    if (s.height !== undefined || s.width !== undefined) {
      const h = positiveInt(file, 'size.height', s.height);
      const w = positiveInt(file, 'size.width', s.width);
      if (h !== w) throw bad(file, 'size', `is ${w}x${h}; only square model inputs are supported`);
      return { kind: 'exact', side: h };
    }
  }
  throw bad(file, 'size', `is ${JSON.stringify(size)}; expected a number, {"shortest_edge": N} or {"height": N, "width": N}`);
}

function fromOpenClip(files: ModelFiles, config: Json, pre: Json): Parsed {
  const projectionDim = positiveInt(files.config, 'embed_dim', config.embed_dim);
  const textCfg = objectAt(files.config, config, 'text_cfg');
  const visionCfg = objectAt(files.config, config, 'vision_cfg');
  // open_clip and Immich both fall back to 77 where text_cfg leaves it out (M-CLIP, Hugging Face text towers).
  const contextLength =
    textCfg.context_length === undefined ? CLIP_CONTEXT_LENGTH : positiveInt(files.config, 'text_cfg.context_length', textCfg.context_length);

  const file = files.preprocessConfig;
  if (pre.size === undefined) throw bad(file, 'size', 'is missing');
  const side = squareSide(file, 'size', pre.size);
  const mode = pre.resize_mode ?? 'shortest';
  let resizeMode: ImagePreprocessConfig['resizeMode'];
  if (mode === 'shortest') resizeMode = 'shortest-edge-crop';
  else if (mode === 'squash') resizeMode = 'squash';
  else throw bad(file, 'resize_mode', `is ${JSON.stringify(mode)}; supported: "shortest" (resize and centre-crop), "squash"`);
  const resample = resampleOf(file, 'interpolation', pre.interpolation ?? 'bicubic');
  const mean = triple(file, 'mean', pre.mean ?? OPENAI_CLIP_MEAN);
  const std = triple(file, 'std', pre.std ?? OPENAI_CLIP_STD, true);

  if (visionCfg.image_size !== undefined) {
    const declared = squareSide(files.config, 'vision_cfg.image_size', visionCfg.image_size);
    if (declared !== side) {
      throw new ModelFolderError(
        `${files.config}: vision_cfg.image_size is ${declared} but ${file} prepares ${side}x${side} images; the two files come from different models`,
        files.config,
      );
    }
  }
  return {
    projectionDim,
    contextLength,
    image: { size: side, resizeMode, resample, mean, std },
    padToContextLength: openClipPadsToContext(textCfg),
    normalisation: openClipClean(files.config, textCfg),
  };
}

/**
 * Whether the text tower must see every text padded to its context length. OpenAI CLIP's causal
 * tower pools at the end token (pool_type "argmax", the default), so padding after it changes
 * nothing; SigLIP's towers (no_causal_mask, pool_type "last") read the last position and were
 * trained on padded text, so a text run at its real length would be pooled at the wrong token.
 */
function openClipPadsToContext(textCfg: Json): boolean {
  if (textCfg.no_causal_mask === true) return true;
  if (textCfg.pool_type !== undefined && textCfg.pool_type !== 'argmax') return true;
  return typeof textCfg.hf_tokenizer_name === 'string' && /siglip/i.test(textCfg.hf_tokenizer_name);
}

function openClipClean(file: string, textCfg: Json): TextNormalisation | undefined {
  const kwargs = objectAt(file, textCfg, 'tokenizer_kwargs');
  if (kwargs.clean === undefined) return undefined;
  if (typeof kwargs.clean === 'string' && kwargs.clean in OPENCLIP_CLEAN) return OPENCLIP_CLEAN[kwargs.clean as keyof typeof OPENCLIP_CLEAN];
  throw bad(file, 'text_cfg.tokenizer_kwargs.clean', `is ${JSON.stringify(kwargs.clean)}; open_clip knows "canonicalize", "lower" and "whitespace"`);
}

/**
 * The pad token as the tokenizer's own config names it, resolved to an id through tokenizer.json.
 * Hugging Face CLIP configs say "<|endoftext|>" (49407); config.json's text_config.pad_token_id
 * (1) is a leftover default that matches no real token and is ignored. OpenAI's reference
 * tokenizer pads with 0, which is the fallback when nothing names a pad token. For CLIP the
 * choice does not change the embedding (causal attention, pooled at the first end token),
 * but SigLIP and XLM-R towers do read their padding, so the configured token is used.
 */
function readPadTokenId(files: ModelFiles): number {
  const tokenizer = readModelJson(files.tokenizer);
  const tokenizerConfig = files.tokenizerConfig ? readModelJson(files.tokenizerConfig) : undefined;
  const raw = tokenizerConfig?.pad_token;
  const padToken = typeof raw === 'string' ? raw : raw && typeof raw === 'object' ? (raw as Json).content : undefined;
  if (typeof padToken === 'string') {
    const id = tokenId(tokenizer, tokenizerConfig!, padToken);
    if (id === undefined) throw bad(files.tokenizerConfig!, 'pad_token', `is "${padToken}", which is not a token of ${files.tokenizer}`);
    return id;
  }
  const padding = tokenizer.padding;
  if (padding && typeof padding === 'object' && Number.isInteger((padding as Json).pad_id)) return (padding as Json).pad_id as number;
  return 0;
}

function tokenId(tokenizer: Json, tokenizerConfig: Json, token: string): number | undefined {
  if (Array.isArray(tokenizer.added_tokens)) {
    for (const t of tokenizer.added_tokens as Json[]) if (t?.content === token && Number.isInteger(t.id)) return t.id as number;
  }
  const decoder = tokenizerConfig.added_tokens_decoder;
  if (decoder && typeof decoder === 'object') {
    for (const [id, t] of Object.entries(decoder as Record<string, Json>)) if (t?.content === token && /^\d+$/.test(id)) return Number(id);
  }
  const vocab = (tokenizer.model as Json | undefined)?.vocab;
  if (Array.isArray(vocab)) {
    // Unigram (SentencePiece) vocabularies are [piece, score] pairs whose index is the id.
    const index = vocab.findIndex((entry) => Array.isArray(entry) && entry[0] === token);
    return index >= 0 ? index : undefined;
  }
  if (vocab && typeof vocab === 'object') {
    const id = (vocab as Json)[token];
    return Number.isInteger(id) ? (id as number) : undefined;
  }
  return undefined;
}

/**
 * The id recorded with every embedding, so that a change of model (or of its weights'
 * precision, which moves embeddings slightly) is seen and items are embedded again.
 */
function modelIdOf(files: ModelFiles, config: Json): string {
  let id: string | undefined;
  let revision: string | undefined;
  try {
    const manifest = JSON.parse(readFileSync(path.join(files.dir, MANIFEST_FILE), 'utf8')) as Json;
    if (typeof manifest.repo === 'string') {
      id = manifest.repo;
      revision = revisionOf(manifest);
    }
  } catch {
    /* hand-placed folder */
  }
  const nameOrPath = config._name_or_path;
  if (!id && typeof nameOrPath === 'string' && /^[\w.-]+\/[\w.-]+$/.test(nameOrPath)) id = nameOrPath;
  id ??= path.basename(files.dir);
  const variant = Object.entries(files.visionVariants).find(([, p]) => p === files.visionModel)?.[0];
  return [id, revision, variant && variant !== 'fp32' ? variant : undefined].filter(Boolean).join('@');
}

/**
 * The commit a pulled model came from, shortened to 12 hex digits as git does for display. Hub
 * repositories have been re-uploaded with other outputs and tokenizers under the same name, so
 * the commit is part of the model id: an index built from one upload refuses vectors of another.
 */
function revisionOf(manifest: Json): string | undefined {
  for (const value of [manifest.commit, manifest.revision]) {
    if (typeof value === 'string' && /^[0-9a-f]{40}$/i.test(value)) return value.slice(0, 12).toLowerCase();
  }
  return undefined;
}


function bad(file: string, key: string, problem: string): ModelFolderError {
  return new ModelFolderError(`${file}: ${key} ${problem}`, file);
}

function objectAt(file: string, json: Json, key: string): Json {
  const value = json[key];
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw bad(file, key, `must be an object, got ${JSON.stringify(value)}`);
  return value as Json;
}

function positiveInt(file: string, key: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw bad(file, key, value === undefined ? 'is missing' : `must be a positive integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

function positiveNumber(file: string, key: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw bad(file, key, `must be a positive number, got ${JSON.stringify(value)}`);
  return value;
}

function bool(file: string, key: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw bad(file, key, `must be true or false, got ${JSON.stringify(value)}`);
  return value;
}

/** A square side from N, [N, N] or {height: N, width: N}. */
function squareSide(file: string, key: string, value: unknown): number {
  if (typeof value === 'number') return positiveInt(file, key, value);
  let h: unknown;
  let w: unknown;
  if (Array.isArray(value) && value.length === 2) [h, w] = value;
  else if (value && typeof value === 'object') ({ height: h, width: w } = value as Json);
  else throw bad(file, key, `must be a number or a [height, width] pair, got ${JSON.stringify(value)}`);
  const hh = positiveInt(file, `${key}.height`, h);
  const ww = positiveInt(file, `${key}.width`, w);
  if (hh !== ww) throw bad(file, key, `is ${ww}x${hh}; only square model inputs are supported`);
  return hh;
}

function triple(file: string, key: string, value: unknown, positive = false): [number, number, number] {
  const values = typeof value === 'number' ? [value, value, value] : value;
  if (!Array.isArray(values) || values.length !== 3 || !values.every((v) => typeof v === 'number' && Number.isFinite(v) && (!positive || v > 0))) {
    throw bad(file, key, `must be three ${positive ? 'positive ' : ''}numbers (R, G, B), got ${JSON.stringify(value)}`);
  }
  return values as [number, number, number];
}

function resampleOf(file: string, key: string, value: unknown): ImagePreprocessConfig['resample'] {
  if (typeof value === 'number' && PIL_RESAMPLE[value]) return PIL_RESAMPLE[value];
  if (typeof value === 'string' && RESAMPLE_NAMES.has(value.toLowerCase() as ImagePreprocessConfig['resample'])) {
    return value.toLowerCase() as ImagePreprocessConfig['resample'];
  }
  throw bad(file, key, `is ${JSON.stringify(value)}; supported: 3 or "bicubic", 2 or "bilinear", 0 or "nearest"`);
}
