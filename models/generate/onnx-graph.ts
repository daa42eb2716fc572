/**
 * A small ONNX graph builder over onnx-proto, enough for the CLIP towers: typed inputs and
 * outputs with named dynamic axes, weights and constants as initializers, nodes, and a
 * deterministic serialisation (no timestamps, no map ordering) so the same graph always
 * gives the same bytes.
 */
import onnxProto from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';
import { float32ArrayToFloat16 } from './float16.ts';

// onnx-proto is CommonJS assigning module.exports, which Node's ESM loader cannot see
// named exports in; the default import is the whole module.
const { onnx } = onnxProto;

/**
 * Opset 17 is the first with LayerNormalization and what current PyTorch exports target;
 * IR version 8 is what such exports carry and onnxruntime 1.30 reads it.
 */
export const OPSET = 17;
export const IR_VERSION = 8;

export type ElementType = 'float32' | 'float16' | 'int32' | 'int64';
/** A fixed size, or the name of a dynamic axis ('batch', 'sequence'). */
export type Dim = number | string;

const DATA_TYPE: Record<ElementType, number> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  float16: onnx.TensorProto.DataType.FLOAT16,
  int32: onnx.TensorProto.DataType.INT32,
  int64: onnx.TensorProto.DataType.INT64,
};

/** The TensorProto.DataType number, for Cast's `to`. */
export function onnxDataType(type: ElementType): number {
  return DATA_TYPE[type];
}

export type TensorData = Float32Array | Uint16Array | Int32Array | BigInt64Array;

export interface TensorValue {
  dims: readonly number[];
  data: TensorData;
  /** Needed only for Uint16Array, which is taken as float16 bits. */
  type?: ElementType;
}

export type Attribute =
  | { float: number }
  | { int: number }
  | { floats: readonly number[] }
  | { ints: readonly number[] }
  | { string: string };

/** Shorthands so call sites read `{ axis: int(-1), epsilon: float(1e-5) }`. */
export const float = (value: number): Attribute => ({ float: value });
export const int = (value: number): Attribute => ({ int: value });
export const ints = (values: readonly number[]): Attribute => ({ ints: values });
export const floats = (values: readonly number[]): Attribute => ({ floats: values });

export interface GraphOptions {
  /**
   * 'float16' stores every weight as float16 with a Cast back to float32 in front of its
   * users: half the file, fp32 arithmetic (onnxruntime folds the casts at load).
   * Constants added with constant*() stay float32 whatever this says.
   */
  weightStorage?: 'float32' | 'float16';
}

export interface ModelMetadata {
  producerName?: string;
  producerVersion?: string;
  docString?: string;
}

function elementType(value: TensorValue): ElementType {
  if (value.type) return value.type;
  if (value.data instanceof Float32Array) return 'float32';
  if (value.data instanceof Int32Array) return 'int32';
  if (value.data instanceof BigInt64Array) return 'int64';
  return 'float16';
}

