/**
 * What `reprise serve` serves besides the API: the widget bundles under /widget/ (built on the
 * first request when missing or stale, so a clean clone works without a build step), the
 * OpenSeadragon build the demo uses under /widget/openseadragon/, Mirador's and Universal Viewer's
 * own builds under /widget/mirador/ and /widget/uv/ (for the demos of their native IIIF Content
 * Search), and the demo pages under /demo/ (/demo/ itself is the OpenSeadragon demo). One express
 * router, mounted at the root.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import express, { type RequestHandler, type Router } from 'express';
import { PACKAGE_ROOT } from '../common/index.ts';
import { buildWidget, DEMO_BUNDLE, WIDGET_BUNDLE, WIDGET_DIST } from './build.ts';

// From the package's root, so that the compiled copy of this module (dist/viewer-widget/) finds the same files.
const HERE = path.join(PACKAGE_ROOT, 'viewer-widget');
/** The widget's sources, which a clone has and an installed package does not: only they can be built. */
const HAS_SOURCES = existsSync(path.join(HERE, 'src', 'index.ts'));
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
  /** Build a bundle on its first request when it is missing or its sources changed (default: where the widget's sources are, a clone). */
  build?: boolean;
  /** Where the bundles are (default viewer-widget/dist). */
  distDir?: string;
}

type Builder = () => Promise<{ built: boolean; ms: number }>;

/**
 * A viewer's own build, which the demo pages load: the copy `npm run build` puts in
 * viewer-widget/dist (the viewers are devDependencies, absent where Reprise is installed as a
 * package), else the viewer's package itself (a clone), else undefined.
 */
function viewerDir(copy: string, name: string, sub: string): string | undefined {
  const built = path.join(WIDGET_DIST, copy);
  return existsSync(built) ? built : packageDir(name, sub);
}

/**
 * A folder of an installed package, or undefined when it is not installed: the viewers as they
 * ship, for the demo pages that show them without any Reprise plugin (Mirador's own bundle; Universal
 * Viewer, a devDependency, absent from production installs).
 */
function packageDir(name: string, sub: string): string | undefined {
  const require = createRequire(import.meta.url);
  try {
    return path.join(path.dirname(require.resolve(`${name}/package.json`)), sub);
  } catch {
    // Packages whose `exports` leave package.json out (Mirador): from the entry point up to the package root.
    try {
      for (let dir = path.dirname(require.resolve(name)); dir !== path.dirname(dir); dir = path.dirname(dir)) {
        if (path.basename(dir) === name && existsSync(path.join(dir, 'package.json'))) return path.join(dir, sub);
      }
    } catch {
      // not installed
    }
    return undefined;
  }
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
    const builder = (options.build ?? HAS_SOURCES) ? builders.get(name) : undefined;
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
  // OpenSeadragon for the demo page; unmodified viewers for the native Content Search demos (demo/mirador-native.html, demo/uv-native.html).
  const viewers = [
    ['/widget/openseadragon', viewerDir('openseadragon', 'openseadragon', 'build/openseadragon')],
    ['/widget/mirador', viewerDir('mirador', 'mirador', 'dist')],
    ['/widget/uv', packageDir('universalviewer', 'dist')],
  ] as const;
  for (const [mount, dir] of viewers) {
    if (dir) router.use(mount, express.static(dir, { index: false, fallthrough: true, maxAge: '1d' }));
  }
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
