/**
 * An image-only ONNX classifier folder (ONNX Model Zoo MobileNetV2/V3, ResNet-50, fp32 or int8):
 * one ONNX file at the top level, its class names, and an optional `reprise-classifier.json`
 * saying how images are prepared. Without that file, or for the keys it leaves out, the ONNX
 * Model Zoo's ImageNet preprocessing is used: short side to 256 (bilinear), centre 224×224,
 * scaled to 0–1, mean [0.485, 0.456, 0.406], std [0.229, 0.224, 0.225], RGB, channels first.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { readModelJson } from '../read-json.ts';
import { ModelFolderError, type ImagePreprocessConfig } from '../types.ts';

export const CLASSIFIER_CONFIG_FILE = 'reprise-classifier.json';
/** Class-name files looked for when the config names none, in this order. */
const CLASS_FILES = ['imagenet_classes.txt', 'synset.txt', 'classes.txt', 'labels.txt'];

/** torchvision's and the ONNX Model Zoo's ImageNet preprocessing. */
export const MODEL_ZOO_PREPROCESS: ImagePreprocessConfig = {
  size: 224,
  resizeMode: 'shortest-edge-crop',
  resizeShortSide: 256,
  resample: 'bilinear',
  mean: [0.485, 0.456, 0.406],
  std: [0.229, 0.224, 0.225],
};

export interface ClassifierFiles {
  dir: string;
  layout: 'classifier';
  model: string;
  /** reprise-classifier.json, when present. */
  config?: string;
  /** Class names, one a line, line N naming class N−1. */
  classes?: string;
}

export interface ClassifierConfig {
  /** Recorded with every vector: the folder's (or the config's) name and the ONNX file's sha256, shortened. */
  modelId: string;
  image: ImagePreprocessConfig;
  /** Class names by index; empty when the folder has none (no labels then). */
  classes: string[];
  /** Categories kept per image as labels. */
  topK: number;
  /** The facet name the categories are filed under: `${labelSet}:${class}`. */
  labelSet: string;
  /** 'auto': the pooled features where the graph has them, else the logits; or an output's name. */
  features: string;
}

/** Whether a folder is laid out as an image classifier: an ONNX file or the config at its top level, no CLIP tower folders. */
export function isClassifierFolder(dir: string): boolean {
  if (['onnx', 'visual', 'textual'].some((d) => existsSync(path.join(dir, d)))) return false;
  if (existsSync(path.join(dir, CLASSIFIER_CONFIG_FILE))) return true;
  return safeList(dir).some((f) => f.endsWith('.onnx'));
}

export function resolveClassifierFiles(dir: string): ClassifierFiles {
  const root = path.resolve(dir);
  const configFile = path.join(root, CLASSIFIER_CONFIG_FILE);
  const config = existsSync(configFile) ? readModelJson(configFile) : undefined;
  let model: string;
  if (config?.model !== undefined) {
    if (typeof config.model !== 'string') throw bad(configFile, 'model', `must be the ONNX file's name, got ${JSON.stringify(config.model)}`);
    model = path.resolve(root, config.model);
    if (!isFile(model)) throw new ModelFolderError(`${configFile}: model names ${model}, which does not exist`, model);
  } else {
    const onnx = safeList(root).filter((f) => f.endsWith('.onnx') && isFile(path.join(root, f)));
    if (onnx.length !== 1) {
      throw new ModelFolderError(
        onnx.length
          ? `${root} has ${onnx.length} ONNX files (${onnx.join(', ')}); name the classifier's with "model" in ${CLASSIFIER_CONFIG_FILE}`
          : `${root} has no ONNX file: an image classifier folder holds one at its top level, with its class names (${CLASS_FILES[0]})`,
        root,
      );
    }
    model = path.join(root, onnx[0]!);
  }
  let classes: string | undefined;
  if (config?.classes !== undefined) {
    if (typeof config.classes !== 'string') throw bad(configFile, 'classes', `must be a file name, got ${JSON.stringify(config.classes)}`);
    classes = path.resolve(root, config.classes);
    if (!isFile(classes)) throw new ModelFolderError(`${configFile}: classes names ${classes}, which does not exist`, classes);
  } else {
    classes = CLASS_FILES.map((f) => path.join(root, f)).find(isFile);
  }
  return { dir: root, layout: 'classifier', model, ...(config ? { config: configFile } : {}), ...(classes ? { classes } : {}) };
}

