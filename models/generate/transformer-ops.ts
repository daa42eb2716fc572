/**
 * The pieces both CLIP towers are made of, as ONNX nodes: LayerNorm, Linear, and
 * clip.model.ResidualAttentionBlock. Activations are kept batch-first ([batch, tokens,
 * width]); OpenAI's code permutes to [tokens, batch, width] for nn.MultiheadAttention,
 * which is the same arithmetic.
 */
import { float, int, ints, type OnnxGraph } from './onnx-graph.ts';
import { transpose2d, type WeightReader } from './weights.ts';

/** clip.model.LayerNorm is torch's with its default epsilon. */
export const LAYER_NORM_EPSILON = 1e-5;
/** QuickGELU, x·σ(1.702·x), the activation OpenAI trained CLIP with. */
export const QUICK_GELU_ALPHA = 1.702;

export interface BlockShape {
  width: number;
  heads: number;
}

export class TransformerOps {
  private readonly constants = new Map<string, string>();

  constructor(
    readonly g: OnnxGraph,
    readonly weights: WeightReader,
  ) {}

  /** One initializer per distinct constant, shared by every block that uses it. */
  int64(values: readonly number[], hint: string): string {
    const key = `i64:${values.join(',')}`;
    let name = this.constants.get(key);
    if (!name) this.constants.set(key, (name = this.g.constantInt64(values, [values.length], hint)));
    return name;
  }

  scalar(value: number, hint: string): string {
    const key = `f32:${value}`;
    let name = this.constants.get(key);
    if (!name) this.constants.set(key, (name = this.g.constantFloat(value, [], hint)));
    return name;
  }

  layerNorm(x: string, prefix: string, width: number): string {
    const scale = this.g.weight(`${prefix}.weight`, this.weights.take(`${prefix}.weight`, [width]));
    const bias = this.g.weight(`${prefix}.bias`, this.weights.take(`${prefix}.bias`, [width]));
    return this.g.node('LayerNormalization', [x, scale, bias], { axis: int(-1), epsilon: float(LAYER_NORM_EPSILON) }, { name: prefix });
  }

  /**
   * nn.Linear over the last axis. The weight is stored transposed ([in, out]) because
   * MatMul takes it as its right operand, as torch.onnx.export stores it.
   */
  linear(x: string, prefix: string, weightName: string, biasName: string, inDim: number, outDim: number): string {
    const w = this.g.weight(weightName, transpose2d(this.weights.take(weightName, [outDim, inDim])));
    const b = this.g.weight(biasName, this.weights.take(biasName, [outDim]));
    const product = this.g.node('MatMul', [x, w], {}, { name: `${prefix}_matmul` });
    return this.g.node('Add', [product, b], {}, { name: prefix });
  }

  /**
   * nn.MultiheadAttention (self-attention, packed in_proj) on [batch, tokens, width].
   * `mask` is added to the scores ([tokens, tokens] or broadcastable to [batch, heads, tokens, tokens]).
   */
  selfAttention(x: string, prefix: string, shape: BlockShape, mask?: string): string {
    const { width, heads } = shape;
    const headDim = width / heads;
    const g = this.g;
    const qkv = this.linear(x, `${prefix}in_proj`, `${prefix}in_proj_weight`, `${prefix}in_proj_bias`, width, 3 * width);
    const [q, k, v] = g.nodeOutputs('Split', [qkv, this.int64([width, width, width], 'qkv_split')], { axis: int(-1) }, { outputs: 3, name: `${prefix}qkv` }) as [string, string, string];
    const perHead = this.int64([0, 0, heads, headDim], `heads_${heads}x${headDim}`);
    const split = (t: string, perm: number[], name: string) =>
      g.node('Transpose', [g.node('Reshape', [t, perHead], {}, { name: `${prefix}${name}_heads` })], { perm: ints(perm) }, { name: `${prefix}${name}_t` });
    // Scaling q before the product, as nn.MultiheadAttention does.
    const qScaled = g.node('Mul', [q, this.scalar(1 / Math.sqrt(headDim), `attn_scale_${headDim}`)], {}, { name: `${prefix}q_scaled` });
    const qh = split(qScaled, [0, 2, 1, 3], 'q'); // [batch, heads, tokens, headDim]
    const kt = split(k, [0, 2, 3, 1], 'k'); // [batch, heads, headDim, tokens]
    const vh = split(v, [0, 2, 1, 3], 'v');
    let scores = g.node('MatMul', [qh, kt], {}, { name: `${prefix}scores` });
    if (mask) scores = g.node('Add', [scores, mask], {}, { name: `${prefix}scores_masked` });
    const probs = g.node('Softmax', [scores], { axis: int(-1) }, { name: `${prefix}probs` });
    const context = g.node('MatMul', [probs, vh], {}, { name: `${prefix}context` });
    const merged = g.node(
      'Reshape',
      [g.node('Transpose', [context], { perm: ints([0, 2, 1, 3]) }, { name: `${prefix}context_t` }), this.int64([0, 0, width], `merge_heads_${width}`)],
      {},
      { name: `${prefix}context_merged` },
    );
    return this.linear(merged, `${prefix}out_proj`, `${prefix}out_proj.weight`, `${prefix}out_proj.bias`, width, width);
  }

  /** clip.model.ResidualAttentionBlock: x + attn(ln_1(x)), then + mlp(ln_2(x)) with QuickGELU. */
  residualBlock(x: string, prefix: string, shape: BlockShape, mask?: string): string {
    const g = this.g;
    const { width } = shape;
    const attn = this.selfAttention(this.layerNorm(x, `${prefix}ln_1`, width), `${prefix}attn.`, shape, mask);
    const afterAttn = g.node('Add', [x, attn], {}, { name: `${prefix}attn_residual` });
    const hidden = this.linear(this.layerNorm(afterAttn, `${prefix}ln_2`, width), `${prefix}mlp.c_fc`, `${prefix}mlp.c_fc.weight`, `${prefix}mlp.c_fc.bias`, width, 4 * width);
    const gate = g.node('Sigmoid', [g.node('Mul', [hidden, this.scalar(QUICK_GELU_ALPHA, 'quick_gelu_alpha')], {}, { name: `${prefix}mlp.gelu_in` })], {}, { name: `${prefix}mlp.gelu_gate` });
    const activated = g.node('Mul', [hidden, gate], {}, { name: `${prefix}mlp.gelu` });
    const mlp = this.linear(activated, `${prefix}mlp.c_proj`, `${prefix}mlp.c_proj.weight`, `${prefix}mlp.c_proj.bias`, 4 * width, width);
    return g.node('Add', [afterAttn, mlp], {}, { name: `${prefix}mlp_residual` });
  }
}
