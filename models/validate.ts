import { loadSession, type TensorInfo } from './session.ts';
import { ModelFolderError, type ModelConfig, type ModelFiles } from './types.ts';

/** Output names that hold the embedding, best first; otherwise the only rank-2 output is taken (SigLIP's pooler_output). */
export const IMAGE_EMBEDDING_OUTPUTS = ['image_embeds', 'embedding', 'embeds', 'image_features'];
export const TEXT_EMBEDDING_OUTPUTS = ['text_embeds', 'embedding', 'embeds', 'text_features'];
const IMAGE_INPUTS = ['pixel_values', 'image', 'images', 'input'];
const FLOAT_TYPES = new Set(['float32', 'float16']);
const INT_TYPES = new Set(['int32', 'int64']);

export interface TowerReport extends TowerIO {
  /** The input that takes pixels (vision) or token ids (text). */
  input?: string;
  /** The output read as the embedding. */
  output?: string;
  /** Set when the export fixes the batch size (Immich's exports take one item per call). */
  fixedBatch?: number;
}

export interface ModelFolderReport {
  vision: TowerReport;
  text: TowerReport;
}

/**
 * Opens both ONNX towers and checks their inputs and outputs against the folder's
 * configuration, so that a wrong or broken file is named rather than failing (or, worse,
 * giving meaningless vectors) on the first batch; the report is what `reprise models check`
 * prints. loadEncoders checks the sessions it opens with checkModelFolder instead.
 */
export async function inspectModelFolder(files: ModelFiles, config: ModelConfig): Promise<ModelFolderReport> {
  // One tower at a time: each session holds its whole model in memory while open.
  const vision = await openTower(files.visionModel);
  const text = await openTower(files.textModel);
  return checkModelFolder(files, config, vision, text);
}

/** The inputs and outputs of a tower, as onnxruntime reads them from the file. */
export interface TowerIO {
  file: string;
  inputs: readonly TensorInfo[];
  outputs: readonly TensorInfo[];
}

/** Checks both towers' inputs and outputs against the folder's configuration; throws one error naming every problem. */
export function checkModelFolder(files: ModelFiles, config: ModelConfig, vision: TowerIO, text: TowerIO): ModelFolderReport {
  const problems: Array<{ file: string; message: string }> = [];
  const visionReport = checkVision(vision, config, (message) => problems.push({ file: vision.file, message }));
  const textReport = checkText(text, config, (message) => problems.push({ file: text.file, message }));
  if (problems.length) {
    throw new ModelFolderError(
      `model folder ${files.dir} does not match its configuration:\n${problems.map((p) => `  - ${p.file}: ${p.message}`).join('\n')}`,
      problems[0]!.file,
    );
  }
  return { vision: visionReport, text: textReport };
}

async function openTower(file: string): Promise<TowerIO> {
  // No graph optimisation and no arena: this session only answers questions about its inputs and outputs.
  const session = await loadSession(file, { threads: 1, executionProvider: 'cpu', tuning: { graphOptimizationLevel: 'disabled', enableCpuMemArena: false } });
  try {
    return { file, inputs: session.inputs, outputs: session.outputs };
  } finally {
    await session.release();
  }
}

function checkVision(io: TowerIO, config: ModelConfig, problem: (m: string) => void): TowerReport {
  const report: TowerReport = { file: io.file, inputs: io.inputs, outputs: io.outputs };
  const input =
    io.inputs.find((i) => IMAGE_INPUTS.includes(i.name) && FLOAT_TYPES.has(i.type)) ??
    io.inputs.find((i) => FLOAT_TYPES.has(i.type) && i.shape.length === 4);
  const otherFloat = io.inputs.find((i) => i.shape.length === 4 && !FLOAT_TYPES.has(i.type) && !INT_TYPES.has(i.type));
  if (!input && otherFloat) {
    problem(`image input ${otherFloat.name} is ${otherFloat.type} ${shape(otherFloat)}; Reprise feeds float32 or float16 pixels (converting to float16 where the export asks for it)`);
  } else if (!input) {
    const ints = io.inputs.filter((i) => INT_TYPES.has(i.type));
    problem(
      `no image input (a float tensor [batch, 3, ${config.image.size}, ${config.image.size}]); inputs: ${describe(io.inputs)}` +
        (ints.length ? '. It takes token ids: is this the text tower, or a combined model?' : ''),
    );
  } else {
    report.input = input.name;
    const [batch, channels, height, width] = input.shape;
    if (input.shape.length !== 4) problem(`image input ${input.name} has rank ${input.shape.length} ${shape(input)}; expected 4 [batch, 3, height, width]`);
    else if (typeof channels === 'number' && channels !== 3) {
      problem(
        width === 3
          ? `image input ${input.name} is ${shape(input)}, channels last; Reprise feeds channels first [batch, 3, height, width]`
          : `image input ${input.name} has ${channels} channels ${shape(input)}; expected 3 (RGB)`,
      );
    } else {
      for (const [label, dim] of [['height', height], ['width', width]] as const) {
        if (typeof dim === 'number' && dim !== config.image.size) {
          problem(`image input ${input.name} has ${label} ${dim} ${shape(input)} but the preprocessing config gives ${config.image.size}`);
        }
      }
      if (typeof batch === 'number') report.fixedBatch = batch;
    }
    for (const other of io.inputs) {
      if (other !== input) problem(`also needs input ${other.name} ${shape(other)}, which Reprise cannot feed to an image tower`);
    }
  }
  report.output = checkEmbeddingOutput(io, IMAGE_EMBEDDING_OUTPUTS, config.projectionDim, problem);
  return report;
}

