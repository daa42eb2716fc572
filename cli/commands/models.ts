import path from 'node:path';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { withConfigOptions } from '../options.ts';
import { loadConfig, type RepriseConfig } from '../../config/index.ts';
import { CliError, EXIT } from '../exit.ts';
import { findModel, MODEL_REGISTRY, MODEL_VARIANTS, variantsOf, type ModelVariant, type RegistryEntry } from '../../models/index.ts';
import { ModelPullError, modelsCacheDir, pulledModelDir, pullModel, type PullEvent } from '../../models/index.ts';
import { resolveModelFiles } from '../../models/index.ts';
import { isClassifierFolder } from '../../models/index.ts';
import { readModelConfig } from '../../models/index.ts';
import { ModelFolderError, type ModelConfig, type ModelFiles } from '../../models/index.ts';
import type { ModelFolderReport } from '../../models/index.ts';

interface CommonFlags {
  config?: string;
  dataDir?: string;
  json?: boolean;
}

interface PullFlags extends CommonFlags {
  variant?: string;
  cacheDir?: string;
}

interface CheckFlags extends CommonFlags {
  path?: string;
  variant?: string;
}

function configFrom(flags: CommonFlags): RepriseConfig {
  return loadConfig({ file: flags.config, overrides: flags.dataDir ? { dataDir: flags.dataDir } : {} });
}

function parseVariant(value: string | undefined, fallback: ModelVariant): ModelVariant {
  if (value === undefined) return fallback;
  if ((MODEL_VARIANTS as readonly string[]).includes(value)) return value as ModelVariant;
  throw new CliError(`--variant must be one of ${MODEL_VARIANTS.join(', ')}, got "${value}"`, EXIT.FATAL);
}

export function runModelsList(flags: CommonFlags): number {
  const config = configFrom(flags);
  if (flags.json) {
    const rows = MODEL_REGISTRY.map((m) => ({ ...m, variants: variantsOf(m), default: m.name === config.models.name }));
    process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
    return EXIT.OK;
  }
  const header = ['name', 'dim', 'size (approx.)', 'languages', 'licence', 'source'];
  const rows = MODEL_REGISTRY.map((m) => [
    (m.name === config.models.name ? '* ' : '  ') + m.name,
    String(m.embeddingDim),
    approxSize(m),
    m.languages.join(', '),
    m.licence,
    m.sourceUrl,
  ]);
  process.stdout.write(table([['  ' + header[0]!, ...header.slice(1)], ...rows]) + '\n\n');
  for (const m of MODEL_REGISTRY) process.stdout.write(`  ${m.name}: ${m.whenToChoose}\n`);
  process.stdout.write(
    `\n* the configured model (models.name). Sizes are approximate downloads for fp32 (quantized in brackets).\n` +
      `Pull one with \`reprise models pull <name>\`; use it with models.name in reprise.config.json or REPRISE_MODELS__NAME.\n`,
  );
  return EXIT.OK;
}

function approxSize(m: RegistryEntry): string {
  const fp32 = m.approxDownloadMB.fp32;
  const q = m.approxDownloadMB.quantized;
  return `${fp32 !== undefined ? formatMB(fp32) : '?'}${q !== undefined ? ` (${formatMB(q)})` : ''}`;
}

function formatMB(mb: number): string {
  return mb >= 1000 ? `~${(mb / 1000).toFixed(1)} GB` : `~${mb} MB`;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n');
}

