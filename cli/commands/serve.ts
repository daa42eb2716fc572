import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Command } from 'commander';
import type { Logger } from 'pino';
import { withConfigOptions } from '../options.ts';
import { loadConfig, type RepriseConfig } from '../../config/index.ts';
import type { Encoders } from '../../models/index.ts';
import type { VectorStore } from '../../store/types.ts';
import { createLogger } from '../progress.ts';
import { CliError, EXIT, EXIT_ON_SIGNAL } from '../exit.ts';

export interface ServeFlags {
  host?: string;
  port?: string;
  config?: string;
  dataDir?: string;
}

/** Where `reprise serve` mounts createSearchRouter. */
export const API_MOUNT = '/api';

/** How long requests in flight get to finish after SIGINT/SIGTERM before their connections are cut. */
const SHUTDOWN_GRACE_MS = 10_000;

export interface RunningServer {
  /** http://host:port of the listening server (the port chosen by the system when 0 was asked for). */
  url: string;
  server: Server;
  encoders?: Encoders;
  store: VectorStore;
  /** The harvests of the admin routes, and of `reprise start`. */
  harvest: import('../../plugin/harvest-controller.ts').JournalHarvestController;
  /** Stops accepting requests, lets those in flight finish (at most SHUTDOWN_GRACE_MS), stops a running harvest, closes router, store and encoders. */
  close(): Promise<void>;
}

/**
 * Whether the configured index exists, looked up without creating it: without a model, `reprise
 * serve` serves an existing index (items, keyword search, facets; similar items where a harvest
 * with a model embedded them) but does not make an empty one.
 */
async function indexExists(config: RepriseConfig): Promise<boolean> {
  // The embedded store's SQLite file (store/embedded: dataDir/index/<index>.db).
  if (config.store.kind === 'embedded') return existsSync(path.join(config.dataDir, 'index', `${config.store.index}.db`));
  const { Meilisearch } = await import('meilisearch');
  const { url, apiKey, timeoutMs } = config.store.meilisearch;
  try {
    await new Meilisearch({ host: url, apiKey, timeout: timeoutMs }).getRawIndex(config.store.index);
    return true;
  } catch (err) {
    // Anything but "no such index" is for opening the store to report, with its reason.
    return (err as { cause?: { code?: unknown } }).cause?.code !== 'index_not_found';
  }
}

/**
 * Starts the search API as `reprise serve` runs it: the configured model (if present) and store,
 * createSearchRouter mounted at /api, a harvest controller for the admin routes. Exported for
 * benchmarks and tests that run the server in a process of their own.
 */
export interface StartServerOptions {
  logger?: Logger;
  /** A folder of images published beside the API as IIIF (publisher/), at /iiif/collection.json. */
  images?: string;
  /**
   * Serve even with no model and no index yet (the index is made, and a harvest without a model
   * fills it with items without vectors), instead of refusing: `reprise start` harvests into the
   * server it starts.
   */
  allowEmptyIndex?: boolean;
}

