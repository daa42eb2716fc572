/**
 * Weights as the generator takes them: float32 tensors keyed by OpenAI's state-dict names,
 * in PyTorch's layouts ([out, in] for linear layers), checked as each one is used.
 */

export interface WeightTensor {
  dims: readonly number[];
  data: Float32Array;
}

export type WeightMap = ReadonlyMap<string, WeightTensor>;

/** Nested number arrays, as a state dict dumped to JSON (`tensor.tolist()`) holds them. */
export type NestedNumbers = number | NestedNumbers[];

export function tensorFromNested(value: NestedNumbers): WeightTensor {
  const dims: number[] = [];
  for (let v: NestedNumbers = value; Array.isArray(v); v = v[0] ?? 0) dims.push(v.length);
  const flat: number[] = [];
  const walk = (v: NestedNumbers): void => {
    if (Array.isArray(v)) for (const item of v) walk(item);
    else flat.push(v);
  };
  walk(value);
  const data = Float32Array.from(flat);
  const expected = dims.reduce((a, b) => a * b, 1);
  if (data.length !== expected) throw new Error(`ragged array: ${data.length} values for dims [${dims.join(', ')}]`);
  return { dims, data };
}

export function weightsFromNested(entries: Record<string, NestedNumbers>): Map<string, WeightTensor> {
  return new Map(Object.entries(entries).map(([k, v]) => [k, tensorFromNested(v)]));
}

/**
 * Hands out weights by name with their expected shape, remembering which were taken so a
 * state dict with a misspelt or extra key is refused instead of silently ignored.
 */
export class WeightReader {
  private readonly used = new Set<string>();

  constructor(
    private readonly weights: WeightMap,
    private readonly what: string,
  ) {}

  take(name: string, dims: readonly number[]): WeightTensor {
    const w = this.weights.get(name);
    if (!w) throw new Error(`${this.what}: weight ${name} is missing`);
    if (w.dims.length !== dims.length || w.dims.some((d, i) => d !== dims[i])) {
      throw new Error(`${this.what}: weight ${name} has shape [${w.dims.join(', ')}], expected [${dims.join(', ')}]`);
    }
    if (w.data.length !== dims.reduce((a, b) => a * b, 1)) {
      throw new Error(`${this.what}: weight ${name} holds ${w.data.length} values for shape [${dims.join(', ')}]`);
    }
    this.used.add(name);
    return w;
  }

  assertAllUsed(): void {
    const extra = [...this.weights.keys()].filter((k) => !this.used.has(k));
    if (extra.length > 0) throw new Error(`${this.what}: unexpected weights ${extra.join(', ')}`);
  }
}

/** [rows, cols] → [cols, rows]: PyTorch's Linear weight [out, in] as the right operand of MatMul. */
export function transpose2d(w: WeightTensor): WeightTensor {
  const [rows, cols] = w.dims as [number, number];
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const row = r * cols;
    for (let c = 0; c < cols; c++) out[c * rows + r] = w.data[row + c]!;
  }
  return { dims: [cols, rows], data: out };
}
