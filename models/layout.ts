import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { ModelFolderError, type ModelFiles, type ModelLayout } from './types.ts';
import { findModel, type ModelVariant } from './registry.ts';

export interface ResolveOptions {
  /** Weights to use where the folder offers several (default fp32). */
  variant?: ModelVariant;
}

/** Written by `reprise models pull`; read here only to name the model in help text. */
export const MANIFEST_FILE = 'reprise-model.json';

/** The files each layout needs, as a person placing them by hand should see them. */
export const LAYOUT_HELP: Record<ModelLayout, string> = {
  huggingface: [
    'Hugging Face / transformers.js layout (e.g. Xenova/clip-vit-base-patch32):',
    '  config.json',
    '  preprocessor_config.json',
    '  tokenizer.json',
    '  tokenizer_config.json',
    '  onnx/vision_model.onnx   (or vision_model_quantized.onnx, vision_model_fp16.onnx)',
    '  onnx/text_model.onnx     (or text_model_quantized.onnx, text_model_fp16.onnx)',
  ].join('\n'),
  openclip: [
    'OpenCLIP / Immich layout (e.g. immich-app/ViT-B-32__openai):',
    '  config.json',
    '  visual/model.onnx        (and every other file in visual/: large models keep their weights beside it)',
    '  visual/preprocess_cfg.json',
    '  textual/model.onnx       (and every other file in textual/)',
    '  textual/tokenizer.json',
    '  textual/tokenizer_config.json',
  ].join('\n'),
};

/**
 * Finds the ONNX towers, configuration and tokenizer of a model folder in either layout
 * real exports use. `visionVariants` / `textVariants` list every variant found (the chosen
 * one included), keyed fp32, quantized, fp16 or the export's own suffix (int8, q4, …).
 */
export function resolveModelFiles(dir: string, opts: ResolveOptions = {}): ModelFiles {
  const root = path.resolve(dir);
  const variant = opts.variant ?? 'fp32';
  if (!isDir(root)) {
    throw new ModelFolderError(`model folder ${root} does not exist or is not a folder; ${howToGet(root)}`, root);
  }
  const layout = detectLayout(root);
  return resolveLayout(root, layout, variant);
}

function detectLayout(root: string): ModelLayout {
  const hasOnnxDir = isDir(path.join(root, 'onnx'));
  const hasTowerDirs = isDir(path.join(root, 'visual')) || isDir(path.join(root, 'textual'));
  if (hasOnnxDir && !hasTowerDirs) return 'huggingface';
  if (hasTowerDirs && !hasOnnxDir) return 'openclip';
  if (hasOnnxDir && hasTowerDirs) {
    // Both present (someone merged two downloads): the one with a vision tower wins.
    return listOnnx(path.join(root, 'onnx')).some((f) => f.startsWith('vision_model')) ? 'huggingface' : 'openclip';
  }
  const loose = safeList(root).filter((f) => f.endsWith('.onnx'));
  const found = loose.length ? ` It has ${loose.join(', ')} at the top level, which is neither layout.` : '';
  throw new ModelFolderError(
    `${root} is not a model folder Reprise can read: it has neither onnx/ (Hugging Face layout) nor visual/ and textual/ (OpenCLIP layout).${found} ` +
      howToGet(root),
    root,
  );
}

/** Where each layout keeps its files, relative to the model folder. */
interface LayoutSpec {
  visionDir: string;
  visionPrefix: string;
  textDir: string;
  textPrefix: string;
  preprocessConfig: string;
  tokenizer: string;
  tokenizerConfig: string;
}

const LAYOUTS: Record<ModelLayout, LayoutSpec> = {
  huggingface: {
    visionDir: 'onnx',
    visionPrefix: 'vision_model',
    textDir: 'onnx',
    textPrefix: 'text_model',
    preprocessConfig: 'preprocessor_config.json',
    tokenizer: 'tokenizer.json',
    tokenizerConfig: 'tokenizer_config.json',
  },
  openclip: {
    visionDir: 'visual',
    visionPrefix: 'model',
    textDir: 'textual',
    textPrefix: 'model',
    preprocessConfig: 'visual/preprocess_cfg.json',
    tokenizer: 'textual/tokenizer.json',
    tokenizerConfig: 'textual/tokenizer_config.json',
  },
};

function resolveLayout(root: string, layout: ModelLayout, variant: ModelVariant): ModelFiles {
  const spec = LAYOUTS[layout];
  const visionDir = path.join(root, spec.visionDir);
  const textDir = path.join(root, spec.textDir);
  const visionVariants = variantsByPrefix(visionDir, listOnnx(visionDir), spec.visionPrefix);
  const textVariants = variantsByPrefix(textDir, listOnnx(textDir), spec.textPrefix);
  if (layout === 'huggingface') refuseCombinedGraph(root, visionVariants, textVariants);

  const missing: string[] = [];
  const need = (rel: string): string => {
    const full = path.join(root, rel);
    if (!isFile(full)) missing.push(rel);
    return full;
  };
  const config = need('config.json');
  const preprocessConfig = need(spec.preprocessConfig);
  const tokenizer = need(spec.tokenizer);
  const visionStem = `${spec.visionDir}/${spec.visionPrefix}`;
  const textStem = `${spec.textDir}/${spec.textPrefix}`;
  if (!Object.keys(visionVariants).length) missing.push(`${visionStem}.onnx`);
  if (!Object.keys(textVariants).length) missing.push(`${textStem}.onnx`);
  if (missing.length) throw missingFiles(root, layout, missing);

  const tokenizerConfigPath = path.join(root, spec.tokenizerConfig);
  const { vision, text } = pickVariant(root, variant, visionVariants, textVariants, visionStem, textStem);
  return {
    dir: root,
    layout,
    visionModel: vision,
    textModel: text,
    visionVariants,
    textVariants,
    config,
    preprocessConfig,
    tokenizer,
    ...(isFile(tokenizerConfigPath) ? { tokenizerConfig: tokenizerConfigPath } : {}),
  };
}

