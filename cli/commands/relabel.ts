import { existsSync } from 'node:fs';
import path from 'node:path';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { loadConfig, type RepriseConfig } from '../../config/index.ts';
import type { RelabelProgress, RelabelSummary } from '../../harvester/index.ts';
import { CliError, EXIT, EXIT_ON_SIGNAL, type StopSignal } from '../exit.ts';
import { withConfigOptions } from '../options.ts';

interface RelabelFlags {
  config?: string;
  dataDir?: string;
  json?: boolean;
}

/** Without a terminal, a progress line at most this often (a large index takes minutes). */
const PROGRESS_LINE_MS = 5000;

/** The label sets the configuration now gives, in one line. */
function describeSets(config: RepriseConfig): string {
  const sets = Object.entries(config.models.labels.sets);
  if (!sets.length) return 'no label sets (models.labels.sets is empty): the labels the model gave are removed';
  return `label sets ${sets.map(([name, labels]) => `${name} (${labels.length} labels)`).join(', ')}`;
}

export function formatRelabelSummary(summary: RelabelSummary): string {
  const lines = [
    `${summary.status === 'interrupted' ? 'interrupted: ' : ''}relabelled ${summary.relabelled} of ${summary.items} items from their stored vectors ` +
      `(${summary.changed} changed, ${summary.withoutVector} without a vector left as they were) in ${(summary.durationMs / 1000).toFixed(1)} s; no image was fetched or embedded`,
  ];
  const labels = Object.entries(summary.labels);
  if (labels.length) {
    lines.push('labels now given by the model:');
    for (const [label, count] of labels.slice(0, 20)) lines.push(`  ${String(count).padStart(7)}  ${label}`);
    if (labels.length > 20) lines.push(`  … and ${labels.length - 20} more (--json lists them all)`);
  }
  return lines.join('\n');
}

function progressReporter(json: boolean): { update(p: RelabelProgress): void; stop(): void } {
  if (process.stderr.isTTY && !json) {
    const bar = new cliProgress.SingleBar(
      { stream: process.stderr, format: 'relabelling {bar} {value}/{total} items | ETA {eta_formatted}', hideCursor: true, fps: 5 },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      update(p) {
        if (!started) bar.start(Math.max(1, p.total), p.done);
        started = true;
        bar.setTotal(Math.max(1, p.total));
        bar.update(p.done);
      },
      stop: () => started && bar.stop(),
    };
  }
  let last = Date.now();
  return {
    update(p) {
      if (Date.now() - last < PROGRESS_LINE_MS) return;
      last = Date.now();
      process.stderr.write(`reprise: relabelled ${p.done} of ${p.total} items\n`);
    },
    stop() {},
  };
}

export async function runRelabel(flags: RelabelFlags): Promise<number> {
  const config = loadConfig({ file: flags.config, overrides: flags.dataDir ? { dataDir: flags.dataDir } : {} });
  // Loaded here, not at start-up: onnxruntime and the store should not slow `reprise --help`.
  const { loadEncoders, modelFolder } = await import('../../models/index.ts');
  const { Labeller } = await import('../../models/index.ts');
  const { openStore } = await import('../../store/index.ts');
  const { relabelCollection } = await import('../../harvester/index.ts');

  const folder = modelFolder(config.models, config.dataDir);
  if (!config.models.path && !existsSync(folder)) {
    throw new CliError(`relabelling needs the model that embedded the index, and there is none at ${folder}: pull it or set models.path (see docs/models.md)`, EXIT.FATAL);
  }
  if (config.store.kind === 'embedded') {
    const file = path.join(config.dataDir, 'index', `${config.store.index}.db`);
    if (!existsSync(file)) throw new CliError(`no index at ${file}: harvest first; new items are labelled as they are embedded`, EXIT.FATAL);
  }

  const encoders = await loadEncoders(config.models, config.dataDir);
  const controller = new AbortController();
  let stoppedBy: StopSignal | undefined;
  const stop = (signal: StopSignal) => {
    if (stoppedBy) process.exit(EXIT_ON_SIGNAL[signal]);
    stoppedBy = signal;
    process.stderr.write(`\n${signal}: finishing this page, then stopping; run the same command again to relabel the rest\n`);
    controller.abort();
  };
  const onSigint = () => stop('SIGINT');
  const onSigterm = () => stop('SIGTERM');
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  let store: Awaited<ReturnType<typeof openStore>> | undefined;
  try {
    if (encoders.kind === 'classifier') {
      throw new CliError(
        `the model ${encoders.config.modelId} is an image classifier: its categories come from class scores that are not stored, ` +
          'so they change only when images are embedded again (a new index); relabelling applies to zero-shot label sets of CLIP-family models',
        EXIT.FATAL,
      );
    }
    const labeller = await Labeller.create(encoders, config.models.labels).catch((err: unknown) => {
      // Too many prompts for the sets configured: the configuration is what to change.
      throw err instanceof RangeError ? new CliError(err.message, EXIT.FATAL) : err;
    });
    // The index's own schema is checked here: vectors of another model cannot be labelled with this one's prompts.
    store = await openStore(config.store, config.dataDir, { modelId: encoders.config.modelId, dimensions: encoders.config.projectionDim });
    process.stderr.write(`reprise: relabelling the index "${config.store.index}" (model ${encoders.config.modelId}) with ${describeSets(config)}\n`);
    const progress = progressReporter(!!flags.json);
    let summary: RelabelSummary;
    try {
      summary = await relabelCollection(store, labeller, { signal: controller.signal, onProgress: (p) => progress.update(p) });
    } finally {
      progress.stop();
    }
    process.stdout.write(flags.json ? JSON.stringify(summary, null, 2) + '\n' : formatRelabelSummary(summary) + '\n');
    if (summary.status === 'interrupted') {
      const signal = stoppedBy ?? 'SIGINT';
      throw new CliError(`relabelling interrupted by ${signal}; the pages done keep their new labels, run the same command again for the rest`, EXIT_ON_SIGNAL[signal]);
    }
    return EXIT.OK;
  } finally {
    process.removeListener('SIGINT', onSigint);
    process.removeListener('SIGTERM', onSigterm);
    await store?.close();
    await encoders.close();
  }
}

export function registerRelabel(program: Command): void {
  withConfigOptions(program.command('relabel'))
    .description('label every indexed item again with the label sets now configured (models.labels), from the stored vectors: no image is fetched or embedded')
    .option('--json', 'print the summary as JSON')
    .addHelpText(
      'after',
      `
Run it after changing models.labels (sets, templates, minScore). Labels from the sets are
replaced; other labels are kept. Restart a running server afterwards so that the items it
harvests get the new sets too. An image classifier's categories cannot be relabelled (their class
scores are not stored). Exit codes: 0 done, 1 error, 130/143 stopped by SIGINT/SIGTERM (the
items done keep their new labels; run it again).`,
    )
    .action(async (flags: RelabelFlags) => {
      process.exitCode = await runRelabel(flags);
    });
}
