import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Command } from 'commander';
import type { ManifestPer, PublisherLimits, ScanResult } from '../../publisher/index.ts';
import { CliError, EXIT } from '../exit.ts';

interface PublishFlags {
  config?: string;
  host?: string;
  port?: string;
  baseUrl?: string;
  allowedHost?: string[];
  manifestPer?: string;
  searchApi?: string;
}

export const DEFAULT_PUBLISH_PORT = 8182;

export interface RunningPublisher {
  /** http://host:port the server listens on. */
  url: string;
  /** The root collection, under the public base URL. */
  collectionUrl: string;
  scan: ScanResult;
  server: Server;
  close(): Promise<void>;
}

/** Loopback and private addresses, which the harvester refuses unless harvest.http.allowPrivate lists them. */
export function isPrivateHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return (
    h === 'localhost' || h.endsWith('.localhost') || h === '::1' || h === '0.0.0.0' || h === '::' ||
    /^127\./.test(h) || /^10\./.test(h) || /^192\.168\./.test(h) || /^172\.(1[6-9]|2\d|3[01])\./.test(h) ||
    /^169\.254\./.test(h) || /^f[cd][0-9a-f]{2}:/.test(h) || /^fe80:/.test(h)
  );
}

/** The command that harvests `collectionUrl`, allowing its host when it is private. */
export function harvestHint(collectionUrl: string): string {
  const host = new URL(collectionUrl).hostname.replace(/^\[|\]$/g, '');
  const allow = isPrivateHost(host) ? `REPRISE_HARVEST__HTTP__ALLOW_PRIVATE=${host} ` : '';
  return `${allow}npx reprise harvest ${collectionUrl}`;
}

function countDocuments(scan: ScanResult, manifestPer: ManifestPer): { manifests: number; collections: number } {
  let manifests = 0;
  let collections = 0;
  const walk = (node: ScanResult['tree']) => {
    manifests += manifestPer === 'image' ? node.images.length : node.images.length ? 1 : 0;
    if (node.path === '' || node.folders.length || (manifestPer === 'image' && node.images.length)) collections++;
    node.folders.forEach(walk);
  };
  walk(scan.tree);
  return { manifests, collections };
}