export async function readClassifierConfig(files: ClassifierFiles): Promise<ClassifierConfig> {
  const file = files.config ?? path.join(files.dir, CLASSIFIER_CONFIG_FILE);
  const json = files.config ? readModelJson(files.config) : {};
  const known = new Set(['model', 'id', 'classes', 'topK', 'labelSet', 'features', 'preprocess']);
  for (const key of Object.keys(json)) if (!known.has(key)) throw bad(file, key, `is not a known key (${[...known].join(', ')})`);
  const pre = (json.preprocess ?? {}) as Record<string, unknown>;
  if (typeof pre !== 'object' || Array.isArray(pre)) throw bad(file, 'preprocess', 'must be an object');
  const preKnown = new Set(['size', 'resizeShortSide', 'resample', 'mean', 'std']);
  for (const key of Object.keys(pre)) if (!preKnown.has(key)) throw bad(file, `preprocess.${key}`, `is not a known key (${[...preKnown].join(', ')})`);

  const size = pre.size === undefined ? MODEL_ZOO_PREPROCESS.size : positiveInt(file, 'preprocess.size', pre.size);
  const resizeShortSide =
    pre.resizeShortSide === undefined ? Math.round((size * 256) / 224) : positiveInt(file, 'preprocess.resizeShortSide', pre.resizeShortSide);
  if (resizeShortSide < size) throw bad(file, 'preprocess.resizeShortSide', `is ${resizeShortSide}, smaller than the ${size}-pixel crop`);
  const resample = pre.resample ?? MODEL_ZOO_PREPROCESS.resample;
  if (resample !== 'bilinear' && resample !== 'bicubic' && resample !== 'nearest') {
    throw bad(file, 'preprocess.resample', `is ${JSON.stringify(resample)}; supported: "bilinear", "bicubic", "nearest"`);
  }
  const image: ImagePreprocessConfig = {
    size,
    resizeMode: 'shortest-edge-crop',
    resizeShortSide,
    resample,
    mean: triple(file, 'preprocess.mean', pre.mean ?? MODEL_ZOO_PREPROCESS.mean),
    std: triple(file, 'preprocess.std', pre.std ?? MODEL_ZOO_PREPROCESS.std, true),
  };

  const topK = json.topK === undefined ? 5 : positiveInt(file, 'topK', json.topK);
  if (topK > 100) throw bad(file, 'topK', `is ${topK}; at most 100 categories are kept per image`);
  const labelSet = json.labelSet ?? 'imagenet';
  if (typeof labelSet !== 'string' || !/^[\w-]{1,40}$/.test(labelSet)) throw bad(file, 'labelSet', 'must be 1–40 letters, digits, - or _');
  const features = json.features ?? 'auto';
  if (typeof features !== 'string' || !features) throw bad(file, 'features', 'must be "auto", "logits" or an output name');
  const id = json.id ?? path.basename(files.dir);
  if (typeof id !== 'string' || !id) throw bad(file, 'id', 'must be a non-empty string');

  const classes = files.classes ? readClasses(files.classes) : [];
  // The file's own digest: a re-exported model under the same name is another model to an index.
  const digest = (await sha256(files.model)).slice(0, 12);
  return { modelId: `${id}@${digest}`, image, classes, topK, labelSet, features };
}

/** One class name a line (blank lines at the end ignored); a `synset.txt` "n01440764 tench, Tinca tinca" keeps its names. */
function readClasses(file: string): string[] {
  const lines = readFileSync(file, 'utf8').split(/\r?\n/);
  while (lines.length && !lines[lines.length - 1]!.trim()) lines.pop();
  return lines.map((l) => l.trim().replace(/^n\d{8}\s+/, ''));
}

function sha256(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(file)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}

function bad(file: string, key: string, problem: string): ModelFolderError {
  return new ModelFolderError(`${file}: ${key} ${problem}`, file);
}

function positiveInt(file: string, key: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) throw bad(file, key, `must be a positive integer, got ${JSON.stringify(value)}`);
  return value;
}

function triple(file: string, key: string, value: unknown, positive = false): [number, number, number] {
  if (!Array.isArray(value) || value.length !== 3 || !value.every((v) => typeof v === 'number' && Number.isFinite(v) && (!positive || v > 0))) {
    throw bad(file, key, `must be three ${positive ? 'positive ' : ''}numbers (R, G, B), got ${JSON.stringify(value)}`);
  }
  return value as [number, number, number];
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}
