/**
 * OpenAI CLIP's VisionTransformer (clip.model.VisionTransformer) as an ONNX graph:
 * patches → class token → positions → ln_pre → blocks → ln_post(class token) → proj.
 * The output is the raw projection, not normalised, as real exports give it.
 */
import type { TowerIo, VisionTowerConfig } from './architecture.ts';
import { int, ints, onnxDataType, OnnxGraph, type GraphOptions } from './onnx-graph.ts';
import { TransformerOps } from './transformer-ops.ts';
import { WeightReader, type WeightMap } from './weights.ts';

export interface VisionGraphNames {
  /** float32 [batch, 3, imageSize, imageSize], normalised pixels. */
  input: string;
  /** float32 [batch, outputDim]. */
  output: string;
}

/** Names in Hugging Face exports (Xenova/clip-vit-base-patch32, onnx/vision_model.onnx). */
export const HF_VISION_NAMES: VisionGraphNames = { input: 'pixel_values', output: 'image_embeds' };
/** Names in OpenCLIP exports as Immich publishes them (visual/model.onnx). */
export const OPENCLIP_VISION_NAMES: VisionGraphNames = { input: 'image', output: 'embedding' };

/**
 * Builds the image tower from a VisionTransformer state dict (keys as in OpenAI's, without
 * "visual."); every key must be used and have its expected shape.
 */
export function buildVisionGraph(
  cfg: VisionTowerConfig,
  weights: WeightMap,
  names: VisionGraphNames = HF_VISION_NAMES,
  options: GraphOptions = {},
  io: TowerIo = {},
): OnnxGraph {
  const { imageSize, patchSize, width, layers, heads, outputDim } = cfg;
  if (imageSize % patchSize !== 0) throw new Error(`imageSize ${imageSize} is not a multiple of patchSize ${patchSize}`);
  const grid = imageSize / patchSize;
  const tokens = grid * grid + 1;
  const g = new OnnxGraph('clip_vision', options);
  const reader = new WeightReader(weights, 'vision tower');
  const ops = new TransformerOps(g, reader);

  const batchDim = io.batch ?? 'batch';
  const declared = g.input(names.input, io.float16 ? 'float16' : 'float32', [batchDim, 3, imageSize, imageSize]);
  const pixels = io.float16 ? g.node('Cast', [declared], { to: int(onnxDataType('float32')) }, { name: 'pixels_f32' }) : declared;

  const conv1 = g.weight('conv1.weight', reader.take('conv1.weight', [width, 3, patchSize, patchSize]));
  const patches = g.node('Conv', [pixels, conv1], { kernel_shape: ints([patchSize, patchSize]), strides: ints([patchSize, patchSize]) }, { name: 'conv1' });
  const flat = g.node('Reshape', [patches, ops.int64([0, width, -1], 'patch_flat_shape')], {}, { name: 'patches_flat' });
  const patchTokens = g.node('Transpose', [flat], { perm: ints([0, 2, 1]) }, { name: 'patch_tokens' });

  // The class embedding broadcast over the batch, whose size is known only at run time.
  const classEmbedding = reader.take('class_embedding', [width]);
  const cls = g.weight('class_embedding', { dims: [1, 1, width], data: classEmbedding.data });
  const batch = g.node('Shape', [pixels], { start: int(0), end: int(1) }, { name: 'batch_size' });
  const clsShape = g.node('Concat', [batch, ops.int64([1, width], 'class_token_dims')], { axis: int(0) }, { name: 'class_token_shape' });
  const clsTokens = g.node('Expand', [cls, clsShape], {}, { name: 'class_tokens' });
  const sequence = g.node('Concat', [clsTokens, patchTokens], { axis: int(1) }, { name: 'tokens' });

  const positions = g.weight('positional_embedding', reader.take('positional_embedding', [tokens, width]));
  let x = g.node('Add', [sequence, positions], {}, { name: 'tokens_positioned' });
  x = ops.layerNorm(x, 'ln_pre', width);
  for (let i = 0; i < layers; i++) x = ops.residualBlock(x, `transformer.resblocks.${i}.`, { width, heads });

  const classToken = g.node('Gather', [x, g.constantInt64([0], [], 'class_index')], { axis: int(1) }, { name: 'class_token' });
  const pooled = ops.layerNorm(classToken, 'ln_post', width);
  const proj = g.weight('proj', reader.take('proj', [width, outputDim]));
  const embedding = g.node('MatMul', [pooled, proj], {}, { name: 'projected' });
  const returned = io.float16 ? g.node('Cast', [embedding], { to: int(onnxDataType('float16')) }, { name: 'projected_f16' }) : embedding;
  g.output(returned, names.output, io.float16 ? 'float16' : 'float32', [batchDim, outputDim]);

  reader.assertAllUsed();
  return g;
}
