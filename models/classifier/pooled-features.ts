/**
 * Exposes a classifier's pooled features as an extra graph output. An ImageNet CNN's pooled
 * features (MobileNetV2: 1,280 values, ResNet-50: 2,048) describe an image far better for
 * similarity than its 1,000 class logits, but exports only output the logits. onnxruntime
 * returns graph outputs only, so the graph is rewritten in memory: the last global average
 * pool (float, or int8 QLinearGlobalAveragePool followed by a DequantizeLinear) is flattened
 * and added as an output. The file on disk is left alone.
 */
import onnxProto from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';

const { onnx } = onnxProto;

export const POOLED_FEATURES_OUTPUT = 'reprise_pooled_features';

export interface ExposedFeatures {
  /** The rewritten model. */
  bytes: Uint8Array;
  /** The pool node the features come from, for `reprise models check` to name. */
  source: string;
}

/**
 * The model with its pooled features as the output `POOLED_FEATURES_OUTPUT`, or undefined when
 * the graph has no global average pool, keeps weights in external files (which bytes loaded
 * from memory could not find), or already outputs something of that name.
 */
export function exposePooledFeatures(bytes: Uint8Array): ExposedFeatures | undefined {
  let model: OnnxTypes.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch {
    return undefined;
  }
  const graph = model.graph;
  if (!graph?.node?.length) return undefined;
  if ((graph.initializer ?? []).some((t) => t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL)) return undefined;
  if ((graph.output ?? []).some((o) => o.name === POOLED_FEATURES_OUTPUT)) return undefined;

  const pools = graph.node.filter((n) => isGlobalPool(n));
  const pool = pools[pools.length - 1];
  if (!pool) return undefined;

  const nodes: OnnxTypes.INodeProto[] = [];
  let pooled = pool.output![0]!;
  if (pool.opType === 'QLinearGlobalAveragePool') {
    // Inputs: x, x_scale, x_zero_point, y_scale, y_zero_point; the output is quantized with the last two.
    const [, , , scale, zeroPoint] = pool.input!;
    nodes.push({ opType: 'DequantizeLinear', name: 'reprise_dequantize_pooled', input: [pooled, scale!, zeroPoint!], output: ['reprise_pooled_float'] });
    pooled = 'reprise_pooled_float';
  }
  nodes.push({
    opType: 'Flatten',
    name: 'reprise_flatten_pooled',
    input: [pooled],
    output: [POOLED_FEATURES_OUTPUT],
    attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 1 }],
  });
  graph.node.push(...nodes);
  graph.output = [
    ...(graph.output ?? []),
    {
      name: POOLED_FEATURES_OUTPUT,
      type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: [{ dimParam: 'batch' }, { dimParam: 'features' }] } } },
    },
  ];
  return { bytes: onnx.ModelProto.encode(model).finish(), source: `${pool.opType} ${pool.name || pool.output![0]}` };
}

function isGlobalPool(n: OnnxTypes.INodeProto): boolean {
  if (n.opType === 'GlobalAveragePool' && !n.domain) return true;
  return n.opType === 'QLinearGlobalAveragePool' && n.domain === 'com.microsoft';
}
