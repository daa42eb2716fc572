/**
 * OpenAI CLIP's text transformer (CLIP.encode_text) as an ONNX graph: token and position
 * embeddings → causally masked blocks → ln_final at the end token → text_projection.
 * Positions and the causal mask are sliced to the actual sequence length, so one graph
 * runs texts padded to the context length or cut to the longest in the batch and, the
 * mask being causal, gives the end token the same embedding either way.
 */
import type { TextTowerConfig, TowerIo } from './architecture.ts';
import { int, onnxDataType, OnnxGraph, type GraphOptions } from './onnx-graph.ts';
import { TransformerOps } from './transformer-ops.ts';
import { WeightReader, type WeightMap } from './weights.ts';

export interface TextGraphNames {
  ids: string;
  idsType: 'int64' | 'int32';
  /** An attention_mask input (1 = token, 0 = padding), as Hugging Face exports take. */
  mask?: string;
  /** 'dynamic': [batch, 'sequence']; 'fixed': [batch, contextLength], as Immich exports declare. */
  sequence: 'dynamic' | 'fixed';
  output: string;
}

/** Xenova/clip-vit-base-patch32's onnx/text_model.onnx. */
export const HF_TEXT_NAMES: TextGraphNames = { ids: 'input_ids', idsType: 'int64', mask: 'attention_mask', sequence: 'dynamic', output: 'text_embeds' };
/** Immich's OpenCLIP exports, textual/model.onnx. */
export const OPENCLIP_TEXT_NAMES: TextGraphNames = { ids: 'text', idsType: 'int32', sequence: 'fixed', output: 'embedding' };

/** torch.finfo(torch.float32).min, what Hugging Face adds for padding keys. */
const FLOAT32_MIN = -3.4028234663852886e38;

/** OpenAI's build_attention_mask: -inf above the diagonal, so a token sees only itself and what precedes it. */
function causalMask(context: number): Float32Array {
  const mask = new Float32Array(context * context);
  for (let row = 0; row < context; row++) mask.fill(-Infinity, row * context + row + 1, (row + 1) * context);
  return mask;
}

/** Builds the text tower from the text half of a CLIP state dict (token_embedding.weight, positional_embedding, transformer.*, ln_final, text_projection). */
export function buildTextGraph(
  cfg: TextTowerConfig,
  weights: WeightMap,
  names: TextGraphNames = HF_TEXT_NAMES,
  options: GraphOptions = {},
  io: TowerIo = {},
): OnnxGraph {
  const { contextLength, vocabSize, width, layers, heads, outputDim } = cfg;
  const g = new OnnxGraph('clip_text', options);
  const reader = new WeightReader(weights, 'text tower');
  const ops = new TransformerOps(g, reader);
  const seqDim = names.sequence === 'fixed' ? contextLength : 'sequence';

  const batchDim = io.batch ?? 'batch';
  const ids = g.input(names.ids, names.idsType, [batchDim, seqDim]);
  const attentionMask = names.mask ? g.input(names.mask, 'int64', [batchDim, seqDim]) : undefined;

  const tokenEmbedding = g.weight('token_embedding.weight', reader.take('token_embedding.weight', [vocabSize, width]));
  const embedded = g.node('Gather', [tokenEmbedding, ids], { axis: int(0) }, { name: 'token_embeddings' });

  const seqLen = g.node('Shape', [ids], { start: int(1), end: int(2) }, { name: 'sequence_length' });
  const positionTable = g.weight('positional_embedding', reader.take('positional_embedding', [contextLength, width]));
  const positions = g.node('Slice', [positionTable, ops.int64([0], 'zero_1d'), seqLen, ops.int64([0], 'zero_1d')], {}, { name: 'positions' });
  let x = g.node('Add', [embedded, positions], {}, { name: 'tokens_positioned' });

  const maskTable = g.constant({ dims: [contextLength, contextLength], data: causalMask(contextLength) }, 'causal_mask_table');
  const squareEnds = g.node('Concat', [seqLen, seqLen], { axis: int(0) }, { name: 'mask_ends' });
  let mask = g.node('Slice', [maskTable, ops.int64([0, 0], 'zero_2d'), squareEnds, ops.int64([0, 1], 'axes_01')], {}, { name: 'causal_mask' });
  if (attentionMask) {
    // Padding keys get float32's minimum added, as transformers' CLIPTextTransformer does;
    // with trailing padding the causal mask already hides them from the end token.
    const keep = g.node('Cast', [attentionMask], { to: int(onnxDataType('float32')) }, { name: 'attention_mask_f32' });
    const dropped = g.node('Sub', [ops.scalar(1, 'one'), keep], {}, { name: 'attention_mask_inverted' });
    const keyBias = g.node('Mul', [dropped, ops.scalar(FLOAT32_MIN, 'float32_min')], {}, { name: 'key_padding_bias' });
    const keyBias4d = g.node('Unsqueeze', [keyBias, ops.int64([1, 2], 'axes_12')], {}, { name: 'key_padding_bias_4d' });
    mask = g.node('Add', [mask, keyBias4d], {}, { name: 'attention_bias' });
  }

  for (let i = 0; i < layers; i++) x = ops.residualBlock(x, `transformer.resblocks.${i}.`, { width, heads }, mask);

  // OpenAI pools at text.argmax(dim=-1): the end token has the largest id in the vocabulary,
  // and ArgMax takes the first maximum, so padding with the end token (as some tokenizers do) is fine too.
  const idsForArgMax = names.idsType === 'int32' ? ids : g.node('Cast', [ids], { to: int(onnxDataType('int32')) }, { name: 'ids_int32' });
  const endIndex = g.node('ArgMax', [idsForArgMax], { axis: int(-1), keepdims: int(1) }, { name: 'end_token_index' });
  const endToken = g.node('GatherND', [x, endIndex], { batch_dims: int(1) }, { name: 'end_token' });
  const pooled = ops.layerNorm(endToken, 'ln_final', width);
  const projection = g.weight('text_projection', reader.take('text_projection', [width, outputDim]));
  const embedding = g.node('MatMul', [pooled, projection], {}, { name: 'projected' });
  const returned = io.float16 ? g.node('Cast', [embedding], { to: int(onnxDataType('float16')) }, { name: 'projected_f16' }) : embedding;
  g.output(returned, names.output, io.float16 ? 'float16' : 'float32', [batchDim, outputDim]);

  reader.assertAllUsed();
  return g;
}