export async function runModelsPull(name: string, flags: PullFlags): Promise<number> {
  const config = configFrom(flags);
  const entry = findModel(name);
  if (!entry) {
    throw new CliError(
      `no model named "${name}"; known: ${MODEL_REGISTRY.map((m) => m.name).join(', ')}. ` +
        `For another model, place its folder by hand and set models.path (reprise models check --path DIR tells whether it will do).`,
      EXIT.FATAL,
    );
  }
  const variant = parseVariant(flags.variant, config.models.variant);
  const cacheDir = path.resolve(flags.cacheDir ?? modelsCacheDir(config.models, config.dataDir));
  const interactive = process.stderr.isTTY === true && !flags.json;
  const reporter = interactive ? terminalPullReporter() : jsonPullReporter();

  const controller = new AbortController();
  const stop = (signal: string) => {
    if (controller.signal.aborted) process.exit(EXIT.FATAL);
    controller.abort(new Error(`interrupted by ${signal}`));
  };
  const onInt = () => stop('SIGINT');
  const onTerm = () => stop('SIGTERM');
  process.once('SIGINT', onInt);
  process.once('SIGTERM', onTerm);

  let dir: string;
  try {
    dir = await pullModel(entry, {
      cacheDir,
      hubUrl: config.models.hubUrl,
      variant,
      token: process.env.HF_TOKEN || process.env.HUGGING_FACE_HUB_TOKEN || undefined,
      signal: controller.signal,
      onProgress: (e) => reporter.onEvent(e),
    });
  } catch (err) {
    reporter.stop();
    if (err instanceof ModelPullError) throw new CliError(err.message, EXIT.FATAL);
    throw err;
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  }
  reporter.stop();

  // A pulled folder must also load: check it the way indexing will, before anyone relies on it.
  const { files, modelConfig, report } = await checkFolder(dir, variant);
  if (flags.json) {
    process.stdout.write(JSON.stringify({ type: 'checked', dir, modelId: modelConfig.modelId, projectionDim: modelConfig.projectionDim, layout: files.layout }) + '\n');
  } else {
    process.stdout.write(`${entry.name} (${variant}) is in ${dir} and loads: ${modelConfig.projectionDim}-d embeddings, ${modelConfig.image.size}px images.\n`);
    if (report.vision.fixedBatch !== undefined) process.stdout.write(`  note: this export takes ${report.vision.fixedBatch} image per call (fixed batch)\n`);
    if (config.models.path) {
      process.stdout.write(`  note: models.path is set (${config.models.path}) and wins over models.name; unset it to use this model\n`);
    } else if (config.models.name !== entry.name || config.models.variant !== variant) {
      process.stdout.write(
        `  to use it: set "models": { "name": "${entry.name}"${variant !== 'fp32' ? `, "variant": "${variant}"` : ''} } in reprise.config.json, ` +
          `or REPRISE_MODELS__NAME=${entry.name}${variant !== 'fp32' ? ` REPRISE_MODELS__VARIANT=${variant}` : ''}\n`,
      );
    }
  }
  return EXIT.OK;
}

export async function runModelsCheck(flags: CheckFlags): Promise<number> {
  const config = configFrom(flags);
  const variant = parseVariant(flags.variant, config.models.variant);
  const dir = path.resolve(flags.path ?? config.models.path ?? pulledModelDir(modelsCacheDir(config.models, config.dataDir), config.models.name));
  if (isClassifierFolder(dir)) return checkClassifier(dir, flags.json);
  const { files, modelConfig, report } = await checkFolder(dir, variant);
  if (flags.json) {
    process.stdout.write(JSON.stringify({ ok: true, files, config: modelConfig, onnx: report }, null, 2) + '\n');
    return EXIT.OK;
  }
  process.stdout.write(describeFolder(files, modelConfig, report) + '\nok: this folder can be used for indexing and search\n');
  return EXIT.OK;
}

/** An image-only classifier folder: loaded as indexing loads it (its pooled features exposed), then described. */
async function checkClassifier(dir: string, json: boolean | undefined): Promise<number> {
  const { loadClassifier } = await import('../../models/index.ts');
  let loaded;
  try {
    loaded = await loadClassifier(dir, { threads: 1, executionProvider: 'cpu', batchSize: 1 });
  } catch (err) {
    if (err instanceof ModelFolderError) throw new CliError(err.message, EXIT.FATAL);
    throw err;
  }
  await loaded.image.close();
  const { files, config: c, classifier } = loaded;
  if (json) {
    process.stdout.write(JSON.stringify({ ok: true, kind: 'classifier', files, config: c, classifier: { ...classifier, classes: classifier.classes.length } }, null, 2) + '\n');
    return EXIT.OK;
  }
  const rel = (p: string | undefined) => (p ? path.relative(files.dir, p) || p : '(none)');
  const fmt = (v: number[]) => `[${v.map((x) => Number(x.toPrecision(6))).join(', ')}]`;
  process.stdout.write(
    [
      `model folder ${files.dir} (image classifier)`,
      `  model id        ${c.modelId}`,
      `  model           ${rel(files.model)}`,
      `  vectors         ${c.projectionDim} dimensions, ${classifier.vectorsFrom}`,
      `  images          short side ${c.image.resizeShortSide}, centre ${c.image.size}x${c.image.size}, ${c.image.resample}, mean ${fmt(c.image.mean)}, std ${fmt(c.image.std)} (${files.config ? rel(files.config) : 'ONNX Model Zoo defaults'})`,
      `  labels          top ${classifier.topK} of ${classifier.classes.length} classes as ${classifier.labelSet}:<class> (${rel(files.classes)})`,
      '  text            none: text search is not available with this model',
      'ok: this folder can be used for indexing, image search and similar items',
    ].join('\n') + '\n',
  );
  return EXIT.OK;
}