function checkText(io: TowerIO, config: ModelConfig, problem: (m: string) => void): TowerReport {
  const report: TowerReport = { file: io.file, inputs: io.inputs, outputs: io.outputs };
  const ints = io.inputs.filter((i) => INT_TYPES.has(i.type));
  // The same rule the text encoder uses to find its ids input.
  const input = ints.find((i) => /input_ids|text|tokens/.test(i.name)) ?? ints.find((i) => !/mask/.test(i.name));
  if (!input) {
    const named = io.inputs.find((i) => /input_ids|text|tokens/.test(i.name));
    problem(
      named
        ? `text input ${named.name} is ${named.type}; expected int32 or int64 token ids`
        : `no token-id input (an int32 or int64 tensor [batch, tokens]); inputs: ${describe(io.inputs)}` +
            (io.inputs.some((i) => i.shape.length === 4) ? '. It takes images: is this the image tower, or a combined model?' : ''),
    );
  } else {
    report.input = input.name;
    if (input.shape.length !== 2) problem(`text input ${input.name} has rank ${input.shape.length} ${shape(input)}; expected 2 [batch, tokens]`);
    else {
      const [batch, tokens] = input.shape;
      if (typeof tokens === 'number' && tokens !== config.text.contextLength) {
        problem(`text input ${input.name} takes exactly ${tokens} tokens ${shape(input)} but the config gives a context length of ${config.text.contextLength}`);
      }
      if (typeof batch === 'number') report.fixedBatch = batch;
    }
    for (const other of io.inputs) {
      if (other === input) continue;
      if (/mask/.test(other.name) && INT_TYPES.has(other.type)) continue;
      problem(`also needs input ${other.name} (${other.type}) ${shape(other)}, which Reprise cannot feed to a text tower`);
    }
  }
  report.output = checkEmbeddingOutput(io, TEXT_EMBEDDING_OUTPUTS, config.projectionDim, problem);
  return report;
}

function checkEmbeddingOutput(io: TowerIO, preferred: string[], dim: number, problem: (m: string) => void): string | undefined {
  const output = io.outputs.find((o) => preferred.includes(o.name)) ?? singleRank2(io.outputs);
  if (!output) {
    problem(`cannot tell which output is the embedding (outputs: ${describe(io.outputs)}); expected one named ${preferred.join(', ')}, or a single rank-2 output`);
    return undefined;
  }
  if (!FLOAT_TYPES.has(output.type)) {
    problem(`embedding output ${output.name} is ${output.type} ${shape(output)}; Reprise reads float32 or float16 embeddings`);
  }
  if (output.shape.length && output.shape.length !== 2) {
    problem(`embedding output ${output.name} has rank ${output.shape.length} ${shape(output)}; expected 2 [batch, ${dim}]`);
  } else {
    const last = output.shape[output.shape.length - 1];
    if (typeof last === 'number' && last !== dim) {
      problem(`embedding output ${output.name} has ${last} dimensions ${shape(output)} but config.json gives an embedding dimension of ${dim}`);
    }
  }
  return output.name;
}

function singleRank2(outputs: readonly TensorInfo[]): TensorInfo | undefined {
  const rank2 = outputs.filter((o) => o.shape.length === 2);
  return rank2.length === 1 ? rank2[0] : undefined;
}

function shape(t: TensorInfo): string {
  return `[${t.shape.join(', ')}]`;
}

function describe(list: readonly TensorInfo[]): string {
  return list.length ? list.map((t) => `${t.name} ${t.type}${shape(t)}`).join(', ') : 'none';
}

