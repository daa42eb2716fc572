/**
 * npm run bench:models — the full-size generated ViT-B/32 (random weights, real compute):
 * image embeddings per second at batch 1/8/16/32 and 1/2 threads, text latency at 77 tokens
 * and at real length, peak RSS, and onnxruntime settings compared. Prints tables and writes
 * bench-output/models.json. The model is generated once into bench-output/models/.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateClipModel } from '../../models/generate/model-folder.ts';
import { resolveModelFiles } from '../../models/layout.ts';
import { readModelConfig } from '../../models/model-config.ts';
import { ImageEncoder } from '../../models/image-encoder.ts';
import { TextEncoder } from '../../models/text-encoder.ts';
import { preprocessImages } from '../../models/preprocess.ts';
import type { SessionOptions } from '../../models/session.ts';
import { fixture } from '../support/fixtures.ts';

const QUICK = process.env.BENCH_QUICK === '1';
const modelDir = path.resolve('bench-output/models/clip-vit-b-32-generated');
if (!existsSync(path.join(modelDir, 'onnx', 'text_model.onnx')) || !existsSync(path.join(modelDir, 'onnx', 'vision_model_fp16.onnx'))) {
  console.log(`generating the full-size ViT-B/32 (random weights) into ${modelDir} …`);
  await generateClipModel({ dir: modelDir, layout: 'huggingface', size: 'vit-b-32', seed: 1, fp16: true, bpeVocabPath: fixture('clip', 'bpe_simple_vocab_16e6.txt') });
}
const files = resolveModelFiles(modelDir);
const config = readModelConfig(files);

const photoDir = fixture('images', 'documerica');
const photos = readdirSync(photoDir).filter((f) => f.endsWith('.jpg')).sort().slice(0, 64).map((f) => readFileSync(path.join(photoDir, f)));
const peak = () => Math.round(process.resourceUsage().maxRSS / 1024);
const ms = (t0: number) => performance.now() - t0;
const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

interface ImageRow { variant: string; threads: number; batch: number; setting: string; imagesPerSecond: number; inferenceOnlyPerSecond: number }
const imageRows: ImageRow[] = [];

async function measureImages(variantFile: string, variant: string, threads: number, batch: number, setting = 'default', tuning?: SessionOptions['tuning']) {
  const enc = await ImageEncoder.load(variantFile, config, { threads, executionProvider: 'cpu', batchSize: batch, tuning });
  const n = QUICK ? batch * 2 : Math.max(32, batch * 2);
  const inputs = Array.from({ length: n }, (_, i) => photos[i % photos.length]!);
  await enc.embed(inputs.slice(0, batch));
  let t0 = performance.now();
  await enc.embed(inputs);
  const withPre = n / (ms(t0) / 1000);
  // The same images already preprocessed: what the model alone costs.
  const pixels = await preprocessImages(inputs.slice(0, batch), config.image);
  t0 = performance.now();
  for (let done = 0; done < n; done += batch) await enc.run(pixels, batch);
  const inferenceOnly = n / (ms(t0) / 1000);
  await enc.close();
  imageRows.push({ variant, threads, batch, setting, imagesPerSecond: +withPre.toFixed(2), inferenceOnlyPerSecond: +inferenceOnly.toFixed(2) });
  console.log(`  ${variant} threads=${threads} batch=${batch} ${setting}: ${withPre.toFixed(2)} img/s (inference only ${inferenceOnly.toFixed(2)})`);
}

console.log('image tower');
for (const threads of [1, 2]) {
  for (const batch of [1, 8, 16, 32]) await measureImages(files.visionModel, 'fp32', threads, batch);
}
await measureImages(files.visionModel, 'fp32', 2, 8, 'graph optimisation disabled', { graphOptimizationLevel: 'disabled' });
await measureImages(files.visionModel, 'fp32', 2, 8, 'basic optimisation', { graphOptimizationLevel: 'basic' });
await measureImages(files.visionModel, 'fp32', 2, 8, 'no memory arena', { enableCpuMemArena: false });
await measureImages(files.visionModel, 'fp32', 2, 8, 'parallel execution, 2 inter-op threads', { executionMode: 'parallel', interOpNumThreads: 2 });
if (files.visionVariants.fp16) await measureImages(files.visionVariants.fp16, 'fp16 weights', 2, 8);
if (files.visionVariants.quantized) await measureImages(files.visionVariants.quantized, 'int8 (quantized)', 2, 8);

console.log('text tower');
const queries = [
  'a horse-drawn carriage in the snow',
  'portrait of a woman with a hat',
  'une rue de Paris sous la pluie',
  'children playing on a beach',
  'factory workers at lunch',
  'a steam locomotive crossing a bridge',
  'fishing boats in a harbour at dawn',
  'la cathédrale de Reims après le bombardement',
  'a farmer with his tractor',
  'street market with fruit stalls',
];
interface TextRow { threads: number; mode: string; tokens: number; p50Ms: number; p95Ms: number }
const textRows: TextRow[] = [];
for (const threads of [1, 2]) {
  const text = await TextEncoder.load(files.textModel, files.tokenizer, files.tokenizerConfig, config, { threads, executionProvider: 'cpu', cacheSize: 0 });
  for (const mode of ['max', 'longest'] as const) {
    const times: number[] = [];
    let tokens = 0;
    const rounds = QUICK ? 3 : 10;
    for (let r = 0; r < rounds; r++) {
      for (const q of queries) {
        const t0 = performance.now();
        const batch = text.tokenize([q], mode);
        await text.run(batch);
        times.push(ms(t0));
        tokens += batch.seqLen;
      }
    }
    const row = { threads, mode: mode === 'max' ? 'padded to 77' : 'real length', tokens: Math.round(tokens / times.length), p50Ms: +percentile(times, 50).toFixed(2), p95Ms: +percentile(times, 95).toFixed(2) };
    textRows.push(row);
    console.log(`  threads=${threads} ${row.mode} (${row.tokens} tokens): p50 ${row.p50Ms} ms, p95 ${row.p95Ms} ms`);
  }
  await text.close();
}

const best = imageRows.filter((r) => r.setting === 'default').reduce((a, b) => (b.imagesPerSecond > a.imagesPerSecond ? b : a));
const typical = textRows.filter((r) => r.mode === 'real length').reduce((a, b) => (b.p95Ms < a.p95Ms ? b : a));
console.log(`\nmodels benchmark: generated ViT-B/32 (random weights, real architecture), ${os.availableParallelism()} cores, ${os.cpus()[0]?.model}\n`);
console.table(imageRows);
console.table(textRows);
console.log(`best: ${best.imagesPerSecond} images/s (fp32, batch ${best.batch}, ${best.threads} threads; target ≥ 12); text query p95 ${typical.p95Ms} ms at real length (target ≤ 25); peak RSS ${peak()} MB`);
const out = {
  benchmark: 'models',
  date: new Date().toISOString(),
  model: 'generated clip-vit-b-32 (huggingface layout, random weights)',
  machine: { cores: os.availableParallelism(), cpu: os.cpus()[0]?.model, node: process.version },
  imagesPerSecond: best.imagesPerSecond,
  bestImageConfig: { batch: best.batch, threads: best.threads },
  textP95Ms: typical.p95Ms,
  peakRssMb: peak(),
  images: imageRows,
  text: textRows,
};
mkdirSync('bench-output', { recursive: true });
writeFileSync('bench-output/models.json', JSON.stringify(out, null, 2) + '\n');
console.log('wrote bench-output/models.json');