async function checkFolder(dir: string, variant: ModelVariant): Promise<{ files: ModelFiles; modelConfig: ModelConfig; report: ModelFolderReport }> {
  try {
    const files = resolveModelFiles(dir, { variant });
    const modelConfig = readModelConfig(files);
    // Loaded here rather than at the top: listing models should not load the ONNX runtime.
    const { inspectModelFolder } = await import('../../models/index.ts');
    const report = await inspectModelFolder(files, modelConfig);
    return { files, modelConfig, report };
  } catch (err) {
    if (err instanceof ModelFolderError) throw new CliError(err.message, EXIT.FATAL);
    throw err;
  }
}

function describeFolder(files: ModelFiles, c: ModelConfig, report: ModelFolderReport): string {
  const rel = (p: string | undefined) => (p ? path.relative(files.dir, p) || p : '(none)');
  const chosen = Object.entries(files.visionVariants).find(([, p]) => p === files.visionModel)?.[0] ?? '?';
  const others = Object.keys(files.visionVariants).filter((v) => v !== chosen && v in files.textVariants);
  const io = (t: ModelFolderReport['vision']) =>
    `${t.inputs.map((i) => `${i.name} ${i.type}[${i.shape.join(', ')}]`).join(', ')} -> ` +
    `${t.outputs.filter((o) => o.name === t.output).map((o) => `${o.name} ${o.type}[${o.shape.join(', ')}]`).join(', ')}`;
  const fmt = (v: number[]) => `[${v.map((x) => Number(x.toPrecision(6))).join(', ')}]`;
  const lines = [
    `model folder ${files.dir} (${files.layout === 'huggingface' ? 'Hugging Face' : 'OpenCLIP'} layout)`,
    `  model id        ${c.modelId}`,
    `  variant         ${chosen}${others.length ? ` (also here: ${others.join(', ')})` : ''}`,
    `  vision tower    ${rel(files.visionModel)}: ${io(report.vision)}`,
    `  text tower      ${rel(files.textModel)}: ${io(report.text)}`,
    `  embedding       ${c.projectionDim} dimensions`,
    `  images          ${c.image.size}x${c.image.size}, ${c.image.resizeMode}, ${c.image.resample}, mean ${fmt(c.image.mean)}, std ${fmt(c.image.std)} (${rel(files.preprocessConfig)})`,
    `  text            ${c.text.contextLength} tokens, pad id ${c.text.padTokenId}${textRules(c)} (${rel(files.tokenizer)}${files.tokenizerConfig ? `, ${rel(files.tokenizerConfig)}` : ''})`,
  ];
  const fixed = report.vision.fixedBatch ?? report.text.fixedBatch;
  if (fixed !== undefined) lines.push(`  batch           fixed at ${fixed} by the export (image ${report.vision.fixedBatch ?? 'any'}, text ${report.text.fixedBatch ?? 'any'})`);
  return lines.join('\n');
}

/** The model's own text rules, as the check reads them: padding and the cleaning its tokenizer does. */
function textRules(c: ModelConfig): string {
  const n = c.text.normalisation;
  const cleaning = [n.lowercase && 'lowercased', n.stripPunctuation && 'punctuation removed', n.collapseWhitespace && 'spaces collapsed'].filter(Boolean);
  return `${c.text.padToContextLength ? ', always padded to the full length' : ''}${cleaning.length ? `, ${cleaning.join(', ')}` : ''}`;
}

interface PullReporter {
  onEvent(e: PullEvent): void;
  stop(): void;
}

/** For cron and logs: one JSON line per event; byte progress at most once a second per file. */
function jsonPullReporter(out: NodeJS.WritableStream = process.stdout): PullReporter {
  let lastProgress = 0;
  return {
    onEvent(e) {
      if (e.type === 'progress') {
        const now = Date.now();
        if (now - lastProgress < 1000 && e.fileBytes < e.fileSize) return;
        lastProgress = now;
      }
      out.write(JSON.stringify({ time: new Date().toISOString(), ...e }) + '\n');
    },
    stop() {},
  };
}

