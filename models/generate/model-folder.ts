/**
 * Writes a whole CLIP model folder with random weights, laid out file for file like a real
 * export, so the encoders, the folder resolver and the benchmarks run on it as they would
 * on a downloaded model.
 */
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { buildClipTokenizerJson } from '../tokenizer/build-clip-tokenizer-json.ts';
import type { ModelLayout } from '../types.ts';
import { resolveSize, textTower, visionTower, type ClipArchitecture, type CustomSize, type NamedSize, type TowerIo } from './architecture.ts';
import { buildTextGraph, HF_TEXT_NAMES, OPENCLIP_TEXT_NAMES } from './clip-text.ts';
import { buildVisionGraph, HF_VISION_NAMES, OPENCLIP_VISION_NAMES } from './clip-vision.ts';
import {
  huggingFaceConfig,
  huggingFacePreprocessorConfig,
  openClipConfig,
  openClipPreprocessConfig,
  tokenizerConfig,
} from './export-configs.ts';
import type { GraphOptions, OnnxGraph } from './onnx-graph.ts';
import { randomTextWeights, randomVisionWeights } from './random-weights.ts';

export const DEFAULT_SEED = 0;

export interface GenerateClipModelOptions {
  dir: string;
  layout: ModelLayout;
  size: NamedSize | CustomSize;
  seed?: number;
  /**
   * OpenAI's bpe_simple_vocab_16e6.txt, to build tokenizer.json from. Without it no
   * tokenizer files are written (enough for image-only benchmarks, not a complete folder).
   */
  bpeVocabPath?: string;
  /**
   * Also write onnx/vision_model_fp16.onnx and onnx/text_model_fp16.onnx (Hugging Face
   * layout only): weights stored as float16, cast to float32 in the graph; float32 in and out.
   */
  fp16?: boolean;
  /** The fp16 variant's towers take and return float16 tensors, as exports converted without keep_io_types do. */
  fp16Io?: boolean;
  /** Declare this batch size on every tower's inputs and outputs, as Immich's exports fix it at 1. */
  fixedBatch?: number;
}

export interface GeneratedClipModel {
  dir: string;
  layout: ModelLayout;
  architecture: ClipArchitecture;
  seed: number;
  /** Absolute paths of what was written (no tokenizer files without a BPE vocabulary). */
  files: Omit<LayoutPaths, 'tokenizer' | 'tokenizerConfig'> & Partial<Pick<LayoutPaths, 'tokenizer' | 'tokenizerConfig'>>;
  /** Bytes written, all files together. */
  bytes: number;
}

interface LayoutPaths {
  vision: string;
  text: string;
  visionFp16?: string;
  textFp16?: string;
  config: string;
  preprocessConfig: string;
  tokenizer: string;
  tokenizerConfig: string;
}

const LAYOUT_PATHS: Record<ModelLayout, LayoutPaths> = {
  huggingface: {
    vision: 'onnx/vision_model.onnx',
    text: 'onnx/text_model.onnx',
    visionFp16: 'onnx/vision_model_fp16.onnx',
    textFp16: 'onnx/text_model_fp16.onnx',
    config: 'config.json',
    preprocessConfig: 'preprocessor_config.json',
    tokenizer: 'tokenizer.json',
    tokenizerConfig: 'tokenizer_config.json',
  },
  openclip: {
    vision: 'visual/model.onnx',
    text: 'textual/model.onnx',
    config: 'config.json',
    preprocessConfig: 'visual/preprocess_cfg.json',
    tokenizer: 'textual/tokenizer.json',
    tokenizerConfig: 'textual/tokenizer_config.json',
  },
};

/** Written beside the final name and renamed, so an interrupted run never leaves a truncated model that looks whole. */
async function writeAtomically(file: string, data: Buffer | string): Promise<number> {
  await mkdir(path.dirname(file), { recursive: true });
  const partial = `${file}.partial`;
  await writeFile(partial, data);
  await rename(partial, file);
  return (await stat(file)).size;
}

function json(value: object): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

function describe(size: NamedSize | CustomSize, arch: ClipArchitecture): string {
  return typeof size === 'string' ? size : `custom-${arch.vision.width}w${arch.vision.layers}l-${arch.text.width}w${arch.text.layers}l-${arch.embedDim}d`;
}

