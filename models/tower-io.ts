/**
 * What every tower needs to talk to its ONNX graph whatever the export chose: float16 or
 * float32 tensors, and a batch size that is either free or fixed by the export.
 */
import { float16BitsToFloat32, float32ArrayToFloat16 } from './generate/float16.ts';
import type { PlainTensor, TensorInfo } from './session.ts';

/** Element types a tower's float input or output may have; anything else is refused at load. */
export const SUPPORTED_FLOAT_TYPES: readonly string[] = ['float32', 'float16'];

/**
 * The batch size an export fixes on this tensor's first axis, or undefined when it is dynamic.
 * Immich's exports declare 1: feeding two images at once fails inside onnxruntime.
 */
export function fixedBatchOf(info: TensorInfo): number | undefined {
  const batch = info.shape[0];
  return typeof batch === 'number' && batch > 0 ? batch : undefined;
}

/** float32 values as the input tensor the graph declares: float16 exports get IEEE half bits (Node has no Float16Array). */
export function floatInput(values: Float32Array, info: TensorInfo, dims: readonly number[]): PlainTensor {
  if (info.type === 'float16') return { type: 'float16', data: float32ArrayToFloat16(values), dims };
  if (info.type !== 'float32') throw new TypeError(`input ${info.name} is ${info.type}; only float32 and float16 inputs are supported`);
  return { type: 'float32', data: values, dims };
}

/** An output tensor's values as float32, whatever float type the graph returns. */
export function floatOutput(tensor: PlainTensor, name: string): Float32Array {
  if (tensor.data instanceof Float32Array) return tensor.data;
  if (tensor.type === 'float16' && tensor.data instanceof Uint16Array) {
    const out = new Float32Array(tensor.data.length);
    for (let i = 0; i < out.length; i++) out[i] = float16BitsToFloat32(tensor.data[i]!);
    return out;
  }
  throw new TypeError(`output ${name} is ${tensor.type}; only float32 and float16 outputs are supported`);
}

/**
 * Splits `count` items into calls of at most `perCall`; with a fixed batch every call is
 * padded up to it (`padded`), and only the first `size` results of a call are kept.
 */
export function plan(count: number, perCall: number, fixed: number | undefined): Array<{ from: number; size: number; padded: number }> {
  const step = fixed ?? Math.max(1, perCall);
  const out: Array<{ from: number; size: number; padded: number }> = [];
  for (let from = 0; from < count; from += step) {
    const size = Math.min(step, count - from);
    out.push({ from, size, padded: fixed ?? size });
  }
  return out;
}