/** For people at a terminal: one bar over all bytes, with the file, rate and ETA, on stderr. */
function terminalPullReporter(stream: NodeJS.WriteStream = process.stderr): PullReporter {
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: '{bar} {percentage}% | {done} / {total_h} | {rate}/s | ETA {eta_formatted} | {file}',
      hideCursor: true,
      etaBuffer: 200,
      fps: 5,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  let totalBytes = 0;
  const startedAt = Date.now();
  let sessionStartBytes = -1;
  const payload = (done: number, file: string) => {
    if (sessionStartBytes < 0) sessionStartBytes = done;
    const seconds = Math.max(0.001, (Date.now() - startedAt) / 1000);
    return { done: formatBytes(done), total_h: formatBytes(totalBytes), rate: formatBytes((done - sessionStartBytes) / seconds), file };
  };
  return {
    onEvent(e) {
      switch (e.type) {
        case 'plan': {
          totalBytes = e.totalBytes;
          const missing = e.files.filter((f) => f.state !== 'complete');
          stream.write(
            `pulling ${e.name} from ${e.repo}@${e.revision === e.commit ? e.revision : `${e.revision} (commit ${e.commit.slice(0, 12)})`}: ${e.files.length} files, ${formatBytes(e.totalBytes)}` +
              (e.presentBytes ? ` (${formatBytes(e.presentBytes)} already here)` : '') +
              (missing.length ? '' : ', all present and verified') +
              '\n',
          );
          bar.start(Math.max(1, e.totalBytes), e.presentBytes, payload(e.presentBytes, ''));
          started = true;
          break;
        }
        case 'file-start':
          if (e.resumeFrom > 0) bar.update(payload(0, `${e.path} (resuming at ${formatBytes(e.resumeFrom)})`));
          break;
        case 'progress':
          bar.update(e.doneBytes, payload(e.doneBytes, e.path));
          break;
        case 'retry':
          bar.update(payload(0, `retry ${e.attempt} in ${(e.delayMs / 1000).toFixed(1)} s: ${e.reason}`));
          break;
        case 'done':
          bar.update(Math.max(1, totalBytes), payload(totalBytes, 'done'));
          break;
        default:
          break;
      }
    },
    stop() {
      if (started) bar.stop();
      started = false;
    },
  };
}

function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '?';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

export function registerModels(program: Command): void {
  const models = program
    .command('models')
    .description('list, pull and check the CLIP-family encoders Reprise embeds with')
    .addHelpText(
      'after',
      `
Examples:
  reprise models list
  reprise models pull clip-vit-base-patch32
  reprise models check

Models live in models.cacheDir (default: dataDir/models), one folder per name; a folder placed
by hand anywhere is used when models.path (REPRISE_MODELS__PATH) points at it.`,
    );

  withConfigOptions(models.command('list'))
    .description('the models Reprise can pull, with their size, languages and licence')
    .option('--json', 'print the registry as JSON')
    .addHelpText(
      'after',
      `
Examples:
  reprise models list
  reprise models list --json | jq -r '.[].name'`,
    )
    .action((flags: CommonFlags) => {
      process.exitCode = runModelsList(flags);
    });

  withConfigOptions(models.command('pull'))
    .description('download a model from the Hugging Face Hub, verify every file, and check that it loads')
    .argument('<name>', 'a name from `reprise models list`')
    .option('--variant <variant>', `weights to fetch: ${MODEL_VARIANTS.join(', ')} (default: models.variant)`)
    .option('--cache-dir <dir>', 'where models are kept (models.cacheDir, default: dataDir/models)')
    .option('--json', 'log one JSON line per event even on a terminal')
    .addHelpText(
      'after',
      `
Examples:
  reprise models pull clip-vit-base-patch32
  reprise models pull clip-vit-base-patch32 --variant quantized
  reprise models pull siglip-base-patch16-224 --cache-dir /srv/reprise/models
  HF_TOKEN=hf_... reprise models pull <name>        # gated or private repositories

An interrupted pull resumes where it stopped when run again. Files are checked against the
sha256 the hub lists; a file that fails is deleted. Without internet access, the error says
which files to copy into which folder by hand.`,
    )
    .action(async (name: string, flags: PullFlags) => {
      process.exitCode = await runModelsPull(name, flags);
    });

  withConfigOptions(models.command('check'))
    .description('read a model folder (Hugging Face or OpenCLIP layout), its configuration and both ONNX towers, and say what was found')
    .option('--path <dir>', 'the folder to check (default: models.path, else the pulled models.name)')
    .option('--variant <variant>', `weights to check: ${MODEL_VARIANTS.join(', ')} (default: models.variant)`)
    .option('--json', 'print what was found as JSON')
    .addHelpText(
      'after',
      `
Examples:
  reprise models check
  reprise models check --path ~/models/ViT-B-32__openai
  reprise models check --path ./reprise-data/models/clip-vit-base-patch32 --variant quantized

Exit codes: 0 the folder can be used, 1 it cannot (the message names the file and what is wrong).`,
    )
    .action(async (flags: CheckFlags) => {
      process.exitCode = await runModelsCheck(flags);
    });
}
