/**
 * What `reprise serve` serves besides the API: the widget bundles under /widget/ (built on the
 * first request when missing or stale, so a clean clone works without a build step), the
 * OpenSeadragon build the demo uses under /widget/openseadragon/, and the demo pages under
 * /demo/ (/demo/ itself is the OpenSeadragon demo). One express router, mounted at the root.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import express, { type RequestHandler, type Router } from 'express';
import { buildWidget, DEMO_BUNDLE, WIDGET_BUNDLE, WIDGET_DIST } from './build.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const DEMO_DIR = path.join(HERE, 'demo');
const DEMO_PAGE = 'openseadragon.html';
/** Files of demo/ that are pages or assets; its TypeScript sources are built into dist/, not served. */
const DEMO_ASSET = /\.(html|css|js|json|svg|png|jpe?g|webp|ico)$/i;
const MIRADOR_BUNDLE = 'reprise-mirador.js';
const MIRADOR_BUILDER = path.join(HERE, 'build-mirador.ts');

interface Log {
  info(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface WidgetRouterOptions {
  logger?: Log;
  /** Build a bundle on its first request when it is missing or its sources changed (default true). */
  build?: boolean;
  /** Where the bundles are (default viewer-widget/dist). */
  distDir?: string;
}

type Builder = () => Promise<{ built: boolean; ms: number }>;

/** The OpenSeadragon build folder (openseadragon.js and its button images). */
function openSeadragonDir(): string {
  const pkg = createRequire(import.meta.url).resolve('openseadragon/package.json');
  return path.join(path.dirname(pkg), 'build', 'openseadragon');
}

export function widgetRouter(options: WidgetRouterOptions = {}): Router {
  // strict: "/demo" and "/demo/" are different paths (the first redirects to the second).
  const router = express.Router({ strict: true });
  const dist = options.distDir ?? WIDGET_DIST;
  const log = options.logger;

  const builders = new Map<string, Builder>();
  const widget: Builder = () => buildWidget({ outdir: dist });
  builders.set(WIDGET_BUNDLE, widget);
  builders.set(DEMO_BUNDLE, widget);
  if (existsSync(MIRADOR_BUILDER)) {
    // The Mirador bundle (React, MUI, Mirador: seconds to build) has a builder of its own, asked only when its bundle is.
    builders.set(MIRADOR_BUNDLE, async () => {
      const mod = (await import(pathToFileURL(MIRADOR_BUILDER).href)) as { buildMiradorBundle(o: { outdir: string }): Promise<{ built: boolean; ms: number }> };
      return mod.buildMiradorBundle({ outdir: dist });
    });
  }
  // One build per builder and process; a failed one is tried again on the next request.
  const done = new Map<Builder, Promise<void>>();
  const ensure = (name: string, builder: Builder): Promise<void> => {
    let p = done.get(builder);
    if (!p) {
      p = builder().then(
        (r) => {
          if (r.built) log?.info({ type: 'widget-build', bundle: name, ms: Math.round(r.ms) }, `built ${name} in ${Math.round(r.ms)} ms`);
        },
        (err: unknown) => {
          done.delete(builder);
          throw err;
        },
      );
      done.set(builder, p);
    }
    return p;
  };

  const buildOnDemand: RequestHandler = (req, res, next) => {
    const name = req.path.replace(/^\//, '');
    const builder = options.build === false ? undefined : builders.get(name);
    if (!builder) return next();
    ensure(name, builder).then(
      () => next(),
      (err: unknown) => {
        log?.error({ err, bundle: name }, 'widget build failed');
        res
          .status(503)
          .type('application/problem+json')
          .json({
            type: 'urn:reprise:problem:widget-unavailable',
            title: 'The widget bundle could not be built',
            status: 503,
            detail: `${(err as Error)?.message ?? String(err)}; run "npm run build:widget" where Reprise is installed and check that viewer-widget/dist is writable`,
          });
      },
    );
  };

  // Bundle names carry no content hash: browsers revalidate (ETag) on every load.
  const noCache = { index: false, fallthrough: true, setHeaders: (res: express.Response) => res.setHeader('Cache-Control', 'no-cache') } as const;
  // Portals load the bundle from this server: module scripts are fetched in CORS mode, so every
  // origin may read these public files (no credentials are involved).
  router.use('/widget', (_req, res, next) => {
    res.setHeader('Access-Control-Allow-Origin', '*');
    next();
  });
  router.use('/widget/openseadragon', express.static(openSeadragonDir(), { index: false, fallthrough: true, maxAge: '1d' }));
  router.use('/widget', buildOnDemand, express.static(dist, noCache));

  router.get('/demo', (_req, res) => res.redirect(301, '/demo/'));
  router.get(['/demo/', `/demo/${DEMO_PAGE}`], (_req, res, next) => {
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile(path.join(DEMO_DIR, DEMO_PAGE), (err) => err && next(err));
  });
  const demoFiles = express.static(DEMO_DIR, noCache);
  router.use('/demo', (req, res, next) => (DEMO_ASSET.test(req.path) ? demoFiles(req, res, next) : next()));
  return router;
}
