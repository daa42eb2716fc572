import { readFileSync } from 'node:fs';
import type { ModelsConfig } from '../../config/index.ts';
import { ImageEncoder } from '../image-encoder.ts';
import { loadSession, type LoadedSession, type TensorInfo } from '../session.ts';
import { fixedBatchOf, floatInput, floatOutput, SUPPORTED_FLOAT_TYPES } from '../tower-io.ts';
import { ModelFolderError, type EncoderConfig } from '../types.ts';
import { readClassifierConfig, resolveClassifierFiles, type ClassifierConfig, type ClassifierFiles } from './classifier-folder.ts';
import { exposePooledFeatures, POOLED_FEATURES_OUTPUT } from './pooled-features.ts';

/** What an image classifier adds to an image tower: its classes, and where its vectors come from. */
export interface ClassifierInfo {
  classes: string[];
  topK: number;
  labelSet: string;
  /** 'pooled features (GlobalAveragePool …)', 'output <name>', or 'logits (the graph has no global average pool)'. */
  vectorsFrom: string;
  /** The output holding class scores. */
  logitsOutput: string;
}

export interface LoadedClassifier {
  files: ClassifierFiles;
  config: EncoderConfig;
  image: ImageEncoder;
  classifier: ClassifierInfo;
}

/**
 * Loads an image-only classifier folder as an image tower: its vectors are the pooled features
 * where the graph has a global average pool (exposed as an output in memory), else the output the
 * config names, else the logits; its class scores come with every embedding for the labels facet.
 */
export async function loadClassifier(dir: string, models: Pick<ModelsConfig, 'threads' | 'executionProvider' | 'batchSize'>): Promise<LoadedClassifier> {
  const files = resolveClassifierFiles(dir);
  const config = await readClassifierConfig(files);
  const exposed = config.features === 'auto' ? exposePooledFeatures(readFileSync(files.model)) : undefined;
  const session = await loadSession(files.model, {
    threads: models.threads,
    executionProvider: models.executionProvider,
    ...(exposed ? { modelBytes: exposed.bytes } : {}),
  });
  try {
    const { input, logits, features, vectorsFrom } = pickTensors(session, config, exposed?.source);
    if (config.classes.length && logits.shape.length === 2 && typeof logits.shape[1] === 'number' && logits.shape[1] !== config.classes.length) {
      throw new ModelFolderError(
        `${files.classes}: ${config.classes.length} class names, but ${files.model} scores ${logits.shape[1]} classes; the names belong to another model`,
        files.classes,
      );
    }
    const projectionDim = await probeDimension(session, input, features.name, config);
    const encoderConfig: EncoderConfig = { projectionDim, image: config.image, modelId: config.modelId };
    const image = await ImageEncoder.fromSession(session, encoderConfig, {
      batchSize: models.batchSize,
      embeddingOutput: features.name,
      logitsOutput: logits.name,
    });
    return {
      files,
      config: encoderConfig,
      image,
      classifier: { classes: config.classes, topK: config.topK, labelSet: config.labelSet, vectorsFrom, logitsOutput: logits.name },
    };
  } catch (err) {
    await session.release();
    throw err;
  }
}

function pickTensors(
  session: LoadedSession,
  config: ClassifierConfig,
  pooledSource: string | undefined,
): { input: TensorInfo; logits: TensorInfo; features: TensorInfo; vectorsFrom: string } {
  const file = session.file;
  const input = session.inputs.find((i) => i.shape.length === 4 && SUPPORTED_FLOAT_TYPES.includes(i.type));
  if (!input || session.inputs.length !== 1) {
    throw new ModelFolderError(
      `${file}: an image classifier takes one float input [batch, 3, height, width]; inputs: ${session.inputs.map(describe).join(', ')}`,
      file,
    );
  }
  const [, channels, height, width] = input.shape;
  if ((typeof channels === 'number' && channels !== 3) || [height, width].some((d) => typeof d === 'number' && d !== config.image.size)) {
    throw new ModelFolderError(
      `${file}: input ${describe(input)} does not take 3 × ${config.image.size} × ${config.image.size} pixels, which the preprocessing prepares (preprocess.size in the classifier config)`,
      file,
    );
  }
  const candidates = session.outputs.filter((o) => o.name !== POOLED_FEATURES_OUTPUT && o.shape.length === 2 && SUPPORTED_FLOAT_TYPES.includes(o.type));
  const logits =
    candidates.find((o) => o.shape[1] === config.classes.length) ?? (candidates.length === 1 ? candidates[0] : undefined);
  if (!logits) {
    throw new ModelFolderError(`${file}: cannot tell which output holds the class scores (outputs: ${session.outputs.map(describe).join(', ')})`, file);
  }
  if (pooledSource) {
    return { input, logits, features: session.outputs.find((o) => o.name === POOLED_FEATURES_OUTPUT)!, vectorsFrom: `pooled features (${pooledSource})` };
  }
  if (config.features === 'auto' || config.features === 'logits') {
    return { input, logits, features: logits, vectorsFrom: `logits (${config.features === 'auto' ? 'the graph has no global average pool' : 'as configured'})` };
  }
  const named = session.outputs.find((o) => o.name === config.features);
  if (!named) throw new ModelFolderError(`${file}: the classifier config names features output ${config.features}, which the model does not have`, file);
  return { input, logits, features: named, vectorsFrom: `output ${named.name}` };
}

/** The vector size, from one run on a blank image: a pooled output's width is not declared in the graph. */
async function probeDimension(session: LoadedSession, input: TensorInfo, output: string, config: ClassifierConfig): Promise<number> {
  const s = config.image.size;
  const batch = fixedBatchOf(input) ?? 1;
  const result = await session.run({ [input.name]: floatInput(new Float32Array(batch * 3 * s * s), input, [batch, 3, s, s]) }, [output]);
  const values = floatOutput(result[output]!, output);
  return values.length / batch;
}

function describe(t: TensorInfo): string {
  return `${t.name} ${t.type}[${t.shape.join(', ')}]`;
}
