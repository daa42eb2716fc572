// The server one `reprise serve` process runs (serve.ts registers the command; serve-workers.ts runs several).
import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Logger } from 'pino';
import type { RepriseConfig } from '../../config/index.ts';
import type { Encoders } from '../../models/index.ts';
import type { VectorStore } from '../../store/index.ts';
import type { ReprintService } from '../../reprints/index.ts';
import { createLogger } from '../progress.ts';
import { CliError, EXIT } from '../exit.ts';

/** Where `reprise serve` mounts createSearchRouter. */
export const API_MOUNT = '/api';

/** How long requests in flight get to finish after SIGINT/SIGTERM before their connections are cut. */
export const SHUTDOWN_GRACE_MS = 10_000;

export interface RunningServer {
  /** http://host:port of the listening server (the port chosen by the system when 0 was asked for). */
  url: string;
  server: Server;
  encoders?: Encoders;
  store: VectorStore;
  /** The harvests of the admin routes, and of `reprise start`. */
  harvest: import('../../plugin/index.ts').JournalHarvestController;
  /** Stops accepting requests, lets those in flight finish (at most SHUTDOWN_GRACE_MS), stops a running harvest, closes router, reprint index, store and encoders. */
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
  /**
   * `reprise serve --workers N` (serve-workers.ts): the writer (default) opens the store as its
   * only writer and runs the admin harvests; a reader maps the writer's index file and hands
   * admin harvests to the writer through `harvest`.
   */
  role?: 'writer' | 'reader';
  /** The admin routes' harvests, when they run elsewhere (a reader's: the writer process's). */
  harvest?: import('../../plugin/index.ts').HarvestController;
}

export async function startServer(config: RepriseConfig, opts: StartServerOptions = {}): Promise<RunningServer> {
  const logger = opts.logger ?? createLogger(config.log.level);
  // Loaded here, not at start-up: onnxruntime and express are heavy and --help or a config error should not wait for them.
  const { loadEncoders, modelFolder, ModelFolderError } = await import('../../models/index.ts');
  const { openStore } = await import('../../store/index.ts');
  const { default: express } = await import('express');
  const { createSearchRouter } = await import('../../plugin/index.ts');
  const { JournalHarvestController, sharedStage } = await import('../../plugin/index.ts');
  const { problemJson } = await import('../../plugin/index.ts');
  const { answerClientErrors } = await import('../../plugin/index.ts');
  const { notFound } = await import('../../plugin/index.ts');
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
    store = await openStore(config.store, config.dataDir, encoders ? { modelId: encoders.config.modelId, dimensions: encoders.config.projectionDim } : undefined, { role: opts.role ?? 'writer' });
  } catch (err) {
    await encoders?.close();
    throw err;
  }

  // The reprint index beside the store, handed to the router as the store is. Without the native
  // binding everything else is served, and the reprint routes answer 503 with how to build it.
  const { openReprintService, LocalFeaturesUnavailableError } = await import('../../reprints/index.ts');
  let reprints: ReprintService | undefined;
  try {
    reprints = openReprintService(config.dataDir);
  } catch (err) {
    if (!(err instanceof LocalFeaturesUnavailableError)) {
      await store.close().catch(() => {});
      await encoders?.close().catch(() => {});
      throw err;
    }
    logger.warn({ type: 'no-reprints' }, `${err.message} Serving without reprint search.`);
  }

  const harvest = new JournalHarvestController({
    config,
    // The server's own store and encoders: what a harvest indexes is searchable at once, and the model is loaded once.
    // Without a model, items are stored without vectors, for the first harvest with one to embed from the image cache.
    createStage: sharedStage(encoders, store),
    logger: logger.child({ component: 'harvest' }),
  });
  // A reader's own controller is never started: its admin routes reach the writer's through opts.harvest.
  const router = createSearchRouter(
    { store, encoders, config, harvest: opts.harvest ?? harvest, reprints },
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
    const { contentSearchServiceFor } = await import('../../plugin/index.ts');
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
    // The query goes along: a shared link such as /?item=… opens that item in the demo.
    const query = req.originalUrl.indexOf('?');
    if (req.accepts(['json', 'html']) === 'html') return res.redirect(303, `/demo/${query >= 0 ? req.originalUrl.slice(query) : ''}`);
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
    reprints?.close();
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
      reprints?.close();
      await store!.close();
      await encoders?.close();
    })());

  return { url, server, encoders, store, harvest, close };
}

/** The one JSON line (type "listening") that tells people and scripts where everything is. */
export function logListening(logger: Logger, config: RepriseConfig, running: RunningServer): void {
  logger.info(
    { type: 'listening', url: running.url, api: `${running.url}${API_MOUNT}`, demo: `${running.url}/demo/`, admin: config.api.adminToken ? 'enabled' : 'disabled (no api.adminToken)' },
    `serving the search API at ${running.url}${API_MOUNT} (OpenAPI: ${running.url}${API_MOUNT}/openapi.json); demo at ${running.url}/demo/`,
  );
}
