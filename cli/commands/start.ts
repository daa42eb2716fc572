import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type { Logger } from 'pino';
import { withConfigOptions } from '../options.ts';
import { loadConfig, type RepriseConfig } from '../../config/index.ts';
import { CliError, EXIT } from '../exit.ts';
import { createLogger, createTerminalLogger, formatSummary, terminalReporter } from '../progress.ts';
import { expandInputs } from './harvest.ts';
import { runModelsPull } from './models.ts';
import { listenOverrides, logListening, serveUntilSignal, startServer, type ServeFlags } from './serve.ts';

interface StartFlags extends ServeFlags {
  images?: string;
  pull?: boolean;
  json?: boolean;
}

/** Small, stable and public: the IIIF Cookbook's collection recipe. */
export const DEFAULT_COLLECTION = 'https://iiif.io/api/cookbook/recipe/0032-collection/collection.json';

/** Where the publisher mounted by startServer({ images }) lists a folder. */
const PUBLISHED_COLLECTION = '/iiif/collection.json';

/**
 * The default model on first run, when none is placed: pulled if the hub answers. Offline, the
 * server still starts (the harvest stores items without vectors: items, browsing, keyword search,
 * facets and reprints work) and says how to get one.
 */
async function ensureModel(config: RepriseConfig, flags: StartFlags, logger: Logger): Promise<void> {
  const { modelFolder } = await import('../../models/index.ts');
  if (config.models.path || existsSync(modelFolder(config.models, config.dataDir))) return;
  if (flags.pull === false) {
    logger.warn(
      { type: 'no-model' },
      `no model at ${modelFolder(config.models, config.dataDir)} and --no-pull given: items are stored without image vectors ` +
        `(items, browsing, keyword search, facets and reprints work; text, image and similar-item search are off until a start with a model embeds them from the image cache)`,
    );
    return;
  }
  logger.info({ type: 'model-pull', model: config.models.name }, `no model yet: pulling ${config.models.name} (once; it is kept in ${modelFolder(config.models, config.dataDir)})`);
  try {
    await runModelsPull(config.models.name, { config: flags.config, dataDir: flags.dataDir, json: !process.stderr.isTTY });
  } catch (err) {
    if (!(err instanceof CliError)) throw err;
    logger.warn(
      { type: 'no-model', reason: err.message },
      `could not pull ${config.models.name}; starting without a model (items, browsing, keyword search, facets and reprints work; text search says how to get one). ${err.message}`,
    );
  }
}

function imagesFolder(dir: string): string {
  const resolved = path.resolve(dir);
  if (!existsSync(resolved) || !statSync(resolved).isDirectory()) throw new CliError(`--images ${dir}: not a folder; give a folder of JPEG, PNG, TIFF or WebP images`, EXIT.FATAL);
  return resolved;
}

/** The server's own address as the harvester should fetch it (a wildcard address is not one to connect to). */
function selfUrl(url: string): string {
  return url.replace('//0.0.0.0:', '//127.0.0.1:').replace('//[::]:', '//[::1]:');
}

export async function runStart(sources: string[], flags: StartFlags): Promise<number> {
  if (flags.images && sources.length) throw new CliError('give either URLs to harvest or --images DIR, not both', EXIT.FATAL);
  const images = flags.images ? imagesFolder(flags.images) : undefined;
  const urls = images ? undefined : sources.length ? expandInputs(sources) : [DEFAULT_COLLECTION];
  const config = loadConfig({ file: flags.config, overrides: listenOverrides(flags) });
  // The published folder is this server's own: its manifests are ours, so loopback is safe to fetch for this run.
  if (images) config.harvest.http.allowPrivate.push('127.0.0.1', '::1');
  // On a terminal, what `reprise harvest` shows there: messages and a progress bar, not JSON lines.
  const interactive = process.stderr.isTTY === true && !flags.json;
  const logger = interactive ? createTerminalLogger(config.log.level) : createLogger(config.log.level);

  await ensureModel(config, flags, logger);
  const running = await startServer(config, { logger, allowEmptyIndex: true, ...(images ? { images } : {}) });
  logListening(logger, config, running);

  const harvestUrls = urls ?? [`${selfUrl(running.url)}${PUBLISHED_COLLECTION}`];
  // The folder's ids carry this server's address, which changes with --port: its items are
  // identified without it, so a restart elsewhere updates them instead of indexing them again.
  const publishedBases = images ? [...new Set([selfUrl(running.url), running.url, ...(config.publish.baseUrl ? [config.publish.baseUrl] : [])])] : undefined;
  const reporter = interactive ? terminalReporter() : undefined;
  const started = running.harvest.start(harvestUrls, {
    publishedBases,
    onEvent: (event) => {
      reporter?.onEvent(event);
      // The bar ends with the run, before the summary and the messages that follow it.
      if (event.type === 'run-end') reporter?.stop();
    },
  });
  if (!started.started) {
    logger.warn({ type: 'harvest-not-started', reason: started.reason }, `harvest not started: ${started.reason}`);
  } else {
    void running.harvest.idle().then(() => {
      const last = running.harvest.status().last;
      reporter?.stop();
      if (reporter && last) process.stderr.write(formatSummary(last) + '\n');
      logger.info(
        { type: 'ready', demo: `${running.url}/demo/`, status: last?.status, images: last?.images, failures: last?.failures.length },
        `harvest ${last?.status ?? 'finished'}: open ${running.url}/demo/ (Ctrl-C stops; the next start continues where this one stopped)`,
      );
    });
  }
  return serveUntilSignal(running, logger);
}

export function registerStart(program: Command): void {
  withConfigOptions(program.command('start'))
    .description('harvest a IIIF collection (or a folder of images) into the embedded index and serve the search API with the demo portal')
    .argument('[url...]', `IIIF collection or manifest URLs, or a file listing them (default: ${DEFAULT_COLLECTION})`)
    .option('--images <dir>', 'a local folder of images instead: published as IIIF by this server and harvested from it (works offline)')
    .option('--no-pull', 'do not download the default model when none is present')
    .option('--host <address>', 'address to listen on (api.host, default 127.0.0.1)')
    .option('--port <n>', 'port to listen on (api.port, default 3000; 0 for any free port)')
    .option('--json', 'log one JSON line per event even on a terminal (instead of messages and a progress bar)')
    .addHelpText(
      'after',
      `
One command for the main job: the default model is pulled on first run (when the hub can be
reached), the server starts at once, and the harvest runs inside it, so the demo at /demo/
shows items as they are indexed. Without a model, items are stored without image vectors:
items, browsing, keyword search, facets and reprints work, and text search answers with how to
get one; the next start with a model embeds them from the image cache. Run it again to continue
or refresh: unchanged images are not downloaded again.

Examples:
  reprise start
  reprise start --images ./photographs
  reprise start https://example.org/iiif/collection.json --port 8080`,
    )
    .action(async (sources: string[], flags: StartFlags) => {
      process.exitCode = await runStart(sources, flags);
    });
}