/** Scans `dir` and serves it on host:port; exported for tests and for embedding in other commands. */
export async function startPublisher(
  dir: string,
  opts: {
    host: string;
    port: number;
    baseUrl?: string;
    allowedHosts?: readonly string[];
    manifestPer?: ManifestPer;
    limits?: Partial<PublisherLimits>;
    /** The public URL of a Reprise search API (`…/api`) that indexes these images: every manifest then lists its IIIF Content Search services. */
    searchApi?: string;
  },
): Promise<RunningPublisher> {
  // Loaded here so that --help and argument errors do not wait for express and sharp.
  const { default: express } = await import('express');
  const { createImageServer, PublishFolderError } = await import('../../publisher/index.ts');
  const { contentSearchServiceFor } = await import('../../plugin/index.ts');
  const searchApi = opts.searchApi;
  if (searchApi !== undefined && !/^https?:\/\/[^\s/]+/.test(searchApi)) {
    throw new CliError(`--search-api "${searchApi}" is not an http(s) URL: give where the search API is reached, e.g. https://search.example.org/api`, EXIT.FATAL);
  }
  let images;
  try {
    images = createImageServer({
      dir,
      baseUrl: opts.baseUrl,
      allowedHosts: opts.allowedHosts,
      manifestPer: opts.manifestPer,
      limits: opts.limits,
      ...(searchApi ? { manifestServices: (manifestId: string) => Object.values(contentSearchServiceFor(manifestId, searchApi)) } : {}),
      onError: (err, req) => process.stderr.write(`reprise publish: ${req.method} ${req.originalUrl.split('?')[0]} failed: ${(err as Error)?.stack ?? String(err)}\n`),
    });
  } catch (err) {
    const message = (err as Error).message;
    throw new CliError(`${message.startsWith('allowedHosts') ? '--allowed-host' : '--base-url'}: ${message}`, EXIT.FATAL);
  }
  let scan: ScanResult;
  try {
    scan = await images.ready();
  } catch (err) {
    if (err instanceof PublishFolderError) throw new CliError(err.message, EXIT.FATAL);
    throw err;
  }

  const app = express();
  app.disable('x-powered-by');
  app.use(images);
  app.get('/', (_req, res) => res.redirect(303, '/iiif/collection.json'));
  app.use((req, res) => {
    res.status(404).type('text/plain').send(`nothing at ${req.path}: the published images are listed at /iiif/collection.json\n`);
  });

  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(opts.port, opts.host);
    s.once('listening', () => resolve(s));
    s.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        err.code === 'EADDRINUSE'
          ? new CliError(`${opts.host}:${opts.port} is already in use: stop what listens there, or choose another port with --port`, EXIT.FATAL)
          : err.code === 'EACCES'
            ? new CliError(`not allowed to listen on ${opts.host}:${opts.port}: choose a port above 1023 with --port`, EXIT.FATAL)
            : err,
      );
    });
  });
  const address = server.address() as AddressInfo;
  // Listening on every interface: this machine reaches itself on loopback.
  const shownHost = address.address === '0.0.0.0' || address.address === '::' ? '127.0.0.1' : address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${shownHost}:${address.port}`;
  const base = opts.baseUrl ? opts.baseUrl.replace(/\/+$/, '') : url;
  const close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    });
  return { url, collectionUrl: `${base}/iiif/collection.json`, scan, server, close };
}

export async function runPublish(dir: string, flags: PublishFlags): Promise<number> {
  const host = flags.host?.trim() ?? '127.0.0.1';
  if (!host) throw new CliError('--host must not be empty', EXIT.FATAL);
  let port = DEFAULT_PUBLISH_PORT;
  if (flags.port !== undefined) {
    port = Number(flags.port);
    if (!/^\d+$/.test(flags.port) || port > 65535) throw new CliError(`--port must be a whole number from 0 to 65535, got "${flags.port}"`, EXIT.FATAL);
  }
  const manifestPer = (flags.manifestPer ?? 'folder') as ManifestPer;
  if (manifestPer !== 'folder' && manifestPer !== 'image') throw new CliError(`--manifest-per must be "folder" or "image", got "${flags.manifestPer}"`, EXIT.FATAL);
  // publish.baseUrl / publish.allowedHosts from the configuration, the flags winning.
  const { loadConfig } = await import('../../config/index.ts');
  const { publish } = loadConfig({ file: flags.config });
  const running = await startPublisher(dir, {
    host,
    port,
    baseUrl: flags.baseUrl ?? publish.baseUrl,
    allowedHosts: flags.allowedHost ?? publish.allowedHosts,
    manifestPer,
    searchApi: flags.searchApi,
  });
  const { scan } = running;
  const { manifests, collections } = countDocuments(scan, manifestPer);
  const out = (line: string) => process.stdout.write(`${line}\n`);
  out(`publishing ${scan.images.size} image${scan.images.size === 1 ? '' : 's'} from ${scan.root} as IIIF Image API 2.1 and 3.0 (${manifests} manifest${manifests === 1 ? '' : 's'}, ${collections} collection${collections === 1 ? '' : 's'})`);
  if (scan.truncated) out(`  the scan ${scan.truncated}: the rest of the folder is not published`);
  if (scan.skipped.length) {
    out(`  ${scan.skipped.length} left out:`);
    for (const s of scan.skipped.slice(0, 20)) out(`    ${s.path}: ${s.reason}`);
    if (scan.skipped.length > 20) out(`    … and ${scan.skipped.length - 20} more`);
  }
  if (!scan.images.size) out('  no images found: put JPEG, PNG, WebP, TIFF, GIF or AVIF files in the folder (sub-folders become collections)');
  out(`listening on ${running.url}`);
  out(`collection: ${running.collectionUrl}`);
  out(`harvest it: ${harvestHint(running.collectionUrl)}`);

  await new Promise<void>((resolve) => {
    const stop = () => {
      process.removeListener('SIGINT', stop);
      process.removeListener('SIGTERM', stop);
      process.once('SIGINT', () => process.exit(EXIT.FATAL));
      running.close().then(resolve, resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  out('stopped');
  return EXIT.OK;
}

export function registerPublish(program: Command): void {
  program
    .command('publish')
    .argument('<dir>', 'folder of images to publish (sub-folders become collections)')
    .description('serve a folder of images as IIIF Image API 2.1 and 3.0 with generated Presentation 3 manifests, so it can be harvested and viewed')
    .option('--host <address>', 'address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)')
    .option('--port <n>', `port to listen on (default ${DEFAULT_PUBLISH_PORT}; 0 for any free port)`)
    .option('--base-url <url>', 'public URL the server is reached at (publish.baseUrl): every id in info.json and the manifests starts with it; default: the address it listens on')
    .option('--allowed-host <host>', 'without --base-url, a Host header (host or host:port) that may name the server in ids (publish.allowedHosts); repeat for more', (value: string, previous: string[] = []) => [...previous, value])
    .option('-c, --config <file>', 'configuration file (default: $REPRISE_CONFIG or ./reprise.config.json)')
    .option('--manifest-per <folder|image>', 'one manifest per folder of images (default: pages of one object) or per image (unrelated photographs)')
    .option('--search-api <url>', 'public URL of the Reprise search API that indexes these images (e.g. https://search.example.org/api): every manifest lists its IIIF Content Search services, so viewers offer "search within"')
    .addHelpText(
      'after',
      `
Each folder with images becomes a manifest (one canvas per image, natural order: 2 before 10),
each folder with sub-folders a collection, and the top folder the root collection at
/iiif/collection.json. With --manifest-per image, every image is a manifest of its own and every
folder a collection. Images: /iiif/3/{id}/info.json and /iiif/2/{id}/info.json, where {id} is
the path inside the folder with "/" written %2F. Links out of the folder, hidden files, SVG files
and images over 100 million pixels are left out (each with its reason, hidden files excepted);
returned images are at most 4096×4096, rotation included. Ids start with --base-url, else with
the address the server listens on (a Host header only when --allowed-host names it).

The harvester refuses loopback and private addresses unless allowed, so harvest a local
publisher with the host allowed:
  REPRISE_HARVEST__HTTP__ALLOW_PRIVATE=127.0.0.1 npx reprise harvest http://127.0.0.1:${DEFAULT_PUBLISH_PORT}/iiif/collection.json

Examples:
  reprise publish ./scans
  reprise publish ./scans --port 9000
  reprise publish ./photographs --manifest-per image
  reprise publish /srv/archive --host 0.0.0.0 --base-url https://images.example.org`,
    )
    .action(async (dir: string, flags: PublishFlags) => {
      process.exitCode = await runPublish(dir, flags);
    });
}