function elementCount(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

function bytesOf(data: TensorData): Uint8Array {
  // raw_data is little-endian by the ONNX spec, which is also every platform Node runs on.
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function valueInfo(name: string, type: ElementType, dims: readonly Dim[]): OnnxTypes.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: DATA_TYPE[type],
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function attributeProto(name: string, value: Attribute): OnnxTypes.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if ('float' in value) return { name, type: T.FLOAT, f: value.float };
  if ('int' in value) return { name, type: T.INT, i: value.int };
  if ('floats' in value) return { name, type: T.FLOATS, floats: [...value.floats] };
  if ('ints' in value) return { name, type: T.INTS, ints: [...value.ints] };
  return { name, type: T.STRING, s: new TextEncoder().encode(value.string) };
}

export class OnnxGraph {
  private readonly inputs: OnnxTypes.IValueInfoProto[] = [];
  private readonly outputs: OnnxTypes.IValueInfoProto[] = [];
  private readonly initializers: OnnxTypes.ITensorProto[] = [];
  /** Casts of fp16-stored weights; emitted before every other node so the graph stays topologically sorted. */
  private readonly weightCasts: OnnxTypes.INodeProto[] = [];
  private readonly nodes: OnnxTypes.INodeProto[] = [];
  private readonly names = new Set<string>();
  private counter = 0;

  constructor(
    readonly name: string,
    private readonly options: GraphOptions = {},
  ) {}

  private claim(name: string): string {
    if (this.names.has(name)) throw new Error(`ONNX graph ${this.name}: the name ${name} is used twice`);
    this.names.add(name);
    return name;
  }

  private fresh(base: string): string {
    let candidate = base;
    while (this.names.has(candidate)) candidate = `${base}_${++this.counter}`;
    return this.claim(candidate);
  }

  input(name: string, type: ElementType, dims: readonly Dim[]): string {
    this.inputs.push(valueInfo(this.claim(name), type, dims));
    return name;
  }

  /** Declares `value` (a name produced by a node) as a graph output called `name`. */
  output(value: string, name: string, type: ElementType, dims: readonly Dim[]): void {
    if (value !== name) this.node('Identity', [value], {}, { outputs: [name] });
    this.outputs.push(valueInfo(name, type, dims));
  }

  private addInitializer(name: string, value: TensorValue, type: ElementType): void {
    const expected = elementCount(value.dims);
    if (value.data.length !== expected) {
      throw new Error(`ONNX graph ${this.name}: ${name} has ${value.data.length} values for dims [${value.dims.join(', ')}] (${expected} expected)`);
    }
    this.initializers.push({ name, dims: [...value.dims], dataType: DATA_TYPE[type], rawData: bytesOf(value.data) });
  }

  /** A learned tensor, stored as the graph's weight storage says; returns the name to use it by. */
  weight(name: string, value: TensorValue): string {
    const type = elementType(value);
    if (this.options.weightStorage === 'float16' && type === 'float32') {
      const stored = this.fresh(`${name}_fp16`);
      this.addInitializer(stored, { dims: value.dims, data: float32ArrayToFloat16(value.data as Float32Array) }, 'float16');
      this.claim(name);
      this.weightCasts.push({
        opType: 'Cast',
        name: `${name}_cast`,
        input: [stored],
        output: [name],
        attribute: [attributeProto('to', int(DATA_TYPE.float32))],
      });
      return name;
    }
    this.addInitializer(this.claim(name), value, type);
    return name;
  }

  /** A fixed tensor that is part of the computation rather than learned (shapes, masks, scales). */
  constant(value: TensorValue, hint = 'const'): string {
    const name = this.fresh(hint);
    this.addInitializer(name, value, elementType(value));
    return name;
  }

  constantInt64(values: readonly number[], dims: readonly number[] = [values.length], hint = 'const_i64'): string {
    return this.constant({ dims, data: BigInt64Array.from(values, (v) => BigInt(v)) }, hint);
  }

  constantFloat(values: readonly number[] | number, dims?: readonly number[], hint = 'const_f32'): string {
    const list = typeof values === 'number' ? [values] : values;
    return this.constant({ dims: dims ?? (typeof values === 'number' ? [] : [list.length]), data: Float32Array.from(list) }, hint);
  }

  /**
   * Adds a node and returns its output names. `name` prefixes the node's outputs so a
   * graph viewed in Netron reads like the model it came from.
   */
  nodeOutputs(
    opType: string,
    inputs: readonly string[],
    attributes: Record<string, Attribute> = {},
    opts: { outputs?: number | readonly string[]; name?: string } = {},
  ): string[] {
    const base = opts.name ?? opType.toLowerCase();
    const outputs = Array.isArray(opts.outputs)
      ? opts.outputs.map((o) => this.claim(o))
      : Array.from({ length: (opts.outputs as number | undefined) ?? 1 }, (_, i) => this.fresh(i === 0 ? base : `${base}_${i}`));
    this.nodes.push({
      opType,
      name: this.fresh(`${base}_node`),
      input: [...inputs],
      output: outputs,
      attribute: Object.entries(attributes).map(([k, v]) => attributeProto(k, v)),
    });
    return outputs;
  }

  /** Adds a single-output node and returns that output's name. */
  node(
    opType: string,
    inputs: readonly string[],
    attributes: Record<string, Attribute> = {},
    opts: { outputs?: readonly string[]; name?: string } = {},
  ): string {
    return this.nodeOutputs(opType, inputs, attributes, opts)[0]!;
  }

  toModel(meta: ModelMetadata = {}): OnnxTypes.IModelProto {
    return {
      irVersion: IR_VERSION,
      opsetImport: [{ domain: '', version: OPSET }],
      producerName: meta.producerName ?? 'reprise-generate',
      producerVersion: meta.producerVersion ?? '',
      docString: meta.docString ?? '',
      graph: {
        name: this.name,
        input: this.inputs,
        output: this.outputs,
        initializer: this.initializers,
        node: [...this.weightCasts, ...this.nodes],
      },
    };
  }

  serialize(meta: ModelMetadata = {}): Buffer {
    const bytes = onnx.ModelProto.encode(this.toModel(meta)).finish();
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
}

/** Parses a serialised model back, for tests and for inspecting generated files. */
export function decodeModel(bytes: Uint8Array): OnnxTypes.ModelProto {
  return onnx.ModelProto.decode(bytes);
}
