/**
 * `npm run models:generate -- --size vit-b-32 --layout huggingface --out DIR [--seed N] [--bpe PATH] [--fp16 [--fp16-io]] [--fixed-batch N]`
 * Writes a random-weight CLIP model folder for tests and benchmarks.
 */
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { CLIP_SIZES, type NamedSize } from './architecture.ts';
import { DEFAULT_SEED, generateClipModel } from './model-folder.ts';
import type { ModelLayout } from '../types.ts';

const USAGE = `usage: models:generate --size ${Object.keys(CLIP_SIZES).join('|')} --layout huggingface|openclip --out DIR [--seed N] [--bpe PATH] [--fp16 [--fp16-io]] [--fixed-batch N]

  --size    tiny (tests, a few MB) or vit-b-32 (OpenAI ViT-B/32 shapes, about 600 MB for both towers)
  --layout  huggingface (onnx/vision_model.onnx, …) or openclip (visual/model.onnx, …, as Immich exports)
  --out     folder to write; files already there with the same names are replaced
  --seed    integer seed for the random weights (default ${DEFAULT_SEED}); the same seed gives the same bytes
  --bpe     OpenAI's bpe_simple_vocab_16e6.txt, to write tokenizer.json; without it no tokenizer is written
  --fp16    also write onnx/*_fp16.onnx (huggingface layout only)
  --fp16-io the fp16 towers take and return float16 tensors (as exports converted without keep_io_types)
  --fixed-batch N  declare batch N on every tower (Immich's exports fix it at 1)
`;

export interface CliOutput {
  out: { write(text: string): unknown };
  err: { write(text: string): unknown };
}

export async function main(argv: string[], io: CliOutput = { out: process.stdout, err: process.stderr }): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        size: { type: 'string' },
        layout: { type: 'string' },
        out: { type: 'string' },
        seed: { type: 'string' },
        bpe: { type: 'string' },
        fp16: { type: 'boolean', default: false },
        'fp16-io': { type: 'boolean', default: false },
        'fixed-batch': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }));
  } catch (err) {
    io.err.write(`${(err as Error).message}\n${USAGE}`);
    return 1;
  }
  if (values.help) {
    io.out.write(USAGE);
    return 0;
  }
  const problems: string[] = [];
  if (!values.size || !(values.size in CLIP_SIZES)) problems.push(`--size must be one of ${Object.keys(CLIP_SIZES).join(', ')}`);
  if (values.layout !== 'huggingface' && values.layout !== 'openclip') problems.push('--layout must be huggingface or openclip');
  if (!values.out) problems.push('--out is required');
  const seed = values.seed === undefined ? DEFAULT_SEED : Number(values.seed);
  if (!Number.isSafeInteger(seed)) problems.push(`--seed must be an integer, got ${values.seed}`);
  const fixedBatch = values['fixed-batch'] === undefined ? undefined : Number(values['fixed-batch']);
  if (fixedBatch !== undefined && !(Number.isInteger(fixedBatch) && fixedBatch > 0)) problems.push(`--fixed-batch must be a positive integer, got ${values['fixed-batch']}`);
  if (problems.length) {
    io.err.write(`${problems.join('\n')}\n${USAGE}`);
    return 1;
  }

  const started = performance.now();
  try {
    const model = await generateClipModel({
      dir: values.out!,
      layout: values.layout as ModelLayout,
      size: values.size as NamedSize,
      seed,
      ...(values.bpe ? { bpeVocabPath: values.bpe } : {}),
      fp16: values.fp16,
      fp16Io: values['fp16-io'],
      ...(fixedBatch ? { fixedBatch } : {}),
    });
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    io.out.write(`wrote ${model.dir} (${values.size}, ${model.layout}, seed ${seed}): ${(model.bytes / 1e6).toFixed(1)} MB in ${seconds} s\n`);
    for (const [role, file] of Object.entries(model.files)) io.out.write(`  ${role.padEnd(16)} ${file}\n`);
    if (!values.bpe) io.out.write('  no tokenizer written (pass --bpe bpe_simple_vocab_16e6.txt for a complete folder)\n');
    return 0;
  } catch (err) {
    io.err.write(`models:generate failed: ${(err as Error).message}\n`);
    return 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  // No top-level await: test runners may load this file as CommonJS.
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
