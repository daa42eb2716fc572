import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Command } from 'commander';
import type { Logger } from 'pino';
import { withConfigOptions } from '../options.ts';
import { loadConfig, type RepriseConfig } from '../../config/index.ts';
import type { Encoders } from '../../models/index.ts';
import type { StoreSchema, VectorStore } from '../../store/types.ts';
import { createLogger } from '../progress.ts';
import { CliError, EXIT } from '../exit.ts';

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
 * The schema an existing index was built with, read without a model, so that keyword and
 * similar-item search can be served before a model is placed. Undefined when there is no index.
 */
async function storedSchema(config: RepriseConfig): Promise<StoreSchema | undefined> {
  if (config.store.kind === 'embedded') {
    // The embedded store's SQLite file (store/embedded: dataDir/index/<index>.db) keeps its schema in `meta`.
    const file = path.join(config.dataDir, 'index', `${config.store.index}.db`);
    if (!existsSync(file)) return undefined;
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(file, { readonly: true, fileMustExist: true, timeout: 2000 });
    try {
      const rows = db.prepare(`SELECT key, value FROM meta WHERE key IN ('model_id', 'dimensions')`).all() as Array<{ key: string; value: string }>;
      const meta = Object.fromEntries(rows.map((r) => [r.key, r.value]));
      return meta.model_id && meta.dimensions ? { modelId: meta.model_id, dimensions: Number(meta.dimensions) } : undefined;
    } finally {
      db.close();
    }
  }
  // Meilisearch: the index's one userProvided embedder is named after the model and knows its dimensions.
  const { Meilisearch } = await import('meilisearch');
  const { modelIdOf } = await import('../../store/meilisearch/index.ts');
  const { url, apiKey, timeoutMs } = config.store.meilisearch;
  try {
    const embedders = await new Meilisearch({ host: url, apiKey, timeout: timeoutMs }).index(config.store.index).getEmbedders();
    const entries = Object.entries(embedders ?? {}).flatMap(([name, e]) => {
      const dimensions = (e as { dimensions?: unknown } | null)?.dimensions;
      return typeof dimensions === 'number' ? [{ name, dimensions }] : [];
    });
    if (entries.length !== 1) return undefined;
    return { modelId: modelIdOf(entries[0]!.name), dimensions: entries[0]!.dimensions };
  } catch {
    return undefined;
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
   * Serve even with no model and no index yet (an empty index until a harvest with a model
   * fills it), instead of refusing: `reprise start` harvests into the server it starts.
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
      `no model at ${modelFolder(config.models, config.dataDir)}: serving without text and image search (similar items, items, facets and stats work). ` +
        `Run "reprise models pull ${config.models.name}" (or set models.path to a model folder), then restart.`,
    );
  }

  let store: VectorStore | undefined;
  try {
    const schema = encoders ? { modelId: encoders.config.modelId, dimensions: encoders.config.projectionDim } : await storedSchema(config);
    if (schema) {
      store = await openStore(config.store, config.dataDir, schema);
    } else if (opts.allowEmptyIndex) {
      const { EmptyStore } = await import('../../store/empty-store.ts');
      store = new EmptyStore();
    } else {
      throw new CliError(
        `nothing to serve: no model (${modelFolder(config.models, config.dataDir)}) and no index in ${config.store.kind === 'embedded' ? path.join(config.dataDir, 'index') : config.store.meilisearch.url}. ` +
          `Run "reprise models pull ${config.models.name}", then "reprise harvest <url>", then serve.`,
        EXIT.FATAL,
      );
    }
  } catch (err) {
    await encoders?.close();
    throw err;
  }

  const harvest = new JournalHarvestController({
    config,
    // The server's own store and encoders: what a harvest indexes is searchable at once, and the model is loaded once.
    createStage: encoders ? sharedStage(encoders, store) : undefined,
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
    app.use(createImageServer({ dir: opts.images }));
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
      // A second signal does not wait.
      process.once('SIGINT', () => process.exit(EXIT.FATAL));
      process.once('SIGTERM', () => process.exit(EXIT.FATAL));
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
the search widget); the widget itself is /widget/reprise-widget.js. Without a model, text and image search answer 503
and the rest works; the admin routes (${API_MOUNT}/admin/harvests) exist only when api.adminToken is set.
SIGINT or SIGTERM lets requests in flight finish, stops a running harvest after its work in flight,
and closes the store and the model.

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