export async function startServer(config: RepriseConfig, opts: StartServerOptions = {}): Promise<RunningServer> {
  const logger = opts.logger ?? createLogger(config.log.level);
  // Loaded here, not at start-up: onnxruntime and express are heavy and --help or a config error should not wait for them.
  const { loadEncoders, modelFolder, ModelFolderError } = await import('../../models/index.ts');
  const { openStore } = await import('../../store/index.ts');
  const { default: express } = await import('express');
  const { createSearchRouter } = await import('../../plugin/router.ts');
  const { JournalHarvestController, sharedStage } = await import('../../plugin/harvest-controller.ts');
  const { problemJson } = await import('../../plugin/middleware/problem-json.ts');
  const { answerClientErrors } = await import('../../plugin/client-errors.ts');
  const { notFound } = await import('../../plugin/problems.ts');
  const { widgetRouter } = await import('../../viewer-widget/serve.ts');

  let encoders: Encoders | undefined;
  try {
    encoders = await loadEncoders(config.models, config.dataDir);
    logger.info({ type: 'model', modelId: encoders.config.modelId, dimensions: encoders.config.projectionDim, folder: encoders.files.dir }, 'model loaded');
  } catch (err) {
    // A folder placed by hand that does not load is a mistake to fix, not a reason to serve less.
    if (!(err instanceof ModelFolderError) || config.models.path) throw err;
    logger.warn(
      { type: 'no-model', folder: modelFolder(config.models, config.dataDir) },
      `no model at ${modelFolder(config.models, config.dataDir)}: serving items, keyword search (semanticRatio=0), facets, stats and reprints; ` +
        `similar items only for items a harvest with a model embedded; text and image search answer 503. ` +
        `Run "reprise models pull ${config.models.name}" (or set models.path to a model folder), restart, and harvest again to embed what was stored without vectors.`,
    );
  }

  let store: VectorStore;
  try {
    if (!encoders && !opts.allowEmptyIndex && !(await indexExists(config))) {
      throw new CliError(
        `nothing to serve: no model (${modelFolder(config.models, config.dataDir)}) and no index in ${config.store.kind === 'embedded' ? path.join(config.dataDir, 'index') : config.store.meilisearch.url}. ` +
          `Run "reprise models pull ${config.models.name}", then "reprise harvest <url>", then serve.`,
        EXIT.FATAL,
      );
    }
    // Without a model the store opens as it is: items stored without vectors, and the vectors of an earlier harvest with a model.
    store = await openStore(config.store, config.dataDir, encoders ? { modelId: encoders.config.modelId, dimensions: encoders.config.projectionDim } : undefined);
  } catch (err) {
    await encoders?.close();
    throw err;
  }

  const harvest = new JournalHarvestController({
    config,
    // The server's own store and encoders: what a harvest indexes is searchable at once, and the model is loaded once.
    // Without a model, items are stored without vectors, for the first harvest with one to embed from the image cache.
    createStage: sharedStage(encoders, store),
    logger: logger.child({ component: 'harvest' }),
  });
  const router = createSearchRouter(
    { store, encoders, config, harvest },
    { onError: (err, req) => logger.error({ err, method: req.method, path: req.originalUrl.split('?')[0] }, 'request failed') },
  );

  const app = express();
  app.disable('x-powered-by');
  if (config.api.trustProxy !== undefined) app.set('trust proxy', config.api.trustProxy);
  app.use(API_MOUNT, router);
  // The widget bundles (/widget/) and the demo pages (/demo/): viewer-widget/serve.ts.
  app.use(widgetRouter({ logger: logger.child({ component: 'widget' }) }));
  if (opts.images) {
    const { createImageServer } = await import('../../publisher/index.ts');
    const { contentSearchServiceFor } = await import('../../plugin/content-search/index.ts');
    // Ids from publish.baseUrl, or this server's own address (never a client's Host header).
    app.use(
      createImageServer({
        dir: opts.images,
        baseUrl: config.publish.baseUrl,
        allowedHosts: config.publish.allowedHosts,
        onWarning: (message, req) => logger.warn({ type: 'image-unreadable', path: req.originalUrl.split('?')[0] }, message),
        // Every manifest advertises this server's IIIF Content Search, so viewers offer "search within" on it.
        manifestServices: (manifestId, base) => Object.values(contentSearchServiceFor(manifestId, config.api.publicUrl ?? `${base}${API_MOUNT}`)),
      }),
    );
  }
  app.get('/', (req, res) => {
    // A browser lands on the demo; API clients (Accept: application/json, or */*) get the description.
    if (req.accepts(['json', 'html']) === 'html') return res.redirect(303, '/demo/');
    res.json({ name: 'reprise', api: API_MOUNT, openapi: `${API_MOUNT}/openapi.json`, health: `${API_MOUNT}/health`, demo: '/demo/', widget: '/widget/reprise-widget.js' });
  });
  app.use((req, _res, next) => next(notFound(`nothing at ${req.path}; the API is under ${API_MOUNT} (${API_MOUNT}/openapi.json describes it)`)));
  app.use(problemJson({ onError: (err, req) => logger.error({ err, path: req.originalUrl.split('?')[0] }, 'request failed') }));

  const { host, port } = config.api;
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(port, host);
    // Oversized headers and malformed HTTP, refused before Express: a problem+json too, not Node's bare status line.
    answerClientErrors(s);
    s.once('listening', () => resolve(s));
    s.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        err.code === 'EADDRINUSE'
          ? new CliError(`${host}:${port} is already in use: stop what listens there, or choose another port with --port (api.port)`, EXIT.FATAL)
          : err.code === 'EACCES'
            ? new CliError(`not allowed to listen on ${host}:${port}: choose a port above 1023 with --port (api.port)`, EXIT.FATAL)
            : err,
      );
    });
  }).catch(async (err: unknown) => {
    await router.close().catch(() => {});
    await store!.close().catch(() => {});
    await encoders?.close().catch(() => {});
    throw err;
  });

  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${shownHost}:${address.port}`;

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const grace = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS);
      grace.unref();
      // A running harvest stops after the work in flight; the next one continues where it stopped.
      await harvest.close();
      await stopped;
      clearTimeout(grace);
      await router.close();
      await store!.close();
      await encoders?.close();
    })());

  return { url, server, encoders, store, harvest, close };
}

/** Config overrides from the flags `serve` and `start` share. */
export function listenOverrides(flags: ServeFlags): Record<string, unknown> {
  const overrides: Record<string, unknown> = {};
  if (flags.dataDir) overrides.dataDir = flags.dataDir;
  if (flags.host !== undefined) {
    if (!flags.host.trim()) throw new CliError('--host must not be empty', EXIT.FATAL);
    overrides['api.host'] = flags.host.trim();
  }
  if (flags.port !== undefined) {
    const n = Number(flags.port);
    if (!/^\d+$/.test(flags.port) || n > 65535) throw new CliError(`--port must be a whole number from 0 to 65535, got "${flags.port}"`, EXIT.FATAL);
    overrides['api.port'] = n;
  }
  return overrides;
}

/** The one JSON line (type "listening") that tells people and scripts where everything is. */
export function logListening(logger: Logger, config: RepriseConfig, running: RunningServer): void {
  logger.info(
    { type: 'listening', url: running.url, api: `${running.url}${API_MOUNT}`, demo: `${running.url}/demo/`, admin: config.api.adminToken ? 'enabled' : 'disabled (no api.adminToken)' },
    `serving the search API at ${running.url}${API_MOUNT} (OpenAPI: ${running.url}${API_MOUNT}/openapi.json); demo at ${running.url}/demo/`,
  );
}

/** Serves until SIGINT or SIGTERM, then closes gracefully; a second signal exits at once. */
export async function serveUntilSignal(running: RunningServer, logger: Logger): Promise<number> {
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.removeListener('SIGINT', stop);
      process.removeListener('SIGTERM', stop);
      // A second signal does not wait (a harvest under way still records its run as interrupted and releases its lock on exit).
      process.once('SIGINT', () => process.exit(EXIT_ON_SIGNAL.SIGINT));
      process.once('SIGTERM', () => process.exit(EXIT_ON_SIGNAL.SIGTERM));
      logger.info({ type: 'shutdown', signal }, `${signal}: finishing requests in flight (at most ${SHUTDOWN_GRACE_MS / 1000} s), then closing the store and the model`);
      running.close().then(resolve, (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        resolve();
      });
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  logger.info({ type: 'stopped' }, 'stopped');
  return EXIT.OK;
}

export async function runServe(flags: ServeFlags): Promise<number> {
  const config = loadConfig({ file: flags.config, overrides: listenOverrides(flags) });
  const logger = createLogger(config.log.level);
  const running = await startServer(config, { logger });
  logListening(logger, config, running);
  return serveUntilSignal(running, logger);
}

export function registerServe(program: Command): void {
  withConfigOptions(program.command('serve'))
    .description('run the search API (and IIIF Content Search, and the admin routes) as a standalone HTTP server')
    .option('--host <address>', 'address to listen on (api.host, default 127.0.0.1; 0.0.0.0 for every interface)')
    .option('--port <n>', 'port to listen on (api.port, default 3000; 0 for any free port)')
    .addHelpText(
      'after',
      `
