import assert from 'node:assert/strict';
import type { onnx } from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { decodeModel, int, IR_VERSION, OnnxGraph, OPSET } from '../../../models/generate/onnx-graph.ts';

/** y = LayerNorm(x · w + b) summed with a gathered row: weights, int64 constants, attributes, dynamic axes. */
function sampleGraph(weightStorage: 'float32' | 'float16'): OnnxGraph {
  const g = new OnnxGraph('sample', { weightStorage });
  const x = g.input('x', 'float32', ['batch', 'sequence', 2]);
  const w = g.weight('w', { dims: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) });
  const b = g.weight('b', { dims: [3], data: Float32Array.from([0.5, -0.5, 0.25]) });
  const y = g.node('Add', [g.node('MatMul', [x, w]), b]);
  const first = g.node('Gather', [y, g.constantInt64([0], [])], { axis: int(1) });
  g.output(first, 'first', 'float32', ['batch', 3]);
  return g;
}

describe('generate: ONNX graph builder', () => {
  it('writes a model with opset 17, IR 8 and named dynamic axes', () => {
    const model = decodeModel(sampleGraph('float32').serialize());
    const graph = model.graph as onnx.GraphProto;
    assert.equal(Number(model.irVersion), IR_VERSION);
    assert.deepEqual(model.opsetImport.map((o) => [o.domain, Number(o.version)]), [['', OPSET]]);
    const dims = graph.input[0]!.type!.tensorType!.shape!.dim!.map((d) => d.dimParam || Number(d.dimValue));
    assert.deepEqual(dims, ['batch', 'sequence', 2]);
    assert.deepEqual(graph.output.map((o) => o.name), ['first']);
  });

  it('runs in onnxruntime at any batch and sequence length', async () => {
    const s = await ort.InferenceSession.create(sampleGraph('float32').serialize());
    for (const [batch, seq] of [[1, 1], [3, 5]] as const) {
      const x = Float32Array.from({ length: batch * seq * 2 }, (_, i) => i);
      const out = (await s.run({ x: new ort.Tensor('float32', x, [batch, seq, 2]) })).first!;
      assert.deepEqual(out.dims, [batch, 3]);
      // Row 0 of the first batch entry: [0, 1] · w + b.
      assert.deepEqual(Array.from((out.data as Float32Array).slice(0, 3)), [4.5, 4.5, 6.25]);
    }
  });

  it('stores weights as float16 behind a cast when asked, and the model still runs in float32', async () => {
    const bytes = sampleGraph('float16').serialize();
    const graph = decodeModel(bytes).graph as onnx.GraphProto;
    const w = graph.initializer.find((t) => t.name === 'w_fp16')!;
    assert.equal(w.dataType, 10);
    assert.equal(w.rawData!.length, 12);
    assert.equal(graph.node[0]!.opType, 'Cast');
    const s = await ort.InferenceSession.create(bytes);
    const out = (await s.run({ x: new ort.Tensor('float32', Float32Array.from([0, 1]), [1, 1, 2]) })).first!;
    assert.deepEqual(Array.from(out.data as Float32Array), [4.5, 4.5, 6.25]);
  });

  it('refuses a name used twice and data that does not fill its dims', () => {
    const g = new OnnxGraph('bad');
    g.input('x', 'float32', [1]);
    assert.throws(() => g.weight('x', { dims: [1], data: new Float32Array(1) }), /used twice/);
    assert.throws(() => g.weight('y', { dims: [2, 2], data: new Float32Array(3) }), /3 values for dims \[2, 2\]/);
  });
});