/** A combined graph (onnx/model.onnx) and no separate towers: say why it cannot be used. */
function refuseCombinedGraph(root: string, visionVariants: Record<string, string>, textVariants: Record<string, string>): void {
  const onnxDir = path.join(root, 'onnx');
  if (Object.keys(visionVariants).length || Object.keys(textVariants).length) return;
  if (!listOnnx(onnxDir).some((f) => /^model(_\w+)?\.onnx$/.test(f))) return;
  throw new ModelFolderError(
    `${path.join(onnxDir, 'model.onnx')} is a combined CLIP graph: it takes pixel_values and input_ids together and returns ` +
      `image-text similarity logits, so an image cannot be embedded without a text and the text tower cannot be cached on its own. ` +
      `Reprise needs the two towers as separate files, onnx/vision_model.onnx and onnx/text_model.onnx, as transformers.js exports ` +
      `ship them (e.g. Xenova/clip-vit-base-patch32); ${howToGet(root, 'huggingface')}`,
    path.join(onnxDir, 'model.onnx'),
  );
}

/** `vision_model.onnx` → fp32, `vision_model_quantized.onnx` → quantized, `vision_model_q4.onnx` → q4. */
function variantsByPrefix(dir: string, files: string[], prefix: string): Record<string, string> {
  const out: Record<string, string> = {};
  const pattern = new RegExp(`^${prefix}(?:_([A-Za-z0-9]+))?\\.onnx$`);
  for (const f of files) {
    const m = pattern.exec(f);
    if (!m) continue;
    out[m[1] ?? 'fp32'] = path.join(dir, f);
  }
  return out;
}

function pickVariant(
  root: string,
  variant: ModelVariant,
  visionVariants: Record<string, string>,
  textVariants: Record<string, string>,
  visionStem: string,
  textStem: string,
): { vision: string; text: string } {
  const vision = visionVariants[variant];
  const text = textVariants[variant];
  if (vision && text) return { vision, text };
  const suffix = variant === 'fp32' ? '' : `_${variant}`;
  const absent = [!vision ? `${visionStem}${suffix}.onnx` : '', !text ? `${textStem}${suffix}.onnx` : ''].filter(Boolean);
  const both = Object.keys(visionVariants).filter((v) => v in textVariants);
  const name = modelName(root);
  throw new ModelFolderError(
    `variant ${variant} is not in ${root}: ${absent.join(' and ')} ${absent.length > 1 ? 'are' : 'is'} missing. ` +
      `Present: vision ${list(Object.keys(visionVariants))}; text ${list(Object.keys(textVariants))}. ` +
      (both.length ? `Choose one of ${both.join(', ')} with --variant or models.variant (REPRISE_MODELS__VARIANT), or ` : '') +
      `fetch it with \`reprise models pull ${name ?? '<name>'} --variant ${variant}\`.`,
    path.join(root, absent[0]!),
  );
}

function missingFiles(root: string, layout: ModelLayout, missing: string[]): ModelFolderError {
  const named = missing.map((m) => path.join(root, m));
  return new ModelFolderError(
    `${root} looks like the ${layout === 'huggingface' ? 'Hugging Face' : 'OpenCLIP'} layout but is missing ${named.join(', ')}; ${howToGet(root, layout)}`,
    named[0],
  );
}

/** The one piece of advice every folder error ends with: pull it, or place it by hand. */
export function howToGet(root: string, layout?: ModelLayout): string {
  const name = modelName(root);
  const pull = name ? `run \`reprise models pull ${name}\`` : 'run `reprise models pull <name>` (names: `reprise models list`)';
  const layouts = layout ? LAYOUT_HELP[layout] : `${LAYOUT_HELP.huggingface}\nor\n${LAYOUT_HELP.openclip}`;
  return `${pull}, or place the files by hand in ${root} with this layout:\n${layouts}`;
}

/** The registry name of a folder: from the pull manifest, else from the folder's own name. */
function modelName(root: string): string | undefined {
  try {
    const manifest = JSON.parse(readFileSync(path.join(root, MANIFEST_FILE), 'utf8')) as { name?: unknown };
    if (typeof manifest.name === 'string') return manifest.name;
  } catch {
    /* hand-placed folders have no manifest */
  }
  return findModel(path.basename(root))?.name;
}

function list(values: string[]): string {
  return values.length ? values.join(', ') : 'none';
}

function listOnnx(dir: string): string[] {
  return safeList(dir).filter((f) => f.endsWith('.onnx') && isFile(path.join(dir, f))).sort();
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}