export async function generateClipModel(opts: GenerateClipModelOptions): Promise<GeneratedClipModel> {
  const arch = resolveSize(opts.size);
  const seed = opts.seed ?? DEFAULT_SEED;
  if (!Number.isSafeInteger(seed)) throw new Error(`seed must be an integer, got ${seed}`);
  if (opts.fp16 && opts.layout !== 'huggingface') {
    throw new Error('fp16 variants are written only in the huggingface layout (OpenCLIP exports ship fp32 towers)');
  }
  const dir = path.resolve(opts.dir);
  const rel = LAYOUT_PATHS[opts.layout];
  const at = (p: string) => path.join(dir, p);
  const sizeName = describe(opts.size, arch);
  const hf = opts.layout === 'huggingface';
  let bytes = 0;

  if (opts.fixedBatch !== undefined && !(Number.isInteger(opts.fixedBatch) && opts.fixedBatch > 0)) {
    throw new Error(`fixedBatch must be a positive integer, got ${opts.fixedBatch}`);
  }
  if (opts.fp16Io && !opts.fp16) throw new Error('fp16Io describes the fp16 variant: give fp16 as well');
  const io = (fp16: boolean): TowerIo => ({ ...(opts.fixedBatch ? { batch: opts.fixedBatch } : {}), ...(fp16 && opts.fp16Io ? { float16: true } : {}) });

  const writeGraphs = async (
    tower: 'vision' | 'text',
    build: (options: GraphOptions, io: TowerIo) => OnnxGraph,
    fp32File: string,
    fp16File: string | undefined,
  ): Promise<void> => {
    const docString = `CLIP ${tower} tower (${sizeName}) generated by Reprise with random weights, seed ${seed}: not a trained model.`;
    bytes += await writeAtomically(fp32File, build({}, io(false)).serialize({ docString }));
    if (fp16File) {
      if (opts.fp16) bytes += await writeAtomically(fp16File, build({ weightStorage: 'float16' }, io(true)).serialize({ docString }));
      // A variant left from an earlier run would pair these towers with other weights.
      else await rm(fp16File, { force: true });
    }
  };

  // One tower at a time, so the full-size model never holds both towers' weights at once.
  {
    const weights = randomVisionWeights(visionTower(arch), seed);
    const names = hf ? HF_VISION_NAMES : OPENCLIP_VISION_NAMES;
    await writeGraphs('vision', (o, tio) => buildVisionGraph(visionTower(arch), weights, names, o, tio), at(rel.vision), rel.visionFp16 && at(rel.visionFp16));
  }
  {
    const weights = randomTextWeights(textTower(arch), seed);
    const names = hf ? HF_TEXT_NAMES : OPENCLIP_TEXT_NAMES;
    await writeGraphs('text', (o, tio) => buildTextGraph(textTower(arch), weights, names, o, tio), at(rel.text), rel.textFp16 && at(rel.textFp16));
  }

  const generated = { size: sizeName, seed };
  bytes += await writeAtomically(at(rel.config), json(hf ? huggingFaceConfig(arch, generated) : openClipConfig(arch, generated)));
  bytes += await writeAtomically(at(rel.preprocessConfig), json(hf ? huggingFacePreprocessorConfig(arch) : openClipPreprocessConfig(arch)));

  const files: GeneratedClipModel['files'] = {
    vision: at(rel.vision),
    text: at(rel.text),
    ...(opts.fp16 && rel.visionFp16 && rel.textFp16 ? { visionFp16: at(rel.visionFp16), textFp16: at(rel.textFp16) } : {}),
    config: at(rel.config),
    preprocessConfig: at(rel.preprocessConfig),
  };
  if (opts.bpeVocabPath) {
    bytes += await writeAtomically(at(rel.tokenizer), json(buildClipTokenizerJson(opts.bpeVocabPath)));
    bytes += await writeAtomically(at(rel.tokenizerConfig), json(tokenizerConfig(arch)));
    files.tokenizer = at(rel.tokenizer);
    files.tokenizerConfig = at(rel.tokenizerConfig);
  }

  return { dir, layout: opts.layout, architecture: arch, seed, files, bytes };
}
