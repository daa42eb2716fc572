import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { CLIP_SIZES, textTower } from '../../../models/generate/architecture.ts';
import { buildTextGraph, HF_TEXT_NAMES, OPENCLIP_TEXT_NAMES } from '../../../models/generate/clip-text.ts';
import { randomTextWeights } from '../../../models/generate/random-weights.ts';
import { maxAbsDiff } from './reference-data.ts';

const START = 49406;
const END = 49407;
const CONTEXT = 77;
/** Same weights, same arithmetic, only the count of masked-out zeros differs. */
const TOLERANCE = 1e-5;

const texts = [
  [START, 320, 1125, 539, 320, 2368, END],
  [START, 1929, END],
  [START, 320, 1579, 2533, 1943, 530, 518, 4063, 539, 320, 1070, 3932, END],
];

function padded(ids: number[], length: number, pad: number): number[] {
  return [...ids, ...Array<number>(length - ids.length).fill(pad)];
}

function int64(rows: number[][]): ort.Tensor {
  return new ort.Tensor('int64', BigInt64Array.from(rows.flat(), (v) => BigInt(v)), [rows.length, rows[0]!.length]);
}

function maskOf(rows: number[][], lengths: number[]): ort.Tensor {
  return int64(rows.map((r, i) => r.map((_, j) => (j < lengths[i]! ? 1 : 0))));
}

describe('generate: CLIP text tower', () => {
  const cfg = textTower(CLIP_SIZES.tiny);
  const weights = randomTextWeights(cfg, 11);
  let hf: ort.InferenceSession;
  let openclip: ort.InferenceSession;

  before(async () => {
    // Fatal only: one test feeds a too-long sequence on purpose, and its rejection is what is checked.
    const options = { graphOptimizationLevel: 'all', logSeverityLevel: 4 } as const;
    hf = await ort.InferenceSession.create(buildTextGraph(cfg, weights, HF_TEXT_NAMES).serialize(), options);
    openclip = await ort.InferenceSession.create(buildTextGraph(cfg, weights, OPENCLIP_TEXT_NAMES).serialize(), options);
  });

  async function embedHf(rows: number[][], lengths: number[]): Promise<Float32Array> {
    const out = await hf.run({ input_ids: int64(rows), attention_mask: maskOf(rows, lengths) });
    assert.deepEqual(out.text_embeds!.dims, [rows.length, cfg.outputDim]);
    return out.text_embeds!.data as Float32Array;
  }

  it('gives the same embedding for a text padded to 77 and cut to its length', async () => {
    for (const ids of texts) {
      const short = await embedHf([ids], [ids.length]);
      for (const pad of [0, END]) {
        const long = await embedHf([padded(ids, CONTEXT, pad)], [ids.length]);
        const diff = maxAbsDiff(short, long);
        assert.ok(diff < TOLERANCE, `pad ${pad}, ${ids.length} tokens: max abs diff ${diff}`);
      }
      // An all-ones mask (some callers send no real mask) changes nothing either: the causal mask already hides padding.
      const unmasked = await embedHf([padded(ids, CONTEXT, 0)], [CONTEXT]);
      assert.ok(maxAbsDiff(short, unmasked) < TOLERANCE);
    }
  });

  it('embeds a batch as it embeds each text alone', async () => {
    const longest = Math.max(...texts.map((t) => t.length));
    const batch = await embedHf(texts.map((t) => padded(t, longest, 0)), texts.map((t) => t.length));
    for (const [i, ids] of texts.entries()) {
      const alone = await embedHf([ids], [ids.length]);
      const diff = maxAbsDiff(alone, batch.slice(i * cfg.outputDim, (i + 1) * cfg.outputDim));
      assert.ok(diff < TOLERANCE, `text ${i}: max abs diff ${diff}`);
    }
  });

  it('in the OpenCLIP form takes int32 [batch, 77] and gives the same embeddings', async () => {
    const rows = texts.map((t) => padded(t, CONTEXT, 0));
    const out = await openclip.run({ text: new ort.Tensor('int32', Int32Array.from(rows.flat()), [rows.length, CONTEXT]) });
    assert.deepEqual(out.embedding!.dims, [rows.length, cfg.outputDim]);
    const reference = await embedHf(rows, texts.map((t) => t.length));
    assert.ok(maxAbsDiff(out.embedding!.data as Float32Array, reference) < TOLERANCE);
    await assert.rejects(openclip.run({ text: new ort.Tensor('int32', Int32Array.from(texts[0]!), [1, texts[0]!.length]) }), /dimensions|shape/i);
  });

  it('refuses a sequence longer than the context', async () => {
    const ids = padded([START, END], CONTEXT + 1, 0);
    await assert.rejects(embedHf([ids], [2]));
  });
});
