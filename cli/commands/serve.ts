import type { Command } from 'commander';
import type { Logger } from 'pino';
import { withConfigOptions } from '../options.ts';
import { loadConfig, type RepriseConfig } from '../../config/index.ts';
import { createLogger } from '../progress.ts';
import { CliError, EXIT, EXIT_ON_SIGNAL } from '../exit.ts';
import { API_MOUNT, logListening, startServer, type RunningServer, SHUTDOWN_GRACE_MS } from './server.ts';

export { API_MOUNT, logListening, startServer, type RunningServer, type StartServerOptions } from './server.ts';

export interface ServeFlags {
  host?: string;
  port?: string;
  config?: string;
  dataDir?: string;
  workers?: string;
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
  if (flags.workers !== undefined) {
    const n = Number(flags.workers);
    if (!/^\d+$/.test(flags.workers) || n < 1 || n > 64) throw new CliError(`--workers must be a whole number from 1 to 64, got "${flags.workers}"`, EXIT.FATAL);
    overrides['api.workers'] = n;
  }
  return overrides;
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
  const { default: cluster } = await import('node:cluster');
  try {
    const config = loadConfig({ file: flags.config, overrides: listenOverrides(flags) });
    const logger = createLogger(config.log.level);
    if (config.api.workers > 1 || cluster.isWorker) {
      const { serveWithWorkers } = await import('./serve-workers.ts');
      return await serveWithWorkers(config, logger);
    }
    return await serveOne(config, logger);
  } finally {
    // A worker of `serve --workers` that stops, or never started (a bad configuration), lets go of
    // the primary: its IPC channel would otherwise keep it alive, and the primary waiting for it.
    if (cluster.isWorker && process.connected) process.disconnect();
  }
}

async function serveOne(config: RepriseConfig, logger: Logger): Promise<number> {
  const running = await startServer(config, { logger });
  logListening(logger, config, running);
  return serveUntilSignal(running, logger);
}

export function registerServe(program: Command): void {
  withConfigOptions(program.command('serve'))
    .description('run the search API (and IIIF Content Search, and the admin routes) as a standalone HTTP server')
    .option('--host <address>', 'address to listen on (api.host, default 127.0.0.1; 0.0.0.0 for every interface)')
    .option('--port <n>', 'port to listen on (api.port, default 3000; 0 for any free port)')
    .option('--workers <n>', 'processes answering requests on the one port (api.workers, default 1; about one per core)')
    .addHelpText(
      'after',
      `
The API is mounted at ${API_MOUNT}: ${API_MOUNT}/search?q=…, ${API_MOUNT}/items/{id}/similar, ${API_MOUNT}/iiif/search/v1/{manifestKey}?q=…,
${API_MOUNT}/openapi.json describes every route. A browser opening / lands on the demo (/demo/: OpenSeadragon with
the search widget); the widget itself is /widget/reprise-widget.js. Without a model, text and image search answer 503;
items (${API_MOUNT}/items), keyword search (semanticRatio=0), facets, stats and reprints work, and similar
items for the items a harvest with a model embedded. The admin routes (${API_MOUNT}/admin/harvests)
exist only when api.adminToken is set.
With --workers N, N processes share the port (node:cluster): the first writes (admin harvests,
index files), the others map its saved HNSW index file (in memory once, not once per process)
and follow its changes; the primary process restarts a worker that dies.
SIGINT or SIGTERM lets requests in flight finish, stops a running harvest after its work in flight
(recorded as interrupted, with its summary in the log; the next harvest continues), closes the store
and the model, and exits 0. A second signal exits at once: 130 (SIGINT) or 143 (SIGTERM).

Examples:
  reprise serve
  reprise serve --host 0.0.0.0 --port 8080
  reprise serve --workers 4
  REPRISE_API__ADMIN_TOKEN=$(openssl rand -hex 24) reprise serve -c /etc/reprise/reprise.config.json
  curl 'http://127.0.0.1:3000${API_MOUNT}/search?q=a%20horse%20and%20cart&limit=5'
  curl -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \\
       -d '{"urls": ["https://example.org/iiif/collection.json"]}' http://127.0.0.1:3000${API_MOUNT}/admin/harvests`,
    )
    .action(async (flags: ServeFlags) => {
      process.exitCode = await runServe(flags);
    });
}