The API is mounted at ${API_MOUNT}: ${API_MOUNT}/search?q=…, ${API_MOUNT}/items/{id}/similar, ${API_MOUNT}/iiif/search/v1/{manifestKey}?q=…,
${API_MOUNT}/openapi.json describes every route. A browser opening / lands on the demo (/demo/: OpenSeadragon with
the search widget); the widget itself is /widget/reprise-widget.js. Without a model, text and image search answer 503;
items (${API_MOUNT}/items), keyword search (semanticRatio=0), facets, stats and reprints work, and similar
items for the items a harvest with a model embedded. The admin routes (${API_MOUNT}/admin/harvests)
exist only when api.adminToken is set.
SIGINT or SIGTERM lets requests in flight finish, stops a running harvest after its work in flight
(recorded as interrupted, with its summary in the log; the next harvest continues), closes the store
and the model, and exits 0. A second signal exits at once: 130 (SIGINT) or 143 (SIGTERM).

Examples:
  reprise serve
  reprise serve --host 0.0.0.0 --port 8080
  REPRISE_API__ADMIN_TOKEN=$(openssl rand -hex 24) reprise serve -c /etc/reprise/reprise.config.json
  curl 'http://127.0.0.1:3000${API_MOUNT}/search?q=a%20horse%20and%20cart&limit=5'
  curl -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \\
       -d '{"urls": ["https://example.org/iiif/collection.json"]}' http://127.0.0.1:3000${API_MOUNT}/admin/harvests`,
    )
    .action(async (flags: ServeFlags) => {
      process.exitCode = await runServe(flags);
    });
}
