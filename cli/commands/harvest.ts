import { existsSync, readFileSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import { withConfigOptions } from '../options.ts';
import { loadConfig, type RepriseConfig } from '../../config/index.ts';
import { createHttpClient } from '../../common/index.ts';
import { HarvestInterruptedError, HarvestService } from '../../harvester/index.ts';
import { createStage } from '../../harvester/index.ts';
import { JournalLockedError } from '../../harvester/index.ts';
import { createLogger, formatSummary, jsonLogReporter, terminalReporter } from '../progress.ts';
import { EXIT, EXIT_ON_SIGNAL, CliError, type StopSignal } from '../exit.ts';

interface HarvestFlags {
  collection?: string;
  since?: string;
  concurrency?: string;
  dryRun?: boolean;
  config?: string;
  dataDir?: string;
  json?: boolean;
}

/** A URL stays a URL; an existing local file is a list of URLs, one per line, # for comments. */
export function expandInputs(inputs: string[]): string[] {
  const urls: string[] = [];
  for (const input of inputs) {
    if (/^https?:\/\//i.test(input)) urls.push(input.trim());
    else if (existsSync(input) && statSync(input).isFile()) {
      const lines = readFileSync(input, 'utf8').split(/\r?\n/).map((l) => l.replace(/#.*/, '').trim()).filter(Boolean);
      for (const line of lines) {
        if (!/^https?:\/\//i.test(line)) throw new CliError(`${input}: "${line}" is not an http(s) URL`, EXIT.FATAL);
        urls.push(line);
      }
    } else {
      throw new CliError(`"${input}" is neither an http(s) URL nor a readable file of URLs`, EXIT.FATAL);
    }
  }
  if (!urls.length) throw new CliError('nothing to harvest: give manifest or collection URLs, or a file listing them', EXIT.FATAL);
  return [...new Set(urls)];
}

function parseSince(since: string | undefined): Date | undefined {
  if (!since) return undefined;
  const date = new Date(since);
  if (Number.isNaN(date.getTime())) throw new CliError(`--since "${since}" is not a date; use ISO 8601, e.g. 2026-01-31 or 2026-01-31T12:00:00Z`, EXIT.FATAL);
  return date;
}

export async function runHarvest(inputs: string[], flags: HarvestFlags): Promise<number> {
  const overrides: Record<string, unknown> = {};
  if (flags.dataDir) overrides.dataDir = flags.dataDir;
  if (flags.concurrency !== undefined) {
    const n = Number(flags.concurrency);
    if (!Number.isInteger(n) || n < 1) throw new CliError(`--concurrency must be a positive integer, got "${flags.concurrency}"`, EXIT.FATAL);
    overrides['harvest.http.concurrency'] = n;
  }
  const config: RepriseConfig = loadConfig({ file: flags.config, overrides });
  const urls = expandInputs(inputs);
  const since = parseSince(flags.since);

  const interactive = process.stderr.isTTY && !flags.json;
  const logger = createLogger(config.log.level);
  const reporter = interactive ? terminalReporter() : jsonLogReporter(logger);

  // Listening from the start: a signal while the model loads stops the run before it fetches anything.
  const controller = new AbortController();
  let stoppedBy: StopSignal | undefined;
  const stop = (signal: StopSignal) => {
    if (stoppedBy) {
      // A second signal does not wait. On the way out the run is still recorded as interrupted and
      // the lock removed (HarvestService does both on exit); what was in flight is done again next run.
      process.stderr.write(`\n${signal} again: stopping at once\n`);
      process.exit(EXIT_ON_SIGNAL[signal]);
    }
    stoppedBy = signal;
    process.stderr.write(`\n${signal}: finishing the work in flight, then stopping (${signal} again stops at once); run the same command again to continue\n`);
    controller.abort(new Error(`interrupted by ${signal}`));
  };
  const onSigint = () => stop('SIGINT');
  const onSigterm = () => stop('SIGTERM');
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);

  try {
    const http = createHttpClient(config.harvest.http);
    try {
      const { stage, close: closeStage } = await createStage(config, (message) =>
        interactive ? process.stderr.write(`reprise: ${message}\n`) : logger.warn({ type: 'warning' }, message),
      );
      const service = new HarvestService({ config: config.harvest, dataDir: config.dataDir, http, stage, onEvent: (e) => reporter.onEvent(e) });
      try {
        const summary = await service.run(urls, { since, dryRun: flags.dryRun, collection: flags.collection, signal: controller.signal });
        reporter.stop();
        if (interactive) process.stdout.write(formatSummary(summary) + '\n');
        return summary.failures.length ? EXIT.SOME_FAILED : EXIT.OK;
      } catch (err) {
        reporter.stop();
        if (err instanceof JournalLockedError) throw new CliError(err.message, EXIT.FATAL);
        if (err instanceof HarvestInterruptedError) {
          // The summary is on stdout (JSON lines: the run-end event, status "interrupted").
          if (interactive) process.stdout.write(formatSummary(err.summary) + '\n');
          const signal = stoppedBy ?? 'SIGINT';
          throw new CliError(`harvest interrupted by ${signal}; what was finished is kept, run the same command again to continue`, EXIT_ON_SIGNAL[signal]);
        }
        throw err;
      } finally {
        await closeStage();
      }
    } finally {
      await http.close();
    }
  } finally {
    process.removeListener('SIGINT', onSigint);
    process.removeListener('SIGTERM', onSigterm);
  }
}

export function registerHarvest(program: Command): void {
  withConfigOptions(program.command('harvest'))
    .description('harvest IIIF manifests, collections or change streams into the index')
    .argument('<url...>', 'manifest, collection or Change Discovery stream URLs, or files listing URLs (one per line)')
    .option('--collection <name>', 'record this collection name on every item harvested from these sources')
    .option('--since <date>', 'change streams: only activities after this date (default: where the last run stopped)')
    .option('--concurrency <n>', 'requests in flight across all hosts (harvest.http.concurrency)')
    .option('--dry-run', 'read manifests and collections and report what would change; fetch no image, write nothing')
    .option('--json', 'log one JSON line per event even on a terminal')
    .addHelpText(
      'after',
      `
Examples:
  reprise harvest https://iiif.io/api/cookbook/recipe/0032-collection/collection.json
  reprise harvest https://example.org/iiif/manifest/42.json --dry-run
  reprise harvest urls.txt --collection "Glass negatives" --concurrency 4
  reprise harvest https://example.org/activity/all-changes --since 2026-01-01
  # from cron, every night at 02:15 (JSON logs, exit 0 ok / 2 some items failed / 1 fatal):
  15 2 * * * cd /srv/reprise && npx reprise harvest urls.txt >> harvest.log 2>&1

Exit codes: 0 all went well, 2 some items failed (listed in the summary), 1 fatal error,
130 stopped by SIGINT (Ctrl-C), 143 stopped by SIGTERM.

Ctrl-C or SIGTERM stops the run cleanly: the images in flight are finished (the end-of-run
reprint comparison stops after the image in hand), the summary is written, the run is recorded
as "interrupted" and the lock is released; the same command continues where it stopped.
A second signal stops at once (the run is still recorded as interrupted and the lock released).`,
    )
    .action(async (urls: string[], flags: HarvestFlags) => {
      process.exitCode = await runHarvest(urls, flags);
    });
}
